"""The book's programs on actorflow and on TensorFlow 1.x, side by side, interleaved.

Every program of benchmarks/book_programs.py (the same graph code, byte for byte, for both
engines) is built in one worker process per engine and thread setting
(benchmarks/_engine_worker.py): `sys.executable` runs actorflow, the interpreter given by
``--tf-python`` runs ``tensorflow.compat.v1`` with ``disable_v2_behavior()``. TensorFlow is
never imported here nor a dependency; without ``--tf-python`` (or when TensorFlow does not
import there) its fields are null and ``tensorflow_unavailable`` says why.

Threads come only from the session's ConfigProto, as users write it: ``1`` (or any N) means
``intra_op_parallelism_threads=N, inter_op_parallelism_threads=1``; ``default`` means
``ConfigProto()``. TensorFlow fixes its CPU thread pool at a process's first session, hence
one worker per engine and setting. No thread environment variable is set for either worker.

Per program and setting: each worker builds the graph, runs one warm-up step and one timed
step (which sets the steps per round, about ``--round-s`` seconds); then the engines run
their rounds alternately (the order flips every round), so load changes hit both. Rates are
items per second (higher is better): img/s, calls/s, ops/s, solves/s; the medians over the
rounds and ``ratio`` = actorflow's rate / TensorFlow's (> 1: actorflow is faster).

    python benchmarks/vs_tensorflow.py [--tf-python /work/tfvenv/bin/python]
        [--programs softmax mlp ...] [--threads 1 default] [--rounds 5] [--quick]
        [--vgg-batch 32]
    python benchmarks/vs_tensorflow.py --tf-python PY --profile alexnet_fwd [--top 15]

Prints one JSON line on stdout (``--profile``: the op-by-op table of one traced step per
engine, by op type, on stderr and as JSON); progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._timing import emit  # noqa: E402
from benchmarks.book_programs import PROGRAMS  # noqa: E402

WORKER = os.path.join(HERE, "_engine_worker.py")
ENGINES = ("actorflow", "tensorflow")
# --quick: smaller batches where a step takes seconds, and a short episode cap
QUICK_CFG = {"alexnet_fwd": {"batch": 4}, "alexnet_fwdbwd": {"batch": 4},
             "vgg_fwd": {"batch": 1}, "vgg_fwdbwd": {"batch": 1}, "cnn_b256": {"batch": 64},
             "policy": {"max_episodes": 50}}


class EngineWorker:
    """A worker subprocess for one engine and thread setting, spoken to in JSON lines."""

    def __init__(self, engine: str, python: str, threads: str, log_path: str | None) -> None:
        env = dict(os.environ)
        stderr = None
        if engine == "tensorflow":
            env["TF_CPP_MIN_LOG_LEVEL"] = "3"  # its C++ logging would drown the progress
            stderr = open(log_path, "a")  # noqa: SIM115 - closed in close()
        self.engine, self.threads, self._stderr = engine, threads, stderr
        self.proc = subprocess.Popen([python, WORKER, engine, threads], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
        self.hello = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            return {"ok": False, "error": f"{self.engine} worker exited (rc {self.proc.wait()})"}
        return json.loads(line)

    def call(self, cmd: str, **args) -> dict:
        """Sends one command; returns the answer (``ok`` false with ``error`` on failure)."""
        if self.proc.poll() is not None:
            return {"ok": False, "error": f"{self.engine} worker is gone (rc {self.proc.wait()})"}
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"cmd": "exit"}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        if self._stderr is not None:
            self._stderr.close()


class Workers:
    """Starts workers lazily, one per (engine, threads), and remembers engines that failed."""

    def __init__(self, tf_python: str | None, log_path: str) -> None:
        self.pythons = {"actorflow": sys.executable, "tensorflow": tf_python}
        self.log_path = log_path
        self.pool: dict[tuple[str, str], EngineWorker] = {}
        self.unavailable: dict[str, str] = {}
        self.versions: dict[str, dict] = {}
        if tf_python is None:
            self.unavailable["tensorflow"] = "no --tf-python given"
        elif not os.access(tf_python, os.X_OK):
            self.unavailable["tensorflow"] = f"--tf-python {tf_python!r} is not an executable"

    def get(self, engine: str, threads: str) -> EngineWorker | None:
        if engine in self.unavailable:
            return None
        key = (engine, threads)
        if key not in self.pool:
            w = EngineWorker(engine, self.pythons[engine], threads, self.log_path)
            if not w.hello.get("ok"):
                self.unavailable[engine] = w.hello.get("error", "worker failed to start")
                w.close()
                return None
            self.versions[engine] = {k: w.hello[k] for k in ("version", "numpy", "python")}
            self.pool[key] = w
        return self.pool[key]

    def close_setting(self, threads: str) -> None:
        """Ends the workers of one thread setting (their processes and memory)."""
        for key in [k for k in self.pool if k[1] == threads]:
            self.pool.pop(key).close()

    def close(self) -> None:
        for w in self.pool.values():
            w.close()


def _progress(msg: str) -> None:
    print(f"[vs_tensorflow {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def measure(workers: Workers, program: str, threads: str, cfg: dict, rounds: int,
            round_s: float) -> dict:
    """Interleaved rounds of one program at one thread setting on every available engine.

    Returns {"actorflow": median rate, "tensorflow": ..., "ratio": ..., per-engine rounds,
    steps per round, build and step seconds, the last step's info and any error}.
    """
    out: dict = {"unit": None, "items_per_step": None}
    live: dict[str, EngineWorker] = {}
    steps: dict[str, int] = {}
    for engine in ENGINES:
        out[engine] = None
        w = workers.get(engine, threads)
        if w is None:
            continue
        built = w.call("build", program=program, cfg=cfg)
        if not built["ok"]:
            out[f"{engine}_error"] = built["error"]
            w.call("free")
            continue
        live[engine] = w
        steps[engine] = max(1, math.ceil(round_s / max(built["step_s"], 1e-9)))
        out["unit"], out["items_per_step"] = built["unit"], built["items_per_step"]
        out[f"{engine}_build_s"] = built["build_s"]
        out[f"{engine}_steps_per_round"] = steps[engine]
    rates: dict[str, list[float]] = {e: [] for e in live}
    order = list(live)
    for r in range(rounds):
        for engine in (order if r % 2 == 0 else order[::-1]):
            if engine not in live:
                continue
            res = live[engine].call("run", steps=steps[engine])
            if not res["ok"]:
                out[f"{engine}_error"] = res["error"]
                live.pop(engine).call("free")
                continue
            rates[engine].append(out["items_per_step"] * steps[engine] / res["seconds"])
            if res["info"] is not None:
                out[f"{engine}_info"] = res["info"]
    for w in live.values():
        w.call("free")
    for engine, values in rates.items():
        if values and engine in live:
            out[engine] = statistics.median(values)
            out[f"{engine}_rounds"] = values
    af, tf = out["actorflow"], out["tensorflow"]
    out["ratio"] = af / tf if af is not None and tf is not None else None
    return out


def run_benchmark(args) -> dict:
    """Measures every selected program at every thread setting; returns the JSON result."""
    log = args.tf_log or os.path.join(tempfile.gettempdir(), "vs_tensorflow_tf_worker.log")
    workers = Workers(args.tf_python, log)
    round_s = args.round_s if args.round_s is not None else (0.05 if args.quick else 1.0)
    results: dict = {}
    ratios: dict = {}
    load_start = os.getloadavg()
    t_start = time.perf_counter()
    try:
        # Thread settings one after another, each with its own workers, ended before the next
        # starts: idle workers keep the heaps of their freed programs (GBs for VGG-16 at batch
        # 32), and four of them at once pushed a run into page faults (VGG-16 forward-backward
        # at 2 threads: 1.08 img/s beside the 1-thread workers, 2.3 alone).
        for program in args.programs:
            results[program] = {"cfg": program_cfg(program, args)}
        for threads in args.threads:
            for program in args.programs:
                cfg = results[program]["cfg"]
                _progress(f"{program} threads={threads} ...")
                m = measure(workers, program, threads, cfg, args.rounds, round_s)
                results[program][f"threads_{threads}"] = m
                ratios[f"{program}@{threads}"] = m["ratio"]
                _progress(f"{program} threads={threads}: actorflow {_fmt(m['actorflow'])}, "
                          f"tensorflow {_fmt(m['tensorflow'])} {m.get('unit', '')}, "
                          f"ratio {_fmt(m['ratio'])}")
            workers.close_setting(threads)
    finally:
        workers.close()
    return {"benchmark": "vs_tensorflow", "rounds": args.rounds, "quick": args.quick,
            "round_s": round_s, "threads": args.threads,
            "tensorflow": workers.versions.get("tensorflow"),
            "actorflow": workers.versions.get("actorflow"),
            "tensorflow_unavailable": workers.unavailable.get("tensorflow"),
            "tensorflow_python": args.tf_python, "tensorflow_log": log,
            "cpu_count": os.cpu_count(), "loadavg_start": load_start,
            "loadavg_end": os.getloadavg(), "wall_s": time.perf_counter() - t_start,
            "ratios": ratios, "results": results}


def run_profile(args) -> dict:
    """One FULL_TRACE step of `args.profile` per engine, time by op type, top `args.top`."""
    log = args.tf_log or os.path.join(tempfile.gettempdir(), "vs_tensorflow_tf_worker.log")
    workers = Workers(args.tf_python, log)
    threads, program = args.threads[0], args.profile
    cfg = program_cfg(program, args)
    out = {"benchmark": "vs_tensorflow_profile", "program": program, "threads": threads,
           "cfg": cfg}
    try:
        for engine in ENGINES:
            w = workers.get(engine, threads)
            if w is None:
                out[engine] = None
                continue
            built = w.call("build", program=program, cfg=cfg)
            prof = w.call("profile", top=args.top) if built["ok"] else built
            w.call("free")
            out[engine] = prof if prof["ok"] else {"error": prof["error"]}
    finally:
        workers.close()
    out["tensorflow_unavailable"] = workers.unavailable.get("tensorflow")
    for engine in ENGINES:
        prof = out[engine]
        if not prof or "ops" not in prof:
            print(f"{engine}: {prof and prof.get('error') or out['tensorflow_unavailable']}",
                  file=sys.stderr)
            continue
        print(f"{engine} {program} threads={threads}: step {prof['step_ms']:.1f} ms traced, "
              f"ops {prof['traced_op_ms']:.1f} ms", file=sys.stderr)
        for kind, ms, count in prof["ops"]:
            print(f"  {ms:10.2f} ms  {count:5d}x  {kind}", file=sys.stderr)
    return out


def program_cfg(program: str, args) -> dict:
    """The config a program is built with: --quick sizes, then --vgg-batch."""
    cfg = dict(QUICK_CFG.get(program, {})) if args.quick else {}
    if program.startswith("vgg") and args.vgg_batch is not None:
        cfg["batch"] = args.vgg_batch
    return cfg


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tf-python", default=None,
                   help="an interpreter where `import tensorflow` works")
    p.add_argument("--programs", nargs="+", default=list(PROGRAMS), choices=list(PROGRAMS))
    p.add_argument("--threads", nargs="+", default=["1", "default"],
                   help="thread settings: integers (intra-op threads) or 'default'")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--round-s", type=float, default=None,
                   help="seconds of steps per round and engine (default 1.0, quick 0.05)")
    p.add_argument("--quick", action="store_true", help="small batches, short rounds (smoke)")
    p.add_argument("--vgg-batch", type=int, default=None, help="VGG-16 batch (book: 32)")
    p.add_argument("--profile", choices=list(PROGRAMS), default=None,
                   help="print one traced step's time by op type for both engines instead")
    p.add_argument("--top", type=int, default=15, help="op types shown by --profile")
    p.add_argument("--tf-log", default=None, help="TensorFlow worker's stderr (default: tmp)")
    args = p.parse_args(argv)
    for t in args.threads:
        if t != "default" and not (t.isdigit() and int(t) > 0):
            p.error(f"--threads: {t!r} is neither a positive integer nor 'default'")
    if args.rounds < 1:
        p.error(f"--rounds must be >= 1, got {args.rounds}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    emit(run_profile(args) if args.profile else run_benchmark(args))


if __name__ == "__main__":
    main()
