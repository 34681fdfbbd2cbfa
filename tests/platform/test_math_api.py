"""Math API behaviours that the per-op cases cannot express: TF 1.x dtype rules, operator
overloads, `div` vs `truediv`, argmax's `dimension` alias, `where` without x/y, tensordot,
reduce_logsumexp and graph-construction errors."""
import numpy as np
import pytest

import actorflow as tf


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


# -- dtype rules ---------------------------------------------------------------------------
def test_int_tensor_times_float_tensor_is_a_type_error():
    with pytest.raises(TypeError):
        tf.constant(2) * tf.constant(1.5)


def test_python_scalar_takes_the_tensor_dtype():
    x = tf.placeholder(tf.float32, [3])
    for y in (x * 2, 2 * x, x - 1, 1 / x, x ** 2, 2.0 ** x, x // 2, x % 2):
        assert y.dtype == tf.float32
    assert _run(x * 2, {x: np.ones(3, np.float32)}).dtype == np.float32


def test_float_scalar_with_int_tensor_is_a_type_error():
    with pytest.raises(TypeError):
        tf.constant([1, 2]) * 2.5


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_integer_ops_keep_their_dtype(dtype):
    x = tf.constant([7, -7, 5], dtype=dtype)
    outs = [x // 2, x % 3, x ** 2, 2 - x, abs(x), tf.maximum(x, 0), tf.sign(x),
            tf.cumsum(x), tf.reduce_prod(x), tf.reduce_max(x), tf.squared_difference(x, 1),
            tf.clip_by_value(x, -1, 6), tf.where(x > 0, x, -x)]
    vals = _run(outs)
    for t, v in zip(outs, vals):
        assert t.dtype == dtype and np.asarray(v).dtype == dtype.as_numpy_dtype, t.op.type
    np.testing.assert_array_equal(vals[0], [3, -4, 2])
    np.testing.assert_array_equal(vals[1], [1, 2, 2])
    np.testing.assert_array_equal(vals[2], [49, 49, 25])
    assert vals[8] == -245


def test_div_is_floor_division_for_ints_and_real_division_for_floats():
    i = tf.constant([7, -7], tf.int32)
    f = tf.constant([7.0, -7.0])
    di, df = tf.div(i, 2), tf.div(f, 2)
    assert di.op.type == "FloorDiv" and di.dtype == tf.int32
    assert df.op.type == "RealDiv" and df.dtype == tf.float32
    got = _run([di, df])
    np.testing.assert_array_equal(got[0], [3, -4])
    np.testing.assert_allclose(got[1], [3.5, -3.5])


@pytest.mark.parametrize("dtype,want", [(tf.int32, tf.float64), (tf.int64, tf.float64),
                                        (tf.int16, tf.float32), (tf.uint8, tf.float32),
                                        (tf.float32, tf.float32)])
def test_truediv_casts_integers_to_floats(dtype, want):
    x = tf.constant([7, 1], dtype=dtype)
    for y in (x / 2, tf.truediv(x, 2), tf.divide(x, 2), 14 / x):
        assert y.dtype == want
    np.testing.assert_allclose(_run(x / 2), [3.5, 0.5])


def test_truediv_of_bool_is_a_type_error():
    with pytest.raises(TypeError):
        tf.constant([True]) / tf.constant([False])


# -- operator overloads --------------------------------------------------------------------
def test_arithmetic_operators_and_their_reflections():
    x = tf.constant([1.0, 2.0, 4.0])
    want = np.array([1.0, 2.0, 4.0])
    exprs = {"x/4": (x / 4, want / 4), "4/x": (4 / x, 4 / want),
             "x//1.5": (x // 1.5, want // 1.5), "9//x": (9 // x, 9 // want),
             "x%1.5": (x % 1.5, want % 1.5), "9%x": (9 % x, 9 % want),
             "x**2": (x ** 2, want ** 2), "2**x": (2 ** x, 2 ** want),
             "abs(-x)": (abs(-x), want), "3-x": (3 - x, 3 - want)}
    got = _run({k: v[0] for k, v in exprs.items()})
    for k, (_, w) in exprs.items():
        np.testing.assert_allclose(got[k], w, err_msg=k)


def test_comparison_operators_are_elementwise_and_eq_stays_identity():
    x = tf.constant([1.0, 2.0, 3.0])
    got = _run([x < 2, x <= 2, x > 2, x >= 2, 2 < x])
    np.testing.assert_array_equal(got, [[True, False, False], [True, True, False],
                                        [False, False, True], [False, True, True],
                                        [False, False, True]])
    y = tf.constant([1.0, 2.0, 3.0])
    assert (x == y) is False and (x == x) is True
    assert {x: 1, y: 2}[y] == 2


def test_logical_operators_on_bool_tensors():
    a = tf.constant([True, True, False, False])
    b = tf.constant([True, False, True, False])
    got = _run([a & b, a | b, a ^ b, ~a, True & b])
    np.testing.assert_array_equal(got, [[True, False, False, False], [True, True, True, False],
                                        [False, True, True, False], [False, False, True, True],
                                        [True, False, True, False]])


def test_logical_ops_reject_non_bool():
    with pytest.raises(TypeError):
        tf.logical_and(tf.constant([1.0]), tf.constant([0.0]))
    with pytest.raises(TypeError):
        ~tf.constant([1, 2])


def test_variables_get_the_tensor_operators():
    v = tf.Variable([3.0, -4.0])
    got = _run([v // 2, v % 2, v ** 2, abs(v), v > 0, 1 / v])
    np.testing.assert_allclose(got[0], [1.0, -2.0])
    np.testing.assert_allclose(got[1], [1.0, 0.0])
    np.testing.assert_allclose(got[2], [9.0, 16.0])
    np.testing.assert_allclose(got[3], [3.0, 4.0])
    np.testing.assert_array_equal(got[4], [True, False])
    np.testing.assert_allclose(got[5], [1 / 3, -0.25])


# -- argmax / argmin -----------------------------------------------------------------------
def test_argmax_dimension_alias_default_axis_and_output_type():
    x = tf.constant([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    a, b, c, d = (tf.argmax(x, dimension=1), tf.argmax(x), tf.arg_max(x, 1),
                  tf.argmin(x, 1, output_type=tf.int32))
    assert a.dtype == tf.int64 and d.dtype == tf.int32
    assert a.get_shape().as_list() == [2] and b.get_shape().as_list() == [3]
    got = _run([a, b, c, d])
    np.testing.assert_array_equal(got[0], [1, 0])
    np.testing.assert_array_equal(got[1], [1, 0, 1])
    np.testing.assert_array_equal(got[2], [1, 0])
    np.testing.assert_array_equal(got[3], [0, 1])
    with pytest.raises(ValueError):
        tf.argmax(x, axis=1, dimension=1)
    with pytest.raises(ValueError):
        tf.argmax(x, 2)


# -- where ---------------------------------------------------------------------------------
def test_where_without_x_y_returns_int64_indices():
    c = tf.placeholder(tf.bool, [2, 3])
    idx = tf.where(c)
    assert idx.dtype == tf.int64 and idx.get_shape().as_list() == [None, 2]
    cv = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(_run(idx, {c: cv}), [[0, 0], [0, 2], [1, 2]])
    assert _run(idx, {c: np.zeros((2, 3), bool)}).shape == (0, 2)


def test_where_needs_both_or_neither_of_x_and_y():
    with pytest.raises(ValueError):
        tf.where(tf.constant([True]), tf.constant([1.0]))


def test_where_rejects_mismatched_shapes_and_non_bool_condition():
    with pytest.raises(ValueError):
        tf.where(tf.constant([True, False]), tf.zeros([3]), tf.zeros([3]))
    with pytest.raises(TypeError):
        tf.where(tf.constant([1.0]), tf.zeros([1]), tf.zeros([1]))


def test_where_with_vector_condition_selects_rows_and_routes_gradients():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = tf.constant([[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]])
    out = tf.where(tf.constant([True, False, True]), x, y)
    gx, gy = tf.gradients(tf.reduce_sum(out), [x, y])
    got = _run([out, gx, gy])
    np.testing.assert_allclose(got[0], [[1, 2], [-3, -4], [5, 6]])
    np.testing.assert_allclose(got[1], [[1, 1], [0, 0], [1, 1]])
    np.testing.assert_allclose(got[2], [[0, 0], [1, 1], [0, 0]])


# -- clip_by_value -------------------------------------------------------------------------
def test_clip_by_value_gradient_passes_only_inside_the_bounds():
    t = tf.constant([-2.0, 0.5, 3.0])
    lo, hi = tf.constant(-1.0), tf.constant(1.0)
    out = tf.clip_by_value(t, lo, hi)
    got = _run([out] + tf.gradients(tf.reduce_sum(out), [t, lo, hi]))
    np.testing.assert_allclose(got[0], [-1.0, 0.5, 1.0])
    np.testing.assert_allclose(got[1], [0.0, 1.0, 0.0])
    assert got[2] == 1.0 and got[3] == 1.0


def test_clip_by_value_rejects_bounds_larger_than_t():
    with pytest.raises(ValueError):
        tf.clip_by_value(tf.zeros([3]), tf.zeros([2, 3]), 1.0)


# -- tensordot -----------------------------------------------------------------------------
@pytest.mark.parametrize("axes,shape_b", [(1, (4, 5)), (2, (3, 4, 5)), (0, (2,)),
                                          ([[1], [0]], (3, 5)), ([[0, 2], [2, 1]], (5, 4, 2)),
                                          ([2, 0], (4, 3))])
def test_tensordot_matches_numpy(axes, shape_b):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(shape_b)
    out = tf.tensordot(tf.constant(a), tf.constant(b), axes)
    want = np.tensordot(a, b, axes if isinstance(axes, int) else tuple(axes))
    assert out.get_shape().as_list() == list(want.shape)
    np.testing.assert_allclose(_run(out), want, rtol=1e-10)


def test_tensordot_dynamic_shapes_and_gradient():
    a = tf.placeholder(tf.float64, [None, 3])
    b = tf.placeholder(tf.float64, [3, 4])
    out = tf.tensordot(a, b, [[1], [0]])
    assert out.get_shape().as_list() == [None, 4]
    ga, gb = tf.gradients(tf.reduce_sum(out), [a, b])
    av, bv = np.arange(6.0).reshape(2, 3), np.ones((3, 4))
    got = _run([out, ga, gb], {a: av, b: bv})
    np.testing.assert_allclose(got[0], av @ bv)
    np.testing.assert_allclose(got[1], np.ones((2, 4)) @ bv.T)
    np.testing.assert_allclose(got[2], av.T @ np.ones((2, 4)))


# -- reductions ----------------------------------------------------------------------------
def test_reduce_logsumexp_is_stable_and_its_gradient_is_softmax():
    x = tf.constant([[1000.0, 1000.0], [-5.0, 0.0]], tf.float64)
    out = tf.reduce_logsumexp(x, axis=1)
    g = tf.gradients(tf.reduce_sum(out), x)[0]
    got = _run([out, g, tf.reduce_logsumexp(x, keep_dims=True)])
    np.testing.assert_allclose(got[0], [1000.0 + np.log(2.0), np.log(np.exp(-5.0) + 1.0)])
    e = np.exp([-5.0, 0.0])
    np.testing.assert_allclose(got[1], [[0.5, 0.5], e / e.sum()])
    assert got[2].shape == (1, 1)


def test_reduce_all_and_any_reject_non_bool():
    with pytest.raises(TypeError):
        tf.reduce_all(tf.constant([1.0]))


def test_reduction_axis_out_of_range_is_a_value_error():
    with pytest.raises(ValueError):
        tf.reduce_max(tf.zeros([2, 3]), axis=2)


# -- construction errors -------------------------------------------------------------------
def test_float_only_functions_reject_integers():
    for fn in (tf.sqrt, tf.exp, tf.log, tf.sigmoid, tf.tanh):
        with pytest.raises(TypeError):
            fn(tf.constant([1, 2]))


def test_batch_matmul_checks_inner_dims():
    with pytest.raises(ValueError):
        tf.matmul(tf.zeros([2, 3, 4]), tf.zeros([2, 3, 4]))
    assert tf.matmul(tf.zeros([5, 1, 3, 4]), tf.zeros([2, 4, 6])).get_shape().as_list() == \
        [5, 2, 3, 6]


def test_sigmoid_extremes_raise_no_floating_point_errors():
    x = tf.constant([-1e4, -50.0, 0.0, 50.0, 1e4], tf.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = _run(tf.sigmoid(x))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [0.0, np.exp(-50.0), 0.5, 1.0, 1.0], rtol=1e-6,
                               atol=1e-38)
