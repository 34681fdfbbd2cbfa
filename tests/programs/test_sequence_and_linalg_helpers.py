"""Helpers that TF 1.x NLP and metric-learning code leans on: sequence_mask for padded
sequence losses, tf.norm / tf.eye for normalisation and orthogonality penalties,
tf.make_template for a siamese network, tf.log_sigmoid in a logistic loss."""
import numpy as np

import actorflow as tf


def test_masked_sequence_loss_ignores_padding():
    rng = np.random.RandomState(0)
    batch, max_len, vocab = 3, 5, 4
    logits_np = rng.randn(batch, max_len, vocab).astype(np.float32)
    targets_np = rng.randint(0, vocab, size=(batch, max_len)).astype(np.int32)
    lengths_np = np.array([5, 2, 3], np.int32)

    logits = tf.placeholder(tf.float32, [None, None, vocab])
    targets = tf.placeholder(tf.int32, [None, None])
    lengths = tf.placeholder(tf.int32, [None])
    mask = tf.sequence_mask(lengths, maxlen=tf.shape(targets)[1], dtype=tf.float32)
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    loss = tf.reduce_sum(xent * mask) / tf.reduce_sum(mask)
    with tf.Session() as sess:
        m, l = sess.run([mask, loss], {logits: logits_np, targets: targets_np,
                                       lengths: lengths_np})
    ref_mask = (np.arange(max_len)[None, :] < lengths_np[:, None]).astype(np.float32)
    np.testing.assert_array_equal(m, ref_mask)
    shifted = logits_np - logits_np.max(-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, targets_np[..., None], -1)[..., 0]
    assert abs(l - (nll * ref_mask).sum() / ref_mask.sum()) < 1e-5


def test_orthogonality_penalty_with_eye_and_norm():
    tf.set_random_seed(0)
    w = tf.get_variable("w", [6, 3], initializer=tf.random_normal_initializer(seed=1))
    gram = tf.matmul(w, w, transpose_a=True)
    penalty = tf.square(tf.norm(gram - tf.eye(3), ord="fro", axis=[0, 1]))
    col_norms = tf.norm(w, axis=0)
    train = tf.train.GradientDescentOptimizer(0.02).minimize(penalty)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w0, p0, n0 = sess.run([w, penalty, col_norms])
        np.testing.assert_allclose(p0, np.sum((w0.T @ w0 - np.eye(3)) ** 2), rtol=1e-4)
        np.testing.assert_allclose(n0, np.linalg.norm(w0, axis=0), rtol=1e-5)
        for _ in range(300):
            sess.run(train)
        w1 = sess.run(w)
    np.testing.assert_allclose(w1.T @ w1, np.eye(3), atol=1e-2)


def test_siamese_network_with_make_template_shares_weights():
    def tower(x, units):
        h = tf.layers.dense(x, units, activation=tf.nn.relu, name="h")
        return tf.nn.l2_normalize(tf.layers.dense(h, 2, name="embed"), axis=1)

    embed = tf.make_template("tower", tower, units=8)
    left = tf.placeholder(tf.float32, [None, 3])
    right = tf.placeholder(tf.float32, [None, 3])
    same = tf.placeholder(tf.float32, [None])
    e_left, e_right = embed(left), embed(right)
    assert len(tf.trainable_variables()) == 4
    assert embed.variable_scope_name == "tower"
    assert sorted(v.name for v in embed.trainable_variables)[0] == "tower/embed/bias:0"
    dist = tf.norm(e_left - e_right, axis=1)
    loss = tf.reduce_mean(same * tf.square(dist) +
                          (1 - same) * tf.square(tf.maximum(0.0, 1.0 - dist)))
    train = tf.train.AdamOptimizer(0.02).minimize(loss)

    rng = np.random.RandomState(0)
    a = rng.randn(64, 3).astype(np.float32)
    b = rng.randn(64, 3).astype(np.float32)
    labels = (np.sign(a[:, 0]) == np.sign(b[:, 0])).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        same_input = sess.run(dist, {left: a, right: a})
        first = sess.run(loss, {left: a, right: b, same: labels})
        for _ in range(150):
            sess.run(train, {left: a, right: b, same: labels})
        last = sess.run(loss, {left: a, right: b, same: labels})
    np.testing.assert_allclose(same_input, 0.0, atol=1e-6)
    assert last < 0.7 * first


def test_logistic_loss_with_log_sigmoid():
    scores = tf.placeholder(tf.float32, [None])
    labels = tf.placeholder(tf.float32, [None])
    loss = -tf.reduce_mean(labels * tf.log_sigmoid(scores) +
                           (1 - labels) * tf.log_sigmoid(-scores))
    reference = tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=scores))
    g, = tf.gradients(loss, scores)
    s = np.array([-50.0, -2.0, 0.0, 3.0, 60.0], np.float32)
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0], np.float32)
    with tf.Session() as sess:
        lv, rv, gv = sess.run([loss, reference, g], {scores: s, labels: y})
    assert np.isfinite(lv)
    np.testing.assert_allclose(lv, rv, rtol=1e-5)
    np.testing.assert_allclose(gv, (1 / (1 + np.exp(-s.astype(np.float64))) - y) / 5,
                               rtol=1e-5, atol=1e-7)
