"""experiments/cartpole_ppo.py runs as a script with 2 Ray rollout actors and ends in JSON."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_ppo_experiment_runs_with_two_rollout_actors():
    pytest.importorskip("ray")
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    out = subprocess.run([sys.executable, "experiments/cartpole_ppo.py", "--steps", "2048",
                          "--workers", "2"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["agent"] == "ppo" and result["workers"] == 2
    assert result["env_steps"] == 2048 and "eval_return_mean" in result
