"""Normalisation ops (part of `tf.nn`): l2_normalize, moments, batch_normalization, the
fused 4-D batch norm and local response normalisation.

Registers: FusedBatchNorm, FusedBatchNormGrad, LRN, LRNGrad. `l2_normalize`, `moments` and
`batch_normalization` are composites of math ops. LRNGrad is not differentiable.

FusedBatchNorm returns the batch mean and 1/√(var+ε) it computed as extra outputs, so its
gradient (FusedBatchNormGrad) does not recompute the statistics.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, convert_to_tensor, make_op
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import out1
from .conv import _check_float, _rank4
from .math import add, multiply, negative, square, subtract
from .reduction import reduce_mean, reduce_sum
from .nn import _merge_shapes

__all__ = ["l2_normalize", "moments", "batch_normalization", "fused_batch_norm", "lrn",
           "local_response_normalization"]


# -- l2_normalize --------------------------------------------------------------------------


def l2_normalize(x, dim=None, epsilon=1e-12, name=None, axis=None) -> Tensor:
    """x / sqrt(max(Σ x² along `dim`, epsilon))."""
    from .math import maximum
    from .unary import rsqrt
    x = convert_to_tensor(x, name="x")
    a = axis if axis is not None else dim
    square_sum = reduce_sum(square(x), a, keep_dims=True)
    inv_norm = rsqrt(maximum(square_sum, epsilon))
    return multiply(x, inv_norm, name=name or "l2_normalize")


# -- moments / batch_normalization ---------------------------------------------------------
def moments(x, axes, shift=None, name=None, keep_dims=False):
    """(mean, variance) of `x` over `axes`; `shift` is accepted and unused, as in TF 1.x."""
    from .array import squeeze, stop_gradient
    x = convert_to_tensor(x, name="x")
    axes = [int(a) for a in np.ravel(axes)]
    mean = reduce_mean(x, axes, keep_dims=True, name="mean")
    variance = reduce_mean(square(subtract(x, stop_gradient(mean))), axes,
                           keep_dims=keep_dims, name="variance")
    if not keep_dims:
        mean = squeeze(mean, axes, name=name or "mean")
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) · scale / sqrt(variance + ε) + offset.

    Computed as x · inv + (offset - mean · inv), inv = scale / sqrt(variance + ε); `offset`
    and `scale` may be None (0 and 1).
    """
    from .unary import rsqrt
    x = convert_to_tensor(x, name="x")
    inv = rsqrt(add(variance, variance_epsilon))
    if scale is not None:
        inv = multiply(inv, scale)
    shift = negative(multiply(mean, inv)) if offset is None else \
        subtract(offset, multiply(mean, inv))
    return add(multiply(x, inv), shift, name=name or "batchnorm")


# -- FusedBatchNorm / FusedBatchNormGrad ---------------------------------------------------
def _fbn_infer(op):
    x, scale, offset, mean, var = op.inputs
    if x.dtype not in (dtypes.float16, dtypes.float32, dtypes.float64):
        raise TypeError(f"FusedBatchNorm expects a float input, got {x.dtype.name}")
    if x._shape is not None and len(x._shape) != 4:
        raise ValueError(f"input must be 4-dimensional, got shape {list(x._shape)}")
    pdt = scale.dtype
    c = None
    if x._shape is not None:
        c = x._shape[1 if op.attrs["data_format"] == "NCHW" else 3]
    params = [scale, offset] if op.attrs["is_training"] else [scale, offset, mean, var]
    for t in params:
        if t.dtype != pdt:
            raise TypeError(f"FusedBatchNorm: {t.name} is {t.dtype.name}, scale is {pdt.name}")
        if t._shape is not None:
            if len(t._shape) != 1:
                raise ValueError(f"{t.name} must be 1-dimensional, got {list(t._shape)}")
            c = _merge_shapes((c,), t._shape, "FusedBatchNorm channels")[0]
    return [(x.dtype, x._shape)] + [(pdt, (c,))] * 4


def _fbn_layout(data_format: str):
    """(reduction axes, einsum spec of Σ over them, parameter reshape) for a 4-D layout."""
    if data_format == "NCHW":
        return (0, 2, 3), "nchw,nchw->c", (lambda p: p.reshape(1, -1, 1, 1))
    return (0, 1, 2), "nhwc,nhwc->c", (lambda p: p)


def _fbn_kernel(op, ctx):
    xp = ctx.xp
    eps = float(op.attrs["epsilon"])
    training = op.attrs["is_training"]
    axes, spec, bshape = _fbn_layout(op.attrs["data_format"])
    ydt = op.outputs[0].dtype.np
    pdt = op.outputs[1].dtype.np
    work_dt = np.promote_types(ydt, pdt)

    def fused_batch_norm_(x, scale, offset, mean, var):
        xw = x.astype(work_dt, copy=False)
        if training:
            mean = xw.mean(axis=axes, dtype=work_dt)
            xc = xw - bshape(mean)
            n = x.size // mean.size
            var = xp.einsum(spec, xc, xc)
            var /= n
            batch_var = var * (n / (n - 1)) if n > 1 else var
        else:
            xc = xw - bshape(mean.astype(work_dt, copy=False))
            batch_var = var
        inv = 1.0 / xp.sqrt(var.astype(work_dt, copy=False) + eps)
        xc *= bshape(inv * scale)
        xc += bshape(offset.astype(work_dt, copy=False))
        # the statistics are C-sized: fresh copies keep outputs from aliasing inputs or each other
        return (xc.astype(ydt, copy=False), mean.astype(pdt), batch_var.astype(pdt),
                mean.astype(pdt), inv.astype(pdt))
    return fused_batch_norm_


def _fbn_grad(op, grad_y, *_):
    """Returns (dx, dscale, doffset) from the saved mean and 1/√(var+ε); mean/variance: None.

    Training: dx = scale·inv·(g - mean(g) - x̂·mean(g·x̂)), x̂ = (x - μ)·inv; inference:
    dx = g·scale·inv; dscale = Σ g·x̂, doffset = Σ g. Gradients reaching the batch_mean and
    batch_var outputs are not propagated (as in TensorFlow).
    """
    x, scale = op.inputs[:2]
    outs = make_op("FusedBatchNormGrad", [grad_y, x, scale, op.outputs[3], op.outputs[4]],
                   {k: op.attrs[k] for k in ("epsilon", "data_format", "is_training")},
                   "FusedBatchNormGrad").outputs
    return [outs[0], outs[1], outs[2], None, None]


def _fbn_grad_infer(op):
    g, x, scale = op.inputs[:3]
    return [(x.dtype, _merge_shapes(g._shape, x._shape, "FusedBatchNormGrad")),
            (scale.dtype, scale._shape), (scale.dtype, scale._shape)]


def _fbn_grad_kernel(op, ctx):
    xp = ctx.xp
    training = op.attrs["is_training"]
    axes, spec, bshape = _fbn_layout(op.attrs["data_format"])
    xdt = op.outputs[0].dtype.np
    pdt = op.outputs[1].dtype.np
    work_dt = np.promote_types(xdt, pdt)

    def fused_batch_norm_grad(g, x, scale, mean, inv):
        gw = g.astype(work_dt, copy=False)
        xhat = xp.subtract(x, bshape(mean), dtype=work_dt)
        xhat *= bshape(inv)
        doffset = gw.sum(axis=axes)
        dscale = xp.einsum(spec, gw, xhat)
        if training:  # dx = scale·inv·(g - mean(g) - x̂·mean(g·x̂)), in place in x̂
            n = x.size // doffset.size
            xhat *= bshape(dscale / n)
            dx = xp.subtract(gw, xhat, out=xhat)
            dx -= bshape(doffset / n)
            dx *= bshape(scale * inv)
        else:
            dx = xp.multiply(gw, bshape(scale * inv))
        return (dx.astype(xdt, copy=False), dscale.astype(pdt, copy=False),
                doffset.astype(pdt, copy=False))
    return fused_batch_norm_grad


register_op("FusedBatchNorm", infer=_fbn_infer, grad=_fbn_grad, kernel=_fbn_kernel,
            doc="Batch normalisation of 4-D x over N, H, W; also returns the statistics.")
register_op("FusedBatchNormGrad", infer=_fbn_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_fbn_grad_kernel,
            doc="(dx, dscale, doffset) of FusedBatchNorm from its saved mean and 1/√(var+ε).")


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None):
    """Batch normalisation of a 4-D tensor in one op: returns (y, batch_mean, batch_var).

    Training normalises with the batch statistics (biased variance) and returns batch_var with
    Bessel's correction n/(n-1), for running averages, as TensorFlow does. Inference
    (`is_training=False`) uses the given `mean` and `variance` and returns them.

    Raises:
        ValueError: inference without `mean` and `variance`, or an unknown data_format.
    """
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"fused_batch_norm: data_format must be NHWC or NCHW, got "
                         f"{data_format!r}")
    x = convert_to_tensor(x, name="input")
    scale = convert_to_tensor(scale, name="scale")
    offset = convert_to_tensor(offset, dtype=scale.dtype, name="offset")
    if mean is None or variance is None:
        if not is_training:
            raise ValueError("Both 'mean' and 'variance' must be a 1-D tensor when "
                             "is_training is False.")
        mean = variance = convert_to_tensor(np.zeros((0,), scale.dtype.np), name="empty")
    mean = convert_to_tensor(mean, dtype=scale.dtype, name="mean")
    variance = convert_to_tensor(variance, dtype=scale.dtype, name="variance")
    op = make_op("FusedBatchNorm", [x, scale, offset, mean, variance],
                 {"epsilon": float(epsilon), "data_format": data_format,
                  "is_training": bool(is_training)}, name or "FusedBatchNorm")
    return op.outputs[0], op.outputs[1], op.outputs[2]


# -- LRN / LRNGrad -------------------------------------------------------------------------
#: Input bytes an LRN kernel handles per pass on the host: the squares, window sums and powers
#: of one block stay in cache between their passes (measured on AlexNet's LRN inputs).
LRN_BLOCK_BYTES = 256 << 10


def channel_band(depth: int, r: int, scale: float, dtype) -> np.ndarray:
    """(depth, depth) matrix with `scale` where |i - j| <= r, else 0: v @ band is the scaled
    sum of v over the channel window [d - r, d + r], clipped to the channel range."""
    d = np.arange(depth)
    return np.where(np.abs(d[:, None] - d[None, :]) <= r, scale, 0).astype(dtype)


def _power(xp, base, beta: float, work):
    """base ** beta, in `base` or `work` (both overwritten): square roots and products for
    the betas 0.5, 0.75 (AlexNet's, CIFAR's) and 1, which are cheaper than power."""
    if beta == 1.0:
        return base
    if beta == 0.5:
        return xp.sqrt(base, out=base)
    if beta == 0.75:  # base^0.75 = sqrt(base) * sqrt(sqrt(base))
        root = xp.sqrt(base, out=work)
        xp.sqrt(root, out=base)
        root *= base
        return root
    return xp.power(base, beta, out=base)


#: Output channels per banded GEMM on the host: the window sum of a tile of 32 channels reads
#: 32 + 2r, so wide inputs skip most of the band's zeros (AlexNet's 192 channels, r = 4: 2.5-3x
#: faster than one GEMM with the whole band; no slower at 64 channels).
LRN_CHANNEL_TILE = 32


class _LrnBlocks:
    """The LRN kernels' shared parts: the row blocks of a (..., depth) input seen as a
    matrix, and the channel window sum as GEMMs with band matrices, cached per (depth,
    scale, dtype) on the kernel's device."""

    def __init__(self, xp, r: int) -> None:
        self._xp = xp
        self._r = r
        self._bands: dict = {}
        self._host = xp is np

    def _tiles(self, depth: int, scale: float, dtype) -> list:
        """[(lo, hi, c0, c1, band[lo:hi, c0:c1])]: input channels lo..hi give outputs c0..c1."""
        key = (depth, scale, np.dtype(dtype))
        tiles = self._bands.get(key)
        if tiles is None:
            band = channel_band(depth, self._r, scale, dtype)
            tile = LRN_CHANNEL_TILE if self._host else depth
            if depth <= tile + 2 * self._r:
                tile = depth
            tiles = []
            for c0 in range(0, depth, tile):
                c1 = min(depth, c0 + tile)
                lo, hi = max(0, c0 - self._r), min(depth, c1 + self._r)
                tiles.append((lo, hi, c0, c1, self._xp.asarray(band[lo:hi, c0:c1].copy())))
            self._bands[key] = tiles
        return tiles

    def window_sum(self, v, scale: float):
        """scale * sum of the (rows, depth) matrix `v` over each channel's window."""
        tiles = self._tiles(v.shape[1], scale, v.dtype)
        if len(tiles) == 1:
            return self._xp.matmul(v, tiles[0][4])
        out = self._xp.empty_like(v)
        for lo, hi, c0, c1, band in tiles:
            self._xp.matmul(v[:, lo:hi], band, out=out[:, c0:c1])
        return out

    def rows(self, x) -> tuple:
        """(rows, depth, rows per block): the whole input at once off the host."""
        depth = x.shape[-1]
        rows = x.size // depth if depth else 0
        if not self._host:
            return rows, depth, max(rows, 1)
        return rows, depth, max(1, LRN_BLOCK_BYTES // max(depth * x.dtype.itemsize, 1))


def _lrn_infer(op):
    x = op.inputs[0]
    _check_float(op, x)
    _rank4(x, "input", op.type)
    return [(x.dtype, x._shape)]


def _lrn_attrs(op):
    a = op.attrs
    return int(a["depth_radius"]), a["bias"], a["alpha"], a["beta"]


def _lrn_kernel(op, ctx):
    """x / norm^beta, norm = bias + x² @ (alpha · band), a block of rows at a time: one GEMM
    per block is ~4x faster than 2r shifted-slice sums over short channel rows (and exact
    where a cumulative sum would lose precision over many channels)."""
    xp = ctx.xp
    r, bias, alpha, beta = _lrn_attrs(op)
    blocks = _LrnBlocks(xp, r)

    def lrn(x):
        rows, depth, step = blocks.rows(x)
        if rows == 0 or depth == 0:
            return xp.empty_like(x)
        x2 = x.reshape(rows, depth)
        out = xp.empty_like(x2)
        for r0 in range(0, rows, step):
            xb = x2[r0:r0 + step]
            sq = xp.multiply(xb, xb)
            norm = blocks.window_sum(sq, alpha)
            norm += bias
            xp.divide(xb, _power(xp, norm, beta, sq), out=out[r0:r0 + step])
        return out.reshape(x.shape)
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
    shape = x._shape
    for t in (dy, y):  # partly known shapes (a None batch) merge, as in TensorFlow
        shape = _merge_shapes(shape, t._shape, f"LRNGrad: input_image and {t.name}")
    return [(x.dtype, shape)]


def _lrn_grad_kernel(op, ctx):
    """dy / norm^beta + x · (dy·y/norm) @ (-2·alpha·beta · band), by row blocks as LRN."""
    xp = ctx.xp
    r, bias, alpha, beta = _lrn_attrs(op)
    blocks = _LrnBlocks(xp, r)

    def lrn_grad(dy, x, y):
        rows, depth, step = blocks.rows(x)
        if rows == 0 or depth == 0:
            return xp.zeros_like(x)
        x2, dy2, y2 = (t.reshape(rows, depth) for t in (x, dy, y))
        out = xp.empty_like(x2)
        back_scale = -2.0 * alpha * beta
        for r0 in range(0, rows, step):
            xb, dyb = x2[r0:r0 + step], dy2[r0:r0 + step]
            work = xp.multiply(xb, xb)
            norm = blocks.window_sum(work, alpha)
            norm += bias
            xp.multiply(dyb, y2[r0:r0 + step], out=work)
            work /= norm
            back = blocks.window_sum(work, back_scale)
            back *= xb
            outb = xp.divide(dyb, _power(xp, norm, beta, work), out=out[r0:r0 + step])
            outb += back
        return out.reshape(x.shape)
    return lrn_grad


register_op("LRNGrad", infer=_lrn_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_lrn_grad_kernel,
            doc="Gradient of LRN given (grad, input_image, output_image).")


def lrn(input, depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0,
        beta: float = 0.5, name=None) -> Tensor:
    """Local response normalisation over the last (channel) axis of a 4-D tensor.

    out[..., d] = input[..., d] / (bias + alpha * sum(input[..., d-r:d+r+1] ** 2)) ** beta.
    """
    attrs = {"depth_radius": int(depth_radius), "bias": float(bias), "alpha": float(alpha),
             "beta": float(beta)}
    return out1("LRN", [convert_to_tensor(input)], attrs, name or "LRN")


local_response_normalization = lrn
