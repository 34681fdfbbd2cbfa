"""User functions of dataset transformations (`map`, `filter`, `flat_map`, `interleave`),
traced once into a function graph, as TF does.

The function is called once, at graph construction, with placeholders standing for one
element; Python side effects in it therefore happen once. An element that is a tuple is
passed as positional arguments (``map(lambda x, y: ...)``), anything else as one argument.
Tensors of the enclosing graph that the function uses are captured: they become inputs of
the dataset op and are evaluated when the iterator is initialized.
"""
from __future__ import annotations

import warnings

from .. import dtypes
from ..framework.function import FuncGraph, trace
from ..framework.graph import Tensor
from . import structure
from .structure import ElementSpec

__all__ = ["StructuredFunction"]


class StructuredFunction:
    """A traced dataset function.

    Attributes:
        graph: the FuncGraph (inputs: the element's components, then the captures).
        captured: the outer tensors the function captured (the op's extra inputs).
        output_spec: for a map function, the spec of the element it returns.
        dataset_spec: for a function returning a Dataset, that dataset's element spec.
    """

    def __init__(self, fn, name: str, input_spec: ElementSpec, kind: str) -> None:
        if not callable(fn):
            raise TypeError(f"`{name}` must be callable, got {fn!r}")
        self.kind = kind
        self.output_spec: ElementSpec | None = None
        self.dataset_spec: ElementSpec | None = None
        self.dataset_class = None

        def body(*flat_args):
            element = structure.pack(input_spec.template, flat_args)
            ret = fn(*element) if type(element) is tuple else fn(element)
            return self._check_return(ret, name)

        arg_specs = list(zip(input_spec.types, input_spec.shapes))
        self.graph: FuncGraph = trace(body, arg_specs, _function_name(fn, name))
        self.captured: list[Tensor] = self.graph.external_captures
        if kind == "map":
            self.output_spec = structure.spec_of_tensors(self.graph.structured_outputs)

    def _check_return(self, ret, name: str):
        if self.kind == "map":
            if isinstance(ret, list):
                warnings.warn("The map function returned a list; it is converted to a tuple "
                              "(wrap it in tf.stack to return one tensor).", stacklevel=4)
                ret = tuple(ret)
            return structure.normalize_element(ret, f"return value of `{name}`")
        if self.kind == "predicate":
            t = ret if isinstance(ret, Tensor) else structure.normalize_element(ret)
            if not isinstance(t, Tensor) or t.dtype != dtypes.bool or \
                    (t._shape is not None and t._shape != ()):
                raise ValueError(f"`{name}` must return a scalar boolean tensor, got {ret!r}")
            return t
        from .dataset_ops import Dataset
        if not isinstance(ret, Dataset):
            raise TypeError(f"`{name}` must return a `Dataset` object, got {ret!r}")
        self.dataset_spec = ret._spec
        self.dataset_class = type(ret)
        return ret._variant


def _function_name(fn, name: str) -> str:
    return f"{name}_{getattr(fn, '__name__', type(fn).__name__)}".replace("<", "").replace(
        ">", "")
