"""GPU (CuPy) kernels registered for the ops whose generic `xp` kernel costs many launches or
a host round trip on a GPU. Imported by `actorflow.session.devices.gpu_backend()` once CuPy
has imported and seen a CUDA device; `import actorflow` never imports it.

Every other op runs its generic kernel with ``xp = cupy``. A special kernel here pays because
a GPU step of a small or medium model is bound by kernel launches (~5-10 µs each from
Python), not by arithmetic, and because a device-to-host copy stalls the stream:

- Optimizer updates (ApplyGradientDescent, ApplyMomentum, ApplyAdagrad, ApplyRMSProp,
  ApplyAdam): one fused `ElementwiseKernel` updates the variable and its slots in place,
  reading the scalar hyper-parameters as device scalars (Adam's bias-corrected rate is
  computed inside). The generic update is 4-12 ufunc launches plus 2-6 for its constants;
  this is one. The operand checks are the generic kernel's own (the fused step is plugged
  into `ops.training`'s kernel factory).
- Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput: im2col as one strided copy (an
  `as_strided` window view of the padded input, made contiguous by one reshape) and one
  cuBLAS GEMM per block of images; the input gradient is one GEMM and one gather kernel
  (col2im: each input element sums the patch entries that read it — deterministic, no
  atomics). The generic kernels copy or scatter one window tap at a time (kh*kw launches per
  call: 121 for an 11x11 filter). CuPy 14 ships no cuDNN binding (`cupyx.cudnn` is gone),
  so im2col + GEMM is the GPU path; ``CONV_ALGO = "generic"`` selects the generic kernels
  instead (read when a plan is compiled), so benchmarks/gpu_alexnet.py can measure both.
  ``COL_BYTES`` bounds the im2col buffer: larger batches run in blocks of images.
- MaxPool, MaxPoolGrad, AvgPool, AvgPoolGrad: one kernel each instead of one per window
  tap. The gradients gather (each input element visits the windows that contain it), so
  sums are deterministic; MaxPoolGrad routes each window's gradient to its first maximum in
  row-major order, exactly as the generic kernel (and TensorFlow's CPU kernel) do.
- LRN (one kernel) and LRNGrad (two): the channel-window sums run inside the kernel instead
  of 2r+4 shifted-slice launches.
- SoftmaxCrossEntropyWithLogits (2-D logits, at most ``SCE_MAX_CLASSES`` classes) and
  SparseSoftmaxCrossEntropyWithLogits: one kernel, one thread per row, for loss and backprop
  (generic: ~10 launches; the sparse one also checked the labels on the host, two
  device-to-host syncs per step). On the GPU an out-of-range label gives NaN loss and
  backprop for its row, as TensorFlow's GPU kernel does, instead of an error.
- Erf: CUDA's erf() (the generic kernel copies to the host and back).
- Reshape with a constant shape: the shape is read to the host once per plan constant
  (recognised by identity: a fed value is a new array) instead of once per call; each read
  is a device-to-host copy that waits for the stream.

Not done: fusing BiasAdd + ReLU (and similar elementwise chains) needs a graph pattern pass
in the compiler; there is none yet, and ops stay one kernel each.

The special kernels handle float32 and float64; other dtypes use the generic kernels.
"""
from __future__ import annotations

import dataclasses

import cupy
import numpy as np
from cupy.lib.stride_tricks import as_strided

from ..framework.registry import get_op_def, register_kernel
from ..ops import conv as _conv
from ..ops import pooling as _pool
from ..ops import training as _training
from ..ops._common import host_ints
from ..ops.normalization import _lrn_attrs

__all__ = ["CONV_ALGO", "COL_BYTES", "SCE_MAX_CLASSES", "KERNEL_SOURCES"]

#: "im2col" (strided im2col + cuBLAS GEMM, gather col2im) or "generic" (the ops' own kernels).
CONV_ALGO = "im2col"

#: Largest im2col buffer (bytes) a convolution kernel builds at once.
COL_BYTES = 256 << 20

#: Widest softmax cross-entropy the one-thread-per-row kernel takes; wider rows use the
#: generic kernel (whose launches are then cheap next to the row work).
SCE_MAX_CLASSES = 4096

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _is_float(t) -> bool:
    return np.dtype(t.dtype.np) in _FLOATS


def _generic(op_type: str):
    return get_op_def(op_type).kernel


def _floats_only(op_type: str, special, index: int = 0):
    """A GPU factory running `special` for float32/float64 input `index`, else the generic."""
    generic = _generic(op_type)

    def factory(op, ctx):
        if _is_float(op.inputs[index]):
            return special(op, ctx)
        return generic(op, ctx)
    factory.__name__ = f"{special.__name__}_gpu"
    return factory


# -- CUDA sources ----------------------------------------------------------------------------
# (in params, out params, body) of each ElementwiseKernel; `i` is the element index of the
# non-raw operands. Kept as data so tools can compile and check them off the GPU.
KERNEL_SOURCES: dict = {}


def _kernel(name: str, params: str, outs: str, body: str):
    KERNEL_SOURCES[name] = (params, outs, body)
    return cupy.ElementwiseKernel(params, outs, body, f"actorflow_{name}")


# optimizers: the generic kernels' formulas and operation order (ops/training.py)
_GD = _kernel("apply_gd", "T delta, T alpha", "T var", "var -= delta * alpha;")
_MOMENTUM = _kernel(
    "apply_momentum", "T grad, T lr, T momentum", "T var, T accum",
    "accum = accum * momentum + grad; var -= accum * lr;")
_MOMENTUM_NESTEROV = _kernel(
    "apply_momentum_nesterov", "T grad, T lr, T momentum", "T var, T accum",
    "accum = accum * momentum + grad; var -= (accum * momentum + grad) * lr;")
_ADAGRAD = _kernel(
    "apply_adagrad", "T grad, T lr", "T var, T accum",
    "accum += grad * grad; var -= grad / sqrt(accum) * lr;")
_ADAGRAD_NO_SLOTS = _kernel(
    "apply_adagrad_no_slots", "T grad, T lr", "T var, T accum",
    "var -= grad / sqrt(accum) * lr;")
_RMSPROP = _kernel(
    "apply_rmsprop", "T grad, T lr, T rho, T momentum, T eps", "T var, T ms, T mom",
    """const T one_minus_rho = 1 - rho;
    ms += (grad * grad - ms) * one_minus_rho;
    mom = mom * momentum + grad / sqrt(ms + eps) * lr;
    var -= mom;""")
_ADAM_HEAD = """const T lr_t = lr * sqrt(1 - b2p) / (1 - b1p);
    m = m * b1 + grad * (1 - b1);
    v = v * b2 + grad * grad * (1 - b2);
    """
_ADAM = _kernel(
    "apply_adam", "T grad, T b1p, T b2p, T lr, T b1, T b2, T eps", "T var, T m, T v",
    _ADAM_HEAD + "var -= m / (sqrt(v) + eps) * lr_t;")
_ADAM_NESTEROV = _kernel(
    "apply_adam_nesterov", "T grad, T b1p, T b2p, T lr, T b1, T b2, T eps", "T var, T m, T v",
    _ADAM_HEAD + "var -= (m * b1 + grad * (1 - b1)) / (sqrt(v) + eps) * lr_t;")

# NHWC index decoding shared by the window kernels: (n, row, col, channel) of element i of an
# (n, rows, cols, c) array.
_DECODE = """const int cc = (int)(i % c);
    long long t_ = i / c;
    const int {col} = (int)(t_ % {cols});
    t_ /= {cols};
    const int {row} = (int)(t_ % {rows});
    const long long nn = t_ / {rows};
    """
_GEOM = ("int32 h, int32 w, int32 c, int32 ho, int32 wo, int32 kh, int32 kw, int32 sh, "
         "int32 sw")

# col2im: each input element of Conv2DBackpropInput sums the column entries that read it
_COL2IM = _kernel(
    "col2im", "raw T col, " + _GEOM + ", int32 dh, int32 dw, int32 pt, int32 pl", "T dx",
    _DECODE.format(row="xr", col="xq", rows="h", cols="w") + """T acc = 0;
    for (int a = 0; a < kh; ++a) {
      const int hr = xr + pt - a * dh;
      if (hr < 0) break;
      if (hr % sh) continue;
      const int oh = hr / sh;
      if (oh >= ho) continue;
      for (int b = 0; b < kw; ++b) {
        const int wq = xq + pl - b * dw;
        if (wq < 0) break;
        if (wq % sw) continue;
        const int ow = wq / sw;
        if (ow >= wo) continue;
        acc += col[((((nn * ho + oh) * wo + ow) * kh + a) * kw + b) * c + cc];
      }
    }
    dx = acc;""")

_MAX_POOL = _kernel(
    "max_pool", "raw T x, " + _GEOM + ", int32 pt, int32 pl", "T y",
    _DECODE.format(row="oh", col="ow", rows="ho", cols="wo") + """const int h0 = oh * sh - pt;
    const int w0 = ow * sw - pl;
    T best = 0;
    bool found = false;
    for (int a = 0; a < kh; ++a) {
      const int r = h0 + a;
      if (r < 0 || r >= h) continue;
      for (int b = 0; b < kw; ++b) {
        const int q = w0 + b;
        if (q < 0 || q >= w) continue;
        const T v = x[((nn * h + r) * w + q) * c + cc];
        if (!found || v > best || v != v) { best = v; found = true; }
      }
    }
    y = best;""")

# the windows (oh, ow) containing input element (xr, xq), for the gathering gradients
_WINDOWS_OF = """const int lo_h = xr + pt - kh + 1;
    const int oh_lo = lo_h <= 0 ? 0 : (lo_h + sh - 1) / sh;
    const int oh_hi = min((xr + pt) / sh, ho - 1);
    const int lo_w = xq + pl - kw + 1;
    const int ow_lo = lo_w <= 0 ? 0 : (lo_w + sw - 1) / sw;
    const int ow_hi = min((xq + pl) / sw, wo - 1);
    """

_MAX_POOL_GRAD = _kernel(
    "max_pool_grad", "raw T x, raw T y, raw T dy, " + _GEOM + ", int32 pt, int32 pl", "T dx",
    _DECODE.format(row="xr", col="xq", rows="h", cols="w") + _WINDOWS_OF + """const T xv = x[i];
    T acc = 0;
    for (int oh = oh_lo; oh <= oh_hi; ++oh) {
      const int h0 = oh * sh - pt;
      for (int ow = ow_lo; ow <= ow_hi; ++ow) {
        const int w0 = ow * sw - pl;
        const long long o = ((nn * ho + oh) * wo + ow) * c + cc;
        const T yv = y[o];
        if (xv != yv) continue;
        bool first = true;  // no earlier (row-major) element of the window equals yv
        for (int r = max(h0, 0); r <= xr && first; ++r) {
          const int q_end = r == xr ? xq : min(w0 + kw, w);
          for (int q = max(w0, 0); q < q_end; ++q) {
            if (x[((nn * h + r) * w + q) * c + cc] == yv) { first = false; break; }
          }
        }
        if (first) acc += dy[o];
      }
    }
    dx = acc;""")

_AVG_POOL = _kernel(
    "avg_pool", "raw T x, " + _GEOM + ", int32 pt, int32 pl", "T y",
    _DECODE.format(row="oh", col="ow", rows="ho", cols="wo") + """const int h0 = oh * sh - pt;
    const int w0 = ow * sw - pl;
    const int r0 = max(h0, 0), r1 = min(h0 + kh, h);
    const int q0 = max(w0, 0), q1 = min(w0 + kw, w);
    T acc = 0;
    for (int r = r0; r < r1; ++r)
      for (int q = q0; q < q1; ++q) acc += x[((nn * h + r) * w + q) * c + cc];
    y = acc / (T)((r1 - r0) * (q1 - q0));""")

_AVG_POOL_GRAD = _kernel(
    "avg_pool_grad", "raw T dy, " + _GEOM + ", int32 pt, int32 pl", "T dx",
    _DECODE.format(row="xr", col="xq", rows="h", cols="w") + _WINDOWS_OF + """T acc = 0;
    for (int oh = oh_lo; oh <= oh_hi; ++oh) {
      const int h0 = oh * sh - pt;
      const int rows = min(h0 + kh, h) - max(h0, 0);
      for (int ow = ow_lo; ow <= ow_hi; ++ow) {
        const int w0 = ow * sw - pl;
        const int cols = min(w0 + kw, w) - max(w0, 0);
        acc += dy[((nn * ho + oh) * wo + ow) * c + cc] / (T)(rows * cols);
      }
    }
    dx = acc;""")

# LRN over the last axis: norm = bias + alpha * sum_{|j-d| <= r} x[j]^2
_LRN_NORM = """const int d = (int)(i % depth);
    const long long base = i - d;
    const int lo = max(d - radius, 0), hi = min(d + radius, depth - 1);
    T s = 0;
    for (int j = lo; j <= hi; ++j) { const T u = x[base + j]; s += u * u; }
    const T norm = bias + alpha * s;
    """
_LRN = _kernel("lrn", "raw T x, int32 depth, int32 radius, T bias, T alpha, T beta", "T y",
               _LRN_NORM + "y = x[i] * pow(norm, -beta);")
_LRN_GRAD_PASS1 = _kernel(
    "lrn_grad_norm", "raw T x, T dy, T yv, int32 depth, int32 radius, T bias, T alpha",
    "T nrm, T ratio", _LRN_NORM + "nrm = norm; ratio = dy * yv / norm;")
_LRN_GRAD_PASS2 = _kernel(
    "lrn_grad", "raw T ratio, T xv, T dy, T nrm, int32 depth, int32 radius, T alpha, T beta",
    "T dx", """const int d = (int)(i % depth);
    const long long base = i - d;
    const int lo = max(d - radius, 0), hi = min(d + radius, depth - 1);
    T s = 0;
    for (int j = lo; j <= hi; ++j) s += ratio[base + j];
    dx = dy * pow(nrm, -beta) - 2 * alpha * beta * xv * s;""")

# softmax cross-entropy, one thread per row of `ncls` logits
_ROW_MAX = """const long long row = i * ncls;
    T mx = x[row];
    for (int j = 1; j < ncls; ++j) {
      const T u = x[row + j];
      if (u > mx || u != u) mx = u;
    }
    """
_SCE = _kernel(
    "softmax_xent", "raw T x, raw T z, int32 ncls", "T loss, raw T bp",
    _ROW_MAX + """T s = 0, zx = 0, zs = 0;
    for (int j = 0; j < ncls; ++j) {
      const T e = x[row + j] - mx;
      zx += z[row + j] * e;
      zs += z[row + j];
      s += exp(e);
    }
    loss = log(s) * zs - zx;
    const T k = zs / s;
    for (int j = 0; j < ncls; ++j) bp[row + j] = exp(x[row + j] - mx) * k - z[row + j];""")
_SPARSE_SCE = _kernel(
    "sparse_softmax_xent", "raw T x, raw L labels, int32 ncls", "T loss, raw T bp",
    _ROW_MAX + """const long long label = (long long)labels[i];
    if (label < 0 || label >= ncls) {  // TensorFlow's GPU kernel: NaN, no error
      loss = (T)nan("");
      for (int j = 0; j < ncls; ++j) bp[row + j] = (T)nan("");
    } else {
      T s = 0;
      for (int j = 0; j < ncls; ++j) s += exp(x[row + j] - mx);
      loss = log(s) - (x[row + label] - mx);
      for (int j = 0; j < ncls; ++j)
        bp[row + j] = exp(x[row + j] - mx) / s - (j == label ? (T)1 : (T)0);
    }""")

_ERF = _kernel("erf", "T x", "T y", "y = erf(x);")


# -- optimizer updates -------------------------------------------------------------------------
def _device_scalars(*xs) -> tuple:
    return tuple(x if isinstance(x, cupy.ndarray) else cupy.asarray(x) for x in xs)


def _fused_spec(op_type: str, prepare, step, nesterov_step=None) -> _training._ApplySpec:
    spec = next(s for s in _training.SPECS if s.type == op_type)
    return dataclasses.replace(spec, prepare=prepare, step=step, n_scratch=0,
                               nesterov_step=nesterov_step)


def _pass_scalars(xp, dt, attrs, *scalars):
    return _device_scalars(*scalars)


def _gd_step(xp, var, grad, alpha):
    _GD(grad, alpha, var)


def _momentum_prepare(xp, dt, attrs, lr, momentum):
    return _device_scalars(lr, momentum) + (bool(attrs.get("use_nesterov", False)),)


def _momentum_step(xp, var, accum, grad, lr, momentum, nesterov):
    (_MOMENTUM_NESTEROV if nesterov else _MOMENTUM)(grad, lr, momentum, var, accum)


def _adagrad_prepare(xp, dt, attrs, lr):
    return _device_scalars(lr) + (bool(attrs.get("update_slots", True)),)


def _adagrad_step(xp, var, accum, grad, lr, update_slots):
    (_ADAGRAD if update_slots else _ADAGRAD_NO_SLOTS)(grad, lr, var, accum)


def _rmsprop_step(xp, var, ms, mom, grad, lr, rho, momentum, eps):
    _RMSPROP(grad, lr, rho, momentum, eps, var, ms, mom)


def _adam_step(xp, var, m, v, grad, b1p, b2p, lr, b1, b2, eps):
    _ADAM(grad, b1p, b2p, lr, b1, b2, eps, var, m, v)


def _adam_nesterov_step(xp, var, m, v, grad, _scratch, b1p, b2p, lr, b1, b2, eps):
    _ADAM_NESTEROV(grad, b1p, b2p, lr, b1, b2, eps, var, m, v)


_FUSED_UPDATES = {
    "ApplyGradientDescent": _fused_spec("ApplyGradientDescent", _pass_scalars, _gd_step),
    "ApplyMomentum": _fused_spec("ApplyMomentum", _momentum_prepare, _momentum_step),
    "ApplyAdagrad": _fused_spec("ApplyAdagrad", _adagrad_prepare, _adagrad_step),
    "ApplyRMSProp": _fused_spec("ApplyRMSProp", _pass_scalars, _rmsprop_step),
    "ApplyAdam": _fused_spec("ApplyAdam", _pass_scalars, _adam_step, _adam_nesterov_step),
}


def _fused_update(spec):
    """The generic Apply kernel (operand checks included) running the fused step."""
    return _training._apply_kernel(spec)


# -- convolutions ------------------------------------------------------------------------------
def _image_blocks(n: int, per_image: int) -> list:
    """[(start, stop)] image ranges whose im2col columns fit COL_BYTES."""
    step = max(1, COL_BYTES // max(per_image, 1))
    return [(s, min(n, s + step)) for s in range(0, n, step)]


def _columns(xpad, g: _conv.Geometry, lo: int, hi: int):
    """The (images*ho*wo, kh*kw*c) im2col matrix of images [lo, hi) of the padded input."""
    s_n, s_h, s_w, s_c = xpad.strides
    part = xpad[lo:hi]
    win = as_strided(part, (hi - lo, g.ho, g.wo, g.kh, g.kw, g.c),
                     (s_n, s_h * g.sh, s_w * g.sw, s_h * g.dh, s_w * g.dw, s_c))
    return win.reshape((hi - lo) * g.ho * g.wo, g.kh * g.kw * g.c)


def _per_image_cols(g: _conv.Geometry, itemsize: int) -> int:
    return g.ho * g.wo * g.kh * g.kw * g.c * itemsize


def _conv2d(op, ctx):
    if CONV_ALGO != "im2col":
        return _generic("Conv2D")(op, ctx)
    geom = _conv.conv_geometry_getter(op)

    def conv2d(x, f):
        g = geom(x.shape, f.shape)
        co = f.shape[3]
        w2 = f.reshape(-1, co)
        xpad = _conv.pad_nhwc(cupy, x, g)
        blocks = _image_blocks(g.n, _per_image_cols(g, x.itemsize))
        if len(blocks) == 1:
            out = cupy.matmul(_columns(xpad, g, 0, g.n), w2)
            return out.reshape(g.n, g.ho, g.wo, co)
        out = cupy.empty((g.n, g.ho, g.wo, co), dtype=x.dtype)
        for lo, hi in blocks:
            cupy.matmul(_columns(xpad, g, lo, hi), w2,
                        out=out[lo:hi].reshape(-1, co))
        return out
    return conv2d


def _conv2d_backprop_filter(op, ctx):
    if CONV_ALGO != "im2col":
        return _generic("Conv2DBackpropFilter")(op, ctx)
    geom = _conv.conv_geometry_getter(op)

    def conv2d_backprop_filter(x, sizes, dy):
        fs = host_ints(sizes)
        g = geom(x.shape, fs)
        xpad = _conv.pad_nhwc(cupy, x, g)
        dw = None
        for lo, hi in _image_blocks(g.n, _per_image_cols(g, x.itemsize)):
            part = cupy.matmul(_columns(xpad, g, lo, hi).T, dy[lo:hi].reshape(-1, fs[3]))
            if dw is None:
                dw = part
            else:
                dw += part
        return dw.reshape(fs)
    return conv2d_backprop_filter


def _conv2d_backprop_input(op, ctx):
    if CONV_ALGO != "im2col":
        return _generic("Conv2DBackpropInput")(op, ctx)
    geom = _conv.conv_geometry_getter(op)

    def conv2d_backprop_input(sizes, f, dy):
        g = geom(host_ints(sizes), f.shape)
        co = f.shape[3]
        w2t = f.reshape(-1, co).T
        dx = cupy.empty((g.n, g.h, g.w, g.c), dtype=dy.dtype)
        for lo, hi in _image_blocks(g.n, _per_image_cols(g, dy.itemsize)):
            col = cupy.matmul(dy[lo:hi].reshape(-1, co), w2t)
            _COL2IM(col, g.h, g.w, g.c, g.ho, g.wo, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw,
                    g.pt, g.pl, dx[lo:hi])
        return dx
    return conv2d_backprop_input


# -- pooling -----------------------------------------------------------------------------------
def _window_args(g: _conv.Geometry) -> tuple:
    return (g.h, g.w, g.c, g.ho, g.wo, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl)


def _pool_forward(kernel):
    """GPU factory of a pooling op computed by one window kernel over its outputs."""
    def factory(op, ctx):
        geom = _pool.pool_geometry_getter(op)

        def pool(x):
            x = cupy.ascontiguousarray(x)
            g = geom(x.shape)
            y = cupy.empty((g.n, g.ho, g.wo, g.c), dtype=x.dtype)
            return kernel(x, *_window_args(g), y)
        return pool
    return factory


_max_pool = _pool_forward(_MAX_POOL)
_avg_pool = _pool_forward(_AVG_POOL)


def _max_pool_grad(op, ctx):
    geom = _pool.pool_geometry_getter(op)

    def max_pool_grad(x, y, dy):
        x, y = cupy.ascontiguousarray(x), cupy.ascontiguousarray(y)
        dy = cupy.ascontiguousarray(dy)
        g = geom(x.shape)
        dx = cupy.empty(x.shape, dtype=dy.dtype)
        return _MAX_POOL_GRAD(x, y, dy, *_window_args(g), dx)
    return max_pool_grad


def _avg_pool_grad(op, ctx):
    geom = _pool.pool_geometry_getter(op)

    def avg_pool_grad(sizes, dy):
        dy = cupy.ascontiguousarray(dy)
        g = geom(host_ints(sizes))
        dx = cupy.empty((g.n, g.h, g.w, g.c), dtype=dy.dtype)
        return _AVG_POOL_GRAD(dy, *_window_args(g), dx)
    return avg_pool_grad


# -- LRN -----------------------------------------------------------------------------------------
def _lrn(op, ctx):
    r, bias, alpha, beta = _lrn_attrs(op)

    def lrn(x):
        x = cupy.ascontiguousarray(x)
        t = x.dtype.type
        y = cupy.empty_like(x)
        return _LRN(x, x.shape[-1], r, t(bias), t(alpha), t(beta), y)
    return lrn


def _lrn_grad(op, ctx):
    r, bias, alpha, beta = _lrn_attrs(op)

    def lrn_grad(dy, x, y):
        x = cupy.ascontiguousarray(x)
        t, depth = x.dtype.type, x.shape[-1]
        norm, ratio = _LRN_GRAD_PASS1(x, dy, y, depth, r, t(bias), t(alpha))
        dx = cupy.empty_like(x)
        return _LRN_GRAD_PASS2(ratio, x, dy, norm, depth, r, t(alpha), t(beta), dx)
    return lrn_grad


# -- softmax cross-entropy -----------------------------------------------------------------------
def _sce(op, ctx):
    generic = _generic("SoftmaxCrossEntropyWithLogits")(op, ctx)
    x_shape = op.inputs[0]._shape
    if x_shape is None or len(x_shape) != 2 or op.attrs["axis"] not in (-1, 1):
        return generic

    def softmax_cross_entropy(x, z):
        if x.shape != z.shape or x.shape[1] > SCE_MAX_CLASSES:
            return generic(x, z)  # the generic kernel reports mismatched shapes
        x, z = cupy.ascontiguousarray(x), cupy.ascontiguousarray(z)
        loss = cupy.empty(x.shape[0], dtype=x.dtype)
        bp = cupy.empty_like(x)
        _SCE(x, z, x.shape[1], loss, bp)
        return loss, bp
    return softmax_cross_entropy


def _sparse_sce(op, ctx):
    generic = _generic("SparseSoftmaxCrossEntropyWithLogits")(op, ctx)

    def sparse_softmax_cross_entropy(x, labels):
        c = x.shape[-1]
        if x.shape[:-1] != labels.shape or c > SCE_MAX_CLASSES:
            return generic(x, labels)  # the generic kernel reports mismatched shapes
        x2 = cupy.ascontiguousarray(x.reshape(-1, c))
        t1 = cupy.ascontiguousarray(labels.reshape(-1))
        loss = cupy.empty(x2.shape[0], dtype=x.dtype)
        bp = cupy.empty_like(x2)
        _SPARSE_SCE(x2, t1, c, loss, bp)
        return loss.reshape(labels.shape), bp.reshape(x.shape)
    return sparse_softmax_cross_entropy


# -- Erf, Reshape --------------------------------------------------------------------------------
def _erf(op, ctx):
    return _ERF


def _reshape(op, ctx):
    generic = _generic("Reshape")(op, ctx)
    if op.inputs[1].op.type != "Const":
        return generic
    last: list = [None, None]  # (the plan's shape array, its host value)

    def reshape_const(x, s):
        if s is not last[0]:
            last[0], last[1] = s, host_ints(s)
        return cupy.reshape(x, last[1])
    return reshape_const


# -- registration --------------------------------------------------------------------------------
def _register() -> None:
    for op_type, spec in _FUSED_UPDATES.items():
        register_kernel(op_type, "GPU", _floats_only(op_type, _fused_update(spec)))
    specials = [("Conv2D", _conv2d, 0), ("Conv2DBackpropFilter", _conv2d_backprop_filter, 0),
                ("Conv2DBackpropInput", _conv2d_backprop_input, 1),
                ("MaxPool", _max_pool, 0), ("MaxPoolGrad", _max_pool_grad, 0),
                ("AvgPool", _avg_pool, 0), ("AvgPoolGrad", _avg_pool_grad, 1),
                ("LRN", _lrn, 0), ("LRNGrad", _lrn_grad, 0),
                ("SoftmaxCrossEntropyWithLogits", _sce, 0),
                ("SparseSoftmaxCrossEntropyWithLogits", _sparse_sce, 0),
                ("Erf", _erf, 0)]
    for op_type, special, index in specials:
        register_kernel(op_type, "GPU", _floats_only(op_type, special, index))
    register_kernel("Reshape", "GPU", _reshape)


_register()
