"""Behaviour of the `tf.nn` API beyond the per-op cases: dropout statistics and seeding,
numerical stability, run-time and graph-time errors, composite functions, second derivatives."""
import numpy as np
import pytest

import actorflow as tf

from .op_cases.nn import np_log_softmax, np_sigmoid, np_softmax


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


# -- dropout ---------------------------------------------------------------------------------
def test_dropout_keeps_expectation_and_keep_rate():
    x = tf.ones([200, 100])
    y = tf.nn.dropout(x, 0.7)
    v = _run(y)
    assert v.dtype == np.float32
    kept = v != 0
    np.testing.assert_allclose(v[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.02  # 20000 draws: sd ≈ 0.003
    assert abs(v.mean() - 1.0) < 0.03


def test_dropout_reproducible_under_graph_seed_across_sessions():
    tf.set_random_seed(42)
    y = tf.nn.dropout(tf.ones([50, 20]), 0.5)
    with tf.Session() as s1:
        a1, a2 = s1.run(y), s1.run(y)
    with tf.Session() as s2:
        b1 = s2.run(y)
    np.testing.assert_array_equal(a1, b1)
    assert not np.array_equal(a1, a2)  # a new mask each run


def test_dropout_op_seed_changes_mask():
    tf.set_random_seed(1)
    x = tf.ones([50, 20])
    a, b = tf.nn.dropout(x, 0.5, seed=3), tf.nn.dropout(x, 0.5, seed=4)
    va, vb = _run([a, b])
    assert not np.array_equal(va, vb)


def test_dropout_keep_prob_one_is_identity():
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert tf.nn.dropout(x, 1.0) is x
    kp = tf.placeholder(tf.float32, [])
    y = tf.nn.dropout(x, kp)
    np.testing.assert_array_equal(_run(y, {kp: 1.0}), np.arange(6).reshape(2, 3))


def test_dropout_keep_prob_placeholder_and_gradient():
    x = tf.constant(np.full((40, 30), 3.0, np.float32))
    kp = tf.placeholder(tf.float32, [])
    y = tf.nn.dropout(x, kp)
    (g,) = tf.gradients(tf.reduce_sum(y), [x])
    with tf.Session() as sess:
        vy, vg = sess.run([y, g], {kp: 0.25})
    assert set(np.unique(vy)) <= {0.0, 12.0}
    np.testing.assert_array_equal(vg, vy / 3.0)  # grad = mask / keep_prob, the same draw


def test_dropout_noise_shape_drops_whole_rows():
    y = tf.nn.dropout(tf.ones([64, 8]), 0.5, noise_shape=[64, 1])
    v = _run(y)
    assert all(len(set(row)) == 1 for row in v)
    assert 0 < (v[:, 0] == 0).sum() < 64


def test_dropout_errors():
    with pytest.raises(ValueError, match="range"):
        tf.nn.dropout(tf.ones([2]), 0.0)
    with pytest.raises(ValueError, match="floating point"):
        tf.nn.dropout(tf.constant([1, 2]), 0.5)
    kp = tf.placeholder(tf.float32, [])
    y = tf.nn.dropout(tf.ones([2]), kp, name="drop")
    with pytest.raises(tf.errors.InvalidArgumentError, match="drop"):
        _run(y, {kp: 1.5})


# -- numerical stability ---------------------------------------------------------------------
def test_softmax_family_is_finite_for_large_logits():
    big = tf.constant([[1000.0, 0.0, -1000.0], [-500.0, -500.0, 90.0]])
    labels = tf.constant([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    sm, lsm, ce, sce = _run([
        tf.nn.softmax(big), tf.nn.log_softmax(big),
        tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=big),
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0, 1]), logits=big)])
    for v in (sm, lsm, ce, sce):
        assert v.dtype == np.float32 and np.all(np.isfinite(v))
    np.testing.assert_allclose(sm[0], [1, 0, 0])
    np.testing.assert_allclose(ce, [0.0, 590.0])
    np.testing.assert_allclose(sce, ce)


def test_sigmoid_ce_and_softplus_are_finite_for_large_inputs():
    x = tf.constant([-1000.0, -20.0, 0.0, 20.0, 1000.0])
    z = tf.constant([1.0, 0.0, 0.5, 1.0, 0.0])
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    (g,) = tf.gradients(tf.reduce_sum(loss), [x])
    sp = tf.nn.softplus(x)
    vl, vg, vsp = _run([loss, g, sp])
    np.testing.assert_allclose(vl, [1000.0, 2.0611537e-09, np.log(2), 2.0611537e-09, 1000.0],
                               rtol=1e-5)
    np.testing.assert_allclose(vg, [-1.0, 2.0611537e-09, 0.0, -2.0611537e-09, 1.0],
                               atol=1e-7)
    np.testing.assert_allclose(vsp, [0.0, 2.0611537e-09, np.log(2), 20.0, 1000.0], rtol=1e-6)


# -- cross-entropy errors and gradients --------------------------------------------------------
@pytest.mark.parametrize("bad", [5, -1])
def test_sparse_ce_label_out_of_range_is_invalid_argument(bad):
    labels = tf.placeholder(tf.int32, [None])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                          logits=tf.zeros([2, 5]), name="xent")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"xent.*label value of {bad}.*\[0, 5\)"):
        _run(loss, {labels: [0, bad]})


def test_cross_entropy_graph_errors():
    with pytest.raises(ValueError, match="Rank mismatch"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([2, 1], tf.int32),
                                                       logits=tf.zeros([2, 5]))
    with pytest.raises(TypeError, match="int32 or int64"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([2]),
                                                       logits=tf.zeros([2, 5]))
    with pytest.raises(ValueError, match="named arguments"):
        tf.nn.softmax_cross_entropy_with_logits(tf.zeros([2, 3]), tf.zeros([2, 3]))
    with pytest.raises(ValueError, match="same size"):
        tf.nn.softmax_cross_entropy_with_logits(labels=tf.zeros([2, 4]),
                                                logits=tf.zeros([2, 3]))


def test_softmax_ce_v1_stops_label_gradient():
    z = tf.constant(np_softmax(np.arange(6.0).reshape(2, 3)))
    x = tf.constant(np.ones((2, 3)))
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x)
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x)
    assert tf.gradients(tf.reduce_sum(v1), [z]) == [None]
    (gz,) = tf.gradients(tf.reduce_sum(v2), [z])
    np.testing.assert_allclose(_run(gz), -np_log_softmax(np.ones((2, 3))))


def _hessian_vector_check(loss_fn, x0, v):
    """d/dx <grad loss(x), v> symbolically vs central differences of the first gradient."""
    x = tf.placeholder(tf.float64, x0.shape)
    (g,) = tf.gradients(loss_fn(x), [x])
    (hv,) = tf.gradients(tf.reduce_sum(g * tf.constant(v)), [x])
    with tf.Session() as sess:
        sym = sess.run(hv, {x: x0})
        num = np.zeros_like(x0)
        for i in np.ndindex(x0.shape):
            hi, lo = x0.copy(), x0.copy()
            hi[i] += 1e-6
            lo[i] -= 1e-6
            num[i] = np.sum((sess.run(g, {x: hi}) - sess.run(g, {x: lo})) * v) / 2e-6
    np.testing.assert_allclose(sym, num, atol=1e-6, rtol=1e-4)


def test_cross_entropy_second_derivatives():
    r = np.random.default_rng(0)
    x0, v = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    z = tf.constant(r.uniform(0, 1, (3, 4)))
    _hessian_vector_check(lambda x: tf.reduce_sum(
        tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x)), x0, v)
    _hessian_vector_check(lambda x: tf.reduce_sum(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0, 3, 1]),
                                                       logits=x)), x0, v)
    _hessian_vector_check(lambda x: tf.reduce_sum(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)), x0, v)


def test_softmax_ce_with_unnormalised_labels_has_exact_gradient():
    z0 = np.array([[2.0, 0.0, 1.0]])
    x = tf.constant(np.array([[0.5, -1.0, 2.0]]))
    loss = tf.nn.softmax_cross_entropy_with_logits(labels=tf.constant(z0), logits=x)
    (g,) = tf.gradients(loss, [x])
    np.testing.assert_allclose(_run(g), np_softmax(np.array([[0.5, -1.0, 2.0]])) * 3 - z0)


# -- composites ------------------------------------------------------------------------------
def test_moments_and_batch_normalization():
    r = np.random.default_rng(1)
    x0 = r.standard_normal((4, 3, 5))
    x = tf.constant(x0)
    mean, var = tf.nn.moments(x, axes=[0, 1])
    mk, vk = tf.nn.moments(x, axes=[0, 1], keep_dims=True)
    y = tf.nn.batch_normalization(x, mean, var, offset=tf.constant(np.ones(5)),
                                  scale=tf.constant(np.full(5, 2.0)), variance_epsilon=1e-3)
    y0 = tf.nn.batch_normalization(x, mean, var, None, None, 1e-3)
    m, v, mkv, vkv, yv, y0v = _run([mean, var, mk, vk, y, y0])
    np.testing.assert_allclose(m, x0.mean((0, 1)))
    np.testing.assert_allclose(v, x0.var((0, 1)))
    assert mkv.shape == vkv.shape == (1, 1, 5)
    np.testing.assert_allclose(yv, (x0 - m) / np.sqrt(v + 1e-3) * 2 + 1)
    np.testing.assert_allclose(y0v, (x0 - m) / np.sqrt(v + 1e-3))


def test_l2_normalize_and_layers():
    r = np.random.default_rng(2)
    x0, w0, b0 = r.standard_normal((3, 4)), r.standard_normal((4, 2)), r.standard_normal(2)
    x = tf.constant(x0)
    n, xw, rl = _run([tf.nn.l2_normalize(x, 1), tf.nn.xw_plus_b(x, w0, b0),
                      tf.nn.relu_layer(x, w0, b0)])
    np.testing.assert_allclose(n, x0 / np.linalg.norm(x0, axis=1, keepdims=True))
    np.testing.assert_allclose(xw, x0 @ w0 + b0)
    np.testing.assert_allclose(rl, np.maximum(x0 @ w0 + b0, 0))


def test_bias_add_shape_error():
    with pytest.raises(ValueError, match="bias_add"):
        tf.nn.bias_add(tf.zeros([2, 3]), tf.zeros([4]))


def test_weighted_and_poisson_losses():
    r = np.random.default_rng(3)
    x0, z0 = r.standard_normal((2, 3)) * 3, r.uniform(0, 1, (2, 3))
    w = tf.nn.weighted_cross_entropy_with_logits(tf.constant(z0), tf.constant(x0), 2.5)
    p = tf.nn.log_poisson_loss(tf.constant(z0 * 4), tf.constant(x0))
    pf = tf.nn.log_poisson_loss(tf.constant(z0 * 4), tf.constant(x0), compute_full_loss=True)
    wv, pv, pfv = _run([w, p, pf])
    s = np_sigmoid(x0)
    np.testing.assert_allclose(wv, -2.5 * z0 * np.log(s) - (1 - z0) * np.log(1 - s))
    np.testing.assert_allclose(pv, np.exp(x0) - x0 * z0 * 4)
    t = z0 * 4
    stirling = np.where(t > 1, t * np.log(t) - t + 0.5 * np.log(2 * np.pi * t), 0)
    np.testing.assert_allclose(pfv, pv + stirling)


def test_fused_batch_norm_requires_statistics_for_inference():
    with pytest.raises(ValueError, match="mean"):
        tf.nn.fused_batch_norm(tf.zeros([1, 2, 2, 3]), tf.ones([3]), tf.zeros([3]),
                               is_training=False)


def test_fused_batch_norm_float32_matches_float64():
    r = np.random.default_rng(4)
    x0 = r.standard_normal((4, 5, 5, 6)) * 3 + 1
    s0, o0 = r.uniform(0.5, 1.5, 6), r.standard_normal(6)
    outs = {}
    for dt in (np.float32, np.float64):
        tf.reset_default_graph()
        x = tf.constant(x0.astype(dt))
        y, m, v = tf.nn.fused_batch_norm(x, s0.astype(dt), o0.astype(dt))
        grads = tf.gradients(tf.reduce_sum(y * y), [x])
        outs[dt] = _run([y, m, v] + grads)
    for a, b in zip(outs[np.float32], outs[np.float64]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


# -- embeddings ------------------------------------------------------------------------------
def test_embedding_lookup_single_and_sharded():
    table = np.arange(14.0).reshape(7, 2)
    ids = np.array([[0, 6], [3, 3]])
    single = tf.nn.embedding_lookup(tf.constant(table), ids)
    mod = tf.nn.embedding_lookup([tf.constant(table[p::3]) for p in range(3)], ids)
    div = tf.nn.embedding_lookup([tf.constant(table[:3]), tf.constant(table[3:5]),
                                  tf.constant(table[5:])], ids, partition_strategy="div")
    for v in _run([single, mod, div]):
        np.testing.assert_array_equal(v, table[ids])


def test_embedding_lookup_sparse_gradient_and_bad_ids():
    params = tf.constant(np.zeros((4, 3)))
    ids = tf.placeholder(tf.int32, [None])
    rows = tf.nn.embedding_lookup(params, ids)
    (g,) = tf.gradients(tf.reduce_sum(rows), [params])
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(_run(tf.convert_to_tensor(g), {ids: [1, 1, 3]}),
                                  [[0] * 3, [2] * 3, [0] * 3, [1] * 3])
    shards = [tf.constant(np.zeros((2, 3))), tf.constant(np.zeros((2, 3)))]
    sharded = tf.nn.embedding_lookup(shards, ids)
    with pytest.raises(tf.errors.InvalidArgumentError):
        _run(sharded, {ids: [4]})


# -- top k -----------------------------------------------------------------------------------
def test_top_k_gradient_and_in_top_k():
    x = tf.constant(np.array([[1.0, 5.0, 3.0, 4.0]]))
    values, indices = tf.nn.top_k(x, k=2)
    (g,) = tf.gradients(tf.reduce_sum(values * tf.constant([[10.0, 1.0]], tf.float64)), [x])
    vv, iv, gv = _run([values, indices, g])
    np.testing.assert_array_equal(vv, [[5.0, 4.0]])
    np.testing.assert_array_equal(iv, [[1, 3]])
    np.testing.assert_array_equal(gv, [[0.0, 10.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="at least k"):
        tf.nn.top_k(x, k=5)
    hit = tf.nn.in_top_k(tf.constant([[0.1, 0.9], [0.8, 0.2]]), tf.constant([1, 1]), 1)
    np.testing.assert_array_equal(_run(hit), [True, False])


def test_sigmoid_cross_entropy_of_scalars():
    x, z = tf.constant(0.5), tf.constant(1.0)
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    v, g = _run([loss, tf.gradients(loss, x)[0]])
    assert v.shape == () and v == pytest.approx(np.log1p(np.exp(-0.5)), rel=1e-6)
    assert g == pytest.approx(np_sigmoid(0.5) - 1.0, rel=1e-6)


def test_zero_fraction_counts_zeros_as_float32_scalar():
    x = tf.placeholder(tf.float32, [None, 4])
    frac = tf.nn.zero_fraction(tf.nn.relu(x))
    assert frac.dtype == tf.float32 and frac.shape.as_list() == []
    v = _run(frac, {x: [[-1, 0, 2, 3], [4, -5, 6, 7]]})
    assert v.dtype == np.float32 and v == pytest.approx(3 / 8)
    assert _run(tf.nn.zero_fraction(tf.constant([0, 1, 0, 0], tf.int32))) == pytest.approx(0.75)


def test_nn_namespace_exports():
    for name in ("relu", "softmax", "dropout", "conv2d", "max_pool", "lrn", "sigmoid", "tanh",
                 "sparse_softmax_cross_entropy_with_logits", "embedding_lookup", "top_k"):
        assert callable(getattr(tf.nn, name)), name
