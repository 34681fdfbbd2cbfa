"""The one place that turns plain actorflow classes into Ray actors.

Queues, replay buffers, executors and parameter servers are ordinary Python classes that
tests create without Ray; this module makes them remote (as ``ray.util.queue.Queue`` does
with its ``_QueueActor``) and brings their exceptions back to the caller with their own
type. Ray is imported lazily, so importing this module never needs Ray; using it does.

    actor = as_actor(FIFOQueue, 100, options={"num_cpus": 0, "max_concurrency": 64})
    get(actor.size.remote())            # -> int; errors re-raised as the actor raised them

Options (all optional, passed to ``ActorClass.options``):

- ``num_cpus``, ``num_gpus``, ``memory``, ``resources``: what the actor reserves.
- ``max_concurrency``: threads serving calls (blocking methods need more than one);
  ``concurrency_groups``: named thread pools, e.g. ``{"control": 1}``, so that control calls
  still run while every default thread blocks.
- ``max_restarts``, ``max_task_retries``: fault tolerance.
- ``name``, ``namespace``, ``lifetime`` (``"detached"``), ``get_if_exists``: named actors.
- ``scheduling_strategy``, or ``placement_group`` (+ ``placement_group_bundle_index``,
  turned into a ``PlacementGroupSchedulingStrategy``); ``runtime_env``.
"""
from __future__ import annotations

import pickle
from typing import Any, Mapping

__all__ = ["require_ray", "remote_class", "as_actor", "get", "pack", "unpack",
           "ACTOR_OPTIONS", "PACK_LIMIT_BYTES"]

PACK_LIMIT_BYTES = 100_000
"""Batches up to this size travel as one bytes object (see `pack`); Ray inlines objects
below 100 KiB into the call, larger ones go through its shared-memory object store."""

ACTOR_OPTIONS = frozenset({
    "num_cpus", "num_gpus", "memory", "resources", "max_concurrency", "concurrency_groups",
    "max_restarts", "max_task_retries", "name", "namespace", "lifetime", "get_if_exists",
    "scheduling_strategy", "placement_group", "placement_group_bundle_index", "runtime_env",
})


def require_ray():
    """The `ray` module.

    Raises:
        ImportError: Ray is not installed, naming the install extra.
    """
    try:
        import ray
    except ImportError as e:
        raise ImportError(
            "actorflow.actors needs Ray to run actors: pip install 'actorflow[ray]'") from e
    return ray


def ensure_ray(address: str | None = None):
    """`ray`, initialised: the running instance, else `address`, else $RAY_ADDRESS (set by
    `ray job submit`), else a new private local Ray — never a cluster that merely runs on
    this machine."""
    import os
    ray = require_ray()
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS") or "local",
                 log_to_driver=False)
    return ray


def _ray_options(options: Mapping[str, Any]) -> dict:
    """Validated Ray options; `placement_group` becomes a scheduling strategy."""
    unknown = set(options) - ACTOR_OPTIONS
    if unknown:
        raise TypeError(f"unknown actor option(s) {sorted(unknown)}; "
                        f"known: {sorted(ACTOR_OPTIONS)}")
    out = {k: v for k, v in options.items() if v is not None}
    if "placement_group" in out:
        if "scheduling_strategy" in out:
            raise ValueError("give either placement_group or scheduling_strategy, not both")
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy
        out["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
            placement_group=out.pop("placement_group"),
            placement_group_bundle_index=out.pop("placement_group_bundle_index", -1))
    elif "placement_group_bundle_index" in out:
        raise ValueError("placement_group_bundle_index needs placement_group")
    return out


def remote_class(cls: type, **options: Any):
    """`cls` as a Ray actor class with `options` applied (see the module docstring).

    Raises:
        TypeError: an option Ray actors do not take here.
        ImportError: Ray is not installed.
    """
    ray = require_ray()
    opts = _ray_options(options)
    groups = opts.pop("concurrency_groups", None)  # a class option, refused by .options()
    actor_cls = ray.remote(concurrency_groups=groups)(cls) if groups else ray.remote(cls)
    return actor_cls.options(**opts)


def as_actor(cls: type, *args: Any, options: Mapping[str, Any] | None = None, **kwargs: Any):
    """A new actor hosting ``cls(*args, **kwargs)``, created with Ray `options`.

    Starts Ray if none is running (see `ensure_ray`).
    """
    ensure_ray()
    return remote_class(cls, **dict(options or {})).remote(*args, **kwargs)


def get(refs, timeout: float | None = None):
    """``ray.get(refs)``, re-raising an actor method's exception as its original type.

    Ray wraps an exception raised inside an actor in a ``RayTaskError``; the caller gets the
    original exception object (``QueueEmpty``, ``ValueError``, ...), chained to the Ray error
    that carries the remote traceback. Ray's own failures (actor died, ``GetTimeoutError``)
    pass through unchanged.
    """
    ray = require_ray()
    try:
        return ray.get(refs, timeout=timeout)
    except ray.exceptions.RayTaskError as e:
        cause = e.cause
        if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
            raise cause from e
        raise


def pack(columns: Mapping[str, Any]):
    """A small batch (dict of arrays) as one pickle-5 bytes object; a large one unchanged.

    Ray serialises every NumPy array of a call on its own; for a hot call with a few small
    columns, one bytes object is cheaper (measured on the replay actor: about 0.4 ms less per
    call on a loaded 2-core machine). Large arrays keep Ray's zero-copy path. Both ends are
    actorflow processes and Ray unpickles every call's arguments anyway, so this adds no
    trust boundary; it is never used for files.
    """
    nbytes = sum(getattr(v, "nbytes", 0) for v in columns.values())
    if nbytes > PACK_LIMIT_BYTES:
        return columns
    return pickle.dumps(dict(columns), protocol=5)


def unpack(packed):
    """The batch `pack` made (writable arrays)."""
    return pickle.loads(packed) if isinstance(packed, bytes) else packed


def get_retrying(submit, retry_s: float = 120.0):
    """``get(submit())``, calling `submit` again while the actor is dead or restarting.

    `submit` makes the call (``lambda: actor.method.remote(...)``). Ray restarts an actor
    with ``max_restarts`` left; calls made meanwhile fail with RayActorError or
    ActorUnavailableError. Retries until `retry_s` seconds have passed, then re-raises.
    """
    import time
    ray = require_ray()
    dead = (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError)
    deadline = time.monotonic() + retry_s
    while True:
        try:
            return get(submit())
        except dead:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
