"""Reordering, repeating and caching dataset values: shuffle, repeat, take, skip, shard, and
the in-memory and file caches (see pipeline.py for what a `DatasetValue` is)."""
from __future__ import annotations

import itertools
import math
import os
import threading

import msgpack
import numpy as np

from .. import errors
from .pipeline import DatasetValue

__all__ = ["ShuffleValue", "RepeatValue", "TakeValue", "SkipValue", "ShardValue", "CacheValue",
           "FileCacheValue"]


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
