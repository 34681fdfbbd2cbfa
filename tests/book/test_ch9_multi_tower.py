"""Book ch. 9.2: towers on /gpu:0 and /gpu:1 with shared variables and averaged gradients.

With allow_soft_placement the towers run wherever a kernel exists (here: the CPU); the
averaged tower gradients must equal single-tower gradient descent on the whole batch. With
two logical CPU devices the same program runs partitioned, one tower per device; without
soft placement a machine without GPUs rejects it naming the op and /gpu:0.
"""
import numpy as np
import pytest

import actorflow as tf

NUM_GPUS = 2
BATCH = 32  # per tower


def inference(images):
    with tf.variable_scope('hidden'):
        weights = tf.get_variable('weights', [20, 16],
                                  initializer=tf.truncated_normal_initializer(stddev=0.1,
                                                                              seed=1))
        biases = tf.get_variable('biases', [16], initializer=tf.constant_initializer(0.1))
        hidden = tf.nn.relu(tf.matmul(images, weights) + biases)
    with tf.variable_scope('softmax_linear'):
        weights = tf.get_variable('weights', [16, 5],
                                  initializer=tf.truncated_normal_initializer(stddev=0.1,
                                                                              seed=2))
        biases = tf.get_variable('biases', [5], initializer=tf.constant_initializer(0.0))
        logits = tf.matmul(hidden, weights) + biases
    return logits


def loss(logits, labels):
    labels = tf.cast(labels, tf.int64)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits, name='cross_entropy_per_example')
    cross_entropy_mean = tf.reduce_mean(cross_entropy, name='cross_entropy')
    tf.add_to_collection('losses', cross_entropy_mean)
    return tf.add_n(tf.get_collection('losses'), name='total_loss')


def tower_loss(scope, images, labels):
    logits = inference(images)
    _ = loss(logits, labels)
    losses = tf.get_collection('losses', scope)
    total_loss = tf.add_n(losses, name='total_loss')
    return total_loss


def average_gradients(tower_grads):
    average_grads = []
    for grad_and_vars in zip(*tower_grads):
        grads = []
        for g, _ in grad_and_vars:
            expanded_g = tf.expand_dims(g, 0)
            grads.append(expanded_g)
        grad = tf.concat(grads, 0)
        grad = tf.reduce_mean(grad, 0)
        v = grad_and_vars[0][1]
        grad_and_var = (grad, v)
        average_grads.append(grad_and_var)
    return average_grads


def _data(seed=0):
    r = np.random.RandomState(seed)
    images = r.randn(NUM_GPUS * BATCH, 20).astype(np.float32)
    labels = r.randint(0, 5, NUM_GPUS * BATCH).astype(np.int32)
    return images, labels


def train_towers(steps=5, tower_device='/gpu:%d', config=None):
    images_np, labels_np = _data()
    with tf.Graph().as_default(), tf.device('/cpu:0'):
        global_step = tf.get_variable('global_step', [],
                                      initializer=tf.constant_initializer(0),
                                      trainable=False, dtype=tf.int32)
        lr = tf.train.exponential_decay(0.1, global_step, 1000, 0.1, staircase=True)
        opt = tf.train.GradientDescentOptimizer(lr)
        images = tf.placeholder(tf.float32, [NUM_GPUS * BATCH, 20])
        labels = tf.placeholder(tf.int32, [NUM_GPUS * BATCH])
        image_splits = tf.split(images, NUM_GPUS, 0)
        label_splits = tf.split(labels, NUM_GPUS, 0)
        tower_grads = []
        with tf.variable_scope(tf.get_variable_scope()):
            for i in range(NUM_GPUS):
                with tf.device(tower_device % i):
                    with tf.name_scope('%s_%d' % ('tower', i)) as scope:
                        total = tower_loss(scope, image_splits[i], label_splits[i])
                        tf.get_variable_scope().reuse_variables()
                        grads = opt.compute_gradients(total)
                        tower_grads.append(grads)
        grads = average_gradients(tower_grads)
        apply_gradient_op = opt.apply_gradients(grads, global_step=global_step)
        init = tf.global_variables_initializer()
        if config is None:
            config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False)
        sess = tf.Session(config=config)
        sess.run(init)
        for _ in range(steps):
            sess.run(apply_gradient_op, {images: images_np, labels: labels_np})
        names = sorted(v.op.name for v in tf.trainable_variables())
        values = {v.op.name: sess.run(v) for v in tf.trainable_variables()}
        step = sess.run(global_step)
        sess.close()
    return names, values, step


def train_single(steps=5):
    images_np, labels_np = _data()
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [NUM_GPUS * BATCH, 20])
        labels = tf.placeholder(tf.int32, [NUM_GPUS * BATCH])
        logits = inference(images)
        total = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(labels, tf.int64), logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(total)
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train, {images: images_np, labels: labels_np})
        values = {v.op.name: sess.run(v) for v in tf.trainable_variables()}
        sess.close()
    return values


def test_towers_match_single_tower_gradient_descent():
    names, towers, step = train_towers()
    single = train_single()
    assert names == ['hidden/biases', 'hidden/weights', 'softmax_linear/biases',
                     'softmax_linear/weights']
    assert step == 5
    for n in names:
        np.testing.assert_allclose(towers[n], single[n], atol=1e-5, rtol=1e-5)


def test_towers_on_two_logical_cpus_run_partitioned_and_match():
    cfg = tf.ConfigProto(device_count={'CPU': 2, 'GPU': 0}, log_device_placement=True)
    names, towers, step = train_towers(tower_device='/cpu:%d', config=cfg)
    single = train_single()
    assert step == 5
    for n in names:
        np.testing.assert_allclose(towers[n], single[n], atol=1e-5, rtol=1e-5)


def test_towers_log_their_cpu_placement(capfd):
    cfg = tf.ConfigProto(device_count={'CPU': 2, 'GPU': 0}, log_device_placement=True)
    train_towers(steps=1, tower_device='/cpu:%d', config=cfg)
    err = capfd.readouterr().err
    cpu = '/job:localhost/replica:0/task:0/device:CPU:'
    assert f'tower_1/hidden/MatMul: (MatMul): {cpu}1' in err
    assert f'tower_0/hidden/MatMul: (MatMul): {cpu}0' in err
    assert f'hidden/weights: (VariableV2): {cpu}0' in err


def test_soft_placement_logs_the_gpu_request(capfd):
    cfg = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True,
                         device_count={'GPU': 0})
    train_towers(steps=1, config=cfg)
    err = capfd.readouterr().err
    assert ('tower_1/hidden/MatMul: (MatMul): /job:localhost/replica:0/task:0/device:CPU:0 '
            '(requested /device:GPU:1)') in err


def test_towers_without_soft_placement_fail_naming_op_and_gpu():
    cfg = tf.ConfigProto(allow_soft_placement=False, device_count={'GPU': 0})
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"operation 'hidden/weights'.*'/device:GPU:0'"):
        train_towers(steps=1, config=cfg)
