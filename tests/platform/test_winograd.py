"""Winograd convolutions: exact transforms, the three passes against direct-loop float64
references and the generic `xp` kernels, the dispatch rule, and gradients through a session."""
from __future__ import annotations

import types
from fractions import Fraction

import numpy as np
import pytest

import actorflow as tf
from actorflow.framework import registry
from actorflow.kernels import numpy_kernels, winograd
from actorflow.ops import conv as conv_ops

from .op_cases.conv import (ref_conv2d, ref_conv2d_backprop_filter, ref_conv2d_backprop_input,
                            ref_out_shape)

TILES = [(2, 3), (4, 3), (5, 3), (6, 3), (2, 5), (4, 5)]
CASES = [  # (x shape, r, co, padding, m)
    ((1, 7, 9, 3), 3, 5, "SAME", 4),
    ((2, 13, 11, 33), 3, 1, "VALID", 4),
    ((1, 6, 5, 1), 3, 70, "SAME", 2),
    ((3, 9, 9, 8), 3, 6, "SAME", 6),
    ((2, 14, 13, 5), 5, 7, "SAME", 4),
    ((2, 13, 12, 34), 3, 9, "SAME", 5),
    ((1, 11, 8, 70), 5, 3, "VALID", 2),
    ((2, 5, 5, 4), 5, 4, "SAME", 4),  # one tile larger than the image
]
IDS = [f"{c[3]}-x{'x'.join(map(str, c[0]))}-r{c[1]}-co{c[2]}-m{c[4]}" for c in CASES]


def _exact_1d(m, r, d, g):
    at, gm, bt = winograd.cook_toom(m, r)
    gd = [sum(row[j] * g[j] for j in range(r)) for row in gm]
    bd = [sum(row[j] * d[j] for j in range(len(d))) for row in bt]
    return [sum(at[i][k] * gd[k] * bd[k] for k in range(len(d))) for i in range(m)]


@pytest.mark.parametrize("m,r", TILES)
def test_transforms_compute_the_1d_correlation_exactly(m, r):
    rng = np.random.default_rng(m * 10 + r)
    for _ in range(3):
        d = [Fraction(int(v)) for v in rng.integers(-50, 50, m + r - 1)]
        g = [Fraction(int(v), int(rng.integers(1, 9))) for v in rng.integers(-50, 50, r)]
        want = [sum(g[j] * d[i + j] for j in range(r)) for i in range(m)]
        assert _exact_1d(m, r, d, g) == want
    at, gm, bt = winograd.transforms(m, r, "float64")
    assert at.shape == (m, m + r - 1) and gm.shape == (m + r - 1, r)
    assert bt.shape == (m + r - 1,) * 2
    exact = winograd.cook_toom(m, r)
    for mat, rows in zip((at, gm, bt), exact):
        np.testing.assert_array_equal(mat, np.array(rows, dtype=float))


def test_known_f23_transforms_up_to_row_signs():
    at, gm, bt = winograd.transforms(2, 3, "float64")
    np.testing.assert_array_equal(at, [[1, 1, 1, 0], [0, 1, -1, 1]])
    # Lavin & Gray's B^T and G, with rows 0 of both negated (the product is unchanged).
    np.testing.assert_array_equal(bt, [[-1, 0, 1, 0], [0, 1, 1, 0], [0, -1, 1, 0],
                                       [0, -1, 0, 1]])
    np.testing.assert_array_equal(gm, [[-1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]])


def test_cook_toom_rejects_empty_sizes():
    with pytest.raises(ValueError, match="m=0"):
        winograd.cook_toom(0, 3)


def _rel_err(got, want):
    return np.abs(got - want).max() / np.abs(want).max()


def _graph(x_shape, r, co, padding):
    """Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter ops of one geometry."""
    dy_shape = ref_out_shape(x_shape, r, r, co, (1, 1, 1, 1), padding)
    kw = dict(strides=[1, 1, 1, 1], padding=padding)
    x = tf.placeholder(tf.float64, x_shape)
    f = tf.placeholder(tf.float64, (r, r, x_shape[3], co))
    dy = tf.placeholder(tf.float64, dy_shape)
    return (tf.nn.conv2d(x, f, **kw).op,
            tf.nn.conv2d_backprop_input(list(x_shape), f, dy, **kw).op,
            tf.nn.conv2d_backprop_filter(x, [r, r, x_shape[3], co], dy, **kw).op)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_passes_match_direct_loop_and_generic_kernel(case):
    x_shape, r, co, padding, m = case
    rng = np.random.default_rng(sum(x_shape) + r + co)
    x = rng.standard_normal(x_shape)
    f = rng.standard_normal((r, r, x_shape[3], co))
    dy = rng.standard_normal(ref_out_shape(x_shape, r, r, co, (1, 1, 1, 1), padding))
    s = (1, 1, 1, 1)
    want = [ref_conv2d(x, f, s, padding), ref_conv2d_backprop_input(x_shape, f, dy, s, padding),
            ref_conv2d_backprop_filter(x, f.shape, dy, s, padding)]
    ops = _graph(x_shape, r, co, padding)
    ctx = types.SimpleNamespace(xp=np, device_type="CPU", session=None)
    generic_ctx = types.SimpleNamespace(xp=np, device_type="GPU")
    forced = (lambda g, dtype: m)
    makers = (numpy_kernels._conv2d, numpy_kernels._conv2d_backprop_input,
              numpy_kernels._conv2d_backprop_filter)
    sizes = [np.array(x_shape, np.int32), np.array(f.shape, np.int32)]
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-4)):
        xs, fs, dys = (a.astype(dtype) for a in (x, f, dy))
        args = [(xs, fs), (sizes[0], fs, dys), (xs, sizes[1], dys)]
        for op, make, a, ref in zip(ops, makers, args, want):
            got = make(op, ctx, rule=forced)(*a)
            generic = registry.get_op_def(op.type).kernel(op, generic_ctx)(*a)
            assert got.dtype == dtype and got.shape == ref.shape, op.type
            assert _rel_err(got, ref) < tol, (op.type, dtype)
            assert _rel_err(got, generic) < tol, (op.type, dtype)


@pytest.mark.parametrize("r,m", [(3, 4), (3, 5), (5, 4)])
def test_float32_error_of_the_chosen_tiles_on_a_deep_layer(r, m):
    """The tiles numpy_kernels picks stay ~1e-5 relative in float32 at 256 input channels."""
    rng = np.random.default_rng(r)
    x = rng.standard_normal((2, 12, 12, 256))
    f = rng.standard_normal((r, r, 256, 8))
    g = conv_ops.geometry(x.shape, r, r, [1] * 4, [1] * 4, "SAME")
    want = ref_conv2d(x, f, (1, 1, 1, 1), "SAME")
    got = winograd.conv2d(x.astype(np.float32), f.astype(np.float32), g, m)
    assert _rel_err(got, want) < 5e-5


def _geom(shape, k, strides=(1, 1, 1, 1), dilations=(1, 1, 1, 1), padding="SAME"):
    return conv_ops.geometry(shape, k[0], k[1], strides, dilations, padding)


def test_dispatch_rule():
    rule = numpy_kernels.winograd_tile
    assert rule(_geom((8, 28, 28, 64), (3, 3)), np.float32) == 4  # 36 * 7^2 = 49 * 6^2: tie
    assert rule(_geom((8, 13, 13, 192), (3, 3)), np.float32) == 5  # 49 * 3^2 < 36 * 4^2
    assert rule(_geom((8, 224, 224, 64), (3, 3)), np.float32) == 5
    assert rule(_geom((8, 14, 14, 32), (5, 5)), np.float32) == 4
    assert rule(_geom((1, 7, 7, 512), (3, 3)), np.float64) == 4  # 36 * 2^2 < 49 * 2^2
    assert rule(_geom((1, 7, 7, 512), (3, 3), padding="VALID"), np.float64) == 5  # one tile
    assert rule(_geom((8, 28, 28, 3), (3, 3)), np.float32) is None  # few channels in
    assert rule(_geom((8, 24, 24, 64), (5, 5)), np.float32) == 4  # CIFAR conv1's dx
    assert rule(_geom((8, 28, 28, 64), (3, 3), strides=(1, 2, 2, 1)), np.float32) is None
    assert rule(_geom((8, 28, 28, 64), (3, 3), dilations=(1, 2, 2, 1)), np.float32) is None
    assert rule(_geom((8, 28, 28, 64), (3, 5)), np.float32) is None
    assert rule(_geom((8, 28, 28, 64), (1, 1)), np.float32) is None
    assert rule(_geom((8, 28, 28, 64), (7, 7)), np.float32) is None
    assert rule(_geom((8, 28, 28, 64), (3, 3)), np.float16) is None


def test_session_routes_to_winograd_and_gradients_match(monkeypatch):
    calls = []
    for name in ("conv2d", "conv2d_backprop_filter"):
        real = getattr(winograd, name)
        monkeypatch.setattr(winograd, name,
                            lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    rng = np.random.default_rng(3)
    x_val = rng.standard_normal((2, 9, 7, 32))
    f_val = rng.standard_normal((3, 3, 32, 33)) * 0.1
    x = tf.constant(x_val)
    f = tf.Variable(f_val)
    y = tf.nn.conv2d(x, f, [1, 1, 1, 1], "SAME")
    loss = tf.reduce_sum(y * y) / 2
    dx, df = tf.gradients(loss, [x, f])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_y, got_dx, got_df = sess.run([y, dx, df])
    s = (1, 1, 1, 1)
    want_y = ref_conv2d(x_val, f_val, s, "SAME")
    np.testing.assert_allclose(got_y, want_y, atol=1e-10)
    np.testing.assert_allclose(got_dx, ref_conv2d_backprop_input(x_val.shape, f_val, want_y, s,
                                                                 "SAME"), atol=1e-10)
    np.testing.assert_allclose(got_df, ref_conv2d_backprop_filter(x_val, f_val.shape, want_y, s,
                                                                  "SAME"), atol=1e-10)
    assert sorted(calls) == ["conv2d", "conv2d", "conv2d_backprop_filter"]


def test_rejects_strided_or_non_square_geometry():
    x = np.zeros((1, 8, 8, 2))
    with pytest.raises(ValueError, match="strides"):
        winograd.conv2d(x, np.zeros((3, 3, 2, 2)), _geom(x.shape, (3, 3), (1, 2, 2, 1)), 2)
    with pytest.raises(ValueError, match="square"):
        winograd.conv2d(x, np.zeros((3, 5, 2, 2)), _geom(x.shape, (3, 5)), 2)


@pytest.mark.parametrize("block_bytes,blocks", [(1, "tile rows"), (16 << 10, "images")])
def test_blocks_of_rows_and_images_match_one_block(monkeypatch, block_bytes, blocks):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 11, 10, 3))
    f = rng.standard_normal((3, 3, 3, 4))
    g = _geom(x.shape, (3, 3))
    dy = rng.standard_normal((5, 11, 10, 4))
    want = winograd.conv2d(x, f, g, 4), winograd.conv2d_backprop_filter(x, dy, g, 3, 4)
    monkeypatch.setattr(winograd, "BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(winograd, "WEIGHTS_PER_TILE", 1 << 30)
    tiling = winograd._Tiling(g, 4, 3, 8, 4)
    # 3 tile rows of 3 tiles: one row per block, or 2 images per block (the last one short).
    assert len(tiling.blocks(5)) == (15 if blocks == "tile rows" else 3)
    got = winograd.conv2d(x, f, g, 4), winograd.conv2d_backprop_filter(x, dy, g, 3, 4)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, atol=1e-12)
