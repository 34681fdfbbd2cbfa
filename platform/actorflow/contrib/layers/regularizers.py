"""`tf.contrib.layers` regularizers: functions of a weight tensor returning a scalar loss
(or None), for `tf.get_variable(regularizer=...)` and the layers' ``*_regularizer`` args."""
from __future__ import annotations

import numbers

from ...framework.graph import (GraphKeys, add_to_collection, convert_to_tensor, get_collection,
                                name_scope)
from ...ops import math as math_ops
from ...ops import reduction as reduction_ops
from ...ops import unary as unary_ops
from ...ops import nn as nn_ops

__all__ = ["l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer",
           "apply_regularization"]


def _check_scale(scale, what: str) -> float:
    """Raises ValueError unless `scale` is a non-negative real number."""
    if isinstance(scale, numbers.Integral) or not isinstance(scale, numbers.Real):
        raise ValueError(f"{what}: scale must be a float, got {scale!r}")
    if scale < 0.0:
        raise ValueError(f"{what}: setting a scale less than 0 on a regularizer: {scale}")
    return float(scale)


def _scaled(what: str, scale, penalty, scope):
    """A regularizer ``scale * penalty(weights)``; a scale of 0 gives one returning None."""
    scale = _check_scale(scale, what)
    if scale == 0.0:
        return lambda _: None

    def regularizer(weights):
        with name_scope(scope, what, [weights]) as name:
            weights = convert_to_tensor(weights)
            my_scale = convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return math_ops.multiply(my_scale, penalty(weights), name=name)
    return regularizer


def l1_regularizer(scale: float, scope: str | None = None):
    """Returns ``fn(weights) = scale * sum(|weights|)``.

    Raises:
        ValueError: `scale` is not a float or is negative.
    """
    def penalty(w):
        return reduction_ops.reduce_sum(unary_ops.abs(w))
    return _scaled("l1_regularizer", scale, penalty, scope)


def l2_regularizer(scale: float, scope: str | None = None):
    """Returns ``fn(weights) = scale * nn_ops.l2_loss(weights) = scale * sum(weights²) / 2``.

    Raises:
        ValueError: `scale` is not a float or is negative.
    """
    def penalty(w):
        return nn_ops.l2_loss(w)
    return _scaled("l2_regularizer", scale, penalty, scope)


def sum_regularizer(regularizer_list, scope: str | None = None):
    """Returns ``fn(weights)``: the sum of the non-None results of `regularizer_list`."""
    regularizer_list = [r for r in regularizer_list if r is not None]
    if not regularizer_list:
        return None

    def regularizer(weights):
        with name_scope(scope, "sum_regularizer", [weights]) as name:
            losses = [r(weights) for r in regularizer_list]
            losses = [x for x in losses if x is not None]
            return math_ops.add_n(losses, name=name) if losses else None
    return regularizer


def l1_l2_regularizer(scale_l1: float = 1.0, scale_l2: float = 1.0, scope: str | None = None):
    """Returns ``fn(weights) = scale_l1 * sum(|w|) + scale_l2 * sum(w²) / 2``."""
    if isinstance(scale_l1, numbers.Real) and isinstance(scale_l2, numbers.Real) \
            and scale_l1 == 0.0 and scale_l2 == 0.0:
        return lambda _: None
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)],
                           scope=scope or "l1_l2_regularizer")


def apply_regularization(regularizer, weights_list=None):
    """Sums `regularizer` over `weights_list` (default: the ``weights`` collection), adds the
    sum to ``GraphKeys.REGULARIZATION_LOSSES`` and returns it.

    Raises:
        ValueError: there are no weights, or the regularizer returned None for all of them.
    """
    if not weights_list:
        weights_list = get_collection(GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    with name_scope("get_regularization_penalty", values=weights_list) as scope:
        penalties = [p for p in (regularizer(w) for w in weights_list) if p is not None]
        if not penalties:
            raise ValueError("The regularizer returned None for every weight.")
        summed = math_ops.add_n(penalties, name=scope)
        add_to_collection(GraphKeys.REGULARIZATION_LOSSES, summed)
        return summed
