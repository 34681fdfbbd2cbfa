"""Patterns from real TF 1.x codebases: layer objects reused across inputs, a GAN-style pair
of optimizers with var_list per scope, contrib.layers networks with xavier init and
regularizers, an autoencoder with tied-ish decoder, ConfigProto and device scopes."""
import numpy as np

import actorflow as tf


def test_dense_layer_object_reused_on_two_inputs():
    layer = tf.layers.Dense(3, activation=tf.nn.relu, name="shared_dense")
    a = tf.placeholder(tf.float32, [None, 2])
    b = tf.placeholder(tf.float32, [None, 2])
    out_a = layer(a)
    out_b = layer.apply(b)
    assert len(tf.trainable_variables()) == 2
    assert layer.kernel.name == "shared_dense/kernel:0"
    assert [v.name for v in layer.trainable_variables] == ["shared_dense/kernel:0",
                                                           "shared_dense/bias:0"]
    xs = np.array([[1.0, -1.0], [0.5, 2.0]], np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        ra, rb, k, bias = sess.run([out_a, out_b, layer.kernel, layer.bias], {a: xs, b: xs})
    np.testing.assert_array_equal(ra, rb)
    np.testing.assert_allclose(ra, np.maximum(xs @ k + bias, 0), rtol=1e-6)


def test_gan_style_alternating_optimizers_with_var_lists():
    tf.set_random_seed(0)
    rng = np.random.RandomState(0)
    real = tf.placeholder(tf.float32, [None, 1])
    noise = tf.placeholder(tf.float32, [None, 1])

    def generator(z):
        with tf.variable_scope("generator"):
            h = tf.layers.dense(z, 8, activation=tf.nn.relu)
            return tf.layers.dense(h, 1)

    def discriminator(x, reuse=False):
        with tf.variable_scope("discriminator", reuse=reuse):
            h = tf.layers.dense(x, 8, activation=tf.nn.relu, name="h")
            return tf.layers.dense(h, 1, name="logit")

    fake = generator(noise)
    d_real = discriminator(real)
    d_fake = discriminator(fake, reuse=True)
    d_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(d_real), logits=d_real)) + tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(d_fake), logits=d_fake))
    g_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(d_fake), logits=d_fake))
    t_vars = tf.trainable_variables()
    d_vars = [v for v in t_vars if v.name.startswith("discriminator/")]
    g_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="generator")
    assert len(d_vars) == 4 and len(g_vars) == 4
    d_opt = tf.train.AdamOptimizer(0.01, beta1=0.5).minimize(d_loss, var_list=d_vars)
    g_opt = tf.train.AdamOptimizer(0.01, beta1=0.5).minimize(g_loss, var_list=g_vars)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        g_before = sess.run(g_vars)
        feed = {real: rng.normal(3.0, 0.5, (64, 1)), noise: rng.uniform(-1, 1, (64, 1))}
        sess.run(d_opt, feed)
        # The discriminator step must leave the generator untouched.
        for before, after in zip(g_before, sess.run(g_vars)):
            np.testing.assert_array_equal(before, after)
        d_before = sess.run(d_vars)
        sess.run(g_opt, feed)
        for before, after in zip(d_before, sess.run(d_vars)):
            np.testing.assert_array_equal(before, after)
        for _ in range(300):
            feed = {real: rng.normal(3.0, 0.5, (64, 1)), noise: rng.uniform(-1, 1, (64, 1))}
            sess.run(d_opt, feed)
            sess.run(g_opt, feed)
        samples = sess.run(fake, {noise: rng.uniform(-1, 1, (500, 1))})
    # The generator's samples moved from around 0 toward the real mean of 3.
    assert abs(samples.mean() - 3.0) < 1.0


def test_contrib_layers_network_with_xavier_init_and_total_loss():
    tf.set_random_seed(1)
    rng = np.random.RandomState(1)
    xs = rng.randn(128, 4).astype(np.float32)
    ys = (xs.sum(axis=1) > 0).astype(np.int32)
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.int32, [None])
    net = tf.contrib.layers.fully_connected(
        x, 16, weights_initializer=tf.contrib.layers.xavier_initializer(),
        weights_regularizer=tf.contrib.layers.l2_regularizer(1e-3), scope="fc1")
    logits = tf.contrib.layers.fully_connected(net, 2, activation_fn=None, scope="out")
    tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
    total = tf.losses.get_total_loss()
    assert len(tf.losses.get_losses()) == 1
    assert len(tf.losses.get_regularization_losses()) == 1
    train = tf.train.RMSPropOptimizer(0.01).minimize(total)
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), y),
                                 tf.float32))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = sess.run(tf.get_default_graph().get_tensor_by_name("fc1/weights:0"))
        assert np.abs(w).max() <= np.sqrt(6.0 / 20) + 1e-6
        for _ in range(200):
            sess.run(train, {x: xs, y: ys})
        assert sess.run(acc, {x: xs, y: ys}) > 0.95


def test_autoencoder_with_transposed_weights_reduces_reconstruction_error():
    tf.set_random_seed(2)  # an unlucky initialisation of the tied weights can stall Adam
    rng = np.random.RandomState(2)
    basis = rng.randn(2, 8).astype(np.float32)
    data = (rng.randn(200, 2).astype(np.float32) @ basis)
    x = tf.placeholder(tf.float32, [None, 8])
    w = tf.get_variable("w_enc", [8, 2], initializer=tf.contrib.layers.xavier_initializer())
    b_enc = tf.get_variable("b_enc", [2], initializer=tf.zeros_initializer())
    b_dec = tf.get_variable("b_dec", [8], initializer=tf.zeros_initializer())
    code = tf.matmul(x, w) + b_enc
    recon = tf.matmul(code, tf.transpose(w)) + b_dec
    loss = tf.reduce_mean(tf.reduce_sum(tf.squared_difference(recon, x), axis=1))
    train = tf.train.AdamOptimizer(0.02).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: data})
        for _ in range(400):
            sess.run(train, {x: data})
        last = sess.run(loss, {x: data})
    assert last < 0.05 * first


def test_config_proto_device_scopes_and_run_options():
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False)
    config.gpu_options.allow_growth = True
    config.gpu_options.per_process_gpu_memory_fraction = 0.5
    with tf.device("/cpu:0"):
        a = tf.Variable([1.0, 2.0], name="a")
        b = a * 2.0
    with tf.device("/gpu:0"):  # no GPU here: soft placement falls back to CPU
        c = b + 1.0
    assert a.device.lower().endswith("cpu:0")
    run_options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    run_metadata = tf.RunMetadata()
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(c, options=run_options, run_metadata=run_metadata)
    np.testing.assert_allclose(out, [3.0, 5.0])
