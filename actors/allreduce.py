"""Ring all-reduce of gradients between data-parallel replicas (Horovod-style).

    ring = Ring(rank, size, bucket_bytes=4 << 20, compression="fp16")
    ring.connect(peers)                    # peers[r].deliver(key, payload) reaches rank r
    means = ring.allreduce_mean(grads)     # on every rank: the same mean of the ranks' grads

`AllReduceReplica` is one worker of ``ReplicatedTrainer(..., mode="allreduce")``: it holds the
whole model, computes its gradients, all-reduces their mean with the other replicas and runs
the graph's own optimizer update locally with the mean fed (the train op's ``_gradients``
attr names the gradient tensor of each variable, as for a `ParameterServer`, whose update
plan and checkpoints it reuses: a replica is a one-shard ps that also computes gradients).

Algorithm. The gradients are copied into one flat accumulation buffer per dtype (float32,
or float64 for float64 gradients; float16 gradients sum in float32), cut into buckets of
`bucket_bytes` (small tensors are fused into one bucket, a large one spans several). Each
bucket is split into `size` chunks and reduced by the ring: ``size - 1`` reduce-scatter
steps (rank r sends a partial sum to rank r+1, which adds its own part), after which rank r
owns the complete sum of one chunk and scales it to the mean, then ``size - 1`` allgather
steps pass the finished chunks on. Every rank sends and receives ``2 (size-1)/size`` of the
bytes, whatever the number of ranks. The buckets are pipelined: sends are asynchronous, so
bucket b+1's transfer is in flight while bucket b's partial sum is added. The executor runs a
step's fetches as one plan and hands out no gradient before the whole backward pass is done,
so communication does not overlap the backward pass itself; it overlaps its own arithmetic.
``algorithm="direct"`` runs the same reduce-scatter and allgather as two all-to-all phases
(each rank sends chunk j to rank j, which sums and sends the mean to all): the same bytes
per rank, 2 sequential phases instead of ``2 (size-1)`` hops, ``size - 1`` peers per rank.
Here it measured the same as the ring (4 workers, 10M parameters: 244 vs 257 ms a step).

Sparse gradients (an IndexedSlices gradient of an embedding, recorded as values and
indices) are not reduced but all-gathered (`Ring.allgather`, ``size - 1`` steps passing each
rank's rows along): every replica concatenates all ranks' rows in rank order and divides the
values by `size` (the mean of the dense gradients, as the optimizer sums repeated rows), so
only the touched rows travel.

Compression. With ``compression="fp16"`` what travels is float16 (half the bytes); every
partial sum is accumulated in float32 on arrival, and the owner of a finished chunk rounds
it to float16 too, so every replica applies exactly the same mean. Values beyond float16's
range (65504) become inf, as in Horovod's fp16 compressor.

Transport. Ranks reach each other through `deliver(key, payload)`: in one process the peers
are the other `Ring` objects (threads; each payload copied), across processes they are
`RemotePeer`s wrapping actor handles, so a message is one Ray actor call (arrays over 100 KiB
go through the shared-memory object store, read zero-copy by the receiver). Messages carry
``(epoch, call, bucket, step)`` keys (direct: ``(epoch, call, bucket, phase, sender)``);
`abort` wakes a rank blocked on a dead peer, and
`connect` with a new epoch drops what an aborted round left in flight.

Why not ``ray.util.collective``: in Ray 2.60 its CPU backend ("GLOO") is
``TorchGLOOGroup``, built on ``torch.distributed``, and registers only when ``torch`` imports
(``ray.util.collective.gloo_available()`` is False here: neither torch nor the older pygloo
is installed, and torch may not become a dependency); its NCCL backend needs CuPy and GPUs.
Nothing of it could be measured on this machine, so the ring runs over actor calls.

Cost knobs (what `benchmarks/allreduce_step.py` measures for the scaling model):

- `bucket_bytes`: bytes per bucket; each bucket costs ``2 (size-1)`` messages of
  ``bucket_bytes / size`` each, so fewer, larger buckets pay less latency, smaller ones
  pipeline better.
- `compression`: None or "fp16" (halves the bytes that travel, adds a cast per hop).
- `algorithm`: "ring" or "direct" (the same messages and bytes; 2 (size-1) sequential hops
  or 2 phases).
- `Ring.stats()`: calls, seconds spent in `allreduce_mean`, the last call's seconds,
  messages and bytes sent by this rank. A ring step of S gradient bytes in B buckets on N
  ranks is modelled as ``2 (N-1) (B alpha + S / (N beta))`` with alpha the per-message
  latency and beta the point-to-point bandwidth (the benchmark fits both from one-bucket
  steps).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from actorflow.train.optimizer import recorded_gradients

from .parameter_server import ParameterServer, grouped_gradients

__all__ = ["Ring", "RingAborted", "RingTimeout", "RemotePeer", "AllReduceReplica",
           "DEFAULT_BUCKET_BYTES", "COMPRESSIONS", "ALGORITHMS"]

DEFAULT_BUCKET_BYTES = 64 << 20
"""Bytes per bucket, Horovod's default fusion threshold. Measured here (2 loaded cores, 10M
float32 parameters, steps interleaved, medians): 4 MiB buckets took 707 ms a step on 4
workers and 247 ms on 2, 64 MiB ones 257 and 125 ms: each message is an actor call whose
fixed cost outweighed what pipelining the buckets won."""

COMPRESSIONS = (None, "fp16")

ALGORITHMS = ("ring", "direct")


class RingAborted(RuntimeError):
    """An all-reduce was aborted (a peer died); the round's result is lost."""


class RingTimeout(TimeoutError):
    """A rank waited past its timeout for its predecessor's message."""


class RemotePeer:
    """A rank in another process: `deliver` is a fire-and-forget call on its actor handle
    (an actor whose class has a ``deliver(key, payload)`` method)."""

    def __init__(self, handle) -> None:
        self.handle = handle

    def deliver(self, key: tuple, payload: np.ndarray) -> None:
        self.handle.deliver.remote(key, payload)


class _LocalPeer:
    """A rank in this process: the payload is copied, because the sender goes on writing the
    chunk it sent (Ray's actor calls copy at submission for `RemotePeer`s)."""

    def __init__(self, ring: Ring) -> None:
        self.ring = ring

    def deliver(self, key: tuple, payload: np.ndarray) -> None:
        self.ring.deliver(key, np.array(payload, copy=True))


class Ring:
    """One rank's end of a ring all-reduce.

    Args:
        rank: this rank, in [0, size).
        size: the number of ranks.
        bucket_bytes: bytes per bucket of fused gradients (see the module docstring).
        compression: None, or "fp16" to send float16 (sums stay float32).
        timeout: seconds to wait for one message before raising `RingTimeout`.
        algorithm: "ring" (2 (size-1) hops to the next rank) or "direct" (two all-to-all
            phases; see the module docstring).

    Raises:
        ValueError: a rank outside [0, size), a bucket under 1 byte, an unknown compression
            or algorithm.
    """

    def __init__(self, rank: int, size: int, bucket_bytes: int = DEFAULT_BUCKET_BYTES,
                 compression: str | None = None, timeout: float = 120.0,
                 algorithm: str = "ring") -> None:
        if size < 1 or not 0 <= rank < size:
            raise ValueError(f"rank must be in [0, size) with size >= 1, got rank {rank} of "
                             f"size {size}")
        if bucket_bytes < 1:
            raise ValueError(f"bucket_bytes must be >= 1, got {bucket_bytes}")
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
        self.algorithm = algorithm
        self.rank, self.size = int(rank), int(size)
        self.bucket_bytes = int(bucket_bytes)
        self.compression = compression
        self.timeout = float(timeout)
        self._cond = threading.Condition()
        self._mail: dict = {}
        self._epoch = 0
        self._aborted = False
        self._calls = 0
        self._peers: list = []
        self._next = None
        # Kept from call to call: fresh 40 MB arrays cost page faults in a threaded actor
        # (see ParameterServer._accumulate); remote sends serialize at the call, so the fp16
        # scratch can be rewritten once a send returns.
        self._buffers: dict = {}
        self._half = np.empty(0, np.float16)
        self._stats = {"calls": 0, "seconds": 0.0, "last_s": 0.0, "messages": 0, "bytes_sent": 0}

    # -- wiring --------------------------------------------------------------------------
    def connect(self, peers: Sequence, epoch: int = 0) -> None:
        """Joins the ring of `peers` (one per rank, in rank order; `Ring` objects of this
        process or objects with ``deliver(key, payload)``) for round `epoch`.

        A new epoch clears an abort and drops messages of earlier epochs.

        Raises:
            ValueError: not one peer per rank.
        """
        if len(peers) != self.size:
            raise ValueError(f"Ring of size {self.size} got {len(peers)} peers")
        wrapped = [_LocalPeer(p) if isinstance(p, Ring) else p for p in peers]
        with self._cond:
            self._peers = wrapped
            self._next = wrapped[(self.rank + 1) % self.size]
            self._epoch = int(epoch)
            self._calls = 0
            self._aborted = False
            self._mail = {k: v for k, v in self._mail.items() if k[0] >= self._epoch}

    def deliver(self, key: tuple, payload: np.ndarray) -> None:
        """Receives the predecessor's message `key` = (epoch, call, bucket, step)."""
        with self._cond:
            if key[0] < self._epoch:
                return  # left in flight by an aborted round
            self._mail[key] = payload
            self._cond.notify_all()

    def abort(self) -> None:
        """Makes the current and every later all-reduce raise `RingAborted` until the next
        `connect`."""
        with self._cond:
            self._aborted = True
            self._cond.notify_all()

    def stats(self) -> dict:
        """{"calls", "seconds", "last_s", "messages", "bytes_sent", "rank", "size",
        "bucket_bytes", "compression"} of this rank since it was created."""
        return {**self._stats, "rank": self.rank, "size": self.size,
                "bucket_bytes": self.bucket_bytes, "compression": self.compression,
                "algorithm": self.algorithm}

    # -- the all-reduce ------------------------------------------------------------------
    def allreduce_mean(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The element-wise mean of `arrays` over the ranks (each rank passes its own, same
        shapes and dtypes in the same order); every rank gets the same values, as views of
        a buffer that the next call reuses.

        Raises:
            TypeError: a non-floating array.
            RuntimeError: `connect` was not called.
            RingAborted: `abort` was called (a peer died).
            RingTimeout: the predecessor's message did not come within `timeout`.
        """
        arrays = [np.asarray(a) for a in arrays]
        for i, a in enumerate(arrays):
            if a.dtype.kind != "f":
                raise TypeError(f"all-reduce takes floating arrays; array {i} is {a.dtype}")
        if self.size == 1:
            return arrays
        if self._next is None:
            raise RuntimeError(f"Ring rank {self.rank}: connect() the peers first")
        t0 = time.perf_counter()
        groups, buckets = self._flatten(arrays)
        with self._cond:
            call, epoch = self._calls, self._epoch
            self._calls += 1
        if self.algorithm == "ring":
            self._reduce(buckets, epoch, call)
        else:
            self._reduce_direct(buckets, epoch, call)
        out: list = [None] * len(arrays)
        for buf, entries in groups:
            for i, start, stop in entries:
                a = arrays[i]
                view = buf[start:stop].reshape(a.shape)
                out[i] = view if view.dtype == a.dtype else view.astype(a.dtype)
        dt = time.perf_counter() - t0
        self._stats["calls"] += 1
        self._stats["seconds"] += dt
        self._stats["last_s"] = dt
        return out

    def allgather(self, items: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
        """Every rank's `items` (arrays of any shapes; the same count on every rank), in
        rank order: ``out[r]`` is rank r's list. Floating arrays travel compressed when the
        ring compresses (and come back in their dtype); others travel as they are.

        Raises:
            RuntimeError: `connect` was not called.
            RingAborted, RingTimeout: as `allreduce_mean`.
        """
        items = [np.asarray(a) for a in items]
        if self.size == 1:
            return [items]
        if self._next is None:
            raise RuntimeError(f"Ring rank {self.rank}: connect() the peers first")
        with self._cond:
            call, epoch = self._calls, self._epoch
            self._calls += 1
        dtypes = [a.dtype for a in items]
        out: list = [None] * self.size
        out[self.rank] = items
        sending = items
        for step in range(self.size - 1):
            for k, a in enumerate(sending):
                self._send((epoch, call, k, step), a, a.dtype.kind == "f")
            origin = (self.rank - 1 - step) % self.size
            got = [self._recv((epoch, call, k, step)) for k in range(len(items))]
            out[origin] = [np.asarray(g, dtype=d) for g, d in zip(got, dtypes)]
            sending = got
        return out

    def _flatten(self, arrays: list) -> tuple[list, list]:
        """One accumulation buffer per dtype, and the buckets: (buffer, start, stop)."""
        by_dtype: dict = {}
        for i, a in enumerate(arrays):
            acc = np.promote_types(a.dtype, np.float32)
            by_dtype.setdefault(acc, []).append(i)
        groups, buckets = [], []
        for acc, idx in by_dtype.items():
            buf = self._buffer(acc, sum(arrays[i].size for i in idx))
            entries, pos = [], 0
            for i in idx:
                n = arrays[i].size
                buf[pos:pos + n] = arrays[i].reshape(-1)
                entries.append((i, pos, pos + n))
                pos += n
            groups.append((buf, entries))
            step = max(self.size, self.bucket_bytes // buf.itemsize)
            buckets += [(buf, s, min(s + step, len(buf))) for s in range(0, len(buf), step)]
        return groups, buckets

    def _buffer(self, dtype, size: int) -> np.ndarray:
        buf = self._buffers.get(dtype)
        if buf is None or buf.size != size:
            buf = self._buffers[dtype] = np.empty(size, dtype)
        return buf

    def _chunk(self, bucket: tuple, index: int) -> np.ndarray:
        buf, start, stop = bucket
        n = stop - start
        return buf[start + n * index // self.size:start + n * (index + 1) // self.size]

    def _sent_chunk(self, rank: int, step: int) -> int:
        """The chunk `rank` sends at `step`: its partial sums (reduce-scatter), then the
        finished chunks (allgather)."""
        n = self.size
        return (rank - step) % n if step < n - 1 else (rank + 1 - (step - n + 1)) % n

    def _reduce(self, buckets: list, epoch: int, call: int) -> None:
        n, steps = self.size, 2 * (self.size - 1)
        prev = (self.rank - 1) % n
        for b, bucket in enumerate(buckets):
            self._send((epoch, call, b, 0), self._chunk(bucket, self._sent_chunk(self.rank, 0)))
        for step in range(1, steps + 1):
            for b, bucket in enumerate(buckets):
                got = self._recv((epoch, call, b, step - 1))
                view = self._chunk(bucket, self._sent_chunk(prev, step - 1))
                if step - 1 < n - 1:
                    np.add(view, got, out=view)  # fp16 payloads are summed in the buffer dtype
                    if step - 1 == n - 2:
                        self._finish(view)
                else:
                    view[...] = got
                if step < steps:
                    self._send((epoch, call, b, step),
                               self._chunk(bucket, self._sent_chunk(self.rank, step)))

    def _reduce_direct(self, buckets: list, epoch: int, call: int) -> None:
        """The same reduce-scatter and allgather as two all-to-all phases: every rank sends
        chunk j of each bucket to rank j, which sums them (in rank order) and sends the mean
        back to all; the same bytes as the ring in 2 sequential phases, not 2 (size-1)."""
        others = [j for j in range(self.size) if j != self.rank]
        for b, bucket in enumerate(buckets):
            for j in others:
                self._send((epoch, call, b, 0, self.rank), self._chunk(bucket, j), to=j)
        for b, bucket in enumerate(buckets):
            mine = self._chunk(bucket, self.rank)
            for j in others:
                np.add(mine, self._recv((epoch, call, b, 0, j)), out=mine)
            self._finish(mine)
            for j in others:
                self._send((epoch, call, b, 1, self.rank), mine, to=j)
        for b, bucket in enumerate(buckets):
            for j in others:
                self._chunk(bucket, j)[...] = self._recv((epoch, call, b, 1, j))

    def _finish(self, chunk: np.ndarray) -> None:
        """The owned chunk's sum becomes the mean, rounded as it will travel, so that every
        rank holds identical values."""
        chunk *= chunk.dtype.type(1.0 / self.size)
        if self.compression == "fp16":
            chunk[...] = chunk.astype(np.float16)

    def _send(self, key: tuple, chunk: np.ndarray, compress: bool = True,
              to: int | None = None) -> None:
        payload = chunk
        if compress and self.compression == "fp16" and chunk.dtype != np.float16:
            if self._half.size < chunk.size:
                self._half = np.empty(chunk.size, np.float16)
            payload = self._half[:chunk.size].reshape(chunk.shape)
            np.copyto(payload, chunk, casting="same_kind")
        (self._next if to is None else self._peers[to]).deliver(key, payload)
        self._stats["messages"] += 1
        self._stats["bytes_sent"] += payload.nbytes

    def _recv(self, key: tuple) -> np.ndarray:
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while key not in self._mail:
                if self._aborted:
                    raise RingAborted(f"Ring rank {self.rank}: all-reduce aborted (epoch "
                                      f"{key[0]}, call {key[1]})")
                left = deadline - time.monotonic()
                if left <= 0:
                    src = key[4] if len(key) == 5 else (self.rank - 1) % self.size
                    raise RingTimeout(f"Ring rank {self.rank}: no message {key} from rank "
                                      f"{src} within {self.timeout} s")
                self._cond.wait(left)
            return self._mail.pop(key)


class AllReduceReplica:
    """One data-parallel replica of all-reduce training: the whole model, its gradients,
    the ring, and the graph's optimizer update run locally on the mean.

    Args:
        graph_def: the training graph (a Graph, GraphDef or its msgpack bytes).
        train_op: the name of the optimizer's update op.
        data_fn: ``data_fn(rank, size) -> iterator of {tensor name: batch}``; every replica
            must yield as many batches as the others (a replica whose data ends stops, and
            its peers then time out).
        rank, size: this replica's place in the ring.
        bucket_bytes, compression, timeout, algorithm: the `Ring`'s.
        checkpoint_dir, checkpoint_every: rank 0 saves its state there every
            `checkpoint_every` steps (as ps shard 0 of a one-shard `ParameterServer` does,
            so the files are interchangeable) and restores the latest when it starts.
        device: where the gradients are computed and the updates run.

    Raises:
        ValueError: the train op records no gradients, or a bad ring argument.
    """

    def __init__(self, graph_def, train_op: str, data_fn: Callable[[int, int], Iterator[dict]],
                 rank: int, size: int, *, bucket_bytes: int = DEFAULT_BUCKET_BYTES,
                 compression: str | None = None, timeout: float = 120.0,
                 algorithm: str = "ring", checkpoint_dir: str | None = None,
                 checkpoint_every: int = 100, device: str = "/cpu:0") -> None:
        self.ring = Ring(rank, size, bucket_bytes, compression, timeout, algorithm)
        # Only the current version's gradients: the mean is applied as soon as it exists.
        self.replica = ParameterServer(graph_def, train_op, mode="async", staleness=0,
                                       checkpoint_dir=checkpoint_dir if rank == 0 else None,
                                       checkpoint_every=checkpoint_every, device=device)
        op = self.replica.executor.graph.get_operation_by_name(train_op.split(":")[0])
        entries = {e.variable: e for e in recorded_gradients(op)}
        # Per variable its fetches: [gradient], or [values, indices] for a sparse gradient.
        self._parts = [entries[v].tensors for v in self.replica.variables]
        self._fetch = [name for parts in self._parts for name in parts]
        self.rank, self.size = int(rank), int(size)
        self._data = data_fn(rank, size)

    # -- the ring's end, reachable by peers and the driver --------------------------------
    def connect(self, peers: Sequence, epoch: int = 0) -> None:
        """`Ring.connect`."""
        self.ring.connect(peers, epoch)

    def deliver(self, key: tuple, payload: np.ndarray) -> None:
        """`Ring.deliver` (what a `RemotePeer` calls)."""
        self.ring.deliver(key, payload)

    def abort(self) -> None:
        """`Ring.abort`: a running `run` returns at its next message wait."""
        self.ring.abort()

    # -- training --------------------------------------------------------------------------
    def run(self, until_step: int, timeout: float | None = None) -> dict:
        """Trains until the global step reaches `until_step` (or the data ends).

        Args:
            timeout: the ring's wait for one message, if given (else the constructor's).

        Returns:
            {"steps": steps done, "accepted": the same, "global_step": the step reached,
            "aborted": whether `abort` ended it (a peer died; the step in progress is lost)}.

        Raises:
            RingTimeout: a peer's message did not come within the ring's timeout.
        """
        if timeout is not None:
            self.ring.timeout = float(timeout)
        steps = 0
        aborted = False
        while self.replica.global_step() < until_step:
            try:
                feeds = next(self._data)
            except StopIteration:
                break
            grads = grouped_gradients(iter(self.replica.executor.run(self._fetch, feeds)),
                                      self._parts)
            try:
                means = self._mean(grads)
            except RingAborted:
                aborted = True
                break
            self.replica.push(self.rank, self.replica.version, means)
            steps += 1
        return {"steps": steps, "accepted": steps, "aborted": aborted,
                "global_step": self.replica.global_step()}

    def _mean(self, grads: list) -> list:
        """The replicas' mean gradients: dense ones all-reduced, sparse ones (values,
        indices) all-gathered and concatenated in rank order with values / size."""
        dense = [k for k, g in enumerate(grads) if not isinstance(g, tuple)]
        sparse = [k for k, g in enumerate(grads) if isinstance(g, tuple)]
        out = list(grads)
        for k, mean in zip(dense, self.ring.allreduce_mean([grads[k] for k in dense])):
            out[k] = mean
        if sparse:
            ranks = self.ring.allgather([a for k in sparse for a in grads[k]])
            for j, k in enumerate(sparse):
                values = np.concatenate([items[2 * j] for items in ranks])
                if self.size > 1:
                    values *= values.dtype.type(1.0 / self.size)
                out[k] = (values, np.concatenate([items[2 * j + 1] for items in ranks]))
        return out

    # -- state -----------------------------------------------------------------------------
    def version(self) -> int:
        """Updates applied (restored from a checkpoint or a peer included)."""
        return self.replica.version

    def global_step(self) -> int:
        """The graph's global step (the version when it has none)."""
        return self.replica.global_step()

    def state(self) -> tuple[int, dict]:
        """(version, {name: array} of every variable, optimizer slot and the step)."""
        return self.replica.version, self.replica.weights()

    def load_state(self, version: int, weights: Mapping[str, np.ndarray]) -> None:
        """Takes a peer's `state` (a restarted replica catching up, or the start's
        broadcast of rank 0's weights)."""
        self.replica.load_state(version, weights)

    def weights(self) -> dict:
        """{name: array} of the replica's state (variables, slots, step)."""
        return self.replica.weights()

    def stats(self) -> dict:
        """The ring's `Ring.stats` and the replica's version."""
        return {**self.ring.stats(), "version": self.replica.version}
