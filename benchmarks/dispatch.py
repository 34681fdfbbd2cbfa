"""Per-op dispatch cost: a chain of 2,000 small elementwise ops on float32[16].

Candidates: ``sess.run(y, {x: value})`` on the compiled plan, with elementwise fusion
(session/fuse.py: the chain runs as a few numexpr kernels when numexpr is installed) and
without it (a session whose plan was compiled under ``ACTORFLOW_FUSE=0``: one kernel call per
op). Baseline: the same 2,000 NumPy ufunc calls as straight-line code in one Python function
(generated once, so it carries no loop overhead either), with 0-d float32 array constants
(faster in NumPy 2 than Python floats or NumPy scalars). All are timed in this process,
interleaved; the JSON line reports the medians, µs per op, and the ratios to the bare NumPy
calls (``ratio``: the default, fused plan's).

    python benchmarks/dispatch.py [--ops 2000] [--repeat 20] [--rounds 7]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.session import fuse  # noqa: E402

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
    fused, unfused = tf.Session(), tf.Session()
    want = bare(value)
    for sess, enabled in ((fused, True), (unfused, False)):  # compiled before the rounds
        with fusion(enabled):
            np.testing.assert_array_equal(sess.run(y, {x: value}), want)
    res = interleaved({"session_run": lambda: fused.run(y, {x: value}),
                       "session_run_unfused": lambda: unfused.run(y, {x: value}),
                       "bare_numpy": lambda: bare(value)},
                      repeat=args.repeat, rounds=args.rounds)
    fused.close()
    unfused.close()
    cand, plain = res["session_run"]["median_s"], res["session_run_unfused"]["median_s"]
    base = res["bare_numpy"]["median_s"]
    emit({"benchmark": "dispatch", "ops": args.ops, "dtype": "float32", "size": args.size,
          "fusion": fuse.load_numexpr() is not None,
          "session_run_s": cand, "session_run_unfused_s": plain, "bare_numpy_s": base,
          "us_per_op": cand / args.ops * 1e6, "unfused_us_per_op": plain / args.ops * 1e6,
          "bare_numpy_us_per_op": base / args.ops * 1e6,
          "per_op_overhead_ns": (cand - base) / args.ops * 1e9,
          "ratio": cand / base, "unfused_ratio": plain / base, "fused_over_unfused": cand / plain})


@contextlib.contextmanager
def fusion(enabled: bool):
    """Plans compiled inside are fused or not (``ACTORFLOW_FUSE``, read at compile time)."""
    saved = os.environ.get(fuse.ENV_SWITCH)
    os.environ[fuse.ENV_SWITCH] = "1" if enabled else "0"
    try:
        yield
    finally:
        if saved is None:
            del os.environ[fuse.ENV_SWITCH]
        else:
            os.environ[fuse.ENV_SWITCH] = saved


if __name__ == "__main__":
    main()
