"""TF 1.x's distributed-training names: `ClusterSpec`, `replica_device_setter`,
`SyncReplicasOptimizer`.

They describe a job, they do not run one: `actorflow.actors` turns a ClusterSpec into Ray
actors, reads the ps tasks that `replica_device_setter` gave each variable to shard them, and
reads the aggregation that `SyncReplicasOptimizer` asks for. In a plain local Session a
SyncReplicasOptimizer is its wrapped optimizer (one replica aggregates itself).
"""
from __future__ import annotations

from ..framework.device_spec import DeviceSpec
from .optimizer import Optimizer

__all__ = ["ClusterSpec", "replica_device_setter", "SyncReplicasOptimizer",
           "GREEDY", "ROUND_ROBIN", "GreedyLoadBalancingStrategy"]


class ClusterSpec:
    """The jobs of a cluster and their tasks.

    TF 1.x gives host lists, ``{"ps": ["h0:2222"], "worker": ["h1:2222", "h2:2222"]}``; on Ray
    the hosts are chosen by the scheduler, so counts do too: ``{"ps": 1, "worker": 2}``.

    Raises:
        ValueError: a job with no tasks, a negative count, or a job name that is not a
            non-empty string.
    """

    def __init__(self, cluster) -> None:
        if isinstance(cluster, ClusterSpec):
            cluster = cluster._jobs
        if not isinstance(cluster, dict):
            raise TypeError(f"ClusterSpec takes a dict of job name -> tasks, got {cluster!r}")
        jobs: dict = {}
        for name, tasks in cluster.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"Job names must be non-empty strings, got {name!r}")
            if isinstance(tasks, bool) or not isinstance(tasks, (int, list, tuple, dict)):
                raise ValueError(f"Job {name!r}: give a task count or a list of addresses, "
                                 f"got {tasks!r}")
            if isinstance(tasks, int):
                if tasks < 1:
                    raise ValueError(f"Job {name!r} needs at least one task, got {tasks}")
                tasks = [None] * tasks
            elif isinstance(tasks, dict):
                tasks = [tasks[i] for i in sorted(tasks)]
            jobs[name] = list(tasks)
        self._jobs = jobs

    @property
    def jobs(self) -> list[str]:
        return list(self._jobs)

    def num_tasks(self, job_name: str) -> int:
        """The number of tasks of `job_name`; ValueError for an unknown job."""
        try:
            return len(self._jobs[job_name])
        except KeyError:
            raise ValueError(f"No such job in cluster: {job_name!r} (jobs: "
                             f"{', '.join(self._jobs)})") from None

    def task_indices(self, job_name: str) -> list[int]:
        return list(range(self.num_tasks(job_name)))

    def task_address(self, job_name: str, task_index: int):
        """The address given for a task (None when the spec gave a count)."""
        return self._jobs[job_name][task_index]

    def as_dict(self) -> dict:
        return {k: list(v) for k, v in self._jobs.items()}

    def __eq__(self, other) -> bool:
        return isinstance(other, ClusterSpec) and other._jobs == self._jobs

    def __repr__(self) -> str:
        return f"ClusterSpec({ {k: len(v) for k, v in self._jobs.items()} })"


# -- variable placement over ps tasks -----------------------------------------------------
class _RoundRobin:
    """Hands out ps tasks in turn."""

    def __init__(self, num_tasks: int) -> None:
        self._n = num_tasks
        self._next = 0

    def __call__(self, op) -> int:
        task = self._next
        self._next = (self._next + 1) % self._n
        return task


class GreedyLoadBalancingStrategy:
    """Puts each variable on the ps task holding the fewest bytes so far (TF's
    `tf.contrib.training.GreedyLoadBalancingStrategy` with the byte-size load function)."""

    def __init__(self, num_tasks: int, load_fn=None) -> None:
        self._loads = [0] * num_tasks
        self._load_fn = load_fn or _variable_bytes

    def __call__(self, op) -> int:
        task = min(range(len(self._loads)), key=lambda i: (self._loads[i], i))
        self._loads[task] += self._load_fn(op)
        return task


def _variable_bytes(op) -> int:
    shape = op.attrs.get("shape") or ()
    n = 1
    for d in shape:
        n *= d if d is not None else 1
    dtype = op.attrs.get("dtype")
    return n * (dtype.np.itemsize if dtype is not None else 4)


ROUND_ROBIN = "round_robin"
GREEDY = "greedy"
_PS_OPS = frozenset({"VariableV2"})


def replica_device_setter(ps_tasks: int = 0, ps_device: str = "/job:ps",
                          worker_device: str = "/job:worker", merge_devices: bool = True,
                          cluster=None, ps_ops=None, ps_strategy=None):
    """A device function: variables go to ps tasks, every other op to `worker_device`.

    Args:
        ps_tasks: the number of ps tasks (taken from `cluster` when given).
        cluster: a ClusterSpec or dict; its "ps" job gives the task count.
        ps_strategy: ``ROUND_ROBIN`` (default, TF's), ``GREEDY`` (fewest bytes so far), or a
            callable ``op -> task index``.
        merge_devices: an op's own device request wins over the setter's fields it sets.

    Returns:
        A function for ``tf.device(...)``, or None when there are no ps tasks.
    """
    if cluster is not None:
        spec = cluster if isinstance(cluster, ClusterSpec) else ClusterSpec(cluster)
        ps_tasks = spec.num_tasks("ps") if "ps" in spec.jobs else 0
    if ps_tasks == 0:
        return None
    ops = frozenset(ps_ops) if ps_ops is not None else _PS_OPS
    if ps_strategy is None or ps_strategy == ROUND_ROBIN:
        choose = _RoundRobin(ps_tasks)
    elif ps_strategy == GREEDY:
        choose = GreedyLoadBalancingStrategy(ps_tasks)
    elif callable(ps_strategy):
        choose = ps_strategy
    else:
        raise ValueError(f"ps_strategy must be ROUND_ROBIN, GREEDY or a callable, got "
                         f"{ps_strategy!r}")

    def device_function(op) -> str:
        current = DeviceSpec.from_string(op.device or "")
        if op.type in ops:
            base = DeviceSpec.from_string(ps_device)
            if base.task is None:
                base = DeviceSpec(base.job, base.replica, choose(op), base.device_type,
                                  base.device_index)
        else:
            base = DeviceSpec.from_string(worker_device or "")
        merged = base.merge_from(current) if merge_devices else base
        return merged.to_string()

    return device_function


# -- synchronous replicas -----------------------------------------------------------------
class SyncReplicasOptimizer(Optimizer):
    """Aggregates `replicas_to_aggregate` gradients per step before applying them.

    Wraps `opt`: gradients and updates are `opt`'s. On a replicated trainer
    (`actorflow.actors.ReplicatedTrainer`) the parameter server applies, each step, the mean
    of the first `replicas_to_aggregate` gradients computed against the current weights and
    drops stale ones (computed against older weights); the global step counts those rounds.
    In a plain Session the update is `opt`'s own.
    """

    def __init__(self, opt: Optimizer, replicas_to_aggregate: int,
                 total_num_replicas: int | None = None, variable_averages=None,
                 variables_to_average=None, use_locking: bool = False,
                 name: str = "sync_replicas") -> None:
        if not isinstance(opt, Optimizer):
            raise TypeError(f"SyncReplicasOptimizer wraps an Optimizer, got {opt!r}")
        if total_num_replicas is None:
            total_num_replicas = replicas_to_aggregate
        if replicas_to_aggregate < 1 or total_num_replicas < 1:
            raise ValueError("replicas_to_aggregate and total_num_replicas must be >= 1, got "
                             f"{replicas_to_aggregate} and {total_num_replicas}")
        super().__init__(use_locking, name)
        self._opt = opt
        self.replicas_to_aggregate = int(replicas_to_aggregate)
        self.total_num_replicas = int(total_num_replicas)

    def compute_gradients(self, *args, **kwargs):
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name: str | None = None):
        op = self._opt.apply_gradients(grads_and_vars, global_step=global_step, name=name)
        op.attrs["_sync_replicas"] = [self.replicas_to_aggregate, self.total_num_replicas]
        return op

    def get_slot(self, *args, **kwargs):
        return self._opt.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        return self._opt.get_slot_names(*args, **kwargs)

    def make_session_run_hook(self, is_chief: bool, num_tokens: int = -1):
        """Nothing to run: the parameter server does the aggregation (kept for TF 1.x code)."""
        return None

    def get_init_tokens_op(self, num_tokens: int = -1):
        from ..ops.control import no_op
        return no_op(name="sync_token_init")

    def get_chief_queue_runner(self):
        return None
