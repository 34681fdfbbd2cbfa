"""Cases for the stateful ops (ops/state.py) and NoOp (ops/control.py).

Each case runs once in a fresh session, so a case that reads a variable first writes it
through a control dependency; `check` asserts the value returned and, where it matters, what
the variable holds afterwards.
"""
import numpy as np

import actorflow as tf

from . import OpCase, randn


def _read_after_init(x):
    v = tf.Variable(tf.zeros([2, 3], dtype=tf.float64), name="v")
    with tf.control_dependencies([tf.assign(v, x)]):
        return v.read_value()


def _update(fn):
    def build(x, d):
        v = tf.Variable(tf.zeros([2, 3], dtype=tf.float64), name="v")
        with tf.control_dependencies([tf.assign(v, x)]):
            upd = fn(v, d)
        with tf.control_dependencies([upd]):
            after = v.read_value()
        return [upd, after]
    return build


def _check_pair(want_fn):
    def check(outs, inputs):
        want = want_fn(*inputs)
        np.testing.assert_allclose(outs[0], want)
        np.testing.assert_allclose(outs[1], want)
    return check


def _is_initialized():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    with tf.control_dependencies([a.initializer]):
        return [tf.is_variable_initialized(a), tf.is_variable_initialized(b)]


def _check_is_initialized(outs, inputs):
    assert outs[0].dtype == np.bool_ and outs[0].shape == ()
    assert bool(outs[0]) is True and bool(outs[1]) is False


def _no_op(x):
    v = tf.Variable(tf.zeros([3], dtype=tf.float64), name="v")
    g = tf.group(tf.assign(v, x))  # a NoOp whose control input writes v
    with tf.control_dependencies([g]):
        return v.read_value()


def _initialized_value(x):
    a = tf.Variable(x + 1.0, name="a")  # never initialised in this run: its initial value
    b = tf.Variable(x * 0.0, name="b")
    with tf.control_dependencies([b.initializer]):
        b_set = tf.assign_add(b, x)
    # initialized_value() ignores enclosing control dependencies (as TF), so b_set is
    # fetched too; creation order runs it first.
    return [a.initialized_value(), b.initialized_value(), b_set]


def _check_initialized_value(outs, inputs):
    np.testing.assert_allclose(outs[0], inputs[0] + 1.0)
    np.testing.assert_allclose(outs[1], inputs[0])  # b's current value, not its initial 0


CASES = [
    OpCase("InitializedValue", _initialized_value, [randn(2, 3)],
           check=_check_initialized_value, grad=False),
    OpCase("VariableV2", _read_after_init, [randn(2, 3)],
           check=lambda outs, ins: np.testing.assert_array_equal(outs[0], ins[0]),
           grad=False),
    OpCase("Assign", lambda x: tf.assign(tf.Variable(tf.zeros([2, 3], tf.float64)), x),
           [randn(2, 3)], check=lambda outs, ins: np.testing.assert_array_equal(outs[0],
                                                                               ins[0]),
           grad=False),
    OpCase("AssignAdd", _update(tf.assign_add), [randn(2, 3), randn(2, 3, seed=1)],
           check=_check_pair(lambda x, d: x + d), grad=False),
    OpCase("AssignSub", _update(tf.assign_sub), [randn(2, 3), randn(2, 3, seed=1)],
           check=_check_pair(lambda x, d: x - d), grad=False),
    OpCase("IsVariableInitialized", _is_initialized, check=_check_is_initialized,
           grad=False),
    OpCase("NoOp", _no_op, [randn(3)],
           check=lambda outs, ins: np.testing.assert_array_equal(outs[0], ins[0]),
           grad=False),
]
