"""Partition pass: a placed op list becomes one op list per device, joined by Send/Recv.

Contract: ``partition(ops, placement, fetches, feeds)`` returns a `Partition` per device that
runs ops. Each edge whose producer and consumer sit on different devices becomes one transfer
per (tensor, destination device), however many ops on that device read the tensor: a `_Send`
right after the producer in the source partition, a `_Recv` right before the first reader in
the destination partition. Control edges that cross devices become token transfers the same
way. Constants are never transferred: every partition that reads one binds its own copy.

The pseudo-ops are not graph ops; they carry just what `compile_plan` reads (type, inputs,
outputs, an OpDef with a kernel factory), so each partition compiles like a single-device
plan. At run time the partitions run concurrently, each on its device's thread, and a
per-run `Rendezvous` carries the values: `_Recv` blocks until its `_Send` has run. A
partition's op order is a subsequence of one global topological order, so the op earliest in
that order among those not yet run can always run: the partitions cannot deadlock.
"""
from __future__ import annotations

import itertools
import threading

from .. import errors
from ..framework.graph_io import GraphDef
from ..framework.registry import NOT_DIFFERENTIABLE, OpDef

__all__ = ["Partition", "Transfer", "Rendezvous", "partition", "current_rendezvous"]


class Transfer:
    """One cross-device value: a tensor (or a control token when `tensor` is None)."""

    __slots__ = ("key", "tensor", "src", "dst", "snapshot", "source_op")

    def __init__(self, key: int, tensor, src, dst, snapshot: bool, source_op) -> None:
        self.key = key
        self.tensor = tensor
        self.src = src
        self.dst = dst
        self.snapshot = snapshot  # copy at send time: the value may alias variable storage
        self.source_op = source_op

    @property
    def name(self) -> str:
        what = self.tensor.name if self.tensor is not None else f"^{self.source_op.name}"
        return f"{what}->{self.dst.name}"


class Rendezvous:
    """The values of one run's transfers; `recv` blocks until the matching `send`.

    `run_id` names the run to devices in other processes (see `_send_kernel`)."""

    __slots__ = ("_values", "_events", "_failed", "run_id", "on_abort")

    def __init__(self, n: int, on_abort=()) -> None:
        self._values = [None] * n
        self._events = [threading.Event() for _ in range(n)]
        self._failed = False
        self.run_id = next(_run_ids)
        self.on_abort = on_abort  # callables(run_id): stop this run in other processes

    def send(self, key: int, value) -> None:
        self._values[key] = value
        self._events[key].set()

    def recv(self, key: int, timeout: float | None = None):
        if not self._events[key].wait(timeout):
            raise errors.DeadlineExceededError(None, None, "Timed out waiting for a value "
                                               "from another device")
        if self._failed:
            raise _Aborted()
        return self._values[key]

    def abort(self) -> None:
        """Wakes every waiting `recv` with `_Aborted` (another partition failed)."""
        if self._failed:
            return
        self._failed = True
        for e in self._events:
            e.set()
        for stop in self.on_abort:
            stop(self.run_id)


class _Aborted(errors.CancelledError):
    def __init__(self) -> None:
        super().__init__(None, None, "Run aborted: a partition on another device failed")


_local = threading.local()
_run_ids = itertools.count(1)


def current_rendezvous() -> Rendezvous:
    """The rendezvous of the run executing on this thread."""
    return _local.rendezvous


def set_rendezvous(rv: Rendezvous | None) -> None:
    _local.rendezvous = rv


# -- pseudo-ops ----------------------------------------------------------------------------
# A device in another process (an actor of a cluster) has ``is_remote``: a value for it is
# delivered into that process (``dst.deliver(run_id, key, value)``), and a value it sends
# here is fetched from it (``src.fetch(run_id, key)``); local devices share the rendezvous.
def _send_kernel(op, ctx):
    tr = op.transfer
    key, snapshot, dst = tr.key, tr.snapshot, tr.dst
    if getattr(dst, "is_remote", False):
        deliver = dst.deliver

        def send_remote(value=True):
            deliver(_local.rendezvous.run_id, key, value)
        return send_remote
    if tr.tensor is None:
        def send_token():
            _local.rendezvous.send(key, True)
        return send_token

    def send(value):
        if snapshot:
            value = value.copy()
        _local.rendezvous.send(key, value)
    return send


def _recv_kernel(op, ctx):
    tr = op.transfer
    key, src, timeout = tr.key, tr.src, ctx.transfer_timeout
    to_device = tr.dst.to_device
    if getattr(src, "is_remote", False):
        fetch = src.fetch

        def recv_remote():
            value = fetch(_local.rendezvous.run_id, key)
            return None if tr.tensor is None else to_device(value)
        return recv_remote
    if tr.tensor is None:
        def recv_token():
            _local.rendezvous.recv(key, timeout)
        return recv_token

    def recv():
        return to_device(_local.rendezvous.recv(key, timeout))
    return recv


def _no_infer(op):
    raise TypeError(f"{op.type} is made by the partition pass, not built in graphs")


_SEND_DEF = OpDef("_Send", _no_infer, NOT_DIFFERENTIABLE, _send_kernel, stateful=True)
_RECV_DEF = OpDef("_Recv", _no_infer, NOT_DIFFERENTIABLE, _recv_kernel, stateful=True)
_ids = itertools.count(1 << 40)


class _TransferOp:
    """A `_Send` or `_Recv` in a partition's op list (not part of the graph)."""

    control_inputs = ()

    def __init__(self, kind: str, transfer: Transfer, device) -> None:
        self.transfer = transfer
        self.op_def = _SEND_DEF if kind == "send" else _RECV_DEF
        self.type = self.op_def.type
        t = transfer.tensor
        self.inputs = [t] if (kind == "send" and t is not None) else []
        self.outputs = [t] if (kind == "recv" and t is not None) else []
        self.device = device.name
        self.attrs = {}
        self.name = f"{self.type}/{transfer.name}"
        self._id = next(_ids)

    def __repr__(self) -> str:
        return f"<{self.type} {self.transfer.name}>"


# -- the pass ------------------------------------------------------------------------------
class Partition:
    """The ops of one device (transfers included), and what it takes and returns."""

    def __init__(self, device) -> None:
        self.device = device
        self.ops: list = []
        self.feeds: list = []      # fed tensors this partition reads, in the run's feed order
        self.fetches: list = []    # tensors or ops of the run's fetches produced here
        self.plan = None

    def graph_def(self) -> GraphDef:
        """This partition as a GraphDef (no attrs): what RunMetadata.partition_graphs shows."""
        nodes = []
        for op in self.ops:
            inputs = [t.name for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs]
            nodes.append({"name": op.name, "op": op.type, "device": self.device.name,
                          "input": inputs})
        return GraphDef(node=nodes)


def partition(ops, placement: dict, fetches, feeds, aliasing=frozenset()) -> list[Partition]:
    """Splits placed `ops` into per-device partitions joined by transfers.

    Args:
        ops: the pruned ops in topological order.
        placement: {op: LocalDevice} from the placement pass.
        fetches: the run's fetches (Tensors or Operations), in order.
        feeds: the fed tensors, in the run's feed order.
        aliasing: tensors whose value may alias variable storage: a send between CPU devices
            copies them (the receiver must not see a later in-place update).

    Returns:
        The partitions, in the order of the devices' first ops.
    """
    fed = set(feeds)
    parts: dict = {}
    transfers: dict = {}   # (tensor or ("ctl", op), dst device) -> Transfer
    sends: dict = {}       # producer op -> [Transfer]
    in_part: dict = {}     # device -> set of ops already listed (constants may repeat)

    def part_for(dev) -> Partition:
        p = parts.get(dev)
        if p is None:
            p = parts[dev] = Partition(dev)
            in_part[dev] = set()
        return p

    def add(p: Partition, op) -> None:
        if op not in in_part[p.device]:
            in_part[p.device].add(op)
            p.ops.append(op)

    fetched_ops = {f if not hasattr(f, "op") else f.op for f in fetches if f not in fed}
    for op in ops:
        if op.type == "Const" and op not in fetched_ops:
            continue  # bound by each partition that reads it
        dev = placement[op]
        p = part_for(dev)
        ref = op.op_def.ref_inputs
        for i, t in enumerate(op.inputs):
            if t in fed or i in ref:
                continue
            src_op = t.op
            if src_op.type == "Const":
                add(p, src_op)  # bound into this partition's plan, never transferred
                continue
            src = placement[src_op]
            if src is dev:
                continue
            key = (t, dev)
            if key not in transfers:
                snapshot = (t in aliasing) and not (src.is_gpu or dev.is_gpu or
                                                    getattr(src, "is_remote", False) or
                                                    getattr(dev, "is_remote", False))
                tr = transfers[key] = Transfer(len(transfers), t, src, dev, snapshot, src_op)
                sends.setdefault(src_op, []).append(tr)
                p.ops.append(_TransferOp("recv", tr, dev))
        for c in op.control_inputs:
            if c not in placement or c.type == "Const":
                continue
            src = placement[c]
            if src is dev:
                continue
            key = (("ctl", c), dev)
            if key not in transfers:
                tr = transfers[key] = Transfer(len(transfers), None, src, dev, False, c)
                sends.setdefault(c, []).append(tr)
                p.ops.append(_TransferOp("recv", tr, dev))
        add(p, op)
        # Sends for this op's outputs are emitted once all its consumers are known (below).
    # Insert each producer's sends right after it, so values leave as early as possible.
    for p in parts.values():
        listed = []
        for op in p.ops:
            listed.append(op)
            if not isinstance(op, _TransferOp) and placement.get(op) is p.device:
                listed.extend(_TransferOp("send", tr, p.device) for tr in sends.get(op, ()))
        p.ops = listed
    for t in feeds:
        for p in parts.values():
            if any(t in op.inputs for op in p.ops if not isinstance(op, _TransferOp)):
                p.feeds.append(t)
    for f in fetches:
        if f in fed:
            continue
        op = f if not hasattr(f, "op") else f.op
        part_for(placement[op]).fetches.append(f)
    return list(parts.values())


def n_transfers(partitions) -> int:
    """The number of distinct transfers (Send/Recv pairs) joining `partitions`."""
    return sum(1 for p in partitions for op in p.ops if op.type == "_Recv")

