"""Replicated training on real Ray actors: sync replicas are exact, and training survives a
killed worker and a killed parameter server."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from actorflow.actors.data import ShardedBatches
from actorflow.actors.trainer import ReplicatedTrainer

from .test_parameter_server import data, regression_graph, single_process

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("workers", [2, 4])
def test_sync_workers_on_ray_equal_one_process(ray_local, workers):
    x, y = data()
    g, train = regression_graph(workers, sync=True, ps_tasks=2)
    batches = ShardedBatches({"x:0": x, "y:0": y}, len(x) // workers, shuffle=False)
    trainer = ReplicatedTrainer(g, train, batches, {"ps": 2, "worker": workers},
                                progress=False)
    try:
        summary = trainer.train(5)
        got = trainer.weights()
        placement = trainer.placement()
    finally:
        trainer.shutdown()
    assert summary["global_step"] == 5
    assert set(placement) == {"/job:ps/task:0", "/job:ps/task:1"} | \
        {f"/job:worker/task:{i}" for i in range(workers)}
    want = single_process(5, x, y)
    for name in ("w", "w2"):
        np.testing.assert_allclose(got[name], want[name], atol=1e-5)


def _kill_when(trainer, step: int, target, record: dict) -> threading.Thread:
    """Kills `target(trainer)` once the global step passes `step`; records the steps seen."""
    import ray

    def watch() -> None:
        while trainer.global_step() < step:
            time.sleep(0.05)
        record["before"] = trainer.global_step()
        ray.kill(target(trainer), no_restart=False)
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(seen) < 20:
            try:
                seen.append(trainer.global_step())
            except Exception:  # noqa: BLE001 - the shard is restarting
                pass
            time.sleep(0.05)
        record["after"] = seen

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_killed_worker_is_restarted_and_training_finishes(ray_local):
    x, y = data(64)
    g, train = regression_graph(sync=False)
    trainer = ReplicatedTrainer(g, train, ShardedBatches({"x:0": x, "y:0": y}, 8),
                                {"ps": 1, "worker": 2}, progress=False)
    record: dict = {}
    try:
        watcher = _kill_when(trainer, 30, lambda t: t.workers[0], record)
        summary = trainer.train(400)
        watcher.join(60)
    finally:
        trainer.shutdown()
    assert record["before"] >= 30
    assert summary["worker_restarts"] >= 1
    assert summary["global_step"] >= 400


def test_killed_ps_restores_its_checkpoint_and_training_resumes(ray_local, tmp_path):
    x, y = data(64)
    g, train = regression_graph(sync=False)
    every = 20
    trainer = ReplicatedTrainer(g, train, ShardedBatches({"x:0": x, "y:0": y}, 8),
                                {"ps": 1, "worker": 2}, checkpoint_dir=str(tmp_path),
                                checkpoint_every=every, progress=False)
    record: dict = {}
    try:
        watcher = _kill_when(trainer, 60, lambda t: t.ps[0], record)
        summary = trainer.train(300)
        watcher.join(60)
    finally:
        trainer.shutdown()
    assert summary["global_step"] >= 300
    assert record["after"], "no global step was read after the ps restarted"
    # The restored shard went back at most one checkpoint interval.
    assert min(record["after"]) >= record["before"] - every
    assert any(p.name.startswith("ps-0-") for p in tmp_path.iterdir())
