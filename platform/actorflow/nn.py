"""`tf.nn`: activations, dropout, bias and L2 loss (ops/nn.py), softmax and cross entropies
(ops/nn_loss.py), normalisation and LRN (ops/normalization.py), embeddings and top-k
(ops/embedding.py), convolution (ops/conv.py), pooling (ops/pooling.py), sigmoid and tanh
(ops/unary.py), candidate samplers and sampled losses (ops/candidate_sampling.py), RNN cells
(`rnn_cell`) and the unrolled RNNs (rnn.py)."""
# ruff: noqa: F401, F403
from .ops.conv import *
from .ops.conv import __all__ as _conv_all
from .ops.pooling import *
from .ops.pooling import __all__ as _pooling_all
from .ops.unary import sigmoid, tanh
from .ops.embedding import *
from .ops.embedding import __all__ as _embedding_all
from .ops.nn import *
from .ops.nn import __all__ as _nn_all
from .ops.nn_loss import *
from .ops.nn_loss import __all__ as _nn_loss_all
from .ops.normalization import *
from .ops.normalization import __all__ as _normalization_all
from .ops.candidate_sampling import *
from .ops.candidate_sampling import __all__ as _sampling_all
from . import rnn_cell
from .rnn import (bidirectional_dynamic_rnn, dynamic_rnn, raw_rnn, static_bidirectional_rnn,
                  static_rnn)

__all__ = (list(_nn_all) + list(_nn_loss_all) + list(_normalization_all) + list(_embedding_all)
           + list(_conv_all) + list(_pooling_all) + ["sigmoid", "tanh"] + list(_sampling_all)
           + ["rnn_cell", "static_rnn", "dynamic_rnn", "bidirectional_dynamic_rnn",
              "static_bidirectional_rnn", "raw_rnn"])

del (_sampling_all, _conv_all, _pooling_all, _embedding_all, _nn_all, _nn_loss_all,
     _normalization_all)
