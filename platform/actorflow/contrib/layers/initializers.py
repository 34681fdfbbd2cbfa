"""`tf.contrib.layers` initializers, with their contrib argument names and semantics.

An initializer is a function ``(shape, dtype=dtype, partition_info=None) -> Tensor`` that
`tf.get_variable` calls to build the variable's initial value.
"""
from __future__ import annotations

import math

from ... import dtypes
from ...ops import random as random_ops

__all__ = ["xavier_initializer", "xavier_initializer_conv2d", "variance_scaling_initializer"]

_MODES = ("FAN_IN", "FAN_OUT", "FAN_AVG")


def variance_scaling_initializer(factor: float = 2.0, mode: str = "FAN_IN",
                                 uniform: bool = False, seed=None, dtype=dtypes.float32):
    """Random values whose variance is ``factor / n``, n the fan in, fan out or their mean.

    Fans: fan_in = shape[-2], fan_out = shape[-1], both times prod(shape[:-2]) (the receptive
    field of a conv kernel); a 1-D shape has fan_in = fan_out = shape[0]. Uniform draws from
    ±sqrt(3·factor/n); otherwise a normal truncated at 2σ with σ = sqrt(1.3·factor/n). The
    default (2.0, FAN_IN) is He initialisation.

    Raises:
        TypeError: `dtype` is not a floating type, or `mode` is not FAN_IN/FAN_OUT/FAN_AVG.
    """
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError(f"Cannot create initializer for non-floating point type {dtype.name}.")
    if mode not in _MODES:
        raise TypeError(f"Unknown mode {mode!r}; expected one of {list(_MODES)}")

    def _initializer(shape, dtype=dtype, partition_info=None):
        dtype = dtypes.as_dtype(dtype)
        if not dtype.is_floating:
            raise TypeError(f"Cannot create initializer for non-floating point type "
                            f"{dtype.name}.")
        n = _fan(list(shape), mode)
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return random_ops.random_uniform(shape, -limit, limit, dtype, seed=seed)
        stddev = math.sqrt(1.3 * factor / n)
        return random_ops.truncated_normal(shape, 0.0, stddev, dtype, seed=seed)
    return _initializer


def _fan(shape: list, mode: str) -> float:
    """The fan of `shape` that `mode` names (1.0 for a scalar)."""
    if shape:
        fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
        fan_out = float(shape[-1])
    else:
        fan_in = fan_out = 1.0
    for dim in shape[:-2]:
        fan_in *= float(dim)
        fan_out *= float(dim)
    return {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]


def xavier_initializer(uniform: bool = True, seed=None, dtype=dtypes.float32):
    """Glorot & Bengio (2010): variance 1 / mean(fan_in, fan_out); uniform by default."""
    return variance_scaling_initializer(factor=1.0, mode="FAN_AVG", uniform=uniform, seed=seed,
                                        dtype=dtype)


xavier_initializer_conv2d = xavier_initializer
