"""Parameter-server shards, replica workers and the trainer as plain classes (no Ray):
sync rounds and stale drops, async staleness, versioned pulls, sharding, checkpoints, and
exact equivalence of sync replicas with one process on the concatenated batch."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import actorflow as tf
from actorflow.actors.data import ShardedBatches
from actorflow.actors.executor import GraphExecutor
from actorflow.actors.parameter_server import ParameterServer, StaleVersion, shard_variables
from actorflow.actors.trainer import ReplicatedTrainer


def regression_graph(workers: int = 2, sync: bool = True, ps_tasks: int = 1,
                     optimizer=lambda: tf.train.GradientDescentOptimizer(0.5)):
    """A two-layer regression with its variables on `ps_tasks` ps tasks."""
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 5], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        with tf.device(tf.train.replica_device_setter(ps_tasks=ps_tasks)):
            w = tf.Variable(tf.truncated_normal([5, 4], seed=1), name="w")
            w2 = tf.Variable(tf.truncated_normal([4, 1], seed=2), name="w2")
            loss = tf.reduce_mean(tf.square(tf.matmul(tf.tanh(tf.matmul(x, w)), w2) - y),
                                  name="loss")
            step = tf.train.get_or_create_global_step()
            opt = optimizer()
            if sync:
                opt = tf.train.SyncReplicasOptimizer(opt, workers, workers)
            train = opt.minimize(loss, global_step=step)
    return g, train


def data(rows: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, 5)).astype(np.float32),
            rng.standard_normal((rows, 1)).astype(np.float32))


def single_process(steps: int, x, y, optimizer=lambda: tf.train.GradientDescentOptimizer(0.5)):
    g, train = regression_graph(sync=False, optimizer=optimizer)
    ex = GraphExecutor(g, initialize=True)
    for _ in range(steps):
        ex.run(train.name, {"x:0": x, "y:0": y})
    return ex.get_weights(["w", "w2"])


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.parametrize("ps_tasks", [1, 2])
def test_sync_replicas_equal_one_process_on_the_whole_batch(workers, ps_tasks):
    x, y = data()
    g, train = regression_graph(workers, sync=True, ps_tasks=ps_tasks)
    batches = ShardedBatches({"x:0": x, "y:0": y}, len(x) // workers, shuffle=False)
    trainer = ReplicatedTrainer(g, train, batches, {"ps": ps_tasks, "worker": workers},
                                use_ray=False, progress=False)
    summary = trainer.train(6)
    assert summary["global_step"] == 6 and summary["mode"] == "sync"
    assert summary["worker_steps"] == 6 * workers
    got = trainer.weights()
    want = single_process(6, x, y)
    for name in ("w", "w2"):
        np.testing.assert_allclose(got[name], want[name], atol=1e-5)


def test_variables_follow_replica_device_setter_and_bytes():
    g, train = regression_graph(ps_tasks=2)
    assert shard_variables(g, train.name, 2) == [["w"], ["w2"]]
    g1, train1 = regression_graph(ps_tasks=1)
    with pytest.raises(ValueError, match="task:0.*0 ps task"):
        shard_variables(g1, train1.name, 0)
    with pytest.raises(ValueError, match="records no gradients"):
        shard_variables(g1, "loss", 1)


def _grads(ps: ParameterServer, value: float) -> dict:
    return {v: np.full(ps.executor.get_weights([v])[v].shape, value, np.float32)
            for v in ps.variables}


def test_sync_round_averages_and_drops_stale_gradients():
    g, train = regression_graph(workers=2, sync=True)
    ps = ParameterServer(g, train.name)
    w0 = ps.pull()[1]["w"]
    assert ps.push(0, 0, _grads(ps, 1.0)) and ps.version == 0  # waiting for the second
    assert ps.push(1, 0, _grads(ps, 3.0)) and ps.version == 1
    version, weights = ps.pull(0)
    assert version == 1
    np.testing.assert_allclose(weights["w"], w0 - 0.5 * 2.0, rtol=1e-6)  # mean gradient 2
    assert ps.push(0, 0, _grads(ps, 1.0)) is False  # computed against version 0: stale
    assert ps.stats()["dropped"] == 1
    assert ps.global_step() == 1
    assert ps.pull(1) == (1, None)  # nothing new


def test_async_applies_on_arrival_within_the_staleness_bound():
    g, train = regression_graph(sync=False)
    ps = ParameterServer(g, train.name, staleness=2)
    for _ in range(3):
        assert ps.push(0, ps.version, _grads(ps, 0.1))
    assert ps.version == 3 and ps.global_step() == 3
    assert ps.push(1, 1, _grads(ps, 0.1))       # 2 versions old: used
    assert not ps.push(1, 0, _grads(ps, 0.1))   # 4 versions old: dropped
    assert ps.global_step() == 4


def test_bad_gradients_are_named():
    g, train = regression_graph(sync=False)
    ps = ParameterServer(g, train.name)
    with pytest.raises(KeyError, match="'w2'"):
        ps.push(0, 0, {"w": np.zeros((5, 4), np.float32)})
    with pytest.raises(ValueError, match="w has shape \\[3\\], expected \\[5, 4\\]"):
        ps.push(0, 0, {"w": np.zeros(3, np.float32), "w2": np.zeros((4, 1), np.float32)})


def test_pull_waits_for_the_round_and_times_out():
    g, train = regression_graph(workers=2, sync=True)
    ps = ParameterServer(g, train.name)
    with pytest.raises(StaleVersion, match="no new version after 0"):
        ps.pull(0, wait=True, timeout=0.05)
    got = []
    waiter = threading.Thread(target=lambda: got.append(ps.pull(0, wait=True, timeout=30)))
    waiter.start()
    ps.push(0, 0, _grads(ps, 1.0))
    ps.push(1, 0, _grads(ps, 1.0))
    waiter.join(30)
    assert got and got[0][0] == 1 and got[0][1] is not None


def test_checkpoints_restore_the_shard_state(tmp_path):
    g, train = regression_graph(sync=False, optimizer=lambda: tf.train.AdamOptimizer(0.1))
    ps = ParameterServer(g, train.name, checkpoint_dir=str(tmp_path), checkpoint_every=2)
    for _ in range(5):
        ps.push(0, ps.version, _grads(ps, 0.3))
    saved = ps.weights()  # after step 5; the last checkpoint holds step 4
    fresh = ParameterServer(g, train.name, checkpoint_dir=str(tmp_path), checkpoint_every=2)
    assert fresh.version == 4 and fresh.global_step() == 4
    restored = fresh.weights()
    assert set(restored) >= {"w", "w2", "global_step"} and \
        any("Adam" in n for n in restored), sorted(restored)
    ps4 = ParameterServer(g, train.name)
    for _ in range(4):
        ps4.push(0, ps4.version, _grads(ps4, 0.3))
    for name, value in ps4.weights().items():
        np.testing.assert_allclose(restored[name], value, rtol=1e-6, err_msg=name)
    assert not np.allclose(saved["w"], restored["w"])


def test_executor_weights_round_trip_and_errors():
    g, train = regression_graph(sync=False)
    ex = GraphExecutor(g, initialize=True)
    w = ex.get_weights(["w"])["w"]
    ex.set_weights({"w": w * 2})
    np.testing.assert_array_equal(ex.get_weights(["w"])["w"], w * 2)
    with pytest.raises(KeyError, match="'nope'"):
        ex.set_weights({"nope": w})
    with pytest.raises(ValueError, match="shape \\[5, 4\\], got a value of shape \\[2\\]"):
        ex.set_weights({"w": np.zeros(2)})
    frozen = np.ones((5, 4), np.float32)
    frozen.flags.writeable = False
    ex.set_weights({"w": frozen})  # copied: the in-place update below must work
    ex.run(train.name, {"x:0": np.ones((2, 5), np.float32), "y:0": np.ones((2, 1), np.float32)})
    assert not np.array_equal(ex.get_weights(["w"])["w"], frozen)
