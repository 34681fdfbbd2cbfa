"""In-graph replication: a driver Session on a Cluster runs the partitions placed on
/job:ps/task:0 and /job:worker/task:N in those tasks' actors."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(ray_local):
    from actorflow.actors import Cluster
    c = Cluster({"ps": 1, "worker": 2}, bundle={"CPU": 0.4})
    yield c
    c.shutdown()


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((8, 5)).astype(np.float32),
            rng.standard_normal((8, 1)).astype(np.float32))


def towers(ps: str, workers: list[str]):
    """The book's 9.2 pattern: a variable on `ps`, one tower per worker, averaged grads."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [8, 5], name="x")
        y = tf.placeholder(tf.float32, [8, 1], name="y")
        with tf.device(ps):
            w = tf.Variable(tf.truncated_normal([5, 1], seed=1), name="w")
        grads = []
        for i, (xs, ys) in enumerate(zip(tf.split(x, 2), tf.split(y, 2))):
            with tf.device(workers[i]):
                loss = tf.reduce_mean(tf.square(tf.matmul(xs, w) - ys), name=f"loss_{i}")
                grads.append(tf.gradients(loss, w)[0])
        with tf.device(ps):
            train = tf.assign_sub(w, 0.1 * (tf.add_n(grads) / 2.0), name="train")
        init = tf.global_variables_initializer()
    return g, init, train, w


def test_towers_on_worker_tasks_match_one_process(cluster):
    x, y = _data()
    g, init, train, w = towers("/job:ps/task:0", ["/job:worker/task:0", "/job:worker/task:1"])
    with g.as_default(), tf.Session(cluster) as sess:
        sess.run(init)
        for _ in range(5):
            sess.run(train, {"x:0": x, "y:0": y})
        md = tf.RunMetadata()
        sess.run(train, {"x:0": x, "y:0": y},
                 options=tf.RunOptions(output_partition_graphs=True), run_metadata=md)
        got = sess.run(w)
        devices = {pg.node[0]["device"] for pg in md.partition_graphs}
    assert {"/job:ps/replica:0/task:0/device:CPU:0", "/job:worker/replica:0/task:0/device:CPU:0",
            "/job:worker/replica:0/task:1/device:CPU:0"} <= devices
    g1, init1, train1, w1 = towers("", ["", ""])
    with g1.as_default(), tf.Session() as sess:
        sess.run(init1)
        for _ in range(6):
            sess.run(train1, {"x:0": x, "y:0": y})
        want = sess.run(w1)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_variables_live_on_the_ps_task_across_sessions(cluster):
    g, init, train, w = towers("/job:ps/task:0", ["/job:worker/task:0", "/job:worker/task:1"])
    x, y = _data()
    with g.as_default():
        with tf.Session(cluster) as first:
            first.run(init)
            first.run(train, {"x:0": x, "y:0": y})
            trained = first.run(w)
        with tf.Session(cluster) as second:  # no initializer: the ps actor holds w
            np.testing.assert_array_equal(second.run(w), trained)


def test_a_failing_task_partition_names_its_op(cluster):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        with tf.device("/job:worker/task:1"):
            bad = tf.reshape(x, [2, 2], name="bad_reshape")
        out = tf.reduce_sum(bad) + 1.0
        with tf.Session(cluster) as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="bad_reshape"):
                sess.run(out, {x: np.ones(3, np.float32)})
            assert sess.run(out, {x: np.ones(4, np.float32)}) == 5.0


def test_a_task_the_cluster_lacks_is_a_placement_error(cluster):
    g = tf.Graph()
    with g.as_default():
        with tf.device("/job:worker/task:7"):
            y = tf.constant(1.0) * 2.0
        with tf.Session(cluster) as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="/job:worker/task:7"):
                sess.run(y)
