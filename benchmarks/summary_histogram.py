"""A histogram summary per run: `tf.summary.histogram` of a 784-512-512-10 MLP's weights
merged by `merge_all`, against the same histograms binned by a binary search per value.

Candidates: ``summary_run`` is ``sess.run(merged)`` (the HistogramSummary kernels, their
protos and MergeSummary) for the MLP's three weight matrices (~670k values);
``searchsorted_protos`` bins those same arrays as the encoder did before it guessed buckets
by a logarithm (``np.searchsorted(limits, x, side="right")`` per value, then the same
statistics and proto). Timed in this process, interleaved; one JSON line.

    python benchmarks/summary_histogram.py [--repeat 5] [--rounds 7]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.summary import encode  # noqa: E402


def searchsorted_proto(values) -> tf.HistogramProto:
    """The encoder's histogram as it was: one binary search per value."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(x)):
        raise ValueError("Nan in summary histogram")
    limits = encode.default_bucket_limits()
    counts = np.bincount(np.searchsorted(limits, x, side="right"), minlength=limits.size)
    counts = counts[:limits.size].astype(np.float64)
    nonzero = counts > 0
    keep = nonzero | (~nonzero & np.r_[nonzero[1:], True])
    return tf.HistogramProto(
        min=float(x.min()), max=float(x.max()), num=float(x.size), sum=float(x.sum()),
        sum_squares=float(np.dot(x, x)), bucket_limit=limits[keep].tolist(),
        bucket=counts[keep].tolist())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 784])
        h = tf.layers.dense(x, 512, activation=tf.nn.relu)
        h = tf.layers.dense(h, 512, activation=tf.nn.relu)
        tf.layers.dense(h, 10)
        kernels = [v for v in tf.trainable_variables() if "kernel" in v.op.name]
        for v in kernels:
            tf.summary.histogram(v.op.name, v)
        merged = tf.summary.merge_all()
        sess = tf.Session(graph=graph)
        sess.run(tf.global_variables_initializer())
        arrays = sess.run(kernels)
    for a in arrays:  # same buckets and counts both ways
        new, old = encode.histogram_proto(a), searchsorted_proto(a)
        assert new.bucket_limit == old.bucket_limit and new.bucket == old.bucket
    times = interleaved({
        "summary_run": lambda: sess.run(merged),
        "searchsorted_protos": lambda: [searchsorted_proto(a) for a in arrays],
    }, repeat=args.repeat, rounds=args.rounds)
    run, old = times["summary_run"]["median_s"], times["searchsorted_protos"]["median_s"]
    emit({"benchmark": "summary_histogram", "values": int(sum(a.size for a in arrays)),
          "summary_run_ms": run * 1e3, "searchsorted_protos_ms": old * 1e3,
          "ratio": run / old})


if __name__ == "__main__":
    main()
