"""Segment reductions and `unique`.

Registers SegmentMax, SegmentMin (sorted segment ids), UnsortedSegmentMax, UnsortedSegmentMin
and Unique. `segment_sum` and `segment_mean` are compositions of UnsortedSegmentSum (ops/
indexing.py), which gives them its gradient; the max/min gradients go to the selected entries
(split evenly among ties), as TensorFlow's.
"""
from __future__ import annotations

import collections

import numpy as np

from .. import dtypes, errors
from ..framework.graph import (Tensor, _shape_str, constant_value, convert_to_tensor, make_op,
                              name_scope)
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import ufunc_at
from .array import _check_int, _scalar_value, expand_dims, reshape, shape
from .indexing import gather, segment_output_shape, unsorted_segment_sum

__all__ = ["segment_sum", "segment_mean", "segment_max", "segment_min",
           "unsorted_segment_max", "unsorted_segment_min", "unique"]


# -- SegmentMax/Min, UnsortedSegmentMax/Min ------------------------------------------------
def _sorted(op) -> bool:
    return op.type.startswith("Segment")


def _segment_reduce_infer(op):
    data, ids = op.inputs[:2]
    _check_int(ids, "segment_ids")
    if not (data.dtype.is_floating or data.dtype.is_integer):
        raise TypeError(f"{op.type}: data must be a real number tensor, got {data.dtype.name}")
    if _sorted(op):
        if ids._shape is not None and len(ids._shape) != 1:
            raise ValueError(f"{op.type}: segment_ids must be a vector, has shape "
                             f"{_shape_str(ids._shape)}")
        cv = constant_value(ids)
        n = (int(cv[-1]) + 1 if cv.size else 0) if cv is not None else None
    else:
        _check_int(op.inputs[2], "num_segments")
        n = _scalar_value(op.inputs[2])
    return [(data.dtype, segment_output_shape(op.type, data, ids, n))]


def _segment_reduce_kernel(op, ctx):
    xp = ctx.xp
    dt = op.outputs[0].dtype.np
    is_max = op.type.endswith("Max")
    ufunc = "maximum" if is_max else "minimum"
    info = np.finfo(dt) if np.issubdtype(dt, np.floating) else np.iinfo(dt)
    fill = info.min if is_max else info.max  # TF: numeric lowest / highest for empty segments

    def reduce_into(data, ids, n):
        out = xp.full((n,) + data.shape[ids.ndim:], fill, dtype=dt)
        ufunc_at(xp, ufunc, out, ids, data)
        return out

    if _sorted(op):
        def segment_reduce(data, ids):
            if ids.size and (int(ids[0]) < 0 or bool((ids[1:] < ids[:-1]).any())):
                raise errors.InvalidArgumentError(
                    None, op, f"{op.type}: segment ids must be non-negative and sorted")
            n = int(ids[-1]) + 1 if ids.size else 0
            out = reduce_into(data, ids, n)
            used = xp.zeros(n, dtype=bool)
            used[ids] = True
            out[~used] = 0  # sorted segment ops give 0 for an empty segment
            return out
        return segment_reduce

    def unsorted_segment_reduce(data, ids, n):
        if ids.size and int(ids.min()) < 0:  # negative ids are dropped, as in TF
            keep = ids >= 0
            data, ids = data[keep], ids[keep]
        return reduce_into(data, ids, int(n))
    return unsorted_segment_reduce


def _segment_reduce_grad(op, grad):
    """d out[s] / d data[i] = 1 / (number of entries equal to out[s]) where data[i] equals
    out[s] for its segment s, else 0."""
    from .constant import zeros_like
    from .logic import equal, greater_equal, logical_and, where
    from .math import cast, divide, maximum
    data, ids = op.inputs[:2]
    if data._shape is None or ids._shape is None:
        raise ValueError(f"{op.type} gradient needs the ranks of {data.name} and {ids.name}")
    out = op.outputs[0]
    zero = convert_to_tensor(0, dtype=ids.dtype)
    safe_ids = maximum(ids, zero)
    selected = equal(data, gather(out, safe_ids))
    valid = greater_equal(ids, zero)
    for _ in range(len(data._shape) - len(ids._shape)):
        valid = expand_dims(valid, -1)
    selected = logical_and(selected, valid)
    n = shape(out, out_type=ids.dtype)[0]
    counts = unsorted_segment_sum(cast(selected, grad.dtype), ids, n)
    one = convert_to_tensor(1, dtype=grad.dtype)
    shared = gather(divide(grad, maximum(counts, one)), safe_ids)
    g = where(selected, shared, zeros_like(data))
    return [g, None] if _sorted(op) else [g, None, None]


for _type, _doc in [("SegmentMax", "The max of each run of equal (sorted) segment ids."),
                    ("SegmentMin", "The min of each run of equal (sorted) segment ids."),
                    ("UnsortedSegmentMax", "The max of data per segment id; empty: lowest."),
                    ("UnsortedSegmentMin", "The min of data per segment id; empty: highest.")]:
    register_op(_type, infer=_segment_reduce_infer, grad=_segment_reduce_grad,
                kernel=_segment_reduce_kernel, doc=_doc)


def _segment_args(data, segment_ids) -> tuple[Tensor, Tensor]:
    return convert_to_tensor(data, name="data"), convert_to_tensor(segment_ids,
                                                                   name="segment_ids")


def _num_sorted_segments(ids: Tensor) -> Tensor:
    """ids[-1] + 1 (0 for no ids) for sorted segment ids, computed in the graph."""
    from .math import add
    from .reduction import reduce_sum
    last = reshape(ids, [-1])[-1:]
    return reduce_sum(add(last, convert_to_tensor(1, dtype=ids.dtype)))


def segment_sum(data, segment_ids, name: str | None = None) -> Tensor:
    """out[i] = sum of data[j] over j with segment_ids[j] == i (ids sorted, a vector)."""
    with name_scope(name, "SegmentSum", [data, segment_ids]):
        d, ids = _segment_args(data, segment_ids)
        return unsorted_segment_sum(d, ids, _num_sorted_segments(ids))


def segment_mean(data, segment_ids, name: str | None = None) -> Tensor:
    """out[i] = the mean of data[j] over j with segment_ids[j] == i; 0 for empty segments."""
    from .constant import ones_like
    from .math import divide, maximum
    with name_scope(name, "SegmentMean", [data, segment_ids]):
        d, ids = _segment_args(data, segment_ids)
        n = _num_sorted_segments(ids)
        total = unsorted_segment_sum(d, ids, n)
        count = unsorted_segment_sum(ones_like(ids, dtype=d.dtype), ids, n)
        count = maximum(count, convert_to_tensor(1, dtype=d.dtype))
        if d._shape is not None:
            count = reshape(count, [-1] + [1] * (len(d._shape) - 1))
        return divide(total, count)


def segment_max(data, segment_ids, name: str | None = None) -> Tensor:
    """out[i] = max of data[j] over j with segment_ids[j] == i (ids sorted); 0 if empty."""
    return make_op("SegmentMax", list(_segment_args(data, segment_ids)), None,
                   name or "SegmentMax").outputs[0]


def segment_min(data, segment_ids, name: str | None = None) -> Tensor:
    """out[i] = min of data[j] over j with segment_ids[j] == i (ids sorted); 0 if empty."""
    return make_op("SegmentMin", list(_segment_args(data, segment_ids)), None,
                   name or "SegmentMin").outputs[0]


def _unsorted(op_type, data, segment_ids, num_segments, name) -> Tensor:
    d, ids = _segment_args(data, segment_ids)
    n = convert_to_tensor(num_segments, dtype=None if isinstance(num_segments, Tensor)
                          else ids.dtype)
    return make_op(op_type, [d, ids, n], None, name or op_type).outputs[0]


def unsorted_segment_max(data, segment_ids, num_segments, name: str | None = None) -> Tensor:
    """out[i] = max of data[j...] over segment_ids[j...] == i; the dtype's lowest if empty."""
    return _unsorted("UnsortedSegmentMax", data, segment_ids, num_segments, name)


def unsorted_segment_min(data, segment_ids, num_segments, name: str | None = None) -> Tensor:
    """out[i] = min of data[j...] over segment_ids[j...] == i; the dtype's highest if empty."""
    return _unsorted("UnsortedSegmentMin", data, segment_ids, num_segments, name)


# -- Unique --------------------------------------------------------------------------------
def _unique_infer(op):
    x = op.inputs[0]
    if x._shape is not None and len(x._shape) != 1:
        raise ValueError(f"unique: x must be a vector, has shape {_shape_str(x._shape)}")
    idx = op.attrs["out_idx"]
    if idx not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"unique: out_idx must be int32 or int64, got {idx.name}")
    return [(x.dtype, (None,)), (idx, x._shape if x._shape is not None else (None,))]


def _unique_kernel(op, ctx):
    xp = ctx.xp
    idx_dt = op.outputs[1].dtype.np

    def unique_(x):
        values, first, inverse = xp.unique(x, return_index=True, return_inverse=True)
        order = xp.argsort(first)  # unique values in order of first occurrence
        rank = xp.empty_like(order)
        rank[order] = xp.arange(order.size)
        return values[order], rank[inverse.reshape(-1)].astype(idx_dt)
    return unique_


register_op("Unique", infer=_unique_infer, grad=NOT_DIFFERENTIABLE, kernel=_unique_kernel,
            doc="The distinct values of a vector in order of first occurrence, and the "
                "index of each entry's value among them.")

UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])


def unique(x, out_idx=dtypes.int32, name: str | None = None):
    """(y, idx): the distinct entries of vector `x` in order of first occurrence, and for
    each entry of x its position in y (x == gather(y, idx))."""
    op = make_op("Unique", [convert_to_tensor(x, name="x")],
                 {"out_idx": dtypes.as_dtype(out_idx)}, name or "Unique")
    return UniqueOutput(op.outputs[0], op.outputs[1])
