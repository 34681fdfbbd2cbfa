"""ResNet V2 (pre-activation bottlenecks), as slim's ``nets/resnet_v2.py`` and the book's
ch. 6.4 build it: ResNet-50, -101 and -152 are one builder with different unit counts.

A 7x7/2 root convolution (no batch norm, with biases) and a 3x3/2 max pool, then four
blocks of bottleneck units (depths 256, 512, 1024, 2048), the stride in the last unit of
blocks 1-3, a final batch norm + ReLU (``postnorm``), global average pooling and a 1x1
convolution as the classifier. Each unit is ``BN-ReLU`` (``preact``), then 1x1, 3x3, 1x1
convolutions, added to an identity (subsampled) or a 1x1 projection shortcut. slim's
``resnet_arg_scope``: He (variance scaling) initialisation, L2 weight decay 1e-4 in the
regularization losses, batch norm decay 0.997, epsilon 1e-5 with a scale; the moving
averages update through ``tf.GraphKeys.UPDATE_OPS``.

The variable and end-point names are slim's (``resnet_v2_50/block3/unit_6/bottleneck_v2/
conv2/weights``), so slim's published checkpoints load by name. At 1000 classes the
trainable parameters are 25,568,360 (50), 44,577,896 (101) and 60,236,904 (152): the
published 25.6M / 44.6M / 60.2M, the same figures as Keras's ``ResNet50V2`` /
``ResNet101V2`` / ``ResNet152V2`` trainable weights (Keras's totals add the batch-norm
moving averages).
"""
from __future__ import annotations

import collections

import actorflow as tf

from .registry import register_model

__all__ = ["resnet_v2", "resnet_arg_scope", "bottleneck", "Block", "UNITS"]

slim = tf.contrib.slim

# Units per block for each depth (ResNet-50: 3, 4, 6, 3 units = 16 bottlenecks x 3 + 2).
UNITS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


class Block(collections.namedtuple("Block", ["scope", "unit_fn", "args"])):
    """A ResNet block: its scope name, its unit function and one args dict per unit."""


def _block(scope: str, base_depth: int, num_units: int, stride: int) -> Block:
    """slim's ``resnet_v2_block``: the stride is in the last unit."""
    unit = {"depth": base_depth * 4, "depth_bottleneck": base_depth, "stride": 1}
    return Block(scope, bottleneck, [unit] * (num_units - 1) + [{**unit, "stride": stride}])


def resnet_arg_scope(is_training=True, weight_decay: float = 0.0001,
                     batch_norm_decay: float = 0.997, batch_norm_epsilon: float = 1e-5,
                     batch_norm_scale: bool = True):
    """slim's ResNet arg scope (the book's ch. 6.4 one).

    Args:
        is_training: batch norm uses batch statistics and updates its moving averages
            while true (a Python bool or a bool tensor).
        weight_decay: the L2 factor of the convolution weights.
        batch_norm_decay: the moving averages' decay.
        batch_norm_epsilon: added to the variance.
        batch_norm_scale: give batch norm a learned scale (gamma).

    Returns:
        An arg scope to enter with ``slim.arg_scope``.
    """
    batch_norm_params = {
        "is_training": is_training,
        "decay": batch_norm_decay,
        "epsilon": batch_norm_epsilon,
        "scale": batch_norm_scale,
        "updates_collections": tf.GraphKeys.UPDATE_OPS,
    }
    with slim.arg_scope([slim.conv2d],
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        weights_initializer=slim.variance_scaling_initializer(),
                        activation_fn=tf.nn.relu,
                        normalizer_fn=slim.batch_norm,
                        normalizer_params=batch_norm_params):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.max_pool2d], padding="SAME") as arg_sc:
                return arg_sc


def _subsample(inputs, factor: int, scope: str | None = None):
    return inputs if factor == 1 else slim.max_pool2d(inputs, [1, 1], stride=factor,
                                                      scope=scope)


def _conv2d_same(inputs, num_outputs: int, kernel_size: int, stride: int, scope: str):
    """A strided convolution padded explicitly, so its output does not depend on the
    input's parity (slim's ``resnet_utils.conv2d_same``)."""
    if stride == 1:
        return slim.conv2d(inputs, num_outputs, kernel_size, stride=1, padding="SAME",
                           scope=scope)
    pad_total = kernel_size - 1
    pad_beg = pad_total // 2
    inputs = tf.pad(inputs, [[0, 0], [pad_beg, pad_total - pad_beg],
                             [pad_beg, pad_total - pad_beg], [0, 0]])
    return slim.conv2d(inputs, num_outputs, kernel_size, stride=stride, padding="VALID",
                       scope=scope)


@slim.add_arg_scope
def bottleneck(inputs, depth: int, depth_bottleneck: int, stride: int,
               outputs_collections=None, scope: str | None = None):
    """A pre-activation bottleneck unit (``bottleneck_v2``).

    Args:
        inputs: ``[batch, height, width, channels]``.
        depth: the unit's output channels.
        depth_bottleneck: the channels of the 1x1 and 3x3 convolutions inside.
        stride: the 3x3 convolution's (and the shortcut's) stride.
        outputs_collections: where to collect the unit's output.
        scope: the variable scope (default ``bottleneck_v2``).

    Returns:
        The unit's output, ``shortcut + residual``.
    """
    with tf.variable_scope(scope, "bottleneck_v2", [inputs]) as sc:
        depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
        preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope="preact")
        if depth == depth_in:
            shortcut = _subsample(inputs, stride, "shortcut")
        else:
            shortcut = slim.conv2d(preact, depth, [1, 1], stride=stride, normalizer_fn=None,
                                   activation_fn=None, scope="shortcut")
        residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope="conv1")
        residual = _conv2d_same(residual, depth_bottleneck, 3, stride, scope="conv2")
        residual = slim.conv2d(residual, depth, [1, 1], stride=1, normalizer_fn=None,
                               activation_fn=None, scope="conv3")
        return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                                shortcut + residual)


@slim.add_arg_scope
def _stack_blocks_dense(net, blocks, outputs_collections=None):
    for block in blocks:
        with tf.variable_scope(block.scope, "block", [net]) as sc:
            for i, unit in enumerate(block.args):
                with tf.variable_scope(f"unit_{i + 1}", values=[net]):
                    net = block.unit_fn(net, **unit)
            net = slim.utils.collect_named_outputs(outputs_collections, sc.name, net)
    return net


@register_model("resnet_v2_50", input_shape=(224, 224, 3), num_classes=1000,
                dataset="imagenet", params=25_568_360, depth=50)
@register_model("resnet_v2_101", input_shape=(224, 224, 3), num_classes=1000,
                dataset="imagenet", params=44_577_896, depth=101)
@register_model("resnet_v2_152", input_shape=(224, 224, 3), num_classes=1000,
                dataset="imagenet", params=60_236_904, depth=152)
def resnet_v2(images, is_training=True, num_classes: int = 1000, depth: int = 50,
              weight_decay: float = 0.0001, spatial_squeeze: bool = True,
              scope: str | None = None) -> dict:
    """Builds ResNet V2 `depth` (50, 101 or 152) under `resnet_arg_scope`.

    Args:
        images: ``[batch, height, width, channels]`` float32 images (224x224 for ImageNet;
            global pooling makes any size of at least 1x1 after the 32x reduction work).
        is_training: a Python bool or a bool tensor: batch norm in training mode.
        num_classes: the classifier's outputs.
        depth: 50, 101 or 152.
        weight_decay: the L2 factor of `resnet_arg_scope`.
        spatial_squeeze: give logits as ``[batch, num_classes]`` (slim's default).
        scope: the outer variable scope (default ``resnet_v2_<depth>``).

    Returns:
        ``{"logits", "end_points"}``: slim's end points, keyed by scope (``resnet_v2_50/
        conv1``, ``.../block1``, ``.../block1/unit_1/bottleneck_v2``, ...), plus
        ``global_pool``, ``<scope>/logits`` and ``predictions``.

    Raises:
        ValueError: `depth` is not 50, 101 or 152, or `images` is not rank 4.
    """
    if depth not in UNITS:
        raise ValueError(f"resnet_v2: depth must be one of {sorted(UNITS)}, got {depth!r}")
    if images.get_shape().ndims != 4:
        raise ValueError(f"resnet_v2 needs images of shape [batch, height, width, channels];"
                         f" got {images.get_shape()}")
    blocks = [_block(f"block{i + 1}", base, units, stride) for i, (base, units, stride)
              in enumerate(zip((64, 128, 256, 512), UNITS[depth], (2, 2, 2, 1)))]
    with slim.arg_scope(resnet_arg_scope(is_training, weight_decay=weight_decay)):
        # A name, not a default name: a second build (a tower, under reuse) must find the
        # same variables, as slim's resnet_v2_50(..., scope="resnet_v2_50") does.
        with tf.variable_scope(scope or f"resnet_v2_{depth}", values=[images]) as sc:
            collection = sc.original_name_scope + "_end_points"
            with slim.arg_scope([slim.conv2d, bottleneck, _stack_blocks_dense],
                                outputs_collections=collection):
                with slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None):
                    net = _conv2d_same(images, 64, 7, stride=2, scope="conv1")
                net = slim.max_pool2d(net, [3, 3], stride=2, scope="pool1")
                net = _stack_blocks_dense(net, blocks)
                net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope="postnorm")
                end_points = slim.utils.convert_collection_to_dict(collection)
                end_points["global_pool"] = net = tf.reduce_mean(net, [1, 2], name="pool5",
                                                                 keep_dims=True)
                net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                                  normalizer_fn=None, scope="logits")
                end_points[sc.name + "/logits"] = net
                if spatial_squeeze:
                    net = tf.squeeze(net, [1, 2], name="SpatialSqueeze")
                    end_points[sc.name + "/spatial_squeeze"] = net
                end_points["predictions"] = slim.softmax(net, scope="predictions")
    return {"logits": net, "end_points": end_points}
