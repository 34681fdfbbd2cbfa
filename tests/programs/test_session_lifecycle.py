"""The graph keeps growing after sessions have run (evaluation ops built after training,
assign ops built inside a loop, variables added later), plus default naming of variables
and layers, feeding variables and fetching duplicates: the things notebooks do."""
import numpy as np
import pytest

import actorflow as tf


def test_graph_grows_between_runs():
    v = tf.Variable(0.0, name="counter")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(v.assign(v + 1.0))  # a new op per iteration: common in notebooks
        assert sess.run(v) == 3.0
        w = tf.Variable(10.0, name="late")  # a variable created after the first runs
        sess.run(tf.variables_initializer([w]))
        assert sess.run(v + w) == 13.0
        uninit = tf.Variable(1.0, name="never_initialized")
        names = sess.run(tf.report_uninitialized_variables())
        assert [n.decode() if isinstance(n, bytes) else n for n in names] == \
            ["never_initialized"]
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(uninit)
        assert sess.run(v) == 3.0  # the session survived the error


def test_default_names_of_variables_and_layers():
    a = tf.Variable(1.0)
    b = tf.Variable(2.0)
    x = tf.ones([1, 2])
    d1 = tf.layers.dense(x, 2)
    d2 = tf.layers.dense(x, 2)
    c1 = tf.layers.conv2d(tf.ones([1, 4, 4, 1]), 2, 3)
    bn = tf.layers.batch_normalization(d1)
    assert a.name == "Variable:0" and b.name == "Variable_1:0"
    names = [v.name for v in tf.global_variables()]
    assert "dense/kernel:0" in names and "dense_1/kernel:0" in names
    assert "conv2d/kernel:0" in names and "conv2d/bias:0" in names
    assert "batch_normalization/gamma:0" in names
    assert "batch_normalization/moving_mean:0" in names
    assert d2.op.name.startswith("dense_1/")
    assert c1.shape.as_list() == [1, 2, 2, 2]
    assert bn.shape.as_list() == [1, 2]


def test_feeding_a_variable_and_fetching_duplicates():
    v = tf.Variable([1.0, 2.0])
    y = tf.reduce_sum(v * 3.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y) == 9.0
        assert sess.run(y, {v: [10.0, 0.0]}) == 30.0  # feeding overrides the variable read
        assert sess.run(v).tolist() == [1.0, 2.0]  # ...without writing it
        a, b, c = sess.run([y, y, v])
        assert a == b == 9.0
        assert c.tolist() == [1.0, 2.0]


def test_optimizer_skips_variables_without_gradients_and_rejects_none():
    used = tf.Variable(1.0)
    unused = tf.Variable(5.0)
    loss = tf.square(used)
    train = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
    with pytest.raises(ValueError):
        tf.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=[unused])
    ints = tf.constant([1, 2])
    assert tf.gradients(tf.reduce_sum(tf.cast(ints, tf.float32) * used), [ints])[0] is None
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert sess.run(used) == 0.5
        assert sess.run(unused) == 5.0


def test_broadcast_gradients_and_int_reductions():
    bias = tf.Variable(tf.zeros([1, 3]))
    row = tf.Variable(tf.zeros([3]))
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    y = tf.reduce_sum((x + bias + row) * x)
    gb, gr = tf.gradients(y, [bias, row])
    m = tf.reduce_mean(tf.constant([1, 2, 4]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        gbv, grv, mv = sess.run([gb, gr, m])
    np.testing.assert_allclose(gbv, [[3.0, 5.0, 7.0]])
    np.testing.assert_allclose(grv, [3.0, 5.0, 7.0])
    assert gbv.shape == (1, 3)
    assert mv == 2 and mv.dtype == np.int32


def test_variable_initialized_value_from_the_variables_guide():
    """The TF 1.x variables guide initializes one variable from another this way."""
    weights = tf.Variable(tf.random_normal([3, 2], stddev=0.35, seed=1), name="weights")
    w2 = tf.Variable(weights.initialized_value(), name="w2")
    twice = tf.Variable(weights.initialized_value() * 2.0, name="w_twice")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w, a, b = sess.run([weights, w2, twice])
    np.testing.assert_array_equal(w, a)
    np.testing.assert_allclose(b, 2 * w)


def test_dropout_rate_argument():
    """TF >= 1.13 spells tf.nn.dropout's drop probability `rate` (keep_prob = 1 - rate)."""
    tf.set_random_seed(0)
    x = tf.ones([1000])
    dropped = tf.nn.dropout(x, rate=0.25)
    with tf.Session() as sess:
        out = sess.run(dropped)
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1.0 / 0.75, rtol=1e-6)
    assert 0.65 < kept.size / 1000 < 0.85
