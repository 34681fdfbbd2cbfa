"""One synchronous parameter-server step on Ray, as bytes moved per second.

A step: every worker produces the gradient of a `--params`-float32 variable (fed straight
into the gradient tensor, so the step is all communication and no model) and pushes it to
the ps actor; the ps sums the round as it arrives, applies the mean with SGD in place, and
every worker pulls the new weights (one `ray.put` per version, read zero-copy). Bytes per
step = workers x 2 x params x 4. Baseline, in the same run: the same bytes through bare
Ray, one round trip of the array per push and per pull (`ray.put`, an actor method
receiving it and returning it, `ray.get`). Target: >= 0.9x the baseline.

The two are interleaved: each of `--rounds` rounds times `--steps` ps steps, then `--steps`
baseline steps; the figures are the medians of the rounds' seconds per step.

    python benchmarks/ps_sync_step.py [--params 1000000 10000000] [--workers 1 2 4]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.actors.trainer import ReplicatedTrainer  # noqa: E402


def build(params: int, workers: int):
    g = tf.Graph()
    with g.as_default():
        c = tf.placeholder(tf.float32, [1, params], name="c")
        w = tf.Variable(tf.zeros([params]), name="w")
        loss = tf.reduce_sum(w * c)  # gradient: c itself
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.01),
                                             workers, workers)
        train = opt.minimize(loss, global_step=tf.train.get_or_create_global_step())
    return g, train


class FedGradient:
    """A data function feeding the gradient tensor itself: workers do no model compute."""

    def __init__(self, name: str, params: int) -> None:
        self.name, self.params = name, params

    def __call__(self, worker_index: int, num_workers: int):
        grad = np.full(self.params, 1.0 + worker_index, np.float32)
        while True:
            yield {self.name: grad}


class Echo:
    def back(self, x):
        return x


def fed_trainer(params: int, workers: int, **kwargs) -> ReplicatedTrainer:
    """A warmed-up trainer of `build`'s graph fed with `FedGradient` ({"ps": 1} unless
    `kwargs` say otherwise, e.g. mode="allreduce", cluster={"worker": N})."""
    g, train = build(params, workers)
    grad_name = train.attrs["_gradients"][0][0]
    cluster = kwargs.pop("cluster", {"ps": 1, "worker": workers})
    trainer = ReplicatedTrainer(g, train, FedGradient(grad_name, params), cluster,
                                progress=False, **kwargs)
    trainer.train(3)  # warm: plans compiled, first versions shared
    return trainer


def time_steps(trainer: ReplicatedTrainer, steps: int) -> float:
    """Seconds per global step over the next `steps` steps."""
    target = trainer.global_step() + steps
    t0 = time.perf_counter()
    trainer.train(target)
    return (time.perf_counter() - t0) / steps


def time_bare(params: int, workers: int, steps: int, echo) -> float:
    """Seconds per step of the baseline: 2 x workers put+echo+get round trips."""
    import ray
    x = np.ones(params, np.float32)
    t0 = time.perf_counter()
    for _ in range(steps):
        for _ in range(2 * workers):
            ray.get(echo.back.remote(ray.put(x)))
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--steps", type=int, default=4, help="steps per round")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    from actorflow.actors._remote import ensure_ray
    ray = ensure_ray("local", include_dashboard=False)
    echo = ray.remote(Echo).options(num_cpus=0).remote()
    rows = []
    for params in args.params:
        for workers in args.workers:
            nbytes = workers * 2 * params * 4
            trainer = fed_trainer(params, workers)
            ps, bare = [], []
            try:
                for _ in range(args.rounds):
                    ps.append(time_steps(trainer, args.steps))
                    bare.append(time_bare(params, workers, args.steps, echo))
            finally:
                trainer.shutdown()
            ps_s, bare_s = statistics.median(ps), statistics.median(bare)
            rows.append({"params": params, "workers": workers,
                         "ps_step_ms": ps_s * 1e3, "ps_gb_s": nbytes / ps_s / 1e9,
                         "bare_ms": bare_s * 1e3, "bare_gb_s": nbytes / bare_s / 1e9,
                         "ratio": bare_s / ps_s})
            print(rows[-1], file=sys.stderr, flush=True)
    emit({"benchmark": "ps_sync_step", "cores": os.cpu_count(), "target_ratio": 0.9,
          "rows": rows})


if __name__ == "__main__":
    main()
