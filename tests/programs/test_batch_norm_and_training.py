"""Training plumbing: batch norm moving averages via UPDATE_OPS and control_dependencies,
gradient clipping with clip_by_global_norm + apply_gradients + global_step, and
learning-rate decay schedules."""
import numpy as np

import actorflow as tf


def test_batch_norm_update_ops_and_training_placeholder():
    rng = np.random.RandomState(0)
    data = (rng.randn(64, 3) * [1.0, 2.0, 3.0] + [5.0, -1.0, 0.5]).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3])
    is_training = tf.placeholder(tf.bool, name="is_training")
    bn = tf.layers.batch_normalization(x, training=is_training, momentum=0.5, name="bn")
    loss = tf.reduce_mean(tf.square(bn - 1.0))
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(update_ops) == 2
    with tf.control_dependencies(update_ops):
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    moving_mean = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
    moving_var = [v for v in tf.global_variables() if "moving_variance" in v.name][0]
    assert moving_mean.name == "bn/moving_mean:0"
    assert moving_mean not in tf.trainable_variables()

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out_train = sess.run(bn, {x: data, is_training: True})
        # Normalised with the batch statistics (beta=0, gamma=1 at start).
        ref = (data - data.mean(0)) / np.sqrt(data.var(0) + 1e-3)
        np.testing.assert_allclose(out_train, ref, rtol=1e-4, atol=1e-4)
        # Running only bn does not update the moving averages...
        np.testing.assert_allclose(sess.run(moving_mean), np.zeros(3))
        # ...running the train op does.
        for _ in range(20):
            sess.run(train_op, {x: data, is_training: True})
        mm, mv = sess.run([moving_mean, moving_var])
        np.testing.assert_allclose(mm, data.mean(0), rtol=1e-3, atol=1e-3)
        assert np.allclose(mv, data.var(0, ddof=0), rtol=0.05) or \
            np.allclose(mv, data.var(0, ddof=1), rtol=0.05)
        beta = sess.run([v for v in tf.trainable_variables() if "beta" in v.name][0])
        out_infer = sess.run(bn, {x: data, is_training: False})
    gamma_val = 1.0  # gamma moves too; just check inference uses moving stats
    assert np.abs(out_infer.mean(0) - beta).max() < 0.1 * max(1.0, gamma_val) + 0.2


def test_clip_by_global_norm_apply_gradients_and_global_step():
    w = tf.Variable([3.0, 4.0], name="w")
    v = tf.Variable([[1.0]], name="v")
    loss = 10.0 * tf.reduce_sum(w * w) + tf.reduce_sum(v)
    global_step = tf.train.get_or_create_global_step()
    opt = tf.train.GradientDescentOptimizer(learning_rate=0.1)
    grads_and_vars = opt.compute_gradients(loss)
    grads, variables = zip(*grads_and_vars)
    clipped, gnorm = tf.clip_by_global_norm(grads, clip_norm=5.0)
    train_op = opt.apply_gradients(zip(clipped, variables), global_step=global_step)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        g_raw, norm = sess.run([list(grads), gnorm])
        expected_norm = np.sqrt(60.0 ** 2 + 80.0 ** 2 + 1.0)
        assert abs(norm - expected_norm) < 1e-3
        sess.run(train_op)
        w_val, v_val, step = sess.run([w, v, global_step])
        assert step == 1
        scale = 5.0 / expected_norm
        np.testing.assert_allclose(w_val, [3.0 - 0.1 * 60 * scale, 4.0 - 0.1 * 80 * scale],
                                   rtol=1e-5)
        np.testing.assert_allclose(v_val, [[1.0 - 0.1 * scale]], rtol=1e-5)
        for _ in range(4):
            sess.run(train_op)
        assert tf.train.global_step(sess, global_step) == 5
    assert global_step.name == "global_step:0"
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP)[0] is global_step
    np.testing.assert_allclose(g_raw[0], [60.0, 80.0])


def test_learning_rate_decay_schedules():
    global_step = tf.Variable(0, trainable=False, name="global_step")
    exp = tf.train.exponential_decay(0.1, global_step, decay_steps=10, decay_rate=0.5)
    stair = tf.train.exponential_decay(0.1, global_step, 10, 0.5, staircase=True)
    piece = tf.train.piecewise_constant(global_step, boundaries=[5, 15], values=[1.0, 0.5, 0.1])
    poly = tf.train.polynomial_decay(0.1, global_step, decay_steps=20, end_learning_rate=0.01,
                                     power=1.0)
    inv = tf.train.inverse_time_decay(0.1, global_step, decay_steps=1, decay_rate=0.5)
    nat = tf.train.natural_exp_decay(0.1, global_step, decay_steps=1, decay_rate=0.5)
    # An optimizer that takes a decaying tensor learning rate.
    w = tf.Variable(1.0)
    opt = tf.train.GradientDescentOptimizer(stair)
    train = opt.minimize(w * 1.0, global_step=global_step)
    increment = tf.assign_add(global_step, 1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        seen = []
        for step in range(25):
            seen.append((step,) + tuple(sess.run([exp, stair, piece, poly, inv, nat])))
            sess.run(increment)
        sess.run(global_step.assign(12))
        w_before = sess.run(w)
        sess.run(train)
        w_after, gs = sess.run([w, global_step])
    for step, e, s, p, po, iv, n in seen:
        assert abs(e - 0.1 * 0.5 ** (step / 10)) < 1e-6
        assert abs(s - 0.1 * 0.5 ** (step // 10)) < 1e-6
        assert abs(p - (1.0 if step <= 5 else 0.5 if step <= 15 else 0.1)) < 1e-6
        frac = min(step, 20) / 20
        assert abs(po - ((0.1 - 0.01) * (1 - frac) + 0.01)) < 1e-6
        assert abs(iv - 0.1 / (1 + 0.5 * step)) < 1e-6
        assert abs(n - 0.1 * np.exp(-0.5 * step)) < 1e-6
    assert abs((w_before - w_after) - 0.05) < 1e-6
    assert gs == 13
