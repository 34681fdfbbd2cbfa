"""Training throughput of the book's 4.4 MLP: one ``sess.run(train_step)`` per batch of 100.

Model (TensorFlow实战 4.4): 784 -> 300 ReLU -> dropout (keep 0.75) -> 10 softmax, loss
mean(-sum(y_ * log(y))), Adagrad 0.3. Candidates, timed interleaved in this process:
  - actorflow: the book's graph, ``sess.run(train_step, feed)``;
  - numpy: a hand-written float32 step (fused softmax/cross-entropy gradient p - y, BLAS
    matmuls, in-place Adagrad updates): what a careful NumPy programmer would write;
  - torch: PyTorch eager with autograd and torch.optim.Adagrad, when torch is importable.
Prints one JSON line with images/s per candidate (target for actorflow: >= 40,000).

    python benchmarks/mlp_step.py [--repeat 20] [--rounds 7]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, import_torch, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402

IN, HIDDEN, OUT = 784, 300, 10
BATCH, KEEP, LR, ACCUM0 = 100, 0.75, 0.3, 0.1  # ACCUM0: Adagrad's initial accumulator


def make_batches(n: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    xs = rng.random((n, BATCH, IN), dtype=np.float32)
    ys = np.eye(OUT, dtype=np.float32)[rng.integers(0, OUT, (n, BATCH))]
    return xs, ys


def init_weights(seed: int = 1):
    """W1 ~ truncated normal (sigma 0.1), the rest zero, as in the book."""
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((IN, HIDDEN)).astype(np.float32)
    while (bad := np.abs(w1) > 2).any():
        w1[bad] = rng.standard_normal(int(bad.sum())).astype(np.float32)
    return [w1 * np.float32(0.1), np.zeros(HIDDEN, np.float32),
            np.zeros((HIDDEN, OUT), np.float32), np.zeros(OUT, np.float32)]


def actorflow_step(weights, config=None):
    """The book's graph in a session with `config`; returns (a zero-argument step function,
    the session)."""
    w1, b1, w2, b2 = (tf.Variable(w) for w in weights)
    x = tf.placeholder(tf.float32, [None, IN])
    keep_prob = tf.placeholder(tf.float32)
    hidden1 = tf.nn.relu(tf.matmul(x, w1) + b1)
    hidden1_drop = tf.nn.dropout(hidden1, keep_prob)
    y = tf.nn.softmax(tf.matmul(hidden1_drop, w2) + b2)
    y_ = tf.placeholder(tf.float32, [None, OUT])
    cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))
    train_step = tf.train.AdagradOptimizer(LR).minimize(cross_entropy)
    sess = tf.Session(config=config)
    sess.run(tf.global_variables_initializer())
    xs, ys = make_batches()
    state = {"i": 0}

    def step():
        i = state["i"] = (state["i"] + 1) % len(xs)
        sess.run(train_step, {x: xs[i], y_: ys[i], keep_prob: KEEP})
    return step, sess


def numpy_step(weights):
    """A hand-written float32 training step with in-place Adagrad."""
    params = [w.copy() for w in weights]
    accums = [np.full_like(w, ACCUM0) for w in params]
    tmps = [np.empty_like(w) for w in params]
    rng = np.random.default_rng(2)
    xs, ys = make_batches()
    scale = np.float32(1.0 / KEEP)
    lr = np.float32(LR)
    state = {"i": 0}

    def step():
        i = state["i"] = (state["i"] + 1) % len(xs)
        x, y = xs[i], ys[i]
        w1, b1, w2, b2 = params
        h = x @ w1
        h += b1
        np.maximum(h, 0, out=h)
        mask = rng.random(h.shape, dtype=np.float32) < KEEP
        keep = mask * scale  # dropout: scale kept units by 1/keep
        hd = h * keep
        p = hd @ w2
        p += b2
        p -= p.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        d = p - y  # d(mean cross-entropy)/d(logits) * batch
        d *= np.float32(1.0 / BATCH)
        dh = d @ w2.T
        dh *= keep
        dh *= h > 0
        grads = [x.T @ dh, dh.sum(axis=0), hd.T @ d, d.sum(axis=0)]
        for w, g, a, t in zip(params, grads, accums, tmps):
            np.multiply(g, g, out=t)
            a += t
            np.sqrt(a, out=t)
            np.divide(g, t, out=t)
            t *= lr
            w -= t
    return step


def torch_step(weights):
    """PyTorch eager with autograd, or None when torch is not importable."""
    torch = import_torch()
    if torch is None:
        return None
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    opt = torch.optim.Adagrad(params, lr=LR, initial_accumulator_value=ACCUM0)
    xs, ys = (torch.from_numpy(a) for a in make_batches())
    state = {"i": 0}

    def step():
        i = state["i"] = (state["i"] + 1) % len(xs)
        w1, b1, w2, b2 = params
        hidden = torch.nn.functional.dropout(torch.relu(xs[i] @ w1 + b1), p=1 - KEEP)
        y = torch.softmax(hidden @ w2 + b2, dim=1)
        loss = torch.mean(-torch.sum(ys[i] * torch.log(y), dim=1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()

    weights = init_weights()
    af, sess = actorflow_step(weights)
    candidates = {"actorflow": af, "numpy": numpy_step(weights)}
    torch_fn = torch_step(weights)
    if torch_fn is not None:
        candidates["torch"] = torch_fn
    res = interleaved(candidates, repeat=args.repeat, rounds=args.rounds)
    sess.close()
    ips = {k: BATCH / v["median_s"] for k, v in res.items()}
    emit({"benchmark": "mlp_step", "batch": BATCH,
          "images_per_s": ips, "step_s": {k: v["median_s"] for k, v in res.items()},
          "ratio_actorflow_vs_numpy": ips["actorflow"] / ips["numpy"],
          "ratio_actorflow_vs_torch": (ips["actorflow"] / ips["torch"]
                                       if "torch" in ips else None),
          "target_images_per_s": 40000,
          "blas_threads_env": os.environ.get("OPENBLAS_NUM_THREADS"), "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
