"""The book's ch. 3.2 softmax regression on MNIST, as a runnable experiment.

    python experiments/mnist_softmax.py [--steps 1000] [--batch-size 100] [--lr 0.5]

Reads MNIST from --data-dir or $ACTORFLOW_DATA_DIR (the folder holding mnist/). When only the
10,000-image test set is there, trains on its first 8,000 images and evaluates on the last
2,000. Prints progress; the last line of output is one JSON object with the results.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import actorflow as tf
from actorflow.datasets import mnist as mnist_data


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1000, help="training steps (book: 1000)")
    p.add_argument("--batch-size", type=int, default=100, help="batch size (book: 100)")
    p.add_argument("--lr", type=float, default=0.5, help="SGD learning rate (book: 0.5)")
    p.add_argument("--data-dir", default=None, help="folder with mnist/ (default: "
                   "$ACTORFLOW_DATA_DIR)")
    p.add_argument("--seed", type=int, default=0, help="seed for batch shuffling")
    args = p.parse_args(argv)
    if args.steps < 0 or args.batch_size <= 0 or args.lr <= 0:
        p.error("--steps must be >= 0, --batch-size and --lr > 0")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    data_dir = args.data_dir
    try:
        mnist = mnist_data.read_data_sets(data_dir, one_hot=True, seed=args.seed)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"mnist_softmax: {e}")

    x = tf.placeholder(tf.float32, [None, 784])
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.nn.softmax(tf.matmul(x, W) + b)
    y_ = tf.placeholder(tf.float32, [None, 10])
    cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))
    train_step = tf.train.GradientDescentOptimizer(args.lr).minimize(cross_entropy)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1)),
                                      tf.float32))

    # One progress line rewritten in place on a terminal; one line per report in logs.
    end = "\r" if sys.stdout.isatty() else "\n"
    t0 = time.perf_counter()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, args.steps + 1):
            bx, by = mnist.train.next_batch(args.batch_size)
            _, loss = sess.run([train_step, cross_entropy], {x: bx, y_: by})
            if step % 100 == 0 or step == args.steps:
                rate = step / (time.perf_counter() - t0)
                print(f"step {step}/{args.steps}  loss {loss:.4f}  {rate:.0f} steps/s",
                      end=end, flush=True)
        if end == "\r":
            print()
        acc = float(sess.run(accuracy, {x: mnist.test.images, y_: mnist.test.labels}))
    result = {"model": "softmax_regression", "accuracy": round(acc, 4), "steps": args.steps,
              "train_examples": mnist.train.num_examples,
              "test_examples": mnist.test.num_examples,
              "wall_s": round(time.perf_counter() - t0, 2)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
