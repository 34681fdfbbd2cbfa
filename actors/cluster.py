"""`Cluster`: a ClusterSpec's tasks as Ray actors, spread over nodes with a placement group.

``Cluster({"ps": 1, "worker": 2}, strategy="STRICT_SPREAD")`` reserves one bundle per task
(``PACK`` by default; ``SPREAD`` prefers, ``STRICT_SPREAD`` demands one node per task) and
`start(job, task, cls, *args)` creates that task's actor in its bundle. Tasks are named by
TF device strings: ``cluster.actor("/job:worker/task:1")`` is worker 1's actor handle, and
``cluster.node_of("/job:ps/task:0")`` the id of the node it runs on.
"""
from __future__ import annotations

from actorflow.framework.device_spec import DeviceSpec
from actorflow.train.distribute import ClusterSpec

from ._remote import as_actor, ensure_ray, get, require_ray

__all__ = ["Cluster", "task_key"]

_STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")


def task_key(device: str) -> tuple[str, int]:
    """(job, task) named by a device string such as "/job:worker/task:3/device:GPU:0".

    Raises:
        ValueError: the string names no job.
    """
    spec = DeviceSpec.from_string(device)
    if spec.job is None:
        raise ValueError(f"Device {device!r} names no job: expected /job:NAME/task:N")
    return spec.job, spec.task or 0


class Cluster:
    """Ray resources and actors for the tasks of a ClusterSpec.

    Args:
        spec: a ClusterSpec, or {job: task count}.
        strategy: how bundles spread over nodes: "PACK", "SPREAD", "STRICT_SPREAD", ...
        bundle: the resources of each task's bundle ({"CPU": 1} by default; a fraction of a
            CPU lets a small machine host more tasks than cores).
        job_bundles: per-job overrides, e.g. {"worker": {"CPU": 1, "GPU": 1}}.
        timeout_s: how long to wait for the placement group before failing.

    Raises:
        ValueError: an unknown strategy.
        TimeoutError: the cluster cannot fit the bundles (the message lists them).
    """

    def __init__(self, spec, strategy: str = "PACK", bundle: dict | None = None,
                 job_bundles: dict | None = None, timeout_s: float = 60.0) -> None:
        ray = ensure_ray()
        from ray.util.placement_group import placement_group
        self.spec = spec if isinstance(spec, ClusterSpec) else ClusterSpec(spec)
        strategy = strategy.upper()
        if strategy not in _STRATEGIES:
            raise ValueError(f"strategy must be one of {_STRATEGIES}, got {strategy!r}")
        default = dict(bundle or {"CPU": 1})
        self._index: dict = {}
        bundles = []
        for job in self.spec.jobs:
            for task in self.spec.task_indices(job):
                self._index[(job, task)] = len(bundles)
                bundles.append(dict((job_bundles or {}).get(job, default)))
        self.bundles = bundles
        self.strategy = strategy
        self.placement_group = placement_group(bundles, strategy=strategy)
        if not self.placement_group.wait(timeout_s):
            from ray.util.placement_group import remove_placement_group
            remove_placement_group(self.placement_group)
            raise TimeoutError(f"The Ray cluster cannot place {len(bundles)} bundles "
                               f"{bundles} with strategy {strategy} (resources: "
                               f"{ray.cluster_resources()})")
        self._actors: dict = {}

    def options(self, job: str, task: int, **extra) -> dict:
        """Actor options placing (job, task) in its bundle, with the bundle's resources."""
        idx = self._bundle_index(job, task)
        b = self.bundles[idx]
        opts = {"placement_group": self.placement_group, "placement_group_bundle_index": idx,
                "num_cpus": b.get("CPU", 0), "num_gpus": b.get("GPU", 0)}
        custom = {k: v for k, v in b.items() if k not in ("CPU", "GPU", "memory")}
        if custom:
            opts["resources"] = custom
        opts.update(extra)
        return opts

    def start(self, job: str, task: int, cls: type, *args, options: dict | None = None,
              **kwargs):
        """Creates (job, task)'s actor hosting ``cls(*args, **kwargs)`` and returns it."""
        handle = as_actor(cls, *args, options=self.options(job, task, **(options or {})),
                          **kwargs)
        self._actors[(job, task)] = handle
        return handle

    def actor(self, device: str):
        """The actor of the task a device string names ("/job:worker/task:1/...")."""
        key = task_key(device)
        try:
            return self._actors[key]
        except KeyError:
            raise KeyError(f"No actor started for /job:{key[0]}/task:{key[1]}") from None

    def node_of(self, device: str) -> str:
        """The id of the node running the task's actor."""
        return get(self.actor(device).__ray_call__.remote(_node_id))

    def placement(self) -> dict:
        """{"/job:J/task:T": node id} for every started actor."""
        return {f"/job:{j}/task:{t}": self.node_of(f"/job:{j}/task:{t}")
                for j, t in self._actors}

    def session_devices(self) -> list:
        """One device per task, backed by a `PartitionExecutor` actor in the task's bundle
        (started on first use): what ``tf.Session(cluster)`` adds to its own devices."""
        from .partition_executor import PartitionExecutor, RemoteDevice
        if not hasattr(self, "_devices"):
            devices = []
            for job in self.spec.jobs:
                for task in self.spec.task_indices(job):
                    gpu = self.bundles[self._bundle_index(job, task)].get("GPU", 0) > 0
                    handle = self.start(job, task, PartitionExecutor,
                                        "/gpu:0" if gpu else "/cpu:0",
                                        options={"max_concurrency": 64})
                    devices.append(RemoteDevice(job, task, handle, "GPU" if gpu else "CPU"))
            self._devices = devices
        return list(self._devices)

    def _bundle_index(self, job: str, task: int) -> int:
        try:
            return self._index[(job, task)]
        except KeyError:
            raise KeyError(f"The cluster has no task /job:{job}/task:{task} "
                           f"({self.spec})") from None

    def shutdown(self) -> None:
        """Kills the actors and releases the placement group."""
        ray = require_ray()
        from ray.util.placement_group import remove_placement_group
        for handle in self._actors.values():
            try:
                ray.kill(handle)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self._actors.clear()
        remove_placement_group(self.placement_group)


def _node_id(self) -> str:
    import ray
    return ray.get_runtime_context().get_node_id()
