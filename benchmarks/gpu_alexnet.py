"""The book's AlexNet timing benchmark (ch. 6, conv part): forward + backward, batch 32, 224x224.

Model (as the book's alexnet_benchmark): conv 11x11/4 64 SAME + ReLU, LRN(4, 1.0, 0.001/9,
0.75), maxpool 3x3/2 VALID; conv 5x5 192 + ReLU, LRN, pool; conv 3x3 384, 3x3 256, 3x3 256
(+ ReLU each), pool. Weights truncated normal (stddev 0.1), biases 0; the images are a
random variable on the device. One call computes the gradients of l2_loss(pool5) with
respect to every parameter (a `group` of them is fetched, so they stay on the device).

Candidates, alternating round by round, each call followed by a device synchronisation:
  - actorflow (GPU convolutions as strided im2col + cuBLAS GEMM, kernels/cupy_kernels.py);
  - actorflow_generic_conv (on the GPU only: ``cupy_kernels.CONV_ALGO = "generic"``, the ops'
    own per-tap kernels), to measure what the special kernels pay;
  - torch: the same model in PyTorch (NCHW, cuDNN autotuning on, TF32 off; its LRN is
    ``local_response_norm`` with alpha scaled by the window size to match TF's).
Prints one JSON line: seconds per batch of each, vs the book's 0.078 s on a GTX 1080.

    python benchmarks/gpu_alexnet.py [--batch 32] [--image 224] [--device cuda|cpu]
"""
from __future__ import annotations

import argparse

from gpu_common import Target, add_device_arg, emit, interleaved, tf

BOOK_S = 0.078  # forward-backward seconds per batch of 32, GTX 1080 (book ch. 6)
LRN = {"depth_radius": 4, "bias": 1.0, "alpha": 0.001 / 9.0, "beta": 0.75}
CONVS = [  # (name, kernel, in, out, stride, lrn_and_pool, pool)
    ("conv1", 11, 3, 64, 4, True), ("conv2", 5, 64, 192, 1, True),
    ("conv3", 3, 192, 384, 1, False), ("conv4", 3, 384, 256, 1, False),
    ("conv5", 3, 256, 256, 1, False)]


def _pool(x):
    return tf.nn.max_pool(x, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="VALID")


def actorflow_model(target: Target, batch: int, image: int):
    """(graph, images variable, parameters, the grouped gradients op)."""
    graph = tf.Graph()
    with graph.as_default(), tf.device(target.tf_device):
        tf.set_random_seed(0)
        images = tf.Variable(tf.random_normal([batch, image, image, 3], stddev=0.1))
        params, h = [], images
        for _, k, cin, cout, stride, lrn in CONVS:
            w = tf.Variable(tf.truncated_normal([k, k, cin, cout], stddev=0.1))
            b = tf.Variable(tf.constant(0.0, shape=[cout]))
            params += [w, b]
            h = tf.nn.relu(tf.nn.bias_add(
                tf.nn.conv2d(h, w, [1, stride, stride, 1], padding="SAME"), b))
            if lrn:
                h = _pool(tf.nn.lrn(h, **LRN))
        pool5 = _pool(h)
        grads = tf.gradients(tf.nn.l2_loss(pool5), params)
        step = tf.group(*grads)
        init = tf.global_variables_initializer()
    return graph, images, params, step, init


def actorflow_stepper(target: Target, model, conv_algo: str | None = None):
    """A session running the model's gradient step; `conv_algo` picks the GPU convolution
    kernels for the plans it compiles."""
    graph, images, params, step, init = model
    kernels = None
    if target.kind == "cuda":
        from actorflow.kernels import cupy_kernels as kernels
    saved = kernels.CONV_ALGO if kernels is not None else None
    sess = tf.Session(graph=graph, config=target.config())
    try:
        if kernels is not None and conv_algo is not None:
            kernels.CONV_ALGO = conv_algo
        sess.run(init)
        sess.run(step)  # compiles the plan with the chosen kernels
    finally:
        if kernels is not None:
            kernels.CONV_ALGO = saved
    values = sess.run([images] + params)
    return target.synced(lambda: sess.run(step)), values


def torch_stepper(target: Target, values):
    """The same forward + backward in PyTorch, from the same initial values."""
    torch = target.torch()
    if torch is None:
        return None
    import torch.nn.functional as F
    dev = target.torch_device
    x = torch.tensor(values[0].transpose(0, 3, 1, 2).copy(), device=dev)
    params = []
    for i in range(len(CONVS)):
        w, b = values[1 + 2 * i], values[2 + 2 * i]
        params.append((torch.tensor(w.transpose(3, 2, 0, 1).copy(), device=dev,
                                    requires_grad=True),
                       torch.tensor(b, device=dev, requires_grad=True)))
    size = 2 * LRN["depth_radius"] + 1
    sync = target.torch_sync(torch)

    def step():
        h = x
        for (_, k, _, _, stride, lrn), (w, b) in zip(CONVS, params):
            before, after = _same_pads(h.shape[2], k, stride)
            if before != after:  # TF puts the odd element of SAME padding after
                h, before = F.pad(h, (before, after, before, after)), 0
            h = F.relu(F.conv2d(h, w, b, stride=stride, padding=before))
            if lrn:
                h = F.local_response_norm(h, size, alpha=LRN["alpha"] * size, beta=LRN["beta"],
                                          k=LRN["bias"])
                h = F.max_pool2d(h, 3, 2)
        loss = (F.max_pool2d(h, 3, 2) ** 2).sum() / 2
        torch.autograd.grad(loss, [t for pair in params for t in pair])
        sync()
    return step


def _same_pads(size: int, k: int, stride: int) -> tuple:
    """TF's SAME padding of one (square) spatial axis as (before, after)."""
    out = -(-size // stride)
    pad = max((out - 1) * stride + k - size, 0)
    return pad // 2, pad - pad // 2


def bench(target: Target, batch: int, image: int, rounds: int) -> dict:
    model = actorflow_model(target, batch, image)
    step, values = actorflow_stepper(target, model)
    candidates = {"actorflow": step}
    if target.kind == "cuda":
        candidates["actorflow_generic_conv"] = actorflow_stepper(target, model, "generic")[0]
    ts = torch_stepper(target, values)
    if ts is not None:
        candidates["torch"] = ts
    repeat = 5 if target.kind == "cuda" else 1
    res = interleaved(candidates, repeat=repeat, rounds=rounds)
    secs = {k: v["median_s"] for k, v in res.items()}
    out = {"benchmark": "gpu_alexnet", "device": target.name(), "batch": batch, "image": image,
           "seconds_per_batch": {k: round(v, 5) for k, v in secs.items()},
           "book_gtx1080_s": BOOK_S, "actorflow_vs_book": round(BOOK_S / secs["actorflow"], 3),
           "actorflow_vs_torch": None}
    if "torch" in secs:
        out["actorflow_vs_torch"] = round(secs["torch"] / secs["actorflow"], 3)
    if "actorflow_generic_conv" in secs:
        out["im2col_speedup_vs_generic"] = round(
            secs["actorflow_generic_conv"] / secs["actorflow"], 3)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_device_arg(ap)
    ap.add_argument("--batch", type=int, default=None, help="default 32 (cuda), 2 (cpu)")
    ap.add_argument("--image", type=int, default=None, help="default 224 (cuda), 64 (cpu)")
    args = ap.parse_args(argv)
    target = Target(args.device)
    cuda = target.kind == "cuda"
    emit(bench(target, args.batch or (32 if cuda else 2), args.image or (224 if cuda else 64),
               args.rounds))


if __name__ == "__main__":
    main()
