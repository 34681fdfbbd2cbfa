"""Actors that die: restarts that re-read their constructor arguments, a replay actor that
comes back from its checkpoint, and failures that no restart cures, reported at once."""
from __future__ import annotations

import gc
import time

import numpy as np
import pytest

from actorflow.actors._remote import as_actor, get, get_retrying
from actorflow.actors.columns import ACTIONS, NEXT_OBS, OBS, REWARDS, TERMINATEDS, TRUNCATEDS
from actorflow.actors.replay import ReplayActorDiedError, ShardedReplay
from actorflow.actors.rollout import RolloutActorError, call_all


class Holder:
    """Keeps the sizes of its constructor arguments."""

    def __init__(self, blob: bytes, spec: dict) -> None:
        self.sizes = (len(blob), len(spec["graph_def"]))

    def sizes_(self) -> tuple[int, int]:
        return self.sizes


class CannotImport:
    """An actor whose constructor fails the way a shadowed `actorflow` makes it fail."""

    def __init__(self) -> None:
        raise ImportError("cannot import name 'Graph' from 'actorflow'")

    def ping(self) -> int:
        return 1


def _freed_by_ray() -> None:
    """Gives Ray time to free what nobody references any more (it frees asynchronously)."""
    gc.collect()
    time.sleep(2.0)


@pytest.mark.slow
def test_restarted_actor_reads_its_constructor_arguments_again(ray_local):
    # Both kinds Ray frees after the first construction: an argument over 100 KiB that Ray
    # stored itself, and a ray.put reference the caller dropped (PPO's policy spec).
    spec = ray_local.put({"graph_def": b"g" * 300_000})
    actor = as_actor(Holder, b"x" * 2_000_000, spec, options={"num_cpus": 0.1,
                                                               "max_restarts": 1})
    assert get(actor.sizes_.remote()) == (2_000_000, 300_000)
    del spec
    _freed_by_ray()
    ray_local.kill(actor, no_restart=False)
    assert get_retrying(lambda: actor.sizes_.remote(), retry_s=60) == (2_000_000, 300_000)
    ray_local.kill(actor)


def test_an_actor_whose_constructor_fails_fails_the_call_at_once(ray_local):
    actor = as_actor(CannotImport, options={"num_cpus": 0.1, "max_restarts": 3})
    with pytest.raises(RolloutActorError, match="rollout actor 0 of 1 could not start: "
                                                ".*ImportError: cannot import name 'Graph'"):
        call_all([actor], lambda a: a.ping.remote())


def _rows(n: int, start: float = 0.0) -> dict:
    return {OBS: np.full((n, 2), start, np.float32), ACTIONS: np.zeros(n, np.int64),
            REWARDS: np.arange(start, start + n, dtype=np.float32),
            NEXT_OBS: np.zeros((n, 2), np.float32), TERMINATEDS: np.zeros(n, bool),
            TRUNCATEDS: np.zeros(n, bool)}


def _kill_and_await_restart(ray, replay: ShardedReplay) -> None:
    """Kills the replay's shard and waits until Ray has restarted it (ray.kill is
    asynchronous: a call made right after it may still reach the old process)."""
    shard = replay.shards[0]
    ray.kill(shard, no_restart=False)
    while not get_retrying(lambda: shard.restarted.remote(), retry_s=60):
        time.sleep(0.05)


def _await_death(ray, actor) -> None:
    """Waits until a killed actor is gone (ray.kill is asynchronous: on a busy machine a
    call made right after it may still be served by the old process)."""
    for _ in range(1200):
        try:
            ray.get(actor.restarted.remote(), timeout=30)
        except ray.exceptions.RayActorError:
            return
        time.sleep(0.05)
    raise AssertionError("the killed actor still answers after a minute")


def test_a_restarted_replay_actor_is_restored_before_it_is_read(ray_local):
    replay = ShardedReplay(1, 100, (2,), seed=0, options={"num_cpus": 0.1, "max_restarts": 1})
    try:
        replay.add_batch(_rows(10))
        checkpoint = replay.state_dict()["shards"][0]
        replay.restore = lambda shard: checkpoint
        replay.add_batch(_rows(5, start=100.0))
        assert len(replay) == 15
        _kill_and_await_restart(ray_local, replay)
        batch = replay.sample(64)  # restores, then samples
        assert replay.recoveries == 1
        assert len(replay) == 10
        assert set(batch[REWARDS].tolist()) <= set(range(10))
    finally:
        replay.shutdown()


def test_a_restarted_replay_actor_without_a_checkpoint_goes_on_with_new_rows(ray_local):
    replay = ShardedReplay(1, 100, (2,), seed=0, options={"num_cpus": 0.1, "max_restarts": 1})
    try:
        replay.add_batch(_rows(10))
        _kill_and_await_restart(ray_local, replay)
        assert replay.add_batch(_rows(3, start=50.0)) == 3  # adding needs no restore
        assert len(replay) == 3  # accepted as it is
        assert replay.recoveries == 1
    finally:
        replay.shutdown()


def test_a_replay_actor_that_stays_dead_is_named(ray_local):
    replay = ShardedReplay(1, 100, (2,), seed=0, options={"num_cpus": 0.1, "max_restarts": 1})
    replay.add_batch(_rows(10))
    ray_local.kill(replay.shards[0], no_restart=True)
    _await_death(ray_local, replay.shards[0])
    with pytest.raises(ReplayActorDiedError, match="replay actor 0 of 1 .* died and was not "
                                                   "restarted"):
        replay.sample(8)
