"""TF 1.x queues as plain thread-safe classes: `FIFOQueue`, `RandomShuffleQueue`,
`PaddingFIFOQueue`, `PriorityQueue`.

One class serves three users: the queue ops of a graph (``tf.FIFOQueue`` and friends keep
one of these per session, ``ops/data_flow.py``), in-process pipelines without a graph, and
``actorflow.actors.queue.QueueActor``, which makes the same class remote.

Semantics (TF 1.x): fixed capacity; blocking enqueue/dequeue with optional timeouts;
``dequeue_many(n)`` blocks until n items are there;
``dequeue_up_to(n)`` behaves the same while the queue is open and, once it is closed, returns
the at most n items left; ``close(cancel_pending_enqueues)``. The shuffle queue keeps
``min_after_dequeue`` items back until it is closed.

Items. An item is a single value (``dtypes`` one dtype, or left to the first enqueue), a
sequence of components (``dtypes`` a list: items are tuples or lists of that length, even of
one component — the form the graph ops use), or a dict of named components (``names=``).
``dequeue`` returns the item in the same form (a tuple for components); the batch methods
return the components stacked along a new first axis. ``enqueue_many`` takes a batch (one
array, a tuple or a dict of arrays whose first dimension is the count) or a Python list of
items.

Storage. `FIFOQueue` and `RandomShuffleQueue` store items columnar: one preallocated array of
shape ``[capacity, *shape]`` per component, so batch calls are array copies with no Python
loop per item. Non-numeric components (bytes, objects) live in object columns.
`PaddingFIFOQueue` (shapes with unknown dimensions) and `PriorityQueue` keep one entry per
item, because their items differ in shape or leave in priority order.

Errors (subclasses of the ``actorflow.errors`` run-time types):

- `QueueEmpty` (a `DeadlineExceededError` and a ``queue.Empty``): a dequeue timed out.
- `QueueFull` (a `DeadlineExceededError` and a ``queue.Full``): an enqueue timed out.
- `QueueClosed` (an `OutOfRangeError`): a dequeue from a closed queue that holds fewer
  items than requested (also when it closes while the dequeue waits).
- `QueueCancelled` (a `CancelledError`): an enqueue to a closed queue, an enqueue blocked
  when ``close(cancel_pending_enqueues=True)`` came, or any call blocked in (or made after)
  `cancel`, which the owning session calls when it closes.

Not thread-fair: a blocked ``dequeue_many(n)`` can be overtaken by smaller requests.
``enqueue_many`` puts items in as room frees up, so a batch may exceed the capacity. So may
``dequeue_many(n)``: up to the capacity it takes its n items at once; beyond, it gathers them
in parts as they may leave, and the parts gathered are lost when it then fails (a timeout,
or a close with too few items; TF puts them back).
"""
from __future__ import annotations

import heapq
import itertools
import queue as _stdlib_queue
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Sequence

import numpy as np

from . import errors

__all__ = ["FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue", "PriorityQueue",
           "QueueEmpty", "QueueFull", "QueueClosed", "QueueCancelled"]


#: The turn lock a QueueRunner thread holds while it runs an enqueue op (train/queue_runner.py),
#: released when the thread blocks in a queue.
runner_turn = threading.local()

class QueueEmpty(errors.DeadlineExceededError, _stdlib_queue.Empty):
    """A dequeue timed out before enough items arrived."""

    def __init__(self, message: str = "") -> None:
        errors.OpError.__init__(self, None, None, message)


class QueueFull(errors.DeadlineExceededError, _stdlib_queue.Full):
    """An enqueue timed out before enough capacity became free."""

    def __init__(self, message: str = "") -> None:
        errors.OpError.__init__(self, None, None, message)


class QueueClosed(errors.OutOfRangeError):
    """The queue is closed and holds fewer items than a dequeue asked for."""

    def __init__(self, message: str = "") -> None:
        errors.OpError.__init__(self, None, None, message)


class QueueCancelled(errors.CancelledError):
    """An enqueue refused by a closed queue, or a call cancelled by `cancel`."""

    def __init__(self, message: str = "") -> None:
        errors.OpError.__init__(self, None, None, message)


_SINGLE, _TUPLE, _DICT = "single", "tuple", "dict"


def _is_object_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in "OUSV"


class _QueueBase:
    """Structure handling and the blocking protocol shared by every queue.

    Subclasses implement the storage: ``_init_storage(dtypes, shapes)`` (once, when the
    structure is known), ``_put(columns, count)``, ``_take(n)`` (the components of n items,
    each stacked on a new first axis) and ``_ready(n)`` (may n items leave now, the queue
    being open). ``_partial_shapes`` says whether declared shapes may hold None dims.
    """

    _partial_shapes = False
    _type_name = "Queue"

    def __init__(self, capacity: int, dtypes=None, shapes=None, names=None,
                 name: str = "queue") -> None:
        if int(capacity) <= 0:
            raise ValueError(f"{name}: capacity must be positive, got {capacity}")
        self.capacity = int(capacity)
        self.name = name
        self._kind, self._names, self._dtypes, self._shapes = _declared_structure(
            name, dtypes, shapes, names, self._partial_shapes)
        self._ready_storage = False
        self._size = 0
        self._closed = False
        self._cancelled = False       # pending enqueues fail
        self._aborted = False         # every blocked or later call fails (session closed)
        # Consumers wait on `_cond`, producers on `_room`, over one lock. An enqueue wakes
        # consumers only when the smallest request waiting (`_needs`) can be served: waking a
        # dequeue_many(128) at every single enqueue made the threads of a pipeline hand the
        # GIL back and forth between cores (3x slower on 2 idle cores than on one).
        lock = threading.RLock()
        self._cond = threading.Condition(lock)
        self._room = threading.Condition(lock)
        self._needs: list[int] = []

    # ----- public API -------------------------------------------------------------------
    @property
    def dtypes(self) -> list | None:
        """The component dtypes (NumPy), once declared or fixed by the first enqueue."""
        return None if self._dtypes is None else list(self._dtypes)

    @property
    def shapes(self) -> list | None:
        """The per-item shape of each component (None dims: any size), once known."""
        return None if self._shapes is None else list(self._shapes)

    @property
    def names(self) -> list | None:
        """The component names of a dict-valued queue, else None."""
        return None if self._names is None else list(self._names)

    def enqueue(self, item: Any, timeout: float | None = None) -> None:
        """Adds one item, blocking while the queue is full.

        Raises:
            QueueFull: no room within `timeout` seconds.
            QueueCancelled: the queue is closed, or was closed with
                cancel_pending_enqueues (or cancelled) while this call waited.
            ValueError, TypeError: the item does not match the queue's structure.
        """
        columns = self._converted(lambda: self._to_columns(self._split(item), None))
        self._enqueue(columns, 1, timeout)

    def enqueue_many(self, items: Any, timeout: float | None = None) -> None:
        """Adds a batch: a tuple/dict of arrays (or one array) whose first dimension is the
        count, or a list of items. Blocks until all of it is in; the items go in as room
        frees up, so a batch may be larger than the capacity (as in TF).

        Raises:
            QueueFull, QueueCancelled: as `enqueue` (items already in stay in).
            ValueError: the components disagree on the count; TypeError: a dtype that does
                not cast.
        """
        columns, count = self._converted(lambda: self._batch_columns(items))
        if count:
            self._enqueue(columns, count, timeout)

    def dequeue(self, timeout: float | None = None):
        """Removes and returns one item (a tuple of components for a component queue).

        Raises:
            QueueEmpty: nothing arrived within `timeout` seconds.
            QueueClosed: the queue is closed and empty (also when it closes while waiting).
            QueueCancelled: the queue was cancelled (its session closed).
        """
        return self._join([c[0] for c in self._dequeue(1, timeout, up_to=False)])

    def dequeue_many(self, n: int, timeout: float | None = None):
        """Removes n items, blocking until there are n; returns stacked components
        (each with first dimension n). n may exceed the capacity (see the module notes).

        Raises:
            QueueEmpty: fewer than n within `timeout` seconds (nothing is removed, unless
                n exceeds the capacity).
            QueueClosed: the queue is closed with fewer than n items left.
            QueueCancelled: as `dequeue`.
            ValueError: n is not positive.
        """
        return self._join(self._dequeue(n, timeout, up_to=False))

    def dequeue_up_to(self, n: int, timeout: float | None = None):
        """As `dequeue_many` while the queue is open; once closed, returns the at most n
        items left.

        Raises:
            QueueEmpty, QueueCancelled: as `dequeue_many`.
            QueueClosed: the queue is closed and empty.
        """
        return self._join(self._dequeue(n, timeout, up_to=True))

    def close(self, cancel_pending_enqueues: bool = False) -> None:
        """Closes the queue: later enqueues fail, dequeues drain what is left.

        Blocked consumers wake up (and get `QueueClosed` if not enough is left). Enqueues
        already blocked may still complete, unless `cancel_pending_enqueues`, which fails
        them with `QueueCancelled`.
        """
        with self._cond:
            self._closed = True
            self._cancelled = self._cancelled or bool(cancel_pending_enqueues)
            self._cond.notify_all()
            self._room.notify_all()

    def cancel(self) -> None:
        """Closes the queue and fails every blocked or later call with `QueueCancelled`
        (what a session does to its queues when it closes, so that runner threads end)."""
        with self._cond:
            self._closed = self._cancelled = self._aborted = True
            self._cond.notify_all()
            self._room.notify_all()

    def cancel_on_session_close(self) -> None:
        """`cancel`, called by the session that owns this queue when it closes."""
        self.cancel()

    def size(self) -> int:
        """Number of items in the queue."""
        with self._cond:
            return self._size

    def is_closed(self) -> bool:
        """Whether `close` was called."""
        with self._cond:
            return self._closed

    # ----- blocking protocol ------------------------------------------------------------
    def _enqueue(self, columns: list, count: int, timeout: float | None) -> None:
        """Puts `count` items, as many at a time as there is room for (TF: a batch larger
        than the free space goes in parts as consumers make room)."""
        deadline = _deadline(timeout)
        done = 0
        with self._cond:
            if self._closed:
                raise QueueCancelled(f"{self._type_name} '{self.name}' is closed.")
            while done < count:
                if self._cancelled:
                    raise QueueCancelled(f"Enqueue operation was cancelled ({self._type_name} "
                                         f"'{self.name}' was closed)")
                room = self.capacity - self._size
                if room == 0:
                    if not self._wait(deadline, self._room):
                        raise QueueFull(f"Timed out enqueueing {count - done} item(s) into "
                                        f"{self._type_name} '{self.name}' after {timeout} s "
                                        f"(size {self._size}/{self.capacity})")
                    continue
                k = min(room, count - done)
                part = columns if k == count else [c[done:done + k] for c in columns]
                self._put(part, k)
                self._size += k
                done += k
                if self._needs and self._ready(min(self._needs)):
                    self._cond.notify_all()

    def _dequeue(self, n: int, timeout: float | None, up_to: bool) -> list:
        """Takes n items at once; a request larger than the capacity takes them in parts,
        as they may leave (those parts are lost if the request then fails)."""
        n = int(n)
        if n <= 0:
            raise ValueError(f"{self.name}: cannot dequeue {n} items")
        deadline = _deadline(timeout)
        parts: list = []
        got = 0
        with self._cond:
            while True:
                need = n - got
                if self._aborted:
                    raise QueueCancelled(f"Dequeue operation was cancelled ({self._type_name}"
                                         f" '{self.name}' was cancelled)")
                if self._closed:
                    if self._size >= need or (up_to and got + self._size > 0):
                        k = min(need, self._size)
                        break
                    raise QueueClosed(f"{self._type_name} '{self.name}' is closed and has "
                                      f"insufficient elements (requested {n}, current size "
                                      f"{self._size})")
                if self._ready(need):
                    k = need
                    break
                if n > self.capacity and self._available() > 0:
                    k = min(self._available(), need)
                    parts.append(self._take(k))
                    self._size -= k
                    got += k
                    self._room.notify(k)
                    continue
                # A request larger than the queue takes what it can: any item serves it.
                wanted = need if n <= self.capacity else 1
                self._needs.append(wanted)
                try:
                    waited = self._wait(deadline, self._cond)
                finally:
                    self._needs.remove(wanted)
                if not waited:
                    raise QueueEmpty(f"Timed out dequeueing {need} item(s) from "
                                     f"{self._type_name} '{self.name}' after {timeout} s "
                                     f"(size {self._size})")
            if k:
                parts.append(self._take(k))
                self._size -= k
                self._room.notify(k)
        return parts[0] if len(parts) == 1 else [
            _concat_padded([p[c] for p in parts], self._dtypes[c]) for c in range(len(parts[0]))]

    def _available(self) -> int:
        """How many items may leave now, the queue being open."""
        return self._size

    @staticmethod
    def _wait(deadline: float | None, cond: threading.Condition) -> bool:
        """Waits on `cond`; False once the deadline has passed. A queue-runner thread gives
        up its turn first, so that its runner's other threads go on meanwhile."""
        held = getattr(runner_turn, "lock", None)
        if held is not None:
            runner_turn.lock = None
            held.release()
        if deadline is None:
            cond.wait()
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        cond.wait(remaining)
        return True

    # ----- structure ----------------------------------------------------------------------
    def _converted(self, convert):
        """convert(), under the lock until the first enqueue has fixed the structure."""
        if self._ready_storage:
            return convert()
        with self._cond:
            return convert()

    def _batch_columns(self, items: Any) -> tuple[list | None, int]:
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
        comps = self._split(items, batch=True)
        counts = {np.shape(c)[0] if np.ndim(c) else None for c in comps}
        if len(counts) != 1 or None in counts:
            raise ValueError(f"{self.name}: enqueue_many needs components with one first "
                             f"dimension (the count); got shapes {[np.shape(c) for c in comps]}")
        count = counts.pop()
        return (self._to_columns(comps, count), count) if count else (None, 0)

    def _split(self, item: Any, batch: bool = False) -> list:
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
            # A batch of components is a tuple (a list is a list of items); one item may be
            # a tuple or a list of components.
            ok = isinstance(item, tuple) or (not batch and isinstance(item, list))
            if not ok:
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
        call fixes the dtypes/shapes not declared and prepares the storage.

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
            if shape is not None and not _shape_matches(arr.shape[1:], shape):
                raise ValueError(f"{self.name}: component {c} has per-item shape "
                                 f"{arr.shape[1:]}, expected {shape}")
            out.append(arr)
        if not self._ready_storage:
            dts = [np.dtype(object) if _is_object_dtype(a.dtype) else a.dtype for a in out]
            self._dtypes = dts
            if self._shapes is None:
                self._shapes = [tuple(a.shape[1:]) for a in out]
            self._init_storage()
            self._ready_storage = True
        return out

    # ----- storage (subclasses) -----------------------------------------------------------
    def _init_storage(self) -> None:
        raise NotImplementedError

    def _put(self, columns: list, count: int) -> None:
        raise NotImplementedError

    def _take(self, n: int) -> list:
        raise NotImplementedError

    def _ready(self, n: int) -> bool:
        raise NotImplementedError


class FIFOQueue(_QueueBase):
    """First-in first-out queue of `capacity` items (TF 1.x ``tf.FIFOQueue``).

    Args:
        capacity: most items held; enqueues block beyond it.
        dtypes: one dtype (single-value items), a list of dtypes (items are sequences of
            components), or None (from the first enqueue).
        shapes: per-item shape of each component (fully defined); None: from the first enqueue.
        names: component names; items are then dicts with these keys.
        name: the queue's name in error messages.
    """

    _type_name = "FIFOQueue"

    def __init__(self, capacity: int, dtypes=None, shapes=None, names=None,
                 name: str = "fifo_queue") -> None:
        super().__init__(capacity, dtypes, shapes, names, name)
        self._head = 0
        self._columns: list[np.ndarray] = []

    def _init_storage(self) -> None:
        self._columns = [np.empty((self.capacity, *s), d)
                         for d, s in zip(self._dtypes, self._shapes)]

    def _ready(self, n: int) -> bool:
        return self._size >= n

    def _put(self, columns: list, count: int) -> None:
        tail = (self._head + self._size) % self.capacity
        first = min(count, self.capacity - tail)
        for col, arr in zip(self._columns, columns):
            col[tail:tail + first] = arr[:first]
            if first < count:
                col[:count - first] = arr[first:]

    def _take(self, n: int) -> list:
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
    remaining items drain regardless.

    Args:
        capacity, dtypes, shapes, names, name: as `FIFOQueue`.
        min_after_dequeue: items kept back until the queue is closed; below `capacity`.
        seed: seed of the shuffling generator: an int, a sequence of ints, a
            ``np.random.Generator`` (used as it is), or None (fresh entropy).
    """

    _type_name = "RandomShuffleQueue"

    def __init__(self, capacity: int, min_after_dequeue: int, seed=None,
                 dtypes=None, shapes=None, names=None,
                 name: str = "random_shuffle_queue") -> None:
        super().__init__(capacity, dtypes, shapes, names, name)
        if not 0 <= int(min_after_dequeue) < self.capacity:
            raise ValueError(f"{name}: min_after_dequeue must be in [0, capacity), got "
                             f"{min_after_dequeue} with capacity {capacity}")
        self.min_after_dequeue = int(min_after_dequeue)
        self._rng = np.random.default_rng(seed)
        self._columns: list[np.ndarray] = []

    def _init_storage(self) -> None:
        self._columns = [np.empty((self.capacity, *s), d)
                         for d, s in zip(self._dtypes, self._shapes)]

    def _ready(self, n: int) -> bool:
        return self._size - n >= self.min_after_dequeue

    def _available(self) -> int:
        return max(self._size - self.min_after_dequeue, 0)

    def _put(self, columns: list, count: int) -> None:
        s = self._size
        for col, arr in zip(self._columns, columns):
            col[s:s + count] = arr

    def _take(self, n: int) -> list:
        """n distinct random items; the tail items not taken fill the holes they leave."""
        size = self._size
        if n == 1:
            pick = np.array([self._rng.integers(size)])
        elif n < size:
            pick = self._rng.choice(size, n, replace=False)
        else:
            pick = self._rng.permutation(size)
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


class PaddingFIFOQueue(_QueueBase):
    """FIFO queue whose components may have unknown dimensions (TF 1.x
    ``tf.PaddingFIFOQueue``): ``dequeue_many`` / ``dequeue_up_to`` pad every component to the
    largest size of each dimension among the items dequeued together (zeros; empty bytes for
    strings).

    Args:
        capacity, dtypes, names, name: as `FIFOQueue`; `dtypes` is required.
        shapes: required: the per-item shape of each component, None for a dimension of any
            size (the rank is fixed).
    """

    _partial_shapes = True
    _type_name = "PaddingFIFOQueue"

    def __init__(self, capacity: int, dtypes, shapes, names=None,
                 name: str = "padding_fifo_queue") -> None:
        if dtypes is None or shapes is None:
            raise ValueError(f"{name}: a PaddingFIFOQueue needs dtypes and shapes")
        super().__init__(capacity, dtypes, shapes, names, name)
        self._items: deque = deque()

    def _init_storage(self) -> None:
        pass

    def _ready(self, n: int) -> bool:
        return self._size >= n

    def _put(self, columns: list, count: int) -> None:
        for i in range(count):
            self._items.append([col[i] for col in columns])

    def _take(self, n: int) -> list:
        items = [self._items.popleft() for _ in range(n)]
        return [_pad_stack([it[c] for it in items], self._dtypes[c])
                for c in range(len(self._dtypes))]


class PriorityQueue(_QueueBase):
    """Queue whose items leave in ascending order of an int64 priority (TF 1.x
    ``tf.PriorityQueue``). An item is ``(priority, *components)``; the priority is a scalar
    and comes back as the first component. Items of equal priority leave in arrival order.

    Args:
        capacity, names, name: as `FIFOQueue`.
        types: the dtypes of the components after the priority.
        shapes: their per-item shapes (fully defined), or None (from the first enqueue).
    """

    _type_name = "PriorityQueue"

    def __init__(self, capacity: int, types, shapes=None, names=None,
                 name: str = "priority_queue") -> None:
        types = list(types) if isinstance(types, (list, tuple)) else [types]
        dtypes = [np.int64] + types
        if shapes is not None:
            shapes = [()] + [tuple(s) for s in shapes]
        if names is not None:
            raise ValueError(f"{name}: named components are not supported by PriorityQueue "
                             "(the priority has no name)")
        super().__init__(capacity, dtypes, shapes, names, name)
        self._heap: list = []
        self._order = itertools.count()

    def _init_storage(self) -> None:
        if self._shapes[0] != ():
            raise ValueError(f"{self.name}: the priority must be a scalar, got shape "
                             f"{self._shapes[0]}")

    def _ready(self, n: int) -> bool:
        return self._size >= n

    def _put(self, columns: list, count: int) -> None:
        prio = columns[0]
        for i in range(count):
            heapq.heappush(self._heap, (int(prio[i]), next(self._order),
                                        [col[i] for col in columns]))

    def _take(self, n: int) -> list:
        items = [heapq.heappop(self._heap)[2] for _ in range(n)]
        return [_stack([it[c] for it in items], self._dtypes[c])
                for c in range(len(self._dtypes))]


def _stack(values: list, dtype: np.dtype) -> np.ndarray:
    if dtype == np.dtype(object):
        out = np.empty((len(values), *np.shape(values[0])), object)
        for i, v in enumerate(values):
            out[i] = v
        return out
    return np.stack(values).astype(dtype, copy=False)


def _pad_stack(values: list, dtype: np.dtype) -> np.ndarray:
    """Stacks arrays of one rank, padding each dimension to its largest size."""
    shape = tuple(max(d) for d in zip(*(np.shape(v) for v in values))) if np.ndim(
        values[0]) else ()
    fill = b"" if dtype == np.dtype(object) else 0
    out = np.full((len(values), *shape), fill, dtype)
    for i, v in enumerate(values):
        out[(i, *(slice(0, d) for d in np.shape(v)))] = v
    return out


def _concat_padded(arrays: list, dtype: np.dtype) -> np.ndarray:
    """Concatenates batches along dimension 0, padding the others to their largest size
    (batches of a PaddingFIFOQueue may differ there)."""
    shapes = {a.shape[1:] for a in arrays}
    if len(shapes) == 1:
        return np.concatenate(arrays)
    inner = tuple(max(d) for d in zip(*shapes))
    fill = b"" if dtype == np.dtype(object) else 0
    out = np.full((sum(len(a) for a in arrays), *inner), fill, dtype)
    row = 0
    for a in arrays:
        out[(slice(row, row + len(a)), *(slice(0, d) for d in a.shape[1:]))] = a
        row += len(a)
    return out


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


def _shape_matches(actual: tuple, declared: tuple) -> bool:
    return len(actual) == len(declared) and all(
        d is None or a == d for a, d in zip(actual, declared))


def _declared_structure(name: str, dtypes, shapes, names, partial: bool = False):
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
        shape_list = [_declared_shape(s, partial, name) for s in
                      (shapes if multi or names is not None else [shapes])]
    k = len(dtype_list or shape_list or names or [])
    for label, lst in (("dtypes", dtype_list), ("shapes", shape_list), ("names", names)):
        if lst is not None and len(lst) != k:
            raise ValueError(f"{name}: {len(lst)} {label} for {k} components")
    if names is not None:
        kind = _DICT
    elif multi:
        kind = _TUPLE
    elif dtype_list is not None:
        kind = _SINGLE
    else:
        kind = None
    if shape_list is not None and dtype_list is None:
        raise ValueError(f"{name}: shapes given without dtypes")
    return kind, names, dtype_list, shape_list


def _declared_shape(shape, partial: bool, name: str) -> tuple:
    dims = tuple(None if d is None else int(d) for d in shape)
    if None in dims and not partial:
        raise ValueError(f"{name}: shapes must be fully defined, got {list(shape)} (a "
                         "PaddingFIFOQueue takes unknown dimensions)")
    return dims


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
