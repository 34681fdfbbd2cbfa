"""Cases for functional control flow (ops/control_flow.py: If, While, WhileGrad) and the
TensorArray list ops (ops/tensor_array.py). Variant (list) outputs are checked through the
tensors read back from them."""
import numpy as np

import actorflow as tf
from actorflow.ops._common import out1

from . import OpCase, randn

_X32 = randn(3, 2, seed=3)
_X52 = randn(5, 2, seed=4)


def _cond(p, x, y):
    return tf.cond(p, lambda: x * y + tf.sin(x), lambda: x - y * y)


def _cond_ref(p, x, y):
    return x * y + np.sin(x) if p else x - y * y


def _while(x, y):
    _, a = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x + tf.sin(a) * y),
                         [tf.constant(0), tf.ones_like(x)])
    return a


def _while_ref(x, y):
    a = np.ones_like(x)
    for _ in range(3):
        a = a * x + np.sin(a) * y
    return a


def _while_grad(x):
    r = tf.while_loop(lambda i, a: i < 4, lambda i, a: (i + 1, a * x),
                      [tf.constant(0), tf.ones_like(x)])[1]
    return tf.gradients(r, x)[0]


def _write_stack(x):
    ta = tf.TensorArray(tf.float64, size=3)
    for i in range(3):
        ta = ta.write(i, x[i] * 2.0)
    return ta.stack()


def _unstack_read(x):
    ta = tf.TensorArray(tf.float64, size=3).unstack(x)
    return ta.read(1) * ta.read(2) + ta.read(1)


def _gather(x):
    return tf.TensorArray(tf.float64, size=3).unstack(x).gather([2, 0])


def _scatter(x):
    return tf.TensorArray(tf.float64, size=3).scatter([2, 0, 1], x).stack()


def _split_concat(x):
    ta = tf.TensorArray(tf.float64, size=2).split(x, [2, 3])
    return [ta.concat(), ta.read(1)]


def _length(x):
    return tf.TensorArray(tf.float64, size=3).unstack(x).size()


def _zeros_like(x):
    ta = tf.TensorArray(tf.float64, size=3, element_shape=[2]).unstack(x)
    z = out1("TensorListZerosLike", [ta.flow])
    return tf.TensorArray(tf.float64, flow=z, element_shape=[2]).stack()


def _add_n(x):
    a = tf.TensorArray(tf.float64, size=3).unstack(x)
    b = tf.TensorArray(tf.float64, size=3).unstack(x * 3.0)
    return tf.TensorArray(tf.float64, flow=out1("TensorListAddN", [a.flow, b.flow])).stack()


def _read_grad(x):
    ta = tf.TensorArray(tf.float64, size=3).unstack(x)
    return tf.gradients(ta.read(1) * 3.0, x)[0]


def _read_grad_ref(x):
    g = np.zeros_like(x)
    g[1] = 3.0
    return g


def _concat_grad(x):
    ta = tf.TensorArray(tf.float64, size=2).split(x, [2, 3])
    return tf.gradients(ta.concat() * 2.0, x)[0]


_P = np.array(True)
_Q = np.array(False)
_A, _B = randn(2, 3, seed=1), randn(2, 3, seed=2)
_C, _D = np.array([0.7, 1.1]), np.array([0.3, -0.2])

CASES = [
    OpCase("If", _cond, [_P, _A, _B], _cond_ref, name="true"),
    OpCase("If", _cond, [_Q, _A, _B], _cond_ref, name="false"),
    OpCase("While", _while, [_C, _D], _while_ref),
    OpCase("WhileGrad", _while_grad, [_C], lambda x: 4 * x ** 3, grad=False),
    OpCase("TensorListReserve", _write_stack, [_X32], lambda x: 2 * x, grad=False),
    OpCase("TensorListSetItem", _write_stack, [_X32], lambda x: 2 * x),
    OpCase("TensorListStack", _write_stack, [_X32], lambda x: 2 * x),
    OpCase("TensorListFromTensor", _unstack_read, [_X32], lambda x: x[1] * x[2] + x[1]),
    OpCase("TensorListGetItem", _unstack_read, [_X32], lambda x: x[1] * x[2] + x[1]),
    OpCase("TensorListGather", _gather, [_X32], lambda x: x[[2, 0]]),
    OpCase("TensorListScatter", _scatter, [_X32], lambda x: x[[1, 2, 0]]),
    OpCase("TensorListSplit", _split_concat, [_X52], lambda x: [x, x[2:]]),
    OpCase("TensorListConcat", _split_concat, [_X52], lambda x: [x, x[2:]]),
    OpCase("TensorListLength", _length, [_X32], lambda x: np.int32(3), grad=False),
    OpCase("TensorListZerosLike", _zeros_like, [_X32], np.zeros_like, grad=False),
    OpCase("TensorListAddN", _add_n, [_X32], lambda x: 4 * x, grad=False),
    OpCase("TensorListScatterInto", _read_grad, [_X32], _read_grad_ref, grad=False),
    OpCase("TensorListStackOrZeros", _read_grad, [_X32], _read_grad_ref, grad=False),
    OpCase("TensorListSplitLike", _concat_grad, [_X52], lambda x: np.full_like(x, 2.0),
           grad=False),
]
