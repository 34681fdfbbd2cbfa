"""tf.data input pipeline throughput: images/s delivered, and a small CNN step fed from it.

Pipeline (CIFAR-like uint8 images [N, 32, 32, 3]):

    Dataset.from_tensor_slices(images).repeat()
        .map(random crop 24x24 + random left-right flip + per-image standardization,
             num_parallel_calls=2)
        .batch(128).prefetch(2)

The map is `tf.random_crop`, `tf.image.random_flip_left_right` and
`tf.image.per_image_standardization`, traced once.

Candidates, timed interleaved in one process (benchmarks/_timing.py), one call = one batch.
The prefetch thread refills its buffer (2 batches) while the other candidates run, so each
timed block of the pipeline reads `--batches` batches: the prefilled ones bias it by at most
2 / batches (and the refill slows the baselines a little).

- ``pipeline``: ``sess.run(next_batch)`` through the iterator.
- baseline ``numpy_slice``: the same number of preprocessed images sliced (copied) from a
  NumPy array in memory — the ceiling of any input path.
- reference ``numpy_augment``: the same augmentation written vectorized in NumPy per batch.

Then a small CNN training step (conv 5x5x32 + pool, conv 5x5x64 + pool, fc 256, fc 10,
softmax cross entropy, SGD) consumes batches: ``cnn_from_pipeline`` takes its images from the
iterator's get_next inside the graph; ``cnn_from_feed`` is fed NumPy batches sliced from
memory. Their ratio says how much the pipeline slows training down.

Prints one JSON line.
Usage: python benchmarks/data_pipeline.py [--n 4096] [--batches 24] [--rounds 5]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402

CROP = 24
BATCH = 128


def augment_graph(image):
    """Random 24x24 crop, random left-right flip, per-image standardization (graph ops)."""
    image = tf.random_crop(image, [CROP, CROP, 3])
    image = tf.image.random_flip_left_right(image)
    return tf.image.per_image_standardization(image)


def augment_numpy(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same augmentation over a batch, vectorized in NumPy."""
    n = batch.shape[0]
    oy = rng.integers(0, 32 - CROP + 1, n)
    ox = rng.integers(0, 32 - CROP + 1, n)
    rows = oy[:, None] + np.arange(CROP)
    cols = ox[:, None] + np.arange(CROP)
    flip = rng.random(n) < 0.5
    cols[flip] = cols[flip, ::-1]
    crops = batch[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    x = crops.astype(np.float32).reshape(n, -1)
    mean = x.mean(1, keepdims=True)
    std = np.maximum(x.std(1, keepdims=True), 1.0 / np.sqrt(x.shape[1]))
    return ((x - mean) / std).reshape(n, CROP, CROP, 3)


def cnn_train_step(images, labels):
    """A small CNN's SGD step on [B, 24, 24, 3] float32 images; returns the train op."""
    def conv_pool(x, cin, cout, name):
        w = tf.Variable(tf.truncated_normal([5, 5, cin, cout], stddev=0.05), name=f"w{name}")
        b = tf.Variable(tf.zeros([cout]), name=f"b{name}")
        h = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + b)
        return tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")

    h = conv_pool(images, 3, 32, "1")
    h = conv_pool(h, 32, 64, "2")
    h = tf.reshape(h, [-1, 6 * 6 * 64])
    w3 = tf.Variable(tf.truncated_normal([6 * 6 * 64, 256], stddev=0.02))
    h = tf.nn.relu(tf.matmul(h, w3))
    w4 = tf.Variable(tf.truncated_normal([256, 10], stddev=0.05))
    logits = tf.matmul(h, w4)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    return tf.train.GradientDescentOptimizer(0.01).minimize(loss)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=4096, help="images in the dataset")
    p.add_argument("--batches", type=int, default=24, help="batches per timed block")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--parallel", type=int, default=2, help="map num_parallel_calls")
    args = p.parse_args()

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, args.n).astype(np.int32)

    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        ds = tf.data.Dataset.from_tensor_slices((images, labels)).repeat() \
            .map(lambda im, lab: (augment_graph(im), lab), num_parallel_calls=args.parallel) \
            .batch(BATCH).prefetch(2)
        x_batch, y_batch = ds.make_one_shot_iterator().get_next()
        train_from_pipeline = cnn_train_step(x_batch, y_batch)
        x_feed = tf.placeholder(tf.float32, [None, CROP, CROP, 3])
        y_feed = tf.placeholder(tf.int32, [None])
        with tf.variable_scope("fed"):
            train_from_feed = cnn_train_step(x_feed, y_feed)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph)
    sess.run(init)

    first = sess.run(x_batch)  # checked before timing: shape, standardization
    assert first.shape == (BATCH, CROP, CROP, 3) and first.dtype == np.float32
    np.testing.assert_allclose(first.reshape(BATCH, -1).mean(1), 0, atol=1e-4)
    np.testing.assert_allclose(first.reshape(BATCH, -1).std(1), 1, atol=1e-3)

    prepared = augment_numpy(images, rng)
    cursor = [0]

    def numpy_slice():
        i = cursor[0]
        cursor[0] = (i + BATCH) % (args.n - BATCH)
        return prepared[i:i + BATCH].copy()

    aug_cursor = [0]

    def numpy_augment():
        i = aug_cursor[0]
        aug_cursor[0] = (i + BATCH) % (args.n - BATCH)
        return augment_numpy(images[i:i + BATCH], rng)

    def pipeline():
        return sess.run(x_batch)

    feed_cursor = [0]

    def cnn_from_feed():
        i = feed_cursor[0]
        feed_cursor[0] = (i + BATCH) % (args.n - BATCH)
        sess.run(train_from_feed, {x_feed: prepared[i:i + BATCH],
                                   y_feed: labels[i:i + BATCH]})

    def cnn_from_pipeline():
        sess.run(train_from_pipeline)

    delivery = interleaved({"pipeline": pipeline, "numpy_slice": numpy_slice,
                            "numpy_augment": numpy_augment}, repeat=args.batches,
                           rounds=args.rounds)
    training = interleaved({"cnn_from_pipeline": cnn_from_pipeline,
                            "cnn_from_feed": cnn_from_feed}, repeat=max(1, args.batches // 4),
                           rounds=args.rounds)
    sess.close()

    def ips(r):
        return BATCH / r["median_s"]

    result = {
        "benchmark": "data_pipeline", "n_images": args.n, "batch": BATCH,
        "num_parallel_calls": args.parallel,
        "images_per_s": {k: ips(v) for k, v in {**delivery, **training}.items()},
        "pipeline_vs_numpy_slice": ips(delivery["pipeline"]) / ips(delivery["numpy_slice"]),
        "pipeline_vs_numpy_augment":
            ips(delivery["pipeline"]) / ips(delivery["numpy_augment"]),
        "cnn_pipeline_vs_feed":
            ips(training["cnn_from_pipeline"]) / ips(training["cnn_from_feed"]),
        # The bar: the pipeline delivers >= 3x what the step consumes.
        "pipeline_vs_cnn_step": ips(delivery["pipeline"]) / ips(training["cnn_from_feed"]),
        "median_s": {k: v["median_s"] for k, v in {**delivery, **training}.items()},
    }
    emit(result)


if __name__ == "__main__":
    main()
