"""Core layers: `Dense`, `Dropout`, `Flatten` and their functional forms (TF 1.x `tf.layers`)."""
from __future__ import annotations

import numpy as np

from ..framework.graph import Tensor
from ..ops import array as array_ops
from ..ops import joining as joining_ops
from ..ops import linalg as linalg_ops
from ..ops import nn as nn_ops
from .base import Layer, normalize_data_format, select

__all__ = ["Dense", "Dropout", "Flatten", "dense", "dropout", "flatten"]


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``; inputs of rank > 2 are multiplied on the last axis.

    Variables: ``kernel`` [in_units, units] (default initializer: the scope's, else Glorot
    uniform) and ``bias`` [units] (zeros).
    """

    _base_name = "dense"

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer=None, bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable: bool = True, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: `units` must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activation
        self._kernel_and_bias_config(use_bias, kernel_initializer, bias_initializer,
                                     kernel_regularizer, bias_regularizer, kernel_constraint,
                                     bias_constraint)

    def build(self, input_shape) -> None:
        dims = input_shape.as_list() if input_shape.ndims is not None else None
        if not dims or dims[-1] is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. "
                             f"Found `None` (input shape {input_shape}).")
        self._add_kernel_and_bias([dims[-1], self.units], self.units)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        shape = inputs._shape
        if len(shape) == 2:
            outputs = linalg_ops.matmul(inputs, self.kernel)
        else:
            outputs = _matmul_last_axis(inputs, self.kernel, self.units)
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


def _matmul_last_axis(inputs: Tensor, kernel, units: int) -> Tensor:
    """`inputs` [..., in] times `kernel` [in, units] → [..., units] (a reshaped matmul)."""
    shape = inputs._shape
    flat = linalg_ops.matmul(array_ops.reshape(inputs, [-1, shape[-1]]), kernel)
    lead = list(shape[:-1])
    if sum(d is None for d in lead) <= 1:
        out_shape = [-1 if d is None else d for d in lead] + [units]
    else:
        out_shape = joining_ops.concat([array_ops.shape(inputs)[:-1], [units]], 0)
    outputs = array_ops.reshape(flat, out_shape)
    outputs.set_shape(lead + [units])
    return outputs


def dense(inputs, units: int, activation=None, use_bias: bool = True, kernel_initializer=None,
          bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable: bool = True, name: str | None = None, reuse=None) -> Tensor:
    """Functional `Dense`: creates ``<scope>/kernel`` and ``<scope>/bias`` in scope `name`
    (default ``dense``, ``dense_1``, ...).

    Raises:
        ValueError: the last dimension of `inputs` is unknown.
    """
    layer = Dense(units, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable, name=name, _reuse=reuse)
    return layer.apply(inputs)


class Dropout(Layer):
    """Zeroes each element with probability `rate` and scales the rest by ``1 / (1 - rate)``
    when ``training`` (a Python bool or a bool tensor); the identity otherwise."""

    _base_name = "dropout"

    def __init__(self, rate: float = 0.5, noise_shape=None, seed=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(rate, Tensor) and not 0 <= float(rate) < 1:
            raise ValueError(f"Dropout: `rate` must be in [0, 1), got {rate!r}")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs: Tensor, training=False) -> Tensor:

        def dropped():
            return nn_ops.dropout(inputs, keep_prob=1 - self.rate, noise_shape=self.noise_shape,
                              seed=self.seed)
        return select(training, dropped, lambda: array_ops.identity(inputs))


def dropout(inputs, rate: float = 0.5, noise_shape=None, seed=None, training=False,
            name: str | None = None) -> Tensor:
    """Functional `Dropout`. Note `rate` is the fraction DROPPED (``keep_prob = 1 - rate``),
    and the layer is the identity unless `training` is true."""
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name).apply(
        inputs, training=training)


class Flatten(Layer):
    """Reshapes [batch, d1, d2, ...] to [batch, d1 * d2 * ...] (channels-last order)."""

    _base_name = "flatten"

    def __init__(self, data_format: str | None = None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: Tensor) -> Tensor:
        return flatten_tensor(inputs, channels_first=self.data_format == "channels_first")


def flatten_tensor(inputs: Tensor, channels_first: bool = False) -> Tensor:
    """[batch, ...] → [batch, prod(...)], as one reshape when the trailing dims are known.

    Raises:
        ValueError: `inputs` has unknown rank or rank 0.
    """
    shape = inputs._shape
    if not shape:
        raise ValueError(f"Flatten: inputs must have rank >= 1 with a known rank, got "
                         f"{inputs.name} of shape {inputs.get_shape()}")
    if channels_first and len(shape) > 2:
        inputs = array_ops.transpose(inputs, [0] + list(range(2, len(shape))) + [1])
        shape = inputs._shape
    rest = shape[1:]
    if None not in rest:
        outputs = array_ops.reshape(inputs, [-1, int(np.prod(rest, dtype=np.int64))])
    else:
        outputs = array_ops.reshape(inputs, joining_ops.stack([array_ops.shape(inputs)[0], -1]))
    outputs.set_shape([shape[0], None if None in rest else int(np.prod(rest, dtype=np.int64))])
    return outputs


def flatten(inputs, name: str | None = None, data_format: str = "channels_last") -> Tensor:
    """Functional `Flatten`: [batch, ...] → [batch, prod(...)]."""
    return Flatten(data_format=data_format, name=name).apply(inputs)
