"""The book's ch. 5.3 CIFAR-10 CNN (the TensorFlow tutorial's ``cifar10.py`` inference).

Two 5x5x64 convolutions with max pooling and local response normalisation, then two fully
connected layers (384, 192) with L2 weight decay and a linear softmax layer. The variables
carry the tutorial's names (``conv1/weights``, ``local3/biases``, ``softmax_linear/weights``,
...) so that TensorFlow checkpoints of the tutorial load by name. Weight decay follows the
book's ``variable_with_weight_loss``: ``wd * l2_loss(w)`` is added to the ``"losses"``
collection, and `cifar10_loss` sums that collection with the mean cross-entropy.

Variables are made with `tf.get_variable`, so build under ``tf.variable_scope(...,
reuse=True)`` to share them (for example between a training and an evaluation tower).
"""
from __future__ import annotations

from collections import OrderedDict

import actorflow as tf

from .registry import register_model

__all__ = ["cifar10_cnn", "cifar10_loss", "variable_with_weight_loss"]

# Local response normalisation, as the tutorial: depth radius 4, bias 1, alpha 0.001 / 9.
_LRN = dict(depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)


def variable_with_weight_loss(name: str, shape: list[int], stddev: float,
                              wd: float | None) -> tf.Variable:
    """A truncated-normal weight variable whose L2 loss joins the ``"losses"`` collection.

    The book's ``variable_with_weight_loss`` (the tutorial's ``_variable_with_weight_decay``):
    when `wd` is given (even 0.0, as the book passes for the convolutions), the op
    ``wd * l2_loss(var)`` named ``weight_loss`` is added to the collection.

    Args:
        name: the variable's name inside the current variable scope.
        shape: its shape.
        stddev: the truncated normal initialiser's standard deviation.
        wd: the weight-decay factor, or None for no loss term.

    Returns:
        The variable.
    """
    var = tf.get_variable(name, shape, dtype=tf.float32,
                          initializer=tf.truncated_normal_initializer(stddev=stddev))
    if wd is not None:
        weight_loss = tf.multiply(tf.nn.l2_loss(var), wd, name="weight_loss")
        tf.add_to_collection(tf.GraphKeys.LOSSES, weight_loss)
    return var


def _bias(value: float, size: int) -> tf.Variable:
    return tf.get_variable("biases", [size], dtype=tf.float32,
                           initializer=tf.constant_initializer(value))


def _conv_relu(inputs, scope: str, out_channels: int, bias: float):
    """A 5x5 stride-1 SAME convolution with bias and ReLU, in variable scope `scope`."""
    with tf.variable_scope(scope) as sc:
        in_channels = inputs.get_shape()[-1].value
        kernel = variable_with_weight_loss("weights", [5, 5, in_channels, out_channels],
                                           stddev=5e-2, wd=0.0)
        conv = tf.nn.conv2d(inputs, kernel, [1, 1, 1, 1], padding="SAME")
        return tf.nn.relu(tf.nn.bias_add(conv, _bias(bias, out_channels)), name=sc.name)


def _dense(inputs, scope: str, units: int, stddev: float, wd: float | None, bias: float,
           relu: bool = True):
    with tf.variable_scope(scope) as sc:
        weights = variable_with_weight_loss("weights", [inputs.get_shape()[1].value, units],
                                            stddev=stddev, wd=wd)
        biases = _bias(bias, units)
        if relu:
            return tf.nn.relu(tf.matmul(inputs, weights) + biases, name=sc.name)
        return tf.add(tf.matmul(inputs, weights), biases, name=sc.name)


@register_model("cifar10_cnn", input_shape=(24, 24, 3), num_classes=10, dataset="cifar10")
def cifar10_cnn(images, is_training: bool = True, num_classes: int = 10) -> dict:
    """Builds the ch. 5.3 CIFAR-10 CNN.

    Args:
        images: a float32 ``[batch, height, width, 3]`` tensor with a static height, width
            and channel count (the book feeds 24x24 crops; any size works, the first fully
            connected layer takes its width from the shape after ``pool2``).
        is_training: accepted for the common builder interface; the network has no dropout
            or batch normalisation, so training and evaluation graphs are the same.
        num_classes: the width of the linear output layer.

    Returns:
        A dict with ``logits`` (``[batch, num_classes]``, unscaled) and ``end_points`` (an
        OrderedDict from layer name to its output: conv1, pool1, norm1, conv2, norm2,
        pool2, local3, local4, softmax_linear).

    Raises:
        ValueError: `images` is not rank 4 or its height, width or depth is unknown.
    """
    del is_training  # the same graph either way (see the docstring)
    shape = images.get_shape()
    if shape.ndims != 4 or any(d is None for d in shape.as_list()[1:]):
        raise ValueError(f"cifar10_cnn needs images of shape [batch, height, width, depth] "
                         f"with a static height, width and depth; got {shape}")
    end_points = OrderedDict()
    end_points["conv1"] = net = _conv_relu(images, "conv1", 64, bias=0.0)
    end_points["pool1"] = net = tf.nn.max_pool(net, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                                               padding="SAME", name="pool1")
    end_points["norm1"] = net = tf.nn.lrn(net, name="norm1", **_LRN)
    end_points["conv2"] = net = _conv_relu(net, "conv2", 64, bias=0.1)
    end_points["norm2"] = net = tf.nn.lrn(net, name="norm2", **_LRN)
    end_points["pool2"] = net = tf.nn.max_pool(net, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                                               padding="SAME", name="pool2")
    # Flatten with the static size after pool2 (the tutorial reshapes to [batch, -1]; a
    # -1 batch keeps the graph usable at any batch size).
    dim = 1
    for d in net.get_shape().as_list()[1:]:
        dim *= d
    net = tf.reshape(net, [-1, dim])
    end_points["local3"] = net = _dense(net, "local3", 384, stddev=0.04, wd=0.004, bias=0.1)
    end_points["local4"] = net = _dense(net, "local4", 192, stddev=0.04, wd=0.004, bias=0.1)
    logits = _dense(net, "softmax_linear", num_classes, stddev=1 / 192.0, wd=None, bias=0.0,
                    relu=False)
    end_points["softmax_linear"] = logits
    return {"logits": logits, "end_points": end_points}


def cifar10_loss(logits, labels):
    """The book's ``loss``: mean sparse softmax cross-entropy plus the weight losses.

    The mean cross-entropy is added to the ``"losses"`` collection (as the book does) and the
    whole collection is summed, so call it once per graph (per tower, under a name scope
    whose collection you read, in multi-tower code).

    Args:
        logits: ``[batch, num_classes]`` unscaled logits.
        labels: ``[batch]`` integer class ids.

    Returns:
        The scalar ``total_loss``.
    """
    labels = tf.cast(labels, tf.int64)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        logits=logits, labels=labels, name="cross_entropy_per_example")
    cross_entropy_mean = tf.reduce_mean(cross_entropy, name="cross_entropy")
    tf.add_to_collection(tf.GraphKeys.LOSSES, cross_entropy_mean)
    return tf.add_n(tf.get_collection(tf.GraphKeys.LOSSES), name="total_loss")
