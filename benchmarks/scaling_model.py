"""The scaling model's inputs measured here, its table for N workers, and its error against
what a local 3-node Ray cluster trains at.

1. Pieces: each model's gradient step in this process with one BLAS thread (what a worker
   with one CPU computes) and its gradient bytes: the book's CIFAR-10 CNN at batch 128;
   ResNet-50 v2 at 224x224 at two small batches (a full batch of 32 takes minutes here),
   a line through them giving the fixed and per-image parts, extended to the book's 32.
2. With the cluster (clusters/local_cluster.sh through tests/actors/_cluster.py, or
   `--address` of a running one), `check_on_cluster` for N = 1, 2, in rounds: the
   actor-call latency and bandwidth between two nodes, the CIFAR CNN step inside N worker
   actors computing at once (the nodes share this machine's cores), and the images/s
   `ReplicatedTrainer` reaches with N workers, each on its own node (STRICT_SPREAD), with a
   sync ps and with ring all-reduce; the model's prediction for each round, and its error
   (medians over rounds).
3. The table: N = 1, 2, 4, 16, 64, 256 for both models, PS with K shards and ring
   all-reduce, on (a) the local links with every worker on cores of its own, (b) a
   described datacenter of 10 Gb/s, 50 us links with CPU workers like one here, and, for
   the CIFAR CNN only, (c) the same links with workers as fast as the book's GTX 1080 on it
   (0.066 s per batch of 128, ch. 5.3; the book gives no ResNet-50 training step, and a
   GPU's speed over NumPy differs from model to model, so it is not carried over).

    python benchmarks/scaling_model.py [--workers 1 2 4 16 64 256] [--ps 1 4]
        [--steps 5] [--rounds 3] [--check-modes ps allreduce]
        [--no-cluster | --address HOST:PORT] [--no-resnet]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.actors import scaling  # noqa: E402
from actorflow.actors.data import ShardedBatches  # noqa: E402

BOOK_GTX1080_CIFAR_S = 0.066
"""The book's CIFAR-10 CNN step at batch 128 on a GTX 1080 (ch. 5.3, 1800 examples/s)."""

DATACENTER = dict(gbit_s=10.0, latency_us=50.0)


def build(name: str, batch: int, replicas: int = 0, rows: int = 0):
    """(graph, train_op, data_fn) of the registered model `name` with a softmax loss and
    Adam (the book's CIFAR optimizer); a SyncReplicasOptimizer over `replicas` when given.
    `data_fn` feeds fixed random batches of `batch` from `rows` rows (default one batch per
    replica)."""
    from actorflow.models import get_model
    spec = get_model(name)
    g = tf.Graph()
    with g.as_default():
        images = tf.placeholder(tf.float32, [None, *spec.input_shape], name="images")
        labels = tf.placeholder(tf.int32, [None], name="labels")
        logits = spec(images, is_training=True)["logits"]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        opt = tf.train.AdamOptimizer(1e-3)
        if replicas:
            opt = tf.train.SyncReplicasOptimizer(opt, replicas, replicas)
        train = opt.minimize(loss, global_step=tf.train.get_or_create_global_step())
    rows = rows or batch * max(1, replicas)
    rng = np.random.default_rng(0)
    data = ShardedBatches({
        "images:0": rng.standard_normal((rows, *spec.input_shape), np.float32),
        "labels:0": rng.integers(0, spec.num_classes, rows).astype(np.int32)},
        batch, shuffle=False)
    return g, train, data


def profile(name: str, batch: int, steps: int) -> scaling.ModelProfile:
    g, train, data = build(name, batch)
    return scaling.profile_model(g, train, data, batch, name=name, steps=steps, threads=1)


def profile_resnet(batches: tuple[int, int], target: int, steps: int) -> tuple:
    """ResNet-50 v2 timed at two small batches; the line through them gives the step at
    `target` (fixed part + per-image part x target). Returns (profile, the two profiles)."""
    small = [profile("resnet_v2_50", b, steps) for b in batches]
    (b0, t0), (b1, t1) = [(p.batch_size, p.compute_s) for p in small]
    per_image = (t1 - t0) / (b1 - b0)
    # Where noise swamped the difference, the larger batch's time per image, nothing fixed.
    fixed = max(0.0, t0 - per_image * b0) if per_image > 0 else 0.0
    return small[1].at_batch(target, fixed_s=fixed), small


def measure_cluster(args, cifar: str) -> dict:
    """`check_on_cluster` for the CIFAR CNN and N = 1, 2 in each of `args.check_modes`, on
    the cluster at `args.address` or on a new local 3-node one: {mode: its result}."""
    from actorflow.actors._remote import ensure_ray
    started = None
    if args.address is None:
        from tests.actors import _cluster
        started = _cluster.start(3)
        args.address = started.address
    ray = ensure_ray(args.address)
    try:
        return {mode: scaling.check_on_cluster(
                    lambda n: build(cifar, args.batch, replicas=n), args.batch, (1, 2),
                    steps=args.steps, rounds=args.rounds, name=cifar, mode=mode)
                for mode in args.check_modes}
    finally:
        ray.shutdown()
        if started is not None:
            _cluster.stop(started)


def table(models, clusters, workers, shards) -> list[dict]:
    rows = []
    for model in models:
        for cluster in clusters:
            for n in workers:
                configs = [("ps", k) for k in shards] + [("allreduce", 0)]
                for mode, k in configs:
                    p = scaling.predict(model, cluster, n, mode, max(1, k))
                    rows.append({"model": model.name, "cluster": cluster.name, **p.as_dict()})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 16, 64, 256])
    ap.add_argument("--ps", type=int, nargs="+", default=[1, 4], help="ps shard counts K")
    ap.add_argument("--batch", type=int, default=128, help="CIFAR CNN batch per worker")
    ap.add_argument("--resnet-batches", type=int, nargs=2, default=[1, 2])
    ap.add_argument("--resnet-batch", type=int, default=32, help="ResNet batch per worker")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the N = 1, 2 check")
    ap.add_argument("--check-modes", nargs="+", default=["ps", "allreduce"],
                    choices=scaling.MODES, help="trainer modes checked for N = 1, 2")
    ap.add_argument("--address", default=None, help="a running Ray cluster (else a new one)")
    ap.add_argument("--no-cluster", action="store_true", help="skip the cluster measurements")
    ap.add_argument("--no-resnet", action="store_true")
    args = ap.parse_args()
    cifar = "cifar10_cnn"
    models = [profile(cifar, args.batch, args.steps)]
    result: dict = {"benchmark": "scaling_model", "cores": os.cpu_count()}
    if not args.no_resnet:
        resnet, small = profile_resnet(tuple(args.resnet_batches), args.resnet_batch,
                                       max(2, args.steps // 2))
        models.append(resnet)
        result["resnet_small_batches"] = [dataclasses.asdict(p) for p in small]
    result["models"] = [dataclasses.asdict(m) for m in models]
    print(result["models"], file=sys.stderr, flush=True)
    clusters = [scaling.ClusterProfile.describe("datacenter_cpu", **DATACENTER)]
    gpu = scaling.ClusterProfile.describe(
        "datacenter_gtx1080", speed=models[0].compute_s / BOOK_GTX1080_CIFAR_S, **DATACENTER)
    if not args.no_cluster:
        checks = measure_cluster(args, cifar)
        links = [c["links"] for c in checks.values()]
        clusters.insert(0, dataclasses.replace(links[0], **{
            k: float(np.median([getattr(c, k) for c in links]))
            for k in ("bandwidth", "latency", "reduce_bandwidth", "object_latency")}))
        result["validation"] = {}
        for mode, got in checks.items():
            points = got["points"]
            for p in points:
                print(f"{mode} {p['workers']} worker(s): measured "
                      f"{p['measured_images_per_s']:.1f}, predicted "
                      f"{p['predicted_images_per_s']:.1f} images/s", file=sys.stderr)
            result["validation"][mode] = {
                "links": dataclasses.asdict(got["links"]), "points": points,
                "measured_2_over_1": (points[1]["measured_images_per_s"]
                                      / points[0]["measured_images_per_s"]),
                "predicted_2_over_1": (points[1]["predicted_images_per_s"]
                                       / points[0]["predicted_images_per_s"])}
    result["clusters"] = [dataclasses.asdict(c) for c in clusters + [gpu]]
    result["rows"] = (table(models, clusters, args.workers, args.ps)
                      + table(models[:1], [gpu], args.workers, args.ps))
    emit(result)


if __name__ == "__main__":
    main()
