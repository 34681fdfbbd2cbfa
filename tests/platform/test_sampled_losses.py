"""nce_loss and sampled_softmax_loss against NumPy for the classes actually sampled, the exact
case (every class sampled uniformly, where sampled softmax IS the full softmax), and training."""
import numpy as np
import pytest

import actorflow as tf

C, D, B = 7, 3, 5


def _problem(seed=0, num_true=1):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((C, D))
    b = rng.standard_normal(C)
    x = rng.standard_normal((B, D))
    labels = np.stack([rng.choice(C, num_true, replace=False) for _ in range(B)])
    return w, b, x, labels.astype(np.int64)


def _sigmoid_ce(z, y):
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def _reference_logits(w, b, x, labels, sampled, true_count, sampled_count, remove_hits):
    true_logits = np.einsum("bd,btd->bt", x, w[labels]) + b[labels] - np.log(true_count)
    sampled_logits = x @ w[sampled].T + b[sampled] - np.log(sampled_count)
    if remove_hits:
        hits = (labels[:, :, None] == sampled[None, None, :]).any(1)
        sampled_logits = sampled_logits + hits * np.finfo(np.float64).min
    return true_logits, sampled_logits


@pytest.mark.parametrize("num_true,remove_hits", [(1, False), (1, True), (2, False)])
def test_nce_loss_matches_numpy_for_the_drawn_classes(num_true, remove_hits):
    w, b, x, labels = _problem(1, num_true)
    sampled_values = tf.nn.log_uniform_candidate_sampler(labels, num_true, 4, True, C, seed=3)
    loss = tf.nn.nce_loss(tf.constant(w), tf.constant(b), labels, tf.constant(x), 4, C,
                          num_true=num_true, sampled_values=sampled_values,
                          remove_accidental_hits=remove_hits)
    assert loss.get_shape().as_list() == [B]
    with tf.Session() as sess:
        got, (sampled, tc, sc) = sess.run([loss, sampled_values])
    t, s = _reference_logits(w, b, x, labels, sampled, tc, sc, remove_hits)
    ref = _sigmoid_ce(t, 1.0 / num_true).sum(1) + _sigmoid_ce(s, 0.0).sum(1)
    np.testing.assert_allclose(got, ref, rtol=1e-5)


def test_sampled_softmax_matches_numpy_and_removes_accidental_hits():
    w, b, x, labels = _problem(2)
    sampled_values = tf.nn.log_uniform_candidate_sampler(labels, 1, 5, True, C, seed=5)
    loss = tf.nn.sampled_softmax_loss(w, b, labels, x, 5, C, sampled_values=sampled_values)
    with tf.Session() as sess:
        got, (sampled, tc, sc) = sess.run([loss, sampled_values])
    t, s = _reference_logits(w, b, x, labels, sampled, tc, sc, True)
    z = np.concatenate([t, s], 1)
    ref = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1) - t[:, 0]
    np.testing.assert_allclose(got, ref, rtol=1e-6)


def test_sampled_softmax_over_every_class_uniformly_is_the_full_softmax():
    """Uniform sampling of all C classes without replacement: every logit is shifted by the
    same log expected count and the sampled copy of the label is removed, so the loss and
    its gradients equal the full softmax cross entropy exactly."""
    w_val, b_val, x_val, labels = _problem(3)
    w, b, x = tf.constant(w_val), tf.constant(b_val), tf.constant(x_val)
    sampled_values = tf.nn.uniform_candidate_sampler(labels, 1, C, True, C, seed=1)
    loss = tf.reduce_sum(tf.nn.sampled_softmax_loss(w, b, labels, x, C, C,
                                                    sampled_values=sampled_values))
    full = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels[:, 0], logits=tf.matmul(x, w, transpose_b=True) + b))
    grads = [tf.convert_to_tensor(g) for g in tf.gradients(loss, [w, b, x])]  # w, b: sparse
    full_grads = tf.gradients(full, [w, b, x])
    with tf.Session() as sess:
        got, ref, g, fg = sess.run([loss, full, grads, full_grads])
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    for a, e in zip(g, fg):
        np.testing.assert_allclose(a, e, rtol=1e-8, atol=1e-12)


def test_default_sampler_and_training_with_sampled_losses_fits_the_full_softmax():
    """Both losses, with their default log-uniform sampler, train a linear classifier whose
    full-softmax accuracy on a separable problem becomes perfect."""
    rng = np.random.default_rng(4)
    classes, dim, n = 20, 8, 200
    centers = rng.standard_normal((classes, dim)) * 3
    y = rng.integers(0, classes, n)
    x = (centers[y] + 0.3 * rng.standard_normal((n, dim))).astype(np.float32)
    tf.set_random_seed(0)
    accs = []
    for loss_fn in (tf.nn.nce_loss, tf.nn.sampled_softmax_loss):
        with tf.variable_scope(loss_fn.__name__):
            w = tf.get_variable("w", [classes, dim], initializer=tf.zeros_initializer())
            b = tf.get_variable("b", [classes], initializer=tf.zeros_initializer())
        loss = tf.reduce_mean(loss_fn(w, b, y[:, None], x, num_sampled=10, num_classes=classes))
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        acc = tf.reduce_mean(tf.to_float(tf.equal(
            tf.argmax(tf.matmul(x, w, transpose_b=True) + b, 1), y)))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(300):
                sess.run(train)
            accs.append(sess.run(acc))
    ops = {op.type for op in tf.get_default_graph().get_operations()}
    assert "LogUniformCandidateSampler" in ops
    assert min(accs) > 0.9, accs


def test_sampler_argument_errors():
    with pytest.raises(ValueError, match="range_max >= num_sampled"):
        tf.nn.uniform_candidate_sampler([[1]], 1, 5, True, 4)
    with pytest.raises(ValueError, match="num_true=2"):
        tf.nn.log_uniform_candidate_sampler(np.zeros((3, 1), np.int64), 2, 1, False, 4)
    s = tf.nn.uniform_candidate_sampler(tf.placeholder(tf.int64, [None, 1]), 1, 2, False, 4)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match="range_max=4"):
        sess.run(s, {s[0].op.inputs[0]: [[7]]})
