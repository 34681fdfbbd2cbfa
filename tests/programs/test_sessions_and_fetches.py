"""Session usage patterns: InteractiveSession with .eval()/.run(), structured fetches
(dicts, namedtuples, nested lists), string names in fetches and feeds, two graphs with two
sessions, and random-seed reproducibility."""
import collections

import numpy as np
import pytest

import actorflow as tf


def test_interactive_session_eval_and_run():
    sess = tf.InteractiveSession()
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    v = tf.Variable(tf.ones([2]))
    tf.global_variables_initializer().run()
    np.testing.assert_allclose(tf.matmul(a, a).eval(), np.array([[7, 10], [15, 22]]))
    p = tf.placeholder(tf.float32)
    assert (p * 3).eval(feed_dict={p: 2.0}) == 6.0
    v.assign_add([1.0, 2.0]).op.run()
    np.testing.assert_allclose(v.eval(), [2.0, 3.0])
    assert tf.get_default_session() is sess
    sess.close()


def test_structured_fetches():
    a = tf.constant(1.0, name="a")
    b = tf.constant([2, 3], name="b")
    c = tf.constant("hello")
    Pair = collections.namedtuple("Pair", ["first", "second"])
    with tf.Session() as sess:
        out = sess.run({"a": a, "pair": Pair(a, b), "nested": [a, (b, {"c": c})]})
        tensor_a, op_result = sess.run([a, a.op])
    assert out["a"] == 1.0
    assert isinstance(out["pair"], Pair)
    assert out["pair"].first == 1.0
    np.testing.assert_array_equal(out["pair"].second, [2, 3])
    assert out["nested"][0] == 1.0
    np.testing.assert_array_equal(out["nested"][1][0], [2, 3])
    assert out["nested"][1][1]["c"] in (b"hello", "hello")
    assert tensor_a == 1.0 and op_result is None


def test_string_names_in_fetches_and_feeds():
    x = tf.placeholder(tf.float32, shape=[None], name="x")
    y = tf.multiply(x, 2.0, name="y")
    init_op = tf.group(tf.global_variables_initializer(), name="init_all")
    with tf.Session() as sess:
        sess.run("init_all")
        assert sess.run("y:0", feed_dict={"x:0": [1.0, 2.0]}).tolist() == [2.0, 4.0]
        assert sess.run(y, {x: [3.0]}).tolist() == [6.0]
        r = sess.run(["y:0", y], {"x:0": np.array([5.0], np.float32)})
        assert r[0].tolist() == r[1].tolist() == [10.0]
        with pytest.raises((TypeError, ValueError, KeyError)):
            sess.run("no_such_tensor:0")
    assert init_op.name == "init_all"


def test_feeding_an_intermediate_tensor_and_fetch_feed_dtypes():
    x = tf.placeholder(tf.float32, [2])
    h = tf.square(x)
    out = h + 1.0
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out, {h: [10.0, 20.0]}), [11.0, 21.0])
        val = sess.run(out, {x: [1, 2]})  # python ints fed to a float placeholder
        assert val.dtype == np.float32
        np.testing.assert_allclose(val, [2.0, 5.0])
        with pytest.raises(ValueError):
            sess.run(out, {x: [1.0, 2.0, 3.0]})  # wrong shape for [2]


def test_two_graphs_two_sessions():
    g1 = tf.Graph()
    g2 = tf.Graph()
    with g1.as_default():
        v1 = tf.Variable(1.0, name="v")
        inc1 = tf.assign_add(v1, 1.0)
        init1 = tf.global_variables_initializer()
    with g2.as_default():
        v2 = tf.Variable(100.0, name="v")
        inc2 = tf.assign_add(v2, 10.0)
        init2 = tf.global_variables_initializer()
        assert tf.get_default_graph() is g2
    assert v1.name == v2.name == "v:0"
    assert v1.graph is g1 and v2.graph is g2
    assert tf.get_default_graph() is not g1
    sess1 = tf.Session(graph=g1)
    sess2 = tf.Session(graph=g2)
    sess1.run(init1)
    sess2.run(init2)
    for _ in range(3):
        sess1.run(inc1)
        sess2.run(inc2)
    assert sess1.run(v1) == 4.0
    assert sess2.run(v2) == 130.0
    with pytest.raises(ValueError):
        sess1.run(v2)  # a tensor from the other graph
    with pytest.raises(ValueError):
        with g1.as_default():
            tf.add(v1, v2)
    sess1.close()
    sess2.close()
    with pytest.raises(RuntimeError):
        sess1.run(v1)


def test_graph_level_and_op_level_seeds_are_reproducible():
    def sample(graph_seed, op_seed=None):
        with tf.Graph().as_default():
            tf.set_random_seed(graph_seed)
            a = tf.random_uniform([5], seed=op_seed)
            b = tf.random_normal([3])
            w = tf.get_variable("w", [4, 4], initializer=tf.glorot_uniform_initializer())
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                first = sess.run([a, b, w])
                second = sess.run(a)
            return first, second

    (a1, b1, w1), a1_again = sample(1234)
    (a2, b2, w2), _ = sample(1234)
    (a3, _, _), _ = sample(99)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(w1, w2)
    assert not np.array_equal(a1, a3)
    assert not np.array_equal(a1, a1_again)  # a second run draws new numbers
    limit = np.sqrt(6.0 / 8)
    assert np.all(np.abs(w1) <= limit) and np.all((a1 >= 0) & (a1 < 1))
    (s1, _, _), _ = sample(1, op_seed=7)
    (s2, _, _), _ = sample(1, op_seed=7)
    np.testing.assert_array_equal(s1, s2)
