"""Convolution (NHWC, TF 1.x semantics) and the sliding-window geometry shared with pooling.

Window geometry follows TensorFlow exactly. For an input extent ``n``, window ``k``, stride
``s`` and dilation ``d`` (effective window ``k_eff = (k - 1) * d + 1``):

- ``VALID``: ``out = ceil((n - k_eff + 1) / s)``, no padding;
- ``SAME``: ``out = ceil(n / s)``, padded by ``max((out - 1) * s + k_eff - n, 0)`` of which
  the smaller half goes before and the extra element after.

Registers: Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter. `conv1d` is Conv2D over a
height-1 image; `conv2d_transpose` and `atrous_conv2d` are Conv2DBackpropInput and a dilated
Conv2D. Conv2D's gradient builds the two backprop ops, whose own gradients are convolutions
again (so second derivatives work). Pooling (MaxPool, AvgPool and their gradients) lives in
ops/pooling.py and LRN in ops/normalization.py; both reuse the geometry and attribute checks
below.

The generic kernels below are written against ``ctx.xp``; the CPU overrides (strided im2col,
reused scratch buffers, batched GEMMs) live in `actorflow.kernels.numpy_kernels`, which the
package imports once every op family has registered its ops.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..framework.graph import Tensor, constant_value, convert_to_tensor
from ..framework.registry import register_op
from ._common import host_ints, out1

__all__ = ["conv1d", "conv2d", "conv2d_backprop_input", "conv2d_backprop_filter",
           "conv2d_transpose", "atrous_conv2d"]

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
