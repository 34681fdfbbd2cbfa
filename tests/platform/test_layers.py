"""tf.layers: variable names, shapes and collections, reuse, and values against NumPy."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def _names(variables) -> list:
    return [v.name for v in variables]


def _conv2d_nhwc(x, w, stride, padding):
    """Reference cross-correlation, x [n,h,w,c], w [kh,kw,c,o], TF SAME/VALID padding."""
    kh, kw = w.shape[:2]
    n, h, wd, _ = x.shape
    if padding == "SAME":
        oh, ow = -(-h // stride), -(-wd // stride)
        ph = max((oh - 1) * stride + kh - h, 0)
        pw = max((ow - 1) * stride + kw - wd, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    else:
        oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, oh, ow, w.shape[3]))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


# -- dense ----------------------------------------------------------------------------------
def test_dense_variables_names_shapes_and_collections():
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.layers.dense(x, 3)
    tf.layers.dense(y, 2, use_bias=False)
    assert _names(tf.global_variables()) == ["dense/kernel:0", "dense/bias:0",
                                             "dense_1/kernel:0"]
    assert _names(tf.trainable_variables()) == _names(tf.global_variables())
    assert tf.global_variables()[0].get_shape().as_list() == [4, 3]
    assert tf.global_variables()[1].get_shape().as_list() == [3]
    assert y.get_shape().as_list() == [None, 3]
    assert y.op.name == "dense/BiasAdd"


def test_dense_computes_activation_of_x_w_plus_b():
    rng = np.random.RandomState(0)
    xv = rng.randn(5, 4).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.layers.dense(x, 3, activation=tf.nn.relu, bias_initializer=tf.constant_initializer(0.3))
    kernel, bias = tf.global_variables()
    out, w, b = _run([y, kernel, bias], {x: xv})
    np.testing.assert_allclose(b, np.full(3, 0.3, np.float32))
    np.testing.assert_allclose(out, np.maximum(xv @ w + b, 0), rtol=1e-5, atol=1e-6)
    assert y.op.name == "dense/Relu"


def test_dense_default_kernel_is_glorot_uniform_and_bias_zero():
    x = tf.placeholder(tf.float32, [None, 30])
    tf.layers.dense(x, 20)
    w, b = _run(tf.global_variables())
    limit = np.sqrt(6.0 / (30 + 20))
    assert np.all(np.abs(w) <= limit) and np.abs(w).max() > 0.8 * limit
    assert np.all(b == 0)


def test_dense_uses_the_enclosing_scope_initializer():
    x = tf.placeholder(tf.float32, [None, 2])
    with tf.variable_scope("net", initializer=tf.constant_initializer(0.5)):
        tf.layers.dense(x, 3)
    assert _names(tf.global_variables()) == ["net/dense/kernel:0", "net/dense/bias:0"]
    w, b = _run(tf.global_variables())
    np.testing.assert_array_equal(w, np.full((2, 3), 0.5, np.float32))
    np.testing.assert_array_equal(b, np.zeros(3, np.float32))


def test_dense_on_rank3_inputs_multiplies_the_last_axis():
    rng = np.random.RandomState(1)
    xv = rng.randn(2, 5, 4).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 5, 4])
    y = tf.layers.dense(x, 3)
    assert y.get_shape().as_list() == [None, 5, 3]
    out, w, b = _run([y] + tf.global_variables(), {x: xv})
    np.testing.assert_allclose(out, np.einsum("bti,io->bto", xv, w) + b, rtol=1e-5, atol=1e-6)


def test_dense_reuse_by_name_and_by_enclosing_scope():
    x = tf.placeholder(tf.float32, [None, 4])
    a = tf.layers.dense(x, 3, name="fc")
    b = tf.layers.dense(x, 3, name="fc", reuse=True)
    with tf.variable_scope("tower"):
        c = tf.layers.dense(x, 3)
    with tf.variable_scope("tower", reuse=True):
        d = tf.layers.dense(x, 3)
    assert _names(tf.global_variables()) == ["fc/kernel:0", "fc/bias:0", "tower/dense/kernel:0",
                                             "tower/dense/bias:0"]
    av, bv, cv, dv = _run([a, b, c, d], {x: np.ones((2, 4), np.float32)})
    np.testing.assert_array_equal(av, bv)
    np.testing.assert_array_equal(cv, dv)


def test_dense_auto_reuse():
    x = tf.placeholder(tf.float32, [None, 4])
    for _ in range(2):
        tf.layers.dense(x, 3, name="a", reuse=tf.AUTO_REUSE)
    assert _names(tf.global_variables()) == ["a/kernel:0", "a/bias:0"]


def test_dense_same_name_without_reuse_raises():
    x = tf.placeholder(tf.float32, [None, 4])
    tf.layers.dense(x, 3, name="fc")
    with pytest.raises(ValueError, match="fc/kernel"):
        tf.layers.dense(x, 3, name="fc")


def test_dense_reuse_with_other_shape_raises():
    x = tf.placeholder(tf.float32, [None, 4])
    tf.layers.dense(x, 3, name="fc")
    with pytest.raises(ValueError):
        tf.layers.dense(x, 5, name="fc", reuse=True)


def test_dense_unknown_last_dimension_raises():
    x = tf.placeholder(tf.float32, [None, None])
    with pytest.raises(ValueError, match="last dimension"):
        tf.layers.dense(x, 3)
    with pytest.raises(ValueError, match="last dimension"):
        tf.layers.dense(tf.placeholder(tf.float32), 3)


@pytest.mark.parametrize("units", [0, -1, 2.5])
def test_dense_bad_units_raise(units):
    with pytest.raises(ValueError, match="units"):
        tf.layers.dense(tf.placeholder(tf.float32, [None, 4]), units)


def test_dense_regularizers_add_regularization_losses():
    x = tf.placeholder(tf.float32, [None, 4])
    tf.layers.dense(x, 3, kernel_regularizer=tf.contrib.layers.l2_regularizer(0.1),
                    bias_regularizer=tf.contrib.layers.l1_regularizer(0.5),
                    bias_initializer=tf.constant_initializer(-2.0))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 2
    k_loss, b_loss, w = _run(losses + [tf.global_variables()[0]])
    np.testing.assert_allclose(k_loss, 0.1 * np.sum(w ** 2) / 2, rtol=1e-5)
    np.testing.assert_allclose(b_loss, 0.5 * 3 * 2.0, rtol=1e-6)


def test_dense_not_trainable():
    tf.layers.dense(tf.placeholder(tf.float32, [None, 4]), 3, trainable=False)
    assert len(tf.global_variables()) == 2 and tf.trainable_variables() == []


def test_dense_layer_object_shares_variables_across_calls():
    layer = tf.layers.Dense(2, name="shared")
    x1 = tf.placeholder(tf.float32, [None, 3])
    x2 = tf.placeholder(tf.float32, [None, 3])
    y1, y2 = layer(x1), layer(x2)
    assert _names(tf.global_variables()) == ["shared/kernel:0", "shared/bias:0"]
    assert layer.trainable_weights == [layer.kernel, layer.bias]
    xv = np.arange(6, dtype=np.float32).reshape(2, 3)
    a, b = _run([y1, y2], {x1: xv, x2: xv})
    np.testing.assert_array_equal(a, b)


def test_dense_gradient_matches_numpy():
    rng = np.random.RandomState(2)
    xv = rng.randn(3, 4).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.layers.dense(x, 2)
    kernel, bias = tf.global_variables()
    gk, gb = tf.gradients(tf.reduce_sum(y * y), [kernel, bias])
    gkv, gbv, w, b = _run([gk, gb, kernel, bias], {x: xv})
    dy = 2 * (xv @ w + b)
    np.testing.assert_allclose(gkv, xv.T @ dy, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gbv, dy.sum(0), rtol=1e-4, atol=1e-5)


# -- conv2d and pooling --------------------------------------------------------------------
@pytest.mark.parametrize("padding,strides", [("valid", 1), ("same", 1), ("same", 2),
                                             ("valid", (2, 1))])
def test_conv2d_matches_numpy(padding, strides):
    rng = np.random.RandomState(3)
    xv = rng.randn(2, 6, 5, 3).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 6, 5, 3])
    y = tf.layers.conv2d(x, 4, (3, 2), strides=strides, padding=padding,
                         bias_initializer=tf.constant_initializer(0.1))
    kernel, bias = tf.global_variables()
    assert _names([kernel, bias]) == ["conv2d/kernel:0", "conv2d/bias:0"]
    assert kernel.get_shape().as_list() == [3, 2, 3, 4]
    out, w, b = _run([y, kernel, bias], {x: xv})
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    if sh == sw:
        ref = _conv2d_nhwc(xv, w, sh, padding.upper()) + b
    else:  # VALID with (2, 1): full stride-1 result subsampled on rows
        ref = _conv2d_nhwc(xv, w, 1, "VALID")[:, ::sh] + b
    assert out.shape == ref.shape
    assert y.get_shape().as_list()[1:] == list(ref.shape[1:])
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_conv2d_channels_first_matches_channels_last():
    rng = np.random.RandomState(4)
    xv = rng.randn(2, 5, 5, 3).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3, 5, 5])
    y = tf.layers.conv2d(x, 2, 3, padding="same", data_format="channels_first",
                         activation=tf.nn.relu)
    kernel, bias = tf.global_variables()
    assert kernel.get_shape().as_list() == [3, 3, 3, 2]
    out, w, b = _run([y, kernel, bias], {x: xv.transpose(0, 3, 1, 2)})
    ref = np.maximum(_conv2d_nhwc(xv, w, 1, "SAME") + b, 0).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_conv2d_names_and_reuse():
    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    tf.layers.conv2d(x, 2, 3)
    tf.layers.conv2d(x, 2, 3, name="c")
    tf.layers.conv2d(x, 2, 3, name="c", reuse=True)
    tf.layers.conv2d(x, 2, 3, use_bias=False)
    assert _names(tf.global_variables()) == ["conv2d/kernel:0", "conv2d/bias:0", "c/kernel:0",
                                             "c/bias:0", "conv2d_1/kernel:0"]


@pytest.mark.parametrize("kwargs,match", [
    ({"kernel_size": (3, 3, 3)}, "kernel_size"), ({"kernel_size": "a"}, "kernel_size"),
    ({"padding": "full"}, "padding"), ({"data_format": "NHWC"}, "data_format"),
    ({"strides": (1, 2, 3)}, "strides")])
def test_conv2d_bad_arguments_raise(kwargs, match):
    args = {"filters": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        tf.layers.conv2d(tf.placeholder(tf.float32, [None, 8, 8, 1]), **args)


def test_conv2d_bad_inputs_raise():
    with pytest.raises(ValueError, match="ndim=4"):
        tf.layers.conv2d(tf.placeholder(tf.float32, [None, 8, 8]), 2, 3)
    with pytest.raises(ValueError, match="channel dimension"):
        tf.layers.conv2d(tf.placeholder(tf.float32, [None, 8, 8, None]), 2, 3)


def test_pooling_matches_numpy():
    rng = np.random.RandomState(5)
    xv = rng.randn(2, 4, 6, 3).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 4, 6, 3])
    mx = tf.layers.max_pooling2d(x, 2, 2)
    av = tf.layers.average_pooling2d(x, (2, 3), (2, 3))
    assert mx.op.name == "max_pooling2d/MaxPool"
    assert mx.get_shape().as_list() == [None, 2, 3, 3]
    assert av.get_shape().as_list() == [None, 2, 2, 3]
    m, a = _run([mx, av], {x: xv})
    np.testing.assert_allclose(m, xv.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4)))
    np.testing.assert_allclose(a, xv.reshape(2, 2, 2, 2, 3, 3).mean(axis=(2, 4)), rtol=1e-5)


def test_pooling_same_padding_and_channels_first():
    rng = np.random.RandomState(6)
    xv = rng.randn(1, 5, 5, 2).astype(np.float32)
    x = tf.placeholder(tf.float32, [1, 2, 5, 5])
    y = tf.layers.max_pooling2d(x, 2, 2, padding="same", data_format="channels_first")
    assert y.get_shape().as_list() == [1, 2, 3, 3]
    out = _run(y, {x: xv.transpose(0, 3, 1, 2)})
    padded = np.pad(xv, [(0, 0), (0, 1), (0, 1), (0, 0)], constant_values=-np.inf)
    ref = padded.reshape(1, 3, 2, 3, 2, 2).max(axis=(2, 4)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out, ref)


def test_pooling_bad_arguments_raise():
    x = tf.placeholder(tf.float32, [None, 4, 4, 1])
    with pytest.raises(ValueError, match="pool_size"):
        tf.layers.max_pooling2d(x, (2, 2, 2), 2)
    with pytest.raises(ValueError, match="padding"):
        tf.layers.average_pooling2d(x, 2, 2, padding="full")


# -- flatten, dropout ----------------------------------------------------------------------
def test_flatten_static_and_dynamic_shapes():
    xv = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2)
    x = tf.placeholder(tf.float32, [None, 3, 4, 2])
    y = tf.layers.flatten(x)
    z = tf.placeholder(tf.float32, [None, None, 2])
    w = tf.layers.flatten(z)
    assert y.get_shape().as_list() == [None, 24]
    assert w.get_shape().as_list() == [None, None]
    yv, wv = _run([y, w], {x: xv, z: xv.reshape(2, 12, 2)})
    np.testing.assert_array_equal(yv, xv.reshape(2, 24))
    np.testing.assert_array_equal(wv, xv.reshape(2, 24))


def test_dropout_not_training_is_identity():
    x = tf.constant(np.ones((4, 5), np.float32))
    y = tf.layers.dropout(x, rate=0.9)
    np.testing.assert_array_equal(_run(y), np.ones((4, 5)))


def test_dropout_training_drops_rate_and_scales_the_rest():
    x = tf.constant(np.ones((100, 100), np.float32))
    y = tf.layers.dropout(x, rate=0.25, training=True, seed=1)
    out = _run(y)
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.03


def test_dropout_training_tensor_selects_at_run_time():
    x = tf.constant(np.ones((50, 50), np.float32))
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.dropout(x, rate=0.5, training=training, seed=3)
    with tf.Session() as sess:
        off = sess.run(y, {training: False})
        on = sess.run(y, {training: True})
    np.testing.assert_array_equal(off, np.ones((50, 50)))
    assert set(np.unique(on)) == {0.0, 2.0}


def test_dropout_bad_rate_and_training_raise():
    x = tf.constant(np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match="rate"):
        tf.layers.dropout(x, rate=1.0)
    with pytest.raises(TypeError, match="training"):
        tf.layers.dropout(x, training=tf.constant(1.0))


# -- batch normalization -------------------------------------------------------------------
def test_batch_normalization_variables_and_update_ops():
    x = tf.placeholder(tf.float32, [None, 3])
    tf.layers.batch_normalization(x, training=True)
    assert _names(tf.global_variables()) == [
        "batch_normalization/gamma:0", "batch_normalization/beta:0",
        "batch_normalization/moving_mean:0", "batch_normalization/moving_variance:0"]
    assert _names(tf.trainable_variables()) == ["batch_normalization/gamma:0",
                                                "batch_normalization/beta:0"]
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    tf.layers.batch_normalization(x, training=False, center=False, scale=False)
    assert _names(tf.global_variables())[4:] == ["batch_normalization_1/moving_mean:0",
                                                 "batch_normalization_1/moving_variance:0"]
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2


def test_batch_normalization_training_normalizes_and_moves_the_averages():
    rng = np.random.RandomState(7)
    xv = (rng.randn(8, 3) * [1.0, 2.0, 3.0] + [1.0, -2.0, 5.0]).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.layers.batch_normalization(x, momentum=0.9, training=True,
                                      gamma_initializer=tf.constant_initializer(2.0),
                                      beta_initializer=tf.constant_initializer(0.5))
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    mm, mv = tf.global_variables()[2:]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(y, {x: xv})
        np.testing.assert_array_equal(sess.run(mm), np.zeros(3))  # not run yet
        sess.run(updates, {x: xv})
        mean, var = sess.run([mm, mv])
    ref = 2.0 * (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 1e-3) + 0.5
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mean, 0.1 * xv.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, 0.9 + 0.1 * xv.var(0), rtol=1e-5)


def test_batch_normalization_inference_uses_moving_statistics():
    xv = np.array([[1.0, 2.0], [3.0, 5.0]], np.float32)
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.layers.batch_normalization(x, epsilon=0.01,
                                      moving_mean_initializer=tf.constant_initializer(1.0),
                                      moving_variance_initializer=tf.constant_initializer(4.0))
    np.testing.assert_allclose(_run(y, {x: xv}), (xv - 1.0) / np.sqrt(4.01), rtol=1e-5)
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []


def test_batch_normalization_4d_channels_first_with_bessel_corrected_moving_variance():
    rng = np.random.RandomState(8)
    xv = rng.randn(2, 3, 2, 2).astype(np.float32) * 3 + 1
    x = tf.placeholder(tf.float32, [2, 3, 2, 2])
    y = tf.layers.batch_normalization(x, axis=1, momentum=0.0, training=True)
    gamma = tf.global_variables()[0]
    assert gamma.get_shape().as_list() == [3]
    mm, mv = tf.global_variables()[2:]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, _ = sess.run([y, tf.get_collection(tf.GraphKeys.UPDATE_OPS)], {x: xv})
        mean, var = sess.run([mm, mv])
    axes = (0, 2, 3)
    ref = (xv - xv.mean(axes, keepdims=True)) / np.sqrt(xv.var(axes, keepdims=True) + 1e-3)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mean, xv.mean(axes), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, xv.var(axes, ddof=1), rtol=1e-5)  # n/(n-1), n = 8


def test_batch_normalization_training_tensor_gates_statistics_and_updates():
    rng = np.random.RandomState(9)
    xv = (rng.randn(6, 2) + 3).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 2])
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(x, momentum=0.5, training=training)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    mm = tf.global_variables()[2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        off, _ = sess.run([y, updates], {x: xv, training: False})
        np.testing.assert_array_equal(sess.run(mm), np.zeros(2))
        on, _ = sess.run([y, updates], {x: xv, training: True})
        np.testing.assert_allclose(sess.run(mm), 0.5 * xv.mean(0), rtol=1e-5)
    np.testing.assert_allclose(off, xv / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_allclose(on, (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 1e-3),
                               rtol=1e-4, atol=1e-4)


def test_batch_normalization_reuse_and_bad_axis():
    x = tf.placeholder(tf.float32, [None, 4])
    tf.layers.batch_normalization(x, name="bn")
    tf.layers.batch_normalization(x, name="bn", reuse=True)
    assert len(tf.global_variables()) == 4
    with pytest.raises(ValueError, match="axis"):
        tf.layers.batch_normalization(x, axis=2)
    with pytest.raises(ValueError, match="rank"):
        tf.layers.batch_normalization(tf.placeholder(tf.float32), training=True)
    with pytest.raises(ValueError, match="axis"):
        tf.layers.batch_normalization(tf.placeholder(tf.float32, [None, None]))


def test_batch_normalization_trains_with_minimize_and_update_ops():
    rng = np.random.RandomState(10)
    xv = rng.randn(16, 3).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3])
    h = tf.layers.batch_normalization(tf.layers.dense(x, 4), training=True)
    loss = tf.reduce_mean(tf.square(tf.layers.dense(h, 1) - 1.0))
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        grads = tf.gradients(loss, tf.trainable_variables())
        train = tf.group(*[tf.assign_sub(v, 0.1 * g)
                           for v, g in zip(tf.trainable_variables(), grads)])
    mm = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: xv})
        for _ in range(20):
            sess.run(train, {x: xv})
        assert sess.run(loss, {x: xv}) < first
        assert np.any(sess.run(mm) != 0)


def test_activity_regularizer_adds_a_loss_of_the_outputs():
    x = tf.constant(np.ones((2, 3), np.float32))
    layer = tf.layers.Dense(2, kernel_initializer=tf.constant_initializer(1.0),
                            activity_regularizer=tf.contrib.layers.l1_regularizer(0.5))
    layer(x)
    (loss,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert layer.losses == [loss]
    np.testing.assert_allclose(_run(loss), 0.5 * 2 * 2 * 3.0)


def test_flatten_channels_first_flattens_in_channels_last_order():
    xv = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    y = tf.layers.flatten(tf.constant(xv), data_format="channels_first")
    np.testing.assert_array_equal(_run(y), xv.transpose(0, 2, 3, 1).reshape(2, 12))
