"""Replay throughput through the replay ACTOR: add_batch(B) + sample(B) per step.

Candidates, per observation shape (CartPole-sized ``(4,)`` float32, Atari-sized
``(84, 84, 3)`` uint8):

- ``actor``: ``ShardedReplay(1, ...)`` (one replay actor); ``add_batch`` waits for its result,
  then ``sample``: two round trips per step.
- ``actor_pipelined``: ``add_batch(wait=False)`` then ``sample``: the actor runs calls from one
  caller in order, so the sample sees the rows; one round trip per step.
- baseline ``plain``: the same calls on ``ReplayBuffer`` in this process.
- reference ``ray_floor``: two empty calls to an empty actor, i.e. what Ray alone costs
  for the two round trips of ``actor`` on this machine.

Transitions/s counts the rows added per second (each step also samples as many). Target:
>= 100k/s through the actor for (4,). Timed interleaved in one process; one JSON line.

    python benchmarks/replay_throughput.py [--batch 256] [--prioritized] [--repeat 200]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import ray

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

from actorflow.actors.columns import (ACTIONS, NEXT_OBS, OBS, REWARDS,  # noqa: E402
                                      TERMINATEDS, TRUNCATEDS)
from actorflow.actors._remote import ensure_ray, get, remote_class  # noqa: E402
from actorflow.actors.replay import ReplayBuffer, ShardedReplay  # noqa: E402

SHAPES = {"cartpole": ((4,), np.float32, 100_000), "atari": ((84, 84, 3), np.uint8, 5_000)}


def make_batch(rng, n, shape, dtype):
    if dtype == np.uint8:
        obs = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    else:
        obs = rng.standard_normal((n, *shape)).astype(dtype)
    return {OBS: obs, ACTIONS: rng.integers(0, 2, n), REWARDS: np.ones(n, np.float32),
            NEXT_OBS: obs.copy(), TERMINATEDS: rng.random(n) < 0.01,
            TRUNCATEDS: np.zeros(n, bool)}


class Empty:
    """An actor that does nothing: what Ray alone costs per call."""

    def noop(self) -> None:
        return None


def ray_floor(calls: int = 2):
    """(step, actor): a step of `calls` waited empty calls to a new empty actor."""
    empty = remote_class(Empty, num_cpus=0).remote()

    def step():
        for _ in range(calls):
            get(empty.noop.remote())

    return step, empty


def rates(res: dict, items: int, unit: str) -> dict:
    """Median seconds per step and `unit`/s (`items` per step) of each timed candidate."""
    out = {f"{k}_median_s": v["median_s"] for k, v in res.items()}
    out.update({f"{k}_{unit}_per_s": items / v["median_s"] for k, v in res.items()})
    return out


def run_variant(name, args, rng):
    shape, dtype, capacity = SHAPES[name]
    kw = dict(obs_shape=shape, obs_dtype=dtype, prioritized=args.prioritized, seed=0)
    batch = make_batch(rng, args.batch, shape, dtype)
    plain = ReplayBuffer(capacity, **kw)
    actor = ShardedReplay(1, capacity, options={"num_cpus": 1}, **kw)
    for _ in range(capacity // args.batch // 4):  # start a quarter full
        plain.add_batch(batch)
        actor.add_batch(batch)

    step_floor, empty = ray_floor()

    repeat = args.repeat if name == "cartpole" else max(1, args.repeat // 4)
    n = args.batch
    candidates = {
        "actor": lambda: (actor.add_batch(batch), actor.sample(n)),
        "actor_pipelined": lambda: (actor.add_batch(batch, wait=False), actor.sample(n)),
        "plain": lambda: (plain.add_batch(batch), plain.sample(n)),
        "ray_floor": step_floor,
    }
    res = interleaved(candidates, repeat=repeat, rounds=args.rounds)
    out = rates(res, args.batch, "transitions")
    out["ratio_actor_to_plain"] = res["actor"]["median_s"] / res["plain"]["median_s"]
    out["ratio_actor_to_ray_floor"] = res["actor"]["median_s"] / res["ray_floor"]["median_s"]
    out["obs_shape"], out["obs_dtype"] = list(shape), np.dtype(dtype).name
    actor.shutdown()
    ray.kill(empty)
    return out


def parse_and_start_ray(p: argparse.ArgumentParser) -> argparse.Namespace:
    """Adds the options both actor benchmarks share, parses, starts a local Ray."""
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--repeat", type=int, default=200)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray")
    args = p.parse_args()
    ensure_ray("local", num_cpus=args.num_cpus, include_dashboard=False)
    return args


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prioritized", action="store_true")
    args = parse_and_start_ray(p)
    rng = np.random.default_rng(0)
    result = {"benchmark": "replay_throughput", "batch": args.batch,
              "prioritized": args.prioritized, "target_transitions_per_s": 100_000}
    for name in SHAPES:
        result[name] = run_variant(name, args, rng)
    ray.shutdown()
    emit(result)


if __name__ == "__main__":
    main()
