"""Convolution, pooling and local response normalisation (NHWC, TF 1.x semantics).

Window geometry follows TensorFlow exactly. For an input extent ``n``, window ``k``, stride
``s`` and dilation ``d`` (effective window ``k_eff = (k - 1) * d + 1``):

- ``VALID``: ``out = ceil((n - k_eff + 1) / s)``, no padding;
- ``SAME``: ``out = ceil(n / s)``, padded by ``max((out - 1) * s + k_eff - n, 0)`` of which
  the smaller half goes before and the extra element after.

`conv1d` is Conv2D over a height-1 image. Ops: Conv2D, Conv2DBackpropInput,
Conv2DBackpropFilter, MaxPool, MaxPoolGrad, AvgPool, AvgPoolGrad, LRN, LRNGrad. Conv2D's
gradient builds the two backprop ops, whose own gradients are convolutions again (so second
derivatives work). MaxPoolGrad routes each window's gradient to the first maximum of the window
in row-major order, as TensorFlow's CPU kernel does. AvgPool with SAME padding divides by the
number of real (non-padding) elements of each window. MaxPoolGrad and LRNGrad are not
differentiable.

The generic kernels below are written against ``ctx.xp``; the CPU overrides (strided im2col,
reused scratch buffers, batched GEMMs) live in `actorflow.kernels.numpy_kernels`.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..framework.graph import Tensor, constant_value, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import out1

__all__ = ["conv1d", "conv2d", "conv2d_backprop_input", "conv2d_backprop_filter",
           "conv2d_transpose", "atrous_conv2d", "max_pool", "max_pool2d", "avg_pool",
           "avg_pool2d", "lrn",
           "local_response_normalization"]

_PADDINGS = ("SAME", "VALID")


# -- window geometry -----------------------------------------------------------------------
class Window(NamedTuple):
    """One spatial axis: output extent and padding before/after."""

    out: int
    before: int
    after: int


def window(size: int, k: int, stride: int, dilation: int, padding: str) -> Window:
    """TF's output extent and padding for one spatial axis.

    Raises:
        ValueError: VALID padding with a window larger than the input.
    """
    k_eff = (k - 1) * dilation + 1
    if padding == "VALID":
        if size < k_eff:
            raise ValueError(f"Negative dimension size caused by subtracting {k_eff} from "
                             f"{size}")
        return Window(-(-(size - k_eff + 1) // stride), 0, 0)
    out = -(-size // stride)
    pad = max((out - 1) * stride + k_eff - size, 0)
    return Window(out, pad // 2, pad - pad // 2)


class Geometry(NamedTuple):
    """A 2-D sliding window over an NHWC tensor: everything a kernel needs, as ints."""

    n: int
    h: int
    w: int
    c: int
    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    ho: int
    wo: int
    pt: int
    pb: int
    pl: int
    pr: int

    @property
    def padded(self) -> bool:
        return bool(self.pt or self.pb or self.pl or self.pr)

    @property
    def padded_shape(self) -> tuple:
        return (self.n, self.h + self.pt + self.pb, self.w + self.pl + self.pr, self.c)


def geometry(in_shape, kh: int, kw: int, strides, dilations, padding: str) -> Geometry:
    """The window geometry of an NHWC input shape (ints) under the op's attrs."""
    n, h, w, c = (int(d) for d in in_shape)
    sh, sw = int(strides[1]), int(strides[2])
    dh, dw = int(dilations[1]), int(dilations[2])
    rows = window(h, kh, sh, dh, padding)
    cols = window(w, kw, sw, dw, padding)
    return Geometry(n, h, w, c, kh, kw, sh, sw, dh, dw, rows.out, cols.out, rows.before,
                    rows.after, cols.before, cols.after)


def _static_window(size, k, stride, dilation, padding):
    if size is None or k is None:
        return None
    return window(size, k, stride, dilation, padding).out


# -- attribute checks ----------------------------------------------------------------------
def _four(v, what: str, op_name: str) -> list:
    """A TF 1.x NHWC 4-vector (strides/ksize/dilations) from 4 ints, 2 ints or one int."""
    if isinstance(v, (int, np.integer)):
        v = [1, int(v), int(v), 1]
    v = [int(x) for x in v]
    if len(v) == 2:
        v = [1, v[0], v[1], 1]
    if len(v) != 4:
        raise ValueError(f"{op_name}: {what} must have 4 elements (NHWC), got {v}")
    if v[0] != 1 or v[3] != 1:
        raise ValueError(f"{op_name}: {what} {v} must be 1 in the batch and depth dimensions "
                         "(pooling or striding over them is not supported)")
    if min(v) < 1:
        raise ValueError(f"{op_name}: {what} {v} must be positive")
    return v


def _padding(padding, op_name: str) -> str:
    if isinstance(padding, bytes):
        padding = padding.decode()
    if padding not in _PADDINGS:
        raise ValueError(f"{op_name}: padding must be 'SAME' or 'VALID', got {padding!r}")
    return padding


def _data_format(data_format, op_name: str) -> None:
    if isinstance(data_format, bytes):
        data_format = data_format.decode()
    if data_format not in (None, "NHWC"):
        raise ValueError(f"{op_name}: data_format {data_format!r} is not supported; use 'NHWC'")


def _check_float(op, *tensors) -> None:
    for t in tensors:
        if not t.dtype.is_floating:
            raise TypeError(f"{op.type}: {t.name} has dtype {t.dtype.name}; expected a "
                            "floating type (float16, float32, float64)")
        if t.dtype != tensors[0].dtype:
            raise TypeError(f"{op.type}: {t.name} has dtype {t.dtype.name} but "
                            f"{tensors[0].name} has {tensors[0].dtype.name}")


def _rank4(t: Tensor, what: str, op_type: str) -> tuple:
    s = t._shape
    if s is None:
        return (None,) * 4
    if len(s) != 4:
        raise ValueError(f"{op_type}: {what} must be rank 4 (NHWC), got shape {list(s)}")
    return s


def _sizes_shape(t: Tensor) -> tuple:
    """The static 4-D shape held by an int32 sizes tensor (a Const, or Shape of a tensor)."""
    cv = constant_value(t)
    if cv is not None:
        v = [int(d) for d in np.ravel(cv)]
        if len(v) != 4:
            raise ValueError(f"sizes tensor {t.name} must hold 4 elements, got {v}")
        return tuple(v)
    if t.op.type == "Shape" and t.op.inputs[0]._shape is not None:
        return tuple(t.op.inputs[0]._shape)
    return (None,) * 4


def _check_same(a, b, msg: str) -> None:
    if a is not None and b is not None and a != b:
        raise ValueError(msg)


def host_ints(v) -> tuple:
    """A sizes value (NumPy or CuPy int array) as a tuple of Python ints."""
    return tuple(int(d) for d in v.tolist())


# -- generic (xp) helpers ------------------------------------------------------------------
def pad_nhwc(xp, x, g: Geometry, value=0):
    """x padded by the geometry's spatial padding (x itself when there is none)."""
    if not g.padded:
        return x
    out = xp.full(g.padded_shape, value, dtype=x.dtype)
    out[:, g.pt:g.pt + g.h, g.pl:g.pl + g.w, :] = x
    return out


def tap(xpad, g: Geometry, i: int, j: int):
    """The (n, ho, wo, c) strided view of window position (i, j) over a padded input."""
    r0, c0 = i * g.dh, j * g.dw
    return xpad[:, r0:r0 + g.sh * (g.ho - 1) + 1:g.sh, c0:c0 + g.sw * (g.wo - 1) + 1:g.sw, :]


def taps(g: Geometry):
    return ((i, j) for i in range(g.kh) for j in range(g.kw))


def patches(xp, x, g: Geometry):
    """im2col: the (n*ho*wo, kh*kw*c) matrix of input windows, in filter (kh, kw, c) order."""
    xpad = pad_nhwc(xp, x, g)
    col = xp.empty((g.n, g.ho, g.wo, g.kh, g.kw, g.c), dtype=x.dtype)
    for i, j in taps(g):
        col[:, :, :, i, j, :] = tap(xpad, g, i, j)
    return col.reshape(g.n * g.ho * g.wo, g.kh * g.kw * g.c)


def _clip(size, out, k_off, stride, before):
    """Output range [lo, hi) whose window element at offset k_off lands inside [0, size)."""
    first = before - k_off  # input index of output 0 is -first
    lo = max(0, -(-first // stride))
    hi = min(out, (size - 1 + first) // stride + 1)
    return lo, hi, lo * stride - first


@functools.lru_cache(maxsize=512)
def clipped_taps(g: Geometry) -> tuple:
    """[(dst, src)] index pairs: for each window position, the unpadded input region it touches
    (dst, an index into (n, h, w, c)) and the outputs that touch it (src, into (n, ho, wo, c)).
    Scatter-adding through these needs no padded buffer and no crop."""
    out = []
    for i, j in taps(g):
        r_lo, r_hi, r0 = _clip(g.h, g.ho, i * g.dh, g.sh, g.pt)
        c_lo, c_hi, c0 = _clip(g.w, g.wo, j * g.dw, g.sw, g.pl)
        if r_lo >= r_hi or c_lo >= c_hi:
            continue
        dst = (slice(None), slice(r0, r0 + g.sh * (r_hi - r_lo - 1) + 1, g.sh),
               slice(c0, c0 + g.sw * (c_hi - c_lo - 1) + 1, g.sw), slice(None))
        src = (slice(None), slice(r_lo, r_hi), slice(c_lo, c_hi), slice(None))
        out.append(((i, j), dst, src))
    return tuple(out)


def scatter_patches(xp, col, g: Geometry):
    """col2im: sums a (n, ho, wo, kh, kw, c) patch gradient back onto the (n, h, w, c) input."""
    col = col.reshape(g.n, g.ho, g.wo, g.kh, g.kw, g.c)
    dx = xp.zeros((g.n, g.h, g.w, g.c), dtype=col.dtype)
    for (i, j), dst, src in clipped_taps(g):
        dx[dst] += col[:, :, :, i, j, :][src]
    return dx


def pool_counts(g: Geometry) -> np.ndarray:
    """(ho, wo) float64 count of real (non-padding) input elements in each pooling window."""
    def axis(n, k, s, out, before):
        start = np.arange(out) * s - before
        return np.minimum(start + k, n) - np.maximum(start, 0)
    return np.outer(axis(g.h, g.kh, g.sh, g.ho, g.pt), axis(g.w, g.kw, g.sw, g.wo, g.pl))


def channel_window_sum(xp, x, r: int):
    """sum_{j in [d-r, d+r]} x[..., j] for every channel d (zero outside the channel range)."""
    depth = x.shape[-1]
    out = x.copy()
    for k in range(1, min(r, depth - 1) + 1):
        out[..., k:] += x[..., :-k]
        out[..., :-k] += x[..., k:]
    return out


def _geom_cache(factory):
    """A per-kernel memo of the geometry for the (input shape, filter/window) seen."""
    cache: dict = {}

    def get(key):
        g = cache.get(key)
        if g is None:
            g = cache[key] = factory(key)
        return g
    return get


# -- Conv2D --------------------------------------------------------------------------------
def _conv_attrs(op):
    a = op.attrs
    return a["strides"], a["dilations"], a["padding"]


def conv_geometry_getter(op):
    """geom(x_shape, w_shape) -> Geometry, memoised per shape pair for this op."""
    strides, dilations, padding = _conv_attrs(op)
    memo = _geom_cache(lambda key: geometry(key[0], key[1][0], key[1][1], strides,
                                            dilations, padding))
    return lambda xs, ws: memo((xs, ws))


def _conv_out_shape(op, x_shape, f_shape) -> tuple:
    strides, dilations, padding = _conv_attrs(op)
    n, h, w, c = x_shape
    kh, kw, ci, co = f_shape
    _check_same(c, ci, f"{op.type}: input depth {c} (input shape {list(x_shape)}) does not "
                       f"match the filter's in_channels {ci} (filter shape {list(f_shape)})")
    ho = _static_window(h, kh, strides[1], dilations[1], padding)
    wo = _static_window(w, kw, strides[2], dilations[2], padding)
    return (n, ho, wo, co)


def _conv2d_infer(op):
    x, f = op.inputs
    _check_float(op, x, f)
    return [(x.dtype, _conv_out_shape(op, _rank4(x, "input", op.type),
                                      _rank4(f, "filter", op.type)))]


def _conv2d_kernel(op, ctx):
    xp = ctx.xp
    geom = conv_geometry_getter(op)

    def conv2d(x, f):
        g = geom(x.shape, f.shape)
        out = patches(xp, x, g) @ f.reshape(-1, f.shape[3])
        return out.reshape(g.n, g.ho, g.wo, f.shape[3])
    return conv2d


def _conv_kw(op) -> dict:
    strides, dilations, padding = _conv_attrs(op)
    return {"strides": strides, "padding": padding, "dilations": dilations}


def _conv2d_grad(op, grad):
    """Returns (conv2d_backprop_input(shape(x), w, grad), conv2d_backprop_filter(x, shape(w),
    grad))."""
    x, f = op.inputs
    kw = _conv_kw(op)
    return [conv2d_backprop_input(_shape_of(x), f, grad, **kw),
            conv2d_backprop_filter(x, _shape_of(f), grad, **kw)]


def _shape_of(t: Tensor) -> Tensor:
    from .array import shape
    s = t._shape
    if s is not None and None not in s:
        return convert_to_tensor(np.array(s, dtype=np.int32))
    return shape(t)


register_op("Conv2D", infer=_conv2d_infer, grad=_conv2d_grad, kernel=_conv2d_kernel,
            doc="2-D convolution (cross-correlation) of NHWC input with an HWIO filter.")


# -- Conv2DBackpropInput -------------------------------------------------------------------
def _check_out_backprop(op, x_shape, f_shape, dy_shape) -> None:
    want = _conv_out_shape(op, x_shape, f_shape)
    for a, b in zip(want, dy_shape):
        if a is not None and b is not None and a != b:
            raise ValueError(f"{op.type}: out_backprop shape {list(dy_shape)} does not match "
                             f"the convolution output shape {list(want)} for input shape "
                             f"{list(x_shape)} and filter shape {list(f_shape)}")


def _backprop_input_infer(op):
    sizes, f, dy = op.inputs
    _check_float(op, f, dy)
    x_shape = _sizes_shape(sizes)
    f_shape = _rank4(f, "filter", op.type)
    _check_out_backprop(op, x_shape, f_shape, _rank4(dy, "out_backprop", op.type))
    return [(dy.dtype, x_shape)]


def _backprop_input_kernel(op, ctx):
    xp = ctx.xp
    geom = conv_geometry_getter(op)

    def conv2d_backprop_input(sizes, f, dy):
        g = geom(host_ints(sizes), f.shape)
        col = dy.reshape(-1, f.shape[3]) @ f.reshape(-1, f.shape[3]).T
        return scatter_patches(xp, col, g)
    return conv2d_backprop_input


def _backprop_input_grad(op, grad):
    """Returns (None, conv2d_backprop_filter(grad, shape(w), dy), conv2d(grad, w))."""
    _, f, dy = op.inputs
    kw = _conv_kw(op)
    return [None, conv2d_backprop_filter(grad, _shape_of(f), dy, **kw),
            conv2d(grad, f, **kw)]


register_op("Conv2DBackpropInput", infer=_backprop_input_infer, grad=_backprop_input_grad,
            kernel=_backprop_input_kernel,
            doc="Gradient of Conv2D with respect to its input (a transposed convolution).")


# -- Conv2DBackpropFilter ------------------------------------------------------------------
def _backprop_filter_infer(op):
    x, sizes, dy = op.inputs
    _check_float(op, x, dy)
    f_shape = _sizes_shape(sizes)
    _check_out_backprop(op, _rank4(x, "input", op.type), f_shape,
                        _rank4(dy, "out_backprop", op.type))
    return [(x.dtype, f_shape)]


def _backprop_filter_kernel(op, ctx):
    xp = ctx.xp
    geom = conv_geometry_getter(op)

    def conv2d_backprop_filter(x, sizes, dy):
        fs = host_ints(sizes)
        g = geom(x.shape, fs)
        return (patches(xp, x, g).T @ dy.reshape(-1, fs[3])).reshape(fs)
    return conv2d_backprop_filter


def _backprop_filter_grad(op, grad):
    """Returns (conv2d_backprop_input(shape(x), grad, dy), None, conv2d(x, grad))."""
    x, _, dy = op.inputs
    kw = _conv_kw(op)
    return [conv2d_backprop_input(_shape_of(x), grad, dy, **kw), None,
            conv2d(x, grad, **kw)]


register_op("Conv2DBackpropFilter", infer=_backprop_filter_infer, grad=_backprop_filter_grad,
            kernel=_backprop_filter_kernel,
            doc="Gradient of Conv2D with respect to its filter.")


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


def _max_pool_kernel(op, ctx):
    xp = ctx.xp
    geom = pool_geometry_getter(op)

    def max_pool(x):
        g = geom(x.shape)
        xpad = pad_nhwc(xp, x, g, lowest(x.dtype))
        out = tap(xpad, g, 0, 0).copy()
        for i, j in taps(g):
            if i or j:
                xp.maximum(out, tap(xpad, g, i, j), out=out)
        return out
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
        xpad = pad_nhwc(xp, x, g)
        out = tap(xpad, g, 0, 0).copy()
        for i, j in taps(g):
            if i or j:
                out += tap(xpad, g, i, j)
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


# -- LRN / LRNGrad -------------------------------------------------------------------------
def _lrn_infer(op):
    x = op.inputs[0]
    _check_float(op, x)
    _rank4(x, "input", op.type)
    return [(x.dtype, x._shape)]


def _lrn_attrs(op):
    a = op.attrs
    return int(a["depth_radius"]), a["bias"], a["alpha"], a["beta"]


def _lrn_kernel(op, ctx):
    xp = ctx.xp
    r, bias, alpha, beta = _lrn_attrs(op)

    def lrn(x):
        norm = channel_window_sum(xp, x * x, r)
        norm *= alpha
        norm += bias
        return x * norm ** -beta
    return lrn


def _lrn_grad(op, grad):
    """Returns LRNGrad(grad, x, y): grad * norm^-beta - 2 alpha beta x * window_sum(grad * y /
    norm), where norm = bias + alpha * window_sum(x^2)."""
    return [out1("LRNGrad", [grad, op.inputs[0], op.outputs[0]], dict(op.attrs), "LRNGrad")]


register_op("LRN", infer=_lrn_infer, grad=_lrn_grad, kernel=_lrn_kernel,
            doc="Local response normalisation across channels: x / (bias + alpha * "
                "sum_{d-r..d+r} x^2) ^ beta.")


def _lrn_grad_infer(op):
    dy, x, y = op.inputs
    _check_float(op, dy, x, y)
    for t in (dy, y):
        _check_same(x._shape, t._shape, f"LRNGrad: {t.name} shape {t._shape} does not match "
                                        f"input_image shape {x._shape}")
    return [(x.dtype, x._shape)]


def _lrn_grad_kernel(op, ctx):
    xp = ctx.xp
    r, bias, alpha, beta = _lrn_attrs(op)

    def lrn_grad(dy, x, y):
        norm = channel_window_sum(xp, x * x, r)
        norm *= alpha
        norm += bias
        back = channel_window_sum(xp, dy * y / norm, r)
        back *= x
        back *= -2.0 * alpha * beta
        back += dy * norm ** -beta
        return back
    return lrn_grad


register_op("LRNGrad", infer=_lrn_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_lrn_grad_kernel,
            doc="Gradient of LRN given (grad, input_image, output_image).")


# -- public API ----------------------------------------------------------------------------
def _conv_attr_dict(strides, padding, dilations, data_format, op_type):
    _data_format(data_format, op_type)
    return {"strides": _four(strides, "strides", op_type),
            "padding": _padding(padding, op_type),
            "dilations": _four(1 if dilations is None else dilations, "dilations", op_type),
            "data_format": "NHWC"}


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu: bool = True,
           data_format: str = "NHWC", dilations=None, name=None, filters=None) -> Tensor:
    """2-D convolution of an NHWC `input` with a [height, width, in, out] `filter`.

    Args:
        strides: 4 ints [1, stride_h, stride_w, 1] (2 ints or one int also accepted).
        padding: "SAME" (out = ceil(in / stride)) or "VALID".
        dilations: [1, rate_h, rate_w, 1]; default no dilation.

    Raises:
        ValueError: the input depth differs from the filter's in_channels, bad strides or
            padding, or a VALID window larger than the input.
        TypeError: non-floating or mismatched dtypes.
    """
    filter = filters if filter is None else filter
    if filter is None or strides is None or padding is None:
        raise TypeError("conv2d() needs filter, strides and padding")
    attrs = _conv_attr_dict(strides, padding, dilations, data_format, "Conv2D")
    x = convert_to_tensor(input)
    f = convert_to_tensor(filter, dtype=x.dtype)
    return out1("Conv2D", [x, f], attrs, name or "Conv2D")


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None,
           data_format=None, name=None, input=None, dilations=None) -> Tensor:  # noqa: A002
    """1-D convolution of an NWC (or NCW) `value` with a [width, in, out] filter: conv2d over
    a height-1 image (expand_dims, Conv2D, squeeze).

    Args:
        stride: an int (or [1, s, 1] / [s]).
        padding: "SAME" or "VALID".
        data_format: "NWC" (default) or "NCW" (transposed to NWC around the conv).
        dilations: an int (or [1, d, 1] / [d]); default 1.

    Raises:
        ValueError: a bad data_format, stride or dilation, or conv2d's shape errors.
    """
    from ..framework.graph import name_scope
    from .array import expand_dims, squeeze, transpose
    value = input if value is None else value
    if value is None or filters is None or stride is None or padding is None:
        raise TypeError("conv1d() needs value, filters, stride and padding")
    if isinstance(data_format, bytes):
        data_format = data_format.decode()
    if data_format not in (None, "NWC", "NHWC", "NCW", "NCHW"):
        raise ValueError(f"conv1d: data_format {data_format!r} is not 'NWC' or 'NCW'")
    channels_first = data_format in ("NCW", "NCHW")
    s, d = _one_width(stride, "stride", channels_first), _one_width(dilations, "dilations",
                                                                    channels_first)
    with name_scope(name, "conv1d", [value, filters]):
        x = convert_to_tensor(value, name="value")
        if channels_first:
            x = transpose(x, [0, 2, 1])
        f = convert_to_tensor(filters, dtype=x.dtype, name="filters")
        y = conv2d(expand_dims(x, 1), expand_dims(f, 0), [1, 1, s, 1], padding,
                   dilations=[1, 1, d, 1])
        y = squeeze(y, [1])
        return transpose(y, [0, 2, 1]) if channels_first else y


def _one_width(v, what: str, channels_first: bool) -> int:
    """The width entry of a conv1d stride / dilation: an int, [w] or a 3-list."""
    if v is None:
        return 1
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = [int(i) for i in v]
    if len(v) == 1:
        return v[0]
    if len(v) == 3:
        return v[2] if channels_first else v[1]
    raise ValueError(f"conv1d: {what} must be an int or a list of 1 or 3 ints, got {v}")


def atrous_conv2d(value, filters, rate: int, padding: str, name=None) -> Tensor:
    """Dilated (atrous) convolution: conv2d with dilations [1, rate, rate, 1], stride 1."""
    return conv2d(value, filters, [1, 1, 1, 1], padding, dilations=[1, rate, rate, 1],
                  name=name or "atrous_conv2d")


def _sizes(v, what: str) -> Tensor:
    if isinstance(v, Tensor) or hasattr(v, "_as_graph_element"):
        return convert_to_tensor(v)
    from .constant import constant
    return constant(np.array([int(d) for d in v], dtype=np.int32), name=what)


def conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding,
                          use_cudnn_on_gpu: bool = True, data_format: str = "NHWC",
                          dilations=None, name=None) -> Tensor:
    """Gradient of conv2d with respect to its input, of shape `input_sizes` (4 ints)."""
    attrs = _conv_attr_dict(strides, padding, dilations, data_format, "Conv2DBackpropInput")
    dy = convert_to_tensor(out_backprop)
    f = convert_to_tensor(filter, dtype=dy.dtype)
    return out1("Conv2DBackpropInput", [_sizes(input_sizes, "input_sizes"), f, dy], attrs,
                name or "Conv2DBackpropInput")


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,
                           use_cudnn_on_gpu: bool = True, data_format: str = "NHWC",
                           dilations=None, name=None) -> Tensor:
    """Gradient of conv2d with respect to its filter, of shape `filter_sizes` (4 ints)."""
    attrs = _conv_attr_dict(strides, padding, dilations, data_format, "Conv2DBackpropFilter")
    x = convert_to_tensor(input)
    dy = convert_to_tensor(out_backprop, dtype=x.dtype)
    return out1("Conv2DBackpropFilter", [x, _sizes(filter_sizes, "filter_sizes"), dy], attrs,
                name or "Conv2DBackpropFilter")


def conv2d_transpose(value, filter=None, output_shape=None, strides=None, padding="SAME",
                     data_format: str = "NHWC", name=None, filters=None,
                     dilations=None) -> Tensor:
    """The transpose of conv2d: maps a conv2d output back to `output_shape`.

    `filter` is [height, width, output_channels, in_channels], as in TF.

    Raises:
        ValueError: `output_shape` is inconsistent with `value`'s shape under the strides.
    """
    filter = filters if filter is None else filter
    if filter is None or output_shape is None or strides is None:
        raise TypeError("conv2d_transpose() needs filter, output_shape and strides")
    return conv2d_backprop_input(output_shape, filter, value, strides, padding,
                                 data_format=data_format, dilations=dilations,
                                 name=name or "conv2d_transpose")


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


def lrn(input, depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0,
        beta: float = 0.5, name=None) -> Tensor:
    """Local response normalisation over the last (channel) axis of a 4-D tensor.

    out[..., d] = input[..., d] / (bias + alpha * sum(input[..., d-r:d+r+1] ** 2)) ** beta.
    """
    attrs = {"depth_radius": int(depth_radius), "bias": float(bias), "alpha": float(alpha),
             "beta": float(beta)}
    return out1("LRN", [convert_to_tensor(input)], attrs, name or "LRN")


local_response_normalization = lrn

from ..kernels import numpy_kernels as _numpy_kernels  # noqa: E402,F401  (CPU overrides)
