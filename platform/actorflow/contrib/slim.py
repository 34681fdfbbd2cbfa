"""`tf.contrib.slim`: the slim names of the `tf.contrib.layers` layers, initializers and
regularizers (``import actorflow.contrib.slim as slim``)."""
from . import layers as _layers
from .layers import *  # noqa: F401, F403

__all__ = list(_layers.__all__)
