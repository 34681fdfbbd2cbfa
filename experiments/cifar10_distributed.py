"""The book's ch. 5.3 CIFAR-10 CNN, data parallel on Ray: a ps or ring all-reduce cluster.

    python experiments/cifar10_distributed.py --data-dir DIR [--workers 2] [--ps 1]
        [--mode sync|async|allreduce] [--steps 3000] [--batch-size 128] [--logdir D]
    ray job submit --working-dir . -- python experiments/cifar10_distributed.py --workers 4

`actorflow.agents.Supervised` with the book's settings (Adam 1e-3, batch 128 per worker,
distorted 24x24 crops, 3000 steps): --workers gradient workers, each reading its own shard of
the five training files, exchange gradients through --ps parameter-server shards (sync:
SyncReplicasOptimizer rounds; async) or a ring all-reduce (--mode allreduce, no ps). With
--workers 0 it trains in this process. --address connects to a running cluster (default:
$RAY_ADDRESS, as under `ray job submit`, else a local Ray); --spread STRICT_SPREAD puts every
task on its own node. Reads the CIFAR-10 binary files from --data-dir (or its
cifar-10-batches-bin/) or $ACTORFLOW_DATA_DIR/cifar-10-batches-bin. Prints progress; the last
line of output is one JSON object with the results (test accuracy on test_batch.bin, images
per second).
"""
from __future__ import annotations

import os
import sys

from actorflow.agents.cli import experiment_parser, parse_experiment_args
from actorflow.agents.supervised import Supervised, SupervisedConfig


def main(argv=None) -> dict:
    p = experiment_parser(__doc__, workers=2, steps=3000,
                          workers_help="gradient workers, Ray actors (0: train in this process)",
                          steps_help="global training steps (book: 3000)")
    p.add_argument("--ps", type=int, default=1, help="parameter-server shards (book: 1)")
    p.add_argument("--mode", default="sync", choices=["sync", "async", "allreduce"],
                   help="gradient exchange (default sync)")
    p.add_argument("--model", default="cifar10_cnn", help="a model of actorflow.models")
    p.add_argument("--batch-size", type=int, default=128, help="per-worker batch (book: 128)")
    p.add_argument("--data-dir", default=None, help="the CIFAR-10 binary files (default: "
                   "$ACTORFLOW_DATA_DIR/cifar-10-batches-bin)")
    p.add_argument("--spread", default="PACK", choices=["PACK", "SPREAD", "STRICT_SPREAD"],
                   help="how tasks spread over nodes")
    p.add_argument("--checkpoint-every", type=int, default=100, help="global steps between "
                   "checkpoints (the ps shards' too)")
    p.add_argument("--eval-examples", type=int, default=10_000,
                   help="test images evaluated at the end (0: none)")
    args = parse_experiment_args(p, argv)
    data_dir = os.path.abspath(os.path.expanduser(args.data_dir)) if args.data_dir else ""
    try:
        config = SupervisedConfig(model=args.model, data_dir=data_dir, workers=args.workers,
                                  ps=args.ps, mode=args.mode, total_steps=args.steps,
                                  batch_size=args.batch_size, seed=args.seed,
                                  strategy=args.spread, checkpoint_every=args.checkpoint_every,
                                  eval_examples=args.eval_examples)
        agent = Supervised(config)
    except (ValueError, FileNotFoundError) as e:
        p.exit(2, f"{p.prog}: error: {e}\n")
    return agent.train(logdir=args.logdir)


if __name__ == "__main__":
    main(sys.argv[1:])
