"""`tf.contrib.slim` (``slim = tf.contrib.slim``): the `tf.contrib.layers` layers,
initializers and regularizers, `arg_scope` with its decorator, the `tf.contrib.framework`
variable helpers and `slim.utils` (named outputs for ``end_points``)."""
# ruff: noqa: F401, F403
from .framework.arg_scope import *
from .framework.arg_scope import __all__ as _ARG_SCOPE_NAMES
from .framework.variables import *
from .framework.variables import __all__ as _VARIABLE_NAMES
from .layers import *
from .layers import __all__ as _LAYER_NAMES
from .layers import utils

__all__ = [*_LAYER_NAMES, *_ARG_SCOPE_NAMES, *_VARIABLE_NAMES, "utils"]
