"""The book's policy network (ch. 8.2) on CartPole: episodes until a batch's mean > 200.

Book settings (4-50-1, 25 episodes per Adam(0.1) update, gamma 0.99); the book's run needed
200 episodes. Target: median over seeds <= 300 episodes. Also reports the greedy evaluation
mean over 20 episodes after stopping, and the wall-clock.

    python benchmarks/pg_cartpole.py [--seeds 0 1 2] [--workers 0]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

from actorflow.agents.pg import PGConfig, PolicyGradient  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--max-steps", type=int, default=500_000)
    args = ap.parse_args()
    if args.workers:
        from actorflow.actors._remote import ensure_ray
        ensure_ray("local", include_dashboard=False)
    runs = []
    for seed in args.seeds:
        agent = PolicyGradient(PGConfig(total_steps=args.max_steps, target_return=200.0,
                                        seed=seed, workers=args.workers))
        r = agent.train(progress=False)
        runs.append({"seed": seed, "episodes": r["episodes_to_target"],
                     "env_steps": r["env_steps"], "eval_return_mean": r["eval_return_mean"],
                     "wall_s": r["wall_s"]})
        print(runs[-1], file=sys.stderr, flush=True)
    episodes = [r["episodes"] if r["episodes"] is not None else float("inf") for r in runs]
    emit({"benchmark": "pg_cartpole", "target_episodes": 300, "book_episodes": 200,
          "workers": args.workers, "median_episodes": statistics.median(episodes),
          "median_wall_s": statistics.median(r["wall_s"] for r in runs), "runs": runs})


if __name__ == "__main__":
    main()
