"""Sparse gradients through the parameter server: a worker pushes only the rows its batch
touched and pulls back only the rows that changed (word2vec at vocabulary 50,000 moves
thousands of floats a step each way, not 6.4M), sync rounds of sparse pushes equal one
process on the concatenated batch, async applies each; a worker's copy after sparse pulls
equals the ps's exactly, and a worker far behind or after a ps restore gets everything."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import actorflow as tf
from actorflow.actors.data import ShardedBatches
from actorflow.actors.executor import GraphExecutor
from actorflow.actors.parameter_server import ParameterServer
from actorflow.actors.replica_worker import CountingShard, ReplicaWorker, payload_bytes
from actorflow.actors.trainer import ReplicatedTrainer
from actorflow.models.word2vec import skip_gram_nce

VOCAB, DIM, BATCH, SAMPLED = 50000, 128, 128, 64


def word2vec_graph(dense: bool):
    """The book's skip-gram NCE graph with SGD at 1.0; `dense` converts the gradients to
    dense tensors before apply (what training without IndexedSlices would push)."""
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(3)
        inputs = tf.placeholder(tf.int32, [BATCH], name="inputs")
        labels = tf.placeholder(tf.int32, [BATCH, 1], name="labels")
        model = skip_gram_nce(inputs, labels, VOCAB, DIM, SAMPLED)
        opt = tf.train.GradientDescentOptimizer(1.0)
        grads = opt.compute_gradients(model["loss"])
        if dense:
            grads = [(tf.convert_to_tensor(gr), v) for gr, v in grads]
        train = opt.apply_gradients(grads, global_step=tf.train.get_or_create_global_step())
    return g, train


def _word_batches(worker_index, num_workers):
    rng = np.random.default_rng(worker_index)
    while True:
        yield {"inputs:0": rng.integers(0, VOCAB, BATCH).astype(np.int32),
               "labels:0": rng.integers(0, VOCAB, (BATCH, 1)).astype(np.int32)}


DENSE_BYTES = 4 * (2 * VOCAB * DIM + VOCAB)  # embeddings, nce_weights, nce_biases


def _steps(dense: bool, steps: int = 2):
    g, train = word2vec_graph(dense)
    ps = ParameterServer(g, train.name, mode="async")
    shard = CountingShard(ps, keep=True)
    worker = ReplicaWorker(g, train.name, [ps.variables], _word_batches, 0, 1)
    before = ps.pull()[1]
    worker.run([shard], until_step=steps)
    return ps, shard, before, worker


def test_word2vec_pushes_only_the_touched_rows():
    ps, shard, before, _ = _steps(dense=False)
    pushes = shard.pushes
    assert len(pushes) == 2
    rows = {"embeddings": BATCH, "nce_weights": BATCH + SAMPLED, "nce_biases": BATCH + SAMPLED}
    for grads in pushes:
        pushed = dict(zip(ps.variables, grads))
        for name, n in rows.items():
            values, indices = pushed[name]
            assert indices.shape == (n,) and values.shape[0] == n
        floats = sum(pushed[name][0].size for name in rows)
        assert floats == BATCH * DIM + (BATCH + SAMPLED) * (DIM + 1)  # 41,344, not 6.45M
        assert payload_bytes(grads) < 0.01 * DENSE_BYTES
    # only the looked-up embedding rows moved
    after = ps.pull()[1]
    moved = np.flatnonzero(np.any(after["embeddings"] != before["embeddings"], axis=1))
    touched = set()
    for grads in pushes:
        touched |= set(dict(zip(ps.variables, grads))["embeddings"][1].tolist())
    assert set(moved.tolist()) <= touched and len(moved) > 0


def test_word2vec_pulls_only_the_changed_rows():
    ps, shard, _, worker = _steps(dense=False, steps=3)
    assert sorted(ps._row_wise_names) == ["embeddings", "nce_biases", "nce_weights"]
    first, *steps = shard.pulls
    assert payload_bytes(first) == DENSE_BYTES  # a new worker gets everything once
    assert len(steps) == 3
    for pulled, grads in zip(steps, shard.pushes):
        pushed = dict(zip(ps.variables, grads))
        for name in ps.variables:  # one worker: the rows it pushed, nothing else
            values, rows = pulled[name]
            np.testing.assert_array_equal(rows, np.unique(pushed[name][1]))
            assert values.shape == rows.shape + pushed[name][0].shape[1:]
        assert 0 < payload_bytes(pulled) < 0.01 * DENSE_BYTES
    # the counters, per worker step: 3 pushes and 3 pulls of < 1% of the tables each
    assert shard.pull_bytes[0] == (-1, DENSE_BYTES) and len(shard.push_bytes) == 3
    assert all(0 < b < 0.01 * DENSE_BYTES for _, b in shard.pull_bytes[1:])
    assert all(0 < b < 0.01 * DENSE_BYTES for b in shard.push_bytes)
    np.testing.assert_array_equal(  # the last pull's values are the ps's rows now
        steps[-1]["embeddings"][0], ps.pull()[1]["embeddings"][steps[-1]["embeddings"][1]])
    mine, theirs = worker.executor.get_weights(ps.variables), ps.pull()[1]
    for name in ps.variables:
        np.testing.assert_array_equal(mine[name], theirs[name])


def test_dense_baseline_pushes_and_pulls_every_row():
    ps, shard, _, _ = _steps(dense=True, steps=1)
    pushed = dict(zip(ps.variables, shard.pushes[0]))
    assert pushed["embeddings"].shape == (VOCAB, DIM)
    assert payload_bytes(shard.pushes[0]) == DENSE_BYTES
    assert ps._row_wise_names == set()  # dense gradients: dense updates
    assert [payload_bytes(w) for w in shard.pulls] == [DENSE_BYTES, DENSE_BYTES]


def embedding_graph(workers: int = 2, sync: bool = True,
                    optimizer=lambda: tf.train.AdagradOptimizer(0.3), ps_tasks: int = 1):
    """A deterministic regression on looked-up rows: the table (two shards) gets
    IndexedSlices gradients, the output layer a dense one; variables on `ps_tasks` tasks."""
    g = tf.Graph()
    with g.as_default(), tf.device(tf.train.replica_device_setter(ps_tasks=ps_tasks)):
        ids = tf.placeholder(tf.int32, [None], name="ids")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        rows = np.random.default_rng(0).standard_normal((12, 3))
        table = [tf.Variable(rows[:6], name="table", dtype=tf.float32),
                 tf.Variable(rows[6:], name="table_1", dtype=tf.float32)]
        w = tf.Variable(np.ones((3, 1)), name="w", dtype=tf.float32)
        pred = tf.matmul(tf.nn.embedding_lookup(table, ids), w)
        loss = tf.reduce_mean(tf.square(pred - y))
        opt = optimizer()
        if sync:
            opt = tf.train.SyncReplicasOptimizer(opt, workers, workers)
        train = opt.minimize(loss, global_step=tf.train.get_or_create_global_step())
    return g, train


def _id_data(rows: int = 16):
    rng = np.random.default_rng(1)
    # few distinct ids: repeated within a batch and across the workers' batches
    return (rng.integers(0, 8, rows).astype(np.int32),
            rng.standard_normal((rows, 1)).astype(np.float32))


def _one_process(steps: int, ids, y):
    g, train = embedding_graph(sync=False)
    ex = GraphExecutor(g, initialize=True)
    for _ in range(steps):
        ex.run(train.name, {"ids:0": ids, "y:0": y})
    return ex.get_weights(["table", "table_1", "w"])


@pytest.mark.parametrize("workers, ps_tasks", [(2, 1), (4, 1), (2, 2)])
def test_sparse_sync_rounds_equal_one_process_on_the_concatenated_batch(workers, ps_tasks):
    ids, y = _id_data()
    g, train = embedding_graph(workers, ps_tasks=ps_tasks)
    batches = ShardedBatches({"ids:0": ids, "y:0": y}, len(ids) // workers, shuffle=False)
    trainer = ReplicatedTrainer(g, train, batches, {"ps": ps_tasks, "worker": workers},
                                use_ray=False, progress=False)
    assert trainer.train(5)["global_step"] == 5
    got, want = trainer.weights(), _one_process(5, ids, y)
    for name in ("table", "table_1", "w"):
        np.testing.assert_allclose(got[name], want[name], atol=1e-5)


def test_async_applies_each_sparse_push_and_checks_its_form():
    g, train = embedding_graph(sync=False, optimizer=lambda: tf.train.GradientDescentOptimizer(
        0.5))
    ps = ParameterServer(g, train.name, mode="async")
    table0 = ps.pull()[1]["table"]
    rows = (np.ones((3, 3), np.float32), np.array([1, 1, 4], np.int32))
    w_grad = np.zeros((3, 1), np.float32)
    other = (np.zeros((0, 3), np.float32), np.zeros(0, np.int32))  # table_1: no rows
    assert ps.push(0, 0, {"table": rows, "table_1": other, "w": w_grad})
    assert ps.push(1, 0, {"table": tf.IndexedSlicesValue(*rows, None), "table_1": other,
                          "w": w_grad})
    assert ps.version == 2
    table = ps.pull()[1]["table"]
    want = table0.copy()
    want[1] -= 2 * 0.5 * 2  # two rows per push, two pushes
    want[4] -= 2 * 0.5
    np.testing.assert_allclose(table, want, rtol=1e-6)
    with pytest.raises(TypeError, match="is sparse: push \\(values, indices\\)"):
        ps.push(0, 2, {"table": np.zeros((6, 3), np.float32), "table_1": other, "w": w_grad})
    with pytest.raises(TypeError, match="is dense"):
        ps.push(0, 2, {"table": rows, "table_1": other, "w": rows})
    with pytest.raises(ValueError, match="must be \\[n\\] \\+ \\[3\\] and \\[n\\]"):
        ps.push(0, 2, {"table": (np.ones((2, 4), np.float32), np.array([0, 1])),
                       "table_1": other, "w": w_grad})



OPTIMIZERS = {"sgd": lambda: tf.train.GradientDescentOptimizer(0.5),
              "adagrad": lambda: tf.train.AdagradOptimizer(0.3),
              "lazy_adam": lambda: tf.contrib.opt.LazyAdamOptimizer(0.01),
              "adam": lambda: tf.train.AdamOptimizer(0.01)}


def rows_graph(optimizer, sync: bool, workers: int = 2, rows: int = 400):
    """Regression on looked-up rows of a [rows, 4] table (sparse gradient) times a dense
    [4, 1] layer: a batch touches a few rows, so a pull of the table's changes is sparse."""
    g = tf.Graph()
    with g.as_default():
        ids = tf.placeholder(tf.int32, [None], name="ids")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        init = np.random.default_rng(0).standard_normal((rows, 4))
        table = tf.Variable(init, name="table", dtype=tf.float32)
        w = tf.Variable(np.ones((4, 1)), name="w", dtype=tf.float32)
        pred = tf.matmul(tf.nn.embedding_lookup(table, ids), w)
        opt = OPTIMIZERS[optimizer]()
        if sync:
            opt = tf.train.SyncReplicasOptimizer(opt, workers, workers)
        loss = tf.reduce_mean(tf.square(pred - y))
        train = opt.minimize(loss, global_step=tf.train.get_or_create_global_step())
    return g, train


def _row_batches(worker_index, num_workers, rows: int = 400):
    rng = np.random.default_rng(10 + worker_index)
    while True:
        yield {"ids:0": rng.integers(0, rows, 6).astype(np.int32),
               "y:0": rng.standard_normal((6, 1)).astype(np.float32)}


def _assert_same_weights(worker: ReplicaWorker, ps: ParameterServer) -> None:
    mine, theirs = worker.executor.get_weights(ps.variables), ps.pull()[1]
    for name in ps.variables:
        np.testing.assert_array_equal(mine[name], theirs[name], err_msg=name)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_worker_copies_after_sparse_pulls_equal_the_ps(optimizer, mode):
    g, train = rows_graph(optimizer, sync=mode == "sync")
    ps = ParameterServer(g, train.name, mode=mode)
    # Adam's sparse path decays m and v everywhere and moves every row: it stays dense
    assert ps._row_wise_names == (set() if optimizer == "adam" else {"table"})
    shard = CountingShard(ps, keep=True)
    workers = [ReplicaWorker(g, train.name, [ps.variables], _row_batches, i, 2)
               for i in range(2)]
    threads = [threading.Thread(target=w.run, args=([shard], 8)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert ps.global_step() >= 8 and not any(t.is_alive() for t in threads)
    for w in workers:
        w.run([shard], until_step=0)  # catch up: one more pull from its own version
        _assert_same_weights(w, ps)
    table_pulls = [p["table"] for p in shard.pulls if p is not None]
    sparse = [p for p in table_pulls if isinstance(p, tuple)]
    if optimizer == "adam":
        assert not sparse
    else:  # after each worker's first pull, the table comes as its changed rows only
        assert len(sparse) >= len(table_pulls) - 2 and all(len(r) <= 12 * 8 for _, r in sparse)
        assert all(p["w"].shape == (4, 1) for p in shard.pulls if p is not None)


def test_a_worker_far_behind_or_at_minus_one_gets_everything():
    g, train = rows_graph("sgd", sync=False)
    ps = ParameterServer(g, train.name, mode="async", row_history=3)
    assert ps.pull_changes().weights["table"].shape == (400, 4)  # at -1: whole
    start = ps.pull_changes()
    for n in range(1, 6):
        rows = (np.ones((2, 4), np.float32), np.array([n, 2 * n], np.int32))
        assert ps.push(0, ps.version, {"table": rows, "w": np.zeros((4, 1), np.float32)})
        if n <= 3:  # within the history: the union of the changed rows
            pulled = ps.pull_changes(start.version, start.epoch)
            np.testing.assert_array_equal(pulled.weights["table"][1],
                                          np.unique([k * m for k in range(1, n + 1)
                                                     for m in (1, 2)]))
    behind = ps.pull_changes(start.version, start.epoch)  # 5 versions behind, history 3
    assert behind.version == 5 and behind.weights["table"].shape == (400, 4)
    assert ps.pull_changes(5, start.epoch).weights is None  # nothing new, same lineage
    assert ps.pull_changes(5, start.epoch + 1).weights["table"].shape == (400, 4)
    assert ps.pull_changes(7, start.epoch).weights["table"].shape == (400, 4)  # a future


def test_after_a_ps_restore_or_load_state_workers_get_full_pulls(tmp_path):
    g, train = rows_graph("adagrad", sync=False)
    ps = ParameterServer(g, train.name, mode="async", checkpoint_dir=str(tmp_path),
                         checkpoint_every=4)
    worker = ReplicaWorker(g, train.name, [ps.variables], _row_batches, 0, 1)
    worker.run([ps], until_step=6)  # checkpoint at version 4, the worker holds 6
    restored = ParameterServer(g, train.name, mode="async", checkpoint_dir=str(tmp_path),
                               checkpoint_every=4)
    assert restored.version == 4
    shard = CountingShard(restored, keep=True)
    worker.run([shard], until_step=6)  # 4 -> 6 again, on the restored lineage
    assert restored.version == 6 and worker._versions == [6]
    assert shard.pulls[0]["table"].shape == (400, 4)  # another epoch: everything
    assert any(isinstance(p["table"], tuple) for p in shard.pulls[1:])
    _assert_same_weights(worker, restored)
    # back to 4 and on to 6 by other pushes: the same version number on another lineage
    # is a full pull, not "nothing new"
    other = ReplicaWorker(g, train.name, [ps.variables], _row_batches, 1, 2)
    restored.restore_latest()
    at_4 = restored.weights()
    for reset in (lambda: None, lambda: restored.load_state(4, at_4)):
        reset()
        assert restored.version == 4 and restored.global_step() == 4
        other.run([restored], until_step=6)
        assert restored.version == 6
        shard.pulls.clear()
        worker.run([shard], until_step=0)
        assert shard.pulls[0]["table"].shape == (400, 4)
        _assert_same_weights(worker, restored)


def test_patch_rows_writes_rows_of_a_read_only_copy_and_checks_shapes():
    g, _ = rows_graph("sgd", sync=False)
    ex = GraphExecutor(g, initialize=True)
    table = ex.get_weights(["table"])["table"]
    frozen = table.copy()
    frozen.flags.writeable = False  # what a zero-copy Ray read stores
    ex.set_weights({"table": frozen}, copy=False)
    ex.patch_rows("table", np.array([3, 7]), np.full((2, 4), 9.0))
    want = table.copy()
    want[[3, 7]] = 9.0
    np.testing.assert_array_equal(ex.get_weights(["table"])["table"], want)
    np.testing.assert_array_equal(frozen, table)  # the shared array is left alone
    with pytest.raises(ValueError, match="must be \\[n\\] \\+ \\[4\\] and \\[n\\]"):
        ex.patch_rows("table", np.array([1]), np.zeros((1, 3)))


def test_flat_pushes_group_the_arrays_per_variable():
    g, train = rows_graph("sgd", sync=False)
    ps, twin = (ParameterServer(g, train.name, mode="async") for _ in range(2))
    rows = (np.ones((2, 4), np.float32), np.array([3, 9], np.int32))
    w_grad = np.full((4, 1), 0.5, np.float32)
    assert ps.variables == ["table", "w"]
    assert ps.push_flat(0, 0, *rows, w_grad)
    used, pulled = ps.push_and_pull_flat(0, 1, None, False, None, *rows, w_grad)
    assert used and pulled.version == 2 and pulled.global_step == 2
    twin.push(0, 0, {"table": rows, "w": w_grad})
    twin.push(0, 1, [rows, w_grad])
    for name, value in twin.pull()[1].items():
        np.testing.assert_array_equal(ps.pull()[1][name], value)
    with pytest.raises(ValueError, match="takes 3 gradient arrays .* got 2"):
        ps.push_flat(0, 2, rows[0], w_grad)


@pytest.mark.slow
def test_sparse_pulls_through_ray_actors_equal_one_process(ray_local):
    """The Ray path: pushes as flat arguments, changed rows shared per (since, version)
    through the object store, patched into each worker's copy; two ps shards (the table
    apart from the dense layer) so that a step pulls one shard with its push and the other
    after it."""
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 400, 16).astype(np.int32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    g, train = rows_graph("adagrad", sync=True)
    batches = ShardedBatches({"ids:0": ids, "y:0": y}, 8, shuffle=False)
    trainer = ReplicatedTrainer(g, train, batches, {"ps": 2, "worker": 2}, progress=False)
    try:
        assert trainer.train(6)["global_step"] == 6
        got = trainer.weights()
    finally:
        trainer.shutdown()
    g1, train1 = rows_graph("adagrad", sync=False)
    ex = GraphExecutor(g1, initialize=True)
    for _ in range(6):
        ex.run(train1.name, {"ids:0": ids, "y:0": y})
    for name, want in ex.get_weights(["table", "w"]).items():
        np.testing.assert_allclose(got[name], want, atol=1e-5)
