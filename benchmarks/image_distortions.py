"""The book's CIFAR-10 distortions (TensorFlow实战 5.3, cifar10_input.distorted_inputs), one
image per `sess.run`, against the CNN step that consumes them.

Chain, on one uint8 [32, 32, 3] image fed through a placeholder (as the book's reader
delivers one record at a time):

    cast float32 -> tf.random_crop 24x24 -> tf.image.random_flip_left_right
    -> random_brightness(max_delta=63) -> random_contrast(0.2, 1.8)
    -> per_image_standardization

Candidates, timed interleaved in one process (benchmarks/_timing.py), one call = one batch
of 128 images:

- ``graph_chain``: 128 ``sess.run`` calls of the chain.
- baseline ``numpy_chain``: the same steps written directly in NumPy, one image at a time
  (no graph, no session): what the per-op dispatch costs on top of the kernels.
- ``cnn_step``: one SGD step of the book's CIFAR-10 CNN (conv 5x5x64, pool, LRN, conv
  5x5x64, LRN, pool, fc 384, fc 192, fc 10) on a fed [128, 24, 24, 3] batch.

``cnn_step_over_chain`` says how many times faster the chain delivers a batch than the CNN
consumes it (the book's pipeline must keep up: at least 3).

Prints one JSON line.
Usage: python benchmarks/image_distortions.py [--rounds 5]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402

BATCH = 128


def distorted(image):
    """cifar10_input.distorted_inputs' per-image steps."""
    x = tf.cast(image, tf.float32)
    x = tf.random_crop(x, [24, 24, 3])
    x = tf.image.random_flip_left_right(x)
    x = tf.image.random_brightness(x, max_delta=63)
    x = tf.image.random_contrast(x, lower=0.2, upper=1.8)
    return tf.image.per_image_standardization(x)


def distorted_numpy(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same steps on one image in NumPy."""
    x = image.astype(np.float32)
    oy, ox = rng.integers(0, 9, 2)
    x = x[oy:oy + 24, ox:ox + 24]
    if rng.random() < 0.5:
        x = x[:, ::-1]
    x = x + np.float32(rng.uniform(-63, 63))
    mean = x.mean(axis=(0, 1), keepdims=True)
    x = (x - mean) * np.float32(rng.uniform(0.2, 1.8)) + mean
    m = x.mean()
    return (x - m) / max(float(x.std()), 1.0 / np.sqrt(x.size))


def cifar_cnn_step(images, labels):
    """The book's CIFAR-10 CNN and an SGD step on it; returns the train op."""
    def weight(shape, stddev):
        return tf.Variable(tf.truncated_normal(shape, stddev=stddev))

    conv1 = tf.nn.relu(tf.nn.conv2d(images, weight([5, 5, 3, 64], 5e-2), [1, 1, 1, 1],
                                    padding="SAME") + tf.Variable(tf.zeros([64])))
    pool1 = tf.nn.max_pool(conv1, [1, 3, 3, 1], [1, 2, 2, 1], padding="SAME")
    norm1 = tf.nn.lrn(pool1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
    conv2 = tf.nn.relu(tf.nn.conv2d(norm1, weight([5, 5, 64, 64], 5e-2), [1, 1, 1, 1],
                                    padding="SAME") + tf.Variable(tf.fill([64], 0.1)))
    norm2 = tf.nn.lrn(conv2, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)
    pool2 = tf.nn.max_pool(norm2, [1, 3, 3, 1], [1, 2, 2, 1], padding="SAME")
    flat = tf.reshape(pool2, [BATCH, -1])
    local3 = tf.nn.relu(tf.matmul(flat, weight([6 * 6 * 64, 384], 0.04))
                        + tf.Variable(tf.fill([384], 0.1)))
    local4 = tf.nn.relu(tf.matmul(local3, weight([384, 192], 0.04))
                        + tf.Variable(tf.fill([192], 0.1)))
    logits = tf.matmul(local4, weight([192, 10], 1 / 192.0)) + tf.Variable(tf.zeros([10]))
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    return tf.train.GradientDescentOptimizer(1e-3).minimize(loss)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (BATCH, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, BATCH).astype(np.int32)

    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        one = tf.placeholder(tf.uint8, [32, 32, 3])
        out = distorted(one)
        x_feed = tf.placeholder(tf.float32, [BATCH, 24, 24, 3])
        y_feed = tf.placeholder(tf.int32, [BATCH])
        train = cifar_cnn_step(x_feed, y_feed)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph)
    sess.run(init)

    batch = np.stack([sess.run(out, {one: im}) for im in images])
    assert batch.shape == (BATCH, 24, 24, 3) and batch.dtype == np.float32
    np.testing.assert_allclose(batch.reshape(BATCH, -1).mean(1), 0, atol=1e-4)

    def graph_chain():
        return [sess.run(out, {one: im}) for im in images]

    def numpy_chain():
        return [distorted_numpy(im, rng) for im in images]

    def cnn_step():
        sess.run(train, {x_feed: batch, y_feed: labels})

    timed = interleaved({"graph_chain": graph_chain, "numpy_chain": numpy_chain,
                         "cnn_step": cnn_step}, repeat=1, rounds=args.rounds)
    sess.close()
    med = {k: v["median_s"] for k, v in timed.items()}
    emit({"benchmark": "image_distortions", "batch": BATCH,
          "ms_per_batch": {k: 1000 * v for k, v in med.items()},
          "us_per_image": {k: 1e6 * v / BATCH for k, v in med.items()
                           if k != "cnn_step"},
          "graph_over_numpy": med["graph_chain"] / med["numpy_chain"],
          "cnn_step_over_chain": med["cnn_step"] / med["graph_chain"]})


if __name__ == "__main__":
    main()
