"""`tensorflow.python`: the few internal module paths TF 1.x programs commonly import
(``from tensorflow.python.framework import ops``, ``from tensorflow.python.client import
device_lib``, ``from tensorflow.python.ops import rnn, rnn_cell``), each the matching
actorflow module. The rest of TF's internals is not mirrored."""
