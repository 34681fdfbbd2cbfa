"""The `actorflow train` CLI quiet and under load: env steps/s of DQN and PPO on CartPole-v1,
each run once on the quiet machine and once beside `--busy` busy-looping processes.

Quiet and loaded runs alternate (quiet first in even rounds, loaded first in odd ones) so
that drift of the machine's speed falls on both alike. Each run is a fresh ``actorflow train``
process; its steps/s is the CLI's own figure (training loop only, without start-up). The
thread variables (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) are
removed from the runs' environment, so that they measure the CLI as a user gets it, unless
``--blas-env N`` sets ``OPENBLAS_NUM_THREADS=N`` for them (``--blas-env 2`` on 2 cores gives
the multithreaded BLAS that the CLI had before sessions set BLAS threads). Prints one JSON
line: per agent the steps/s of every run, the medians and the slowdown (quiet median /
loaded median; target: at most 2.5).

    python benchmarks/cli_under_load.py [--dqn-steps 10000] [--ppo-steps 50000]
                                        [--rounds 2] [--busy 2] [--workers 0]
                                        [--blas-env N]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
TARGET_SLOWDOWN = 2.5
RUN_TIMEOUT_S = 1200


def cli_command(agent: str, steps: int, workers: int = 0) -> list[str]:
    """``actorflow train <agent> --env CartPole-v1 --steps <steps> --workers <workers>`` with
    this Python."""
    return [sys.executable, "-c", "import sys; from actorflow.agents.cli import main; "
            "sys.exit(main())", "train", agent, "--env", "CartPole-v1", "--steps", str(steps),
            "--workers", str(workers)]


def run_cli(agent: str, steps: int, env: dict[str, str], workers: int = 0) -> dict:
    """One CLI run: its JSON result plus the process's wall time.

    Raises:
        RuntimeError: the run failed (the message holds the end of its output).
    """
    t0 = time.perf_counter()
    proc = subprocess.run(cli_command(agent, steps, workers), env=env, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"actorflow train {agent} failed ({proc.returncode}): "
                           f"{proc.stdout[-1000:]}{proc.stderr[-2000:]}")
    result = json.loads(lines[-1])
    return {"steps_per_s": float(result["steps_per_s"]), "process_wall_s": round(wall, 2)}


class Busy:
    """`n` processes spinning in a Python loop while the context is open."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Busy":
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                      for _ in range(self.n)]
        time.sleep(0.5)  # let them reach the scheduler's steady state
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dqn-steps", type=int, default=10000)
    p.add_argument("--ppo-steps", type=int, default=50000)
    p.add_argument("--rounds", type=int, default=2, help="quiet + loaded pairs per agent")
    p.add_argument("--busy", type=int, default=2, help="busy-looping background processes")
    p.add_argument("--workers", type=int, default=0,
                   help="Ray rollout actors of each run (0: in-process, the CLI's default)")
    p.add_argument("--blas-env", type=int, default=None,
                   help="set OPENBLAS_NUM_THREADS for the runs (default: no thread variables)")
    args = p.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    if args.blas_env is not None:
        env["OPENBLAS_NUM_THREADS"] = str(args.blas_env)
    agents = {"dqn": args.dqn_steps, "ppo": args.ppo_steps}
    runs: dict[str, dict[str, list]] = {a: {"quiet": [], "loaded": []} for a in agents}
    for r in range(args.rounds):
        for agent, steps in agents.items():
            order = ("quiet", "loaded") if r % 2 == 0 else ("loaded", "quiet")
            for cond in order:
                if cond == "loaded":
                    with Busy(args.busy):
                        runs[agent][cond].append(run_cli(agent, steps, env, args.workers))
                else:
                    runs[agent][cond].append(run_cli(agent, steps, env, args.workers))
                print(f"round {r} {agent} {cond}: {runs[agent][cond][-1]}", file=sys.stderr,
                      flush=True)
    out: dict = {"benchmark": "cli_under_load", "busy_processes": args.busy,
                 "workers": args.workers,
                 "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                 else os.cpu_count(),
                 "openblas_num_threads_env": env.get("OPENBLAS_NUM_THREADS"),
                 "target_slowdown_max": TARGET_SLOWDOWN}
    for agent, steps in agents.items():
        quiet = [x["steps_per_s"] for x in runs[agent]["quiet"]]
        loaded = [x["steps_per_s"] for x in runs[agent]["loaded"]]
        q, ld = statistics.median(quiet), statistics.median(loaded)
        out[agent] = {"steps": steps, "quiet_steps_per_s": quiet, "loaded_steps_per_s": loaded,
                      "quiet_median": round(q, 1), "loaded_median": round(ld, 1),
                      "slowdown": round(q / ld, 2),
                      "process_wall_s": {c: [x["process_wall_s"] for x in v]
                                         for c, v in runs[agent].items()}}
    emit(out)
    return out


if __name__ == "__main__":
    main()
