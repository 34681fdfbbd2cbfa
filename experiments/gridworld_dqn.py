"""The book's ch. 8.3 Double + Dueling DQN on GridWorld pixels (84x84x3, conv Q-net).

    python experiments/gridworld_dqn.py [--steps 500000] [--workers 0] [--logdir runs/grid]
    python experiments/gridworld_dqn.py --obs-size 36 --steps 50000     # a quicker look

The book's settings (`DQNConfig.book()`): soft target tau 0.001, Adam 1e-4, batch 32, a train
step every 4 env steps, 50k replay, 10k random steps then epsilon 1 -> 0.1 over 10k steps,
episodes of 50 steps. The book reports a mean reward of about 22 per episode after 500k
steps; a random agent scores about 2. On a CPU this is hours of compute: --obs-size renders
smaller images (36 and up fit the conv net) for quicker runs. Prints progress; the last
line of output is one JSON object with the results.
"""
from __future__ import annotations

from actorflow.agents.cli import experiment_parser, parse_experiment_args
from actorflow.agents.dqn import DQN, DQNConfig


def main(argv=None) -> dict:
    p = experiment_parser(__doc__, workers=0, steps=500_000)
    p.add_argument("--obs-size", type=int, default=84, help="image side (book: 84)")
    args = parse_experiment_args(p, argv)
    if args.obs_size < 36:
        p.error("--obs-size must be >= 36 (the conv net's smallest input)")
    config = DQNConfig.book(total_steps=args.steps, seed=args.seed, workers=args.workers,
                            env_kwargs={"obs_size": args.obs_size})
    return DQN(config).train(logdir=args.logdir)


if __name__ == "__main__":
    main()
