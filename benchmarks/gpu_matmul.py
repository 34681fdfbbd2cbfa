"""An N x N float32 matmul through a Session on the GPU vs bare ``cupy.matmul`` (target: >= 0.9x).

The operands are GPU-resident variables and the fetch is the MatMul *operation* (its value
stays on the device), so the figure is the session's dispatch plus the GEMM, not feeds or
copies. Candidates alternate round by round (benchmarks/_timing.py); each call is followed
by a device synchronisation. Prints one JSON line (seconds, TFLOP/s, the ratio).

    python benchmarks/gpu_matmul.py [--size 8192] [--device cuda|cpu] [--rounds 5]
"""
from __future__ import annotations

import argparse

import numpy as np
from gpu_common import Target, add_device_arg, emit, interleaved, tf

TARGET = 0.9


def bench(target: Target, size: int, rounds: int) -> dict:
    r = np.random.default_rng(0)
    a0 = r.standard_normal((size, size), dtype=np.float32)
    b0 = r.standard_normal((size, size), dtype=np.float32)
    graph = tf.Graph()
    with graph.as_default(), tf.device(target.tf_device):
        a, b = tf.Variable(a0), tf.Variable(b0)
        product = tf.matmul(a, b)
    sess = tf.Session(graph=graph, config=target.config())
    sess.run(tf.variables_initializer([a, b]))
    xp = target.cupy if target.cupy is not None else np
    da, db = xp.asarray(a0), xp.asarray(b0)
    got = sess.run(product)
    want = xp.matmul(da, db)
    want = want.get() if hasattr(want, "get") else want
    err = float(np.abs(got - want).max() / np.abs(want).max())
    candidates = {"actorflow": target.synced(lambda: sess.run(product.op)),
                  "bare": target.synced(lambda: xp.matmul(da, db))}
    repeat = 5 if target.kind == "cuda" else 2
    res = interleaved(candidates, repeat=repeat, rounds=rounds)
    flops = 2.0 * size ** 3
    sess.close()
    return {"benchmark": "gpu_matmul", "device": target.name(), "size": size,
            "seconds": {k: v["median_s"] for k, v in res.items()},
            "tflops": {k: round(flops / v["median_s"] / 1e12, 2) for k, v in res.items()},
            "actorflow_vs_bare": round(res["bare"]["median_s"] / res["actorflow"]["median_s"], 3),
            "target": TARGET, "max_rel_err": float(f"{err:.2e}")}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_device_arg(ap)
    ap.add_argument("--size", type=int, default=None, help="N (default 8192 on cuda, 512 cpu)")
    args = ap.parse_args(argv)
    target = Target(args.device)
    size = args.size or (8192 if target.kind == "cuda" else 512)
    emit(bench(target, size, args.rounds))


if __name__ == "__main__":
    main()
