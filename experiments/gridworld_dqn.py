"""The book's ch. 8.3 Double + Dueling DQN on GridWorld pixels (84x84x3, conv Q-net).

    python experiments/gridworld_dqn.py [--steps 250000] [--target 22] [--workers 0]
                                        [--logdir runs/grid] [--book]
    python experiments/gridworld_dqn.py --obs-size 42 --steps 100000    # a quicker look

Default: `DQNConfig.gridworld()`, the book's net, env and schedule (soft target tau 0.001,
batch 32, 50k replay, 10k random steps then epsilon decaying over 10k, 50-step episodes)
with this library's stronger switches (prioritized 3-step replay, Huber loss, clipping,
Adam 1e-3, a learner step every 16 env steps, epsilon to 0.05). `--book`: exactly the book's
settings (`DQNConfig.book()`: Adam 1e-4, a step every 4 env steps, squared TD error,
epsilon to 0.1), which the book ran for 500k steps to a mean reward of about 22 per episode;
a random agent scores about 2. `--target R` stops once the last 100 training episodes
average R. `--obs-size` renders smaller images (36 and up fit the conv net) for quicker
runs. Prints progress; the last line of output is one JSON object with the results.
"""
from __future__ import annotations

from actorflow.agents.cli import experiment_parser, parse_experiment_args
from actorflow.agents.dqn import DQN, DQNConfig


def main(argv=None) -> dict:
    p = experiment_parser(__doc__, workers=0, steps=250_000)
    p.add_argument("--obs-size", type=int, default=84, help="image side (book: 84)")
    p.add_argument("--target", type=float, default=None,
                   help="stop once the last 100 training episodes average this return")
    p.add_argument("--book", action="store_true", help="exactly the book's settings")
    args = parse_experiment_args(p, argv)
    if args.obs_size < 36:
        p.error("--obs-size must be >= 36 (the conv net's smallest input)")
    preset = DQNConfig.book if args.book else DQNConfig.gridworld
    config = preset(total_steps=args.steps, seed=args.seed, workers=args.workers,
                    target_return=args.target, env_kwargs={"obs_size": args.obs_size})
    return DQN(config).train(logdir=args.logdir)


if __name__ == "__main__":
    main()
