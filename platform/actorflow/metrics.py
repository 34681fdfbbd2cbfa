"""TF 1.x streaming metrics (`tf.metrics`): each returns ``(value, update_op)``.

A metric keeps its running totals in local, non-trainable variables (collections
LOCAL_VARIABLES and METRIC_VARIABLES) created under a variable scope named after the metric,
so `tf.local_variables_initializer()` resets it. Running `update_op` adds one batch to the
totals and returns the updated value; `value` reads the totals without changing them.
Weights multiply each example's contribution (0 masks it) and broadcast to the values' shape.
"""
from __future__ import annotations

from . import dtypes
from .framework.graph import GraphKeys, add_to_collections, control_dependencies
from .variable_scope import variable_scope
from .variables import Variable, assign_add

__all__ = ["METRIC_VARIABLES", "metric_variable", "mean", "accuracy", "true_positives",
           "false_positives", "true_negatives", "false_negatives", "precision", "recall",
           "mean_absolute_error", "mean_squared_error", "root_mean_squared_error",
           "mean_tensor", "auc"]

METRIC_VARIABLES = GraphKeys.METRIC_VARIABLES
_KEPSILON = 1e-7  # puts the end thresholds just outside [0, 1]
_EPSILON = 1e-6  # keeps AUC's rates finite on empty counts


# -- helpers ---------------------------------------------------------------------------------
def metric_variable(shape, dtype, validate_shape: bool = True, name: str | None = None):
    """A zero-initialised local variable holding a metric's running total."""
    from .ops.constant import zeros
    return Variable(lambda: zeros(shape, dtype), trainable=False,
                    collections=[GraphKeys.LOCAL_VARIABLES, METRIC_VARIABLES],
                    validate_shape=validate_shape, name=name)


def _convert(x):
    from .framework.graph import convert_to_tensor
    return None if x is None else convert_to_tensor(x)


def _rank(t) -> int | None:
    return None if t._shape is None else len(t._shape)


def _remove_squeezable_dimensions(predictions, labels=None, weights=None):
    """Drops a trailing size-1 dim that only one of predictions/labels has; fits weights.

    Static shapes decide (as TF does when they are known).
    """
    from .ops.array import expand_dims, squeeze
    predictions, labels, weights = _convert(predictions), _convert(labels), _convert(weights)
    rp = _rank(predictions)
    if labels is not None and rp is not None and _rank(labels) is not None:
        rl = _rank(labels)
        if rp == rl + 1 and predictions._shape[-1] == 1:
            predictions, rp = squeeze(predictions, [-1]), rp - 1
        elif rl == rp + 1 and labels._shape[-1] == 1:
            labels = squeeze(labels, [-1])
    if weights is not None and rp is not None and _rank(weights) not in (None, 0):
        rw = _rank(weights)
        if rw == rp + 1 and weights._shape[-1] == 1:
            weights = squeeze(weights, [-1])
        elif rw == rp - 1:
            weights = expand_dims(weights, -1)
    return predictions, labels, weights


def _broadcast_weights(weights, values):
    """`weights` (float32) broadcast to the shape of `values`."""
    from .ops.constant import ones_like
    from .ops.math import to_float
    return to_float(weights) * ones_like(values, dtype=dtypes.float32)


def _div_no_nan(num, den, name: str | None = None):
    """num / den where den != 0, else 0 (no division by zero is ever evaluated)."""
    from .ops.constant import ones_like, zeros_like
    from .ops.logic import not_equal, where
    nonzero = not_equal(den, zeros_like(den))
    safe = where(nonzero, den, ones_like(den))
    return where(nonzero, num / safe, zeros_like(num), name=name)


def _safe_div(num, den, name: str):
    """num / den where den > 0, else 0 (TF's metric division)."""
    from .ops.constant import ones_like, zeros_like
    from .ops.logic import greater, where
    positive = greater(den, zeros_like(den))
    return where(positive, num / where(positive, den, ones_like(den)), zeros_like(num),
                 name=name)


def _collect(metrics_collections, value, updates_collections, update_op):
    if metrics_collections:
        add_to_collections(metrics_collections, value)
    if updates_collections:
        add_to_collections(updates_collections, update_op)
    return value, update_op


# -- means -----------------------------------------------------------------------------------
def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name: str | None = None):
    """The (weighted) mean of all values seen: total / count, 0 before any count."""
    from .ops.array import size
    from .ops.math import to_float
    from .ops.reduction import reduce_sum
    with variable_scope(name, "mean", (values, weights)):
        values = to_float(_convert(values))
        total = metric_variable([], dtypes.float32, name="total")
        count = metric_variable([], dtypes.float32, name="count")
        if weights is None:
            num_values = to_float(size(values))
        else:
            values, _, weights = _remove_squeezable_dimensions(values, None, weights)
            weights = _broadcast_weights(weights, values)
            values = values * weights
            num_values = reduce_sum(weights)
        update_total = assign_add(total, reduce_sum(values))
        with control_dependencies([values]):
            update_count = assign_add(count, num_values)
        value = _safe_div(total, count, "value")
        update_op = _safe_div(update_total, update_count, "update_op")
    return _collect(metrics_collections, value, updates_collections, update_op)


def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None,
                name: str | None = None):
    """The element-wise (weighted) mean of equally shaped value tensors."""
    from .ops.constant import ones_like
    from .ops.math import to_float
    with variable_scope(name, "mean", (values, weights)):
        values = to_float(_convert(values))
        if values._shape is None or None in values._shape:
            raise ValueError(f"mean_tensor needs a fully defined shape, got {values.shape}")
        total = metric_variable(list(values._shape), dtypes.float32, name="total_tensor")
        count = metric_variable(list(values._shape), dtypes.float32, name="count_tensor")
        num_values = ones_like(values)
        if weights is not None:
            values, _, weights = _remove_squeezable_dimensions(values, None, weights)
            weights = _broadcast_weights(weights, values)
            values = values * weights
            num_values = num_values * weights
        update_total = assign_add(total, values)
        with control_dependencies([values]):
            update_count = assign_add(count, num_values)
        value = _safe_div(total, count, "value")
        update_op = _safe_div(update_total, update_count, "update_op")
    return _collect(metrics_collections, value, updates_collections, update_op)


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name: str | None = None):
    """The fraction of predictions equal to labels (predictions cast to the labels' dtype)."""
    from .ops.logic import equal
    from .ops.math import cast, to_float
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    _check_compatible(predictions, labels, "accuracy")
    if labels.dtype != predictions.dtype:
        predictions = cast(predictions, labels.dtype)
    is_correct = to_float(equal(predictions, labels))
    return mean(is_correct, weights, metrics_collections, updates_collections,
                name or "accuracy")


def _check_compatible(predictions, labels, what: str) -> None:
    if not predictions.get_shape().is_compatible_with(labels.get_shape()):
        raise ValueError(f"{what}: predictions {predictions.get_shape()} and labels "
                         f"{labels.get_shape()} have incompatible shapes")


def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None,
                        updates_collections=None, name: str | None = None):
    """The mean of |predictions - labels|."""
    from .ops.unary import abs as abs_
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    return mean(abs_(predictions - labels), weights, metrics_collections,
                updates_collections, name or "mean_absolute_error")


def mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                       updates_collections=None, name: str | None = None):
    """The mean of (predictions - labels)^2."""
    from .ops.math import squared_difference
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    return mean(squared_difference(labels, predictions), weights, metrics_collections,
                updates_collections, name or "mean_squared_error")


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                            updates_collections=None, name: str | None = None):
    """The square root of `mean_squared_error`."""
    from .ops.unary import sqrt
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None,
                                         name or "root_mean_squared_error")
    return _collect(metrics_collections, sqrt(mse), updates_collections, sqrt(update_mse))


# -- counts ----------------------------------------------------------------------------------
def _count_condition(condition, weights, metrics_collections, updates_collections):
    """A running (weighted) count of the true elements of bool `condition`."""
    from .ops.array import identity
    from .ops.math import to_float
    from .ops.reduction import reduce_sum
    count = metric_variable([], dtypes.float32, name="count")
    values = to_float(condition)
    if weights is not None:
        values = values * _broadcast_weights(weights, values)
    value = identity(count)
    update_op = assign_add(count, reduce_sum(values))
    return _collect(metrics_collections, value, updates_collections, update_op)


def _bool_pair(labels, predictions, weights):
    from .ops.math import cast
    return _remove_squeezable_dimensions(cast(_convert(predictions), dtypes.bool),
                                         cast(_convert(labels), dtypes.bool), weights)


def _confusion_count(default_name: str, label_value: bool, prediction_value: bool):
    """A metric counting examples whose (label, prediction) booleans are the given pair."""
    def metric(labels, predictions, weights=None, metrics_collections=None,
               updates_collections=None, name: str | None = None):
        from .ops.logic import logical_and, logical_not
        with variable_scope(name, default_name, (predictions, labels, weights)):
            predictions, labels, weights = _bool_pair(labels, predictions, weights)
            lab = labels if label_value else logical_not(labels)
            pred = predictions if prediction_value else logical_not(predictions)
            return _count_condition(logical_and(lab, pred), weights, metrics_collections,
                                    updates_collections)
    metric.__name__ = default_name
    metric.__doc__ = (f"The (weighted) number of examples with label {label_value} and "
                      f"prediction {prediction_value} (both cast to bool).")
    return metric


true_positives = _confusion_count("true_positives", True, True)
false_positives = _confusion_count("false_positives", False, True)
true_negatives = _confusion_count("true_negatives", False, False)
false_negatives = _confusion_count("false_negatives", True, False)


def _ratio_metric(default_name: str, other_count, doc: str):
    """tp / (tp + other): precision (other = false positives) or recall (false negatives)."""
    def metric(labels, predictions, weights=None, metrics_collections=None,
               updates_collections=None, name: str | None = None):
        with variable_scope(name, default_name, (predictions, labels, weights)):
            predictions, labels, weights = _bool_pair(labels, predictions, weights)
            tp, tp_update = true_positives(labels, predictions, weights)
            other, other_update = other_count(labels, predictions, weights)
            value = _safe_div(tp, tp + other, "value")
            update_op = _safe_div(tp_update, tp_update + other_update, "update_op")
        return _collect(metrics_collections, value, updates_collections, update_op)
    metric.__name__ = default_name
    metric.__doc__ = doc
    return metric


precision = _ratio_metric("precision", false_positives,
                          "true positives / (true positives + false positives); 0 when none.")
recall = _ratio_metric("recall", false_negatives,
                       "true positives / (true positives + false negatives); 0 when none.")


# -- AUC -------------------------------------------------------------------------------------
def _confusion_at_thresholds(labels, predictions, thresholds, weights):
    """({tp, fn, tn, fp}: value, {…}: update) per threshold; an example counts as predicted
    positive at threshold t when its prediction is > t."""
    from .ops.array import reshape
    from .ops.constant import constant
    from .ops.logic import greater, logical_and, logical_not
    from .ops.math import cast, to_float
    from .ops.reduction import reduce_sum
    predictions, labels, weights = _remove_squeezable_dimensions(
        cast(_convert(predictions), dtypes.float32), _convert(labels), weights)
    thresh = constant([[t] for t in thresholds], dtype=dtypes.float32)
    pred_pos = greater(reshape(predictions, [1, -1]), thresh)  # [thresholds, examples]
    label_pos = reshape(cast(labels, dtypes.bool), [1, -1])
    w = None
    if weights is not None:
        w = reshape(_broadcast_weights(weights, predictions), [1, -1])
    cells = {"tp": (label_pos, pred_pos),
             "fn": (label_pos, logical_not(pred_pos)),
             "tn": (logical_not(label_pos), logical_not(pred_pos)),
             "fp": (logical_not(label_pos), pred_pos)}
    names = {"tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives",
             "fp": "false_positives"}
    values, updates = {}, {}
    for key, (lab, pred) in cells.items():
        var = metric_variable([len(thresholds)], dtypes.float32, name=names[key])
        hits = to_float(logical_and(lab, pred))
        if w is not None:
            hits = hits * w
        values[key] = var.value()
        updates[key] = assign_add(var, reduce_sum(hits, 1))
    return values, updates


def _interpolated_pr_auc(tp, fp, fn, n: int, name: str):
    """PR-AUC with precision interpolated between thresholds (Davis & Goadrich 2006): within
    each interval TP and P = TP + FP vary linearly, so the area is
    slope * (dTP + intercept * log(P_A / P_B)) / (TP_B + FN_B)."""
    from .ops.constant import ones_like
    from .ops.logic import logical_and, where
    from .ops.math import maximum
    from .ops.reduction import reduce_sum
    from .ops.unary import log
    dtp = tp[:n - 1] - tp[1:]
    p = tp + fp
    slope = _div_no_nan(dtp, maximum(p[:n - 1] - p[1:], 0.0))
    intercept = tp[1:] - slope * p[1:]
    both = logical_and(p[:n - 1] > 0.0, p[1:] > 0.0)
    ratio = where(both, _div_no_nan(p[:n - 1], maximum(p[1:], 0.0)), ones_like(p[1:]))
    return reduce_sum(_div_no_nan(slope * (dtp + intercept * log(ratio)),
                                  maximum(tp[1:] + fn[1:], 0.0)), name=name)


def _area(c: dict, n: int, curve: str, summation_method: str, name: str):
    from .ops.math import maximum, minimum
    from .ops.reduction import reduce_sum
    if curve == "PR" and summation_method == "careful_interpolation":
        return _interpolated_pr_auc(c["tp"], c["fp"], c["fn"], n, name)
    rec = (c["tp"] + _EPSILON) / (c["tp"] + c["fn"] + _EPSILON)
    if curve == "ROC":
        x, y = c["fp"] / (c["fp"] + c["tn"] + _EPSILON), rec
    else:
        x, y = rec, (c["tp"] + _EPSILON) / (c["tp"] + c["fp"] + _EPSILON)
    dx, y0, y1 = x[:n - 1] - x[1:], y[:n - 1], y[1:]
    if summation_method in ("trapezoidal", "careful_interpolation"):
        heights = (y0 + y1) / 2.0
    elif summation_method == "minoring":
        heights = minimum(y0, y1)
    else:
        heights = maximum(y0, y1)
    return reduce_sum(dx * heights, name=name)


def auc(labels, predictions, weights=None, num_thresholds: int = 200,
        metrics_collections=None, updates_collections=None, curve: str = "ROC",
        name: str | None = None, summation_method: str = "trapezoidal", thresholds=None):
    """Area under the ROC or PR curve, from confusion counts at `num_thresholds` thresholds.

    Predictions are probabilities in [0, 1]; thresholds are (i+1)/(num_thresholds-1) for
    i < num_thresholds-2, plus -1e-7 and 1+1e-7 (or the sorted `thresholds` given, plus those
    two). Areas are summed by `summation_method`: "trapezoidal", "minoring", "majoring", or
    "careful_interpolation" (interpolated precision, for PR).

    Raises:
        ValueError: an unknown `curve` or `summation_method`.
    """
    if curve not in ("ROC", "PR"):
        raise ValueError(f"Curve must be either ROC or PR. Curve {curve} is unknown.")
    if summation_method not in ("trapezoidal", "careful_interpolation", "minoring",
                                "majoring"):
        raise ValueError(f"Invalid summation_method: {summation_method}; use 'trapezoidal', "
                         "'careful_interpolation', 'minoring' or 'majoring'.")
    with variable_scope(name, "auc", (labels, predictions, weights)):
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        cuts = [0.0 - _KEPSILON] + inner + [1.0 + _KEPSILON]
        values, updates = _confusion_at_thresholds(labels, predictions, cuts, weights)
        value = _area(values, len(cuts), curve, summation_method, "value")
        update_op = _area(updates, len(cuts), curve, summation_method, "update_op")
    return _collect(metrics_collections, value, updates_collections, update_op)
