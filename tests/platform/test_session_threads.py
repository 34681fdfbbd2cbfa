"""Session threads: intra_op_parallelism_threads sets BLAS threads per session (0: the
environment's count, else 1); inter_op_parallelism_threads below the partition count must not
hang a run."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import actorflow as tf
from actorflow.session import threads


@pytest.fixture
def blas(monkeypatch):
    """The BLAS controllers of this process (skips without a controllable BLAS); pretends
    to have 4 CPUs; restores the thread count afterwards."""
    tpc = pytest.importorskip("threadpoolctl")
    libs = tpc.ThreadpoolController().select(user_api="blas").lib_controllers
    if not libs:
        pytest.skip("no BLAS library whose threads threadpoolctl can set")
    before = [c.get_num_threads() for c in libs]
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    for var in (*threads.ENV_VARS, "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    # What OpenBLAS picks by itself on an idle machine with cores to spare: all of them.
    for c in libs:
        c.set_num_threads(3)
    threads.BLAS_APPLIED[0] = None  # as in a process where no session has run yet
    yield lambda: sorted({c.get_num_threads() for c in libs})
    for c, n in zip(libs, before):
        c.set_num_threads(n)
    threads.BLAS_APPLIED[0] = None


def _matmul():
    x = tf.constant(np.ones((8, 8), np.float32))
    return tf.matmul(x, x)


def _session(intra: int | None = None) -> tf.Session:
    config = None if intra is None else tf.ConfigProto(intra_op_parallelism_threads=intra)
    return tf.Session(config=config)


def test_each_session_runs_with_its_intra_op_threads(blas):
    y = _matmul()
    one, three, default = _session(1), _session(3), _session()
    np.testing.assert_allclose(one.run(y), np.full((8, 8), 8.0))
    assert blas() == [1]
    three.run(y)
    assert blas() == [3]
    one.run(y)  # switching back: the count follows the session that runs
    assert blas() == [1]
    three.make_callable(y)()
    assert blas() == [3]
    default.run(y)  # 0, no thread variables: one thread, which holds up on a busy machine
    assert blas() == [1]
    with _session(16) as many:  # capped at the CPUs this process may use (4 here)
        many.run(y)
    assert blas() == [4]


def test_default_follows_the_environment_as_ray_sets_it(blas, monkeypatch):
    y = _matmul()
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # what Ray sets in a worker with num_cpus=2
    with _session() as sess:
        sess.run(y)
    assert blas() == [2]
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")  # BLAS's own variable wins
    with _session() as sess:
        sess.run(y)
    assert blas() == [3]


def test_default_intra_op_threads():
    assert threads.default_intra_op_threads({}, cpus=8) == 1
    assert threads.default_intra_op_threads({"OMP_NUM_THREADS": "2"}, cpus=8) == 2
    assert threads.default_intra_op_threads(
        {"OPENBLAS_NUM_THREADS": "3", "OMP_NUM_THREADS": "2"}, cpus=8) == 3
    assert threads.default_intra_op_threads({"OMP_NUM_THREADS": "16"}, cpus=2) == 2
    assert threads.default_intra_op_threads({"OMP_NUM_THREADS": " "}, cpus=2) == 1
    with pytest.raises(ValueError, match="OMP_NUM_THREADS='many'"):
        threads.default_intra_op_threads({"OMP_NUM_THREADS": "many"}, cpus=2)


def test_bad_intra_op_settings_are_rejected():
    with pytest.raises(ValueError, match="intra_op_parallelism_threads must be >= 0.*-1"):
        _session(-1)
    with pytest.raises(TypeError, match="intra_op_parallelism_threads must be an int"):
        tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads="2"))


def test_inter_op_threads_below_the_partition_count_do_not_hang():
    # Three CPU partitions whose transfers go 0 -> 1 -> 2 -> 0: with one thread for all of
    # them a partition blocked in _Recv would wait for one never started.
    with tf.device("/cpu:0"):
        a = tf.placeholder(tf.float32, [2])
        a1 = a + 0.0
    with tf.device("/cpu:1"):
        b = a1 * 2.0
    with tf.device("/cpu:2"):
        c = b + a1
    with tf.device("/cpu:0"):
        d = c * 10.0
    config = tf.ConfigProto(device_count={"CPU": 3}, inter_op_parallelism_threads=1,
                            allow_soft_placement=False)
    out = {}

    def run():
        with tf.Session(config=config) as sess:
            meta = tf.RunMetadata()
            sess.run(d, {a: np.ones(2, np.float32)},
                     options=tf.RunOptions(output_partition_graphs=True), run_metadata=meta)
            out["partitions"] = len(meta.partition_graphs)
            for _ in range(20):
                out["d"] = sess.run(d, {a: np.array([1.0, 2.0], np.float32)})

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout=120)  # a guard against a hang, not a speed check
    assert not t.is_alive(), "a run with inter_op_parallelism_threads=1 hung"
    assert out["partitions"] == 3
    np.testing.assert_allclose(out["d"], [30.0, 60.0])
