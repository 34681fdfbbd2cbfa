"""`tf.contrib.layers` output layers: `softmax` over the last axis and `one_hot_encoding`."""
from __future__ import annotations

from ... import dtypes
from ...framework.graph import Tensor, convert_to_tensor, name_scope
from ...ops import array as array_ops
from ...ops import indexing as indexing_ops
from ...ops import math as math_ops
from ...ops import nn_loss as nn_ops
from ...variable_scope import variable_scope
from ..framework.arg_scope import add_arg_scope
from .utils import collect_named_outputs, last_dimension

__all__ = ["softmax", "one_hot_encoding"]


@add_arg_scope
def softmax(logits, scope: str | None = None) -> Tensor:
    """Softmax over the last axis of `logits` of any rank >= 2 (variable scope ``softmax``);
    the output has the logits' shape.

    Raises:
        ValueError: logits of rank below 2 or with an unknown last dimension.
    """
    with variable_scope(scope, "softmax", values=[logits]):
        logits = convert_to_tensor(logits)
        num_logits = last_dimension(logits.get_shape(), min_rank=2)
        logits_2d = array_ops.reshape(logits, [-1, num_logits])
        predictions = nn_ops.softmax(logits_2d)
        predictions = array_ops.reshape(predictions, array_ops.shape(logits))
        predictions.set_shape(logits.get_shape())
        return predictions


@add_arg_scope
def one_hot_encoding(labels, num_classes: int, on_value: float = 1.0, off_value: float = 0.0,
                     outputs_collections=None, scope: str | None = None) -> Tensor:
    """Integer `labels` [...] -> float one-hot rows [..., num_classes] holding `on_value` at
    the label and `off_value` elsewhere (name scope ``OneHotEncoding``)."""
    with name_scope(scope, "OneHotEncoding", [labels]) as sc:
        labels = convert_to_tensor(labels)
        if labels.dtype == dtypes.int32:
            labels = math_ops.cast(labels, dtypes.int64)
        outputs = indexing_ops.one_hot(labels, num_classes, on_value=on_value,
                                    off_value=off_value)
        return collect_named_outputs(outputs_collections, sc, outputs)
