"""The book's MNIST models: ch. 3.2 softmax regression, the ch. 4.4 MLP and the ch. 5.2 CNN.

Each builder takes flat ``[batch, 784]`` images (the CNN also takes ``[batch, 28, 28, 1]``)
and returns unscaled ``logits``; the book applies the softmax inside its cross-entropy, a
trainer uses ``tf.nn.sparse_softmax_cross_entropy_with_logits`` on these logits instead (the
same loss, numerically safer). Initialisers are the book's: zeros for softmax regression;
truncated normal sigma 0.1 for the MLP's hidden layer and zeros elsewhere; truncated normal
sigma 0.1 weights and 0.1 biases for the CNN. Dropout (keep 0.75 for the MLP, 0.5 for the
CNN) is applied only while `is_training`, a Python bool or a bool tensor.
"""
from __future__ import annotations

from collections import OrderedDict

import actorflow as tf

from .registry import register_model

__all__ = ["mnist_softmax", "mnist_mlp", "mnist_cnn"]

_PIXELS = 28 * 28


def _flat_images(images, model: str):
    """`images` as ``[batch, 784]``; raises ValueError for any other trailing shape."""
    shape = images.get_shape()
    dims = shape.as_list() if shape.ndims is not None else []
    if len(dims) < 2 or _prod(dims[1:]) != _PIXELS:
        raise ValueError(f"{model} needs MNIST images of shape [batch, 784] or "
                         f"[batch, 28, 28, 1]; got {images.get_shape()}")
    return images if len(dims) == 2 else tf.reshape(images, [-1, _PIXELS])


def _prod(dims) -> int | None:
    """The product of `dims`, or None when one of them is unknown."""
    out = 1
    for d in dims:
        if d is None:
            return None
        out *= d
    return out


@register_model("mnist_softmax", input_shape=(784,), num_classes=10, dataset="mnist")
def mnist_softmax(images, is_training: bool = True, num_classes: int = 10) -> dict:
    """Ch. 3.2 softmax regression: ``logits = x W + b`` with W and b zero-initialised.

    Args:
        images: ``[batch, 784]`` (or ``[batch, 28, 28, 1]``) float32 pixels in [0, 1].
        is_training: unused (no dropout); kept for the common builder interface.
        num_classes: the number of classes.

    Returns:
        ``{"logits": [batch, num_classes]}``.

    Raises:
        ValueError: `images` does not hold 784 pixels per example.
    """
    del is_training
    x = _flat_images(images, "mnist_softmax")
    logits = tf.layers.dense(x, num_classes, kernel_initializer=tf.zeros_initializer(),
                             name="softmax_linear")
    return {"logits": logits}


@register_model("mnist_mlp", input_shape=(784,), num_classes=10, dataset="mnist")
def mnist_mlp(images, is_training=True, num_classes: int = 10, hidden_units: int = 300,
              keep_prob: float = 0.75) -> dict:
    """Ch. 4.4 MLP: 784 -> 300 ReLU -> dropout -> num_classes.

    Args:
        images: ``[batch, 784]`` (or ``[batch, 28, 28, 1]``) float32 pixels.
        is_training: a Python bool or a bool tensor; dropout is active only while true.
        num_classes: the number of classes.
        hidden_units: the hidden layer's width (300 in the book).
        keep_prob: the dropout keep probability while training (0.75 in the book).

    Returns:
        ``{"logits": [batch, num_classes], "hidden": [batch, hidden_units]}`` (the hidden
        activations before dropout).

    Raises:
        ValueError: `images` does not hold 784 pixels per example.
    """
    x = _flat_images(images, "mnist_mlp")
    hidden = tf.layers.dense(x, hidden_units, activation=tf.nn.relu,
                             kernel_initializer=tf.truncated_normal_initializer(stddev=0.1),
                             name="hidden1")
    dropped = tf.layers.dropout(hidden, rate=1 - keep_prob, training=is_training,
                                name="dropout")
    logits = tf.layers.dense(dropped, num_classes, kernel_initializer=tf.zeros_initializer(),
                             name="softmax_linear")
    return {"logits": logits, "hidden": hidden}


def _conv_pool(x, filters: int, name: str, end_points: OrderedDict):
    """5x5 SAME convolution + ReLU, then 2x2 stride-2 SAME max pooling (the book's pair)."""
    conv = tf.layers.conv2d(x, filters, 5, padding="same", activation=tf.nn.relu,
                            kernel_initializer=tf.truncated_normal_initializer(stddev=0.1),
                            bias_initializer=tf.constant_initializer(0.1), name=name)
    end_points[name] = conv
    pool_name = name.replace("conv", "pool")
    end_points[pool_name] = pool = tf.nn.max_pool(conv, ksize=[1, 2, 2, 1],
                                                  strides=[1, 2, 2, 1], padding="SAME",
                                                  name=pool_name)
    return pool


@register_model("mnist_cnn", input_shape=(784,), num_classes=10, dataset="mnist")
def mnist_cnn(images, is_training=True, num_classes: int = 10,
              keep_prob: float = 0.5) -> dict:
    """Ch. 5.2 CNN: conv 5x5x32, pool, conv 5x5x64, pool, fc 1024 with dropout, fc 10.

    Args:
        images: ``[batch, 784]`` or ``[batch, 28, 28, 1]`` float32 pixels.
        is_training: a Python bool or a bool tensor; dropout is active only while true.
        num_classes: the number of classes.
        keep_prob: the dropout keep probability while training (0.5 in the book).

    Returns:
        ``{"logits": [batch, num_classes], "end_points": OrderedDict}`` with conv1, pool1,
        conv2, pool2, fc1 and logits.

    Raises:
        ValueError: `images` does not hold 784 pixels per example.
    """
    x = tf.reshape(_flat_images(images, "mnist_cnn"), [-1, 28, 28, 1])
    end_points = OrderedDict()
    net = _conv_pool(x, 32, "conv1", end_points)
    net = _conv_pool(net, 64, "conv2", end_points)
    net = tf.reshape(net, [-1, 7 * 7 * 64])
    init = dict(kernel_initializer=tf.truncated_normal_initializer(stddev=0.1),
                bias_initializer=tf.constant_initializer(0.1))
    end_points["fc1"] = net = tf.layers.dense(net, 1024, activation=tf.nn.relu, name="fc1",
                                              **init)
    net = tf.layers.dropout(net, rate=1 - keep_prob, training=is_training, name="dropout")
    end_points["logits"] = logits = tf.layers.dense(net, num_classes, name="fc2", **init)
    return {"logits": logits, "end_points": end_points}
