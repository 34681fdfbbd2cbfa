"""What a training run gives its user: a live progress line, TensorBoard scalars,
`metrics.jsonl`, `summary.json`, a reward-curve PNG, checkpoints to resume from, and one
JSON line with the results at the end.

    log = RunLogger("runs/dqn", "dqn", config, total_steps=50_000)
    log.episode(returns)                 # returns of the episodes that just ended
    log.log(step, {"loss": 0.12, "epsilon": 0.3})
    log.close({"env_steps": ..., ...})   # summary.json, returns.png, the final JSON line

A checkpoint is complete only when all its files are written: its `<prefix>.state.json`
(the loop state plus a manifest of the checkpoint's other files with their sizes and
CRC-32s) is written after them, and the `checkpoint` pointer file moves after that.
`Checkpoint.latest` walks checkpoints newest first and skips (naming them) incomplete or
damaged ones, so a run killed at any moment resumes from its newest complete checkpoint.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import math
import os
import re
import shutil
import sys
import time
import zlib
from collections import deque
from typing import Callable, Mapping

import numpy as np

from actorflow.agents.plot import write_curve_png  # the reward curve, returns.png

__all__ = ["RunLogger", "Checkpoint", "NonFiniteLossError", "check_finite", "run_in",
           "remove_run", "write_curve_png", "window_means"]


def window_means(returns, window: int = 100) -> np.ndarray:
    """Means of every `window` consecutive returns (entry i: returns[i:i + window]); empty
    when there are fewer than `window`. Plain means, so 100 returns of 10 average exactly 10."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < window:
        return r[:0]
    return np.lib.stride_tricks.sliding_window_view(r, window).mean(axis=1)


def _jsonable(value):
    """`value` as plain JSON: NumPy scalars and arrays become Python ones, and NaN or ±inf
    become None (null), since bare NaN is not JSON."""
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class NonFiniteLossError(FloatingPointError):
    """Training diverged: a loss (or, at a checkpoint, a variable) is NaN or infinite. The
    loop raises it before saving, so the run's newest checkpoint keeps finite weights."""


def check_finite(step: int, values: Mapping[str, float]) -> None:
    """Raises `NonFiniteLossError` naming env step `step` and the first non-finite entry of
    `values` ({"loss": 0.3, ...})."""
    for name, value in values.items():
        if not np.isfinite(value):
            raise NonFiniteLossError(
                f"{name} is {float(value)} at env step {step}: training diverged (try a lower "
                "learning rate); the newest checkpoint, if any, predates it")


class RunLogger:
    """Progress, metrics and results of one run.

    Args:
        logdir: where files go (None: progress line and final JSON only).
        agent: the agent's name ("dqn").
        config: the agent's config dataclass (written to config.json).
        total_steps: the run's env-step budget (for the progress line).
        quiet: no progress line.
        window: episodes averaged into the "mean return" of the progress line.
    """

    episodic = True
    """Whether the run has episodes: metrics rows carry ``episodes`` and ``mean_return``
    only then (a supervised run has neither)."""

    progress_every_s = 30.0
    """Loops log (`due`) at least this often in wall-clock seconds, whatever their step
    interval, so a slow run still shows it is alive."""

    def __init__(self, logdir: str | None, agent: str, config=None, total_steps: int = 0,
                 quiet: bool = False, window: int = 100, stream=None) -> None:
        self.logdir = logdir
        self.agent = agent
        self.total_steps = total_steps
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.returns: list[float] = []
        self.return_steps: list[int] = []
        self._recent = deque(maxlen=window)
        self._t0 = self._last_line = time.perf_counter()
        self._start_step = 0
        self.step = 0
        self._writer = None
        self._jsonl = None
        if logdir:
            os.makedirs(logdir, exist_ok=True)
            for stale in glob.glob(os.path.join(glob.escape(logdir), "*.tmp")):
                os.remove(stale)  # left by a kill during a rewrite of metrics.jsonl or the PNG
            if config is not None and dataclasses.is_dataclass(config):
                with open(os.path.join(logdir, "config.json"), "w") as f:
                    json.dump(dataclasses.asdict(config), f, indent=2, default=str)
            self._jsonl = open(os.path.join(logdir, "metrics.jsonl"), "a")

    # -- recording -----------------------------------------------------------------------
    def resume(self, step: int, returns, return_steps) -> None:
        """Continues a run: its step count and the returns recorded so far. Rows of
        metrics.jsonl past `step` (progress after the checkpoint, lost with the process) and
        a torn last row are dropped, so the resumed run does not log their steps twice."""
        if self._jsonl is not None:
            self._rewind_jsonl(int(step))
        self.step = self._start_step = int(step)
        self.returns = [float(r) for r in returns]
        self.return_steps = [int(s) for s in return_steps]
        self._recent.extend(self.returns)

    def episode(self, returns, step: int | None = None) -> None:
        """Records the returns of episodes that just ended (at env step `step`)."""
        at = self.step if step is None else int(step)
        for r in np.atleast_1d(np.asarray(returns, dtype=np.float64)):
            self.returns.append(float(r))
            self.return_steps.append(at)
            self._recent.append(float(r))

    @property
    def episodes(self) -> int:
        return len(self.returns)

    def mean_return(self) -> float:
        return float(np.mean(self._recent)) if self._recent else float("nan")

    def steps_per_s(self) -> float:
        return (self.step - self._start_step) / max(1e-9, time.perf_counter() - self._t0)

    def _rewind_jsonl(self, step: int) -> None:
        path = self._jsonl.name
        self._jsonl.close()
        kept = []
        with open(path) as f:
            for line in f:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # a row torn by a kill
                    continue
                if isinstance(row, dict) and isinstance(row.get("step"), int) \
                        and row["step"] <= step:
                    kept.append(line if line.endswith("\n") else line + "\n")
        with open(path + ".tmp", "w") as f:
            f.writelines(kept)
        os.replace(path + ".tmp", path)
        self._jsonl = open(path, "a")

    def due(self) -> bool:
        """Whether `progress_every_s` wall-clock seconds have passed since the last `log`."""
        return time.perf_counter() - self._last_line >= self.progress_every_s

    def log(self, step: int, metrics: dict | None = None) -> None:
        """One iteration: the progress line, TensorBoard scalars and a metrics.jsonl line
        (non-finite values are written as null)."""
        self.step = int(step)
        self._last_line = time.perf_counter()
        row = {"step": self.step}
        if self.episodic:
            row.update(episodes=self.episodes, mean_return=self.mean_return())
        row.update(steps_per_s=self.steps_per_s(), wall_s=self._last_line - self._t0)
        row.update(metrics or {})
        row = _jsonable(row)
        if self._jsonl is not None:
            self._jsonl.write(json.dumps(row, allow_nan=False) + "\n")
            self._jsonl.flush()
            self._scalars(row)
        if not self.quiet:
            total = f"/{self.total_steps}" if self.total_steps else ""
            line = (f"{self.agent}: step {self.step}{total}  episodes {self.episodes}  "
                    f"{row['steps_per_s']:,.0f} steps/s  mean return "
                    f"{self.mean_return():.1f}")
            end = "\r" if self.stream.isatty() else "\n"
            self.stream.write(line + end)
            self.stream.flush()

    def _scalars(self, row: dict) -> None:
        import actorflow as tf
        if self._writer is None:
            self._writer = tf.summary.FileWriter(self.logdir)
        values = [tf.Summary.Value(tag=k, simple_value=float(v)) for k, v in row.items()
                  if k != "step" and isinstance(v, (int, float))]  # None: non-finite
        self._writer.add_summary(tf.Summary(value=values), self.step)

    # -- the end -------------------------------------------------------------------------
    def close(self, result: dict) -> dict:
        """Writes summary.json and returns.png, prints `result` as the last JSON line."""
        result = _jsonable(result)
        if not self.quiet and self.stream.isatty():
            self.stream.write("\n")
        if self.logdir:
            with open(os.path.join(self.logdir, "summary.json"), "w") as f:
                json.dump(result, f, indent=2, allow_nan=False)
            if self.returns:
                write_curve_png(os.path.join(self.logdir, "returns.png"),
                                np.asarray(self.return_steps), np.asarray(self.returns))
        if self._writer is not None:
            self._writer.close()
        if self._jsonl is not None:
            self._jsonl.close()
        print(json.dumps(result, allow_nan=False), flush=True)
        return result


_STATE = ".state.json"
_FILES = "checkpoint_files"
"""The key of the manifest in a checkpoint's state JSON: {file name: {"size", "crc32"}}."""
_NAME = re.compile(r"^model-(\d+)\.")


def _crc32(path: str) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def _is_temp(name: str) -> bool:
    """A file of an interrupted write: the Saver's `.<name>.<random>.tmp`, our `<name>.tmp`,
    NumPy's `<name>.tmp.npz`."""
    return name.endswith(".tmp") or name.endswith(".tmp.npz")


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _write_json(path: str, obj) -> None:
    """Writes `obj` to `path` through a temporary file (flushed, fsynced, renamed), so a
    reader sees the old file or the whole new one; permissions as the umask gives."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, allow_nan=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Checkpoint:
    """Saves and finds a run's checkpoints: what `--resume` continues from.

    Checkpoint `<logdir>/checkpoints/model-<step>` is, in the order they are written: the
    session's variables (the Saver's `.index` and `.data-*` files), the agent's own files
    (DQN: `.replay.npz`), then `.state.json`: the loop's state (step, episodes, returns, RNG)
    with a manifest of the other files (size and CRC-32 of each). A checkpoint is complete
    when its state file is there and every file matches the manifest. The `checkpoint`
    pointer file (TF's `latest_checkpoint`) moves only after that.

    Args:
        logdir: the run's directory.
        max_to_keep: complete checkpoints kept; older ones are deleted.
        stream: where the resume notice and warnings about skipped checkpoints go
            (default: sys.stderr).
    """

    def __init__(self, logdir: str, max_to_keep: int = 3, stream=None) -> None:
        if max_to_keep < 1:
            raise ValueError(f"Checkpoint: max_to_keep must be >= 1, got {max_to_keep}")
        self.dir = os.path.join(logdir, "checkpoints")
        self.max_to_keep = max_to_keep
        self.stream = stream
        self._saved: str | None = None  # the prefix this object last saved or restored

    def _say(self, message: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write(f"actorflow: {message}\n")
        stream.flush()

    # -- writing -------------------------------------------------------------------------
    def save(self, sess, saver, step: int, state: dict,
             files: Mapping[str, Callable[[str], None]] | None = None) -> str:
        """Writes checkpoint `model-<step>` and returns its prefix: the variables (via
        `saver`), then each of `files` ({suffix: write(path)}, e.g. {"replay.npz": ...}
        writes `<prefix>.replay.npz`), then `state` with the manifest, then the pointer; then
        deletes complete checkpoints beyond `max_to_keep`, oldest first.

        It first deletes what an interrupted save left: temporary files, incomplete
        checkpoints and checkpoints past `step` (the lost future of a resumed run). A step
        this object has just saved or restored is not written again (a loop's state at an
        env step is the same: its final save often follows a periodic one).

        Raises:
            NonFiniteLossError: a variable is NaN or infinite (nothing is written).
        """
        import actorflow as tf
        step = int(step)
        self._check_variables(sess, step)
        os.makedirs(self.dir, exist_ok=True)
        base = f"model-{step}"
        prefix = os.path.join(self.dir, base)
        if prefix == self._saved and os.path.exists(prefix + _STATE):
            return prefix
        _remove(prefix + _STATE)  # a step saved again is incomplete until its new manifest
        self._clean(newest=step)
        saver.save(sess, prefix, write_meta_graph=False, write_state=False)
        for suffix, write in (files or {}).items():
            write(f"{prefix}.{suffix}")
        manifest = {}
        for name in sorted(os.listdir(self.dir)):
            if name.startswith(base + ".") and not _is_temp(name) and name != base + _STATE:
                path = os.path.join(self.dir, name)
                manifest[name] = {"size": os.path.getsize(path), "crc32": _crc32(path)}
        _write_json(prefix + _STATE, {**_jsonable(dict(state)), _FILES: manifest})
        kept = [p for _, p in self._checkpoints() if os.path.exists(p + _STATE)]
        for old in kept[self.max_to_keep:]:
            self._delete(old)
        tf.train.update_checkpoint_state(self.dir, prefix, kept[:self.max_to_keep][::-1])
        self._saved = prefix
        return prefix

    def _check_variables(self, sess, step: int) -> None:
        """Refuses to checkpoint a diverged run: every float variable must be finite."""
        import actorflow as tf
        variables = sess.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
        values = sess.run(variables) if variables else []
        for v, value in zip(variables, values):
            value = np.asarray(value)
            if value.dtype.kind == "f" and not np.isfinite(value).all():
                raise NonFiniteLossError(
                    f"variable {v.op.name} is not finite at env step {step}: training "
                    "diverged (try a lower learning rate); it was not checkpointed")

    def _checkpoints(self) -> list[tuple[int, str]]:
        """(step, prefix) of every checkpoint with a file in the directory, newest first."""
        if not os.path.isdir(self.dir):
            return []
        steps = {int(m.group(1)) for name in os.listdir(self.dir)
                 if not _is_temp(name) and (m := _NAME.match(name))}
        return [(s, os.path.join(self.dir, f"model-{s}")) for s in sorted(steps, reverse=True)]

    def _delete(self, prefix: str) -> None:
        """Removes a checkpoint's files, its state file first (it is then incomplete)."""
        base = os.path.basename(prefix)
        _remove(prefix + _STATE)
        for name in os.listdir(self.dir):
            if name.startswith(base + "."):
                _remove(os.path.join(self.dir, name))

    def _clean(self, newest: int | None = None) -> None:
        """Deletes temporary files, incomplete checkpoints (no state file) and, given
        `newest`, every checkpoint past that step."""
        for name in os.listdir(self.dir):
            if _is_temp(name):
                _remove(os.path.join(self.dir, name))
        for step, prefix in self._checkpoints():
            if (newest is not None and step > newest) or not os.path.exists(prefix + _STATE):
                self._delete(prefix)

    # -- reading -------------------------------------------------------------------------
    def restore(self, sess, saver, agent: str,
                files: Mapping[str, Callable[[str], None]] | None = None) -> dict | None:
        """Restores the newest complete checkpoint into `sess`, calls each of `files`
        ({suffix: load(path)}) on its file, says which checkpoint it resumes from, and
        returns its loop state; None (after saying so) when there is none. Checkpoints past
        the one restored, which `latest` skipped, are deleted.

        Raises:
            ValueError: the checkpoint belongs to another agent (one line, naming both).
            DataLossError: checkpoints were saved but none of them verifies.
        """
        found = self.latest(require=tuple(files or ()))
        if found is None:
            damaged = [os.path.basename(p) for _, p in self._checkpoints()
                       if os.path.exists(p + _STATE)]
            if damaged:  # finished saves that no longer verify: never start afresh on them
                from actorflow import errors
                raise errors.DataLossError(
                    None, None, f"no usable checkpoint in {self.dir}: "
                    f"{', '.join(damaged)} damaged (use --force to start afresh)")
            if os.path.isdir(self.dir):
                self._clean()  # only interrupted saves: nothing was ever complete
            self._say(f"no complete checkpoint in {self.dir}: starting from step 0")
            return None
        prefix, state = found
        if state.get("agent") != agent:
            raise ValueError(f"checkpoint {prefix} is of agent {state.get('agent')!r}, not "
                             f"{agent!r}")
        saver.restore(sess, prefix)
        for suffix, load in (files or {}).items():
            load(f"{prefix}.{suffix}")
        self._clean(newest=int(os.path.basename(prefix).rpartition("-")[2]))
        self._saved = prefix
        self._say(f"resuming from {prefix} (env step {state.get('env_steps')})")
        return state

    def latest(self, require: tuple[str, ...] = (), warn: bool = True
               ) -> tuple[str, dict] | None:
        """(prefix, loop state) of the newest complete checkpoint, or None. Newer ones that
        are incomplete or damaged (a file missing, of the wrong size or failing its CRC-32),
        or lack a file of `require` (suffixes such as "replay.npz"), are skipped with a
        warning naming them (unless not `warn`)."""
        for _, prefix in self._checkpoints():
            state, problem = self._verify(prefix, require)
            if problem is None:
                return prefix, state
            if warn:
                self._say(f"warning: skipping checkpoint {prefix}: {problem}")
        return None

    @staticmethod
    def _verify(prefix: str, require: tuple[str, ...]) -> tuple[dict | None, str | None]:
        """(state, None) for a complete checkpoint, else (None, what is wrong)."""
        if not os.path.exists(prefix + _STATE):
            return None, f"incomplete (no {os.path.basename(prefix)}{_STATE}; its save " \
                         "was interrupted)"
        try:
            with open(prefix + _STATE) as f:
                state = json.load(f)
        except (OSError, ValueError) as e:
            return None, f"damaged {os.path.basename(prefix)}{_STATE}: {e}"
        if not isinstance(state, dict):
            return None, f"damaged {os.path.basename(prefix)}{_STATE}: not a JSON object"
        manifest = state.pop(_FILES, None)
        if manifest is None:  # written before checkpoints had a manifest
            manifest = {}
            if not os.path.exists(prefix + ".index"):
                return None, "incomplete (no .index file)"
        directory = os.path.dirname(prefix)
        for name, meta in manifest.items():
            path = os.path.join(directory, name)
            if not os.path.exists(path):
                return None, f"incomplete ({name} is missing)"
            size = os.path.getsize(path)
            if size != meta.get("size"):
                return None, f"damaged ({name} has {size} bytes, the manifest says " \
                             f"{meta.get('size')})"
            if _crc32(path) != meta.get("crc32"):
                return None, f"damaged ({name} fails its CRC-32 check)"
        for suffix in require:
            if not os.path.exists(f"{prefix}.{suffix}"):
                return None, f"it has no {suffix} file"
        return state, None


RUN_FILES = ("config.json", "metrics.jsonl", "summary.json", "returns.png", "checkpoints")
"""What a run writes into its logdir, besides TensorBoard event files."""


def run_in(logdir: str) -> str | None:
    """The agent of the run whose files are in `logdir` ("unknown" when no file names it),
    or None when it holds none."""
    if not any(os.path.exists(os.path.join(logdir, name)) for name in RUN_FILES) and \
            not glob.glob(os.path.join(glob.escape(logdir), "events.out.tfevents.*")):
        return None
    found = Checkpoint(logdir).latest(warn=False)
    if found is not None and isinstance(found[1].get("agent"), str):
        return found[1]["agent"]
    try:
        with open(os.path.join(logdir, "summary.json")) as f:
            agent = json.load(f).get("agent")
        if isinstance(agent, str):
            return agent
    except (OSError, ValueError, AttributeError):
        pass
    return "unknown"


def remove_run(logdir: str) -> None:
    """Deletes the files a run writes into `logdir` (`RUN_FILES`, TensorBoard event files);
    other files stay."""
    for name in RUN_FILES:
        path = os.path.join(logdir, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            _remove(path)
    for path in glob.glob(os.path.join(glob.escape(logdir), "events.out.tfevents.*")):
        _remove(path)
