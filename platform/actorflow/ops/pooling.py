"""Max and average pooling (NHWC, TF 1.x semantics; window geometry from ops/conv.py).

Registers: MaxPool, MaxPoolGrad, AvgPool, AvgPoolGrad. MaxPoolGrad routes each window's
gradient to the first maximum of the window in row-major order, as TensorFlow's CPU kernel
does. AvgPool with SAME padding divides by the number of real (non-padding) elements of each
window. MaxPoolGrad is not differentiable; AvgPoolGrad's gradient is AvgPool again.

The generic kernels below are written against ``ctx.xp``; the CPU overrides of MaxPool and
MaxPoolGrad (and of the convolutions) live in `actorflow.kernels.numpy_kernels`, which the
package imports once every op family has registered its ops.
"""
from __future__ import annotations

import functools

import numpy as np

from ..framework.graph import Tensor, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import out1
from .conv import (Geometry, _check_float, _check_same, _clip, _data_format, _four,
                   _geom_cache, _padding, _rank4, _shape_of, _sizes_shape, _static_window,
                   clipped_taps, geometry, host_ints, pad_nhwc, tap, taps)

__all__ = ["max_pool", "max_pool2d", "avg_pool", "avg_pool2d"]


# -- generic (xp) helpers ------------------------------------------------------------------
def pool_counts(g: Geometry) -> np.ndarray:
    """(ho, wo) float64 count of real (non-padding) input elements in each pooling window."""
    def axis(n, k, s, out, before):
        start = np.arange(out) * s - before
        return np.minimum(start + k, n) - np.maximum(start, 0)
    return np.outer(axis(g.h, g.kh, g.sh, g.ho, g.pt), axis(g.w, g.kw, g.sw, g.wo, g.pl))


# -- MaxPool / MaxPoolGrad -----------------------------------------------------------------
def _pool_out_shape(op, x_shape) -> tuple:
    a = op.attrs
    ks, st = a["ksize"], a["strides"]
    n, h, w, c = x_shape
    return (n, _static_window(h, ks[1], st[1], 1, a["padding"]),
            _static_window(w, ks[2], st[2], 1, a["padding"]), c)


def pool_geometry_getter(op):
    """geom(x_shape) -> Geometry of this pooling op, memoised per input shape."""
    a = op.attrs
    ks, st, padding = a["ksize"], a["strides"], a["padding"]
    return _geom_cache(lambda xs: geometry(xs, ks[1], ks[2], st, [1, 1, 1, 1], padding))


def _max_pool_infer(op):
    x = op.inputs[0]
    if not (x.dtype.is_floating or x.dtype.is_integer):
        raise TypeError(f"MaxPool: input {x.name} has dtype {x.dtype.name}; expected a real "
                        "numeric type")
    return [(x.dtype, _pool_out_shape(op, _rank4(x, "input", op.type)))]


def lowest(dtype):
    """The pad value of max pooling: -inf, or the smallest integer of the dtype."""
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


@functools.lru_cache(maxsize=512)
def axis_windows(size: int, out: int, k: int, stride: int, before: int) -> tuple:
    """One axis of a pooling window, tap by tap: ((lo, first_hi, hi, start), ...) where a tap
    reaches the outputs [lo, hi) from the inputs start, start + stride, ...; outputs [lo,
    first_hi) meet their first real (non-padding) element at this tap, the rest earlier."""
    spans = []
    earlier_lo = out
    for t in range(k):
        lo, hi, start = _clip(size, out, t, stride, before)
        if lo < hi:
            spans.append((lo, min(earlier_lo, hi), hi, start))
            earlier_lo = lo
    return tuple(spans)


def _reduce_along(xp, combine, x, axis: int, extent: int, stride: int, spans: tuple,
                  out=None):
    """`combine` (xp.maximum or xp.add) over the windows of `x` along `axis` (1 or 2),
    padding excluded: each output starts as its first real element and combines the later
    ones in place (no padded copy)."""
    if out is None:
        shape = list(x.shape)
        shape[axis] = extent
        out = xp.empty(tuple(shape), x.dtype)
    lead = (slice(None),) * axis

    def src(start, n):
        return x[lead + (slice(start, start + stride * (n - 1) + 1, stride),)]
    for lo, first_hi, hi, start in spans:
        if first_hi > lo:
            out[lead + (slice(lo, first_hi),)] = src(start, first_hi - lo)
        if hi > first_hi:
            part = out[lead + (slice(first_hi, hi),)]
            combine(part, src(start + stride * (first_hi - lo), hi - first_hi), out=part)
    return out


def window_reduce(xp, combine, x, g: Geometry, out=None):
    """`combine` (xp.maximum or xp.add) over each pooling window of `x` (into `out`),
    separably: over the window's rows, then over its columns (kh + kw instead of kh * kw
    taps; the first pass moves whole rows). Unpadded windows of up to 4 elements (2x2) take
    their taps directly: fewer passes."""
    if not g.padded and g.kh * g.kw <= 4:
        if out is None:
            out = xp.empty((g.n, g.ho, g.wo, g.c), x.dtype)
        out[...] = tap(x, g, 0, 0)
        for i, j in taps(g):
            if i or j:
                combine(out, tap(x, g, i, j), out=out)
        return out
    rows = _reduce_along(xp, combine, x, 1, g.ho, g.sh,
                         axis_windows(g.h, g.ho, g.kh, g.sh, g.pt))
    return _reduce_along(xp, combine, rows, 2, g.wo, g.sw,
                         axis_windows(g.w, g.wo, g.kw, g.sw, g.pl), out)


def _max_pool_kernel(op, ctx):
    xp = ctx.xp
    geom = pool_geometry_getter(op)

    def max_pool(x):
        return window_reduce(xp, xp.maximum, x, geom(x.shape))
    return max_pool


def _pool_kw(op) -> dict:
    a = op.attrs
    return {"ksize": a["ksize"], "strides": a["strides"], "padding": a["padding"]}


def _max_pool_grad(op, grad):
    """Returns grad routed to the first maximum of each window (MaxPoolGrad(x, y, grad))."""
    return [out1("MaxPoolGrad", [op.inputs[0], op.outputs[0], grad], _pool_kw(op),
                 "MaxPoolGrad")]


register_op("MaxPool", infer=_max_pool_infer, grad=_max_pool_grad, kernel=_max_pool_kernel,
            doc="Maximum over each sliding window (padding never wins).")


def _max_pool_grad_infer(op):
    x, y, dy = op.inputs
    _check_float(op, x, y, dy)
    want = _pool_out_shape(op, _rank4(x, "orig_input", op.type))
    for what, t in (("orig_output", y), ("grad", dy)):
        s = _rank4(t, what, op.type)
        for a, b in zip(want, s):
            _check_same(a, b, f"MaxPoolGrad: {what} shape {list(s)} does not match the "
                              f"pooled shape {list(want)}")
    return [(x.dtype, x._shape)]


def first_max_masks(xp, xpad, y, g: Geometry):
    """Yields ((i, j), mask): where window position (i, j) is the first maximum equal to y."""
    taken = None
    for i, j in taps(g):
        hit = tap(xpad, g, i, j) == y
        if taken is None:
            taken = hit.copy()
        else:
            hit &= ~taken
            taken |= hit
        yield (i, j), hit


def tiles_exactly(g: Geometry) -> bool:
    """The windows cover every input element exactly once (no overlap, padding or rest)."""
    return (not g.padded and g.kh == g.sh and g.kw == g.sw and g.ho * g.sh == g.h
            and g.wo * g.sw == g.w)


def route_to_windows(xp, dx, dy, masks, g: Geometry) -> None:
    """Adds each window's gradient dy into the zeroed `dx` where `masks` ((i, j) -> bool
    (n, ho, wo, c) pairs) say (`dx` need not be zeroed when the windows tile it exactly)."""
    if not g.padded and g.kh <= g.sh and g.kw <= g.sw:
        # Non-overlapping windows inside the input: every element is written at most once.
        for (i, j), hit in masks:
            xp.multiply(dy, hit, out=tap(dx, g, i, j))
        return
    masks = dict(masks)
    for ij, dst, src in clipped_taps(g):
        dx[dst] += (dy * masks[ij])[src]


def _max_pool_grad_kernel(op, ctx):
    xp = ctx.xp
    geom = pool_geometry_getter(op)

    def max_pool_grad(x, y, dy):
        g = geom(x.shape)
        dx = xp.zeros(x.shape, dtype=dy.dtype)
        masks = first_max_masks(xp, pad_nhwc(xp, x, g, lowest(x.dtype)), y, g)
        route_to_windows(xp, dx, dy, masks, g)
        return dx
    return max_pool_grad


register_op("MaxPoolGrad", infer=_max_pool_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_max_pool_grad_kernel,
            doc="Gradient of MaxPool: each window's gradient goes to its first maximum "
                "(row-major), given orig_input, orig_output = MaxPool(orig_input) and grad.")


# -- AvgPool / AvgPoolGrad -----------------------------------------------------------------
def _avg_pool_infer(op):
    x = op.inputs[0]
    _check_float(op, x)
    return [(x.dtype, _pool_out_shape(op, _rank4(x, "input", op.type)))]


def pool_divisor_getter(xp):
    """divisor(g) -> the (1, ho, wo, 1) counts of real elements per window, cached per shape."""
    cache: dict = {}

    def divisor(g: Geometry, dtype):
        key = (g.h, g.w, dtype)
        d = cache.get(key)
        if d is None:
            d = cache[key] = xp.asarray(pool_counts(g).astype(dtype)[None, :, :, None])
        return d
    return divisor


def _avg_pool_kernel(op, ctx):
    xp = ctx.xp
    geom = pool_geometry_getter(op)
    divisor = pool_divisor_getter(xp)

    def avg_pool(x):
        g = geom(x.shape)
        out = window_reduce(xp, xp.add, x, g)
        out /= divisor(g, x.dtype)
        return out
    return avg_pool


def _avg_pool_grad(op, grad):
    """Returns AvgPoolGrad(shape(x), grad): grad / count spread over each window."""
    return [out1("AvgPoolGrad", [_shape_of(op.inputs[0]), grad], _pool_kw(op), "AvgPoolGrad")]


register_op("AvgPool", infer=_avg_pool_infer, grad=_avg_pool_grad, kernel=_avg_pool_kernel,
            doc="Mean over each sliding window, counting only real (non-padding) elements.")


def _avg_pool_grad_infer(op):
    sizes, dy = op.inputs
    _check_float(op, dy)
    x_shape = _sizes_shape(sizes)
    want = _pool_out_shape(op, x_shape)
    s = _rank4(dy, "grad", op.type)
    for a, b in zip(want, s):
        _check_same(a, b, f"AvgPoolGrad: grad shape {list(s)} does not match the pooled "
                          f"shape {list(want)} of input shape {list(x_shape)}")
    return [(dy.dtype, x_shape)]


def _avg_pool_grad_kernel(op, ctx):
    xp = ctx.xp
    geom = pool_geometry_getter(op)
    divisor = pool_divisor_getter(xp)

    def avg_pool_grad(sizes, dy):
        g = geom(host_ints(sizes))
        share = dy / divisor(g, dy.dtype)
        dx = xp.zeros((g.n, g.h, g.w, g.c), dtype=dy.dtype)
        for _, dst, src in clipped_taps(g):
            dx[dst] += share[src]
        return dx
    return avg_pool_grad


def _avg_pool_grad_grad(op, grad):
    """Returns (None, avg_pool(grad)): AvgPoolGrad is linear in its gradient input."""
    return [None, out1("AvgPool", [grad], _pool_kw(op), "AvgPool")]


register_op("AvgPoolGrad", infer=_avg_pool_grad_infer, grad=_avg_pool_grad_grad,
            kernel=_avg_pool_grad_kernel,
            doc="Gradient of AvgPool given the input shape and the output gradient.")


# -- public API ----------------------------------------------------------------------------
def _pool_attr_dict(ksize, strides, padding, data_format, op_type):
    _data_format(data_format, op_type)
    return {"ksize": _four(ksize, "ksize", op_type), "strides": _four(strides, "strides", op_type),
            "padding": _padding(padding, op_type), "data_format": "NHWC"}


def max_pool(value=None, ksize=None, strides=None, padding=None, data_format: str = "NHWC",
             name=None, input=None) -> Tensor:
    """Max pooling of an NHWC tensor with windows `ksize` [1, kh, kw, 1] and `strides`."""
    value = input if value is None else value
    attrs = _pool_attr_dict(ksize, strides, padding, data_format, "MaxPool")
    return out1("MaxPool", [convert_to_tensor(value)], attrs, name or "MaxPool")


def avg_pool(value=None, ksize=None, strides=None, padding=None, data_format: str = "NHWC",
             name=None, input=None) -> Tensor:
    """Average pooling of an NHWC tensor (SAME windows average their real elements only)."""
    value = input if value is None else value
    attrs = _pool_attr_dict(ksize, strides, padding, data_format, "AvgPool")
    return out1("AvgPool", [convert_to_tensor(value)], attrs, name or "AvgPool")


max_pool2d, avg_pool2d = max_pool, avg_pool
