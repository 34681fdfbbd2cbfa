"""Fixtures of the actor tests: one small local Ray per test module."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray with 2 CPUs and no dashboard, shut down after the module (reused if a
    Ray is already running)."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:  # as the CLI starts it: on loopback only, workers import the installed package
        from actorflow.actors._remote import ensure_ray
        ensure_ray("local", num_cpus=2, include_dashboard=False)
    yield ray
    if started:
        ray.shutdown()
