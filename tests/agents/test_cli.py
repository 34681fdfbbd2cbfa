"""The `actorflow` command: training, evaluation, resume, and one-line errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, timeout: int = 300, cwd=ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    return subprocess.run([sys.executable, "-m", "actorflow.agents.cli", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args, message", [
    (["train", "pg", "--env", "NoSuchEnv-v9"], "unknown env 'NoSuchEnv-v9'"),
    (["train", "pg", "--steps", "-5"], "--steps must be >= 1, got -5"),
    (["train", "sarsa"], "unknown agent 'sarsa'"),
    (["train", "pg", "--resume"], "--resume needs --logdir"),
    (["eval", "/nonexistent/run"], "no checkpoint in '/nonexistent/run'"),
])
def test_bad_input_gets_a_one_line_error(args, message):
    out = _cli(*args, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("actorflow: error: ") and message in lines[0]


def test_train_resume_and_eval(tmp_path):
    run = str(tmp_path / "run")
    out = _cli("train", "pg", "--steps", "2000", "--logdir", run, "--seed", "4")
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout.strip().splitlines()[-1])
    assert first["agent"] == "pg" and first["env_steps"] >= 2000
    assert "pg: step" in out.stderr  # the progress line
    out = _cli("train", "pg", "--steps", "4000", "--logdir", run, "--resume")
    assert out.returncode == 0, out.stderr
    second = json.loads(out.stdout.strip().splitlines()[-1])
    assert second["env_steps"] > first["env_steps"] and second["episodes"] > first["episodes"]
    gif = tmp_path / "episode.gif"
    out = _cli("eval", run, "--episodes", "3", "--render", str(gif))
    assert out.returncode == 0, out.stderr
    ev = json.loads(out.stdout.strip().splitlines()[-1])
    assert ev["agent"] == "pg" and ev["eval_episodes"] == 3
    assert gif.read_bytes()[:6] == b"GIF89a" and ev["render_frames"] >= 1
    assert ev["env_steps"] == second["env_steps"]


def test_resume_finds_a_run_in_a_relative_logdir(tmp_path):
    # As the README writes it: --logdir runs/pg, relative to where the command runs.
    first = _cli("train", "pg", "--steps", "1000", "--logdir", "runs/pg", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = _cli("train", "pg", "--steps", "2000", "--logdir", "runs/pg", "--resume",
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    before = json.loads(first.stdout.strip().splitlines()[-1])
    after = json.loads(out.stdout.strip().splitlines()[-1])
    assert after["episodes"] > before["episodes"] and after["env_steps"] >= 2000
    assert "Couldn't match files" not in out.stderr


def test_a_checkpoint_of_another_agent_is_refused(tmp_path):
    run = str(tmp_path / "run")
    assert _cli("train", "pg", "--steps", "500", "--logdir", run).returncode == 0
    out = _cli("train", "ppo", "--steps", "500", "--logdir", run, "--resume", timeout=120)
    assert out.returncode == 2
    assert "holds a 'pg' run, not 'ppo'" in out.stderr.strip().splitlines()[-1]


def test_dqn_on_gridworld_starts_from_the_gridworld_preset(tmp_path):
    run = tmp_path / "run"
    out = _cli("train", "dqn", "--env", "actorflow/GridWorld-v0", "--steps", "64",
               "--logdir", str(run))
    assert out.returncode == 0, out.stderr
    saved = json.loads((run / "config.json").read_text())
    from actorflow.agents.dqn import DQNConfig
    preset = DQNConfig.gridworld()
    assert saved["total_steps"] == 64  # the command line wins over the preset
    assert {k: saved[k] for k in ("network", "train_freq", "learning_rate", "n_step")} == {
        "network": "conv", "train_freq": preset.train_freq,
        "learning_rate": preset.learning_rate, "n_step": preset.n_step}
