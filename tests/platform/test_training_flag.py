"""Layers whose `training` / `is_training` flag is a bool tensor build a tf.cond: one graph
gives training behaviour or inference behaviour as the flag is fed."""
import numpy as np

import actorflow as tf


def _ops_of_type(t):
    return {op.type for op in tf.get_default_graph().get_operations()}


def test_layers_dropout_with_placeholder_flag():
    x = tf.placeholder(tf.float32, [1000])
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.dropout(x, rate=0.5, training=training, seed=1)
    c = tf.contrib.layers.dropout(x, keep_prob=0.5, is_training=training)
    assert "If" in _ops_of_type(y)
    ones = np.ones(1000, np.float32)
    with tf.Session() as sess:
        for out in (y, c):
            train = sess.run(out, {x: ones, training: True})
            assert 0.3 < (train == 0).mean() < 0.7
            np.testing.assert_allclose(train[train != 0], 2.0)
            np.testing.assert_array_equal(sess.run(out, {x: ones, training: False}), ones)


def test_python_bool_flag_builds_no_cond():
    x = tf.placeholder(tf.float32, [10])
    tf.layers.dropout(x, training=True)
    tf.layers.dropout(x, training=False)
    assert "If" not in _ops_of_type(x)


def test_layers_batch_normalization_with_placeholder_flag():
    x = tf.placeholder(tf.float64, [None, 3])
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(x, training=training, momentum=0.5)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    mean_var = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
    data = np.random.default_rng(0).standard_normal((64, 3)) * 2.0 + 5.0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # inference: moving statistics (0, 1) and no update even when the updates are run
        out, _ = sess.run([y, updates], {x: data, training: False})
        np.testing.assert_allclose(out, data / np.sqrt(1 + 1e-3), rtol=1e-6)
        np.testing.assert_allclose(sess.run(mean_var), 0.0)
        # training: batch statistics, and the moving mean moves halfway to the batch mean
        out, _ = sess.run([y, updates], {x: data, training: True})
        np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-6)
        np.testing.assert_allclose(sess.run(mean_var), data.mean(0) * 0.5, rtol=1e-6)


def test_contrib_batch_norm_with_tensor_is_training_and_gradient():
    x = tf.placeholder(tf.float64, [None, 2])
    training = tf.placeholder_with_default(True, [])
    y = tf.contrib.layers.batch_norm(x, is_training=training, updates_collections=None,
                                     scale=True)
    loss = tf.reduce_sum(y * np.array([1.0, -1.0]))
    grads = tf.gradients(loss, [x] + tf.trainable_variables())
    assert all(g is not None for g in grads)
    data = np.random.default_rng(1).standard_normal((8, 2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(grads, {x: data})
        # the batch-normalised output sums to zero per column: d loss / d beta = 8 * (1, -1)
        beta = [v for v in tf.trainable_variables() if "beta" in v.name][0]
        np.testing.assert_allclose(got[1 + tf.trainable_variables().index(beta)], [8, -8])
        np.testing.assert_allclose(got[0].sum(0), 0.0, atol=1e-8)
        mean_var = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
        before = sess.run(mean_var)
        sess.run(y, {x: data, training: False})
        np.testing.assert_array_equal(sess.run(mean_var), before)  # no update in inference
        sess.run(y, {x: data})  # training (the default): updated in place (decay 0.999)
        np.testing.assert_allclose(sess.run(mean_var), before + (data.mean(0) - before) * 0.001,
                                   rtol=1e-6)
