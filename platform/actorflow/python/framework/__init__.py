"""`tensorflow.python.framework`: `ops` (graphs and tensors) and `dtypes`."""
from . import dtypes, ops

__all__ = ["dtypes", "ops"]
