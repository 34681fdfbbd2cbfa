"""Session contracts: fetch structures, feeds, pruning, plan caching, default sessions,
tracing, and per-session variable state."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import actorflow as tf
from actorflow.framework import registry

# Identity ops whose CPU kernel counts its calls, to see which ops a run executes.
CALLS: list = []


@pytest.fixture
def counting(monkeypatch):
    def factory(op, ctx):
        def count(x):
            CALLS.append(op.name)
            return x
        return count

    CALLS.clear()
    kernels = registry.get_op_def("Identity").device_kernels
    monkeypatch.setitem(kernels, "CPU", factory)
    return CALLS


def counted(x, name):
    return tf.identity(x, name=name)


# -- fetches -------------------------------------------------------------------------------
def test_fetch_tensor_op_and_names():
    a = tf.constant(2.0, name="a")
    b = tf.multiply(a, 3.0, name="b")
    noop = tf.no_op(name="nothing")
    with tf.Session() as sess:
        assert sess.run(b) == 6.0
        assert sess.run("b:0") == 6.0
        assert sess.run(noop) is None
        assert sess.run("nothing") is None
        assert isinstance(sess.run(b), np.float32)


def test_nested_fetch_structures():
    Pair = collections.namedtuple("Pair", ["x", "y"])
    a = tf.constant(1.0)
    b = tf.constant([2, 3])
    with tf.Session() as sess:
        out = sess.run({"a": a, "nested": [b, (a, {"deep": b})], "pair": Pair(a, b)})
    assert out["a"] == 1.0
    assert isinstance(out["nested"], list) and isinstance(out["nested"][1], tuple)
    np.testing.assert_array_equal(out["nested"][1][1]["deep"], [2, 3])
    assert isinstance(out["pair"], Pair) and out["pair"].x == 1.0
    with tf.Session() as sess:
        od = sess.run(collections.OrderedDict([("z", a), ("y", b)]))
    assert isinstance(od, collections.OrderedDict) and list(od) == ["z", "y"]


def test_fetching_the_same_tensor_twice():
    a = tf.constant(1.0) + 1.0
    with tf.Session() as sess:
        x, y = sess.run([a, a])
    assert x == y == 2.0


def test_fetch_none_is_a_type_error():
    with tf.Session() as sess, pytest.raises(TypeError, match="None"):
        sess.run([None])


# -- feeds ---------------------------------------------------------------------------------
def test_feed_by_tensor_and_by_name():
    x = tf.placeholder(tf.float32, [2], name="x")
    y = x * 2.0
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1, 2]}), [2, 4])
        np.testing.assert_array_equal(sess.run(y, {"x:0": np.array([3, 4])}), [6, 8])
        assert sess.run(y, {x: [1, 2]}).dtype == np.float32


def test_any_tensor_is_feedable():
    a = tf.constant(1.0, name="a")
    b = tf.add(a, 1.0, name="b")
    c = tf.multiply(b, 10.0, name="c")
    with tf.Session() as sess:
        assert sess.run(c) == 20.0
        assert sess.run(c, {b: 5.0}) == 50.0
        assert sess.run(b, {b: 7.0}) == 7.0  # a fed tensor fetched gives the fed value


def test_placeholder_with_default_uses_default_unless_fed():
    x = tf.placeholder_with_default(tf.constant([1.0, 2.0]), [None])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(x), [1, 2])
        np.testing.assert_array_equal(sess.run(x, {x: [5.0, 6.0, 7.0]}), [5, 6, 7])


# -- pruning (book fig. 1-10) --------------------------------------------------------------
def _fig_1_10():
    """a, b independent; c = f(a), d = g(b); e = h(c, d) is not needed; f = k(c, b)."""
    a = counted(tf.constant(1.0), "a")
    b = counted(tf.constant(2.0), "b")
    c = counted(a * 3.0, "c")
    d = counted(b * 5.0, "d")
    e = counted(c + d, "e")
    f = counted(c + b, "f")
    return a, b, c, d, e, f


def test_feeding_b_and_fetching_f_runs_only_a_c_f(counting):
    a, b, c, d, e, f = _fig_1_10()
    with tf.Session() as sess:
        assert sess.run(f, {b: 10.0}) == 13.0
        assert counting == ["a", "c", "f"]
        counting.clear()
        assert sess.run(e) == 13.0
        assert counting == ["a", "b", "c", "d", "e"]


def test_full_trace_names_only_the_needed_ops():
    a, b, c, d, e, f = _fig_1_10()
    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    md = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(f, {b: 10.0}, options=opts, run_metadata=md)
    names = [n.node_name for d in md.step_stats.dev_stats for n in d.node_stats]
    assert {"a", "c", "f"} <= set(names)
    assert not {"b", "d", "e"} & set(names)


def test_full_trace_records_time_and_output_bytes():
    x = tf.placeholder(tf.float32, [4, 8])
    y = tf.matmul(x, tf.ones([8, 16]), name="mm")
    md = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(y, {x: np.ones((4, 8))},
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=md)
    stats = {n.node_name: n for n in md.step_stats.dev_stats[0].node_stats}
    assert stats["mm"].output_bytes == 4 * 16 * 4
    assert stats["mm"].op_type == "MatMul"
    assert stats["mm"].op_end_rel_micros >= 0 and stats["mm"].all_start_micros > 0
    assert md.total_op_time_micros() >= 0


def test_plans_are_cached_per_fetch_and_feed_signature(monkeypatch):
    from actorflow.session import session as session_mod
    compiled = []
    real = session_mod.compile_plan
    monkeypatch.setattr(session_mod, "compile_plan",
                        lambda *a, **k: compiled.append(1) or real(*a, **k))
    x = tf.placeholder(tf.float32, [])
    y = x + 1.0
    with tf.Session() as sess:
        for v in range(3):
            assert sess.run(y, {x: v}) == v + 1
        assert len(compiled) == 1
        sess.run([y], {"Placeholder:0": 0.0})
        assert len(compiled) == 1  # same flat fetches and feeds: the same plan
        sess.run([y, y * 2.0], {x: 0.0})
        assert len(compiled) == 2


def test_make_callable_runs_the_same_plan():
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(x * 2.0)
    with tf.Session() as sess:
        f = sess.make_callable([y], feed_list=[x])
        assert f(np.array([1.0, 2.0])) == [6.0]
        with pytest.raises(TypeError, match="Expected 1 feed values"):
            f()


# -- default sessions ----------------------------------------------------------------------
def test_interactive_session_eval_and_run():
    v = tf.Variable(3.0)
    x = tf.placeholder(tf.float32, [])
    sess = tf.InteractiveSession()
    try:
        assert tf.get_default_session() is sess
        tf.global_variables_initializer().run()
        assert (v * x).eval({x: 2.0}) == 6.0
        v.assign(5.0).op.run()
        assert v.eval() == 5.0
    finally:
        sess.close()
    assert tf.get_default_session() is None


def test_with_session_installs_default_and_eval_without_one_fails():
    a = tf.constant(4.0)
    with tf.Session() as sess:
        assert tf.get_default_session() is sess
        assert a.eval() == 4.0
    with pytest.raises(ValueError, match="No default session"):
        a.eval()
    other = tf.Session(graph=tf.Graph())
    with pytest.raises(ValueError, match="graph is different"):
        a.eval(session=other)


def test_closed_session_refuses_to_run():
    a = tf.constant(1.0)
    sess = tf.Session()
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(a)


def test_session_graph_argument():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(5.0)
    with tf.Session(graph=g) as sess:
        assert sess.graph is g and sess.run(a) == 5.0
        assert sess.graph_def.node[0].op == "Const"


# -- variables -----------------------------------------------------------------------------
def test_variables_are_per_session():
    v = tf.Variable(1.0)
    inc = tf.assign_add(v, 1.0)
    init = tf.global_variables_initializer()
    s1, s2 = tf.Session(), tf.Session()
    s1.run(init)
    s2.run(init)
    s1.run(inc)
    s1.run(inc)
    assert s1.run(v) == 3.0 and s2.run(v) == 1.0
    s1.close()
    s2.close()


def test_uninitialized_read_names_the_variable():
    v = tf.Variable(tf.zeros([2]), name="weights")
    y = v * 2.0
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="weights") as e:
            sess.run(y)
        assert e.value.op is not None and e.value.op.name == "weights"
        assert e.value.__cause__ is None and e.value.__suppress_context__


def test_is_variable_initialized_and_report():
    v = tf.Variable(1.0, name="v")
    with tf.Session() as sess:
        assert not sess.run(tf.is_variable_initialized(v))
        sess.run(v.initializer)
        assert sess.run(tf.is_variable_initialized(v))


def test_fetched_variable_values_are_copies():
    w = tf.Variable(np.ones(3, np.float32), name="w")
    step = tf.assign_sub(w, tf.constant([0.5, 0.5, 0.5]))
    with tf.Session() as sess:
        sess.run(w.initializer)
        before_ref = sess.run(w)
        before_read = sess.run(w.value())
        before_both = sess.run([w, w.value()])
        sess.run(step)
        np.testing.assert_array_equal(before_ref, [1, 1, 1])
        np.testing.assert_array_equal(before_read, [1, 1, 1])
        np.testing.assert_array_equal(before_both[0], [1, 1, 1])
        np.testing.assert_array_equal(sess.run(w), [0.5, 0.5, 0.5])
        out = sess.run(step)
        sess.run(step)
        np.testing.assert_array_equal(out, [0.0, 0.0, 0.0])


def test_values_fetched_before_an_optimizer_step_do_not_change():
    w = tf.Variable(np.ones((2, 2), np.float32), name="w")
    loss = tf.reduce_sum(tf.square(w))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w_before, read_before = sess.run([w, w.value()])
        sess.run(step)
        np.testing.assert_array_equal(w_before, np.ones((2, 2)))
        np.testing.assert_array_equal(read_before, np.ones((2, 2)))
        np.testing.assert_allclose(sess.run(w), np.full((2, 2), 0.8), rtol=1e-6)


def test_read_after_assign_in_one_run_sees_new_value():
    v = tf.Variable(1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        a = tf.assign(v, 10.0)
        with tf.control_dependencies([a]):
            r = v.read_value() + 1.0
        assert sess.run(r) == 11.0


def test_a_fed_variable_is_not_read():
    v = tf.Variable(tf.zeros([2]), name="v")
    y = v * 2.0
    with tf.Session() as sess:  # uninitialised, but fed: no FailedPreconditionError
        np.testing.assert_array_equal(sess.run(y, {v: [1.0, 2.0]}), [2, 4])


def test_variable_load_and_initial_value():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        v.load([5.0, 6.0], sess)
        np.testing.assert_array_equal(sess.run(v), [5, 6])
        with pytest.raises(ValueError, match="shape"):
            v.load([1.0], sess)
        np.testing.assert_array_equal(sess.run(v.initial_value), [1, 2])


def test_session_close_drops_variable_values():
    v = tf.Variable(1.0)
    sess = tf.Session()
    sess.run(v.initializer)
    sess.close()
    with tf.Session() as fresh:
        with pytest.raises(tf.errors.FailedPreconditionError):
            fresh.run(v)


def test_config_and_run_options_reject_unknown_fields():
    with pytest.raises(TypeError, match="unknown field"):
        tf.ConfigProto(no_such_option=1)
    cfg = tf.ConfigProto(allow_soft_placement=True,
                         gpu_options=tf.GPUOptions(allow_growth=True))
    with tf.Session(config=cfg) as sess:
        assert sess.run(tf.constant(1)) == 1


def test_log_device_placement_prints_each_op_of_a_new_plan(capsys):
    with tf.device("/gpu:0"):
        a = tf.constant(1.0, name="a")
        b = tf.add(a, 2.0, name="b")
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True)
    with tf.Session(config=config) as sess:
        assert sess.run(b) == 3.0
        err = capsys.readouterr().err
        assert "b: (Add): /job:localhost/replica:0/task:0/device:CPU:0" in err
        assert "(requested /device:GPU:0)" in err
        sess.run(b)  # a cached plan logs nothing new
        assert capsys.readouterr().err == ""


def test_fetched_constants_are_writable_copies():
    c = tf.constant([1.0, 2.0])
    r = tf.reshape(c, [2, 1])  # a view of the constant inside the plan
    with tf.Session() as sess:
        a, b = sess.run([c, r])
        a[0] = 5.0
        b[1, 0] = 7.0
        np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(r), [[1.0], [2.0]])
