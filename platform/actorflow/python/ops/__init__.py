"""`tensorflow.python.ops`: `rnn` and `rnn_cell`."""
from . import rnn, rnn_cell

__all__ = ["rnn", "rnn_cell"]
