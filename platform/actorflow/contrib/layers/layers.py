"""`tf.contrib.layers` (slim) layers, built on the `tf.layers` classes.

Each layer opens a variable scope (`scope`, default ``Conv``, ``fully_connected``,
``BatchNorm``, made unique as ``Conv_1``, ...) and creates its variables there as *model
variables*: in ``GLOBAL_VARIABLES`` and ``MODEL_VARIABLES`` (and ``TRAINABLE_VARIABLES`` when
trainable), plus `variables_collections` (a list, or a dict keyed by ``weights``, ``biases``,
``beta``, ``gamma``, ``moving_mean``, ``moving_variance``). Kernels are named ``weights`` and
biases ``biases``. Outputs are added to `outputs_collections`.
"""
from __future__ import annotations

import numbers

from ...framework.graph import (GraphKeys, Tensor, add_to_collections, convert_to_tensor,
                                name_scope)
from ...layers.convolutional import Conv2D
from ...ops import control as control_ops
from ...ops import nn as nn_ops
from ...variable_scope import get_variable, variable_scope
from ...layers.core import Dense, Dropout, flatten_tensor
from ...layers.normalization import BatchNormalization
from ...layers.pooling import AveragePooling2D, MaxPooling2D
from ..framework.arg_scope import add_arg_scope
from .initializers import xavier_initializer
from .utils import collect_named_outputs

__all__ = ["convolution2d", "conv2d", "convolution", "fully_connected", "flatten",
           "batch_norm", "max_pool2d", "avg_pool2d", "dropout", "repeat", "stack"]

_RENAMES = {"kernel": "weights", "bias": "biases"}


def _model_variable_getter(variables_collections):
    """A getter for the `tf.layers` classes that makes model variables named as slim does."""
    def getter(name, **kwargs):
        short = _RENAMES.get(name, name)
        extra = variables_collections
        if isinstance(extra, dict):
            extra = extra.get(short)
        if isinstance(extra, str):
            extra = [extra]
        collections = [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES, *(extra or [])]
        return get_variable(short, collections=collections, **kwargs)
    return getter


def _collect(outputs_collections, alias: str, outputs: Tensor) -> Tensor:
    """Adds `outputs` to `outputs_collections` under `alias`, the layer's scope name (its
    key in `slim.utils.convert_collection_to_dict`'s end points)."""
    return collect_named_outputs(outputs_collections, alias, outputs)


def _channels(data_format: str | None) -> str:
    """NHWC (or None) → channels_last, NCHW → channels_first; ValueError otherwise."""
    if data_format in (None, "NHWC"):
        return "channels_last"
    if data_format == "NCHW":
        return "channels_first"
    raise ValueError(f"data_format has to be either NCHW or NHWC, got {data_format!r}")


def _finish(outputs, normalizer_fn, normalizer_params, activation_fn, outputs_collections,
            alias: str):
    """normalizer, then activation, then the outputs collections (the slim layer tail)."""
    if normalizer_fn is not None:
        outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    if activation_fn is not None:
        outputs = activation_fn(outputs)
    return _collect(outputs_collections, alias, outputs)


@add_arg_scope
def convolution2d(inputs, num_outputs: int, kernel_size, stride=1, padding: str = "SAME",
                  data_format: str | None = None, rate=1, activation_fn=nn_ops.relu,
                  normalizer_fn=None, normalizer_params=None,
                  weights_initializer=xavier_initializer(), weights_regularizer=None,
                  biases_initializer="zeros", biases_regularizer=None, reuse=None,
                  variables_collections=None, outputs_collections=None, trainable: bool = True,
                  scope: str | None = None) -> Tensor:
    """2-D convolution creating ``<scope>/weights`` [kh, kw, in, num_outputs] and
    ``<scope>/biases`` (no biases when `biases_initializer` is None or a `normalizer_fn` is
    given), then ``normalizer_fn`` and ``activation_fn`` (default ReLU).

    Raises:
        ValueError: inputs not 4-D, unknown channels, or a bad padding/data_format/size.
    """
    with _variable_scope(scope, "Conv", inputs, reuse) as sc:
        layer = Conv2D(num_outputs, kernel_size, strides=stride, padding=padding,
                       data_format=_channels(data_format), dilation_rate=rate,
                       **_weights_and_biases(sc, normalizer_fn, weights_initializer,
                                             biases_initializer, weights_regularizer,
                                             biases_regularizer, trainable,
                                             variables_collections))
        outputs = layer.call_in_current_scope(inputs)
        return _finish(outputs, normalizer_fn, normalizer_params, activation_fn,
                       outputs_collections, sc.name)


def _weights_and_biases(sc, normalizer_fn, weights_initializer, biases_initializer,
                        weights_regularizer, biases_regularizer, trainable,
                        variables_collections) -> dict:
    """The core layer arguments for contrib's ``weights`` / ``biases`` (no biases under a
    normalizer_fn or with biases_initializer=None), created in scope `sc`."""
    return dict(use_bias=normalizer_fn is None and biases_initializer is not None,
                kernel_initializer=weights_initializer, bias_initializer=biases_initializer,
                kernel_regularizer=weights_regularizer, bias_regularizer=biases_regularizer,
                trainable=trainable, name=sc.name,
                _getter=_model_variable_getter(variables_collections))


conv2d = convolution2d
convolution = convolution2d


@add_arg_scope
def fully_connected(inputs, num_outputs: int, activation_fn=nn_ops.relu, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=xavier_initializer(),
                    weights_regularizer=None, biases_initializer="zeros",
                    biases_regularizer=None, reuse=None, variables_collections=None,
                    outputs_collections=None, trainable: bool = True,
                    scope: str | None = None) -> Tensor:
    """``activation_fn(inputs @ weights + biases)`` creating ``<scope>/weights`` and
    ``<scope>/biases`` (scope default ``fully_connected``); inputs of rank > 2 are multiplied
    on their last axis.

    Raises:
        ValueError: `num_outputs` is not an int, or the inputs' last dimension is unknown.
    """
    if not isinstance(num_outputs, numbers.Integral):
        raise ValueError(f"num_outputs should be int or long, got {num_outputs!r}.")
    with _variable_scope(scope, "fully_connected", inputs, reuse) as sc:
        layer = Dense(int(num_outputs),
                      **_weights_and_biases(sc, normalizer_fn, weights_initializer,
                                            biases_initializer, weights_regularizer,
                                            biases_regularizer, trainable,
                                            variables_collections))
        outputs = layer.call_in_current_scope(inputs)
        return _finish(outputs, normalizer_fn, normalizer_params, activation_fn,
                       outputs_collections, sc.original_name_scope)


class _SlimBatchNorm(BatchNormalization):
    """contrib's batch_norm also takes TF's fused kernel for rank-2 inputs."""

    @staticmethod
    def _fusable(ndims: int, axes: list) -> bool:
        return (ndims == 2 and axes == [1]) or BatchNormalization._fusable(ndims, axes)


@add_arg_scope
def batch_norm(inputs, decay: float = 0.999, center: bool = True, scale: bool = False,
               epsilon: float = 0.001, activation_fn=None, param_initializers=None,
               param_regularizers=None, updates_collections=GraphKeys.UPDATE_OPS,
               is_training=True, reuse=None, variables_collections=None,
               outputs_collections=None, trainable: bool = True, batch_weights=None,
               fused=None, data_format: str = "NHWC", zero_debias_moving_mean: bool = False,
               scope: str | None = None, renorm: bool = False, renorm_clipping=None,
               renorm_decay: float = 0.99, adjustment=None) -> Tensor:
    """Batch normalization over all axes but the channel axis (last, or 1 for NCHW).

    Creates ``<scope>/beta`` (if `center`), ``<scope>/gamma`` (if `scale`) and the moving
    ``moving_mean`` / ``moving_variance`` (scope default ``BatchNorm``); their update ops,
    ``moving -= (moving - batch_stat) * (1 - decay)``, go to `updates_collections`, or, when
    that is None, run before the output is returned. `is_training` may be a bool tensor.

    Raises:
        ValueError: the inputs' rank or channel dimension is unknown, or a bad data_format.
        NotImplementedError: batch_weights, zero_debias_moving_mean, renorm or adjustment.
    """
    if batch_weights is not None or zero_debias_moving_mean:
        raise NotImplementedError("batch_norm: batch_weights and zero_debias_moving_mean are "
                                  "not supported")
    axis = 1 if _channels(data_format) == "channels_first" else -1
    with _variable_scope(scope, "BatchNorm", inputs, reuse) as sc:
        inputs = convert_to_tensor(inputs)
        if inputs._shape is None:
            raise ValueError(f"Inputs {inputs.name} has undefined rank.")
        inits = param_initializers or {}
        regs = param_regularizers or {}
        layer = _SlimBatchNorm(
            axis=axis, momentum=decay, epsilon=epsilon, center=center, scale=scale,
            beta_initializer=inits.get("beta", "zeros"),
            gamma_initializer=inits.get("gamma", "ones"),
            moving_mean_initializer=inits.get("moving_mean", "zeros"),
            moving_variance_initializer=inits.get("moving_variance", "ones"),
            beta_regularizer=regs.get("beta"), gamma_regularizer=regs.get("gamma"),
            renorm=renorm, renorm_clipping=renorm_clipping, renorm_momentum=renorm_decay,
            fused=fused, trainable=trainable, adjustment=adjustment, name=sc.name,
            _getter=_model_variable_getter(variables_collections))
        outputs = layer.call_in_current_scope(inputs, training=is_training)
        if layer.updates:
            if updates_collections is None:
                outputs = control_ops.with_dependencies(layer.updates, outputs)
            else:
                for update in layer.updates:
                    add_to_collections(updates_collections, update)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _collect(outputs_collections, sc.name, outputs)


def _pool(layer_cls, default_name, inputs, kernel_size, stride, padding, data_format,
          outputs_collections, scope):
    with name_scope(scope, default_name, [inputs]) as sc:
        layer = layer_cls(kernel_size, stride, padding=padding,
                          data_format=_channels(data_format))
        return _collect(outputs_collections, sc, layer.call_in_current_scope(inputs))


@add_arg_scope
def max_pool2d(inputs, kernel_size, stride=2, padding: str = "VALID",
               data_format: str = "NHWC", outputs_collections=None,
               scope: str | None = None) -> Tensor:
    """The maximum over `kernel_size` windows moved by `stride` (name scope ``MaxPool2D``)."""
    return _pool(MaxPooling2D, "MaxPool2D", inputs, kernel_size, stride, padding, data_format,
                 outputs_collections, scope)


@add_arg_scope
def avg_pool2d(inputs, kernel_size, stride=2, padding: str = "VALID",
               data_format: str = "NHWC", outputs_collections=None,
               scope: str | None = None) -> Tensor:
    """The mean over `kernel_size` windows moved by `stride` (name scope ``AvgPool2D``)."""
    return _pool(AveragePooling2D, "AvgPool2D", inputs, kernel_size, stride, padding,
                 data_format, outputs_collections, scope)


@add_arg_scope
def dropout(inputs, keep_prob: float = 0.5, noise_shape=None, is_training=True,
            outputs_collections=None, scope: str | None = None, seed=None) -> Tensor:
    """Keeps each element with probability `keep_prob` (scaled by 1/keep_prob) while
    `is_training` (a bool or a bool tensor); the identity otherwise."""
    with name_scope(scope, "Dropout", [inputs]) as sc:
        layer = Dropout(rate=1 - keep_prob, noise_shape=noise_shape, seed=seed)
        outputs = layer.call_in_current_scope(inputs, training=is_training)
        return _collect(outputs_collections, sc, outputs)


@add_arg_scope
def flatten(inputs, outputs_collections=None, scope: str | None = None) -> Tensor:
    """[batch, d1, ...] → [batch, d1 * ...] (name scope ``Flatten``).

    Raises:
        ValueError: inputs of unknown rank or rank below 2.
    """
    with name_scope(scope, "Flatten", [inputs]) as sc:
        inputs = convert_to_tensor(inputs)
        if inputs._shape is None or len(inputs._shape) < 2:
            raise ValueError(f"Inputs must have a least 2 dimensions, got {inputs.name} of "
                             f"shape {inputs.get_shape()}.")
        return _collect(outputs_collections, sc, flatten_tensor(inputs))


def _layer_name(layer, fallback: str) -> str:
    if hasattr(layer, "__name__"):
        return layer.__name__
    func = getattr(layer, "func", None)  # a functools.partial
    return getattr(func, "__name__", fallback)


def repeat(inputs, repetitions: int, layer, *args, **kwargs) -> Tensor:
    """Applies ``layer(outputs, *args, **kwargs)`` `repetitions` times, the i-th call in scope
    ``<scope>/<scope>_i`` (scope default: the layer's name, inside ``Repeat``)."""
    scope = kwargs.pop("scope", None)
    with _variable_scope(scope, "Repeat", inputs, None):
        outputs = convert_to_tensor(inputs)
        scope = scope or _layer_name(layer, "repeat")
        for i in range(repetitions):
            kwargs["scope"] = f"{scope}_{i + 1}"
            outputs = layer(outputs, *args, **kwargs)
        return outputs


def stack(inputs, layer, stack_args, **kwargs) -> Tensor:
    """Applies `layer` once per entry of `stack_args` (its extra positional args), the i-th
    call in scope ``<scope>/<scope>_i``: ``stack(x, fully_connected, [32, 64])``.

    Raises:
        ValueError: `stack_args` is not a list or tuple.
    """
    if not isinstance(stack_args, (list, tuple)):
        raise ValueError(f"stack_args need to be a list or tuple, got {stack_args!r}")
    scope = kwargs.pop("scope", None)
    with _variable_scope(scope, "Stack", inputs, None):
        outputs = convert_to_tensor(inputs)
        scope = scope or _layer_name(layer, "stack")
        for i, layer_args in enumerate(stack_args):
            kwargs["scope"] = f"{scope}_{i + 1}"
            if not isinstance(layer_args, (list, tuple)):
                layer_args = [layer_args]
            outputs = layer(outputs, *layer_args, **kwargs)
        return outputs


def _variable_scope(scope, default_name: str, inputs, reuse):
    return variable_scope(scope, default_name=default_name, values=[inputs], reuse=reuse)
