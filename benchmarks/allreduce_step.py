"""Ring all-reduce vs parameter-server step on Ray, communication only, with the raw
object-store baseline in the same run; and the figures a scaling model needs.

A step (as in ps_sync_step.py): every worker's gradient of a `--params`-float32 variable is
fed straight into the gradient tensor (no model compute), then exchanged and applied with
SGD: through one ps actor (push, sum, apply, publish, pull), or by `mode="allreduce"`
(every worker all-reduces the mean over the ring and applies it itself). Baseline: the PS
step's bytes (workers x 2 x params x 4) through bare Ray: `ray.put`, an actor method
receiving the array and returning it, `ray.get`. The three are interleaved round by round;
figures are medians of the rounds.

Also measured, for the scaling model (F): the object store's echo round trip for 4 bytes to
40 MB (`latency_ms`: the 4-byte round trip; `bandwidth_gb_s`: bytes moved per second at 40 MB,
two copies per round trip), and per worker count the ring's own time per step (rank 0's
seconds inside `Ring.allreduce_mean`, `ring_ms`), fitted to
``ring_s = 2 (N-1) alpha + 2 (N-1)/N bytes / beta`` (`ring_fit`: alpha in ms per message
hop, beta in GB/s). Knobs: `--bucket-bytes`, `--compression fp16`, `--algorithm direct`.

    python benchmarks/allreduce_step.py [--params 1000 1000000 10000000] [--workers 1 2 4]
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
from benchmarks.ps_sync_step import Echo, fed_trainer, time_bare, time_steps  # noqa: E402

from actorflow.actors._remote import get  # noqa: E402
from actorflow.actors.allreduce import DEFAULT_BUCKET_BYTES  # noqa: E402

BUNDLE = {"CPU": 0.05}
"""Both trainers of a row live at once (interleaved), so their tasks take small shares."""


def ring_seconds(trainer) -> tuple[float, int, int]:
    """Rank 0's (seconds inside allreduce_mean, calls, bytes sent) so far."""
    stats = get(trainer.workers[0].stats.remote())
    return stats["seconds"], stats["calls"], stats["bytes_sent"]


def echo_figures(echo, sizes: list[int], repeat: int) -> dict:
    """Median echo round trip (put, actor returns it, get) per size in bytes."""
    import ray
    out = {}
    for nbytes in sizes:
        x = np.ones(max(1, nbytes // 4), np.float32)
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            ray.get(echo.back.remote(ray.put(x)))
            samples.append(time.perf_counter() - t0)
        out[nbytes] = statistics.median(samples)
    return out


def fit_ring(points: list[tuple[int, float]], workers: int) -> dict | None:
    """alpha (ms per hop) and beta (GB/s) from (bytes, seconds) by least squares."""
    if workers < 2 or len(points) < 2:
        return None
    nbytes = np.array([p[0] for p in points], float)
    secs = np.array([p[1] for p in points], float)
    slope, intercept = np.polyfit(nbytes, secs, 1)
    hops = 2 * (workers - 1)
    return {"workers": workers, "alpha_ms": 1e3 * intercept / hops,
            "beta_gb_s": (hops / workers) / slope / 1e9 if slope > 0 else None,
            "points": [{"bytes": int(b), "ring_ms": 1e3 * s} for b, s in points]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=int, nargs="+", default=[1000, 1_000_000, 10_000_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--steps", type=int, default=3, help="steps per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bucket-bytes", type=int, default=DEFAULT_BUCKET_BYTES)
    ap.add_argument("--compression", choices=["fp16"], default=None)
    ap.add_argument("--algorithm", choices=["ring", "direct"], default="ring")
    args = ap.parse_args()
    from actorflow.actors._remote import ensure_ray
    ray = ensure_ray("local", include_dashboard=False)
    echo = ray.remote(Echo).options(num_cpus=0).remote()
    sizes = [4, 4_000, 400_000, 4_000_000, 40_000_000]
    echo_s = echo_figures(echo, sizes, repeat=7)
    big = sizes[-1]
    store = {"echo_ms": {str(k): 1e3 * v for k, v in echo_s.items()},
             "latency_ms": 1e3 * echo_s[4],
             "bandwidth_gb_s": 2 * big / (echo_s[big] - echo_s[4]) / 1e9}
    print(store, file=sys.stderr, flush=True)
    rows, ring_points = [], {}
    for workers in args.workers:
        for params in args.params:
            ps = fed_trainer(params, workers, bundle=BUNDLE)
            ar = fed_trainer(params, workers, mode="allreduce", cluster={"worker": workers},
                             bundle=BUNDLE, bucket_bytes=args.bucket_bytes,
                             compression=args.compression,
                             allreduce_algorithm=args.algorithm)
            ps_s, ar_s, bare_s, ring_s, sent = [], [], [], [], []
            try:
                for _ in range(args.rounds):
                    ps_s.append(time_steps(ps, args.steps))
                    before = ring_seconds(ar)
                    ar_s.append(time_steps(ar, args.steps))
                    after = ring_seconds(ar)
                    calls = max(1, after[1] - before[1])
                    ring_s.append((after[0] - before[0]) / calls)
                    sent.append((after[2] - before[2]) / calls)
                    bare_s.append(time_bare(params, workers, args.steps, echo))
            finally:
                ps.shutdown()
                ar.shutdown()
            ps_m, ar_m, bare_m = (statistics.median(v) for v in (ps_s, ar_s, bare_s))
            ring_m = statistics.median(ring_s)
            ring_points.setdefault(workers, []).append((4 * params, ring_m))
            rows.append({"params": params, "workers": workers,
                         "ps_step_ms": 1e3 * ps_m, "allreduce_step_ms": 1e3 * ar_m,
                         "bare_ms": 1e3 * bare_m, "ring_ms": 1e3 * ring_m,
                         "ps_ratio": bare_m / ps_m, "allreduce_ratio": bare_m / ar_m,
                         "allreduce_vs_ps": ps_m / ar_m,
                         "ring_bytes_sent_per_worker": int(statistics.median(sent))})
            print(rows[-1], file=sys.stderr, flush=True)
    fits = [f for w, pts in ring_points.items() if (f := fit_ring(pts, w)) is not None]
    emit({"benchmark": "allreduce_step", "cores": os.cpu_count(),
          "bucket_bytes": args.bucket_bytes, "compression": args.compression,
          "algorithm": args.algorithm,
          "object_store": store, "rows": rows, "ring_fit": fits})


if __name__ == "__main__":
    main()
