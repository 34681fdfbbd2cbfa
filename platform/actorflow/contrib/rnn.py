"""`tf.contrib.rnn`: the RNN cells (`BasicLSTMCell`, `GRUCell`, `MultiRNNCell`, wrappers,
`LSTMStateTuple`) and the unrolled RNNs (`static_rnn`, `static_bidirectional_rnn`).

A module of its own (not only an attribute of `tf.contrib`) so that
``import tensorflow.contrib.rnn`` and ``from tensorflow.contrib.rnn import BasicLSTMCell``
resolve too; the names are `actorflow.rnn`'s.
"""
from ..rnn import *  # noqa: F401, F403
from ..rnn import __all__  # noqa: F401
