"""The book's GridWorld DQN (ch. 8.3: 84×84×3 pixels, the conv Q-net): env steps until the
mean return of the last 100 training episodes reaches 22, where it ends up, and the
wall-clock.

Target: median over 3 seeds <= 250k env steps (the book: about 22 after 500k). Each seed
trains `DQNConfig.gridworld()` (the book's net, env and schedule with this library's stronger
switches) for the whole ``--steps`` budget, then plays 100 greedy episodes; the step where
the 100-episode training mean first reached 22 comes from the run's recorded returns.
``--stop-at-target`` stops each seed there instead (time to target). Seeds run in parallel
processes (``--jobs``, default: one per core) with one BLAS thread each, so a seed's
wall-clock is measured while the others share the machine; the total is reported too.

Each seed's run lives in ``--logdir/seed<N>`` (metrics.jsonl, the reward curve, checkpoints
every 25k steps): ``--resume`` continues interrupted seeds from their latest checkpoints.

    python benchmarks/dqn_gridworld.py [--seeds 0 1 2] [--steps 250000] [--jobs 2]
                                       [--stop-at-target] [--logdir runs/dqn_gridworld]
                                       [--resume] [--set key=json_value ...]
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

from actorflow.agents.run import Checkpoint, window_means  # noqa: E402

TARGET = 22.0


def first_reach(returns, return_steps, target: float, window: int = 100) -> int | None:
    """The env step at which the mean of the last `window` returns first reached `target`."""
    hit = np.flatnonzero(window_means(returns, window) >= target)
    return int(return_steps[hit[0] + window - 1]) if hit.size else None


def run_seed(seed: int, steps: int, logdir: str, resume: bool, stop: bool,
             overrides: dict) -> dict:
    """Trains one seed for `steps` (or to the target with `stop`); what it reached, when."""
    from actorflow.agents.dqn import DQN, DQNConfig
    config = DQNConfig.gridworld(**{**overrides, "seed": seed, "total_steps": steps,
                                    "target_return": TARGET if stop else None,
                                    "checkpoint_interval": 25_000})
    run_dir = os.path.join(logdir, f"seed{seed}")
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # the run's own JSON line: not ours
        result = DQN(config).train(logdir=run_dir, resume=resume, progress=False)
    state = Checkpoint(run_dir).latest()[1]  # the run's returns, resumed parts included
    returns = state["returns"]
    means = window_means(returns)
    best = float(means.max()) if len(means) else None
    return {"seed": seed,
            "solved_at_steps": first_reach(returns, state["return_steps"], TARGET),
            "env_steps": result["env_steps"], "updates": result["updates"],
            "best_train_return_mean": None if best is None else round(best, 2),
            "train_return_mean": result["train_return_mean"],
            "eval_return_mean": result["eval_return_mean"],
            "wall_s": round(time.perf_counter() - t0, 1),
            "steps_per_s": result["steps_per_s"], "logdir": run_dir}


def _run_seed_args(args: tuple) -> dict:
    result = run_seed(*args)
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=250_000, help="env-step budget per seed")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="seeds trained at once (one process each)")
    p.add_argument("--logdir", default="runs/dqn_gridworld")
    p.add_argument("--stop-at-target", action="store_true",
                   help="stop each seed once its 100-episode training mean reaches 22")
    p.add_argument("--resume", action="store_true",
                   help="continue each seed from the latest checkpoint in its logdir")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=JSON",
                   help="DQNConfig overrides, e.g. --set train_freq=4 learning_rate=1e-4")
    args = p.parse_args()
    if args.steps < 1 or args.jobs < 1:
        p.error("--steps and --jobs must be >= 1")
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    work = [(seed, args.steps, args.logdir, args.resume, args.stop_at_target, overrides)
            for seed in args.seeds]
    t0 = time.perf_counter()
    # spawn: each seed gets a fresh interpreter (no forked BLAS or session threads).
    with multiprocessing.get_context("spawn").Pool(min(args.jobs, len(work))) as pool:
        runs = pool.map(_run_seed_args, work, chunksize=1)
    total_wall = time.perf_counter() - t0
    solved = [r["solved_at_steps"] if r["solved_at_steps"] is not None else float("inf")
              for r in runs]
    median = statistics.median(solved)
    emit({"benchmark": "dqn_gridworld", "target": TARGET, "max_env_steps": args.steps,
          "stop_at_target": args.stop_at_target, "overrides": overrides,
          "median_solved_at_steps": median if median != float("inf") else None,
          "reached": median <= args.steps, "solved_at_steps": [r["solved_at_steps"] for r in runs],
          "train_return_means": [r["train_return_mean"] for r in runs],
          "best_train_return_means": [r["best_train_return_mean"] for r in runs],
          "eval_return_means": [r["eval_return_mean"] for r in runs],
          "wall_s_per_seed": [r["wall_s"] for r in runs],
          "median_wall_s": statistics.median(r["wall_s"] for r in runs),
          "total_wall_s": round(total_wall, 1), "jobs": min(args.jobs, len(work)),
          "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
