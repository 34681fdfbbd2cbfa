"""PPO on CartPole-v1 with rollout actors on Ray (what users compare us with).

    python experiments/cartpole_ppo.py [--workers 2] [--steps 100000] [--logdir runs/ppo]
    ray job submit --working-dir . -- python experiments/cartpole_ppo.py

Clipped objective, GAE, 8 vectorised envs split over the rollout actors, minibatch epochs
(SB3 zoo's CartPole settings). --workers 0 runs in this process. Prints progress; the last
line of output is one JSON object with the results.
"""
from __future__ import annotations

import argparse

from actorflow.actors._remote import ensure_ray
from actorflow.agents.ppo import PPO, PPOConfig


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2, help="Ray rollout actors (0: none)")
    p.add_argument("--steps", type=int, default=100_000, help="env-step budget")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--logdir", default=None, help="metrics, TensorBoard events, checkpoints")
    p.add_argument("--address", default=None, help="Ray address (default: $RAY_ADDRESS or "
                   "a new local Ray)")
    args = p.parse_args(argv)
    if args.workers < 0 or args.steps < 1:
        p.error("--workers must be >= 0 and --steps >= 1")
    if args.workers:
        ensure_ray(args.address)
    config = PPOConfig(total_steps=args.steps, seed=args.seed, workers=args.workers)
    return PPO(config).train(logdir=args.logdir)


if __name__ == "__main__":
    main()
