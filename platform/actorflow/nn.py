"""`tf.nn`: activations, softmax and cross entropies, dropout, normalisation, embeddings and
top-k (ops/nn.py), convolution, pooling and LRN (ops/conv.py), sigmoid and tanh (ops/math.py)."""
# ruff: noqa: F401, F403
from .ops.conv import *
from .ops.conv import __all__ as _conv_all
from .ops.math import sigmoid, tanh
from .ops.nn import *
from .ops.nn import __all__ as _nn_all

__all__ = list(_nn_all) + list(_conv_all) + ["sigmoid", "tanh"]
