"""tf.constant and the fills as TF 1.x builds them: text is stored as UTF-8 bytes, and a
shape list may hold tensors (TF packs it)."""
from __future__ import annotations

import numpy as np

import actorflow as tf


def test_string_constants_hold_bytes():
    with tf.Session() as sess:
        assert sess.run(tf.constant("ab")) == b"ab"
        assert sess.run(tf.constant("héllo")) == "héllo".encode("utf-8")
        assert list(sess.run(tf.constant(["a", b"b"]))) == [b"a", b"b"]
        assert list(sess.run(tf.constant(np.array(["u", "v"])))) == [b"u", b"v"]
        assert sess.run(tf.constant("q", dtype=tf.string)) == b"q"
        nested = sess.run(tf.constant([["a"], ["b"]]))
    assert nested.shape == (2, 1) and nested[1, 0] == b"b"


def test_string_equality_with_bytes_constant():
    with tf.Session() as sess:
        assert sess.run(tf.equal(tf.constant("x"), tf.constant(b"x")))


def test_zeros_and_ones_take_a_shape_list_holding_tensors():
    x = tf.placeholder(tf.float32, [None, 3])
    rows = tf.shape(x)[0]
    z = tf.zeros([rows, 2], tf.int32)
    o = tf.ones([rows, 2])
    with tf.Session() as sess:
        zv, ov = sess.run([z, o], {x: np.ones((4, 3))})
    np.testing.assert_array_equal(zv, np.zeros((4, 2), np.int32))
    np.testing.assert_array_equal(ov, np.ones((4, 2), np.float32))
    assert zv.dtype == np.int32 and ov.dtype == np.float32
