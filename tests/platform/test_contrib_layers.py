"""tf.contrib.layers (slim): layers, initializers and regularizers."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import actorflow as tf

layers = tf.contrib.layers


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def _names(variables) -> list:
    return [v.name for v in variables]


# -- convolution2d -------------------------------------------------------------------------
def test_book_dqn_convolution2d_stack():
    """The exact calls of the book's ch. 8 DQN: VALID, strided, no biases, ReLU."""
    scalar_input = tf.placeholder(shape=[None, 21168], dtype=tf.float32)
    image = tf.reshape(scalar_input, shape=[-1, 84, 84, 3])
    conv1 = layers.convolution2d(inputs=image, num_outputs=32, kernel_size=[8, 8],
                                 stride=[4, 4], padding='VALID', biases_initializer=None)
    conv2 = layers.convolution2d(inputs=conv1, num_outputs=64, kernel_size=[4, 4],
                                 stride=[2, 2], padding='VALID', biases_initializer=None)
    conv3 = layers.convolution2d(inputs=conv2, num_outputs=64, kernel_size=[3, 3],
                                 stride=[1, 1], padding='VALID', biases_initializer=None)
    conv4 = layers.convolution2d(inputs=conv3, num_outputs=512, kernel_size=[7, 7],
                                 stride=[1, 1], padding='VALID', biases_initializer=None)
    assert [c.get_shape().as_list() for c in (conv1, conv2, conv3, conv4)] == [
        [None, 20, 20, 32], [None, 9, 9, 64], [None, 7, 7, 64], [None, 1, 1, 512]]
    assert _names(tf.trainable_variables()) == ["Conv/weights:0", "Conv_1/weights:0",
                                                "Conv_2/weights:0", "Conv_3/weights:0"]
    assert tf.model_variables() == tf.global_variables()
    assert tf.global_variables()[0].get_shape().as_list() == [8, 8, 3, 32]
    out = _run(conv4, {scalar_input: np.random.RandomState(0).rand(2, 21168)})
    assert out.shape == (2, 1, 1, 512) and out.min() >= 0 and out.max() > 0


def test_conv2d_with_biases_matches_numpy():
    rng = np.random.RandomState(1)
    xv = rng.randn(2, 4, 4, 2).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 4, 4, 2])
    y = layers.conv2d(x, 3, 1, activation_fn=None,
                      biases_initializer=tf.constant_initializer(0.25))
    weights, biases = tf.global_variables()
    assert _names([weights, biases]) == ["Conv/weights:0", "Conv/biases:0"]
    out, w, b = _run([y, weights, biases], {x: xv})
    np.testing.assert_allclose(out, xv @ w[0, 0] + b, rtol=1e-5, atol=1e-6)


def test_conv2d_scope_reuse_and_collections():
    x = tf.placeholder(tf.float32, [None, 6, 6, 1])
    y = layers.conv2d(x, 2, [3, 3], scope="c1", variables_collections=["mine"],
                      outputs_collections="outs")
    z = layers.conv2d(x, 2, [3, 3], scope="c1", reuse=True)
    assert _names(tf.global_variables()) == ["c1/weights:0", "c1/biases:0"]
    assert _names(tf.get_collection("mine")) == ["c1/weights:0", "c1/biases:0"]
    assert tf.get_collection("outs") == [y]
    with tf.variable_scope("net"):
        layers.conv2d(x, 2, 3, variables_collections={"weights": ["w_only"]})
    assert _names(tf.get_collection("w_only")) == ["net/Conv/weights:0"]
    yv, zv = _run([y, z], {x: np.ones((1, 6, 6, 1), np.float32)})
    np.testing.assert_array_equal(yv, zv)


def test_conv2d_weights_regularizer_and_not_trainable():
    x = tf.placeholder(tf.float32, [None, 6, 6, 1])
    layers.conv2d(x, 2, 3, weights_regularizer=layers.l2_regularizer(0.5), trainable=False)
    assert tf.trainable_variables() == []
    assert len(tf.model_variables()) == 2
    (loss,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    lv, w = _run([loss, tf.global_variables()[0]])
    np.testing.assert_allclose(lv, 0.5 * np.sum(w ** 2) / 2, rtol=1e-5)


def test_conv2d_bad_arguments_raise():
    x = tf.placeholder(tf.float32, [None, 6, 6, 1])
    with pytest.raises(ValueError, match="data_format"):
        layers.conv2d(x, 2, 3, data_format="NDHWC")
    with pytest.raises(ValueError, match="padding"):
        layers.conv2d(x, 2, 3, padding="FULL")
    with pytest.raises(ValueError, match="ndim=4"):
        layers.conv2d(tf.placeholder(tf.float32, [None, 6]), 2, 3)


def test_conv2d_nchw_matches_nhwc():
    rng = np.random.RandomState(2)
    xv = rng.randn(1, 5, 5, 2).astype(np.float32)
    x = tf.placeholder(tf.float32, [1, 5, 5, 2])
    a = layers.conv2d(x, 3, 3, weights_initializer=tf.constant_initializer(0.1))
    b = layers.conv2d(tf.transpose(x, [0, 3, 1, 2]), 3, 3, data_format="NCHW",
                      weights_initializer=tf.constant_initializer(0.1))
    av, bv = _run([a, b], {x: xv})
    np.testing.assert_allclose(av, bv.transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)


# -- fully_connected, normalizer_fn ---------------------------------------------------------
def test_fully_connected_matches_numpy():
    rng = np.random.RandomState(3)
    xv = rng.randn(4, 5).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 5])
    y = layers.fully_connected(x, 3)
    z = layers.fully_connected(y, 2, activation_fn=None, biases_initializer=None)
    assert _names(tf.global_variables()) == ["fully_connected/weights:0",
                                             "fully_connected/biases:0",
                                             "fully_connected_1/weights:0"]
    yv, zv, w, b, w2 = _run([y, z] + tf.global_variables(), {x: xv})
    np.testing.assert_allclose(yv, np.maximum(xv @ w + b, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(zv, yv @ w2, rtol=1e-5, atol=1e-6)


def test_fully_connected_bad_num_outputs_raises():
    with pytest.raises(ValueError, match="num_outputs"):
        layers.fully_connected(tf.placeholder(tf.float32, [None, 5]), 3.0)
    with pytest.raises(ValueError, match="last dimension"):
        layers.fully_connected(tf.placeholder(tf.float32, [None, None]), 3)


def test_normalizer_fn_replaces_biases():
    x = tf.placeholder(tf.float32, [None, 6, 6, 1])
    y = layers.conv2d(x, 2, 3, normalizer_fn=layers.batch_norm,
                      normalizer_params={"is_training": True, "scale": True})
    assert _names(tf.global_variables()) == [
        "Conv/weights:0", "Conv/BatchNorm/gamma:0", "Conv/BatchNorm/beta:0",
        "Conv/BatchNorm/moving_mean:0", "Conv/BatchNorm/moving_variance:0"]
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    out = _run(y, {x: np.random.RandomState(4).rand(3, 6, 6, 1)})
    assert out.min() >= 0  # ReLU after the normalizer


# -- batch_norm ----------------------------------------------------------------------------
def test_batch_norm_update_collections_and_decay():
    rng = np.random.RandomState(5)
    xv = (rng.randn(5, 3) * 2 + 1).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3])
    y = layers.batch_norm(x, decay=0.9)
    assert _names(tf.global_variables()) == ["BatchNorm/beta:0", "BatchNorm/moving_mean:0",
                                             "BatchNorm/moving_variance:0"]
    assert _names(tf.trainable_variables()) == ["BatchNorm/beta:0"]
    assert tf.model_variables() == tf.global_variables()
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    _, mm, mv = tf.global_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, _ = sess.run([y, updates], {x: xv})
        mean, var = sess.run([mm, mv])
    np.testing.assert_allclose(out, (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 1e-3),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mean, 0.1 * xv.mean(0), rtol=1e-5, atol=1e-6)
    # slim fuses rank-2 inputs too: the moving variance follows the unbiased variance
    np.testing.assert_allclose(var, 0.9 + 0.1 * xv.var(0, ddof=1), rtol=1e-5)


def test_batch_norm_updates_in_place_when_collection_is_none():
    xv = np.array([[1.0], [3.0]], np.float32)
    x = tf.placeholder(tf.float32, [None, 1])
    y = layers.batch_norm(x, decay=0.5, updates_collections=None)
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
    mm = tf.global_variables()[1]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(y, {x: xv})
        np.testing.assert_allclose(sess.run(mm), [1.0])


def test_batch_norm_inference_and_training_tensor():
    xv = np.array([[1.0, 0.0], [3.0, 4.0]], np.float32)
    x = tf.placeholder(tf.float32, [None, 2])
    training = tf.placeholder(tf.bool, [])
    y = layers.batch_norm(x, is_training=training, scale=True,
                          param_initializers={"gamma": tf.constant_initializer(3.0)},
                          variables_collections={"moving_mean": ["mm"]})
    assert _names(tf.get_collection("mm")) == ["BatchNorm/moving_mean:0"]
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    mm = tf.get_collection("mm")[0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        off, _ = sess.run([y, updates], {x: xv, training: False})
        np.testing.assert_array_equal(sess.run(mm), [0.0, 0.0])
    np.testing.assert_allclose(off, 3.0 * xv / np.sqrt(1.001), rtol=1e-5)
    z = layers.batch_norm(x, is_training=False)
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    np.testing.assert_allclose(_run(z, {x: xv}), xv / np.sqrt(1.001), rtol=1e-5)


def test_batch_norm_unknown_rank_raises():
    with pytest.raises(ValueError, match="rank"):
        layers.batch_norm(tf.placeholder(tf.float32))


# -- pooling, flatten, dropout, repeat, stack ----------------------------------------------
def test_pools_default_stride_two():
    xv = np.arange(2 * 4 * 4 * 1, dtype=np.float32).reshape(2, 4, 4, 1)
    x = tf.constant(xv)
    mx = layers.max_pool2d(x, [2, 2])
    av = layers.avg_pool2d(x, 2, outputs_collections=["pools"])
    assert mx.op.name == "MaxPool2D/MaxPool" and av.op.name == "AvgPool2D/AvgPool"
    assert tf.get_collection("pools") == [av]
    m, a = _run([mx, av])
    np.testing.assert_array_equal(m, xv.reshape(2, 2, 2, 2, 2, 1).max(axis=(2, 4)))
    np.testing.assert_allclose(a, xv.reshape(2, 2, 2, 2, 2, 1).mean(axis=(2, 4)))


def test_flatten_and_its_rank_check():
    xv = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    y = layers.flatten(tf.constant(xv))
    assert y.get_shape().as_list() == [2, 12]
    np.testing.assert_array_equal(_run(y), xv.reshape(2, 12))
    with pytest.raises(ValueError, match="2 dimensions"):
        layers.flatten(tf.constant([1.0, 2.0]))


def test_dropout_keep_prob_and_is_training():
    x = tf.constant(np.ones((40, 40), np.float32))
    on = layers.dropout(x, keep_prob=0.8, seed=2)
    off = layers.dropout(x, keep_prob=0.8, is_training=False)
    onv, offv = _run([on, off])
    assert set(np.unique(onv)) == {0.0, np.float32(1 / 0.8)}
    np.testing.assert_array_equal(offv, np.ones((40, 40)))


def test_repeat_and_stack_scopes():
    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    layers.repeat(x, 2, layers.conv2d, 4, [3, 3], scope="conv1")
    v = tf.placeholder(tf.float32, [None, 3])
    y = layers.stack(v, layers.fully_connected, [5, 4, 2], scope="fc")
    layers.stack(v, functools.partial(layers.fully_connected, activation_fn=None), [2])
    assert y.get_shape().as_list() == [None, 2]
    assert _names(tf.global_variables()) == [
        "conv1/conv1_1/weights:0", "conv1/conv1_1/biases:0", "conv1/conv1_2/weights:0",
        "conv1/conv1_2/biases:0", "fc/fc_1/weights:0", "fc/fc_1/biases:0",
        "fc/fc_2/weights:0", "fc/fc_2/biases:0", "fc/fc_3/weights:0", "fc/fc_3/biases:0",
        "Stack/fully_connected_1/weights:0", "Stack/fully_connected_1/biases:0"]
    with pytest.raises(ValueError, match="stack_args"):
        layers.stack(v, layers.fully_connected, 3)


def test_slim_module_alias():
    import actorflow.contrib.slim as slim
    assert slim.convolution2d is layers.convolution2d
    assert tf.contrib.slim.fully_connected is layers.fully_connected


# -- initializers ----------------------------------------------------------------------------
def test_xavier_uniform_bounds_with_get_variable():
    w = tf.get_variable("w", [200, 100], initializer=layers.xavier_initializer(seed=1))
    wv = _run(w)
    limit = np.sqrt(6.0 / 300)
    assert np.abs(wv).max() <= limit and np.abs(wv).max() > 0.95 * limit
    np.testing.assert_allclose(wv.std(), limit / np.sqrt(3), rtol=0.05)


def test_xavier_normal_and_conv_fans():
    w = tf.get_variable("w", [3, 3, 20, 40], initializer=layers.xavier_initializer_conv2d(
        uniform=False, seed=2))
    wv = _run(w)
    sigma = np.sqrt(1.3 / ((9 * 20 + 9 * 40) / 2))
    assert np.abs(wv).max() <= 2 * sigma + 1e-6
    np.testing.assert_allclose(wv.std(), 0.8796 * sigma, rtol=0.05)


@pytest.mark.parametrize("mode,n", [("FAN_IN", 300), ("FAN_OUT", 50), ("FAN_AVG", 175)])
def test_variance_scaling_initializer_modes(mode, n):
    init = layers.variance_scaling_initializer(factor=2.0, mode=mode, uniform=True, seed=3)
    wv = _run(tf.get_variable("w", [300, 50], initializer=init))
    limit = np.sqrt(3 * 2.0 / n)
    assert np.abs(wv).max() <= limit and np.abs(wv).max() > 0.95 * limit


def test_variance_scaling_initializer_bad_arguments_raise():
    with pytest.raises(TypeError, match="mode"):
        layers.variance_scaling_initializer(mode="fan_in")
    with pytest.raises(TypeError, match="floating"):
        layers.xavier_initializer(dtype=tf.int32)


# -- regularizers ----------------------------------------------------------------------------
def test_l1_l2_and_sum_regularizers():
    wv = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    w = tf.constant(wv)
    l1 = layers.l1_regularizer(0.1)(w)
    l2 = layers.l2_regularizer(0.2)(w)
    both = layers.l1_l2_regularizer(0.1, 0.2)(w)
    summed = layers.sum_regularizer([layers.l1_regularizer(0.1), None,
                                     layers.l2_regularizer(0.2)])(w)
    assert l2.op.name == "l2_regularizer"
    r1, r2, rb, rs = _run([l1, l2, both, summed])
    np.testing.assert_allclose(r1, 0.1 * np.abs(wv).sum(), rtol=1e-6)
    np.testing.assert_allclose(r2, 0.2 * (wv ** 2).sum() / 2, rtol=1e-6)
    np.testing.assert_allclose(rb, r1 + r2, rtol=1e-6)
    np.testing.assert_allclose(rs, r1 + r2, rtol=1e-6)


def test_regularizer_scales():
    assert layers.l2_regularizer(0.0)(tf.constant([1.0])) is None
    with pytest.raises(ValueError, match="less than 0"):
        layers.l1_regularizer(-0.1)
    with pytest.raises(ValueError, match="float"):
        layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="float"):
        layers.l2_regularizer("0.1")


def test_get_variable_regularizer_and_apply_regularization():
    w = tf.get_variable("w", [2, 2], initializer=tf.constant_initializer(2.0),
                        regularizer=layers.l2_regularizer(0.5))
    v = tf.get_variable("v", [3], initializer=tf.constant_initializer(-1.0))
    total = layers.apply_regularization(layers.l1_regularizer(1.0), [w, v])
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 2 and losses[1] is total
    a, b = _run(losses)
    np.testing.assert_allclose(a, 0.5 * 16 / 2)
    np.testing.assert_allclose(b, 8 + 3)
    with pytest.raises(ValueError, match="No weights"):
        layers.apply_regularization(layers.l1_regularizer(1.0))
