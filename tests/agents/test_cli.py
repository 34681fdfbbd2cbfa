"""The `actorflow` command: training, evaluation, resume, and one-line errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
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
    (["train", "dqn", "--env", "Pendulum-v1"],
     "--env Pendulum-v1: dqn needs a discrete action space, and Pendulum-v1 has Box("),
    (["train", "ppo", "--env", "Pendulum-v1"], "ppo needs a discrete action space"),
    (["train", "pg", "--env", "Acrobot-v1"], "PolicyGradient needs 2 discrete actions"),
    (["train", "pg", "--seed", "-1"], "--seed must be >= 0, got -1"),
    # The output path is checked before the checkpoint is even looked for.
    (["eval", "/nonexistent/run", "--render", "out.png"],
     "--render out.png: the output must be a .gif file"),
    (["eval", "/nonexistent/run", "--render", "/nonexistent/dir/x.gif"],
     "--render /nonexistent/dir/x.gif: folder /nonexistent/dir does not exist"),
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


def test_an_unwritable_logdir_is_refused_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = _cli("train", "pg", "--logdir", str(blocker / "run"), timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"actorflow: error: --logdir {blocker / 'run'} cannot be created: {blocker} is a file"]
    out = _cli("train", "pg", "--logdir", str(blocker), timeout=120)
    assert out.stderr.strip().splitlines() == [
        f"actorflow: error: --logdir {blocker} is a file"]
    assert out.returncode == 2


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_a_read_only_logdir_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        out = _cli("train", "pg", "--logdir", str(locked / "run"), timeout=120)
    finally:
        locked.chmod(0o755)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"actorflow: error: --logdir {locked / 'run'} cannot be created: {locked} is not "
        "writable"]


def test_experiment_scripts_refuse_a_negative_seed(capsys):
    from actorflow.agents.cli import experiment_parser, parse_experiment_args
    p = experiment_parser("An experiment.", workers=0, steps=10)
    with pytest.raises(SystemExit) as exit_:
        parse_experiment_args(p, ["--seed", "-1"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{p.prog}: error: --seed must be >= 0, got -1"]


def test_experiment_scripts_refuse_another_runs_logdir_unless_force(tmp_path, capsys):
    from actorflow.agents.cli import experiment_parser, parse_experiment_args
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"step": 1}\n')
    (run / "notes.txt").write_text("mine")
    p = experiment_parser("An experiment.", workers=0, steps=10)
    with pytest.raises(SystemExit) as exit_:
        parse_experiment_args(p, ["--logdir", str(run)])
    assert exit_.value.code == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (run / "metrics.jsonl").exists()
    parse_experiment_args(p, ["--logdir", str(run), "--force"])
    assert not (run / "metrics.jsonl").exists() and (run / "notes.txt").exists()


def _damage_index_behind_the_manifest(run: Path) -> Path:
    """Truncates the newest checkpoint's .index and records the damage in its manifest, as
    damage the manifest cannot see (a file written wrong in the first place) would be."""
    state_path = max((run / "checkpoints").glob("*.state.json"))
    index = Path(str(state_path).replace(".state.json", ".index"))
    index.write_bytes(index.read_bytes()[:40])
    state = json.loads(state_path.read_text())
    state["checkpoint_files"][index.name] = {"size": 40, "crc32": zlib.crc32(
        index.read_bytes())}
    state_path.write_text(json.dumps(state))
    return index


def test_a_damaged_checkpoint_is_a_one_line_error(tmp_path):
    run = tmp_path / "run"
    assert _cli("train", "pg", "--steps", "500", "--logdir", str(run)).returncode == 0
    index = _damage_index_behind_the_manifest(run)
    out = _cli("eval", str(run), "--episodes", "1", timeout=120)
    assert out.returncode == 2, out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("actorflow: error: checkpoint ") and "is damaged" in line
    assert str(index) in line and "Traceback" not in out.stderr
    out = _cli("train", "pg", "--steps", "1000", "--logdir", str(run), "--resume",
               timeout=120)
    assert out.returncode == 2, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"actorflow: error: cannot resume {run}: ") and str(index) in last
    assert "Traceback" not in out.stderr


def test_resume_keeps_the_runs_workers_unless_given(tmp_path, monkeypatch):
    """`--resume` without `--workers` continues with the saved worker count (the flag's
    default of 0 used to turn a run with rollout actors into an in-process one)."""
    from actorflow.agents import cli
    from actorflow.agents.pg import PGConfig
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(PGConfig(workers=2).__dict__))
    seen = []

    class Recorder:
        def __init__(self, config):
            seen.append(config)

        def train(self, logdir, resume):
            return {}
    monkeypatch.setattr(cli, "_agent", lambda name: (PGConfig, Recorder))
    monkeypatch.setattr(cli, "_init_ray", lambda address, workers: None)
    assert cli.main(["train", "pg", "--logdir", str(run), "--resume"]) == 0
    assert cli.main(["train", "pg", "--logdir", str(run), "--resume", "--workers", "1"]) == 0
    assert [c.workers for c in seen] == [2, 1]
