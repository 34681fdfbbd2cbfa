"""`tf.contrib`: the parts of TF 1.x contrib the book uses — `layers` and its `slim` alias,
`framework` (arg_scope, global step), `rnn` and `legacy_seq2seq`'s sequence losses."""
from . import framework, layers, legacy_seq2seq, slim
from .. import rnn

__all__ = ["framework", "layers", "legacy_seq2seq", "slim", "rnn"]
