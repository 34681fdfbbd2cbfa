"""What a training run gives its user: a live progress line, TensorBoard scalars,
`metrics.jsonl`, `summary.json`, a reward-curve PNG, checkpoints to resume from, and one
JSON line with the results at the end.

    log = RunLogger("runs/dqn", "dqn", config, total_steps=50_000)
    log.episode(returns)                 # returns of the episodes that just ended
    log.log(step, {"loss": 0.12, "epsilon": 0.3})
    log.close({"env_steps": ..., ...})   # summary.json, returns.png, the final JSON line
"""
from __future__ import annotations

import dataclasses
import json
import os
import struct
import sys
import time
import zlib
from collections import deque

import numpy as np

__all__ = ["RunLogger", "Checkpoint", "write_curve_png", "window_means"]


def window_means(returns, window: int = 100) -> np.ndarray:
    """Means of every `window` consecutive returns (entry i: returns[i:i + window]); empty
    when there are fewer than `window`. Plain means, so 100 returns of 10 average exactly 10."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < window:
        return r[:0]
    return np.lib.stride_tricks.sliding_window_view(r, window).mean(axis=1)


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


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
        self._t0 = time.perf_counter()
        self._start_step = 0
        self.step = 0
        self._writer = None
        self._jsonl = None
        if logdir:
            os.makedirs(logdir, exist_ok=True)
            if config is not None and dataclasses.is_dataclass(config):
                with open(os.path.join(logdir, "config.json"), "w") as f:
                    json.dump(dataclasses.asdict(config), f, indent=2, default=str)
            self._jsonl = open(os.path.join(logdir, "metrics.jsonl"), "a")

    # -- recording -----------------------------------------------------------------------
    def resume(self, step: int, returns, return_steps) -> None:
        """Continues a run: its step count and the returns recorded so far."""
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

    def log(self, step: int, metrics: dict | None = None) -> None:
        """One iteration: the progress line, TensorBoard scalars and a metrics.jsonl line."""
        self.step = int(step)
        row = {"step": self.step, "episodes": self.episodes,
               "mean_return": self.mean_return(), "steps_per_s": self.steps_per_s(),
               "wall_s": time.perf_counter() - self._t0}
        row.update({k: _jsonable(v) for k, v in (metrics or {}).items()})
        if self._jsonl is not None:
            self._jsonl.write(json.dumps(row) + "\n")
            self._jsonl.flush()
            self._scalars(row)
        if not self.quiet:
            total = f"/{self.total_steps}" if self.total_steps else ""
            line = (f"{self.agent}: step {self.step}{total}  episodes {self.episodes}  "
                    f"{row['steps_per_s']:,.0f} steps/s  mean return {row['mean_return']:.1f}")
            end = "\r" if self.stream.isatty() else "\n"
            self.stream.write(line + end)
            self.stream.flush()

    def _scalars(self, row: dict) -> None:
        import actorflow as tf
        if self._writer is None:
            self._writer = tf.summary.FileWriter(self.logdir)
        values = [tf.Summary.Value(tag=k, simple_value=float(v)) for k, v in row.items()
                  if k != "step" and isinstance(v, (int, float)) and np.isfinite(v)]
        self._writer.add_summary(tf.Summary(value=values), self.step)

    # -- the end -------------------------------------------------------------------------
    def close(self, result: dict) -> dict:
        """Writes summary.json and returns.png, prints `result` as the last JSON line."""
        result = {k: _jsonable(v) for k, v in result.items()}
        if not self.quiet and self.stream.isatty():
            self.stream.write("\n")
        if self.logdir:
            with open(os.path.join(self.logdir, "summary.json"), "w") as f:
                json.dump(result, f, indent=2)
            if self.returns:
                write_curve_png(os.path.join(self.logdir, "returns.png"),
                                np.asarray(self.return_steps), np.asarray(self.returns))
        if self._writer is not None:
            self._writer.close()
        if self._jsonl is not None:
            self._jsonl.close()
        print(json.dumps(result), flush=True)
        return result


class Checkpoint:
    """Saves and finds a run's checkpoints: the session's variables through `Saver` plus a
    JSON of the loop's state (step, episodes, returns, RNG) — what `--resume` continues from.
    """

    def __init__(self, logdir: str, max_to_keep: int = 3) -> None:
        self.dir = os.path.join(logdir, "checkpoints")
        self.max_to_keep = max_to_keep
        self._saver = None

    def save(self, sess, saver, step: int, state: dict) -> str:
        """Writes variables (via `saver`) and `state` for env step `step`; returns the prefix."""
        os.makedirs(self.dir, exist_ok=True)
        prefix = saver.save(sess, os.path.join(self.dir, "model"), global_step=step,
                            write_meta_graph=False)
        tmp = prefix + ".state.json.tmp"
        with open(tmp, "w") as f:
            json.dump({k: _jsonable(v) for k, v in state.items()}, f)
        os.replace(tmp, prefix + ".state.json")
        return prefix

    def restore(self, sess, saver, agent: str) -> dict | None:
        """Restores the newest checkpoint into `sess` and returns its loop state (None when
        there is none).

        Raises:
            ValueError: the checkpoint belongs to another agent (one line, naming both).
        """
        found = self.latest()
        if found is None:
            return None
        prefix, state = found
        if state.get("agent") != agent:
            raise ValueError(f"checkpoint {prefix} is of agent {state.get('agent')!r}, not "
                             f"{agent!r}")
        saver.restore(sess, prefix)
        return state

    def latest(self) -> tuple[str, dict] | None:
        """(checkpoint prefix, loop state) of the newest checkpoint, or None."""
        import actorflow as tf
        if not os.path.isdir(self.dir):
            return None
        prefix = tf.train.latest_checkpoint(self.dir)
        if prefix is None or not os.path.exists(prefix + ".state.json"):
            return None
        with open(prefix + ".state.json") as f:
            return prefix, json.load(f)


# -- a dependency-free PNG line plot ---------------------------------------------------------
def write_curve_png(path: str, steps: np.ndarray, returns: np.ndarray, width: int = 640,
                    height: int = 360, window: int = 20) -> None:
    """Writes a reward curve: each episode's return (grey) and its running mean (blue)
    against env steps, on white with axes, as an RGB PNG."""
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 40, width - 10, 10, height - 30
    img[top:bottom + 1, left] = 0
    img[bottom, left:right + 1] = 0
    if len(returns) == 0:
        _save_png(path, img)
        return
    x = steps.astype(np.float64)
    lo, hi = float(min(0.0, returns.min())), float(max(returns.max(), 1e-9))
    xmax = max(float(x.max()), 1.0)

    def to_px(xs, ys):
        px = left + (xs / xmax) * (right - left)
        py = bottom - (ys - lo) / max(hi - lo, 1e-9) * (bottom - top)
        return px, py

    k = max(1, min(window, len(returns)))
    mean = np.convolve(returns, np.ones(k) / k, mode="full")[:len(returns)]
    mean[:k] = np.cumsum(returns[:k]) / np.arange(1, k + 1)
    for ys, color in ((returns, (190, 190, 190)), (mean, (31, 119, 180))):
        px, py = to_px(x, ys.astype(np.float64))
        _polyline(img, px, py, color)
    for i in range(5):  # tick marks on the y axis
        y = int(round(bottom - i * (bottom - top) / 4))
        img[y, left - 4:left] = 0
    _save_png(path, img)


def _polyline(img, px, py, color) -> None:
    h, w, _ = img.shape
    if len(px) == 1:
        px, py = np.repeat(px, 2), np.repeat(py, 2)
    for x0, y0, x1, y1 in zip(px[:-1], py[:-1], px[1:], py[1:]):
        n = int(max(abs(x1 - x0), abs(y1 - y0), 1)) + 1
        xs = np.clip(np.rint(np.linspace(x0, x1, n)).astype(int), 0, w - 1)
        ys = np.clip(np.rint(np.linspace(y0, y1, n)).astype(int), 0, h - 1)
        img[ys, xs] = color


def _save_png(path: str, img: np.ndarray) -> None:
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(png)
    os.replace(tmp, path)
