"""The book's 9.2 multi-tower training step, on one device vs towers on two logical CPUs.

Both graphs are the same program (two towers of a 784-`--hidden`-10 MLP over halves of a
batch, averaged gradients, one GradientDescent update on variables pinned to /cpu:0); only
where the towers sit differs. ``one_device``: both towers on /cpu:0 of a one-CPU session
(one straight-line plan). ``two_devices``: tower i on /cpu:i with ``device_count={"CPU":
2}``, the unconstrained ops placed by the cost model (partitions
joined by Send/Recv, run concurrently). The ratio shows what partitioning costs or gains on
this machine; the transfers per step are counted from RunMetadata's partition graphs.
Timed in this process, interleaved; one JSON line.

    python benchmarks/partition_step.py [--batch 512] [--hidden 1024] [--repeat 10]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402


def build(towers_on: list[str], batch: int, hidden: int, cpus: int):
    """A graph, its step op, feeds and a session config for towers on `towers_on`."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [batch, 784])
        y = tf.placeholder(tf.int32, [batch])
        with tf.device("/cpu:0"):
            w1 = tf.Variable(tf.truncated_normal([784, hidden], stddev=0.05, seed=1))
            w2 = tf.Variable(tf.truncated_normal([hidden, 10], stddev=0.05, seed=2))
        opt = tf.train.GradientDescentOptimizer(0.1)
        grads = []
        for i, (xs, ys) in enumerate(zip(tf.split(x, 2), tf.split(y, 2))):
            with tf.device(towers_on[i]):
                logits = tf.matmul(tf.nn.relu(tf.matmul(xs, w1)), w2)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=ys, logits=logits))
                grads.append(opt.compute_gradients(loss, [w1, w2]))
        avg = [(tf.reduce_mean(tf.stack([g[k][0] for g in grads]), 0), grads[0][k][1])
               for k in range(2)]
        step = opt.apply_gradients(avg)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph, config=tf.ConfigProto(device_count={"CPU": cpus}))
    sess.run(init)
    return sess, step, x, y


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    xv = rng.random((args.batch, 784), dtype=np.float32)
    yv = rng.integers(0, 10, args.batch).astype(np.int32)
    one = build(["/cpu:0", "/cpu:0"], args.batch, args.hidden, cpus=1)
    two = build(["/cpu:0", "/cpu:1"], args.batch, args.hidden, cpus=2)
    opts = tf.RunOptions(output_partition_graphs=True)
    counts = {}
    for name, (sess, step, x, y) in (("one_device", one), ("two_devices", two)):
        md = tf.RunMetadata()
        sess.run(step, {x: xv, y: yv}, options=opts, run_metadata=md)
        counts[name] = {"partitions": max(1, len(md.partition_graphs)),
                        "transfers": sum(n["op"] == "_Recv" for g in md.partition_graphs
                                         for n in g.node)}
    res = interleaved({name: (lambda s=s: s[0].run(s[1], {s[2]: xv, s[3]: yv}))
                       for name, s in (("one_device", one), ("two_devices", two))},
                      repeat=args.repeat, rounds=args.rounds)
    emit({"benchmark": "partition_step", "batch": args.batch, "hidden": args.hidden,
          "cores": os.cpu_count(),
          "one_device_ms": res["one_device"]["median_s"] * 1e3,
          "two_devices_ms": res["two_devices"]["median_s"] * 1e3,
          "speedup": res["one_device"]["median_s"] / res["two_devices"]["median_s"],
          **{f"{k}_{m}": v for k, c in counts.items() for m, v in c.items()}})


if __name__ == "__main__":
    main()
