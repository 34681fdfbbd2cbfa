"""VGG-16 (configuration D), as slim's ``nets/vgg.py`` builds it (the book's ch. 6.2 model).

Thirteen 3x3 SAME convolutions in five groups of 2, 2, 3, 3, 3 (64, 128, 256, 512, 512
channels) with 2x2 max pooling after each group, then the fully connected layers as
convolutions: fc6 a 7x7 VALID convolution of 4096, fc7 1x1 of 4096 and fc8 1x1 of
`num_classes`, with dropout (keep 0.5) after fc6 and fc7 while training. Weights are
Xavier-initialised (slim's default) with L2 weight decay 5e-4 in the regularization
losses collection, biases start at zero. The variable names are slim's
(``vgg_16/conv1/conv1_1/weights`` ... ``vgg_16/fc8/biases``), so slim's published
checkpoint loads by name; at 1000 classes there are 138,357,544 parameters, the published
figure (Simonyan and Zisserman's 138M; Keras's ``VGG16`` counts the same).

Because fc6 is a 7x7 VALID convolution, the input must be 224x224 (32 x 7) for the
logits to be ``[batch, num_classes]``.
"""
from __future__ import annotations

import actorflow as tf

from .registry import register_model

__all__ = ["vgg_16", "vgg_arg_scope"]

slim = tf.contrib.slim

# (repetitions, channels) of the five convolution groups of configuration D.
_VGG_16_GROUPS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


def vgg_arg_scope(weight_decay: float = 0.0005):
    """slim's VGG arg scope: ReLU, L2 weight decay and zero biases; SAME convolutions.

    Args:
        weight_decay: the L2 regularisation factor of the weights.

    Returns:
        An arg scope to enter with ``slim.arg_scope``.
    """
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        biases_initializer=tf.zeros_initializer()):
        with slim.arg_scope([slim.conv2d], padding="SAME") as arg_sc:
            return arg_sc


@register_model("vgg_16", input_shape=(224, 224, 3), num_classes=1000, dataset="imagenet",
                params=138_357_544)
def vgg_16(images, is_training=True, num_classes: int = 1000,
           dropout_keep_prob: float = 0.5, weight_decay: float = 0.0005,
           spatial_squeeze: bool = True, scope: str = "vgg_16") -> dict:
    """Builds VGG-16 under `vgg_arg_scope`.

    Args:
        images: ``[batch, 224, 224, 3]`` float32 images.
        is_training: a Python bool or a bool tensor; dropout is active only while true.
        num_classes: the number of fc8 outputs.
        dropout_keep_prob: the keep probability after fc6 and fc7 while training.
        weight_decay: the L2 factor of `vgg_arg_scope`.
        spatial_squeeze: squeeze the 1x1 spatial dimensions of the logits (as slim).
        scope: the outer variable scope.

    Returns:
        ``{"logits": [batch, num_classes], "end_points": OrderedDict}``: the end points are
        slim's, keyed by full scope (``vgg_16/conv1/conv1_1`` ... ``vgg_16/fc8``).

    Raises:
        ValueError: `images` is not rank 4.
    """
    if images.get_shape().ndims != 4:
        raise ValueError(f"vgg_16 needs images of shape [batch, 224, 224, 3]; got "
                         f"{images.get_shape()}")
    with slim.arg_scope(vgg_arg_scope(weight_decay)):
        with tf.variable_scope(scope, "vgg_16", [images]) as sc:
            collection = sc.original_name_scope + "_end_points"
            with slim.arg_scope([slim.conv2d, slim.fully_connected, slim.max_pool2d],
                                outputs_collections=collection):
                net = images
                for i, (repetitions, channels) in enumerate(_VGG_16_GROUPS, start=1):
                    net = slim.repeat(net, repetitions, slim.conv2d, channels, [3, 3],
                                      scope=f"conv{i}")
                    net = slim.max_pool2d(net, [2, 2], scope=f"pool{i}")
                net = slim.conv2d(net, 4096, [7, 7], padding="VALID", scope="fc6")
                net = slim.dropout(net, dropout_keep_prob, is_training=is_training,
                                   scope="dropout6")
                net = slim.conv2d(net, 4096, [1, 1], scope="fc7")
                net = slim.dropout(net, dropout_keep_prob, is_training=is_training,
                                   scope="dropout7")
                net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                                  normalizer_fn=None, scope="fc8")
                end_points = slim.utils.convert_collection_to_dict(collection)
                if spatial_squeeze:
                    net = tf.squeeze(net, [1, 2], name="fc8/squeezed")
                end_points[sc.name + "/fc8"] = net
    return {"logits": net, "end_points": end_points}
