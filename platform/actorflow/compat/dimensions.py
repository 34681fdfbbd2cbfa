"""`tf.compat.dimension_value` and `dimension_at_index`: read a static dimension the same way
whether shapes hold `Dimension` objects or plain ints."""
from __future__ import annotations

from ..tensor_shape import Dimension, as_shape

__all__ = ["dimension_at_index", "dimension_value"]


def dimension_value(dimension) -> int | None:
    """The int (or None) of a `Dimension`, or `dimension` itself when it is already an int or
    None."""
    if isinstance(dimension, Dimension):
        return dimension.value
    return dimension


def dimension_at_index(shape, index: int) -> Dimension:
    """Dimension `index` of `shape` as a `Dimension`; an unknown-rank shape gives an unknown
    dimension (rather than an error)."""
    shape = as_shape(shape)
    if shape.dims is None:
        return Dimension(None)
    return shape.dims[index]
