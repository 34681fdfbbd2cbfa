"""TF 1.x queues (``tf.FIFOQueue``, ``tf.RandomShuffleQueue``) as plain classes and as actors.

`FIFOQueue` and `RandomShuffleQueue` are ordinary thread-safe classes (one lock, one
condition) with TF 1.x semantics: fixed capacity, blocking enqueue/dequeue with timeouts,
``dequeue_many`` (blocks until n items), ``dequeue_up_to`` (after close, returns what is
left), ``close(cancel_pending_enqueues)``; the shuffle queue keeps ``min_after_dequeue`` items
until closed. `QueueActor` hosts either in a Ray actor and re-raises the queue's exceptions
on the caller with their own types.

Items and storage. An item is a single array-like, a tuple of components or a dict of named
components (``names=``); every item of a queue has the same structure, dtypes and per-item
shapes (given, or taken from the first enqueue). Items are stored columnar: one preallocated
NumPy array of shape ``[capacity, *shape]`` per component, so ``enqueue_many`` and
``dequeue_many`` are array copies, with no Python loop per item. ``enqueue_many`` takes a batch
(a tuple/dict of arrays, or one array, with first dimension = count) or a list of items.
Components of non-numeric values (strings, arbitrary objects) live in object columns.

Errors (subclasses of the ``actorflow.errors`` run-time types):

- `QueueEmpty` (a `DeadlineExceededError` and a ``queue.Empty``): a dequeue timed out.
- `QueueFull` (a `DeadlineExceededError` and a ``queue.Full``): an enqueue timed out.
- `QueueClosed` (an `OutOfRangeError`): dequeue from a closed queue without enough items,
  enqueue to a closed queue, or a blocked enqueue cancelled by
  ``close(cancel_pending_enqueues=True)``. TF 1.x raises ``CancelledError`` for the enqueue
  cases; one type here keeps consumer and producer loops alike (``except QueueClosed``).

Why not ``ray.util.queue.Queue``: it is the model for the shape of `QueueActor` (a plain
class made remote in the handle's constructor, batch calls, ``Empty``/``Full`` types), but it
stores Python objects one by one in an ``asyncio.Queue`` (batch calls loop per item and
return lists), has no close/cancel semantics, no ``min_after_dequeue`` shuffling and no
blocking batch dequeue. The plain classes here also serve in-process pipelines without Ray.

Not thread-fair: a blocked ``dequeue_many(n)`` can be overtaken by smaller requests. A batch
larger than the capacity is rejected (``ValueError``) instead of being split.
"""
from __future__ import annotations

import queue as _stdlib_queue
import threading
import time
from collections.abc import Mapping
from typing import Any, Sequence

import numpy as np

from actorflow import errors

from ._remote import as_actor, get

__all__ = ["FIFOQueue", "RandomShuffleQueue", "QueueActor", "QueueEmpty", "QueueFull",
           "QueueClosed"]


class QueueEmpty(errors.DeadlineExceededError, _stdlib_queue.Empty):
    """A dequeue timed out before enough items arrived."""

    def __init__(self, message: str = "") -> None:
        errors.OpError.__init__(self, None, None, message)


class QueueFull(errors.DeadlineExceededError, _stdlib_queue.Full):
    """An enqueue timed out before enough capacity became free."""

    def __init__(self, message: str = "") -> None:
        errors.OpError.__init__(self, None, None, message)


class QueueClosed(errors.OutOfRangeError):
    """The queue is closed: no more items will come, or this enqueue is refused."""

    def __init__(self, message: str = "") -> None:
        errors.OpError.__init__(self, None, None, message)


_SINGLE, _TUPLE, _DICT = "single", "tuple", "dict"


def _is_object_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in "OUSV"


class _QueueBase:
    """Structure handling, columnar storage and the blocking protocol of both queues.

    Subclasses implement the storage order: ``_put(columns, count)``, ``_take(n)`` and
    ``_ready(n)`` (may n items be dequeued now, the queue being open).
    """

    def __init__(self, capacity: int, dtypes=None, shapes=None, names=None,
                 name: str = "queue") -> None:
        if int(capacity) <= 0:
            raise ValueError(f"{name}: capacity must be positive, got {capacity}")
        self.capacity = int(capacity)
        self.name = name
        self._kind, self._names, self._dtypes, self._shapes = _declared_structure(
            name, dtypes, shapes, names)
        self._columns: list[np.ndarray] | None = None
        self._size = 0
        self._closed = False
        self._cancelled = False
        self._cond = threading.Condition()

    # ----- public API -------------------------------------------------------------------
    def enqueue(self, item: Any, timeout: float | None = None) -> None:
        """Adds one item, blocking while the queue is full.

        Raises:
            QueueFull: no room within `timeout` seconds.
            QueueClosed: the queue is closed, or was closed with cancel_pending_enqueues.
            ValueError, TypeError: the item does not match the queue's structure.
        """
        columns = self._converted(lambda: self._to_columns(self._split(item), None))
        self._enqueue(columns, 1, timeout)

    def enqueue_many(self, items: Any, timeout: float | None = None) -> None:
        """Adds a batch atomically: a tuple/dict of arrays (or one array) whose first
        dimension is the count, or a list of items. Blocks until all of it fits.

        Raises:
            QueueFull, QueueClosed: as `enqueue`.
            ValueError: the batch is larger than the capacity, or its components disagree
                on the count; TypeError: a dtype that does not cast.
        """
        columns, count = self._converted(lambda: self._batch_columns(items))
        if count:
            self._enqueue(columns, count, timeout)

    def dequeue(self, timeout: float | None = None):
        """Removes and returns one item (same structure as enqueued).

        Raises:
            QueueEmpty: nothing arrived within `timeout` seconds.
            QueueClosed: the queue is closed and empty (also when it closes while waiting).
        """
        return self._join([c[0] for c in self._dequeue(1, timeout, up_to=False)])

    def dequeue_many(self, n: int, timeout: float | None = None):
        """Removes n items, blocking until there are n; returns stacked columns
        (each component with first dimension n).

        Raises:
            QueueEmpty: fewer than n within `timeout` seconds (nothing is removed).
            QueueClosed: the queue is closed with fewer than n items left.
            ValueError: n is larger than the capacity.
        """
        return self._join(self._dequeue(n, timeout, up_to=False))

    def dequeue_up_to(self, n: int, timeout: float | None = None):
        """As `dequeue_many` while the queue is open; once closed, returns the at most n
        items left.

        Raises:
            QueueEmpty: as `dequeue_many`.
            QueueClosed: the queue is closed and empty.
        """
        return self._join(self._dequeue(n, timeout, up_to=True))

    def close(self, cancel_pending_enqueues: bool = False) -> None:
        """Closes the queue: later enqueues fail, dequeues drain what is left.

        Blocked consumers wake up (and get `QueueClosed` if not enough is left). Enqueues
        already blocked may still complete, unless `cancel_pending_enqueues`, which fails
        them with `QueueClosed`.
        """
        with self._cond:
            self._closed = True
            self._cancelled = self._cancelled or bool(cancel_pending_enqueues)
            self._cond.notify_all()

    def size(self) -> int:
        """Number of items in the queue."""
        with self._cond:
            return self._size

    def is_closed(self) -> bool:
        """Whether `close` was called."""
        with self._cond:
            return self._closed

    # ----- blocking protocol ------------------------------------------------------------
    def _enqueue(self, columns: list[np.ndarray], count: int, timeout: float | None) -> None:
        if count > self.capacity:
            raise ValueError(f"{self.name}: cannot enqueue {count} items into a queue of "
                             f"capacity {self.capacity}")
        deadline = _deadline(timeout)
        with self._cond:
            if self._closed:
                raise QueueClosed(f"{self.name} is closed: enqueue refused")
            while self.capacity - self._size < count:
                if self._cancelled:
                    raise QueueClosed(f"{self.name} was closed: pending enqueue cancelled")
                if not self._wait(deadline):
                    raise QueueFull(f"{self.name}: no room for {count} item(s) within "
                                    f"{timeout} s (size {self._size}/{self.capacity})")
            if self._cancelled:
                raise QueueClosed(f"{self.name} was closed: pending enqueue cancelled")
            self._put(columns, count)
            self._size += count
            self._cond.notify_all()

    def _dequeue(self, n: int, timeout: float | None, up_to: bool) -> list[np.ndarray]:
        n = int(n)
        if n <= 0 or n > self.capacity:
            raise ValueError(f"{self.name}: cannot dequeue {n} items from a queue of "
                             f"capacity {self.capacity}")
        deadline = _deadline(timeout)
        with self._cond:
            while True:
                if self._closed:
                    if self._size >= n or (up_to and self._size > 0):
                        n = min(n, self._size)
                        break
                    raise QueueClosed(f"{self.name} is closed and has {self._size} item(s) "
                                      f"left, fewer than the {n} requested")
                if self._ready(n):
                    break
                if not self._wait(deadline):
                    raise QueueEmpty(f"{self.name}: fewer than {n} item(s) ready within "
                                     f"{timeout} s (size {self._size})")
            out = self._take(n)
            self._size -= n
            self._cond.notify_all()
            return out

    def _wait(self, deadline: float | None) -> bool:
        """Waits on the condition; False once the deadline has passed."""
        if deadline is None:
            self._cond.wait()
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self._cond.wait(remaining)
        return True

    # ----- structure ----------------------------------------------------------------------
    def _converted(self, convert):
        """convert(), under the lock until the first enqueue has fixed the structure."""
        if self._columns is not None:
            return convert()
        with self._cond:
            return convert()

    def _batch_columns(self, items: Any) -> tuple[list[np.ndarray] | None, int]:
        """(columns, count) of an enqueue_many argument: a list of items or a batch."""
        if isinstance(items, list):
            if not items:
                return None, 0
            per_item = [self._split(it) for it in items]
            if len({len(p) for p in per_item}) != 1:
                raise ValueError(f"{self.name}: items of one enqueue_many have different "
                                 f"numbers of components")
            comps = [[p[c] for p in per_item] for c in range(len(per_item[0]))]
            return self._to_columns(comps, len(items), stacked=False), len(items)
        comps = self._split(items)
        counts = {np.shape(c)[0] if np.ndim(c) else None for c in comps}
        if len(counts) != 1 or None in counts:
            raise ValueError(f"{self.name}: enqueue_many needs components with one first "
                             f"dimension (the count); got shapes {[np.shape(c) for c in comps]}")
        count = counts.pop()
        return (self._to_columns(comps, count), count) if count else (None, 0)

    def _split(self, item: Any) -> list:
        """The components of one item (or one batch), in component order."""
        kind = self._kind or _kind_of(item)
        if kind == _DICT:
            if not isinstance(item, Mapping):
                raise TypeError(f"{self.name}: expected a dict with keys {self._names}, "
                                f"got {type(item).__name__}")
            names = self._names if self._names is not None else list(item)
            if set(item) != set(names):
                raise ValueError(f"{self.name}: expected keys {sorted(names)}, "
                                 f"got {sorted(item)}")
            self._kind, self._names = kind, names
            return [item[k] for k in names]
        if kind == _TUPLE:
            if not isinstance(item, tuple):
                raise TypeError(f"{self.name}: expected a tuple of {len(self._dtypes or ())} "
                                f"components, got {type(item).__name__}")
            if self._dtypes is not None and len(item) != len(self._dtypes):
                raise ValueError(f"{self.name}: expected {len(self._dtypes)} components, "
                                 f"got {len(item)}")
            self._kind = kind
            return list(item)
        if isinstance(item, (tuple, Mapping)):
            if isinstance(item, tuple) and len(item) == 1:
                item = item[0]
            else:
                raise TypeError(f"{self.name}: holds single-component items, got a "
                                f"{type(item).__name__}")
        self._kind = kind
        return [item]

    def _join(self, comps: Sequence):
        if self._kind == _DICT:
            return dict(zip(self._names, comps))
        if self._kind == _TUPLE:
            return tuple(comps)
        return comps[0]

    def _to_columns(self, comps: list, count: int | None, stacked: bool = True) -> list:
        """Components as arrays of shape [count, *shape] in the queue's dtypes; the first
        call fixes the dtypes/shapes not declared and allocates the storage.

        `count` None: one item, not batched. `stacked` False: each component is a list of
        per-item values.
        """
        dtypes = self._dtypes or [None] * len(comps)
        shapes = self._shapes or [None] * len(comps)
        out = []
        for c, (value, dtype, shape) in enumerate(zip(comps, dtypes, shapes)):
            arr = _as_column(value, dtype, stacked, self.name, c)
            if count is None:
                arr = arr[None]
            if shape is not None and arr.shape[1:] != shape:
                raise ValueError(f"{self.name}: component {c} has per-item shape "
                                 f"{arr.shape[1:]}, expected {shape}")
            out.append(arr)
        if self._columns is None:
            self._allocate([a.dtype for a in out], [a.shape[1:] for a in out])
        return out

    def _allocate(self, dtypes: list, shapes: list) -> None:
        self._dtypes = [np.dtype(object) if _is_object_dtype(d) else d for d in dtypes]
        self._shapes = [tuple(s) for s in shapes]
        self._columns = [np.empty((self.capacity, *s), d)
                         for d, s in zip(self._dtypes, self._shapes)]

    # ----- storage order (subclasses) -----------------------------------------------------
    def _put(self, columns: list[np.ndarray], count: int) -> None:
        raise NotImplementedError

    def _take(self, n: int) -> list[np.ndarray]:
        raise NotImplementedError

    def _ready(self, n: int) -> bool:
        raise NotImplementedError


class FIFOQueue(_QueueBase):
    """First-in first-out queue of `capacity` items (TF 1.x ``tf.FIFOQueue``).

    Args:
        capacity: most items held; enqueues block beyond it.
        dtypes: one dtype, or one per component; None takes them from the first enqueue.
        shapes: per-item shape of each component (fully defined); None: from the first enqueue.
        names: component names; items are then dicts with these keys.
    """

    def __init__(self, capacity: int, dtypes=None, shapes=None, names=None,
                 name: str = "fifo_queue") -> None:
        super().__init__(capacity, dtypes, shapes, names, name)
        self._head = 0

    def _ready(self, n: int) -> bool:
        return self._size >= n

    def _put(self, columns: list[np.ndarray], count: int) -> None:
        tail = (self._head + self._size) % self.capacity
        first = min(count, self.capacity - tail)
        for col, arr in zip(self._columns, columns):
            col[tail:tail + first] = arr[:first]
            if first < count:
                col[:count - first] = arr[first:]

    def _take(self, n: int) -> list[np.ndarray]:
        h = self._head
        first = min(n, self.capacity - h)
        if first == n:
            out = [col[h:h + n].copy() for col in self._columns]
        else:
            out = [np.concatenate([col[h:], col[:n - first]]) for col in self._columns]
        self._head = (h + n) % self.capacity
        return out


class RandomShuffleQueue(_QueueBase):
    """Queue that dequeues items in random order (TF 1.x ``tf.RandomShuffleQueue``).

    Each dequeue picks uniformly among the items held, and only while at least
    `min_after_dequeue` items would remain (so that the mix stays large); once closed, the
    remaining items drain regardless. Draws come from ``np.random.default_rng(seed)``.

    Args:
        capacity, dtypes, shapes, names: as `FIFOQueue`.
        min_after_dequeue: items kept back until the queue is closed; below `capacity`.
        seed: seed of the shuffling generator (None: fresh entropy).
    """

    def __init__(self, capacity: int, min_after_dequeue: int, seed: int | None = None,
                 dtypes=None, shapes=None, names=None,
                 name: str = "random_shuffle_queue") -> None:
        super().__init__(capacity, dtypes, shapes, names, name)
        if not 0 <= int(min_after_dequeue) < self.capacity:
            raise ValueError(f"{name}: min_after_dequeue must be in [0, capacity), got "
                             f"{min_after_dequeue} with capacity {capacity}")
        self.min_after_dequeue = int(min_after_dequeue)
        self._rng = np.random.default_rng(seed)

    def _ready(self, n: int) -> bool:
        return self._size - n >= self.min_after_dequeue

    def _put(self, columns: list[np.ndarray], count: int) -> None:
        s = self._size
        for col, arr in zip(self._columns, columns):
            col[s:s + count] = arr

    def _take(self, n: int) -> list[np.ndarray]:
        """n distinct random items; the tail items not taken fill the holes they leave."""
        size = self._size
        pick = self._rng.choice(size, n, replace=False) if n < size else \
            self._rng.permutation(size)
        out = [col[pick] for col in self._columns]
        keep = size - n
        holes = pick[pick < keep]
        if len(holes):
            tail_taken = np.zeros(n, bool)
            tail_taken[pick[pick >= keep] - keep] = True
            movers = keep + np.flatnonzero(~tail_taken)
            for col in self._columns:
                col[holes] = col[movers]
        return out


class QueueActor:
    """Handle to a `FIFOQueue` or `RandomShuffleQueue` living in a Ray actor.

    Same methods as the plain queue; each blocks the caller as the plain call would and
    re-raises `QueueEmpty` / `QueueFull` / `QueueClosed` (and ValueError, TypeError) with their
    own type. The actor is threaded: `max_concurrency` blocking calls may wait at once;
    ``close``, ``size`` and ``is_closed`` run in their own thread pool, so a close always
    reaches consumers that block. The handle pickles, so producers in other actors can use it.

        q = QueueActor(RandomShuffleQueue, 10_000, min_after_dequeue=1_000, seed=0)
        q.enqueue_many((obs, actions)); obs, actions = q.dequeue_many(256)

    Args:
        queue_cls: `FIFOQueue`, `RandomShuffleQueue` (or a compatible class).
        *args, **kwargs: its constructor arguments.
        max_concurrency: threads for enqueue/dequeue calls.
        options: Ray actor options (see ``actors/_remote.py``); ``num_cpus`` defaults to 0.
    """

    def __init__(self, queue_cls: type = FIFOQueue, *args: Any, max_concurrency: int = 64,
                 options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        opts = {"num_cpus": 0, "max_concurrency": max_concurrency,
                "concurrency_groups": {"control": 2}}
        opts.update(options or {})
        opts["concurrency_groups"] = {"control": 2, **(opts["concurrency_groups"] or {})}
        self.actor = as_actor(queue_cls, *args, options=opts, **kwargs)

    def enqueue(self, item: Any, timeout: float | None = None) -> None:
        """See `FIFOQueue.enqueue`."""
        get(self.actor.enqueue.remote(item, timeout))

    def enqueue_many(self, items: Any, timeout: float | None = None) -> None:
        """See `FIFOQueue.enqueue_many`."""
        get(self.actor.enqueue_many.remote(items, timeout))

    def dequeue(self, timeout: float | None = None):
        """See `FIFOQueue.dequeue`."""
        return get(self.actor.dequeue.remote(timeout))

    def dequeue_many(self, n: int, timeout: float | None = None):
        """See `FIFOQueue.dequeue_many`."""
        return get(self.actor.dequeue_many.remote(n, timeout))

    def dequeue_up_to(self, n: int, timeout: float | None = None):
        """See `FIFOQueue.dequeue_up_to`."""
        return get(self.actor.dequeue_up_to.remote(n, timeout))

    def close(self, cancel_pending_enqueues: bool = False) -> None:
        """See `FIFOQueue.close`."""
        get(self._control("close").remote(cancel_pending_enqueues))

    def size(self) -> int:
        """See `FIFOQueue.size`."""
        return get(self._control("size").remote())

    def is_closed(self) -> bool:
        """See `FIFOQueue.is_closed`."""
        return get(self._control("is_closed").remote())

    def shutdown(self) -> None:
        """Kills the actor (items still queued are lost)."""
        from ._remote import require_ray
        require_ray().kill(self.actor, no_restart=True)

    def _control(self, method: str):
        return getattr(self.actor, method).options(concurrency_group="control")


def _deadline(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if timeout < 0:
        raise ValueError(f"timeout must be None or non-negative, got {timeout}")
    return time.monotonic() + timeout


def _kind_of(item: Any) -> str:
    if isinstance(item, Mapping):
        return _DICT
    if isinstance(item, tuple):
        return _TUPLE
    return _SINGLE


def _declared_structure(name: str, dtypes, shapes, names):
    """(kind, names, dtypes, shapes) from the constructor; None where left to the data."""
    if names is not None:
        names = list(names)
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: duplicate component names {names}")
    multi = isinstance(dtypes, (list, tuple))
    dtype_list = None
    if dtypes is not None:
        dtype_list = [np.dtype(d) for d in (dtypes if multi else [dtypes])]
        dtype_list = [np.dtype(object) if _is_object_dtype(d) else d for d in dtype_list]
    shape_list = None
    if shapes is not None:
        shape_list = [tuple(int(d) for d in s) for s in
                      (shapes if multi or names is not None else [shapes])]
    k = len(dtype_list or shape_list or names or [])
    for label, lst in (("dtypes", dtype_list), ("shapes", shape_list), ("names", names)):
        if lst is not None and len(lst) != k:
            raise ValueError(f"{name}: {len(lst)} {label} for {k} components")
    if names is not None:
        kind = _DICT
    elif dtype_list is not None or shape_list is not None:
        kind = _TUPLE if k > 1 else _SINGLE
    else:
        kind = None
    if shape_list is not None and dtype_list is None:
        raise ValueError(f"{name}: shapes given without dtypes")
    return kind, names, dtype_list, shape_list


def _as_column(value: Any, dtype: np.dtype | None, stacked: bool, name: str,
               c: int) -> np.ndarray:
    """One component as an array whose first axis is the count: numeric values cast (same
    kind) to `dtype`; non-numeric values (strings, objects) in an object array.

    `stacked` False: `value` is a list of per-item values (stacked here, one per item).
    """
    if not stacked:
        if _holds_objects(dtype, np.asarray(value[0]).dtype):
            arr = np.empty(len(value), object)
            for i, v in enumerate(value):
                arr[i] = v
            return arr
        arr = np.stack([np.asarray(v) for v in value])
    else:
        arr = np.asarray(value)
        if _holds_objects(dtype, arr.dtype):
            return arr if arr.dtype == object else arr.astype(object)
    if dtype is not None and arr.dtype != dtype:
        if not np.can_cast(arr.dtype, dtype, casting="same_kind"):
            raise TypeError(f"{name}: component {c} has dtype {arr.dtype}, the queue holds "
                            f"{dtype}")
        arr = arr.astype(dtype)
    return arr


def _holds_objects(declared: np.dtype | None, actual: np.dtype) -> bool:
    """Whether a component goes to an object column."""
    if declared is not None:
        return declared == np.dtype(object)
    return _is_object_dtype(actual)
