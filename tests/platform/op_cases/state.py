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



def _scatter(fn, indices, shape=(4, 2)):
    """Writes x into a variable, applies fn(v, indices, updates), reads the variable after."""
    def build(x, u):
        v = tf.Variable(tf.zeros(shape, dtype=tf.float64), name="v")
        with tf.control_dependencies([tf.assign(v, x)]):
            upd = fn(v, indices, u)
        with tf.control_dependencies([upd]):
            after = v.read_value()
        return [upd, after]
    return build


def _np_scatter(indices, ufunc=None, nd=False):
    def ref(x, u):
        out = x.copy()
        index = tuple(np.moveaxis(np.asarray(indices), -1, 0)) if nd else np.asarray(indices)
        if ufunc is None:
            out[index] = u
        else:
            ufunc.at(out, index, u)
        return out
    return ref


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

    OpCase("ScatterUpdate", _scatter(tf.scatter_update, [3, 0]), [randn(4, 2), randn(2, 2, seed=1)],
           check=_check_pair(_np_scatter([3, 0])), grad=False),
    OpCase("ScatterUpdate", _scatter(tf.scatter_update, [1, 2]), [randn(4, 2), np.array(7.0)],
           check=_check_pair(_np_scatter([1, 2])), grad=False, name="scalar-updates"),
    OpCase("ScatterAdd", _scatter(tf.scatter_add, [1, 3, 1]), [randn(4, 2), randn(3, 2, seed=1)],
           check=_check_pair(_np_scatter([1, 3, 1], np.add)), grad=False),
    OpCase("ScatterSub", _scatter(tf.scatter_sub, [[0, 2], [2, 2]]),
           [randn(4, 2), randn(2, 2, 2, seed=1)],
           check=_check_pair(_np_scatter([[0, 2], [2, 2]], np.subtract)), grad=False),
    OpCase("ScatterMul", _scatter(tf.scatter_mul, [2, 0, 2]), [randn(4, 2), randn(3, 2, seed=1)],
           check=_check_pair(_np_scatter([2, 0, 2], np.multiply)), grad=False),
    OpCase("ScatterNdUpdate", _scatter(tf.scatter_nd_update, [[3, 1], [0, 0]]),
           [randn(4, 2), randn(2, seed=1)],
           check=_check_pair(_np_scatter([[3, 1], [0, 0]], nd=True)), grad=False),
    OpCase("ScatterNdAdd", _scatter(tf.scatter_nd_add, [[2], [2], [0]]),
           [randn(4, 2), randn(3, 2, seed=1)],
           check=_check_pair(_np_scatter([[2], [2], [0]], np.add, nd=True)), grad=False),
    OpCase("ScatterNdSub", _scatter(tf.scatter_nd_sub, [[1, 0], [1, 0]]),
           [randn(4, 2), randn(2, seed=1)],
           check=_check_pair(_np_scatter([[1, 0], [1, 0]], np.subtract, nd=True)), grad=False),
]


def _count_up_to(x):
    v = tf.Variable(tf.constant(0, tf.int64), name="counter")
    with tf.control_dependencies([v.initializer]):
        first = tf.count_up_to(v, 3)
    with tf.control_dependencies([first]):
        second = v.count_up_to(3)
    with tf.control_dependencies([second]):
        after = v.read_value()
    return [first, second, after]


CASES.append(OpCase("CountUpTo", _count_up_to, [randn(2)],
                    lambda x: [np.int64(0), np.int64(1), np.int64(2)], grad=False))
