"""`ReplicatedTrainer`: data-parallel training of a TF 1.x graph on parameter servers and
replicated workers (the book's ch. 9.3, from one driver script).

    graph, train_op = build()                     # any graph with an optimizer's update op
    trainer = ReplicatedTrainer(graph, train_op, ShardedBatches(...), cluster={"ps": 1,
                                "worker": 2})
    trainer.train(steps=2000)                     # sync if the graph uses SyncReplicasOptimizer
    weights = trainer.weights()

    ReplicatedTrainer(graph, train_op, data, cluster={"worker": 4}, mode="allreduce")

The ps shards (`ParameterServer`) own the variables (split as `replica_device_setter` placed
them, or by bytes) and run the graph's optimizer; the workers (`ReplicaWorker`) compute
gradients on their data shards. With Ray (the default) every task is an actor placed by a
`Cluster` placement group; actors that die are restarted by Ray (`max_restarts`): a restarted
worker is given its work again, a restarted ps shard restores its latest checkpoint. With
``use_ray=False`` the same classes run in threads of this process.

``mode="allreduce"`` needs no ps job: every worker (`AllReduceReplica`) holds the whole
state, all-reduces the mean gradient with the others over a ring (`Ring`, see
actors/allreduce.py) and applies it with the graph's optimizer. The trainer starts them from
rank 0's state (restored from `checkpoint_dir` when there is one); rank 0 saves every
`checkpoint_every` steps. When a worker dies the others are aborted, Ray restarts it, every
replica takes the state of the most advanced one (a live peer, else rank 0's checkpoint),
and the ring goes on with a new epoch: the global step stays the same on every replica.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

from actorflow.train.distribute import ClusterSpec

from .allreduce import DEFAULT_BUCKET_BYTES, AllReduceReplica, RemotePeer
from .executor import graph_def_bytes
from .parameter_server import ParameterServer, shard_variables
from .replica_worker import RemoteShard, ReplicaWorker

__all__ = ["ReplicatedTrainer"]


class _PSActor(ParameterServer):
    """A ParameterServer whose weights leave through the object store once per version:
    `ray.put` of the live arrays (under the lock, so no update runs meanwhile) is the one
    copy, shared by every worker that pulls this version. Sparse pulls are shared the same
    way per (since, version): in sync rounds every worker pulls from the same version."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shared = (None, None)
        self._shared_rows: tuple = (None, {})  # ((version, epoch), {since: ref})

    def _publish(self):
        import ray
        if self._shared[0] != (self.version, self.epoch):
            self._shared = ((self.version, self.epoch),
                            ray.put(self.executor.get_weights(self.variables, copy=False)))
        return self._shared[1]

    def _publish_rows(self, since, rows):
        import ray
        key = (self.version, self.epoch)
        if self._shared_rows[0] != key:
            self._shared_rows = (key, {})  # the older versions' refs are released
        refs = self._shared_rows[1]
        if since not in refs:
            refs[since] = ray.put(self._row_payload(rows, copy=False))
        return refs[since]


class _WorkerActor(ReplicaWorker):
    def run_on(self, ps_handles, until_step: int, sync=None, timeout: float = 120.0) -> dict:
        return self.run([RemoteShard(h) for h in ps_handles], until_step, sync, timeout)


class ReplicatedTrainer:
    """Trains `train_op` of `graph` with `cluster`'s ps and worker tasks.

    Args:
        graph: the training graph (a Graph, GraphDef or its bytes).
        train_op: the op `minimize` / `apply_gradients` returned, or its name.
        data_fn: ``data_fn(worker_index, num_workers) -> iterator of {tensor name: batch}``,
            picklable (e.g. `ShardedBatches`).
        cluster: a ClusterSpec or {"ps": P, "worker": W} ({"worker": W} for all-reduce).
        mode: "sync" / "async" (parameter servers) or "allreduce"; default: sync when the
            graph uses SyncReplicasOptimizer, else async.
        staleness: async mode drops gradients more than this many versions old.
        checkpoint_dir, checkpoint_every: ps checkpoints (needed to survive a ps failure);
            with all-reduce, rank 0's.
        bucket_bytes, compression, allreduce_algorithm: the all-reduce's buckets, transfer
            compression (None or "fp16") and schedule ("ring" or "direct"); see
            actors/allreduce.py.
        strategy: placement-group strategy ("PACK", "SPREAD", "STRICT_SPREAD").
        bundle: resources per task (default {"CPU": 1}, or a share of the CPUs when the
            machine has fewer cores than tasks).
        worker_device, ps_device: devices inside the actors ("/gpu:0" asks Ray for a GPU).
        max_restarts: how often Ray restarts a dead actor.
        use_ray: False runs every task in a thread of this process.
        progress: print a progress line while training.

    Raises:
        ValueError: a cluster without ps or worker tasks (without worker tasks for
            all-reduce), a train op without gradients, compression outside all-reduce.
    """

    def __init__(self, graph, train_op, data_fn: Callable, cluster=None, *,
                 mode: str | None = None, staleness: int = 50,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 100,
                 strategy: str = "PACK", bundle: dict | None = None,
                 worker_device: str = "/cpu:0", ps_device: str = "/cpu:0",
                 max_restarts: int = 3, use_ray: bool = True, progress: bool = True,
                 bucket_bytes: int = DEFAULT_BUCKET_BYTES,
                 compression: str | None = None, allreduce_algorithm: str = "ring") -> None:
        allreduce = mode == "allreduce"
        if compression is not None and not allreduce:
            raise ValueError(f"compression={compression!r} applies to mode='allreduce' only, "
                             f"got mode={mode!r}")
        self.spec = ClusterSpec(cluster or ({"worker": 2} if allreduce else
                                            {"ps": 1, "worker": 2}))
        for job in ("worker",) if allreduce else ("ps", "worker"):
            if job not in self.spec.jobs:
                raise ValueError(f"The cluster needs a {job!r} job, got {self.spec}")
        self.train_op = train_op if isinstance(train_op, str) else train_op.name
        self._gd = graph_def_bytes(graph)
        self.num_workers = self.spec.num_tasks("worker")
        self.num_ps = 0 if allreduce else self.spec.num_tasks("ps")
        self.progress = progress
        self.use_ray = use_ray
        self.worker_restarts = 0
        self.cluster = None
        if allreduce:
            self._start_allreduce(data_fn, strategy, bundle, max_restarts,
                                  dict(bucket_bytes=bucket_bytes, compression=compression,
                                       algorithm=allreduce_algorithm,
                                       checkpoint_dir=checkpoint_dir,
                                       checkpoint_every=checkpoint_every,
                                       device=worker_device))
            return
        from actorflow.framework.graph_io import GraphDef
        import actorflow as tf
        probe = tf.Graph()
        with probe.as_default():
            gd = GraphDef()
            gd.ParseFromString(self._gd)
            tf.import_graph_def(gd, name="")
        self.shards = shard_variables(probe, self.train_op, self.num_ps)
        ps_kwargs = dict(mode=mode, staleness=staleness, checkpoint_dir=checkpoint_dir,
                         checkpoint_every=checkpoint_every, device=ps_device)
        worker_args = (self.shards, data_fn)
        if not use_ray:
            self.ps = [ParameterServer(self._gd, self.train_op, self.shards[k], shard_index=k,
                                       **ps_kwargs) for k in range(self.num_ps)]
            self.workers = [ReplicaWorker(self._gd, self.train_op, *worker_args, i,
                                          self.num_workers, device=worker_device)
                            for i in range(self.num_workers)]
            self.mode = self.ps[0].mode
            return
        from ._remote import get
        self._start_cluster(strategy, bundle)
        concurrency = 2 * self.num_workers + 4  # blocking pulls of every worker + control
        self.ps = [self.cluster.start("ps", k, _PSActor, self._gd, self.train_op,
                                      self.shards[k], shard_index=k, **ps_kwargs,
                                      options={"max_concurrency": concurrency,
                                               "max_restarts": max_restarts})
                   for k in range(self.num_ps)]
        self.workers = [self.cluster.start("worker", i, _WorkerActor, self._gd, self.train_op,
                                           *worker_args, i, self.num_workers,
                                           device=worker_device,
                                           options={"max_restarts": max_restarts})
                        for i in range(self.num_workers)]
        self.mode = get(self.ps[0].stats.remote())["mode"]

    def _start_cluster(self, strategy: str, bundle: dict | None) -> None:
        from ._remote import ensure_ray
        from .cluster import Cluster
        ray = ensure_ray()
        if bundle is None:
            # One CPU per task where the cluster has them, else an equal share of them.
            cpus = ray.cluster_resources().get("CPU", 1.0)
            n = self.num_ps + self.num_workers
            bundle = {"CPU": max(0.01, min(1.0, int(100 * cpus / (n + 1)) / 100))}
        self.cluster = Cluster(self.spec, strategy=strategy, bundle=bundle)

    def _start_allreduce(self, data_fn: Callable, strategy: str, bundle: dict | None,
                         max_restarts: int, kwargs: dict) -> None:
        self.mode = "allreduce"
        self.ps, self.shards = [], []
        self._epoch = 0
        args = (self._gd, self.train_op, data_fn)
        n = self.num_workers
        if not self.use_ray:
            self.workers = [AllReduceReplica(*args, i, n, **kwargs) for i in range(n)]
        else:
            self._start_cluster(strategy, bundle)
            # run, deliveries from the ring's predecessor, and the driver's abort/state calls
            options = {"max_concurrency": 4, "max_restarts": max_restarts}
            self.workers = [self.cluster.start("worker", i, AllReduceReplica, *args, i, n,
                                               **kwargs, options=options) for i in range(n)]
        self._resync()

    def _resync(self) -> None:
        """Every replica takes the state of the most advanced one (rank 0 at the start, where
        it restored its checkpoint; a live peer after a restart) and joins the ring's next
        epoch, which drops what an aborted round left in flight."""
        if self.use_ray:
            from ._remote import get, get_retrying, require_ray
            ray = require_ray()
            # get_retrying: a restarted replica may still be running its constructor.
            versions = [get_retrying(lambda w=w: w.version.remote()) for w in self.workers]
        else:
            versions = [w.version() for w in self.workers]
        src = max(range(self.num_workers), key=lambda i: (versions[i], -i))
        self._epoch += 1
        if self.use_ray:
            version, weights = get(self.workers[src].state.remote())
            shared = ray.put(weights)  # one copy, read by every replica
            get([w.load_state.remote(version, shared)
                 for i, w in enumerate(self.workers) if i != src])
            peers = [RemotePeer(w) for w in self.workers]
            get([w.connect.remote(peers, self._epoch) for w in self.workers])
            return
        version, weights = self.workers[src].state()
        for i, w in enumerate(self.workers):
            if i != src:
                w.load_state(version, weights)
        for w in self.workers:
            w.connect([p.ring for p in self.workers], self._epoch)

    # -- training ------------------------------------------------------------------------
    def train(self, steps: int, timeout: float = 120.0) -> dict:
        """Trains until the global step reaches `steps`; returns a summary.

        Raises:
            ValueError: steps < 1.
            RuntimeError: a worker failed for a reason other than its process dying, or
                died more often than Ray restarts it.
        """
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        t0 = time.perf_counter()
        if self.use_ray and self.mode == "allreduce":
            results = self._train_allreduce_ray(steps, timeout, t0)
        elif self.use_ray:
            results = self._train_ray(steps, timeout, t0)
        else:
            results = self._train_threads(steps, timeout, t0)
        wall = time.perf_counter() - t0
        step = self.global_step()
        return {"global_step": step, "wall_s": wall, "mode": self.mode,
                "worker_steps": sum(r["steps"] for r in results),
                "accepted": sum(r["accepted"] for r in results),
                "worker_restarts": self.worker_restarts}

    def _train_threads(self, steps: int, timeout: float, t0: float) -> list:
        results: list = [None] * len(self.workers)
        errors: list = []

        def work(i: int) -> None:
            try:
                if self.mode == "allreduce":
                    results[i] = self.workers[i].run(steps, timeout)
                else:
                    results[i] = self.workers[i].run(self.ps, steps, timeout=timeout)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                errors.append(e)
                if self.mode == "allreduce":
                    for w in self.workers:  # its peers would wait for it until they time out
                        w.abort()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(self.workers))]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=1.0)
            self._report(steps, t0)
        if errors:
            raise errors[0]
        return results

    def _train_ray(self, steps: int, timeout: float, t0: float) -> list:
        from ._remote import get, require_ray
        ray = require_ray()
        pending = {w.run_on.remote(self.ps, steps, None, timeout): i
                   for i, w in enumerate(self.workers)}
        results: list = [None] * len(self.workers)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in done:
                i = pending.pop(ref)
                try:
                    results[i] = get(ref)
                except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                    # The worker's process died; Ray restarts the actor: give it its work
                    # again (it pulls the current weights first).
                    self.worker_restarts += 1
                    pending[self.workers[i].run_on.remote(self.ps, steps, None, timeout)] = i
            self._report(steps, t0)
        if self.progress:
            sys.stderr.write("\n" if sys.stderr.isatty() else "")
        return results

    def _train_allreduce_ray(self, steps: int, timeout: float, t0: float) -> list:
        """Runs the replicas until the step; when one dies, aborts the others, lets Ray
        restart it, resynchronises every replica (`_resync`) and runs them again."""
        from ._remote import actor_restarting, get, require_ray
        ray = require_ray()
        totals = [{"steps": 0, "accepted": 0} for _ in self.workers]
        while True:
            pending = {w.run.remote(steps, timeout): i for i, w in enumerate(self.workers)}
            died = False
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in done:
                    i = pending.pop(ref)
                    try:
                        result = get(ref)
                    except (ray.exceptions.RayActorError,
                            ray.exceptions.ActorUnavailableError) as e:
                        if not actor_restarting(e):
                            raise RuntimeError(f"All-reduce worker {i} died and Ray does not "
                                               "restart it (max_restarts spent)") from e
                        died = True
                        self.worker_restarts += 1
                        for j in pending.values():  # blocked on the dead rank's messages
                            self.workers[j].abort.remote()
                        continue
                    totals[i]["steps"] += result["steps"]
                    totals[i]["accepted"] += result["accepted"]
                self._report(steps, t0)
            if not died:
                break
            self._resync()
        if self.progress:
            sys.stderr.write("\n" if sys.stderr.isatty() else "")
        return totals

    def _report(self, steps: int, t0: float) -> None:
        if not self.progress:
            return
        step = self.global_step()
        rate = step / max(1e-9, time.perf_counter() - t0)
        line = f"global step {step}/{steps}  {rate:,.0f} steps/s  ({self.mode})"
        end = "\r" if sys.stderr.isatty() else "\n"
        sys.stderr.write(line + end)
        sys.stderr.flush()

    # -- results -----------------------------------------------------------------------
    def global_step(self) -> int:
        """The global step (ps shard 0's, or all-reduce rank 0's)."""
        if self.mode == "allreduce":
            if self.use_ray:
                from ._remote import get_retrying
                return get_retrying(lambda: self.workers[0].global_step.remote())
            return self.workers[0].global_step()
        if self.use_ray:
            return RemoteShard(self.ps[0]).global_step()
        return self.ps[0].global_step()

    def weights(self) -> dict:
        """{name: array} of every variable the ps shards hold (with optimizer slots); with
        all-reduce, rank 0's (every replica holds the same)."""
        if self.mode == "allreduce":
            if self.use_ray:
                from ._remote import get_retrying
                return get_retrying(lambda: self.workers[0].weights.remote())
            return self.workers[0].weights()
        out = {}
        for k in range(self.num_ps):
            if self.use_ray:
                out.update(RemoteShard(self.ps[k])._call("weights"))
            else:
                out.update(self.ps[k].weights())
        return out

    def placement(self) -> dict:
        """{"/job:J/task:T": node id} (empty without Ray)."""
        return self.cluster.placement() if self.cluster is not None else {}

    def shutdown(self) -> None:
        """Stops the actors and frees their resources."""
        if self.cluster is not None:
            self.cluster.shutdown()
            self.cluster = None
