"""actors/feeder.py: every worker reads its own shard (no record lost or read twice), the
book's queue-runner CIFAR-10 pipeline runs per worker, the prefetcher keeps its buffer full,
and queue feeding across actors delivers every batch, ends cleanly when the queue closes
and names a producer that died."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

import actorflow as tf
from actorflow.actors.data import ShardedBatches
from actorflow.actors.feeder import (FileShards, InputContext, Prefetched, Prefetcher,
                                     ProducerFailed, QueueFeed)

from ..blocking_calls import in_thread
from ..book._data import CIFAR10_RECORD_BYTES, write_cifar10

RECORDS_PER_FILE = 10


def wait_until(condition, what: str, timeout: float = 30.0) -> None:
    """Polls `condition` until it holds (a state, not a duration, is what tests assert)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def id_files(tmp_path) -> list[str]:
    """Five files of 8-byte records, each an int64 id; ids 0..49 overall."""
    paths = []
    for f in range(5):
        path = tmp_path / f"ids_{f}.bin"
        np.arange(f * RECORDS_PER_FILE, (f + 1) * RECORDS_PER_FILE, dtype="<i8").tofile(path)
        paths.append(str(path))
    return paths


def ids_input(ctx: InputContext, batch: int = 3, repeat: bool = False) -> dict:
    """A tf.data pipeline over the id records: read, shard, decode, batch."""
    records = ctx.shard(tf.data.FixedLengthRecordDataset(list(ctx.files), 8))
    ids = records.map(lambda r: tf.reshape(tf.decode_raw(r, tf.int64), []))
    if repeat:
        ids = ids.repeat()
    return {"ids:0": ids.batch(batch).make_one_shot_iterator().get_next()}


def endless_ids_input(ctx: InputContext) -> dict:
    return ids_input(ctx, batch=5, repeat=True)


def unsharded_input(ctx: InputContext) -> dict:
    records = tf.data.FixedLengthRecordDataset(list(ctx.files), 8)
    ids = records.map(lambda r: tf.reshape(tf.decode_raw(r, tf.int64), []))
    return {"ids:0": ids.batch(4).make_one_shot_iterator().get_next()}


def read_all(data_fn, workers: int) -> list[list[int]]:
    """Every worker's ids over one epoch."""
    return [[int(i) for batch in data_fn(w, workers) for i in batch["ids:0"]]
            for w in range(workers)]


# -- file-level sharding ----------------------------------------------------------------------
def test_worker_i_of_n_reads_files_i_i_plus_n(id_files):
    shards = FileShards(id_files, ids_input)
    assert shards.context(1, 2).files == (id_files[1], id_files[3])
    assert shards.context(0, 2).files == (id_files[0], id_files[2], id_files[4])
    few = shards.context(6, 7)  # more workers than files: all files, records split
    assert few.files == tuple(id_files) and (few.num_shards, few.shard_index) == (7, 6)
    with pytest.raises(ValueError, match="worker_index 2"):
        shards.context(2, 2)
    with pytest.raises(ValueError, match="at least one file"):
        FileShards([], ids_input)


@pytest.mark.parametrize("workers", [1, 2, 3, 5, 7])
def test_every_record_is_read_exactly_once_per_epoch(id_files, workers):
    per_worker = read_all(FileShards(id_files, ids_input), workers)
    every = sorted(i for ids in per_worker for i in ids)
    assert every == list(range(5 * RECORDS_PER_FILE))  # no loss, no duplicates
    assert all(per_worker), per_worker                 # each worker has a share


def test_record_sharding_is_refused_when_the_pipeline_ignores_it(id_files):
    assert sorted(read_all(FileShards(id_files, unsharded_input), 5)[0]) == \
        list(range(0, 10))  # enough files: file shards need no record sharding
    with pytest.raises(ValueError, match="context.shard"):
        next(FileShards(id_files[:2], unsharded_input)(0, 3))


def book_cifar10_input(ctx: InputContext) -> dict:
    """The book's distorted_inputs (queue runners), one epoch over this worker's files:
    string_input_producer -> FixedLengthRecordReader -> decode -> crop, flip, brightness,
    contrast, standardisation -> batch."""
    filename_queue = tf.train.string_input_producer(list(ctx.files), num_epochs=1,
                                                    shuffle=False)
    _, value = tf.FixedLengthRecordReader(record_bytes=CIFAR10_RECORD_BYTES).read(
        filename_queue)
    record = tf.decode_raw(value, tf.uint8)
    label = tf.cast(tf.strided_slice(record, [0], [1]), tf.int32)
    image = tf.transpose(tf.reshape(tf.strided_slice(record, [1], [CIFAR10_RECORD_BYTES]),
                                    [3, 32, 32]), [1, 2, 0])
    image = tf.random_crop(tf.cast(image, tf.float32), [24, 24, 3])
    image = tf.image.random_flip_left_right(image)
    image = tf.image.random_brightness(image, max_delta=63)
    image = tf.image.random_contrast(image, lower=0.2, upper=1.8)
    image = tf.image.per_image_standardization(image)
    image.set_shape([24, 24, 3])
    label.set_shape([1])
    images, labels = tf.train.batch([image, label], batch_size=16, num_threads=1,
                                    capacity=64)
    return {"images:0": images, "labels:0": tf.reshape(labels, [16])}


def test_book_queue_runner_pipeline_per_worker(tmp_path):
    written = write_cifar10(tmp_path, per_train_file=32, n_test=16)
    files = [str(tmp_path / f"data_batch_{i}.bin") for i in range(1, 6)]
    shards = FileShards(files, book_cifar10_input, seed=1)
    for worker in range(2):
        batches = list(shards(worker, 2))
        mine = files[worker::2]
        assert len(batches) == 32 * len(mine) // 16
        labels = np.concatenate([b["labels:0"] for b in batches])
        want = np.concatenate([written[os.path.basename(f)][0] for f in mine])
        np.testing.assert_array_equal(labels, want)  # one thread: the files' order
        images = np.concatenate([b["images:0"] for b in batches])
        assert images.shape == (len(want), 24, 24, 3)
        np.testing.assert_allclose(images.reshape(len(want), -1).mean(1), 0, atol=1e-4)


def mean_id_graph():
    """Learns the mean id: the loss (w - id)^2 over a batch of ids fed to "ids:0"."""
    graph = tf.Graph()
    with graph.as_default():
        ids = tf.placeholder(tf.int64, [None], name="ids")
        w = tf.Variable(0.0, name="w")
        loss = tf.reduce_mean(tf.square(w - tf.cast(ids, tf.float32)))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return graph, train


def train_mean_id(data_fn, steps: int, use_ray: bool) -> tuple[dict, float]:
    from actorflow.actors.trainer import ReplicatedTrainer
    graph, train = mean_id_graph()
    trainer = ReplicatedTrainer(graph, train, data_fn, {"ps": 1, "worker": 2}, mode="async",
                                use_ray=use_ray, progress=False)
    try:
        summary = trainer.train(steps)
        return summary, float(trainer.weights()["w"])
    finally:
        trainer.shutdown()


def test_file_shards_feed_replicated_training(id_files):
    summary, weight = train_mean_id(FileShards(id_files, endless_ids_input), 20, False)
    assert summary["global_step"] >= 20
    assert 0.0 < weight < 49.0


# -- prefetching ------------------------------------------------------------------------------
def test_prefetcher_keeps_its_buffer_filled_and_no_further():
    taken = []

    def source():
        for i in range(100):
            taken.append(i)
            yield i

    pre = Prefetcher(source, depth=3)
    # The thread reads depth items into the buffer, and one more that waits for room.
    wait_until(lambda: len(taken) == 4 and pre.buffered == 3, "a full buffer")
    assert next(pre) == 0
    wait_until(lambda: len(taken) == 5 and pre.buffered == 3, "the buffer refilled")
    assert [next(pre) for _ in range(3)] == [1, 2, 3]
    pre.close()
    assert len(taken) < 100 and not pre._thread.is_alive()
    with pytest.raises(StopIteration):
        next(pre)


def test_prefetcher_hands_over_errors_and_the_end():
    def failing():
        yield 1
        raise OSError("disk gone")

    pre = Prefetcher(failing, depth=2)
    assert next(pre) == 1
    with pytest.raises(OSError, match="disk gone"):
        next(pre)
    assert list(Prefetcher(lambda: iter(range(5)), depth=2)) == list(range(5))
    with pytest.raises(ValueError, match="depth"):
        Prefetcher(lambda: iter(()), depth=0)


def test_closing_a_shard_iterator_ends_its_thread_and_session(id_files):
    batches = FileShards(id_files, endless_ids_input, prefetch=2)(0, 1)
    assert len(next(batches)["ids:0"]) == 5
    batches.close()
    assert not batches._thread.is_alive()
    with pytest.raises(StopIteration):
        next(batches)


def test_prefetched_data_function_yields_the_same_batches():
    data = ShardedBatches({"x:0": np.arange(40.0)}, batch_size=4, seed=3)
    for worker in range(2):
        plain, ahead = data(worker, 2), Prefetched(data, depth=2)(worker, 2)
        for _ in range(12):  # past an epoch: the reshuffles match too
            np.testing.assert_array_equal(next(ahead)["x:0"], next(plain)["x:0"])
        ahead.close()
    with pytest.raises(ValueError, match="depth"):
        Prefetched(data, depth=0)


# -- queue feeding (Ray) ----------------------------------------------------------------------
@pytest.mark.slow
def test_queue_fed_workers_get_every_batch_the_producers_made(ray_local, id_files):
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    data_node = NodeAffinitySchedulingStrategy(ray_local.get_runtime_context().get_node_id(),
                                               soft=False)  # one machine: this one
    feed = QueueFeed(FileShards(id_files, lambda ctx: ids_input(ctx, batch=5)),
                     batch_size=5, capacity=20, producers=2,
                     options={"scheduling_strategy": data_node})
    try:
        workers = [in_thread(lambda i=i: [b["ids:0"].tolist() for b in feed(i, 2)])
                   for i in range(2)]
        for thread, _ in workers:
            thread.join(60)
        made = feed.wait()
    finally:
        feed.shutdown()
    got = [outcome["value"] for _, outcome in workers]
    assert sum(m["records"] for m in made) == 50 and sum(m["batches"] for m in made) == 10
    assert all(len(batch) == 5 for batches in got for batch in batches)  # whole batches
    every = sorted(i for batches in got for batch in batches for i in batch)
    assert every == list(range(50))  # none lost, none twice


@pytest.mark.slow
def test_replicated_workers_on_ray_train_on_every_batch_of_a_feed(ray_local, id_files):
    feed = QueueFeed(FileShards(id_files, lambda ctx: ids_input(ctx, batch=5)),
                     batch_size=5, capacity=20)
    try:
        summary, weight = train_mean_id(feed, 1000, True)  # the feed ends first
        made = feed.wait()
    finally:
        feed.shutdown()
    assert made[0]["batches"] == 10
    assert summary["worker_steps"] == 10 and summary["worker_restarts"] == 0
    assert 0.0 < weight < 49.0


@pytest.mark.slow
def test_prefetch_keeps_requests_outstanding_and_close_ends_cleanly(ray_local, id_files):
    feed = QueueFeed(FileShards(id_files, endless_ids_input), batch_size=5, capacity=10,
                     prefetch=3)
    try:
        batches = feed(0, 1)
        assert batches.outstanding == 0
        first = next(batches)
        assert len(first["ids:0"]) == 5 and batches.outstanding == 3
        next(batches)
        assert batches.outstanding == 3 and batches.received == 2
        feed.queue.close()  # the producer's next enqueue is refused; the rest drains
        rest = list(batches)
        assert batches.outstanding == 0
        # the batches in flight, the queue's capacity, and the enqueue that was blocked
        # when the queue closed (it may still complete)
        assert len(rest) <= 3 + 10 // 5 + 1
        assert feed.wait(timeout=30)[0]["batches"] >= 2
    finally:
        feed.shutdown()
    ready, _ = ray_local.wait(feed.runs, timeout=0)
    assert ready == feed.runs  # the producer ended its run itself, refused by the queue
    wait_until(lambda: _ended(feed.queue), "the queue actor to end")


def _ended(queue) -> bool:
    """Whether a QueueActor's actor is gone (ray.kill takes effect asynchronously)."""
    import ray
    try:
        queue.size()
    except ray.exceptions.RayActorError:
        return True
    return False


@pytest.mark.slow
def test_a_killed_producer_is_named_not_waited_for(ray_local, id_files):
    feed = QueueFeed(FileShards(id_files, endless_ids_input), batch_size=5, capacity=10)
    try:
        batches = feed(0, 1)
        next(batches)
        ray_local.kill(feed.producers[0], no_restart=True)
        with pytest.raises(ProducerFailed, match="producer 0"):
            for _ in range(1000):  # the queue's last items, then the error, never a hang
                next(batches)
    finally:
        feed.shutdown()


@pytest.mark.slow
def test_a_producer_error_reaches_every_worker(ray_local, tmp_path):
    missing = str(tmp_path / "missing.bin")
    feed = QueueFeed(FileShards([missing], ids_input), batch_size=5)
    try:
        workers = [in_thread(lambda i=i: list(feed(i, 2))) for i in range(2)]
        for thread, _ in workers:
            thread.join(60)
    finally:
        feed.shutdown()
    for _, outcome in workers:
        assert isinstance(outcome.get("error"), ProducerFailed), outcome
        assert "producer 0" in str(outcome["error"]) and "missing.bin" in str(outcome["error"])
