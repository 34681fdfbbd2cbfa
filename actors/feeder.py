"""Input across nodes: every worker reads its own shard of the files, or queue actors on a
data node feed several workers (the book's queue model, across the network).

Both are data functions of `ReplicatedTrainer` / `ReplicaWorker`: picklable callables
``data_fn(worker_index, num_workers) -> iterator of {tensor name: batch}``.

**Sharded files** (`FileShards`). Each worker builds an input pipeline over its own files
in its own process and runs it in a prefetching thread, so the next batches are ready while
the step runs::

    def cifar10_input(ctx: InputContext) -> dict:      # runs inside a fresh tf.Graph
        records = ctx.shard(tf.data.FixedLengthRecordDataset(list(ctx.files), 3073))
        images, labels = records.map(decode_and_distort).shuffle(1000).batch(128) \\
            .repeat().make_one_shot_iterator().get_next()
        return {"images:0": images, "labels:0": labels}   # tensor names of the train graph

    data_fn = FileShards(["data_batch_1.bin", ..., "data_batch_5.bin"], cifar10_input)
    ReplicatedTrainer(graph, train_op, data_fn, {"ps": 1, "worker": 2}).train(3000)

Worker i of N reads files i, i+N, ... (`InputContext.files`; shards differ by at most a
file). With fewer files than workers
every worker gets all files and must split the records with ``ctx.shard(dataset)``
(``Dataset.shard(N, i)``); a pipeline that does not is refused, since its workers would all
read the same records. Queue-runner pipelines (``string_input_producer`` ->
``FixedLengthRecordReader`` -> ``shuffle_batch``, as the book's ``distorted_inputs``) work
too: the worker starts the graph's queue runners. The iterator ends when the pipeline raises
OutOfRangeError (one epoch without ``repeat``). `Prefetched` gives any other data function
(a `ShardedBatches`, a Python reader) the same prefetching thread.

**Queue feeding** (`QueueFeed`). Producer actors on a data node read and decode batches (any
data function, e.g. a `FileShards`: producer k of P reads its shard) and put them into a
`QueueActor` with ``enqueue_many``; each worker's data function takes whole batches with
``dequeue_many(batch_size)``, keeping `prefetch` requests outstanding so that a batch is in
flight while the step runs::

    feed = QueueFeed(FileShards(files, cifar10_input), batch_size=128, capacity=4096,
                     producers=2, options={"resources": {"data_node": 0.01}})
    ReplicatedTrainer(graph, train_op, feed, {"ps": 1, "worker": 4}).train(3000)
    feed.shutdown()

When every producer has finished its source, a worker closes the queue; the workers then
take what is left and their iterators end (fewer than `batch_size` items left are dropped,
as TF's ``batch`` does). A producer that dies or fails ends every worker's iterator with
`ProducerFailed`, naming it, instead of leaving the workers blocked on an empty queue.
Batches dequeued for a worker that dies in the meantime are lost; a restarted worker asks
anew. Every blocked call holds one of the queue actor's threads: workers x `prefetch` +
producers must stay below `max_concurrency`.
"""
from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from actorflow.queues import FIFOQueue, QueueCancelled, QueueClosed, RandomShuffleQueue

from ._remote import as_actor, get, require_ray
from .queue import QueueActor

__all__ = ["InputContext", "file_shard", "FileShards", "Prefetcher", "Prefetched", "QueueFeed",
           "QueueBatches", "ProducerFailed", "graph_batches"]

DataFn = Callable[[int, int], Iterator[dict]]


class ProducerFailed(RuntimeError):
    """A producer of a `QueueFeed` died or raised; the message names it."""


# -- prefetching ------------------------------------------------------------------------------
class Prefetcher:
    """An iterator over ``make_source()`` that a background thread keeps `depth` items ahead.

    The source is created in that thread (a graph pipeline's session lives there) and read
    while the consumer works on earlier items. Errors of the source reach the consumer at
    the item where they happened; the end of the source ends this iterator.

    Args:
        make_source: a function of no arguments returning the iterator to read.
        depth: items kept ready (at least 1).

    Raises:
        ValueError: depth < 1.
    """

    def __init__(self, make_source: Callable[[], Iterator], depth: int = 2,
                 name: str = "prefetch") -> None:
        if depth < 1:
            raise ValueError(f"prefetch depth must be >= 1, got {depth}")
        self.depth = int(depth)
        self.produced = 0  # items read from the source so far
        self._items: collections.deque = collections.deque()
        self._cond = threading.Condition()
        self._stopped = False
        self._done = False
        self._thread = threading.Thread(target=self._fill, args=(make_source,), daemon=True,
                                        name=name)
        self._thread.start()

    @property
    def buffered(self) -> int:
        """Items read and not yet taken (the end marker not counted)."""
        with self._cond:
            return sum(1 for kind, _ in self._items if kind == "item")

    def __iter__(self) -> "Prefetcher":
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        with self._cond:
            while not self._items:
                self._cond.wait()
            kind, value = self._items.popleft()
            self._cond.notify_all()
        if kind == "item":
            return value
        self._done = True
        if kind == "error":
            raise value
        raise StopIteration

    def close(self, timeout: float | None = 10.0) -> None:
        """Stops the thread (the source is closed in it) and drops the items buffered."""
        with self._cond:
            self._stopped = True
            self._items.clear()
            self._cond.notify_all()
        self._done = True
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _fill(self, make_source: Callable[[], Iterator]) -> None:
        source = None
        try:
            source = make_source()
            for item in source:
                self.produced += 1
                if not self._put("item", item):
                    return
            self._put("end", None)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            self._put("error", e)
        finally:
            if source is not None and hasattr(source, "close"):
                source.close()

    def _put(self, kind: str, value) -> bool:
        """Appends an entry once there is room; False when the prefetcher was closed."""
        with self._cond:
            while kind == "item" and len(self._items) >= self.depth and not self._stopped:
                self._cond.wait()
            if self._stopped:
                return False
            self._items.append((kind, value))
            self._cond.notify_all()
            return True


class Prefetched:
    """Any data function with a prefetching thread in each worker:
    ``Prefetched(data_fn, depth)(i, n)`` is a `Prefetcher` over ``data_fn(i, n)`` (e.g. to
    keep batches of a `ShardedBatches` or of a Python reader ready while the step runs).

    Raises:
        ValueError: depth < 1.
    """

    def __init__(self, data_fn: DataFn, depth: int = 2) -> None:
        if depth < 1:
            raise ValueError(f"prefetch depth must be >= 1, got {depth}")
        self.data_fn = data_fn
        self.depth = int(depth)

    def __call__(self, worker_index: int, num_workers: int) -> Prefetcher:
        return Prefetcher(lambda: self.data_fn(worker_index, num_workers), self.depth,
                          name=f"prefetch-worker-{worker_index}")


# -- sharded files --------------------------------------------------------------------------
class InputContext:
    """What an input pipeline of `FileShards` reads (after ``tf.distribute.InputContext``).

    Attributes:
        files: the files of this pipeline.
        num_shards, shard_index: how its records are split further (1, 0 unless the
            workers outnumber the files).
        worker_index, num_workers: the worker that runs the pipeline.
    """

    def __init__(self, files: Sequence[str], num_shards: int, shard_index: int,
                 worker_index: int, num_workers: int) -> None:
        self.files = tuple(files)
        self.num_shards = num_shards
        self.shard_index = shard_index
        self.worker_index = worker_index
        self.num_workers = num_workers
        self.sharded = False  # whether the pipeline called `shard`

    def shard(self, dataset):
        """`dataset` restricted to this pipeline's records: ``dataset.shard(num_shards,
        shard_index)``, or `dataset` itself when the files are already split. Apply it to
        the records before shuffling or repeating them."""
        self.sharded = True
        if self.num_shards == 1:
            return dataset
        return dataset.shard(self.num_shards, self.shard_index)

    def __repr__(self) -> str:
        return (f"InputContext(worker {self.worker_index} of {self.num_workers}, "
                f"{len(self.files)} files, shard {self.shard_index} of {self.num_shards})")


def file_shard(files: Sequence[str], worker_index: int,
               num_workers: int) -> tuple[list[str], int, int]:
    """Worker `worker_index` of `num_workers`'s part of `files`, as ``(its files,
    num_record_shards, record_shard_index)``: files i, i+N, ... (``1, 0``: every record of
    them), or, when the workers outnumber the files, every file with record shard i of N.

    Raises:
        ValueError: worker_index outside [0, num_workers).
    """
    if not 0 <= worker_index < num_workers:
        raise ValueError(f"worker_index {worker_index} is not in [0, {num_workers})")
    if num_workers <= len(files):
        return list(files[worker_index::num_workers]), 1, 0
    return list(files), num_workers, worker_index


class FileShards:
    """The data function of workers that each read their own files (see the module notes).

    Args:
        files: the data files (paths every worker can open).
        input_fn: ``input_fn(context: InputContext) -> {tensor name: Tensor}``, called in a
            fresh ``tf.Graph`` in the worker's process; the keys are the feed names of the
            training graph. Picklable (a module-level function) to travel to actors.
        prefetch: batches kept ready by the worker's prefetching thread.
        seed: graph-level seed of each pipeline (``seed + worker_index``); None: unseeded.

    Raises:
        ValueError: no files, or prefetch < 1.
    """

    def __init__(self, files: Sequence[str], input_fn: Callable[[InputContext], Mapping],
                 prefetch: int = 2, seed: int | None = None) -> None:
        self.files = [str(f) for f in files]
        if not self.files:
            raise ValueError("FileShards needs at least one file")
        if prefetch < 1:
            raise ValueError(f"prefetch must be >= 1, got {prefetch}")
        self.input_fn = input_fn
        self.prefetch = int(prefetch)
        self.seed = seed

    def context(self, worker_index: int, num_workers: int) -> InputContext:
        """The InputContext of one worker: files i, i+N, ... or all files with record shard
        i of N when the workers outnumber the files.

        Raises:
            ValueError: worker_index outside [0, num_workers).
        """
        files, num_shards, shard_index = file_shard(self.files, worker_index, num_workers)
        return InputContext(files, num_shards, shard_index, worker_index, num_workers)

    def __call__(self, worker_index: int, num_workers: int) -> Prefetcher:
        context = self.context(worker_index, num_workers)
        seed = None if self.seed is None else self.seed + worker_index
        return Prefetcher(lambda: graph_batches(self.input_fn, context, seed), self.prefetch,
                          name=f"input-worker-{worker_index}")


def graph_batches(input_fn: Callable[[InputContext], Mapping], context: InputContext,
                  seed: int | None = None) -> Iterator[dict]:
    """Runs ``input_fn(context)`` in a new graph and session (with its queue runners) and
    yields ``{name: value}`` until the pipeline raises OutOfRangeError.

    Raises:
        TypeError: input_fn returned something other than a dict of tensors.
        ValueError: the records needed sharding and input_fn did not call
            ``context.shard``.
    """
    import actorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        if seed is not None:
            tf.set_random_seed(seed)
        tensors = input_fn(context)
        if not isinstance(tensors, Mapping) or not all(
                isinstance(t, tf.Tensor) for t in tensors.values()):
            raise TypeError(f"input_fn must return {{tensor name: Tensor}}, got "
                            f"{type(tensors).__name__}")
        if context.num_shards > 1 and not context.sharded:
            raise ValueError(
                f"{context}: {context.num_workers} workers share {len(context.files)} files, "
                f"so input_fn must split the records with context.shard(dataset); it did not, "
                f"and every worker would read the same records")
        init = [tf.global_variables_initializer(), tf.local_variables_initializer()]
    names = list(tensors)
    fetches = [tensors[n] for n in names]
    sess = tf.Session(graph=graph)
    coord = tf.train.Coordinator()
    threads: list = []
    try:
        sess.run(init)
        threads = tf.train.start_queue_runners(sess, coord=coord)
        while True:
            try:
                values = sess.run(fetches)
            except tf.errors.OutOfRangeError:
                return
            yield dict(zip(names, values))
    finally:
        coord.request_stop()
        sess.close()  # cancels the queues, so that runner threads blocked in them end
        coord.join(threads, stop_grace_period_secs=10, ignore_live_threads=True)


# -- queue feeding ----------------------------------------------------------------------------
class _Producer:
    """A producer actor: reads ``source(index, count)`` and enqueues every batch."""

    def __init__(self, queue: QueueActor, source: DataFn, index: int, count: int) -> None:
        self.queue = queue
        self.source = source
        self.index = index
        self.count = count

    def run(self) -> dict:
        """Enqueues the source's batches until it ends or the feed is shut down; returns
        {"batches", "records"} enqueued."""
        batches = self.source(self.index, self.count)
        done = {"batches": 0, "records": 0}
        try:
            for batch in batches:
                self.queue.enqueue_many(batch)
                done["batches"] += 1
                done["records"] += len(next(iter(batch.values())))
        except QueueCancelled:  # shut down: the queue refuses further items
            pass
        finally:
            if hasattr(batches, "close"):  # a Prefetcher's thread, a generator
                batches.close()
        return done


class QueueFeed:
    """A queue actor filled by producer actors; called as a data function, it gives each
    worker an iterator of whole batches dequeued from it (see the module notes).

    Creating the feed starts the queue and the producers, which begin filling the queue at
    once (as TF's queue runners do).

    Args:
        source: the producers' data function: producer k of `producers` reads
            ``source(k, producers)``. Picklable. A `FileShards` reads ahead while the
            producer enqueues; wrap other sources in `Prefetched` for the same.
        batch_size: items each worker dequeues per batch.
        capacity: items the queue holds.
        producers: producer actors.
        min_after_dequeue: None for a FIFO queue; else a RandomShuffleQueue that keeps this
            many items back to shuffle (the book's ``shuffle_batch``).
        prefetch: dequeue requests each worker keeps outstanding.
        seed: the shuffle queue's seed.
        options: Ray options of the queue and producer actors: where they go (``resources``
            of the data node, ``scheduling_strategy``); both reserve 0 CPUs unless
            ``num_cpus`` is given.
        max_concurrency: the queue actor's threads; workers x prefetch + producers must fit.

    Raises:
        ValueError: batch_size, capacity, producers or prefetch < 1.
    """

    def __init__(self, source: DataFn, batch_size: int, capacity: int = 1000,
                 producers: int = 1, min_after_dequeue: int | None = None, prefetch: int = 2,
                 seed: int | None = None, options: Mapping[str, Any] | None = None,
                 max_concurrency: int = 64) -> None:
        for label, value in (("batch_size", batch_size), ("capacity", capacity),
                             ("producers", producers), ("prefetch", prefetch)):
            if value < 1:
                raise ValueError(f"QueueFeed: {label} must be >= 1, got {value}")
        self.batch_size = int(batch_size)
        self.prefetch = int(prefetch)
        opts = {"num_cpus": 0, **(options or {})}
        if min_after_dequeue is None:
            self.queue = QueueActor(FIFOQueue, capacity, max_concurrency=max_concurrency,
                                    options=opts)
        else:
            self.queue = QueueActor(RandomShuffleQueue, capacity, min_after_dequeue,
                                    seed=seed, max_concurrency=max_concurrency, options=opts)
        producer_opts = {**opts, "max_concurrency": 1}
        self.producers = [as_actor(_Producer, self.queue, source, k, producers,
                                   options=producer_opts)
                          for k in range(producers)]
        self.runs = [p.run.remote() for p in self.producers]

    def __call__(self, worker_index: int, num_workers: int) -> "QueueBatches":
        return QueueBatches(self.queue, self.batch_size, self.prefetch, self.runs)

    def wait(self, timeout: float | None = None) -> list[dict]:
        """Waits for the producers to finish; returns each one's {"batches", "records"}.

        Raises:
            ProducerFailed: a producer died or raised.
        """
        return [_producer_result(ref, k, timeout) for k, ref in enumerate(self.runs)]

    def shutdown(self) -> None:
        """Closes the queue (a producer blocked in an enqueue stops), then ends the actors;
        the items still queued are lost."""
        ray = require_ray()
        try:
            self.queue.close(cancel_pending_enqueues=True)
        except ray.exceptions.RayActorError:
            pass  # the queue actor is gone already
        ray.wait(self.runs, num_returns=len(self.runs), timeout=10)
        for p in self.producers:
            ray.kill(p, no_restart=True)
        self.queue.shutdown()


def _producer_result(ref, index: int, timeout: float | None = None) -> dict:
    """The result of producer `index`'s run, or ProducerFailed naming it."""
    ray = require_ray()
    try:
        return get(ref, timeout=timeout)
    except ray.exceptions.GetTimeoutError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure of the producer is reported as one
        raise ProducerFailed(f"QueueFeed producer {index} failed: {type(e).__name__}: "
                             f"{e}") from e


class QueueBatches:
    """One worker's iterator over a `QueueFeed`: whole batches from ``dequeue_many``, with
    `prefetch` requests outstanding; the batch that arrives first is returned first.

    Attributes:
        outstanding: dequeue requests submitted and not yet returned.
        received: batches returned so far.

    Raises (from ``next``):
        ProducerFailed: a producer died or raised while this worker waited.
    """

    def __init__(self, queue: QueueActor, batch_size: int, prefetch: int,
                 runs: Sequence) -> None:
        self.queue = queue
        self.batch_size = batch_size
        self.prefetch = prefetch
        self.received = 0
        self._pending: collections.deque = collections.deque()
        self._watch = dict(enumerate(runs))   # producer index -> its run's ObjectRef
        self._closed = False

    @property
    def outstanding(self) -> int:
        return len(self._pending)

    def __iter__(self) -> "QueueBatches":
        return self

    def __next__(self) -> dict:
        ray = require_ray()
        while True:
            self._request()
            if not self._pending:
                raise StopIteration
            # Waiting on every request starts their transfers to this node; the first batch
            # to arrive is taken (a queue's batches have no order to keep).
            ready, _ = ray.wait([*self._pending, *self._watch.values()], num_returns=1)
            ref = ready[0]
            if ref not in self._pending:
                self._producers_done(ref)
                continue
            self._pending.remove(ref)
            try:
                batch = get(ref)
            except QueueClosed:
                # Fewer than a batch left, or the feed shut down: no new requests; those
                # already out may still hold a batch each (requests run in any order).
                self._closed = True
                continue
            self.received += 1
            self._request()
            return batch

    def _request(self) -> None:
        while not self._closed and len(self._pending) < self.prefetch:
            self._pending.append(self.queue.actor.dequeue_many.remote(self.batch_size, None))

    def _producers_done(self, run) -> None:
        """Drops a finished producer's `run` from the watch (ProducerFailed if it failed);
        closes the queue when every producer is done."""
        k = next(k for k, ref in self._watch.items() if ref == run)
        _producer_result(run, k)
        del self._watch[k]
        if not self._watch:
            self.queue.close()  # the remainder drains; then dequeues raise QueueClosed
