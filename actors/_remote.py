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

import contextlib
import ipaddress
import os
import pickle
import sys
from typing import Any, Iterator, Mapping

__all__ = ["require_ray", "ensure_ray", "remote_class", "as_actor", "get", "get_retrying",
           "actor_restarting", "pack", "unpack", "ACTOR_OPTIONS", "PACK_LIMIT_BYTES",
           "WORKER_SETUP_HOOK", "LOOPBACK_ENV", "is_loopback_address", "loopback_node",
           "inspect_hint"]

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


def ensure_ray(address: str | None = None, *, log_to_driver: bool = False, **init_options):
    """`ray`, initialised: the running instance, else `address`, else $RAY_ADDRESS (set by
    `ray job submit`), else a new private local Ray — never a cluster that merely runs on
    this machine.

    A private Ray listens on 127.0.0.1 only (every port of every process it starts, see
    `loopback_node`), with Ray's token authentication unless $RAY_AUTH_MODE says
    ``disabled``; starting one prints to stderr how to inspect it with Ray's CLI
    (`inspect_hint`). A loopback `address` (``127.0.0.1:P``, as clusters/local_cluster.sh
    prints) is connected to on loopback too. `log_to_driver`: print the workers' output here.
    `init_options` (``num_cpus``, ``include_dashboard``, ...) go to ``ray.init`` when it
    starts or joins a Ray here.
    """
    ray = require_ray()
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or "local"
        private = address == "local"
        with loopback_node(private or is_loopback_address(address)), \
                _env(WORKER_NICENESS_ENV, "0", active=private):
            context = ray.init(address=address, log_to_driver=log_to_driver,
                               runtime_env={"worker_process_setup_hook": WORKER_SETUP_HOOK,
                                            "env_vars": {MALLOC_ARENAS_ENV: os.environ.get(
                                                MALLOC_ARENAS_ENV, MALLOC_ARENAS)}},
                               **init_options)
        if private:
            print(f"actorflow: {inspect_hint(context.address_info['gcs_address'])}",
                  file=sys.stderr)
    return ray


MALLOC_ARENAS_ENV = "MALLOC_ARENA_MAX"
MALLOC_ARENAS = "1"
"""glibc's arena count in every worker of this job (a value set here is passed on instead).
Threaded actors (all-reduce replicas, parameter servers) run their methods off the main
thread, where glibc gives each thread an arena of its own whose large blocks go back to the
kernel when freed, so every step page-faulted its big kernel buffers in afresh: one
all-reduce replica of the CIFAR-10 CNN took 314-323 ms a step on Ray against 278-281 ms for
a ps worker running in its actor's main thread, and 279-283 ms with one arena."""


WORKER_NICENESS_ENV = "RAY_worker_niceness"
"""The nice value the raylet gives worker processes (Ray's default: 15). A private Ray's
workers get 0 unless the environment says otherwise: at 15, beside ordinary processes that
keep the cores busy, rollout, replay and parameter-server actors got ~2% of a core and runs
with workers crawled (measured: the test suite under 2 busy processes)."""


@contextlib.contextmanager
def _env(name: str, value: str, active: bool = True) -> Iterator[None]:
    """While `active`, `name` defaults to `value` in this process's environment (the
    processes `ray.init` starts inherit it); a value the user set is kept."""
    if not active or name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)


LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""``0`` in the environment before Ray is imported: Ray takes this machine's address to be
127.0.0.1 (its meaning on Linux; the name is Ray's). Ray's CLI needs it to reach a Ray that
listens on loopback only."""


def is_loopback_address(address: str) -> bool:
    """Whether a Ray address (``host:port``, ``[v6]:port``) names a loopback host."""
    host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else address
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name, "auto", "ray://..."
        return False


@contextlib.contextmanager
def loopback_node(active: bool = True) -> Iterator[None]:
    """While `active`, Ray takes this machine's address to be 127.0.0.1: wrap `ray.init`.

    Ray 2.60 binds every server of a node (GCS, raylet, object manager, core workers,
    dashboard agent, runtime-env agent, metrics exporters) to loopback when the node's
    address is a loopback one, and to all interfaces otherwise. `ray.init` takes the
    machine's external address as the node's, and turns a 127.0.0.1 cluster address into it
    too (``ray._private.services.resolve_ip_for_localhost``), except where
    ``ray_constants.ENABLE_RAY_CLUSTER`` is off. `LOOPBACK_ENV` turns it off only when set
    before Ray is imported, so this flips the constant itself, and back afterwards so that a
    later `ray.init` of a real cluster sees the external address. On a Ray without that
    constant nothing changes, and a private Ray is then guarded by token auth alone.
    """
    from ray._private import ray_constants
    if not active or not hasattr(ray_constants, "ENABLE_RAY_CLUSTER"):
        yield
        return
    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


def inspect_hint(gcs_address: str) -> str:
    """One line saying how to run ``ray list actors`` / ``ray status`` against the Ray at
    `gcs_address` from a shell: the environment Ray's CLI needs for a loopback Ray with this
    process's authentication mode (Ray sets $RAY_AUTH_MODE=token when it turns auth on)."""
    mode = os.environ.get("RAY_AUTH_MODE", "disabled").lower()
    return (f"started a private Ray, listening on 127.0.0.1 only ({mode} auth); "
            f"inspect it while this runs with: RAY_AUTH_MODE={mode} {LOOPBACK_ENV}=0 "
            f"RAY_ADDRESS={gcs_address} ray list actors   (or: ray status)")


WORKER_SETUP_HOOK = "actorflow.actors._remote.import_installed_actorflow"
"""Run by every Ray worker of a job that `ensure_ray` starts, before its first task.

Ray puts the driver's working directory first on every worker's ``sys.path`` when that
worker runs its first task (``JobConfig.py_driver_sys_path``). Started from a folder that
holds a clone named ``actorflow/``, workers would import that folder instead of the
installed package. Importing this module from the hook, while ``sys.path`` is still the
worker's own, puts the installed ``actorflow`` into ``sys.modules`` first."""


def import_installed_actorflow() -> None:
    """The worker setup hook (`WORKER_SETUP_HOOK`): importing this module already imported
    the installed `actorflow`; this checks that it is the real core, not a folder of that
    name.

    Raises:
        ImportError: `actorflow` resolved to something without the core's API.
    """
    import actorflow
    if not hasattr(actorflow, "Graph"):
        raise ImportError(f"the Ray worker imported 'actorflow' from "
                          f"{getattr(actorflow, '__file__', None) or actorflow.__path__}, "
                          f"which is not the installed actorflow package")


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

    Starts Ray if none is running (see `ensure_ray`). With ``max_restarts``, every
    constructor argument other than a number or a string goes into the object store under a
    reference that the returned handle holds, so it lives as long as the handle: Ray runs the
    constructor again on a restart and reads its arguments again, but it frees the arguments
    it stored itself (those over 100 KiB) and `ray.put` references the caller has dropped
    once the first run is done, and the restart then dies with ReferenceCountingAssertionError
    (ray-project/ray#53727; Ray's "constructor arguments in the object store" warning).
    """
    ray = ensure_ray()
    opts = dict(options or {})
    pins: list = []
    if opts.get("max_restarts"):
        args = tuple(_pinned(ray, a, pins) for a in args)
        kwargs = {k: _pinned(ray, v, pins) for k, v in kwargs.items()}
    handle = remote_class(cls, **opts).remote(*args, **kwargs)
    if pins:
        handle._actorflow_creation_args = pins  # the handle keeps its restart inputs alive
    return handle


def _pinned(ray, value: Any, pins: list):
    """`value` as an ObjectRef appended to `pins` (numbers and strings stay inline: Ray keeps
    small inline arguments in the actor's creation spec, which restarts reuse)."""
    if isinstance(value, (type(None), bool, int, float, complex, str)):
        return value
    ref = value if isinstance(value, ray.ObjectRef) else ray.put(value)
    pins.append(ref)
    return ref


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


def actor_restarting(error: BaseException) -> bool:
    """Whether `error`, raised by getting an actor call, means that the actor's process died
    and Ray is bringing it back, so that the call is worth making again.

    False when the method itself raised (a ``RayTaskError``, even one that wraps another
    actor's death: a rollout actor whose replay actor died is alive), when the constructor
    raised (an ImportError, a bad argument: Ray does not restart such an actor, and a restart
    would fail the same way), and when Ray reports the actor dead for good (no restarts
    left).
    """
    ray = require_ray()
    if not isinstance(error, ray.exceptions.RayActorError):
        return False
    if isinstance(error, ray.exceptions.RayTaskError) or error.actor_init_failed:
        return False
    if isinstance(error, ray.exceptions.ActorUnavailableError):
        return True
    return _actor_state(error.actor_id) != "DEAD"


def _actor_state(actor_id: str | None) -> str | None:
    """The GCS's state of an actor ("ALIVE", "RESTARTING", "DEAD", ...), None if unknown."""
    if not actor_id:
        return None
    try:
        # Ray's only way to read an actor's state without the dashboard's state API.
        from ray._private.state import actors
        return actors(actor_id=actor_id).get("State")
    except Exception:  # noqa: BLE001 - a private API: unknown means "maybe restarting"
        return None


def get_retrying(submit, retry_s: float = 120.0):
    """``get(submit())``, calling `submit` again while the actor is restarting.

    `submit` makes the call (``lambda: actor.method.remote(...)``). Ray restarts an actor
    with ``max_restarts`` left; calls made meanwhile fail with RayActorError or
    ActorUnavailableError. Retries until `retry_s` seconds have passed, then re-raises;
    re-raises at once what `actor_restarting` says no restart will cure.
    """
    import time
    ray = require_ray()
    deadline = time.monotonic() + retry_s
    while True:
        try:
            return get(submit())
        except ray.exceptions.RayActorError as e:
            if not actor_restarting(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
