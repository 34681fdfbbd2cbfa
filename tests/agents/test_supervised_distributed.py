"""The supervised trainer on Ray workers: sync data-parallel SGD over parameter servers equals
single-process SGD on the concatenated batch, and so does ring all-reduce, across a
--resume; an async run whose worker is killed restarts it and finishes; a killed ps restores
its checkpoint and loses at most one checkpoint interval."""
from __future__ import annotations

import dataclasses
import json
import threading
import time

import numpy as np
import pytest

from actorflow.agents import supervised_input as inputs
from actorflow.agents.supervised import Supervised

from ..actors.test_replicated import _kill_when
from .test_supervised import _config, synthetic_cifar

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    return synthetic_cifar(tmp_path_factory)


@pytest.mark.parametrize("mode, ps", [("sync", 2), ("allreduce", 0)])
def test_sync_workers_equal_one_process_on_the_concatenated_batch(ray_local, cifar_dir, mode,
                                                                  ps, tmp_path, capsys):
    # Two steps, then `actorflow train supervised --resume` for two more: the resumed run
    # goes on exactly (the shards' state from their checkpoints, each worker's batches from
    # the step reached).
    from actorflow.agents.cli import main
    config = _config(cifar_dir, optimizer="sgd", learning_rate=0.05, input="plain",
                     workers=2, ps=max(ps, 1), mode=mode, total_steps=2, log_every=2,
                     checkpoint_every=2, eval_examples=0)
    Supervised(config).train(str(tmp_path), progress=False)
    assert main(["train", "supervised", "--logdir", str(tmp_path), "--resume",
                 "--steps", "4"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (result["mode"], result["ps"], result["global_step"]) == (mode, ps, 4)
    replicated = Supervised(config)
    replicated.restore(str(tmp_path / "checkpoints" / "model-4"))
    single = Supervised(dataclasses.replace(config, workers=0))
    shards = [inputs.CifarBatches(str(cifar_dir), 8, distorted=False)(i, 2)
              for i in range(2)]
    for _ in range(4):
        halves = [next(s) for s in shards]
        single.executor.run("train", {k: np.concatenate([h[k] for h in halves])
                                      for k in (inputs.IMAGES, inputs.LABELS)})
    want, got = single.executor.get_weights(), replicated.executor.get_weights()
    trained = [n for n in want if n.endswith(("weights", "biases"))]
    assert len(trained) == 10
    for name in trained:
        np.testing.assert_allclose(got[name], want[name], atol=1e-5, err_msg=name)


def _kill_during(agent: Supervised, step: int, target, record: dict) -> threading.Thread:
    """Once `agent` trains with workers, kills `target(trainer)` past global step `step`."""
    def watch() -> None:
        while agent.trainer is None:
            time.sleep(0.05)
        _kill_when(agent.trainer, step, target, record).join(90)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_killed_worker_is_restarted_and_the_run_finishes(ray_local, cifar_dir):
    agent = Supervised(_config(cifar_dir, workers=2, mode="async", total_steps=30,
                               eval_examples=16))
    record: dict = {}
    watcher = _kill_during(agent, 5, lambda t: t.workers[0], record)
    result = agent.train(progress=False)
    watcher.join(90)
    assert record["before"] >= 5
    assert result["mode"] == "async" and result["ps"] == 1
    assert result["worker_restarts"] >= 1 and result["global_step"] >= 30
    assert np.isfinite(result["loss"]) and result["test_examples"] == 16


def test_a_killed_ps_resumes_from_its_checkpoint(ray_local, cifar_dir, tmp_path):
    every = 5
    agent = Supervised(_config(cifar_dir, workers=2, mode="async", total_steps=40,
                               checkpoint_every=every, eval_examples=0))
    record: dict = {}
    watcher = _kill_during(agent, 15, lambda t: t.ps[0], record)
    result = agent.train(str(tmp_path), progress=False)
    watcher.join(90)
    assert result["global_step"] >= 40
    assert record["after"], "no global step was read after the ps restarted"
    assert min(record["after"]) >= record["before"] - every  # at most one interval lost
    assert list((tmp_path / "checkpoints" / "ps").glob("ps-0-*.index"))
