"""Running a partitioned plan: one thread per device, partitions of a run concurrently.

Each device that runs a partition gets a worker thread (created on first use, stopped when
the session closes) with the device made current once. A run hands every partition but one
to its device's worker and runs the largest itself in the calling thread; a `Rendezvous`
carries the transfers. Hand-offs to the workers happen under one lock, so every worker sees
concurrent runs in the same order; with the calling thread's partitions never queued, the
earliest run always has all of its partitions running and completes: concurrent runs cannot
deadlock each other.

A failure in any partition aborts the run's rendezvous (waking partitions blocked in
`_Recv`), and the first failure, translated to an OpError naming the op, is raised.

Runs that may block on another run are the exception: an op taking a ``resource`` handle
(a queue's dequeue or enqueue, a reader waiting for a filename) can wait for a run made by
another thread (a queue runner). Such a run's partitions never go to the device workers —
one of them blocked there would hold up every later run on that device, the run it waits
for included — but each to a thread of its own.
"""
from __future__ import annotations

import queue
import threading

from .. import errors
from .compile import copy_aliased
from .partition import Rendezvous, _Aborted, set_rendezvous

__all__ = ["DeviceWorkers", "MultiDevicePlan"]


class _Job:
    __slots__ = ("fn", "args", "done", "result", "error")

    def __init__(self, fn, args) -> None:
        self.fn = fn
        self.args = args
        self.done = threading.Event()
        self.result = None
        self.error = None

    def run(self) -> None:
        try:
            self.result = self.fn(*self.args)
        except BaseException as e:  # noqa: BLE001 - handed to the waiting run
            self.error = e
        finally:
            self.done.set()


class DeviceWorkers:
    """A session's per-device threads."""

    def __init__(self) -> None:
        self._queues: dict = {}
        self._threads: list = []
        self.lock = threading.Lock()

    def submit(self, device, fn, args) -> _Job:
        """Queues ``fn(*args)`` on `device`'s thread. Call with `lock` held."""
        q = self._queues.get(device)
        if q is None:
            q = self._queues[device] = queue.SimpleQueue()
            t = threading.Thread(target=_serve, args=(device, q), daemon=True,
                                 name=f"actorflow-{device.device_type}:{device.index}")
            t.start()
            self._threads.append(t)
        job = _Job(fn, args)
        q.put(job)
        return job

    def spawn(self, device, fn, args) -> _Job:
        """Runs ``fn(*args)`` in a new thread with `device` current (a partition that may
        block, kept off the device's worker thread)."""
        job = _Job(fn, args)
        threading.Thread(target=_run_on, args=(device, job), daemon=True,
                         name=f"actorflow-{device.device_type}:{device.index}-blocking").start()
        return job

    def stop(self) -> None:
        with self.lock:
            for q in self._queues.values():
                q.put(None)
            self._queues.clear()
            self._threads.clear()


def _run_on(device, job: _Job) -> None:
    with device.activate():
        job.run()


def _may_block(ops) -> bool:
    """Whether a partition holds an op reading a host resource handle (queues, readers),
    which can wait for another run."""
    from .. import dtypes
    return any(t.dtype == dtypes.resource for op in ops for t in op.inputs)


def _serve(device, q) -> None:
    with device.activate():
        while True:
            job = q.get()
            if job is None:
                return
            job.run()


def _run_partition(part, rv: Rendezvous, values, records):
    set_rendezvous(rv)
    try:
        plan = part.plan
        out = plan.run(*values) if records is None else plan.run_traced(values, records)
        return copy_aliased(out, plan.copy_mask) if plan.copies else out
    except BaseException as e:
        rv.abort()
        if isinstance(e, _Aborted):
            raise
        raise part.plan.translate(e).with_traceback(None) from None
    finally:
        set_rendezvous(None)


class MultiDevicePlan:
    """A run over several devices: ``plan.run(*feed_values)`` like a single-device Plan."""

    def __init__(self, partitions, feeds, fetches, workers: DeviceWorkers, n_transfers: int):
        self.partitions = partitions
        self._workers = workers
        self._n = n_transfers
        pos = {t: i for i, t in enumerate(feeds)}
        self._feed_index = [tuple(pos[t] for t in p.feeds) for p in partitions]
        # Where each fetch comes from: (partition index, position) or ("feed", position).
        self._fetch_from = []
        for f in fetches:
            if f in pos:
                self._fetch_from.append((-1, pos[f]))
                continue
            for k, p in enumerate(partitions):
                if f in p.fetches:
                    self._fetch_from.append((k, p.fetches.index(f)))
                    break
        # The calling thread runs the largest partition of this process.
        self._local = max(range(len(partitions)), key=lambda k: (
            not getattr(partitions[k].device, "is_remote", False), len(partitions[k].ops)))
        self.ops = [op for p in partitions for op in p.ops]
        self._may_block = _may_block(self.ops)
        self.copy_mask = tuple(False for _ in fetches)
        self.copies = False
        self.partition_graphs = [p.graph_def() for p in partitions]
        remote = [p.device for p in partitions if getattr(p.device, "is_remote", False)]
        self._remote_aborts = tuple(d.abort for d in remote)
        self._remote_done = tuple(d.forget for d in remote)

    def run(self, *feed_values):
        return self._run(feed_values, None)

    def run_traced(self, feed_values, records: list):
        return self._run(feed_values, records)

    def _run(self, feed_values, records):
        parts = self.partitions
        rv = Rendezvous(self._n, self._remote_aborts)
        per_part = [None if records is None else [] for _ in parts]
        args = [tuple(feed_values[i] for i in idx) for idx in self._feed_index]
        jobs = {}
        if self._may_block:
            for k, p in enumerate(parts):
                if k != self._local:
                    jobs[k] = self._workers.spawn(
                        p.device, _run_partition, (p, rv, args[k], per_part[k]))
        else:
            with self._workers.lock:
                for k, p in enumerate(parts):
                    if k != self._local:
                        jobs[k] = self._workers.submit(
                            p.device, _run_partition, (p, rv, args[k], per_part[k]))
        outputs = [None] * len(parts)
        failure = None
        with parts[self._local].device.activate():
            try:
                outputs[self._local] = _run_partition(parts[self._local], rv, args[self._local],
                                                      per_part[self._local])
            except BaseException as e:  # noqa: BLE001 - reported after the others stop
                failure = e
        for k, job in jobs.items():
            job.done.wait()
            if job.error is not None:
                if failure is None or isinstance(failure, _Aborted):
                    failure = job.error
            else:
                outputs[k] = job.result
        for forget in self._remote_done:
            forget(rv.run_id)  # every partition has finished: actors drop the run's mail
        if records is not None:
            records.extend((p, r) for p, r in zip(parts, per_part))
        if failure is not None:
            raise failure
        return tuple(feed_values[i] if k < 0 else outputs[k][i] for k, i in self._fetch_from)

    def translate(self, exc: BaseException, op=None) -> errors.OpError:
        if isinstance(exc, errors.OpError):
            return exc
        return errors.InternalError(None, op, f"{type(exc).__name__}: {exc}")

    def record_trace(self, run_metadata, records, t_start_wall: float) -> None:
        for part, recs in records:
            part.plan.record_trace(run_metadata, recs, t_start_wall)
