"""Learning-rate schedules, the global step helpers and gradient clipping, against NumPy."""
import math

import numpy as np
import pytest

import actorflow as tf


def _at_steps(make, steps, dtype=tf.int64):
    """Evaluates the schedule built by ``make(step_placeholder)`` at each step."""
    step = tf.placeholder(dtype, [])
    lr = make(step)
    with tf.Session() as sess:
        return [float(sess.run(lr, {step: s})) for s in steps], lr


STEPS = [0, 1, 5, 9, 10, 11, 25, 100]


# -- schedules ---------------------------------------------------------------------------
def test_exponential_decay():
    got, lr = _at_steps(lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5), STEPS)
    assert lr.dtype == tf.float32
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (s / 10) for s in STEPS], rtol=1e-6)
    got, lr = _at_steps(lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5, staircase=True,
                                                             name="lr"), STEPS)
    assert lr.op.name == "lr"
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (s // 10) for s in STEPS], rtol=1e-6)


def test_exponential_decay_requires_a_step():
    with pytest.raises(ValueError, match="global_step is required"):
        tf.train.exponential_decay(0.1, None, 10, 0.5)


def test_inverse_time_and_natural_exp_decay():
    got, _ = _at_steps(lambda s: tf.train.inverse_time_decay(0.1, s, 10, 0.5), STEPS)
    np.testing.assert_allclose(got, [0.1 / (1 + 0.5 * s / 10) for s in STEPS], rtol=1e-6)
    got, _ = _at_steps(lambda s: tf.train.inverse_time_decay(0.1, s, 10, 0.5, True), STEPS)
    np.testing.assert_allclose(got, [0.1 / (1 + 0.5 * (s // 10)) for s in STEPS], rtol=1e-6)
    got, _ = _at_steps(lambda s: tf.train.natural_exp_decay(0.1, s, 10, 0.5), STEPS)
    np.testing.assert_allclose(got, [0.1 * math.exp(-0.5 * s / 10) for s in STEPS], rtol=1e-6)
    got, _ = _at_steps(lambda s: tf.train.natural_exp_decay(0.1, s, 10, 0.5, True), STEPS)
    np.testing.assert_allclose(got, [0.1 * math.exp(-0.5 * (s // 10)) for s in STEPS],
                               rtol=1e-6)


def _poly(lr, s, decay, end, power, cycle):
    if cycle:
        decay = decay * max(1.0, math.ceil(s / decay))
    else:
        s = min(s, decay)
    return (lr - end) * (1 - s / decay) ** power + end


@pytest.mark.parametrize("power,cycle", [(1.0, False), (0.5, False), (2.0, True)])
def test_polynomial_decay(power, cycle):
    got, _ = _at_steps(lambda s: tf.train.polynomial_decay(
        0.1, s, 10, end_learning_rate=0.01, power=power, cycle=cycle), STEPS)
    want = [_poly(0.1, s, 10, 0.01, power, cycle) for s in STEPS]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_piecewise_constant():
    got, _ = _at_steps(lambda s: tf.train.piecewise_constant(s, [5, 10], [1.0, 0.5, 0.1]),
                       [0, 4, 5, 6, 10, 11, 50], dtype=tf.int32)
    assert got == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1])
    got, _ = _at_steps(lambda s: tf.train.piecewise_constant(s, [3], [7, 9]), [2, 3, 4])
    assert got == [7, 7, 9]


def test_piecewise_constant_errors():
    step = tf.placeholder(tf.int64, [])
    with pytest.raises(ValueError, match="1 less than"):
        tf.train.piecewise_constant(step, [1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="same dtype"):
        tf.train.piecewise_constant(step, [1], [1.0, tf.constant(2.0, tf.float64)])


def test_schedule_drives_an_optimizer_through_the_global_step():
    step = tf.train.get_or_create_global_step()
    lr = tf.train.piecewise_constant(step, [2], [1.0, 0.1])
    w = tf.Variable(0.0, name="w")
    train = tf.train.GradientDescentOptimizer(lr).minimize(-w, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            sess.run(train)
        assert sess.run(w) == pytest.approx(1.0 * 3 + 0.1 * 2)


# -- global step -------------------------------------------------------------------------
def test_global_step_helpers():
    assert tf.train.get_global_step() is None
    step = tf.train.create_global_step()
    assert step.op.name == "global_step" and step.dtype == tf.int64
    assert step.get_shape().as_list() == []
    assert step not in tf.trainable_variables()
    assert tf.train.get_global_step() is step
    assert tf.train.get_or_create_global_step() is step
    with pytest.raises(ValueError, match="already exists"):
        tf.train.create_global_step()
    with tf.Session() as sess:
        sess.run(step.initializer)
        assert tf.train.global_step(sess, step) == 0
        assert isinstance(tf.train.global_step(sess, step), int)


def test_global_step_found_by_name_and_type_checked():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(0, dtype=tf.int32, name="global_step", trainable=False)
        assert tf.train.get_global_step() is not None
        assert tf.train.get_global_step().name == v.name
    g2 = tf.Graph()
    with g2.as_default():
        tf.Variable(0.0, name="global_step")
        with pytest.raises(TypeError, match="integer"):
            tf.train.get_global_step()
    g3 = tf.Graph()
    step = tf.train.get_or_create_global_step(g3)
    assert step.graph is g3 and tf.train.get_global_step() is None


# -- clipping ----------------------------------------------------------------------------
def test_global_norm_and_clip_by_global_norm():
    a = np.array([3.0, 4.0], np.float32)
    b = np.array([[12.0]], np.float32)
    ta, tb = tf.constant(a), tf.constant(b)
    norm = tf.global_norm([ta, None, tb])
    clipped, used = tf.clip_by_global_norm([ta, None, tb], 6.5)
    loose, _ = tf.clip_by_global_norm([ta, tb], 100.0)
    assert clipped[1] is None
    with tf.Session() as sess:
        n, (ca, _, cb), u, (la, lb) = sess.run([norm, [clipped[0], norm, clipped[2]], used,
                                                 loose])
    assert n == pytest.approx(13.0) and u == pytest.approx(13.0)
    np.testing.assert_allclose(ca, a * 0.5, rtol=1e-6)
    np.testing.assert_allclose(cb, b * 0.5, rtol=1e-6)
    np.testing.assert_allclose(la, a, rtol=1e-6)
    np.testing.assert_allclose(lb, b, rtol=1e-6)


def test_clip_by_global_norm_with_use_norm_and_inf():
    t = tf.constant([1.0, 1.0])
    clipped, used = tf.clip_by_global_norm([t], 1.0, use_norm=tf.constant(4.0))
    inf_clipped, _ = tf.clip_by_global_norm([t], 1.0, use_norm=tf.constant(np.inf, tf.float32))
    with tf.Session() as sess, np.errstate(invalid="ignore"):
        np.testing.assert_allclose(sess.run(clipped[0]), [0.25, 0.25])
        assert sess.run(used) == 4.0
        assert np.isnan(sess.run(inf_clipped[0])).all()


def test_clip_ops_reject_non_sequences():
    with pytest.raises(TypeError, match="sequence"):
        tf.clip_by_global_norm(tf.constant([1.0]), 1.0)
    with pytest.raises(TypeError, match="sequence"):
        tf.global_norm(tf.constant([1.0]))


def test_clip_by_norm():
    x = np.array([[3.0, 4.0], [0.0, 0.5]], np.float32)
    t = tf.constant(x)
    all_axes = tf.clip_by_norm(t, 2.0)
    rows = tf.clip_by_norm(t, 1.0, axes=[1])
    zero = tf.clip_by_norm(tf.zeros([3]), 1.0)
    with tf.Session() as sess:
        a, r, z = sess.run([all_axes, rows, zero])
    np.testing.assert_allclose(a, x * 2.0 / np.linalg.norm(x), rtol=1e-6)
    np.testing.assert_allclose(r, [[0.6, 0.8], [0.0, 0.5]], rtol=1e-6)
    np.testing.assert_array_equal(z, np.zeros(3))


def test_clip_by_norm_gradient_is_finite_at_zero():
    x = tf.placeholder(tf.float32, [2])
    grad = tf.gradients(tf.reduce_sum(tf.clip_by_norm(x, 1.0)), x)[0]
    with tf.Session() as sess:
        g0 = sess.run(grad, {x: [0.0, 0.0]})
        g1 = sess.run(grad, {x: [0.3, 0.4]})
    assert np.isfinite(g0).all()
    np.testing.assert_allclose(g1, [1.0, 1.0], rtol=1e-6)


def test_clip_by_average_norm():
    x = np.array([3.0, 4.0], np.float32)  # norm 5, average norm 2.5
    t = tf.constant(x)
    clipped = tf.clip_by_average_norm(t, 1.0)
    kept = tf.clip_by_average_norm(t, 10.0)
    with tf.Session() as sess:
        c, k = sess.run([clipped, kept])
    np.testing.assert_allclose(c, x * 1.0 / 2.5, rtol=1e-6)
    np.testing.assert_allclose(k, x, rtol=1e-6)


def test_clipped_gradients_train():
    w = tf.Variable([3.0, 4.0], name="w")
    opt = tf.train.GradientDescentOptimizer(1.0)
    gv = opt.compute_gradients(tf.reduce_sum(w * w))  # grad = [6, 8], norm 10
    grads, _ = tf.clip_by_global_norm([g for g, _ in gv], 5.0)
    train = opt.apply_gradients(zip(grads, [v for _, v in gv]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), [0.0, 0.0], atol=1e-6)
