"""Cases for the debugging ops (ops/debug.py): Print, Assert, CheckNumerics.

Print and Assert are stateful, so their cases use `check`; what Print writes and Assert's
failing runs are tested in tests/platform/test_debug_ops.py.
"""
import numpy as np

import actorflow as tf

from . import OpCase, randn


def _check_identity(outs, inputs):
    np.testing.assert_array_equal(outs[0], inputs[0])


def _guarded(x):
    """x, read after an Assert that every element is finite has run."""
    ok = tf.Assert(tf.reduce_all(tf.is_finite(x)), [x, tf.shape(x)])
    with tf.control_dependencies([ok]):
        return tf.identity(x)


CASES = [
    OpCase("Print", lambda x: tf.Print(x, [x], "x = ", first_n=1), [randn(2, 3)],
           check=_check_identity),
    OpCase("Print", lambda x, n: tf.Print(x, [n, x * 2.0], summarize=-1),
           [randn(3), np.array([1, 2], np.int32)], check=_check_identity, grad_inputs=(0,),
           name="data"),
    OpCase("Assert", _guarded, [randn(2, 3)], check=_check_identity, grad=False),
    OpCase("CheckNumerics", lambda x: tf.check_numerics(x, "x is bad"), [randn(2, 3)],
           reference=lambda x: x),
]
