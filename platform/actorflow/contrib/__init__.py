"""`tf.contrib`: the parts of TF 1.x contrib the book uses — `layers` and its `slim` alias."""
from . import layers, slim
from .. import rnn

__all__ = ["layers", "slim", "rnn"]
