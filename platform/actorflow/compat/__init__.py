"""`tf.compat`: text/bytes conversions, the numeric type tuples, and `tf.compat.v1`.

``tf.compat.v1`` is actorflow itself (the TF 1.x API is the only one there is), so
``import actorflow.compat.v1 as tf`` and ``tf.compat.v1.placeholder`` both work.
"""
from __future__ import annotations

from .strings import (as_bytes, as_str, as_str_any, as_text, bytes_or_text_types,
                      complex_types, integral_types, path_to_str, real_types)
from .dimensions import dimension_at_index, dimension_value
from .v2_behavior import (EagerExecutionError, disable_eager_execution, disable_v2_behavior,
                          disable_v2_tensorshape, enable_eager_execution, enable_v2_behavior,
                          executing_eagerly)
from . import v1

__all__ = ["as_bytes", "as_str", "as_str_any", "as_text", "bytes_or_text_types",
           "complex_types", "integral_types", "path_to_str", "real_types",
           "dimension_at_index", "dimension_value", "v1",
           "EagerExecutionError", "disable_eager_execution", "disable_v2_behavior",
           "disable_v2_tensorshape", "enable_eager_execution", "enable_v2_behavior",
           "executing_eagerly"]
