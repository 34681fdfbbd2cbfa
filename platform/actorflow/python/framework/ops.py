"""`tensorflow.python.framework.ops`: graphs, operations and tensors
(``ops.reset_default_graph()``, ``ops.get_default_graph()``, ``ops.Tensor``, ...)."""
from ...framework.graph import *  # noqa: F401, F403
from ...framework.graph import __all__  # noqa: F401
