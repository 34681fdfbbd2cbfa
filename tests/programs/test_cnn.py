"""A small CNN in the tf.layers style (conv2d / max_pooling2d / flatten / dense / dropout)
trained on tiny synthetic images, plus a tf.nn.conv2d program checked against NumPy."""
import numpy as np

import actorflow as tf


def _stripes(n, seed):
    """8x8 single-channel images: class 0 has a horizontal bar, class 1 a vertical bar."""
    rng = np.random.RandomState(seed)
    imgs = rng.rand(n, 8, 8, 1).astype(np.float32) * 0.3
    labels = rng.randint(0, 2, size=n)
    pos = rng.randint(1, 7, size=n)
    for i in range(n):
        if labels[i] == 0:
            imgs[i, pos[i], :, 0] += 1.0
        else:
            imgs[i, :, pos[i], 0] += 1.0
    return imgs, labels.astype(np.int32)


def test_layers_cnn_learns_bar_orientation():
    tf.set_random_seed(0)
    train_x, train_y = _stripes(200, 0)
    test_x, test_y = _stripes(100, 1)

    images = tf.placeholder(tf.float32, [None, 8, 8, 1], name="images")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    training = tf.placeholder_with_default(False, shape=(), name="training")

    conv1 = tf.layers.conv2d(images, filters=8, kernel_size=[3, 3], padding="same",
                             activation=tf.nn.relu, name="conv1")
    pool1 = tf.layers.max_pooling2d(conv1, pool_size=[2, 2], strides=2)
    conv2 = tf.layers.conv2d(pool1, 16, 3, padding="valid", activation=tf.nn.relu)
    pool2 = tf.layers.max_pooling2d(conv2, 2, 2)
    flat = tf.layers.flatten(pool2)
    dense = tf.layers.dense(flat, 32, activation=tf.nn.relu)
    dropout = tf.layers.dropout(dense, rate=0.2, training=training)
    logits = tf.layers.dense(dropout, 2)

    assert conv1.get_shape().as_list() == [None, 8, 8, 8]
    assert pool1.shape.as_list() == [None, 4, 4, 8]
    assert conv2.shape.as_list() == [None, 2, 2, 16]
    assert flat.shape.as_list() == [None, 16]

    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    train_op = tf.train.AdamOptimizer(1e-2).minimize(loss)
    pred = tf.argmax(logits, 1, output_type=tf.int32)
    acc = tf.reduce_mean(tf.to_float(tf.equal(pred, labels)))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(150):
            idx = np.random.RandomState(step).choice(200, 32, replace=False)
            sess.run(train_op, {images: train_x[idx], labels: train_y[idx], training: True})
        test_acc = sess.run(acc, {images: test_x, labels: test_y})
    assert test_acc > 0.9


def test_nn_conv2d_and_max_pool_match_numpy():
    rng = np.random.RandomState(3)
    img = rng.randn(2, 5, 5, 2).astype(np.float32)
    ker = rng.randn(3, 3, 2, 4).astype(np.float32)
    x = tf.constant(img)
    w = tf.Variable(ker)
    b = tf.Variable(tf.constant(0.1, shape=[4]))
    h = tf.nn.relu(tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME") + b)
    p = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

    padded = np.pad(img, [(0, 0), (1, 1), (1, 1), (0, 0)])
    ref = np.zeros((2, 5, 5, 4), np.float64)
    for i in range(5):
        for j in range(5):
            patch = padded[:, i:i + 3, j:j + 3, :]
            ref[:, i, j, :] = np.tensordot(patch, ker, axes=([1, 2, 3], [0, 1, 2]))
    ref = np.maximum(ref + 0.1, 0)
    ref_pool = np.full((2, 3, 3, 4), -np.inf)
    for i in range(3):
        for j in range(3):
            ref_pool[:, i, j, :] = ref[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2, :].max(axis=(1, 2))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        h_val, p_val = sess.run([h, p])
    np.testing.assert_allclose(h_val, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(p_val, ref_pool, rtol=1e-4, atol=1e-5)
    assert p.get_shape().as_list() == [2, 3, 3, 4]
