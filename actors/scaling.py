"""A scaling model of data-parallel training: images/s and efficiency for N workers, for
synchronous parameter-server shards and for ring all-reduce, from a few measured pieces.

The pieces:

- `ModelProfile`: one worker's step (forward and backward, no communication) at a batch,
  the bytes of the gradients it produces (the bytes of the weights it pulls back), and
  the time the optimizer takes to apply them (U).
- `ClusterProfile`: the links between nodes (bandwidth per direction, a fixed cost per
  message), how fast a node sums gradients, and how fast its workers compute relative to
  the machine a ModelProfile was measured on.

`predict(model, cluster, workers, mode="ps", ps_shards=K)` combines them::

    step = compute + update + communication - hidden
    images/s = workers x batch / step
    efficiency = (compute + U) / step    (1.0: N workers are N times one worker alone,
                                          which computes and applies its own gradients)

Communication per step, with G gradient bytes, B bandwidth, L seconds per message,
R the bytes per second a node sums gradients at:

- **PS, K shards, sync** (`ReplicatedTrainer` with a SyncReplicasOptimizer): a round has
  two phases one after the other, since the new weights exist only once every gradient
  is in: the pushes (every worker sends G/K to each shard), then the pulls (every worker
  fetches G/K from each shard). A worker's path is G out, then G in, over its link, and
  3K + 1 messages one after another (as `ReplicaWorker` makes them: a global-step check,
  then per shard a push, a pull call and the fetch of the published weights), 2K of them
  carrying arrays (Lo each, see `ClusterProfile.object_latency`):
  2 G / B + (K + 1) L + 2K Lo. A shard's path is N x G/K in (or the time to sum them at R,
  whichever is longer: it sums each gradient as it arrives, overlapping the transfers),
  then applying the mean and publishing the new version (U/K + G/K / R), then N x G/K
  out, and 2N calls served: N G/K / B (or / R) + U/K + G/K / R + N G/K / B + N (L + Lo). The
  round takes the slower path: the busiest shard or a worker. The update is the shard's:
  it is inside the communication, and the workers' `update` is 0.
- **Ring all-reduce**: reduce-scatter then all-gather over N workers, 2(N - 1) messages of
  G/N bytes each, every worker sending to one neighbour while it receives from the other:
  2(N - 1)/N x G / B + 2(N - 1) L, plus summing (N - 1)/N x G at R. One worker
  communicates nothing. As actors/allreduce.py runs it, the gradients travel in buckets
  of `bucket_bytes` (its default unless given), and every bucket pays its own 2(N - 1)
  messages, each carrying arrays: the latency term is 2(N - 1) x buckets x Lo in place of
  the textbook 2(N - 1) L (actors/allreduce.py's own cost model; its author measured
  4 MiB buckets 2-3x slower a step than one bucket). fp16 compression halves G on the
  wire. Each replica then applies the mean with the optimizer (`update` = U), as a
  single worker does.

A full-duplex link (the default, as Ethernet and the loopback are) lets a ring worker send
and receive at once; half duplex doubles the ring's transfer time. It does not change the
sync PS, whose in and out phases follow each other anyway.

**Overlap.** `overlap` is the fraction of the compute time during which gradients can
already travel (the backward pass, with gradient buckets sent as soon as they are ready);
the communication hidden behind it is ``min(communication, overlap x compute)``. It is 0 by
default because that is what the trainers here do: a `ReplicaWorker` pushes after its whole
backward pass and then waits for the round, and an `AllReduceReplica` gets no gradient from
the executor before the whole backward pass is done (its buckets overlap only each other's
transfers and sums, which the formula above already counts once). An implementation that
sends buckets during the backward pass would set it up to the backward pass's share of the
step (about 2/3: the backward pass costs about twice the forward pass).

**Describing a real cluster.** Give its link and its workers' speed::

    dc = ClusterProfile.describe("datacenter", gbit_s=10, latency_us=50, speed=8.0)
    predict(profile_model(graph, train_op, data, 128), dc, 64, "allreduce")

``speed=8.0``: a worker computes the step 8 times faster than the machine the model
profile was measured on (e.g. a measured CPU step of 0.5 s against 0.066 s for the book's
CIFAR-10 CNN on a GTX 1080 gives speed = 0.5 / 0.066). ``reduce_gb_s`` is a node's summing
speed (memory bound: a few GB/s per core); ``object_latency_us`` the fixed cost of a
message carrying arrays where it exceeds the latency (Ray's object store: measure it with
`profile_links` on the cluster). The model takes every worker to have cores of
its own; the "nodes" of a local test cluster share one machine's, so there the step to
give is the one measured with N workers computing at once (as `check_on_cluster` does).

Measurement helpers (`profile_model`, `profile_links`, `measure_reduce_bandwidth`) return
these profiles from this machine (run `profile_model` on a worker node) or a running Ray
cluster; `check_on_cluster` sets the model's prediction against what `ReplicatedTrainer`
itself trains at.
"""
from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .allreduce import DEFAULT_BUCKET_BYTES
from .replica_worker import ReplicaWorker

__all__ = ["ClusterProfile", "ModelProfile", "Prediction", "predict", "communication_s",
           "profile_model", "profile_links", "measure_reduce_bandwidth", "check_on_cluster",
           "gradient_bytes", "MODES"]

MODES = ("ps", "allreduce")


@dataclass(frozen=True)
class ClusterProfile:
    """The cluster the model predicts for.

    Attributes:
        name: a label for tables.
        bandwidth: bytes per second of one node's link, in each direction.
        latency: seconds one message (an actor call) costs beyond its bytes: the round trip
            and the call's overhead at both ends.
        object_latency: seconds a message carrying gradients or weights costs beyond its
            bytes (None: `latency`). Ray sends arrays over 100 KiB through the object
            stores, which adds a fixed cost per object (measured on the local cluster:
            about 5-9 ms against 1 ms for a small call).
        reduce_bandwidth: gradient bytes per second one node sums into another array.
        speed: how many times faster a worker computes a step than the machine where the
            `ModelProfile` was measured (1.0: the same).
        full_duplex: a link carries its in and out bytes at the same time (the ring's
            neighbours send and receive at once; half duplex doubles its transfer).

    Raises:
        ValueError: a bandwidth, reduce bandwidth or speed that is not positive, or a
            negative latency or object latency.
    """

    name: str
    bandwidth: float
    latency: float
    reduce_bandwidth: float = 5e9
    speed: float = 1.0
    full_duplex: bool = True
    object_latency: float | None = None

    def __post_init__(self) -> None:
        for field in ("bandwidth", "reduce_bandwidth", "speed"):
            if not getattr(self, field) > 0:
                raise ValueError(f"ClusterProfile.{field} must be > 0, got "
                                 f"{getattr(self, field)!r}")
        if not self.latency >= 0:
            raise ValueError(f"ClusterProfile.latency must be >= 0, got {self.latency!r}")
        if self.object_latency is not None and not self.object_latency >= 0:
            raise ValueError(f"ClusterProfile.object_latency must be >= 0, got "
                             f"{self.object_latency!r}")

    @property
    def payload_latency(self) -> float:
        """The fixed cost of a message carrying arrays: `object_latency`, else `latency`."""
        return self.latency if self.object_latency is None else self.object_latency

    @classmethod
    def describe(cls, name: str, gbit_s: float, latency_us: float, speed: float = 1.0,
                 reduce_gb_s: float = 5.0, full_duplex: bool = True,
                 object_latency_us: float | None = None) -> ClusterProfile:
        """A cluster in the units a data sheet uses: link Gb/s, latency in microseconds,
        worker speed relative to the profiling machine, summing speed in GB/s, and the
        fixed cost of a message carrying arrays in microseconds (None: the latency)."""
        return cls(name, bandwidth=gbit_s * 1e9 / 8, latency=latency_us * 1e-6,
                   reduce_bandwidth=reduce_gb_s * 1e9, speed=speed, full_duplex=full_duplex,
                   object_latency=None if object_latency_us is None
                   else object_latency_us * 1e-6)


@dataclass(frozen=True)
class ModelProfile:
    """One worker's training step.

    Attributes:
        name: the model's name.
        batch_size: examples per worker per step.
        compute_s: seconds of one step (forward, backward, no communication) at that batch.
        grad_bytes: bytes of the gradients of one step (the trainable variables' bytes).
        apply_s: seconds the optimizer takes to apply one step's gradients to the weights
            (0: negligible; `profile_model` measures it).

    Raises:
        ValueError: a batch size or compute time that is not positive, negative bytes or
            apply time.
    """

    name: str
    batch_size: int
    compute_s: float
    grad_bytes: int
    apply_s: float = 0.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"ModelProfile.batch_size must be >= 1, got {self.batch_size}")
        if not self.compute_s > 0:
            raise ValueError(f"ModelProfile.compute_s must be > 0, got {self.compute_s!r}")
        if self.grad_bytes < 0:
            raise ValueError(f"ModelProfile.grad_bytes must be >= 0, got {self.grad_bytes}")
        if not self.apply_s >= 0:
            raise ValueError(f"ModelProfile.apply_s must be >= 0, got {self.apply_s!r}")

    def at_batch(self, batch_size: int, fixed_s: float = 0.0) -> ModelProfile:
        """This step at another batch size: `fixed_s` of the step does not depend on the
        batch, the rest grows in proportion to it (a CPU step is close to linear)."""
        per_example = (self.compute_s - fixed_s) / self.batch_size
        return dataclasses.replace(self, batch_size=int(batch_size),
                                   compute_s=fixed_s + per_example * batch_size)


@dataclass(frozen=True)
class Prediction:
    """What `predict` expects of one configuration.

    Attributes:
        workers, mode, ps_shards: the configuration (ps_shards is 0 for all-reduce).
        compute_s: one worker's step compute on this cluster.
        update_s: the optimizer's apply on each worker (all-reduce; 0 with a ps, whose
            shards apply inside the communication).
        communication_s: the exchange of one step (before overlap).
        step_s: one synchronous step.
        images_per_s: examples per second of all workers together.
        speedup: images_per_s over one worker alone, computing and applying its own
            gradients without communication.
        efficiency: speedup / workers.
    """

    workers: int
    mode: str
    ps_shards: int
    compute_s: float
    update_s: float
    communication_s: float
    step_s: float
    images_per_s: float
    speedup: float
    efficiency: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def communication_s(grad_bytes: float, cluster: ClusterProfile, workers: int,
                    mode: str = "ps", ps_shards: int = 1, compression: str | None = None,
                    bucket_bytes: int | None = None, apply_s: float = 0.0) -> float:
    """Seconds of one synchronous step's gradient exchange (see the module docstring).

    `compression` "fp16" (all-reduce only, as `ReplicatedTrainer` has it) halves the bytes
    on the wire; the sums stay float32. `bucket_bytes`: the all-reduce's buckets (None:
    actors/allreduce.py's default), each paying the ring's messages. `apply_s`: the
    optimizer's apply of all G bytes, which a ps shard does for its G/K (0: counted as
    one pass over them at the summing speed).

    Raises:
        ValueError: an unknown mode or compression, fewer than one worker or shard.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if compression not in (None, "fp16") or (compression and mode != "allreduce"):
        raise ValueError(f"compression must be None, or 'fp16' with mode='allreduce'; got "
                         f"{compression!r} with mode={mode!r}")
    n, g, c = workers, float(grad_bytes), cluster
    if mode == "allreduce":
        if n == 1:
            return 0.0
        frac = (n - 1) / n
        wire = g / 2 if compression == "fp16" else g
        duplex = 1 if c.full_duplex else 2
        buckets = max(1, math.ceil(g / (bucket_bytes or DEFAULT_BUCKET_BYTES)))
        return (duplex * 2 * frac * wire / c.bandwidth
                + 2 * (n - 1) * buckets * c.payload_latency + frac * g / c.reduce_bandwidth)
    if ps_shards < 1:
        raise ValueError(f"ps_shards must be >= 1, got {ps_shards}")
    k = ps_shards
    worker_path = 2 * g / c.bandwidth + (k + 1) * c.latency + 2 * k * c.payload_latency
    shard_bytes = n * g / k
    shard_path = (max(shard_bytes / c.bandwidth, shard_bytes / c.reduce_bandwidth)
                  + (apply_s or g / c.reduce_bandwidth) / k + (g / k) / c.reduce_bandwidth
                  + shard_bytes / c.bandwidth
                  + n * (c.latency + c.payload_latency))
    return max(worker_path, shard_path)


def predict(model: ModelProfile, cluster: ClusterProfile, workers: int, mode: str = "ps",
            ps_shards: int = 1, overlap: float = 0.0, compression: str | None = None,
            bucket_bytes: int | None = None) -> Prediction:
    """Throughput and efficiency of `workers` synchronous data-parallel workers.

    Args:
        model: the step and its gradient bytes.
        cluster: the links, summing speed and worker speed.
        workers: N, each computing `model.batch_size` examples per step.
        mode: "ps" (sync parameter-server shards) or "allreduce" (ring).
        ps_shards: K, the parameter-server shards (ignored for all-reduce).
        overlap: the fraction of the compute during which communication can proceed
            (0: none, as `ReplicaWorker` and `AllReduceReplica` do; see the module
            docstring).
        compression: "fp16" halves the all-reduce's bytes on the wire.
        bucket_bytes: the all-reduce's bucket size (None: actors/allreduce.py's default).

    Returns:
        A `Prediction`.

    Raises:
        ValueError: an unknown mode or compression, workers or shards < 1, overlap
            outside [0, 1].
    """
    if not 0.0 <= overlap <= 1.0:
        raise ValueError(f"overlap must be within [0, 1], got {overlap!r}")
    update = model.apply_s / cluster.speed
    comm = communication_s(model.grad_bytes, cluster, workers, mode, ps_shards, compression,
                           bucket_bytes, update)
    alone = model.compute_s / cluster.speed
    local = update if mode == "allreduce" else 0.0
    step = alone + local + comm - min(comm, overlap * alone)
    images = workers * model.batch_size / step
    speedup = images / (model.batch_size / (alone + update))
    return Prediction(workers, mode, ps_shards if mode == "ps" else 0, alone, local, comm, step,
                      images, speedup, speedup / workers)


# -- measuring the pieces ------------------------------------------------------------------

def gradient_bytes(graph, train_op) -> int:
    """Bytes of the gradients `train_op` applies in one step, counted as dense: the bytes of
    the variables it updates. A sparse (IndexedSlices) gradient moves only the rows a batch
    touches, fewer bytes: `profile_model` counts what one step actually produces.

    Args:
        graph: a Graph holding `train_op`.
        train_op: the op `minimize` / `apply_gradients` returned, or its name.

    Raises:
        ValueError: the op records no gradients.
    """
    from actorflow.train.distribute import _variable_bytes
    from actorflow.train.optimizer import recorded_gradients
    name = train_op if isinstance(train_op, str) else train_op.name
    entries = recorded_gradients(graph.get_operation_by_name(name.split(":")[0]))
    if not entries:
        raise ValueError(f"{name!r} records no gradients: pass the op returned by an "
                         "optimizer's minimize or apply_gradients")
    return sum(_variable_bytes(graph.get_operation_by_name(e.variable)) for e in entries)


class _StepTimer(ReplicaWorker):
    """A replica that only computes: the gradient step a `ReplicaWorker` runs, timed, with
    freshly initialised weights and no parameter server; and the optimizer's apply of one
    step's gradients, timed on a `ParameterServer` of its own."""

    def __init__(self, graph_def, train_op: str, data_fn: Callable[[int, int], Iterator[dict]],
                 worker_index: int = 0, num_workers: int = 1) -> None:
        from actorflow.framework.graph_io import GraphDef
        from actorflow.train.optimizer import GradientEntry
        from .executor import graph_def_bytes
        self._graph_def, self._train_op = graph_def_bytes(graph_def), train_op
        gd = GraphDef()
        gd.ParseFromString(self._graph_def)
        op = next(n for n in gd.node if n["name"] == train_op.split(":")[0])
        variables = [GradientEntry.parse(e).variable for e in op["attr"]["_gradients"]]
        super().__init__(gd, train_op, [variables], data_fn, worker_index, num_workers)
        self.executor.initialize()
        self._flat = [name for parts in self._fetch[0] for name in parts]
        self._ps = None

    def _gradients(self) -> list:
        """One step's gradients as a push carries them: an array per variable, (values,
        indices) for a sparse one."""
        values = iter(self.executor.run(self._flat, next(self._data)))
        return [next(values) if len(parts) == 1 else (next(values), next(values))
                for parts in self._fetch[0]]

    def step_bytes(self) -> int:
        """The bytes of one step's gradients (the touched rows only, for sparse ones)."""
        return sum(a.nbytes for g in self._gradients()
                   for a in (g if isinstance(g, tuple) else (g,)))

    def time_apply(self, steps: int) -> list[float]:
        """Seconds of each of `steps` applies of one step's gradients by the graph's
        optimizer, as a parameter-server shard (or an all-reduce replica) runs them."""
        from .parameter_server import ParameterServer
        if self._ps is None:
            self._ps = ParameterServer(self._graph_def, self._train_op, mode="async")
        grads = self._gradients()
        out = []
        for _ in range(steps + 1):  # the first compiles the update plan
            t0 = time.perf_counter()
            self._ps.push(0, self._ps.version, grads)
            out.append(time.perf_counter() - t0)
        return out[1:]

    def time_steps(self, steps: int, warmup: int = 1, min_s: float = 0.0) -> list[float]:
        """Seconds of each gradient step after `warmup` untimed ones: at least `steps`
        of them, and more until `min_s` seconds have passed."""
        for _ in range(warmup):
            self.executor.run(self._flat, next(self._data))
        out: list[float] = []
        while len(out) < steps or sum(out) < min_s:
            feeds = next(self._data)
            t0 = time.perf_counter()
            self.executor.run(self._flat, feeds)
            out.append(time.perf_counter() - t0)
        return out


def profile_model(graph, train_op, data_fn: Callable[[int, int], Iterator[dict]],
                  batch_size: int, name: str = "model", steps: int = 5, warmup: int = 1,
                  threads: int | None = None) -> ModelProfile:
    """One worker's step and the optimizer's apply of its gradients, timed in this process
    (medians of `steps`), and the bytes of one step's gradients (for a sparse gradient,
    the rows a batch touched).

    Args:
        graph: the training graph (a Graph; its GraphDef is what the workers run).
        train_op: the optimizer's update op, or its name.
        data_fn: ``data_fn(0, 1)`` yields feed dicts of `batch_size` examples (as
            `ReplicatedTrainer` takes).
        batch_size: the examples per step `data_fn` feeds.
        threads: BLAS threads while timing (None: as they are). Ray gives an actor with
            ``num_cpus=1`` one thread, so 1 times the step a one-CPU worker computes.

    Raises:
        ValueError: steps < 1, or a train op without gradients.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    from threadpoolctl import threadpool_limits
    op = train_op if isinstance(train_op, str) else train_op.name
    timer = _StepTimer(graph, op, data_fn)
    try:
        with threadpool_limits(limits=threads):
            seconds = statistics.median(timer.time_steps(steps, warmup))
            apply_s = statistics.median(timer.time_apply(steps))
        nbytes = timer.step_bytes()
    finally:
        timer.executor.close()
    return ModelProfile(name, batch_size, seconds, nbytes, apply_s)


def measure_reduce_bandwidth(nbytes: int = 16 << 20, repeats: int = 5) -> float:
    """Gradient bytes per second this process sums into an accumulator (``acc += g``, as a
    parameter-server shard does): the median of `repeats` sums of `nbytes`."""
    acc = np.ones(max(1, nbytes // 4), np.float32)
    g = np.ones_like(acc)
    samples = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        np.add(acc, g, out=acc)
        samples.append(time.perf_counter() - t0)
    return acc.nbytes / statistics.median(samples[1:])


class _LinkProbe:
    """One end of a link measurement: calls its peer with arrays, or receives them."""

    def sink(self, value) -> int:
        return int(getattr(value, "nbytes", 0))

    def send(self, peer, nbytes: int, repeats: int) -> list[float]:
        """Seconds of each of `repeats` calls of ``peer.sink(array of nbytes)``."""
        import ray
        x = np.ones(max(1, nbytes // 4), np.float32)
        ray.get(peer.sink.remote(x))  # warm: the peer's connection, the store's pages
        out = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            ray.get(peer.sink.remote(x))
            out.append(time.perf_counter() - t0)
        return out

    def reduce_bandwidth(self) -> float:
        return measure_reduce_bandwidth()


def _measure_link(sender, receiver, name: str, sizes: Sequence[int],
                  repeats: int) -> ClusterProfile:
    """The link from `sender`'s node to `receiver`'s, measured by two `_LinkProbe` actors
    (see `profile_links`)."""
    from ._remote import get
    if len(set(sizes)) < 2:
        raise ValueError(f"a link measurement needs two different sizes, got {list(sizes)}")
    latency = statistics.median(get(sender.send.remote(receiver, 4, 4 * repeats)))
    times = [statistics.median(get(sender.send.remote(receiver, s, repeats))) for s in sizes]
    reduce_bw = get(receiver.reduce_bandwidth.remote())
    slope, intercept = np.polyfit(np.asarray(sizes, float), np.asarray(times), 1)
    if not slope > 0:
        raise ValueError(f"call times {times} do not grow with sizes {list(sizes)}: "
                         "measure larger sizes")
    return ClusterProfile(name, bandwidth=float(1.0 / slope), latency=float(latency),
                          reduce_bandwidth=float(reduce_bw),
                          object_latency=float(max(latency, intercept)))


def _link_probes(strategy: str):
    """A Cluster of two `_LinkProbe` actors placed by `strategy`: (cluster, sender,
    receiver)."""
    from .cluster import Cluster
    cluster = Cluster({"worker": 2}, strategy=strategy, bundle={"CPU": 0.01})
    try:
        return (cluster, cluster.start("worker", 0, _LinkProbe),
                cluster.start("worker", 1, _LinkProbe))
    except BaseException:
        cluster.shutdown()
        raise


def profile_links(name: str = "local", sizes: Sequence[int] = (1 << 20, 4 << 20, 16 << 20),
                  repeats: int = 5, strategy: str = "STRICT_SPREAD") -> ClusterProfile:
    """The link between two nodes of the running Ray cluster, as actor calls see it.

    Two actors on two nodes (`strategy` "STRICT_SPREAD": different nodes). `latency` is the
    median time of a call carrying 4 bytes; `bandwidth` the slope and `object_latency` the
    intercept (at least `latency`) of a least-squares line through the median call times
    carrying `sizes` bytes (arrays travel through the object stores, serialised and copied
    as a worker's gradients are); `reduce_bandwidth` is measured on the receiving node.

    Raises:
        ValueError: fewer than two sizes, or call times that do not grow with size.
        TimeoutError: the cluster cannot place two actors with `strategy`.
    """
    cluster, sender, receiver = _link_probes(strategy)
    try:
        return _measure_link(sender, receiver, name, sizes, repeats)
    finally:
        cluster.shutdown()


def check_on_cluster(build: Callable[[int], tuple], batch_size: int,
                     workers: Sequence[int] = (1, 2), steps: int = 10, rounds: int = 3,
                     min_step_s: float = 0.5, name: str = "model",
                     strategy: str = "STRICT_SPREAD",
                     link_sizes: Sequence[int] = (1 << 20, 4 << 20, 16 << 20),
                     link_repeats: int = 3, mode: str = "ps", compression: str | None = None,
                     **trainer_options) -> dict:
    """The model's prediction against the images/s `ReplicatedTrainer` trains at on the
    running Ray cluster, for each N in `workers`: sync PS with one shard, or all-reduce.

    For each N, a trainer (a ps and N workers, or N all-reduce replicas, placed by
    `strategy`), N step timers (worker
    actors that only compute, placed the same way) and two link probes live side by side,
    and `rounds` times in turn: the probes measure the link (`profile_links`), the timers
    compute at once (the step with N workers computing: on a cluster whose nodes share one
    machine's cores it is slower than one worker alone; a sync step takes the slowest of
    the N, so the step given to the model is the median over steps of the slowest timer's),
    then one timer times the optimizer's apply of a step's gradients, and the trainer
    trains `steps` global steps. Each round's prediction uses that round's link, step and
    apply, so the machine's drifting speed (other processes, a loaded CI machine) cancels
    out of each round's ratio; medians over rounds are reported.

    Args:
        build: ``build(N) -> (graph, train_op, data_fn)``: a graph whose optimizer
            aggregates N replicas (SyncReplicasOptimizer), and data for N workers of
            `batch_size` examples.
        min_step_s: the timers compute for at least this long per round.
        link_sizes, link_repeats: the link measurement's (see `profile_links`).
        mode: "ps" (one shard) or "allreduce".
        compression, trainer_options: for the trainer (`bucket_bytes`, ...); compression
            and bucket_bytes go to the prediction too.

    Returns:
        {"links": the median of every round's link measurement, "points": one dict per N:
        workers, measured_images_per_s and predicted_images_per_s (medians over rounds),
        error (the median over rounds of predicted / measured - 1), step_s (the median
        step with N workers computing), prediction (`predict`'s dict for the median step
        and link), rounds (each round's step_s, apply_s, bandwidth, latency,
        object_latency, measured, predicted)}.

    Raises:
        ValueError: steps, rounds or a worker count < 1, an unknown mode.
        TimeoutError: the cluster cannot place N + 1 one-CPU tasks and N half-CPU tasks
            with `strategy`.
    """
    if steps < 1 or rounds < 1 or min(workers, default=0) < 1:
        raise ValueError(f"steps, rounds and workers must be >= 1, got {steps}, {rounds}, "
                         f"{list(workers)}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if compression is not None:
        trainer_options["compression"] = compression
    wire = dict(compression=compression, bucket_bytes=trainer_options.get("bucket_bytes"))
    from ._remote import get
    from .cluster import Cluster
    from .executor import graph_def_bytes
    from .trainer import ReplicatedTrainer
    probes, sender, receiver = _link_probes(strategy)
    points, all_links = [], []
    try:
        for n in workers:
            graph, train_op, data_fn = build(n)
            op = train_op if isinstance(train_op, str) else train_op.name
            # Half a CPU each, so that they fit beside the trainer's one-CPU tasks and the
            # probes: Ray gives a fractional-CPU actor one BLAS thread, as a one-CPU worker.
            timers = Cluster({"worker": n}, strategy=strategy, bundle={"CPU": 0.5})
            trainer = None
            try:
                handles = [timers.start("worker", i, _StepTimer, graph_def_bytes(graph), op,
                                        data_fn, i, n) for i in range(n)]
                grad_bytes = get(handles[0].step_bytes.remote())
                tasks = {"worker": n} if mode == "allreduce" else {"ps": 1, "worker": n}
                trainer = ReplicatedTrainer(graph, op, data_fn, tasks,
                                            mode="allreduce" if mode == "allreduce" else "sync",
                                            strategy=strategy, bundle={"CPU": 1},
                                            progress=False, **trainer_options)
                trainer.train(2)  # warm: plans compiled, first versions shared
                rows = []
                for r in range(rounds):
                    links = _measure_link(sender, receiver, "local", link_sizes,
                                          link_repeats)
                    runs = get([h.time_steps.remote(steps, int(r == 0), min_step_s)
                                for h in handles])
                    # A sync step waits for its slowest worker: the median over steps of
                    # the slowest of the timers' concurrent steps.
                    step_s = statistics.median(max(t) for t in zip(*runs))
                    apply_s = statistics.median(get(handles[0].time_apply.remote(3)))
                    before = trainer.global_step()
                    t0 = time.perf_counter()
                    done = trainer.train(before + steps)["global_step"] - before
                    measured = done * n * batch_size / (time.perf_counter() - t0)
                    model = ModelProfile(name, batch_size, step_s, grad_bytes, apply_s)
                    rows.append({"step_s": step_s, "apply_s": apply_s,
                                 "bandwidth": links.bandwidth, "latency": links.latency,
                                 "object_latency": links.object_latency, "measured": measured,
                                 "predicted": predict(model, links, n, mode,
                                                      **wire).images_per_s})
                    all_links.append(links)
            finally:
                if trainer is not None:
                    trainer.shutdown()
                timers.shutdown()
            med = {k: statistics.median(row[k] for row in rows) for k in rows[0]}
            links = dataclasses.replace(all_links[-1], bandwidth=med["bandwidth"],
                                        latency=med["latency"],
                                        object_latency=med["object_latency"])
            p = predict(ModelProfile(name, batch_size, med["step_s"], grad_bytes,
                                     med["apply_s"]), links, n, mode, **wire)
            points.append({"workers": n, "measured_images_per_s": med["measured"],
                           "predicted_images_per_s": med["predicted"],
                           "error": statistics.median(row["predicted"] / row["measured"] - 1
                                                      for row in rows),
                           "step_s": med["step_s"], "prediction": p.as_dict(), "rounds": rows})
    finally:
        probes.shutdown()
    links = ClusterProfile("local", **{k: statistics.median(getattr(c, k) for c in all_links)
                                       for k in ("bandwidth", "latency", "reduce_bandwidth",
                                                 "object_latency")})
    return {"links": links, "points": points}
