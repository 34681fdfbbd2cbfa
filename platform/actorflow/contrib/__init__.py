"""`tf.contrib`: the parts of TF 1.x contrib the book uses — `layers` and its `slim` alias,
`framework` (arg_scope, global step), `rnn` and `legacy_seq2seq`'s sequence losses, `opt`
(LazyAdamOptimizer); and the modules TF 1.x tutorials import: `learn.datasets.mnist`,
`tensorboard.plugins.projector`."""
from . import framework, layers, legacy_seq2seq, slim
from . import learn, opt, rnn, tensorboard
from ..data import contrib as data

__all__ = ["framework", "layers", "legacy_seq2seq", "slim", "rnn", "learn", "tensorboard",
           "data", "opt"]
