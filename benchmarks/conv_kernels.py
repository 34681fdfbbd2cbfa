"""CPU convolution kernels per layer: blocked im2col-GEMM against Winograd, all three passes.

Layers (NHWC, stride 1, SAME, float32): AlexNet conv2-5 at batch 32, representative VGG-16
layers at batch 8 (4 for the 224x224 one), the book's 5.2 CNN conv2 at batch 50 and 256, and
the 5.3 CIFAR CNN conv1/conv2 at batch 128. For each layer and pass (Conv2D ``fwd``,
Conv2DBackpropInput ``bwd_input``, Conv2DBackpropFilter ``bwd_filter``) the two CPU kernels
of numpy_kernels, one forced to im2col and one forced to the Winograd tile that
``numpy_kernels.fewest_products_tile`` picks (or ``--tile``), are timed interleaved
under a BLAS thread limit (threadpoolctl). Speed is "GFLOPS-equivalent": the direct
convolution's 2*n*ho*wo*kh*kw*cin*cout FLOPs over the time. Also reported: the float32
relative error (max abs error / max abs value) of both against a float64 run of the im2col
kernel, and the path the dispatch rule ``numpy_kernels.winograd_tile`` picks per pass.

Prints one JSON line: {layer: {pass: {...}}} per thread count.

Usage: python benchmarks/conv_kernels.py [--layers alexnet_conv3 cnn_conv2_b50 ...]
           [--passes fwd bwd_input bwd_filter] [--threads 1 2] [--rounds 5] [--tile M]
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import types

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.kernels import numpy_kernels  # noqa: E402
from actorflow.ops import conv as conv_ops  # noqa: E402

LAYERS = {  # name: (batch, height, width, cin, cout, filter size)
    "alexnet_conv2": (32, 27, 27, 64, 192, 5),
    "alexnet_conv3": (32, 13, 13, 192, 384, 3),
    "alexnet_conv4": (32, 13, 13, 384, 256, 3),
    "alexnet_conv5": (32, 13, 13, 256, 256, 3),
    "vgg_conv1_2": (4, 224, 224, 64, 64, 3),
    "vgg_conv2_2": (8, 112, 112, 128, 128, 3),
    "vgg_conv3_2": (8, 56, 56, 256, 256, 3),
    "vgg_conv4_2": (8, 28, 28, 512, 512, 3),
    "vgg_conv5_2": (8, 14, 14, 512, 512, 3),
    "cnn_conv2_b50": (50, 14, 14, 32, 64, 5),
    "cnn_conv2_b256": (256, 14, 14, 32, 64, 5),
    "cifar_conv1_b128": (128, 24, 24, 3, 64, 5),
    "cifar_conv2_b128": (128, 12, 12, 64, 64, 5),
}
PASSES = ("fwd", "bwd_input", "bwd_filter")
MAKERS = {"fwd": numpy_kernels._conv2d, "bwd_input": numpy_kernels._conv2d_backprop_input,
          "bwd_filter": numpy_kernels._conv2d_backprop_filter}
CTX = types.SimpleNamespace(xp=np, device_type="CPU", session=None)


def _ops(n, h, w, c, co, r, dtype):
    """The three ops of one stride-1 SAME layer, on placeholders of `dtype`."""
    with tf.Graph().as_default():
        kw = dict(strides=[1, 1, 1, 1], padding="SAME")
        x = tf.placeholder(dtype, (n, h, w, c))
        f = tf.placeholder(dtype, (r, r, c, co))
        dy = tf.placeholder(dtype, (n, h, w, co))
        return {"fwd": tf.nn.conv2d(x, f, **kw).op,
                "bwd_input": tf.nn.conv2d_backprop_input([n, h, w, c], f, dy, **kw).op,
                "bwd_filter": tf.nn.conv2d_backprop_filter(x, [r, r, c, co], dy, **kw).op}


def _args(name, x, f, dy):
    sizes = np.array(x.shape, np.int32), np.array(f.shape, np.int32)
    return {"fwd": (x, f), "bwd_input": (sizes[0], f, dy), "bwd_filter": (x, sizes[1], dy)}[name]


def _rel_err(got, want) -> float:
    return float(np.abs(got - want).max() / np.abs(want).max())


def bench_layer(layer: str, passes, tile: int | None, rounds: int) -> dict:
    n, h, w, c, co, r = LAYERS[layer]
    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((n, h, w, c))
    f64 = rng.standard_normal((r, r, c, co)) / np.sqrt(r * r * c)
    dy64 = rng.standard_normal((n, h, w, co))
    ops32, ops64 = _ops(n, h, w, c, co, r, tf.float32), _ops(n, h, w, c, co, r, tf.float64)
    g = conv_ops.geometry((n, h, w, c), r, r, [1] * 4, [1] * 4, "SAME")
    m = tile or numpy_kernels.fewest_products_tile(g)
    flops = 2.0 * n * h * w * r * r * c * co
    out = {"shape": {"n": n, "hw": [h, w], "cin": c, "cout": co, "k": r, "tile": m},
           "dispatch": {}}
    # The input gradient is a forward convolution of dy (cout channels in) at stride 1.
    geoms = {"fwd": g, "bwd_filter": g, "bwd_input": numpy_kernels._transposed_geometry(g, co)}
    arrays32 = [a.astype(np.float32) for a in (x64, f64, dy64)]
    for name in passes:
        im2col = MAKERS[name](ops32[name], CTX, rule=lambda g, dtype: None)
        wino = MAKERS[name](ops32[name], CTX, rule=lambda g, dtype: m)
        args = _args(name, *arrays32)
        want = MAKERS[name](ops64[name], CTX, rule=lambda g, dtype: None)(
            *_args(name, x64, f64, dy64))
        res = interleaved({"im2col": functools.partial(im2col, *args),
                           "winograd": functools.partial(wino, *args)}, repeat=2, rounds=rounds)
        t_i, t_w = res["im2col"]["median_s"], res["winograd"]["median_s"]
        out["dispatch"][name] = "winograd" if numpy_kernels.winograd_tile(
            geoms[name], np.float32) else "im2col"
        out[name] = {"im2col_ms": 1e3 * t_i, "winograd_ms": 1e3 * t_w,
                     "winograd_speedup_ratio": t_i / t_w,
                     "im2col_gflops": flops / t_i / 1e9, "winograd_gflops": flops / t_w / 1e9,
                     "im2col_rel_err": _rel_err(im2col(*args), want),
                     "winograd_rel_err": _rel_err(wino(*args), want)}
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--layers", nargs="+", default=list(LAYERS), choices=list(LAYERS))
    p.add_argument("--passes", nargs="+", default=list(PASSES), choices=PASSES)
    p.add_argument("--threads", nargs="+", type=int, default=[1])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--tile", type=int, default=None,
                   help="Winograd output tile m (default: numpy_kernels.fewest_products_tile)")
    a = p.parse_args(argv)
    result = {}
    for threads in a.threads:
        with threadpool_limits(threads):
            result[f"threads_{threads}"] = {
                layer: bench_layer(layer, a.passes, a.tile, a.rounds) for layer in a.layers}
    emit(result)


if __name__ == "__main__":
    main()
