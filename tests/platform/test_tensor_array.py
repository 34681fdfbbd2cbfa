"""tf.TensorArray (ops/tensor_array.py): reads and writes, errors, shapes, a TensorArray as a
while_loop variable, and gradients through list ops and loops."""
import numpy as np
import pytest

import actorflow as tf


def test_write_read_stack_and_size():
    ta = tf.TensorArray(tf.float32, size=3)
    for i in range(3):
        ta = ta.write(i, tf.fill([2], float(i)))
    assert ta.element_shape.as_list() == [2]
    s = ta.stack()
    assert s.get_shape().as_list() == [None, 2]
    with tf.Session() as sess:
        got = sess.run([s, ta.read(1), ta.size()])
    np.testing.assert_allclose(got[0], [[0, 0], [1, 1], [2, 2]])
    np.testing.assert_allclose(got[1], [1, 1])
    assert got[2] == 3


def test_unstack_gather_scatter_split_concat():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    ta = tf.TensorArray(tf.float32, size=4).unstack(x)
    sc = tf.TensorArray(tf.float32, size=4).scatter([3, 1, 0, 2], x)
    sp = tf.TensorArray(tf.float32, size=2).split(x, [1, 3])
    with tf.Session() as sess:
        got = sess.run([ta.gather([3, 0]), sc.stack(), sp.read(1), sp.concat()])
    np.testing.assert_allclose(got[0], x[[3, 0]])
    np.testing.assert_allclose(got[1], x[[2, 1, 3, 0]])
    np.testing.assert_allclose(got[2], x[1:])
    np.testing.assert_allclose(got[3], x)


def test_dynamic_size_grows_and_fixed_size_refuses():
    grow = tf.TensorArray(tf.int32, size=0, dynamic_size=True).write(2, 7)
    fixed = tf.TensorArray(tf.int32, size=1).write(3, 7)
    twice = tf.TensorArray(tf.int32, size=2).write(0, 1).write(0, 2)
    with tf.Session() as sess:
        assert sess.run(grow.size()) == 3
        with pytest.raises(tf.errors.InvalidArgumentError, match="index 3 but array size is: 1"):
            sess.run(fixed.flow)
        with pytest.raises(tf.errors.InvalidArgumentError, match="already been written"):
            sess.run(twice.flow)


def test_unwritten_elements_read_as_zeros_when_shape_known():
    known = tf.TensorArray(tf.float32, size=2, element_shape=[3]).write(0, [1.0, 2.0, 3.0])
    unknown = tf.TensorArray(tf.float32, size=2, infer_shape=False).write(0, [1.0, 2.0])
    empty = tf.TensorArray(tf.float32, size=0, element_shape=[2])
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(known.stack()), [[1, 2, 3], [0, 0, 0]])
        assert sess.run(empty.stack()).shape == (0, 2)
        with pytest.raises(tf.errors.InvalidArgumentError, match="never written"):
            sess.run(unknown.read(1))


def test_inconsistent_element_shapes_raise_at_build_time():
    ta = tf.TensorArray(tf.float32, size=2).write(0, tf.zeros([2]))
    with pytest.raises(ValueError, match="Inconsistent shapes"):
        ta.write(1, tf.zeros([3]))


def test_identity_and_close():
    ta = tf.TensorArray(tf.float32, size=1).write(0, 1.0)
    same = ta.identity()
    assert same.dtype == tf.float32
    with tf.Session() as sess:
        assert sess.run(same.read(0)) == 1.0
        sess.run(ta.close())


def test_tensor_array_as_loop_var_with_unknown_length():
    n = tf.placeholder(tf.int32, [])
    squares = tf.TensorArray(tf.float32, size=n)

    def body(i, ta):
        return i + 1, ta.write(i, tf.cast(i * i, tf.float32))
    _, squares = tf.while_loop(lambda i, ta: i < n, body, [tf.constant(0), squares])
    assert isinstance(squares, tf.TensorArray) and squares.element_shape.as_list() == []
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(squares.stack(), {n: 5}), [0, 1, 4, 9, 16])


def test_gradient_through_loop_reading_and_writing_tensor_arrays():
    x = tf.placeholder(tf.float64, [4, 2])
    w = tf.placeholder(tf.float64, [2])
    inputs = tf.TensorArray(tf.float64, size=4).unstack(x)
    outputs = tf.TensorArray(tf.float64, size=4)

    def body(t, h, out):
        h = tf.tanh(inputs.read(t) * w + h)
        return t + 1, h, out.write(t, h * h)
    _, h, outputs = tf.while_loop(lambda t, *_: t < 4, body,
                                  [tf.constant(0), tf.zeros([2], tf.float64), outputs])
    weights = np.array([[1.0, -1.0], [0.5, 2.0], [-0.3, 0.7], [1.1, 0.2]])
    loss = tf.reduce_sum(outputs.stack() * weights) + tf.reduce_sum(h)
    gx, gw = tf.gradients(loss, [x, w])
    rng = np.random.default_rng(0)
    xv, wv = rng.standard_normal((4, 2)), rng.standard_normal(2)

    def f(xx, ww):
        hh, total = np.zeros(2), 0.0
        for t in range(4):
            hh = np.tanh(xx[t] * ww + hh)
            total += np.sum(hh * hh * weights[t])
        return total + hh.sum()
    with tf.Session() as sess:
        got_x, got_w = sess.run([gx, gw], {x: xv, w: wv})
    eps = 1e-6
    num_x = np.zeros_like(xv)
    for idx in np.ndindex(xv.shape):
        d = np.zeros_like(xv)
        d[idx] = eps
        num_x[idx] = (f(xv + d, wv) - f(xv - d, wv)) / (2 * eps)
    num_w = np.array([(f(xv, wv + eps * e) - f(xv, wv - eps * e)) / (2 * eps)
                      for e in np.eye(2)])
    np.testing.assert_allclose(got_x, num_x, atol=1e-6)
    np.testing.assert_allclose(got_w, num_w, atol=1e-6)
