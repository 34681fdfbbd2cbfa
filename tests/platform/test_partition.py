"""Partitioned runs on logical CPU devices: same results as one device, one transfer per
(tensor, destination device), concurrency, cross-device control edges and failures."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import actorflow as tf

CPU = "/job:localhost/replica:0/task:0/device:CPU:"


def cpus(n: int, **kw) -> tf.ConfigProto:
    return tf.ConfigProto(device_count={"CPU": n, "GPU": 0}, **kw)


def _run_meta(sess, fetches, feed=None):
    opts = tf.RunOptions(output_partition_graphs=True, trace_level=tf.RunOptions.FULL_TRACE)
    md = tf.RunMetadata()
    out = sess.run(fetches, feed, options=opts, run_metadata=md)
    return out, md


def _recvs(md) -> list:
    return [n for g in md.partition_graphs for n in g.node if n["op"] == "_Recv"]


def _mlp(split: bool, seed: int = 3):
    """Two-layer MLP with Adam; layers on /cpu:0 and /cpu:1 when `split`."""
    tf.reset_default_graph()
    tf.set_random_seed(seed)
    x = tf.placeholder(tf.float32, [None, 6], name="x")
    y = tf.placeholder(tf.float32, [None, 2], name="y")
    with tf.device("/cpu:0" if split else None):
        w1 = tf.Variable(tf.truncated_normal([6, 8], stddev=0.5, seed=1))
        h = tf.nn.relu(tf.matmul(x, w1))
    with tf.device("/cpu:1" if split else None):
        w2 = tf.Variable(tf.truncated_normal([8, 2], stddev=0.5, seed=2))
        out = tf.matmul(h, w2)
        loss = tf.reduce_mean(tf.square(out - y))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    return x, y, loss, train, [w1, w2]


def test_split_graph_matches_one_device():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((16, 6)).astype(np.float32)
    ys = rng.standard_normal((16, 2)).astype(np.float32)
    results = []
    for split in (False, True):
        x, y, loss, train, ws = _mlp(split)
        with tf.Session(config=cpus(2)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: xs, y: ys})[0] for _ in range(5)]
            results.append((losses, sess.run(ws)))
            if split:
                _, md = _run_meta(sess, loss, {x: xs, y: ys})
                assert {g.node[0]["device"] for g in md.partition_graphs} == \
                    {CPU + "0", CPU + "1"}
    (l1, w1), (l2, w2) = results
    np.testing.assert_allclose(l1, l2, rtol=1e-6, atol=1e-6)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_one_transfer_per_tensor_and_destination():
    x = tf.placeholder(tf.float32, [3], name="x")
    with tf.device("/cpu:0"):
        a = tf.exp(x, name="a")
        b = tf.sin(x, name="b")
    with tf.device("/cpu:1"):
        # a is read by three ops and b by one: two transfers into /cpu:1.
        c = tf.add_n([a * 2.0, a + 1.0, tf.square(a), b], name="c")
    with tf.device("/cpu:2"):
        d = tf.identity(a, name="d")  # a third device: one more transfer of a
    xv = np.array([0.1, 0.2, 0.3], np.float32)
    with tf.Session(config=cpus(3)) as sess:
        (cv, dv), md = _run_meta(sess, [c, d], {x: xv})
    ea = np.exp(xv)
    np.testing.assert_allclose(cv, 2 * ea + ea + 1 + ea ** 2 + np.sin(xv), rtol=1e-6)
    np.testing.assert_allclose(dv, ea, rtol=1e-6)
    recvs = sorted(n["name"] for n in _recvs(md))
    assert recvs == sorted([f"_Recv/a:0->{CPU}1", f"_Recv/b:0->{CPU}1",
                            f"_Recv/a:0->{CPU}2"])
    sends = [n for g in md.partition_graphs for n in g.node if n["op"] == "_Send"]
    assert len(sends) == 3
    traced = {s.device: [n.node_name for n in s.node_stats] for s in md.step_stats.dev_stats}
    assert set(traced) == {CPU + "0", CPU + "1", CPU + "2"}
    assert "c" in traced[CPU + "1"] and "a" in traced[CPU + "0"]


def test_feeds_and_constants_are_not_transferred():
    x = tf.placeholder(tf.float32, [2], name="x")
    k = tf.constant([1.0, 2.0], name="k")
    with tf.device("/cpu:0"):
        a = x * k
    with tf.device("/cpu:1"):
        b = x + k
    with tf.Session(config=cpus(2)) as sess:
        (av, bv), md = _run_meta(sess, [a, b], {x: [3.0, 4.0]})
    np.testing.assert_array_equal(av, [3.0, 8.0])
    np.testing.assert_array_equal(bv, [4.0, 6.0])
    assert _recvs(md) == []
    assert len(md.partition_graphs) == 2


def test_fetching_a_feed_and_an_op_across_devices():
    x = tf.placeholder(tf.float32, [], name="x")
    with tf.device("/cpu:1"):
        v = tf.Variable(0.0)
        inc = tf.assign_add(v, x)
    with tf.device("/cpu:0"):
        doubled = x * 2.0
    with tf.Session(config=cpus(2)) as sess:
        sess.run(v.initializer)
        xv, none, dv = sess.run([x, inc.op, doubled], {x: 1.5})
        assert (xv, none, dv) == (1.5, None, 3.0)
        assert sess.run(v) == 1.5


def test_control_edges_cross_devices_in_order():
    with tf.device("/cpu:0"):
        v = tf.Variable(1.0)
        bump = tf.assign(v, 10.0)
    with tf.device("/cpu:1"), tf.control_dependencies([bump]):
        seen = tf.identity(tf.constant(5.0)) + 0.0
    with tf.device("/cpu:1"):
        after = tf.constant(0.0) + 1.0
    with tf.control_dependencies([seen]):
        read = v.read_value() + after
    with tf.Session(config=cpus(2)) as sess:
        sess.run(v.initializer)
        out, md = _run_meta(sess, read)
    assert out == 11.0
    tokens = [n for n in _recvs(md) if n["name"].startswith("_Recv/^")]
    assert tokens, "the control edge from /cpu:0 to /cpu:1 needs a token transfer"


def test_variable_read_across_devices_is_a_snapshot():
    with tf.device("/cpu:0"):
        v = tf.Variable(np.ones(4, np.float32))
    with tf.device("/cpu:1"):
        seen = tf.identity(v, name="seen")
        # A slow op on /cpu:1 that keeps the received value alive while /cpu:0 updates v.
        total = tf.reduce_sum(tf.matmul(tf.ones([300, 300]), tf.ones([300, 300]))) * 0.0
        seen_later = seen + total
    with tf.device("/cpu:0"), tf.control_dependencies([seen]):
        update = tf.assign_add(v, np.full(4, 5.0, np.float32))
    with tf.Session(config=cpus(2)) as sess:
        sess.run(v.initializer)
        got, _ = sess.run([seen_later, update])
        np.testing.assert_array_equal(got, np.ones(4))
        np.testing.assert_array_equal(sess.run(v), np.full(4, 6.0))


def test_a_failing_partition_fails_the_run_and_wakes_the_others():
    x = tf.placeholder(tf.float32, [None], name="x")
    with tf.device("/cpu:1"):
        bad = tf.reshape(x, [2, 2], name="bad_reshape")
    with tf.device("/cpu:0"):
        out = tf.reduce_sum(bad) + 1.0  # waits for /cpu:1's value
    with tf.Session(config=cpus(2)) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad_reshape"):
            sess.run(out, {x: np.ones(3, np.float32)})
        assert sess.run(out, {x: np.ones(4, np.float32)}) == 5.0  # the session still works


def test_concurrent_runs_of_a_partitioned_plan():
    x = tf.placeholder(tf.float32, [None, 64], name="x")
    with tf.device("/cpu:0"):
        w = tf.Variable(np.eye(64, dtype=np.float32))
        h = tf.matmul(x, w)
    with tf.device("/cpu:1"):
        y = tf.reduce_sum(tf.tanh(h), axis=1)
    sess = tf.Session(config=cpus(2))
    sess.run(w.initializer)
    errors: list = []

    def worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(30):
            xv = rng.standard_normal((8, 64)).astype(np.float32)
            got = sess.run(y, {x: xv})
            if not np.allclose(got, np.tanh(xv).sum(axis=1), rtol=1e-5, atol=1e-5):
                errors.append(seed)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "runs deadlocked"
    assert errors == []
    sess.close()


def test_closing_the_session_stops_device_threads():
    before = {t.name for t in threading.enumerate()}
    with tf.device("/cpu:1"):
        a = tf.constant(2.0) * 3.0
    with tf.device("/cpu:0"):
        b = a + 1.0
    sess = tf.Session(config=cpus(2))
    assert sess.run(b) == 7.0
    started = {t.name for t in threading.enumerate()} - before
    assert any(n.startswith("actorflow-CPU") for n in started)
    sess.close()
    for t in threading.enumerate():
        if t.name in started:
            t.join(timeout=10)
    assert not ({t.name for t in threading.enumerate()} & started)
