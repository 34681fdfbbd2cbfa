"""Gradients of broadcasting binary ops: summed back to each operand's run-time shape, with
the sum decided statically where the static shapes allow it."""
import numpy as np
import pytest

import actorflow as tf

CASES = [  # (x static, y static, x value shape, y value shape)
    ([None, 3], [3], (4, 3), (3,)),
    ([None, 3], [1, 3], (4, 3), (1, 3)),
    ([None, 3], [None, 3], (1, 3), (4, 3)),  # x's None is 1 at run time: x must be summed
    ([None, 1], [None, 3], (4, 1), (4, 3)),
    ([2, None], [2, 5], (2, 1), (2, 5)),
    ([1, 3], [None, 3], (1, 3), (5, 3)),
]


@pytest.mark.parametrize("xs,ys,xv,yv", CASES)
@pytest.mark.parametrize("op", [tf.add, tf.subtract, tf.multiply, tf.maximum])
def test_gradients_match_numpy_broadcasting(op, xs, ys, xv, yv):
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float64, xs)
    y = tf.placeholder(tf.float64, ys)
    gx, gy = tf.gradients(tf.reduce_sum(op(x, y) * 2.0), [x, y])
    a, b = rng.standard_normal(xv), rng.standard_normal(yv)
    with tf.Session() as sess:
        va, vb = sess.run([gx, gy], {x: a, y: b})
    out = np.broadcast_shapes(xv, yv)
    if op is tf.add:
        wa, wb = np.full(out, 2.0), np.full(out, 2.0)
    elif op is tf.subtract:
        wa, wb = np.full(out, 2.0), np.full(out, -2.0)
    elif op is tf.multiply:
        wa, wb = 2.0 * np.broadcast_to(b, out), 2.0 * np.broadcast_to(a, out)
    else:
        pick = np.broadcast_to(a, out) >= np.broadcast_to(b, out)
        wa, wb = 2.0 * pick, 2.0 * ~pick

    def reduce_to(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape))))
        return g.sum(axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True)
    np.testing.assert_allclose(va, reduce_to(wa, xv))
    np.testing.assert_allclose(vb, reduce_to(wb, yv))


def test_a_bias_gradient_needs_no_run_time_shape_checks():
    x = tf.placeholder(tf.float32, [None, 300])
    b = tf.Variable(tf.zeros([300]))
    gx, gb = tf.gradients(tf.reduce_sum(x + b), [x, b])
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert "SumToShape" not in types
    assert gx.get_shape().as_list() == [None, 300] and gb.get_shape().as_list() == [300]


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_mean_gradient_with_a_dynamic_batch(axis):
    x = tf.placeholder(tf.float64, [None, 3])
    (g,) = tf.gradients(tf.reduce_mean(x, axis=axis) * 2.0, [x])
    with tf.Session() as sess:
        got = sess.run(g, {x: np.ones((4, 3))})
    n = {None: 12, 0: 4, 1: 3}[axis]
    np.testing.assert_allclose(got, np.full((4, 3), 2.0 / n))
