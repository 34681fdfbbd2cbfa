"""`ReplicaWorker`: computes gradients on its data shard against the parameter servers'
weights (between-graph replication: every worker holds the whole graph).

One step: pull the shards' weights if their version moved, compute the gradients that the
train op applies on a batch of this worker's data, push each shard its part. A sparse
(IndexedSlices) gradient is fetched and pushed as ``(values, indices)``: only the rows the
batch touched travel, not the whole embedding table. Pulls are sparse too
(`ParameterServer.pull_changes`): for a variable that the shard updates row by row only the
rows changed since the worker's version come back, and the worker patches its copy in place.
In sync mode the worker then waits for the round to close (the next version); in async mode
it goes on. It stops when the global step reaches the target.

The parameter servers are given as objects with `push` / `pull_changes` / `push_and_pull` —
the `ParameterServer` instances themselves in-process, or `RemoteShard` clients for actors,
which retry while a failed actor restarts. `CountingShard` wraps either and counts the bytes
that travel each way.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from actorflow.train.optimizer import recorded_gradients

from .executor import GraphExecutor
from .parameter_server import flat_gradients, grouped_gradients

__all__ = ["CountingShard", "ReplicaWorker", "RemoteShard", "payload_bytes"]


class RemoteShard:
    """Calls a ParameterServer actor like a local object, riding out its restarts.

    A call that fails because the actor died is retried (the actor restarts and restores
    its checkpoint) until `retry_s` seconds have passed. Gradients that a restart made stale
    are simply dropped by the restored shard.
    """

    def __init__(self, handle, retry_s: float = 120.0) -> None:
        self.handle = handle
        self.retry_s = retry_s

    def _call(self, method: str, *args, **kwargs):
        from ._remote import get_retrying, require_ray
        ray = require_ray()
        out = get_retrying(lambda: getattr(self.handle, method).remote(*args, **kwargs),
                           self.retry_s)
        if method == "pull" and isinstance(out, tuple) and isinstance(out[1], ray.ObjectRef):
            out = (out[0], ray.get(out[1]))  # weights shared once per version
        elif method == "pull_changes":
            out = self._fetched(out)
        return out

    @staticmethod
    def _fetched(pulled):
        """`pulled` with its weights fetched (a ps shares them per (since, version))."""
        from ._remote import require_ray
        if isinstance(pulled.weights, require_ray().ObjectRef):
            return pulled._replace(weights=require_ray().get(pulled.weights))
        return pulled

    def push(self, worker, version, grads):
        if isinstance(grads, Mapping):
            return self._call("push", worker, version, grads)
        return self._call("push_flat", worker, version, *flat_gradients(grads))

    def pull(self, since=-1, wait=False, timeout=None):
        return self._call("pull", since, wait, timeout)

    def pull_changes(self, since=-1, epoch=None, wait=False, timeout=None):
        return self._call("pull_changes", since, epoch, wait, timeout)

    def push_and_pull(self, worker, version, grads, epoch=None, wait=False, timeout=None):
        if isinstance(grads, Mapping):
            used, pulled = self._call("push_and_pull", worker, version, grads, epoch, wait,
                                      timeout)
        else:  # each array its own argument: Ray inlines the small ones (push_flat)
            used, pulled = self._call("push_and_pull_flat", worker, version, epoch, wait,
                                      timeout, *flat_gradients(grads))
        return used, self._fetched(pulled)

    def global_step(self):
        return self._call("global_step")


def payload_bytes(payload) -> int:
    """The bytes of the arrays in a push's gradients or a pull's weights (nested lists,
    tuples and dicts of arrays; None is 0)."""
    if payload is None:
        return 0
    if isinstance(payload, Mapping):
        payload = list(payload.values())
    if isinstance(payload, (list, tuple)):
        return sum(payload_bytes(p) for p in payload)
    return int(np.asarray(payload).nbytes)


class CountingShard:
    """A shard (a `ParameterServer` or `RemoteShard`) that records what pushes and pulls
    carry, for counting the bytes that travel per step each way.

    Args:
        shard: the shard to call.
        keep: also keep the payloads themselves (`pushes`, `pulls`).

    Attributes:
        push_bytes: the bytes of each push's gradients.
        pull_bytes: ``(since, bytes)`` of each pull (0 bytes when nothing changed).
        pushes, pulls: with `keep`, each push's gradients and each pull's weights.
    """

    def __init__(self, shard, keep: bool = False) -> None:
        self.shard = shard
        self.keep = keep
        self.push_bytes: list[int] = []
        self.pull_bytes: list[tuple[int, int]] = []
        self.pushes: list = []
        self.pulls: list = []
        self._lock = threading.Lock()  # workers in threads share one

    def push(self, worker, version, grads):
        self._pushed(grads)
        return self.shard.push(worker, version, grads)

    def pull_changes(self, since=-1, epoch=None, wait=False, timeout=None):
        return self._pulled(since, self.shard.pull_changes(since, epoch, wait, timeout))

    def push_and_pull(self, worker, version, grads, epoch=None, wait=False, timeout=None):
        self._pushed(grads)
        used, pulled = self.shard.push_and_pull(worker, version, grads, epoch, wait, timeout)
        return used, self._pulled(version, pulled)

    def _pushed(self, grads) -> None:
        with self._lock:
            self.push_bytes.append(payload_bytes(grads))
            if self.keep:
                self.pushes.append(grads)

    def _pulled(self, since: int, pulled):
        with self._lock:
            self.pull_bytes.append((since, payload_bytes(pulled.weights)))
            if self.keep:
                self.pulls.append(pulled.weights)
        return pulled


class ReplicaWorker:
    """One data-parallel replica.

    Args:
        graph_def: the training graph (what the ps shards hold too).
        train_op: the name of the optimizer's update op (its ``_gradients`` attr names the
            gradient tensor of each variable).
        shards: the variable names of each ps shard, in shard order.
        data_fn: ``data_fn(worker_index, num_workers) -> iterator of {tensor name: batch}``.
        worker_index, num_workers: this replica's place.
        device: where the gradients are computed.
    """

    def __init__(self, graph_def, train_op: str, shards: Sequence[Sequence[str]],
                 data_fn: Callable[[int, int], Iterator[dict]], worker_index: int,
                 num_workers: int, device: str = "/cpu:0") -> None:
        self.executor = GraphExecutor(graph_def, device=device)
        op = self.executor.graph.get_operation_by_name(train_op.split(":")[0])
        grad_of = {e.variable: e.tensors for e in recorded_gradients(op)}
        self.shards = [list(s) for s in shards]
        # Per shard, per variable: [gradient] or, for a sparse gradient, [values, indices].
        self._fetch = [[grad_of[v] for v in shard] for shard in self.shards]
        self._flat_fetch = [name for names in self._fetch for parts in names for name in parts]
        self.sync = bool(op.attrs.get("_sync_replicas"))
        self.worker_index = worker_index
        self.num_workers = num_workers
        self._data = data_fn(worker_index, num_workers)
        self.steps_done = 0
        self._versions: list = []  # per shard: the version and epoch this copy holds
        self._epochs: list = []

    def run(self, ps: Sequence, until_step: int, sync: bool | None = None,
            timeout: float = 120.0) -> dict:
        """Computes and pushes gradients until the global step reaches `until_step`.

        Args:
            ps: one object per shard with ``push(worker, version, grads)``,
                ``pull_changes(since, epoch, wait, timeout)`` (a `Pulled`, whose global step
                of shard 0 decides when to stop) and ``push_and_pull`` (both in one call,
                used for the last shard: a round trip fewer per step).
            sync: wait for each round to close (default: the graph's SyncReplicasOptimizer).

        Returns:
            {"steps": gradients computed, "accepted": pushes used, "global_step": last seen}.
        """
        sync = self.sync if sync is None else sync
        if len(self._versions) != len(ps):
            self._versions, self._epochs = [-1] * len(ps), [None] * len(ps)
        # Kept from run to run: a later run's first pull is sparse too (a shard of another
        # lineage — restored, or another object — has another epoch and sends everything).
        versions, epochs = self._versions, self._epochs
        step = 0
        for k, shard in enumerate(ps):
            pulled = self._take(shard.pull_changes(versions[k], epochs[k]), versions, epochs,
                                k)
            step = pulled.global_step if k == 0 else step
        steps = accepted = 0
        while step < until_step:
            try:
                feeds = next(self._data)
            except StopIteration:
                break
            values = iter(self.executor.run(self._flat_fetch, feeds))
            used = True
            last = len(ps) - 1
            for k, shard in enumerate(ps):
                grads = grouped_gradients(values, self._fetch[k])
                if k < last:
                    used &= bool(shard.push(self.worker_index, versions[k], grads))
                    continue
                # The last push and its pull in one call; the other shards' pulls after it.
                ok, last_pulled = shard.push_and_pull(self.worker_index, versions[k], grads,
                                                      epochs[k], sync, timeout)
                used &= bool(ok)
            steps += 1
            accepted += used
            for k, shard in enumerate(ps):
                pulled = last_pulled if k == last else \
                    shard.pull_changes(versions[k], epochs[k], sync, timeout)
                self._take(pulled, versions, epochs, k)
                step = pulled.global_step if k == 0 else step
        self.steps_done += steps
        return {"steps": steps, "accepted": accepted, "global_step": step}

    def _take(self, pulled, versions: list, epochs: list, k: int):
        """Stores what shard k sent: whole arrays as they are, ``(values, rows)`` patched
        into this worker's copy."""
        if pulled.weights is not None:
            whole = {}
            for name, w in pulled.weights.items():
                if isinstance(w, tuple):
                    self.executor.patch_rows(name, w[1], w[0])
                else:
                    whole[name] = np.asarray(w)
            self.executor.set_weights(whole, copy=False)
        versions[k], epochs[k] = pulled.version, pulled.epoch
        return pulled
