"""`tensorflow.contrib.learn.python.learn`: holds `datasets`."""
from . import datasets

__all__ = ["datasets"]
