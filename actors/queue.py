"""TF 1.x queues made remote: `QueueActor` hosts a queue of ``actorflow.queues`` in a Ray
actor.

The queue classes themselves (`FIFOQueue`, `RandomShuffleQueue`, `PaddingFIFOQueue`,
`PriorityQueue`) and their error types live once, in the core (``actorflow.queues``), because
TF graphs use them directly (``tf.FIFOQueue``, queue runners, ``shuffle_batch``); they are
re-exported here so that ``from actorflow.actors.queue import FIFOQueue`` names the very same
class. This module only adds the remote handle.

Why not ``ray.util.queue.Queue``: it is the model for the shape of `QueueActor` (a plain
class made remote in the handle's constructor, batch calls, ``Empty``/``Full`` types), but it
stores Python objects one by one in an ``asyncio.Queue`` (batch calls loop per item and
return lists), has no close/cancel semantics, no ``min_after_dequeue`` shuffling and no
blocking batch dequeue.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actorflow.queues import (FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueCancelled,
                              QueueClosed, QueueEmpty, QueueFull, RandomShuffleQueue)

from ._remote import as_actor, get

__all__ = ["FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue", "PriorityQueue",
           "QueueActor", "QueueEmpty", "QueueFull", "QueueClosed", "QueueCancelled"]


class QueueActor:
    """Handle to a queue of ``actorflow.queues`` living in a Ray actor.

    Same methods as the plain queue; each blocks the caller as the plain call would and
    re-raises `QueueEmpty` / `QueueFull` / `QueueClosed` / `QueueCancelled` (and ValueError,
    TypeError) with their own type. The actor is threaded: `max_concurrency` blocking calls
    may wait at once; ``close``, ``size`` and ``is_closed`` run in their own thread pool, so
    a close always reaches consumers that block. The handle pickles, so producers in other
    actors can use it.

        q = QueueActor(RandomShuffleQueue, 10_000, min_after_dequeue=1_000, seed=0)
        q.enqueue_many((obs, actions)); obs, actions = q.dequeue_many(256)

    Args:
        queue_cls: a queue class of ``actorflow.queues`` (or a compatible class).
        *args, **kwargs: its constructor arguments.
        max_concurrency: threads for enqueue/dequeue calls.
        options: Ray actor options (see ``actors/_remote.py``); ``num_cpus`` defaults to 0.
    """

    def __init__(self, queue_cls: type = FIFOQueue, *args: Any, max_concurrency: int = 64,
                 options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        opts = {"num_cpus": 0, "max_concurrency": max_concurrency,
                "concurrency_groups": {"control": 2}}
        opts.update(options or {})
        opts["concurrency_groups"] = {"control": 2, **(opts["concurrency_groups"] or {})}
        self.actor = as_actor(queue_cls, *args, options=opts, **kwargs)

    def enqueue(self, item: Any, timeout: float | None = None) -> None:
        """See `FIFOQueue.enqueue`."""
        get(self.actor.enqueue.remote(item, timeout))

    def enqueue_many(self, items: Any, timeout: float | None = None) -> None:
        """See `FIFOQueue.enqueue_many`."""
        get(self.actor.enqueue_many.remote(items, timeout))

    def dequeue(self, timeout: float | None = None):
        """See `FIFOQueue.dequeue`."""
        return get(self.actor.dequeue.remote(timeout))

    def dequeue_many(self, n: int, timeout: float | None = None):
        """See `FIFOQueue.dequeue_many`."""
        return get(self.actor.dequeue_many.remote(n, timeout))

    def dequeue_up_to(self, n: int, timeout: float | None = None):
        """See `FIFOQueue.dequeue_up_to`."""
        return get(self.actor.dequeue_up_to.remote(n, timeout))

    def close(self, cancel_pending_enqueues: bool = False) -> None:
        """See `FIFOQueue.close`."""
        get(self._control("close").remote(cancel_pending_enqueues))

    def size(self) -> int:
        """See `FIFOQueue.size`."""
        return get(self._control("size").remote())

    def is_closed(self) -> bool:
        """See `FIFOQueue.is_closed`."""
        return get(self._control("is_closed").remote())

    def shutdown(self) -> None:
        """Kills the actor (items still queued are lost)."""
        from ._remote import require_ray
        require_ray().kill(self.actor, no_restart=True)

    def _control(self, method: str):
        return getattr(self.actor, method).options(concurrency_group="control")
