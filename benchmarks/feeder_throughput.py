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

A round asks both consumers for `--batches` batches each at once and counts the batches per
second they receive together. Both paths stay up for the whole run and rounds alternate;
at the start of a round each path's buffers are full (the shard prefetchers' few batches,
the queue's capacity), since between its rounds a path's readers fill them and then wait.
The consumers do nothing with a batch but take the next: the figure is what each input path
can deliver, not a training step. One JSON line: medians, `queue_vs_shards`.

    python benchmarks/feeder_throughput.py [--rounds 5] [--batches 20] [--batch 128]
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

    def take(self, n: int) -> int:
        """Takes n batches; returns the images received."""
        return sum(len(next(self.batches)["labels:0"]) for _ in range(n))


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
    p.add_argument("--batches", type=int, default=20, help="per consumer per round")
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
            seconds: dict = {name: [] for name in paths}
            for _ in range(args.rounds):
                for name, consumers in paths.items():
                    t0 = time.perf_counter()
                    images = sum(get([c.take.remote(args.batches) for c in consumers]))
                    seconds[name].append(time.perf_counter() - t0)
                    assert images == 2 * args.batches * args.batch
        finally:
            for consumers in paths.values():
                for c in consumers:
                    ray.kill(c)
            feed.shutdown()
    batches = 2 * args.batches
    out = {"benchmark": "feeder_throughput", "consumers": 2, "batch": args.batch,
           "batches_per_round": batches, "rounds": args.rounds, "producers": args.producers,
           "prefetch": args.prefetch, "capacity": args.capacity, "data": kind}
    for name, values in seconds.items():
        median = statistics.median(values)
        out[f"{name}_batches_per_s"] = batches / median
        out[f"{name}_images_per_s"] = batches * args.batch / median
        out[f"{name}_rounds_s"] = values
    out["queue_vs_shards"] = out["queue_batches_per_s"] / out["shards_batches_per_s"]
    ray.shutdown()
    emit(out)


if __name__ == "__main__":
    main()
