"""PPO on CartPole-v1: env steps and wall-clock to a greedy evaluation mean >= 475.

For each seed, trains `actorflow.agents.ppo.PPO` with its default config (rl-baselines3-zoo's
CartPole settings) for at most `--steps` env steps, evaluating greedily over 20 episodes every
`--eval-every` steps and stopping once the mean reaches `--target`. Reports per seed: env
steps used, the stopping evaluation's mean, a check on 100 fresh episodes (other env seeds),
training wall-clock (graph building and the final evaluation excluded) and steps/s; then
medians over seeds. Prints one JSON line.

    python benchmarks/ppo_cartpole.py [--seeds 0 1 2] [--steps 100000] [--workers 0] [--full]

OpenBLAS is limited to one thread unless OPENBLAS_NUM_THREADS is set: this model's matmuls
are tiny (256 x 64), and two spinning BLAS threads beside the env loop, on a shared 2-core
machine, made each update step ~30x slower (measured 80 ms vs 2.5 ms).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy is imported

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

from actorflow.agents.ppo import PPO, PPOConfig  # noqa: E402


def run_seed(seed: int, steps: int, eval_every: int, target: float | None,
             workers: int) -> dict:
    t0 = time.perf_counter()
    agent = PPO(PPOConfig(seed=seed, total_steps=steps, eval_every=eval_every,
                          target_return=target, workers=workers))
    with contextlib.redirect_stdout(io.StringIO()):  # the run's own JSON line
        result = agent.train(progress=False)
    fresh = agent.evaluate(100, seed=seed + 50_000)
    agent.close()
    return {"seed": seed, "env_steps": result["env_steps"],
            "solved_at_steps": result["solved_at_steps"],
            "eval_return_mean": result["eval_return_mean"],
            "fresh100_return_mean": fresh["return_mean"], "wall_s": result["wall_s"],
            "total_s": round(time.perf_counter() - t0, 2),
            "steps_per_s": result["steps_per_s"], "evals": result["evals"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--eval-every", type=int, default=5_000)
    p.add_argument("--target", type=float, default=475.0)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--full", action="store_true",
                   help="train the whole budget (no early stop), evaluate at the end")
    args = p.parse_args()
    if args.full:
        args.eval_every, args.target = 0, None
    if args.workers:
        from actorflow.actors._remote import ensure_ray
        ensure_ray("local")
    runs = [run_seed(s, args.steps, args.eval_every, args.target, args.workers)
            for s in args.seeds]
    median = lambda key: statistics.median(r[key] for r in runs)
    emit({"benchmark": "ppo_cartpole", "env": "CartPole-v1", "workers": args.workers,
          "budget_steps": args.steps, "target": args.target, "runs": runs,
          "median_env_steps": median("env_steps"),
          "median_eval_return_mean": median("eval_return_mean"),
          "median_wall_s": median("wall_s"),
          "solved_all": all(r["eval_return_mean"] >= 475 for r in runs),
          "under_60s_all": all(r["wall_s"] < 60 for r in runs),
          "blas_threads_env": os.environ.get("OPENBLAS_NUM_THREADS"), "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
