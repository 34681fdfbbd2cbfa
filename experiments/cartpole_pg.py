"""The book's ch. 8.2 policy network on CartPole, trained by Ray rollout actors.

    python experiments/cartpole_pg.py [--workers 2] [--steps 200000] [--logdir runs/pg]
    ray job submit --working-dir . -- python experiments/cartpole_pg.py

REINFORCE with the book's settings (4-50-1 network, 25 episodes per Adam(0.1) update,
γ 0.99, normalised returns); stops when a batch's mean return passes 200, as the book does.
With --workers N the episodes are collected by N rollout actors on a local Ray ($RAY_ADDRESS
under `ray job submit`, or --address); --workers 0 runs in this process. Prints progress;
the last line of output is one JSON object with the results.
"""
from __future__ import annotations

import argparse
import sys

from actorflow.actors._remote import ensure_ray
from actorflow.agents.pg import PGConfig, PolicyGradient


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2, help="Ray rollout actors (0: none)")
    p.add_argument("--steps", type=int, default=200_000, help="env-step budget")
    p.add_argument("--target", type=float, default=200.0, help="stop at this batch mean "
                   "return (book: 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--logdir", default=None, help="metrics, TensorBoard events, checkpoints")
    p.add_argument("--address", default=None, help="Ray address (default: $RAY_ADDRESS or "
                   "a new local Ray)")
    args = p.parse_args(argv)
    if args.workers < 0 or args.steps < 1:
        p.error("--workers must be >= 0 and --steps >= 1")
    if args.workers:
        ray = ensure_ray(args.address)
        print(f"Ray: {ray.cluster_resources().get('CPU', 0):.0f} CPUs, {args.workers} "
              "rollout workers", file=sys.stderr)
    config = PGConfig(total_steps=args.steps, target_return=args.target, seed=args.seed,
                      workers=args.workers)
    return PolicyGradient(config).train(logdir=args.logdir)


if __name__ == "__main__":
    main()
