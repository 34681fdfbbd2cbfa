"""Default-thread training steps quiet and under load: the book's 5.2 CNN (batch 50) and 4.4
MLP (batch 100), each timed on the quiet machine and beside `--busy` busy-looping processes.

The sessions use the default ``ConfigProto()`` (``intra_op_parallelism_threads = 0``), as a
user's script does, unless ``--threads N`` asks for N. The thread variables
(``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) are removed from this
process's environment before actorflow is imported, so the figures are what a user's shell
without them gets. Quiet and loaded rounds alternate (quiet first in even rounds, loaded
first in odd ones), so drift of the machine's speed falls on both alike. Prints one JSON
line: per program the seconds per step of every round, the medians and the slowdown (loaded
median / quiet median; issue 13's bound: at most 2.5).

    python benchmarks/steps_under_load.py [--rounds 4] [--busy 2] [--threads 0]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.pop(_var, None)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, time_call  # noqa: E402
from benchmarks.cli_under_load import TARGET_SLOWDOWN, Busy  # noqa: E402
from benchmarks.cnn_step import ActorflowCNN, batch_data  # noqa: E402
from benchmarks.mlp_step import actorflow_step, init_weights  # noqa: E402

import actorflow as tf  # noqa: E402

# (program, seconds of stepping per timed sample): long enough to span many scheduler slices.
SAMPLE_S = 1.5


def _config(threads: int):
    return tf.ConfigProto(intra_op_parallelism_threads=threads)


def cnn_stepper(threads: int):
    """The book's 5.2 CNN train step at batch 50 (benchmarks/cnn_step.py), in a session with
    `threads` intra-op threads (0: the default)."""
    x, y = batch_data(50)
    return ActorflowCNN(config=_config(threads)).stepper(x, y)


def mlp_stepper(threads: int):
    """The book's 4.4 MLP train step at batch 100 (benchmarks/mlp_step.py)."""
    with tf.Graph().as_default():
        return actorflow_step(init_weights(), _config(threads))[0]


def calls_per_sample(fn) -> int:
    """Calls of `fn` that take about SAMPLE_S on the quiet machine."""
    per_call = time_call(fn, 3)
    return max(3, int(SAMPLE_S / max(per_call, 1e-6)))


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--busy", type=int, default=2, help="busy-looping background processes")
    p.add_argument("--threads", type=int, default=0,
                   help="intra_op_parallelism_threads of the sessions (0: the default)")
    args = p.parse_args(argv)

    programs = {"cnn_b50": cnn_stepper(args.threads), "mlp_b100": mlp_stepper(args.threads)}
    repeats = {name: calls_per_sample(fn) for name, fn in programs.items()}
    samples = {name: {"quiet": [], "loaded": []} for name in programs}
    for r in range(args.rounds):
        order = ("quiet", "loaded") if r % 2 == 0 else ("loaded", "quiet")
        for state in order:
            for name, fn in programs.items():
                if state == "loaded":
                    with Busy(args.busy):
                        samples[name][state].append(time_call(fn, repeats[name]))
                else:
                    samples[name][state].append(time_call(fn, repeats[name]))
            print(f"round {r + 1}/{args.rounds} {state} done", file=sys.stderr)
    from actorflow.session.threads import blas_threads
    out: dict = {"benchmark": "steps_under_load", "busy_processes": args.busy,
                 "intra_op_parallelism_threads": args.threads,
                 "blas_threads_after": blas_threads(), "target_slowdown": TARGET_SLOWDOWN}
    for name, s in samples.items():
        quiet, loaded = statistics.median(s["quiet"]), statistics.median(s["loaded"])
        out[name] = {"quiet_s_per_step": quiet, "loaded_s_per_step": loaded,
                     "slowdown": loaded / quiet, "quiet_rounds_s": s["quiet"],
                     "loaded_rounds_s": s["loaded"]}
    emit(out)
    return out


if __name__ == "__main__":
    main()
