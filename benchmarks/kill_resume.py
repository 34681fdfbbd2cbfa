"""kill -9 / --resume cycles through the real CLI: every resume must continue from the newest
complete checkpoint (none may start afresh or fail), losing at most the save in progress.

Each cycle starts `actorflow train AGENT --logdir D [--resume]` in a subprocess, waits until
it trains (its first progress line, or its "resuming from" notice), kills it with SIGKILL at
a random moment (half of the kills then wait until a save is under way, so they land
between its files), then checks the run directory independently of the
code under test: which checkpoints are complete (every file in the state file's manifest
present with its size and CRC-32), which saves were started (any file of a step, temporary
ones included), and the steps in metrics.jsonl. The next cycle's process must announce the
newest complete checkpoint as the one it resumes from, and that checkpoint must be at least
the second-newest save started (only the save in progress at the kill may be lost).

    python benchmarks/kill_resume.py [--agents dqn pg ppo] [--cycles 20] [--seed 0]

Prints one JSON line: per agent the cycles, resumes checked, failures of each kind, kills
that fell inside a save, and the progress lost (env steps and metrics rows) per kill.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

#: agent -> (extra CLI flags, seconds of the kill window). Small checkpoint intervals so that
#: saves are frequent and kills often land inside one: PG and PPO checkpoint every 2 updates,
#: DQN (with 2 rollout actors) every 256 env steps (each learner round).
SETTINGS = {
    "pg": (["--checkpoint-every", "2"], 2.0),
    "ppo": (["--checkpoint-every", "2"], 2.0),
    "dqn": (["--workers", "2", "--checkpoint-every", "256"], 4.0),
}
CHECKPOINT_EVERY = {"pg": 2, "ppo": 2}  # updates (one metrics row each)
_RESUMED = re.compile(r"resuming from (\S+) \(env step (\d+)\)")
_STEP = re.compile(r"^\.?model-(\d+)\.")


def complete_steps(ckpt_dir: str) -> list[int]:
    """Steps of the complete checkpoints in `ckpt_dir`: a state file whose manifest's files
    all exist with the recorded size and CRC-32."""
    out = []
    if not os.path.isdir(ckpt_dir):
        return out
    for name in os.listdir(ckpt_dir):
        m = re.fullmatch(r"model-(\d+)\.state\.json", name)
        if m is None:
            continue
        try:
            with open(os.path.join(ckpt_dir, name)) as f:
                manifest = json.load(f)["checkpoint_files"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        ok = bool(manifest)
        for file, meta in manifest.items():
            path = os.path.join(ckpt_dir, file)
            if not os.path.exists(path) or os.path.getsize(path) != meta["size"]:
                ok = False
                break
            with open(path, "rb") as f:
                if zlib.crc32(f.read()) != meta["crc32"]:
                    ok = False
                    break
        if ok:
            out.append(int(m.group(1)))
    return sorted(out)


def started_steps(ckpt_dir: str) -> list[int]:
    """Steps of every save that wrote anything (temporary files included)."""
    if not os.path.isdir(ckpt_dir):
        return []
    return sorted({int(m.group(1)) for name in os.listdir(ckpt_dir)
                   if (m := _STEP.match(name))})


def metrics_steps(logdir: str) -> tuple[list[int], int]:
    """(steps of the valid rows of metrics.jsonl, count of torn rows)."""
    steps, torn = [], 0
    try:
        with open(os.path.join(logdir, "metrics.jsonl")) as f:
            for line in f:
                try:
                    steps.append(int(json.loads(line)["step"]))
                except (ValueError, KeyError, TypeError):
                    torn += 1
    except FileNotFoundError:
        pass
    return steps, torn


class _Run:
    """One `actorflow train` process whose stderr is read by a thread."""

    def __init__(self, args: list[str]) -> None:
        env = dict(os.environ)
        env.pop("RAY_ADDRESS", None)
        # Its own session, so that its Ray processes can be ended with it after the kill.
        self.proc = subprocess.Popen([sys.executable, "-m", "actorflow.agents.cli", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=env, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, patterns: tuple[str, ...], timeout: float) -> str | None:
        """The first stderr line containing one of `patterns`; None when the process ended
        or `timeout` passed first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ended = self.proc.poll() is not None
            if ended:
                self._reader.join(5)
            for line in list(self.lines):
                if any(p in line for p in patterns):
                    return line
            if ended:
                return None
            time.sleep(0.02)
        return None

    def kill(self) -> None:
        """SIGKILL to the trainer, then to what is left of its session (Ray's processes)."""
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        time.sleep(0.2)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._reader.join(5)


def _wait_for_a_save(ckpt_dir: str, run: _Run, timeout: float) -> None:
    """Returns as soon as a save has written some file but not yet its state file (or after
    `timeout`, or when the process ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.proc.poll() is None:
        try:
            names = os.listdir(ckpt_dir)
        except FileNotFoundError:
            names = []
        started = {int(m.group(1)) for n in names if (m := _STEP.match(n))}
        stated = {int(n.split("-")[1].split(".")[0]) for n in names
                  if re.fullmatch(r"model-\d+\.state\.json", n)}
        if started and max(started) > max(stated, default=-1):
            return
        time.sleep(0.0005)


def run_cycles(agent: str, cycles: int, rng: random.Random, workdir: str,
               startup_timeout: float = 180.0, at_save: float = 0.5) -> dict:
    """`cycles` kill/resume cycles of `agent` in `workdir`/`agent` (each kill followed by a
    checked resume); the figures as a dict. A fraction `at_save` of the kills, after their
    random delay, waits for the next save to be under way and lands inside it."""
    flags, window = SETTINGS[agent]
    logdir = os.path.join(workdir, agent)
    ckpt_dir = os.path.join(logdir, "checkpoints")
    base = ["train", agent, "--steps", "100000000", "--seed", "0", "--logdir", logdir, *flags]
    fig = {"cycles": cycles, "resumes_checked": 0, "resumed_newest_complete": 0,
           "started_afresh": 0, "failed": 0, "wrong_checkpoint": 0, "lost_more_than_one_save": 0,
           "metrics_out_of_order": 0, "torn_metrics_rows": 0, "kills_aimed_at_a_save": 0,
           "kills_inside_a_save": 0,
           "skip_warnings": 0,
           "lost_steps": [], "lost_rows": [], "problems": []}
    expected = None
    for cycle in range(cycles + 1):  # the last process only shows where it resumes
        run = _Run(base + (["--resume"] if cycle else []))
        if cycle:
            fig["resumes_checked"] += 1
            line = run.wait_for(("resuming from", "no complete checkpoint"), startup_timeout)
            fig["skip_warnings"] += sum("warning: skipping" in ln for ln in run.lines)
            if line is None:
                fig["failed"] += 1
                fig["problems"].append(f"cycle {cycle}: exit {run.proc.poll()}: "
                                       + " | ".join(run.lines[-3:]))
                run.kill()
                continue
            m = _RESUMED.search(line)
            resumed = int(m.group(2)) if m else None
            if resumed == expected:
                fig["resumed_newest_complete"] += 1
            elif resumed is None:
                fig["started_afresh"] += 1
                fig["problems"].append(f"cycle {cycle}: started afresh, the newest complete "
                                       f"checkpoint is model-{expected}")
            else:
                fig["wrong_checkpoint"] += 1
                fig["problems"].append(f"cycle {cycle}: resumed model-{resumed}, the newest "
                                       f"complete is model-{expected}")
            if cycle == cycles:
                run.kill()
                break
        # Mostly kills while training; one in four counts from the resume notice, so some
        # land during the restore and the start of the rollouts.
        if not (cycle and rng.random() < 0.25) and \
                run.wait_for((f"{agent}: step",), startup_timeout) is None:
            fig["failed"] += 1
            fig["problems"].append(f"cycle {cycle}: no progress line, exit "
                                   f"{run.proc.poll()}: " + " | ".join(run.lines[-3:]))
            run.kill()
            continue
        time.sleep(rng.uniform(0.0, window))
        if rng.random() < at_save:  # wait for a save to be under way, then kill inside it
            fig["kills_aimed_at_a_save"] += 1
            _wait_for_a_save(ckpt_dir, run, timeout=2 * window)
        run.kill()
        # What the next resume must find, judged from the files alone.
        complete, started = complete_steps(ckpt_dir), started_steps(ckpt_dir)
        expected = complete[-1] if complete else None
        if started and (expected is None or started[-1] > expected):
            fig["kills_inside_a_save"] += 1
        if len(started) >= 2 and (expected is None or expected < started[-2]):
            fig["lost_more_than_one_save"] += 1
            fig["problems"].append(f"cycle {cycle}: saves {started[-2:]} started, newest "
                                   f"complete {expected}")
        steps, torn = metrics_steps(logdir)
        fig["torn_metrics_rows"] += torn
        if any(b <= a for a, b in zip(steps, steps[1:])):
            fig["metrics_out_of_order"] += 1
            fig["problems"].append(f"cycle {cycle}: metrics.jsonl steps repeat or go back")
        resumed_at = expected or 0
        if steps:
            fig["lost_steps"].append(max(0, steps[-1] - resumed_at))
            fig["lost_rows"].append(sum(s > resumed_at for s in steps))
            every = CHECKPOINT_EVERY.get(agent)
            if every is not None and expected is not None and fig["lost_rows"][-1] > every:
                fig["lost_more_than_one_save"] += 1
                fig["problems"].append(f"cycle {cycle}: {fig['lost_rows'][-1]} updates "
                                       f"after model-{expected} lost")
    lost, rows = fig.pop("lost_steps"), fig.pop("lost_rows")
    fig.update(lost_steps_mean=round(sum(lost) / max(1, len(lost)), 1),
               lost_steps_max=max(lost, default=0), lost_rows_max=max(rows, default=0),
               checkpoint_interval=" ".join(flags[flags.index("--checkpoint-every"):][:2]))
    fig["ok"] = fig["resumed_newest_complete"] == fig["resumes_checked"] and not any(
        fig[k] for k in ("started_afresh", "failed", "wrong_checkpoint",
                         "lost_more_than_one_save", "metrics_out_of_order"))
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", nargs="+", default=["dqn", "pg", "ppo"], choices=SETTINGS)
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    ap.add_argument("--at-save", type=float, default=0.5,
                    help="fraction of kills aimed inside a save (the rest: anywhere)")
    ap.add_argument("--keep", default=None, help="run directories go here (default: a "
                    "temporary directory, deleted)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kill_resume_") as tmp:
        workdir = args.keep or tmp
        agents = {}
        for agent in args.agents:
            agents[agent] = run_cycles(agent, args.cycles, rng, workdir,
                                       at_save=args.at_save)
            print(agent, agents[agent], file=sys.stderr, flush=True)
    emit({"benchmark": "kill_resume", "cycles_per_agent": args.cycles, "seed": args.seed,
          "at_save": args.at_save,
          "ok": all(a["ok"] for a in agents.values()), "agents": agents,
          "wall_s": round(time.perf_counter() - t0, 1)})


if __name__ == "__main__":
    main()
