"""The host side of tf.data: dataset values and the Python iterators that run a pipeline.

A dataset op's kernel returns a `DatasetValue`: the dataset with its tensor parameters
evaluated (a batch size, the arrays to slice, a map function's captured values). Making an
iterator calls ``value.iterate(run)``, a Python generator of elements, each a tuple of NumPy
values (the flat components, in tf.nest order). Transformations wrap their input's generator.

`IteratorRun` is one initialization of an iterator: the background threads of that
pipeline (prefetch producers, parallel-map pools) register with it, and `IteratorRun.close`
(on re-initialization or Session.close) stops and joins them all.
"""
from __future__ import annotations

import collections
import itertools
import math
import os
import threading
from concurrent.futures import CancelledError as FutureCancelled
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import msgpack
import numpy as np

from .. import errors

__all__ = ["IteratorRun", "BoundedBuffer", "DatasetValue", "TensorsValue", "SlicesValue",
           "RangeValue", "ZipValue", "ConcatenateValue", "MapValue", "FilterValue",
           "InterleaveValue", "ShuffleValue", "RepeatValue", "BatchValue", "PaddedBatchValue",
           "PrefetchValue", "TakeValue", "SkipValue", "CacheValue", "UnbatchValue",
           "GeneratorValue", "ShardValue", "FileCacheValue", "stack_batch", "THREAD_PREFIX"]

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
        copy = tuple(_needs_copy(c) for c in comps)
        for i in range(self.n):
            yield tuple(c[i, ...].copy() if cp else c[i] for c, cp in zip(comps, copy))

    def iterate_batches(self, run, batch_size, drop_remainder):
        comps, n = self.components, self.n
        stop = n - n % batch_size if drop_remainder else n
        for i in range(0, stop, batch_size):
            yield tuple(c[i:i + batch_size].copy() for c in comps)


def _needs_copy(c) -> bool:
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


# -- reordering and repeating ----------------------------------------------------------------
class ShuffleValue(DatasetValue):
    """A buffer of `buffer_size` elements from which a random one is yielded and replaced by
    the next input element.

    Each iterator made from this value (each epoch of a following repeat) draws its seed from
    a generator seeded by (seed, seed2), so epochs differ but the sequence of orders is the
    same whenever the dataset is initialized again; ``reshuffle=False`` repeats one order.
    Seeds (0, 0) mean "not seeded": fresh entropy.
    """

    def __init__(self, input: DatasetValue, buffer_size: int, seed: int, seed2: int,
                 reshuffle: bool, op) -> None:
        if buffer_size < 1:
            raise errors.InvalidArgumentError(None, op, "buffer_size must be greater than zero.")
        self.input = input
        self.buffer_size = buffer_size
        entropy = None if seed == 0 and seed2 == 0 else [seed, seed2]
        self._seeds = np.random.default_rng(entropy)
        self._fixed = None if reshuffle else int(self._seeds.integers(1 << 63))
        self._lock = threading.Lock()

    def _next_seed(self) -> int:
        if self._fixed is not None:
            return self._fixed
        with self._lock:
            return int(self._seeds.integers(1 << 63))

    def iterate(self, run):
        rng = np.random.default_rng(self._next_seed())
        buf: list = []
        upstream = self.input.iterate(run)
        for elem in upstream:
            buf.append(elem)
            if len(buf) >= self.buffer_size:
                break
        # Random indices drawn in blocks: one generator call per 256 elements.
        draws = iter(())
        for elem in upstream:
            r = next(draws, None)
            if r is None:
                draws = iter(rng.random(256).tolist())
                r = next(draws)
            i = int(r * len(buf))
            out, buf[i] = buf[i], elem
            yield out
        while buf:
            i = int(rng.integers(len(buf)))
            buf[i], buf[-1] = buf[-1], buf[i]
            yield buf.pop()


class RepeatValue(DatasetValue):
    """The input `count` times (-1: forever; an empty input ends it)."""

    def __init__(self, input: DatasetValue, count: int) -> None:
        self.input = input
        self.count = count

    def iterate(self, run):
        epochs = itertools.count() if self.count < 0 else range(self.count)
        for _ in epochs:
            produced = False
            for elem in self.input.iterate(run):
                produced = True
                yield elem
            if not produced:
                return


class TakeValue(DatasetValue):
    def __init__(self, input: DatasetValue, count: int) -> None:
        self.input, self.count = input, count

    def iterate(self, run):
        it = self.input.iterate(run)
        yield from (it if self.count < 0 else itertools.islice(it, self.count))


class SkipValue(DatasetValue):
    def __init__(self, input: DatasetValue, count: int) -> None:
        self.input, self.count = input, count

    def iterate(self, run):
        it = self.input.iterate(run)
        if self.count < 0:
            for _ in it:
                pass
            return
        yield from itertools.islice(it, self.count, None)


class CacheValue(DatasetValue):
    """The input's elements, kept in memory by the first complete pass; later passes over
    the same dataset value (the epochs of a following repeat) read the cache."""

    def __init__(self, input: DatasetValue) -> None:
        self.input = input
        self._cache: list | None = None

    def iterate(self, run):
        if self._cache is not None:
            yield from self._cache
            return
        seen = []
        for elem in self.input.iterate(run):
            seen.append(elem)
            yield elem
        self._cache = seen


class ShardValue(DatasetValue):
    """Every `num_shards`-th element, starting at `index`."""

    def __init__(self, input: DatasetValue, num_shards: int, index: int) -> None:
        self.input, self.num_shards, self.index = input, num_shards, index

    def iterate(self, run):
        yield from itertools.islice(self.input.iterate(run), self.index, None, self.num_shards)


class FileCacheValue(DatasetValue):
    """The input's elements, written to ``<filename>.data-00000-of-00001`` by the first
    complete pass and read from that file by every later iterator (in any session or
    process), as TF's file cache. A pass that stops early leaves no cache behind.

    The file is a msgpack stream, one element per entry, each component as
    ``[dtype tag, shape, raw bytes]`` (a string component: ``["object", shape, [bytes...]]``);
    reading checks every array description (`actorflow.file_safety`) before allocating.
    """

    def __init__(self, input: DatasetValue, filename: str, op) -> None:
        self.input = input
        self.path = f"{filename}.data-00000-of-00001"
        self.op = op

    def iterate(self, run):
        if os.path.exists(self.path):
            yield from self._read()
            return
        tmp = f"{self.path}.tmp-{os.getpid()}-{threading.get_ident()}"
        try:
            f = open(tmp, "wb")
        except OSError as e:
            raise errors.NotFoundError(None, self.op, f"Failed to create the cache file "
                                       f"{tmp}: {e.strerror}") from None
        complete = False
        try:
            with f:
                for elem in self.input.iterate(run):
                    f.write(msgpack.packb([_encode_component(c) for c in elem],
                                          use_bin_type=True))
                    yield elem
            complete = True
        finally:
            if complete:
                os.replace(tmp, self.path)
            else:
                try:
                    os.remove(tmp)
                except OSError:
                    pass

    def _read(self):
        size = os.path.getsize(self.path)
        with open(self.path, "rb") as f:
            unpacker = msgpack.Unpacker(f, raw=False, max_buffer_size=max(size, 1 << 20))
            try:
                for k, entry in enumerate(unpacker):
                    yield tuple(_decode_component(c, f"{self.path} element {k}", size)
                                for c in entry)
            except (ValueError, TypeError, msgpack.UnpackException) as e:
                raise errors.DataLossError(None, self.op, f"Cache file {self.path} is "
                                           f"corrupted: {e}") from None


def _encode_component(c) -> list:
    arr = np.asarray(c)
    if arr.dtype.kind == "O":
        return ["object", list(arr.shape), [bytes(x) for x in arr.reshape(-1)]]
    le = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return [le.dtype.str, list(arr.shape), np.ascontiguousarray(le).tobytes()]


def _decode_component(entry, where: str, available: int) -> np.ndarray:
    from ..file_safety import check_array, stored_shape
    if not isinstance(entry, list) or len(entry) != 3:
        raise errors.DataLossError(None, None, f"{where}: malformed component")
    tag, shape, data = entry
    if tag == "object":
        dims = stored_shape(shape, where)
        if not isinstance(data, list) or len(data) != math.prod(dims) or not all(
                isinstance(x, bytes) for x in data):
            raise errors.DataLossError(None, None, f"{where}: malformed string component")
        out = np.empty(len(data), dtype=object)
        out[:] = data
        return out.reshape(dims)
    if not isinstance(data, bytes):
        raise errors.DataLossError(None, None, f"{where}: malformed component")
    dt, dims, _ = check_array(tag, shape, where, available=min(available, len(data)),
                              nbytes=len(data))
    arr = np.frombuffer(data, dtype=dt).reshape(dims).astype(dt.newbyteorder("="))
    return arr[()] if arr.ndim == 0 else arr


# -- batching ----------------------------------------------------------------------------------
def stack_batch(elems: list, op) -> tuple:
    """The elements' components stacked along a new first axis: one np.stack per component.

    Raises:
        InvalidArgumentError: two elements with different shapes in one component.
    """
    out = []
    for k, comp in enumerate(zip(*elems)):
        try:
            out.append(np.stack(comp))
        except ValueError:
            first = np.shape(comp[0])
            j = next(j for j, c in enumerate(comp) if np.shape(c) != first)
            raise errors.InvalidArgumentError(
                None, op, f"Cannot batch tensors with different shapes in component {k}. "
                f"First element had shape {list(first)} and element {j} had shape "
                f"{list(np.shape(comp[j]))}.") from None
    return tuple(out)


class BatchValue(DatasetValue):
    def __init__(self, input: DatasetValue, batch_size: int, drop_remainder: bool, op) -> None:
        if batch_size < 1:
            raise errors.InvalidArgumentError(None, op, "Batch size must be greater than zero.")
        self.input = input
        self.batch_size = batch_size
        self.drop_remainder = drop_remainder
        self.op = op

    def iterate(self, run):
        direct = self.input.iterate_batches(run, self.batch_size, self.drop_remainder)
        if direct is not None:
            yield from direct
            return
        it = self.input.iterate(run)
        n = self.batch_size
        while True:
            elems = list(itertools.islice(it, n))
            if not elems or (len(elems) < n and self.drop_remainder):
                return
            yield stack_batch(elems, self.op)


class PaddedBatchValue(DatasetValue):
    """Batches whose components are padded with `padding_values` to `padded_shapes` (-1 dims:
    the batch's longest)."""

    def __init__(self, input: DatasetValue, batch_size: int, padded_shapes: list,
                 padding_values: tuple, drop_remainder: bool, op) -> None:
        if batch_size < 1:
            raise errors.InvalidArgumentError(None, op, "Batch size must be greater than zero.")
        self.input = input
        self.batch_size = batch_size
        self.padded_shapes = [tuple(int(d) for d in np.ravel(s)) for s in padded_shapes]
        self.padding_values = padding_values
        self.drop_remainder = drop_remainder
        self.op = op

    def iterate(self, run):
        it = self.input.iterate(run)
        n = self.batch_size
        while True:
            elems = list(itertools.islice(it, n))
            if not elems or (len(elems) < n and self.drop_remainder):
                return
            yield tuple(self._pad(k, comp) for k, comp in enumerate(zip(*elems)))

    def _pad(self, k: int, comp) -> np.ndarray:
        want = self.padded_shapes[k]
        shapes = [np.shape(c) for c in comp]
        for s in shapes:
            if len(s) != len(want):
                raise errors.InvalidArgumentError(
                    None, self.op, f"All elements in a batch must have the same rank as the "
                    f"padded shape for component {k}: expected rank {len(want)} but got "
                    f"element with rank {len(s)}")
        target = tuple(max(s[d] for s in shapes) if w == -1 else w
                       for d, w in enumerate(want))
        for s in shapes:
            if any(a > b for a, b in zip(s, target)):
                raise errors.InvalidArgumentError(
                    None, self.op, f"Attempted to pad to a smaller size than the input "
                    f"element: component {k} has shape {list(s)}, padded shape "
                    f"{list(target)}.")
        dtype = np.asarray(comp[0]).dtype
        out = np.full((len(comp),) + target, self.padding_values[k], dtype=dtype)
        for i, c in enumerate(comp):
            out[(i,) + tuple(slice(0, d) for d in np.shape(c))] = c
        return out


class UnbatchValue(DatasetValue):
    """Each input element split along its first axis into that many elements."""

    def __init__(self, input: DatasetValue, op) -> None:
        self.input = input
        self.op = op

    def iterate(self, run):
        for elem in self.input.iterate(run):
            sizes = {np.shape(c)[0] if np.ndim(c) else None for c in elem}
            if None in sizes or len(sizes) != 1:
                raise errors.InvalidArgumentError(
                    None, self.op, "unbatch: every component of an input element must have "
                    f"the same size in the 0th dimension, got {sorted(map(str, sizes))}")
            copy = tuple(_needs_copy(c) for c in elem)
            for i in range(sizes.pop()):
                yield tuple(c[i, ...].copy() if cp else c[i] for c, cp in zip(elem, copy))


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
