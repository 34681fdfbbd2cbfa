"""DQN on CartPole-v1, in-process or with Ray rollout actors feeding the learner's replay.

    python experiments/cartpole_dqn.py [--workers 0] [--steps 50000] [--logdir runs/dqn]
    ray job submit --working-dir . -- python experiments/cartpole_dqn.py --workers 2

The agent's CartPole defaults (SB3 zoo's schedule, 3-step returns; see `DQNConfig`). Prints
progress; the last line of output is one JSON object with the results.
"""
from __future__ import annotations

from actorflow.agents.cli import experiment_parser, parse_experiment_args
from actorflow.agents.dqn import DQN, DQNConfig


def main(argv=None) -> dict:
    p = experiment_parser(__doc__, workers=0, steps=50_000)
    args = parse_experiment_args(p, argv)
    config = DQNConfig(total_steps=args.steps, seed=args.seed, workers=args.workers)
    return DQN(config).train(logdir=args.logdir)


if __name__ == "__main__":
    main()
