"""Reductions over axes, cumulative sums and products, and arg-max/min.

Registers: Sum, Mean, Max, Min, Prod, All, Any, ReshapeToReduced (a reduction-gradient helper),
Cumsum, Cumprod, ArgMax, ArgMin. Also defines `reduce_logsumexp` and `count_nonzero`
(compositions).

Reduction axes must be known at graph construction (TF 1.x accepts constant tensors for them);
`keep_dims` keeps reduced axes as size 1.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, constant_value, convert_to_tensor, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import host_ints, normalize_axes, out1, same_as_input, static_axis
from .logic import equal, is_finite, not_equal, where
from .math import _check_numeric, add, cast, divide, multiply, subtract
from .unary import exp, log

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
           "reduce_all", "reduce_any", "reduce_logsumexp", "count_nonzero", "cumsum", "cumprod",
           "argmax", "argmin", "arg_max", "arg_min"]


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
    from .array import broadcast_to, shape
    target = list(x._shape) if x._shape is not None and None not in x._shape else shape(x)
    return [broadcast_to(_expand_reduced(op, grad), target)]


def _mean_grad(op, grad):
    """Returns grad / N broadcast back to the input's shape (N = reduced element count)."""
    x, y = op.inputs[0], op.outputs[0]
    g = _sum_grad(op, grad)[0]
    if x._shape is not None and None not in x._shape and y._shape is not None \
            and None not in y._shape:
        n = np.prod(x._shape, dtype=np.float64) / max(1, np.prod(y._shape, dtype=np.int64))
        return [multiply(g, convert_to_tensor(1.0 / n, dtype=x.dtype))]
    from .array import size
    if y._shape == ():  # a full reduction: N is x's size
        return [divide(g, cast(size(x), x.dtype))]
    return [divide(g, cast(size(x), x.dtype) / cast(size(y), x.dtype))]


def _reshape_to_reduced_infer(op):
    t, s = op.inputs
    n = s._shape[0] if s._shape else None
    return [(t.dtype, None if n is None else (None,) * n)]


def _reshape_to_reduced_kernel(op, ctx):
    axes = op.attrs["axes"]
    xp = ctx.xp

    def reshape_to_reduced(t, s):
        shape = list(host_ints(s))
        ax = range(len(shape)) if axes is None else [a % len(shape) for a in axes]
        for a in ax:
            shape[a] = 1
        return xp.reshape(t, shape)
    return reshape_to_reduced


register_op("ReshapeToReduced", infer=_reshape_to_reduced_infer,
            grad=lambda op, g: [_reshape_like(g, op.inputs[0]), None],
            kernel=_reshape_to_reduced_kernel, aliases_input=True,
            doc="Reshapes a reduced tensor to keep-dims form (reduction gradient helper).")


def _shape_of(t):
    from .array import shape
    return shape(t)


def _reshape_like(g, t):
    """Returns reshape(grad, shape(t)): ReshapeToReduced only reshapes."""
    from .array import reshape
    return reshape(g, _shape_of(t))


register_op("Sum", infer=_reduce_infer, grad=_sum_grad, kernel=_reduce_kernel("sum"))
register_op("Mean", infer=_reduce_infer, grad=_mean_grad, kernel=_reduce_kernel("mean"))
def _extremum_grad(op, grad):
    """Returns grad / (number of extrema) at the positions equal to the reduced max (min)."""
    x = op.inputs[0]
    y = op.outputs[0]  # y = reduce_max(x) (or reduce_min(x))
    hits = cast(equal(x, _expand_reduced(op, y)), x.dtype)
    count = reduce_sum(hits, axis=op.attrs["axes"], keepdims=True)
    return [divide(multiply(hits, _expand_reduced(op, grad)), count)]


def _prod_grad(op, grad):
    """Returns grad * (product of the other elements of x's reduced slice), from exclusive
    cumulative products in both directions, so zeros in x are handled exactly."""
    from .array import reshape, shape
    x = op.inputs[0]
    g = _expand_reduced(op, grad)
    axes = op.attrs["axes"]
    if axes is None:
        flat = reshape(x, [-1])
        return [multiply(g, reshape(_product_of_others(flat, 0), shape(x)))]
    axes = normalize_axes(axes, None if x._shape is None else len(x._shape))
    axes = list(dict.fromkeys(axes))
    # prod over axes a1..ak = prod_ak(... prod_a1(x)): walk the chain back from its end.
    partial = [x]
    for a in axes[:-1]:
        partial.append(reduce_prod(partial[-1], a, keepdims=True))
    for a, p in zip(reversed(axes), reversed(partial)):
        g = multiply(g, _product_of_others(p, a))
    return [g]


def _product_of_others(x: Tensor, axis: int) -> Tensor:
    """For each element, the product of the other elements along `axis`."""
    return multiply(cumprod(x, axis, exclusive=True),
                    cumprod(x, axis, exclusive=True, reverse=True))


def _bool_reduce_infer(op):
    x = op.inputs[0]
    if not x.dtype.is_bool:
        raise TypeError(f"{op.type} needs a bool input, but {x.name} is {x.dtype.name}")
    return _reduce_infer(op)


register_op("Max", infer=_reduce_infer, grad=_extremum_grad, kernel=_reduce_kernel("max"),
            doc="Maximum over axes.")
register_op("Min", infer=_reduce_infer, grad=_extremum_grad, kernel=_reduce_kernel("min"),
            doc="Minimum over axes.")
register_op("Prod", infer=_reduce_infer, grad=_prod_grad, kernel=_reduce_kernel("prod"),
            doc="Product over axes.")
register_op("All", infer=_bool_reduce_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_reduce_kernel("all"), doc="Logical AND over axes of a bool tensor.")
register_op("Any", infer=_bool_reduce_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_reduce_kernel("any"), doc="Logical OR over axes of a bool tensor.")


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


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Maximum over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Minimum over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None) -> Tensor:
    """Product over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Logical AND of a bool tensor over `axis` (all axes when None)."""
    return _reduce("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Logical OR of a bool tensor over `axis` (all axes when None)."""
    return _reduce("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed as m + log(sum(exp(x - m))) with m the (finite)
    maximum, so large inputs do not overflow."""
    from .array import reshape, shape, stop_gradient
    from .constant import zeros_like
    x = convert_to_tensor(input_tensor)
    keep = bool(keepdims if keepdims is not None else (keep_dims or False))
    axes = _axes_arg(axis, reduction_indices)
    with name_scope(name, "ReduceLogSumExp", [x]):
        m = reduce_max(x, axes, keepdims=True)
        m = stop_gradient(where(is_finite(m), m, zeros_like(m)))
        s = log(reduce_sum(exp(subtract(x, m)), axes, keepdims=keep))
        return add(s, m if keep else reshape(m, shape(s)))


def count_nonzero(input_tensor, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None) -> Tensor:
    """The number of nonzero (true) elements over `axis`, as `dtype`."""
    x = convert_to_tensor(input_tensor)
    with name_scope(name, "count_nonzero", [x]):
        nonzero = x if x.dtype.is_bool else not_equal(x, 0)
        return reduce_sum(cast(nonzero, dtype), axis, keepdims, None, reduction_indices,
                          keep_dims)


# -- ArgMax / ArgMin -----------------------------------------------------------------------
def _arg_infer(op):
    x = op.inputs[0]
    _check_numeric(op.type, x)
    dt = op.attrs["output_type"]
    if x._shape is None:
        return [(dt, None)]
    if not x._shape:
        raise ValueError(f"{op.type} needs an input of rank >= 1, not a scalar")
    axis = static_axis(op.attrs["axis"], len(x._shape))
    return [(dt, x._shape[:axis] + x._shape[axis + 1:])]


def _arg_kernel(fname: str):
    def factory(op, ctx):
        fn = getattr(ctx.xp, fname)
        axis = op.attrs["axis"]
        dt = op.outputs[0].dtype.np

        def arg(x):
            return fn(x, axis=axis).astype(dt, copy=False)
        return arg
    return factory


register_op("ArgMax", infer=_arg_infer, grad=NOT_DIFFERENTIABLE, kernel=_arg_kernel("argmax"),
            doc="Index of the largest value along an axis (the first one on ties).")
register_op("ArgMin", infer=_arg_infer, grad=NOT_DIFFERENTIABLE, kernel=_arg_kernel("argmin"),
            doc="Index of the smallest value along an axis (the first one on ties).")


def _arg(op_type, input, axis, name, dimension, output_type):
    if axis is not None and dimension is not None:
        raise ValueError("Cannot specify both 'axis' and 'dimension'")
    axis = dimension if axis is None else axis
    if isinstance(axis, Tensor):
        cv = constant_value(axis)
        if cv is None:
            raise ValueError(f"{op_type}: axis must be known at graph construction")
        axis = cv
    output_type = dtypes.as_dtype(output_type)
    if output_type not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"{op_type}: output_type must be int32 or int64, not {output_type}")
    attrs = {"axis": 0 if axis is None else int(axis), "output_type": output_type}
    return out1(op_type, [convert_to_tensor(input)], attrs, name or op_type)


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64) -> Tensor:
    """The index of the largest value along `axis` (0 when None; `dimension` is the old name)."""
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64) -> Tensor:
    """The index of the smallest value along `axis` (0 when None; `dimension` is the old name)."""
    return _arg("ArgMin", input, axis, name, dimension, output_type)


def arg_max(input, dimension, name=None, output_type=dtypes.int64) -> Tensor:
    """Deprecated TF 1.x spelling of `argmax(input, dimension)`."""
    return argmax(input, dimension, name, output_type=output_type)


def arg_min(input, dimension, name=None, output_type=dtypes.int64) -> Tensor:
    """Deprecated TF 1.x spelling of `argmin(input, dimension)`."""
    return argmin(input, dimension, name, output_type=output_type)


# -- Cumsum / Cumprod ----------------------------------------------------------------------
def _cum_infer(op):
    x = op.inputs[0]
    if x._shape is not None:
        if not x._shape:
            raise ValueError(f"{op.type} needs an input of rank >= 1, not a scalar")
        static_axis(op.attrs["axis"], len(x._shape))
    return same_as_input(op)


def _cum_kernel(fname: str, identity: int):
    def factory(op, ctx):
        xp = ctx.xp
        fn = getattr(xp, fname)
        axis, exclusive, reverse = op.attrs["axis"], op.attrs["exclusive"], op.attrs["reverse"]
        dt = op.outputs[0].dtype.np
        if not exclusive and not reverse:
            return lambda x: fn(x, axis=axis, dtype=dt)

        def cumulative(x):
            ax = axis % x.ndim
            if reverse:
                x = xp.flip(x, ax)
            out = fn(x, axis=ax, dtype=dt)
            if exclusive:
                shifted = xp.empty_like(out)
                lead = (slice(None),) * ax
                shifted[lead + (slice(0, 1),)] = identity
                shifted[lead + (slice(1, None),)] = out[lead + (slice(0, -1),)]
                out = shifted
            return xp.flip(out, ax) if reverse else out
        return cumulative
    return factory


def _cumsum_grad(op, grad):
    """Returns cumsum(grad) in the opposite direction."""
    a = op.attrs
    return [cumsum(grad, a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"])]


def _cumprod_grad(op, grad):
    """Returns cumsum(grad * y) in the opposite direction, divided by x (x must be nonzero)."""
    x, a = op.inputs[0], op.attrs
    y = op.outputs[0]  # y = cumprod(x)
    s = cumsum(multiply(grad, y), a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"])
    return [divide(s, x)]


register_op("Cumsum", infer=_cum_infer, grad=_cumsum_grad, kernel=_cum_kernel("cumsum", 0),
            doc="Running sums along an axis (exclusive: shifted by one; reverse: from the end).")
register_op("Cumprod", infer=_cum_infer, grad=_cumprod_grad, kernel=_cum_kernel("cumprod", 1),
            doc="Running products along an axis (exclusive / reverse as Cumsum).")


def _cumulative(op_type, x, axis, exclusive, reverse, name):
    x = convert_to_tensor(x)
    _check_numeric(op_type, x)
    if isinstance(axis, Tensor):
        cv = constant_value(axis)
        if cv is None:
            raise ValueError(f"{op_type}: axis must be known at graph construction")
        axis = cv
    attrs = {"axis": int(axis), "exclusive": bool(exclusive), "reverse": bool(reverse)}
    return out1(op_type, [x], attrs, name or op_type)


def cumsum(x, axis=0, exclusive: bool = False, reverse: bool = False, name=None) -> Tensor:
    """Cumulative sum along `axis`: [a, b, c] → [a, a+b, a+b+c]; exclusive → [0, a, a+b];
    reverse sums from the end."""
    return _cumulative("Cumsum", x, axis, exclusive, reverse, name)


def cumprod(x, axis=0, exclusive: bool = False, reverse: bool = False, name=None) -> Tensor:
    """Cumulative product along `axis`: [a, b, c] → [a, ab, abc]; exclusive → [1, a, ab];
    reverse multiplies from the end."""
    return _cumulative("Cumprod", x, axis, exclusive, reverse, name)
