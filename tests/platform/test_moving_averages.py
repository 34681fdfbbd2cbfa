"""tf.train.ExponentialMovingAverage: shadow variables, num_updates decay, restore names."""
import numpy as np
import pytest

import actorflow as tf


def test_shadow_follows_formula_with_num_updates():
    w = tf.Variable([1.0, 2.0], name="w")
    step = tf.Variable(0, trainable=False, name="step")
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step)
    with tf.control_dependencies([tf.assign(w, w * 2.0)]):
        train = ema.apply([w])
    with tf.control_dependencies([train]):
        bump = tf.assign_add(step, 1)
    shadow = ema.average(w)
    assert shadow.op.name == "w/ExponentialMovingAverage"
    assert ema.average_name(w) == "w/ExponentialMovingAverage"
    assert shadow in tf.get_collection(tf.GraphKeys.MOVING_AVERAGE_VARIABLES)
    assert shadow not in tf.trainable_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        s = np.array([1.0, 2.0])
        v = np.array([1.0, 2.0])
        for n in range(3):
            sess.run(bump)
            v = v * 2
            decay = min(0.99, (1 + n) / (10 + n))
            s = s - (1 - decay) * (s - v)
            np.testing.assert_allclose(sess.run(shadow), s, rtol=1e-6)


def test_variables_to_restore_maps_shadow_names_and_rejects_bad_input():
    w = tf.Variable(1.0, name="w")
    other = tf.Variable(1.0, name="other", trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.9)
    ema.apply([w])
    restore = ema.variables_to_restore()
    assert restore["w/ExponentialMovingAverage"] is w
    assert restore["other"] is other
    with pytest.raises(TypeError, match="half, float, or double"):
        ema.apply([tf.Variable(1, name="i")])
    with pytest.raises(ValueError, match="Duplicate"):
        ema.apply([w, w])


def test_tensor_average_starts_at_zero_without_running_the_tensor():
    # CIFAR-10's loss averages: initializing must not evaluate the loss, whose input
    # comes from a queue that no runner fills before the session is ready
    q = tf.FIFOQueue(10, tf.float32, shapes=[[]])
    loss = q.dequeue() * 2.0
    ema = tf.train.ExponentialMovingAverage(0.9, name="avg")
    update = ema.apply([loss])
    avg = ema.average(loss)
    assert avg.op.name == loss.op.name + "/avg"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())  # would block on the empty queue
        assert sess.run(avg) == 0.0
        sess.run(q.enqueue(3.0))
        sess.run(update)
        np.testing.assert_allclose(sess.run(avg), 0.1 * 6.0, rtol=1e-6)
