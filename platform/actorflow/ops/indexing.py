"""Array ops that select or place elements by index.

Registers GatherV2, UnsortedSegmentSum, OneHot, GatherNd and ScatterNd, with compositions of
existing ops: `boolean_mask` (where + gather), `sequence_mask`, `eye`, `diag` and `diag_part`.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes
from ..framework.graph import (Tensor, _shape_str, constant_value, convert_to_tensor, name_scope,
                               register_tensor_conversion_function)
from ..framework.indexed_slices import LARGE_SPARSE_NUM_ELEMENTS, IndexedSlices
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import host_ints, out1, static_axis, ufunc_at
from .array import (_check_int, _compatible, _dim, _int_arg, _int_list_arg, _int_vector,
                    _is_tensor_like, _scalar_value, broadcast_to, expand_dims, partial_value,
                    reshape, shape, squeeze, transpose)
from .joining import concat

__all__: list[str] = []


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
    """Returns IndexedSlices(grad as [size(indices)] + params.shape[1:] rows, flat indices,
    shape(params)) along axis 0; elsewhere unsorted_segment_sum(grad, indices,
    params.shape[axis]) moved to axis."""
    params, indices = op.inputs
    axis = op.attrs["axis"]
    if axis == 0:
        return [_gather_rows_grad(params, indices, grad), None]
    n = _dim(params, axis, indices.dtype)
    if params._shape is None or indices._shape is None:
        raise ValueError(f"gather gradient along axis {axis} needs the ranks of "
                         f"{params.name} and {indices.name} to be known")
    ni, rp = len(indices._shape), len(params._shape)
    lead = list(range(axis, axis + ni))
    g = transpose(grad, lead + list(range(axis)) + list(range(axis + ni, ni + rp - 1)))
    summed = unsorted_segment_sum(g, indices, n)
    back = list(range(1, axis + 1)) + [0] + list(range(axis + 1, rp))
    return [transpose(summed, back), None]


def _gather_rows_grad(params: Tensor, indices: Tensor, grad):
    """The sparse gradient of gather(params, indices) along axis 0: one row of `grad` per
    index (TF's _GatherV2Grad), so an optimizer updates only the gathered rows."""
    grad = convert_to_tensor(grad)
    flat = reshape(indices, [-1])
    tail = None if params._shape is None else params._shape[1:]
    if tail is not None and None not in tail:
        values = reshape(grad, [-1] + list(tail))
    else:
        values = reshape(grad, concat([[-1], shape(params, out_type=dtypes.int32)[1:]], 0))
    return IndexedSlices(values, flat, shape(params, out_type=dtypes.int32))


def as_dense(value: IndexedSlices, dtype=None, name: str | None = None) -> Tensor:
    """The dense tensor an `IndexedSlices` stands for: ``unsorted_segment_sum(values,
    indices, dense_shape[0])``.

    Warns (UserWarning) when the dense tensor has at least `LARGE_SPARSE_NUM_ELEMENTS`
    elements, or when its shape is not known at graph construction, as TF 1.x does.

    Raises:
        ValueError: a `dtype` other than the values', or no `dense_shape`.
    """
    if dtype is not None and dtypes.as_dtype(dtype) != value.dtype:
        raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} for "
                         f"IndexedSlices with dtype {value.dtype.name}: {value}")
    if value.dense_shape is None:
        raise ValueError(f"Tensor conversion requested for IndexedSlices without dense_shape: "
                         f"{value}")
    shape = constant_value(value.dense_shape)
    if shape is not None:
        n = int(np.prod(shape, dtype=np.int64))
        if n >= LARGE_SPARSE_NUM_ELEMENTS:
            warnings.warn(f"Converting sparse IndexedSlices to a dense Tensor with {n} "
                          "elements. This may consume a large amount of memory.", stacklevel=3)
        rows = convert_to_tensor(int(np.ravel(shape)[0]), dtype=value.indices.dtype)
    else:
        warnings.warn("Converting sparse IndexedSlices to a dense Tensor of unknown shape. "
                      "This may consume a large amount of memory.", stacklevel=3)
        from .math import cast
        rows = cast(value.dense_shape[0], value.indices.dtype)
    return unsorted_segment_sum(value.values, value.indices, rows, name=name)


register_tensor_conversion_function(
    IndexedSlices, lambda value, dtype=None, name=None, as_ref=False: as_dense(value, dtype, name))


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
    return [(data.dtype, segment_output_shape("unsorted_segment_sum", data, ids,
                                              _scalar_value(n)))]


def segment_output_shape(what: str, data: Tensor, ids: Tensor, n: int | None):
    """The static shape [n] + data.shape[rank(ids):] of a segment reduction (None when a rank
    is unknown); ValueError when the ids' shape is not a prefix of the data's."""
    if data._shape is None or ids._shape is None:
        return None
    k = len(ids._shape)
    if len(data._shape) < k or not all(_compatible(a, b)
                                       for a, b in zip(data._shape, ids._shape)):
        raise ValueError(f"{what}: segment_ids shape {_shape_str(ids._shape)} is not a "
                         f"prefix of data shape {_shape_str(data._shape)}")
    return (n,) + data._shape[k:]


def _segment_sum_kernel(op, ctx):
    xp = ctx.xp
    dt = op.outputs[0].dtype.np

    def unsorted_segment_sum_(data, ids, n):
        out = xp.zeros((int(n),) + data.shape[ids.ndim:], dtype=dt)
        if ids.size and int(ids.min()) < 0:  # negative ids are dropped, as in TF
            keep = ids >= 0
            data, ids = data[keep], ids[keep]
        ufunc_at(xp, "add", out, ids, data)
        return out
    return unsorted_segment_sum_


def _segment_sum_grad(op, grad):
    """Returns gather(grad, segment_ids), zero where a segment id is negative."""
    from .logic import greater_equal
    from .math import cast, maximum, multiply
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
        out = xp.zeros(host_ints(shp), dtype=dt)
        ufunc_at(xp, "add", out, _nd_index(indices, xp), updates)
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
    from .logic import where
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


# -- sequence_mask, eye, diag, diag_part (compositions) ------------------------------------
def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name: str | None = None) -> Tensor:
    """mask[..., j] = j < lengths[...]: shape lengths.shape + [maxlen], maxlen defaulting to
    max(lengths); cast to `dtype` (bool by default).

    Raises:
        TypeError: `lengths` or `maxlen` is not an integer tensor.
    """
    from .constant import range as range_
    from .logic import less
    from .math import cast
    from .reduction import reduce_max
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
    from .logic import equal
    from .math import cast
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
    from .reduction import reduce_sum
    with name_scope(name, "DiagPart", [input]):
        x = convert_to_tensor(input, name="input")
        s = x._shape
        if s is None or len(s) < 2 or not _compatible(s[-1], s[-2]):
            raise ValueError(f"diag_part: {x.name} must be a (batch of) square matrices, has "
                             f"shape {_shape_str(s)}")
        return reduce_sum(x * _eye_like(x, len(s) - 2), axis=-1)


matrix_diag_part = diag_part


__all__ += ["sequence_mask", "eye", "diag", "diag_part", "matrix_diag_part"]
