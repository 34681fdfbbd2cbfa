"""2-D pooling layers (`tf.layers.max_pooling2d` / `average_pooling2d`)."""
from __future__ import annotations

from ..framework.graph import Tensor
from ..ops import pooling as pool_ops
from .base import Layer, check_rank, normalize_data_format, normalize_padding, normalize_tuple
from .convolutional import _spatial, in_channels_last

__all__ = ["MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D", "max_pooling2d",
           "average_pooling2d"]


class _Pooling2D(Layer):
    """Pools windows of `pool_size` moved by `strides` over the spatial dims of 4-D inputs."""

    _pool_fn_name = ""

    def __init__(self, pool_size, strides, padding: str = "valid",
                 data_format: str = "channels_last", name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: Tensor) -> Tensor:
        check_rank(inputs, 4, self.name or self._base_name)
        pool = getattr(pool_ops, self._pool_fn_name)

        def pool_nhwc(x):
            return pool(x, ksize=_spatial(self.pool_size), strides=_spatial(self.strides),
                        padding=self.padding.upper(), data_format="NHWC")
        return in_channels_last(inputs, self.data_format == "channels_first", pool_nhwc)


class MaxPooling2D(_Pooling2D):
    """The maximum of each window."""

    _base_name = "max_pooling2d"
    _pool_fn_name = "max_pool"


class AveragePooling2D(_Pooling2D):
    """The mean of each window (padding excluded from the count)."""

    _base_name = "average_pooling2d"
    _pool_fn_name = "avg_pool"


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D


def max_pooling2d(inputs, pool_size, strides, padding: str = "valid",
                  data_format: str = "channels_last", name: str | None = None) -> Tensor:
    """Functional `MaxPooling2D`; `pool_size` and `strides` are ints or pairs."""
    return MaxPooling2D(pool_size, strides, padding=padding, data_format=data_format,
                        name=name).apply(inputs)


def average_pooling2d(inputs, pool_size, strides, padding: str = "valid",
                      data_format: str = "channels_last", name: str | None = None) -> Tensor:
    """Functional `AveragePooling2D`; `pool_size` and `strides` are ints or pairs."""
    return AveragePooling2D(pool_size, strides, padding=padding, data_format=data_format,
                            name=name).apply(inputs)
