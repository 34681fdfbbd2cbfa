"""Winograd convolutions F(m x m, r x r) for stride-1 square filters on the CPU (NumPy).

Why: the im2col-GEMM kernels are bound by OpenBLAS's sgemm (~110-150 GFLOPS on one core here),
while TensorFlow's oneDNN direct convolution reaches ~175 GFLOPS on the same layers, so the
multiplication count has to drop. Winograd's minimal filtering (Lavin & Gray 2015) computes an
m x m output tile from an alpha x alpha input tile (alpha = m + r - 1) with alpha^2 products
per channel pair instead of m^2 r^2: 4x fewer for F(4x4, 3x3), 4.6x for F(5x5, 3x3), 6.25x
for F(4x4, 5x5), less the partial tiles at the maps' edges.

    Y = A^T [ (G g G^T) . (B^T d B) ] A            per tile d, summed over input channels,

which for each of the alpha^2 transform positions is one (tiles x cin) @ (cin x cout) GEMM:
all of them are one batched `np.matmul`. The filter gradient is the exact adjoint with the
same matrices: dU = V^T @ M per position, V = B^T d B (tiles x cin), M = A dY A^T
(tiles x cout), dg = G^T dU G. The input gradient of a stride-1 convolution is a forward
convolution of dY (numpy_kernels' `as_correlation` sets it up), so `conv2d` serves it too.

The transform matrices come from the Cook-Toom construction (`cook_toom`) on the points
0, 1, -1, 2, -2, 1/2, -1/2, ... and infinity, computed exactly in fractions for any (m, r).
Every separable transform ("sandwich" P X P^T over two tile axes) is two GEMMs on a layout
whose two tile axes lead, so no transpose is ever copied beyond the tile gather itself. Images
go through in blocks (of images, or of tile rows of one large image) whose transformed tiles fit
in ``BLOCK_BYTES`` (cache-sized).

Which tile per filter size, and when the im2col path stays faster, is numpy_kernels' measured
dispatch rule. Measured (`benchmarks/conv_kernels.py`, one thread, float32), Winograd over
im2col-GEMM in all three passes: 1.3-1.5x on 13x13 and 14x14 maps with 192-512 channels
(AlexNet conv3-5, VGG conv5), 1.5-2.0x on the book's CNN conv2 and VGG conv4, 2.0-3.0x on
AlexNet conv2, VGG conv1-3 and the CIFAR CNN conv2 (120-300 GFLOPS-equivalent), at float32
relative errors of 3e-6 to 2.2e-5 against float64 (im2col: 3-8e-7). The transforms, small-K GEMMs
(K = alpha) that OpenBLAS runs at ~30 GFLOPS, take about half the time on 32-64 channels.
"""
from __future__ import annotations

import functools
import itertools
from fractions import Fraction

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["BLOCK_BYTES", "conv2d", "conv2d_backprop_filter", "cook_toom", "transforms"]

#: Bytes of transformed input tiles (alpha^2 x tiles x cin) one block holds: 0.5-1 MB were
#: fastest on AlexNet conv2 and the CIFAR CNN conv2 (16 MB: 1.7x slower there).
BLOCK_BYTES = 1 << 20

#: Filter weights (cin x cout) per tile of a block, at most, whatever BLOCK_BYTES says: each
#: GEMM streams its (cin x cout) matrix once per block, so with many channels and small maps
#: (AlexNet conv3-5) short GEMMs lose more than the cache gains.
WEIGHTS_PER_TILE = 384


def _points(count: int) -> list:
    """The first `count` finite Cook-Toom points: 0, 1, -1, 2, -2, 1/2, -1/2, 3, -3, ..."""
    pts = [Fraction(0)]
    for k in itertools.count(1):
        for p in (Fraction(k), Fraction(1, k)) if k > 1 else (Fraction(1),):
            pts.extend((p, -p))
        if len(pts) >= count:
            return pts[:count]


def _poly_mul(a: list, b: list) -> list:
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def _poly_from_roots(roots: list) -> list:
    """Coefficients (lowest degree first) of prod (x - root)."""
    poly = [Fraction(1)]
    for root in roots:
        poly = _poly_mul(poly, [-root, Fraction(1)])
    return poly


def cook_toom(m: int, r: int) -> tuple:
    """Exact Winograd transforms of the 1-D correlation F(m, r), as lists of Fraction rows.

    For output y_i = sum_j g_j d_{i+j} (i < m, j < r) over alpha = m + r - 1 inputs,
    y = A^T [(G g) . (B^T d)]. This is the transpose of the Cook-Toom linear convolution of an
    m-term and an r-term polynomial evaluated at alpha - 1 finite points p_k and at infinity:
    A[k] = (p_k^i)_i, G[k] = (p_k^j / prod_{l != k} (p_k - p_l))_j, and row k of B^T holds the
    coefficients of prod_{l != k} (x - p_l); the infinity row picks leading coefficients
    (A, G) and holds prod_l (x - p_l) (B^T).

    Args:
        m: output tile size, >= 1.
        r: filter size, >= 1.

    Returns:
        (AT, G, BT): m x alpha, alpha x r and alpha x alpha matrices as nested lists.

    Raises:
        ValueError: m or r below 1.
    """
    if m < 1 or r < 1:
        raise ValueError(f"cook_toom: m and r must be >= 1, got m={m}, r={r}")
    alpha = m + r - 1
    pts = _points(alpha - 1)
    zero, one = Fraction(0), Fraction(1)
    a_rows, g_rows, bt_rows = [], [], []
    for k, p in enumerate(pts):
        others = pts[:k] + pts[k + 1:]
        scale = one
        for q in others:
            scale *= p - q
        a_rows.append([p ** i for i in range(m)])
        g_rows.append([p ** j / scale for j in range(r)])
        bt_rows.append(_poly_from_roots(others) + [zero])
    a_rows.append([zero] * (m - 1) + [one])
    g_rows.append([zero] * (r - 1) + [one])
    bt_rows.append(_poly_from_roots(pts))
    at = [list(col) for col in zip(*a_rows)]
    return at, g_rows, bt_rows


@functools.lru_cache(maxsize=None)
def transforms(m: int, r: int, dtype: str) -> tuple:
    """(AT, G, BT) of F(m, r) as read-only C-contiguous arrays of `dtype` (see `cook_toom`)."""
    mats = tuple(np.array([[float(v) for v in row] for row in mat], dtype=dtype)
                 for mat in cook_toom(m, r))
    for mat in mats:
        mat.flags.writeable = False
    return mats


def _sandwich(mat: np.ndarray, arr: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """mat X mat^T for every X = arr[:, :, k] (arr: (q, q, ...) contiguous) -> (p, p, rest).

    Two GEMMs with the tile axes leading, so no transpose is copied: one (p x q) @ (q x N)
    product contracts axis 0 and p or q batched (p x q) products axis 1. Batched-first for
    square and shrinking transforms (B^T, A^T, G^T) made the forward 1-12% faster on the
    benchmarked layers; for expanding ones (G, A) it was 3-7% slower, so they go GEMM-first.
    `out`, if given, must be contiguous.
    """
    p, q = mat.shape
    if p > q:
        half = np.matmul(mat, arr.reshape(q, -1)).reshape(p, q, -1)
        return np.matmul(mat, half, out=None if out is None else out.reshape(p, p, -1))
    half = np.matmul(mat, arr.reshape(q, q, -1))
    res = np.matmul(mat, half.reshape(q, -1), out=None if out is None else out.reshape(p, -1))
    return res.reshape(p, p, -1)


def _prefix(buf: np.ndarray, shape: tuple) -> np.ndarray:
    """A contiguous `shape` view of the start of a flat work buffer (partial blocks included)."""
    return buf[:int(np.prod(shape))].reshape(shape)


def _tiles(xpad: np.ndarray, m: int, alpha: int, th: int, tw: int) -> np.ndarray:
    """Read-only (alpha, alpha, n, th, tw, c) view of the overlapping input tiles."""
    s_n, s_h, s_w, s_c = xpad.strides
    return as_strided(xpad, (alpha, alpha, xpad.shape[0], th, tw, xpad.shape[3]),
                      (s_h, s_w, s_n, m * s_h, m * s_w, s_c), writeable=False)


class _Tiling:
    """Tile counts, blocks and per-block buffers of one convolution geometry.

    A block is (b0, b1, r0, r1): tile rows r0..r1 of images b0..b1. Blocks hold whole images
    while one image's transformed tiles fit in BLOCK_BYTES, else tile rows of one image (VGG's
    224x224 maps: 29 MB per image at 64 channels).
    """

    def __init__(self, g, m: int, r: int, itemsize: int, co: int) -> None:
        self.m, self.alpha = m, m + r - 1
        self.th, self.tw = -(-g.ho // m), -(-g.wo // m)
        per_row = self.alpha ** 2 * self.tw * g.c * itemsize
        min_tiles = -(-g.c * co // WEIGHTS_PER_TILE)
        by_bytes = BLOCK_BYTES // per_row
        if by_bytes >= self.th:
            self.rows = self.th
            self.step = max(1, min(g.n, max(by_bytes // self.th,
                                            -(-min_tiles // (self.th * self.tw)))))
        else:
            self.step = 1
            self.rows = max(1, min(self.th, max(by_bytes, -(-min_tiles // self.tw))))
        # Rows/columns the tiles read: enough for th*m outputs, the input at offset (pt, pl).
        self.pad_shape = (self.th * m + r - 1, self.tw * m + r - 1)

    def blocks(self, n: int):
        return [(b0, min(n, b0 + self.step), r0, min(self.th, r0 + self.rows))
                for b0 in range(0, n, self.step) for r0 in range(0, self.th, self.rows)]

    @property
    def tiles(self) -> int:
        """Tiles in a full block."""
        return self.step * self.rows * self.tw

    def buffers(self, g, dtype):
        """A zero-bordered padded-input buffer, and flat ones for a block's gathered and
        transformed tiles."""
        xpad = np.zeros((self.step, *self.pad_shape, g.c), dtype)
        flat = self.alpha ** 2 * self.tiles * g.c
        return xpad, np.empty(flat, dtype), np.empty(flat, dtype)

    def input_transform(self, x, g, bt, block, xpad, gathered, v):
        """V = B^T d B of every tile of `block` into v: (alpha, alpha, tiles, c)."""
        b0, b1, r0, r1 = block
        nb, nr = b1 - b0, r1 - r0
        xp = xpad[:nb]
        if r0 == 0:
            xp[:, g.pt:g.pt + g.h, g.pl:g.pl + g.w] = x[b0:b1]
        a = self.alpha
        gat = _prefix(gathered, (a, a, nb, nr, self.tw, g.c))
        np.copyto(gat, _tiles(xp[:, r0 * self.m:], self.m, a, nr, self.tw))
        vb = _prefix(v, (a, a, nb * nr * self.tw, g.c))
        _sandwich(bt, gat, out=vb)
        return vb


def conv2d(x: np.ndarray, f: np.ndarray, g, m: int) -> np.ndarray:
    """Stride-1, undilated 2-D correlation of NHWC `x` with HWIO `f` by Winograd F(m, r).

    Args:
        x: input (n, h, w, c).
        f: filter (r, r, c, co), square.
        g: the convolution's `actorflow.ops.conv.Geometry` (padding and output size; stride
            and dilation 1).
        m: output tile size.

    Returns:
        (n, ho, wo, co) array of x's dtype.

    Raises:
        ValueError: a non-square filter, or a stride or dilation other than 1.
    """
    r = _check(g, f.shape)
    co = f.shape[3]
    at, gm, bt = transforms(m, r, x.dtype.name)
    tl = _Tiling(g, m, r, x.dtype.itemsize, co)
    a2 = tl.alpha ** 2
    u = _sandwich(gm, np.ascontiguousarray(f)).reshape(a2, g.c, co)
    out = np.empty((g.n, g.ho, g.wo, co), x.dtype)
    xpad, gathered, v = tl.buffers(g, x.dtype)
    prod = np.empty(a2 * tl.tiles * co, x.dtype)
    for block in tl.blocks(g.n):
        b0, b1, r0, r1 = block
        vb = tl.input_transform(x, g, bt, block, xpad, gathered, v)
        pb = _prefix(prod, (a2, vb.shape[2], co))
        np.matmul(vb.reshape(a2, -1, g.c), u, out=pb)
        y = _sandwich(at, pb.reshape(tl.alpha, tl.alpha, -1))
        _untile(out, y.reshape(m, m, b1 - b0, r1 - r0, tl.tw, co).transpose(2, 3, 0, 4, 1, 5),
                block, m)
    return out


def _untile(out: np.ndarray, y: np.ndarray, block: tuple, m: int) -> None:
    """Writes a block's output tiles y (images, tile rows, m, tile columns, m, co) into out
    (n, ho, wo, co), dropping what lies past the output's edges.

    Straight into the output, in up to four rectangles (whole tiles, the last tile row and
    column where they are partial): no padded output and no cropping copy, which on VGG's
    224x224 layers were a 100 MB temporary each call.
    """
    b0, b1, r0, r1 = block
    ho, wo = out.shape[1:3]
    rf, cf, tw = min(r1, ho // m), wo // m, y.shape[3]
    row_groups = [(a, b, h) for a, b, h in ((r0, rf, m), (rf, r1, ho - rf * m))
                  if b > a]
    col_groups = [(a, b, w) for a, b, w in ((0, cf, m), (cf, tw, wo - cf * m)) if b > a]
    for ta, tb, h in row_groups:
        for ca, cb, w in col_groups:
            dst = out[b0:b1, ta * m:ta * m + (tb - ta) * h, ca * m:ca * m + (cb - ca) * w]
            np.copyto(dst.reshape(b1 - b0, tb - ta, h, cb - ca, w, out.shape[3]),
                      y[:, ta - r0:tb - r0, :h, ca:cb, :w])


def conv2d_backprop_filter(x: np.ndarray, dy: np.ndarray, g, r: int, m: int) -> np.ndarray:
    """Filter gradient (r, r, c, co) of a stride-1 `conv2d` by Winograd F(m, r).

    Args:
        x: the convolution's input (n, h, w, c).
        dy: gradient of its output (n, ho, wo, co).
        g: the convolution's Geometry (stride and dilation 1, square r x r filter).
        r: filter size.
        m: output tile size.

    Returns:
        (r, r, c, co) array of x's dtype.

    Raises:
        ValueError: a non-square filter, or a stride or dilation other than 1.
    """
    _check(g, (r, r))
    co = dy.shape[3]
    at, gm, bt = transforms(m, r, x.dtype.name)
    a_mat = np.ascontiguousarray(at.T)
    tl = _Tiling(g, m, r, x.dtype.itemsize, co)
    a2, th, tw = tl.alpha ** 2, tl.th, tl.tw
    exact = (th * m, tw * m) == (g.ho, g.wo)
    dypad = None if exact else np.zeros((tl.step, th * m, tw * m, co), dy.dtype)
    dyt = np.empty(m * m * tl.tiles * co, dy.dtype)
    xpad, gathered, v = tl.buffers(g, x.dtype)
    du = part = None
    for block in tl.blocks(g.n):
        b0, b1, r0, r1 = block
        nb, nr = b1 - b0, r1 - r0
        vb = tl.input_transform(x, g, bt, block, xpad, gathered, v)
        if exact:
            dyb = dy[b0:b1]
        else:
            dyb = dypad[:nb]
            if r0 == 0:
                dyb[:, :g.ho, :g.wo] = dy[b0:b1]
        tiles = _prefix(dyt, (m, m, nb, nr, tw, co))
        np.copyto(tiles, dyb[:, r0 * m:r1 * m].reshape(nb, nr, m, tw, m, co)
                  .transpose(2, 4, 0, 1, 3, 5))
        mb = _sandwich(a_mat, tiles).reshape(a2, -1, co)
        vt = vb.reshape(a2, -1, g.c).transpose(0, 2, 1)
        if du is None:
            du = np.matmul(vt, mb)
        else:
            if part is None:
                part = np.empty_like(du)
            du += np.matmul(vt, mb, out=part)
    return _sandwich(np.ascontiguousarray(gm.T), du.reshape(tl.alpha, tl.alpha, -1)) \
        .reshape(r, r, g.c, co)


def _check(g, f_shape) -> int:
    if f_shape[0] != f_shape[1] or (g.kh, g.kw) != tuple(f_shape[:2]):
        raise ValueError(f"winograd: needs a square filter matching the geometry, got filter "
                         f"{tuple(f_shape)} and window {g.kh}x{g.kw}")
    if (g.sh, g.sw, g.dh, g.dw) != (1, 1, 1, 1):
        raise ValueError(f"winograd: needs strides and dilations 1, got strides "
                         f"{(g.sh, g.sw)} and dilations {(g.dh, g.dw)}")
    return f_shape[0]
