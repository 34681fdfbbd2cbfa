"""TF 1.x `tf.losses`: per-element losses reduced by `compute_weighted_loss`.

Every loss takes `weights` (a scalar, or a tensor of the losses' rank whose dims are 1 or
equal to the losses'), reduces as `reduction` says (default ``SUM_BY_NONZERO_WEIGHTS``: the
weighted sum divided by the number of non-zero weights, broadcast to the losses' shape) and
adds the result to `loss_collection` (``GraphKeys.LOSSES``).
"""
from __future__ import annotations

from .. import dtypes
from ..framework.graph import GraphKeys, Tensor, convert_to_tensor, name_scope
from ..ops import array as array_ops
from ..ops import constant as constant_ops
from ..ops import logic as logic_ops
from ..ops import math as math_ops
from ..ops import nn as nn_ops
from ..ops import nn_loss as nn_loss_ops
from ..ops import reduction as reduction_ops
from ..ops import unary as unary_ops
from .util import add_loss

__all__ = ["Reduction", "compute_weighted_loss", "absolute_difference", "mean_squared_error",
           "huber_loss", "log_loss", "hinge_loss", "cosine_distance", "sigmoid_cross_entropy",
           "softmax_cross_entropy", "sparse_softmax_cross_entropy"]


class Reduction:
    """How `compute_weighted_loss` reduces the weighted per-element losses."""

    NONE = "none"
    """The weighted losses, unreduced."""
    SUM = "weighted_sum"
    """sum(weights * losses)."""
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    """sum(weights * losses) / number of loss elements."""
    MEAN = "weighted_mean"
    """sum(weights * losses) / sum(weights broadcast to the losses)."""
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    """sum(weights * losses) / number of non-zero weights (broadcast): the TF 1.x default."""
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key) -> None:
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key!r}; expected one of {cls.all()}")


# -- reduction -----------------------------------------------------------------------------
def _check_broadcastable(weights: Tensor, losses: Tensor) -> None:
    """ValueError unless `weights` is a scalar or has the losses' rank with dims 1 or equal."""
    w, v = weights._shape, losses._shape
    if w is None or v is None or len(w) == 0:
        return
    if len(w) != len(v) or any(a is not None and b is not None and a != 1 and a != b
                               for a, b in zip(w, v)):
        raise ValueError(f"weights can not be broadcast to values: weights {weights.name} has "
                         f"shape {weights.get_shape()}, values {losses.name} have shape "
                         f"{losses.get_shape()}")


def _safe_div(numerator: Tensor, denominator: Tensor, name: str = "value") -> Tensor:
    """numerator / denominator where the denominator is positive, else 0."""
    positive = logic_ops.greater(denominator, 0.0)
    safe = logic_ops.where(positive, denominator, constant_ops.ones_like(denominator))
    return logic_ops.where(positive, numerator / safe, constant_ops.zeros_like(numerator),
                          name=name)


def _num_present(losses: Tensor, weights: Tensor) -> Tensor:
    """The number of elements of `losses` whose broadcast weight is non-zero."""
    with name_scope(None, "num_present", (losses, weights)):
        present = math_ops.cast(logic_ops.not_equal(weights, 0.0), losses.dtype)
        return reduction_ops.reduce_sum(present * constant_ops.ones_like(losses))


def compute_weighted_loss(losses, weights=1.0, scope: str | None = None,
                          loss_collection: str | None = GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """`losses` times `weights`, reduced as `reduction` says, added to `loss_collection`.

    Half-precision losses are reduced in float32 and cast back, as TF 1.x does.

    Raises:
        ValueError: an unknown `reduction`, or `weights` that do not broadcast to `losses`.
    """
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss", (losses, weights)):
        losses = convert_to_tensor(losses)
        input_dtype = losses.dtype
        if input_dtype == dtypes.float16:
            losses = math_ops.cast(losses, dtypes.float32)
        weights = math_ops.cast(convert_to_tensor(weights), losses.dtype)
        _check_broadcastable(weights, losses)
        weighted = losses * weights
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduction_ops.reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                total_weight = reduction_ops.reduce_sum(constant_ops.ones_like(losses) * weights)
                loss = _safe_div(loss, total_weight)
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _safe_div(loss, _num_present(losses, weights))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _safe_div(loss, math_ops.cast(array_ops.size(losses), losses.dtype))
        loss = math_ops.cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


# -- the losses ----------------------------------------------------------------------------
def _float_pair(labels, predictions, what: str) -> tuple[Tensor, Tensor]:
    """Both converted to floats of one dtype, with compatible static shapes.

    Raises:
        ValueError: either is None, or their shapes are incompatible.
    """
    if labels is None:
        raise ValueError(f"{what}: labels must not be None.")
    if predictions is None:
        raise ValueError(f"{what}: predictions must not be None.")
    predictions = convert_to_tensor(predictions)
    if not predictions.dtype.is_floating:
        predictions = math_ops.cast(predictions, dtypes.float32)
    labels = math_ops.cast(convert_to_tensor(labels), predictions.dtype)
    if not predictions.get_shape().is_compatible_with(labels.get_shape()):
        raise ValueError(f"{what}: shapes {labels.get_shape()} (labels) and "
                         f"{predictions.get_shape()} (predictions) are incompatible")
    return labels, predictions


def absolute_difference(labels, predictions, weights=1.0, scope: str | None = None,
                        loss_collection=GraphKeys.LOSSES,
                        reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted |predictions - labels|."""
    with name_scope(scope, "absolute_difference", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "absolute_difference")
        losses = unary_ops.abs(predictions - labels)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope: str | None = None,
                       loss_collection=GraphKeys.LOSSES,
                       reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted (predictions - labels)²."""
    with name_scope(scope, "mean_squared_error", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "mean_squared_error")
        losses = math_ops.squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def huber_loss(labels, predictions, weights=1.0, delta: float = 1.0, scope: str | None = None,
               loss_collection=GraphKeys.LOSSES,
               reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted Huber loss of e = predictions - labels: ½e² where |e| ≤ delta, else
    delta·(|e| - ½delta)."""
    with name_scope(scope, "huber_loss", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "huber_loss")
        abs_error = unary_ops.abs(predictions - labels)
        quadratic = math_ops.minimum(abs_error, delta)
        linear = abs_error - quadratic
        losses = 0.5 * quadratic * quadratic + delta * linear
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def log_loss(labels, predictions, weights=1.0, epsilon: float = 1e-7, scope: str | None = None,
             loss_collection=GraphKeys.LOSSES,
             reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted -y·math_ops.log(p + ε) - (1 - y)·math_ops.log(1 - p + ε) of probabilities p."""
    with name_scope(scope, "log_loss", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "log_loss")
        losses = -(labels * unary_ops.log(predictions + epsilon)) \
            - (1.0 - labels) * unary_ops.log(1.0 - predictions + epsilon)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def hinge_loss(labels, logits, weights=1.0, scope: str | None = None,
               loss_collection=GraphKeys.LOSSES,
               reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted max(0, 1 - (2y - 1)·logits) of 0/1 labels y."""
    with name_scope(scope, "hinge_loss", (logits, labels, weights)) as sc:
        labels, logits = _float_pair(labels, logits, "hinge_loss")
        losses = nn_ops.relu(1.0 - (2.0 * labels - 1.0) * logits)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope: str | None = None,
                    loss_collection=GraphKeys.LOSSES,
                    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None) -> Tensor:
    """Weighted 1 - Σ_axis labels·predictions, for unit-normalised inputs.

    Raises:
        ValueError: neither `axis` nor its old name `dim` is given.
    """
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("cosine_distance: you must specify `axis`.")
    with name_scope(scope, "cosine_distance_loss", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "cosine_distance")
        losses = 1.0 - reduction_ops.reduce_sum(predictions * labels, axis=axis, keepdims=True)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0,
                          label_smoothing: float = 0, scope: str | None = None,
                          loss_collection=GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted `tf.nn.sigmoid_cross_entropy_with_logits`; with label smoothing s the labels
    become ``y·(1 - s) + s/2``."""
    with name_scope(scope, "sigmoid_cross_entropy_loss",
                    (logits, multi_class_labels, weights)) as sc:
        labels, logits = _float_pair(multi_class_labels, logits, "sigmoid_cross_entropy")
        if label_smoothing > 0:
            labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
        losses = nn_loss_ops.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                               name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing: float = 0,
                          scope: str | None = None, loss_collection=GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted softmax cross-entropy per row of [batch, classes] `logits`; with label
    smoothing s the labels become ``y·(1 - s) + s/classes``. No gradient flows to the labels.
    """
    with name_scope(scope, "softmax_cross_entropy_loss",
                    (logits, onehot_labels, weights)) as sc:
        labels, logits = _float_pair(onehot_labels, logits, "softmax_cross_entropy")
        if label_smoothing > 0:
            labels = labels * (1.0 - label_smoothing) \
                + label_smoothing / _num_classes(labels)
        losses = nn_loss_ops.softmax_cross_entropy_with_logits_v2(
            labels=array_ops.stop_gradient(labels), logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def _num_classes(labels: Tensor):
    """The size of the last axis: a Python float when static, else a tensor."""
    n = labels._shape[-1] if labels._shape else None
    if n is not None:
        return float(n)
    return math_ops.cast(array_ops.shape(labels)[-1], labels.dtype)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope: str | None = None,
                                 loss_collection=GraphKeys.LOSSES,
                                 reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted softmax cross-entropy of integer class `labels` [batch] (or [batch, 1]) and
    [batch, classes] `logits`."""
    if labels is None:
        raise ValueError("sparse_softmax_cross_entropy: labels must not be None.")
    if logits is None:
        raise ValueError("sparse_softmax_cross_entropy: logits must not be None.")
    with name_scope(scope, "sparse_softmax_cross_entropy_loss",
                    (logits, labels, weights)) as sc:
        labels, logits = convert_to_tensor(labels), convert_to_tensor(logits)
        labels, weights = _squeeze_labels(labels, logits, convert_to_tensor(weights))
        losses = nn_loss_ops.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                      logits=logits,
                                                                      name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def _squeeze_labels(labels: Tensor, logits: Tensor, weights: Tensor) -> tuple:
    """Drops a trailing size-1 dim of labels [batch, 1] (and of weights of rank logits')."""
    lr, pr = labels._shape, logits._shape
    if lr is not None and pr is not None and len(lr) == len(pr) and lr and lr[-1] == 1:
        labels = array_ops.squeeze(labels, [-1])
    wr = weights._shape
    if wr is not None and labels._shape is not None and len(wr) == len(labels._shape) + 1:
        weights = array_ops.squeeze(weights, [-1])
    return labels, weights
