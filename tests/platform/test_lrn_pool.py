"""LRN, pooling and BiasAddGrad kernels against float64 direct-loop references: the host
kernels' row blocks and channel tiles (LRN), the device layout of the same generic kernels,
and random shapes with odd sizes, strides, SAME/VALID padding and ties (pooling)."""
from __future__ import annotations

import types

import numpy as np
import pytest

import actorflow as tf
from actorflow.framework import registry
from actorflow.kernels import numpy_kernels
from actorflow.ops import normalization

from .op_cases.conv import (ref_avg_pool_grad, ref_lrn, ref_lrn_grad, ref_max_pool_grad,
                            ref_pool)


class _DeviceXp:
    """NumPy seen as another array module: the generic kernels take their device paths."""

    def __getattr__(self, name):
        return getattr(np, name)


def _lrn_graph(shape, dtype, r, bias, alpha, beta, dy):
    x = tf.placeholder(dtype, shape)
    y = tf.nn.lrn(x, r, bias, alpha, beta)
    return x, y, tf.gradients(y, x, grad_ys=tf.constant(dy, dtype=dtype))[0]


LRN_CASES = [  # (shape, depth_radius, bias, alpha, beta)
    ((2, 3, 5, 7), 2, 1.5, 0.3, 0.75),
    ((1, 3, 2, 1), 4, 1.0, 0.5, 0.75),       # one channel, radius beyond the depth
    ((3, 1, 3, 11), 5, 2.0, 0.1, 0.5),
    ((2, 2, 3, 41), 1, 1.0, 0.2, 1.0),
    ((1, 5, 3, 70), 3, 0.5, 0.05, 0.3),      # several channel tiles, a generic beta
    ((2, 3, 3, 97), 4, 1.0, 0.001 / 9, 0.75),
    ((1, 2, 7, 40), 5, 1.0, 0.2, 0.75),      # depth <= tile + 2r: one band
]


@pytest.mark.parametrize("case", LRN_CASES, ids=[f"d{c[0][3]}-r{c[1]}-b{c[4]}"
                                                 for c in LRN_CASES])
@pytest.mark.parametrize("block_bytes", [256 << 10, 1000], ids=["block", "rows"])
def test_lrn_and_grad_match_reference(case, block_bytes, monkeypatch):
    monkeypatch.setattr(normalization, "LRN_BLOCK_BYTES", block_bytes)  # partial last block
    shape, r, bias, alpha, beta = case
    rng = np.random.default_rng(sum(shape) + r)
    x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
    xt, y, g = _lrn_graph(shape, tf.float64, r, bias, alpha, beta, dy)
    with tf.Session() as sess:
        got_y, got_g = sess.run([y, g], {xt: x})
    np.testing.assert_allclose(got_y, ref_lrn(x, r, bias, alpha, beta), rtol=1e-12)
    np.testing.assert_allclose(got_g, ref_lrn_grad(dy, x, r, bias, alpha, beta), rtol=1e-10,
                               atol=1e-12)
    dev = types.SimpleNamespace(xp=_DeviceXp(), session=None)
    fwd = registry.get_op_def("LRN").kernel(y.op, dev)(x)
    np.testing.assert_allclose(fwd, got_y, rtol=1e-12)
    back = registry.get_op_def("LRNGrad").kernel(g.op, dev)(dy, x, got_y)
    np.testing.assert_allclose(back, got_g, rtol=1e-10, atol=1e-12)


def test_float32_lrn_keeps_precision_over_many_channels():
    shape, args = (2, 2, 3, 600), (4, 1.0, 0.001 / 9, 0.75)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * 10
    dy = rng.standard_normal(shape)
    xt, y, g = _lrn_graph(shape, tf.float32, *args, dy)
    with tf.Session() as sess:
        got_y, got_g = sess.run([y, g], {xt: x.astype(np.float32)})
    assert got_y.dtype == got_g.dtype == np.float32
    np.testing.assert_allclose(got_y, ref_lrn(x, *args), rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(got_g, ref_lrn_grad(dy, x, *args), rtol=2e-5, atol=2e-6)


def test_lrn_of_an_empty_batch():
    xt, y, g = _lrn_graph((None, 3, 3, 5), tf.float32, 2, 1.0, 1.0, 0.5, np.zeros((0, 3, 3, 5)))
    with tf.Session() as sess:
        got_y, got_g = sess.run([y, g], {xt: np.zeros((0, 3, 3, 5), np.float32)})
    assert got_y.shape == got_g.shape == (0, 3, 3, 5)


def test_lrn_grad_shapes_merge_and_mismatches_name_them():
    x = tf.placeholder(tf.float32, [None, 3, 3, 5])
    g = tf.gradients(tf.nn.lrn(x), x, grad_ys=tf.zeros([4, 3, 3, 5]))[0]
    assert g.shape.as_list() == [4, 3, 3, 5]
    x6 = tf.placeholder(tf.float32, [None, 3, 3, 6])
    with pytest.raises(ValueError,
                       match=r"input_image and zeros.*\[None, 3, 3, 6\] and \[4, 3, 3, 5\]"):
        tf.gradients(tf.nn.lrn(x6), x6, grad_ys=tf.zeros([4, 3, 3, 5]))


# -- max pooling ---------------------------------------------------------------------------
POOL_CASES = [  # (x shape, ksize, strides, padding)
    ((2, 9, 11, 3), (3, 3), (2, 2), "VALID"),   # AlexNet's overlapping windows, odd sizes
    ((2, 9, 11, 3), (3, 3), (2, 2), "SAME"),
    ((3, 8, 7, 2), (2, 2), (2, 2), "SAME"),     # 2x2 taps; padding on the odd width only
    ((1, 8, 8, 4), (2, 2), (2, 2), "VALID"),    # tiles exactly
    ((1, 7, 9, 2), (3, 2), (1, 3), "SAME"),     # window wider than the column stride
    ((2, 10, 9, 1), (2, 3), (3, 2), "VALID"),   # rows between windows
    ((1, 5, 6, 2), (4, 4), (3, 3), "SAME"),     # padding on both sides
    ((1, 3, 4, 2), (5, 5), (1, 1), "SAME"),     # window larger than the input
    ((2, 6, 5, 3), (1, 1), (2, 2), "SAME"),
]
POOL_IDS = [f"{c[3]}-x{c[0][1]}x{c[0][2]}-k{c[1][0]}{c[1][1]}-s{c[2][0]}{c[2][1]}"
            for c in POOL_CASES]


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_max_pool_kernels_match_reference_with_ties(case, monkeypatch):
    monkeypatch.setattr(numpy_kernels, "POOL_BLOCK_BYTES", 1)  # one image per block
    shape, k, s, padding = case
    ksize, strides = [1, *k, 1], [1, *s, 1]
    rng = np.random.default_rng(sum(shape) + sum(k))
    x = rng.integers(-2, 2, shape).astype(np.float64)  # ties in most windows
    want = ref_pool(x, ksize, strides, padding, np.max)
    dy = rng.standard_normal(want.shape)
    want_g = ref_max_pool_grad(x, dy, ksize, strides, padding)
    xt = tf.placeholder(tf.float64, shape)
    forward_only = tf.nn.max_pool(xt, ksize, strides, padding)  # no argmax hand-off
    y = tf.nn.max_pool(xt, ksize, strides, padding)
    g = tf.gradients(y, xt, grad_ys=tf.constant(dy))[0]
    with tf.Session() as sess:
        got, got_y, got_g = sess.run([forward_only, y, g], {xt: x})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_y, want)
    np.testing.assert_allclose(got_g, want_g, atol=1e-12)
    dev = types.SimpleNamespace(xp=_DeviceXp(), session=None)
    np.testing.assert_array_equal(registry.get_op_def("MaxPool").kernel(y.op, dev)(x), want)
    np.testing.assert_allclose(registry.get_op_def("MaxPoolGrad").kernel(g.op, dev)(x, want, dy),
                               want_g, atol=1e-12)


@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_avg_pool_and_grad_match_reference(case):
    shape, k, s, padding = case
    ksize, strides = [1, *k, 1], [1, *s, 1]
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    want = ref_pool(x, ksize, strides, padding, np.mean)
    dy = np.random.default_rng(1).standard_normal(want.shape)
    want_g = ref_avg_pool_grad(shape, dy, ksize, strides, padding)
    xt = tf.constant(x)
    y = tf.nn.avg_pool(xt, ksize, strides, padding)
    g = tf.gradients(y, xt, grad_ys=tf.constant(dy))[0]
    with tf.Session() as sess:
        got, got_g = sess.run([y, g])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_g, want_g, rtol=1e-12, atol=1e-14)
    dev = types.SimpleNamespace(xp=_DeviceXp(), session=None)
    np.testing.assert_allclose(registry.get_op_def("AvgPool").kernel(y.op, dev)(x), want,
                               rtol=1e-12, atol=1e-14)


def test_max_pool_of_integers_and_infinities():
    xi = np.random.default_rng(0).integers(-2**31, 2**31 - 1, (2, 7, 5, 3), dtype=np.int32)
    xf = np.full((1, 3, 3, 2), -np.inf)
    xf[0, 2, 2, 1] = np.inf
    with tf.Session() as sess:
        gi, gf = sess.run([tf.nn.max_pool(tf.constant(xi), [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
                           tf.nn.max_pool(tf.constant(xf), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")])
    np.testing.assert_array_equal(gi, ref_pool(xi, [1, 3, 3, 1], [1, 2, 2, 1], "SAME", np.max))
    np.testing.assert_array_equal(gf[0, :, :, 0], np.full((2, 2), -np.inf))
    np.testing.assert_array_equal(gf[0, :, :, 1], [[-np.inf, -np.inf], [-np.inf, np.inf]])


# -- BiasAddGrad ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_add_grad_sums_all_but_the_channel_axis(dtype):
    rng = np.random.default_rng(1)
    g = (rng.standard_normal((6, 9, 11, 7)) * 100).astype(dtype)
    want = g.astype(np.float64).sum(axis=(0, 1, 2))
    b = tf.zeros([7], dtype)
    x = tf.placeholder(dtype, (None, 9, 11, 7))
    fed = tf.placeholder(dtype, (7, 9, 11, 6))
    grads = [tf.gradients(tf.nn.bias_add(x, b), b, grad_ys=grad_ys)[0]
             for grad_ys in (tf.constant(g), tf.transpose(fed, [3, 1, 2, 0]))]
    with tf.Session() as sess:
        got = sess.run(grads, {x: g, fed: g.transpose(3, 1, 2, 0)})
    for value in got:
        assert value.dtype == dtype
        np.testing.assert_allclose(value, want, rtol=1e-5 if dtype == np.float32 else 1e-12)
