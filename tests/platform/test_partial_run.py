"""Session.partial_run_setup / partial_run: feeds and fetches declared up front, each call
feeds some and fetches some, every op runs once per partial run (TF 1.x semantics; the error
cases were checked against tf.compat.v1.Session)."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf
from actorflow.session.partial_run import PartialRunError


@pytest.fixture
def graph():
    a = tf.placeholder(tf.float32, [], name="a")
    b = tf.placeholder(tf.float32, [], name="b")
    c = tf.placeholder(tf.float32, [], name="c")
    r1 = a + b
    r2 = r1 * c
    return a, b, c, r1, r2


def test_the_tf_docs_example(graph):
    a, b, c, r1, r2 = graph
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1, r2], [a, b, c])
        res = sess.partial_run(h, r1, feed_dict={a: 1, b: 2})
        assert res == 3.0
        assert sess.partial_run(h, r2, feed_dict={c: res}) == 9.0


def test_fetch_structures_and_names(graph):
    a, b, c, r1, r2 = graph
    with tf.Session() as sess:
        h = sess.partial_run_setup({"sum": r1, "prod": r2}, ["a:0", "b:0", c])
        assert sess.partial_run(h, [], {"a:0": 1.0}) == []
        assert sess.partial_run(h, {"s": r1}, {"b:0": [2][0]}) == {"s": 3.0}
        out = sess.partial_run(h, (r2,), {c: 2})
        assert out == (6.0,)


def test_each_op_runs_once():
    a = tf.placeholder(tf.float32, [])
    c = tf.placeholder(tf.float32, [])
    v = tf.Variable(0.0)
    inc = tf.assign_add(v, 1.0)
    rnd = tf.random_uniform([])
    x1 = rnd + a
    x2 = rnd + inc + c
    with tf.Session() as sess:
        sess.run(v.initializer)
        h = sess.partial_run_setup([x1, x2, rnd], [a, c])
        first, r = sess.partial_run(h, [x1, rnd], {a: 0.0})
        second = sess.partial_run(h, x2, {c: 10.0})
        assert first == r  # x1 used the same draw
        np.testing.assert_allclose(second, r + 1.0 + 10.0, rtol=1e-6)
        assert sess.run(v) == 1.0  # the assign_add ran once


def test_fetching_an_op_and_a_fed_tensor(graph):
    a, b, c, r1, r2 = graph
    v = tf.Variable(0.0)
    update = tf.assign(v, r1).op
    with tf.Session() as sess:
        sess.run(v.initializer)
        h = sess.partial_run_setup([update, a], [a, b])
        assert sess.partial_run(h, a, {a: 4.0}) == 4.0
        assert sess.partial_run(h, update, {b: 1.0}) is None
        assert sess.run(v) == 5.0


@pytest.mark.parametrize("case,message", [
    ("too_early", "Fetch mul:0 can't be computed from the feeds that have been fed so far."),
    ("refetch", "The fetch add:0 has already been fetched."),
    ("undeclared_fetch", "The fetch mul:0 was not specified in partial_run_setup."),
    ("undeclared_feed", "The feed c:0 was not specified in partial_run_setup."),
    ("refeed", "The feed a:0 has already been fed."),
])
def test_contract_errors(graph, case, message):
    a, b, c, r1, r2 = graph
    with tf.Session() as sess:
        if case in ("undeclared_fetch", "undeclared_feed"):
            h = sess.partial_run_setup([r1], [a, b])
        else:
            h = sess.partial_run_setup([r1, r2], [a, b, c])
        with pytest.raises(PartialRunError) as e:
            if case == "too_early":
                sess.partial_run(h, r2, {a: 1, b: 2})
            elif case == "refetch":
                sess.partial_run(h, r1, {a: 1, b: 2})
                sess.partial_run(h, r1, {c: 1})
            elif case == "undeclared_fetch":
                sess.partial_run(h, r2, {a: 1, b: 2})
            elif case == "undeclared_feed":
                sess.partial_run(h, r1, {a: 1, b: 2, c: 1})
            else:
                sess.partial_run(h, [], {a: 1})
                sess.partial_run(h, [], {a: 3})
        assert str(e.value) == message
        assert isinstance(e.value, tf.errors.InvalidArgumentError)


def test_feeds_are_converted_and_checked(graph):
    a, b, c, r1, r2 = graph
    with tf.Session() as sess:
        h = sess.partial_run_setup([r1], [a, b])
        with pytest.raises(ValueError, match="could not convert string to float"):
            sess.partial_run(h, [], {a: "x"})
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(2,\)"):
            sess.partial_run(h, [], {a: [1.0, 2.0]})
        assert sess.partial_run(h, r1, {a: 1, b: np.int64(2)}) == 3.0


def test_unknown_handle_and_closed_session(graph):
    a, b, c, r1, r2 = graph
    sess = tf.Session()
    h = sess.partial_run_setup([r1], [a, b])
    with pytest.raises(KeyError, match="No partial run"):
        sess.partial_run(h + "x", r1, {a: 1, b: 2})
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.partial_run(h, r1, {a: 1, b: 2})


def test_an_undeclared_intermediate_is_kept_not_recomputed():
    a = tf.placeholder(tf.float32, [])
    c = tf.placeholder(tf.float32, [])
    rnd = tf.random_uniform([]) * 100.0
    x1 = rnd + a
    x2 = rnd + c
    with tf.Session() as sess:
        h = sess.partial_run_setup([x1, x2], [a, c])
        first = sess.partial_run(h, x1, {a: 0.0})
        second = sess.partial_run(h, x2, {c: 1.0})
        np.testing.assert_allclose(second, first + 1.0, rtol=1e-6)
