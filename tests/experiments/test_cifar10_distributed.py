"""experiments/cifar10_distributed.py with a tiny budget: 2 sync workers on synthetic
CIFAR-10 files train and report; bad arguments are refused naming them."""
from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from ..actors.conftest import ray_local  # noqa: F401 - the module's local Ray
from ..book._data import write_cifar10

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "experiments" / "cifar10_distributed.py"


@pytest.mark.slow
@pytest.mark.usefixtures("ray_local")
def test_two_sync_workers_train_on_synthetic_files(tmp_path, capsys):
    write_cifar10(tmp_path / "cifar-10-batches-bin", per_train_file=32, n_test=32)
    main = runpy.run_path(str(SCRIPT))["main"]
    result = main(["--data-dir", str(tmp_path), "--workers", "2", "--steps", "4",
                   "--batch-size", "8", "--checkpoint-every", "2",
                   "--logdir", str(tmp_path / "run")])
    assert result["mode"] == "sync" and result["workers"] == 2 and result["ps"] == 1
    assert result["global_step"] == 4 and result["test_examples"] == 32
    assert result["images_per_s"] > 0
    assert (tmp_path / "run" / "checkpoints" / "model-4.state.json").exists()
    assert "supervised: step 4/4" in capsys.readouterr().err


def test_bad_arguments_are_refused(capsys):
    main = runpy.run_path(str(SCRIPT))["main"]
    with pytest.raises(SystemExit) as exit_:
        main(["--workers", "0", "--data-dir", "/nonexistent/cifar"])
    assert exit_.value.code == 2
    assert "CIFAR-10 data folder /nonexistent/cifar does not exist" in capsys.readouterr().err
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)  # as `ray job submit` runs it: a script of its own
    out = subprocess.run([sys.executable, str(SCRIPT), "--workers", "-1"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--workers must be >= 0, got -1" in out.stderr, out.stderr
