"""Inception V3, as slim's ``nets/inception_v3.py`` and the book's ch. 6.3 build it.

The stem (five convolutions, two max pools) takes 299x299 images to 35x35x192; three
35x35 blocks (Mixed_5b-5d), a reduction (6a), four 17x17 blocks with factorised 1x7 / 7x1
convolutions (6b-6e), a reduction (7a) and two 8x8 blocks with 1x3 / 3x1 splits (7b, 7c)
give 8x8x2048; then average pooling, dropout (keep 0.8 while training) and a 1x1
convolution as the classifier. An optional auxiliary head reads Mixed_6e. Every
convolution but the two classifiers is ``conv (no bias) + batch norm (no scale, decay
0.9997, epsilon 1e-3) + ReLU`` with truncated-normal (sigma 0.1) weights and L2 weight
decay 4e-5 (the book's ``inception_v3_arg_scope``); the moving averages are also in the
``moving_vars`` collection and update through ``tf.GraphKeys.UPDATE_OPS``.

Names are slim's, including its quirks (``Mixed_5c/Branch_1/Conv_1_0c_5x5``,
``Mixed_6a/Branch_0/Conv2d_1a_1x1`` for a 3x3 convolution, ``Mixed_7c/Branch_1/
Conv2d_0c_3x1``), so slim's published checkpoint loads by name. (The book's listing names
the last one ``Conv2d_0b_3x1`` as in Mixed_7b; slim's checkpoint has ``0c``.)

Parameter counts at 1000 classes: 23,817,352 trainable without the auxiliary head, the
published 23.8M (Keras's ``InceptionV3`` counts the same trainable weights); the head
adds 3,325,800 (slim's default builds it). slim's published checkpoint has 1001 classes
(one more for "background"): 2,049 more parameters in the main classifier, 769 in the
auxiliary one.
"""
from __future__ import annotations

from collections import OrderedDict

import actorflow as tf

from .registry import register_model

__all__ = ["inception_v3", "inception_v3_arg_scope"]

slim = tf.contrib.slim


def _trunc_normal(stddev: float):
    return tf.truncated_normal_initializer(0.0, stddev)


def inception_v3_arg_scope(weight_decay: float = 0.00004, stddev: float = 0.1,
                           batch_norm_var_collection: str = "moving_vars"):
    """The book's (slim's original) Inception V3 arg scope.

    Args:
        weight_decay: the L2 factor of the conv and fully connected weights.
        stddev: the truncated normal initialiser's standard deviation.
        batch_norm_var_collection: a collection that also holds the moving averages.

    Returns:
        An arg scope to enter with ``slim.arg_scope``.
    """
    batch_norm_params = {
        "decay": 0.9997,
        "epsilon": 0.001,
        "updates_collections": tf.GraphKeys.UPDATE_OPS,
        "variables_collections": {
            "beta": None,
            "gamma": None,
            "moving_mean": [batch_norm_var_collection],
            "moving_variance": [batch_norm_var_collection],
        },
    }
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d], weights_initializer=_trunc_normal(stddev),
                            activation_fn=tf.nn.relu, normalizer_fn=slim.batch_norm,
                            normalizer_params=batch_norm_params) as sc:
            return sc


def _concat(*branches):
    return tf.concat(list(branches), 3)


def _block_35(net, pool_channels: int, branch_1_scopes: tuple[str, str]):
    """Mixed_5b-5d: 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1."""
    with tf.variable_scope("Branch_0"):
        branch_0 = slim.conv2d(net, 64, [1, 1], scope="Conv2d_0a_1x1")
    with tf.variable_scope("Branch_1"):
        branch_1 = slim.conv2d(net, 48, [1, 1], scope=branch_1_scopes[0])
        branch_1 = slim.conv2d(branch_1, 64, [5, 5], scope=branch_1_scopes[1])
    with tf.variable_scope("Branch_2"):
        branch_2 = slim.conv2d(net, 64, [1, 1], scope="Conv2d_0a_1x1")
        branch_2 = slim.conv2d(branch_2, 96, [3, 3], scope="Conv2d_0b_3x3")
        branch_2 = slim.conv2d(branch_2, 96, [3, 3], scope="Conv2d_0c_3x3")
    with tf.variable_scope("Branch_3"):
        branch_3 = slim.avg_pool2d(net, [3, 3], scope="AvgPool_0a_3x3")
        branch_3 = slim.conv2d(branch_3, pool_channels, [1, 1], scope="Conv2d_0b_1x1")
    return _concat(branch_0, branch_1, branch_2, branch_3)


def _reduction_6a(net):
    with tf.variable_scope("Branch_0"):
        branch_0 = slim.conv2d(net, 384, [3, 3], stride=2, padding="VALID",
                               scope="Conv2d_1a_1x1")
    with tf.variable_scope("Branch_1"):
        branch_1 = slim.conv2d(net, 64, [1, 1], scope="Conv2d_0a_1x1")
        branch_1 = slim.conv2d(branch_1, 96, [3, 3], scope="Conv2d_0b_3x3")
        branch_1 = slim.conv2d(branch_1, 96, [3, 3], stride=2, padding="VALID",
                               scope="Conv2d_1a_1x1")
    with tf.variable_scope("Branch_2"):
        branch_2 = slim.max_pool2d(net, [3, 3], stride=2, padding="VALID",
                                   scope="MaxPool_1a_3x3")
    return _concat(branch_0, branch_1, branch_2)


def _block_17(net, width: int):
    """Mixed_6b-6e: 1x1 | 1x1-1x7-7x1 | 1x1-7x1-1x7-7x1-1x7 | avgpool-1x1 (192 out each)."""
    with tf.variable_scope("Branch_0"):
        branch_0 = slim.conv2d(net, 192, [1, 1], scope="Conv2d_0a_1x1")
    with tf.variable_scope("Branch_1"):
        branch_1 = slim.conv2d(net, width, [1, 1], scope="Conv2d_0a_1x1")
        branch_1 = slim.conv2d(branch_1, width, [1, 7], scope="Conv2d_0b_1x7")
        branch_1 = slim.conv2d(branch_1, 192, [7, 1], scope="Conv2d_0c_7x1")
    with tf.variable_scope("Branch_2"):
        branch_2 = slim.conv2d(net, width, [1, 1], scope="Conv2d_0a_1x1")
        branch_2 = slim.conv2d(branch_2, width, [7, 1], scope="Conv2d_0b_7x1")
        branch_2 = slim.conv2d(branch_2, width, [1, 7], scope="Conv2d_0c_1x7")
        branch_2 = slim.conv2d(branch_2, width, [7, 1], scope="Conv2d_0d_7x1")
        branch_2 = slim.conv2d(branch_2, 192, [1, 7], scope="Conv2d_0e_1x7")
    with tf.variable_scope("Branch_3"):
        branch_3 = slim.avg_pool2d(net, [3, 3], scope="AvgPool_0a_3x3")
        branch_3 = slim.conv2d(branch_3, 192, [1, 1], scope="Conv2d_0b_1x1")
    return _concat(branch_0, branch_1, branch_2, branch_3)


def _reduction_7a(net):
    with tf.variable_scope("Branch_0"):
        branch_0 = slim.conv2d(net, 192, [1, 1], scope="Conv2d_0a_1x1")
        branch_0 = slim.conv2d(branch_0, 320, [3, 3], stride=2, padding="VALID",
                               scope="Conv2d_1a_3x3")
    with tf.variable_scope("Branch_1"):
        branch_1 = slim.conv2d(net, 192, [1, 1], scope="Conv2d_0a_1x1")
        branch_1 = slim.conv2d(branch_1, 192, [1, 7], scope="Conv2d_0b_1x7")
        branch_1 = slim.conv2d(branch_1, 192, [7, 1], scope="Conv2d_0c_7x1")
        branch_1 = slim.conv2d(branch_1, 192, [3, 3], stride=2, padding="VALID",
                               scope="Conv2d_1a_3x3")
    with tf.variable_scope("Branch_2"):
        branch_2 = slim.max_pool2d(net, [3, 3], stride=2, padding="VALID",
                                   scope="MaxPool_1a_3x3")
    return _concat(branch_0, branch_1, branch_2)


def _block_8(net, branch_1_3x1_scope: str):
    """Mixed_7b, 7c: 1x1 | 1x1-(1x3, 3x1) | 1x1-3x3-(1x3, 3x1) | avgpool-1x1."""
    with tf.variable_scope("Branch_0"):
        branch_0 = slim.conv2d(net, 320, [1, 1], scope="Conv2d_0a_1x1")
    with tf.variable_scope("Branch_1"):
        branch_1 = slim.conv2d(net, 384, [1, 1], scope="Conv2d_0a_1x1")
        branch_1 = _concat(slim.conv2d(branch_1, 384, [1, 3], scope="Conv2d_0b_1x3"),
                           slim.conv2d(branch_1, 384, [3, 1], scope=branch_1_3x1_scope))
    with tf.variable_scope("Branch_2"):
        branch_2 = slim.conv2d(net, 448, [1, 1], scope="Conv2d_0a_1x1")
        branch_2 = slim.conv2d(branch_2, 384, [3, 3], scope="Conv2d_0b_3x3")
        branch_2 = _concat(slim.conv2d(branch_2, 384, [1, 3], scope="Conv2d_0c_1x3"),
                           slim.conv2d(branch_2, 384, [3, 1], scope="Conv2d_0d_3x1"))
    with tf.variable_scope("Branch_3"):
        branch_3 = slim.avg_pool2d(net, [3, 3], scope="AvgPool_0a_3x3")
        branch_3 = slim.conv2d(branch_3, 192, [1, 1], scope="Conv2d_0b_1x1")
    return _concat(branch_0, branch_1, branch_2, branch_3)


# The mixed blocks after the stem, in order: (end point, block function, its arguments).
_MIXED = (("Mixed_5b", _block_35, (32, ("Conv2d_0a_1x1", "Conv2d_0b_5x5"))),
          ("Mixed_5c", _block_35, (64, ("Conv2d_0b_1x1", "Conv_1_0c_5x5"))),
          ("Mixed_5d", _block_35, (64, ("Conv2d_0a_1x1", "Conv2d_0b_5x5"))),
          ("Mixed_6a", _reduction_6a, ()),
          ("Mixed_6b", _block_17, (128,)),
          ("Mixed_6c", _block_17, (160,)),
          ("Mixed_6d", _block_17, (160,)),
          ("Mixed_6e", _block_17, (192,)),
          ("Mixed_7a", _reduction_7a, ()),
          ("Mixed_7b", _block_8, ("Conv2d_0b_3x1",)),
          ("Mixed_7c", _block_8, ("Conv2d_0c_3x1",)))

# The stem: (end point, layer, channels or None for a pool, kernel, stride, padding).
_STEM = (("Conv2d_1a_3x3", slim.conv2d, 32, 3, 2, "VALID"),
         ("Conv2d_2a_3x3", slim.conv2d, 32, 3, 1, "VALID"),
         ("Conv2d_2b_3x3", slim.conv2d, 64, 3, 1, "SAME"),
         ("MaxPool_3a_3x3", slim.max_pool2d, None, 3, 2, "VALID"),
         ("Conv2d_3b_1x1", slim.conv2d, 80, 1, 1, "VALID"),
         ("Conv2d_4a_3x3", slim.conv2d, 192, 3, 1, "VALID"),
         ("MaxPool_5a_3x3", slim.max_pool2d, None, 3, 2, "VALID"))


def _reduced_kernel_size(net, kernel_size: list[int]) -> list[int]:
    """slim's ``_reduced_kernel_size_for_small_input``: a pooling or conv kernel no larger
    than the feature map (its full size when the map's size is unknown)."""
    shape = net.get_shape().as_list()
    if shape[1] is None or shape[2] is None:
        return kernel_size
    return [min(shape[1], kernel_size[0]), min(shape[2], kernel_size[1])]


def _aux_logits(net, num_classes: int, spatial_squeeze: bool):
    with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1,
                        padding="SAME"):
        with tf.variable_scope("AuxLogits"):
            aux = slim.avg_pool2d(net, [5, 5], stride=3, padding="VALID",
                                  scope="AvgPool_1a_5x5")
            aux = slim.conv2d(aux, 128, [1, 1], scope="Conv2d_1b_1x1")
            kernel = _reduced_kernel_size(aux, [5, 5])
            aux = slim.conv2d(aux, 768, kernel, weights_initializer=_trunc_normal(0.01),
                              padding="VALID", scope="Conv2d_2a_{}x{}".format(*kernel))
            aux = slim.conv2d(aux, num_classes, [1, 1], activation_fn=None,
                              normalizer_fn=None, weights_initializer=_trunc_normal(0.001),
                              scope="Conv2d_2b_1x1")
            if spatial_squeeze:
                aux = tf.squeeze(aux, [1, 2], name="SpatialSqueeze")
    return aux


@register_model("inception_v3", input_shape=(299, 299, 3), num_classes=1000,
                dataset="imagenet", params=23_817_352, create_aux_logits=False)
def inception_v3(images, is_training=True, num_classes: int = 1000,
                 dropout_keep_prob: float = 0.8, create_aux_logits: bool = True,
                 weight_decay: float = 0.00004, spatial_squeeze: bool = True,
                 scope: str = "InceptionV3") -> dict:
    """Builds Inception V3 under `inception_v3_arg_scope`.

    The registered ``inception_v3`` passes ``create_aux_logits=False`` (the published
    23.8M parameters, and a trainer that reads only ``logits``); the function's default
    builds the auxiliary head as slim does.

    Args:
        images: ``[batch, height, width, 3]`` float32 images: 299x299 for ImageNet; 75x75
            is the smallest without the auxiliary head (the last pooling shrinks to fit, as
            slim's does), 107x107 the smallest with it.
        is_training: a Python bool or a bool tensor: batch norm in training mode and
            dropout active while true.
        num_classes: the classifier's outputs.
        dropout_keep_prob: the keep probability before the classifier while training.
        create_aux_logits: build the auxiliary head on Mixed_6e.
        weight_decay: the L2 factor of `inception_v3_arg_scope`.
        spatial_squeeze: give logits as ``[batch, num_classes]``.
        scope: the outer variable scope.

    Returns:
        ``{"logits", "end_points"}`` and, with the auxiliary head, ``"aux_logits"``. The end
        points are slim's: the stem layers, Mixed_5b ... Mixed_7c, AuxLogits (when built),
        PreLogits, Logits and Predictions.

    Raises:
        ValueError: `images` is not rank 4.
    """
    if images.get_shape().ndims != 4:
        raise ValueError(f"inception_v3 needs images of shape [batch, height, width, 3]; "
                         f"got {images.get_shape()}")
    end_points = OrderedDict()
    with slim.arg_scope(inception_v3_arg_scope(weight_decay)), \
            tf.variable_scope(scope, "InceptionV3", [images]), \
            slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
        net = images
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1,
                            padding="VALID"):
            for name, layer, channels, kernel, stride, padding in _STEM:
                args = (kernel,) if channels is None else (channels, kernel)
                end_points[name] = net = layer(net, *args, stride=stride, padding=padding,
                                               scope=name)
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1,
                            padding="SAME"):
            for name, block, args in _MIXED:
                with tf.variable_scope(name):
                    end_points[name] = net = block(net, *args)
        out = {}
        if create_aux_logits:
            end_points["AuxLogits"] = out["aux_logits"] = _aux_logits(
                end_points["Mixed_6e"], num_classes, spatial_squeeze)
        with tf.variable_scope("Logits"):
            kernel = _reduced_kernel_size(net, [8, 8])
            net = slim.avg_pool2d(net, kernel, padding="VALID",
                                  scope="AvgPool_1a_{}x{}".format(*kernel))
            net = slim.dropout(net, keep_prob=dropout_keep_prob, scope="Dropout_1b")
            end_points["PreLogits"] = net
            logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                                 normalizer_fn=None, scope="Conv2d_1c_1x1")
            if spatial_squeeze:
                logits = tf.squeeze(logits, [1, 2], name="SpatialSqueeze")
        end_points["Logits"] = logits
        end_points["Predictions"] = slim.softmax(logits, scope="Predictions")
    return {"logits": logits, "end_points": end_points, **out}
