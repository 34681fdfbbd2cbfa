"""Element structures of a dataset: nested tuples, namedtuples and dicts of tensors.

tf.data flattens an element into its leaf components (dict entries in sorted key order, as
`tf.nest` does), runs the pipeline over those flat tuples and packs them back into the nesting
when an iterator's `get_next()` returns them. A Python list is not a structure: it becomes one
tensor (as in TF 1.x), except as the return value of a `map` function, where it is read as a
tuple.

`ElementSpec` is what a dataset knows statically: the nesting and one (dtype, shape) per
component, where a shape is a tuple of ints / None, or None for an unknown rank.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import dtypes
from ..framework.graph import Tensor, convert_to_tensor
from ..tensor_shape import TensorShape, as_shape

__all__ = ["ElementSpec", "flatten", "pack", "normalize_element", "spec_of_tensors",
           "merge_shapes", "most_specific_compatible_shape", "shape_is_compatible",
           "LEAF"]


class _Leaf:
    def __repr__(self) -> str:
        return "LEAF"


LEAF = _Leaf()
"""The placeholder for one component in a structure template."""


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def flatten(structure) -> list:
    """The leaves of `structure` in tf.nest order (dict keys sorted)."""
    out: list = []
    _flatten_into(structure, out)
    return out


def _flatten_into(s, out: list) -> None:
    if isinstance(s, dict):
        for k in sorted(s):
            _flatten_into(s[k], out)
    elif isinstance(s, tuple):
        for v in s:
            _flatten_into(v, out)
    else:
        out.append(s)


def pack(template, flat) -> object:
    """`flat` (a sequence of leaves) in the nesting of `template`.

    Raises:
        ValueError: `flat` has a different number of leaves than `template`.
    """
    it = iter(flat)
    out = _pack(template, it)
    if next(it, _END) is not _END:
        raise ValueError(f"Structure {template!r} has fewer leaves than the values given")
    return out


_END = object()


def _pack(t, it):
    if isinstance(t, dict):
        vals = {k: _pack(t[k], it) for k in sorted(t)}
        return type(t)((k, vals[k]) for k in t) if type(t) is not dict else \
            {k: vals[k] for k in t}
    if _is_namedtuple(t):
        return type(t)(*[_pack(v, it) for v in t])
    if isinstance(t, tuple):
        return tuple(_pack(v, it) for v in t)
    v = next(it, _END)
    if v is _END:
        raise ValueError("Structure has more leaves than the values given")
    return v


def template_of(structure) -> object:
    """`structure` with every leaf replaced by LEAF."""
    return pack(structure, [LEAF] * len(flatten(structure)))


def normalize_element(element, what: str = "element") -> object:
    """`element` with every leaf converted to a Tensor (a list becomes one tensor).

    Raises:
        TypeError / ValueError: a leaf that cannot be converted (the message names it).
    """
    leaves = flatten(element)
    if not leaves:
        raise ValueError(f"A dataset {what} needs at least one component, got {element!r}")
    out = []
    for i, v in enumerate(leaves):
        if v is None:
            raise TypeError(f"Component {i} of the {what} is None, which is not a tensor")
        try:
            out.append(v if isinstance(v, Tensor) else
                       convert_to_tensor(v, name=f"component_{i}"))
        except (TypeError, ValueError) as e:
            raise type(e)(f"Failed to convert component {i} of the {what} to a tensor: {e}") \
                from None
    return pack(element, out)


@dataclass(frozen=True)
class ElementSpec:
    """The static description of a dataset element.

    Attributes:
        template: the nesting, with LEAF for each component.
        types: one DType per component (flat, tf.nest order).
        shapes: one static shape per component (tuple of int/None, or None).
    """

    template: object
    types: tuple
    shapes: tuple

    @property
    def n(self) -> int:
        return len(self.types)

    def output_types(self):
        return pack(self.template, list(self.types))

    def output_shapes(self):
        return pack(self.template, [TensorShape(s) for s in self.shapes])

    def output_classes(self):
        return pack(self.template, [Tensor] * self.n)

    def with_shapes(self, shapes) -> "ElementSpec":
        return ElementSpec(self.template, self.types, tuple(shapes))

    def attrs(self) -> dict:
        """The output_types / output_shapes attrs of a dataset op producing this element."""
        return {"output_types": list(self.types), "output_shapes": list(self.shapes)}


def spec_of_tensors(element) -> ElementSpec:
    """The spec of a (normalized) nested structure of tensors."""
    leaves = flatten(element)
    return ElementSpec(template_of(element), tuple(t.dtype for t in leaves),
                       tuple(t._shape for t in leaves))


def spec_from_declared(output_types, output_shapes=None) -> ElementSpec:
    """The spec given by (nested) `output_types` and optional matching `output_shapes`.

    Raises:
        TypeError / ValueError: an entry that is not a dtype, or shapes nested differently.
    """
    types = [dtypes.as_dtype(t) for t in flatten(output_types)]
    template = template_of(output_types)
    if output_shapes is None:
        shapes = [None] * len(types)
    else:
        flat_shapes = _flatten_shapes(output_shapes, template)
        if len(flat_shapes) != len(types):
            raise ValueError(f"output_shapes {output_shapes!r} do not match the structure of "
                             f"output_types {output_types!r}")
        shapes = [as_shape(s).as_tuple() for s in flat_shapes]
    return ElementSpec(template, tuple(types), tuple(shapes))


def _flatten_shapes(shapes, template) -> list:
    """Flattens shapes along `template`: a list/tuple of ints where the template has a leaf is
    one shape, not a structure."""
    if template is LEAF:
        return [shapes]
    if isinstance(template, dict):
        if not isinstance(shapes, dict) or set(shapes) != set(template):
            raise ValueError(f"Shapes {shapes!r} do not match the structure {template!r}")
        return [s for k in sorted(template) for s in _flatten_shapes(shapes[k], template[k])]
    if not isinstance(shapes, (tuple, list)) or len(shapes) != len(template):
        raise ValueError(f"Shapes {shapes!r} do not match the structure {template!r}")
    return [s for sh, t in zip(shapes, template) for s in _flatten_shapes(sh, t)]


def flatten_along(value, template, what: str) -> list:
    """Flattens a user structure that mirrors `template` (e.g. padded_shapes), where a
    list at a leaf position is one value."""
    try:
        return _flatten_shapes(value, template)
    except ValueError:
        raise ValueError(f"{what} {value!r} does not match the element structure "
                         f"{template!r}") from None


# -- static shapes ------------------------------------------------------------------------
def shape_is_compatible(shape, other) -> bool:
    """Whether two static shapes (tuples with None, or None) can describe the same value."""
    if shape is None or other is None:
        return True
    return len(shape) == len(other) and all(a is None or b is None or a == b
                                            for a, b in zip(shape, other))


def merge_shapes(shape, other):
    """The most specific shape compatible with both; ValueError when they conflict."""
    if shape is None:
        return other
    if other is None:
        return shape
    if not shape_is_compatible(shape, other):
        raise ValueError(f"Shapes {list(shape)} and {list(other)} are incompatible")
    return tuple(a if a is not None else b for a, b in zip(shape, other))


def most_specific_compatible_shape(shape, other):
    """The most specific shape that both shapes are instances of (dims that differ become
    None; ranks that differ give an unknown rank), as concatenate and repeat need."""
    if shape is None or other is None or len(shape) != len(other):
        return None
    return tuple(a if a == b else None for a, b in zip(shape, other))


class HasElementSpec:
    """The element description TF's datasets and iterators share (from `self._spec`)."""

    _spec: ElementSpec

    @property
    def output_types(self):
        """The dtype of each component, nested like the element."""
        return self._spec.output_types()

    @property
    def output_shapes(self):
        """The static TensorShape of each component, nested like the element."""
        return self._spec.output_shapes()

    @property
    def output_classes(self):
        """The class (`tf.Tensor`) of each component, nested like the element."""
        return self._spec.output_classes()
