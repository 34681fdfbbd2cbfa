"""DQN on CartPole-v1: sample efficiency and wall-clock of the default `DQNConfig`.

Trains one agent per seed (in-process, ``workers=0``) for 50k env steps, then evaluates it
greedily over 20 episodes. Reports each seed's evaluation mean and wall-clock, and the median
of the evaluation means (target >= 475; SB3 zoo's tuned DQN: 500 at 50k). One JSON line.

BLAS threads default to 1 (``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``, set before NumPy is
imported; an explicit value wins): the learner's matmuls are 64 × 256 × 256, and on this
shared 2-core machine multithreaded OpenBLAS made one learner step 3.5 ms → 80 ms (measured).

    python benchmarks/dqn_cartpole.py [--seeds 0 1 2] [--steps 50000]
                                      [--set key=json_value ...]
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

from actorflow.agents.dqn import DQN, DQNConfig  # noqa: E402


def run_seed(seed: int, steps: int, overrides: dict) -> dict:
    """Trains and evaluates one seed; its eval mean, train mean and seconds."""
    config = DQNConfig.from_dict({**overrides, "seed": seed, "total_steps": steps,
                                  "eval_episodes": 20})
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # the run's own JSON line: not ours
        result = DQN(config).train(progress=False)
    return {"seed": seed, "eval_return_mean": result["eval_return_mean"],
            "train_return_mean": result["train_return_mean"],
            "wall_s": round(time.perf_counter() - t0, 1), "steps_per_s": result["steps_per_s"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=50_000)
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=JSON",
                   help="DQNConfig overrides, e.g. --set n_step=3 prioritized=true")
    args = p.parse_args()
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    runs = []
    for seed in args.seeds:
        runs.append(run_seed(seed, args.steps, overrides))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    means = [r["eval_return_mean"] for r in runs]
    emit({"benchmark": "dqn_cartpole", "env_steps": args.steps, "overrides": overrides,
          "median_eval_return_mean": statistics.median(means), "target": 475,
          "reached": statistics.median(means) >= 475, "eval_return_means": means,
          "wall_s_per_seed": [r["wall_s"] for r in runs],
          "median_wall_s": statistics.median(r["wall_s"] for r in runs),
          "train_return_means": [r["train_return_mean"] for r in runs],
          "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
