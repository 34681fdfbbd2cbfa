"""Elementwise fusion (session/fuse.py): fused plans compute what unfused plans compute,
bit for bit for the exact IEEE ops, and keep fetches, feeds, errors, traces and threads."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import actorflow as tf
from actorflow.ops._common import out1
from actorflow.session import fuse, threads

pytest.importorskip("numexpr")

EXACT_BINARY = [tf.add, tf.subtract, tf.multiply, tf.divide, tf.maximum, tf.minimum]
EXACT_UNARY = [tf.negative, tf.abs, tf.square, tf.sqrt, tf.reciprocal, tf.rsqrt, tf.nn.relu]
CLOSE_UNARY = [tf.exp, tf.log, tf.log1p, tf.tanh, tf.sigmoid, tf.sin, tf.cos]


def _run(fetches, feed, fused: bool, monkeypatch, trace=False):
    """Runs `fetches` in a fresh session compiled with fusion on or off; (values, traced
    node names)."""
    monkeypatch.setenv(fuse.ENV_SWITCH, "1" if fused else "0")
    md = tf.RunMetadata()
    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE) if trace else None
    with tf.Session() as sess:
        out = sess.run(fetches, feed, options=opts, run_metadata=md)
    return out, [n.node_name for d in md.step_stats.dev_stats for n in d.node_stats]


def _assert_same_bits(got, want):
    """Equal bit for bit, except that a NaN's sign and payload are free (IEEE leaves them to
    the implementation: numexpr's max returns a positive NaN where NumPy passes its operand's
    on)."""
    assert got.dtype == want.dtype and got.shape == want.shape
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    assert got[~nan].tobytes() == want[~nan].tobytes()


def _special_values(rng, shape, dtype):
    v = rng.standard_normal(shape).astype(dtype) * 3
    flat = v.reshape(-1)
    flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-30]
    return v


def _random_dag(rng, x, bias, n_ops: int, dtype):
    """A random DAG of exact elementwise ops (comparisons and selects too) over x [4, 8],
    bias [8] and 0-d constants, reusing earlier nodes (shared subexpressions)."""
    nodes = [x]
    for _ in range(n_ops):
        a = nodes[rng.integers(max(0, len(nodes) - 3), len(nodes))]
        choice = rng.integers(0, 11)
        if choice == 10:
            compare = [tf.greater, tf.greater_equal, tf.less, tf.less_equal, tf.equal,
                       tf.not_equal][rng.integers(6)]
            y = tf.where(compare(a, nodes[rng.integers(len(nodes))]), a,
                         nodes[rng.integers(len(nodes))])
        elif choice < 5:
            fn = EXACT_BINARY[rng.integers(len(EXACT_BINARY))]
            other = [bias, tf.constant(float(rng.uniform(-2, 2)), dtype),
                     nodes[rng.integers(len(nodes))]][rng.integers(3)]
            y = fn(a, other) if rng.integers(2) else fn(other, a)
        elif choice < 6:
            y = tf.nn.bias_add(a, bias)
        elif choice < 7:
            y = out1("ReluGrad", [a, nodes[rng.integers(len(nodes))]], None, "ReluGrad")
        else:
            y = EXACT_UNARY[rng.integers(len(EXACT_UNARY))](a)
        nodes.append(y)
    return nodes


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_dags_fused_equal_unfused_bitwise(seed, dtype, monkeypatch):
    rng = np.random.default_rng(seed)
    with tf.Graph().as_default():
        x = tf.placeholder(dtype, [4, 8], name="x")
        bias = tf.placeholder(dtype, [8], name="bias")
        nodes = _random_dag(rng, x, bias, 40, dtype)
        fetch = [nodes[-1], nodes[len(nodes) // 2]]
        feed = {x: _special_values(rng, (4, 8), dtype), bias: _special_values(rng, 8, dtype)}
        with np.errstate(all="ignore"):
            want, plain = _run(fetch, feed, False, monkeypatch, trace=True)
            got, fused = _run(fetch, feed, True, monkeypatch, trace=True)
    assert len(fused) < len(plain)  # regions ran as one kernel each
    for g, w in zip(got, want):
        _assert_same_bits(g, w)


def test_relu_grad_and_bias_add_relu_bitwise(monkeypatch):
    rng = np.random.default_rng(1)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 3, 4], name="x")
        b = tf.constant(rng.standard_normal(4).astype(np.float32))
        y = tf.nn.relu(tf.nn.bias_add(x, b))
        loss = tf.reduce_sum(tf.square(y * 0.5 - 1.0))
        (gx,) = tf.gradients(loss, [x])
        feed = {x: _special_values(rng, (2, 3, 4), np.float32)}
        with np.errstate(all="ignore"):
            want, _ = _run([y, gx], feed, False, monkeypatch)
            got, _ = _run([y, gx], feed, True, monkeypatch)
    for g, w in zip(got, want):
        _assert_same_bits(g, w)


def test_transcendental_chains_are_close(monkeypatch):
    rng = np.random.default_rng(2)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [64], name="x")
        y = x
        for fn in CLOSE_UNARY * 2:
            y = fn(tf.abs(y) * 0.5 + 0.1 if fn in (tf.log, tf.log1p) else y)
        feed = {x: rng.uniform(-3, 3, 64).astype(np.float32)}
        want, _ = _run(y, feed, False, monkeypatch)
        got, _ = _run(y, feed, True, monkeypatch)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)


def test_fetched_and_fed_intermediates_are_not_swallowed(monkeypatch):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [5], name="x")
        a = tf.add(x, 1.0, name="a")
        b = tf.multiply(a, 2.0, name="b")
        c = tf.subtract(b, 3.0, name="c")
        d = tf.maximum(c, 0.0, name="d")
        xv = np.arange(5, dtype=np.float32)
        got, _ = _run([d, b], {x: xv}, True, monkeypatch)
        np.testing.assert_array_equal(got[1], (xv + 1) * 2)
        np.testing.assert_array_equal(got[0], np.maximum((xv + 1) * 2 - 3, 0))
        fed = np.full(5, 10, np.float32)
        got, _ = _run(d, {x: xv, b: fed}, True, monkeypatch)
        np.testing.assert_array_equal(got, fed - 3)


def test_unknown_shapes_check_sizes_at_run_time(monkeypatch):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        y = tf.tanh(tf.maximum(x * 2.0 + 1.0, -3.0))
        for n in (3, 1000):  # small: fused; big: the ops one by one
            xv = np.linspace(-4, 4, n, dtype=np.float32)
            want, _ = _run(y, {x: xv}, False, monkeypatch)
            got, _ = _run(y, {x: xv}, True, monkeypatch)
            np.testing.assert_allclose(got, want, rtol=2e-6)


def test_big_static_shapes_are_not_fused(monkeypatch):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [fuse.MAX_ELEMENTS + 1], name="x")
        y = tf.nn.relu(x * 2.0 + 1.0)
        _, names = _run(y, {x: np.ones(fuse.MAX_ELEMENTS + 1, np.float32)}, True,
                        monkeypatch, trace=True)
    assert len(names) == 3


def test_error_names_an_op_of_the_region(monkeypatch):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        z = tf.placeholder(tf.float32, [None], name="z")
        s = tf.add(x, z, name="the_add")
        y = tf.multiply(tf.maximum(s, 0.0), 3.0, name="out")
        monkeypatch.setenv(fuse.ENV_SWITCH, "1")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"the_add.*float32\[3\], float32\[4\]") as info:
                sess.run(y, {x: np.ones(3, np.float32), z: np.ones(4, np.float32)})
    assert info.value.op.name == "the_add"


def test_variable_reads_stay_at_their_reader(monkeypatch):
    with tf.Graph().as_default():
        v = tf.Variable(np.ones(4, np.float32), name="v")
        x = tf.placeholder(tf.float32, [4], name="x")
        y = tf.nn.relu((v * 2.0 + x) * 0.5)
        monkeypatch.setenv(fuse.ENV_SWITCH, "1")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run(y, {x: np.arange(4, dtype=np.float32)})
    np.testing.assert_array_equal(got, np.maximum((2 + np.arange(4)) * 0.5, 0))


def test_no_numexpr_means_no_fusion(monkeypatch):
    monkeypatch.setattr(fuse, "_numexpr", [])  # the import is tried again, and fails
    monkeypatch.setitem(sys.modules, "numexpr", None)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4], name="x")
        y = tf.nn.relu(x * 2.0 + 1.0)
        got, names = _run(y, {x: np.ones(4, np.float32)}, True, monkeypatch, trace=True)
    assert len(names) == 3 and fuse.load_numexpr() is None
    np.testing.assert_array_equal(got, np.full(4, 3, np.float32))


def test_switch_off_means_no_fusion(monkeypatch):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4], name="x")
        y = tf.nn.relu(x * 2.0 + 1.0, name="y")
        _, off = _run(y, {x: np.ones(4, np.float32)}, False, monkeypatch, trace=True)
        _, on = _run(y, {x: np.ones(4, np.float32)}, True, monkeypatch, trace=True)
    assert len(off) == 3 and on == ["y"]  # a region is traced under its root op


def test_numexpr_threads_follow_the_session(monkeypatch):
    ne = fuse.load_numexpr()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4], name="x")
        y = tf.nn.relu(x * 2.0 + 1.0)
        for n in sorted({1, min(2, threads.usable_cpus())}):
            cfg = tf.ConfigProto(intra_op_parallelism_threads=n)
            with tf.Session(config=cfg) as sess:
                sess.run(y, {x: np.ones(4, np.float32)})
            assert ne.get_num_threads() == n


def test_loop_and_branch_bodies_are_fused_too(monkeypatch):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4], name="x")
        _, y = tf.while_loop(lambda i, v: i < 5,
                             lambda i, v: (i + 1, tf.nn.relu(v * 0.5 - 1.0) + tf.abs(v)),
                             [tf.constant(0), x])
        z = tf.cond(tf.reduce_sum(y) > 0, lambda: tf.tanh(y * 2.0 + 1.0), lambda: y - 1.0)
        xv = np.array([-3, -0.5, 0.5, 3], np.float32)
        want, _ = _run(z, {x: xv}, False, monkeypatch)
        got, _ = _run(z, {x: xv}, True, monkeypatch)
    np.testing.assert_allclose(got, want, rtol=2e-6)


def test_concurrent_runs_of_one_fused_plan(monkeypatch):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [64], name="x")
        y = x
        for _ in range(40):
            y = tf.maximum(tf.subtract(tf.multiply(y, 0.75), 0.5), -4.0)
        monkeypatch.setenv(fuse.ENV_SWITCH, "1")
        failures = []
        with tf.Session() as sess:
            def worker(seed):
                xv = np.random.default_rng(seed).standard_normal(64).astype(np.float32)
                want = sess.run(y, {x: xv})
                for _ in range(400):  # without the lock, 1-4 runs of 1,600 went wrong
                    if not np.array_equal(sess.run(y, {x: xv}), want):
                        failures.append(seed)
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(worker, range(4)))
    assert not failures
