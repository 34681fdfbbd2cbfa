"""tf.cond, tf.case and smart_cond (ops/control_flow.py): forward semantics, errors, only the
taken branch's side effects, gradients against finite differences, nesting."""
import collections

import numpy as np
import pytest

import actorflow as tf
from actorflow.ops.control_flow import smart_cond


def _fd(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[i] += eps
        lo[i] -= eps
        g[i] = (f(hi) - f(lo)) / (2 * eps)
    return g


def test_cond_picks_the_branch_at_run_time_and_merges_shapes():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.cond(p, lambda: x * 2.0, lambda: tf.zeros([4, 3]))
    assert y.get_shape().as_list() == [None, 3]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {p: True, x: np.ones((2, 3))}), 2 * np.ones((2, 3)))
        assert sess.run(y, {p: False, x: np.ones((2, 3))}).shape == (4, 3)


def test_cond_returns_nested_structures_and_unpacks_singletons_unless_strict():
    Pair = collections.namedtuple("Pair", "a b")
    p = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: Pair(tf.constant(1), {"k": tf.constant(2.0)}),
                  lambda: Pair(tf.constant(3), {"k": tf.constant(4.0)}))
    assert isinstance(out, Pair) and set(out.b) == {"k"}
    single = tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)])
    strict = tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)], strict=True)
    assert isinstance(single, tf.Tensor) and isinstance(strict, list)
    with tf.Session() as sess:
        got = sess.run(out, {p: False})
        assert got.a == 3 and got.b["k"] == 4.0
        assert sess.run(single, {p: True}) == 1


def test_only_the_taken_branch_assigns():
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.assign_add(v, 1.0), lambda: tf.assign_sub(v, 10.0))
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(r, {p: True})
        sess.run(r, {p: True})
        assert sess.run(v) == 2.0
        sess.run(r, {p: False})
        assert sess.run(v) == -8.0


def test_assign_in_branch_with_identity_in_other_branch():
    v = tf.Variable(5.0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.assign(v, 7.0), lambda: tf.identity(v))
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {p: False}) == 5.0 and sess.run(v) == 5.0
        assert sess.run(r, {p: True}) == 7.0 and sess.run(v) == 7.0


def test_cond_errors_match_tf():
    p = tf.placeholder(tf.bool, [])
    with pytest.raises(TypeError, match="Python bool"):
        tf.cond(True, lambda: 1, lambda: 2)
    with pytest.raises(TypeError, match="true_fn must be callable"):
        tf.cond(p, 1, lambda: 2)
    with pytest.raises(ValueError, match="same type"):
        tf.cond(p, lambda: tf.constant(1), lambda: tf.constant(1.0))
    with pytest.raises(ValueError, match="same structure"):
        tf.cond(p, lambda: (tf.constant(1), tf.constant(2)), lambda: tf.constant(1))
    with pytest.raises(TypeError, match="bool"):
        tf.cond(tf.constant(1), lambda: 1, lambda: 2)


def test_old_fn1_fn2_keywords():
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, fn1=lambda: tf.constant(1), fn2=lambda: tf.constant(2))
    with tf.Session() as sess:
        assert sess.run(r, {p: False}) == 2


def test_smart_cond_picks_python_bools_at_build_time():
    assert smart_cond(True, lambda: "a", lambda: "b") == "a"
    assert smart_cond(tf.constant(False), lambda: "a", lambda: "b") == "b"
    p = tf.placeholder(tf.bool, [])
    assert isinstance(smart_cond(p, lambda: tf.constant(1), lambda: tf.constant(2)), tf.Tensor)
    with pytest.raises(TypeError, match="pred"):
        smart_cond("yes", lambda: 1, lambda: 2)


def test_cond_gradient_reaches_captured_variable_and_inputs():
    x = tf.placeholder(tf.float64, [3])
    p = tf.placeholder(tf.bool, [])
    w = tf.Variable(np.array([0.5, -1.0, 2.0]))
    y = tf.reduce_sum(tf.cond(p, lambda: tf.sin(x * w), lambda: x + w * w))
    gx, gw = tf.gradients(y, [x, w])
    xv = np.array([0.3, 0.2, -0.4])
    wv = np.array([0.5, -1.0, 2.0])
    with tf.Session() as sess:
        sess.run(w.initializer)
        for pv in (True, False):
            got_x, got_w = sess.run([gx, gw], {x: xv, p: pv})
            if pv:
                f = lambda xx, ww: np.sum(np.sin(xx * ww))  # noqa: E731
            else:
                f = lambda xx, ww: np.sum(xx + ww * ww)  # noqa: E731
            np.testing.assert_allclose(got_x, _fd(lambda a, f=f: f(a, wv), xv), atol=1e-6)
            np.testing.assert_allclose(got_w, _fd(lambda a, f=f: f(xv, a), wv), atol=1e-6)


def test_nested_cond_and_its_gradient():
    x = tf.placeholder(tf.float64, [])
    p = tf.placeholder(tf.bool, [])
    q = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: tf.cond(q, lambda: x * x * x, lambda: tf.exp(x)), lambda: -x)
    g, = tf.gradients(y, x)
    gg, = tf.gradients(g, x)
    with tf.Session() as sess:
        assert sess.run([y, g, gg], {x: 2.0, p: True, q: True}) == [8.0, 12.0, 12.0]
        np.testing.assert_allclose(sess.run([y, g], {x: 2.0, p: True, q: False}),
                                   [np.exp(2.0)] * 2)
        assert sess.run([y, g], {x: 2.0, p: False, q: True}) == [-2.0, -1.0]


def test_dropout_like_random_branch_uses_the_same_mask_in_the_gradient():
    x = tf.placeholder(tf.float64, [200])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: x * tf.cast(tf.random_uniform([200], seed=1) < 0.5, tf.float64),
                lambda: x)
    g, = tf.gradients(tf.reduce_sum(y * 3.0), x)
    with tf.Session() as sess:
        out, grad = sess.run([y, g], {x: np.ones(200), p: True})
        np.testing.assert_allclose(grad, 3.0 * out)  # the mask of the forward run
        assert 0 < out.sum() < 200
        np.testing.assert_allclose(sess.run(g, {x: np.ones(200), p: False}), 3.0)


def test_case_first_true_predicate_default_and_exclusive():
    x = tf.placeholder(tf.int32, [])
    r = tf.case([(x < 0, lambda: tf.constant(-1)), (x < 10, lambda: tf.constant(1))],
                default=lambda: tf.constant(100))
    ex = tf.case([(x < 5, lambda: tf.constant(1)), (x < 10, lambda: tf.constant(2))],
                 default=lambda: tf.constant(0), exclusive=True)
    nodefault = tf.case([(x < 0, lambda: tf.constant(-1)), (x > 0, lambda: tf.constant(1))])
    with tf.Session() as sess:
        assert [sess.run(r, {x: v}) for v in (-3, 3, 30)] == [-1, 1, 100]
        assert sess.run(ex, {x: 7}) == 2
        with pytest.raises(tf.errors.InvalidArgumentError, match="More than one"):
            sess.run(ex, {x: 1})
        assert sess.run(nodefault, {x: 4}) == 1 and sess.run(nodefault, {x: -4}) == -1
        with pytest.raises(tf.errors.InvalidArgumentError, match="None of the conditions"):
            sess.run(nodefault, {x: 0})
    with pytest.raises(TypeError, match="callable"):
        tf.case([(x < 0, 1)])


def test_cond_waits_for_outer_control_dependencies_named_inside():
    v = tf.Variable(1.0)
    upd = tf.assign(v, 5.0)
    p = tf.placeholder(tf.bool, [])

    def branch():
        with tf.control_dependencies([upd]):
            return v.read_value() * 1.0
    r = tf.cond(p, branch, lambda: tf.constant(0.0))
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {p: True}) == 5.0


def test_graph_without_control_flow_compiles_no_function():
    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(x * 2.0)
    with tf.Session() as sess:
        sess.run(y, {x: np.ones(3)})
        assert not any("_functions" in vars(c) for c in sess._contexts.values())


def test_contrib_framework_smart_cond_is_exported():
    assert tf.contrib.framework.smart_cond is smart_cond


def test_graphs_with_cond_and_while_export_and_import(tmp_path):
    x = tf.placeholder(tf.float64, [None], name="x")
    p = tf.placeholder(tf.bool, [], name="p")
    w = tf.Variable(np.array([2.0, 3.0]), name="w")
    y = tf.cond(p, lambda: x * w, lambda: x + w, name="c")
    _, z = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x),
                         [tf.constant(0), x], name="loop")
    g = tf.gradients(tf.reduce_sum(y) + tf.reduce_sum(z), x)[0]
    feed = {"x:0": [1.0, 2.0], "p:0": True}
    with tf.Session() as sess:
        sess.run(w.initializer)
        want = sess.run([y, z, g], feed)
        saver = tf.train.Saver()
        path = saver.save(sess, str(tmp_path / "model"))  # writes the meta graph too
    text = tf.get_default_graph().as_graph_def().to_text()
    for gd in (tf.get_default_graph().as_graph_def(), tf.GraphDef.FromText(text)):
        with tf.Graph().as_default() as g2:
            tf.import_graph_def(gd, name="imp")
            with tf.Session() as sess:
                sess.run(g2.get_operation_by_name("imp/w/Assign"))
                got = sess.run(["imp/c:0", "imp/loop:1", "imp/" + g.name],
                               {"imp/" + k: v for k, v in feed.items()})
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b)
    with tf.Graph().as_default():
        restorer = tf.train.import_meta_graph(path + ".meta")
        with tf.Session() as sess:
            restorer.restore(sess, path)
            np.testing.assert_allclose(sess.run("c:0", feed), want[0])


def test_branches_returning_ops_give_the_if_op():
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    op = tf.cond(p, lambda: tf.assign_add(v, 1.0).op, lambda: tf.no_op())
    assert isinstance(op, tf.Operation) and op.type == "If"
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(op, {p: True})
        sess.run(op, {p: False})
        assert sess.run(v) == 1.0
