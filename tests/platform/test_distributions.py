"""tf.distributions: Normal, Categorical, Bernoulli, Uniform against closed forms: shapes
of samples, log_prob/prob, entropy, moments, KL, gradients, and the RL usage (a Normal
policy's sample and log_prob, PPO's KL penalty)."""
import math

import numpy as np
import pytest

import actorflow as tf


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_normal_matches_closed_forms_and_samples_have_tf_shape():
    loc, scale = np.array([[0.5], [1.0]], np.float32), np.array([[1.0], [2.0]], np.float32)
    d = tf.distributions.Normal(loc, scale)
    x = np.array([[0.0], [2.0]], np.float32)
    assert d.batch_shape.as_list() == [2, 1] and d.name == "Normal/"
    assert d.sample(1).shape.as_list() == [1, 2, 1]
    assert d.sample([3, 4]).shape.as_list() == [3, 4, 2, 1]
    lp, p, ent, cdf, mean, sd = _run([d.log_prob(x), d.prob(x), d.entropy(), d.cdf(x), d.mean(),
                                     d.stddev()])
    z = (x.astype(np.float64) - loc) / scale
    logpdf = -0.5 * z ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(lp, logpdf, rtol=1e-5)
    np.testing.assert_allclose(p, np.exp(logpdf), rtol=1e-5)
    np.testing.assert_allclose(ent, 0.5 * np.log(2 * np.pi * np.e * scale ** 2), rtol=1e-5)
    np.testing.assert_allclose(cdf, 0.5 * (1 + np.vectorize(math.erf)(z / np.sqrt(2))),
                               rtol=1e-5)
    np.testing.assert_allclose(mean, loc) and np.testing.assert_allclose(sd, scale)
    tf.set_random_seed(1)
    draws = _run(tf.distributions.Normal(2.0, 3.0).sample(20000))
    assert abs(draws.mean() - 2.0) < 0.1 and abs(draws.std() - 3.0) < 0.1


def test_normal_kl_and_log_prob_gradients():
    a = tf.distributions.Normal(0.0, 1.0)
    mu, sigma = tf.constant(0.5), tf.constant(2.0)
    b = tf.distributions.Normal(mu, sigma)
    kl = tf.distributions.kl_divergence(a, b)
    lp = b.log_prob(1.0)
    v, g_mu, g_sigma = _run([kl, *tf.gradients(lp, [mu, sigma])])
    assert v == pytest.approx(np.log(2.0) + (1 + 0.25) / 8 - 0.5, rel=1e-5)
    assert g_mu == pytest.approx((1.0 - 0.5) / 4.0, rel=1e-5)        # (x - mu) / sigma²
    assert g_sigma == pytest.approx(0.25 / 8.0 - 0.5, rel=1e-5)  # (x-mu)²/sigma³ - 1/sigma
    assert _run(a.kl_divergence(a)) == pytest.approx(0.0, abs=1e-7)


def test_categorical_log_prob_entropy_mode_kl_and_samples():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]], np.float32)
    c = tf.distributions.Categorical(logits=logits)
    assert c.batch_shape.as_list() == [2] and c.sample(5).shape.as_list() == [5, 2]
    assert c.sample().dtype == tf.int32
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    k = tf.placeholder(tf.int32, [2])
    lp, ent, mode = _run([c.log_prob(k), c.entropy(), c.mode()], {k: [0, 2]})
    np.testing.assert_allclose(lp, np.log(p[[0, 1], [0, 2]]), rtol=1e-5)
    np.testing.assert_allclose(ent, -(p * np.log(p)).sum(1), rtol=1e-5)
    assert list(mode) == [2, 2]
    other = tf.distributions.Categorical(probs=[[1 / 3] * 3, [1 / 3] * 3])
    kl = _run(tf.distributions.kl_divergence(c, other))
    np.testing.assert_allclose(kl, (p * np.log(p * 3)).sum(1), rtol=1e-4)
    tf.set_random_seed(2)
    draws = _run(tf.distributions.Categorical(probs=[0.2, 0.8]).sample(4000))
    assert abs(draws.mean() - 0.8) < 0.03


def test_bernoulli_and_uniform():
    b = tf.distributions.Bernoulli(probs=0.3)
    lp1, lp0, ent = _run([b.log_prob(1), b.log_prob(0), b.entropy()])
    assert lp1 == pytest.approx(np.log(0.3), rel=1e-5)
    assert lp0 == pytest.approx(np.log(0.7), rel=1e-5)
    assert ent == pytest.approx(-(0.3 * np.log(0.3) + 0.7 * np.log(0.7)), rel=1e-5)
    u = tf.distributions.Uniform(-1.0, 3.0)
    p_in, p_out, ent, mean, s = _run([u.prob(0.0), u.prob(3.5), u.entropy(), u.mean(),
                                      u.sample(1000)])
    assert p_in == pytest.approx(0.25) and p_out == 0.0 and ent == pytest.approx(np.log(4.0))
    assert mean == pytest.approx(1.0) and s.min() >= -1.0 and s.max() < 3.0
    with pytest.raises(ValueError):
        tf.distributions.Categorical()
    with pytest.raises(NotImplementedError):
        tf.distributions.kl_divergence(b, u)


def test_ppo_style_policy_update_runs():
    # MorvanZhou's simply_PPO: pi = Normal(mu, sigma); ratio = pi.prob(a) / oldpi.prob(a);
    # kl = kl_divergence(oldpi, pi); action = squeeze(pi.sample(1), 0)
    s = tf.placeholder(tf.float32, [None, 3])
    a = tf.placeholder(tf.float32, [None, 1])
    adv = tf.placeholder(tf.float32, [None, 1])
    with tf.variable_scope("pi"):
        mu = 2 * tf.layers.dense(s, 1, tf.nn.tanh)
        sigma = tf.layers.dense(s, 1, tf.nn.softplus) + 0.1
        pi = tf.distributions.Normal(loc=mu, scale=sigma)
    with tf.variable_scope("oldpi"):
        old = tf.distributions.Normal(loc=tf.stop_gradient(mu), scale=tf.stop_gradient(sigma))
    sample = tf.squeeze(pi.sample(1), axis=0)
    ratio = pi.prob(a) / (old.prob(a) + 1e-5)
    loss = -tf.reduce_mean(ratio * adv - 0.5 * tf.distributions.kl_divergence(old, pi))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    feed = {s: np.random.randn(8, 3), a: np.random.randn(8, 1), adv: np.random.randn(8, 1)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        act, _ = sess.run([sample, train], feed)
    assert act.shape == (8, 1)
