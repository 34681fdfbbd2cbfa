"""The vision models of actorflow.models: each is built by its registry name, its parameter
count is checked against the published figure (counted from the variable shapes) and one
gradient-descent step runs at a small batch with finite logits and loss."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf
from actorflow.models import cifar10, get_model, model_names, resnet_v2

from ._steps import parameter_count


def train_step(name: str, batch: int, input_shape=None, num_classes=None, seed=0,
               loss_after=True, first_layer_learns=True, **kwargs):
    """Builds registry model `name` in a fresh graph, runs one SGD step (with the batch-norm
    updates) on random inputs and returns (spec, output dict, numpy logits, loss before,
    loss after or None without `loss_after`, trainable count). Checks that the first
    layer's weights are finite after the step and, with `first_layer_learns`, that the
    gradient reached them."""
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
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train = tf.train.GradientDescentOptimizer(1e-3).minimize(loss)
        count = parameter_count(tf.trainable_variables())
        feed = {x: rng.standard_normal((batch, *shape)).astype(np.float32),
                y: rng.randint(0, classes, batch)}
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            first = tf.trainable_variables()[0]
            first_before = sess.run(first)
            logits, before, _ = sess.run([out["logits"], loss, train], feed)
            first_after = sess.run(first)
            after = sess.run(loss, feed) if loss_after else None
    assert np.all(np.isfinite(first_after))
    assert first_layer_learns == (not np.array_equal(first_before, first_after)), first.name
    return spec, out, logits, before, after, count


def check_step(logits, before, after, batch, classes):
    assert logits.shape == (batch, classes)
    assert np.all(np.isfinite(logits))
    assert np.isfinite(before) and (after is None or np.isfinite(after))


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
    # The MLP's zero output weights (the book's) stop the first step's gradient at them.
    spec, out, logits, before, after, count = train_step(
        name, batch=3, first_layer_learns=name != "mnist_mlp")
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


# -- ch. 6 ImageNet models -------------------------------------------------------------------
def test_registry_has_the_vision_models_with_their_published_counts():
    published = {"alexnet": 61_100_840, "vgg_16": 138_357_544, "inception_v3": 23_817_352,
                 "resnet_v2_50": 25_568_360, "resnet_v2_101": 44_577_896,
                 "resnet_v2_152": 60_236_904}
    assert {n: get_model(n).params for n in published} == published
    assert {"cifar10_cnn", "mnist_softmax", "mnist_mlp", "mnist_cnn",
            "alexnet_conv"} <= set(model_names())
    assert get_model("inception_v3").input_shape == (299, 299, 3)
    assert get_model("resnet_v2_101").defaults == {"depth": 101}


def test_alexnet_conv_is_the_books_benchmark_net():
    images = tf.constant(np.random.RandomState(0).rand(1, 224, 224, 3), tf.float32)
    out = get_model("alexnet_conv")(images)
    assert "logits" not in out
    assert list(out["end_points"]) == ["conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2",
                                       "conv3", "conv4", "conv5", "pool5"]
    assert out["features"].get_shape().as_list() == [1, 6, 6, 256]
    book_shapes = [(11, 11, 3, 64), (5, 5, 64, 192), (3, 3, 192, 384), (3, 3, 384, 256),
                   (3, 3, 256, 256)]
    assert parameter_count(tf.trainable_variables()) == sum(
        int(np.prod(s)) + s[-1] for s in book_shapes)
    # The book's forward-backward benchmark: gradients of an L2 loss on the last layer.
    grads = tf.gradients(tf.nn.l2_loss(out["features"]), tf.trainable_variables())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(grads)
    assert all(np.all(np.isfinite(g)) for g in values) and np.abs(values[0]).max() > 0


@pytest.mark.slow
def test_alexnet_full_count_and_step():
    spec, out, logits, before, _, count = train_step("alexnet", batch=1, loss_after=False)
    check_step(logits, before, None, 1, 1000)
    assert count == spec.params  # 61,100,840
    assert list(out["end_points"])[-4:] == ["pool5", "fc6", "fc7", "fc8"]
    assert out["end_points"]["pool5"].get_shape().as_list() == [1, 6, 6, 256]


@pytest.mark.slow
def test_vgg_16_count_end_points_and_step():
    # fc6 is a 7x7 VALID convolution: 224x224 is the only size giving [batch, classes].
    spec, out, logits, before, _, count = train_step("vgg_16", batch=1, loss_after=False)
    check_step(logits, before, None, 1, 1000)
    assert count == spec.params  # 138,357,544
    end_points = out["end_points"]
    assert list(end_points)[:3] == ["vgg_16/conv1/conv1_1", "vgg_16/conv1/conv1_2",
                                    "vgg_16/pool1"]
    assert end_points["vgg_16/pool5"].get_shape().as_list() == [1, 7, 7, 512]
    assert end_points["vgg_16/fc7"].get_shape().as_list() == [1, 1, 1, 4096]
    assert end_points["vgg_16/fc8"] is out["logits"]


@pytest.mark.parametrize("depth", [50, pytest.param(101, marks=pytest.mark.slow),
                                   pytest.param(152, marks=pytest.mark.slow)])
def test_resnet_v2_count_end_points_and_step(depth):
    # Global pooling: the parameter count does not depend on the input size, so a 64x64
    # batch of 2 checks the published count and runs the step (at 32x32 block4 would be
    # 1x1 and batch norm over 2 values degenerate).
    name = f"resnet_v2_{depth}"
    spec, out, logits, before, _, count = train_step(name, batch=2, input_shape=(64, 64, 3),
                                                     loss_after=False)
    check_step(logits, before, None, 2, 1000)
    assert count == spec.params
    end_points = out["end_points"]
    units = [k for k in end_points if k.endswith("bottleneck_v2")]
    assert len(units) == sum(resnet_v2.UNITS[depth])  # 16, 33, 50 bottlenecks
    shapes = {k: end_points[f"{name}/{k}"].get_shape().as_list()
              for k in ("conv1", "block1", "block2", "block3", "block4",
                        "block1/unit_1/bottleneck_v2/shortcut")}
    assert shapes == {"conv1": [2, 32, 32, 64], "block1": [2, 8, 8, 256],
                      "block2": [2, 4, 4, 512], "block3": [2, 2, 2, 1024],
                      "block4": [2, 2, 2, 2048],
                      "block1/unit_1/bottleneck_v2/shortcut": [2, 16, 16, 256]}
    assert end_points["global_pool"].get_shape().as_list() == [2, 1, 1, 2048]
    assert end_points[f"{name}/spatial_squeeze"] is out["logits"]


def test_resnet_v2_rejects_an_unknown_depth():
    with pytest.raises(ValueError, match="depth must be one of"):
        get_model("resnet_v2_50")(tf.placeholder(tf.float32, [1, 64, 64, 3]), depth=34)


@pytest.mark.slow
def test_inception_v3_count_end_points_and_step():
    # 75x75 is the smallest input without the auxiliary head (as the registered model).
    spec, out, logits, before, _, count = train_step("inception_v3", batch=2,
                                                     input_shape=(75, 75, 3),
                                                     loss_after=False)
    check_step(logits, before, None, 2, 1000)
    assert count == spec.params  # 23,817,352: the published 23.8M has no auxiliary head
    end_points = out["end_points"]
    assert "AuxLogits" not in end_points and "aux_logits" not in out
    assert list(end_points)[:7] == ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3",
                                    "MaxPool_3a_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
                                    "MaxPool_5a_3x3"]
    assert end_points["Mixed_7c"].get_shape().as_list() == [2, 1, 1, 2048]
    assert end_points["Logits"] is out["logits"]


def test_inception_v3_aux_head_and_slim_names_at_299():
    images = tf.placeholder(tf.float32, [1, 299, 299, 3])
    out = get_model("inception_v3")(images, create_aux_logits=True)
    end_points = out["end_points"]
    assert end_points["Mixed_5d"].get_shape().as_list() == [1, 35, 35, 288]
    assert end_points["Mixed_6e"].get_shape().as_list() == [1, 17, 17, 768]
    assert end_points["Mixed_7c"].get_shape().as_list() == [1, 8, 8, 2048]
    assert end_points["AuxLogits"] is out["aux_logits"]
    assert out["aux_logits"].get_shape().as_list() == [1, 1000]
    variables = tf.trainable_variables()
    aux = [v for v in variables if "/AuxLogits/" in v.op.name]
    assert parameter_count(variables) - parameter_count(aux) == get_model("inception_v3").params
    assert parameter_count(aux) == 3_325_800  # the book's test counts the same head
    names = {v.op.name for v in variables}
    # slim's names, quirks included, so its published checkpoint loads by name
    assert {"InceptionV3/Mixed_5c/Branch_1/Conv_1_0c_5x5/weights",
            "InceptionV3/Mixed_6a/Branch_0/Conv2d_1a_1x1/weights",
            "InceptionV3/Mixed_7b/Branch_1/Conv2d_0b_3x1/weights",
            "InceptionV3/Mixed_7c/Branch_1/Conv2d_0c_3x1/weights",
            "InceptionV3/AuxLogits/Conv2d_2a_5x5/weights",
            "InceptionV3/Logits/Conv2d_1c_1x1/biases",
            "InceptionV3/Conv2d_1a_3x3/BatchNorm/beta"} <= names
    assert not any(n.endswith("BatchNorm/gamma") for n in names)  # no scale, as slim
    # 94 body + 2 aux convolutions with batch norm; the two classifiers have biases instead
    assert len([n for n in names if n.endswith("/weights")]) == 98
    assert len(tf.get_collection("moving_vars")) == 2 * 96
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 98


SMALL_INPUTS = {"cifar10_cnn": (24, 24, 3), "mnist_softmax": (784,), "mnist_mlp": (784,),
                "mnist_cnn": (784,), "alexnet": (224, 224, 3), "vgg_16": (224, 224, 3),
                "resnet_v2_50": (64, 64, 3), "inception_v3": (75, 75, 3)}


@pytest.mark.parametrize("name", sorted(SMALL_INPUTS))
def test_a_second_build_under_reuse_shares_the_variables(name):
    # How a multi-tower trainer builds its towers (and an evaluation graph) on one graph.
    shape = SMALL_INPUTS[name]
    first = get_model(name)(tf.placeholder(tf.float32, [2, *shape]))
    variables = tf.global_variables()
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        second = get_model(name)(tf.placeholder(tf.float32, [2, *shape]), is_training=False)
    assert tf.global_variables() == variables
    assert second["logits"] is not first["logits"]
    # (slim keys pools by name scope, "vgg_16_1/pool1" in the second build, as TF does)
    assert len(second.get("end_points", {})) == len(first.get("end_points", {}))
