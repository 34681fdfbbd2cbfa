"""Elementwise regions fused (one numexpr kernel) vs unfused (one NumPy call per op), by size.

session/fuse.py fuses a region only while its operands hold at most ``fuse.MAX_ELEMENTS``
elements; this benchmark measures the sizes on both sides of that limit, with the limit
lifted for the fused candidate (so big regions are fused too), at one thread (the session's
``intra_op_parallelism_threads``, which numexpr's pool follows). Regions: an 8-op chain
(add, mul, sub, maximum, minimum, BiasAdd, Relu, mul) on [n/16, 16] float32 for several n,
and BiasAdd + Relu on an AlexNet conv1 output, [32, 55, 55, 64] float32 (``--big-batch``).
Both candidates are timed in this process, interleaved; one JSON line per region reports the
medians and ``fused_over_unfused`` (< 1: fusion is faster).

    python benchmarks/fusion_size.py [--sizes 16 64 128 256 1024 16384] [--big-batch 32]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402
from benchmarks.dispatch import fusion  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.session import fuse  # noqa: E402


@contextlib.contextmanager
def any_size():
    """Regions compiled inside are fused whatever their size."""
    saved = fuse.MAX_ELEMENTS
    fuse.MAX_ELEMENTS = 1 << 62
    try:
        yield
    finally:
        fuse.MAX_ELEMENTS = saved


def chain(x, bias):
    """The 8-op chain region."""
    y = tf.maximum(tf.subtract(tf.multiply(tf.add(x, 0.25), 0.5), 0.125), -1.0)
    return tf.multiply(tf.nn.relu(tf.nn.bias_add(tf.minimum(y, 4.0), bias)), 2.0)


def bias_relu(x, bias):
    """BiasAdd + Relu, as after every conv layer of AlexNet."""
    return tf.nn.relu(tf.nn.bias_add(x, bias))


def measure(name: str, build, shape, repeat: int, rounds: int) -> dict:
    """Times region `build` on a [shape] float32 input, fused vs unfused, interleaved."""
    rng = np.random.default_rng(0)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, shape, name="x")
        bias = tf.constant(rng.standard_normal(shape[-1]).astype(np.float32))
        y = build(x, bias)
        value = rng.standard_normal(shape).astype(np.float32)
        cfg = tf.ConfigProto(intra_op_parallelism_threads=1)
        fused, unfused = tf.Session(config=cfg), tf.Session(config=cfg)
        with fusion(True), any_size():
            got = fused.run(y, {x: value})
        with fusion(False):
            want = unfused.run(y, {x: value})
        np.testing.assert_array_equal(got, want)
        res = interleaved({"fused": lambda: fused.run(y, {x: value}),
                           "unfused": lambda: unfused.run(y, {x: value})},
                          repeat=repeat, rounds=rounds)
        fused.close()
        unfused.close()
    f, u = res["fused"]["median_s"], res["unfused"]["median_s"]
    n = int(np.prod(shape))
    return {"benchmark": "fusion_size", "region": name, "shape": list(shape), "elements": n,
            "threads": 1, "fused_s": f, "unfused_s": u, "fused_over_unfused": f / u,
            "fused_by_default": n <= fuse.MAX_ELEMENTS}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[16, 64, 128, 256, 1024, 16384])
    p.add_argument("--big-batch", type=int, default=32, help="0 skips the conv1 region")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    if fuse.load_numexpr() is None:
        sys.exit("numexpr is not installed: nothing is fused")
    for n in args.sizes:
        emit(measure("chain8", chain, (max(1, n // 16), 16), max(5, 200_000 // (n + 1000)),
                     args.rounds))
    if args.big_batch:
        emit(measure("bias_add_relu", bias_relu, (args.big_batch, 55, 55, 64), 3, args.rounds))


if __name__ == "__main__":
    main()
