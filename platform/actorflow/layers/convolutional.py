"""2-D convolution layer (`tf.layers.Conv2D` / `tf.layers.conv2d`)."""
from __future__ import annotations

import numpy as np

from ..framework.graph import Tensor
from ..ops import array as array_ops
from ..ops import joining as joining_ops
from ..ops import conv as conv_ops
from ..ops import nn as nn_ops
from .base import Layer, check_rank, normalize_data_format, normalize_padding, normalize_tuple

__all__ = ["Conv2D", "Convolution2D", "conv2d", "convolution2d", "Conv2DTranspose",
           "Convolution2DTranspose", "conv2d_transpose"]


class Conv2D(Layer):
    """``activation(conv2d(inputs, kernel) + bias)`` on 4-D inputs.

    Variables: ``kernel`` [kh, kw, in_channels, filters] (default initializer: the scope's,
    else Glorot uniform) and ``bias`` [filters] (zeros).
    """

    _base_name = "conv2d"

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate=(1, 1), activation=None,
                 use_bias: bool = True, kernel_initializer=None, bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable: bool = True,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"Conv2D: `filters` must be a positive integer, got {filters!r}")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.activation = activation
        self._kernel_and_bias_config(use_bias, kernel_initializer, bias_initializer,
                                     kernel_regularizer, bias_regularizer, kernel_constraint,
                                     bias_constraint)

    @property
    def _nchw(self) -> bool:
        return self.data_format == "channels_first"

    def build(self, input_shape) -> None:
        dims = input_shape.as_list() if input_shape.ndims is not None else None
        if dims is None or len(dims) != 4:
            raise ValueError(f"Input 0 of layer {self.name or self._base_name} is incompatible "
                             f"with the layer: expected ndim=4, found shape {input_shape}")
        channels = dims[1 if self._nchw else -1]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. "
                             f"Found `None` (input shape {input_shape}).")
        self._add_kernel_and_bias(self._kernel_shape(channels), self.filters)
        self.built = True

    def _kernel_shape(self, channels: int) -> list:
        return list(self.kernel_size) + [channels, self.filters]

    def _bias_and_activation(self, outputs: Tensor) -> Tensor:
        if self.use_bias:
            fmt = "NCHW" if self._nchw else "NHWC"
            outputs = nn_ops.bias_add(outputs, self.bias, data_format=fmt)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def call(self, inputs: Tensor) -> Tensor:
        check_rank(inputs, 4, self.name or self._base_name)
        kwargs = {}
        if self.dilation_rate != (1, 1):
            kwargs["dilations"] = _spatial(self.dilation_rate)

        def conv(x):
            return conv_ops.conv2d(x, self.kernel, strides=_spatial(self.strides),
                             padding=self.padding.upper(), data_format="NHWC", **kwargs)
        outputs = in_channels_last(inputs, self._nchw, conv)
        return self._bias_and_activation(outputs)


Convolution2D = Conv2D


class Conv2DTranspose(Conv2D):
    """The transpose of `Conv2D` ("deconvolution"): upsamples by `strides`.

    Variables: ``kernel`` [kh, kw, filters, in_channels] and ``bias`` [filters]. Each spatial
    output size is ``in * stride`` for 'same' padding, ``(in - 1) * stride + kernel`` for
    'valid'.
    """

    _base_name = "conv2d_transpose"

    def _kernel_shape(self, channels: int) -> list:
        return list(self.kernel_size) + [self.filters, channels]

    def _out_size(self, size, k: int, stride: int):
        if self.padding == "same":
            return size * stride
        return (size - 1) * stride + k

    def call(self, inputs: Tensor) -> Tensor:
        check_rank(inputs, 4, self.name or self._base_name)

        def deconv(x):
            dyn = array_ops.shape(x)
            static = x.get_shape().as_list()
            dims = []
            for axis, k, st in ((1, self.kernel_size[0], self.strides[0]),
                                (2, self.kernel_size[1], self.strides[1])):
                size = static[axis] if static[axis] is not None else dyn[axis]
                dims.append(self._out_size(size, k, st))
            out_shape = joining_ops.stack([dyn[0], dims[0], dims[1], self.filters])
            y = conv_ops.conv2d_transpose(x, self.kernel, out_shape,
                                          strides=_spatial(self.strides),
                                          padding=self.padding.upper())
            y.set_shape([static[0]] + [d if isinstance(d, int) else None for d in dims] +
                        [self.filters])
            return y
        outputs = in_channels_last(inputs, self._nchw, deconv)
        return self._bias_and_activation(outputs)


Convolution2DTranspose = Conv2DTranspose


def _spatial(pair) -> list:
    """(h, w) as the NHWC 4-element strides/ksize/dilations list."""
    return [1, *pair, 1]


def in_channels_last(inputs: Tensor, channels_first: bool, fn) -> Tensor:
    """``fn(inputs)`` for NHWC; NCHW inputs are transposed to NHWC for `fn` and back, since
    the conv and pool ops run channels-last."""
    if not channels_first:
        return fn(inputs)
    return array_ops.transpose(fn(array_ops.transpose(inputs, [0, 2, 3, 1])), [0, 3, 1, 2])


def conv2d(inputs, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
           data_format: str = "channels_last", dilation_rate=(1, 1), activation=None,
           use_bias: bool = True, kernel_initializer=None, bias_initializer="zeros",
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable: bool = True,
           name: str | None = None, reuse=None) -> Tensor:
    """Functional `Conv2D`: creates ``<scope>/kernel`` and ``<scope>/bias`` in scope `name`
    (default ``conv2d``, ``conv2d_1``, ...).

    Raises:
        ValueError: bad `kernel_size` / `strides` / `padding` / `data_format`, inputs not 4-D,
            or an unknown channel dimension.
    """
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding,
                   data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                   use_bias=use_bias, kernel_initializer=kernel_initializer,
                   bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                   bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                   kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                   trainable=trainable, name=name, _reuse=reuse)
    return layer.apply(inputs)


convolution2d = conv2d


def conv2d_transpose(inputs, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                     data_format: str = "channels_last", activation=None, use_bias: bool = True,
                     kernel_initializer=None, bias_initializer="zeros", kernel_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                     bias_constraint=None, trainable: bool = True, name: str | None = None,
                     reuse=None) -> Tensor:
    """Functional `Conv2DTranspose` in scope `name` (default ``conv2d_transpose``, ...)."""
    layer = Conv2DTranspose(filters, kernel_size, strides=strides, padding=padding,
                            data_format=data_format, activation=activation, use_bias=use_bias,
                            kernel_initializer=kernel_initializer,
                            bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer,
                            bias_regularizer=bias_regularizer,
                            activity_regularizer=activity_regularizer,
                            kernel_constraint=kernel_constraint,
                            bias_constraint=bias_constraint, trainable=trainable, name=name,
                            _reuse=reuse)
    return layer.apply(inputs)
