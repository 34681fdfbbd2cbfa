"""The host side of tf.data: dataset values and the Python iterators that run a pipeline.

A dataset op's kernel returns a `DatasetValue`: the dataset with its tensor parameters
evaluated (a batch size, the arrays to slice, a map function's captured values). Making an
iterator calls ``value.iterate(run)``, a Python generator of elements, each a tuple of NumPy
values (the flat components, in tf.nest order). Transformations wrap their input's generator:
sources, element functions and prefetching here; reordering, repeating and caching in
ordering.py; batching in batching.py.

`IteratorRun` is one initialization of an iterator: the background threads of that
pipeline (prefetch producers, parallel-map pools) register with it, and `IteratorRun.close`
(on re-initialization or Session.close) stops and joins them all.
"""
from __future__ import annotations

import collections
import itertools
import threading
from concurrent.futures import CancelledError as FutureCancelled
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import numpy as np

from .. import errors

__all__ = ["IteratorRun", "BoundedBuffer", "DatasetValue", "TensorsValue", "SlicesValue",
           "RangeValue", "GeneratorValue", "ZipValue", "ConcatenateValue", "MapValue",
           "FilterValue", "InterleaveValue", "PrefetchValue", "THREAD_PREFIX", "needs_copy"]

THREAD_PREFIX = "actorflow-data"
"""Every thread a pipeline starts has a name starting with this."""

_JOIN_TIMEOUT_S = 10.0


class IteratorRun:
    """The lifetime of one iterator initialization: a stop flag plus what to shut down."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self._closers: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def on_close(self, fn: Callable[[], None]) -> None:
        """Registers `fn` to run at `close` (at once when already closed)."""
        with self._lock:
            if not self.stopped.is_set():
                self._closers.append(fn)
                return
        fn()

    def close(self) -> None:
        """Stops every thread of this run and waits for them (buffers wake their waiters)."""
        with self._lock:
            if self.stopped.is_set():
                return
            self.stopped.set()
            closers, self._closers = self._closers, []
        for fn in reversed(closers):  # the consumers' side first, then what feeds them
            fn()


class _Closed(Exception):
    """The buffer was closed while waiting."""


class BoundedBuffer:
    """A FIFO of at most `capacity` items whose blocked `put`/`get` wake on `close`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, int(capacity))
        self._items: collections.deque = collections.deque()
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item) -> None:
        with self._cond:
            while len(self._items) >= self.capacity and not self._closed:
                self._cond.wait()
            if self._closed:
                raise _Closed
            self._items.append(item)
            self._cond.notify_all()

    def get(self):
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            if self._closed:
                raise _Closed
            item = self._items.popleft()
            self._cond.notify_all()
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._items.clear()
            self._cond.notify_all()


class DatasetValue:
    """A dataset with evaluated parameters; `iterate(run)` yields its elements."""

    def iterate(self, run: IteratorRun) -> Iterator[tuple]:
        raise NotImplementedError

    def iterate_batches(self, run: IteratorRun, batch_size: int, drop_remainder: bool):
        """Batches made directly, without per-element tuples, or None (no fast path)."""
        return None


# -- sources -----------------------------------------------------------------------------------
class TensorsValue(DatasetValue):
    """One element: the given components (Dataset.from_tensors)."""

    def __init__(self, components: tuple) -> None:
        self.components = components

    def iterate(self, run):
        yield self.components


class SlicesValue(DatasetValue):
    """The slices of the components along their first axis (Dataset.from_tensor_slices)."""

    def __init__(self, components: tuple, op) -> None:
        sizes = {np.shape(c)[0] if np.ndim(c) else None for c in components}
        if None in sizes:
            raise errors.InvalidArgumentError(
                None, op, "from_tensor_slices: every component needs at least one dimension "
                "to slice")
        if len(sizes) != 1:
            raise errors.InvalidArgumentError(
                None, op, "from_tensor_slices: all components must have the same size in the "
                f"0th dimension, got sizes {sorted(sizes)}")
        self.components = tuple(np.asarray(c) for c in components)
        self.n = sizes.pop()

    def iterate(self, run):
        comps = self.components
        copy = tuple(needs_copy(c) for c in comps)
        for i in range(self.n):
            yield tuple(c[i, ...].copy() if cp else c[i] for c, cp in zip(comps, copy))

    def iterate_batches(self, run, batch_size, drop_remainder):
        comps, n = self.components, self.n
        stop = n - n % batch_size if drop_remainder else n
        for i in range(0, stop, batch_size):
            yield tuple(c[i:i + batch_size].copy() for c in comps)


def needs_copy(c) -> bool:
    """Whether slices of `c` are taken as copied arrays: a slice of a rank >= 2 array is a
    view, which a fetched element must not be; a string (object) element stays an array
    (``c[i, ...]``), as every string value of the engine is, instead of a bare bytes."""
    return np.ndim(c) > 1 or np.asarray(c).dtype.kind == "O"


class RangeValue(DatasetValue):
    """int64 scalars start, start + step, ... before stop (Dataset.range)."""

    def __init__(self, start: int, stop: int, step: int, op) -> None:
        if step == 0:
            raise errors.InvalidArgumentError(None, op, "step must be a non-zero integer.")
        self.start, self.stop, self.step = start, stop, step

    def iterate(self, run):
        for i in range(self.start, self.stop, self.step):
            yield (np.int64(i),)

    def iterate_batches(self, run, batch_size, drop_remainder):
        r = np.arange(self.start, self.stop, self.step, dtype=np.int64)
        stop = len(r) - len(r) % batch_size if drop_remainder else len(r)
        for i in range(0, stop, batch_size):
            yield (r[i:i + batch_size],)


class GeneratorValue(DatasetValue):
    """Elements from a Python generator, converted and checked (Dataset.from_generator)."""

    def __init__(self, generator, args: tuple, types: tuple, shapes: tuple, flatten,
                 op) -> None:
        self.generator = generator
        self.args = args
        self.types = types
        self.shapes = shapes
        self.flatten = flatten
        self.op = op

    def iterate(self, run):
        for value in self.generator(*self.args):
            yield self._convert(value)

    def _convert(self, value) -> tuple:
        try:
            leaves = self.flatten(value)
        except (TypeError, ValueError) as e:
            raise errors.InvalidArgumentError(
                None, self.op, f"`generator` yielded an element that did not match the "
                f"expected structure: {e}") from None
        out = []
        for i, (v, dt, shape) in enumerate(zip(leaves, self.types, self.shapes)):
            try:
                arr = np.asarray(v, dtype=dt.np) if dt.np.kind != "O" else \
                    _as_bytes_array(v)
            except (TypeError, ValueError) as e:
                raise errors.InvalidArgumentError(
                    None, self.op, f"TypeError: `generator` yielded an element that could not "
                    f"be converted to the expected type. The expected type was {dt.name}, "
                    f"but the yielded element was {v!r} ({e}).") from None
            if shape is not None and (arr.ndim != len(shape) or any(
                    d is not None and d != s for d, s in zip(shape, arr.shape))):
                want = "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
                    ("," if len(shape) == 1 else "") + ")"
                raise errors.InvalidArgumentError(
                    None, self.op, f"`generator` yielded an element of shape {arr.shape} "
                    f"where an element of shape {want} was expected (component {i}).")
            out.append(arr)
        return tuple(out)


def _as_bytes_array(v) -> np.ndarray:
    arr = np.asarray(v, dtype=object)
    flat = arr.reshape(-1)
    for i, x in enumerate(flat):
        if isinstance(x, str):
            flat[i] = x.encode()
        elif not isinstance(x, bytes):
            raise TypeError(f"{x!r} is not bytes or str")
    return arr


# -- combining -----------------------------------------------------------------------------
class ZipValue(DatasetValue):
    def __init__(self, inputs: list) -> None:
        self.inputs = inputs

    def iterate(self, run):
        for parts in zip(*[d.iterate(run) for d in self.inputs]):
            yield tuple(itertools.chain.from_iterable(parts))


class ConcatenateValue(DatasetValue):
    def __init__(self, first: DatasetValue, second: DatasetValue) -> None:
        self.first, self.second = first, second

    def iterate(self, run):
        yield from self.first.iterate(run)
        yield from self.second.iterate(run)


# -- functions over elements ------------------------------------------------------------------
def _usable_cpus() -> int:
    from ..session.threads import usable_cpus
    return usable_cpus()


class MapValue(DatasetValue):
    """``fn(*element)`` for each element; `parallel` > 1 runs that many calls at once in a
    thread pool and still yields results in input order."""

    def __init__(self, input: DatasetValue, fn: Callable, parallel: int = 1) -> None:
        self.input = input
        self.fn = fn
        self.parallel = _usable_cpus() if parallel == -1 else max(1, int(parallel))

    def iterate(self, run):
        fn = self.fn
        if self.parallel == 1:
            for elem in self.input.iterate(run):
                yield fn(*elem)
            return
        pool = ThreadPoolExecutor(self.parallel, thread_name_prefix=f"{THREAD_PREFIX}-map")
        run.on_close(lambda: pool.shutdown(wait=True, cancel_futures=True))
        window: collections.deque = collections.deque()
        depth = 2 * self.parallel  # keeps every worker busy while the oldest is consumed
        try:
            for elem in self.input.iterate(run):
                window.append(pool.submit(fn, *elem))
                if len(window) >= depth:
                    yield _result(window.popleft())
            while window:
                yield _result(window.popleft())
        finally:
            for f in window:
                f.cancel()
            pool.shutdown(wait=False, cancel_futures=True)


def _result(future):
    """A parallel map call's result; a call cancelled by closing the iterator is a
    CancelledError."""
    try:
        return future.result()
    except FutureCancelled:
        raise errors.CancelledError(None, None, "The iterator was closed or re-initialized "
                                    "while a map call was pending") from None


class FilterValue(DatasetValue):
    """The elements for which ``predicate(*element)`` is true."""

    def __init__(self, input: DatasetValue, predicate: Callable, op) -> None:
        self.input = input
        self.predicate = predicate
        self.op = op

    def iterate(self, run):
        pred = self.predicate
        for elem in self.input.iterate(run):
            keep = pred(*elem)
            if np.ndim(keep) != 0:
                raise errors.InvalidArgumentError(
                    None, self.op, f"Filter predicate `predicate` must return a scalar bool, "
                    f"got shape {np.shape(keep)}")
            if bool(keep):
                yield elem


class InterleaveValue(DatasetValue):
    """Datasets made by ``fn(*element)``, `cycle_length` open at once, `block_length`
    consecutive elements from each in turn (flat_map: cycle and block 1)."""

    def __init__(self, input: DatasetValue, fn: Callable, cycle_length: int,
                 block_length: int, op) -> None:
        if cycle_length < 1 and cycle_length != -1:
            raise errors.InvalidArgumentError(None, op, "cycle_length must be greater than 0.")
        if block_length < 1:
            raise errors.InvalidArgumentError(None, op, "block_length must be greater than 0.")
        self.input = input
        self.fn = fn
        self.cycle = _usable_cpus() if cycle_length == -1 else cycle_length
        self.block = block_length

    def iterate(self, run):
        inputs = self.input.iterate(run)
        fn, cycle, block = self.fn, self.cycle, self.block
        slots: list = [None] * cycle
        index = in_block = n_open = 0
        end_of_input = False
        while not end_of_input or n_open:
            it = slots[index]
            if it is not None:
                elem = next(it, _END)
                if elem is not _END:
                    yield elem
                    in_block += 1
                    if in_block == block:
                        in_block, index = 0, (index + 1) % cycle
                    continue
                slots[index] = None
                n_open -= 1
                in_block, index = 0, (index + 1) % cycle
            elif not end_of_input:
                args = next(inputs, _END)
                if args is _END:
                    end_of_input = True
                else:
                    slots[index] = _sub_value(fn(*args)).iterate(run)
                    n_open += 1
            else:
                in_block, index = 0, (index + 1) % cycle


def _sub_value(value) -> DatasetValue:
    """A function's dataset output: the DatasetValue itself (a 0-d variant array unwrapped)."""
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0:
        value = value.item()
    return value


_END = object()


# -- prefetching -----------------------------------------------------------------------------
class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class PrefetchValue(DatasetValue):
    """The input, produced ahead by a background thread into a buffer of `buffer_size`
    elements (-1, AUTOTUNE: 2)."""

    def __init__(self, input: DatasetValue, buffer_size: int, op) -> None:
        if buffer_size < -1:
            raise errors.InvalidArgumentError(
                None, op, "buffer_size must be >= -1 (AUTOTUNE), got " + str(buffer_size))
        self.input = input
        self.buffer_size = 2 if buffer_size == -1 else buffer_size

    def iterate(self, run):
        """Starts the producer thread at once (an iterator's initializer starts prefetching,
        as in TF) and returns the consuming generator."""
        if self.buffer_size == 0:
            return self.input.iterate(run)
        buf = BoundedBuffer(self.buffer_size)
        upstream = self.input.iterate(run)

        def produce() -> None:
            try:
                for elem in upstream:
                    buf.put(elem)
                buf.put(_END)
            except _Closed:
                pass
            except BaseException as e:  # noqa: BLE001 - handed to the consumer
                try:
                    buf.put(_Failure(e))
                except _Closed:
                    pass
            finally:
                close = getattr(upstream, "close", None)
                if close is not None:
                    close()

        thread = threading.Thread(target=produce, daemon=True, name=f"{THREAD_PREFIX}-prefetch")

        def stop() -> None:
            buf.close()
            if thread.ident is not None:
                thread.join(_JOIN_TIMEOUT_S)

        run.on_close(stop)
        thread.start()
        return _consume(buf)


def _consume(buf: BoundedBuffer):
    """The elements a prefetch thread puts into `buf`, its failure re-raised here."""
    try:
        while True:
            try:
                item = buf.get()
            except _Closed:
                raise errors.CancelledError(
                    None, None, "The iterator was closed or re-initialized while GetNext() "
                    "waited for a prefetched element") from None
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        buf.close()
