"""Book ch. 5.3: the CIFAR-10 CNN fed by the book's cifar10_input.py. distorted_inputs reads
data_batch_*.bin with a FixedLengthRecordReader from a string_input_producer, decodes the
3073-byte records (label, then the image as CHW planes), crops 24x24 at random, flips,
changes brightness and contrast, standardises each image and batches with shuffle_batch
(16 threads, min_after_dequeue = 40% of an epoch); inputs(eval_data=True) reads
test_batch.bin, crops the centre and batches in order. The network: conv 5x5x64, max pool,
LRN, conv 5x5x64, LRN, max pool, fc 384 and 192 with L2 losses in the 'losses' collection,
summed with add_n and the mean cross-entropy; Adam 1e-3; in_top_k for precision @ 1.

Here the binary files are small ones the test writes (64 records each); the epoch sizes of
cifar10_input follow them. The loss must fall over a few steps and the in_top_k evaluation
must run over the test file. With the real data set in ACTORFLOW_DATA_DIR
(cifar-10-batches-bin/), a slow test trains a few hundred steps and prints precision @ 1."""
import math
import os
import sys
import time

import numpy as np
import pytest

import actorflow as tf

from ._data import missing_message, real_data, write_cifar10

# -- cifar10_input.py -----------------------------------------------------------------------
IMAGE_SIZE = 24
NUM_CLASSES = 10
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = 50000
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = 10000


def read_cifar10(filename_queue):
    class CIFAR10Record(object):
        pass
    result = CIFAR10Record()

    label_bytes = 1
    result.height = 32
    result.width = 32
    result.depth = 3
    image_bytes = result.height * result.width * result.depth
    record_bytes = label_bytes + image_bytes

    reader = tf.FixedLengthRecordReader(record_bytes=record_bytes)
    result.key, value = reader.read(filename_queue)

    record_bytes = tf.decode_raw(value, tf.uint8)

    result.label = tf.cast(
        tf.strided_slice(record_bytes, [0], [label_bytes]), tf.int32)

    depth_major = tf.reshape(
        tf.strided_slice(record_bytes, [label_bytes], [label_bytes + image_bytes]),
        [result.depth, result.height, result.width])
    result.uint8image = tf.transpose(depth_major, [1, 2, 0])

    return result


def _generate_image_and_label_batch(image, label, min_queue_examples,
                                    batch_size, shuffle):
    num_preprocess_threads = 16
    if shuffle:
        images, label_batch = tf.train.shuffle_batch(
            [image, label],
            batch_size=batch_size,
            num_threads=num_preprocess_threads,
            capacity=min_queue_examples + 3 * batch_size,
            min_after_dequeue=min_queue_examples)
    else:
        images, label_batch = tf.train.batch(
            [image, label],
            batch_size=batch_size,
            num_threads=num_preprocess_threads,
            capacity=min_queue_examples + 3 * batch_size)

    tf.summary.image('images', images)

    return images, tf.reshape(label_batch, [batch_size])


def distorted_inputs(data_dir, batch_size):
    filenames = [os.path.join(data_dir, 'data_batch_%d.bin' % i) for i in range(1, 6)]
    for f in filenames:
        if not tf.gfile.Exists(f):
            raise ValueError('Failed to find file: ' + f)

    filename_queue = tf.train.string_input_producer(filenames)

    read_input = read_cifar10(filename_queue)
    reshaped_image = tf.cast(read_input.uint8image, tf.float32)

    height = IMAGE_SIZE
    width = IMAGE_SIZE

    distorted_image = tf.random_crop(reshaped_image, [height, width, 3])
    distorted_image = tf.image.random_flip_left_right(distorted_image)
    distorted_image = tf.image.random_brightness(distorted_image, max_delta=63)
    distorted_image = tf.image.random_contrast(distorted_image, lower=0.2, upper=1.8)

    float_image = tf.image.per_image_standardization(distorted_image)

    float_image.set_shape([height, width, 3])
    read_input.label.set_shape([1])

    min_fraction_of_examples_in_queue = 0.4
    min_queue_examples = int(NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN *
                             min_fraction_of_examples_in_queue)
    print('Filling queue with %d CIFAR images before starting to train. '
          'This will take a few minutes.' % min_queue_examples)

    return _generate_image_and_label_batch(float_image, read_input.label,
                                           min_queue_examples, batch_size,
                                           shuffle=True)


def inputs(eval_data, data_dir, batch_size):
    if not eval_data:
        filenames = [os.path.join(data_dir, 'data_batch_%d.bin' % i) for i in range(1, 6)]
        num_examples_per_epoch = NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN
    else:
        filenames = [os.path.join(data_dir, 'test_batch.bin')]
        num_examples_per_epoch = NUM_EXAMPLES_PER_EPOCH_FOR_EVAL

    for f in filenames:
        if not tf.gfile.Exists(f):
            raise ValueError('Failed to find file: ' + f)

    filename_queue = tf.train.string_input_producer(filenames)

    read_input = read_cifar10(filename_queue)
    reshaped_image = tf.cast(read_input.uint8image, tf.float32)

    height = IMAGE_SIZE
    width = IMAGE_SIZE

    resized_image = tf.image.resize_image_with_crop_or_pad(reshaped_image, height, width)

    float_image = tf.image.per_image_standardization(resized_image)

    float_image.set_shape([height, width, 3])
    read_input.label.set_shape([1])

    min_fraction_of_examples_in_queue = 0.4
    min_queue_examples = int(num_examples_per_epoch * min_fraction_of_examples_in_queue)

    return _generate_image_and_label_batch(float_image, read_input.label,
                                           min_queue_examples, batch_size,
                                           shuffle=False)


# -- the ch. 5.3 program --------------------------------------------------------------------
def variable_with_weight_loss(shape, stddev, wl):
    var = tf.Variable(tf.truncated_normal(shape, stddev=stddev))
    if wl is not None:
        weight_loss = tf.multiply(tf.nn.l2_loss(var), wl, name='weight_loss')
        tf.add_to_collection('losses', weight_loss)
    return var


def loss(logits, labels):
    labels = tf.cast(labels, tf.int64)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        logits=logits, labels=labels, name='cross_entropy_per_example')
    cross_entropy_mean = tf.reduce_mean(cross_entropy, name='cross_entropy')
    tf.add_to_collection('losses', cross_entropy_mean)
    return tf.add_n(tf.get_collection('losses'), name='total_loss')


def cifar10_cnn(data_dir, max_steps, num_examples, batch_size=128):
    """The book's program: trains `max_steps` batches, then measures precision @ 1 over
    `num_examples` test images; returns the losses and the precision."""
    images_train, labels_train = distorted_inputs(data_dir=data_dir, batch_size=batch_size)
    images_test, labels_test = inputs(eval_data=True, data_dir=data_dir,
                                      batch_size=batch_size)

    image_holder = tf.placeholder(tf.float32, [batch_size, 24, 24, 3])
    label_holder = tf.placeholder(tf.int32, [batch_size])

    weight1 = variable_with_weight_loss(shape=[5, 5, 3, 64], stddev=5e-2, wl=0.0)
    kernel1 = tf.nn.conv2d(image_holder, weight1, [1, 1, 1, 1], padding='SAME')
    bias1 = tf.Variable(tf.constant(0.0, shape=[64]))
    conv1 = tf.nn.relu(tf.nn.bias_add(kernel1, bias1))
    pool1 = tf.nn.max_pool(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding='SAME')
    norm1 = tf.nn.lrn(pool1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)

    weight2 = variable_with_weight_loss(shape=[5, 5, 64, 64], stddev=5e-2, wl=0.0)
    kernel2 = tf.nn.conv2d(norm1, weight2, [1, 1, 1, 1], padding='SAME')
    bias2 = tf.Variable(tf.constant(0.1, shape=[64]))
    conv2 = tf.nn.relu(tf.nn.bias_add(kernel2, bias2))
    norm2 = tf.nn.lrn(conv2, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
    pool2 = tf.nn.max_pool(norm2, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding='SAME')

    reshape = tf.reshape(pool2, [batch_size, -1])
    dim = reshape.get_shape()[1].value
    weight3 = variable_with_weight_loss(shape=[dim, 384], stddev=0.04, wl=0.004)
    bias3 = tf.Variable(tf.constant(0.1, shape=[384]))
    local3 = tf.nn.relu(tf.matmul(reshape, weight3) + bias3)

    weight4 = variable_with_weight_loss(shape=[384, 192], stddev=0.04, wl=0.004)
    bias4 = tf.Variable(tf.constant(0.1, shape=[192]))
    local4 = tf.nn.relu(tf.matmul(local3, weight4) + bias4)

    weight5 = variable_with_weight_loss(shape=[192, 10], stddev=1 / 192.0, wl=0.0)
    bias5 = tf.Variable(tf.constant(0.0, shape=[10]))
    logits = tf.add(tf.matmul(local4, weight5), bias5)

    total_loss = loss(logits, label_holder)
    train_op = tf.train.AdamOptimizer(1e-3).minimize(total_loss)
    top_k_op = tf.nn.in_top_k(logits, label_holder, 1)

    sess = tf.InteractiveSession()
    tf.global_variables_initializer().run()
    tf.train.start_queue_runners()

    losses = []
    for step in range(max_steps):
        start_time = time.time()
        image_batch, label_batch = sess.run([images_train, labels_train])
        _, loss_value = sess.run([train_op, total_loss],
                                 feed_dict={image_holder: image_batch,
                                            label_holder: label_batch})
        duration = time.time() - start_time
        losses.append(loss_value)
        if step % 10 == 0:
            examples_per_sec = batch_size / duration
            sec_per_batch = float(duration)
            format_str = 'step %d, loss = %.2f (%.1f examples/sec; %.3f sec/batch)'
            print(format_str % (step, loss_value, examples_per_sec, sec_per_batch))

    num_iter = int(math.ceil(num_examples / batch_size))
    true_count = 0
    total_sample_count = num_iter * batch_size
    step = 0
    while step < num_iter:
        image_batch, label_batch = sess.run([images_test, labels_test])
        predictions = sess.run([top_k_op], feed_dict={image_holder: image_batch,
                                                      label_holder: label_batch})
        true_count += np.sum(predictions)
        step += 1

    precision = true_count / total_sample_count
    print('precision @ 1 = %.3f' % precision)
    sess.close()  # the book leaves it open; closing ends the queue-runner threads
    return losses, precision


# -- tests --------------------------------------------------------------------------------
@pytest.fixture
def small_cifar10(tmp_path, monkeypatch):
    """Five training files of 64 records and a test file of 64; the epoch sizes of
    cifar10_input set to match (min_after_dequeue 40% of 320)."""
    data_dir = tmp_path / "cifar-10-batches-bin"
    written = write_cifar10(data_dir, per_train_file=64, n_test=64)
    monkeypatch.setattr(sys.modules[__name__], "NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN", 5 * 64)
    monkeypatch.setattr(sys.modules[__name__], "NUM_EXAMPLES_PER_EPOCH_FOR_EVAL", 64)
    return data_dir, written


def test_read_cifar10_decodes_the_binary_records(small_cifar10):
    data_dir, written = small_cifar10
    labels, images = written["test_batch.bin"]
    filename_queue = tf.train.string_input_producer(
        [os.path.join(str(data_dir), "test_batch.bin")], shuffle=False)
    record = read_cifar10(filename_queue)
    assert record.uint8image.get_shape().as_list() == [32, 32, 3]
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord=coord)
        try:
            for i in range(3):
                key, label, image = sess.run([record.key, record.label, record.uint8image])
                assert label.tolist() == [labels[i]]
                np.testing.assert_array_equal(image, images[i])
                assert key.decode().endswith("test_batch.bin:%d" % i)  # bytes, as TF fetches it
        finally:
            coord.request_stop()
            coord.join(threads)


def test_cifar10_inputs_shapes_and_standardisation(small_cifar10):
    data_dir, written = small_cifar10
    images_train, labels_train = distorted_inputs(data_dir=str(data_dir), batch_size=32)
    images_test, labels_test = inputs(eval_data=True, data_dir=str(data_dir), batch_size=32)
    assert images_train.get_shape().as_list() == [32, 24, 24, 3]
    assert labels_train.get_shape().as_list() == [32]
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord=coord)
        try:
            x, y = sess.run([images_train, labels_train])
            xt, yt = sess.run([images_test, labels_test])
        finally:
            coord.request_stop()
            coord.join(threads)
    assert y.dtype == np.int32 and 0 <= y.min() and y.max() <= 9
    # per_image_standardization: each image has mean 0 and standard deviation 1
    np.testing.assert_allclose(x.reshape(32, -1).mean(1), 0, atol=1e-4)
    np.testing.assert_allclose(x.reshape(32, -1).std(1), 1, rtol=1e-3)
    # 16 threads fill the eval queue, so the order may vary: each eval image is the
    # standardised centre crop of a test-file image with the same label
    test_labels, test_images = written["test_batch.bin"]
    centre = test_images[:, 4:28, 4:28, :].astype(np.float32).reshape(64, -1)
    centre = (centre - centre.mean(1, keepdims=True)) / np.maximum(
        centre.std(1, keepdims=True), 1 / math.sqrt(centre.shape[1]))
    for image, label in zip(xt.reshape(32, -1), yt):
        matches = np.where(np.abs(centre - image).max(1) < 1e-3)[0]
        assert len(matches) >= 1 and label in test_labels[matches]


def test_cifar10_cnn_loss_falls_and_in_top_k_evaluates(small_cifar10):
    data_dir, _ = small_cifar10
    tf.set_random_seed(0)
    losses, precision = cifar10_cnn(str(data_dir), max_steps=10, num_examples=64,
                                    batch_size=32)
    print("losses", np.round(losses, 3))
    # starts near ln(10) + the L2 terms (~2.2); weight decay and learning both pull it down
    assert 3.5 < losses[0] < 6.0, losses[0]
    assert np.mean(losses[-3:]) < losses[0] - 0.3, losses
    # two batches of 32 from the 64-record test file, every image scored
    assert 0.0 <= precision <= 1.0


@pytest.mark.slow
def test_cifar10_cnn_at_the_books_batch_size_learns_the_classes(small_cifar10):
    data_dir, _ = small_cifar10
    tf.set_random_seed(0)
    losses, precision = cifar10_cnn(str(data_dir), max_steps=20, num_examples=64)
    print("losses", np.round(losses, 3))
    assert np.mean(losses[-5:]) < losses[0] - 1.0, losses
    # the classes differ in colour and in the height of a bright band: far above chance
    assert precision > 0.5, precision


@pytest.mark.slow
def test_cifar10_cnn_on_the_real_data():
    data_dir = real_data("cifar-10-batches-bin")
    if data_dir is None:
        pytest.skip(missing_message("cifar-10-batches-bin"))
    tf.set_random_seed(0)
    losses, precision = cifar10_cnn(str(data_dir), max_steps=300, num_examples=10000)
    print("CIFAR-10 after 300 steps: loss %.2f, precision @ 1 = %.3f "
          "(book: ~0.73 after 3000 steps)" % (np.mean(losses[-10:]), precision))
    assert np.mean(losses[-10:]) < losses[0]
    assert precision > 0.2
