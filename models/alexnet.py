"""AlexNet as the book's ch. 6.1 builds it, plus the fully connected head it leaves out.

The book benchmarks only the convolutional part: conv 11x11/4 64, LRN, max pool 3x3/2
VALID; conv 5x5 192, LRN, pool; conv 3x3 384, 256, 256; pool. Its weights are truncated
normal with sigma 0.1 and its biases zero. ``alexnet_conv`` is that part (2.47M
parameters, no classifier). ``alexnet`` adds the ImageNet head of Krizhevsky et al. (2012):
fc6 and fc7 of 4096 units with dropout (keep 0.5 while training) and fc8 of `num_classes`
units, initialised N(0, 0.01) (truncated) with zero biases. At 224x224 inputs pool5 is
6x6x256, so the full net has 61,100,840 parameters at 1000 classes: the published "61M"
(the one-tower layer widths of torchvision's ``alexnet``, which counts the same figure).

Variables are made with `tf.get_variable` under ``conv1``...``conv5`` and ``fc6``...``fc8``
(``weights`` and ``biases`` each).
"""
from __future__ import annotations

from collections import OrderedDict

import actorflow as tf

from .registry import register_model

__all__ = ["alexnet", "alexnet_conv"]

# (scope, kernel size, output channels, stride, LRN after it, max pool after it)
_CONV_LAYERS = (("conv1", 11, 64, 4, True, True),
                ("conv2", 5, 192, 1, True, True),
                ("conv3", 3, 384, 1, False, False),
                ("conv4", 3, 256, 1, False, False),
                ("conv5", 3, 256, 1, False, True))


def _variables(shape: list[int], stddev: float):
    weights = tf.get_variable("weights", shape, dtype=tf.float32,
                              initializer=tf.truncated_normal_initializer(stddev=stddev))
    biases = tf.get_variable("biases", shape[-1:], dtype=tf.float32,
                             initializer=tf.zeros_initializer())
    return weights, biases


def _conv_part(images, end_points: OrderedDict):
    net = images
    for scope, size, channels, stride, lrn, pool in _CONV_LAYERS:
        with tf.variable_scope(scope) as sc:
            in_channels = net.get_shape()[-1].value
            weights, biases = _variables([size, size, in_channels, channels], stddev=1e-1)
            conv = tf.nn.conv2d(net, weights, [1, stride, stride, 1], padding="SAME")
            end_points[scope] = net = tf.nn.relu(tf.nn.bias_add(conv, biases), name=sc.name)
        index = scope[-1]
        if lrn:
            end_points[f"lrn{index}"] = net = tf.nn.lrn(net, 4, bias=1.0, alpha=0.001 / 9,
                                                        beta=0.75, name=f"lrn{index}")
        if pool:
            end_points[f"pool{index}"] = net = tf.nn.max_pool(
                net, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="VALID",
                name=f"pool{index}")
    return net


def _check_images(images, model: str) -> None:
    shape = images.get_shape()
    if shape.ndims != 4 or shape.as_list()[3] is None:
        raise ValueError(f"{model} needs images of shape [batch, height, width, channels] "
                         f"with a static channel count; got {shape}")


@register_model("alexnet_conv", input_shape=(224, 224, 3), num_classes=0, dataset="imagenet")
def alexnet_conv(images, is_training=True) -> dict:
    """The convolutional part of AlexNet, exactly as the book's ch. 6.1 benchmark builds it.

    Args:
        images: ``[batch, height, width, channels]`` float32 images (224x224 in the book).
        is_training: unused (no dropout or batch norm here); the common builder interface.

    Returns:
        ``{"features": pool5, "end_points": OrderedDict}`` (conv1, lrn1, pool1, conv2, lrn2,
        pool2, conv3, conv4, conv5, pool5). There are no logits: it has no classifier.

    Raises:
        ValueError: `images` is not rank 4 with a static channel count.
    """
    del is_training
    _check_images(images, "alexnet_conv")
    end_points = OrderedDict()
    return {"features": _conv_part(images, end_points), "end_points": end_points}


@register_model("alexnet", input_shape=(224, 224, 3), num_classes=1000, dataset="imagenet",
                params=61_100_840)
def alexnet(images, is_training=True, num_classes: int = 1000,
            dropout_keep_prob: float = 0.5) -> dict:
    """The full ImageNet AlexNet: the book's convolutional part, then fc6, fc7 and fc8.

    Args:
        images: ``[batch, height, width, channels]`` float32 images whose height and width
            are static (224x224 gives the published 61.1M parameters).
        is_training: a Python bool or a bool tensor; dropout after fc6 and fc7 is active
            only while true.
        num_classes: the width of fc8.
        dropout_keep_prob: the keep probability of the two dropout layers while training.

    Returns:
        ``{"logits": [batch, num_classes], "end_points": OrderedDict}``: the conv part's end
        points, then fc6, fc7 and fc8 (the logits).

    Raises:
        ValueError: `images` is not rank 4 with a static height, width and channel count.
    """
    _check_images(images, "alexnet")
    end_points = OrderedDict()
    net = _conv_part(images, end_points)
    dims = net.get_shape().as_list()[1:]
    if None in dims:
        raise ValueError(f"alexnet needs a static image height and width (fc6 takes its "
                         f"width from pool5); got images of shape {images.get_shape()}")
    net = tf.reshape(net, [-1, dims[0] * dims[1] * dims[2]])
    for scope, units in (("fc6", 4096), ("fc7", 4096), ("fc8", num_classes)):
        with tf.variable_scope(scope) as sc:
            weights, biases = _variables([net.get_shape()[1].value, units], stddev=0.01)
            net = tf.nn.bias_add(tf.matmul(net, weights), biases)
            if scope != "fc8":
                net = tf.nn.relu(net, name=sc.name)
                end_points[scope] = net
                net = tf.layers.dropout(net, rate=1 - dropout_keep_prob,
                                        training=is_training, name="dropout")
    end_points["fc8"] = net
    return {"logits": net, "end_points": end_points}
