"""Cases for the ops written with the core: Const, Placeholder, Identity, Add, ..."""
import numpy as np

import actorflow as tf

from . import OpCase, randn, randu

CASES = [
    OpCase("Const", lambda: tf.constant([[1.0, 2.0]], dtype=tf.float64),
           reference=lambda: np.array([[1.0, 2.0]]), grad=False),
    OpCase("Placeholder", lambda x: x, [randn(2, 3)], reference=lambda x: x, grad=False),
    OpCase("Identity", lambda x: tf.identity(x), [randn(2, 3)], reference=lambda x: x),
    OpCase("Add", lambda x, y: x + y, [randn(2, 3), randn(3, seed=1)],
           reference=lambda x, y: x + y),
    OpCase("Sub", lambda x, y: x - y, [randn(2, 3), randn(2, 1, seed=1)],
           reference=lambda x, y: x - y),
    OpCase("Mul", lambda x, y: x * y, [randn(2, 3), randn(1, 3, seed=1)],
           reference=lambda x, y: x * y),
    OpCase("RealDiv", lambda x, y: x / y, [randn(2, 3), randu(3, seed=1)],
           reference=lambda x, y: x / y),
    OpCase("Neg", lambda x: -x, [randn(4)], reference=lambda x: -x),
    OpCase("Square", tf.square, [randn(4)], reference=np.square),
    OpCase("MatMul", tf.matmul, [randn(2, 3), randn(3, 4, seed=1)], reference=np.matmul),
    OpCase("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
           [randn(3, 2), randn(4, 3, seed=1)], reference=lambda a, b: a.T @ b.T, name="TT"),
    OpCase("Sum", lambda x: tf.reduce_sum(x, axis=1), [randn(2, 3)],
           reference=lambda x: x.sum(1)),
    OpCase("Mean", lambda x: tf.reduce_mean(x, reduction_indices=[0], keep_dims=True),
           [randn(2, 3)], reference=lambda x: x.mean(0, keepdims=True)),
    OpCase("AddN", lambda a, b, c: tf.add_n([a, b, c]), [randn(3), randn(3, seed=1),
                                                       randn(3, seed=2)],
           reference=lambda a, b, c: a + b + c),
    OpCase("Cast", lambda x: tf.cast(x, tf.float32), [randn(3)],
           reference=lambda x: x.astype(np.float32), grad=False),
    OpCase("Pack", lambda a, b: tf.stack([a, b], axis=1), [randn(3), randn(3, seed=1)],
           reference=lambda a, b: np.stack([a, b], 1)),
    OpCase("Unpack", lambda x: tf.unstack(x, axis=1), [randn(2, 3)],
           reference=lambda x: [x[:, i] for i in range(3)]),
    OpCase("Shape", tf.shape, [randn(2, 3)], reference=lambda x: np.array([2, 3], np.int32),
           grad=False),
    OpCase("Size", tf.size, [randn(2, 3)], reference=lambda x: np.int32(6), grad=False),
    OpCase("Rank", tf.rank, [randn(2, 3)], reference=lambda x: np.int32(2), grad=False),
    OpCase("Reshape", lambda x: tf.reshape(x, [3, -1]), [randn(2, 3)],
           reference=lambda x: x.reshape(3, 2)),
    OpCase("Reshape", lambda x, y: tf.reshape(x, tf.shape(y)), [randn(2, 3), randn(3, 2)],
           reference=lambda x, y: x.reshape(3, 2), grad_inputs=(0,), name="dynamic"),
]
