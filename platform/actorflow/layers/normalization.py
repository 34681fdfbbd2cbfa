"""Batch normalization (`tf.layers.BatchNormalization` / `tf.layers.batch_normalization`).

Built from `tf.nn.moments` and `tf.nn.batch_normalization`. In training the batch statistics
normalize the inputs and two update ops (in ``layer.updates``; the functional form also adds
them to ``GraphKeys.UPDATE_OPS``) move the non-trainable ``moving_mean`` / ``moving_variance``:
``moving -= (moving - batch_stat) * (1 - momentum)``. Out of training the moving statistics
normalize and nothing is updated. As in TF 1.x, where TF would take its fused kernel (4-D
inputs, axis 1 or 3, ``fused`` None or True) the moving variance follows the Bessel-corrected
batch variance ``var * n / (n - 1)``; elsewhere the biased one.
"""
from __future__ import annotations

import numpy as np

from .. import variables
from ..framework.graph import Tensor, convert_to_tensor, name_scope
from ..ops import array as array_ops
from ..ops import math as math_ops
from ..ops import normalization as normalization_ops
from .base import Layer, select, static_bool

__all__ = ["BatchNormalization", "batch_normalization"]


class BatchNormalization(Layer):
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta`` per feature along `axis`.

    Variables: ``gamma`` (if `scale`), ``beta`` (if `center`), and the non-trainable
    ``moving_mean`` and ``moving_variance``. Call it with ``training`` a Python bool or a
    bool tensor.
    """

    _base_name = "batch_normalization"

    def __init__(self, axis=-1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 renorm: bool = False, renorm_clipping=None, renorm_momentum: float = 0.99,
                 fused=None, trainable: bool = True, virtual_batch_size=None,
                 adjustment=None, name: str | None = None, **kwargs) -> None:
        super().__init__(trainable=trainable, name=name, **kwargs)
        if renorm or virtual_batch_size is not None or adjustment is not None:
            raise NotImplementedError("BatchNormalization: renorm, virtual_batch_size and "
                                      "adjustment are not supported")
        self.axis = axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.fused = fused
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape) -> None:
        ndims = input_shape.ndims
        if not ndims:
            raise ValueError(f"Input has undefined rank: {input_shape}")
        axes = [self.axis] if isinstance(self.axis, (int, np.integer)) else list(self.axis)
        for a in axes:
            if not -ndims <= a < ndims:
                raise ValueError(f"Invalid axis {a} for input of rank {ndims}")
        axes = sorted(int(a) % ndims for a in axes)
        if len(set(axes)) != len(axes):
            raise ValueError(f"Duplicate axis: {self.axis}")
        dims = input_shape.as_list()
        if any(dims[a] is None for a in axes):
            raise ValueError(f"Input has undefined `axis` dimension. Input shape: {input_shape}")
        self._bessel = self.fused is not False and self._fusable(ndims, axes)
        self._axes = axes
        self._ndims = ndims
        self._broadcast_shape = [dims[i] if i in axes else 1 for i in range(ndims)]
        param_shape = [dims[axes[0]]] if len(axes) == 1 else self._broadcast_shape
        if self.scale:
            self.gamma = self.add_weight("gamma", param_shape,
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", param_shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", param_shape,
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", param_shape,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    @staticmethod
    def _fusable(ndims: int, axes: list) -> bool:
        """Whether TF 1.x would run its fused kernel here (and so Bessel-correct the moving
        variance); with ``fused=True`` elsewhere it silently falls back, as here."""
        return ndims == 4 and axes in ([1], [3])

    def _broadcast(self, v):
        """A [C] parameter reshaped to broadcast against the inputs (a no-op for the last axis)."""
        if v is None:
            return None
        v = convert_to_tensor(v)
        if len(self._axes) == 1 and self._axes[0] != self._ndims - 1:
            return array_ops.reshape(v, self._broadcast_shape)
        return v

    def call(self, inputs: Tensor, training=False) -> Tensor:
        if inputs._shape is None or len(inputs._shape) != self._ndims:
            raise ValueError(f"BatchNormalization was built for rank {self._ndims}, got input "
                             f"{inputs.name} of shape {inputs.get_shape()}")
        training_value = static_bool(training)
        if training_value is False:
            mean, variance = self.moving_mean, self.moving_variance
        else:
            reduction_axes = [i for i in range(self._ndims) if i not in self._axes]
            batch_mean, batch_var = normalization_ops.moments(inputs, reduction_axes,
                                                              keep_dims=len(self._axes) > 1)
            mean = select(training, lambda: batch_mean, lambda: self.moving_mean.value())
            variance = select(training, lambda: batch_var,
                              lambda: self.moving_variance.value())
            if self._bessel:
                batch_var = batch_var * _bessel_factor(inputs, batch_var)
            decay = 1.0 - self.momentum
            self.add_update([
                assign_moving_average(self.moving_mean, batch_mean, decay, training),
                assign_moving_average(self.moving_variance, batch_var, decay, training)])
        return normalization_ops.batch_normalization(
            inputs, self._broadcast(mean), self._broadcast(variance), self._broadcast(self.beta),
            self._broadcast(self.gamma), self.epsilon)


def _bessel_factor(inputs: Tensor, stat: Tensor):
    """n / (n - 1), n the number of inputs reduced into each element of `stat`."""
    in_shape, stat_shape = inputs._shape, stat._shape
    if None not in in_shape and stat_shape is not None and None not in stat_shape:
        n = float(np.prod(in_shape)) / float(np.prod(stat_shape))
        return n / max(n - 1.0, 1.0)
    n = math_ops.cast(array_ops.size(inputs), stat.dtype) \
        / math_ops.cast(array_ops.size(stat), stat.dtype)
    return n / math_ops.maximum(n - 1.0, 1.0)


def assign_moving_average(variable, value: Tensor, decay: float, training=True):
    """``variable -= (variable - value) * decay``; with `training` a bool tensor, the update
    happens in a `tf.cond` branch taken only while it is true (the other branch reads the
    variable). Returns the variable's value after the update."""
    def update(scope=None):
        delta = (variable.value() - value) * decay
        return variables.assign_sub(variable, delta, name=scope)
    with name_scope(None, "AssignMovingAvg", [variable, value]) as scope:
        if static_bool(training) is None:
            from ..ops.control_flow import cond
            return cond(convert_to_tensor(training), update, variable.read_value)
        return update(scope)


def batch_normalization(inputs, axis=-1, momentum: float = 0.99, epsilon: float = 1e-3,
                        center: bool = True, scale: bool = True, beta_initializer="zeros",
                        gamma_initializer="ones", moving_mean_initializer="zeros",
                        moving_variance_initializer="ones", beta_regularizer=None,
                        gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                        training=False, trainable: bool = True, name: str | None = None,
                        reuse=None, renorm: bool = False, renorm_clipping=None,
                        renorm_momentum: float = 0.99, fused=None, virtual_batch_size=None,
                        adjustment=None) -> Tensor:
    """Functional `BatchNormalization`; its two moving-average updates go to
    ``GraphKeys.UPDATE_OPS`` (run them with the train op, e.g. under
    ``tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS))``)."""
    layer = BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer,
        moving_variance_initializer=moving_variance_initializer,
        beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
        renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum, fused=fused,
        trainable=trainable, virtual_batch_size=virtual_batch_size, adjustment=adjustment,
        name=name, _reuse=reuse)
    return layer.apply(inputs, training=training)
