"""The vision models of actorflow.models: each is built by its registry name, its parameter
count is checked against the published figure (counted from the variable shapes) and one
gradient-descent step runs at a small batch with finite logits and loss."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf
from actorflow.models import cifar10, get_model


def param_count(variables) -> int:
    """The number of scalars in `variables` (from their static shapes)."""
    return sum(int(np.prod(v.get_shape().as_list())) for v in variables)


def train_step(name: str, batch: int, input_shape=None, num_classes=None, seed=0, **kwargs):
    """Builds registry model `name` in a fresh graph, runs one SGD step on random inputs and
    returns (spec, output dict, numpy logits, loss before, loss after, trainable count)."""
    spec = get_model(name)
    shape = tuple(input_shape or spec.input_shape)
    classes = num_classes or spec.num_classes
    rng = np.random.RandomState(seed)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [batch, *shape])
        y = tf.placeholder(tf.int32, [batch])
        out = spec(x, is_training=True, num_classes=classes, **kwargs)
        xent = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=out["logits"]))
        reg = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        reg += tf.get_collection(tf.GraphKeys.LOSSES)
        loss = tf.add_n([xent, *reg]) if reg else xent
        train = tf.train.GradientDescentOptimizer(1e-3).minimize(loss)
        count = param_count(tf.trainable_variables())
        feed = {x: rng.standard_normal((batch, *shape)).astype(np.float32),
                y: rng.randint(0, classes, batch)}
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            logits, before, _ = sess.run([out["logits"], loss, train], feed)
            after = sess.run(loss, feed)
    return spec, out, logits, before, after, count


def check_step(logits, before, after, batch, classes):
    assert logits.shape == (batch, classes)
    assert np.all(np.isfinite(logits))
    assert np.isfinite(before) and np.isfinite(after)


# -- ch. 5.3 CIFAR-10 CNN --------------------------------------------------------------------
def test_cifar10_cnn_variables_step_and_loss():
    spec, out, logits, before, after, count = train_step("cifar10_cnn", batch=4)
    check_step(logits, before, after, 4, 10)
    assert spec.input_shape == (24, 24, 3) and spec.dataset == "cifar10"
    assert list(out["end_points"]) == ["conv1", "pool1", "norm1", "conv2", "norm2", "pool2",
                                       "local3", "local4", "softmax_linear"]
    # 24x24 -> 6x6x64 after two stride-2 pools: local3 takes 2304 inputs.
    shapes = {"conv1": (5, 5, 3, 64), "conv2": (5, 5, 64, 64), "local3": (2304, 384),
              "local4": (384, 192), "softmax_linear": (192, 10)}
    assert count == sum(int(np.prod(s)) + s[-1] for s in shapes.values())
    assert after < before  # one step on the same batch lowers the loss


def test_cifar10_cnn_names_and_weight_losses_as_the_tutorial():
    # Any static size works: local3 takes its width from the shape after pool2.
    x = tf.constant(np.random.RandomState(1).standard_normal((2, 8, 8, 3)), tf.float32)
    out = cifar10.cifar10_cnn(x, num_classes=5)
    names = {v.op.name: v.get_shape().as_list() for v in tf.trainable_variables()}
    assert names == {
        "conv1/weights": [5, 5, 3, 64], "conv1/biases": [64],
        "conv2/weights": [5, 5, 64, 64], "conv2/biases": [64],
        "local3/weights": [2 * 2 * 64, 384], "local3/biases": [384],
        "local4/weights": [384, 192], "local4/biases": [192],
        "softmax_linear/weights": [192, 5], "softmax_linear/biases": [5]}
    # conv1 and conv2 add 0.0 * l2 (the book's wl=0.0); local3 and local4 add 0.004 * l2.
    assert len(tf.get_collection("losses")) == 4
    labels = tf.constant([1, 3])
    total = cifar10.cifar10_loss(out["logits"], labels)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        biases = sess.run({n: tf.get_default_graph().get_tensor_by_name(n + ":0")
                           for n in names if n.endswith("biases")})
        w3, w4, xent, total_v = sess.run([
            "local3/weights:0", "local4/weights:0", "cross_entropy:0", total])
    assert np.all(biases["conv1/biases"] == 0.0) and np.all(biases["conv2/biases"] == 0.1)
    assert np.all(biases["local3/biases"] == 0.1) and np.all(biases["softmax_linear/biases"] == 0)
    expected = xent + 0.004 * (np.sum(w3 ** 2) + np.sum(w4 ** 2)) / 2
    np.testing.assert_allclose(total_v, expected, rtol=1e-5)
    assert np.abs(w3).max() <= 2 * 0.04 + 1e-6  # truncated at two standard deviations


def test_cifar10_cnn_rejects_unknown_spatial_shape():
    with pytest.raises(ValueError, match="static height"):
        cifar10.cifar10_cnn(tf.placeholder(tf.float32, [None, None, None, 3]))


# -- ch. 3-5.2 MNIST -------------------------------------------------------------------------
# The book publishes no counts for these: the expected figures follow its layer sizes.
MNIST_LAYERS = {
    "mnist_softmax": [(784, 10)],
    "mnist_mlp": [(784, 300), (300, 10)],
    "mnist_cnn": [(5, 5, 1, 32), (5, 5, 32, 64), (7 * 7 * 64, 1024), (1024, 10)],
}


@pytest.mark.parametrize("name", sorted(MNIST_LAYERS))
def test_mnist_models_count_and_step(name):
    spec, out, logits, before, after, count = train_step(name, batch=3)
    check_step(logits, before, after, 3, 10)
    assert spec.dataset == "mnist" and spec.input_shape == (784,)
    assert count == sum(int(np.prod(s)) + s[-1] for s in MNIST_LAYERS[name])


def test_mnist_initialisers_as_the_book():
    x = tf.constant(np.random.RandomState(0).rand(2, 28, 28, 1), tf.float32)
    get_model("mnist_softmax")(x)
    with tf.variable_scope("mlp"):
        get_model("mnist_mlp")(x)
    with tf.variable_scope("cnn"):
        get_model("mnist_cnn")(x, is_training=False)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        v = sess.run({var.op.name: var for var in tf.trainable_variables()})
    assert not v["softmax_linear/kernel"].any() and not v["softmax_linear/bias"].any()
    assert 0.05 < v["mlp/hidden1/kernel"].std() < 0.1  # truncated normal, sigma 0.1
    assert not v["mlp/softmax_linear/kernel"].any()
    assert np.all(v["cnn/conv1/bias"] == 0.1) and np.all(v["cnn/fc2/bias"] == 0.1)
    assert np.abs(v["cnn/fc1/kernel"]).max() <= 0.2 + 1e-6


def test_mnist_dropout_follows_is_training():
    x = tf.constant(np.random.RandomState(0).rand(4, 784), tf.float32)
    training = tf.placeholder(tf.bool, [])
    out = get_model("mnist_mlp")(x, is_training=training, keep_prob=0.5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # The book's zero output weights would hide dropout from the logits.
        kernel, = [v for v in tf.trainable_variables() if v.op.name == "softmax_linear/kernel"]
        sess.run(tf.assign(kernel, tf.ones([300, 10])))
        eval_a, eval_b = (sess.run(out["logits"], {training: False}) for _ in range(2))
        train_logits = sess.run(out["logits"], {training: True})
    np.testing.assert_array_equal(eval_a, eval_b)
    assert not np.allclose(train_logits, eval_a)


def test_mnist_rejects_wrong_image_size():
    with pytest.raises(ValueError, match=r"mnist_cnn needs MNIST images"):
        get_model("mnist_cnn")(tf.placeholder(tf.float32, [None, 32, 32, 1]))
