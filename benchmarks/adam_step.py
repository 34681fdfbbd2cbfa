"""One Adam step on a 10M-parameter float32 variable: the graph vs bare NumPy.

Candidate: ``sess.run(train_op)`` with ``train_op = AdamOptimizer().apply_gradients(
[(g, var)])`` and a constant gradient (the ApplyAdam kernel plus the beta-power updates).
Baselines, each a good in-place NumPy Adam update (TF's formula, lr_t folded in once per step):
``numpy_chunked`` walks the arrays in chunks of `--chunk` elements with one scratch buffer
(so the temporaries stay in cache), ``numpy_whole`` runs the same ufunc sequence over the
whole arrays with one full-size scratch buffer. The ratio is taken against the faster of the
two (target: at most 1.2). Timed in this process, interleaved; one JSON line.

    python benchmarks/adam_step.py [--size 10000000] [--chunk 65536] [--repeat 5] [--rounds 7]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.ops import training as training_ops  # noqa: E402

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


class NumpyAdam:
    """Adam in place over var, m, v; `chunk` None means whole arrays."""

    def __init__(self, var, grad, chunk):
        self.var, self.grad, self.chunk = var, grad, chunk
        self.m = np.zeros_like(var)
        self.v = np.zeros_like(var)
        self.t = 0
        dt = var.dtype
        self.b1, self.b2, self.eps = (np.asarray(x, dt) for x in (B1, B2, EPS))
        self.c1, self.c2 = np.asarray(1 - B1, dt), np.asarray(1 - B2, dt)
        self.scratch = np.empty(chunk or var.size, dt)

    def step(self):
        self.t += 1
        lr_t = np.asarray(LR * np.sqrt(1 - B2 ** self.t) / (1 - B1 ** self.t), self.var.dtype)
        n = self.var.size
        c = self.chunk or n
        b1, b2, c1, c2, eps = self.b1, self.b2, self.c1, self.c2, self.eps
        for s in range(0, n, c):
            var, m, v, g = (a[s:s + c] for a in (self.var, self.m, self.v, self.grad))
            t = self.scratch[:len(var)]
            np.multiply(m, b1, out=m)
            np.multiply(g, c1, out=t)
            np.add(m, t, out=m)
            np.multiply(v, b2, out=v)
            np.multiply(g, g, out=t)
            np.multiply(t, c2, out=t)
            np.add(v, t, out=v)
            np.sqrt(v, out=t)
            np.add(t, eps, out=t)
            np.divide(m, t, out=t)
            np.multiply(t, lr_t, out=t)
            np.subtract(var, t, out=var)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=10_000_000)
    p.add_argument("--chunk", type=int, default=training_ops.CHUNK,
                   help="chunk of the NumPy baseline and of the ApplyAdam kernel")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    training_ops.CHUNK = args.chunk  # read when the plan is compiled

    r = np.random.default_rng(0)
    x0 = r.standard_normal(args.size, dtype=np.float32)
    g = r.standard_normal(args.size, dtype=np.float32)

    var = tf.Variable(x0, name="w")
    train_op = tf.train.AdamOptimizer(LR, B1, B2, EPS).apply_gradients([(tf.constant(g), var)])
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())

    chunked = NumpyAdam(x0.copy(), g, args.chunk)
    whole = NumpyAdam(x0.copy(), g, None)

    # Same number of steps on both sides before comparing: the update itself is checked.
    sess.run(train_op)
    chunked.step()
    whole.step()
    np.testing.assert_allclose(sess.run(var), chunked.var, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(whole.var, chunked.var, rtol=1e-6, atol=1e-7)

    res = interleaved({"actorflow": lambda: sess.run(train_op),
                       "numpy_chunked": chunked.step, "numpy_whole": whole.step},
                      repeat=args.repeat, rounds=args.rounds)
    base = min(res["numpy_chunked"]["median_s"], res["numpy_whole"]["median_s"])
    emit({"benchmark": "adam_step", "size": args.size, "chunk": args.chunk,
          "actorflow_median_s": res["actorflow"]["median_s"],
          "numpy_chunked_median_s": res["numpy_chunked"]["median_s"],
          "numpy_whole_median_s": res["numpy_whole"]["median_s"],
          "ratio": res["actorflow"]["median_s"] / base, "target_ratio": 1.2})
    sess.close()


if __name__ == "__main__":
    main()
