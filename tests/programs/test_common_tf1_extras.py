"""APIs that many TF 1.x programs touch beyond the core graph: TensorBoard summaries,
streaming metrics, logging, moving averages of weights, leaky ReLU and transposed
convolution layers (DCGAN-style generators)."""
import numpy as np

import actorflow as tf


def test_summaries_written_by_file_writer(tmp_path):
    x = tf.placeholder(tf.float32, [None])
    loss = tf.reduce_mean(tf.square(x))
    tf.summary.scalar("loss", loss)
    tf.summary.histogram("values", x)
    merged = tf.summary.merge_all()
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(str(tmp_path), sess.graph)
        for step in range(3):
            summary = sess.run(merged, {x: np.arange(4.0) * step})
            writer.add_summary(summary, step)
        writer.close()
    assert any(p.name.startswith("events.out.tfevents") for p in tmp_path.iterdir())


def test_streaming_accuracy_metric_with_local_variables():
    labels = tf.placeholder(tf.int64, [None])
    predictions = tf.placeholder(tf.int64, [None])
    acc, acc_update = tf.metrics.accuracy(labels=labels, predictions=predictions)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(acc_update, {labels: [1, 2, 3], predictions: [1, 2, 0]})
        sess.run(acc_update, {labels: [0], predictions: [0]})
        assert abs(sess.run(acc) - 0.75) < 1e-6


def test_logging_verbosity_calls():
    tf.logging.set_verbosity(tf.logging.INFO)
    tf.logging.info("step %d", 1)
    assert tf.logging.get_verbosity() == tf.logging.INFO


def test_exponential_moving_average_of_weights():
    w = tf.Variable(0.0)
    ema = tf.train.ExponentialMovingAverage(decay=0.5)
    update = tf.assign_add(w, 1.0)
    with tf.control_dependencies([update]):
        train_op = ema.apply([w])
    averaged = ema.average(w)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(2):
            sess.run(train_op)
        # shadow starts at 0; after w=1: 0.5; after w=2: 1.25
        assert abs(sess.run(averaged) - 1.25) < 1e-6


def test_leaky_relu():
    x = tf.constant([-2.0, 0.5])
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(tf.nn.leaky_relu(x, alpha=0.1)), [-0.2, 0.5])


def test_dcgan_generator_with_conv2d_transpose_layers():
    z = tf.placeholder(tf.float32, [None, 4])
    h = tf.reshape(tf.layers.dense(z, 2 * 2 * 8), [-1, 2, 2, 8])
    up = tf.layers.conv2d_transpose(h, 4, 3, strides=2, padding="same")
    img = tf.layers.conv2d_transpose(up, 1, 3, strides=2, padding="same",
                                     activation=tf.nn.tanh)
    assert img.shape.as_list() == [None, 8, 8, 1]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(img, {z: np.ones((2, 4), np.float32)})
    assert out.shape == (2, 8, 8, 1) and np.all(np.abs(out) <= 1.0)
