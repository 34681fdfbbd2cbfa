"""`tensorflow.contrib.learn.python`: the path TF 1.x code imports `learn.datasets` by."""
from . import learn

__all__ = ["learn"]
