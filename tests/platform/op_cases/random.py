"""Cases for the random ops. There is no reference to compare with, so each case checks
properties of a large seeded sample (moments, range, frequencies) with `check=`."""
import numpy as np

import actorflow as tf

from . import OpCase, randn

N = 20000


def _moments(mean, std, tol=0.05):
    def check(outs, inputs):
        x = np.asarray(outs[0], dtype=np.float64)
        assert abs(x.mean() - mean) < tol * max(std, 1.0), x.mean()
        assert abs(x.std() - std) < tol * std, x.std()
    return check


def _normal_check(outs, inputs):
    x = np.asarray(outs[0])
    assert x.shape == (N,) and x.dtype == np.float32
    _moments(1.0, 2.0)(outs, inputs)


def _truncated_check(outs, inputs):
    x = np.asarray(outs[0], dtype=np.float64)
    assert x.dtype == np.float64 and x.shape == (100, 200)
    assert np.abs(x + 1.0).max() <= 2 * 0.5 + 1e-9
    # stddev of a unit normal truncated at +-2 is 0.8796
    _moments(-1.0, 0.5 * 0.87962566)([x], inputs)


def _uniform_check(outs, inputs):
    x = np.asarray(outs[0])
    assert x.shape == (40, 500) and x.dtype == np.float32
    assert x.min() >= -3 and x.max() < 5
    _moments(1.0, 8 / np.sqrt(12))(outs, inputs)


def _uniform_int_check(outs, inputs):
    x = np.asarray(outs[0])
    assert x.dtype == np.int64 and x.shape == (N,)
    assert x.min() == -2 and x.max() == 4
    counts = np.bincount(x + 2, minlength=7)
    np.testing.assert_allclose(counts / N, 1 / 7, atol=0.015)


def _dynamic_shape_check(outs, inputs):
    x = np.asarray(outs[0])
    assert x.shape == (3, 4) and x.dtype == np.float64


def _multinomial_check(outs, inputs):
    x, logits = np.asarray(outs[0]), inputs[0]
    assert x.dtype == np.int64 and x.shape == (logits.shape[0], 5000)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    for row, probs in zip(x, p):
        freq = np.bincount(row, minlength=len(probs)) / row.size
        np.testing.assert_allclose(freq, probs, atol=0.03)


def _shuffle_check(outs, inputs):
    x, v = np.asarray(outs[0]), inputs[0]
    assert x.shape == v.shape and x.dtype == v.dtype
    assert not np.array_equal(x, v)
    # rows move whole: the multiset of rows is unchanged
    np.testing.assert_array_equal(np.sort(x[:, 0]), np.sort(v[:, 0]))
    order = np.argsort(x[:, 0])
    np.testing.assert_array_equal(x[order], v[np.argsort(v[:, 0])])


def _crop_check(outs, inputs):
    x, v = np.asarray(outs[0]), inputs[0]
    assert x.shape == (3, 4, 2)
    i, j = np.argwhere(v[:, :, 0] == x[0, 0, 0])[0]  # the values of v are distinct
    np.testing.assert_array_equal(x, v[i:i + 3, j:j + 4])


def _orthogonal_check(outs, inputs):
    q = np.asarray(outs[0])
    assert q.shape == (3, 2, 4) and q.dtype == np.float32
    flat = q.reshape(6, 4).astype(np.float64)
    np.testing.assert_allclose(flat.T @ flat, np.eye(4), atol=1e-5)


CASES = [
    OpCase("RandomStandardNormal",
           lambda: tf.random_normal([N], mean=1.0, stddev=2.0, seed=3), check=_normal_check,
           grad=False),
    OpCase("TruncatedNormal",
           lambda: tf.truncated_normal([100, 200], mean=-1.0, stddev=0.5, dtype=tf.float64,
                                       seed=4), check=_truncated_check, grad=False),
    OpCase("RandomUniform",
           lambda: tf.random_uniform([40, 500], -3.0, 5.0, seed=5), check=_uniform_check,
           grad=False),
    OpCase("RandomUniform",
           lambda s: tf.random_uniform(s, dtype=tf.float64, seed=6),
           [np.array([3, 4], np.int32)], check=_dynamic_shape_check, grad=False,
           name="dynamic_shape"),
    OpCase("RandomUniformInt",
           lambda: tf.random_uniform([N], -2, 5, dtype=tf.int64, seed=7),
           check=_uniform_int_check, grad=False),
    OpCase("Multinomial", lambda x: tf.multinomial(x, 5000, seed=8),
           [np.array([[0.0, 1.0, -1.0, -np.inf], [2.0, 0.5, 0.5, 1.0]])],
           check=_multinomial_check, grad=False),
    OpCase("RandomShuffle", lambda x: tf.random_shuffle(x, seed=9), [randn(50, 3)],
           check=_shuffle_check, grad=False),
    OpCase("RandomUniformInt", lambda x: tf.random_crop(x, [3, 4, 2], seed=11),
           [np.arange(5 * 9 * 2, dtype=np.float64).reshape(5, 9, 2)], check=_crop_check,
           grad=False, name="random_crop"),
    OpCase("RandomOrthogonal", lambda: tf.orthogonal_initializer(seed=10)([3, 2, 4]),
           check=_orthogonal_check, grad=False),
]
