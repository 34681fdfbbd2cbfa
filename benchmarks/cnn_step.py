"""The book's 5.2 MNIST CNN training step: actorflow vs hand-tuned NumPy vs PyTorch (CPU).

Network (NHWC): conv 5x5x32 SAME + bias + ReLU, maxpool 2x2; conv 5x5x64 SAME + bias + ReLU,
maxpool 2x2; fc 3136 -> 1024 + ReLU, dropout (keep 0.5); fc 1024 -> 10; softmax cross
entropy (mean over the batch); Adam 1e-4. One step = forward, backward and Adam update.

- actorflow: the graph written with the TF 1.x API, timed as ``sess.run(train_step, feed)``.
- numpy: a hand-written step of the same network in float32, every buffer preallocated:
  im2col by one strided copy (tap-major for the 1-channel input), one GEMM per layer and
  direction, each conv layer with its bias, ReLU and pool (and on the way back both
  convolution gradients and the pools) fused over blocks of IMG_BLOCK images so that columns
  stay in cache, conv2's input gradient as a batched GEMM plus a clipped scatter-add, max-pool
  argmax recorded in the forward pass, ReLU masks folded into the pooled gradients, in-place
  Adam over L2-sized chunks. Before timing, its gradients are checked against actorflow's on
  the same weights and batch (keep_prob 1).
- torch: the same network with torch.nn.functional (NCHW), when torch is importable.

Candidates alternate round by round in one process (benchmarks/_timing.py). Prints one JSON
line: images/s of each candidate and the ratios, per batch size.

Usage: python benchmarks/cnn_step.py [--batches 50 256] [--rounds 7] [--profile 50]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from numpy.lib.stride_tricks import as_strided

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import emit, import_torch, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402

LR, BETA1, BETA2, EPS = 1e-4, 0.9, 0.999, 1e-8
KEEP = 0.5
ADAM_CHUNK = 1 << 16  # elements per in-place Adam chunk (4 arrays x 256 KiB stay in L2)
IMG_BLOCK = 6  # images per block of the convolution layers (conv2's im2col: 3.8 MB)
SHAPES = {"W_conv1": (5, 5, 1, 32), "b_conv1": (32,), "W_conv2": (5, 5, 32, 64),
          "b_conv2": (64,), "W_fc1": (3136, 1024), "b_fc1": (1024,), "W_fc2": (1024, 10),
          "b_fc2": (10,)}


def batch_data(n: int, seed: int = 0):
    r = np.random.default_rng(seed)
    x = r.random((n, 784), dtype=np.float32)
    y = np.zeros((n, 10), np.float32)
    y[np.arange(n), r.integers(0, 10, n)] = 1.0
    return x, y


# -- actorflow: the book's graph -----------------------------------------------------------
class ActorflowCNN:
    """The book's 5.2 model, built with actorflow's TF 1.x API."""

    def __init__(self, seed: int = 0, config=None) -> None:
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.set_random_seed(seed)
            self.x = tf.placeholder(tf.float32, [None, 784])
            self.y_ = tf.placeholder(tf.float32, [None, 10])
            self.keep_prob = tf.placeholder(tf.float32)
            v = {k: tf.Variable(tf.truncated_normal(s, stddev=0.1)) if k.startswith("W")
                 else tf.Variable(tf.constant(0.1, shape=s)) for k, s in SHAPES.items()}
            self.vars = v
            x_image = tf.reshape(self.x, [-1, 28, 28, 1])
            h_conv1 = tf.nn.relu(self._conv(x_image, v["W_conv1"]) + v["b_conv1"])
            h_pool1 = self._pool(h_conv1)
            h_conv2 = tf.nn.relu(self._conv(h_pool1, v["W_conv2"]) + v["b_conv2"])
            h_pool2 = self._pool(h_conv2)
            h_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
            h_fc1 = tf.nn.relu(tf.matmul(h_flat, v["W_fc1"]) + v["b_fc1"])
            h_drop = tf.nn.dropout(h_fc1, self.keep_prob)
            logits = tf.matmul(h_drop, v["W_fc2"]) + v["b_fc2"]
            self.loss = tf.reduce_mean(
                tf.nn.softmax_cross_entropy_with_logits(labels=self.y_, logits=logits))
            self.train_step = tf.train.AdamOptimizer(LR).minimize(self.loss)
            self.grads = tf.gradients(self.loss, [v[k] for k in SHAPES])
            self.sess = tf.Session(config=config)
            self.sess.run(tf.global_variables_initializer())

    @staticmethod
    def _conv(x, w):
        return tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME")

    @staticmethod
    def _pool(x):
        return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

    def weights(self) -> dict:
        names = list(SHAPES)
        return dict(zip(names, self.sess.run([self.vars[k] for k in names])))

    def gradients(self, x, y, keep: float) -> dict:
        feed = {self.x: x, self.y_: y, self.keep_prob: keep}
        return dict(zip(SHAPES, self.sess.run(self.grads, feed)))

    def stepper(self, x, y):
        feed = {self.x: x, self.y_: y, self.keep_prob: KEEP}
        run, op = self.sess.run, self.train_step
        return lambda: run(op, feed)


# -- hand-written NumPy step ---------------------------------------------------------------
def _windows5(xpad: np.ndarray, h: int, w: int) -> np.ndarray:
    """(n, h, w, 5, 5, c) view of the 5x5 stride-1 windows of a padded NHWC buffer."""
    s_n, s_h, s_w, s_c = xpad.strides
    return as_strided(xpad, (xpad.shape[0], h, w, 5, 5, xpad.shape[3]),
                      (s_n, s_h, s_w, s_h, s_w, s_c), writeable=False)


def _taps2x2(a: np.ndarray):
    """The four (n, h/2, w/2, c) strided views of the 2x2 windows of an NHWC array."""
    n, h, w, c = a.shape
    r = a.reshape(n, h // 2, 2, w // 2, 2, c)
    return [r[:, :, i, :, j, :] for i in range(2) for j in range(2)]


class NumpyCNN:
    """The same step written by hand in NumPy, float32, with every buffer preallocated.

    Each layer pair (conv + bias + relu + pool, and their backward passes, including both
    convolution gradients) runs IMG_BLOCK images at a time so that its im2col columns and
    intermediate maps stay in cache; the ReLU masks are folded into the pooling masks.
    """

    def __init__(self, weights: dict, batch: int, seed: int = 0) -> None:
        f32 = np.float32
        self.p = {k: np.array(v, f32) for k, v in weights.items()}
        self.m = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.g = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.tmp = np.zeros(ADAM_CHUNK, f32)
        self.t = 0
        self.rng = np.random.default_rng(seed)
        n = self.n = batch
        b = IMG_BLOCK
        self.pad1 = np.zeros((n, 32, 32, 1), f32)
        self.pad2 = np.zeros((n, 18, 18, 32), f32)  # pool1's output lives in its interior
        self.p1 = self.pad2[:, 2:16, 2:16, :]
        self.idx1 = np.empty((n, 14, 14, 32), np.int8)
        self.p2 = np.empty((n, 7, 7, 64), f32)
        self.idx2 = np.empty((n, 7, 7, 64), np.int8)
        # per-block work buffers
        self.col1 = np.empty((5, 5, 1, b, 28, 28), f32)  # tap-major: row copies for c = 1
        self.h1 = np.empty((b * 784, 32), f32)
        self.col2 = np.empty((b, 14, 14, 5, 5, 32), f32)
        self.h2 = np.empty((b * 196, 64), f32)
        self.taps = np.empty((25, b * 196, 32), f32)
        self.dp1 = np.empty((b, 14, 14, 32), f32)
        self.dh1 = np.empty((b, 28, 28, 32), f32)
        self.dh2 = np.empty((b, 14, 14, 64), f32)
        self.gw1 = np.empty((25, 32), f32)
        self.gw2 = np.empty((800, 64), f32)
        self.flags1 = np.empty((b, 14, 14, 32), bool)
        self.marks1 = np.empty((b, 14, 14, 32), np.int8)
        self.flags2 = np.empty((b, 7, 7, 64), bool)
        self.marks2 = np.empty((b, 7, 7, 64), np.int8)
        # fully connected part
        self.h3 = np.empty((n, 1024), f32)
        self.mask = np.empty((n, 1024), f32)
        self.h3d = np.empty((n, 1024), f32)
        self.z = np.empty((n, 10), f32)
        self.dh3 = np.empty((n, 1024), f32)
        self.dp2 = np.empty((n, 3136), f32)

    @staticmethod
    def _pool_forward(a, out, idx, gt, marks):
        """2x2 max pool recording the first maximum's position (0..3) in `idx`."""
        taps = _taps2x2(a)
        np.copyto(out, taps[0])
        idx[...] = 0
        for k in (1, 2, 3):
            np.greater(taps[k], out, out=gt)
            np.maximum(out, taps[k], out=out)
            np.multiply(gt, np.int8(k), out=marks)  # idx = k where gt (k only grows)
            np.maximum(idx, marks, out=idx)

    @staticmethod
    def _pool_backward(dout, pooled, idx, da, hit):
        """Routes dout to the recorded maxima of each 2x2 window (da is overwritten); the
        ReLU before the pool is folded in: its mask at the chosen maximum is pooled > 0."""
        np.greater(pooled, 0, out=hit)
        dout *= hit
        for k, tap in enumerate(_taps2x2(da)):
            np.equal(idx, k, out=hit)
            np.multiply(dout, hit, out=tap)

    def _conv_relu_pool(self, col, w, bias, h_buf, hwc, pooled, idx, flags, marks) -> None:
        """pooled, idx = maxpool2x2(relu(col @ w + bias)) for one block of images."""
        m = pooled.shape[0]
        h = np.matmul(col, w, out=h_buf[:col.shape[0]])
        h += bias
        np.maximum(h, 0, out=h)
        self._pool_forward(h.reshape(m, *hwc), pooled, idx, flags[:m], marks[:m])

    def _col1(self, a: int, b: int) -> np.ndarray:
        col = self.col1[:, :, :, :b - a]
        np.copyto(col, _windows5(self.pad1[a:b], 28, 28).transpose(3, 4, 5, 0, 1, 2))
        return col.reshape(25, -1).T  # (a copy for the last, partial block)

    def _col2(self, a: int, b: int) -> np.ndarray:
        col = self.col2[:b - a]
        np.copyto(col, _windows5(self.pad2[a:b], 14, 14))
        return col.reshape((b - a) * 196, 800)

    def forward_backward(self, x, y, keep: float) -> None:
        p, g, n = self.p, self.g, self.n
        blocks = [(a, min(n, a + IMG_BLOCK)) for a in range(0, n, IMG_BLOCK)]
        w1, w2 = p["W_conv1"].reshape(25, 32), p["W_conv2"].reshape(800, 64)
        self.pad1[:, 2:30, 2:30, 0] = x.reshape(n, 28, 28)
        # conv1 + bias + relu + pool1, conv2 + bias + relu + pool2: block by block
        for a, b in blocks:
            self._conv_relu_pool(self._col1(a, b), w1, p["b_conv1"], self.h1, (28, 28, 32),
                                 self.p1[a:b], self.idx1[a:b], self.flags1, self.marks1)
        for a, b in blocks:
            self._conv_relu_pool(self._col2(a, b), w2, p["b_conv2"], self.h2, (14, 14, 64),
                                 self.p2[a:b], self.idx2[a:b], self.flags2, self.marks2)
        # fc1 + relu + dropout, fc2
        p2f = self.p2.reshape(n, 3136)
        h3 = self.h3
        np.matmul(p2f, p["W_fc1"], out=h3)
        h3 += p["b_fc1"]
        np.maximum(h3, 0, out=h3)
        mask = self.mask
        self.rng.random(out=mask, dtype=np.float32)
        np.less(mask, keep, out=mask)
        mask *= 1.0 / keep
        mask *= h3 > 0  # the relu mask folded in: dh3 = dh3d * mask
        np.multiply(h3, mask, out=self.h3d)
        z = self.z
        np.matmul(self.h3d, p["W_fc2"], out=z)
        z += p["b_fc2"]
        # softmax cross entropy (mean over the batch): dz = (softmax(z) - y) / n
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        z -= y
        z *= 1.0 / n
        # backward: fc2, dropout, relu, fc1
        np.matmul(self.h3d.T, z, out=g["W_fc2"])
        np.sum(z, axis=0, out=g["b_fc2"])
        dh3 = self.dh3
        np.matmul(z, p["W_fc2"].T, out=dh3)
        dh3 *= mask
        np.matmul(p2f.T, dh3, out=g["W_fc1"])
        np.sum(dh3, axis=0, out=g["b_fc1"])
        dp2 = self.dp2.reshape(n, 7, 7, 64)
        np.matmul(dh3, p["W_fc1"].T, out=self.dp2)
        # pool2, relu2, conv2 (both gradients), pool1, relu1, conv1: block by block
        wt = w2.reshape(25, 32, 64).transpose(0, 2, 1)
        for k in ("W_conv1", "b_conv1", "W_conv2", "b_conv2"):
            g[k][...] = 0
        for a, b in blocks:
            m = b - a
            dh2 = self.dh2[:m]
            self._pool_backward(dp2[a:b], self.p2[a:b], self.idx2[a:b], dh2, self.flags2[:m])
            dh2 = dh2.reshape(m * 196, 64)
            g["W_conv2"] += np.matmul(self._col2(a, b).T, dh2, out=self.gw2).reshape(5, 5, 32, 64)
            g["b_conv2"] += dh2.sum(axis=0)
            # conv2 input gradient: one GEMM per filter tap, then a clipped scatter-add
            taps = np.matmul(dh2, wt, out=self.taps[:, :m * 196])
            dp1 = self.dp1[:m]
            dp1[...] = 0
            for i in range(5):
                r0, r1 = max(0, 2 - i), min(14, 16 - i)
                for j in range(5):
                    c0, c1 = max(0, 2 - j), min(14, 16 - j)
                    tap = taps[i * 5 + j].reshape(m, 14, 14, 32)
                    dp1[:, r0 + i - 2:r1 + i - 2, c0 + j - 2:c1 + j - 2, :] += \
                        tap[:, r0:r1, c0:c1, :]
            dh1 = self.dh1[:m]
            self._pool_backward(dp1, self.p1[a:b], self.idx1[a:b], dh1, self.flags1[:m])
            dh1 = dh1.reshape(m * 784, 32)
            g["W_conv1"] += np.matmul(self._col1(a, b).T, dh1, out=self.gw1).reshape(5, 5, 1, 32)
            g["b_conv1"] += dh1.sum(axis=0)

    def adam(self) -> None:
        """In-place Adam, a cache-sized chunk at a time (each chunk's passes stay in L2)."""
        self.t += 1
        lr_t = LR * np.sqrt(1 - BETA2 ** self.t) / (1 - BETA1 ** self.t)
        for k, p in self.p.items():
            p, g, m, v = (a.reshape(-1) for a in (p, self.g[k], self.m[k], self.v[k]))
            for a in range(0, p.size, ADAM_CHUNK):
                b = a + ADAM_CHUNK
                pc, gc, mc, vc = p[a:b], g[a:b], m[a:b], v[a:b]
                tmp = self.tmp[:pc.size]
                mc *= BETA1
                np.multiply(gc, 1 - BETA1, out=tmp)
                mc += tmp
                vc *= BETA2
                np.square(gc, out=tmp)
                tmp *= 1 - BETA2
                vc += tmp
                np.sqrt(vc, out=tmp)
                tmp += EPS
                np.divide(mc, tmp, out=tmp)
                tmp *= lr_t
                pc -= tmp

    def stepper(self, x, y):
        def step():
            self.forward_backward(x, y, KEEP)
            self.adam()
        return step


# -- PyTorch ---------------------------------------------------------------------------------
def torch_stepper(weights: dict, x, y):
    """The same step in PyTorch (NCHW), or None when torch is not importable."""
    torch = import_torch()
    if torch is None:
        return None
    import torch.nn.functional as F
    t = {k: torch.tensor(v, requires_grad=True) for k, v in weights.items()}
    w1 = torch.tensor(weights["W_conv1"].transpose(3, 2, 0, 1).copy(), requires_grad=True)
    w2 = torch.tensor(weights["W_conv2"].transpose(3, 2, 0, 1).copy(), requires_grad=True)
    # fc1 rows are in NHWC flatten order; permute the pooled NCHW map to match.
    params = [w1, t["b_conv1"], w2, t["b_conv2"], t["W_fc1"], t["b_fc1"], t["W_fc2"],
              t["b_fc2"]]
    opt = torch.optim.Adam(params, lr=LR, betas=(BETA1, BETA2), eps=EPS)
    xt = torch.tensor(x).reshape(-1, 1, 28, 28)
    labels = torch.tensor(y.argmax(1))

    def step():
        h = F.max_pool2d(F.relu(F.conv2d(xt, w1, t["b_conv1"], padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, t["b_conv2"], padding=2)), 2)
        h = h.permute(0, 2, 3, 1).reshape(-1, 3136)
        h = F.dropout(F.relu(h @ t["W_fc1"] + t["b_fc1"]), 1 - KEEP, training=True)
        loss = F.cross_entropy(h @ t["W_fc2"] + t["b_fc2"], labels)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
    return step


# -- driver ----------------------------------------------------------------------------------
def check_baseline(net: ActorflowCNN, batch: int) -> float:
    """Largest relative gradient difference between the NumPy step and actorflow (keep 1)."""
    x, y = batch_data(batch, seed=1)
    ref = NumpyCNN(net.weights(), batch)
    ref.forward_backward(x, y, 1.0)
    got = net.gradients(x, y, 1.0)
    return max(float(np.abs(ref.g[k] - got[k]).max() / (np.abs(got[k]).max() + 1e-30))
               for k in SHAPES)


def bench(batch: int, rounds: int) -> dict:
    net = ActorflowCNN()
    err = check_baseline(net, batch)
    if err > 1e-3:
        raise AssertionError(f"NumPy baseline disagrees with actorflow: rel. error {err:.2e}")
    x, y = batch_data(batch)
    weights = net.weights()
    candidates = {"actorflow": net.stepper(x, y),
                  "numpy": NumpyCNN(weights, batch).stepper(x, y)}
    torch_step = torch_stepper(weights, x, y)
    if torch_step is not None:
        candidates["torch"] = torch_step
    repeat = max(1, 250 // batch)
    res = interleaved(candidates, repeat=repeat, rounds=rounds)
    ips = {k: batch / v["median_s"] for k, v in res.items()}
    out = {"batch": batch, "images_per_s": {k: round(v, 1) for k, v in ips.items()},
           "step_ms": {k: round(v["median_s"] * 1e3, 2) for k, v in res.items()},
           "actorflow_vs_numpy": round(ips["actorflow"] / ips["numpy"], 3),
           "baseline_grad_rel_err": float(f"{err:.2e}")}
    if "torch" in ips:
        out["actorflow_vs_torch"] = round(ips["actorflow"] / ips["torch"], 3)
    return out


def profile(batch: int, steps: int = 10) -> None:
    """Per-op time of the actorflow step from RunMetadata traces, by op type and by node
    (stderr)."""
    net = ActorflowCNN()
    x, y = batch_data(batch)
    feed = {net.x: x, net.y_: y, net.keep_prob: KEEP}
    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    by_type: dict = {}
    by_node: dict = {}
    net.sess.run(net.train_step, feed)
    for _ in range(steps):
        meta = tf.RunMetadata()
        net.sess.run(net.train_step, feed, options=opts, run_metadata=meta)
        for dev in meta.step_stats.dev_stats:
            for node in dev.node_stats:
                ms = node.op_end_rel_micros / steps / 1e3
                by_type[node.op_type] = by_type.get(node.op_type, 0.0) + ms
                by_node[node.node_name] = by_node.get(node.node_name, 0.0) + ms
    print(f"total {sum(by_type.values()):.2f} ms per step (batch {batch})", file=sys.stderr)
    for table in (by_type, by_node):
        for k, v in sorted(table.items(), key=lambda kv: -kv[1])[:25]:
            print(f"{v:8.2f} ms  {k}", file=sys.stderr)
        print(file=sys.stderr)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[50, 256])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--profile", type=int, default=0, help="profile this batch size instead")
    args = ap.parse_args(argv)
    if args.profile:
        profile(args.profile)
        return
    emit({"benchmark": "cnn_step", "results": [bench(b, args.rounds) for b in args.batches]})


if __name__ == "__main__":
    main()
