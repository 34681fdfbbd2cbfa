"""Convolution and pooling: TF's SAME/VALID geometry on odd sizes and strides against direct
loops, both kernel paths (CPU overrides and generic `xp`), chunking, and error messages."""
from __future__ import annotations

import threading
import types

import numpy as np
import pytest

import actorflow as tf
from actorflow.framework import registry
from actorflow.kernels import numpy_kernels

from .op_cases.conv import (ref_conv2d, ref_conv2d_backprop_filter, ref_conv2d_backprop_input,
                            ref_max_pool_grad, ref_out_shape, ref_pool)

GEOMETRIES = [  # (x shape, filter (kh, kw), strides, padding, dilations)
    ((2, 7, 9, 3), (3, 3), (1, 1, 1, 1), "SAME", (1, 1, 1, 1)),
    ((2, 7, 9, 3), (3, 2), (1, 2, 3, 1), "SAME", (1, 1, 1, 1)),
    ((1, 8, 5, 2), (5, 5), (1, 3, 2, 1), "SAME", (1, 1, 1, 1)),
    ((2, 9, 7, 2), (2, 3), (1, 2, 2, 1), "VALID", (1, 1, 1, 1)),
    ((1, 6, 6, 1), (1, 1), (1, 3, 2, 1), "VALID", (1, 1, 1, 1)),
    ((1, 9, 8, 2), (3, 2), (1, 1, 1, 1), "SAME", (1, 2, 3, 1)),
    ((1, 9, 8, 2), (3, 3), (1, 1, 1, 1), "VALID", (1, 2, 2, 1)),
    ((2, 7, 6, 8), (3, 3), (1, 2, 1, 1), "SAME", (1, 1, 1, 1)),
    ((2, 7, 6, 1), (3, 2), (1, 2, 1, 1), "SAME", (1, 1, 1, 1)),  # c = 1, sw = 1: tap-major
    ((1, 8, 7, 9), (2, 2), (1, 1, 1, 1), "VALID", (1, 1, 2, 1)),
]
IDS = [f"{g[3]}-x{g[0][1]}x{g[0][2]}x{g[0][3]}-k{g[1][0]}{g[1][1]}-s{g[2][1]}{g[2][2]}"
       f"-d{g[4][1]}{g[4][2]}" for g in GEOMETRIES]


def _data(x_shape, k, co=4):
    r = np.random.default_rng(0)
    x = r.standard_normal(x_shape)
    f = r.standard_normal((*k, x_shape[3], co))
    return x, f


def _generic(op_type: str, op, *args):
    """Runs the generic (xp) kernel of `op` on NumPy arrays, bypassing the CPU override."""
    factory = registry.get_op_def(op_type).kernel
    return factory(op, types.SimpleNamespace(xp=np, device_type="GPU"))(*args)


@pytest.mark.parametrize("geom", GEOMETRIES, ids=IDS)
def test_conv2d_matches_direct_loop(geom):
    x_shape, k, strides, padding, dil = geom
    x, f = _data(x_shape, k)
    y = tf.nn.conv2d(tf.constant(x), tf.constant(f), list(strides), padding,
                     dilations=list(dil))
    want = ref_conv2d(x, f, strides, padding, dil)
    assert tuple(y.get_shape().as_list()) == want.shape
    with tf.Session() as sess:
        got = sess.run(y)
    np.testing.assert_allclose(got, want, atol=1e-10)
    np.testing.assert_allclose(_generic("Conv2D", y.op, x, f), want, atol=1e-10)


@pytest.mark.parametrize("geom", GEOMETRIES, ids=IDS)
def test_conv2d_backprops_match_direct_loop(geom):
    x_shape, k, strides, padding, dil = geom
    x, f = _data(x_shape, k)
    dy = np.random.default_rng(1).standard_normal(
        ref_out_shape(x_shape, k[0], k[1], f.shape[3], strides, padding, dil))
    kw = dict(strides=list(strides), padding=padding, dilations=list(dil))
    dx = tf.nn.conv2d_backprop_input(list(x_shape), tf.constant(f), tf.constant(dy), **kw)
    df = tf.nn.conv2d_backprop_filter(tf.constant(x), list(f.shape), tf.constant(dy), **kw)
    want_dx = ref_conv2d_backprop_input(x_shape, f, dy, strides, padding, dil)
    want_df = ref_conv2d_backprop_filter(x, f.shape, dy, strides, padding, dil)
    with tf.Session() as sess:
        got_dx, got_df = sess.run([dx, df])
    np.testing.assert_allclose(got_dx, want_dx, atol=1e-10)
    np.testing.assert_allclose(got_df, want_df, atol=1e-10)
    sizes = np.array(x_shape, np.int32)
    np.testing.assert_allclose(_generic("Conv2DBackpropInput", dx.op, sizes, f, dy), want_dx,
                               atol=1e-10)
    fsizes = np.array(f.shape, np.int32)
    np.testing.assert_allclose(_generic("Conv2DBackpropFilter", df.op, x, fsizes, dy), want_df,
                               atol=1e-10)


@pytest.mark.parametrize("channels", [1, 8], ids=["tap_major", "window_major"])
def test_chunked_im2col_matches_direct_loop(monkeypatch, channels):
    x_shape, strides = (5, 9, 8, channels), (1, 2, 1, 1)
    x, f = _data(x_shape, (3, 3))
    dy_shape = ref_out_shape(x_shape, 3, 3, f.shape[3], strides, "SAME")
    dy = np.random.default_rng(1).standard_normal(dy_shape)
    xt, ft, dyt = tf.constant(x), tf.constant(f), tf.constant(dy)
    kw = dict(strides=list(strides), padding="SAME")
    outs = [tf.nn.conv2d(xt, ft, **kw), tf.nn.conv2d_backprop_input(list(x_shape), ft, dyt, **kw),
            tf.nn.conv2d_backprop_filter(xt, list(f.shape), dyt, **kw)]
    want = [ref_conv2d(x, f, strides, "SAME"),
            ref_conv2d_backprop_input(x_shape, f, dy, strides, "SAME"),
            ref_conv2d_backprop_filter(x, f.shape, dy, strides, "SAME")]
    # Room for the columns of 2 images per block: blocks of 2, 2 and 1.
    per_image = dy_shape[1] * dy_shape[2] * 9 * channels * 8
    monkeypatch.setattr(numpy_kernels, "CHUNK_BYTES", 2 * per_image)
    with tf.Session() as sess:
        got = sess.run(outs)
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, atol=1e-10)


def test_float32_stays_float32_and_unknown_batch():
    x = tf.placeholder(tf.float32, [None, 9, 9, 2])
    f = tf.constant(np.random.default_rng(0).standard_normal((3, 3, 2, 3)).astype(np.float32))
    y = tf.nn.max_pool(tf.nn.conv2d(x, f, [1, 2, 2, 1], "SAME"), [1, 2, 2, 1], [1, 2, 2, 1],
                       "SAME")
    assert y.get_shape().as_list() == [None, 3, 3, 3]
    gx, gf = tf.gradients(tf.reduce_sum(y), [x, f])
    assert gx.get_shape().as_list() == [None, 9, 9, 2]
    xv = np.random.default_rng(1).standard_normal((4, 9, 9, 2)).astype(np.float32)
    with tf.Session() as sess:
        yv, gxv, gfv = sess.run([y, gx, gf], {x: xv})
    assert yv.dtype == gxv.dtype == gfv.dtype == np.float32
    assert yv.shape == (4, 3, 3, 3) and gxv.shape == xv.shape and gfv.shape == (3, 3, 2, 3)


def test_conv2d_transpose_is_backprop_input():
    r = np.random.default_rng(0)
    v = r.standard_normal((2, 3, 4, 5))
    f = r.standard_normal((3, 3, 2, 5))  # [h, w, out_channels, in_channels]
    y = tf.nn.conv2d_transpose(tf.constant(v), tf.constant(f), [2, 6, 7, 2], [1, 2, 2, 1],
                               "SAME")
    assert y.get_shape().as_list() == [2, 6, 7, 2]
    with tf.Session() as sess:
        got = sess.run(y)
    want = ref_conv2d_backprop_input((2, 6, 7, 2), f, v, (1, 2, 2, 1), "SAME")
    np.testing.assert_allclose(got, want, atol=1e-10)


POOLS = [((2, 7, 9, 3), [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
         ((2, 7, 9, 3), [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
         ((1, 8, 5, 2), [1, 3, 2, 1], [1, 3, 2, 1], "VALID"),
         ((1, 8, 6, 2), [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
         ((1, 5, 5, 1), [1, 5, 5, 1], [1, 1, 1, 1], "SAME")]


@pytest.mark.parametrize("case", POOLS, ids=[f"{c[3]}-k{c[1][1]}{c[1][2]}-s{c[2][1]}{c[2][2]}"
                                             for c in POOLS])
def test_pools_match_direct_loop(case):
    shape, ksize, strides, padding = case
    r = np.random.default_rng(0)
    x = r.integers(-2, 2, shape).astype(np.float64)  # ties in most windows
    xt = tf.constant(x)
    mx = tf.nn.max_pool(xt, ksize, strides, padding)
    av = tf.nn.avg_pool(xt, ksize, strides, padding)
    want_mx = ref_pool(x, ksize, strides, padding, np.max)
    dy = r.standard_normal(want_mx.shape)
    gmx = tf.gradients(mx, xt, grad_ys=tf.constant(dy))[0]
    with tf.Session() as sess:
        got_mx, got_av, got_g = sess.run([mx, av, gmx])
    np.testing.assert_array_equal(got_mx, want_mx)
    np.testing.assert_allclose(got_av, ref_pool(x, ksize, strides, padding, np.mean),
                               atol=1e-12)
    want_g = ref_max_pool_grad(x, dy, ksize, strides, padding)
    np.testing.assert_allclose(got_g, want_g, atol=1e-12)
    np.testing.assert_allclose(_generic("MaxPoolGrad", gmx.op, x, want_mx, dy), want_g,
                               atol=1e-12)


def test_same_avg_pool_divides_by_real_elements_and_max_ignores_padding():
    x = -np.ones((1, 3, 3, 1))
    xt = tf.constant(x)
    with tf.Session() as sess:
        av, mx = sess.run([tf.nn.avg_pool(xt, [1, 3, 3, 1], [1, 1, 1, 1], "SAME"),
                           tf.nn.max_pool(xt, [1, 3, 3, 1], [1, 1, 1, 1], "SAME")])
    np.testing.assert_array_equal(av, x)
    np.testing.assert_array_equal(mx, x)


def test_max_pool_gradient_goes_to_first_maximum_only():
    x = np.zeros((1, 2, 2, 1))
    xt = tf.constant(x)
    g = tf.gradients(tf.nn.max_pool(xt, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"), xt)[0]
    with tf.Session() as sess:
        got = sess.run(g)
    np.testing.assert_array_equal(got[0, :, :, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_concurrent_runs_do_not_share_buffers():
    r = np.random.default_rng(0)
    x = tf.placeholder(tf.float64, [None, 12, 12, 3])
    f = tf.constant(r.standard_normal((5, 5, 3, 8)))
    y = tf.nn.conv2d(x, f, [1, 1, 1, 1], "SAME")
    gf = tf.gradients(tf.reduce_sum(y * y), f)[0]
    feeds = [r.standard_normal((6, 12, 12, 3)) for _ in range(4)]
    sess = tf.Session()
    want = [sess.run([y, gf], {x: v}) for v in feeds]
    errors: list = []

    def work(k):
        for _ in range(20):
            got = sess.run([y, gf], {x: feeds[k]})
            if not all(np.allclose(a, b) for a, b in zip(got, want[k])):
                errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sess.close()
    assert not errors


# -- errors --------------------------------------------------------------------------------
def test_channel_mismatch_is_value_error_naming_shapes():
    x = tf.placeholder(tf.float32, [2, 8, 8, 3])
    f = tf.placeholder(tf.float32, [3, 3, 4, 5])
    with pytest.raises(ValueError, match=r"input depth 3.*\[2, 8, 8, 3\].*in_channels 4.*"
                                         r"\[3, 3, 4, 5\]"):
        tf.nn.conv2d(x, f, [1, 1, 1, 1], "SAME")


@pytest.mark.parametrize("kwargs, match", [
    (dict(strides=[1, 1, 1, 1], padding="same"), "padding must be 'SAME' or 'VALID'"),
    (dict(strides=[2, 1, 1, 1], padding="SAME"), "batch and depth"),
    (dict(strides=[1, 1, 1], padding="SAME"), "4 elements"),
    (dict(strides=[1, 1, 1, 1], padding="SAME", data_format="NCHW"), "NCHW"),
    (dict(strides=[1, 1, 1, 1], padding="VALID", filter_hw=(9, 3)), "Negative dimension"),
])
def test_bad_conv_arguments(kwargs, match):
    kh, kw = kwargs.pop("filter_hw", (3, 3))
    x = tf.placeholder(tf.float32, [2, 8, 8, 3])
    f = tf.placeholder(tf.float32, [kh, kw, 3, 5])
    with pytest.raises(ValueError, match=match):
        tf.nn.conv2d(x, f, **kwargs)


def test_integer_conv_is_type_error_and_pool_depth_is_value_error():
    x = tf.placeholder(tf.int32, [1, 4, 4, 1])
    with pytest.raises(TypeError, match="floating"):
        tf.nn.conv2d(x, tf.placeholder(tf.int32, [1, 1, 1, 1]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="batch and depth"):
        tf.nn.max_pool(tf.placeholder(tf.float32, [1, 4, 4, 2]), [1, 2, 2, 2], [1, 2, 2, 1],
                       "SAME")


def test_out_backprop_shape_mismatch_is_value_error():
    f = tf.placeholder(tf.float32, [3, 3, 2, 4])
    dy = tf.placeholder(tf.float32, [1, 5, 5, 4])
    with pytest.raises(ValueError, match=r"out_backprop shape \[1, 5, 5, 4\].*\[1, 3, 3, 4\]"):
        tf.nn.conv2d_backprop_input([1, 6, 6, 2], f, dy, [1, 2, 2, 1], "SAME")


def test_reference_geometry_agrees_with_tf_formulas():
    # SAME: ceil(in / stride); VALID: ceil((in - k + 1) / stride).
    assert ref_out_shape((1, 7, 28, 1), 5, 5, 1, (1, 2, 3, 1), "SAME") == (1, 4, 10, 1)
    assert ref_out_shape((1, 7, 28, 1), 5, 5, 1, (1, 2, 3, 1), "VALID") == (1, 2, 8, 1)


def test_max_pool_grad_with_fed_output_ignores_stale_argmax():
    r = np.random.default_rng(0)
    x = tf.placeholder(tf.float64, [None, 6, 6, 2])
    y = tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    dy = r.standard_normal((3, 3, 3, 2))
    g = tf.gradients(y, x, grad_ys=tf.constant(dy))[0]
    a, b = r.standard_normal((3, 6, 6, 2)), r.standard_normal((3, 6, 6, 2))
    with tf.Session() as sess:
        sess.run(y, {x: a})  # leaves a's argmax behind, never consumed
        yb = ref_pool(b, [1, 2, 2, 1], [1, 2, 2, 1], "VALID", np.max)
        got = sess.run(g, {x: b, y: yb})  # MaxPool pruned: its output is fed
    np.testing.assert_allclose(got, ref_max_pool_grad(b, dy, [1, 2, 2, 1], [1, 2, 2, 1],
                                                       "VALID"), atol=1e-12)


def test_keep_heap_respects_user_malloc_settings(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert numpy_kernels.keep_heap() is False
