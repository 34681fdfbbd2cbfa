"""Smoke test of the main job with a tiny budget: it runs as a script and ends with JSON."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import data_dir

ROOT = Path(__file__).resolve().parents[2]


def test_main_job_prints_json_results():
    d = data_dir()
    if d is None:
        pytest.skip("MNIST data not found: set ACTORFLOW_DATA_DIR to a folder with mnist/")
    env = dict(os.environ, ACTORFLOW_DATA_DIR=str(d))
    out = subprocess.run([sys.executable, "experiments/mnist_softmax.py", "--steps", "50"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["steps"] == 50
    assert result["accuracy"] > 0.5  # 50 SGD steps already beat chance (0.1) by far


def test_main_job_rejects_bad_arguments():
    out = subprocess.run([sys.executable, "experiments/mnist_softmax.py", "--steps", "-3"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "--steps" in out.stderr
