"""dynamic_rnn, bidirectional_dynamic_rnn and raw_rnn on tf.while_loop (rnn.py): unknown time
dimension, sequence_length masking, agreement with static_rnn and NumPy, gradients."""
import numpy as np
import pytest

import actorflow as tf
from actorflow import rnn

B, T, D, H = 3, 5, 2, 4


def _rnn_numpy(x, lengths, kernel, bias):
    """BasicRNNCell (tanh) unrolled in NumPy; outputs past each length are zeros."""
    h = np.zeros((x.shape[0], kernel.shape[1]))
    outs = np.zeros((x.shape[0], x.shape[1], kernel.shape[1]))
    for t in range(x.shape[1]):
        new = np.tanh(np.concatenate([x[:, t], h], 1) @ kernel + bias)
        live = (t < lengths)[:, None]
        h = np.where(live, new, h)
        outs[:, t] = np.where(live, new, 0.0)
    return outs, h


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((B, T, D)), np.array([5, 2, 3], np.int32)


def test_unknown_time_dimension_with_sequence_length_matches_numpy():
    x = tf.placeholder(tf.float64, [None, None, D])
    lens = tf.placeholder(tf.int32, [None])
    cell = rnn.BasicRNNCell(H)
    outs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lens, dtype=tf.float64)
    assert outs.get_shape().as_list() == [None, None, H]
    assert {op.type for op in tf.get_default_graph().get_operations()} >= {"While"}
    xv, lv = _data()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel, bias = sess.run(cell.trainable_variables)
        got_o, got_s = sess.run([outs, state], {x: xv, lens: lv})
        want_o, want_s = _rnn_numpy(xv, lv, kernel, bias)
        np.testing.assert_allclose(got_o, want_o, atol=1e-12)
        np.testing.assert_allclose(got_s, want_s, atol=1e-12)
        # a longer batch through the same graph
        x7 = np.random.default_rng(1).standard_normal((2, 7, D))
        got7 = sess.run(outs, {x: x7, lens: [7, 4]})
        np.testing.assert_allclose(got7, _rnn_numpy(x7, np.array([7, 4]), kernel, bias)[0],
                                   atol=1e-12)


def test_lstm_agrees_with_static_rnn_and_time_major():
    xv, lv = _data()
    x = tf.constant(xv)
    cell = rnn.BasicLSTMCell(H)
    d_out, d_state = tf.nn.dynamic_rnn(cell, x, sequence_length=lv, dtype=tf.float64)
    s_out, s_state = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), sequence_length=lv,
                                      dtype=tf.float64, scope="rnn_static")
    tm_out, tm_state = tf.nn.dynamic_rnn(cell, tf.transpose(x, [1, 0, 2]), sequence_length=lv,
                                         dtype=tf.float64, time_major=True, scope="rnn_tm")
    assert isinstance(d_state, rnn.LSTMStateTuple)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        d, s, tm = sess.run([(d_out, d_state), (s_out, s_state), (tm_out, tm_state)])
    np.testing.assert_allclose(d[0], np.stack(s[0], 1), atol=1e-12)
    np.testing.assert_allclose(d[0], tm[0].transpose(1, 0, 2), atol=1e-12)
    for a, b in zip(d[1], s[1]):
        np.testing.assert_allclose(a, b, atol=1e-12)
    assert np.all(d[0][1, 2:] == 0) and np.all(d[0][2, 3:] == 0)


def test_gradient_matches_finite_differences():
    xv, lv = _data()
    x = tf.placeholder(tf.float64, [B, None, D])
    cell = rnn.BasicRNNCell(H)
    outs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lv, dtype=tf.float64)
    wo = np.random.default_rng(2).standard_normal((B, T, H))
    loss = tf.reduce_sum(outs * wo) + tf.reduce_sum(state * state)
    kernel_var, bias_var = cell.trainable_variables
    gx, gk = tf.gradients(loss, [x, kernel_var])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel, bias = sess.run([kernel_var, bias_var])
        got_x, got_k = sess.run([gx, gk], {x: xv})

    def f(xx, kk):
        o, h = _rnn_numpy(xx, lv, kk, bias)
        return np.sum(o * wo) + np.sum(h * h)
    eps = 1e-6
    for got, base, other in ((got_x, xv, "x"), (got_k, kernel, "k")):
        num = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            d = np.zeros_like(base)
            d[idx] = eps
            if other == "x":
                num[idx] = (f(xv + d, kernel) - f(xv - d, kernel)) / (2 * eps)
            else:
                num[idx] = (f(xv, kernel + d) - f(xv, kernel - d)) / (2 * eps)
        np.testing.assert_allclose(got, num, atol=1e-6)


def test_bidirectional_dynamic_rnn_with_unknown_time():
    x = tf.placeholder(tf.float64, [None, None, D])
    lens = tf.placeholder(tf.int32, [None])
    fw, bw = rnn.BasicRNNCell(H), rnn.BasicRNNCell(H)
    (o_fw, o_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, x, sequence_length=lens, dtype=tf.float64)
    xv, lv = _data()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kf, bf = sess.run(fw.trainable_variables)
        kb, bb = sess.run(bw.trainable_variables)
        got = sess.run([o_fw, o_bw, s_fw, s_bw], {x: xv, lens: lv})
    want_fw, want_sfw = _rnn_numpy(xv, lv, kf, bf)
    rev = np.stack([np.concatenate([xv[b, :lv[b]][::-1], xv[b, lv[b]:]]) for b in range(B)])
    tmp, want_sbw = _rnn_numpy(rev, lv, kb, bb)
    want_bw = np.stack([np.concatenate([tmp[b, :lv[b]][::-1], tmp[b, lv[b]:]])
                        for b in range(B)])
    for g, w in zip(got, [want_fw, want_bw, want_sfw, want_sbw]):
        np.testing.assert_allclose(g, w, atol=1e-12)


def test_raw_rnn_matches_dynamic_rnn():
    x = tf.placeholder(tf.float64, [None, None, D])
    lens = tf.placeholder(tf.int32, [None])
    cell = rnn.BasicRNNCell(H)
    batch, steps = tf.shape(x)[0], tf.shape(x)[1]
    inputs_ta = tf.TensorArray(tf.float64, size=steps).unstack(tf.transpose(x, [1, 0, 2]))

    def loop_fn(time, cell_output, cell_state, loop_state):
        state = cell.zero_state(batch, tf.float64) if cell_output is None else cell_state
        finished = time >= lens
        nxt = tf.cond(tf.reduce_all(finished), lambda: tf.zeros(tf.stack([batch, D]), tf.float64),
                      lambda: inputs_ta.read(tf.minimum(time, steps - 1)))
        nxt.set_shape([None, D])
        loop_state = tf.constant(0) if loop_state is None else loop_state + 1
        return finished, nxt, state, None, loop_state
    emit_ta, final, count = tf.nn.raw_rnn(cell, loop_fn)
    outs = tf.transpose(emit_ta.stack(), [1, 0, 2])
    xv, lv = _data()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel, bias = sess.run(cell.trainable_variables)
        got_o, got_s, got_n = sess.run([outs, final, count], {x: xv, lens: lv})
    want_o, want_s = _rnn_numpy(xv, lv, kernel, bias)
    np.testing.assert_allclose(got_o, want_o, atol=1e-12)
    np.testing.assert_allclose(got_s, want_s, atol=1e-12)
    assert got_n == 5


def test_raw_rnn_rejects_non_callable():
    with pytest.raises(TypeError, match="callable"):
        tf.nn.raw_rnn(rnn.BasicRNNCell(2), "loop_fn")


def test_training_a_dynamic_rnn_reduces_the_loss():
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((16, 6, 1)).astype(np.float32)
    yv = xv.sum(1)  # the running sum of the sequence
    x = tf.placeholder(tf.float32, [None, None, 1])
    y = tf.placeholder(tf.float32, [None, 1])
    outs, state = tf.nn.dynamic_rnn(rnn.BasicRNNCell(8), x, dtype=tf.float32)
    pred = tf.layers.dense(outs[:, -1], 1)
    loss = tf.reduce_mean(tf.square(pred - y))
    train = tf.train.AdamOptimizer(0.02).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: xv, y: yv})
        for _ in range(150):
            sess.run(train, {x: xv, y: yv})
        assert sess.run(loss, {x: xv, y: yv}) < first * 0.2
