"""Cases for convolution, pooling and LRN, with direct-loop NumPy references.

The references below loop over output positions and window offsets, computing TF's padding
from its definition, so they share no code with the im2col kernels they check.
"""
import math

import numpy as np

import actorflow as tf

from . import OpCase, randn, rng


# -- direct-loop references ----------------------------------------------------------------
def ref_window(size, k, stride, dilation, padding):
    """(out, pad_before) from TF's definition of SAME and VALID."""
    k_eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = math.ceil(size / stride)
        return out, max((out - 1) * stride + k_eff - size, 0) // 2
    return math.ceil((size - k_eff + 1) / stride), 0


def _positions(h, w, kh, kw, strides, padding, dilations=(1, 1, 1, 1)):
    """Yields (oh, ow, i, j, r, c) for every window element inside the input."""
    ho, pt = ref_window(h, kh, strides[1], dilations[1], padding)
    wo, pl = ref_window(w, kw, strides[2], dilations[2], padding)
    for oh in range(ho):
        for ow in range(wo):
            for i in range(kh):
                for j in range(kw):
                    r = oh * strides[1] + i * dilations[1] - pt
                    c = ow * strides[2] + j * dilations[2] - pl
                    if 0 <= r < h and 0 <= c < w:
                        yield oh, ow, i, j, r, c


def ref_out_shape(x_shape, kh, kw, co, strides, padding, dilations=(1, 1, 1, 1)):
    n, h, w, _ = x_shape
    return (n, ref_window(h, kh, strides[1], dilations[1], padding)[0],
            ref_window(w, kw, strides[2], dilations[2], padding)[0], co)


def ref_conv2d(x, f, strides, padding, dilations=(1, 1, 1, 1)):
    kh, kw, _, co = f.shape
    out = np.zeros(ref_out_shape(x.shape, kh, kw, co, strides, padding, dilations))
    for oh, ow, i, j, r, c in _positions(x.shape[1], x.shape[2], kh, kw, strides, padding,
                                         dilations):
        out[:, oh, ow, :] += x[:, r, c, :] @ f[i, j]
    return out


def ref_conv2d_backprop_input(x_shape, f, dy, strides, padding, dilations=(1, 1, 1, 1)):
    kh, kw = f.shape[:2]
    dx = np.zeros(x_shape)
    for oh, ow, i, j, r, c in _positions(x_shape[1], x_shape[2], kh, kw, strides, padding,
                                         dilations):
        dx[:, r, c, :] += dy[:, oh, ow, :] @ f[i, j].T
    return dx


def ref_conv2d_backprop_filter(x, f_shape, dy, strides, padding, dilations=(1, 1, 1, 1)):
    df = np.zeros(f_shape)
    for oh, ow, i, j, r, c in _positions(x.shape[1], x.shape[2], f_shape[0], f_shape[1],
                                         strides, padding, dilations):
        df[i, j] += x[:, r, c, :].T @ dy[:, oh, ow, :]
    return df


def _windows(x, ksize, strides, padding):
    """{(oh, ow): [(r, c), ...]} the real input positions of each pooling window."""
    out: dict = {}
    for oh, ow, _, _, r, c in _positions(x.shape[1], x.shape[2], ksize[1], ksize[2], strides,
                                         padding):
        out.setdefault((oh, ow), []).append((r, c))
    return out


def ref_pool(x, ksize, strides, padding, reduce):
    n, _, _, ch = x.shape
    wins = _windows(x, ksize, strides, padding)
    ho = max(k[0] for k in wins) + 1
    wo = max(k[1] for k in wins) + 1
    out = np.zeros((n, ho, wo, ch), x.dtype)
    for (oh, ow), pos in wins.items():
        vals = np.stack([x[:, r, c, :] for r, c in pos])
        out[:, oh, ow, :] = reduce(vals, axis=0)
    return out


def ref_max_pool_grad(x, dy, ksize, strides, padding):
    """Each window's gradient to its first maximum in row-major order."""
    dx = np.zeros(x.shape)
    for (oh, ow), pos in _windows(x, ksize, strides, padding).items():
        vals = np.stack([x[:, r, c, :] for r, c in pos])  # (len(pos), n, ch)
        first = vals.argmax(axis=0)
        for k, (r, c) in enumerate(pos):
            dx[:, r, c, :] += np.where(first == k, dy[:, oh, ow, :], 0.0)
    return dx


def ref_avg_pool_grad(x_shape, dy, ksize, strides, padding):
    dx = np.zeros(x_shape)
    for (oh, ow), pos in _windows(np.zeros(x_shape), ksize, strides, padding).items():
        for r, c in pos:
            dx[:, r, c, :] += dy[:, oh, ow, :] / len(pos)
    return dx


def ref_lrn(x, r, bias, alpha, beta):
    depth = x.shape[-1]
    out = np.empty_like(x)
    for d in range(depth):
        lo, hi = max(0, d - r), min(depth, d + r + 1)
        sqr_sum = (x[..., lo:hi] ** 2).sum(-1)
        out[..., d] = x[..., d] / (bias + alpha * sqr_sum) ** beta
    return out


def ref_lrn_grad(dy, x, r, bias, alpha, beta):
    """dx_k = sum_d dy_d dy_d/dx_k from the explicit Jacobian of LRN."""
    depth = x.shape[-1]
    norm = np.empty_like(x)
    for d in range(depth):
        lo, hi = max(0, d - r), min(depth, d + r + 1)
        norm[..., d] = bias + alpha * (x[..., lo:hi] ** 2).sum(-1)
    dx = np.zeros_like(x)
    for d in range(depth):
        dx[..., d] += dy[..., d] * norm[..., d] ** -beta
        for k in range(max(0, d - r), min(depth, d + r + 1)):
            dx[..., k] -= (dy[..., d] * 2 * alpha * beta * x[..., d] * x[..., k]
                           * norm[..., d] ** (-beta - 1))
    return dx


# -- cases ---------------------------------------------------------------------------------
def _conv_case(name, x_shape, f_shape, strides, padding, dilations=(1, 1, 1, 1), grad=True):
    return OpCase(
        "Conv2D",
        lambda x, f: tf.nn.conv2d(x, f, strides, padding, dilations=list(dilations)),
        [randn(*x_shape), randn(*f_shape, seed=1)],
        reference=lambda x, f: ref_conv2d(x, f, strides, padding, dilations),
        grad=grad, atol=1e-9, name=name)


def _backprop_input_case(name, x_shape, f_shape, strides, padding):
    dy_shape = ref_out_shape(x_shape, f_shape[0], f_shape[1], f_shape[3], strides, padding)
    return OpCase(
        "Conv2DBackpropInput",
        lambda f, dy: tf.nn.conv2d_backprop_input(list(x_shape), f, dy, strides, padding),
        [randn(*f_shape, seed=2), randn(*dy_shape, seed=3)],
        reference=lambda f, dy: ref_conv2d_backprop_input(x_shape, f, dy, strides, padding),
        atol=1e-9, name=name)


def _backprop_filter_case(name, x_shape, f_shape, strides, padding):
    dy_shape = ref_out_shape(x_shape, f_shape[0], f_shape[1], f_shape[3], strides, padding)
    return OpCase(
        "Conv2DBackpropFilter",
        lambda x, dy: tf.nn.conv2d_backprop_filter(x, list(f_shape), dy, strides, padding),
        [randn(*x_shape, seed=4), randn(*dy_shape, seed=5)],
        reference=lambda x, dy: ref_conv2d_backprop_filter(x, f_shape, dy, strides, padding),
        atol=1e-9, name=name)


def _pooled_shape(x_shape, ksize, strides, padding):
    return ref_out_shape(x_shape, ksize[1], ksize[2], x_shape[3], strides, padding)


def _ties(*shape, seed=0):
    """Small integers as floats: many equal values per window."""
    return rng(seed).integers(0, 3, shape).astype(np.float64)


K2, S2 = [1, 2, 2, 1], [1, 2, 2, 1]
K3, S21 = [1, 3, 3, 1], [1, 2, 1, 1]
LRN_ARGS = dict(depth_radius=2, bias=1.5, alpha=0.3, beta=0.75)
_LRN_REF = (2, 1.5, 0.3, 0.75)


def ref_conv1d(x, f, stride, padding):
    """Direct loops: out[n, i, o] = sum_k,c x[n, i*stride + k - pad, c] * f[k, c, o]."""
    out_w, pad = ref_window(x.shape[1], f.shape[0], stride, 1, padding)
    out = np.zeros((x.shape[0], out_w, f.shape[2]))
    for i in range(out_w):
        for k in range(f.shape[0]):
            j = i * stride + k - pad
            if 0 <= j < x.shape[1]:
                out[:, i] += x[:, j] @ f[k]
    return out


CASES = [
    _conv_case("same_s1", (2, 5, 5, 2), (3, 3, 2, 3), [1, 1, 1, 1], "SAME"),
    _conv_case("same_s2_odd", (2, 5, 7, 2), (3, 2, 2, 3), [1, 2, 3, 1], "SAME"),
    _conv_case("valid_s2", (1, 7, 6, 2), (3, 3, 2, 2), [1, 2, 2, 1], "VALID"),
    _conv_case("dilated", (1, 7, 7, 2), (3, 3, 2, 2), [1, 1, 1, 1], "SAME", (1, 2, 2, 1)),
    _conv_case("1x1", (2, 3, 4, 3), (1, 1, 3, 2), [1, 1, 1, 1], "VALID", grad=False),
    _backprop_input_case("same_s2", (2, 5, 5, 2), (3, 3, 2, 3), [1, 2, 2, 1], "SAME"),
    _backprop_input_case("valid_s1", (1, 6, 5, 2), (2, 3, 2, 2), [1, 1, 1, 1], "VALID"),
    _backprop_filter_case("same_s2", (2, 5, 5, 2), (3, 3, 2, 3), [1, 2, 2, 1], "SAME"),
    _backprop_filter_case("valid_s1", (1, 6, 5, 2), (2, 3, 2, 2), [1, 1, 1, 1], "VALID"),
    OpCase("MaxPool", lambda x: tf.nn.max_pool(x, K2, S2, "SAME"), [randn(2, 5, 5, 3)],
           reference=lambda x: ref_pool(x, K2, S2, "SAME", np.max), name="same_2x2"),
    OpCase("MaxPool", lambda x: tf.nn.max_pool(x, K3, S21, "VALID"), [randn(1, 7, 6, 2)],
           reference=lambda x: ref_pool(x, K3, S21, "VALID", np.max), name="valid_3x3"),
    OpCase("MaxPoolGrad",
           lambda x, dy: tf.gradients(tf.nn.max_pool(x, K3, S2, "SAME"), x, grad_ys=dy)[0],
           [_ties(2, 6, 5, 3), randn(*_pooled_shape((2, 6, 5, 3), K3, S2, "SAME"), seed=1)],
           reference=lambda x, dy: ref_max_pool_grad(x, dy, K3, S2, "SAME"), grad=False,
           name="ties_overlapping"),
    OpCase("MaxPoolGrad",
           lambda x, dy: tf.gradients(tf.nn.max_pool(x, K2, S2, "VALID"), x, grad_ys=dy)[0],
           [_ties(2, 5, 4, 3), randn(*_pooled_shape((2, 5, 4, 3), K2, S2, "VALID"), seed=1)],
           reference=lambda x, dy: ref_max_pool_grad(x, dy, K2, S2, "VALID"), grad=False,
           name="ties_2x2"),
    OpCase("AvgPool", lambda x: tf.nn.avg_pool(x, K3, S2, "SAME"), [randn(2, 6, 5, 2)],
           reference=lambda x: ref_pool(x, K3, S2, "SAME", np.mean), name="same_3x3"),
    OpCase("AvgPool", lambda x: tf.nn.avg_pool(x, K2, S21, "VALID"), [randn(1, 5, 5, 2)],
           reference=lambda x: ref_pool(x, K2, S21, "VALID", np.mean), name="valid"),
    OpCase("AvgPoolGrad",
           lambda x, dy: tf.gradients(tf.nn.avg_pool(x, K3, S2, "SAME"), x, grad_ys=dy)[0],
           [randn(2, 6, 5, 2), randn(*_pooled_shape((2, 6, 5, 2), K3, S2, "SAME"), seed=1)],
           reference=lambda x, dy: ref_avg_pool_grad(x.shape, dy, K3, S2, "SAME"),
           grad_inputs=(1,), name="same_3x3"),
    OpCase("LRN", lambda x: tf.nn.lrn(x, **LRN_ARGS), [randn(2, 2, 3, 6)],
           reference=lambda x: ref_lrn(x, *_LRN_REF)),
    OpCase("LRN", lambda x: tf.nn.local_response_normalization(x, 1, 1.0, 1e-3, 0.5),
           [randn(1, 2, 2, 1)], reference=lambda x: ref_lrn(x, 1, 1.0, 1e-3, 0.5),
           name="one_channel"),
    OpCase("LRNGrad",
           lambda x, dy: tf.gradients(tf.nn.lrn(x, **LRN_ARGS), x, grad_ys=dy)[0],
           [randn(2, 2, 3, 6), randn(2, 2, 3, 6, seed=1)],
           reference=lambda x, dy: ref_lrn_grad(dy, x, *_LRN_REF), grad=False),

    OpCase("Conv2D", lambda x, f: tf.nn.conv1d(x, f, 2, "SAME"),
           [randn(2, 5, 3), randn(3, 3, 2, seed=1)],
           reference=lambda x, f: ref_conv1d(x, f, 2, "SAME"), name="conv1d"),
    OpCase("Conv2D", lambda x, f: tf.nn.conv1d(x, f, 1, "VALID", data_format="NCW"),
           [randn(1, 2, 4), randn(2, 2, 3, seed=1)], name="conv1d-ncw",
           reference=lambda x, f: ref_conv1d(x.transpose(0, 2, 1), f, 1,
                                             "VALID").transpose(0, 2, 1)),
]
