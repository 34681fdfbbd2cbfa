"""The Ray that actorflow starts runs its workers at the driver's priority: Ray's default
nice value of 15 starved every actor as soon as ordinary processes kept the cores busy."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("ray")

PROBE = """
import os, ray
from actorflow.actors._remote import ensure_ray
ensure_ray("local", num_cpus=1, include_dashboard=False)
print("nice", ray.get(ray.remote(lambda: os.nice(0)).remote()), os.nice(0))
"""


def _worker_and_driver_nice(env: dict) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("nice ")][-1]
    worker, driver = map(int, line.split()[1:])
    return worker, driver


@pytest.mark.slow
def test_private_ray_workers_run_at_the_drivers_priority():
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_worker_niceness")}
    worker, driver = _worker_and_driver_nice(env)
    assert worker == driver


@pytest.mark.slow
def test_a_niceness_the_user_sets_is_kept():
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_worker_niceness"] = "7"
    worker, driver = _worker_and_driver_nice(env)
    assert worker == driver + 7
