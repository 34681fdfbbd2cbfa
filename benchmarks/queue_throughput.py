"""Queue throughput through the queue ACTOR: enqueue_many(B) + dequeue_many(B) per step.

Items are (obs (4,) float32, action int64 scalar), B = 256 per batch. Candidates:

- ``actor``: ``QueueActor(FIFOQueue, ...)``: ``enqueue_many`` then ``dequeue_many``, two
  round trips per step (the caller waits for each).
- ``plain``: the same calls on ``FIFOQueue`` in this process.
- baseline ``ray_put_get``: the same bytes with bare Ray and no queue: ``ray.put`` of the
  batch then ``ray.get`` of it (in-process object store round trip).
- reference ``ray_floor``: two empty calls to an empty actor.

Items/s counts items enqueued (and dequeued) per second. Timed interleaved; one JSON line.

    python benchmarks/queue_throughput.py [--batch 256] [--repeat 200] [--rounds 5]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import ray

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

from benchmarks.replay_throughput import parse_and_start_ray, ray_floor, rates  # noqa: E402
from actorflow.actors.queue import FIFOQueue, QueueActor  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--capacity", type=int, default=4096)
    args = parse_and_start_ray(p)

    rng = np.random.default_rng(0)
    batch = (rng.standard_normal((args.batch, 4)).astype(np.float32),
             rng.integers(0, 2, args.batch))
    spec = dict(dtypes=[np.float32, np.int64], shapes=[(4,), ()])
    plain = FIFOQueue(args.capacity, **spec)
    actor = QueueActor(FIFOQueue, args.capacity, **spec)
    step_floor, empty = ray_floor()

    actor.enqueue_many(batch)  # the round trip is checked before it is timed
    x, a = actor.dequeue_many(args.batch)
    np.testing.assert_array_equal(x, batch[0])
    np.testing.assert_array_equal(a, batch[1])

    n = args.batch
    candidates = {"actor": lambda: (actor.enqueue_many(batch), actor.dequeue_many(n)),
                  "plain": lambda: (plain.enqueue_many(batch), plain.dequeue_many(n)),
                  "ray_put_get": lambda: ray.get(ray.put(batch)),
                  "ray_floor": step_floor}
    res = interleaved(candidates, repeat=args.repeat, rounds=args.rounds)
    out = {"benchmark": "queue_throughput", "batch": args.batch,
           "batch_bytes": int(sum(c.nbytes for c in batch))}
    out.update(rates(res, args.batch, "items"))
    out["ratio_actor_to_put_get"] = res["actor"]["median_s"] / res["ray_put_get"]["median_s"]
    out["ratio_actor_to_ray_floor"] = res["actor"]["median_s"] / res["ray_floor"]["median_s"]
    actor.shutdown()
    ray.shutdown()
    emit(out)


if __name__ == "__main__":
    main()
