"""`tf.contrib.layers` utils (``slim.utils``): named outputs (end points) and shape helpers.

A layer's output gets an *alias*, its scope name (``resnet_v2_50/block1/unit_1/...``), when
it is added to an outputs collection; `convert_collection_to_dict` turns such a collection
into the ``end_points`` dict keyed by alias. TF keeps the aliases in an attribute of the
tensor; actorflow's tensors have fixed slots, so they live here, weakly keyed by tensor.
"""
from __future__ import annotations

import collections
import weakref

from ...framework.graph import add_to_collections, get_collection
from ...tensor_shape import Dimension, TensorShape

__all__ = ["append_tensor_alias", "collect_named_outputs", "convert_collection_to_dict",
           "gather_tensors_aliases", "get_tensor_aliases", "get_variable_collections",
           "last_dimension", "n_positive_integers", "two_element_tuple"]

_ALIASES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def append_tensor_alias(tensor, alias: str):
    """Adds `alias` (a trailing '/' dropped) to `tensor`'s aliases; returns `tensor`."""
    if alias.endswith("/"):
        alias = alias[:-1]
    _ALIASES.setdefault(tensor, []).append(alias)
    return tensor


def get_tensor_aliases(tensor) -> list[str]:
    """`tensor`'s aliases, or its name without a ':0' suffix when it has none."""
    aliases = _ALIASES.get(tensor)
    if aliases:
        return list(aliases)
    name = tensor.name
    return [name[:-2] if name.endswith(":0") else name]


def gather_tensors_aliases(tensors) -> list[str]:
    """The aliases of all `tensors`, in order."""
    return [alias for t in tensors for alias in get_tensor_aliases(t)]


def collect_named_outputs(collections_, alias: str, outputs):
    """Gives `outputs` the alias `alias` and adds it to `collections_` (a name or a list;
    nothing is collected, and no alias kept, when it is empty or None). Returns `outputs`."""
    if collections_:
        append_tensor_alias(outputs, alias)
        add_to_collections(collections_, outputs)
    return outputs


def convert_collection_to_dict(collection: str, clear_collection: bool = False
                               ) -> "collections.OrderedDict":
    """An OrderedDict alias -> tensor of the tensors in `collection`, in collection order
    (a tensor with several aliases appears under each).

    With `clear_collection`, the collection is emptied afterwards."""
    from ...framework.graph import get_default_graph
    items = get_collection(collection)
    output = collections.OrderedDict(
        (alias, tensor) for tensor in items for alias in get_tensor_aliases(tensor))
    if clear_collection:
        get_default_graph().clear_collection(collection)
    return output


def get_variable_collections(variables_collections, name: str):
    """The collections for variable `name`: `variables_collections[name]` for a dict, the
    value itself otherwise."""
    if isinstance(variables_collections, dict):
        return variables_collections.get(name)
    return variables_collections


def _dimension_value(shape: TensorShape, index: int) -> int:
    value = shape.dims[index]
    value = value.value if isinstance(value, Dimension) else value
    if value is None:
        raise ValueError(f"Invalid value in tensor shape: dimension {index} of {shape} is "
                         "unknown")
    return value


def last_dimension(shape, min_rank: int = 1) -> int:
    """The last dimension of `shape` (a TensorShape or list).

    Raises:
        ValueError: the rank is unknown or below `min_rank`, or the last dimension unknown.
    """
    shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
    if shape.ndims is None:
        raise ValueError("dims of shape must be known but is None")
    if shape.ndims < min_rank:
        raise ValueError(f"rank of shape must be at least {min_rank} not: {shape.ndims}")
    return _dimension_value(shape, -1)


def two_element_tuple(int_or_tuple) -> tuple[int, int]:
    """``3`` -> (3, 3); ``[2, 3]`` -> (2, 3); a TensorShape of two dims likewise.

    Raises:
        ValueError: a sequence whose length is not 2, or a value that is not an int.
    """
    if isinstance(int_or_tuple, (list, tuple)):
        if len(int_or_tuple) != 2:
            raise ValueError(f"Must be a list with 2 elements: {int_or_tuple}")
        return int(int_or_tuple[0]), int(int_or_tuple[1])
    if isinstance(int_or_tuple, int) and not isinstance(int_or_tuple, bool):
        return int_or_tuple, int_or_tuple
    if isinstance(int_or_tuple, TensorShape):
        if int_or_tuple.ndims == 2:
            return _dimension_value(int_or_tuple, 0), _dimension_value(int_or_tuple, 1)
    raise ValueError(f"Must be an int, a list with 2 elements or a TensorShape of length 2, "
                     f"got {int_or_tuple!r}")


def n_positive_integers(n: int, value) -> tuple[int, ...]:
    """`value` (an int, or a sequence of `n` ints) as a tuple of `n` positive ints.

    Raises:
        ValueError: a wrong length or a value that is not a positive int.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value > 0:
            return (value,) * n
    else:
        values = tuple(value) if isinstance(value, (list, tuple, TensorShape)) else None
        if values is not None and len(values) == n:
            values = tuple(v.value if isinstance(v, Dimension) else v for v in values)
            if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
                return values
    raise ValueError(f"Expected an int or a sequence of {n} positive ints, got {value!r}")
