"""The CSE pass: equal pure ops run once; stateful, fed and input-less ops never merge."""
import numpy as np

import actorflow as tf


def _traced_types(sess, fetches, feed=None):
    md = tf.RunMetadata()
    out = sess.run(fetches, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                   run_metadata=md)
    return out, [n.op_type for n in md.step_stats.dev_stats[0].node_stats]


def test_equal_ops_run_once_and_give_the_same_values():
    x = tf.placeholder(tf.float32, [None, 3])
    a = tf.reduce_sum(x * 2.0, axis=1)
    b = tf.reduce_sum(x * 2.0, axis=1)  # same ops again, under other names
    c = tf.reduce_sum(x * 2.0, axis=0)  # a different attr: not merged
    with tf.Session() as sess:
        (va, vb, vc), types = _traced_types(sess, [a, b, c], {x: np.ones((2, 3))})
    np.testing.assert_array_equal(va, [6.0, 6.0])
    np.testing.assert_array_equal(vb, va)
    np.testing.assert_array_equal(vc, [4.0, 4.0, 4.0])
    assert types.count("Mul") == 1 and types.count("Sum") == 2


def test_stateful_and_input_less_ops_never_merge():
    tf.set_random_seed(0)
    p1 = tf.placeholder(tf.float32, [2])
    p2 = tf.placeholder(tf.float32, [2])
    r1 = tf.random_normal([2], seed=1)
    r2 = tf.random_normal([2], seed=1)  # equal attrs, but each draws from its own stream
    d1 = tf.nn.dropout(p1, 0.5, seed=3)
    d2 = tf.nn.dropout(p1, 0.5, seed=3)
    with tf.Session() as sess:
        v1, v2 = sess.run([p1 + 0.0, p2 + 0.0], {p1: [1.0, 2.0], p2: [3.0, 4.0]})
        np.testing.assert_array_equal(v2, [3.0, 4.0])
        _, types = _traced_types(sess, [r1, r2, d1, d2], {p1: [1.0, 2.0]})
    assert types.count("RandomStandardNormal") == 2 and types.count("Dropout") == 2


def test_a_fed_duplicate_keeps_its_fed_value():
    x = tf.constant([1.0, 2.0])
    a = tf.square(x)
    b = tf.square(x)
    with tf.Session() as sess:
        va, vb = sess.run([a, b], {b: [9.0, 9.0]})
    np.testing.assert_array_equal(va, [1.0, 4.0])
    np.testing.assert_array_equal(vb, [9.0, 9.0])


def test_cse_can_be_switched_off():
    x = tf.constant([1.0, 2.0])
    a, b = tf.square(x), tf.square(x)
    opts = tf.OptimizerOptions(do_common_subexpression_elimination=False)
    config = tf.ConfigProto(graph_options=tf.GraphOptions(optimizer_options=opts))
    with tf.Session(config=config) as sess:
        _, types = _traced_types(sess, [a, b])
    assert types.count("Square") == 2
