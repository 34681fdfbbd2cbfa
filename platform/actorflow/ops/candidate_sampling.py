"""Candidate sampling (part of `tf.nn`): the uniform and log-uniform (Zipfian) samplers, and
the sampled losses built on them, `nce_loss` and `sampled_softmax_loss` (TF 1.x
`candidate_sampling_ops.py` and `nn_impl.py`).

Registers (stateful, not differentiable; each draws from ``ctx.rng(op)``):
UniformCandidateSampler, LogUniformCandidateSampler. Inputs: true_classes int64
[batch, num_true]. Outputs: sampled_candidates int64 [num_sampled], true_expected_count float32
[batch, num_true], sampled_expected_count float32 [num_sampled].

Class probabilities over [0, range_max): uniform ``1 / range_max``; log-uniform
``(log(k + 2) - log(k + 1)) / log(range_max + 1)``. Expected counts follow TF: without `unique`,
``p * num_sampled``; with `unique` (drawing without replacement by rejecting repeats until
num_sampled distinct classes are found after `num_tries` draws), ``1 - (1 - p) ** num_tries``.

The losses are composites: `_compute_sampled_logits` gathers the true and sampled rows of the
class weights, subtracts the log expected counts, and (for sampled softmax) pushes sampled
classes that equal a true label ("accidental hits") to -FLT_MAX. Because the rows are
gathered, the losses' gradients with respect to the weights and biases are `IndexedSlices`
of the true and sampled rows only (batch * num_true + num_sampled of them).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, convert_to_tensor, make_op, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from .random import _seed_attrs

__all__ = ["uniform_candidate_sampler", "log_uniform_candidate_sampler", "nce_loss",
           "sampled_softmax_loss"]


# -- samplers -------------------------------------------------------------------------------
def _sampler_infer(op):
    true = op.inputs[0]
    if true.dtype != dtypes.int64:
        raise TypeError(f"true_classes must be int64, got {true.dtype.name} ({true.name})")
    num_true, num_sampled = op.attrs["num_true"], op.attrs["num_sampled"]
    shp = true._shape
    if shp is not None and (len(shp) != 2 or shp[1] not in (None, num_true)):
        raise ValueError(f"true_classes must be a matrix [batch, num_true={num_true}], got "
                         f"shape {list(shp)}")
    batch = None if shp is None else shp[0]
    return [(dtypes.int64, (num_sampled,)), (dtypes.float32, (batch, num_true)),
            (dtypes.float32, (num_sampled,))]


def _log_uniform_probs(classes: np.ndarray, range_max: int) -> np.ndarray:
    k = classes.astype(np.float64)
    return (np.log(k + 2.0) - np.log(k + 1.0)) / np.log(range_max + 1.0)


def _uniform_probs(classes: np.ndarray, range_max: int) -> np.ndarray:
    return np.full(classes.shape, 1.0 / range_max)


def _log_uniform_draw(rng, n: int, range_max: int) -> np.ndarray:
    """Inverse CDF of the log-uniform distribution: floor(exp(u log(R + 1))) - 1."""
    v = np.floor(np.exp(rng.random(n) * np.log(range_max + 1.0))).astype(np.int64) - 1
    return np.clip(v, 0, range_max - 1)


def _uniform_draw(rng, n: int, range_max: int) -> np.ndarray:
    return rng.integers(0, range_max, size=n, dtype=np.int64)


def _draw_unique(draw, rng, n: int, range_max: int) -> tuple[np.ndarray, int]:
    """`n` distinct classes in order of first appearance in a stream of draws, and the
    number of draws it took (the stream is extended until it holds `n` distinct values)."""
    stream = np.zeros(0, np.int64)
    while True:
        stream = np.concatenate([stream, draw(rng, max(2 * n, 16), range_max)])
        _, first = np.unique(stream, return_index=True)
        if len(first) >= n:
            first = np.sort(first)[:n]
            return stream[first], int(first[-1]) + 1 if n else 0


def _sampler_kernel(draw, probs):
    def factory(op, ctx):
        xp, rng = ctx.xp, ctx.rng(op)
        n, unique, range_max = op.attrs["num_sampled"], op.attrs["unique"], op.attrs["range_max"]

        def expected(p, tries):
            if unique:
                return (-np.expm1(tries * np.log1p(-p))).astype(np.float32)
            return (p * n).astype(np.float32)

        def candidate_sampler(true_classes):
            true = np.asarray(true_classes.get() if hasattr(true_classes, "get")
                              else true_classes)
            if true.size and (true.min() < 0 or true.max() >= range_max):
                raise errors.InvalidArgumentError(
                    None, op, f"true_classes must lie in [0, range_max={range_max}), got "
                    f"values in [{true.min()}, {true.max()}]")
            if unique:
                sampled, tries = _draw_unique(draw, rng, n, range_max)
            else:
                sampled, tries = draw(rng, n, range_max), n
            return (xp.asarray(sampled), xp.asarray(expected(probs(true, range_max), tries)),
                    xp.asarray(expected(probs(sampled, range_max), tries)))
        return candidate_sampler
    return factory


register_op("UniformCandidateSampler", infer=_sampler_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_sampler_kernel(_uniform_draw, _uniform_probs), stateful=True,
            doc="num_sampled classes drawn uniformly from [0, range_max), with expected "
                "counts.")
register_op("LogUniformCandidateSampler", infer=_sampler_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_sampler_kernel(_log_uniform_draw, _log_uniform_probs), stateful=True,
            doc="num_sampled classes drawn from the log-uniform (Zipfian) distribution over "
                "[0, range_max), with expected counts.")


def _sampler(op_type: str, true_classes, num_true, num_sampled, unique, range_max, seed,
             name, default_name: str) -> tuple:
    num_true, num_sampled, range_max = int(num_true), int(num_sampled), int(range_max)
    if range_max < 1 or num_sampled < 0 or num_true < 1:
        raise ValueError(f"{default_name}: need range_max >= 1, num_sampled >= 0 and "
                         f"num_true >= 1, got {range_max}, {num_sampled}, {num_true}")
    if unique and num_sampled > range_max:
        raise ValueError(f"{default_name}: unique sampling of num_sampled={num_sampled} "
                         f"classes needs range_max >= num_sampled, got {range_max}")
    with name_scope(name, default_name, [true_classes]):
        true = convert_to_tensor(true_classes, dtype=dtypes.int64, name="true_classes")
        op = make_op(op_type, [true], {"num_true": num_true, "num_sampled": num_sampled,
                                       "unique": bool(unique), "range_max": range_max,
                                       **_seed_attrs(seed)}, op_type)
        return tuple(op.outputs)


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                              seed=None, name=None) -> tuple:
    """Samples `num_sampled` classes uniformly from [0, range_max) (distinct if `unique`).

    Returns:
        (sampled_candidates [num_sampled] int64, true_expected_count [batch, num_true],
        sampled_expected_count [num_sampled]), the counts float32 (see the module docstring).

    Raises:
        ValueError: bad sizes, or unique with num_sampled > range_max.
    """
    return _sampler("UniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                    range_max, seed, name, "uniform_candidate_sampler")


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                  seed=None, name=None) -> tuple:
    """Samples `num_sampled` classes from the log-uniform (Zipfian) distribution
    ``P(k) = log((k + 2) / (k + 1)) / log(range_max + 1)``, which suits classes sorted by
    decreasing frequency (word ids). Returns as `uniform_candidate_sampler`."""
    return _sampler("LogUniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                    range_max, seed, name, "log_uniform_candidate_sampler")


# -- sampled losses -------------------------------------------------------------------------
def _compute_sampled_logits(weights, biases, labels, inputs, num_sampled: int,
                            num_classes: int, num_true: int, sampled_values,
                            subtract_log_q: bool, remove_accidental_hits: bool,
                            partition_strategy: str) -> tuple[Tensor, Tensor]:
    """Logits [batch, num_true + num_sampled] of the true then sampled classes, and their
    labels (1 / num_true for the true ones, 0 for the sampled)."""
    from .array import reshape, stop_gradient
    from .constant import ones_like, zeros_like
    from .embedding import embedding_lookup
    from .joining import concat
    from .linalg import matmul
    from .logic import equal
    from .math import cast, multiply, subtract
    from .reduction import reduce_any, reduce_sum
    from .unary import log
    inputs = convert_to_tensor(inputs, name="inputs")
    labels = cast(convert_to_tensor(labels, name="labels"), dtypes.int64)
    if labels._shape is not None and (len(labels._shape) != 2 or
                                      labels._shape[1] not in (None, num_true)):
        raise ValueError(f"labels must be [batch, num_true={num_true}], got shape "
                         f"{list(labels._shape)}")
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(labels, num_true, num_sampled, True,
                                                       num_classes)
    sampled, true_count, sampled_count = (stop_gradient(s) for s in sampled_values)
    sampled = cast(sampled, dtypes.int64)
    labels_flat = reshape(labels, [-1])
    all_ids = concat([labels_flat, sampled], 0)
    all_w = embedding_lookup(weights, all_ids, partition_strategy=partition_strategy)
    all_b = embedding_lookup(biases, all_ids, partition_strategy=partition_strategy)
    n_true = _shape_dim(labels_flat)
    true_w, sampled_w = all_w[:n_true], all_w[n_true:]
    true_b, sampled_b = all_b[:n_true], all_b[n_true:]
    dim = inputs._shape[1] if inputs._shape is not None and inputs._shape[1] is not None \
        else -1
    # [batch, num_true]: each input row dotted with its own true classes' weight rows
    true_logits = reduce_sum(multiply(inputs[:, None, :], reshape(true_w, [-1, num_true, dim])),
                             axis=2) + reshape(true_b, [-1, num_true])
    sampled_logits = matmul(inputs, sampled_w, transpose_b=True) + sampled_b
    if remove_accidental_hits:
        hits = reduce_any(equal(labels[:, :, None], sampled[None, None, :]), axis=1)
        min_float = float(np.finfo(inputs.dtype.np).min)
        sampled_logits = sampled_logits + multiply(cast(hits, inputs.dtype), min_float)
    if subtract_log_q:
        true_logits = subtract(true_logits, log(cast(true_count, inputs.dtype)))
        sampled_logits = subtract(sampled_logits, log(cast(sampled_count, inputs.dtype)))
    out_logits = concat([true_logits, sampled_logits], 1)
    out_labels = concat([ones_like(true_logits) / num_true, zeros_like(sampled_logits)], 1)
    return out_logits, out_labels


def _shape_dim(t: Tensor):
    from .array import shape
    return t._shape[0] if t._shape is not None and t._shape[0] is not None else shape(t)[0]


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
             sampled_values=None, remove_accidental_hits=False, partition_strategy="mod",
             name="nce_loss") -> Tensor:
    """Noise-contrastive estimation loss per example, [batch]: the logistic losses of the
    true classes (label 1 / num_true) and of `num_sampled` noise classes (label 0), each
    logit ``x . w_c + b_c - log(expected count of c)``.

    Args:
        weights: [num_classes, dim] class embeddings (or a list of shards); biases:
            [num_classes]; labels: int [batch, num_true]; inputs: [batch, dim].
        sampled_values: a sampler's triple; default: `log_uniform_candidate_sampler` with
            unique=True over num_classes.
    """
    from .nn_loss import sigmoid_cross_entropy_with_logits
    from .reduction import reduce_sum
    with name_scope(name, "nce_loss", [inputs, labels]):
        logits, labels_ = _compute_sampled_logits(
            weights, biases, labels, inputs, int(num_sampled), int(num_classes),
            int(num_true), sampled_values, True, remove_accidental_hits, partition_strategy)
        losses = sigmoid_cross_entropy_with_logits(labels=labels_, logits=logits,
                                                   name="sampled_losses")
        return reduce_sum(losses, axis=1)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes,
                         num_true=1, sampled_values=None, remove_accidental_hits=True,
                         partition_strategy="mod", name="sampled_softmax_loss") -> Tensor:
    """Softmax cross entropy per example, [batch], over the true classes and `num_sampled`
    sampled ones, logits corrected by the log expected counts (Jean et al., 2014); sampled
    classes equal to a true label are removed by default. Arguments as `nce_loss`."""
    from .array import stop_gradient
    from .nn_loss import softmax_cross_entropy_with_logits
    with name_scope(name, "sampled_softmax_loss", [inputs, labels]):
        logits, labels_ = _compute_sampled_logits(
            weights, biases, labels, inputs, int(num_sampled), int(num_classes),
            int(num_true), sampled_values, True, remove_accidental_hits, partition_strategy)
        return softmax_cross_entropy_with_logits(labels=stop_gradient(labels_), logits=logits)
