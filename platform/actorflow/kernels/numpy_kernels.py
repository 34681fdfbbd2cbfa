"""CPU (NumPy) kernels that benchmarks/cnn_step.py showed to pay over the generic `xp` ones.

Convolutions: im2col is one strided copy (`as_strided` over the padded input, windows in the
filter's (kh, kw, c) order) into a reused buffer, followed by one big GEMM; inputs too big for
one buffer (``CHUNK_BYTES``) are processed a block of images at a time, which bounds memory on
e.g. a 10,000-image evaluation batch. The input gradient is a batched GEMM giving one
contiguous (rows, c) block per window position, then a scatter-add of each block through
clipped index ranges (no padded buffer, long contiguous inner loops).

Pooling: MaxPoolGrad with non-overlapping windows writes each window position's share straight
into the output instead of accumulating.

Work buffers are owned by one call at a time (taken from and returned to a per-kernel free
list with atomic list operations), so concurrent runs of one plan stay correct.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..framework.registry import get_op_def, register_kernel
from ..ops import conv as _conv

__all__ = ["CHUNK_BYTES"]

#: Largest im2col block (bytes) a convolution kernel materialises at once.
CHUNK_BYTES = 64 << 20


class _Buffers:
    """Work buffers reused across calls of one kernel.

    `take` pops a free buffer of the wanted shape (or makes one, filled with `fill` when
    given: padded inputs keep their zero borders because only the interior is rewritten);
    `give` returns it.
    """

    def __init__(self, fill=None) -> None:
        self._free: list = []
        self._fill = fill

    def take(self, shape: tuple, dtype) -> np.ndarray:
        try:
            buf = self._free.pop()
        except IndexError:
            buf = None
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.empty(shape, dtype) if self._fill is None else \
                np.full(shape, self._fill, dtype)
        return buf

    def give(self, buf: np.ndarray) -> None:
        self._free.append(buf)


def _windows(xpad: np.ndarray, g: _conv.Geometry) -> np.ndarray:
    """Read-only (n, ho, wo, kh, kw, c) view of every window of a padded input."""
    s_n, s_h, s_w, s_c = xpad.strides
    return as_strided(xpad, (xpad.shape[0], g.ho, g.wo, g.kh, g.kw, g.c),
                      (s_n, s_h * g.sh, s_w * g.sw, s_h * g.dh, s_w * g.dw, s_c),
                      writeable=False)


def _blocks(g: _conv.Geometry, itemsize: int):
    """Image ranges [b0, b1) whose im2col fits in CHUNK_BYTES (at least one image each)."""
    per_image = g.ho * g.wo * g.kh * g.kw * g.c * itemsize
    step = max(1, min(g.n, CHUNK_BYTES // max(per_image, 1)))
    return [(b0, min(g.n, b0 + step)) for b0 in range(0, g.n, step)], step


class _Im2col:
    """Padded-input and column buffers of one convolution kernel."""

    def __init__(self) -> None:
        self.pads = _Buffers(fill=0)
        self.cols = _Buffers()

    def padded(self, x: np.ndarray, g: _conv.Geometry) -> np.ndarray:
        """x inside a reused zero-bordered buffer (x itself when unpadded); give() it back."""
        if not g.padded:
            return x
        xpad = self.pads.take(g.padded_shape, x.dtype)
        xpad[:, g.pt:g.pt + g.h, g.pl:g.pl + g.w, :] = x
        return xpad

    def release(self, x: np.ndarray, xpad: np.ndarray) -> None:
        if xpad is not x:
            self.pads.give(xpad)

    def each_block(self, x: np.ndarray, g: _conv.Geometry):
        """Yields (b0, b1, col) with col the (rows, kh*kw*c) im2col of images b0..b1."""
        if g.kh == g.kw == g.sh == g.sw == 1 and not g.padded:
            yield 0, g.n, x.reshape(g.n * g.h * g.w, g.c)
            return
        xpad = self.padded(x, g)
        win = _windows(xpad, g)
        blocks, step = _blocks(g, x.dtype.itemsize)
        buf = self.cols.take((step, g.ho, g.wo, g.kh, g.kw, g.c), x.dtype)
        try:
            for b0, b1 in blocks:
                part = buf[:b1 - b0]
                np.copyto(part, win[b0:b1])
                yield b0, b1, part.reshape((b1 - b0) * g.ho * g.wo, -1)
        finally:
            self.cols.give(buf)
            self.release(x, xpad)


def _conv2d(op, ctx):
    geom = _conv.conv_geometry_getter(op)
    im2col = _Im2col()

    def conv2d(x, f):
        g = geom(x.shape, f.shape)
        co = f.shape[3]
        f2 = f.reshape(-1, co)
        rows = g.ho * g.wo
        out = np.empty((g.n * rows, co), dtype=x.dtype)
        for b0, b1, col in im2col.each_block(x, g):
            np.matmul(col, f2, out=out[b0 * rows:b1 * rows])
        return out.reshape(g.n, g.ho, g.wo, co)
    return conv2d


def _conv2d_backprop_filter(op, ctx):
    geom = _conv.conv_geometry_getter(op)
    im2col = _Im2col()

    def conv2d_backprop_filter(x, sizes, dy):
        fs = _conv._host_ints(sizes)
        g = geom(x.shape, fs)
        co = fs[3]
        rows = g.ho * g.wo
        dy2 = dy.reshape(-1, co)
        df = part = None
        for b0, b1, col in im2col.each_block(x, g):
            if df is None:
                df = np.matmul(col.T, dy2[b0 * rows:b1 * rows])
            else:
                if part is None:
                    part = np.empty_like(df)
                df += np.matmul(col.T, dy2[b0 * rows:b1 * rows], out=part)
        return df.reshape(fs)
    return conv2d_backprop_filter


def _conv2d_backprop_input(op, ctx):
    geom = _conv.conv_geometry_getter(op)
    blocks_buf = _Buffers()

    def conv2d_backprop_input(sizes, f, dy):
        g = geom(_conv._host_ints(sizes), f.shape)
        co = f.shape[3]
        rows = g.ho * g.wo
        # (kh*kw, co, c): one GEMM per window position, each giving a contiguous block.
        ft = f.reshape(g.kh * g.kw, g.c, co).transpose(0, 2, 1)
        dy2 = dy.reshape(-1, co)
        dx = np.zeros((g.n, g.h, g.w, g.c), dtype=dy.dtype)
        blocks, step = _blocks(g, dy.dtype.itemsize)
        buf = blocks_buf.take((g.kh * g.kw, step * rows, g.c), dy.dtype)
        try:
            for b0, b1 in blocks:
                m = (b1 - b0) * rows
                part = buf[:, :m] if m != buf.shape[1] else buf
                np.matmul(dy2[b0 * rows:b1 * rows], ft, out=part)
                dxb = dx[b0:b1]
                for (i, j), dst, src in _conv.clipped_taps(g):
                    k = i * g.kw + j
                    dxb[dst] += part[k].reshape(b1 - b0, g.ho, g.wo, g.c)[src]
        finally:
            blocks_buf.give(buf)
        return dx
    return conv2d_backprop_input


def _max_pool_grad(op, ctx):
    generic = get_op_def("MaxPoolGrad").kernel(op, ctx)
    geom = _conv.pool_geometry_getter(op)

    def max_pool_grad(x, y, dy):
        g = geom(x.shape)
        if g.padded or g.kh > g.sh or g.kw > g.sw:
            return generic(x, y, dy)
        # Non-overlapping windows: each input element belongs to at most one window.
        dx = np.zeros(x.shape, dtype=dy.dtype)
        for (i, j), hit in _conv.first_max_masks(np, x, y, g):
            np.multiply(dy, hit, out=_conv.tap(dx, g, i, j))
        return dx
    return max_pool_grad


register_kernel("Conv2D", "CPU", _conv2d)
register_kernel("Conv2DBackpropFilter", "CPU", _conv2d_backprop_filter)
register_kernel("Conv2DBackpropInput", "CPU", _conv2d_backprop_input)
register_kernel("MaxPoolGrad", "CPU", _max_pool_grad)
