"""The loss collections: `add_loss`, `get_losses`, the regularization losses, the total loss."""
from __future__ import annotations

from ..framework.graph import GraphKeys, Tensor, add_to_collection, get_collection
from ..ops import constant as constant_ops
from ..ops import math as math_ops

__all__ = ["add_loss", "get_losses", "get_regularization_losses", "get_regularization_loss",
           "get_total_loss"]


def add_loss(loss: Tensor, loss_collection: str | None = GraphKeys.LOSSES) -> None:
    """Adds `loss` to `loss_collection` (nothing when the collection is None or empty)."""
    if loss_collection:
        add_to_collection(loss_collection, loss)


def get_losses(scope: str | None = None, loss_collection: str = GraphKeys.LOSSES) -> list:
    """The losses in `loss_collection` whose names match the regex `scope`."""
    return get_collection(loss_collection, scope)


def get_regularization_losses(scope: str | None = None) -> list:
    """The tensors in ``GraphKeys.REGULARIZATION_LOSSES`` whose names match `scope`."""
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: str | None = None,
                            name: str = "total_regularization_loss") -> Tensor:
    """The sum of the regularization losses, or a 0.0 constant when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return constant_ops.constant(0.0, name=name)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss",
                   scope: str | None = None) -> Tensor:
    """The sum of `get_losses()` and, by default, `get_regularization_losses()`.

    Raises:
        ValueError: there are no losses to sum.
    """
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("No losses found: add some with tf.losses.* or tf.losses.add_loss "
                         "before calling get_total_loss")
    return math_ops.add_n(losses, name=name)
