"""The Ray that actorflow starts runs its workers at the driver's priority: Ray's default
nice value of 15 starved every actor as soon as ordinary processes kept the cores busy.
Its workers also run with one glibc arena (MALLOC_ARENA_MAX), unless the user set another
value: threaded actors page-faulted their big buffers in afresh every step."""
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
nice, arenas = ray.get(ray.remote(lambda: (os.nice(0), os.environ.get("MALLOC_ARENA_MAX")))
                      .remote())
print("nice", nice, os.nice(0), arenas)
"""


def _worker_and_driver_nice(env: dict) -> tuple[int, int, str]:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("nice ")][-1]
    worker, driver, arenas = line.split()[1:]
    return int(worker), int(driver), arenas


@pytest.mark.slow
def test_private_ray_workers_run_at_the_drivers_priority_with_one_malloc_arena():
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_ADDRESS", "RAY_worker_niceness", "MALLOC_ARENA_MAX")}
    worker, driver, arenas = _worker_and_driver_nice(env)
    assert worker == driver
    assert arenas == "1"


@pytest.mark.slow
def test_a_niceness_and_arena_count_the_user_sets_are_kept():
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_worker_niceness"] = "7"
    env["MALLOC_ARENA_MAX"] = "4"
    worker, driver, arenas = _worker_and_driver_nice(env)
    assert worker == driver + 7
    assert arenas == "4"
