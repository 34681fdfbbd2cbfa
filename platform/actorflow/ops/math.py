"""Math ops: elementwise arithmetic with NumPy broadcasting, matmul, reductions, casts,
comparisons, and the operator overloads of `Tensor`."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, constant_value, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import (binary_args, broadcast_shapes, normalize_axes, out1, same_as_input,
                      ufunc_kernel)

__all__ = ["add", "subtract", "sub", "multiply", "mul", "negative", "neg", "square",
           "matmul", "divide", "truediv", "realdiv", "div", "reduce_sum", "reduce_mean", "add_n", "cast", "to_float", "to_int32",
           "to_int64", "to_double", "sum_to_shape_of"]


# -- shape rules ---------------------------------------------------------------------------
def _binary_infer(op):
    x, y = op.inputs
    if x.dtype != y.dtype:
        raise TypeError(f"Input 'y' of '{op.type}' Op has type {y.dtype.name} that does not "
                        f"match type {x.dtype.name} of argument 'x'.")
    return [(x.dtype, broadcast_shapes(x._shape, y._shape))]


# -- broadcasting gradients ----------------------------------------------------------------
def _sum_to_infer(op):
    g, s = op.inputs
    cv = constant_value(s)
    if cv is not None:
        return [(g.dtype, tuple(int(d) for d in cv))]
    n = s._shape[0] if s._shape else None
    return [(g.dtype, None if n is None else (None,) * n)]


def _sum_to_kernel(op, ctx):
    xp = ctx.xp

    def sum_to_shape(g, s):
        shape = tuple(int(d) for d in s)
        if g.shape == shape:
            return g
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, d in enumerate(shape) if d == 1 and g.shape[i + lead] != 1)
        return xp.sum(g, axis=axes).reshape(shape) if axes else xp.reshape(g, shape)
    return sum_to_shape


def _sum_to_grad(op, grad):
    """Returns grad broadcast back to the shape of g."""
    return [_broadcast_like(grad, op.inputs[0]), None]


def _broadcast_like(x, like):
    from .constant import zeros_like
    return add(x, zeros_like(like))


register_op("SumToShape", infer=_sum_to_infer, grad=_sum_to_grad, kernel=_sum_to_kernel,
            aliases_input=True,
            doc="Sums a broadcast gradient back down to a shape (gradient helper).")


def sum_to_shape_of(grad: Tensor, x: Tensor) -> Tensor:
    """`grad` (shaped like a broadcast result) reduced to the shape of `x`."""
    gs, xs = grad._shape, x._shape
    if gs is not None and xs is not None and gs == xs and None not in xs:
        return grad
    if gs is not None and xs is not None and None not in gs and None not in xs:
        lead = len(gs) - len(xs)
        axes = list(range(lead)) + [i + lead for i, d in enumerate(xs)
                                    if d == 1 and gs[i + lead] != 1]
        out = reduce_sum(grad, axis=axes) if axes else grad
        if out._shape != xs:
            from .array import reshape
            out = reshape(out, list(xs))
        return out
    from .array import shape
    return out1("SumToShape", [grad, shape(x)], None, "SumToShape")


# -- Add / Sub / Mul / Neg / Square --------------------------------------------------------
def _add_grad(op, grad):
    """Returns (grad, grad), each summed back to its input's shape."""
    x, y = op.inputs
    return [sum_to_shape_of(grad, x), sum_to_shape_of(grad, y)]


def _sub_grad(op, grad):
    """Returns (grad, -grad), each summed back to its input's shape."""
    x, y = op.inputs
    return [sum_to_shape_of(grad, x), sum_to_shape_of(negative(grad), y)]


def _mul_grad(op, grad):
    """Returns (grad * y, grad * x), each summed back to its input's shape."""
    x, y = op.inputs
    return [sum_to_shape_of(multiply(grad, y), x), sum_to_shape_of(multiply(grad, x), y)]


register_op("Add", infer=_binary_infer, grad=_add_grad, kernel=ufunc_kernel("add"))
register_op("Sub", infer=_binary_infer, grad=_sub_grad, kernel=ufunc_kernel("subtract"))
register_op("Mul", infer=_binary_infer, grad=_mul_grad, kernel=ufunc_kernel("multiply"))
register_op("Neg", infer=same_as_input, grad=lambda op, g: [negative(g)],
            kernel=ufunc_kernel("negative"))


def _square_grad(op, grad):
    """Returns grad * 2x."""
    x = op.inputs[0]
    return [multiply(grad, multiply(x, convert_to_tensor(2, dtype=x.dtype)))]


register_op("Square", infer=same_as_input, grad=_square_grad, kernel=ufunc_kernel("square"))


def add(x, y, name=None) -> Tensor:
    """x + y elementwise, with broadcasting."""
    x, y = binary_args(x, y, "Add")
    return out1("Add", [x, y], None, name or "add")


def subtract(x, y, name=None) -> Tensor:
    """x - y elementwise, with broadcasting."""
    x, y = binary_args(x, y, "Sub")
    return out1("Sub", [x, y], None, name or "sub")


def multiply(x, y, name=None) -> Tensor:
    """x * y elementwise, with broadcasting."""
    x, y = binary_args(x, y, "Mul")
    return out1("Mul", [x, y], None, name or "mul")


def negative(x, name=None) -> Tensor:
    """-x elementwise."""
    return out1("Neg", [convert_to_tensor(x)], None, name or "Neg")


def square(x, name=None) -> Tensor:
    """x * x elementwise."""
    return out1("Square", [convert_to_tensor(x)], None, name or "Square")


sub, mul, neg = subtract, multiply, negative


def _realdiv_grad(op, grad):
    """Returns (grad / y, -grad * x / y²), each summed back to its input's shape."""
    x, y = op.inputs
    gx = divide(grad, y)
    gy = negative(multiply(grad, divide(divide(x, y), y)))
    return [sum_to_shape_of(gx, x), sum_to_shape_of(gy, y)]


register_op("RealDiv", infer=_binary_infer, grad=_realdiv_grad,
            kernel=ufunc_kernel("true_divide"))


def divide(x, y, name=None) -> Tensor:
    """x / y elementwise (floating point division), with broadcasting."""
    x, y = binary_args(x, y, "RealDiv")
    if not (x.dtype.is_floating or x.dtype.is_complex):
        x, y = cast(x, dtypes.float64), cast(y, dtypes.float64)
    return out1("RealDiv", [x, y], None, name or "truediv")


truediv = realdiv = div = divide


# -- MatMul --------------------------------------------------------------------------------
def _matmul_infer(op):
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if a.dtype != b.dtype:
        raise TypeError(f"MatMul: a is {a.dtype.name} but b is {b.dtype.name}")
    for t in (a, b):
        if t._shape is not None and len(t._shape) != 2:
            raise ValueError(f"Shape must be rank 2 but is rank {len(t._shape)}")
    sa = a._shape or (None, None)
    sb = b._shape or (None, None)
    m, k1 = (sa[1], sa[0]) if ta else sa
    k2, n = (sb[1], sb[0]) if tb else sb
    if k1 is not None and k2 is not None and k1 != k2:
        raise ValueError(f"Dimensions must be equal, but are {k1} and {k2}")
    return [(a.dtype, (m, n))]


def _matmul_kernel(op, ctx):
    xp = ctx.xp
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        return xp.matmul
    if ta and not tb:
        return lambda a, b: xp.matmul(a.T, b)
    if tb and not ta:
        return lambda a, b: xp.matmul(a, b.T)
    return lambda a, b: xp.matmul(a.T, b.T)


def _matmul_grad(op, grad):
    """Returns (grad · bᵀ, aᵀ · grad), with the op's transposes folded in."""
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not ta and tb:
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [matmul(b, grad, transpose_a=True, transpose_b=True),
            matmul(grad, a, transpose_a=True, transpose_b=True)]


register_op("MatMul", infer=_matmul_infer, grad=_matmul_grad, kernel=_matmul_kernel)


def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name=None) -> Tensor:
    """Matrix product a · b of rank-2 tensors (rank > 2: batched, via BatchMatMul)."""
    a, b = binary_args(a, b, "MatMul")
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    ra = len(a._shape) if a._shape is not None else 2
    rb = len(b._shape) if b._shape is not None else 2
    if ra > 2 or rb > 2:
        return out1("BatchMatMul", [a, b], {"adj_x": ta, "adj_y": tb}, name or "MatMul")
    return out1("MatMul", [a, b], {"transpose_a": ta, "transpose_b": tb}, name or "MatMul")


# -- Reductions ----------------------------------------------------------------------------
def _reduce_infer(op):
    x = op.inputs[0]
    axes = op.attrs["axes"]
    keep = op.attrs["keep_dims"]
    if x._shape is None:
        return [(_reduce_dtype(op), None)]
    rank = len(x._shape)
    for a in axes or ():
        if not -rank <= a < max(rank, 1):
            raise ValueError(f"Invalid reduction dimension {a} for input with {rank} "
                             "dimensions")
    axes_n = normalize_axes(axes, rank)
    if keep:
        out = tuple(1 if i in axes_n else d for i, d in enumerate(x._shape))
    else:
        out = tuple(d for i, d in enumerate(x._shape) if i not in axes_n)
    return [(_reduce_dtype(op), out)]


def _reduce_dtype(op):
    return op.attrs.get("out_dtype") or op.inputs[0].dtype


def _reduce_kernel(fname: str):
    def factory(op, ctx):
        fn = getattr(ctx.xp, fname)
        x = op.inputs[0]
        axes = op.attrs["axes"]
        axis = None if axes is None else tuple(axes)
        keep = op.attrs["keep_dims"]
        dt = op.outputs[0].dtype.np
        if fname in ("sum", "mean", "prod"):
            def reduce_(v):
                return fn(v, axis=axis, keepdims=keep, dtype=dt)
        else:
            def reduce_(v):
                return fn(v, axis=axis, keepdims=keep)
        _ = x
        return reduce_
    return factory


def _reduced_shape_keep(op):
    """The static keep-dims shape of a reduction's output, or None when unknown."""
    x = op.inputs[0]
    if x._shape is None:
        return None
    axes_n = normalize_axes(op.attrs["axes"], len(x._shape))
    return tuple(1 if i in axes_n else d for i, d in enumerate(x._shape))


def _expand_reduced(op, t: Tensor) -> Tensor:
    """Reshapes a reduction output (or its gradient) to keep-dims form for broadcasting."""
    from .array import reshape, shape
    if op.attrs["keep_dims"]:
        return t
    keep = _reduced_shape_keep(op)
    if keep is not None and None not in keep:
        return reshape(t, list(keep))
    x = op.inputs[0]
    return out1("ReshapeToReduced", [t, shape(x)],
                {"axes": op.attrs["axes"]}, "ReshapeToReduced")


def _sum_grad(op, grad):
    """Returns grad broadcast back to the input's shape."""
    x = op.inputs[0]
    from .constant import zeros_like
    return [add(_expand_reduced(op, grad), zeros_like(x))]


def _mean_grad(op, grad):
    """Returns grad / N broadcast back to the input's shape (N = reduced element count)."""
    x, y = op.inputs[0], op.outputs[0]
    g = _sum_grad(op, grad)[0]
    if x._shape is not None and None not in x._shape and y._shape is not None \
            and None not in y._shape:
        n = np.prod(x._shape, dtype=np.float64) / max(1, np.prod(y._shape, dtype=np.int64))
        return [multiply(g, convert_to_tensor(1.0 / n, dtype=x.dtype))]
    from .array import size
    return [divide(g, cast(size(x), x.dtype) / cast(size(y), x.dtype))]


def _reshape_to_reduced_infer(op):
    t, s = op.inputs
    n = s._shape[0] if s._shape else None
    return [(t.dtype, None if n is None else (None,) * n)]


def _reshape_to_reduced_kernel(op, ctx):
    axes = op.attrs["axes"]
    xp = ctx.xp

    def reshape_to_reduced(t, s):
        shape = [int(d) for d in s]
        ax = range(len(shape)) if axes is None else [a % len(shape) for a in axes]
        for a in ax:
            shape[a] = 1
        return xp.reshape(t, shape)
    return reshape_to_reduced


register_op("ReshapeToReduced", infer=_reshape_to_reduced_infer,
            grad=lambda op, g: [out1("SumToShape", [g, _shape_of(op.inputs[0])], None,
                                     "SumToShape"), None],
            kernel=_reshape_to_reduced_kernel, aliases_input=True,
            doc="Reshapes a reduced tensor to keep-dims form (reduction gradient helper).")


def _shape_of(t):
    from .array import shape
    return shape(t)


register_op("Sum", infer=_reduce_infer, grad=_sum_grad, kernel=_reduce_kernel("sum"))
register_op("Mean", infer=_reduce_infer, grad=_mean_grad, kernel=_reduce_kernel("mean"))


def _axes_arg(axis, reduction_indices):
    if axis is None:
        axis = reduction_indices
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        cv = constant_value(axis)
        if cv is None:
            raise ValueError("reduction axes must be known at graph construction")
        axis = cv
    return [int(a) for a in np.ravel(axis)]


def _reduce(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims,
            out_dtype=None):
    x = convert_to_tensor(input_tensor)
    keep = bool(keepdims if keepdims is not None else (keep_dims or False))
    attrs = {"axes": _axes_arg(axis, reduction_indices), "keep_dims": keep}
    if out_dtype is not None:
        attrs["out_dtype"] = out_dtype
    return out1(op_type, [x], attrs, name or op_type)


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Sum over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None) -> Tensor:
    """Mean over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


# -- AddN ----------------------------------------------------------------------------------
def _add_n_infer(op):
    ins = op.inputs
    shp = ins[0]._shape
    for t in ins[1:]:
        if t.dtype != ins[0].dtype:
            raise TypeError("add_n: inputs must share a dtype")
        if shp is not None and t._shape is not None:
            if len(shp) != len(t._shape) or any(a is not None and b is not None and a != b
                                                for a, b in zip(shp, t._shape)):
                raise ValueError(f"Shapes {list(shp)} and {list(t._shape)} are incompatible")
            shp = tuple(a if a is not None else b for a, b in zip(shp, t._shape))
        elif shp is None:
            shp = t._shape
    return [(ins[0].dtype, shp)]


def _add_n_kernel(op, ctx):
    xp = ctx.xp
    if len(op.inputs) == 2:
        return xp.add

    def add_n_(*xs):
        out = xp.add(xs[0], xs[1])
        for x in xs[2:]:
            out += x
        return out
    return add_n_


register_op("AddN", infer=_add_n_infer, grad=lambda op, g: [g] * len(op.inputs),
            kernel=_add_n_kernel)


def add_n(inputs, name=None) -> Tensor:
    """Elementwise sum of a list of same-shaped tensors."""
    ts = [convert_to_tensor(t) for t in inputs]
    if not ts:
        raise ValueError("inputs must be a non-empty list of tensors")
    if len(ts) == 1:
        from .array import identity
        return identity(ts[0], name=name)
    return out1("AddN", ts, None, name or "AddN")


# -- Cast ----------------------------------------------------------------------------------
def _cast_kernel(op, ctx):
    dt = op.outputs[0].dtype.np

    def cast_(x):
        return x.astype(dt) if hasattr(x, "astype") else np.asarray(x, dtype=dt)
    return cast_


def _cast_grad(op, grad):
    """Returns cast(grad, x.dtype) for float↔float casts; None otherwise."""
    x = op.inputs[0]
    if x.dtype.is_floating and op.outputs[0].dtype.is_floating:
        return [cast(grad, x.dtype)]
    return [None]


register_op("Cast", infer=lambda op: [(op.attrs["DstT"], op.inputs[0]._shape)],
            grad=_cast_grad, kernel=_cast_kernel)


def cast(x, dtype, name=None) -> Tensor:
    """`x` converted elementwise to `dtype`."""
    x = convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    if x.dtype == dtype:
        return x
    return out1("Cast", [x], {"DstT": dtype}, name or "Cast")


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name)


# -- Operator overloads on Tensor ----------------------------------------------------------
def _install_operators() -> None:
    def binary(fn):
        def op(self, other):
            return fn(self, other)

        def rop(self, other):
            return fn(other, self)
        return op, rop

    table = {"add": add, "sub": subtract, "mul": multiply, "truediv": divide}
    for name, fn in table.items():
        op, rop = binary(fn)
        setattr(Tensor, f"__{name}__", op)
        setattr(Tensor, f"__r{name}__", rop)
    Tensor.__neg__ = lambda self: negative(self)
    Tensor.__matmul__ = lambda self, other: matmul(self, other)
    Tensor.__rmatmul__ = lambda self, other: matmul(other, self)


_install_operators()
