"""`tf.contrib.legacy_seq2seq` sequence losses: per-step cross-entropy of a list of logits
(one [batch, classes] tensor a time step) against integer targets, weighted per step."""
from __future__ import annotations

from ..framework.graph import Tensor, name_scope
from ..ops import array as array_ops
from ..ops import math as math_ops
from ..ops import nn_loss
from ..ops import reduction

__all__ = ["sequence_loss_by_example", "sequence_loss"]


def sequence_loss_by_example(logits, targets, weights, average_across_timesteps: bool = True,
                             softmax_loss_function=None, name: str | None = None) -> Tensor:
    """The weighted cross-entropy summed over time steps, one value per example: [batch].

    Args:
        logits: list of [batch, num_classes] tensors, one a time step.
        targets: list of int tensors (any shape holding `batch` ids), one a time step.
        weights: list of [batch] float tensors, one a time step.
        average_across_timesteps: divide by the summed weights (plus 1e-12).
        softmax_loss_function: ``f(labels=, logits=)`` used instead of the sparse softmax
            cross-entropy.

    Raises:
        ValueError: the three lists differ in length.
    """
    logits, targets, weights = list(logits), list(targets), list(weights)
    if len(targets) != len(logits) or len(weights) != len(logits):
        raise ValueError("Lengths of logits, weights, and targets must be the same "
                         f"{len(logits)}, {len(weights)}, {len(targets)}.")
    with name_scope(name, "sequence_loss_by_example", logits + targets + weights):
        log_perp_list = []
        for logit, target, weight in zip(logits, targets, weights):
            if softmax_loss_function is None:
                target = array_ops.reshape(target, [-1])
                crossent = nn_loss.sparse_softmax_cross_entropy_with_logits(labels=target,
                                                                            logits=logit)
            else:
                crossent = softmax_loss_function(labels=target, logits=logit)
            log_perp_list.append(crossent * weight)
        log_perps = math_ops.add_n(log_perp_list)
        if average_across_timesteps:
            total_size = math_ops.add_n(weights) + 1e-12  # all-zero weights stay finite
            log_perps = log_perps / total_size
        return log_perps


def sequence_loss(logits, targets, weights, average_across_timesteps: bool = True,
                  average_across_batch: bool = True, softmax_loss_function=None,
                  name: str | None = None) -> Tensor:
    """`sequence_loss_by_example` summed over the batch, divided by the batch size when
    `average_across_batch`: a scalar."""
    with name_scope(name, "sequence_loss", list(logits) + list(targets) + list(weights)):
        cost = reduction.reduce_sum(sequence_loss_by_example(
            logits, targets, weights, average_across_timesteps=average_across_timesteps,
            softmax_loss_function=softmax_loss_function))
        if average_across_batch:
            batch_size = array_ops.shape(targets[0])[0]
            return cost / math_ops.cast(batch_size, cost.dtype)
        return cost
