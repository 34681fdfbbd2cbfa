"""tf.layers.conv2d_transpose: shapes, variables, and the adjoint identity with conv2d."""
import numpy as np
import pytest

import actorflow as tf


@pytest.mark.parametrize("padding,size", [("same", 10), ("valid", 11)])
def test_output_shape_and_variables(padding, size):
    x = tf.placeholder(tf.float32, [None, 5, 5, 3])
    y = tf.layers.conv2d_transpose(x, 4, 3, strides=2, padding=padding, use_bias=False)
    assert y.get_shape().as_list() == [None, size, size, 4]
    (kernel,) = tf.trainable_variables()
    assert kernel.op.name == "conv2d_transpose/kernel"
    assert kernel.get_shape().as_list() == [3, 3, 4, 3]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {x: np.ones((2, 5, 5, 3))}).shape == (2, size, size, 4)


def test_is_the_adjoint_of_conv2d():
    """<conv2d(u, K), v> == <u, conv2d_transpose(v, K)> for the same kernel and strides."""
    rng = np.random.default_rng(0)
    v = tf.placeholder(tf.float64, [2, 3, 3, 4])
    y = tf.layers.conv2d_transpose(v, 2, 3, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=tf.random_normal_initializer(seed=1))
    (kernel,) = tf.trainable_variables()
    u = tf.placeholder(tf.float64, [2, 6, 6, 2])
    conv = tf.nn.conv2d(u, kernel, [1, 2, 2, 1], "SAME")
    un, vn = rng.standard_normal((2, 6, 6, 2)), rng.standard_normal((2, 3, 3, 4))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        cu, tv = sess.run([conv, y], {u: un, v: vn})
    np.testing.assert_allclose(np.sum(cu * vn), np.sum(un * tv), rtol=1e-10)
