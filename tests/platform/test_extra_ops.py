"""API behaviour of einsum, unique, the segment ops, the scatter updates, meshgrid, selu /
swish / crelu / conv1d, hessians and erf beyond the forward/gradient checks of the OpCases."""
import math

import numpy as np
import pytest

import actorflow as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


# -- einsum --------------------------------------------------------------------------------
def test_einsum_static_shape_and_equation_forms():
    a = tf.placeholder(tf.float32, [None, 2, 3])
    b = tf.placeholder(tf.float32, [3, 4])
    assert tf.einsum("bij,jk->bik", a, b).get_shape().as_list() == [None, 2, 4]
    assert tf.einsum("...ij,jk", a, b).get_shape().as_list() == [None, 2, 4]
    assert tf.einsum("b i j -> j b", a).get_shape().as_list() == [3, None]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(_run(tf.einsum("ij->", x)), 15.0)
    np.testing.assert_allclose(_run(tf.einsum("ij", x)), x)  # implicit: letters sorted
    np.testing.assert_allclose(_run(tf.einsum("ji", x)), x.T)


def test_einsum_rejects_bad_equations_and_inputs():
    a = tf.zeros([2, 3])
    with pytest.raises(ValueError, match="names 2 inputs"):
        tf.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="rank-3"):
        tf.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="dimension 'j'"):
        tf.einsum("ij,jk->ik", a, tf.zeros([4, 2]))
    with pytest.raises(ValueError, match="output subscripts"):
        tf.einsum("ij->ik", a)
    with pytest.raises(ValueError, match="invalid subscripts"):
        tf.einsum("i1->i", a)
    with pytest.raises(TypeError, match="share a dtype"):
        tf.einsum("ij,jk->ik", a, tf.zeros([3, 2], tf.float64))


def test_einsum_gradient_of_repeated_subscripts_is_an_error():
    x = tf.placeholder(tf.float64, [3, 3])
    with pytest.raises(ValueError, match="repeated subscripts"):
        tf.gradients(tf.einsum("ii->", x), x)


def test_einsum_transpose_fetch_does_not_alias_a_variable():
    v = tf.Variable(np.arange(4.0).reshape(2, 2))
    t = tf.einsum("ij->ji", v)
    with tf.Session() as sess:
        sess.run(v.initializer)
        got = sess.run(t)
        got[0, 0] = 99.0
        np.testing.assert_array_equal(sess.run(v), np.arange(4.0).reshape(2, 2))


# -- unique --------------------------------------------------------------------------------
def test_unique_is_a_namedtuple_in_first_occurrence_order():
    x = tf.constant([5, 5, 2, 9, 2, 5])
    out = tf.unique(x)
    assert out.y.dtype == tf.int32 and out.idx.dtype == tf.int32
    y, idx = _run(out)
    np.testing.assert_array_equal(y, [5, 2, 9])
    np.testing.assert_array_equal(idx, [0, 0, 1, 2, 1, 0])
    np.testing.assert_array_equal(y[idx], [5, 5, 2, 9, 2, 5])


def test_unique_rejects_matrices_and_is_not_differentiable():
    with pytest.raises(ValueError, match="vector"):
        tf.unique(tf.zeros([2, 2]))
    x = tf.placeholder(tf.float32, [3])
    assert tf.gradients(tf.reduce_sum(tf.unique(x).y), x) == [None]


# -- segment ops ---------------------------------------------------------------------------
def test_sorted_segment_ops_reject_unsorted_ids_at_run_time():
    d = tf.constant([1.0, 2.0, 3.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="sorted"):
        _run(tf.segment_max(d, [1, 0, 1]))


def test_segment_ops_static_shapes():
    d = tf.placeholder(tf.float32, [None, 4])
    assert tf.segment_max(d, [0, 0, 2]).get_shape().as_list() == [3, 4]
    ids = tf.placeholder(tf.int32, [None])
    assert tf.segment_min(d, ids).get_shape().as_list() == [None, 4]
    assert tf.unsorted_segment_max(d, ids, 5).get_shape().as_list() == [5, 4]
    with pytest.raises(ValueError, match="prefix"):
        tf.unsorted_segment_min(tf.zeros([3, 2]), tf.zeros([2], tf.int32), 2)


def test_segment_mean_of_an_empty_segment_is_zero():
    got = _run(tf.segment_mean(tf.constant([[2.0], [4.0], [6.0]]), [0, 0, 2]))
    np.testing.assert_allclose(got, [[3.0], [0.0], [6.0]])


# -- scatter updates -----------------------------------------------------------------------
def test_scatter_updates_write_the_variable_in_place():
    v = tf.Variable(np.zeros((3, 2), np.float32))
    add = tf.scatter_add(v, [2, 2], [[1.0, 1.0], [2.0, 3.0]])
    sub = tf.scatter_sub(v, [0], [[5.0, 5.0]])
    upd = tf.scatter_update(v, tf.constant([1]), [[7.0, 8.0]])
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(add)
        sess.run(sub)
        np.testing.assert_allclose(sess.run(upd), [[-5, -5], [7, 8], [3, 4]])
        np.testing.assert_allclose(sess.run(v), [[-5, -5], [7, 8], [3, 4]])


def test_scatter_accepts_the_ref_tensor_and_rejects_values():
    v = tf.Variable(np.ones(3))
    assert tf.scatter_mul(v._variable, [0], [2.0]).dtype == tf.float64
    with pytest.raises(TypeError, match="variable"):
        tf.scatter_update(tf.constant([1.0]), [0], [2.0])
    with pytest.raises(ValueError, match="updates shape"):
        tf.scatter_update(v, [0, 1], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="indices"):
        tf.scatter_add(v, [0.5], [1.0])


def test_scatter_errors_at_run_time():
    v = tf.Variable(np.zeros(3))
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized"):
            sess.run(tf.scatter_add(v, [0], [1.0]))
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match="outside"):
            sess.run(tf.scatter_update(v, [3], [1.0]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="outside"):
            sess.run(tf.scatter_nd_update(v, [[-1]], [1.0]))


def test_scatter_is_not_differentiable():
    v = tf.Variable(np.zeros(3))
    u = tf.placeholder(tf.float64, [1])
    assert tf.gradients(tf.reduce_sum(tf.scatter_add(v, [0], u)), u) == [None]


# -- meshgrid ------------------------------------------------------------------------------
def test_meshgrid_matches_numpy_for_dynamic_sizes():
    x = tf.placeholder(tf.float32, [None])
    y = tf.placeholder(tf.float32, [None])
    xs, ys = tf.meshgrid(x, y)
    assert xs.get_shape().ndims == 2
    fx, fy = np.arange(3.0), np.arange(4.0) * 10
    got = _run([xs, ys], {x: fx, y: fy})
    for g, w in zip(got, np.meshgrid(fx, fy)):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="indexing"):
        tf.meshgrid(x, y, indexing="xx")


# -- nn ------------------------------------------------------------------------------------
def test_nn_namespace_has_the_new_activations():
    x = np.array([-2.0, 0.0, 3.0])
    selu = 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))
    np.testing.assert_allclose(_run(tf.nn.selu(x)), selu)
    np.testing.assert_allclose(_run(tf.nn.swish(x)), x / (1 + np.exp(-x)))
    assert tf.nn.crelu(tf.zeros([2, 3])).get_shape().as_list() == [2, 6]


def test_conv1d_shapes_and_errors():
    x = tf.placeholder(tf.float32, [None, 10, 3])
    f = tf.zeros([3, 3, 5])
    assert tf.nn.conv1d(x, f, 2, "SAME").get_shape().as_list() == [None, 5, 5]
    assert tf.nn.conv1d(x, f, [1, 1, 1], "VALID").get_shape().as_list() == [None, 8, 5]
    with pytest.raises(ValueError, match="data_format"):
        tf.nn.conv1d(x, f, 1, "SAME", data_format="NHCW")
    with pytest.raises(ValueError, match="stride"):
        tf.nn.conv1d(x, f, [1, 1], "SAME")


# -- hessians, AggregationMethod, erf ------------------------------------------------------
def test_hessians_of_a_quadratic_form():
    a = np.array([[2.0, 1.0], [0.0, 3.0]])
    x = tf.placeholder(tf.float64, [2])
    y = tf.reduce_sum(x * tf.matmul(tf.constant(a), tf.reshape(x, [2, 1]))[:, 0])
    (h,) = tf.hessians(y, x)
    assert h.get_shape().as_list() == [2, 2]
    np.testing.assert_allclose(_run(h, {x: [0.3, -1.0]}), a + a.T)


def test_hessians_of_a_matrix_variable_and_of_a_linear_function():
    w = tf.placeholder(tf.float64, [2, 2])
    (h,) = tf.hessians(tf.reduce_sum(tf.exp(w)), w)
    assert h.get_shape().as_list() == [2, 2, 2, 2]
    wv = np.array([[0.1, 0.2], [0.3, 0.4]])
    want = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            want[i, j, i, j] = np.exp(wv[i, j])
    np.testing.assert_allclose(_run(h, {w: wv}), want)
    (h_lin,) = tf.hessians(tf.reduce_sum(3.0 * w), w)
    np.testing.assert_array_equal(_run(h_lin, {w: wv}), np.zeros((2, 2, 2, 2)))


def test_gradients_accepts_aggregation_methods():
    x = tf.constant(2.0)
    for method in (tf.AggregationMethod.ADD_N, tf.AggregationMethod.DEFAULT,
                   tf.AggregationMethod.EXPERIMENTAL_TREE,
                   tf.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N):
        (g,) = tf.gradients(x * x + x, x, aggregation_method=method)
        assert _run(g) == 5.0


def test_erf_is_exact_and_keeps_the_dtype():
    x = np.array([-3.0, -0.5, 0.0, 1e-8, 0.7, 4.0])
    np.testing.assert_array_equal(_run(tf.erf(x)), [math.erf(v) for v in x])
    assert _run(tf.erf(x.astype(np.float32))).dtype == np.float32
    with pytest.raises(TypeError):
        tf.erf(tf.constant([1, 2]))
