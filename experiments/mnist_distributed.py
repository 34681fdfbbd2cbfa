"""The book's ch. 9.3 distributed MNIST MLP: 1 ps + 2 workers on Ray, sync or async.

    python experiments/mnist_distributed.py [--sync] [--workers 2] [--ps 1] [--steps 2000]
    ray job submit --working-dir . -- python experiments/mnist_distributed.py --sync

The graph is the book's (784-100-10 MLP, softmax cross-entropy summed over the batch, Adam
0.01, batch 100, variables placed on the ps tasks by `replica_device_setter`, and
`SyncReplicasOptimizer` with --sync); one driver script starts the ps and worker tasks as
Ray actors instead of one process per machine. --address connects to a running cluster
(default: $RAY_ADDRESS, as under `ray job submit`, else a local Ray); --spread STRICT_SPREAD
puts every task on its own node. Reads MNIST from --data-dir or $ACTORFLOW_DATA_DIR; with only
the 10,000-image test set there, trains on its first 8,000 images and evaluates on the last
2,000. Prints progress; the last line of output is one JSON object with the results.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time

import actorflow as tf
from actorflow.actors.data import ShardedBatches
from actorflow.actors.executor import GraphExecutor
from actorflow.actors.trainer import ReplicatedTrainer
from actorflow.datasets import mnist as mnist_data

IMAGE_PIXELS = 28


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sync", action="store_true", help="SyncReplicasOptimizer (book flag "
                   "sync_replicas); default async")
    p.add_argument("--workers", type=int, default=2, help="worker tasks (book: 2)")
    p.add_argument("--ps", type=int, default=1, help="parameter-server tasks (book: 1)")
    p.add_argument("--replicas-to-aggregate", type=int, default=None,
                   help="sync mode: gradients per step (default: all workers)")
    p.add_argument("--steps", type=int, default=2000, help="global steps to train")
    p.add_argument("--batch-size", type=int, default=100, help="per-worker batch (book: 100)")
    p.add_argument("--hidden-units", type=int, default=100, help="hidden units (book: 100)")
    p.add_argument("--learning-rate", type=float, default=0.01, help="Adam (book: 0.01)")
    p.add_argument("--address", default=None, help="Ray address, e.g. auto (default: "
                   "$RAY_ADDRESS, else a new local Ray)")
    p.add_argument("--spread", default="PACK", choices=["PACK", "SPREAD", "STRICT_SPREAD"],
                   help="how tasks spread over nodes")
    p.add_argument("--checkpoint-dir", default=None, help="ps checkpoints (default: a "
                   "temporary folder)")
    p.add_argument("--data-dir", default=None, help="folder with mnist/ (default: "
                   "$ACTORFLOW_DATA_DIR)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.workers < 1 or args.ps < 1 or args.steps < 1 or args.batch_size < 1:
        p.error("--workers, --ps, --steps and --batch-size must be >= 1")
    if args.replicas_to_aggregate is not None and not 1 <= args.replicas_to_aggregate:
        p.error("--replicas-to-aggregate must be >= 1")
    return args


def build_graph(args):
    """The book's 9.3 model; returns (graph, train_op, accuracy)."""
    graph = tf.Graph()
    cluster = tf.train.ClusterSpec({"ps": args.ps, "worker": args.workers})
    with graph.as_default():
        tf.set_random_seed(args.seed)
        with tf.device(tf.train.replica_device_setter(worker_device="/job:worker",
                                                      cluster=cluster)):
            global_step = tf.Variable(0, name="global_step", trainable=False)
            hid_w = tf.Variable(tf.truncated_normal(
                [IMAGE_PIXELS * IMAGE_PIXELS, args.hidden_units],
                stddev=1.0 / IMAGE_PIXELS), name="hid_w")
            hid_b = tf.Variable(tf.zeros([args.hidden_units]), name="hid_b")
            sm_w = tf.Variable(tf.truncated_normal(
                [args.hidden_units, 10], stddev=1.0 / math.sqrt(args.hidden_units)),
                name="sm_w")
            sm_b = tf.Variable(tf.zeros([10]), name="sm_b")
            x = tf.placeholder(tf.float32, [None, IMAGE_PIXELS * IMAGE_PIXELS], name="x")
            y_ = tf.placeholder(tf.float32, [None, 10], name="y_")
            hid = tf.nn.relu(tf.nn.xw_plus_b(x, hid_w, hid_b))
            y = tf.nn.softmax(tf.nn.xw_plus_b(hid, sm_w, sm_b))
            cross_entropy = -tf.reduce_sum(y_ * tf.log(tf.clip_by_value(y, 1e-10, 1.0)))
            opt = tf.train.AdamOptimizer(args.learning_rate)
            if args.sync:
                opt = tf.train.SyncReplicasOptimizer(
                    opt, replicas_to_aggregate=args.replicas_to_aggregate or args.workers,
                    total_num_replicas=args.workers, name="mnist_sync_replicas")
            train_step = opt.minimize(cross_entropy, global_step=global_step)
            correct = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
            accuracy = tf.reduce_mean(tf.cast(correct, tf.float32), name="accuracy")
    return graph, train_step, accuracy


def main(argv=None) -> dict:
    args = parse_args(argv)
    try:
        mnist = mnist_data.read_data_sets(args.data_dir, one_hot=True, seed=args.seed)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"mnist_distributed: {e}")
    graph, train_step, accuracy = build_graph(args)

    from actorflow.actors._remote import ensure_ray
    # --address, else $RAY_ADDRESS (set by `ray job submit`), else a new local Ray: never a
    # cluster that merely happens to run on this machine. ensure_ray also reaches a cluster
    # that listens on 127.0.0.1 only (clusters/local_cluster.sh), which plain ray.init cannot.
    ensure_ray(args.address, log_to_driver=True)
    t0 = time.perf_counter()
    data = ShardedBatches({"x:0": mnist.train.images, "y_:0": mnist.train.labels},
                          batch_size=args.batch_size, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="mnist-ps-") as tmp:
        trainer = ReplicatedTrainer(graph, train_step, data,
                                    cluster={"ps": args.ps, "worker": args.workers},
                                    strategy=args.spread,
                                    checkpoint_dir=args.checkpoint_dir or tmp)
        print(f"cluster up in {time.perf_counter() - t0:.1f} s: {args.ps} ps, "
              f"{args.workers} workers, {trainer.mode}", file=sys.stderr, flush=True)
        summary = trainer.train(args.steps)
        weights = trainer.weights()
        placement = trainer.placement()
        trainer.shutdown()

    evaluator = GraphExecutor(graph)
    evaluator.set_weights({k: v for k, v in weights.items()
                           if k in evaluator.variable_names})
    acc = float(evaluator.run(accuracy.name, {"x:0": mnist.test.images,
                                              "y_:0": mnist.test.labels}))
    result = {"model": "mnist_distributed_mlp", "accuracy": round(acc, 4),
              "global_step": summary["global_step"], "mode": summary["mode"],
              "workers": args.workers, "ps": args.ps,
              "worker_steps": summary["worker_steps"],
              "accepted_gradients": summary["accepted"],
              "train_examples": mnist.train.num_examples,
              "test_examples": mnist.test.num_examples,
              "wall_s": round(time.perf_counter() - t0, 2),
              "train_s": round(summary["wall_s"], 2), "placement": placement}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
