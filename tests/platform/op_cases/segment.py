"""Cases for the segment reductions and unique (ops/segment.py), and the segment_sum /
segment_mean compositions over UnsortedSegmentSum."""
import numpy as np

import actorflow as tf

from . import OpCase

I32 = np.int32


def _distinct(*shape, seed=0):
    """Values with no ties (max/min gradients are ambiguous at ties)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.37 - n * 0.15).reshape(shape)


def _np_segment(ufunc, fill, n=None):
    """out[s] = ufunc-reduction of data rows with id s (negative ids dropped); empty: fill."""
    def ref(data, ids, *num):
        count = n if n is not None else (int(num[0]) if num else int(ids.max()) + 1)
        out = np.full((count,) + data.shape[ids.ndim:], np.nan)
        for idx in np.ndindex(ids.shape):
            s = ids[idx]
            if s < 0:
                continue
            out[s] = data[idx] if np.isnan(out[s]).all() else ufunc(out[s], data[idx])
        return np.where(np.isnan(out), fill, out).astype(data.dtype)
    return ref


def _np_unique(x):
    y, first, inv = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.argsort(order)
    return [y[order], rank[inv].astype(np.int32)]


_IDS = np.array([0, 0, 2, 2, 2, 3], I32)
_LOWEST = np.finfo(np.float64).min

CASES = [
    OpCase("UnsortedSegmentSum", tf.segment_sum, [_distinct(6, 2), _IDS], name="segment_sum",
           reference=_np_segment(np.add, 0.0)),
    OpCase("UnsortedSegmentSum", tf.segment_mean, [_distinct(6, 2), _IDS], name="segment_mean",
           reference=lambda d, i: _np_segment(np.add, 0.0)(d, i)
           / np.maximum(np.bincount(i), 1)[:, None]),
    OpCase("SegmentMax", tf.segment_max, [_distinct(6, 2), _IDS],
           reference=_np_segment(np.maximum, 0.0)),
    OpCase("SegmentMin", tf.segment_min, [_distinct(6, 2), _IDS],
           reference=_np_segment(np.minimum, 0.0)),
    OpCase("SegmentMax", tf.segment_max, [np.array([[1.0, 2.0], [1.0, 0.0], [3.0, 2.0]]),
                                          np.array([0, 0, 1], I32)],
           reference=lambda d, i: np.array([[1.0, 2.0], [3.0, 2.0]]), name="ties"),
    OpCase("SegmentMin", tf.segment_min, [np.array([5, 1, 4], I32), np.array([1, 1, 3], I32)],
           reference=lambda d, i: np.array([0, 1, 0, 4], I32), grad=False, name="int"),
    OpCase("UnsortedSegmentMax", lambda d, i: tf.unsorted_segment_max(d, i, 3),
           [_distinct(5, 2), np.array([2, 0, -1, 2, 1], I32)],
           reference=_np_segment(np.maximum, _LOWEST, 3)),
    OpCase("UnsortedSegmentMin", lambda d, i: tf.unsorted_segment_min(d, i, 2),
           [_distinct(2, 3), np.array([[1, 0, 1], [0, -1, 1]], I32)],
           reference=_np_segment(np.minimum, -_LOWEST, 2)),
    OpCase("UnsortedSegmentMax", lambda d, i: tf.unsorted_segment_max(d, i, 4),
           [_distinct(3), np.array([0, 3, 0], I32)], grad=False, name="empty-segments",
           reference=_np_segment(np.maximum, _LOWEST, 4)),
    OpCase("Unique", lambda x: list(tf.unique(x)), [np.array([4, 1, 4, 7, 1, 1, 0], I32)],
           reference=_np_unique, grad=False),
    OpCase("Unique", lambda x: list(tf.unique(x, out_idx=tf.int64)),
           [np.array([0.5, -1.0, 0.5])], grad=False, name="float-int64",
           reference=lambda x: [np.array([0.5, -1.0]), np.array([0, 1, 0], np.int64)]),
]
