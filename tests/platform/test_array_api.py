"""API behaviours of the array family: indexing, split forms, static shapes, errors."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


# -- __getitem__ ---------------------------------------------------------------------------
@pytest.mark.parametrize("key", [
    1, -1, (0, 2), (-1, -2, -3), np.int64(1),
    slice(None), slice(1, None), slice(None, -1), slice(None, None, -1),
    (slice(None), slice(None, None, 2)), (slice(None), slice(2, 0, -1), slice(1, 3)),
    Ellipsis, (Ellipsis, 1), (0, Ellipsis), (1, Ellipsis, slice(None, None, -2)),
    None, (None, 1), (slice(None), None, 2), (Ellipsis, None), (None, Ellipsis, None, 0),
    (), (slice(-100, 100),),
], ids=repr)
def test_getitem_matches_numpy(key):
    c = tf.constant(A)
    t = c[key]
    want = A[key]
    got = run(t)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert t.get_shape().as_list() == list(want.shape)


def test_getitem_scalar_tensor_indices():
    c = tf.constant(A)
    i = tf.placeholder(tf.int32, [])
    j = tf.placeholder(tf.int64, [])
    t = c[i, 1:i + 2, j]
    assert t.get_shape().as_list() == [None]
    np.testing.assert_array_equal(run(t, {i: 1, j: 3}), A[1, 1:3, 3])
    np.testing.assert_array_equal(run(c[:, i], {i: -1}), A[:, -1])


def test_getitem_of_a_scalar_fetches_a_numpy_scalar():
    got = run(tf.constant(A)[1, 2, 3])  # TF returns np.float32, not a 0-d array
    assert isinstance(got, np.float32) and got.shape == () and got == A[1, 2, 3]


def test_getitem_static_shapes_with_unknown_dims():
    x = tf.placeholder(tf.float32, [None, 784])
    assert x[:, :10].get_shape().as_list() == [None, 10]
    assert x[0].get_shape().as_list() == [784]
    assert x[..., tf.newaxis].get_shape().as_list() == [None, 784, 1]
    assert x[1:, ::-3].get_shape().as_list() == [None, 262]
    assert tf.shape(x)[0].get_shape().as_list() == []
    y = tf.placeholder(tf.float32)
    assert y[0].get_shape().ndims is None


def test_getitem_rejects_unsupported_indices():
    c = tf.constant(A)
    with pytest.raises(TypeError, match="valid indices"):
        c[[0, 1]]
    with pytest.raises(TypeError, match="valid indices"):
        c[1.5]
    with pytest.raises(TypeError, match="scalar integer tensors"):
        c[tf.constant([0, 1])]
    with pytest.raises(ValueError, match="out of bounds"):
        c[5]
    with pytest.raises(ValueError, match="single ellipsis"):
        c[..., 0, ...]
    with pytest.raises(ValueError, match="zero"):
        c[::0]
    with pytest.raises(ValueError, match="Index out of range"):
        c[0, 0, 0, 0]


def test_getitem_iteration_and_gradient():
    x = tf.placeholder(tf.float64, [3, 2])
    rows = list(x)
    assert len(rows) == 3 and rows[1].get_shape().as_list() == [2]
    y = tf.reduce_sum(x[1:, ::-1] * tf.constant([[1.0, 2.0], [3.0, 4.0]], tf.float64))
    g = run(tf.gradients(y, x)[0], {x: np.zeros((3, 2))})
    np.testing.assert_array_equal(g, [[0, 0], [2, 1], [4, 3]])


def test_newaxis_is_none():
    assert tf.newaxis is None


def test_strided_slice_masks():
    c = tf.constant(A)
    t = tf.strided_slice(c, [0, 0, 1], [0, 2, 0], [1, 1, 1], begin_mask=1, end_mask=5,
                         shrink_axis_mask=0)
    np.testing.assert_array_equal(run(t), A[:, 0:2, 1:])
    t = tf.strided_slice(c, [1, 0], [2, 0], [1, 1], ellipsis_mask=2, shrink_axis_mask=1)
    np.testing.assert_array_equal(run(t), A[1, ...])
    t = tf.strided_slice(c, [0, 0], [0, 0], [1, 1], new_axis_mask=1, end_mask=2)
    np.testing.assert_array_equal(run(t), A[None, :])


# -- split ---------------------------------------------------------------------------------
def test_split_forms():
    c = tf.constant(A)
    parts = tf.split(c, 2, axis=2)
    assert [p.get_shape().as_list() for p in parts] == [[2, 3, 2]] * 2
    for g, w in zip(run(parts), np.split(A, 2, 2)):
        np.testing.assert_array_equal(g, w)
    parts = tf.split(c, [1, -1], 1)
    assert [p.get_shape().as_list() for p in parts] == [[2, 1, 4], [2, 2, 4]]
    for g, w in zip(run(parts), np.split(A, [1], 1)):
        np.testing.assert_array_equal(g, w)
    parts = tf.split(c, tf.constant([3, 1]), axis=-1)
    assert [p.get_shape().as_list() for p in parts] == [[2, 3, 3], [2, 3, 1]]
    # TF 1.0's positional order: split(value, num_or_size_splits, axis)
    a, b = tf.split(tf.constant(np.arange(6)), 2)
    np.testing.assert_array_equal(run(b), [3, 4, 5])


def test_split_with_fed_sizes_and_unknown_dims():
    x = tf.placeholder(tf.float32, [None, 5])
    sizes = tf.placeholder(tf.int32, [2])
    a, b = tf.split(x, sizes, axis=1)
    assert a.get_shape().as_list() == [None, None]
    v = np.ones((2, 5), np.float32)
    ga, gb = run([a, b], {x: v, sizes: [2, 3]})
    assert ga.shape == (2, 2) and gb.shape == (2, 3)
    with pytest.raises(tf.errors.OpError):
        run(a, {x: v, sizes: [2, 2]})
    c, d = tf.split(x, 2, axis=0)
    assert c.get_shape().as_list() == [None, 5]


def test_split_errors_name_shapes():
    c = tf.constant(A)
    with pytest.raises(ValueError, match=r"evenly divisible by 5 but is 4.*\[2,3,4\]"):
        tf.split(c, 5, axis=2)
    with pytest.raises(ValueError, match=r"add up to 3, but the dimension is 4"):
        tf.split(c, [1, 2], axis=2)
    with pytest.raises(ValueError, match="at most one size may be -1"):
        tf.split(c, [-1, -1], axis=2)
    with pytest.raises(ValueError, match="Cannot infer num"):
        tf.split(c, tf.placeholder(tf.int32, [None]), axis=2)


# -- concat / stack-style joins ------------------------------------------------------------
def test_concat_shapes_and_errors():
    a = tf.placeholder(tf.float32, [None, 3])
    b = tf.placeholder(tf.float32, [2, 4])
    t = tf.concat([a, b], 1)
    assert t.get_shape().as_list() == [2, 7]
    assert tf.concat([a, a], 0).get_shape().as_list() == [None, 3]
    with pytest.raises(ValueError, match=r"Dimension 1 .* 3 and 4.*\[\?,3\] and \[2,4\]"):
        tf.concat([a, b], 0)
    with pytest.raises(ValueError, match="rank"):
        tf.concat([a, tf.placeholder(tf.float32, [2])], 0)
    with pytest.raises(TypeError, match="dtype"):
        tf.concat([a, tf.placeholder(tf.int32, [2, 3])], 0)
    with pytest.raises(ValueError, match="out of range"):
        tf.concat([a, a], 2)


def test_concat_accepts_python_values_and_old_order():
    a = tf.constant([[1.0, 2.0]])
    np.testing.assert_array_equal(run(tf.concat([a, [[3.0, 4.0]]], 0)), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(run(tf.concat(1, [a, a])), [[1, 2, 1, 2]])
    assert run(tf.concat([a], 0)).shape == (1, 2)


def test_concat_gradient_with_unknown_sizes():
    a = tf.placeholder(tf.float64, [None, 2])
    b = tf.placeholder(tf.float64, [None, 2])
    y = tf.concat([a, b], 0)
    ga, gb = tf.gradients(tf.reduce_sum(y * y), [a, b])
    va, vb = np.ones((1, 2)), np.full((3, 2), 2.0)
    got_a, got_b = run([ga, gb], {a: va, b: vb})
    np.testing.assert_array_equal(got_a, 2 * va)
    np.testing.assert_array_equal(got_b, 2 * vb)


# -- shapes of the other ops ---------------------------------------------------------------
def test_static_shapes():
    x = tf.placeholder(tf.float32, [None, 3, 1])
    assert tf.transpose(x).get_shape().as_list() == [1, 3, None]
    assert tf.transpose(x, [0, 2, 1]).get_shape().as_list() == [None, 1, 3]
    assert tf.expand_dims(x, 1).get_shape().as_list() == [None, 1, 3, 1]
    assert tf.squeeze(x, [2]).get_shape().as_list() == [None, 3]
    assert tf.squeeze(x).get_shape().ndims is None
    assert tf.tile(x, [2, 2, 1]).get_shape().as_list() == [None, 6, 1]
    assert tf.gather(x, tf.placeholder(tf.int32, [5])).get_shape().as_list() == [5, 3, 1]
    assert tf.one_hot(tf.placeholder(tf.int32, [None]), 10).get_shape().as_list() == [None, 10]
    assert tf.slice(x, [0, 1, 0], [-1, 2, -1]).get_shape().as_list() == [None, 2, 1]
    assert tf.pad(x, [[1, 1], [2, 0], [0, 0]]).get_shape().as_list() == [None, 5, 1]
    assert tf.reverse(x, [1]).get_shape().as_list() == [None, 3, 1]
    assert tf.broadcast_to(tf.constant(1.0), [2, 3]).get_shape().as_list() == [2, 3]
    assert tf.reshape(x, [tf.shape(x)[0], 3]).get_shape().as_list() == [None, 3]
    assert tf.boolean_mask(x, tf.placeholder(tf.bool, [None])).get_shape().as_list() == \
        [None, 3, 1]


def test_shape_errors_name_shapes():
    x = tf.placeholder(tf.float32, [2, 3])
    with pytest.raises(ValueError, match=r"Can not squeeze dim\[1\].*got 3"):
        tf.squeeze(x, [1])
    with pytest.raises(ValueError, match=r"perm \[0\] .*\[2,3\]"):
        tf.transpose(x, [0])
    with pytest.raises(ValueError, match=r"multiples has 3 entries.*\[2,3\]"):
        tf.tile(x, [1, 2, 3])
    with pytest.raises(ValueError, match=r"exceeds dimension 1 of shape \[2,3\]"):
        tf.slice(x, [0, 1], [1, 3])
    with pytest.raises(ValueError, match=r"at most 2 for input shape \[2,3\]"):
        tf.pad(x, [[0, 0], [3, 0]], "REFLECT")
    with pytest.raises(ValueError, match="unknown mode"):
        tf.pad(x, [[0, 0], [1, 0]], "WRAP")
    with pytest.raises(ValueError, match=r"mask shape \[3\] does not match"):
        tf.boolean_mask(x, tf.constant([True, False, True]))
    with pytest.raises(TypeError, match="integer"):
        tf.gather(x, tf.constant([0.0]))
    with pytest.raises(ValueError, match=r"expand_dims: axis 3 .*\[2,3\]"):
        tf.expand_dims(x, 3)


def test_runtime_errors_are_op_errors():
    x = tf.placeholder(tf.float32, [None, 3])
    with pytest.raises(tf.errors.OpError):
        run(tf.slice(x, [1, 0], [2, -1]), {x: np.zeros((2, 3), np.float32)})
    with pytest.raises(tf.errors.OpError):
        run(x[5], {x: np.zeros((2, 3), np.float32)})
    with pytest.raises(tf.errors.OpError):
        run(tf.split(x, 2)[0], {x: np.zeros((3, 3), np.float32)})


# -- values --------------------------------------------------------------------------------
def test_expand_dims_and_squeeze_arguments():
    c = tf.constant(A)
    assert run(tf.expand_dims(c, axis=-1)).shape == (2, 3, 4, 1)
    assert run(tf.expand_dims(c, dim=1)).shape == (2, 1, 3, 4)
    with pytest.raises(ValueError):
        tf.expand_dims(c)
    assert run(tf.squeeze(tf.constant(np.zeros((1, 2, 1))), squeeze_dims=[0])).shape == (2, 1)
    assert run(tf.squeeze(tf.constant(np.zeros((1, 2, 1))), axis=[-1])).shape == (1, 2)


def test_one_hot_options():
    idx = tf.constant([0, 2, -1])
    got = run(tf.one_hot(idx, 3))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    got = run(tf.one_hot(idx, 3, on_value=7, off_value=1))
    assert got.dtype == np.int32 and got[1, 2] == 7 and got[0, 1] == 1
    got = run(tf.one_hot(idx, 3, axis=0, dtype=tf.int64))
    assert got.dtype == np.int64 and got.shape == (3, 3) and got[2, 1] == 1
    with pytest.raises(TypeError):
        tf.one_hot(idx, 3, on_value=tf.constant(1.0), off_value=tf.constant(0))


def test_gather_and_segment_sum():
    p = tf.constant(A)
    np.testing.assert_array_equal(run(tf.gather(p, [1, 1, 0])), A[[1, 1, 0]])
    np.testing.assert_array_equal(run(tf.gather(p, [[3, 0]], axis=-1)), A[..., [[3, 0]]])
    s = tf.unsorted_segment_sum(tf.constant([1.0, 2.0, 4.0]), tf.constant([1, -1, 1]), 3)
    np.testing.assert_array_equal(run(s), [0, 5, 0])


def test_gather_gradient_is_indexed_slices_of_a_scatter_add():
    w = tf.placeholder(tf.float64, [4, 2])
    y = tf.reduce_sum(tf.gather(w, [0, 3, 0]))
    grad = tf.gradients(y, w)[0]
    assert isinstance(grad, tf.IndexedSlices)
    g = run(tf.convert_to_tensor(grad), {w: np.zeros((4, 2))})
    np.testing.assert_array_equal(g, [[2, 2], [0, 0], [0, 0], [1, 1]])


def test_pad_modes():
    x = tf.constant(np.arange(6.0).reshape(2, 3))
    for mode in ("constant", "reflect", "symmetric"):
        want = np.pad(np.arange(6.0).reshape(2, 3), [[1, 1], [2, 1]], mode=mode)
        np.testing.assert_array_equal(run(tf.pad(x, [[1, 1], [2, 1]], mode.upper())), want)
    np.testing.assert_array_equal(run(tf.pad(x, [[0, 0], [1, 0]], constant_values=-1))[:, 0],
                                  [-1, -1])


def test_boolean_mask_and_reverse():
    x = tf.constant(A)
    m = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(run(tf.boolean_mask(x, m)), A[m])
    ph = tf.placeholder(tf.float32, [None, None, 4])
    np.testing.assert_array_equal(run(tf.boolean_mask(ph, m), {ph: A}), A[m])
    np.testing.assert_array_equal(run(tf.reverse(x, [1])), A[:, ::-1])
    np.testing.assert_array_equal(run(tf.reverse_v2(x, [0, 2])), A[::-1, :, ::-1])


def test_shape_n_and_broadcast_to():
    a, b = tf.shape_n([tf.constant(A), tf.constant([1, 2])])
    np.testing.assert_array_equal(run(a), [2, 3, 4])
    np.testing.assert_array_equal(run(b), [2])
    got = run(tf.broadcast_to(tf.constant([1, 2]), [3, 2]))
    np.testing.assert_array_equal(got, [[1, 2]] * 3)
    got[0, 0] = 5  # a fresh, writable array
    with pytest.raises(ValueError, match="cannot broadcast"):
        tf.broadcast_to(tf.constant([1, 2]), [3, 3])


def test_tile_with_dynamic_multiples():
    x = tf.placeholder(tf.float64, [2, 1])
    n = tf.placeholder(tf.int32, [])
    t = tf.tile(x, [1, n])
    assert t.get_shape().as_list() == [2, None]
    v = np.array([[1.0], [2.0]])
    np.testing.assert_array_equal(run(t, {x: v, n: 3}), np.tile(v, (1, 3)))
    g = run(tf.gradients(tf.reduce_sum(t), x)[0], {x: v, n: 3})
    np.testing.assert_array_equal(g, [[3.0], [3.0]])


def test_gather_negative_axis_gradient():
    p = tf.placeholder(tf.float64, [2, 3])
    y = tf.reduce_sum(tf.gather(p, [2, 2], axis=-1))
    g = run(tf.gradients(y, p)[0], {p: np.zeros((2, 3))})
    np.testing.assert_array_equal(g, [[0, 0, 2], [0, 0, 2]])
