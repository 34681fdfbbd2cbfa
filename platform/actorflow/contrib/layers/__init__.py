"""`tf.contrib.layers`: slim-style layers, initializers and regularizers (TF 1.x names)."""
from . import utils  # noqa: F401 - tf.contrib.layers.utils
from .initializers import (
                           variance_scaling_initializer,
                           xavier_initializer,
                           xavier_initializer_conv2d,
)
from .layers import (
                           avg_pool2d,
                           batch_norm,
                           conv2d,
                           convolution,
                           convolution2d,
                           dropout,
                           flatten,
                           fully_connected,
                           max_pool2d,
                           repeat,
                           stack,
)
from .outputs import one_hot_encoding, softmax
from .regularizers import (
                           apply_regularization,
                           l1_l2_regularizer,
                           l1_regularizer,
                           l2_regularizer,
                           sum_regularizer,
)

__all__ = ["xavier_initializer", "xavier_initializer_conv2d", "variance_scaling_initializer",
           "convolution2d", "conv2d", "convolution", "fully_connected", "flatten", "batch_norm",
           "max_pool2d", "avg_pool2d", "dropout", "repeat", "stack", "softmax",
           "one_hot_encoding", "l1_regularizer", "l2_regularizer", "l1_l2_regularizer",
           "sum_regularizer", "apply_regularization"]
