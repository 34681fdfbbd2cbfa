"""Initializers (TF 1.x `init_ops`): objects called as ``init(shape, dtype=None,
partition_info=None)`` that build the tensor a variable starts from.

`get_variable` calls them with the variable's shape and dtype; the random ones draw from the
random ops, so `tf.set_random_seed` and their `seed` make initial values reproducible.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from . import dtypes
from .ops.constant import constant, ones, zeros
from .ops.random import random_normal, random_orthogonal, random_uniform, truncated_normal

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "TruncatedNormal",
    "RandomUniform", "UniformUnitScaling", "VarianceScaling", "Orthogonal", "Identity",
    "GlorotUniform", "GlorotNormal",
    "zeros_initializer", "ones_initializer", "constant_initializer",
    "random_normal_initializer", "truncated_normal_initializer", "random_uniform_initializer",
    "uniform_unit_scaling_initializer", "variance_scaling_initializer",
    "orthogonal_initializer", "identity_initializer", "glorot_uniform_initializer",
    "glorot_normal_initializer", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "initializers",
]

# stddev of a unit normal truncated to [-2, 2] (scipy.stats.truncnorm.std(a=-2, b=2))
_TRUNCATED_STDDEV = 0.87962566103423978


def _float_dtype(dtype) -> dtypes.DType:
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype.name}.")
    return dtype


def _dims(shape) -> list:
    """`shape` (list, tuple, TensorShape, int) as a list of ints."""
    from .tensor_shape import as_shape
    return [int(d) for d in as_shape(shape).as_list()]


class Initializer:
    """Base class: ``__call__(shape, dtype=None, partition_info=None) -> Tensor``."""

    dtype = dtypes.float32

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError(f"{type(self).__name__} must define __call__")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def _dtype(self, dtype) -> dtypes.DType:
        return dtypes.as_dtype(dtype if dtype is not None else self.dtype)


class Zeros(Initializer):
    """All zeros."""

    def __init__(self, dtype=dtypes.float32) -> None:
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return zeros(shape, self._dtype(dtype))

    def get_config(self) -> dict:
        return {"dtype": self.dtype.name}


class Ones(Zeros):
    """All ones."""

    def __call__(self, shape, dtype=None, partition_info=None):
        return ones(shape, self._dtype(dtype))


class Constant(Initializer):
    """A scalar broadcast to the shape, or a list/array with the shape's element count
    (a shorter list is padded with its last value, as TF 1.x does unless verify_shape)."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape: bool = False) -> None:
        if not np.isscalar(value) and not isinstance(value, (list, tuple, np.ndarray)):
            raise TypeError(f"Invalid type for initial value: {type(value).__name__} "
                            "(expected Python scalar, list or tuple of values, or "
                            "numpy.ndarray).")
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        verify = self._verify_shape if verify_shape is None else verify_shape
        return constant(self.value, dtype=self._dtype(dtype), shape=_dims(shape),
                        verify_shape=verify)

    def get_config(self) -> dict:
        return {"value": self.value, "dtype": self.dtype.name,
                "verify_shape": self._verify_shape}


class RandomNormal(Initializer):
    """Samples of N(mean, stddev²)."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_normal(shape, self.mean, self.stddev, self._dtype(dtype), seed=self.seed)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """Samples of N(mean, stddev²), each beyond two stddev from the mean drawn again."""

    def __call__(self, shape, dtype=None, partition_info=None):
        return truncated_normal(shape, self.mean, self.stddev, self._dtype(dtype),
                                seed=self.seed)


class RandomUniform(Initializer):
    """Uniform samples in [minval, maxval) (maxval 1 for floats; required for ints)."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=dtypes.float32) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_uniform(shape, self.minval, self.maxval, self._dtype(dtype),
                              seed=self.seed)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "dtype": self.dtype.name}


class UniformUnitScaling(Initializer):
    """Uniform in ±factor·sqrt(3 / input_size), input_size the product of all but the last
    dim (deprecated in TF 1.x in favour of VarianceScaling)."""

    def __init__(self, factor=1.0, seed=None, dtype=dtypes.float32) -> None:
        self.factor, self.seed = factor, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dims = _dims(shape)
        input_size = max(1.0, float(np.prod(dims[:-1])))
        limit = math.sqrt(3 / input_size) * self.factor
        return random_uniform(dims, -limit, limit, self._dtype(dtype), seed=self.seed)

    def get_config(self) -> dict:
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


def compute_fans(shape) -> tuple[float, float]:
    """(fan_in, fan_out) of a weight shape; conv kernels [..., in, out] count the receptive
    field (the product of the leading dims) into both."""
    shape = _dims(shape)
    if not shape:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(Initializer):
    """Samples with variance scale / n, n being fan_in, fan_out or their mean (`mode`).

    `distribution`: "truncated_normal" (or "normal"): truncated normal whose stddev, after
    truncation, is sqrt(scale / n); "untruncated_normal": normal with that stddev;
    "uniform": uniform in ±sqrt(3 scale / n).
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("normal", "truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32) -> None:
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive float, got {scale}.")
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: {mode!r} (expected one of "
                             f"{list(self._MODES)})")
        distribution = distribution.lower()
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"Invalid `distribution` argument: {distribution!r} (expected "
                             f"one of {list(self._DISTRIBUTIONS)})")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _float_dtype(self._dtype(dtype))
        dims = _dims(shape)
        fan_in, fan_out = compute_fans(dims)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, n[self.mode])
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / _TRUNCATED_STDDEV
            return truncated_normal(dims, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_normal(dims, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_uniform(dims, -limit, limit, dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Uniform in ±sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""

    def __init__(self, seed=None, dtype=dtypes.float32) -> None:
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(GlorotUniform):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed=None, dtype=dtypes.float32) -> None:
        VarianceScaling.__init__(self, 1.0, "fan_avg", "truncated_normal", seed, dtype)


class Orthogonal(Initializer):
    """gain × a random orthogonal matrix; shapes of rank > 2 are flattened to
    [prod(shape[:-1]), shape[-1]] (Saxe et al. 2014)."""

    def __init__(self, gain=1.0, seed=None, dtype=dtypes.float32) -> None:
        self.gain, self.seed = gain, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _float_dtype(self._dtype(dtype))
        q = random_orthogonal(_dims(shape), dtype, seed=self.seed)
        from .ops.math import multiply
        return multiply(q, self.gain)

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """gain × the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0, dtype=dtypes.float32) -> None:
        self.gain = gain
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dims = _dims(shape)
        if len(dims) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices.")
        dtype = _float_dtype(self._dtype(dtype))
        return constant(self.gain * np.eye(*dims), dtype=dtype)

    def get_config(self) -> dict:
        return {"gain": self.gain, "dtype": self.dtype.name}


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
random_uniform_initializer = RandomUniform
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
orthogonal_initializer = Orthogonal
identity_initializer = Identity
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal


def lecun_normal(seed=None) -> VarianceScaling:
    """Truncated normal with stddev sqrt(1 / fan_in)."""
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None) -> VarianceScaling:
    """Uniform in ±sqrt(3 / fan_in)."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def he_normal(seed=None) -> VarianceScaling:
    """Truncated normal with stddev sqrt(2 / fan_in) (He et al. 2015)."""
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None) -> VarianceScaling:
    """Uniform in ±sqrt(6 / fan_in)."""
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def _initializers_namespace() -> SimpleNamespace:
    """`tf.initializers`: the TF 1.x short names."""
    from .variables import (global_variables_initializer, local_variables_initializer,
                            variables_initializer)
    return SimpleNamespace(
        zeros=Zeros, ones=Ones, constant=Constant, random_normal=RandomNormal,
        truncated_normal=TruncatedNormal, random_uniform=RandomUniform,
        uniform_unit_scaling=UniformUnitScaling, variance_scaling=VarianceScaling,
        orthogonal=Orthogonal, identity=Identity, glorot_uniform=GlorotUniform,
        glorot_normal=GlorotNormal, he_normal=he_normal, he_uniform=he_uniform,
        lecun_normal=lecun_normal, lecun_uniform=lecun_uniform,
        global_variables=global_variables_initializer,
        local_variables=local_variables_initializer, variables=variables_initializer)


initializers = _initializers_namespace()
