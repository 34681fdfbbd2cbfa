"""Array ops: shapes and reshaping.

Registers Identity, StopGradient, Shape, ShapeN, Size, Rank, Reshape, ExpandDims, Squeeze,
Transpose and BroadcastTo, with `matrix_transpose` composed from Transpose. Also home of the
helpers the array families share: static values of int arguments (`partial_value`,
`_int_vector`, ...) and shape-of-tensor helpers (`_reshape_like`, `_dim`).

Sibling families: joining.py (stack, concat, tile, pad), slicing.py (split, slices,
`Tensor.__getitem__`, reverse), indexing.py (gather, scatter, one_hot, boolean_mask, eye, diag).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, _shape_str, constant_value, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import host_ints, out1, same_as_input

__all__ = ["identity", "stop_gradient", "reshape", "shape"]


def _identity(x):
    return x


# -- Identity / StopGradient ---------------------------------------------------------------
register_op("Identity", infer=same_as_input, grad=lambda op, g: [g],
            kernel=lambda op, ctx: _identity, aliases_input=True,
            doc="Returns its input.")
register_op("StopGradient", infer=same_as_input, grad=NOT_DIFFERENTIABLE,
            kernel=lambda op, ctx: _identity, aliases_input=True,
            doc="Returns its input; gradients do not flow through it.")


def identity(input, name: str | None = None) -> Tensor:
    """Returns a tensor with the same value as `input`."""
    return out1("Identity", [convert_to_tensor(input)], None, name or "Identity")


def stop_gradient(input, name: str | None = None) -> Tensor:
    """`input`, treated as a constant by `gradients`."""
    return out1("StopGradient", [convert_to_tensor(input)], None, name or "StopGradient")


# -- Shape ---------------------------------------------------------------------------------
def _shape_infer(op):
    s = op.inputs[0]._shape
    return [(op.attrs["out_type"], (None if s is None else len(s),))]


def _shape_kernel(op, ctx):
    dt, xp = op.outputs[0].dtype.np, ctx.xp

    def shape_(x):
        return xp.array(np.shape(x), dtype=dt)
    return shape_


register_op("Shape", infer=_shape_infer, grad=NOT_DIFFERENTIABLE, kernel=_shape_kernel)


def shape(input, name: str | None = None, out_type=dtypes.int32) -> Tensor:
    """The dynamic shape of `input` as a 1-D int32 tensor."""
    return out1("Shape", [convert_to_tensor(input)], {"out_type": dtypes.as_dtype(out_type)},
                name or "Shape")


# -- Reshape -------------------------------------------------------------------------------
def _reshape_infer(op):
    x, s = op.inputs
    cv = constant_value(s)
    if cv is None:
        vals = partial_value(s)
        return [(x.dtype, None if vals is None else
                 tuple(None if d is None or d == -1 else d for d in vals))]
    dims = [int(d) for d in np.ravel(cv)]
    if dims.count(-1) > 1:
        raise ValueError(f"Reshape: at most one dimension may be -1, got {dims}")
    known = x._shape is not None and None not in x._shape
    if known:
        total = int(np.prod(x._shape))
        if -1 in dims:
            rest = int(np.prod([d for d in dims if d != -1]))
            if rest == 0 or total % rest:
                raise ValueError(f"Cannot reshape a tensor with {total} elements to shape "
                                 f"{dims}")
            dims = [total // rest if d == -1 else d for d in dims]
        elif int(np.prod(dims)) != total:
            raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {dims} "
                             f"({int(np.prod(dims))} elements)")
        return [(x.dtype, tuple(dims))]
    return [(x.dtype, tuple(None if d == -1 else d for d in dims))]


def _reshape_kernel(op, ctx):
    xp = ctx.xp

    def reshape_(x, s):
        return xp.reshape(x, host_ints(s))
    return reshape_


def _reshape_grad(op, grad):
    """Returns reshape(grad, shape(x))."""
    return [reshape(grad, shape(op.inputs[0])), None]


register_op("Reshape", infer=_reshape_infer, grad=_reshape_grad, kernel=_reshape_kernel,
            aliases_input=True)


def reshape(tensor, shape, name: str | None = None) -> Tensor:  # noqa: F811
    """`tensor` with its elements rearranged into `shape` (one dim may be -1)."""
    t = convert_to_tensor(tensor)
    if not isinstance(shape, Tensor) and not hasattr(shape, "_as_graph_element"):
        if any(isinstance(d, Tensor) for d in np.ravel(np.array(shape, dtype=object))):
            s = convert_to_tensor(list(shape))
        else:
            s = convert_to_tensor(np.array(shape, dtype=np.int32).reshape(-1))
    else:
        s = convert_to_tensor(shape)
    return out1("Reshape", [t, s], None, name or "Reshape")


# -- Size / Rank ---------------------------------------------------------------------------
def _size_kernel(op, ctx):
    dt, xp = op.outputs[0].dtype.np, ctx.xp

    def size_(x):
        return xp.array(np.size(x), dtype=dt)
    return size_


def _rank_kernel(op, ctx):
    xp = ctx.xp

    def rank_(x):
        return xp.array(np.ndim(x), dtype=np.int32)
    return rank_


register_op("Size", infer=lambda op: [(op.attrs["out_type"], ())], grad=NOT_DIFFERENTIABLE,
            kernel=_size_kernel)
register_op("Rank", infer=lambda op: [(dtypes.int32, ())], grad=NOT_DIFFERENTIABLE,
            kernel=_rank_kernel)


def size(input, name: str | None = None, out_type=dtypes.int32) -> Tensor:
    """The number of elements of `input` as a scalar."""
    return out1("Size", [convert_to_tensor(input)], {"out_type": dtypes.as_dtype(out_type)},
                name or "Size")


def rank(input, name: str | None = None) -> Tensor:
    """The number of dimensions of `input` as a scalar int32."""
    return out1("Rank", [convert_to_tensor(input)], None, name or "Rank")


__all__ += ["size", "rank"]


# -- helpers: static values of int arguments -----------------------------------------------
def _is_tensor_like(v) -> bool:
    return isinstance(v, Tensor) or hasattr(v, "_as_graph_element")


def _static(value, what: str):
    """`value`, or the value of a tensor known at graph construction.

    Raises:
        ValueError: `value` is a tensor whose value is only known at run time.
    """
    if not _is_tensor_like(value):
        return value
    cv = constant_value(convert_to_tensor(value))
    if cv is None:
        raise ValueError(f"{what} must be known at graph construction, got {value!r}")
    return cv


def _int_arg(value, what: str) -> int:
    """A Python int from an int or a tensor whose value is known at graph construction."""
    return int(np.asarray(_static(value, what)).reshape(()))


def _int_list_arg(value, what: str) -> list[int]:
    """A list of Python ints from ints or a tensor whose value is known at construction."""
    return [int(v) for v in np.ravel(np.asarray(_static(value, what)))]


def _int_vector(value, name: str = "Const") -> Tensor:
    """A 1-D integer tensor from a tensor, a list of ints, or a list mixing ints and scalar
    integer tensors (stacked)."""
    from .joining import stack
    if _is_tensor_like(value):
        return convert_to_tensor(value)
    vals = list(value) if isinstance(value, (list, tuple)) else np.ravel(value).tolist()
    if any(_is_tensor_like(v) for v in vals):
        return stack(vals)
    arr = np.array(vals, dtype=np.int64).reshape(-1)
    if arr.size == 0 or (arr.max() <= np.iinfo(np.int32).max
                         and arr.min() >= np.iinfo(np.int32).min):
        arr = arr.astype(np.int32)
    return convert_to_tensor(arr, name=name)


def _scalar_value(t: Tensor):
    """The int value of a scalar int tensor when known at graph construction, else None."""
    cv = constant_value(t)
    if cv is not None:
        return int(np.asarray(cv).reshape(()))
    op = t.op
    if op.type == "StridedSlice" and op.inputs[0].op.type == "Shape" \
            and op.attrs["shrink_axis_mask"] == 1:
        dims = op.inputs[0].op.inputs[0]._shape
        begin = partial_value(op.inputs[1])
        i = None if not begin else begin[0]
        if dims is not None and i is not None and -len(dims) <= i < len(dims):
            return dims[i]
    return None


def partial_value(t: Tensor) -> list | None:
    """The elements of a 1-D int tensor known at graph construction, None for each unknown
    element; None when even its length is unknown (used by static shape inference)."""
    cv = constant_value(t)
    if cv is not None:
        return [int(v) for v in np.ravel(cv)]
    op = t.op
    if op.type in ("Shape", "ShapeN") and op.inputs[t.value_index]._shape is not None:
        return list(op.inputs[t.value_index]._shape)
    if op.type == "Pack" and op.attrs["axis"] == 0 and all(
            i._shape == () for i in op.inputs):
        return [_scalar_value(i) for i in op.inputs]
    if op.type == "ConcatV2":
        parts = [partial_value(i) for i in op.inputs]
        if all(p is not None for p in parts):
            return [v for p in parts for v in p]
    if t._shape is not None and len(t._shape) == 1 and t._shape[0] is not None:
        return [None] * t._shape[0]
    return None


def _check_int(t: Tensor, what: str) -> None:
    if not t.dtype.is_integer:
        raise TypeError(f"{what} must be an integer tensor, got {t.dtype.name} ({t.name})")


def _reshape_like(grad: Tensor, x: Tensor) -> Tensor:
    """`grad` reshaped to the shape of `x` (a constant shape when statically known)."""
    if x._shape is not None and None not in x._shape:
        if grad._shape == x._shape:
            return grad
        return reshape(grad, list(x._shape))
    return reshape(grad, shape(x))


def _dim(t: Tensor, axis: int, dtype=dtypes.int32) -> Tensor:
    """Dimension `axis` of `t` as a scalar tensor (a constant when statically known)."""
    if t._shape is not None and t._shape[axis] is not None:
        return convert_to_tensor(np.array(t._shape[axis], dtype=dtypes.as_dtype(dtype).np))
    return shape(t, out_type=dtype)[axis]


def _compatible(a, b) -> bool:
    return a is None or b is None or a == b


# -- Transpose -----------------------------------------------------------------------------
def _transpose_infer(op):
    x, perm = op.inputs[0], op.attrs["perm"]
    if perm is None:
        return [(x.dtype, None if x._shape is None else tuple(reversed(x._shape)))]
    if x._shape is None:
        return [(x.dtype, (None,) * len(perm))]
    if sorted(perm) != list(range(len(x._shape))):
        raise ValueError(f"transpose: perm {perm} is not a permutation of the "
                         f"{len(x._shape)} axes of shape {_shape_str(x._shape)}")
    return [(x.dtype, tuple(x._shape[p] for p in perm))]


def _transpose_kernel(op, ctx):
    xp, perm = ctx.xp, op.attrs["perm"]
    if perm is None:
        return xp.transpose
    perm = tuple(perm)

    def transpose_(x):
        return xp.transpose(x, perm)
    return transpose_


def _transpose_grad(op, grad):
    """Returns transpose(grad, inverse(perm))."""
    perm = op.attrs["perm"]
    return [transpose(grad, None if perm is None else list(np.argsort(perm)))]


register_op("Transpose", infer=_transpose_infer, grad=_transpose_grad,
            kernel=_transpose_kernel, aliases_input=True,
            doc="Permutes the axes (attr perm; None reverses them).")


def transpose(a, perm=None, name: str = "transpose", conjugate: bool = False) -> Tensor:
    """`a` with its axes permuted by `perm` (default: reversed, a matrix transpose).

    Raises:
        ValueError: `perm` is not a permutation of the axes, or is not known statically.
        NotImplementedError: `conjugate=True` on a complex tensor (no complex conjugate op).
    """
    x = convert_to_tensor(a)
    if conjugate and x.dtype.is_complex:
        raise NotImplementedError("transpose(conjugate=True) of complex tensors is not "
                                  "supported; for real tensors conjugate is a no-op")
    p = None if perm is None else _int_list_arg(perm, "transpose perm")
    if p is not None and x._shape is not None:
        p = [d % len(x._shape) if -len(x._shape) <= d < 0 else d for d in p]
    return out1("Transpose", [x], {"perm": p}, name)


__all__ += ["transpose"]


# -- matrix_transpose (composition) --------------------------------------------------------
def matrix_transpose(a, name: str = "matrix_transpose", conjugate: bool = False) -> Tensor:
    """`a` with its last two dimensions swapped (a batch of matrices transposed).

    Raises:
        ValueError: the rank of `a` is unknown or below 2.
    """
    a = convert_to_tensor(a, name="a")
    if a._shape is None or len(a._shape) < 2:
        raise ValueError(f"matrix_transpose: {a.name} must have rank >= 2 and known rank, "
                         f"has shape {_shape_str(a._shape)}")
    n = len(a._shape)
    return transpose(a, list(builtins.range(n - 2)) + [n - 1, n - 2], name=name)


__all__ += ["matrix_transpose"]


# -- ExpandDims / Squeeze ------------------------------------------------------------------
def _expand_dims_infer(op):
    x, axis = op.inputs[0], op.attrs["axis"]
    if x._shape is None:
        return [(x.dtype, None)]
    r = len(x._shape)
    if not -r - 1 <= axis <= r:
        raise ValueError(f"expand_dims: axis {axis} is out of range for a tensor of shape "
                         f"{_shape_str(x._shape)} (expected [-{r + 1}, {r}])")
    axis = axis % (r + 1)
    return [(x.dtype, x._shape[:axis] + (1,) + x._shape[axis:])]


def _expand_dims_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def expand_dims_(x):
        return xp.expand_dims(x, axis)
    return expand_dims_


def _reshape_back_grad(op, grad):
    """Returns reshape(grad, shape(x))."""
    return [_reshape_like(grad, op.inputs[0])]


register_op("ExpandDims", infer=_expand_dims_infer, grad=_reshape_back_grad,
            kernel=_expand_dims_kernel, aliases_input=True,
            doc="Inserts a dimension of size 1 at attr axis.")


def expand_dims(input, axis=None, name: str | None = None, dim=None) -> Tensor:
    """`input` with a size-1 dimension inserted at `axis` (`dim` is the deprecated name)."""
    if axis is None:
        if dim is None:
            raise ValueError("expand_dims: either axis or dim must be given")
        axis = dim
    elif dim is not None:
        raise ValueError("expand_dims: cannot specify both 'axis' and 'dim'")
    x = convert_to_tensor(input)
    return out1("ExpandDims", [x], {"axis": _int_arg(axis, "expand_dims axis")},
                name or "ExpandDims")


def _squeeze_infer(op):
    x, axes = op.inputs[0], op.attrs["squeeze_dims"]
    if x._shape is None:
        return [(x.dtype, None)]
    r = len(x._shape)
    if not axes:
        if None in x._shape:
            return [(x.dtype, None)]
        return [(x.dtype, tuple(d for d in x._shape if d != 1))]
    norm = set()
    for a in axes:
        if not -r <= a < r:
            raise ValueError(f"squeeze: axis {a} is out of range for a tensor of shape "
                             f"{_shape_str(x._shape)}")
        if x._shape[a] not in (1, None):
            raise ValueError(f"Can not squeeze dim[{a % r}], expected a dimension of 1, got "
                             f"{x._shape[a]} (shape {_shape_str(x._shape)})")
        norm.add(a % r)
    return [(x.dtype, tuple(d for i, d in enumerate(x._shape) if i not in norm))]


def _squeeze_kernel(op, ctx):
    xp = ctx.xp
    axes = tuple(op.attrs["squeeze_dims"]) or None

    def squeeze_(x):
        return xp.squeeze(x, axis=axes)
    return squeeze_


register_op("Squeeze", infer=_squeeze_infer, grad=_reshape_back_grad, kernel=_squeeze_kernel,
            aliases_input=True,
            doc="Removes size-1 dimensions (attr squeeze_dims; empty: all of them).")


def squeeze(input, axis=None, name: str | None = None, squeeze_dims=None) -> Tensor:
    """`input` without its size-1 dimensions (only those in `axis` when given).

    Raises:
        ValueError: a dimension in `axis` is known not to be 1.
    """
    if axis is None:
        axis = squeeze_dims
    elif squeeze_dims is not None:
        raise ValueError("squeeze: cannot specify both 'axis' and 'squeeze_dims'")
    axes = [] if axis is None else _int_list_arg(axis, "squeeze axis")
    return out1("Squeeze", [convert_to_tensor(input)], {"squeeze_dims": axes},
                name or "Squeeze")


__all__ += ["expand_dims", "squeeze"]


# -- ShapeN / BroadcastTo ------------------------------------------------------------------
def _shape_n_kernel(op, ctx):
    dt, xp = op.attrs["out_type"].np, ctx.xp

    def shape_n(*xs):
        return tuple(xp.array(np.shape(x), dtype=dt) for x in xs)
    return shape_n


def _shape_n_infer(op):
    dt = op.attrs["out_type"]
    return [(dt, (None if t._shape is None else len(t._shape),)) for t in op.inputs]


register_op("ShapeN", infer=_shape_n_infer, grad=NOT_DIFFERENTIABLE, kernel=_shape_n_kernel,
            doc="The shapes of each of its inputs.")


def shape_n(input, out_type=dtypes.int32, name: str | None = None) -> list:
    """The shapes of the tensors in `input`, one 1-D tensor each."""
    from ..framework.graph import make_op
    ts = [convert_to_tensor(t) for t in input]
    if not ts:
        raise ValueError("shape_n needs at least one tensor")
    return list(make_op("ShapeN", ts, {"out_type": dtypes.as_dtype(out_type)},
                        name or "ShapeN").outputs)


def _broadcast_to_infer(op):
    x, s = op.inputs
    _check_int(s, "broadcast_to shape")
    dims = partial_value(s)
    if dims is None:
        return [(x.dtype, None)]
    if x._shape is not None:
        if len(x._shape) > len(dims):
            raise ValueError(f"broadcast_to: cannot broadcast shape {_shape_str(x._shape)} "
                             f"to the lower rank shape {_shape_str(dims)}")
        for a, b in zip(reversed(x._shape), reversed(dims)):
            if a not in (1, None) and b is not None and a != b:
                raise ValueError(f"broadcast_to: cannot broadcast shape "
                                 f"{_shape_str(x._shape)} to {_shape_str(dims)}")
    return [(x.dtype, tuple(dims))]


def _broadcast_to_kernel(op, ctx):
    xp = ctx.xp

    def broadcast_to_(x, s):
        out = xp.empty(host_ints(s), dtype=x.dtype)
        out[...] = x
        return out
    return broadcast_to_


def _broadcast_to_grad(op, grad):
    """Returns grad summed back to the shape of x."""
    from .math import sum_to_shape_of
    return [sum_to_shape_of(grad, op.inputs[0]), None]


register_op("BroadcastTo", infer=_broadcast_to_infer, grad=_broadcast_to_grad,
            kernel=_broadcast_to_kernel, doc="Broadcasts x to a shape (NumPy rules).")


def broadcast_to(input, shape, name: str | None = None) -> Tensor:
    """`input` broadcast to `shape` by NumPy rules."""
    return out1("BroadcastTo", [convert_to_tensor(input), _int_vector(shape)], None,
                name or "BroadcastTo")


__all__ += ["shape_n", "broadcast_to"]
