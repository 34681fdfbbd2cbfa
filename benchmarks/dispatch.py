"""Per-op dispatch cost: a chain of 2,000 small elementwise ops on float32[16].

Candidate: ``sess.run(y, {x: value})`` on the compiled plan. Baseline: the same 2,000 NumPy
ufunc calls as straight-line code in one Python function (generated once, so it carries no
loop overhead either), with 0-d float32 array constants (faster in NumPy 2 than Python floats
or NumPy scalars). Both are timed in this process, interleaved; the JSON line reports the
medians and their ratio (target: at most 1.5).

    python benchmarks/dispatch.py [--ops 2000] [--repeat 20] [--rounds 7]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402

# (graph function, NumPy ufunc, constant): values stay bounded along the chain.
STEPS = [
    (tf.add, np.add, 0.25),
    (tf.multiply, np.multiply, 0.5),
    (tf.subtract, np.subtract, 0.125),
    (tf.maximum, np.maximum, -1.0),
    (tf.minimum, np.minimum, 4.0),
]


def build_chain(n_ops: int, size: int):
    """The graph chain and the equivalent straight-line NumPy function."""
    x = tf.placeholder(tf.float32, [size], name="x")
    y = x
    lines, consts = [], {}
    for i in range(n_ops):
        graph_fn, ufunc, c = STEPS[i % len(STEPS)]
        y = graph_fn(y, c)
        consts[f"c{i}"] = np.array(c, dtype=np.float32)  # 0-d: NumPy's fastest operand
        consts[f"u{i}"] = ufunc
        lines.append(f"    v = u{i}(v, c{i})\n")
    src = "def bare(v):\n" + "".join(lines) + "    return v\n"
    env = dict(consts)
    exec(compile(src, "<bare-numpy-chain>", "exec"), env)  # noqa: S102 - generated above
    return x, y, env["bare"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=2000)
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()

    x, y, bare = build_chain(args.ops, args.size)
    value = np.random.default_rng(0).standard_normal(args.size).astype(np.float32)
    with tf.Session() as sess:
        got = sess.run(y, {x: value})
        np.testing.assert_allclose(got, bare(value), rtol=1e-6)
        res = interleaved({"session_run": lambda: sess.run(y, {x: value}),
                           "bare_numpy": lambda: bare(value)},
                          repeat=args.repeat, rounds=args.rounds)
    cand, base = res["session_run"]["median_s"], res["bare_numpy"]["median_s"]
    emit({"benchmark": "dispatch", "ops": args.ops, "dtype": "float32", "size": args.size,
          "session_run_s": cand, "bare_numpy_s": base,
          "per_op_overhead_ns": (cand - base) / args.ops * 1e9,
          "ratio": cand / base, "target_ratio": 1.5})


if __name__ == "__main__":
    main()
