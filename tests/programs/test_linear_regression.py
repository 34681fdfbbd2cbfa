"""Linear regression the way the early TF 1.x tutorials wrote it: placeholders, a feed loop,
GradientDescentOptimizer, and a closed-form NumPy answer to compare against."""
import numpy as np

import actorflow as tf


def test_linear_regression_feed_loop_matches_least_squares():
    rng = np.random.RandomState(0)
    train_x = rng.uniform(-1, 1, size=50).astype(np.float32)
    train_y = (2.5 * train_x + 0.7 + rng.normal(0, 0.05, size=50)).astype(np.float32)

    X = tf.placeholder("float")
    Y = tf.placeholder("float")
    W = tf.Variable(rng.randn(), name="weight")
    b = tf.Variable(rng.randn(), name="bias")
    pred = tf.add(tf.multiply(X, W), b)
    cost = tf.reduce_sum(tf.pow(pred - Y, 2)) / (2 * 50)
    optimizer = tf.train.GradientDescentOptimizer(0.5).minimize(cost)

    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        for _ in range(200):
            sess.run(optimizer, feed_dict={X: train_x, Y: train_y})
        final_cost = sess.run(cost, feed_dict={X: train_x, Y: train_y})
        w_val, b_val = sess.run(W), sess.run(b)

    A = np.stack([train_x, np.ones_like(train_x)], axis=1)
    w_ls, b_ls = np.linalg.lstsq(A.astype(np.float64), train_y.astype(np.float64), rcond=None)[0]
    assert abs(w_val - w_ls) < 1e-3
    assert abs(b_val - b_ls) < 1e-3
    resid = A @ np.array([w_ls, b_ls]) - train_y
    assert abs(final_cost - np.sum(resid ** 2) / 100) < 1e-4


def test_minibatch_regression_with_matrix_weights_and_mse_loss():
    rng = np.random.RandomState(1)
    true_w = np.array([[1.0], [-2.0], [0.5]], np.float32)
    xs = rng.randn(256, 3).astype(np.float32)
    ys = xs @ true_w + 0.3

    x = tf.placeholder(tf.float32, shape=[None, 3], name="x")
    y = tf.placeholder(tf.float32, shape=[None, 1], name="y")
    w = tf.Variable(tf.zeros([3, 1]), name="w")
    b = tf.Variable(tf.zeros([1]), name="b")
    y_hat = tf.matmul(x, w) + b
    loss = tf.losses.mean_squared_error(labels=y, predictions=y_hat)
    train_op = tf.train.MomentumOptimizer(0.05, momentum=0.9).minimize(loss)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = []
        for _epoch in range(30):
            perm = rng.permutation(256)
            for i in range(0, 256, 32):
                idx = perm[i:i + 32]
                _, l = sess.run([train_op, loss], {x: xs[idx], y: ys[idx]})
            losses.append(l)
        w_val, b_val = sess.run([w, b])
    assert losses[-1] < 1e-4 < losses[0]
    np.testing.assert_allclose(w_val, true_w, atol=1e-2)
    np.testing.assert_allclose(b_val, [0.3], atol=1e-2)
