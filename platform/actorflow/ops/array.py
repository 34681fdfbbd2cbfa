"""Array ops: shapes, reshaping, joining, slicing and indexing."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes
from ..framework.graph import (Tensor, _shape_str, constant_value, convert_to_tensor,
                               name_scope)
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import out1, same_as_input, static_axis

__all__ = ["identity", "stop_gradient", "reshape", "shape", "stack", "pack"]


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
    dt = op.outputs[0].dtype.np

    def shape_(x):
        return np.array(np.shape(x), dtype=dt)
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
        return xp.reshape(x, tuple(int(d) for d in s))
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


# -- Pack (stack) --------------------------------------------------------------------------
def _pack_infer(op):
    ins = op.inputs
    if not ins:
        raise ValueError("stack needs at least one tensor")
    dt = ins[0].dtype
    shp = ins[0]._shape
    for t in ins[1:]:
        if t.dtype != dt:
            raise TypeError(f"stack: all inputs must share a dtype, got {dt.name} and "
                            f"{t.dtype.name}")
        if shp is None:
            shp = t._shape
        elif t._shape is not None:
            if len(t._shape) != len(shp) or any(a is not None and b is not None and a != b
                                                for a, b in zip(shp, t._shape)):
                raise ValueError(f"Shapes {list(shp)} and {list(t._shape)} are incompatible")
            shp = tuple(a if a is not None else b for a, b in zip(shp, t._shape))
    if shp is None:
        return [(dt, None)]
    axis = static_axis(op.attrs["axis"], len(shp) + 1)
    out = list(shp)
    out.insert(axis, len(ins))
    return [(dt, tuple(out))]


def _pack_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def pack(*xs):
        return xp.stack(xs, axis=axis)
    return pack


def _pack_grad(op, grad):
    """Returns unstack(grad, axis)."""
    return unstack(grad, num=len(op.inputs), axis=op.attrs["axis"])


register_op("Pack", infer=_pack_infer, grad=_pack_grad, kernel=_pack_kernel)


def stack(values, axis: int = 0, name: str = "stack") -> Tensor:
    """Stacks rank-R tensors into one rank-(R+1) tensor along `axis`."""
    ts = [convert_to_tensor(v) for v in values]
    if ts and any(t.dtype != ts[0].dtype for t in ts):
        # Python numbers next to tensors take the tensors' dtype.
        dt = next(t.dtype for t in ts if t.op.type != "Const")
        ts = [convert_to_tensor(v, dtype=dt) if not isinstance(v, Tensor) else
              convert_to_tensor(v) for v in values]
    return out1("Pack", ts, {"axis": int(axis)}, name)


pack = stack


# -- Unpack (unstack) ----------------------------------------------------------------------
def _unpack_infer(op):
    x = op.inputs[0]
    num, axis = op.attrs["num"], op.attrs["axis"]
    if x._shape is None:
        return [(x.dtype, None)] * num
    axis = static_axis(axis, len(x._shape))
    if x._shape[axis] is not None and x._shape[axis] != num:
        raise ValueError(f"Dimension {axis} has size {x._shape[axis]}, cannot unstack into "
                         f"{num} tensors")
    out = x._shape[:axis] + x._shape[axis + 1:]
    return [(x.dtype, out)] * num


def _unpack_kernel(op, ctx):
    xp, axis, num = ctx.xp, op.attrs["axis"], op.attrs["num"]

    def unpack(x):
        if x.shape[axis] != num:
            raise ValueError(f"dimension {axis} has size {x.shape[axis]}, expected {num}")
        return tuple(xp.moveaxis(x, axis, 0))
    return unpack


def _unpack_grad(op, *grads):
    """Returns stack(grads, axis)."""
    return [stack(list(grads), axis=op.attrs["axis"])]


register_op("Unpack", infer=_unpack_infer, grad=_unpack_grad, kernel=_unpack_kernel,
            aliases_input=True)


def unstack(value, num: int | None = None, axis: int = 0, name: str = "unstack") -> list:
    """Splits `value` along `axis` into a list of `num` tensors of one rank less.

    Raises:
        ValueError: `num` is None and the dimension is not statically known.
    """
    t = convert_to_tensor(value)
    if num is None:
        if t._shape is None or t._shape[axis] is None:
            raise ValueError(f"Cannot infer num from shape {t.get_shape()}")
        num = t._shape[axis]
    return list(make_unpack(t, num, axis, name))


def make_unpack(t, num, axis, name):
    from ..framework.graph import make_op
    return make_op("Unpack", [t], {"num": int(num), "axis": int(axis)}, name).outputs


__all__ += ["unstack", "unpack"]
unpack = unstack


# -- Size / Rank ---------------------------------------------------------------------------
def _size_kernel(op, ctx):
    dt = op.outputs[0].dtype.np

    def size_(x):
        return np.array(np.size(x), dtype=dt)
    return size_


def _rank_kernel(op, ctx):
    def rank_(x):
        return np.array(np.ndim(x), dtype=np.int32)
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
    """
    x = convert_to_tensor(a)
    p = None if perm is None else _int_list_arg(perm, "transpose perm")
    if p is not None and x._shape is not None:
        p = [d % len(x._shape) if -len(x._shape) <= d < 0 else d for d in p]
    out = out1("Transpose", [x], {"perm": p}, name)
    if conjugate and x.dtype.is_complex:
        from .math import conj
        out = conj(out)
    return out


__all__ += ["transpose"]


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


# -- ConcatV2 ------------------------------------------------------------------------------
def _concat_infer(op):
    ins, axis = op.inputs, op.attrs["axis"]
    dt = ins[0].dtype
    known = [t for t in ins if t._shape is not None]
    for t in ins[1:]:
        if t.dtype != dt:
            raise TypeError(f"concat: all values must share a dtype, got {dt.name} "
                            f"({ins[0].name}) and {t.dtype.name} ({t.name})")
    if not known:
        return [(dt, None)]
    r = len(known[0]._shape)
    if r == 0:
        raise ValueError("concat: cannot concatenate scalars (use stack instead)")
    ax = static_axis(axis, r)
    out = list(known[0]._shape)
    for t in known[1:]:
        s = t._shape
        if len(s) != r:
            raise ValueError(f"Shape must be rank {r} but is rank {len(s)}: cannot concat "
                             f"shapes {_shape_str(known[0]._shape)} and {_shape_str(s)}")
        for i, d in enumerate(s):
            if i == ax:
                continue
            if not _compatible(out[i], d):
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are "
                                 f"{out[i]} and {d}. Shapes are "
                                 f"{_shape_str(known[0]._shape)} and {_shape_str(s)}")
            out[i] = d if out[i] is None else out[i]
    sizes = [None if t._shape is None else t._shape[ax] for t in ins]
    out[ax] = None if None in sizes else sum(sizes)
    return [(dt, tuple(out))]


def _concat_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def concat_(*xs):
        return xp.concatenate(xs, axis=axis)
    return concat_


def _concat_grad(op, grad):
    """Returns the slices of grad along axis that line up with each input."""
    ins, axis = op.inputs, op.attrs["axis"]
    sizes = [None if t._shape is None else t._shape[axis] for t in ins]
    if None not in sizes:
        return split(grad, sizes, axis=axis)
    return split(grad, stack([_dim(t, axis) for t in ins]), axis=axis, num=len(ins))


register_op("ConcatV2", infer=_concat_infer, grad=_concat_grad, kernel=_concat_kernel,
            doc="Joins its inputs along attr axis.")


def _same_dtype_tensors(values) -> list[Tensor]:
    """Converts `values`; Python numbers next to tensors take the tensors' dtype."""
    ts = [convert_to_tensor(v) for v in values]
    if ts and any(t.dtype != ts[0].dtype for t in ts):
        tensor_dts = [t.dtype for t in ts if t.op.type != "Const"]
        if tensor_dts:
            ts = [convert_to_tensor(v) if isinstance(v, Tensor) else
                  convert_to_tensor(v, dtype=tensor_dts[0]) for v in values]
    return ts


def concat(values, axis, name: str = "concat") -> Tensor:
    """Joins `values` (tensors of one rank) along `axis` (TF 1.0 argument order).

    Raises:
        ValueError: ranks or non-axis dimensions differ (the message shows the shapes).
        TypeError: dtypes differ.
    """
    if isinstance(values, (int, np.integer)) and isinstance(axis, (list, tuple)):
        values, axis = axis, values  # the pre-1.0 order concat(concat_dim, values)
    if isinstance(values, Tensor):
        values = [values]
    ts = _same_dtype_tensors(values)
    if not ts:
        raise ValueError("concat: values must be a non-empty list of tensors")
    ax = _int_arg(axis, "concat axis")
    if len(ts) == 1:
        if ts[0]._shape is not None:
            static_axis(ax, len(ts[0]._shape))
        return identity(ts[0], name=name)
    r = next((len(t._shape) for t in ts if t._shape is not None), None)
    if r is not None and r > 0:
        ax = static_axis(ax, r)
    elif ax < 0:
        raise ValueError(f"concat: a negative axis ({ax}) needs inputs of known rank")
    return out1("ConcatV2", ts, {"axis": ax}, name)


concat_v2 = concat
__all__ += ["concat", "concat_v2"]


# -- Tile ----------------------------------------------------------------------------------
def _tile_infer(op):
    x, m = op.inputs
    _check_int(m, "tile multiples")
    mult = partial_value(m)
    if x._shape is None:
        return [(x.dtype, None if mult is None else (None,) * len(mult))]
    if mult is not None and len(mult) != len(x._shape):
        raise ValueError(f"tile: multiples has {len(mult)} entries but the input has shape "
                         f"{_shape_str(x._shape)} (rank {len(x._shape)})")
    if mult is None:
        return [(x.dtype, tuple(None for _ in x._shape))]
    for k in mult:
        if k is not None and k < 0:
            raise ValueError(f"tile: multiples must be non-negative, got {mult}")
    out = tuple(d if k == 1 else (None if d is None or k is None else d * k)
                for d, k in zip(x._shape, mult))
    return [(x.dtype, out)]


def _tile_kernel(op, ctx):
    xp = ctx.xp
    mult = constant_value(op.inputs[1])
    if mult is not None:
        reps = tuple(int(k) for k in np.ravel(mult))

        def tile_const(x, m):
            return xp.tile(x, reps)
        return tile_const

    def tile_(x, m):
        return xp.tile(x, tuple(int(k) for k in m))
    return tile_


def _tile_grad(op, grad):
    """Returns sum of reshape(grad, [m0, d0, m1, d1, ...]) over the multiple axes."""
    from .math import reduce_sum
    x, m = op.inputs
    if x._shape is None:
        raise ValueError(f"tile gradient needs the rank of {x.name} to be known")
    r = len(x._shape)
    mult = partial_value(m)
    if mult is not None and None not in mult and None not in x._shape:
        split_shape = [v for pair in zip(mult, x._shape) for v in pair]
    else:
        split_shape = reshape(stack([m, shape(x, out_type=m.dtype)], axis=1), [-1])
    summed = reduce_sum(reshape(grad, split_shape), axis=list(range(0, 2 * r, 2)))
    return [_reshape_like(summed, x), None]


register_op("Tile", infer=_tile_infer, grad=_tile_grad, kernel=_tile_kernel,
            doc="Repeats the input multiples[i] times along each axis i.")


def tile(input, multiples, name: str | None = None) -> Tensor:
    """`input` repeated `multiples[i]` times along each axis i."""
    return out1("Tile", [convert_to_tensor(input), _int_vector(multiples)], None,
                name or "Tile")


__all__ += ["tile"]


# -- GatherV2 / UnsortedSegmentSum ---------------------------------------------------------
def _gather_infer(op):
    params, indices = op.inputs
    _check_int(indices, "gather indices")
    axis = op.attrs["axis"]
    if params._shape is None or indices._shape is None:
        return [(params.dtype, None)]
    if len(params._shape) == 0:
        raise ValueError("gather: params must be at least rank 1")
    ax = static_axis(axis, len(params._shape))
    return [(params.dtype, params._shape[:ax] + indices._shape + params._shape[ax + 1:])]


def _gather_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def gather_(params, indices):
        return xp.take(params, indices, axis=axis)
    return gather_


def _gather_grad(op, grad):
    """Returns unsorted_segment_sum(grad, indices, params.shape[axis]) (moved to axis)."""
    params, indices = op.inputs
    axis = op.attrs["axis"]
    n = _dim(params, axis, indices.dtype)
    if axis == 0:
        return [unsorted_segment_sum(grad, indices, n), None]
    if params._shape is None or indices._shape is None:
        raise ValueError(f"gather gradient along axis {axis} needs the ranks of "
                         f"{params.name} and {indices.name} to be known")
    ni, rp = len(indices._shape), len(params._shape)
    lead = list(range(axis, axis + ni))
    g = transpose(grad, lead + list(range(axis)) + list(range(axis + ni, ni + rp - 1)))
    summed = unsorted_segment_sum(g, indices, n)
    back = list(range(1, axis + 1)) + [0] + list(range(axis + 1, rp))
    return [transpose(summed, back), None]


register_op("GatherV2", infer=_gather_infer, grad=_gather_grad, kernel=_gather_kernel,
            doc="Selects slices of params at indices along attr axis.")


def gather(params, indices, validate_indices=None, name: str | None = None,
           axis=0) -> Tensor:
    """Slices of `params` at `indices` along `axis`: shape params[:axis] + indices +
    params[axis+1:]."""
    p = convert_to_tensor(params)
    i = convert_to_tensor(indices)
    ax = _int_arg(axis, "gather axis")
    if p._shape is not None and p._shape:
        ax = static_axis(ax, len(p._shape))
    return out1("GatherV2", [p, i], {"axis": ax}, name or "GatherV2")


def _segment_sum_infer(op):
    data, ids, n = op.inputs
    _check_int(ids, "segment_ids")
    _check_int(n, "num_segments")
    if data._shape is None or ids._shape is None:
        return [(data.dtype, None)]
    k = len(ids._shape)
    if len(data._shape) < k or not all(_compatible(a, b)
                                       for a, b in zip(data._shape, ids._shape)):
        raise ValueError(f"unsorted_segment_sum: segment_ids shape {_shape_str(ids._shape)} "
                         f"is not a prefix of data shape {_shape_str(data._shape)}")
    return [(data.dtype, (_scalar_value(n),) + data._shape[k:])]


def _segment_sum_kernel(op, ctx):
    xp = ctx.xp
    dt = op.outputs[0].dtype.np

    def unsorted_segment_sum_(data, ids, n):
        out = xp.zeros((int(n),) + data.shape[ids.ndim:], dtype=dt)
        if ids.size and int(ids.min()) < 0:  # negative ids are dropped, as in TF
            keep = ids >= 0
            data, ids = data[keep], ids[keep]
        xp.add.at(out, ids, data)
        return out
    return unsorted_segment_sum_


def _segment_sum_grad(op, grad):
    """Returns gather(grad, segment_ids), zero where a segment id is negative."""
    from .math import cast, greater_equal, maximum, multiply
    data, ids, _ = op.inputs
    zero = convert_to_tensor(0, dtype=ids.dtype)
    g = gather(grad, maximum(ids, zero))
    if data._shape is None or ids._shape is None:
        raise ValueError(f"unsorted_segment_sum gradient needs the ranks of {data.name} and "
                         f"{ids.name} to be known")
    keep = cast(greater_equal(ids, zero), g.dtype)
    for _ in range(len(data._shape) - len(ids._shape)):
        keep = expand_dims(keep, -1)
    return [multiply(g, keep), None, None]


register_op("UnsortedSegmentSum", infer=_segment_sum_infer, grad=_segment_sum_grad,
            kernel=_segment_sum_kernel,
            doc="Sums slices of data into num_segments rows by segment id (gather's "
                "gradient).")


def unsorted_segment_sum(data, segment_ids, num_segments, name: str | None = None) -> Tensor:
    """out[i] = sum of data[j...] over j with segment_ids[j...] == i; negative ids dropped."""
    d = convert_to_tensor(data)
    ids = convert_to_tensor(segment_ids)
    n = convert_to_tensor(num_segments, dtype=ids.dtype if not isinstance(
        num_segments, Tensor) else None)
    return out1("UnsortedSegmentSum", [d, ids, n], None, name or "UnsortedSegmentSum")


__all__ += ["gather", "unsorted_segment_sum"]


# -- OneHot --------------------------------------------------------------------------------
def _one_hot_infer(op):
    ind, on, off = op.inputs
    _check_int(ind, "one_hot indices")
    if on.dtype != off.dtype:
        raise TypeError(f"one_hot: on_value ({on.dtype.name}) and off_value "
                        f"({off.dtype.name}) must share a dtype")
    depth, axis = op.attrs["depth"], op.attrs["axis"]
    if ind._shape is None:
        return [(on.dtype, None)]
    r = len(ind._shape)
    if not -1 <= axis <= r:
        raise ValueError(f"one_hot: axis {axis} is out of range for indices of shape "
                         f"{_shape_str(ind._shape)}")
    pos = r if axis == -1 else axis
    return [(on.dtype, ind._shape[:pos] + (depth,) + ind._shape[pos:])]


def _one_hot_kernel(op, ctx):
    xp = ctx.xp
    depth, axis = op.attrs["depth"], op.attrs["axis"]
    dt = op.outputs[0].dtype.np
    on_c, off_c = constant_value(op.inputs[1]), constant_value(op.inputs[2])
    plain = on_c is not None and off_c is not None and on_c == 1 and off_c == 0

    def hot(ind):
        eq = xp.expand_dims(ind, -1) == xp.arange(depth)
        return eq if axis == -1 else xp.moveaxis(eq, -1, axis)

    if plain:
        def one_hot_plain(ind, on, off):
            return hot(ind).astype(dt)
        return one_hot_plain

    def one_hot_(ind, on, off):
        return xp.where(hot(ind), on, off).astype(dt, copy=False)
    return one_hot_


register_op("OneHot", infer=_one_hot_infer, grad=NOT_DIFFERENTIABLE, kernel=_one_hot_kernel,
            doc="on_value where indices equal the position along a new depth axis, else "
                "off_value.")


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None,
            name: str | None = None) -> Tensor:
    """A one-hot encoding of `indices` with a new axis of size `depth` (default: last).

    Indices outside [0, depth) give a row of `off_value`.
    """
    ind = convert_to_tensor(indices)
    if dtype is None:
        from ..framework.graph import _default_np_dtype
        given = [v.dtype if isinstance(v, Tensor) else _default_np_dtype(v)
                 for v in (on_value, off_value) if v is not None]
        dtype = given[0] if given else dtypes.float32
    dtype = dtypes.as_dtype(dtype)
    on = convert_to_tensor(1 if on_value is None else on_value,
                           dtype=None if isinstance(on_value, Tensor) else dtype)
    off = convert_to_tensor(0 if off_value is None else off_value,
                            dtype=None if isinstance(off_value, Tensor) else dtype)
    for v in (on, off):
        if v.dtype != dtype:
            raise TypeError(f"one_hot: dtype {dtype.name} does not match on/off value "
                            f"{v.name} of dtype {v.dtype.name}")
    attrs = {"depth": _int_arg(depth, "one_hot depth"), "axis": -1 if axis is None else int(axis)}
    if attrs["depth"] < 0:
        raise ValueError(f"one_hot: depth must be non-negative, got {attrs['depth']}")
    return out1("OneHot", [ind, on, off], attrs, name or "one_hot")


__all__ += ["one_hot"]


# -- Split / SplitV ------------------------------------------------------------------------
def _split_infer(op):
    x = op.inputs[0]
    num, axis = op.attrs["num_split"], op.attrs["axis"]
    if x._shape is None:
        return [(x.dtype, None)] * num
    ax = static_axis(axis, len(x._shape))
    d = x._shape[ax]
    if d is not None and d % num:
        raise ValueError(f"Dimension size must be evenly divisible by {num} but is {d} "
                         f"(axis {ax} of shape {_shape_str(x._shape)})")
    out = x._shape[:ax] + (None if d is None else d // num,) + x._shape[ax + 1:]
    return [(x.dtype, out)] * num


def _split_kernel(op, ctx):
    xp, num, axis = ctx.xp, op.attrs["num_split"], op.attrs["axis"]

    def split_(x):
        return tuple(xp.split(x, num, axis=axis))
    return split_


def _split_grad(op, *grads):
    """Returns concat(grads, axis)."""
    return [concat(list(grads), op.attrs["axis"])]


register_op("Split", infer=_split_infer, grad=_split_grad, kernel=_split_kernel,
            aliases_input=True, doc="Splits into attr num_split equal parts along attr axis.")


def _resolve_sizes(sizes: list, d, what: str) -> list:
    """Fills the one -1 in `sizes` from dimension `d` (when known) and checks the sum."""
    if sizes.count(-1) > 1:
        raise ValueError(f"{what}: at most one size may be -1, got {sizes}")
    if any(s is not None and s < -1 for s in sizes):
        raise ValueError(f"{what}: sizes must be non-negative or -1, got {sizes}")
    if d is None:
        return [None if s == -1 else s for s in sizes]
    known = sum(s for s in sizes if s is not None and s != -1)
    if -1 in sizes and None not in sizes:
        if known > d:
            raise ValueError(f"{what}: sizes {sizes} add up to more than the dimension {d}")
        return [d - known if s == -1 else s for s in sizes]
    if None not in sizes and known != d:
        raise ValueError(f"{what}: sizes {sizes} add up to {known}, but the dimension is {d}")
    return [None if s == -1 else s for s in sizes]


def _split_v_infer(op):
    x, sz = op.inputs
    _check_int(sz, "split sizes")
    num, axis = op.attrs["num_split"], op.attrs["axis"]
    sizes = partial_value(sz)
    if sizes is not None and len(sizes) != num:
        raise ValueError(f"split: {len(sizes)} sizes given for num={num} outputs")
    sizes = sizes or [None] * num
    if x._shape is None:
        return [(x.dtype, None)] * num
    ax = static_axis(axis, len(x._shape))
    sizes = _resolve_sizes(sizes, x._shape[ax], f"split of shape {_shape_str(x._shape)} "
                           f"along axis {ax}")
    return [(x.dtype, x._shape[:ax] + (s,) + x._shape[ax + 1:]) for s in sizes]


def _split_points(sizes, d: int) -> list[int]:
    sizes = [int(s) for s in sizes]
    if -1 in sizes:
        sizes[sizes.index(-1)] = d - (sum(sizes) + 1)
    if sum(sizes) != d or min(sizes, default=0) < 0:
        raise ValueError(f"split sizes {sizes} do not add up to the dimension {d}")
    return np.cumsum(sizes)[:-1].tolist()


def _split_v_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def split_v(x, sizes):
        return tuple(xp.split(x, _split_points(sizes, x.shape[axis]), axis=axis))
    return split_v


def _split_v_grad(op, *grads):
    """Returns concat(grads, axis)."""
    return [concat(list(grads), op.attrs["axis"]), None]


register_op("SplitV", infer=_split_v_infer, grad=_split_v_grad, kernel=_split_v_kernel,
            aliases_input=True,
            doc="Splits into parts of the given sizes (one may be -1) along attr axis.")


def split(value, num_or_size_splits, axis=0, num=None, name: str = "split") -> list:
    """Splits `value` along `axis` into `num_or_size_splits` equal parts (an int) or parts of
    the given sizes (a list or 1-D tensor; one size may be -1).

    Raises:
        ValueError: the parts cannot fit the dimension, or their number is unknown.
    """
    from ..framework.graph import make_op
    x = convert_to_tensor(value)
    ax = _int_arg(axis, "split axis")
    if x._shape is not None:
        ax = static_axis(ax, len(x._shape))
    if isinstance(num_or_size_splits, (int, np.integer)):
        n = int(num_or_size_splits)
        if n < 1:
            raise ValueError(f"split: num_or_size_splits must be positive, got {n}")
        return list(make_op("Split", [x], {"num_split": n, "axis": ax}, name).outputs)
    sz = _int_vector(num_or_size_splits)
    if sz._shape == ():
        return split(x, _int_arg(sz, "split count"), ax, name=name)
    if num is None:
        if sz._shape is None or sz._shape[0] is None:
            raise ValueError(f"Cannot infer num from shape {_shape_str(sz._shape)} of "
                             f"size_splits {sz.name}")
        num = sz._shape[0]
    return list(make_op("SplitV", [x, sz], {"num_split": int(num), "axis": ax},
                        name).outputs)


__all__ += ["split"]


# -- StridedSlice / StridedSliceGrad -------------------------------------------------------
_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _strided_index(begin, end, strides, m: dict) -> tuple:
    """The NumPy basic index of a strided-slice spec (always yielding an array, never a
    NumPy scalar)."""
    idx: list = []
    for i in range(len(begin)):
        bit = 1 << i
        if m["ellipsis_mask"] & bit:
            idx.append(Ellipsis)
        elif m["new_axis_mask"] & bit:
            idx.append(None)
        elif m["shrink_axis_mask"] & bit:
            idx.append(int(begin[i]))
        else:
            start = None if m["begin_mask"] & bit else int(begin[i])
            stop = None if m["end_mask"] & bit else int(end[i])
            idx.append(builtins.slice(start, stop, int(strides[i])))
    if Ellipsis not in idx:
        idx.append(Ellipsis)
    return tuple(idx)


def _strided_slice_shape(in_shape, begin, end, strides, m: dict):
    """The static output shape of a strided slice; `begin`/`end`/`strides` hold ints or None.

    Raises:
        ValueError: a stride is 0, or a shrunk index is out of range of a known dimension.
    """
    n = len(strides)
    if m["ellipsis_mask"] & (m["ellipsis_mask"] - 1):
        raise ValueError("strided_slice: only one ellipsis is allowed")
    if in_shape is None:
        return None
    spec = list(range(n))
    ell = [i for i in spec if m["ellipsis_mask"] & (1 << i)]
    consuming = [i for i in spec if not (m["new_axis_mask"] | m["ellipsis_mask"]) & (1 << i)]
    if len(consuming) > len(in_shape):
        raise ValueError(f"Index out of range: {len(consuming)} indices for a tensor of shape "
                         f"{_shape_str(in_shape)}")
    if not ell:
        spec.append("...")
    out: list = []
    dim = 0
    for i in spec:
        if i == "..." or m["ellipsis_mask"] & (1 << i):
            k = len(in_shape) - len(consuming)
            out.extend(in_shape[dim:dim + k])
            dim += k
            continue
        bit = 1 << i
        if m["new_axis_mask"] & bit:
            out.append(1)
            continue
        d = in_shape[dim]
        dim += 1
        b, e, s = begin[i], end[i], strides[i]
        if s == 0:
            raise ValueError("strided_slice: strides must be non-zero")
        if m["shrink_axis_mask"] & bit:
            if d is not None and b is not None and not -d <= b < d:
                raise ValueError(f"slice index {b} of dimension {dim - 1} out of bounds for "
                                 f"shape {_shape_str(in_shape)}")
            continue
        b = None if m["begin_mask"] & bit else (b if b is not None else "?")
        e = None if m["end_mask"] & bit else (e if e is not None else "?")
        if d is None or s is None or "?" in (b, e):
            out.append(None)
        else:
            out.append(len(range(*builtins.slice(b, e, s).indices(d))))
    return tuple(out)


def _spec_values(op, first: int):
    vals = [partial_value(t) for t in op.inputs[first:first + 3]]
    n = next((len(v) for v in vals if v is not None), None)
    if n is None:
        return None
    if any(v is not None and len(v) != n for v in vals):
        raise ValueError(f"strided_slice: begin, end and strides must have equal lengths, got "
                         f"{[None if v is None else len(v) for v in vals]}")
    return [[None] * n if v is None else v for v in vals]


def _strided_slice_infer(op):
    x = op.inputs[0]
    for t in op.inputs[1:]:
        _check_int(t, "strided_slice begin/end/strides")
    m = {k: op.attrs[k] for k in _MASKS}
    spec = _spec_values(op, 1)
    if spec is None:
        return [(x.dtype, None)]
    return [(x.dtype, _strided_slice_shape(x._shape, *spec, m))]


def _const_index(op, first: int, m: dict):
    vals = [constant_value(t) for t in op.inputs[first:first + 3]]
    return None if any(v is None for v in vals) else _strided_index(*vals, m)


def _strided_slice_kernel(op, ctx):
    m = {k: op.attrs[k] for k in _MASKS}
    idx = _const_index(op, 1, m)
    if idx is not None:
        def strided_slice_const(x, b, e, s):
            return x[idx]
        return strided_slice_const

    def strided_slice_(x, b, e, s):
        return x[_strided_index(b, e, s, m)]
    return strided_slice_


def _strided_slice_grad(op, grad):
    """Returns zeros shaped like x with the sliced positions set to grad."""
    x, b, e, s = op.inputs
    attrs = {k: op.attrs[k] for k in _MASKS}
    x_shape = (_int_vector(list(x._shape)) if x._shape is not None and None not in x._shape
               else shape(x, out_type=b.dtype))
    return [out1("StridedSliceGrad", [x_shape, b, e, s, grad], attrs, "StridedSliceGrad"),
            None, None, None]


register_op("StridedSlice", infer=_strided_slice_infer, grad=_strided_slice_grad,
            kernel=_strided_slice_kernel, aliases_input=True,
            doc="Python-style slicing x[begin:end:strides] with TF's five bit masks.")


def _strided_slice_grad_infer(op):
    shp, dy = op.inputs[0], op.inputs[4]
    vals = partial_value(shp)
    out = None if vals is None else tuple(vals)
    spec = _spec_values(op, 1)
    if out is not None and spec is not None and dy._shape is not None:
        want = _strided_slice_shape(out, *spec, {k: op.attrs[k] for k in _MASKS})
        if want is not None and (len(want) != len(dy._shape) or
                                 not all(_compatible(a, b) for a, b in zip(want, dy._shape))):
            raise ValueError(f"StridedSliceGrad: dy has shape {_shape_str(dy._shape)} but the "
                             f"slice of {_shape_str(out)} has shape {_shape_str(want)}")
    return [(dy.dtype, out)]


def _strided_slice_grad_kernel(op, ctx):
    xp = ctx.xp
    m = {k: op.attrs[k] for k in _MASKS}
    dt = op.outputs[0].dtype.np
    idx = _const_index(op, 1, m)

    def strided_slice_grad(shp, b, e, s, dy):
        out = xp.zeros(tuple(int(d) for d in shp), dtype=dt)
        out[idx if idx is not None else _strided_index(b, e, s, m)] = dy
        return out
    return strided_slice_grad


def _strided_slice_grad_grad(op, grad):
    """Returns (None, None, None, None, strided_slice(grad))."""
    _, b, e, s, _ = op.inputs
    attrs = {k: op.attrs[k] for k in _MASKS}
    return [None, None, None, None, out1("StridedSlice", [grad, b, e, s], attrs,
                                         "StridedSlice")]


register_op("StridedSliceGrad", infer=_strided_slice_grad_infer,
            grad=_strided_slice_grad_grad, kernel=_strided_slice_grad_kernel,
            doc="Zeros of a shape with a strided slice set to dy (StridedSlice's gradient).")


def strided_slice(input_, begin, end, strides=None, begin_mask: int = 0, end_mask: int = 0,
                  ellipsis_mask: int = 0, new_axis_mask: int = 0, shrink_axis_mask: int = 0,
                  var=None, name: str | None = None) -> Tensor:
    """x[begin:end:strides] per dimension; bit i of each mask changes how position i reads
    (begin/end ignored, ellipsis, new axis, or a single index that removes the dimension)."""
    x = convert_to_tensor(input_)
    b, e = _int_vector(begin), _int_vector(end)
    if strides is None:
        n = b._shape[0] if b._shape else None
        if n is None:
            raise ValueError("strided_slice: strides are needed when begin has unknown length")
        strides = [1] * n
    s = _int_vector(strides)
    attrs = {"begin_mask": int(begin_mask), "end_mask": int(end_mask),
             "ellipsis_mask": int(ellipsis_mask), "new_axis_mask": int(new_axis_mask),
             "shrink_axis_mask": int(shrink_axis_mask)}
    return out1("StridedSlice", [x, b, e, s], attrs, name or "StridedSlice")


__all__ += ["strided_slice"]


# -- Tensor.__getitem__ --------------------------------------------------------------------
def _index_scalar(v, what: str):
    """An int or a scalar int tensor used as a slice bound or index."""
    if _is_tensor_like(v):
        t = convert_to_tensor(v)
        if not t.dtype.is_integer or (t._shape is not None and t._shape != ()):
            raise TypeError(f"Only scalar integer tensors are valid {what}, got {t!r}")
        return t
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return int(v)
    raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                    f"scalar tf.int32/tf.int64 tensors are valid indices, got {v!r}")


def _slice_helper(tensor: Tensor, key) -> Tensor:
    """tensor[key] for ints, slices (with steps), Ellipsis, None and scalar int tensors."""
    if not isinstance(key, tuple):
        key = (key,)
    begin, end, strides = [], [], []
    masks = dict.fromkeys(_MASKS, 0)
    for i, k in enumerate(key):
        bit = 1 << i
        if isinstance(k, builtins.slice):
            start = None if k.start is None else _index_scalar(k.start, "slice starts")
            stop = None if k.stop is None else _index_scalar(k.stop, "slice stops")
            step = 1 if k.step is None else _index_scalar(k.step, "slice steps")
            if isinstance(step, int) and step == 0:
                raise ValueError("slice step cannot be zero")
            begin.append(0 if start is None else start)
            end.append(0 if stop is None else stop)
            strides.append(step)
            masks["begin_mask"] |= bit if start is None else 0
            masks["end_mask"] |= bit if stop is None else 0
        elif k is Ellipsis:
            if masks["ellipsis_mask"]:
                raise ValueError("an index can only have a single ellipsis ('...')")
            begin.append(0), end.append(0), strides.append(1)
            masks["ellipsis_mask"] |= bit
        elif k is None:
            begin.append(0), end.append(0), strides.append(1)
            masks["new_axis_mask"] |= bit
        else:
            v = _index_scalar(k, "indices")
            begin.append(v)
            end.append(v + 1 if isinstance(v, int) else v)
            strides.append(1)
            masks["shrink_axis_mask"] |= bit
    return strided_slice(tensor, _index_vector(begin), _index_vector(end),
                         _index_vector(strides), name="strided_slice", **masks)


def _index_vector(vals: list) -> Tensor:
    ts = [v for v in vals if isinstance(v, Tensor)]
    if not ts:
        return _int_vector(np.array(vals, dtype=np.int64))
    dt = ts[0].dtype if all(t.dtype == ts[0].dtype for t in ts) else dtypes.int64
    if dt == dtypes.int64:
        from .math import cast
        vals = [cast(v, dt) if isinstance(v, Tensor) else v for v in vals]
    return stack([v if isinstance(v, Tensor) else convert_to_tensor(v, dtype=dt)
                  for v in vals])


Tensor.__getitem__ = _slice_helper
newaxis = None
__all__ += ["newaxis"]


# -- Slice ---------------------------------------------------------------------------------
def _slice_infer(op):
    x, b, sz = op.inputs
    _check_int(b, "slice begin")
    _check_int(sz, "slice size")
    bv, sv = partial_value(b), partial_value(sz)
    n = len(bv) if bv is not None else (len(sv) if sv is not None else None)
    if x._shape is None:
        return [(x.dtype, None if n is None else (None,) * n)]
    r = len(x._shape)
    bv, sv = bv or [None] * r, sv or [None] * r
    if len(bv) != r or len(sv) != r:
        raise ValueError(f"slice: begin ({len(bv)}) and size ({len(sv)}) must have one entry "
                         f"per dimension of shape {_shape_str(x._shape)}")
    out = []
    for i, (d, bb, ss) in enumerate(zip(x._shape, bv, sv)):
        if bb is not None and (bb < 0 or (d is not None and bb > d)):
            raise ValueError(f"slice: begin {bb} is out of range for dimension {i} of shape "
                             f"{_shape_str(x._shape)}")
        if ss is not None and ss < -1:
            raise ValueError(f"slice: sizes must be -1 or non-negative, got {sv}")
        if ss is not None and ss != -1:
            if d is not None and bb is not None and bb + ss > d:
                raise ValueError(f"slice: begin {bb} + size {ss} exceeds dimension {i} of "
                                 f"shape {_shape_str(x._shape)}")
            out.append(ss)
        else:
            out.append(None if d is None or bb is None or ss is None else d - bb)
    return [(x.dtype, tuple(out))]


def _slice_index(begin, size, shp) -> tuple:
    """The NumPy index of slice(begin, size) on an array of shape `shp`; a ValueError naming
    the shape when it does not fit."""
    idx = []
    for i, (b, s, d) in enumerate(zip(begin, size, shp)):
        b, s = int(b), int(s)
        e = d if s == -1 else b + s
        if not 0 <= b <= e <= d:
            raise ValueError(f"slice begin {list(map(int, begin))} size {list(map(int, size))}"
                             f" does not fit dimension {i} of shape {list(shp)}")
        idx.append(builtins.slice(b, e))
    if len(idx) != len(shp):
        raise ValueError(f"slice: begin has {len(idx)} entries for an array of shape "
                         f"{list(shp)}")
    return tuple(idx)


def _slice_kernel(op, ctx):
    x = op.inputs[0]
    bc, sc = constant_value(op.inputs[1]), constant_value(op.inputs[2])
    if bc is not None and sc is not None and x._shape is not None and None not in x._shape:
        idx = _slice_index(bc, sc, x._shape)

        def slice_const(v, b, s):
            return v[idx]
        return slice_const

    def slice_(v, b, s):
        return v[_slice_index(b, s, v.shape)]
    return slice_


def _slice_grad(op, grad):
    """Returns pad(grad, [[begin, shape(x) - begin - shape(y)]])."""
    from .math import subtract
    x, b, _ = op.inputs
    y = op.outputs[0]
    bv = constant_value(b)
    if bv is not None and x._shape is not None and None not in x._shape \
            and y._shape is not None and None not in y._shape:
        pads = [[int(s), d - int(s) - e] for s, d, e in zip(np.ravel(bv), x._shape, y._shape)]
        return [pad(grad, pads), None, None]
    after = subtract(subtract(shape(x, out_type=b.dtype), b), shape(y, out_type=b.dtype))
    return [pad(grad, stack([b, after], axis=1)), None, None]


register_op("Slice", infer=_slice_infer, grad=_slice_grad, kernel=_slice_kernel,
            aliases_input=True, doc="The block of x at begin with size (-1: to the end).")


def slice(input_, begin, size, name: str | None = None) -> Tensor:  # noqa: A001 - TF name
    """The block of `input_` starting at `begin` with extent `size` (-1: to the end)."""
    return out1("Slice", [convert_to_tensor(input_), _int_vector(begin), _int_vector(size)],
                None, name or "Slice")


__all__ += ["slice"]


# -- PadV2 / MirrorPad / MirrorPadGrad ------------------------------------------------------
def _pad_pairs(op, x_shape, what: str, sign: int = 1):
    """Static per-dimension (before, after) pairs (ints or None) and the padded shape."""
    p = op.inputs[1]
    _check_int(p, f"{what} paddings")
    if p._shape is not None and (len(p._shape) != 2 or p._shape[1] not in (2, None)):
        raise ValueError(f"{what}: paddings must have shape [rank, 2], got "
                         f"{_shape_str(p._shape)}")
    flat = partial_value(p)
    r = len(x_shape) if x_shape is not None else (None if flat is None else len(flat) // 2)
    if r is None:
        return None, None
    if p._shape is not None and p._shape[0] is not None and p._shape[0] != r:
        raise ValueError(f"{what}: paddings of shape {_shape_str(p._shape)} do not match "
                         f"the rank of input shape {_shape_str(x_shape)}")
    flat = flat or [None] * (2 * r)
    pairs = list(zip(flat[0::2], flat[1::2]))
    if any(v is not None and v < 0 for v in flat):
        raise ValueError(f"{what}: paddings must be non-negative, got {flat}")
    dims = x_shape or (None,) * r
    out = tuple(None if d is None or a is None or b is None else d + sign * (a + b)
                for d, (a, b) in zip(dims, pairs))
    return pairs, out


def _pad_infer(op):
    x, _, c = op.inputs
    if c.dtype != x.dtype:
        raise TypeError(f"pad: constant_values dtype {c.dtype.name} does not match input "
                        f"dtype {x.dtype.name}")
    if c._shape not in (None, ()):
        raise ValueError(f"pad: constant_values must be a scalar, got shape "
                         f"{_shape_str(c._shape)}")
    _, out = _pad_pairs(op, x._shape, "pad")
    return [(x.dtype, out)]


def _pairs_of(p) -> list:
    return [(int(a), int(b)) for a, b in np.asarray(p).reshape(-1, 2)]


def _pad_kernel(op, ctx):
    xp = ctx.xp
    dt = op.outputs[0].dtype.np

    const = constant_value(op.inputs[1])
    fixed = None if const is None else _pairs_of(const)

    def pad_(x, p, c):
        pairs = fixed or _pairs_of(p)
        if len(pairs) != x.ndim or min((v for pr in pairs for v in pr), default=0) < 0:
            raise ValueError(f"paddings {pairs} do not fit an input of shape {list(x.shape)}")
        out = xp.full(tuple(d + a + b for d, (a, b) in zip(x.shape, pairs)), c, dtype=dt)
        out[tuple(builtins.slice(a, a + d) for d, (a, _) in zip(x.shape, pairs))] = x
        return out
    return pad_


def _pad_grad(op, grad):
    """Returns (slice(grad, paddings[:, 0], shape(x)), None, sum(grad) - sum(grad_x))."""
    from .math import reduce_sum, subtract
    x, p, _ = op.inputs
    pv = constant_value(p)
    if pv is not None and x._shape is not None and None not in x._shape:
        gx = slice(grad, [a for a, _ in _pairs_of(pv)], list(x._shape))
    else:
        gx = slice(grad, p[:, 0], shape(x, out_type=p.dtype))
    return [gx, None, subtract(reduce_sum(grad), reduce_sum(gx))]


register_op("PadV2", infer=_pad_infer, grad=_pad_grad, kernel=_pad_kernel,
            doc="Pads with constant_values: paddings[i] = [before, after] for dimension i.")


_MIRROR_MODES = {"REFLECT": ("reflect", 1), "SYMMETRIC": ("symmetric", 0)}


def _mirror_pad_infer(op):
    x = op.inputs[0]
    mode = op.attrs["mode"]
    pairs, out = _pad_pairs(op, x._shape, f"pad ({mode})")
    if pairs is not None and x._shape is not None:
        limit = _MIRROR_MODES[mode][1]
        for i, (d, (a, b)) in enumerate(zip(x._shape, pairs)):
            if d is not None and any(v is not None and v > d - limit for v in (a, b)):
                raise ValueError(f"pad ({mode}): paddings {a, b} of dimension {i} must be at "
                                 f"most {d - limit} for input shape {_shape_str(x._shape)}")
    return [(x.dtype, out)]


def _mirror_pad_kernel(op, ctx):
    xp = ctx.xp
    np_mode, limit = _MIRROR_MODES[op.attrs["mode"]]

    const = constant_value(op.inputs[1])
    fixed = None if const is None else _pairs_of(const)

    def mirror_pad(x, p):
        pairs = fixed or _pairs_of(p)
        if len(pairs) != x.ndim or any(not 0 <= v <= d - limit
                                       for d, pr in zip(x.shape, pairs) for v in pr):
            raise ValueError(f"paddings {pairs} do not fit {op.attrs['mode']} padding of an "
                             f"input of shape {list(x.shape)}")
        return xp.pad(x, pairs, mode=np_mode)
    return mirror_pad


def _mirror_pad_grad(op, grad):
    """Returns mirror_pad_grad(grad): each mirrored element's gradient folded back."""
    return [out1("MirrorPadGrad", [grad, op.inputs[1]], {"mode": op.attrs["mode"]},
                 "MirrorPadGrad"), None]


register_op("MirrorPad", infer=_mirror_pad_infer, grad=_mirror_pad_grad,
            kernel=_mirror_pad_kernel,
            doc="Pads by mirroring the input (attr mode REFLECT or SYMMETRIC).")


def _mirror_pad_grad_infer(op):
    g = op.inputs[0]
    _, out = _pad_pairs(op, g._shape, "MirrorPadGrad", sign=-1)
    return [(g.dtype, out)]


def _mirror_pad_grad_kernel(op, ctx):
    xp = ctx.xp
    off = _MIRROR_MODES[op.attrs["mode"]][1]

    def mirror_pad_grad(g, p):
        out = g
        for ax, (before, after) in enumerate(_pairs_of(p)):
            if not before and not after:
                continue
            n = out.shape[ax]
            d = n - before - after

            def at(a, b, ax=ax):
                return (builtins.slice(None),) * ax + (builtins.slice(a, b),)
            core = out[at(before, before + d)].copy()
            if before:
                core[at(off, off + before)] += xp.flip(out[at(0, before)], ax)
            if after:
                core[at(d - after - off, d - off)] += xp.flip(out[at(n - after, n)], ax)
            out = core
        return out if out is not g else g.copy()
    return mirror_pad_grad


def _mirror_pad_grad_grad(op, grad):
    """Returns mirror_pad(grad) (the adjoint of folding)."""
    return [out1("MirrorPad", [grad, op.inputs[1]], {"mode": op.attrs["mode"]}, "MirrorPad"),
            None]


register_op("MirrorPadGrad", infer=_mirror_pad_grad_infer, grad=_mirror_pad_grad_grad,
            kernel=_mirror_pad_grad_kernel,
            doc="Folds the gradient of a MirrorPad output back onto its input.")


def pad(tensor, paddings, mode: str = "CONSTANT", name: str | None = None,
        constant_values=0) -> Tensor:
    """`tensor` padded by paddings[i] = [before, after] along each dimension i.

    mode: "CONSTANT" (fill with `constant_values`), "REFLECT" (mirror without the edge) or
    "SYMMETRIC" (mirror with the edge), case-insensitive.
    """
    x = convert_to_tensor(tensor)
    p = convert_to_tensor(paddings) if _is_tensor_like(paddings) else _int_matrix(paddings)
    mode = mode.upper()
    if mode == "CONSTANT":
        c = convert_to_tensor(constant_values, dtype=None if isinstance(
            constant_values, Tensor) else x.dtype)
        return out1("PadV2", [x, p, c], None, name or "Pad")
    if mode not in _MIRROR_MODES:
        raise ValueError(f"pad: unknown mode {mode!r} (CONSTANT, REFLECT or SYMMETRIC)")
    return out1("MirrorPad", [x, p], {"mode": mode}, name or "MirrorPad")


def _int_matrix(rows) -> Tensor:
    """An [n, 2] int tensor from nested lists (which may hold scalar int tensors)."""
    if any(_is_tensor_like(v) for r in rows for v in (r if isinstance(r, (list, tuple))
                                                     else [r])):
        return stack([_int_vector(r) for r in rows])
    arr = np.array(rows, dtype=np.int64).reshape(-1, 2)
    return convert_to_tensor(arr.astype(np.int32))


__all__ += ["pad"]


# -- GatherNd / ScatterNd ------------------------------------------------------------------
def _nd_index(indices, xp) -> tuple:
    return tuple(xp.moveaxis(indices, -1, 0))


def _gather_nd_infer(op):
    params, indices = op.inputs
    _check_int(indices, "gather_nd indices")
    if indices._shape is not None and len(indices._shape) == 0:
        raise ValueError("gather_nd: indices must be at least rank 1")
    if params._shape is None or indices._shape is None or indices._shape[-1] is None:
        return [(params.dtype, None)]
    k = indices._shape[-1]
    if k > len(params._shape):
        raise ValueError(f"gather_nd: index depth {k} exceeds the rank of params shape "
                         f"{_shape_str(params._shape)}")
    return [(params.dtype, indices._shape[:-1] + params._shape[k:])]


def _gather_nd_kernel(op, ctx):
    xp = ctx.xp

    def gather_nd(params, indices):
        if indices.shape[-1] == 0:
            return xp.broadcast_to(params, indices.shape[:-1] + params.shape).copy()
        return params[_nd_index(indices, xp)]
    return gather_nd


def _gather_nd_grad(op, grad):
    """Returns scatter_nd(indices, grad, shape(params))."""
    params, indices = op.inputs
    shp = (list(params._shape) if params._shape is not None and None not in params._shape
           else shape(params, out_type=indices.dtype))
    return [scatter_nd(indices, grad, shp), None]


register_op("GatherNd", infer=_gather_nd_infer, grad=_gather_nd_grad,
            kernel=_gather_nd_kernel,
            doc="Slices of params at the index vectors in the last axis of indices.")


def gather_nd(params, indices, name: str | None = None) -> Tensor:
    """out[i...] = params[indices[i..., :]]: shape indices[:-1] + params[indices[-1]:]."""
    return out1("GatherNd", [convert_to_tensor(params), convert_to_tensor(indices)], None,
                name or "GatherNd")


def _scatter_nd_infer(op):
    indices, updates, shp = op.inputs
    _check_int(indices, "scatter_nd indices")
    _check_int(shp, "scatter_nd shape")
    dims = partial_value(shp)
    out = None if dims is None else tuple(dims)
    if out is not None and indices._shape is not None and updates._shape is not None \
            and indices._shape and indices._shape[-1] is not None:
        want = indices._shape[:-1] + out[indices._shape[-1]:]
        if len(want) != len(updates._shape) or not all(
                _compatible(a, b) for a, b in zip(want, updates._shape)):
            raise ValueError(f"scatter_nd: updates shape {_shape_str(updates._shape)} does "
                             f"not match indices shape {_shape_str(indices._shape)} and "
                             f"output shape {_shape_str(out)} (expected {_shape_str(want)})")
    return [(updates.dtype, out)]


def _scatter_nd_kernel(op, ctx):
    xp = ctx.xp
    dt = op.outputs[0].dtype.np

    def scatter_nd_(indices, updates, shp):
        out = xp.zeros(tuple(int(d) for d in shp), dtype=dt)
        xp.add.at(out, _nd_index(indices, xp), updates)
        return out
    return scatter_nd_


def _scatter_nd_grad(op, grad):
    """Returns (None, gather_nd(grad, indices), None)."""
    return [None, gather_nd(grad, op.inputs[0]), None]


register_op("ScatterNd", infer=_scatter_nd_infer, grad=_scatter_nd_grad,
            kernel=_scatter_nd_kernel,
            doc="Zeros of shape with updates added at indices (GatherNd's gradient).")


def scatter_nd(indices, updates, shape, name: str | None = None) -> Tensor:
    """Zeros of `shape` with `updates` added at `indices` (duplicates sum)."""
    return out1("ScatterNd", [convert_to_tensor(indices), convert_to_tensor(updates),
                              _int_vector(shape)], None, name or "ScatterNd")


__all__ += ["gather_nd", "scatter_nd"]


# -- boolean_mask (where + gather) ---------------------------------------------------------
def boolean_mask(tensor, mask, name: str = "boolean_mask", axis=None) -> Tensor:
    """The elements (rows) of `tensor` where `mask` is true; a mask of rank k covers the
    first k dimensions (from `axis` when given), which collapse into one.

    Raises:
        ValueError: the mask's rank is unknown or its shape does not match `tensor`.
    """
    from .math import where
    t, m = convert_to_tensor(tensor), convert_to_tensor(mask)
    if not m.dtype.is_bool:
        raise TypeError(f"boolean_mask: mask must be a bool tensor, got {m.dtype.name} "
                        f"({m.name})")
    ax = 0 if axis is None else _int_arg(axis, "boolean_mask axis")
    if m._shape is None:
        raise ValueError(f"boolean_mask: the rank of mask {m.name} must be known")
    k = len(m._shape)
    if k == 0:
        raise ValueError("boolean_mask: mask cannot be a scalar")
    ts = t._shape
    if ts is not None:
        seg = ts[ax:ax + k]
        if len(seg) != k or not all(_compatible(a, b) for a, b in zip(seg, m._shape)):
            raise ValueError(f"boolean_mask: mask shape {_shape_str(m._shape)} does not match "
                             f"dimensions {ax}..{ax + k - 1} of tensor shape {_shape_str(ts)}")
    with t.graph.name_scope(name):
        if ts is not None and None not in ts[:ax] + ts[ax + k:]:
            flat_shape = list(ts[:ax]) + [-1] + list(ts[ax + k:])
        else:
            s = shape(t)
            flat_shape = concat([s[:ax], [-1], s[ax + k:]], 0)
        flat = reshape(t, flat_shape)
        idx = squeeze(where(reshape(m, [-1])), axis=[1])
        return gather(flat, idx, axis=ax)


__all__ += ["boolean_mask"]


# -- ReverseV2 -----------------------------------------------------------------------------
def _reverse_infer(op):
    x = op.inputs[0]
    if x._shape is not None:
        axes = [static_axis(a, len(x._shape)) for a in op.attrs["axis"]]
        if len(set(axes)) != len(axes):
            raise ValueError(f"reverse: axis {op.attrs['axis']} names a dimension twice "
                             f"(shape {_shape_str(x._shape)})")
    return [(x.dtype, x._shape)]


def _reverse_kernel(op, ctx):
    xp, axes = ctx.xp, tuple(op.attrs["axis"])

    def reverse_(x):
        return xp.flip(x, axis=axes)
    return reverse_


register_op("ReverseV2", infer=_reverse_infer,
            grad=lambda op, g: [reverse(g, op.attrs["axis"])],
            kernel=_reverse_kernel, aliases_input=True,
            doc="Reverses the order of elements along the axes in attr axis.")


def reverse(tensor, axis, name: str | None = None) -> Tensor:
    """`tensor` with the element order reversed along each axis in `axis` (a list)."""
    return out1("ReverseV2", [convert_to_tensor(tensor)],
                {"axis": _int_list_arg(axis, "reverse axis")}, name or "ReverseV2")


reverse_v2 = reverse
__all__ += ["reverse", "reverse_v2"]


# -- ShapeN / BroadcastTo ------------------------------------------------------------------
def _shape_n_kernel(op, ctx):
    dt = op.attrs["out_type"].np

    def shape_n(*xs):
        return tuple(np.array(np.shape(x), dtype=dt) for x in xs)
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
        out = xp.empty(tuple(int(d) for d in s), dtype=x.dtype)
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


# -- sequence_mask, eye, matrix_transpose, diag, diag_part (compositions) ------------------
def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name: str | None = None) -> Tensor:
    """mask[..., j] = j < lengths[...]: shape lengths.shape + [maxlen], maxlen defaulting to
    max(lengths); cast to `dtype` (bool by default).

    Raises:
        TypeError: `lengths` or `maxlen` is not an integer tensor.
    """
    from .constant import range as range_
    from .math import cast, less, reduce_max
    with name_scope(name, "SequenceMask", [lengths, maxlen]):
        lengths = convert_to_tensor(lengths, name="lengths")
        _check_int(lengths, "sequence_mask lengths")
        if maxlen is None:
            maxlen = reduce_max(lengths)
        else:
            maxlen = convert_to_tensor(maxlen, dtype=lengths.dtype, name="maxlen")
            _check_int(maxlen, "sequence_mask maxlen")
        columns = range_(0, maxlen, 1, dtype=lengths.dtype)
        mask = less(columns, expand_dims(lengths, -1))
        dtype = dtypes.as_dtype(dtype)
        return mask if dtype == dtypes.bool else cast(mask, dtype)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32,
        name: str | None = None) -> Tensor:
    """The identity matrix [num_rows, num_columns] (square by default), tiled over
    `batch_shape`; static sizes give a constant, tensor sizes a computed matrix."""
    from .constant import constant
    from .constant import range as range_
    from .math import cast, equal
    dtype = dtypes.as_dtype(dtype)
    cols = num_rows if num_columns is None else num_columns
    with name_scope(name, "eye", [num_rows, num_columns, batch_shape]):
        if not _is_tensor_like(num_rows) and not _is_tensor_like(cols):
            m = np.eye(_int_arg(num_rows, "eye num_rows"), _int_arg(cols, "eye num_columns"),
                       dtype=dtype.np)
            if batch_shape is not None and not _is_tensor_like(batch_shape):
                bs = _int_list_arg(batch_shape, "eye batch_shape")
                return constant(np.broadcast_to(m, bs + list(m.shape)).copy())
            result = constant(m)
        else:
            rows = range_(0, num_rows, 1, dtype=dtypes.int32)
            result = cast(equal(expand_dims(rows, 1), range_(0, cols, 1, dtype=dtypes.int32)),
                          dtype)
        if batch_shape is None:
            return result
        bs = _int_vector(batch_shape)
        return broadcast_to(result, concat([bs, shape(result)], 0))


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


def _eye_like(t: Tensor, rows_axis: int) -> Tensor:
    """An identity matrix as wide and high as dimensions rows_axis, rows_axis + 1 of t."""
    s = t._shape
    if s is not None and s[rows_axis] is not None and s[rows_axis + 1] is not None:
        return eye(s[rows_axis], s[rows_axis + 1], dtype=t.dtype)
    dims = shape(t)
    return eye(dims[rows_axis], dims[rows_axis + 1], dtype=t.dtype)


def diag(diagonal, name: str | None = None) -> Tensor:
    """The square matrix with vector `diagonal` on its diagonal and zeros elsewhere.

    Raises:
        ValueError: `diagonal` is not a vector.
    """
    with name_scope(name, "Diag", [diagonal]):
        d = convert_to_tensor(diagonal, name="diagonal")
        if d._shape is not None and len(d._shape) != 1:
            raise ValueError(f"diag: {d.name} must be a vector here, has shape "
                             f"{_shape_str(d._shape)}")
        n = d._shape[0] if d._shape is not None and d._shape[0] is not None else shape(d)[0]
        return expand_dims(d, 1) * eye(n, dtype=d.dtype)


def diag_part(input, name: str | None = None) -> Tensor:  # noqa: A002 - TF's argument name
    """The main diagonal of a square matrix, or of each matrix of a batch (the last two
    dimensions), as TF's diag_part / matrix_diag_part of square matrices.

    Raises:
        ValueError: `input` has unknown rank, rank below 2, or known unequal last dimensions.
    """
    from .math import reduce_sum
    with name_scope(name, "DiagPart", [input]):
        x = convert_to_tensor(input, name="input")
        s = x._shape
        if s is None or len(s) < 2 or not _compatible(s[-1], s[-2]):
            raise ValueError(f"diag_part: {x.name} must be a (batch of) square matrices, has "
                             f"shape {_shape_str(s)}")
        return reduce_sum(x * _eye_like(x, len(s) - 2), axis=-1)


matrix_diag_part = diag_part


__all__ += ["sequence_mask", "eye", "matrix_transpose", "diag", "diag_part",
            "matrix_diag_part"]
