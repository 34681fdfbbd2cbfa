"""Placement pass: every op of a plan gets one device of the session.

Contract: ``place(ops, devices, soft=..., pinned=...)`` returns {op: LocalDevice} for the
pruned ops of one plan. The rules, in order:

1. **Colocation groups** (union-find). An op that writes a variable through a ref input
   (Assign, ApplyAdam, ...) joins the variable's group; an op created under
   ``colocate_with(x)`` (attr ``_class = ["loc:@x"]``) joins x's group. A group is placed as
   one: its members' device requests are merged field by field, and a variable placed by an
   earlier plan of the session (``pinned``) keeps its device, so variables never move.
2. **Explicit requests** are honoured: a group goes to a device that matches its merged
   request and has a kernel for every member. If none does, ``soft=True``
   (``allow_soft_placement``) falls back to a device of the requested type with kernels, else
   to the first CPU; without soft placement an InvalidArgumentError names the op, the request
   and why (no such device, or no kernel for that device type).
3. **Unconstrained variables** go to the first GPU that can hold them, else the first CPU:
   their cost lies in readers that later plans bring, so the cost model cannot judge them
   from the plan that first meets them (usually their initializer).
4. **Other unconstrained groups** (no request, or a request several devices match) go by a
   greedy simulation in topological order, as the TensorFlow whitepaper describes (book ch. 1):
   each group goes to the allowed device where its first op would *finish* earliest, counting
   when that device is free, when the op's inputs arrive (with the transfer time of inputs on
   other devices) and the op's estimated compute time from its shapes (`estimate_seconds`).
   With one device this is skipped. Constants go with their first consumer: they are bound
   into each plan that reads them and never cause a transfer.
"""
from __future__ import annotations

from .. import errors
from ..framework.device_spec import DeviceSpec
from ..framework.registry import has_kernel

__all__ = ["place", "estimate_seconds", "transfer_seconds", "PlacementError"]


class PlacementError(errors.InvalidArgumentError, ValueError):
    """No device satisfies an op's device request (and soft placement is off)."""


# -- the cost model ------------------------------------------------------------------------
# Rough device figures; only their ratios matter to the greedy choice. A logical CPU device's
# fixed transfer cost is a thread hand-off in Python (~50 µs), so only ops worth more than
# that spread over logical CPUs.
_FLOPS = {"CPU": 2e10, "GPU": 2e13}           # dense arithmetic, per second
_BYTES = {"CPU": 5e9, "GPU": 1.5e12}           # memory-bound ops: bytes touched per second
_LAUNCH = {"CPU": 1e-6, "GPU": 8e-6}           # fixed cost of one kernel call
_LATENCY_SAME_HOST_CPU = 50e-6
_LATENCY_PCIE, _PCIE_BYTES = 20e-6, 1.2e10
_LATENCY_PROCESS, _NETWORK_BYTES = 1e-3, 1e9  # to another process (an actor) or machine

# Ops that move no data: reads of state, views and metadata.
_FREE_TYPES = frozenset({"Const", "NoOp", "Placeholder", "PlaceholderWithDefault", "VariableV2",
                         "Identity", "StopGradient", "Reshape", "ExpandDims", "Squeeze",
                         "Shape", "ShapeN", "Size", "Rank"})


def _elems(t) -> int:
    shape = t._shape
    if shape is None:
        return 1
    n = 1
    for d in shape:
        n *= d if d is not None else 1
    return n


def _bytes(t) -> int:
    try:
        return _elems(t) * t.dtype.np.itemsize
    except (AttributeError, TypeError):
        return _elems(t) * 8


def _flops(op) -> float:
    """Arithmetic of the dense ops; 0 for the memory-bound rest."""
    if op.type in ("MatMul", "BatchMatMul") and len(op.inputs) == 2:
        a = op.inputs[0]._shape
        k = a[-1] if a and a[-1] is not None else 1
        if op.attrs.get("transpose_a") or op.attrs.get("adj_x"):
            k = a[-2] if a and len(a) > 1 and a[-2] is not None else 1
        return 2.0 * k * _elems(op.outputs[0])
    conv = _CONV_OPERANDS.get(op.type)
    if conv is not None:
        # 2·N·Ho·Wo·cout·kh·kw·cin = 2 · |output-side tensor| · |filter| / cout
        tensors = list(op.inputs) + list(op.outputs)
        grad_side, filt = tensors[conv[0]], tensors[conv[1]]
        cout = filt._shape[-1] if filt._shape and filt._shape[-1] is not None else 1
        return 2.0 * _elems(grad_side) * _elems(filt) / max(1, cout)
    return 0.0


# (output-side NHWC tensor, filter) positions in inputs + outputs of each convolution op.
_CONV_OPERANDS = {"Conv2D": (2, 1), "Conv2DBackpropInput": (2, 1),
                  "Conv2DBackpropFilter": (2, 3)}


def estimate_seconds(op, device_type: str) -> float:
    """Estimated run time of `op` on a device of `device_type`, from its static shapes."""
    if op.type in _FREE_TYPES:
        return 0.0
    touched = sum(_bytes(t) for t in op.inputs) + sum(_bytes(t) for t in op.outputs)
    return _LAUNCH[device_type] + max(_flops(op) / _FLOPS[device_type],
                                      touched / _BYTES[device_type])


def transfer_seconds(nbytes: int, src, dst) -> float:
    """Estimated time to move `nbytes` from device `src` to device `dst`."""
    if src is dst:
        return 0.0
    if src.is_remote or dst.is_remote:
        return _LATENCY_PROCESS + nbytes / _NETWORK_BYTES
    if not src.is_gpu and not dst.is_gpu:
        return _LATENCY_SAME_HOST_CPU
    return _LATENCY_PCIE + nbytes / _PCIE_BYTES


# -- colocation groups ---------------------------------------------------------------------
class _Groups:
    """Union-find over ops."""

    def __init__(self) -> None:
        self.parent: dict = {}
        self.seen: dict = {}  # every op ever unioned, in first-seen order

    def find(self, op):
        parent = self.parent
        root = op
        while parent.get(root, root) is not root:
            root = parent[root]
        while op is not root:  # path compression
            nxt = parent.get(op, op)
            parent[op] = root
            op = nxt
        return root

    def union(self, a, b) -> None:
        self.seen.setdefault(a, None)
        self.seen.setdefault(b, None)
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            if rb._id < ra._id:
                ra, rb = rb, ra
            self.parent[rb] = ra  # the earliest op (the variable) is the root


def _colocation_groups(ops) -> tuple[_Groups, dict]:
    groups = _Groups()
    graph = ops[0].graph if ops else None
    for op in ops:
        for i in op.op_def.ref_inputs:
            if i < len(op.inputs):
                groups.union(op, op.inputs[i].op)
        for cls in op.attrs.get("_class", ()) or ():
            if isinstance(cls, str) and cls.startswith("loc:@") and graph is not None:
                try:
                    other = graph.get_operation_by_name(cls[5:])
                except KeyError:
                    continue
                groups.union(op, other)
    # Ops outside the plan that a plan op is tied to (the variable an Assign writes, the
    # target of colocate_with) still bring their requests and pinned devices to the group.
    members: dict = {}
    for op in list(groups.seen) + [op for op in ops if op not in groups.seen]:
        members.setdefault(groups.find(op), []).append(op)
    for group in members.values():
        group.sort(key=lambda o: o._id)  # the earliest request (the variable's) wins clashes
    return groups, members


# -- resolving requests --------------------------------------------------------------------
def _merge_requests(members, soft: bool) -> tuple[DeviceSpec | None, object]:
    """The merged request of a group, and the op that made it (for messages)."""
    merged, source = None, None
    for op in members:
        if not op.device:
            continue
        spec = DeviceSpec.from_string(op.device)
        if merged is None:
            merged, source = spec, op
            continue
        fields = ("job", "replica", "task", "device_type", "device_index")
        clash = [f for f in fields if getattr(merged, f) is not None
                 and getattr(spec, f) is not None and getattr(merged, f) != getattr(spec, f)]
        if clash:
            if soft:
                continue
            raise PlacementError(None, op, f"Cannot colocate nodes '{source.name}' and "
                                 f"'{op.name}': they must share a device (one writes the "
                                 f"other's variable, or colocate_with ties them) but request "
                                 f"{source.device} and {op.device}.")
        merged = merged.merge_from(spec)
    return merged, source


def matches(spec: DeviceSpec, dev) -> bool:
    """Whether local device `dev` satisfies the (partial) request `spec`."""
    if (spec.job is not None and spec.job != dev.job) or \
            (spec.replica is not None and spec.replica != dev.replica) or \
            (spec.task is not None and spec.task != dev.task):
        return False
    if spec.device_type is not None and spec.device_type != dev.device_type:
        return False
    return spec.device_index is None or spec.device_index == dev.index


def _supports(members, dev) -> bool:
    if dev.is_gpu and any(t.dtype.name == "string" for op in members for t in op.outputs):
        return False  # CuPy has no string arrays
    return all(has_kernel(op.op_def, dev.device_type) for op in members)


def _allowed(members, spec, source, devices, soft: bool) -> list:
    """The devices a group may go to (several only when the choice is left to the cost model)."""
    capable = [d for d in devices if _supports(members, d)]
    if spec is None:
        return capable
    matching = [d for d in devices if matches(spec, d)]
    ok = [d for d in matching if d in capable]
    if ok:
        return ok
    if soft:
        same_type = [d for d in capable if d.device_type == spec.device_type]
        cpus = [d for d in capable if d.device_type == "CPU"]
        return (same_type or cpus or capable)[:1]
    names = ", ".join(d.name for d in devices)
    if matching:
        bad = next(op for op in members if not _supports([op], matching[0]))
        why = (f"no supported kernel for {matching[0].device_type} devices is available for "
               f"'{bad.name}' ({bad.type})")
    else:
        why = ("no devices matching that specification are registered in this process; "
               f"available devices: {names}")
        if spec.device_type == "GPU" and not any(d.is_gpu for d in devices):
            from .devices import gpu_unavailable_reason
            reason = gpu_unavailable_reason() or "the session's device_count asks for none"
            why += f" (no GPU: {reason})"
    raise PlacementError(None, source, f"Cannot assign a device for operation "
                         f"'{source.name}': Could not satisfy explicit device specification "
                         f"'{source.device}' because {why}. Pass allow_soft_placement=True in "
                         f"the session's ConfigProto to fall back to a device that can run it.")


# -- the pass ------------------------------------------------------------------------------
def place(ops, devices, *, soft: bool = False, pinned: dict | None = None,
          fed=frozenset()) -> dict:
    """Assigns a device to every op in `ops` (topologically sorted).

    Args:
        devices: the session's LocalDevices; the first is the CPU that holds feeds.
        soft: allow_soft_placement.
        pinned: {op: device} decided by earlier plans (variables); honoured and updated with
            the variables this call places.
        fed: tensors fed by the caller (they start on the host, `devices[0]`).

    Raises:
        PlacementError: a request no device satisfies, or colocated ops with clashing requests
            (without soft placement).
    """
    pinned = pinned if pinned is not None else {}
    groups, members = _colocation_groups(ops)
    chosen: dict = {}   # group root -> device
    allowed: dict = {}  # group root -> devices for the cost model to choose from
    for root, group in members.items():
        fixed = next((pinned[op] for op in group if op in pinned), None)
        if fixed is not None:
            chosen[root] = fixed
            continue
        spec, source = _merge_requests(group, soft)
        options = _allowed(group, spec, source, devices, soft)
        if not options:
            op = group[0]
            raise PlacementError(None, op, f"Cannot assign a device for operation '{op.name}' "
                                 f"({op.type}): no device of this session has a kernel for it")
        if len(options) == 1:
            chosen[root] = options[0]
        elif any(op.type == "VariableV2" for op in group):
            # A variable's cost is in its readers, which later plans bring (the first plan is
            # usually just its initializer): it goes to the fastest kind of device, first one.
            chosen[root] = next((d for d in options if d.is_gpu), options[0])
        else:
            allowed[root] = options
    if allowed:
        _greedy(ops, groups, chosen, allowed, devices, fed)
    out = {op: chosen[groups.find(op)] for op in ops}
    for root, group in members.items():
        for op in group:
            if op.type == "VariableV2" and op not in pinned:
                pinned[op] = chosen[root]  # also variables only written by this plan
    return out


def _greedy(ops, groups, chosen: dict, allowed: dict, devices, fed) -> None:
    """Simulates the run in topological order, placing each undecided group where its first
    op finishes earliest."""
    host = devices[0]
    free_at = {d: 0.0 for d in devices}
    done_at: dict = {}  # op -> (device, finish time)
    deferred = []
    for op in ops:
        root = groups.find(op)
        if root not in chosen and op.type == "Const" and not op.inputs:
            deferred.append(op)  # a constant follows its first consumer
            continue
        if root in chosen:
            candidates = [chosen[root]]
        else:
            candidates = allowed[root]
        best = None
        for dev in candidates:
            ready = 0.0
            for t in op.inputs:
                if t in fed:
                    src, at = host, 0.0
                elif t.op in done_at:
                    src, at = done_at[t.op]
                else:
                    continue  # a constant: bound wherever it is read
                ready = max(ready, at + transfer_seconds(_bytes(t), src, dev))
            for c in op.control_inputs:
                if c in done_at:
                    src, at = done_at[c]
                    ready = max(ready, at + (0.0 if src is dev else
                                             transfer_seconds(0, src, dev)))
            finish = max(ready, free_at[dev]) + estimate_seconds(op, dev.device_type)
            if best is None or finish < best[1]:
                best = (dev, finish)
        dev, finish = best
        chosen.setdefault(root, dev)
        free_at[dev] = finish
        done_at[op] = (dev, finish)
    for op in deferred:
        root = groups.find(op)
        if root in chosen:
            continue
        consumer = next((c for t in op.outputs for c in t.consumers()
                         if c in done_at and chosen.get(groups.find(c)) in allowed[root]), None)
        chosen[root] = chosen[groups.find(consumer)] if consumer is not None \
            else allowed[root][0]
