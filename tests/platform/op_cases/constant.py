"""Cases for the constant family (ops/constant.py) and the core's helper ops: fills, ranges,
placeholders with defaults, StopGradient and the reduction/broadcast gradient helpers."""
import numpy as np

import actorflow as tf
from actorflow.framework.graph import make_op

from . import OpCase, randn


def _sum_to_shape(g, x):
    return make_op("SumToShape", [g, tf.shape(x)]).outputs[0]


def _reshape_to_reduced(t, x, axes):
    return make_op("ReshapeToReduced", [t, tf.shape(x)], {"axes": axes}).outputs[0]


CASES = [
    OpCase("PlaceholderWithDefault", lambda x: tf.placeholder_with_default(x, [None, 3]) * 2.0,
           [randn(2, 3)], reference=lambda x: 2 * x),
    OpCase("PlaceholderWithDefault",
           lambda: tf.placeholder_with_default(np.arange(3, dtype=np.int32), [3]),
           reference=lambda: np.arange(3, dtype=np.int32), grad=False, name="int"),
    OpCase("Fill", lambda v: tf.fill([2, 3], v), [np.array(1.5)],
           reference=lambda v: np.full((2, 3), 1.5)),
    OpCase("Fill", lambda d: tf.fill(d, 7), [np.array([3, 1], dtype=np.int32)],
           reference=lambda d: np.full((3, 1), 7, np.int32), grad=False, name="dynamic"),
    OpCase("ZerosLike", tf.zeros_like, [randn(2, 3)], reference=np.zeros_like, grad=False),
    OpCase("ZerosLike", lambda x: tf.zeros_like(x, dtype=tf.int32), [randn(2)],
           reference=lambda x: np.zeros(2, np.int32), grad=False, name="dtype"),
    OpCase("OnesLike", tf.ones_like, [randn(2, 3)], reference=np.ones_like, grad=False),
    OpCase("Range", lambda: tf.range(2, 11, 3), reference=lambda: np.arange(2, 11, 3,
                                                                           dtype=np.int32),
           grad=False),
    OpCase("Range", lambda n: tf.range(n), [np.array(5, dtype=np.int32)],
           reference=lambda n: np.arange(5, dtype=np.int32), grad=False, name="fed"),
    OpCase("Range", lambda: tf.range(0.0, 1.0, 0.25),
           reference=lambda: np.arange(0, 1, 0.25, dtype=np.float32), grad=False,
           name="float"),
    OpCase("LinSpace", lambda: tf.linspace(1.0, 2.0, 5),
           reference=lambda: np.linspace(1, 2, 5, dtype=np.float32), grad=False),
    OpCase("LinSpace", lambda a, b, n: tf.lin_space(a, b, n),
           [np.array(-1.0), np.array(3.0), np.array(4, dtype=np.int32)],
           reference=lambda a, b, n: np.linspace(-1, 3, 4), grad=False, name="fed"),
    OpCase("StopGradient", lambda x: tf.stop_gradient(x) * 3.0, [randn(2, 3)],
           reference=lambda x: 3 * x, grad=False),
    OpCase("SumToShape", _sum_to_shape, [randn(4, 2, 3), randn(2, 1, seed=1)],
           reference=lambda g, x: g.sum(axis=(0, 2)).reshape(2, 1), grad_inputs=(0,)),
    OpCase("SumToShape", _sum_to_shape, [randn(2, 3), randn(2, 3, seed=1)],
           reference=lambda g, x: g, grad_inputs=(0,), name="same"),
    OpCase("ReshapeToReduced", lambda t, x: _reshape_to_reduced(t, x, [1]),
           [randn(2, 4), randn(2, 3, 4, seed=1)],
           reference=lambda t, x: t.reshape(2, 1, 4), grad_inputs=(0,)),
    OpCase("ReshapeToReduced", lambda t, x: _reshape_to_reduced(t, x, None),
           [np.array(2.5), randn(2, 3, seed=1)],
           reference=lambda t, x: t.reshape(1, 1), grad_inputs=(0,), name="all"),
]
