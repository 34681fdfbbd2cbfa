"""ClusterSpec, replica_device_setter and SyncReplicasOptimizer as TF 1.x programs use them."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf


def test_cluster_spec_from_counts_and_host_lists():
    spec = tf.train.ClusterSpec({"ps": 2, "worker": ["h1:2222", "h2:2222", "h3:2222"]})
    assert spec.jobs == ["ps", "worker"]
    assert spec.num_tasks("ps") == 2 and spec.num_tasks("worker") == 3
    assert spec.task_address("worker", 1) == "h2:2222"
    assert spec.as_dict()["ps"] == [None, None]
    assert tf.train.ClusterSpec(spec) == spec
    with pytest.raises(ValueError, match="No such job in cluster: 'chief'"):
        spec.num_tasks("chief")
    with pytest.raises(ValueError, match="at least one task"):
        tf.train.ClusterSpec({"ps": 0})


def test_replica_device_setter_round_robin_over_ps_tasks():
    cluster = tf.train.ClusterSpec({"ps": 2, "worker": 3})
    with tf.device(tf.train.replica_device_setter(worker_device="/job:worker/task:1",
                                                  cluster=cluster)):
        a = tf.Variable(1.0, name="a")
        b = tf.Variable(2.0, name="b")
        c = tf.Variable(3.0, name="c")
        s = a + b
        with tf.device("/cpu:0"):
            t = s * 2.0
    assert [v.op.device for v in (a, b, c)] == ["/job:ps/task:0", "/job:ps/task:1",
                                                "/job:ps/task:0"]
    assert a.initializer.device == "/job:ps/task:0"  # colocated with its variable
    assert s.op.device == "/job:worker/task:1"
    assert t.op.device == "/job:worker/task:1/device:CPU:0"


def test_replica_device_setter_greedy_balances_bytes():
    with tf.device(tf.train.replica_device_setter(ps_tasks=2, ps_strategy=tf.train.GREEDY)):
        big = tf.Variable(tf.zeros([1000]), name="big")
        small1 = tf.Variable(tf.zeros([10]), name="small1")
        small2 = tf.Variable(tf.zeros([10]), name="small2")
    assert big.op.device == "/job:ps/task:0"
    assert small1.op.device == small2.op.device == "/job:ps/task:1"
    assert tf.train.replica_device_setter(cluster={"worker": 2}) is None
    with pytest.raises(ValueError, match="ps_strategy"):
        tf.train.replica_device_setter(ps_tasks=1, ps_strategy="random")


def test_sync_replicas_optimizer_is_its_optimizer_in_a_local_session():
    x = tf.placeholder(tf.float32, [None, 2])
    w = tf.Variable([[1.0], [2.0]])
    loss = tf.reduce_sum(tf.matmul(x, w))
    step = tf.train.get_or_create_global_step()
    opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1),
                                         replicas_to_aggregate=2, total_num_replicas=3)
    train = opt.minimize(loss, global_step=step)
    assert train.attrs["_sync_replicas"] == [2, 3]
    assert [pair[1] for pair in train.attrs["_gradients"]] == [w.op.name]
    assert opt.make_session_run_hook(is_chief=True) is None
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(opt.get_init_tokens_op())
        sess.run(train, {x: [[1.0, 1.0]]})
        np.testing.assert_allclose(sess.run(w), [[0.9], [1.9]], rtol=1e-6)
        assert sess.run(step) == 1
    with pytest.raises(TypeError, match="wraps an Optimizer"):
        tf.train.SyncReplicasOptimizer("adam", 2)
    with pytest.raises(ValueError, match=">= 1"):
        tf.train.SyncReplicasOptimizer(tf.train.AdamOptimizer(), 0)
