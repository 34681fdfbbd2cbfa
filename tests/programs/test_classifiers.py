"""Classifiers in the TF 1.x tutorial style: logistic regression with
sigmoid_cross_entropy_with_logits, an MLP with tf.layers.dense and
tf.losses.sparse_softmax_cross_entropy, and accuracy via one_hot / argmax / equal."""
import numpy as np

import actorflow as tf


def _blobs(n, seed):
    rng = np.random.RandomState(seed)
    centers = np.array([[2.0, 2.0], [-2.0, -2.0], [2.0, -2.0]], np.float32)
    labels = rng.randint(0, 3, size=n)
    points = centers[labels] + rng.randn(n, 2).astype(np.float32) * 0.6
    return points.astype(np.float32), labels.astype(np.int64)


def test_logistic_regression_learns_a_linear_boundary():
    rng = np.random.RandomState(0)
    xs = rng.randn(200, 2).astype(np.float32)
    ys = (xs[:, 0] + 2 * xs[:, 1] > 0).astype(np.float32).reshape(-1, 1)

    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.placeholder(tf.float32, [None, 1])
    W = tf.Variable(tf.random_normal([2, 1], stddev=0.01))
    b = tf.Variable(tf.zeros([1]))
    logits = tf.matmul(x, W) + b
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(0.1).minimize(loss)
    predicted = tf.cast(tf.sigmoid(logits) > 0.5, tf.float32)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, y), tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: xs, y: ys})
        for _ in range(200):
            sess.run(train, {x: xs, y: ys})
        last, acc, logit_vals, w_val, b_val = sess.run([loss, accuracy, logits, W, b],
                                                       {x: xs, y: ys})
    assert last < first * 0.5
    assert acc > 0.97
    z = xs @ w_val + b_val
    np.testing.assert_allclose(logit_vals, z, rtol=1e-5, atol=1e-5)
    ref = np.mean(np.maximum(z, 0) - z * ys + np.log1p(np.exp(-np.abs(z))))
    assert abs(last - ref) < 1e-5


def test_mlp_with_layers_dense_and_sparse_softmax_loss():
    tf.set_random_seed(42)
    train_x, train_y = _blobs(300, 0)
    test_x, test_y = _blobs(100, 1)

    x = tf.placeholder(tf.float32, shape=(None, 2), name="features")
    labels = tf.placeholder(tf.int64, shape=(None,), name="labels")
    hidden = tf.layers.dense(x, 16, activation=tf.nn.relu, name="hidden1")
    hidden = tf.layers.dense(hidden, 16, activation=tf.nn.tanh, name="hidden2")
    logits = tf.layers.dense(hidden, 3, name="logits")
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)

    onehot = tf.one_hot(labels, depth=3)
    correct = tf.equal(tf.argmax(logits, axis=1), tf.argmax(onehot, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

    assert len(tf.trainable_variables()) == 6
    assert sorted(v.name for v in tf.trainable_variables())[0] == "hidden1/bias:0"

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(300):
            idx = np.arange(step * 30, step * 30 + 30) % 300
            sess.run(train_op, feed_dict={x: train_x[idx], labels: train_y[idx]})
        acc, logit_vals, l = sess.run([accuracy, logits, loss], {x: test_x, labels: test_y})
    assert acc > 0.95
    shifted = logit_vals - logit_vals.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert abs(l - (-logp[np.arange(100), test_y].mean())) < 1e-5
    assert acc == np.mean(np.argmax(logit_vals, 1) == test_y)


def test_softmax_cross_entropy_with_one_hot_labels_and_tf_nn_softmax():
    x = tf.placeholder(tf.float32, [None, 4])
    y_ = tf.placeholder(tf.int32, [None])
    w = tf.get_variable("w", [4, 3], initializer=tf.zeros_initializer())
    logits = tf.matmul(x, w)
    xent = tf.nn.softmax_cross_entropy_with_logits(labels=tf.one_hot(y_, 3), logits=logits)
    loss = tf.reduce_mean(xent)
    probs = tf.nn.softmax(logits)
    grads = tf.gradients(loss, [w])[0]
    xs = np.eye(4, dtype=np.float32)[:3]
    ys = np.array([0, 1, 2], np.int32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        l, p, g = sess.run([loss, probs, grads], {x: xs, y_: ys})
    assert abs(l - np.log(3)) < 1e-6
    np.testing.assert_allclose(p, np.full((3, 3), 1 / 3), atol=1e-6)
    expected = xs.T @ (np.full((3, 3), 1 / 3) - np.eye(3)) / 3
    np.testing.assert_allclose(g, expected, atol=1e-6)
