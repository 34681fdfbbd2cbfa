"""`tf.sparse`: the sparse-tensor names TF 1.x also keeps under `tf.sparse`."""
# ruff: noqa: F401
from .framework.sparse_tensor import SparseTensor, SparseTensorValue, sparse_to_dense
from .framework.sparse_tensor import sparse_tensor_to_dense as to_dense
