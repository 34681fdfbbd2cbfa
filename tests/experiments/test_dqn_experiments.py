"""experiments/cartpole_dqn.py and gridworld_dqn.py run as scripts with tiny budgets."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script, args, env_id", [
    ("cartpole_dqn.py", ["--steps", "1500"], "CartPole-v1"),
    ("gridworld_dqn.py", ["--steps", "300", "--obs-size", "36"], "actorflow/GridWorld-v0"),
    ("gridworld_dqn.py", ["--steps", "300", "--obs-size", "36", "--book"],
     "actorflow/GridWorld-v0"),
])
def test_dqn_experiments_end_with_json(script, args, env_id):
    out = subprocess.run([sys.executable, f"experiments/{script}", *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["agent"] == "dqn" and result["env"] == env_id
    assert result["env_steps"] >= int(args[1])


def test_gridworld_rejects_images_too_small_for_the_conv_net():
    out = subprocess.run([sys.executable, "experiments/gridworld_dqn.py", "--obs-size", "20"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "--obs-size" in out.stderr
