"""`tf.layers`: TF 1.x layer classes and their functional forms, built from graph ops.

Each call of a functional layer (`dense`, `conv2d`, ...) makes a layer whose variables live
in a variable scope of its own (``dense``, ``dense_1``, ...; or `name`), created with
`tf.get_variable`, so ``reuse=True`` or an enclosing ``variable_scope(..., reuse=True)``
shares them.
"""
from .base import Layer
from .convolutional import (Conv2D, Conv2DTranspose, Convolution2D, Convolution2DTranspose,
                            conv2d, conv2d_transpose, convolution2d)
from .core import Dense, Dropout, Flatten, dense, dropout, flatten
from .normalization import BatchNormalization, batch_normalization
from .pooling import (
                      AveragePooling2D,
                      AvgPool2D,
                      MaxPool2D,
                      MaxPooling2D,
                      average_pooling2d,
                      max_pooling2d,
)

__all__ = ["Layer", "Dense", "Dropout", "Flatten", "Conv2D", "Convolution2D", "MaxPooling2D",
           "MaxPool2D", "AveragePooling2D", "AvgPool2D", "BatchNormalization", "dense",
           "dropout", "flatten", "conv2d", "convolution2d", "max_pooling2d",
           "average_pooling2d", "batch_normalization", "Conv2DTranspose", "Convolution2DTranspose",
           "conv2d_transpose"]
