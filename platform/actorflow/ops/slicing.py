"""Array ops that cut tensors into pieces: splits, slices, strided slices and reversal.

Registers Split, SplitV, StridedSlice, StridedSliceGrad, Slice and ReverseV2, and installs
`Tensor.__getitem__` (Python indexing builds a StridedSlice).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, _shape_str, constant_value, convert_to_tensor
from ..framework.registry import register_op
from ._common import host, host_ints, out1, static_axis
from .array import (_check_int, _compatible, _int_arg, _int_list_arg, _int_vector,
                    _is_tensor_like, partial_value, shape)
from .joining import concat, pad, stack

__all__: list[str] = []


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
    sizes = list(host_ints(sizes))
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
        return x[_strided_index(host(b), host(e), host(s), m)]
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
        out = xp.zeros(host_ints(shp), dtype=dt)
        out[idx if idx is not None else _strided_index(host(b), host(e), host(s), m)] = dy
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
        return v[_slice_index(host(b), host(s), v.shape)]
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
