"""In-graph replication: partitions of a driver's graph run in the actors of cluster tasks.

``tf.Session(cluster)`` (a `Cluster`) sees, besides its own devices, one `RemoteDevice` per
task ("/job:worker/replica:0/task:1/device:CPU:0"). The placement and partition passes treat
them like any device; a partition placed on one is shipped to that task's
`PartitionExecutor` actor (the graph once, as a msgpack GraphDef, then the partition as op
names and transfer keys), compiled there, and run there on every step. Variables placed on
a task live in its actor, across runs and across driver sessions, as on a TF ps task.

Transfers between processes: a value for an actor is *delivered* into that actor's mailbox
for the run (``deliver(run_id, key, value)``: from the driver, or directly from another
actor); a value an actor sends to the driver waits in its mailbox until the driver
*fetches* it. A failed partition aborts the run everywhere (``abort(run_id)``).
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import threading

import numpy as np

import actorflow as tf
from actorflow import errors
from actorflow.framework.graph_io import GraphDef
from actorflow.framework.registry import NOT_DIFFERENTIABLE, OpDef
from actorflow.session.compile import compile_plan

from ._remote import get

__all__ = ["PartitionExecutor", "RemoteDevice"]


class _MailBox:
    """One run's values in one process: `put` then `take` (which waits), by key."""

    def __init__(self) -> None:
        self._values: dict = {}
        self._cond = threading.Condition()
        self.failed = False

    def put(self, key, value) -> None:
        with self._cond:
            self._values[key] = value
            self._cond.notify_all()

    def take(self, key, timeout: float | None = None):
        with self._cond:
            if not self._cond.wait_for(lambda: key in self._values or self.failed, timeout):
                raise errors.DeadlineExceededError(None, None, f"No value for transfer {key} "
                                                   f"within {timeout} s")
            if self.failed:
                raise errors.CancelledError(None, None, "Run aborted: a partition on another "
                                            "task failed")
            return self._values.pop(key)

    def abort(self) -> None:
        with self._cond:
            self.failed = True
            self._cond.notify_all()


class _MailOp:
    """A transfer in an actor's partition: a `_Recv` from its mailbox, or a `_Send` to the
    driver's mailbox here or into another actor's."""

    control_inputs = ()
    _ids = itertools.count(1 << 41)

    def __init__(self, kind: str, key: int, tensor, target, executor) -> None:
        self.key, self.target, self.executor = key, target, executor
        self.op_def = _MAIL_DEFS[kind]
        self.type = self.op_def.type
        self.inputs = [tensor] if kind == "send" and tensor is not None else []
        self.outputs = [tensor] if kind == "recv" and tensor is not None else []
        self.attrs, self.device = {}, ""
        self.name = f"{self.type}/{key}"
        self._id = next(self._ids)


def _mail_send_kernel(op, ctx):
    key, target, ex = op.key, op.target, op.executor

    def send(value=True):
        run_id = ex._current.run_id
        if target is None:
            ex._mailbox(run_id).put(("out", key), value)  # the driver fetches it
        else:
            target.deliver.remote(run_id, key, value)
    return send


def _mail_recv_kernel(op, ctx):
    key, ex, to_device = op.key, op.executor, ctx.device.to_device

    def recv():
        return to_device(ex._mailbox(ex._current.run_id).take(("in", key)))
    return recv


def _no_infer(op):
    raise TypeError("made by the partition pass")


_MAIL_DEFS = {"send": OpDef("_Send", _no_infer, NOT_DIFFERENTIABLE, _mail_send_kernel,
                            stateful=True),
              "recv": OpDef("_Recv", _no_infer, NOT_DIFFERENTIABLE, _mail_recv_kernel,
                            stateful=True)}


class PartitionExecutor:
    """Hosts the partitions that driver sessions place on one cluster task.

    Args:
        device: this task's device inside its actor ("/cpu:0", or "/gpu:0" on a GPU actor).
    """

    def __init__(self, device: str = "/cpu:0") -> None:
        self.device = device
        self._graphs: dict = {}   # digest -> (graph, session)
        self._plans: list = []
        self._boxes: dict = {}
        self._lock = threading.Lock()
        self._current = threading.local()

    def has_graph(self, digest: str) -> bool:
        return digest in self._graphs

    def load_graph(self, digest: str, graph_def: bytes) -> None:
        """Imports a driver graph; its variables live in this actor from now on."""
        gd = GraphDef()
        gd.ParseFromString(graph_def)
        graph = tf.Graph()
        with graph.as_default():
            tf.import_graph_def(gd, name="")
        with self._lock:
            self._graphs.setdefault(digest, (graph, tf.Session(graph=graph)))

    def load_partition(self, digest: str, spec: dict) -> int:
        """Compiles a partition ({"ops", "feeds", "fetches"} by name) and returns its id."""
        graph, session = self._graphs[digest]
        device = next(d for d in session._local_devices()
                      if d.device_type == tf.DeviceSpec.from_string(self.device).device_type
                      or self.device == "")
        ops = []
        for entry in spec["ops"]:
            if entry[0] == "op":
                ops.append(graph.get_operation_by_name(entry[1]))
                continue
            kind, key, tensor_name, target = entry
            tensor = graph.get_tensor_by_name(tensor_name) if tensor_name else None
            ops.append(_MailOp(kind, key, tensor, target, self))
        feeds = [graph.get_tensor_by_name(n) for n in spec["feeds"]]
        fetches = [graph.as_graph_element(n) for n in spec["fetches"]]
        plan = compile_plan(ops, fetches, feeds, session._context(device))
        with self._lock:
            self._plans.append(plan)
            return len(self._plans) - 1

    def run_partition(self, plan_id: int, run_id: int, feeds: tuple) -> tuple:
        """Runs a loaded partition as part of the driver's run `run_id`."""
        plan = self._plans[plan_id]
        self._current.run_id = run_id
        box = self._mailbox(run_id)
        try:
            out = plan.run(*feeds)
        except BaseException as e:
            box.abort()
            if isinstance(e, errors.CancelledError):
                raise
            raise plan.translate(e).with_traceback(None) from None
        finally:
            self._current.run_id = None
        return tuple(np.array(v, copy=True) if m and v is not None else v
                     for v, m in zip(out, plan.copy_mask))

    def deliver(self, run_id: int, key: int, value) -> None:
        self._mailbox(run_id).put(("in", key), value)

    def fetch(self, run_id: int, key: int, timeout: float | None = None):
        box = self._mailbox(run_id)
        value = box.take(("out", key), timeout)
        return value

    def abort(self, run_id: int) -> None:
        self._mailbox(run_id).abort()

    def forget(self, run_id: int) -> None:
        """Drops a finished run's mailbox."""
        with self._lock:
            self._boxes.pop(run_id, None)

    def _mailbox(self, run_id: int) -> _MailBox:
        box = self._boxes.get(run_id)
        if box is None:
            with self._lock:
                box = self._boxes.setdefault(run_id, _MailBox())
        return box


class _RemotePlan:
    """A partition compiled in a task's actor; ``run`` runs it there for the current run."""

    def __init__(self, device: "RemoteDevice", plan_id: int, n_fetches: int) -> None:
        self.device = device
        self.plan_id = plan_id
        self.copy_mask = (False,) * n_fetches
        self.copies = False

    def run(self, *feeds):
        from actorflow.session.partition import current_rendezvous
        run_id = current_rendezvous().run_id
        return get(self.device.handle.run_partition.remote(self.plan_id, run_id, feeds))

    def run_traced(self, feeds, records):
        return self.run(*feeds)

    def translate(self, exc, op=None):
        if isinstance(exc, errors.OpError):
            return exc
        return errors.InternalError(None, op, f"{self.device.name}: {type(exc).__name__}: "
                                    f"{exc}")

    def record_trace(self, run_metadata, records, t_start_wall) -> None:
        pass


class RemoteDevice:
    """A cluster task's device, as the driver session's passes see it."""

    is_remote = True
    is_gpu = False
    xp = np

    def __init__(self, job: str, task: int, handle, device_type: str = "CPU",
                 index: int = 0) -> None:
        self.job, self.replica, self.task = job, 0, task
        self.device_type, self.index = device_type, index
        self.handle = handle
        self.name = f"/job:{job}/replica:0/task:{task}/device:{device_type}:{index}"
        self._digests: dict = {}

    def __repr__(self) -> str:
        return f"RemoteDevice({self.name!r})"

    def activate(self):
        return contextlib.nullcontext()

    def to_device(self, value):
        return value

    def to_host(self, value):
        return value

    def deliver(self, run_id: int, key: int, value) -> None:
        self.handle.deliver.remote(run_id, key, value)  # ordered after earlier calls

    def fetch(self, run_id: int, key: int):
        return get(self.handle.fetch.remote(run_id, key))

    def abort(self, run_id: int) -> None:
        self.handle.abort.remote(run_id)

    def forget(self, run_id: int) -> None:
        """The run is over everywhere: the actor may drop its mailbox."""
        self.handle.forget.remote(run_id)

    def compile_partition(self, part, graph) -> _RemotePlan:
        """Ships `graph` (once per version of it) and the partition to the task's actor."""
        digest = self._graph_digest(graph)
        spec = {"ops": [], "feeds": [t.name for t in part.feeds],
                "fetches": [f.name for f in part.fetches]}
        for op in part.ops:
            tr = getattr(op, "transfer", None)
            if tr is None:
                spec["ops"].append(("op", op.name))
                continue
            name = tr.tensor.name if tr.tensor is not None else None
            if op.type == "_Send":
                target = tr.dst.handle if getattr(tr.dst, "is_remote", False) else None
                spec["ops"].append(("send", tr.key, name, target))
            else:
                spec["ops"].append(("recv", tr.key, name, None))
        plan_id = get(self.handle.load_partition.remote(digest, spec))
        return _RemotePlan(self, plan_id, len(part.fetches))

    def _graph_digest(self, graph) -> str:
        key = (id(graph), len(graph._ops))  # graphs only grow: the op count versions them
        digest = self._digests.get(key)
        if digest is None:
            data = graph.as_graph_def().SerializeToString()
            digest = hashlib.sha1(data).hexdigest()
            if not get(self.handle.has_graph.remote(digest)):
                get(self.handle.load_graph.remote(digest, data))
            self._digests[key] = digest
        return digest
