"""`tf.SparseTensor`: a tensor stored as (indices, values, dense_shape), and its value.

A `SparseTensor` bundles three graph tensors: `indices` (int64, [nnz, rank]), `values`
([nnz], any dtype) and `dense_shape` (int64, [rank]). Fetching one from `Session.run` gives
a `SparseTensorValue` (a namedtuple of the three arrays), as TF does; `sparse_tensor_to_dense`
(also `tf.sparse.to_dense`) scatters it into a dense tensor through the `SparseToDense` op.
"""
from __future__ import annotations

import collections

import numpy as np

from .. import dtypes, errors
from ..tensor_shape import TensorShape
from .graph import Tensor, convert_to_tensor, make_op
from .registry import NOT_DIFFERENTIABLE, register_op

__all__ = ["SparseTensor", "SparseTensorValue", "sparse_tensor_to_dense", "sparse_to_dense",
           "is_sparse"]


class SparseTensorValue(collections.namedtuple("SparseTensorValue",
                                               ["indices", "values", "dense_shape"])):
    """The value of a `SparseTensor` (what `Session.run` returns for one)."""

    __slots__ = ()

    @property
    def shape(self):
        return self.dense_shape


class SparseTensor:
    """A sparse tensor: `values[i]` sits at `indices[i]` of a tensor of shape `dense_shape`;
    every other element is zero (or the default given when it is made dense).

    Args:
        indices: int64 [nnz, rank], in row-major order.
        values: [nnz] values of any dtype.
        dense_shape: int64 [rank].
    """

    def __init__(self, indices, values, dense_shape) -> None:
        self._indices = convert_to_tensor(indices, dtype=dtypes.int64, name="indices")
        self._values = convert_to_tensor(values, name="values")
        self._dense_shape = convert_to_tensor(dense_shape, dtype=dtypes.int64,
                                              name="dense_shape")

    @classmethod
    def from_value(cls, value: SparseTensorValue) -> "SparseTensor":
        return cls(value.indices, value.values, value.dense_shape)

    @property
    def indices(self) -> Tensor:
        return self._indices

    @property
    def values(self) -> Tensor:
        return self._values

    @property
    def dense_shape(self) -> Tensor:
        return self._dense_shape

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def graph(self):
        return self._values.graph

    @property
    def op(self):
        return self._values.op

    @property
    def shape(self) -> TensorShape:
        """The static dense shape: known dims where `dense_shape` is a constant."""
        ds = self._dense_shape
        if ds.op.type == "Const":
            return TensorShape([int(d) for d in np.ravel(ds.op.attrs["value"])])
        rank = ds._shape[0] if ds._shape else None
        return TensorShape(None if rank is None else [None] * rank)

    def get_shape(self) -> TensorShape:
        return self.shape

    def eval(self, feed_dict=None, session=None) -> SparseTensorValue:
        from .default_session import session_for
        return session_for(self.graph, session).run(self, feed_dict)

    def _fetch_parts(self):
        """The tensors `Session.run` fetches for this, and how to rebuild the result."""
        return [self._indices, self._values, self._dense_shape], SparseTensorValue

    def __repr__(self) -> str:
        return (f"SparseTensor(indices={self._indices!r}, values={self._values!r}, "
                f"dense_shape={self._dense_shape!r})")


def is_sparse(x) -> bool:
    return isinstance(x, (SparseTensor, SparseTensorValue))


# -- SparseToDense -------------------------------------------------------------------------
def _sparse_to_dense_infer(op):
    indices, output_shape, values, default = op.inputs
    if values.dtype != default.dtype:
        raise TypeError(f"SparseToDense: sparse_values ({values.dtype.name}) and "
                        f"default_value ({default.dtype.name}) must have the same dtype")
    shape = None
    if output_shape.op.type == "Const":
        shape = tuple(int(d) for d in np.ravel(output_shape.op.attrs["value"]))
    elif output_shape._shape is not None and output_shape._shape[0] is not None:
        shape = (None,) * output_shape._shape[0]
    return [(values.dtype, shape)]


def _sparse_to_dense_kernel(op, ctx):
    validate = op.attrs.get("validate_indices", True)
    dt = op.outputs[0].dtype.np

    def sparse_to_dense(indices, output_shape, values, default):
        shape = tuple(int(d) for d in np.ravel(output_shape))
        indices = np.asarray(indices, dtype=np.int64).reshape(
            -1, len(shape)) if np.ndim(indices) != 2 else np.asarray(indices, dtype=np.int64)
        out = np.full(shape, np.asarray(default).reshape(()), dtype=dt)
        if indices.shape[0] == 0:
            return out
        if indices.shape[1] != len(shape):
            raise errors.InvalidArgumentError(
                None, op, f"SparseToDense: indices have {indices.shape[1]} columns but "
                f"output_shape has rank {len(shape)}")
        bad = np.any((indices < 0) | (indices >= np.asarray(shape, dtype=np.int64)), axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            raise errors.InvalidArgumentError(
                None, op, f"indices[{i}] = {indices[i].tolist()} is out of bounds: need "
                f"0 <= index < {list(shape)}")
        if validate and len(indices) > 1:
            flat = np.ravel_multi_index(indices.T, shape)
            order = np.diff(flat)
            if (order <= 0).any():
                i = int(np.argmax(order <= 0)) + 1
                what = "repeated" if order[i - 1] == 0 else "out of order"
                raise errors.InvalidArgumentError(
                    None, op, f"indices[{i}] = {indices[i].tolist()} is {what}")
        out[tuple(indices.T)] = np.broadcast_to(np.asarray(values, dtype=dt),
                                                (indices.shape[0],))
        return out
    return sparse_to_dense


register_op("SparseToDense", infer=_sparse_to_dense_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_sparse_to_dense_kernel, host_only=True,
            doc="A dense tensor of output_shape holding default_value, with sparse_values "
                "at sparse_indices.")


def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0,
                    validate_indices: bool = True, name=None) -> Tensor:
    """A dense tensor of `output_shape`: `sparse_values` at `sparse_indices` (lexicographic
    order, no repeats when `validate_indices`), `default_value` elsewhere."""
    values = convert_to_tensor(sparse_values)
    inputs = [convert_to_tensor(sparse_indices, dtype=dtypes.int64),
              convert_to_tensor(output_shape, dtype=dtypes.int64), values,
              convert_to_tensor(default_value, dtype=values.dtype)]
    return make_op("SparseToDense", inputs, {"validate_indices": bool(validate_indices)},
                   name or "SparseToDense").outputs[0]


def sparse_tensor_to_dense(sp_input, default_value=None, validate_indices: bool = True,
                           name=None) -> Tensor:
    """The dense tensor of `sp_input`, with `default_value` (0 or b"") where it has no
    value."""
    if isinstance(sp_input, SparseTensorValue):
        sp_input = SparseTensor.from_value(sp_input)
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"Input must be a SparseTensor, got {type(sp_input).__name__}")
    if default_value is None:
        default_value = b"" if sp_input.dtype == dtypes.string else 0
    return sparse_to_dense(sp_input.indices, sp_input.dense_shape, sp_input.values,
                           default_value, validate_indices, name or "SparseTensorToDense")
