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

import sys

from actorflow.agents.cli import experiment_parser, parse_experiment_args
from actorflow.agents.pg import PGConfig, PolicyGradient


def main(argv=None) -> dict:
    p = experiment_parser(__doc__, workers=2, steps=200_000)
    p.add_argument("--target", type=float, default=200.0, help="stop at this batch mean "
                   "return (book: 200)")
    args = parse_experiment_args(p, argv)
    if args.workers:
        print(f"{args.workers} rollout workers on Ray", file=sys.stderr)
    config = PGConfig(total_steps=args.steps, target_return=args.target, seed=args.seed,
                      workers=args.workers)
    return PolicyGradient(config).train(logdir=args.logdir)


if __name__ == "__main__":
    main()
