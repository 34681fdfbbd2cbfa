"""A run's files: complete checkpoints only, resume from the newest complete one, NaN stops
the run, metrics.jsonl stays JSON, temp files and permissions, progress in wall time."""
from __future__ import annotations

import glob
import io
import json
import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import actorflow as tf
from actorflow.agents.dqn import DQN, DQNConfig
from actorflow.agents.pg import PGConfig, PolicyGradient
from actorflow.agents.run import Checkpoint, NonFiniteLossError, RunLogger

ROOT = Path(__file__).resolve().parents[2]
SMALL_DQN = dict(hidden=(16,), batch_size=32, learning_starts=100, train_freq=32,
                 gradient_steps=2, buffer_size=2_000, log_interval=200, eval_episodes=1)


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    return subprocess.run([sys.executable, "-m", "actorflow.agents.cli", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


def _strict_rows(path) -> list[dict]:
    """metrics.jsonl as strict JSON (bare NaN or Infinity raise)."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    with open(path) as f:
        return [json.loads(line, parse_constant=refuse) for line in f]


class _Tiny:
    """A session with one variable and its Saver."""

    def __init__(self, value=1.0):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.w = tf.get_variable("w", initializer=tf.constant([value, 2.0]))
            self.saver = tf.train.Saver()
            init = tf.global_variables_initializer()
        self.sess = tf.Session(graph=self.graph)
        self.sess.run(init)

    def save(self, ckpt: Checkpoint, step: int, **kw) -> str:
        return ckpt.save(self.sess, self.saver, step, {"agent": "tiny", "env_steps": step}, **kw)


def _flip_first_data_byte(ckpt: Checkpoint, step: int) -> str:
    """Damages checkpoint `step`'s data file behind its manifest's back; returns its path."""
    data = glob.glob(os.path.join(ckpt.dir, f"model-{step}.data-*"))[0]
    raw = bytearray(Path(data).read_bytes())
    raw[0] ^= 0xFF
    Path(data).write_bytes(bytes(raw))
    return data


# -- 3: a checkpoint is complete only when all its files are written -----------------------
def test_an_interrupted_save_leaves_the_pointer_and_latest_on_the_previous_checkpoint(tmp_path):
    tiny, ckpt = _Tiny(), Checkpoint(str(tmp_path), stream=io.StringIO())
    tiny.save(ckpt, 10, files={"extra.bin": lambda p: Path(p).write_bytes(b"x" * 10)})

    def killed(path):  # a kill while the checkpoint's own file is written
        Path(path).write_bytes(b"partial")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        tiny.save(ckpt, 20, files={"extra.bin": killed})
    assert tf.train.latest_checkpoint(ckpt.dir).endswith("model-10")
    prefix, state = ckpt.latest()
    assert prefix.endswith("model-10") and state["env_steps"] == 10
    assert "skipping checkpoint" in ckpt.stream.getvalue() and "model-20" in \
        ckpt.stream.getvalue()


def test_a_damaged_newest_checkpoint_falls_back_with_a_warning_naming_it(tmp_path):
    tiny, out = _Tiny(), io.StringIO()
    ckpt = Checkpoint(str(tmp_path), stream=out)
    tiny.save(ckpt, 10)
    with tiny.graph.as_default():
        tiny.sess.run(tiny.w.assign([5.0, 6.0]))
    tiny.save(ckpt, 20)
    _flip_first_data_byte(ckpt, 20)
    fresh = _Tiny(value=0.0)
    state = Checkpoint(str(tmp_path), stream=out).restore(fresh.sess, fresh.saver, "tiny")
    assert state["env_steps"] == 10
    np.testing.assert_array_equal(fresh.sess.run(fresh.w), [1.0, 2.0])
    assert "warning: skipping checkpoint" in out.getvalue() and "model-20" in out.getvalue()
    assert "resuming from" in out.getvalue()


def test_saves_keep_max_to_keep_and_drop_stale_temp_files_and_abandoned_steps(tmp_path):
    tiny = _Tiny()
    ckpt = Checkpoint(str(tmp_path), max_to_keep=2, stream=io.StringIO())
    for step in (10, 20, 30):
        tiny.save(ckpt, step)
    stale = [".model-40.index.1a2b3c.tmp", "model-40.state.json.tmp",
             "model-40.replay.npz.tmp.npz", "model-50.index"]  # a kill's leftovers
    for name in stale:
        Path(ckpt.dir, name).write_bytes(b"junk")
    tiny.save(ckpt, 25)  # a run resumed from model-20 saves again: model-30 is abandoned
    names = sorted(os.listdir(ckpt.dir))
    assert not any(n in names for n in stale)
    assert {n.split(".")[0] for n in names if n != "checkpoint"} == {"model-20", "model-25"}
    assert tf.train.get_checkpoint_state(ckpt.dir).all_model_checkpoint_paths[-1].endswith(
        "model-25")


def test_checkpoint_files_get_the_umask_permissions_of_ordinary_files(tmp_path):
    old = os.umask(0o022)
    try:
        _Tiny().save(Checkpoint(str(tmp_path)), 10)
    finally:
        os.umask(old)
    modes = {n: stat.S_IMODE(os.stat(os.path.join(tmp_path, "checkpoints", n)).st_mode)
             for n in os.listdir(tmp_path / "checkpoints")}
    assert set(modes.values()) == {0o644}, modes


def _pg_run(logdir, total_steps=1_500, **kw):
    config = PGConfig(batch_episodes=5, total_steps=total_steps, checkpoint_every=1, seed=3,
                      eval_episodes=1, **kw)
    agent = PolicyGradient(config)
    return agent, agent.train(logdir=str(logdir), progress=False)


def test_pg_resume_after_a_kill_before_the_state_file_continues_the_previous_one(tmp_path):
    _, first = _pg_run(tmp_path)
    states = sorted(glob.glob(str(tmp_path / "checkpoints" / "*.state.json")),
                    key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))
    os.remove(states[-1])  # the newest checkpoint lost its state file: incomplete
    previous = json.loads(Path(states[-2]).read_text())["env_steps"]
    agent = PolicyGradient(PGConfig(batch_episodes=5, total_steps=previous + 1, seed=3,
                                    eval_episodes=1))
    result = agent.train(logdir=str(tmp_path), resume=True, progress=False)
    assert result["updates"] == first["updates"]  # one update after the previous checkpoint
    steps = [row["step"] for row in _strict_rows(tmp_path / "metrics.jsonl")]
    assert steps == sorted(set(steps))  # no row twice, none from a fresh start


@pytest.mark.slow
def test_dqn_resume_skips_a_checkpoint_without_its_replay_file(tmp_path):
    config = DQNConfig(**SMALL_DQN, total_steps=600, checkpoint_interval=200)
    DQN(config).train(logdir=str(tmp_path), progress=False)
    replays = sorted(glob.glob(str(tmp_path / "checkpoints" / "*.replay.npz")),
                     key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))
    os.remove(replays[-1])  # a kill before the replay was written
    older = int(replays[-2].rsplit("-", 1)[1].split(".")[0])
    agent = DQN(DQNConfig(**SMALL_DQN, total_steps=older + 32, checkpoint_interval=200))
    result = agent.train(logdir=str(tmp_path), resume=True, progress=False)
    assert result["env_steps"] == older + 32


def test_metrics_rows_past_the_resumed_step_and_a_torn_row_are_dropped(tmp_path):
    log = RunLogger(str(tmp_path), "pg", quiet=True)
    for step in (100, 200, 300):
        log.log(step, {"loss": 0.5})
    log._jsonl.write('{"step": 40')  # torn by a kill
    log._jsonl.close()
    log = RunLogger(str(tmp_path), "pg", quiet=True)
    log.resume(200, [], [])
    log.log(250)
    assert [r["step"] for r in _strict_rows(tmp_path / "metrics.jsonl")] == [100, 200, 250]


# -- 6: NaN goes noticed ------------------------------------------------------------------
def test_metrics_jsonl_writes_non_finite_values_as_null(tmp_path):
    log = RunLogger(str(tmp_path), "pg", quiet=True)
    log.log(10, {"loss": float("nan"), "q": np.float32("inf"), "ok": 1.5})  # no episodes yet
    row = _strict_rows(tmp_path / "metrics.jsonl")[0]
    assert row["loss"] is None and row["q"] is None and row["mean_return"] is None
    assert row["ok"] == 1.5


def test_pg_stops_at_the_first_non_finite_loss_and_keeps_finite_checkpoints(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"loss is nan at env step \d+") as err:
        _pg_run(tmp_path, total_steps=20_000, learning_rate=1e30)
    assert "\n" not in str(err.value)
    rows = _strict_rows(tmp_path / "metrics.jsonl")
    assert rows[-1]["loss"] is None and all(r["loss"] is not None for r in rows[:-1])
    states = glob.glob(str(tmp_path / "checkpoints" / "*.state.json"))
    assert states, "the finite update before the divergence is checkpointed"
    for prefix in (s[:-len(".state.json")] for s in states):
        reader = tf.train.NewCheckpointReader(prefix)
        for name in reader.get_variable_to_shape_map():
            assert np.isfinite(reader.get_tensor(name)).all(), (prefix, name)


@pytest.mark.slow
def test_dqn_stops_at_the_first_non_finite_loss(tmp_path):
    config = DQNConfig(**{**SMALL_DQN, "learning_rate": 1e30, "max_grad_norm": None},
                       total_steps=5_000, checkpoint_interval=100)
    with pytest.raises(NonFiniteLossError, match=r"at env step \d+"):
        DQN(config).train(logdir=str(tmp_path), progress=False)
    _strict_rows(tmp_path / "metrics.jsonl")


def test_a_checkpoint_of_non_finite_weights_is_refused(tmp_path):
    tiny = _Tiny(value=float("nan"))
    with pytest.raises(NonFiniteLossError, match="variable w is not finite at env step 7"):
        tiny.save(Checkpoint(str(tmp_path)), 7)
    assert not glob.glob(str(tmp_path / "checkpoints" / "model-7*"))


def test_cli_a_diverging_run_exits_1_with_one_line(tmp_path):
    run = tmp_path / "run"
    assert _cli("train", "pg", "--steps", "300", "--logdir", str(run)).returncode == 0
    config = json.loads((run / "config.json").read_text())
    config.update(learning_rate=1e30, batch_episodes=5)  # the saved config wins on --resume
    (run / "config.json").write_text(json.dumps(config))
    out = _cli("train", "pg", "--steps", "20000", "--logdir", str(run), "--resume")
    assert out.returncode == 1, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("actorflow: error: loss is nan at env step ")
    _strict_rows(run / "metrics.jsonl")


# -- 7: another run's logdir ----------------------------------------------------------------
def test_cli_refuses_another_runs_logdir_unless_force(tmp_path):
    run = tmp_path / "run"
    assert _cli("train", "pg", "--steps", "300", "--logdir", str(run)).returncode == 0
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    out = _cli("train", "ppo", "--steps", "256", "--logdir", str(run))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "already holds a run (agent pg)" in lines[0]
    assert "--force" in lines[0] and "--resume" in lines[0]
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
    out = _cli("train", "ppo", "--steps", "256", "--logdir", str(run), "--force")
    assert out.returncode == 0, out.stderr
    assert json.loads((run / "summary.json").read_text())["agent"] == "ppo"
    assert [r["step"] for r in _strict_rows(run / "metrics.jsonl")] == [256]
    states = glob.glob(str(run / "checkpoints" / "*.state.json"))
    assert states and all(json.loads(Path(s).read_text())["agent"] == "ppo" for s in states)


def test_cli_checkpoint_every_sets_the_interval(tmp_path):
    run = tmp_path / "run"
    out = _cli("train", "ppo", "--steps", "1024", "--logdir", str(run),
               "--checkpoint-every", "1")
    assert out.returncode == 0, out.stderr
    assert json.loads((run / "config.json").read_text())["checkpoint_every"] == 1
    assert len(glob.glob(str(run / "checkpoints" / "*.state.json"))) == 3  # max_to_keep


# -- 12: progress in wall-clock time -----------------------------------------------------------
def test_dqn_logs_in_wall_time_whatever_its_step_interval(tmp_path, monkeypatch):
    monkeypatch.setattr(RunLogger, "progress_every_s", 0.0)  # every round is due
    config = DQNConfig(**{**SMALL_DQN, "log_interval": 1_000_000}, total_steps=320)
    DQN(config).train(logdir=str(tmp_path), progress=False)
    rows = _strict_rows(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(32, 321, 32))


# -- the kill -9 / --resume cycles of benchmarks/kill_resume.py, small ---------------------------
@pytest.mark.slow
def test_kill_resume_cycles_of_pg(tmp_path):
    from benchmarks.kill_resume import run_cycles
    fig = run_cycles("pg", 3, random.Random(1), str(tmp_path))
    assert fig["ok"], fig
    assert fig["resumes_checked"] == 3


def test_resume_refuses_to_start_afresh_when_every_saved_checkpoint_is_damaged(tmp_path):
    tiny, out = _Tiny(), io.StringIO()
    ckpt = Checkpoint(str(tmp_path), stream=out)
    tiny.save(ckpt, 10)
    data = _flip_first_data_byte(ckpt, 10)
    fresh = _Tiny(value=0.0)
    with pytest.raises(tf.errors.DataLossError, match="no usable checkpoint.*model-10"):
        Checkpoint(str(tmp_path), stream=out).restore(fresh.sess, fresh.saver, "tiny")
    assert os.path.exists(data)  # the damaged checkpoint is left for the user to inspect
