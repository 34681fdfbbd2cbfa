"""`tensorflow.python.ops.rnn`: the `actorflow.rnn` module itself (`static_rnn`,
`dynamic_rnn`, `bidirectional_dynamic_rnn`, ...)."""
import sys

from ... import rnn as _rnn

sys.modules[__name__] = _rnn
