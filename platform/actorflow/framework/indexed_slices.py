"""`tf.IndexedSlices`: a sparse set of rows of a dense tensor, the gradient of a gather.

An `IndexedSlices` bundles `values` ([n, ...] rows), `indices` (int [n], the row of each
value) and, optionally, `dense_shape` (int [rank], the shape of the dense tensor they belong
to). It stands for the dense tensor ``unsorted_segment_sum(values, indices, dense_shape[0])``:
rows at repeated indices add up, rows not indexed are zero. `gather(params, ids)` (axis 0)
and everything built on it (`embedding_lookup`, `nce_loss`, `sampled_softmax_loss`) give
their gradient with respect to `params` in this form, so that an update touches only the
looked-up rows instead of the whole table.

`convert_to_tensor` makes the dense tensor wherever a dense op needs one (the conversion is
registered beside `unsorted_segment_sum`, in `ops/indexing.py`, so that this graph-layer
module imports no ops), warning, as TF does, when that tensor is large. Fetching an
`IndexedSlices` from `Session.run` gives an `IndexedSlicesValue` (a namedtuple of the arrays).
"""
from __future__ import annotations

import collections

import numpy as np

from .. import dtypes
from ..tensor_shape import TensorShape
from .graph import Tensor, constant_value, convert_to_tensor

__all__ = ["IndexedSlices", "IndexedSlicesValue", "convert_to_tensor_or_indexed_slices",
           "LARGE_SPARSE_NUM_ELEMENTS"]

LARGE_SPARSE_NUM_ELEMENTS = 100000000
"""Dense conversions of at least this many elements warn (TF's _LARGE_SPARSE_NUM_ELEMENTS)."""


class IndexedSlicesValue(collections.namedtuple("IndexedSlicesValue",
                                                ["values", "indices", "dense_shape"])):
    """The value of an `IndexedSlices` (what `Session.run` returns for one)."""

    __slots__ = ()

    def to_dense(self) -> np.ndarray:
        """The dense array: rows of `values` added at `indices` into zeros of `dense_shape`.

        Raises:
            ValueError: `dense_shape` is None.
        """
        if self.dense_shape is None:
            raise ValueError("IndexedSlicesValue.to_dense needs a dense_shape")
        out = np.zeros(tuple(int(d) for d in self.dense_shape), dtype=self.values.dtype)
        np.add.at(out, np.asarray(self.indices), self.values)
        return out


class IndexedSlices:
    """A sparse representation of a set of rows of a dense tensor (TF 1.x `tf.IndexedSlices`).

    Args:
        values: a tensor [n, d1, ...]: the rows.
        indices: an int32/int64 tensor [n]: the row of the dense tensor each value is.
        dense_shape: an int tensor [rank], or None when the dense shape is not known.

    Raises:
        TypeError: `indices` or `dense_shape` is not of an integer type.
    """

    def __init__(self, values, indices, dense_shape=None) -> None:
        self._values = convert_to_tensor(values, name="values")
        self._indices = convert_to_tensor(indices, name="indices")
        if not self._indices.dtype.is_integer:
            raise TypeError(f"IndexedSlices indices must be int32 or int64, got "
                            f"{self._indices.dtype.name}")
        self._dense_shape = None
        if dense_shape is not None:
            self._dense_shape = convert_to_tensor(dense_shape, name="dense_shape")
            if not self._dense_shape.dtype.is_integer:
                raise TypeError(f"IndexedSlices dense_shape must be int32 or int64, got "
                                f"{self._dense_shape.dtype.name}")

    @property
    def values(self) -> Tensor:
        """The rows: a tensor of shape [n] + the dense tensor's shape[1:]."""
        return self._values

    @property
    def indices(self) -> Tensor:
        """The dense row of each value: an int tensor [n]."""
        return self._indices

    @property
    def dense_shape(self) -> Tensor | None:
        """The shape of the dense tensor (an int tensor), or None."""
        return self._dense_shape

    @property
    def name(self) -> str:
        return self._values.name

    @property
    def device(self) -> str:
        return self._values.device

    @property
    def op(self):
        """The op that makes `values`."""
        return self._values.op

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def graph(self):
        return self._values.graph

    @property
    def shape(self) -> TensorShape:
        """The static shape of the dense tensor, as far as `dense_shape` is known."""
        if self._dense_shape is None:
            return TensorShape(None)
        known = constant_value(self._dense_shape)
        if known is not None:
            return TensorShape([int(d) for d in np.ravel(known)])
        rank = self._dense_shape._shape[0] if self._dense_shape._shape else None
        return TensorShape(None if rank is None else [None] * rank)

    def get_shape(self) -> TensorShape:
        return self.shape

    def _fetch_parts(self):
        """The tensors `Session.run` fetches for this, and how to rebuild the result."""
        if self._dense_shape is None:
            return [self._values, self._indices], \
                lambda values, indices: IndexedSlicesValue(values, indices, None)
        return [self._values, self._indices, self._dense_shape], IndexedSlicesValue

    def __neg__(self) -> "IndexedSlices":
        return IndexedSlices(-self._values, self._indices, self._dense_shape)

    def __str__(self) -> str:
        shape = "" if self._dense_shape is None else f", dense_shape={self._dense_shape}"
        return f"IndexedSlices(indices={self._indices}, values={self._values}{shape})"

    def __repr__(self) -> str:
        return str(self)


def convert_to_tensor_or_indexed_slices(value, dtype=None, name: str | None = None):
    """`value` itself when it is an `IndexedSlices` (of `dtype`, when given), else
    `convert_to_tensor(value, dtype, name)`.

    Raises:
        ValueError: an `IndexedSlices` of another dtype than `dtype`.
    """
    if isinstance(value, IndexedSlices):
        if dtype is not None and dtypes.as_dtype(dtype) != value.dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name}"
                             f" for IndexedSlices with dtype {value.dtype.name}: {value}")
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)
