"""The main job (README): the book's policy network on CartPole with 2 Ray rollout actors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_main_job_learns_with_two_rollout_actors(tmp_path):
    pytest.importorskip("ray")
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    out = subprocess.run([sys.executable, "experiments/cartpole_pg.py", "--steps", "80000",
                          "--target", "150", "--logdir", str(tmp_path)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["agent"] == "pg" and result["episodes_to_target"] is not None, result
    assert "2 rollout workers" in out.stderr and "pg: step" in out.stderr
    assert (tmp_path / "summary.json").exists() and (tmp_path / "returns.png").exists()


def test_main_job_rejects_bad_arguments():
    out = subprocess.run([sys.executable, "experiments/cartpole_pg.py", "--workers", "-1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "--workers" in out.stderr
