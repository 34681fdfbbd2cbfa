"""The book's CIFAR-10 input pipeline (ch. 5.3) against the CNN step it feeds.

The program is the book's, as tests/book/test_ch5_cifar10_input.py runs it: data_batch_*.bin
through `string_input_producer` -> `FixedLengthRecordReader` -> `decode_raw` -> random crop
24x24 -> flip -> brightness -> contrast -> `per_image_standardization` -> `shuffle_batch`
(128, 16 threads), and the ch. 5.3 CNN (conv, LRN, L2 losses, Adam) trained by feeding the
dequeued batch, as the book does. Binary files in the real format are written to a temporary
folder (or the real data set is read from ACTORFLOW_DATA_DIR/cifar-10-batches-bin when there).

Candidates, in rounds, each timed after the queue has refilled (a full queue's runner
threads sleep, so they take no CPU from a step timed from memory):

- ``pipeline``: ``sess.run([images, labels])`` alone: images/s the pipeline delivers. The
  batches buffered above min_after_dequeue are drained untimed first, so the figure is the
  rate at which the 16 threads produce.
- ``step_from_memory``: the training step fed a batch held in memory (the baseline).
- ``step_from_pipeline``: the book's loop: dequeue a batch, then feed it to the step.

Prints one JSON line: the medians, `pipeline_vs_step` (images/s delivered over images/s the
step consumes; the issue asks >= 3) and `pipeline_step_vs_memory_step` (>= 0.9).

Usage: python benchmarks/cifar10_pipeline.py [--rounds 5] [--steps 4] [--batches 24]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from benchmarks._timing import emit  # noqa: E402

import actorflow as tf  # noqa: E402
from tests.book import test_ch5_cifar10_input as book  # noqa: E402  the book's program
from tests.book._data import write_cifar10  # noqa: E402

BATCH = 128


def data_dir(tmp: str, per_file: int) -> tuple[str, int]:
    """The real data set when ACTORFLOW_DATA_DIR has it, else small files in its format."""
    root = os.environ.get("ACTORFLOW_DATA_DIR")
    real = Path(root, "cifar-10-batches-bin") if root else None
    if real is not None and (real / "data_batch_1.bin").exists():
        return str(real), 50000
    path = Path(tmp, "cifar-10-batches-bin")
    write_cifar10(path, per_train_file=per_file, n_test=BATCH)
    return str(path), 5 * per_file


def build(path: str):
    """The book's graph: the distorted-input batch, the CNN's train op and its placeholders."""
    images, labels = book.distorted_inputs(data_dir=path, batch_size=BATCH)
    image_holder = tf.placeholder(tf.float32, [BATCH, 24, 24, 3])
    label_holder = tf.placeholder(tf.int32, [BATCH])
    w1 = book.variable_with_weight_loss([5, 5, 3, 64], 5e-2, 0.0)
    conv1 = tf.nn.relu(tf.nn.bias_add(
        tf.nn.conv2d(image_holder, w1, [1, 1, 1, 1], "SAME"), tf.Variable(tf.zeros([64]))))
    pool1 = tf.nn.max_pool(conv1, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    norm1 = tf.nn.lrn(pool1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
    w2 = book.variable_with_weight_loss([5, 5, 64, 64], 5e-2, 0.0)
    conv2 = tf.nn.relu(tf.nn.bias_add(
        tf.nn.conv2d(norm1, w2, [1, 1, 1, 1], "SAME"), tf.Variable(tf.fill([64], 0.1))))
    norm2 = tf.nn.lrn(conv2, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
    pool2 = tf.nn.max_pool(norm2, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    flat = tf.reshape(pool2, [BATCH, -1])
    w3 = book.variable_with_weight_loss([flat.get_shape()[1].value, 384], 0.04, 0.004)
    local3 = tf.nn.relu(tf.matmul(flat, w3) + tf.Variable(tf.fill([384], 0.1)))
    w4 = book.variable_with_weight_loss([384, 192], 0.04, 0.004)
    local4 = tf.nn.relu(tf.matmul(local3, w4) + tf.Variable(tf.fill([192], 0.1)))
    w5 = book.variable_with_weight_loss([192, 10], 1 / 192.0, 0.0)
    logits = tf.matmul(local4, w5) + tf.Variable(tf.zeros([10]))
    train_op = tf.train.AdamOptimizer(1e-3).minimize(book.loss(logits, label_holder))
    return (images, labels), train_op, image_holder, label_holder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=4, help="training steps a round")
    p.add_argument("--batches", type=int, default=24, help="pipeline batches a round")
    p.add_argument("--per-file", type=int, default=512, help="records a written file")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path, n_train = data_dir(tmp, args.per_file)
        book.NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = n_train  # min_after_dequeue: 40% of it
        batch, train_op, image_holder, label_holder = build(path)
        (runner,) = [r for r in tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
                     if r.queue.name.startswith("shuffle_batch")]
        queue_size = runner.queue.size()
        min_after = int(n_train * 0.4)
        capacity = min_after + 3 * BATCH

        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord=coord)

        def refilled() -> None:
            while sess.run(queue_size) < capacity:
                time.sleep(0.05)

        refilled()
        held = sess.run(batch)
        feed_held = {image_holder: held[0], label_holder: held[1]}
        sess.run(train_op, feed_held)  # warm-up: compile both plans
        samples: dict[str, list[float]] = {"pipeline": [], "step_from_memory": [],
                                            "step_from_pipeline": []}
        for _ in range(args.rounds):
            refilled()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                sess.run(train_op, feed_held)
            samples["step_from_memory"].append(
                args.steps * BATCH / (time.perf_counter() - t0))
            refilled()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                images, labels = sess.run(batch)
                sess.run(train_op, {image_holder: images, label_holder: labels})
            samples["step_from_pipeline"].append(
                args.steps * BATCH / (time.perf_counter() - t0))
            refilled()
            for _ in range(3):  # the 3 batches buffered above min_after_dequeue
                sess.run(batch)
            t0 = time.perf_counter()
            for _ in range(args.batches):
                sess.run(batch)
            samples["pipeline"].append(args.batches * BATCH / (time.perf_counter() - t0))
        coord.request_stop()
        sess.close()
        coord.join(threads)

    med = {k: statistics.median(v) for k, v in samples.items()}
    emit({"benchmark": "cifar10_pipeline", "batch": BATCH, "train_records": n_train,
          "images_per_s": med, "rounds": samples,
          "pipeline_vs_step": med["pipeline"] / med["step_from_memory"],
          "pipeline_step_vs_memory_step": med["step_from_pipeline"] / med["step_from_memory"],
          "targets": {"pipeline_vs_step": 3.0, "pipeline_step_vs_memory_step": 0.9}})


if __name__ == "__main__":
    main()
