"""The placement pass: explicit requests, colocation groups, soft placement, the cost model,
and `log_device_placement`, on logical CPU devices (no GPU needed)."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf
from actorflow.framework import registry
from actorflow.session.devices import LocalDevice, local_devices
from actorflow.session.placement import PlacementError, estimate_seconds, place
from actorflow.session.prune import prune

CPU = "/job:localhost/replica:0/task:0/device:CPU:"


def cpus(n: int) -> tf.ConfigProto:
    return tf.ConfigProto(device_count={"CPU": n, "GPU": 0})


def placement_of(fetches, config, fed=()):
    """{op name: device name} that a session with `config` gives the ops `fetches` need."""
    ops = prune([f.op if hasattr(f, "op") else f for f in fetches], set(fed))
    devices = local_devices(config)
    placed = place(ops, devices, soft=config.allow_soft_placement, fed=set(fed))
    return {op.name: dev.name for op, dev in placed.items()}


def test_logical_cpu_devices_are_listed():
    with tf.Session(config=cpus(3)) as sess:
        names = [d.name for d in sess.list_devices()]
    assert names == [CPU + "0", CPU + "1", CPU + "2"]


@pytest.mark.parametrize("counts, msg", [({"CPU": 0}, "at least 1"),
                                         ({"CPU": -2}, "non-negative"),
                                         ({"CPU": 1.5}, "non-negative")])
def test_bad_device_counts_are_rejected(counts, msg):
    x = tf.constant(1.0)
    with pytest.raises(ValueError, match=msg):
        tf.Session(config=tf.ConfigProto(device_count=counts)).run(x)


def test_explicit_requests_are_honoured():
    with tf.device("/cpu:1"):
        a = tf.constant(np.ones((2, 2), np.float32)) * 3.0
    with tf.device("/job:localhost/replica:0/task:0/device:CPU:0"):
        b = a + 1.0
    placed = placement_of([b], cpus(2))
    assert placed[a.op.name] == CPU + "1"
    assert placed[b.op.name] == CPU + "0"


def test_nested_scopes_and_device_functions_merge():
    with tf.device("/job:localhost/cpu:1"):
        with tf.device(lambda op: "/cpu:0" if op.type == "Mul" else None):
            x = tf.constant(2.0)
            y = x * 3.0
            z = y + 1.0
    assert y.op.device == "/job:localhost/device:CPU:0"
    assert z.op.device == "/job:localhost/device:CPU:1"
    placed = placement_of([z], cpus(2))
    assert placed[y.op.name] == CPU + "0" and placed[z.op.name] == CPU + "1"


def test_variable_and_its_writers_share_a_device():
    with tf.device("/cpu:1"):
        v = tf.Variable(tf.zeros([3]), name="v")
    inc = tf.assign_add(v, tf.ones([3]))  # created outside the scope: follows the variable
    step = tf.train.GradientDescentOptimizer(0.5).minimize(tf.reduce_sum(v * v))
    placed = placement_of([inc, step, v.initializer], cpus(2))
    assert placed["v"] == CPU + "1"
    assert placed[inc.op.name] == CPU + "1"
    writers = [n for n in placed if "ApplyGradientDescent" in n]
    assert writers and all(placed[n] == CPU + "1" for n in writers)
    assert placed[v.initializer.name] == CPU + "1"


def test_colocate_with_ties_ops_to_a_group():
    with tf.device("/cpu:1"):
        a = tf.constant(1.0) + 2.0
    with tf.colocate_with(a):
        b = tf.identity(a) * 5.0
    assert placement_of([b], cpus(2))[b.op.name] == CPU + "1"


def test_clashing_requests_in_one_group_name_both_ops():
    with tf.device("/cpu:0"):
        v = tf.Variable(1.0, name="v")
    w = tf.assign(v, 2.0, name="write_v")
    w.op.device = "/device:CPU:1"  # as a GraphDef written elsewhere may say
    with pytest.raises(PlacementError, match=r"'v' and 'write_v'.*CPU:0.*CPU:1"):
        placement_of([w], cpus(2))
    # With soft placement the variable's own request wins.
    assert placement_of([w], tf.ConfigProto(device_count={"CPU": 2},
                                            allow_soft_placement=True))["write_v"] == CPU + "0"


def test_missing_device_without_soft_placement_names_op_and_device():
    a = tf.ones([2, 2])
    with tf.device("/gpu:0"):
        y = tf.matmul(a, a, name="tower_matmul")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"operation 'tower_matmul'.*'/device:GPU:0'.*no devices matching"):
        tf.Session(config=cpus(1)).run(y)


def test_soft_placement_falls_back_to_the_cpu():
    with tf.device("/gpu:0"):
        y = tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]))
    with tf.device("/cpu:7"):
        z = y + 1.0
    cfg = tf.ConfigProto(device_count={"CPU": 2, "GPU": 0}, allow_soft_placement=True)
    placed = placement_of([z], cfg)
    assert placed[y.op.name] == CPU + "0" and placed[z.op.name] == CPU + "0"
    with tf.Session(config=cfg) as sess:
        np.testing.assert_array_equal(sess.run(z), np.full((2, 2), 3.0, np.float32))


def test_remote_job_request_is_not_a_local_device():
    with tf.device("/job:worker/task:3/device:CPU:0"):
        y = tf.constant(1.0) * 2.0
    with pytest.raises(PlacementError, match="/job:worker/task:3"):
        placement_of([y], cpus(1))


def test_host_only_ops_do_not_go_to_a_gpu():
    assert registry.get_op_def("Print").host_only
    with tf.device("/gpu:0"):
        p = tf.Print(tf.constant(3.0), [tf.constant(1.0)], name="say")
    devices = [LocalDevice("CPU", 0), LocalDevice("GPU", 0, xp=np)]  # a GPU only by name
    ops = prune([p.op], set())
    with pytest.raises(PlacementError, match="no supported kernel for GPU.*'say'"):
        place(ops, devices)
    placed = place(ops, devices, soft=True)
    assert placed[p.op].device_type == "CPU"


def test_string_tensors_stay_on_the_cpu():
    s = tf.identity(tf.constant(["a", "b"]), name="text")
    devices = [LocalDevice("CPU", 0), LocalDevice("GPU", 0, xp=np)]
    placed = place(prune([s.op], set()), devices)
    assert placed[s.op].device_type == "CPU"


def test_cost_model_spreads_independent_heavy_work():
    x = tf.placeholder(tf.float32, [512, 512])
    a = tf.matmul(x, x, name="left")
    b = tf.matmul(x, x, name="right")
    total = tf.add(a, b, name="total")
    placed = placement_of([total], cpus(2), fed=[x])
    assert {placed["left"], placed["right"]} == {CPU + "0", CPU + "1"}


def test_cost_model_keeps_cheap_chains_together():
    x = tf.placeholder(tf.float32, [4])
    y = tf.nn.relu(x * 2.0 + 1.0) - tf.sin(x)
    placed = placement_of([y], cpus(4), fed=[x])
    assert set(placed.values()) == {CPU + "0"}


def test_estimates_grow_with_work():
    small = tf.matmul(tf.ones([8, 8]), tf.ones([8, 8]))
    big = tf.matmul(tf.ones([512, 512]), tf.ones([512, 512]))
    assert estimate_seconds(big.op, "CPU") > 100 * estimate_seconds(small.op, "CPU")
    assert estimate_seconds(big.op, "GPU") < estimate_seconds(big.op, "CPU")


def test_variables_keep_their_device_across_plans():
    v = tf.Variable(tf.ones([2]), name="v")
    with tf.device("/cpu:1"):
        w = tf.Variable(tf.ones([2]), name="w")
    with tf.Session(config=cpus(2)) as sess:
        sess.run(tf.global_variables_initializer())
        first = dict(sess._pinned)
        sess.run(v + w)
        assert {op.name: d.name for op, d in sess._pinned.items()} == \
            {op.name: d.name for op, d in first.items()}
        assert sess._pinned[w.op].name == CPU + "1"


def test_log_device_placement_prints_every_assignment(capfd):
    with tf.device("/gpu:0"):
        y = tf.add(tf.constant(1.0, name="one"), 2.0, name="y")
    cfg = tf.ConfigProto(allow_soft_placement=True, log_device_placement=True,
                         device_count={"GPU": 0})
    with tf.Session(config=cfg) as sess:
        sess.run(y)
    err = capfd.readouterr().err
    assert f"y: (Add): {CPU}0 (requested /device:GPU:0)" in err
    assert f"one: (Const): {CPU}0" in err


def test_unconstrained_variables_go_to_the_first_gpu_and_heavy_readers_follow():
    v = tf.Variable(tf.zeros([1024, 1024]), name="v")
    x = tf.placeholder(tf.float32, [1024, 1024])
    y = tf.matmul(x, v, name="heavy")
    devices = [LocalDevice("CPU", 0), LocalDevice("GPU", 0, xp=np)]  # a GPU only by name
    pinned: dict = {}
    init_ops = prune([v.initializer], set())
    assert place(init_ops, devices, pinned=pinned)[v.initializer].is_gpu
    assert pinned[v.op].is_gpu
    placed = place(prune([y.op], {x}), devices, pinned=pinned, fed={x})
    assert placed[y.op].is_gpu and placed[v.op].is_gpu
