"""Ring all-reduce: the ring in threads (means, buckets, dtypes, fp16, aborts, timeouts), and
all-reduce training (in threads and on Ray actors) equal to one process on the whole batch,
riding out a killed worker."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import actorflow as tf
from actorflow.actors.allreduce import Ring, RingAborted, RingTimeout
from actorflow.actors.data import ShardedBatches
from actorflow.actors.trainer import ReplicatedTrainer

from .test_parameter_server import data, regression_graph, single_process


def ring_of(size: int, **kwargs) -> list[Ring]:
    rings = [Ring(r, size, **kwargs) for r in range(size)]
    for r in rings:
        r.connect(rings)
    return rings


def allreduce(rings: list[Ring], per_rank: list[list[np.ndarray]]) -> list:
    out: list = [None] * len(rings)
    errors: list = []

    def work(r: int) -> None:
        try:
            out[r] = rings[r].allreduce_mean(per_rank[r])
        except Exception as e:  # noqa: BLE001 - checked by the caller
            errors.append(e)

    threads = [threading.Thread(target=work, args=(r,)) for r in range(len(rings))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if errors:
        raise errors[0]
    return out


def arrays(rng, dtype=np.float32) -> list[np.ndarray]:
    return [rng.standard_normal(s).astype(dtype) for s in [(3, 4), (7,), (), (50, 3)]]


@pytest.mark.parametrize("algorithm", ["ring", "direct"])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
@pytest.mark.parametrize("bucket_bytes", [8, 100, 1 << 20])
def test_every_rank_gets_the_same_mean(size, bucket_bytes, algorithm):
    rng = np.random.default_rng(size)
    per_rank = [arrays(rng) + [rng.standard_normal(5)] for _ in range(size)]
    out = allreduce(ring_of(size, bucket_bytes=bucket_bytes, algorithm=algorithm), per_rank)
    for i in range(len(per_rank[0])):
        want = np.mean([per_rank[r][i] for r in range(size)], axis=0)
        for r in range(size):
            assert out[r][i].dtype == per_rank[0][i].dtype
            assert out[r][i].shape == per_rank[0][i].shape
            np.testing.assert_allclose(out[r][i], want, rtol=1e-6, atol=1e-6)
            np.testing.assert_array_equal(out[r][i], out[0][i])


@pytest.mark.parametrize("algorithm", ["ring", "direct"])
def test_buckets_fuse_small_tensors_and_count_messages_and_bytes(algorithm):
    rng = np.random.default_rng(0)
    size = 3
    per_rank = [arrays(rng) for _ in range(size)]  # 12 + 7 + 1 + 150 = 170 floats
    rings = ring_of(size, bucket_bytes=400, algorithm=algorithm)  # 100 floats: 2 buckets
    allreduce(rings, per_rank)
    stats = rings[0].stats()
    assert stats["calls"] == 1
    assert stats["messages"] == 2 * (size - 1) * 2
    # Each step sends about a third of each bucket: 2 (N-1)/N of the bytes in all.
    assert abs(stats["bytes_sent"] - 2 * (size - 1) / size * 170 * 4) <= 2 * (size - 1) * 2 * 4


@pytest.mark.parametrize("algorithm", ["ring", "direct"])
def test_fp16_compression_halves_the_bytes_and_stays_close(algorithm):
    rng = np.random.default_rng(1)
    size = 4
    per_rank = [arrays(rng) for _ in range(size)]
    exact = ring_of(size, algorithm=algorithm)
    half = ring_of(size, compression="fp16", algorithm=algorithm)
    want = allreduce(exact, per_rank)
    got = allreduce(half, per_rank)
    for i in range(len(per_rank[0])):
        assert got[0][i].dtype == np.float32  # sums and results stay float32
        np.testing.assert_allclose(got[0][i], want[0][i], rtol=2e-3, atol=2e-3)
        for r in range(size):
            np.testing.assert_array_equal(got[r][i], got[0][i])
    assert half[0].stats()["bytes_sent"] == exact[0].stats()["bytes_sent"] // 2


def test_float64_and_float16_gradients_keep_their_dtype():
    rng = np.random.default_rng(2)
    per_rank = [[rng.standard_normal(6), rng.standard_normal(4).astype(np.float16)]
                for _ in range(2)]
    out = allreduce(ring_of(2), per_rank)
    assert out[1][0].dtype == np.float64 and out[1][1].dtype == np.float16
    np.testing.assert_allclose(out[1][0], (per_rank[0][0] + per_rank[1][0]) / 2)


def test_abort_wakes_a_waiting_rank_and_a_new_epoch_drops_old_messages():
    rings = ring_of(2, timeout=30)
    errors: list = []
    t = threading.Thread(target=lambda: errors.append(
        pytest.raises(RingAborted, rings[0].allreduce_mean, [np.ones(4, np.float32)])))
    t.start()
    time.sleep(0.2)
    rings[0].abort()
    t.join(10)
    assert not t.is_alive() and errors
    # Rank 0's message of the aborted call is waiting at rank 1; the next epoch drops it.
    for r in rings:
        r.connect(rings, epoch=1)
    out = allreduce(rings, [[np.full(4, 1.0, np.float32)], [np.full(4, 3.0, np.float32)]])
    np.testing.assert_array_equal(out[1][0], np.full(4, 2.0, np.float32))


def test_a_silent_peer_times_out_and_bad_arguments_are_named():
    rings = ring_of(2, timeout=0.2)
    with pytest.raises(RingTimeout, match="from rank 1"):
        rings[0].allreduce_mean([np.ones(3, np.float32)])
    with pytest.raises(TypeError, match="array 0 is int64"):
        rings[0].allreduce_mean([np.ones(3, np.int64)])
    with pytest.raises(RuntimeError, match="connect"):
        Ring(0, 2).allreduce_mean([np.ones(3, np.float32)])
    with pytest.raises(ValueError, match="rank"):
        Ring(2, 2)
    with pytest.raises(ValueError, match="compression"):
        Ring(0, 2, compression="int8")
    with pytest.raises(ValueError, match="algorithm"):
        Ring(0, 2, algorithm="tree")
    with pytest.raises(RingTimeout, match="from rank 1"):
        ring_of(2, timeout=0.2, algorithm="direct")[0].allreduce_mean([np.ones(3, np.float32)])
    with pytest.raises(ValueError, match="2 peers"):
        Ring(0, 3).connect(rings)


def adam():
    return tf.train.AdamOptimizer(0.05)


@pytest.mark.parametrize("optimizer", [lambda: tf.train.GradientDescentOptimizer(0.5), adam],
                         ids=["sgd", "adam"])
def test_allreduce_workers_in_threads_equal_one_process(optimizer):
    x, y = data()
    g, train = regression_graph(sync=False, optimizer=optimizer)
    batches = ShardedBatches({"x:0": x, "y:0": y}, len(x) // 2, shuffle=False)
    trainer = ReplicatedTrainer(g, train, batches, {"worker": 2}, mode="allreduce",
                                use_ray=False, progress=False, bucket_bytes=40)
    summary = trainer.train(5)
    assert summary["global_step"] == 5 and summary["worker_steps"] == 10
    want = single_process(5, x, y, optimizer=optimizer)
    got = trainer.weights()
    for name in ("w", "w2"):
        np.testing.assert_allclose(got[name], want[name], atol=1e-5)
        np.testing.assert_array_equal(trainer.workers[1].weights()[name], got[name])


def test_allgather_hands_every_rank_all_ranks_items_in_rank_order():
    rings = ring_of(3, compression="fp16")
    per_rank = [[np.arange(r + 1, dtype=np.float32), np.full(r, r, np.int32)] for r in range(3)]
    out: list = [None] * 3
    threads = [threading.Thread(target=lambda r=r: out.__setitem__(
        r, rings[r].allgather(per_rank[r]))) for r in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for r in range(3):
        for src in range(3):
            assert out[r][src][0].dtype == np.float32 and out[r][src][1].dtype == np.int32
            np.testing.assert_array_equal(out[r][src][0], per_rank[src][0])
            np.testing.assert_array_equal(out[r][src][1], per_rank[src][1])


def test_sparse_gradients_travel_as_rows_and_training_equals_one_process():
    from .test_sparse_push import _id_data, _one_process, embedding_graph
    ids, y = _id_data()
    g, train = embedding_graph(sync=False)
    batches = ShardedBatches({"ids:0": ids, "y:0": y}, len(ids) // 2, shuffle=False)
    trainer = ReplicatedTrainer(g, train, batches, {"worker": 2}, mode="allreduce",
                                use_ray=False, progress=False)
    trainer.train(5)
    got, want = trainer.weights(), _one_process(5, ids, y)
    for name in ("table", "w"):
        np.testing.assert_allclose(got[name], want[name], atol=1e-5)
    # Per step rank 0 sends w's 3 floats (half in the reduce-scatter, half in the
    # allgather) and its 8 looked-up rows of 3 floats with their 8 int32 ids: never the
    # 12 x 3 table.
    assert trainer.workers[0].ring.stats()["bytes_sent"] == 5 * 4 * (3 + 8 * 3 + 8)


def test_fp16_allreduce_training_stays_close():
    x, y = data()
    g, train = regression_graph(sync=False)
    batches = ShardedBatches({"x:0": x, "y:0": y}, len(x) // 2, shuffle=False)
    trainer = ReplicatedTrainer(g, train, batches, {"worker": 2}, mode="allreduce",
                                use_ray=False, progress=False, compression="fp16",
                                allreduce_algorithm="direct")
    trainer.train(5)
    want = single_process(5, x, y)
    for name in ("w", "w2"):
        np.testing.assert_allclose(trainer.weights()[name], want[name], atol=5e-3)


def test_allreduce_refuses_ps_compression_and_needs_workers():
    g, train = regression_graph(sync=False)
    with pytest.raises(ValueError, match="mode='allreduce' only"):
        ReplicatedTrainer(g, train, None, {"ps": 1, "worker": 1}, compression="fp16",
                          use_ray=False)
    with pytest.raises(ValueError, match="'worker' job"):
        ReplicatedTrainer(g, train, None, {"ps": 1}, mode="allreduce", use_ray=False)


@pytest.mark.slow
def test_allreduce_on_ray_equals_one_process_and_survives_a_killed_worker(ray_local,
                                                                          tmp_path):
    """Two actors: 5 exact steps; then rank 0 is killed mid-run, restarts (restoring its
    checkpoint), takes the live peer's state, and both finish on the same step and weights."""
    import ray

    from actorflow.actors._remote import get

    x, y = data(64)
    g, train = regression_graph(sync=False)
    batches = ShardedBatches({"x:0": x, "y:0": y}, 32, shuffle=False)
    trainer = ReplicatedTrainer(g, train, batches, {"worker": 2}, mode="allreduce",
                                checkpoint_dir=str(tmp_path), checkpoint_every=10,
                                progress=False)
    try:
        summary = trainer.train(5)
        np.testing.assert_allclose(trainer.weights()["w"], single_process(5, x, y)["w"],
                                   atol=1e-5)
        assert summary == {**summary, "global_step": 5, "worker_steps": 10}

        def kill() -> None:
            while trainer.global_step() < 40:
                time.sleep(0.02)
            ray.kill(trainer.workers[0], no_restart=False)

        killer = threading.Thread(target=kill, daemon=True)
        killer.start()
        summary = trainer.train(300)
        killer.join(30)
        states = [get(w.state.remote()) for w in trainer.workers]
    finally:
        trainer.shutdown()
    assert summary["worker_restarts"] >= 1
    assert summary["global_step"] == 300
    assert states[0][0] == states[1][0] == 300
    for name in ("w", "w2", "global_step"):
        np.testing.assert_array_equal(states[0][1][name], states[1][1][name])
    assert list(tmp_path.glob("ps-0-*.index"))  # rank 0 saved checkpoints
