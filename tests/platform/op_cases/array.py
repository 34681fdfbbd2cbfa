"""Cases for the array family: transposes, joins, splits, slices, gathers, pads, one-hots."""
import numpy as np

import actorflow as tf

from . import OpCase, randn

I32 = np.int32


def _np_one_hot(ind, depth, on=1.0, off=0.0, axis=-1, dtype=np.float64):
    eq = np.expand_dims(ind, -1) == np.arange(depth)
    out = np.where(eq, on, off).astype(dtype)
    return out if axis == -1 else np.moveaxis(out, -1, axis)


def _np_segment_sum(data, ids, n):
    out = np.zeros((n,) + data.shape[ids.ndim:], data.dtype)
    keep = ids >= 0
    np.add.at(out, ids[keep], data[keep])
    return out


def _ssg(dy):
    from actorflow.ops._common import out1
    masks = {"begin_mask": 0, "end_mask": 2, "ellipsis_mask": 0, "new_axis_mask": 0,
             "shrink_axis_mask": 0}
    return out1("StridedSliceGrad", [tf.constant([3, 4]), tf.constant([1, 0]),
                                     tf.constant([3, 0]), tf.constant([1, 2]), dy], masks)


def _np_ssg(dy):
    out = np.zeros((3, 4))
    out[1:3, ::2] = dy
    return out


def _mpg(g, mode):
    from actorflow.ops._common import out1
    return out1("MirrorPadGrad", [g, tf.constant([[2, 1], [1, 2]])], {"mode": mode})


def _np_mpg(g, mode):
    """Adjoint of np.pad(mode) on a (3, 3) input, by brute force over a basis."""
    out = np.zeros((3, 3))
    for k in range(9):
        e = np.zeros(9)
        e[k] = 1.0
        out.flat[k] = np.sum(np.pad(e.reshape(3, 3), [[2, 1], [1, 2]], mode=mode) * g)
    return out


def _np_scatter_nd(i, u, shape):
    out = np.zeros(shape, u.dtype)
    np.add.at(out, tuple(np.moveaxis(i, -1, 0)), u)
    return out


CASES = [
    # Transpose / ExpandDims / Squeeze
    OpCase("Transpose", tf.transpose, [randn(2, 3)], reference=np.transpose),
    OpCase("Transpose", lambda x: tf.transpose(x, [1, 2, 0]), [randn(2, 3, 4)],
           reference=lambda x: np.transpose(x, (1, 2, 0)), name="perm"),
    OpCase("ExpandDims", lambda x: tf.expand_dims(x, -1), [randn(2, 3)],
           reference=lambda x: x[..., None]),
    OpCase("ExpandDims", lambda x: tf.expand_dims(x, dim=0), [randn(3)],
           reference=lambda x: x[None], name="dim"),
    OpCase("Squeeze", tf.squeeze, [randn(1, 3, 1)], reference=np.squeeze),
    OpCase("Squeeze", lambda x: tf.squeeze(x, squeeze_dims=[2]), [randn(1, 3, 1)],
           reference=lambda x: x[:, :, 0], name="dims"),
    # ConcatV2 / Split / SplitV
    OpCase("ConcatV2", lambda a, b: tf.concat([a, b], 1), [randn(2, 3), randn(2, 2, seed=1)],
           reference=lambda a, b: np.concatenate([a, b], 1)),
    OpCase("ConcatV2", lambda a, b, c: tf.concat([a, b, c], -2),
           [randn(1, 3), randn(2, 3, seed=1), randn(1, 3, seed=2)],
           reference=lambda a, b, c: np.concatenate([a, b, c], 0), name="three"),
    OpCase("ConcatV2", lambda a, b: tf.concat([a, tf.placeholder_with_default(b, [None, 2])],
                                              1),
           [randn(2, 3), randn(2, 2, seed=1)], reference=lambda a, b: np.concatenate([a, b], 1),
           name="dynamic"),
    OpCase("Split", lambda x: tf.split(x, 3, axis=1), [randn(2, 6)],
           reference=lambda x: np.split(x, 3, 1)),
    OpCase("SplitV", lambda x: tf.split(x, [1, -1, 2], 0), [randn(5, 2)],
           reference=lambda x: np.split(x, [1, 3], 0)),
    # Tile
    OpCase("Tile", lambda x: tf.tile(x, [2, 1, 3]), [randn(2, 1, 2)],
           reference=lambda x: np.tile(x, (2, 1, 3))),
    OpCase("Tile", lambda x, y: tf.tile(x, [tf.shape(y)[0], 2]), [randn(2, 3), randn(3)],
           reference=lambda x, y: np.tile(x, (3, 2)), grad_inputs=(0,), name="dynamic"),
    # GatherV2 / UnsortedSegmentSum
    OpCase("GatherV2", lambda p, i: tf.gather(p, i),
           [randn(4, 3), np.array([[3, 0], [3, 1]], I32)],
           reference=lambda p, i: p[i]),
    OpCase("GatherV2", lambda p, i: tf.gather(p, i, axis=1),
           [randn(2, 4, 3), np.array([[3, 0, 3]], I32)],
           reference=lambda p, i: np.take(p, i, axis=1), name="axis1"),
    OpCase("UnsortedSegmentSum", lambda d, i: tf.unsorted_segment_sum(d, i, 4),
           [randn(5, 2), np.array([0, 3, -1, 0, 2], I32)],
           reference=lambda d, i: _np_segment_sum(d, i, 4)),
    OpCase("UnsortedSegmentSum", lambda d, i: tf.unsorted_segment_sum(d, i, 3),
           [randn(2, 2, 3), np.array([[0, 2], [2, 2]], I32)],
           reference=lambda d, i: _np_segment_sum(d, i, 3), name="rank2ids"),
    # OneHot
    OpCase("OneHot", lambda i: tf.one_hot(i, 4), [np.array([0, 3, -1, 7], I32)],
           reference=lambda i: _np_one_hot(i, 4, dtype=np.float32), grad=False),
    OpCase("OneHot", lambda i: tf.one_hot(i, 3, on_value=5.0, off_value=-1.0, axis=0,
                                          dtype=tf.float64),
           [np.array([[0, 2], [1, 1]], I32)],
           reference=lambda i: _np_one_hot(i, 3, 5.0, -1.0, 0), grad=False, name="axis0"),
    # StridedSlice / StridedSliceGrad
    OpCase("StridedSlice", lambda x: x[1:, ::-2, 0], [randn(3, 4, 2)],
           reference=lambda x: x[1:, ::-2, 0]),
    OpCase("StridedSlice", lambda x: x[..., tf.newaxis, -1], [randn(2, 3)],
           reference=lambda x: x[..., None, -1], name="ellipsis-newaxis"),
    OpCase("StridedSlice", lambda x, y: x[tf.shape(y)[0] - 2:, tf.shape(y)[0] - 3],
           [randn(3, 4), randn(3)], reference=lambda x, y: x[1:, 0], grad_inputs=(0,),
           name="tensor-index"),
    OpCase("StridedSlice", lambda x: tf.strided_slice(x, [0, 1], [2, 3], [1, 1],
                                                      begin_mask=1, shrink_axis_mask=0),
           [randn(3, 4)], reference=lambda x: x[:2, 1:3], name="api"),
    OpCase("StridedSliceGrad", lambda dy: _ssg(dy), [randn(2, 2)], reference=_np_ssg),
    # Slice
    OpCase("Slice", lambda x: tf.slice(x, [1, 0, 1], [2, -1, 1]), [randn(3, 2, 3)],
           reference=lambda x: x[1:3, :, 1:2]),
    OpCase("Slice", lambda x, y: tf.slice(x, [tf.shape(y)[0] - 2, 1], [-1, 2]),
           [randn(3, 4), randn(3)], reference=lambda x, y: x[1:, 1:3], grad_inputs=(0,),
           name="dynamic"),
    # PadV2 / MirrorPad / MirrorPadGrad
    OpCase("PadV2", lambda x: tf.pad(x, [[1, 0], [2, 1]], constant_values=0.5),
           [randn(2, 3)], reference=lambda x: np.pad(x, [[1, 0], [2, 1]],
                                                     constant_values=0.5)),
    OpCase("PadV2", lambda x, c: tf.pad(x, [[0, 2]], constant_values=c),
           [randn(3), np.float64(0.7)], reference=lambda x, c: np.pad(x, [[0, 2]],
                                                                     constant_values=c),
           name="tensor-value"),
    OpCase("MirrorPad", lambda x: tf.pad(x, [[2, 1], [1, 2]], "REFLECT"), [randn(3, 4)],
           reference=lambda x: np.pad(x, [[2, 1], [1, 2]], mode="reflect")),
    OpCase("MirrorPad", lambda x: tf.pad(x, [[3, 1], [0, 2]], "symmetric"), [randn(3, 2)],
           reference=lambda x: np.pad(x, [[3, 1], [0, 2]], mode="symmetric"),
           name="symmetric"),
    OpCase("MirrorPadGrad", lambda g: _mpg(g, "REFLECT"), [randn(6, 6)],
           reference=lambda g: _np_mpg(g, "reflect")),
    OpCase("MirrorPadGrad", lambda g: _mpg(g, "SYMMETRIC"), [randn(6, 6)],
           reference=lambda g: _np_mpg(g, "symmetric"), name="symmetric"),
    # GatherNd / ScatterNd
    OpCase("GatherNd", tf.gather_nd, [randn(3, 4, 2), np.array([[0, 1], [2, 3], [0, 1]], I32)],
           reference=lambda p, i: p[i[:, 0], i[:, 1]]),
    OpCase("GatherNd", tf.gather_nd, [randn(3, 2), np.array([[[2]], [[0]]], I32)],
           reference=lambda p, i: p[i[..., 0]], name="rows"),
    OpCase("ScatterNd", lambda i, u: tf.scatter_nd(i, u, [3, 2]),
           [np.array([[0, 1], [2, 0], [0, 1]], I32), randn(3)],
           reference=lambda i, u: _np_scatter_nd(i, u, (3, 2))),
    # boolean_mask (where + gather)
    OpCase("GatherV2", lambda x, m: tf.boolean_mask(x, m),
           [randn(3, 2, 2), np.array([[True, False], [True, True], [False, False]])],
           reference=lambda x, m: x[m], name="boolean_mask"),
    OpCase("GatherV2", lambda x, m: tf.boolean_mask(x, m, axis=1),
           [randn(2, 3), np.array([False, True, True])],
           reference=lambda x, m: x[:, m], name="boolean_mask-axis1"),
    # ReverseV2 / ShapeN / BroadcastTo
    OpCase("ReverseV2", lambda x: tf.reverse(x, [0, -1]), [randn(2, 3, 2)],
           reference=lambda x: x[::-1, :, ::-1]),
    OpCase("ShapeN", lambda a, b: tf.shape_n([a, b]), [randn(2, 3), randn(4)],
           reference=lambda a, b: [np.array([2, 3], I32), np.array([4], I32)], grad=False),
    OpCase("BroadcastTo", lambda x: tf.broadcast_to(x, [2, 3, 2]), [randn(3, 1)],
           reference=lambda x: np.broadcast_to(x, (2, 3, 2))),

    OpCase("BroadcastTo", lambda x, y: tf.meshgrid(x, y), [randn(3), randn(2, seed=1)],
           reference=lambda x, y: np.meshgrid(x, y), name="meshgrid"),
    OpCase("BroadcastTo", lambda x, y, z: tf.meshgrid(x, y, z, indexing="ij"),
           [randn(2), randn(3, seed=1), randn(2, seed=2)], name="meshgrid-ij",
           reference=lambda x, y, z: np.meshgrid(x, y, z, indexing="ij")),
]
