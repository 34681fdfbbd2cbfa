"""Queues in the graph (TF 1.x ``data_flow_ops``): `FIFOQueue`, `RandomShuffleQueue`,
`PaddingFIFOQueue`, `PriorityQueue` and their base `QueueBase`.

A queue op (FIFOQueueV2, ...) outputs a scalar ``resource`` handle whose value, in each
session, is that session's queue object — an instance of the plain classes of
``actorflow.queues``, created on first use and kept in the session's op state (two ops with
the same non-empty ``shared_name`` share one queue per session). The other ops take the
handle as input 0: QueueEnqueueV2, QueueEnqueueManyV2, QueueDequeueV2, QueueDequeueManyV2,
QueueDequeueUpToV2, QueueSizeV2, QueueIsClosedV2, QueueCloseV2. Their kernels call the queue
object; a dequeue blocks inside its kernel (the session's lock is not held then), so other
threads can run the enqueue ops concurrently, as queue runners do.

Timeouts: an op's ``timeout_ms`` attr, else the session's
``config.operation_timeout_in_ms`` when positive: a blocked queue op then raises
`DeadlineExceededError`. Errors as TF: a dequeue from a closed queue without enough items
raises `OutOfRangeError`; an enqueue into a closed queue, and any op blocked when the
session closes, `CancelledError`.

Every op here is stateful (never merged or folded) and host-only (the queue lives in host
memory); ops built by the Python classes are colocated with their queue.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dtypes
from .. import queues as _queues
from ..framework.graph import (Operation, Tensor, colocate_with, constant_value,
                               convert_to_tensor, make_op, name_scope)
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ..tensor_shape import TensorShape, as_shape
from .random import get_seed

__all__ = ["QueueBase", "FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue",
           "PriorityQueue"]

_QUEUE_TYPES = ("FIFOQueueV2", "RandomShuffleQueueV2", "PaddingFIFOQueueV2",
                "PriorityQueueV2")


# -- the queue ops ---------------------------------------------------------------------------
def _handle_infer(op):
    return [(_dtypes.resource, ())]


def _np_types(op) -> list:
    return [_dtypes.as_dtype(d).np for d in op.attrs["component_types"]]


def _attr_shapes(op) -> list | None:
    shapes = op.attrs.get("shapes") or None
    return None if shapes is None else [tuple(s) for s in shapes]


def _queue_kernel(make_queue):
    """Kernel factory of a queue op: returns the session's queue object on every run."""
    def factory(op, ctx):
        shared = op.attrs.get("shared_name") or ""
        key = ("shared_queue", shared) if shared else op
        queue = ctx.op_state(key, lambda: make_queue(op, ctx))

        def queue_handle():
            return queue
        return queue_handle
    return factory


def _make_fifo(op, ctx):
    return _queues.FIFOQueue(op.attrs["capacity"], _np_types(op), _attr_shapes(op),
                             name=op.name)


def _make_shuffle(op, ctx):
    return _queues.RandomShuffleQueue(op.attrs["capacity"], op.attrs["min_after_dequeue"],
                                      ctx.rng(op), _np_types(op), _attr_shapes(op),
                                      name=op.name)


def _make_padding(op, ctx):
    return _queues.PaddingFIFOQueue(op.attrs["capacity"], _np_types(op), _attr_shapes(op),
                                    name=op.name)


def _make_priority(op, ctx):
    shapes = _attr_shapes(op)
    return _queues.PriorityQueue(op.attrs["capacity"], _np_types(op),
                                 None if shapes is None else shapes, name=op.name)


for _type, _make, _doc in [
        ("FIFOQueueV2", _make_fifo, "A first-in first-out queue; outputs its handle."),
        ("RandomShuffleQueueV2", _make_shuffle, "A queue dequeuing in random order."),
        ("PaddingFIFOQueueV2", _make_padding,
         "A FIFO queue padding variable-size components on dequeue_many."),
        ("PriorityQueueV2", _make_priority, "A queue ordered by an int64 priority.")]:
    register_op(_type, infer=_handle_infer, grad=NOT_DIFFERENTIABLE,
                kernel=_queue_kernel(_make), stateful=True, host_only=True, doc=_doc)
del _type, _make, _doc


def _queue_attrs(handle: Tensor) -> tuple[list, list | None]:
    """(component dtypes, per-item shapes or None) of the queue behind `handle`, from its
    queue op (a PriorityQueue's int64 priority comes first)."""
    q = handle.op
    if q.type not in _QUEUE_TYPES:
        return None, None
    types = [_dtypes.as_dtype(d) for d in q.attrs["component_types"]]
    shapes = _attr_shapes(q)
    if q.type == "PriorityQueueV2":
        types = [_dtypes.int64] + types
        shapes = None if shapes is None else [()] + shapes
    return types, shapes


def _timeout(op, ctx) -> float | None:
    """Seconds a queue op may block: its timeout_ms attr, else the session's
    operation_timeout_in_ms (None: forever)."""
    ms = op.attrs.get("timeout_ms", -1)
    if ms is None or ms < 0:
        config = getattr(ctx.session, "_config", None)
        ms = getattr(config, "operation_timeout_in_ms", 0) or -1
    return None if ms < 0 else ms / 1000.0


def _check_handle(op):
    h = op.inputs[0]
    if h.dtype != _dtypes.resource:
        raise TypeError(f"{op.type}: input 0 must be a queue handle (resource), got "
                        f"{h.dtype.name}")


def _no_outputs_infer(op):
    _check_handle(op)
    return []


def _enqueue_kernel(many: bool):
    def factory(op, ctx):
        timeout = _timeout(op, ctx)
        if many:
            def queue_enqueue_many(queue, *components):
                queue.enqueue_many(components, timeout)
            return queue_enqueue_many

        def queue_enqueue(queue, *components):
            queue.enqueue(components, timeout)
        return queue_enqueue
    return factory


register_op("QueueEnqueueV2", infer=_no_outputs_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_enqueue_kernel(False), stateful=True, host_only=True,
            doc="Enqueues one item (inputs 1.. are its components); blocks while full.")
register_op("QueueEnqueueManyV2", infer=_no_outputs_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_enqueue_kernel(True), stateful=True, host_only=True,
            doc="Enqueues a batch (components sliced along dim 0), as room frees up.")


def _dequeue_infer(op):
    """One output per component: the queue's per-item shapes, with [n] (n known) or [None]
    (up_to, or n unknown) in front for the batch forms."""
    _check_handle(op)
    types = [_dtypes.as_dtype(d) for d in op.attrs["component_types"]]
    _, shapes = _queue_attrs(op.inputs[0])
    if shapes is None or len(shapes) != len(types):
        shapes = [None] * len(types)
    if op.type == "QueueDequeueV2":
        return [(t, s) for t, s in zip(types, shapes)]
    batch = None
    if op.type == "QueueDequeueManyV2":
        n = constant_value(op.inputs[1])
        batch = None if n is None else int(n)
    return [(t, None if s is None else (batch,) + tuple(s)) for t, s in zip(types, shapes)]


def _dequeue_kernel(op, ctx):
    timeout = _timeout(op, ctx)
    k = len(op.outputs)

    def queue_dequeue(queue):
        comps = queue.dequeue_many(1, timeout)
        if k == 1:
            return comps[0][0, ...]
        return tuple(c[0, ...] for c in comps)
    return queue_dequeue


def _dequeue_n_kernel(op, ctx):
    timeout = _timeout(op, ctx)
    k = len(op.outputs)
    up_to = op.type == "QueueDequeueUpToV2"

    def queue_dequeue_many(queue, n):
        n = int(n)
        comps = (queue.dequeue_up_to if up_to else queue.dequeue_many)(n, timeout)
        return comps[0] if k == 1 else tuple(comps)
    return queue_dequeue_many


register_op("QueueDequeueV2", infer=_dequeue_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_dequeue_kernel, stateful=True, host_only=True,
            doc="Dequeues one item; blocks while empty.")
register_op("QueueDequeueManyV2", infer=_dequeue_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_dequeue_n_kernel, stateful=True, host_only=True,
            doc="Dequeues n items stacked along a new dim 0; blocks until n are there.")
register_op("QueueDequeueUpToV2", infer=_dequeue_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_dequeue_n_kernel, stateful=True, host_only=True,
            doc="As QueueDequeueManyV2; once closed, returns the at most n items left.")


def _size_kernel(op, ctx):
    def queue_size(queue):
        return np.int32(queue.size())
    return queue_size


def _is_closed_kernel(op, ctx):
    def queue_is_closed(queue):
        return np.bool_(queue.is_closed())
    return queue_is_closed


def _close_kernel(op, ctx):
    cancel = bool(op.attrs.get("cancel_pending_enqueues", False))

    def queue_close(queue):
        queue.close(cancel)
    return queue_close


def _scalar_infer(dtype):
    def infer(op):
        _check_handle(op)
        return [(dtype, ())]
    return infer


register_op("QueueSizeV2", infer=_scalar_infer(_dtypes.int32), grad=NOT_DIFFERENTIABLE,
            kernel=_size_kernel, stateful=True, host_only=True,
            doc="The number of items in the queue (int32).")
register_op("QueueIsClosedV2", infer=_scalar_infer(_dtypes.bool), grad=NOT_DIFFERENTIABLE,
            kernel=_is_closed_kernel, stateful=True, host_only=True,
            doc="Whether the queue is closed.")
register_op("QueueCloseV2", infer=_no_outputs_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_close_kernel, stateful=True, host_only=True,
            doc="Closes the queue (cancel_pending_enqueues fails blocked enqueues).")


# -- the Python classes ----------------------------------------------------------------------
def _as_type_list(dtypes_) -> list:
    if isinstance(dtypes_, (list, tuple)):
        return [_dtypes.as_dtype(d) for d in dtypes_]
    return [_dtypes.as_dtype(dtypes_)]


def _as_shape_list(shapes, dtypes_: list, unknown_dim_allowed: bool = False,
                   unknown_rank_allowed: bool = False) -> list[TensorShape] | None:
    """The queue's per-component shapes (None: unknown), checked as TF checks them."""
    if shapes is None:
        return None
    if isinstance(shapes, TensorShape):
        shapes = [shapes]
    elif not isinstance(shapes, (list, tuple)):
        raise TypeError("shapes must be a list of shapes (one per component)")
    elif shapes and all(isinstance(d, (int, np.integer)) or d is None for d in shapes) \
            and len(dtypes_) == 1:
        shapes = [shapes]  # a single shape given for a single component
    elif not shapes and len(dtypes_) == 1:
        shapes = [shapes]
    shapes = [as_shape(s) for s in shapes]
    if len(shapes) != len(dtypes_):
        raise ValueError(f"shapes must have the same length as dtypes: {len(shapes)} "
                         f"shapes for {len(dtypes_)} dtypes")
    for s in shapes:
        if not unknown_dim_allowed and s.ndims is not None and not s.is_fully_defined():
            raise ValueError(f"All shapes must be fully defined: {[str(x) for x in shapes]}")
        if not unknown_rank_allowed and s.ndims is None:
            raise ValueError(f"All shapes must have a defined rank: "
                             f"{[str(x) for x in shapes]}")
    return shapes


def _as_name_list(names, dtypes_: list) -> list | None:
    if names is None:
        return None
    if not isinstance(names, (list, tuple)):
        names = [names]
    if len(names) != len(dtypes_):
        raise ValueError("List of names must have the same length as the list of dtypes")
    return list(names)


def _shape_attr(shapes) -> list:
    """The ``shapes`` attr: one tuple per component (None dims), or [] when unknown."""
    if shapes is None:
        return []
    return [tuple(s.as_list()) for s in shapes]


class QueueBase:
    """Base class of the queues of a graph (TF 1.x ``tf.QueueBase``).

    Wraps the queue's handle tensor (`queue_ref`) and builds the ops that use it. Values
    enqueued and dequeued are a list of tensors, one per component (a single tensor when
    the queue has one component, a dict when it has `names`).

    Args:
        dtypes: the component dtypes.
        shapes: their per-item static shapes (TensorShapes), or None when unknown.
        names: component names, or None.
        queue_ref: the queue's handle tensor (the output of a queue op).
    """

    def __init__(self, dtypes, shapes, names, queue_ref: Tensor) -> None:
        self._dtypes = list(dtypes)
        if shapes is not None:
            if len(shapes) != len(self._dtypes):
                raise ValueError("Queue shapes must have the same length as dtypes")
            self._shapes = [as_shape(s) for s in shapes]
        else:
            self._shapes = [TensorShape(None) for _ in self._dtypes]
        if names is not None:
            if len(names) != len(self._dtypes):
                raise ValueError("Queue names must have the same length as dtypes")
            self._names = list(names)
        else:
            self._names = None
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @staticmethod
    def from_list(index, queues: list) -> "QueueBase":
        """A queue that is one of `queues`, chosen at run time by the scalar int32 `index`.

        Raises:
            TypeError: `queues` is empty or holds a non-queue.
            ValueError: the queues differ in dtypes, shapes or names.
        """
        if not queues or not all(isinstance(q, QueueBase) for q in queues):
            raise TypeError("A list of queues expected")
        dtypes_ = queues[0].dtypes
        if not all(q.dtypes == dtypes_ for q in queues[1:]):
            raise TypeError("Queues do not have matching component dtypes.")
        names = queues[0].names
        if not all(q.names == names for q in queues[1:]):
            raise TypeError("Queues do not have matching component names.")
        shapes = queues[0].shapes
        for q in queues[1:]:
            shapes = [_common_shape(a, b) for a, b in zip(shapes, q.shapes)]
        refs = [q.queue_ref for q in queues]
        index = convert_to_tensor(index, dtype=_dtypes.int32, name="index")
        selected = make_op("QueueSelect", [index] + refs, {}, "QueueSelect").outputs[0]
        return QueueBase(dtypes_, shapes, names, selected)

    @property
    def queue_ref(self) -> Tensor:
        """The queue's handle tensor."""
        return self._queue_ref

    @property
    def name(self) -> str:
        """The name of the queue op."""
        return self._queue_ref.op.name

    @property
    def dtypes(self) -> list:
        """The component dtypes."""
        return list(self._dtypes)

    @property
    def shapes(self) -> list:
        """The per-item static shape of each component."""
        return list(self._shapes)

    @property
    def names(self) -> list | None:
        """The component names, or None."""
        return None if self._names is None else list(self._names)

    # -- building ops ----------------------------------------------------------------
    def _check_enqueue_dtypes(self, vals) -> list[Tensor]:
        """`vals` (tensor, list, tuple or dict) as a list of tensors of the queue's dtypes."""
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals.keys(), key=str):
                raise ValueError(f"Keys in dictionary to enqueue do not match names of "
                                 f"Queue.  Dictionary: {sorted(vals.keys())}, Queue: "
                                 f"{sorted(self._names)}")
            vals = [vals[k] for k in self._names]
        else:
            if self._names:
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
        if len(vals) != len(self._dtypes):
            raise ValueError(f"Expected {len(self._dtypes)} components to enqueue, got "
                             f"{len(vals)}")
        tensors = []
        for i, (v, dtype) in enumerate(zip(vals, self._dtypes)):
            t = convert_to_tensor(v, dtype=dtype, name=f"component_{i}")
            if t.dtype != dtype:
                raise TypeError(f"Component {i} of the enqueued value has dtype "
                                f"{t.dtype.name}, the queue holds {dtype.name}")
            tensors.append(t)
        return tensors

    def _scope_vals(self, vals) -> list:
        if isinstance(vals, (list, tuple)):
            return list(vals)
        if isinstance(vals, dict):
            return list(vals.values())
        return [vals]

    def _returned(self, op: Operation):
        """The dequeued tensors as TF returns them: one tensor, a list, or a dict."""
        tensors = list(op.outputs)
        if self._names:
            return dict(zip(self._names, tensors))
        if len(tensors) == 1:
            return tensors[0]
        return tensors

    def enqueue(self, vals, name=None) -> Operation:
        """An op that enqueues one item (blocking while the queue is full).

        Raises:
            ValueError: the components do not match the queue (count, names, shapes).
        """
        with name_scope(name, f"{self._name}_enqueue", self._scope_vals(vals)) as scope:
            tensors = self._check_enqueue_dtypes(vals)
            for t, shape in zip(tensors, self._shapes):
                if not t.get_shape().is_compatible_with(shape):
                    raise ValueError(f"Shape {t.get_shape()} of {t.name} is not compatible "
                                     f"with the queue's component shape {shape}")
            with colocate_with(self._queue_ref):
                return make_op("QueueEnqueueV2", [self._queue_ref] + tensors,
                               {"timeout_ms": -1}, scope)

    def enqueue_many(self, vals, name=None) -> Operation:
        """An op that enqueues a batch: each component is sliced along dimension 0 into
        items, which enter as room frees up (the batch may exceed the capacity); the op
        blocks until all are in.

        Raises:
            ValueError: the components disagree on dimension 0 or do not match the queue.
        """
        with name_scope(name, f"{self._name}_EnqueueMany",
                        self._scope_vals(vals)) as scope:
            tensors = self._check_enqueue_dtypes(vals)
            batch = None
            for t, shape in zip(tensors, self._shapes):
                s = t.get_shape()
                if s.ndims == 0:
                    raise ValueError(f"enqueue_many needs components of rank >= 1, got "
                                     f"{t.name} of shape {s}")
                if s.ndims is None:
                    continue
                dim0 = s.as_list()[0]
                if batch is not None and dim0 is not None and dim0 != batch:
                    raise ValueError(f"Components of enqueue_many disagree on dimension 0: "
                                     f"{batch} and {dim0}")
                batch = batch if dim0 is None else dim0
                if not TensorShape(s.as_list()[1:]).is_compatible_with(shape):
                    raise ValueError(f"Shape {s} of {t.name} is not compatible with the "
                                     f"queue's component shape [?] + {shape}")
            with colocate_with(self._queue_ref):
                return make_op("QueueEnqueueManyV2", [self._queue_ref] + tensors,
                               {"timeout_ms": -1}, scope)

    def _dequeue_op(self, op_type: str, inputs: list, name) -> Operation:
        with colocate_with(self._queue_ref):
            return make_op(op_type, [self._queue_ref] + inputs,
                           {"component_types": list(self._dtypes), "timeout_ms": -1}, name)

    def dequeue(self, name=None):
        """Tensors of one dequeued item (the op blocks while the queue is empty; on a closed,
        empty queue it raises OutOfRangeError)."""
        op = self._dequeue_op("QueueDequeueV2", [], name or f"{self._name}_Dequeue")
        for t, s in zip(op.outputs, self._shapes):
            t.set_shape(s)
        return self._returned(op)

    def dequeue_many(self, n, name=None):
        """Tensors of n dequeued items, stacked along a new dimension 0 (the op blocks
        until n items are there; OutOfRangeError once closed with fewer)."""
        n_t = convert_to_tensor(n, dtype=_dtypes.int32, name="n")
        op = self._dequeue_op("QueueDequeueManyV2", [n_t], name or
                              f"{self._name}_DequeueMany")
        v = constant_value(n_t)
        batch = TensorShape([None if v is None else int(v)])
        for t, s in zip(op.outputs, self._shapes):
            t.set_shape(batch.concatenate(s))
        return self._returned(op)

    def dequeue_up_to(self, n, name=None):
        """As `dequeue_many`, but once the queue is closed it returns the at most n items
        left (dimension 0 of the result is therefore unknown statically)."""
        n_t = convert_to_tensor(n, dtype=_dtypes.int32, name="n")
        op = self._dequeue_op("QueueDequeueUpToV2", [n_t], name or
                              f"{self._name}_DequeueUpTo")
        for t, s in zip(op.outputs, self._shapes):
            t.set_shape(TensorShape([None]).concatenate(s))
        return self._returned(op)

    def close(self, cancel_pending_enqueues: bool = False, name=None) -> Operation:
        """An op closing the queue: later enqueues fail, dequeues drain what is left;
        `cancel_pending_enqueues` also fails the enqueues blocked now."""
        with colocate_with(self._queue_ref):
            return make_op("QueueCloseV2", [self._queue_ref],
                           {"cancel_pending_enqueues": bool(cancel_pending_enqueues)},
                           name or f"{self._name}_Close")

    def is_closed(self, name=None) -> Tensor:
        """A bool scalar: whether the queue is closed."""
        with colocate_with(self._queue_ref):
            return make_op("QueueIsClosedV2", [self._queue_ref], {},
                           name or f"{self._name}_Is_Closed").outputs[0]

    def size(self, name=None) -> Tensor:
        """An int32 scalar: the number of items in the queue."""
        with colocate_with(self._queue_ref):
            return make_op("QueueSizeV2", [self._queue_ref], {},
                           name or f"{self._name}_Size").outputs[0]


def _common_shape(a: TensorShape, b: TensorShape) -> TensorShape:
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def _queue_op(op_type: str, attrs: dict, name: str) -> Tensor:
    return make_op(op_type, [], attrs, name).outputs[0]


class FIFOQueue(QueueBase):
    """A queue handing out items in the order they came (TF 1.x ``tf.FIFOQueue``).

    Args:
        capacity: the most items held; enqueues block beyond it.
        dtypes: a dtype or list of dtypes, one per component.
        shapes: None, or a fully defined per-item shape per component (needed by
            dequeue_many).
        names: None, or one name per component (items are then dicts).
        shared_name: queues of the same non-empty name share their state in a session.
        name: the queue op's name.
    """

    def __init__(self, capacity: int, dtypes, shapes=None, names=None, shared_name=None,
                 name: str = "fifo_queue") -> None:
        dtypes_ = _as_type_list(dtypes)
        shapes_ = _as_shape_list(shapes, dtypes_)
        names_ = _as_name_list(names, dtypes_)
        ref = _queue_op("FIFOQueueV2", {
            "component_types": dtypes_, "shapes": _shape_attr(shapes_),
            "capacity": int(capacity), "container": "", "shared_name": shared_name or ""},
            name)
        super().__init__(dtypes_, shapes_, names_, ref)


class RandomShuffleQueue(QueueBase):
    """A queue handing out items in random order (TF 1.x ``tf.RandomShuffleQueue``).

    A dequeue takes uniformly among the items held, and only while `min_after_dequeue`
    items would remain (unless the queue is closed), which keeps the mix large.

    Args:
        capacity, dtypes, shapes, names, shared_name, name: as `FIFOQueue`.
        min_after_dequeue: items kept back until the queue is closed.
        seed: with the graph seed, seeds the shuffling (``tf.set_random_seed`` rules).
    """

    def __init__(self, capacity: int, min_after_dequeue: int, dtypes, shapes=None,
                 names=None, seed=None, shared_name=None,
                 name: str = "random_shuffle_queue") -> None:
        dtypes_ = _as_type_list(dtypes)
        shapes_ = _as_shape_list(shapes, dtypes_)
        names_ = _as_name_list(names, dtypes_)
        seed1, seed2 = get_seed(seed)
        if not 0 <= int(min_after_dequeue) < int(capacity):
            raise ValueError(f"min_after_dequeue ({min_after_dequeue}) must be in "
                             f"[0, capacity ({capacity}))")
        ref = _queue_op("RandomShuffleQueueV2", {
            "component_types": dtypes_, "shapes": _shape_attr(shapes_),
            "capacity": int(capacity), "min_after_dequeue": int(min_after_dequeue),
            "seed": seed1, "seed2": seed2, "container": "",
            "shared_name": shared_name or ""}, name)
        super().__init__(dtypes_, shapes_, names_, ref)


class PaddingFIFOQueue(QueueBase):
    """A FIFO queue whose components may have dimensions of unknown size (TF 1.x
    ``tf.PaddingFIFOQueue``): dequeue_many pads each component with zeros (empty strings)
    to the largest size, per dimension, among the items dequeued together.

    Args:
        capacity, dtypes, names, shared_name, name: as `FIFOQueue`.
        shapes: required; a per-item shape per component, None for any size (the rank must
            be known).
    """

    def __init__(self, capacity: int, dtypes, shapes, names=None, shared_name=None,
                 name: str = "padding_fifo_queue") -> None:
        dtypes_ = _as_type_list(dtypes)
        shapes_ = _as_shape_list(shapes, dtypes_, unknown_dim_allowed=True)
        names_ = _as_name_list(names, dtypes_)
        if shapes_ is None or len(shapes_) != len(dtypes_):
            raise ValueError(f"Shapes must be provided for all components, but received "
                             f"{len(dtypes_)} dtypes and {shapes} shapes.")
        ref = _queue_op("PaddingFIFOQueueV2", {
            "component_types": dtypes_, "shapes": _shape_attr(shapes_),
            "capacity": int(capacity), "container": "", "shared_name": shared_name or ""},
            name)
        super().__init__(dtypes_, shapes_, names_, ref)


class PriorityQueue(QueueBase):
    """A queue handing out items by ascending int64 priority (TF 1.x ``tf.PriorityQueue``).

    Items are ``(priority, *components)``: enqueue a list whose first element is the scalar
    int64 priority; dequeues return it first.

    Args:
        capacity, shared_name, name: as `FIFOQueue`.
        types: the dtypes of the components after the priority.
        shapes: None, or their fully defined per-item shapes.
        names: must be None.
    """

    def __init__(self, capacity: int, types, shapes=None, names=None, shared_name=None,
                 name: str = "priority_queue") -> None:
        types_ = _as_type_list(types)
        shapes_ = _as_shape_list(shapes, types_)
        if names is not None:
            raise ValueError("PriorityQueue does not support named components")
        ref = _queue_op("PriorityQueueV2", {
            "component_types": types_, "shapes": _shape_attr(shapes_),
            "capacity": int(capacity), "container": "", "shared_name": shared_name or ""},
            name)
        all_shapes = None if shapes_ is None else [TensorShape([])] + shapes_
        super().__init__([_dtypes.int64] + types_, all_shapes, None, ref)


# -- selecting among queues (QueueBase.from_list) --------------------------------------------
def _select_infer(op):
    idx = op.inputs[0]
    if not idx.dtype.is_integer:
        raise TypeError(f"QueueSelect: index must be an integer, got {idx.dtype.name}")
    for h in op.inputs[1:]:
        if h.dtype != _dtypes.resource:
            raise TypeError(f"QueueSelect: inputs 1.. must be queue handles, got "
                            f"{h.dtype.name}")
    return [(_dtypes.resource, ())]


def _select_kernel(op, ctx):
    from .. import errors

    def queue_select(index, *queues):
        i = int(index)
        if not 0 <= i < len(queues):
            raise errors.InvalidArgumentError(
                None, op, f"QueueSelect: index {i} is not in [0, {len(queues)})")
        return queues[i]
    return queue_select


register_op("QueueSelect", infer=_select_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_select_kernel, stateful=True, host_only=True,
            doc="The handle of queue number `index` among inputs 1.. (QueueBase.from_list).")
