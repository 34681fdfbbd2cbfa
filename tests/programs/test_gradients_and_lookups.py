"""tf.gradients with grad_ys and stop_gradient, word-vector style embedding lookups,
top_k / in_top_k evaluation, and common tensor manipulation in preprocessing code."""
import numpy as np

import actorflow as tf


def test_gradients_with_grad_ys_and_stop_gradient():
    x = tf.Variable([1.0, 2.0, 3.0])
    y = tf.square(x)
    weights = tf.constant([1.0, 10.0, 100.0])
    g_weighted, = tf.gradients(y, [x], grad_ys=weights)
    z = x * tf.stop_gradient(x)  # derivative treats the second factor as constant
    g_stop, = tf.gradients(z, x)
    a = tf.constant(2.0)
    b = 3.0 * a
    g_multi = tf.gradients([b, a * a], [a])  # gradients of a sum of ys
    unrelated = tf.Variable(0.0)
    g_none = tf.gradients(y, [unrelated, x])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        gw, gs, gm = sess.run([g_weighted, g_stop, g_multi])
    np.testing.assert_allclose(gw, [2.0, 40.0, 600.0])
    np.testing.assert_allclose(gs, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(gm, [3.0 + 4.0])
    assert g_none[0] is None


def test_target_network_pattern_with_stop_gradient():
    """A DQN-style TD error whose target must not receive gradients."""
    q = tf.Variable([[1.0, 2.0], [3.0, 0.5]])
    actions = tf.constant([1, 0])
    rewards = tf.constant([1.0, 0.0])
    q_taken = tf.reduce_sum(q * tf.one_hot(actions, 2), axis=1)
    target = tf.stop_gradient(rewards + 0.9 * tf.reduce_max(q, axis=1))
    loss = tf.reduce_mean(tf.square(target - q_taken))
    grad, = tf.gradients(loss, q)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        g = sess.run(grad)
    q_np = np.array([[1.0, 2.0], [3.0, 0.5]])
    td = np.array([1.0 + 0.9 * 2.0 - 2.0, 0.0 + 0.9 * 3.0 - 3.0])
    expected = np.zeros((2, 2))
    expected[0, 1] = -td[0]
    expected[1, 0] = -td[1]
    np.testing.assert_allclose(g, expected, rtol=1e-6)
    assert q_np.shape == g.shape


def test_embedding_lookup_skipgram_style_training():
    vocab, dim = 6, 4
    tf.set_random_seed(3)
    embeddings = tf.Variable(tf.random_uniform([vocab, dim], -1.0, 1.0), name="embeddings")
    softmax_w = tf.Variable(tf.truncated_normal([vocab, dim], stddev=1.0 / np.sqrt(dim)))
    softmax_b = tf.Variable(tf.zeros([vocab]))
    center = tf.placeholder(tf.int32, shape=[None])
    context = tf.placeholder(tf.int32, shape=[None])
    embed = tf.nn.embedding_lookup(embeddings, center)
    logits = tf.matmul(embed, softmax_w, transpose_b=True) + softmax_b
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=context, logits=logits))
    train = tf.train.AdagradOptimizer(0.5).minimize(loss)
    norm = tf.sqrt(tf.reduce_sum(tf.square(embeddings), 1, keepdims=True))
    normalized = embeddings / norm
    similarity = tf.matmul(tf.nn.embedding_lookup(normalized, [0]), normalized,
                           transpose_b=True)

    # Word pairs: (0,1), (1,0), (2,3), (3,2), (4,5), (5,4) co-occur.
    centers = np.array([0, 1, 2, 3, 4, 5] * 4, np.int32)
    contexts = np.array([1, 0, 3, 2, 5, 4] * 4, np.int32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        emb0 = sess.run(embeddings)
        looked = sess.run(embed, {center: [4, 0, 4]})
        np.testing.assert_array_equal(looked, emb0[[4, 0, 4]])
        first = sess.run(loss, {center: centers, context: contexts})
        for _ in range(100):
            sess.run(train, {center: centers, context: contexts})
        last = sess.run(loss, {center: centers, context: contexts})
        sim, emb = sess.run([similarity, embeddings])
    assert last < 0.5 * first
    ref = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    np.testing.assert_allclose(sim, ref[[0]] @ ref.T, rtol=1e-5, atol=1e-6)


def test_top_k_and_in_top_k():
    logits = np.array([[0.1, 0.5, 0.3, 0.9], [2.0, 1.0, 3.0, 0.0]], np.float32)
    labels = np.array([1, 1], np.int32)
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.int32, [None])
    values, indices = tf.nn.top_k(x, k=2)
    hit1 = tf.nn.in_top_k(x, y, 1)
    hit2 = tf.nn.in_top_k(predictions=x, targets=y, k=2)
    _, top3_indices = tf.nn.top_k(x, 3, sorted=True)
    precision_at_2 = tf.reduce_mean(tf.cast(hit2, tf.float32))
    with tf.Session() as sess:
        v, i, h1, h2, t3, p2 = sess.run([values, indices, hit1, hit2, top3_indices,
                                         precision_at_2], {x: logits, y: labels})
    np.testing.assert_allclose(v, [[0.9, 0.5], [3.0, 2.0]])
    np.testing.assert_array_equal(i, [[3, 1], [2, 0]])
    np.testing.assert_array_equal(h1, [False, False])
    np.testing.assert_array_equal(h2, [True, False])
    np.testing.assert_array_equal(t3, [[3, 1, 2], [2, 0, 1]])
    assert i.dtype == np.int32
    assert abs(p2 - 0.5) < 1e-7


def test_top_k_result_has_values_and_indices_fields():
    """TF 1.x returns a TopKV2(values, indices) namedtuple; programs use `.indices`."""
    top = tf.nn.top_k(tf.constant([[1.0, 3.0, 2.0]]), k=2)
    with tf.Session() as sess:
        values, indices = sess.run([top.values, top.indices])
    np.testing.assert_array_equal(values, [[3.0, 2.0]])
    np.testing.assert_array_equal(indices, [[1, 2]])


def test_preprocessing_tensor_ops():
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = tf.constant(data)
    parts = tf.split(x, num_or_size_splits=2, axis=2)
    merged = tf.concat([parts[1], parts[0]], axis=2)
    t = tf.transpose(x, perm=[0, 2, 1])
    r = tf.reshape(x, [-1, 4])
    sq = tf.squeeze(tf.expand_dims(x, 0), axis=[0])
    sl = x[:, 1:, ::2]
    g = tf.gather(r, [5, 0])
    tiled = tf.tile(tf.constant([[1, 2]]), [2, 3])
    mean, var = tf.nn.moments(x, axes=[0, 1])
    normalized = tf.nn.l2_normalize(r, axis=1)
    clipped = tf.clip_by_value(r, 3.0, 10.0)
    w = tf.where(r > 10.0, r, tf.zeros_like(r))
    dyn = tf.shape(tf.placeholder(tf.float32, [None, 7]))
    with tf.Session() as sess:
        out = sess.run([merged, t, r, sq, sl, g, tiled, mean, var, normalized, clipped, w,
                        dyn], feed_dict={"Placeholder:0": np.zeros((5, 7))})
    (m, tr, rs, s, slc, gat, til, mu, va, nrm, cl, wh, shp) = out
    np.testing.assert_array_equal(m, np.concatenate([data[..., 2:], data[..., :2]], 2))
    np.testing.assert_array_equal(tr, data.transpose(0, 2, 1))
    np.testing.assert_array_equal(rs, data.reshape(-1, 4))
    np.testing.assert_array_equal(s, data)
    np.testing.assert_array_equal(slc, data[:, 1:, ::2])
    np.testing.assert_array_equal(gat, data.reshape(-1, 4)[[5, 0]])
    np.testing.assert_array_equal(til, np.tile([[1, 2]], [2, 3]))
    np.testing.assert_allclose(mu, data.mean((0, 1)), rtol=1e-6)
    np.testing.assert_allclose(va, data.var((0, 1)), rtol=1e-5)
    rr = data.reshape(-1, 4)
    np.testing.assert_allclose(nrm, rr / np.linalg.norm(rr, axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_array_equal(cl, np.clip(rr, 3, 10))
    np.testing.assert_array_equal(wh, np.where(rr > 10, rr, 0))
    np.testing.assert_array_equal(shp, [5, 7])
