"""Timing helpers for the benchmarks: interleaved rounds, medians, one JSON line out.

This machine's speed drifts between processes and over time, so every benchmark times its
baseline in the same process, alternating candidate and baseline round by round, and reports
medians and the ratio of medians.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Callable


def time_call(fn: Callable[[], object], repeat: int) -> float:
    """Seconds per call of `fn`, timed over `repeat` back-to-back calls."""
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def interleaved(candidates: dict[str, Callable[[], object]], repeat: int, rounds: int = 7,
                warmup: int = 1) -> dict[str, dict]:
    """Times each candidate `rounds` times, alternating, after `warmup` untimed rounds.

    Returns {name: {"median_s": ..., "min_s": ..., "rounds_s": [...]}} (seconds per call).
    """
    for _ in range(warmup):
        for fn in candidates.values():
            time_call(fn, max(1, repeat // 4))
    samples: dict[str, list[float]] = {k: [] for k in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            samples[name].append(time_call(fn, repeat))
    return {k: {"median_s": statistics.median(v), "min_s": min(v), "rounds_s": v}
            for k, v in samples.items()}


def emit(result: dict) -> None:
    """Prints the result as one JSON line (the benchmark's output contract)."""
    json.dump(result, sys.stdout, default=float)
    sys.stdout.write("\n")
    sys.stdout.flush()


def import_torch():
    """PyTorch, or None when it is not installed.

    Its OpenMP threads busy-wait after each op by default; interleaved with other candidates
    on a 2-core machine they steal the next candidate's cores (measured: -45% for the NumPy
    baseline of the MLP step). Passive waiting, set before the import, keeps the interleaved
    comparison fair and makes torch itself faster here too. An explicit OMP_WAIT_POLICY wins.
    """
    import os
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch
    except ImportError:
        return None
    return torch
