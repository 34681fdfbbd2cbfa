"""Lookup and selection by index or rank (part of `tf.nn`): embedding_lookup, in_top_k and
top_k.

Registers: EmbeddingShardIds (the row of each id in the concatenation of its shards), InTopK,
TopKV2, TopKGrad. `embedding_lookup` itself gathers rows with the array ops: from each shard
its own ids' rows (TF's dynamic_partition, gathers and dynamic_stitch, here a boolean mask per
shard and an unsorted_segment_sum that puts the rows back in order), so that every shard's
gradient is an IndexedSlices of its looked-up rows.
"""
from __future__ import annotations

import collections

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, constant_value, convert_to_tensor, make_op
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import host_ints, out1
from .math import multiply, square
from .reduction import reduce_sum
from .nn import _merge_shapes

__all__ = ["embedding_lookup", "in_top_k", "top_k"]


# -- embedding_lookup ----------------------------------------------------------------------
def _shard_ids_infer(op):
    ids = op.inputs[0]
    if not ids.dtype.is_integer:
        raise TypeError(f"ids must be int32 or int64, got {ids.dtype.name}")
    return [(ids.dtype, ids._shape)]


def _shard_ids_kernel(op, ctx):
    xp = ctx.xp
    sizes = op.attrs["sizes"]
    n = len(sizes)
    dt = op.outputs[0].dtype.np
    sizes_arr = xp.asarray(sizes, dtype=dt)
    offsets = xp.asarray(np.concatenate([[0], np.cumsum(sizes)[:-1]]), dtype=dt)
    total = int(sum(sizes))

    if op.attrs.get("strategy", "mod") == "div":  # shards hold consecutive ranges of ids
        def embedding_shard_ids_div(ids):
            bad = (ids < 0) | (ids >= total)
            if bad.any():
                raise errors.InvalidArgumentError(
                    None, op, f"{op.type} op '{op.name}': id {int(ids[bad].ravel()[0])} is not "
                    f"in any of the {n} 'div' shards of sizes {sizes}")
            return ids
        return embedding_shard_ids_div

    def embedding_shard_ids(ids):
        shard = ids % n
        local = ids // n
        bad = (ids < 0) | (local >= sizes_arr[shard])
        if bad.any():
            raise errors.InvalidArgumentError(
                None, op, f"{op.type} op '{op.name}': id {int(ids[bad].ravel()[0])} is not in "
                f"any of the {n} 'mod' shards of sizes {sizes}")
        local += offsets[shard]
        return local
    return embedding_shard_ids


register_op("EmbeddingShardIds", infer=_shard_ids_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_shard_ids_kernel,
            doc="Row of each id in the concatenation of its shards, checked: 'mod' (attr "
                "strategy, the default) offset[id % n] + id // n, 'div' the id itself.")


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None) -> Tensor:
    """Rows of `params` for each id: ``gather(params, ids)``, shape ids.shape + row shape.

    Args:
        params: a tensor (or variable), or a list of shards of one table. With shards,
            'mod' puts id i in shard i % n at row i // n; 'div' gives each shard a
            contiguous range of ids, in order (the shards' row counts must be static).
        max_norm: rows whose L2 norm exceeds it are scaled down to it.

    The gradient w.r.t. params is an `IndexedSlices` (the incoming rows and their ids), so
    optimizers update only the looked-up rows; with several shards (concatenated, then
    gathered) each shard's gradient is dense.

    Raises:
        ValueError: an empty `params` list, shards with unknown row counts, or an unknown
            partition strategy.
    """
    from .indexing import gather
    shards = list(params) if isinstance(params, (list, tuple)) else [params]
    if not shards:
        raise ValueError("embedding_lookup: need at least one params tensor")
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    shards = [convert_to_tensor(p, name="params") for p in shards]
    ids = convert_to_tensor(ids, name="ids")
    if len(shards) == 1:
        rows = gather(shards[0], ids, name=None if max_norm is not None else name)
    else:
        sizes = [p._shape[0] if p._shape else None for p in shards]
        if None in sizes:
            raise ValueError(f"embedding_lookup: the shards' row counts must be static, got "
                             f"{sizes}")
        rows = _lookup_shards(shards, ids, [int(s) for s in sizes], partition_strategy,
                              None if max_norm is not None else name)
    if max_norm is None:
        return rows
    return _clip_rows(rows, ids, max_norm, name)


def _lookup_shards(shards: list, ids: Tensor, sizes: list, strategy: str, name) -> Tensor:
    """The rows of `ids` from the shards: each shard gathers its own ids' rows, then an
    unsorted_segment_sum puts every row at its id's position (each position once)."""
    from .array import reshape, shape, size
    from .indexing import boolean_mask, gather, unsorted_segment_sum
    from .joining import concat
    from .logic import greater_equal, less, logical_and
    from .constant import range as range_
    from .math import subtract
    rows_of = out1("EmbeddingShardIds", [ids], {"sizes": sizes, "strategy": strategy},
                   "EmbeddingShardIds")  # the row in the shards' concatenation, checked
    flat = reshape(rows_of, [-1])
    n = size(ids, out_type=ids.dtype)
    positions = range_(n)
    parts, where = [], []
    start = 0
    for shard, rows in zip(shards, sizes):
        mine = logical_and(greater_equal(flat, start), less(flat, start + rows))
        local = subtract(boolean_mask(flat, mine), convert_to_tensor(start, dtype=ids.dtype))
        parts.append(gather(shard, local))
        where.append(boolean_mask(positions, mine))
        start += rows
    stitched = unsorted_segment_sum(concat(parts, 0), concat(where, 0), n)
    row_shape = shards[0]._shape[1:] if shards[0]._shape is not None else None
    if row_shape is None or None in row_shape:
        row_shape = shape(shards[0])[1:]
    return reshape(stitched, concat([shape(ids), row_shape], 0), name=name)


def _clip_rows(rows: Tensor, ids: Tensor, max_norm, name) -> Tensor:
    """`rows` scaled so that each embedding (the axes after ids' axes) has norm <= max_norm."""
    from .math import minimum
    from .unary import rsqrt
    if ids._shape is None or rows._shape is None:
        raise ValueError("embedding_lookup with max_norm needs ids and params of known rank")
    axes = list(range(len(ids._shape), len(rows._shape)))
    sq = reduce_sum(square(rows), axes, keep_dims=True)
    scale = minimum(convert_to_tensor(1.0, dtype=rows.dtype), multiply(rsqrt(sq), max_norm))
    return multiply(rows, scale, name=name or "embedding_lookup")


# -- InTopK / TopKV2 -----------------------------------------------------------------------
def _in_top_k_infer(op):
    p, t = op.inputs
    if not p.dtype.is_floating:
        raise TypeError(f"predictions must be floating point, got {p.dtype.name}")
    if t.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"targets must be int32 or int64, got {t.dtype.name}")
    if p._shape is not None and len(p._shape) != 2:
        raise ValueError(f"predictions must be 2-dimensional, got {list(p._shape)}")
    if t._shape is not None and len(t._shape) != 1:
        raise ValueError(f"targets must be 1-dimensional, got {list(t._shape)}")
    n = _merge_shapes(None if p._shape is None else p._shape[:1], t._shape,
                      "predictions and targets batch size")
    return [(dtypes.bool, n if n is not None else (None,))]


def _in_top_k_kernel(op, ctx):
    xp, k = ctx.xp, int(op.attrs["k"])

    def in_top_k_(p, t):
        c = p.shape[1]
        valid = (t >= 0) & (t < c)
        pt = p[xp.arange(t.size), xp.where(valid, t, 0)]
        larger = (p > pt[:, None]).sum(axis=1)
        valid &= xp.isfinite(pt)
        valid &= larger < k
        return valid
    return in_top_k_


register_op("InTopK", infer=_in_top_k_infer, grad=NOT_DIFFERENTIABLE, kernel=_in_top_k_kernel,
            doc="predictions[i, targets[i]] is among the k largest of row i (ties count in).")


def in_top_k(predictions, targets, k, name=None) -> Tensor:
    """Whether each target's prediction is among the `k` largest of its row (bool, [batch]).

    Ties count in the target's favour; a non-finite prediction or an out-of-range target is
    never in the top k.
    """
    predictions = convert_to_tensor(predictions, name="predictions")
    targets = convert_to_tensor(targets, name="targets")
    return out1("InTopK", [predictions, targets], {"k": int(k)}, name or "InTopK")


def _top_k_infer(op):
    x, k = op.inputs
    if k.dtype != dtypes.int32:
        raise TypeError(f"k must be int32, got {k.dtype.name}")
    kv = constant_value(k)
    if x._shape is not None and not x._shape:
        raise ValueError("input must have rank >= 1, got a scalar")
    if kv is not None:
        kv = int(kv)
        if kv < 0:
            raise ValueError(f"k must be non-negative, got {kv}")
        if x._shape is not None and x._shape[-1] is not None and x._shape[-1] < kv:
            raise ValueError(f"input must have at least k={kv} columns, got {x._shape[-1]}")
    shape = None if x._shape is None else x._shape[:-1] + (kv,)
    return [(x.dtype, shape), (dtypes.int32, shape)]


def _top_k_kernel(op, ctx):
    xp = ctx.xp

    def top_k_(x, k):
        k = int(k)
        if not 0 <= k <= x.shape[-1]:
            raise errors.InvalidArgumentError(
                None, op, f"{op.type} op '{op.name}': input must have at least k={k} "
                f"columns, has {x.shape[-1]}")
        if k == 1:
            idx = xp.argmax(x, axis=-1)[..., None]  # first of equal maxima
        else:  # stable sort of -x: equal values keep their lower index first
            idx = xp.argsort(-x, axis=-1, kind="stable")[..., :k]
        return xp.take_along_axis(x, idx, axis=-1), idx.astype(np.int32)
    return top_k_


def _top_k_grad(op, grad_values, _):
    """Returns grad_values scattered into zeros of the input's shape at the top-k indices."""
    from .array import shape
    g = out1("TopKGrad", [grad_values, op.outputs[1], shape(op.inputs[0])], None, "TopKGrad")
    return [g, None]


def _top_k_grad_infer(op):
    g, idx, s = op.inputs
    cv = constant_value(s)
    if cv is not None:
        return [(g.dtype, tuple(int(d) for d in cv))]
    return [(g.dtype, None if g._shape is None else g._shape[:-1] + (None,))]


def _top_k_grad_kernel(op, ctx):
    xp = ctx.xp

    def top_k_grad(g, idx, shape):
        out = xp.zeros(host_ints(shape), dtype=g.dtype)
        xp.put_along_axis(out, idx, g, axis=-1)
        return out
    return top_k_grad


register_op("TopKV2", infer=_top_k_infer, grad=_top_k_grad, kernel=_top_k_kernel,
            doc="The k largest entries of each last-axis row and their indices, descending.")
register_op("TopKGrad", infer=_top_k_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_top_k_grad_kernel,
            doc="Scatters the top-k values' gradient back to the input's shape.")


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002 - TF's argument names
    """(values, indices) of the `k` largest entries along the last axis, largest first.

    Equal values come out lower index first; `sorted=False` returns the same (sorted) order.
    """
    x = convert_to_tensor(input, name="input")
    k = convert_to_tensor(k, dtype=dtypes.int32, name="k")
    op = make_op("TopKV2", [x, k], {"sorted": bool(sorted)}, name or "TopKV2")
    return TopKV2(op.outputs[0], op.outputs[1])


TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])
