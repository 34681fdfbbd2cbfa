"""Batches/s that the two input paths of actors/feeder.py deliver to 2 consumer actors.

The input is the book's ch. 5.3 training pipeline over CIFAR-10 binary files (synthetic
files in the real format, or the real data set from ACTORFLOW_DATA_DIR/cifar-10-batches-bin):
`FixedLengthRecordDataset` -> `decode_raw` -> random 24x24 crop -> flip -> brightness ->
contrast -> `per_image_standardization` -> batch, repeated. Candidates:

- ``shards`` (the baseline): each consumer actor runs `FileShards` — its own files through
  its own pipeline in a prefetching thread of its process.
- ``queue``: `QueueFeed` — `--producers` producer actors read their shards through the same
  pipeline and ``enqueue_many`` into one queue actor; each consumer takes whole batches with
  ``dequeue_many`` and `--prefetch` requests outstanding.

A round asks both consumers for `--batches` batches each at once. Both paths stay up for
the whole run and rounds alternate, so at the start of a round each path's buffers are full
(between its rounds its readers fill them, then wait): the first batches of a round come
from memory. Two figures per path, medians over rounds:

- ``*_batches_per_s``: the steady rate, buffers spent: each consumer times its batches
  after the first `--skip` (more than any buffer holds), and the two rates add up.
- ``*_round_batches_per_s``: all batches of a round over its wall time, buffers included.

The consumers do nothing with a batch but take the next: the figures are what each input
path can deliver, not a training step. One JSON line; ``queue_vs_shards`` is the ratio of
the steady rates.

    python benchmarks/feeder_throughput.py [--rounds 5] [--batches 40] [--skip 12]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.actors._remote import as_actor, ensure_ray, get  # noqa: E402
from actorflow.actors.feeder import FileShards, InputContext, QueueFeed  # noqa: E402
from tests.book._data import CIFAR10_RECORD_BYTES, write_cifar10  # noqa: E402

BATCH = 128


def cifar10_input(ctx: InputContext, batch: int = BATCH) -> dict:
    """The book's distorted training input over this pipeline's files, batched, endless."""
    def decode_and_distort(value):
        record = tf.decode_raw(value, tf.uint8)
        label = tf.cast(tf.strided_slice(record, [0], [1]), tf.int32)
        image = tf.transpose(tf.reshape(
            tf.strided_slice(record, [1], [CIFAR10_RECORD_BYTES]), [3, 32, 32]), [1, 2, 0])
        image = tf.random_crop(tf.cast(image, tf.float32), [24, 24, 3])
        image = tf.image.random_flip_left_right(image)
        image = tf.image.random_brightness(image, max_delta=63)
        image = tf.image.random_contrast(image, lower=0.2, upper=1.8)
        return tf.image.per_image_standardization(image), tf.reshape(label, [])

    records = ctx.shard(tf.data.FixedLengthRecordDataset(list(ctx.files),
                                                         CIFAR10_RECORD_BYTES))
    images, labels = (records.map(decode_and_distort).repeat().batch(batch, True)
                      .make_one_shot_iterator().get_next())
    return {"images:0": images, "labels:0": labels}


class Consumer:
    """Stands in for a worker: takes batches from its data function."""

    def __init__(self, data_fn, index: int, count: int) -> None:
        self.batches = data_fn(index, count)

    def take(self, n: int) -> tuple[int, list[float]]:
        """Takes n batches; returns the images received and the time each batch came."""
        images, times = 0, []
        for _ in range(n):
            images += len(next(self.batches)["labels:0"])
            times.append(time.perf_counter())
        return images, times


def steady_rate(times: list[float], skip: int) -> float:
    """Batches/s of one consumer after its first `skip` batches."""
    return (len(times) - 1 - skip) / (times[-1] - times[skip])


def data_files(tmp: str, per_file: int) -> tuple[list[str], str]:
    """(the training files, "real") when ACTORFLOW_DATA_DIR has them, else synthetic ones
    written into `tmp`."""
    root = os.environ.get("ACTORFLOW_DATA_DIR")
    folder = Path(root, "cifar-10-batches-bin") if root else None
    kind = "real"
    if folder is None or not (folder / "data_batch_1.bin").exists():
        folder, kind = Path(tmp, "cifar-10-batches-bin"), "synthetic"
        write_cifar10(folder, per_train_file=per_file, n_test=16)
    return [str(folder / f"data_batch_{i}.bin") for i in range(1, 6)], kind


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batches", type=int, default=40, help="per consumer per round")
    p.add_argument("--skip", type=int, default=12,
                   help="batches per consumer and round before the steady rate is timed")
    p.add_argument("--batch", type=int, default=BATCH)
    p.add_argument("--per-file", type=int, default=512, help="records per synthetic file")
    p.add_argument("--producers", type=int, default=2)
    p.add_argument("--prefetch", type=int, default=2)
    p.add_argument("--capacity", type=int, default=4 * BATCH)
    args = p.parse_args()
    ray = ensure_ray()

    def pipeline(ctx: InputContext) -> dict:
        return cifar10_input(ctx, args.batch)

    with tempfile.TemporaryDirectory() as tmp:
        files, kind = data_files(tmp, args.per_file)
        shards = FileShards(files, pipeline, seed=0)
        feed = QueueFeed(FileShards(files, pipeline, seed=1), batch_size=args.batch,
                         capacity=args.capacity, producers=args.producers,
                         prefetch=args.prefetch)
        paths = {"shards": [as_actor(Consumer, shards, i, 2, options={"num_cpus": 0})
                            for i in range(2)],
                 "queue": [as_actor(Consumer, feed, i, 2, options={"num_cpus": 0})
                           for i in range(2)]}
        try:
            for consumers in paths.values():  # warm-up: pipelines built, buffers filled
                get([c.take.remote(2) for c in consumers])
            steady: dict = {name: [] for name in paths}
            whole: dict = {name: [] for name in paths}
            for _ in range(args.rounds):
                for name, consumers in paths.items():
                    t0 = time.perf_counter()
                    taken = get([c.take.remote(args.batches) for c in consumers])
                    whole[name].append(2 * args.batches / (time.perf_counter() - t0))
                    steady[name].append(sum(steady_rate(t, args.skip) for _, t in taken))
                    assert sum(n for n, _ in taken) == 2 * args.batches * args.batch
        finally:
            for consumers in paths.values():
                for c in consumers:
                    ray.kill(c)
            feed.shutdown()
    out = {"benchmark": "feeder_throughput", "consumers": 2, "batch": args.batch,
           "batches_per_consumer_and_round": args.batches, "skip": args.skip,
           "rounds": args.rounds, "producers": args.producers, "prefetch": args.prefetch,
           "capacity": args.capacity, "data": kind}
    for name in paths:
        out[f"{name}_batches_per_s"] = statistics.median(steady[name])
        out[f"{name}_images_per_s"] = out[f"{name}_batches_per_s"] * args.batch
        out[f"{name}_round_batches_per_s"] = statistics.median(whole[name])
        out[f"{name}_rounds_batches_per_s"] = steady[name]
    out["queue_vs_shards"] = out["queue_batches_per_s"] / out["shards_batches_per_s"]
    out["queue_vs_shards_rounds"] = (out["queue_round_batches_per_s"]
                                     / out["shards_round_batches_per_s"])
    ray.shutdown()
    emit(out)


if __name__ == "__main__":
    main()
