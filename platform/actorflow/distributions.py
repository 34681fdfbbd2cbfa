"""`tf.distributions` (TF 1.x): Normal, Categorical, Bernoulli and Uniform, and
`kl_divergence` between two of a kind, built from graph ops (composites, no new kernels).

The RL programs of the TF 1.x era use them for stochastic policies: ``Normal(mu, sigma)``
with `sample`, `log_prob`, `prob` and `entropy` (actor-critic, PPO), ``Categorical(logits)``
for discrete actions, and ``kl_divergence(old_pi, pi)`` (PPO's penalty).

Shapes follow TF: parameters broadcast to the batch shape; ``sample(n)`` (or a shape) has
shape ``sample_shape + batch_shape + event_shape`` (the event shape is scalar for all four).
"""
from __future__ import annotations

import contextlib
import math

from . import dtypes
from .framework.graph import convert_to_tensor, name_scope
from .ops._common import broadcast_shapes
from .tensor_shape import TensorShape

__all__ = ["Distribution", "Normal", "Categorical", "Bernoulli", "Uniform", "kl_divergence",
           "ReparameterizationType", "FULLY_REPARAMETERIZED", "NOT_REPARAMETERIZED"]


class ReparameterizationType:
    def __init__(self, rep_type: str):
        self._rep_type = rep_type

    def __repr__(self):
        return f"<Reparameteriation Type: {self._rep_type}>"


FULLY_REPARAMETERIZED = ReparameterizationType("FULLY_REPARAMETERIZED")
NOT_REPARAMETERIZED = ReparameterizationType("NOT_REPARAMETERIZED")


def _tf():
    import actorflow  # the public op namespace, once the package has finished importing
    return actorflow


class Distribution:
    """Base class: sample, log_prob/prob, entropy and moments over a batch of scalars."""

    def __init__(self, dtype, reparameterization_type, validate_args, allow_nan_stats,
                 parameters, name):
        self._dtype = dtype
        self._reparameterization_type = reparameterization_type
        self._validate_args, self._allow_nan_stats = validate_args, allow_nan_stats
        self._parameters = dict(parameters)
        self._name = name

    dtype = property(lambda self: self._dtype)
    name = property(lambda self: self._name)
    parameters = property(lambda self: dict(self._parameters))
    reparameterization_type = property(lambda self: self._reparameterization_type)
    validate_args = property(lambda self: self._validate_args)
    allow_nan_stats = property(lambda self: self._allow_nan_stats)
    event_shape = property(lambda self: TensorShape([]))

    @contextlib.contextmanager
    def _scope(self, name):
        """Ops of method `name` go under the distribution's scope, as TF's do."""
        with name_scope(self._name), name_scope(name) as scope:
            yield scope

    def event_shape_tensor(self, name="event_shape_tensor"):
        return _tf().constant([], dtype=dtypes.int32, name=name)

    def sample(self, sample_shape=(), seed=None, name="sample"):
        """Draws ``sample_shape + batch_shape`` values."""
        tf = _tf()
        with self._scope(name):
            shape = list(sample_shape) if isinstance(sample_shape, (list, tuple)) else \
                [sample_shape]
            n = tf.reduce_prod(tf.constant(shape, dtype=dtypes.int32)) if shape else \
                tf.constant(1, dtype=dtypes.int32)
            flat = self._sample_n(n, seed)  # [n] + batch_shape
            full = tf.concat([tf.constant(shape, dtype=dtypes.int32),
                              self.batch_shape_tensor()], 0)
            out = tf.reshape(flat, full)
            static = TensorShape(shape).concatenate(self.batch_shape) \
                if all(isinstance(d, int) for d in shape) else None
            if static is not None:
                out.set_shape(static)
            return out

    def prob(self, value, name="prob"):
        with self._scope(name):
            return _tf().exp(self.log_prob(value))

    def stddev(self, name="stddev"):
        with self._scope(name):
            return _tf().sqrt(self.variance())

    def kl_divergence(self, other, name="kl_divergence"):
        return kl_divergence(self, other, name=name)

    def cross_entropy(self, other, name="cross_entropy"):
        with self._scope(name):
            return self.entropy() + kl_divergence(self, other)


class Normal(Distribution):
    """N(loc, scale²): ``log_prob(x) = -((x - loc) / scale)² / 2 - log(scale) - log(2π) / 2``."""

    def __init__(self, loc, scale, validate_args=False, allow_nan_stats=True, name="Normal"):
        tf = _tf()
        parameters = dict(locals())
        with name_scope(name, values=[loc, scale]) as scope:
            self._loc = convert_to_tensor(loc, name="loc")
            self._scale = convert_to_tensor(scale, name="scale", dtype=self._loc.dtype)
            if validate_args:
                with tf.control_dependencies([tf.assert_positive(self._scale)]):
                    self._scale = tf.identity(self._scale)
        super().__init__(self._loc.dtype, FULLY_REPARAMETERIZED, validate_args,
                         allow_nan_stats, parameters, scope or name)

    loc = property(lambda self: self._loc)
    scale = property(lambda self: self._scale)

    @property
    def batch_shape(self):
        return _broadcast_static(self._loc.shape, self._scale.shape)

    def batch_shape_tensor(self, name="batch_shape_tensor"):
        return _shape_tensor(self.batch_shape, self._loc, self._scale)

    def _sample_n(self, n, seed):
        tf = _tf()
        shape = tf.concat([[n], self.batch_shape_tensor()], 0)
        return tf.random_normal(shape, dtype=self._dtype, seed=seed) * self._scale + self._loc

    def log_prob(self, value, name="log_prob"):
        tf = _tf()
        with self._scope(name):
            z = (convert_to_tensor(value, dtype=self._dtype) - self._loc) / self._scale
            return -0.5 * tf.square(z) - (0.5 * math.log(2.0 * math.pi) + tf.log(self._scale))

    def cdf(self, value, name="cdf"):
        tf = _tf()
        with self._scope(name):
            z = (convert_to_tensor(value, dtype=self._dtype) - self._loc) / self._scale
            return 0.5 * (1.0 + tf.erf(z / math.sqrt(2.0)))

    def entropy(self, name="entropy"):
        tf = _tf()
        with self._scope(name):
            scale = self._scale * tf.ones_like(self._loc)
            return 0.5 * math.log(2.0 * math.pi * math.e) + tf.log(scale)

    def mean(self, name="mean"):
        with self._scope(name):
            return self._loc * _tf().ones_like(self._scale)

    def mode(self, name="mode"):
        return self.mean(name)

    def stddev(self, name="stddev"):
        with self._scope(name):
            return self._scale * _tf().ones_like(self._loc)

    def variance(self, name="variance"):
        return _tf().square(self.stddev(name))


class Categorical(Distribution):
    """A distribution over ``0..K-1`` given `logits` or `probs` (last axis K)."""

    def __init__(self, logits=None, probs=None, dtype=dtypes.int32, validate_args=False,
                 allow_nan_stats=True, name="Categorical"):
        tf = _tf()
        if (logits is None) == (probs is None):
            raise ValueError("Must pass probs or logits, but not both.")
        parameters = dict(locals())
        with name_scope(name, values=[t for t in (logits, probs) if t is not None]) as scope:
            if logits is not None:
                self._logits = convert_to_tensor(logits, name="logits")
                self._probs = tf.nn.softmax(self._logits, name="probs")
            else:
                self._probs = convert_to_tensor(probs, name="probs")
                self._logits = tf.log(self._probs, name="logits")
        super().__init__(dtypes.as_dtype(dtype), NOT_REPARAMETERIZED, validate_args,
                         allow_nan_stats, parameters, scope or name)

    logits = property(lambda self: self._logits)
    probs = property(lambda self: self._probs)

    @property
    def event_size(self):
        return _tf().shape(self._logits)[-1]

    @property
    def batch_shape(self):
        return self._logits.shape[:-1]

    def batch_shape_tensor(self, name="batch_shape_tensor"):
        return _tf().shape(self._logits)[:-1]

    def _sample_n(self, n, seed):
        tf = _tf()
        logits_2d = tf.reshape(self._logits, [-1, self.event_size])
        draws = tf.multinomial(logits_2d, n, seed=seed, output_dtype=self._dtype)
        return tf.reshape(tf.transpose(draws), tf.concat([[n], self.batch_shape_tensor()], 0))

    def log_prob(self, value, name="log_prob"):
        tf = _tf()
        with self._scope(name):
            k = tf.cast(convert_to_tensor(value), dtypes.int32)
            logits = self._logits
            if not (k.shape.is_fully_defined() and logits.shape.is_fully_defined()
                    and k.shape.as_list() == logits.shape.as_list()[:-1]):
                # broadcast the labels and the batch of logits against each other
                logits = logits * tf.ones_like(tf.expand_dims(k, -1), dtype=logits.dtype)
                k = k * tf.ones_like(logits[..., 0], dtype=dtypes.int32)
            return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=k, logits=logits)

    def entropy(self, name="entropy"):
        tf = _tf()
        with self._scope(name):
            return -tf.reduce_sum(tf.nn.log_softmax(self._logits) * self._probs, axis=-1)

    def mode(self, name="mode"):
        tf = _tf()
        with self._scope(name):
            return tf.cast(tf.argmax(self._logits, axis=-1), self._dtype)


class Bernoulli(Distribution):
    """1 with probability `probs` (or sigmoid(`logits`)), else 0."""

    def __init__(self, logits=None, probs=None, dtype=dtypes.int32, validate_args=False,
                 allow_nan_stats=True, name="Bernoulli"):
        tf = _tf()
        if (logits is None) == (probs is None):
            raise ValueError("Must pass probs or logits, but not both.")
        parameters = dict(locals())
        with name_scope(name, values=[t for t in (logits, probs) if t is not None]) as scope:
            if logits is not None:
                self._logits = convert_to_tensor(logits, name="logits")
                self._probs = tf.sigmoid(self._logits, name="probs")
            else:
                self._probs = convert_to_tensor(probs, name="probs")
                self._logits = tf.subtract(tf.log(self._probs), tf.log1p(-self._probs),
                                           name="logits")
        super().__init__(dtypes.as_dtype(dtype), NOT_REPARAMETERIZED, validate_args,
                         allow_nan_stats, parameters, scope or name)

    logits = property(lambda self: self._logits)
    probs = property(lambda self: self._probs)
    batch_shape = property(lambda self: self._logits.shape)

    def batch_shape_tensor(self, name="batch_shape_tensor"):
        return _tf().shape(self._logits)

    def _sample_n(self, n, seed):
        tf = _tf()
        shape = tf.concat([[n], self.batch_shape_tensor()], 0)
        u = tf.random_uniform(shape, seed=seed, dtype=self._probs.dtype)
        return tf.cast(tf.less(u, self._probs), self._dtype)

    def log_prob(self, value, name="log_prob"):
        tf = _tf()
        with self._scope(name):
            x = tf.cast(convert_to_tensor(value), self._logits.dtype)
            logits = self._logits * tf.ones_like(x)
            return -tf.nn.sigmoid_cross_entropy_with_logits(labels=x * tf.ones_like(logits),
                                                            logits=logits)

    def entropy(self, name="entropy"):
        tf = _tf()
        with self._scope(name):
            return tf.nn.sigmoid_cross_entropy_with_logits(labels=self._probs,
                                                           logits=self._logits)

    def mean(self, name="mean"):
        return _tf().identity(self._probs, name=name)

    def mode(self, name="mode"):
        tf = _tf()
        return tf.cast(tf.greater(self._probs, 0.5), self._dtype, name=name)

    def variance(self, name="variance"):
        return _tf().multiply(self._probs, 1.0 - self._probs, name=name)


class Uniform(Distribution):
    """Uniform on [low, high)."""

    def __init__(self, low=0.0, high=1.0, validate_args=False, allow_nan_stats=True,
                 name="Uniform"):
        parameters = dict(locals())
        with name_scope(name, values=[low, high]) as scope:
            self._low = convert_to_tensor(low, name="low")
            self._high = convert_to_tensor(high, name="high", dtype=self._low.dtype)
        super().__init__(self._low.dtype, FULLY_REPARAMETERIZED, validate_args,
                         allow_nan_stats, parameters, scope or name)

    low = property(lambda self: self._low)
    high = property(lambda self: self._high)

    @property
    def batch_shape(self):
        return _broadcast_static(self._low.shape, self._high.shape)

    def batch_shape_tensor(self, name="batch_shape_tensor"):
        return _shape_tensor(self.batch_shape, self._low, self._high)

    def range(self, name="range"):
        return _tf().subtract(self._high, self._low, name=name)

    def _sample_n(self, n, seed):
        tf = _tf()
        shape = tf.concat([[n], self.batch_shape_tensor()], 0)
        return self._low + self.range() * tf.random_uniform(shape, seed=seed, dtype=self._dtype)

    def prob(self, value, name="prob"):
        tf = _tf()
        with self._scope(name):
            x = convert_to_tensor(value, dtype=self._dtype)
            inside = tf.logical_and(tf.greater_equal(x, self._low), tf.less(x, self._high))
            density = tf.ones_like(x) / self.range()
            return tf.where(inside, density, tf.zeros_like(density))

    def log_prob(self, value, name="log_prob"):
        with self._scope(name):
            return _tf().log(self.prob(value))

    def entropy(self, name="entropy"):
        return _tf().log(self.range(), name=name)

    def mean(self, name="mean"):
        return _tf().multiply(0.5, self._low + self._high, name=name)

    def variance(self, name="variance"):
        return _tf().multiply(1.0 / 12.0, _tf().square(self.range()), name=name)


def _broadcast_static(a: TensorShape, b: TensorShape) -> TensorShape:
    """The broadcast of two static shapes (unknown dimensions stay unknown).

    Raises:
        ValueError: the shapes cannot broadcast.
    """
    dims = broadcast_shapes(None if a.ndims is None else tuple(a.as_list()),
                            None if b.ndims is None else tuple(b.as_list()))
    return TensorShape(None if dims is None else list(dims))


def _shape_tensor(static: TensorShape, a, b):
    """The broadcast shape of `a` and `b`: a constant when known statically."""
    tf = _tf()
    if static.is_fully_defined():
        return tf.constant(static.as_list(), dtype=dtypes.int32)
    return tf.shape(a + b)


def kl_divergence(distribution_a, distribution_b, allow_nan_stats=True, name=None):
    """KL(a || b) for two distributions of the same kind (Normal, Categorical, Bernoulli).

    Raises:
        NotImplementedError: no formula for this pair of types.
    """
    tf = _tf()
    a, b = distribution_a, distribution_b
    with name_scope(name, "KullbackLeibler"):
        if isinstance(a, Normal) and isinstance(b, Normal):
            ratio = tf.square(a.scale) / tf.square(b.scale)
            return (tf.squared_difference(a.loc, b.loc) / (2.0 * tf.square(b.scale))
                    + 0.5 * (ratio - 1.0 - tf.log(ratio)))
        if isinstance(a, Categorical) and isinstance(b, Categorical):
            log_a, log_b = tf.nn.log_softmax(a.logits), tf.nn.log_softmax(b.logits)
            return tf.reduce_sum(tf.nn.softmax(a.logits) * (log_a - log_b), axis=-1)
        if isinstance(a, Bernoulli) and isinstance(b, Bernoulli):
            def log_p(d, positive):
                return -tf.nn.softplus(-d.logits) if positive else -tf.nn.softplus(d.logits)
            return (tf.sigmoid(a.logits) * (log_p(a, True) - log_p(b, True))
                    + tf.sigmoid(-a.logits) * (log_p(a, False) - log_p(b, False)))
    raise NotImplementedError(f"No KL(distribution_a || distribution_b) registered for "
                              f"distribution_a type {type(a).__name__} and distribution_b "
                              f"type {type(b).__name__}")
