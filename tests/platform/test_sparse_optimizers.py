"""Optimizers on IndexedSlices gradients (an embedding-style gather) against NumPy: TF 1.x's
`_apply_sparse` rules, with repeated indices, over several steps; the sparse update ops are
the ones in the graph; LazyAdam touches only the gradient's rows."""
import numpy as np
import pytest

import actorflow as tf

from .test_optimizers import OPTIMIZERS, np_adam

# Rows looked up per step: repeats within a step, rows idle in some steps, row 5 never.
STEP_IDS = [[0, 2, 2, 4], [1, 2, 4, 4, 4], [0, 3], [2, 2]]
ROWS, COLS = 6, 3

SPARSE = dict(OPTIMIZERS)
SPARSE["lazy_adam"] = (lambda: tf.contrib.opt.LazyAdamOptimizer(0.05),
                       np_adam(0.05, 0.9, 0.999, 1e-8))
# TF's sparse Adam decays every row of m and v and updates the whole variable: the result is
# the dense update. SGD's scatter_sub leaves idle rows alone, as a zero dense gradient would.
DENSE_RULE = {"adam", "adam_betas", "sgd"}


def _problem():
    r = np.random.default_rng(0)
    return r.standard_normal((ROWS, COLS)), r.uniform(0.5, 1.5, (ROWS, COLS))


def _dense_grad(w, c, ids):
    """d/dw of sum_k c[ids[k]] * w[ids[k]]^2: each occurrence adds 2 c w to its row."""
    g = np.zeros_like(w)
    np.add.at(g, ids, 2 * c[ids] * w[ids])
    return g


def _lazy_step(step, w, g, state, t, rows):
    """The dense NumPy step applied to `rows` only (their slots too; scalars as they are)."""
    sliced = [s[rows] if np.ndim(s) else s for s in state]
    new_rows = step(w[rows], g[rows], sliced, t)
    for k, s in enumerate(state):
        if np.ndim(s):
            s[rows] = sliced[k]
        else:
            state[k] = sliced[k]
    w = w.copy()
    w[rows] = new_rows
    return w


def _build(make, w0, c, dense: bool = False):
    """loss = sum(c[ids] * gather(w, ids)^2), minimised with the sparse gradient (or, with
    `dense`, the same gradient converted to a dense tensor before apply)."""
    w = tf.Variable(w0, name="w")
    ids = tf.placeholder(tf.int32, [None], name="ids")
    loss = tf.reduce_sum(tf.gather(tf.constant(c), ids) * tf.square(tf.gather(w, ids)))
    opt = make()
    grads = opt.compute_gradients(loss, [w])
    assert isinstance(grads[0][0], tf.IndexedSlices)
    if dense:
        grads = [(tf.convert_to_tensor(g), v) for g, v in grads]
    return w, ids, opt, opt.apply_gradients(grads)


@pytest.mark.parametrize("key", sorted(SPARSE))
def test_sparse_update_matches_numpy_with_repeated_indices(key):
    make, (init, step) = SPARSE[key]
    w0, c = _problem()
    w, ids, _, train = _build(make, w0, c)
    want, state = w0.copy(), init(w0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t, step_ids in enumerate(STEP_IDS, 1):
            sess.run(train, {ids: step_ids})
            g = _dense_grad(want, c, step_ids)
            if key in DENSE_RULE:
                want = step(want, g, state, t)
            else:
                want = _lazy_step(step, want, g, state, t, np.unique(step_ids))
            np.testing.assert_allclose(sess.run(w), want, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{key} step {t}")


@pytest.mark.parametrize("key", sorted(SPARSE))
def test_sparse_equals_dense_on_the_touched_rows_without_repeats(key):
    make, _ = SPARSE[key]
    w0, c = _problem()
    got = {}
    for dense in (False, True):
        with tf.Graph().as_default():
            w, ids, opt, train = _build(make, w0, c, dense)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                sess.run(train, {ids: [4, 0, 2]})
                got[dense] = sess.run(w), [sess.run(opt.get_slot(w, n))
                                           for n in opt.get_slot_names()]
    (w_sparse, slots_sparse), (w_dense, slots_dense) = got[False], got[True]
    touched = [0, 2, 4]
    np.testing.assert_allclose(w_sparse[touched], w_dense[touched], rtol=1e-12, atol=1e-14)
    for s, d in zip(slots_sparse, slots_dense):
        np.testing.assert_allclose(s[touched], d[touched], rtol=1e-12, atol=1e-14)
    idle = [1, 3, 5]
    if key in DENSE_RULE:
        np.testing.assert_allclose(w_sparse, w_dense, rtol=1e-12, atol=1e-14)
    else:  # rows and slots the gradient does not touch keep their values
        np.testing.assert_array_equal(w_sparse[idle], w0[idle])
        for s, init in zip(slots_sparse, _initial_slots(key, w0)):
            np.testing.assert_array_equal(s[idle], init[idle])


def _initial_slots(key, w0):
    """The slots' initial values in get_slot_names() order."""
    make, _ = SPARSE[key]
    with tf.Graph().as_default():
        w = tf.Variable(w0, name="w")
        opt = make()
        opt.apply_gradients([(tf.IndexedSlices(tf.zeros([1, COLS], tf.float64), [0],
                                               [ROWS, COLS]), w)])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return [sess.run(opt.get_slot(w, n)) for n in opt.get_slot_names()]


@pytest.mark.parametrize("key, op_type", [
    ("sgd", "ScatterSub"), ("momentum", "SparseApplyMomentum"),
    ("adagrad", "SparseApplyAdagrad"), ("adadelta", "SparseApplyAdadelta"),
    ("rmsprop", "SparseApplyRMSProp"), ("rmsprop_centered", "SparseApplyCenteredRMSProp"),
    ("ftrl", "SparseApplyFtrl"), ("ftrl_shrinkage", "SparseApplyFtrlV2"),
    ("adam", "ScatterAdd"), ("lazy_adam", "SparseApplyAdam")])
def test_the_sparse_update_op_is_in_the_graph(key, op_type):
    make, _ = SPARSE[key]
    w0, c = _problem()
    _build(make, w0, c)
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert op_type in types
    dense_ops = {"ApplyGradientDescent", "ApplyMomentum", "ApplyAdagrad", "ApplyAdadelta",
                 "ApplyRMSProp", "ApplyCenteredRMSProp", "ApplyFtrl", "ApplyFtrlV2",
                 "ApplyAdam"}
    assert not types & dense_ops


def test_lazy_adam_leaves_idle_rows_and_their_moments_alone():
    w0, c = _problem()
    w, ids, opt, train = _build(SPARSE["lazy_adam"][0], w0, c)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {ids: [1, 3]})
        sess.run(train, {ids: [3]})
        m, v, got = sess.run([opt.get_slot(w, "m"), opt.get_slot(w, "v"), w])
    idle = [0, 2, 4, 5]
    np.testing.assert_array_equal(got[idle], w0[idle])
    assert not m[idle].any() and not v[idle].any()
    assert m[1].all() and m[3].all()
    # row 1's moments were not decayed by step 2 (Adam's would be)
    g1 = 2 * c[1] * w0[1]
    np.testing.assert_allclose(m[1], (1 - 0.9) * g1, rtol=1e-6)


def test_dense_gradients_still_take_the_dense_path_of_lazy_adam():
    w = tf.Variable(np.ones((2, 2)))
    train = tf.contrib.opt.LazyAdamOptimizer(0.1).minimize(tf.reduce_sum(w * w))
    assert "ApplyAdam" in {op.type for op in tf.get_default_graph().get_operations()}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), np.full((2, 2), 0.9), rtol=1e-6)


def test_sparse_update_op_errors():
    from actorflow.ops import training as training_ops
    v = tf.Variable(np.zeros((3, 2)))
    acc = tf.Variable(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"grad must be \[n\] \+ var.shape\[1:\]"):
        training_ops.sparse_apply_adagrad(v, acc, 0.1, np.ones((2, 3)), [0, 1])
    with pytest.raises(TypeError, match="indices must be int32 or int64"):
        training_ops.sparse_apply_adagrad(v, acc, 0.1, np.ones((2, 2)), [0.0, 1.0])
    bad = training_ops.sparse_apply_adagrad(v, acc, 0.1, np.ones((1, 2)), [3])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"index 3 is not in \[0, 3\)"):
            sess.run(bad)


def test_an_optimizer_without_a_sparse_rule_applies_the_dense_gradient():
    class PlainSGD(tf.train.Optimizer):
        def __init__(self):
            super().__init__(False, "PlainSGD")

        def _apply_dense(self, grad, var):
            return tf.assign_sub(var, 0.5 * grad)

    w = tf.Variable(np.zeros((3, 2)))
    train = PlainSGD().minimize(tf.reduce_sum(tf.gather(w, [2, 2, 0])))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), [[-0.5, -0.5], [0, 0], [-1, -1]])


def test_gate_graph_keeps_gradients_sparse():
    emb = tf.Variable(np.ones((4, 2)))
    scale = tf.Variable(np.ones(2))
    opt = tf.train.GradientDescentOptimizer(0.5)
    gv = opt.compute_gradients(tf.reduce_sum(tf.gather(emb, [1, 1, 3]) * scale),
                               gate_gradients=opt.GATE_GRAPH)
    assert [type(g) for g, _ in gv] == [tf.IndexedSlices, tf.Tensor]
    train = opt.apply_gradients(gv)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(emb), [[1, 1], [0, 0], [1, 1], [0.5, 0.5]])
        np.testing.assert_allclose(sess.run(scale), [-0.5, -0.5])
