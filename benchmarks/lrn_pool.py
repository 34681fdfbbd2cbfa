"""LRN, LRNGrad, MaxPool and MaxPoolGrad kernels at the book's conv-net shapes: new vs old.

Shapes: AlexNet (ch. 6) at batch 32 (LRN over 56x56x64 and 27x27x192; max pool 3x3/2 VALID
over 56x56x64, 27x27x192 and 13x13x256), the CIFAR-10 CNN (5.3) at batch 128 (LRN over
12x12x64; max pool 3x3/2 SAME over 24x24x64 and 12x12x64) and the 5.2 CNN at batch 50 (max
pool 2x2/2 SAME over 28x28x32 and 14x14x64); float32, depth radius 4, alpha 0.001/9,
beta 0.75, as the book's models.

Candidates, each the kernel function alone (no session), interleaved round by round; ``new``
is the kernel the CPU runs now, ``old`` a baseline:
- ``lrn``, ``lrn_grad``: the previous shifted-slice kernels (kept here as the baseline);
- ``max_pool`` (a graph without the gradient): the previous generic kernel, kh*kw taps over
  a padded copy (kept here);
- ``max_pool_and_grad`` (MaxPool with its argmax hand-off, then MaxPoolGrad): the generic
  `xp` MaxPool and MaxPoolGrad of ops/pooling.py;
- ``avg_pool`` (Inception v3's average pools, ch. 6, batch 32): the previous generic
  kernel, kh*kw taps over a zero-padded copy (kept here);
- ``bias_add_grad`` (the gradient of each conv layer's BiasAdd: AlexNet's five, the CIFAR
  CNN's first, the 5.2 CNN's first): the previous ``g.reshape(-1, c).sum(axis=0)``.
BLAS runs on one thread (`--threads`). One JSON line: milliseconds per call (medians),
``speedup`` = old / new, and ``max_abs_diff``: the largest difference between the two
outputs (for ``bias_add_grad``, between the new one and a float64 sum).

    python benchmarks/lrn_pool.py [--only lrn|pool|avg|bias] [--repeat 3] [--rounds 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import sys
import types

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.framework import registry  # noqa: E402
from actorflow.ops import conv as conv_ops  # noqa: E402
from actorflow.ops import pooling as pool_ops  # noqa: E402

LRN = dict(depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
LRN_SHAPES = {"alexnet_lrn1": (32, 56, 56, 64), "alexnet_lrn2": (32, 27, 27, 192),
              "cifar_norm": (128, 12, 12, 64)}
POOLS = {  # name: (input shape, window, stride, padding)
    "alexnet_pool1": ((32, 56, 56, 64), 3, 2, "VALID"),
    "alexnet_pool2": ((32, 27, 27, 192), 3, 2, "VALID"),
    "alexnet_pool5": ((32, 13, 13, 256), 3, 2, "VALID"),
    "cifar_pool1": ((128, 24, 24, 64), 3, 2, "SAME"),
    "cifar_pool2": ((128, 12, 12, 64), 3, 2, "SAME"),
    "cnn52_pool1": ((50, 28, 28, 32), 2, 2, "SAME"),
    "cnn52_pool2": ((50, 14, 14, 64), 2, 2, "SAME"),
}
AVG_POOLS = {  # Inception v3 at batch 32: the mixed blocks' 3x3/1 SAME, the aux head's 5x5/3
    "inception_35": ((32, 35, 35, 192), 3, 1, "SAME"),
    "inception_17": ((32, 17, 17, 768), 3, 1, "SAME"),
    "inception_aux": ((32, 17, 17, 768), 5, 3, "VALID"),
}
BIAS_SHAPES = {"alexnet_conv1": (32, 56, 56, 64), "alexnet_conv2": (32, 27, 27, 192),
               "alexnet_conv3": (32, 13, 13, 384), "alexnet_conv4": (32, 13, 13, 256),
               "cifar_conv1": (128, 24, 24, 64), "cnn52_conv1": (50, 28, 28, 32)}


# -- the previous LRN kernels (baseline) ---------------------------------------------------
def _old_window_sum(x, r):
    out = x.copy()
    for k in range(1, min(r, x.shape[-1] - 1) + 1):
        out[..., k:] += x[..., :-k]
        out[..., :-k] += x[..., k:]
    return out


def old_lrn(x, r, bias, alpha, beta):
    norm = _old_window_sum(x * x, r)
    norm *= alpha
    norm += bias
    return x * norm ** -beta


def old_lrn_grad(dy, x, y, r, bias, alpha, beta):
    norm = _old_window_sum(x * x, r)
    norm *= alpha
    norm += bias
    back = _old_window_sum(dy * y / norm, r)
    back *= x
    back *= -2.0 * alpha * beta
    back += dy * norm ** -beta
    return back


# -- kernels as the CPU runs them ----------------------------------------------------------
class _Owner:
    """Stands for the session that owns the kernels (the hand-off table's key)."""


def _kernels(op, owner) -> tuple:
    """(CPU kernel, generic kernel) of `op`, built as a session would build them."""
    ctx = types.SimpleNamespace(xp=np, session=owner)
    op_def = registry.get_op_def(op.type)
    return registry.kernel_factory(op_def, "CPU")(op, ctx), op_def.kernel(op, ctx)


def lrn_candidates(shape, rng) -> dict:
    x = rng.standard_normal(shape).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    with tf.Graph().as_default():
        xt = tf.placeholder(tf.float32, shape)
        yt = tf.nn.lrn(xt, **LRN)
        gt = tf.gradients(yt, xt, grad_ys=tf.constant(dy))[0]
        owner = _Owner()
        fwd, _ = _kernels(yt.op, owner)
        grad, _ = _kernels(gt.op, owner)
    y = fwd(x)
    args = tuple(LRN[k] for k in ("depth_radius", "bias", "alpha", "beta"))
    err = max(float(np.abs(y - old_lrn(x, *args)).max()),
              float(np.abs(grad(dy, x, y) - old_lrn_grad(dy, x, y, *args)).max()))
    return {"lrn": {"new": lambda: fwd(x), "old": lambda: old_lrn(x, *args)},
            "lrn_grad": {"new": lambda: grad(dy, x, y),
                         "old": lambda: old_lrn_grad(dy, x, y, *args)}}, err


def old_max_pool(x, g):
    """The previous generic MaxPool: every window position over a padded copy."""
    xpad = conv_ops.pad_nhwc(np, x, g, pool_ops.lowest(x.dtype))
    out = conv_ops.tap(xpad, g, 0, 0).copy()
    for i, j in conv_ops.taps(g):
        if i or j:
            np.maximum(out, conv_ops.tap(xpad, g, i, j), out=out)
    return out


def pool_candidates(shape, k, s, padding, rng) -> dict:
    x = rng.standard_normal(shape).astype(np.float32)
    ksize, strides = [1, k, k, 1], [1, s, s, 1]
    g = conv_ops.geometry(shape, k, k, strides, [1, 1, 1, 1], padding)
    with tf.Graph().as_default():
        owner = _Owner()
        plain, _ = _kernels(tf.nn.max_pool(tf.placeholder(tf.float32, shape), ksize, strides,
                                           padding).op, owner)
        xt = tf.placeholder(tf.float32, shape)
        yt = tf.nn.max_pool(xt, ksize, strides, padding)
        dy = rng.standard_normal([int(d) for d in yt.shape]).astype(np.float32)
        gt = tf.gradients(yt, xt, grad_ys=tf.constant(dy))[0]
        fwd, fwd_generic = _kernels(yt.op, owner)
        grad, grad_generic = _kernels(gt.op, owner)

    def new_both():
        return grad(x, fwd(x), dy)

    def old_both():
        return grad_generic(x, fwd_generic(x), dy)
    err = max(float(np.abs(plain(x) - old_max_pool(x, g)).max()),
              float(np.abs(new_both() - old_both()).max()))
    return {"max_pool": {"new": lambda: plain(x), "old": lambda: old_max_pool(x, g)},
            "max_pool_and_grad": {"new": new_both, "old": old_both}}, err


def old_avg_pool(x, g, divisor):
    """The previous generic AvgPool: every window position over a zero-padded copy."""
    xpad = conv_ops.pad_nhwc(np, x, g)
    out = conv_ops.tap(xpad, g, 0, 0).copy()
    for i, j in conv_ops.taps(g):
        if i or j:
            out += conv_ops.tap(xpad, g, i, j)
    out /= divisor
    return out


def avg_candidates(shape, k, s, padding, rng) -> dict:
    x = rng.standard_normal(shape).astype(np.float32)
    ksize, strides = [1, k, k, 1], [1, s, s, 1]
    g = conv_ops.geometry(shape, k, k, strides, [1, 1, 1, 1], padding)
    divisor = pool_ops.pool_counts(g).astype(np.float32)[None, :, :, None]
    with tf.Graph().as_default():
        new, _ = _kernels(tf.nn.avg_pool(tf.placeholder(tf.float32, shape), ksize, strides,
                                         padding).op, _Owner())
    err = float(np.abs(new(x) - old_avg_pool(x, g, divisor)).max())
    return {"avg_pool": {"new": lambda: new(x), "old": lambda: old_avg_pool(x, g, divisor)}}, err


def bias_candidates(shape, rng) -> dict:
    g = rng.standard_normal(shape).astype(np.float32)
    with tf.Graph().as_default():
        b = tf.zeros([shape[-1]])
        grad_b = tf.gradients(tf.nn.bias_add(tf.placeholder(tf.float32, shape), b), b,
                              grad_ys=tf.constant(g))[0]
        new, _ = _kernels(grad_b.op, _Owner())
    exact = g.astype(np.float64).reshape(-1, shape[-1]).sum(axis=0)
    err = float(np.abs(new(g) - exact).max())
    return {"bias_add_grad": {"new": lambda: new(g),
                              "old": lambda: g.reshape(-1, shape[-1]).sum(axis=0)}}, err


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=("lrn", "pool", "avg", "bias"), default=None)
    p.add_argument("--repeat", type=int, default=3, help="calls per timed round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads")
    a = p.parse_args()
    rng = np.random.default_rng(0)
    cases = {}
    if a.only in (None, "lrn"):
        cases.update({name: lrn_candidates(shape, rng) for name, shape in LRN_SHAPES.items()})
    if a.only in (None, "pool"):
        cases.update({name: pool_candidates(*spec, rng) for name, spec in POOLS.items()})
    if a.only in (None, "avg"):
        cases.update({name: avg_candidates(*spec, rng) for name, spec in AVG_POOLS.items()})
    if a.only in (None, "bias"):
        cases.update({name: bias_candidates(shape, rng) for name, shape in BIAS_SHAPES.items()})
    result = {"threads": a.threads, "repeat": a.repeat, "rounds": a.rounds, "cases": {}}
    with threadpool_limits(a.threads):
        for name, (kinds, err) in cases.items():
            row = {"max_abs_diff": err}
            for kind, cands in kinds.items():
                t = interleaved(cands, a.repeat, a.rounds)
                old, new = t["old"]["median_s"], t["new"]["median_s"]
                row[kind] = {"old_ms": old * 1e3, "new_ms": new * 1e3, "speedup": old / new}
            result["cases"][name] = row
    emit(result)


if __name__ == "__main__":
    main()
