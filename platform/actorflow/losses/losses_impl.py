"""TF 1.x `tf.losses`: per-element losses reduced by `compute_weighted_loss`.

Every loss takes `weights` (a scalar, or a tensor of the losses' rank whose dims are 1 or
equal to the losses'), reduces as `reduction` says (default ``SUM_BY_NONZERO_WEIGHTS``: the
weighted sum divided by the number of non-zero weights, broadcast to the losses' shape) and
adds the result to `loss_collection` (``GraphKeys.LOSSES``).
"""
from __future__ import annotations

from .. import dtypes
from ..framework.graph import GraphKeys, Tensor, convert_to_tensor, name_scope
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
    from ..ops.constant import ones_like, zeros_like
    from ..ops.math import equal, greater, where
    safe = where(equal(denominator, 0.0), ones_like(denominator), denominator)
    return where(greater(denominator, 0.0), numerator / safe, zeros_like(numerator), name=name)


def _num_present(losses: Tensor, weights: Tensor) -> Tensor:
    """The number of elements of `losses` whose broadcast weight is non-zero."""
    from ..ops.constant import ones_like
    from ..ops.math import cast, not_equal, reduce_sum
    with name_scope(None, "num_present", (losses, weights)):
        present = cast(not_equal(weights, 0.0), losses.dtype) * ones_like(losses)
        return reduce_sum(present)


def compute_weighted_loss(losses, weights=1.0, scope: str | None = None,
                          loss_collection: str | None = GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """`losses` times `weights`, reduced as `reduction` says, added to `loss_collection`.

    Half-precision losses are reduced in float32 and cast back, as TF 1.x does.

    Raises:
        ValueError: an unknown `reduction`, or `weights` that do not broadcast to `losses`.
    """
    from ..ops.array import size
    from ..ops.math import cast, reduce_sum
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss", (losses, weights)):
        losses = convert_to_tensor(losses)
        input_dtype = losses.dtype
        if input_dtype == dtypes.float16:
            losses = cast(losses, dtypes.float32)
        weights = cast(convert_to_tensor(weights), losses.dtype)
        _check_broadcastable(weights, losses)
        weighted = losses * weights
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                from ..ops.constant import ones_like
                loss = _safe_div(loss, reduce_sum(ones_like(losses) * weights))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _safe_div(loss, _num_present(losses, weights))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _safe_div(loss, cast(size(losses), losses.dtype))
        loss = cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


# -- the losses ----------------------------------------------------------------------------
def _float_pair(labels, predictions, what: str) -> tuple[Tensor, Tensor]:
    """Both converted to floats of one dtype, with compatible static shapes.

    Raises:
        ValueError: either is None, or their shapes are incompatible.
    """
    from ..ops.math import cast
    if labels is None:
        raise ValueError(f"{what}: labels must not be None.")
    if predictions is None:
        raise ValueError(f"{what}: predictions must not be None.")
    predictions = convert_to_tensor(predictions)
    if not predictions.dtype.is_floating:
        predictions = cast(predictions, dtypes.float32)
    labels = cast(convert_to_tensor(labels), predictions.dtype)
    if not predictions.get_shape().is_compatible_with(labels.get_shape()):
        raise ValueError(f"{what}: shapes {labels.get_shape()} (labels) and "
                         f"{predictions.get_shape()} (predictions) are incompatible")
    return labels, predictions


def absolute_difference(labels, predictions, weights=1.0, scope: str | None = None,
                        loss_collection=GraphKeys.LOSSES,
                        reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted |predictions - labels|."""
    from ..ops.math import abs as abs_
    with name_scope(scope, "absolute_difference", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "absolute_difference")
        losses = abs_(predictions - labels)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope: str | None = None,
                       loss_collection=GraphKeys.LOSSES,
                       reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted (predictions - labels)²."""
    from ..ops.math import squared_difference
    with name_scope(scope, "mean_squared_error", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "mean_squared_error")
        losses = squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def huber_loss(labels, predictions, weights=1.0, delta: float = 1.0, scope: str | None = None,
               loss_collection=GraphKeys.LOSSES,
               reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted Huber loss of e = predictions - labels: ½e² where |e| ≤ delta, else
    delta·(|e| - ½delta)."""
    from ..ops.math import abs as abs_
    from ..ops.math import minimum
    with name_scope(scope, "huber_loss", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "huber_loss")
        abs_error = abs_(predictions - labels)
        quadratic = minimum(abs_error, delta)
        linear = abs_error - quadratic
        losses = 0.5 * quadratic * quadratic + delta * linear
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def log_loss(labels, predictions, weights=1.0, epsilon: float = 1e-7, scope: str | None = None,
             loss_collection=GraphKeys.LOSSES,
             reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted -y·log(p + ε) - (1 - y)·log(1 - p + ε) of probabilities p."""
    from ..ops.math import log
    with name_scope(scope, "log_loss", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "log_loss")
        losses = -(labels * log(predictions + epsilon)) \
            - (1.0 - labels) * log(1.0 - predictions + epsilon)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def hinge_loss(labels, logits, weights=1.0, scope: str | None = None,
               loss_collection=GraphKeys.LOSSES,
               reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted max(0, 1 - (2y - 1)·logits) of 0/1 labels y."""
    from ..ops.nn import relu
    with name_scope(scope, "hinge_loss", (logits, labels, weights)) as sc:
        labels, logits = _float_pair(labels, logits, "hinge_loss")
        losses = relu(1.0 - (2.0 * labels - 1.0) * logits)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope: str | None = None,
                    loss_collection=GraphKeys.LOSSES,
                    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None) -> Tensor:
    """Weighted 1 - Σ_axis labels·predictions, for unit-normalised inputs.

    Raises:
        ValueError: neither `axis` nor its old name `dim` is given.
    """
    from ..ops.math import reduce_sum
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("cosine_distance: you must specify `axis`.")
    with name_scope(scope, "cosine_distance_loss", (predictions, labels, weights)) as sc:
        labels, predictions = _float_pair(labels, predictions, "cosine_distance")
        losses = 1.0 - reduce_sum(predictions * labels, axis=axis, keepdims=True)
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0,
                          label_smoothing: float = 0, scope: str | None = None,
                          loss_collection=GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted `tf.nn.sigmoid_cross_entropy_with_logits`; with label smoothing s the labels
    become ``y·(1 - s) + s/2``."""
    from ..ops.nn import sigmoid_cross_entropy_with_logits
    with name_scope(scope, "sigmoid_cross_entropy_loss",
                    (logits, multi_class_labels, weights)) as sc:
        labels, logits = _float_pair(multi_class_labels, logits, "sigmoid_cross_entropy")
        if label_smoothing > 0:
            labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
        losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                   name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing: float = 0,
                          scope: str | None = None, loss_collection=GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted softmax cross-entropy per row of [batch, classes] `logits`; with label
    smoothing s the labels become ``y·(1 - s) + s/classes``. No gradient flows to the labels.
    """
    from ..ops.array import stop_gradient
    from ..ops.nn import softmax_cross_entropy_with_logits_v2
    with name_scope(scope, "softmax_cross_entropy_loss",
                    (logits, onehot_labels, weights)) as sc:
        labels, logits = _float_pair(onehot_labels, logits, "softmax_cross_entropy")
        if label_smoothing > 0:
            labels = labels * (1.0 - label_smoothing) \
                + label_smoothing / _num_classes(labels)
        losses = softmax_cross_entropy_with_logits_v2(labels=stop_gradient(labels),
                                                      logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def _num_classes(labels: Tensor):
    """The size of the last axis: a Python float when static, else a tensor."""
    n = labels._shape[-1] if labels._shape else None
    if n is not None:
        return float(n)
    from ..ops.array import shape
    from ..ops.math import cast
    return cast(shape(labels)[-1], labels.dtype)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope: str | None = None,
                                 loss_collection=GraphKeys.LOSSES,
                                 reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Weighted softmax cross-entropy of integer class `labels` [batch] (or [batch, 1]) and
    [batch, classes] `logits`."""
    from ..ops.nn import sparse_softmax_cross_entropy_with_logits
    if labels is None:
        raise ValueError("sparse_softmax_cross_entropy: labels must not be None.")
    if logits is None:
        raise ValueError("sparse_softmax_cross_entropy: logits must not be None.")
    with name_scope(scope, "sparse_softmax_cross_entropy_loss",
                    (logits, labels, weights)) as sc:
        labels, logits = convert_to_tensor(labels), convert_to_tensor(logits)
        labels, weights = _squeeze_labels(labels, logits, convert_to_tensor(weights))
        losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                          name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction)


def _squeeze_labels(labels: Tensor, logits: Tensor, weights: Tensor) -> tuple:
    """Drops a trailing size-1 dim of labels [batch, 1] (and of weights of rank logits')."""
    from ..ops.array import squeeze
    lr, pr = labels._shape, logits._shape
    if lr is not None and pr is not None and len(lr) == len(pr) and lr and lr[-1] == 1:
        labels = squeeze(labels, [-1])
    wr = weights._shape
    if wr is not None and labels._shape is not None and len(wr) == len(labels._shape) + 1:
        weights = squeeze(weights, [-1])
    return labels, weights
