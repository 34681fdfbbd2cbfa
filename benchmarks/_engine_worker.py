"""One engine's side of benchmarks/vs_tensorflow.py: builds book programs, times their steps.

Run as ``python _engine_worker.py actorflow|tensorflow THREADS`` (THREADS: an integer, or
``default`` for ``ConfigProto()``). It imports only NumPy, `book_programs` and its engine, so
the TensorFlow interpreter runs it without actorflow installed. Protocol: one JSON object per
line on stdin, one JSON answer per line on stdout; every answer has ``ok`` and, when false,
``error``. The first line it writes says whether the engine imported. Commands:

    {"cmd": "build", "program": NAME, "cfg": {...}}  -> {"ok", "unit", "items_per_step",
                                                        "build_s", "step_s"} (after warm-up)
    {"cmd": "run", "steps": N}                       -> {"ok", "seconds", "info"}
    {"cmd": "profile", "top": N}                     -> {"ok", "step_ms", "ops": [[type, ms,
                                                        count], ...]} (RunMetadata FULL_TRACE)
    {"cmd": "free"} / {"cmd": "exit"}

Anything the engine prints on stdout is moved to stderr, so stdout carries only answers.
"""
from __future__ import annotations

import collections
import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import book_programs  # noqa: E402


def import_engine(name: str):
    """The engine module: ``actorflow``, or TensorFlow's ``compat.v1`` in graph mode.

    Raises:
        ValueError: an engine other than the two.
    """
    if name == "actorflow":
        import actorflow
        return actorflow, getattr(actorflow, "__version__", None)
    if name == "tensorflow":
        import tensorflow as tf_root
        import tensorflow.compat.v1 as tf
        tf.disable_v2_behavior()
        return tf, tf_root.__version__
    raise ValueError(f"unknown engine {name!r}: expected 'actorflow' or 'tensorflow'")


def session_config(tf, threads: str):
    """``ConfigProto()`` for 'default', else intra-op N and inter-op 1 threads."""
    if threads == "default":
        return tf.ConfigProto()
    return tf.ConfigProto(intra_op_parallelism_threads=int(threads),
                          inter_op_parallelism_threads=1)


def op_type(node) -> str:
    """The op type of one NodeExecStats: both engines label nodes 'name = Type(inputs)'."""
    label = node.timeline_label or ""
    if " = " in label:
        return label.split(" = ", 1)[1].split("(", 1)[0]
    return node.node_name


class Worker:
    """Holds one program's graph and session at a time."""

    def __init__(self, tf, threads: str) -> None:
        self.tf, self.threads = tf, threads
        self.program = self.sess = self.step = None

    def free(self) -> dict:
        if self.sess is not None:
            self.sess.close()
        self.program = self.sess = self.step = None
        return {"ok": True}

    def build(self, program: str, cfg: dict) -> dict:
        if program not in book_programs.PROGRAMS:
            raise KeyError(f"unknown program {program!r}")
        self.free()
        tf = self.tf
        t0 = time.perf_counter()
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(0)
            self.program = book_programs.PROGRAMS[program](tf, cfg)
        self.sess = tf.Session(graph=graph, config=session_config(tf, self.threads))
        self.sess.run(self.program.init)
        self.step = self.program.make_step(self.sess)
        build_s = time.perf_counter() - t0
        self.step()  # warm-up: first-run compilation, allocations, kernel selection
        t0 = time.perf_counter()
        self.step()
        return {"ok": True, "unit": self.program.unit,
                "items_per_step": self.program.items_per_step, "build_s": build_s,
                "step_s": time.perf_counter() - t0}

    def run(self, steps: int) -> dict:
        step, info = self.step, None
        t0 = time.perf_counter()
        for _ in range(steps):
            info = step()
        return {"ok": True, "seconds": time.perf_counter() - t0, "info": info}

    def profile(self, top: int) -> dict:
        tf = self.tf
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        for _ in range(2):  # the second traced step is reported (the first warms the tracer)
            metadata = tf.RunMetadata()
            traced = self.program.make_step(self.sess, options, metadata)
            t0 = time.perf_counter()
            traced()
            step_s = time.perf_counter() - t0
        total = collections.Counter()
        count = collections.Counter()
        for dev in metadata.step_stats.dev_stats:
            for node in dev.node_stats:
                kind = op_type(node)
                total[kind] += node.op_end_rel_micros
                count[kind] += 1
        ops = [[k, us / 1000.0, count[k]] for k, us in total.most_common(top)]
        return {"ok": True, "step_ms": step_s * 1000.0,
                "traced_op_ms": sum(total.values()) / 1000.0, "ops": ops}


def main() -> None:
    engine, threads = sys.argv[1], sys.argv[2]
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the engine's own prints go to stderr, never into the protocol
    sys.stdout = sys.stderr

    def answer(obj: dict) -> None:
        answers.write(json.dumps(obj, default=float) + "\n")
        answers.flush()

    try:
        tf, version = import_engine(engine)
    except Exception as e:  # noqa: BLE001 - any import failure means "engine unavailable"
        answer({"ok": False, "error": f"{type(e).__name__}: {e}"})
        return
    import numpy
    answer({"ok": True, "engine": engine, "version": version, "numpy": numpy.__version__,
            "python": sys.version.split()[0]})
    worker = Worker(tf, threads)
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        if cmd == "exit":
            break
        try:
            if cmd == "build":
                answer(worker.build(msg["program"], msg.get("cfg", {})))
            elif cmd == "run":
                answer(worker.run(int(msg["steps"])))
            elif cmd == "profile":
                answer(worker.profile(int(msg.get("top", 15))))
            elif cmd == "free":
                answer(worker.free())
            else:
                answer({"ok": False, "error": f"unknown command {cmd!r}"})
        except Exception as e:  # noqa: BLE001 - reported to the driver, which goes on
            traceback.print_exc()
            answer({"ok": False, "error": f"{type(e).__name__}: {e}"})
    worker.free()


if __name__ == "__main__":
    main()
