"""PPO on CartPole-v1 with rollout actors on Ray (what users compare us with).

    python experiments/cartpole_ppo.py [--workers 2] [--steps 100000] [--logdir runs/ppo]
    ray job submit --working-dir . -- python experiments/cartpole_ppo.py

Clipped objective, GAE, 8 vectorised envs split over the rollout actors, minibatch epochs
(SB3 zoo's CartPole settings). --workers 0 runs in this process. Prints progress; the last
line of output is one JSON object with the results.
"""
from __future__ import annotations

from actorflow.agents.cli import experiment_parser, parse_experiment_args
from actorflow.agents.ppo import PPO, PPOConfig


def main(argv=None) -> dict:
    p = experiment_parser(__doc__, workers=2, steps=100_000)
    args = parse_experiment_args(p, argv)
    config = PPOConfig(total_steps=args.steps, seed=args.seed, workers=args.workers)
    return PPO(config).train(logdir=args.logdir)


if __name__ == "__main__":
    main()
