"""RNN cells and the unrolled RNNs: one-step math against NumPy, variable names and reuse,
sequence_length masking, bidirectional runs, reverse_sequence and unrolled gradients."""
import numpy as np
import pytest

import actorflow as tf

rnn = tf.contrib.rnn


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lstm_step(x, c, h, kernel, bias, forget_bias=1.0):
    z = np.concatenate([x, h], 1) @ kernel + bias
    i, j, f, o = np.split(z, 4, axis=1)
    c = c * _sig(f + forget_bias) + _sig(i) * np.tanh(j)
    return c, np.tanh(c) * _sig(o)


def _lstm_unroll(x, kernel, bias, lengths=None):
    """NumPy LSTM over x [batch, time, depth]: outputs (zero past lengths) and final (c, h)."""
    b, t_max, _ = x.shape
    n = bias.shape[0] // 4
    c, h = np.zeros((b, n)), np.zeros((b, n))
    outs = np.zeros((b, t_max, n))
    lengths = np.full(b, t_max) if lengths is None else np.asarray(lengths)
    for t in range(t_max):
        c2, h2 = _lstm_step(x[:, t], c, h, kernel, bias)
        live = (t < lengths)[:, None]
        c, h = np.where(live, c2, c), np.where(live, h2, h)
        outs[:, t] = np.where(live, h2, 0.0)
    return outs, (c, h)


def _values(sess, cell):
    return {v.op.name.split("/")[-1]: sess.run(v) for v in cell.variables}


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


# -- one step of each cell ---------------------------------------------------------------
def test_basic_lstm_cell_one_step_matches_numpy_and_names_its_variables():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    c0 = rng.standard_normal((3, 5)).astype(np.float32)
    h0 = rng.standard_normal((3, 5)).astype(np.float32)
    cell = tf.nn.rnn_cell.BasicLSTMCell(5)
    assert cell.state_size == (5, 5) and cell.output_size == 5
    out, state = cell(tf.constant(x), tf.nn.rnn_cell.LSTMStateTuple(tf.constant(c0),
                                                                     tf.constant(h0)))
    assert isinstance(state, rnn.LSTMStateTuple)
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert names == ["basic_lstm_cell/bias", "basic_lstm_cell/kernel"]
    assert sorted(v.get_shape().as_list() for v in cell.variables) == [[9, 20], [20]]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        bias = [v for v in cell.variables if v.op.name.endswith("bias")][0]
        bias.load(rng.standard_normal(20).astype(np.float32), sess)  # not all zeros
        w = _values(sess, cell)
        got_out, got_c, got_h = sess.run([out, state.c, state.h])
    c, h = _lstm_step(x, c0, h0, w["kernel"], w["bias"])
    np.testing.assert_allclose(got_c, c, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_h, h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_out, h, rtol=1e-5, atol=1e-5)


def test_basic_lstm_cell_concatenated_state_matches_tuple_state():
    rng = np.random.default_rng(1)
    x, c0, h0 = (rng.standard_normal(s).astype(np.float32) for s in [(2, 3), (2, 4), (2, 4)])
    init = tf.constant_initializer(0.3)
    with tf.variable_scope("a", initializer=init):
        _, s_tuple = rnn.BasicLSTMCell(4)(x, rnn.LSTMStateTuple(c0, h0))
    with tf.variable_scope("b", initializer=init):
        cell = rnn.BasicLSTMCell(4, state_is_tuple=False)
        assert cell.state_size == 8
        _, s_cat = cell(x, np.concatenate([c0, h0], 1))
    a, b = _run([s_tuple, s_cat])
    np.testing.assert_allclose(np.concatenate(a, 1), b, rtol=1e-6)


def test_basic_rnn_and_gru_cells_match_numpy():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3))
    h0 = rng.standard_normal((2, 4))
    rnn_cell, gru = rnn.BasicRNNCell(4), rnn.GRUCell(4)
    out_rnn, _ = rnn_cell(tf.constant(x), tf.constant(h0))
    out_gru, state_gru = gru(tf.constant(x), tf.constant(h0))
    assert out_gru is state_gru
    assert sorted(v.op.name for v in gru.variables) == [
        "gru_cell/candidate/bias", "gru_cell/candidate/kernel", "gru_cell/gates/bias",
        "gru_cell/gates/kernel"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        v = {x.op.name: sess.run(x) for x in tf.global_variables()}
        got_rnn, got_gru = sess.run([out_rnn, out_gru])
    xh = np.concatenate([x, h0], 1)
    ref_rnn = np.tanh(xh @ v["basic_rnn_cell/kernel"] + v["basic_rnn_cell/bias"])
    np.testing.assert_allclose(got_rnn, ref_rnn, rtol=1e-10)
    np.testing.assert_allclose(v["gru_cell/gates/bias"], 1.0)
    r, u = np.split(_sig(xh @ v["gru_cell/gates/kernel"] + v["gru_cell/gates/bias"]), 2, 1)
    c = np.tanh(np.concatenate([x, r * h0], 1) @ v["gru_cell/candidate/kernel"]
                + v["gru_cell/candidate/bias"])
    np.testing.assert_allclose(got_gru, u * h0 + (1 - u) * c, rtol=1e-10)


def test_lstm_cell_with_peepholes_clip_and_projection_matches_numpy():
    rng = np.random.default_rng(3)
    x, c0, m0 = (rng.standard_normal(s) for s in [(2, 3), (2, 4), (2, 2)])
    cell = rnn.LSTMCell(4, use_peepholes=True, cell_clip=0.5, num_proj=2,
                        initializer=tf.random_uniform_initializer(-0.5, 0.5, seed=1))
    assert cell.state_size == (4, 2) and cell.output_size == 2
    out, state = cell(tf.constant(x), rnn.LSTMStateTuple(tf.constant(c0), tf.constant(m0)))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        v = {x.op.name: sess.run(x) for x in tf.global_variables()}
        got_m, got_c = sess.run([out, state.c])
    assert set(v) == {"lstm_cell/kernel", "lstm_cell/bias", "lstm_cell/w_f_diag",
                      "lstm_cell/w_i_diag", "lstm_cell/w_o_diag",
                      "lstm_cell/projection/kernel"}
    i, j, f, o = np.split(np.concatenate([x, m0], 1) @ v["lstm_cell/kernel"]
                          + v["lstm_cell/bias"], 4, 1)
    c = (_sig(f + 1.0 + v["lstm_cell/w_f_diag"] * c0) * c0
         + _sig(i + v["lstm_cell/w_i_diag"] * c0) * np.tanh(j))
    c = np.clip(c, -0.5, 0.5)
    m = _sig(o + v["lstm_cell/w_o_diag"] * c) * np.tanh(c) @ v["lstm_cell/projection/kernel"]
    np.testing.assert_allclose(got_c, c, rtol=1e-10)
    np.testing.assert_allclose(got_m, m, rtol=1e-10)


# -- unrolled RNNs -------------------------------------------------------------------------
def test_dynamic_rnn_matches_numpy_with_sequence_length_and_static_rnn_agrees():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 2))
    lengths = np.array([5, 2, 0])
    inputs = tf.placeholder(tf.float64, [None, 5, 2])
    cell = rnn.BasicLSTMCell(3)
    outs, state = tf.nn.dynamic_rnn(cell, inputs, sequence_length=lengths, dtype=tf.float64)
    assert outs.get_shape().as_list() == [3, 5, 3]  # the batch size comes from the lengths
    assert sorted(v.op.name for v in tf.trainable_variables()) == [
        "rnn/basic_lstm_cell/bias", "rnn/basic_lstm_cell/kernel"]
    with tf.variable_scope("rnn", reuse=True):  # a second, list-based unroll on the same weights
        s_outs, s_state = tf.nn.static_rnn(rnn.BasicLSTMCell(3), tf.unstack(inputs, axis=1),
                                           sequence_length=lengths, dtype=tf.float64,
                                           scope=tf.get_variable_scope())
    assert len(tf.trainable_variables()) == 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = _values(sess, cell)
        got, (c, h), s_got, s_st = sess.run([outs, state, s_outs, s_state], {inputs: x})
    ref, (rc, rh) = _lstm_unroll(x, w["kernel"], w["bias"], lengths)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c, rc, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h, rh, rtol=1e-10, atol=1e-12)
    assert np.all(got[1, 2:] == 0) and np.all(got[2] == 0) and np.all(c[2] == 0)
    np.testing.assert_allclose(np.stack(s_got, 1), got, rtol=1e-12)
    np.testing.assert_allclose(s_st.h, h, rtol=1e-12)


def test_time_major_dynamic_rnn_matches_batch_major():
    x = np.random.default_rng(5).standard_normal((2, 4, 3)).astype(np.float32)
    cell = rnn.GRUCell(3)
    a, sa = tf.nn.dynamic_rnn(cell, tf.constant(x), dtype=tf.float32)
    b, sb = tf.nn.dynamic_rnn(cell, tf.constant(x.transpose(1, 0, 2)), dtype=tf.float32,
                              time_major=True)
    ga, gsa, gb, gsb = _run([a, sa, b, sb])
    np.testing.assert_allclose(gb.transpose(1, 0, 2), ga, rtol=1e-6)
    np.testing.assert_allclose(gsb, gsa, rtol=1e-6)


def test_multi_rnn_cell_scopes_states_and_reuse_rules():
    x = tf.placeholder(tf.float32, [None, 3, 2])
    cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(4), rnn.BasicLSTMCell(3)])
    assert cell.state_size == ((4, 4), (3, 3))
    outs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    assert outs.get_shape().as_list() == [None, 3, 3]
    assert [s.h.get_shape().as_list() for s in state] == [[None, 4], [None, 3]]
    assert sorted(v.op.name for v in tf.trainable_variables()) == [
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
        "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias",
        "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel"]
    assert [v.get_shape().as_list() for v in cell.trainable_variables
            if v.op.name.endswith("kernel")] == [[6, 16], [7, 12]]
    # a new cell in the same scope without reuse is refused, as in TF 1.x
    with pytest.raises(ValueError, match="already exists"):
        tf.nn.dynamic_rnn(rnn.MultiRNNCell([rnn.BasicLSTMCell(4), rnn.BasicLSTMCell(3)]), x,
                          dtype=tf.float32)
    # the same cell object called again shares its weights
    tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, scope="again")
    assert len(tf.trainable_variables()) == 4


def test_dynamic_rnn_errors():
    cell = rnn.BasicRNNCell(2)
    with pytest.raises(ValueError, match="known rank >= 2"):  # an unknown time dim is fine
        tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [4]), dtype=tf.float32)
    with pytest.raises(ValueError, match="dtype must be specified"):
        tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [4, 2, 3]))
    with pytest.raises(ValueError, match="shape\\[1\\] to be provided"):
        tf.nn.static_rnn(rnn.BasicRNNCell(2), [tf.placeholder(tf.float32, [4, None])],
                         dtype=tf.float32)
    with pytest.raises(TypeError, match="RNNCell"):
        tf.nn.bidirectional_dynamic_rnn(cell, "not a cell", tf.zeros([1, 2, 3]),
                                        dtype=tf.float32)


def test_reverse_sequence_matches_numpy_and_its_gradient_reverses_back():
    x = np.arange(2 * 4 * 3, dtype=np.float64).reshape(4, 2, 3)  # [time, batch, depth]
    lengths = np.array([3, 0])
    xt = tf.constant(x)
    y = tf.reverse_sequence(xt, lengths, seq_axis=0, batch_axis=1)
    g = tf.gradients(y * tf.constant(x), xt)[0]
    got, got_g = _run([y, g])
    ref = x.copy()
    ref[:3, 0] = x[2::-1, 0]
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(got_g, ref)  # d/dx sum(rev(x) * x) = rev(x) (an involution)


def _bidirectional_reference(sess, cell_fw, cell_bw, x, lengths):
    w_fw, w_bw = _values(sess, cell_fw), _values(sess, cell_bw)
    out_fw, st_fw = _lstm_unroll(x, w_fw["kernel"], w_fw["bias"], lengths)
    rev = np.stack([np.concatenate([r[:n][::-1], r[n:]]) for r, n in zip(x, lengths)])
    out_bw, st_bw = _lstm_unroll(rev, w_bw["kernel"], w_bw["bias"], lengths)
    out_bw = np.stack([np.concatenate([r[:n][::-1], r[n:]]) for r, n in zip(out_bw, lengths)])
    return out_fw, out_bw, st_fw, st_bw


def test_bidirectional_dynamic_and_static_rnn_match_numpy():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 3))
    lengths = np.array([4, 2])
    fw, bw = rnn.BasicLSTMCell(2), rnn.BasicLSTMCell(2)
    (o_fw, o_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, tf.constant(x), sequence_length=lengths, dtype=tf.float64)
    assert sorted(v.op.name for v in tf.trainable_variables()) == [
        "bidirectional_rnn/bw/basic_lstm_cell/bias", "bidirectional_rnn/bw/basic_lstm_cell/kernel",
        "bidirectional_rnn/fw/basic_lstm_cell/bias", "bidirectional_rnn/fw/basic_lstm_cell/kernel"]
    with tf.variable_scope("bidirectional_rnn", reuse=True) as sc:
        outs, ss_fw, ss_bw = tf.contrib.rnn.static_bidirectional_rnn(
            rnn.BasicLSTMCell(2), rnn.BasicLSTMCell(2), tf.unstack(tf.constant(x), axis=1),
            dtype=tf.float64, sequence_length=lengths, scope=sc)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        ref_fw, ref_bw, rs_fw, rs_bw = _bidirectional_reference(sess, fw, bw, x, lengths)
        got = sess.run([o_fw, o_bw, s_fw.h, s_bw.h, outs, ss_bw.c])
    np.testing.assert_allclose(got[0], ref_fw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1], ref_bw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[2], rs_fw[1], rtol=1e-10)
    np.testing.assert_allclose(got[3], rs_bw[1], rtol=1e-10)
    np.testing.assert_allclose(np.stack(got[4], 1), np.concatenate([ref_fw, ref_bw], 2),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[5], rs_bw[0], rtol=1e-10)


def test_unrolled_lstm_gradients_match_finite_differences():
    rng = np.random.default_rng(7)
    x_val = rng.standard_normal((2, 3, 2))
    weights = rng.standard_normal((2, 3, 2))
    x = tf.placeholder(tf.float64, [2, 3, 2])
    cell = rnn.BasicLSTMCell(2)
    outs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=[3, 2], dtype=tf.float64)
    loss = tf.reduce_sum(outs * weights) + tf.reduce_sum(state.c ** 2)
    kernel = [v for v in cell.variables if v.op.name.endswith("kernel")][0]
    gx, gk = tf.gradients(loss, [x, kernel])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        k0 = sess.run(kernel)
        got_x, got_k = sess.run([gx, gk], {x: x_val})

        def f(xv, kv):
            kernel.load(kv, sess)
            return sess.run(loss, {x: xv})
        eps = 1e-6
        num_x = np.zeros_like(x_val)
        for idx in np.ndindex(x_val.shape):
            d = np.zeros_like(x_val)
            d[idx] = eps
            num_x[idx] = (f(x_val + d, k0) - f(x_val - d, k0)) / (2 * eps)
        num_k = np.zeros_like(k0)
        for idx in np.ndindex(k0.shape):
            d = np.zeros_like(k0)
            d[idx] = eps
            num_k[idx] = (f(x_val, k0 + d) - f(x_val, k0 - d)) / (2 * eps)
    np.testing.assert_allclose(got_x, num_x, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(got_k, num_k, rtol=1e-5, atol=1e-8)
    assert np.all(got_x[1, 2] == 0)  # the step past row 1's length does not reach the loss


def test_dropout_and_residual_wrappers():
    x = np.ones((50, 4), np.float32)
    cell = rnn.DropoutWrapper(rnn.BasicRNNCell(4, activation=tf.identity),
                              output_keep_prob=0.5, seed=3)
    inner = rnn.BasicRNNCell(4, activation=tf.identity, name="inner")
    res = rnn.ResidualWrapper(inner)
    zero = cell.zero_state(50, tf.float32)
    out, state = cell(tf.constant(x), zero)
    r_out, r_state = res(tf.constant(x), zero)
    assert [v.op.name for v in cell.variables] == ["basic_rnn_cell/kernel",
                                                   "basic_rnn_cell/bias"]
    got, st, rg, rs = _run([out, state, r_out, r_state])
    kept = got != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(got[kept], 2 * st[kept], rtol=1e-6)
    np.testing.assert_allclose(rg, x + rs, rtol=1e-6)
    with pytest.raises(ValueError, match="between 0 and 1"):
        rnn.DropoutWrapper(cell, input_keep_prob=1.5)
