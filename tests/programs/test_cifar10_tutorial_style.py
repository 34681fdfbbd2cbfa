"""A TF 1.x program in the style of the tensorflow/models CIFAR-10 tutorial (cifar10_train.py
then cifar10_eval.py), small: records of a binary file read by a FixedLengthRecordReader
through a shuffle_batch queue, a conv net with activation summaries (zero_fraction), moving
averages of the losses and of the weights, training in a MonitoredTrainingSession with a
logger hook, StopAtStepHook and NanTensorHook, then evaluation restoring the averaged
weights from the checkpoint, with queue runners started by hand."""
import math

import numpy as np

import actorflow as tf

SIZE, CLASSES, BATCH = 8, 3, 16


def _write_records(path, n, rng):
    """label byte + SIZE*SIZE*3 image bytes, depth-major; each class has its own colour."""
    labels = rng.integers(0, CLASSES, n)
    colours = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200]])
    images = colours[labels][:, :, None, None] + rng.normal(0, 30, (n, 3, SIZE, SIZE))
    images = np.clip(images, 0, 255).astype(np.uint8).reshape(n, -1)
    path.write_bytes(np.concatenate([labels.astype(np.uint8)[:, None], images], 1).tobytes())


def _inputs(filename, shuffle):
    queue = tf.train.string_input_producer([filename])
    reader = tf.FixedLengthRecordReader(record_bytes=1 + SIZE * SIZE * 3)
    _, value = reader.read(queue)
    record = tf.decode_raw(value, tf.uint8)
    label = tf.cast(tf.strided_slice(record, [0], [1]), tf.int32)
    image = tf.transpose(tf.reshape(tf.strided_slice(record, [1], [1 + SIZE * SIZE * 3]),
                                    [3, SIZE, SIZE]), [1, 2, 0])
    image = tf.image.per_image_standardization(tf.cast(image, tf.float32))
    image.set_shape([SIZE, SIZE, 3])
    label.set_shape([1])
    if shuffle:
        images, labels = tf.train.shuffle_batch([image, label], BATCH, capacity=200,
                                                min_after_dequeue=100, num_threads=2)
    else:
        images, labels = tf.train.batch([image, label], BATCH, capacity=200, num_threads=1)
    return images, tf.reshape(labels, [BATCH])


def _inference(images):
    with tf.variable_scope("conv1") as scope:
        kernel = tf.get_variable("weights", [3, 3, 3, 8],
                                 initializer=tf.truncated_normal_initializer(stddev=0.1))
        biases = tf.get_variable("biases", [8], initializer=tf.constant_initializer(0.0))
        conv1 = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(images, kernel, [1, 1, 1, 1], "SAME"),
                                          biases), name=scope.name)
        tf.summary.scalar("conv1/sparsity", tf.nn.zero_fraction(conv1))
    pool1 = tf.nn.max_pool(conv1, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    with tf.variable_scope("softmax_linear"):
        flat = tf.reshape(pool1, [BATCH, -1])
        weights = tf.get_variable("weights", [flat.shape[1].value, CLASSES],
                                  initializer=tf.truncated_normal_initializer(stddev=0.05))
        return tf.matmul(flat, weights)


def _train(train_file, train_dir, steps):
    logged = []
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        images, labels = _inputs(train_file, shuffle=True)
        logits = _inference(images)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(labels, tf.int64), logits=logits), name="cross_entropy")
        loss_averages = tf.train.ExponentialMovingAverage(0.9, name="avg")
        loss_averages_op = loss_averages.apply([loss])  # starts at zero: no dequeue at init
        tf.summary.scalar("loss", loss_averages.average(loss))
        with tf.control_dependencies([loss_averages_op]):
            apply_op = tf.train.GradientDescentOptimizer(0.1).minimize(
                loss, global_step=global_step)
        variable_averages = tf.train.ExponentialMovingAverage(0.99, global_step)
        with tf.control_dependencies([apply_op, variable_averages.apply(
                tf.trainable_variables())]):
            train_op = tf.no_op(name="train")

        class _LoggerHook(tf.train.SessionRunHook):
            def begin(self):
                self._step = -1

            def before_run(self, run_context):
                self._step += 1
                return tf.train.SessionRunArgs(loss)

            def after_run(self, run_context, run_values):
                if self._step % 10 == 0:
                    logged.append(float(run_values.results))

        with tf.train.MonitoredTrainingSession(
                checkpoint_dir=train_dir, save_summaries_steps=10,
                hooks=[tf.train.StopAtStepHook(last_step=steps), tf.train.NanTensorHook(loss),
                       _LoggerHook()]) as mon_sess:
            while not mon_sess.should_stop():
                mon_sess.run(train_op)
    return logged


def _evaluate(test_file, train_dir, num_examples):
    with tf.Graph().as_default():
        images, labels = _inputs(test_file, shuffle=False)
        top_k_op = tf.nn.in_top_k(_inference(images), labels, 1)
        variables_to_restore = tf.train.ExponentialMovingAverage(0.99).variables_to_restore()
        saver = tf.train.Saver(variables_to_restore)
        with tf.Session() as sess:
            ckpt = tf.train.get_checkpoint_state(train_dir)
            saver.restore(sess, ckpt.model_checkpoint_path)
            coord = tf.train.Coordinator()
            threads = []
            for qr in tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS):
                threads.extend(qr.create_threads(sess, coord=coord, daemon=True, start=True))
            num_iter = int(math.ceil(num_examples / BATCH))
            true_count = sum(np.sum(sess.run([top_k_op])) for _ in range(num_iter))
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
    return true_count / (num_iter * BATCH), ckpt.model_checkpoint_path


def test_cifar10_style_train_then_eval_from_moving_averages(tmp_path):
    rng = np.random.default_rng(0)
    _write_records(tmp_path / "train.bin", 400, rng)
    _write_records(tmp_path / "test.bin", 96, rng)
    train_dir = str(tmp_path / "train")
    logged = _train(str(tmp_path / "train.bin"), train_dir, steps=60)
    assert len(logged) == 6 and logged[-1] < logged[0]
    precision, path = _evaluate(str(tmp_path / "test.bin"), train_dir, 96)
    assert path.endswith("model.ckpt-60")
    assert precision > 0.9
