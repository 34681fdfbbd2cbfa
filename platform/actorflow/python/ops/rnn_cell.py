"""`tensorflow.python.ops.rnn_cell`: the `actorflow.rnn_cell` module itself (the cells)."""
import sys

from ... import rnn_cell as _rnn_cell

sys.modules[__name__] = _rnn_cell
