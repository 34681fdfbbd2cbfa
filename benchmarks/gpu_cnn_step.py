"""The book's 5.2 MNIST CNN training step on the GPU: actorflow vs PyTorch (target >= 0.5x).

Network (NHWC, as in benchmarks/cnn_step.py): conv 5x5x32 SAME + bias + ReLU, maxpool 2x2;
conv 5x5x64 SAME + bias + ReLU, maxpool 2x2; fc 3136 -> 1024 + ReLU, dropout (keep 0.5);
fc 1024 -> 10; softmax cross entropy (mean); Adam 1e-4. One step = forward, backward and the
Adam update; actorflow runs ``sess.run(train_step, feed)`` with the batch fed from host
NumPy arrays (as the book does), PyTorch the same network (NCHW, TF32 off, cuDNN autotuned)
on a batch already on the device. Candidates alternate round by round; each step is followed
by a device synchronisation. Prints one JSON line: images/s of each and the ratio.

    python benchmarks/gpu_cnn_step.py [--batch 256] [--device cuda|cpu] [--rounds 5]
"""
from __future__ import annotations

import argparse

from gpu_common import Target, add_device_arg, emit, interleaved, tf

import cnn_step  # noqa: E402 - after gpu_common has set sys.path

LR, KEEP = 1e-4, 0.5
TARGET = 0.5
SHAPES = list(cnn_step.SHAPES.items())


def actorflow_step(target: Target, x, y):
    """The book's graph on the target device; returns (step callable, initial weights)."""
    graph = tf.Graph()
    with graph.as_default(), tf.device(target.tf_device):
        tf.set_random_seed(0)
        xs = tf.placeholder(tf.float32, [None, 784])
        ys = tf.placeholder(tf.float32, [None, 10])
        keep = tf.placeholder(tf.float32)
        v = {k: tf.Variable(tf.truncated_normal(s, stddev=0.1)) if k.startswith("W")
             else tf.Variable(tf.constant(0.1, shape=s)) for k, s in SHAPES}

        def conv_pool(h, w, b):
            h = tf.nn.relu(tf.nn.conv2d(h, w, strides=[1, 1, 1, 1], padding="SAME") + b)
            return tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

        h = conv_pool(tf.reshape(xs, [-1, 28, 28, 1]), v["W_conv1"], v["b_conv1"])
        h = conv_pool(h, v["W_conv2"], v["b_conv2"])
        h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 64]), v["W_fc1"]) + v["b_fc1"])
        logits = tf.matmul(tf.nn.dropout(h, keep), v["W_fc2"]) + v["b_fc2"]
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=ys, logits=logits))
        train = tf.train.AdamOptimizer(LR).minimize(loss)
        sess = tf.Session(config=target.config())
        sess.run(tf.global_variables_initializer())
    weights = dict(zip([k for k, _ in SHAPES], sess.run([v[k] for k, _ in SHAPES])))
    feed = {xs: x, ys: y, keep: KEEP}
    return target.synced(lambda: sess.run(train, feed)), weights


def torch_step(target: Target, weights: dict, x, y):
    """The same step in PyTorch on the target device, or None without torch."""
    torch = target.torch()
    if torch is None:
        return None
    import torch.nn.functional as F
    dev = target.torch_device

    def param(a):
        return torch.tensor(a, device=dev, requires_grad=True)
    w1 = param(weights["W_conv1"].transpose(3, 2, 0, 1).copy())
    w2 = param(weights["W_conv2"].transpose(3, 2, 0, 1).copy())
    rest = {k: param(weights[k]) for k in ("b_conv1", "b_conv2", "W_fc1", "b_fc1", "W_fc2",
                                           "b_fc2")}
    params = [w1, rest["b_conv1"], w2, rest["b_conv2"], rest["W_fc1"], rest["b_fc1"],
              rest["W_fc2"], rest["b_fc2"]]
    opt = torch.optim.Adam(params, lr=LR)
    xt = torch.tensor(x, device=dev).reshape(-1, 1, 28, 28)
    labels = torch.tensor(y.argmax(1), device=dev)

    def step():
        h = F.max_pool2d(F.relu(F.conv2d(xt, w1, rest["b_conv1"], padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, rest["b_conv2"], padding=2)), 2)
        h = h.permute(0, 2, 3, 1).reshape(-1, 3136)  # NHWC flatten order, as fc1 expects
        h = F.dropout(F.relu(h @ rest["W_fc1"] + rest["b_fc1"]), 1 - KEEP, training=True)
        loss = F.cross_entropy(h @ rest["W_fc2"] + rest["b_fc2"], labels)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
    sync = target.torch_sync(torch)

    def synced():
        step()
        sync()
    return synced


def bench(target: Target, batch: int, rounds: int) -> dict:
    x, y = cnn_step.batch_data(batch)
    af, weights = actorflow_step(target, x, y)
    candidates = {"actorflow": af}
    ts = torch_step(target, weights, x, y)
    if ts is not None:
        candidates["torch"] = ts
    repeat = 10 if target.kind == "cuda" else 1
    res = interleaved(candidates, repeat=repeat, rounds=rounds)
    ips = {k: batch / v["median_s"] for k, v in res.items()}
    out = {"benchmark": "gpu_cnn_step", "device": target.name(), "batch": batch,
           "images_per_s": {k: round(v, 1) for k, v in ips.items()},
           "step_ms": {k: round(v["median_s"] * 1e3, 3) for k, v in res.items()},
           "actorflow_vs_torch": None, "target": TARGET}
    if "torch" in ips:
        out["actorflow_vs_torch"] = round(ips["actorflow"] / ips["torch"], 3)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_device_arg(ap)
    ap.add_argument("--batch", type=int, default=None, help="default 256 (cuda), 16 (cpu)")
    args = ap.parse_args(argv)
    target = Target(args.device)
    emit(bench(target, args.batch or (256 if target.kind == "cuda" else 16), args.rounds))


if __name__ == "__main__":
    main()
