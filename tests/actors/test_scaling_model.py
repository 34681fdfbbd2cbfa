"""The scaling model (actorflow.actors.scaling): its algebra, its measurement helpers, and
its prediction against what a real local 3-node Ray cluster trains at for N = 1, 2."""
from __future__ import annotations

import dataclasses
import math
import os
import shutil

import numpy as np
import pytest

import actorflow as tf
from actorflow.actors import scaling
from actorflow.actors.scaling import ClusterProfile, ModelProfile, predict

from .test_multinode import cluster, nodes  # noqa: F401 - the 3-node cluster fixtures

MODEL = ModelProfile("m", batch_size=128, compute_s=0.25, grad_bytes=4_000_000)
LAN = ClusterProfile.describe("lan", gbit_s=10, latency_us=50)


# -- the algebra ---------------------------------------------------------------------------

def test_one_allreduce_worker_communicates_nothing():
    p = predict(MODEL, LAN, 1, "allreduce")
    assert p.communication_s == 0.0
    assert p.step_s == MODEL.compute_s
    assert p.efficiency == pytest.approx(1.0)
    assert p.images_per_s == pytest.approx(128 / 0.25)


def test_one_ps_worker_still_pushes_and_pulls():
    p = predict(MODEL, LAN, 1, "ps")
    g, b, r, lat = 4e6, LAN.bandwidth, LAN.reduce_bandwidth, LAN.latency
    # The worker: G out, then G in, 4 calls; the shard: G in, apply + publish, G out, 2 calls.
    want = max(2 * g / b + 4 * lat, g / b + 2 * g / r + g / b + 2 * lat)
    assert p.communication_s == pytest.approx(want)
    assert p.efficiency < 1.0


@pytest.mark.parametrize("mode", scaling.MODES)
@pytest.mark.parametrize("workers", [1, 2, 16, 256])
def test_infinite_bandwidth_and_no_latency_scale_linearly(mode, workers):
    ideal = ClusterProfile("ideal", bandwidth=math.inf, latency=0.0, reduce_bandwidth=math.inf)
    p = predict(MODEL, ideal, workers, mode, ps_shards=4)
    assert p.communication_s == 0.0
    assert p.speedup == pytest.approx(workers)
    assert p.efficiency == pytest.approx(1.0)


def test_bandwidth_towards_infinity_approaches_linear_scaling():
    effs = [predict(MODEL, ClusterProfile("c", bandwidth=b, latency=0.0,
                                          reduce_bandwidth=math.inf), 64, "allreduce").efficiency
            for b in (1e8, 1e9, 1e10, 1e12)]
    assert effs == sorted(effs)
    assert effs[-1] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("workers", [1, 2, 4, 16, 64, 256])
def test_more_ps_shards_are_never_slower(workers):
    steps = [predict(MODEL, LAN, workers, "ps", ps_shards=k).step_s for k in range(1, 65)]
    assert all(b <= a * (1 + 1e-12) + LAN.latency * 3 for a, b in zip(steps, steps[1:]))
    # Shards only ever remove bytes from the busiest path; each costs a worker 3 calls,
    # so with latency 0 the step never grows at all.
    flat = dataclasses.replace(LAN, latency=0.0)
    steps = [predict(MODEL, flat, workers, "ps", ps_shards=k).step_s for k in range(1, 65)]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(steps, steps[1:]))


def test_one_shard_is_the_bottleneck_that_the_ring_is_not():
    ps = predict(MODEL, LAN, 64, "ps", ps_shards=1)
    ring = predict(MODEL, LAN, 64, "allreduce")
    # The shard moves 64 G each way, a ring worker under 2 G (both pay about 2N latencies).
    assert ps.communication_s > 10 * ring.communication_s
    assert ring.efficiency > ps.efficiency


def test_ring_bytes_approach_twice_the_gradient():
    fat = ClusterProfile("c", bandwidth=1e9, latency=0.0, reduce_bandwidth=math.inf)
    assert scaling.communication_s(1e9, fat, 2, "allreduce") == pytest.approx(1.0)
    assert scaling.communication_s(1e9, fat, 1000, "allreduce") == pytest.approx(1.998)


def test_half_duplex_links_double_the_ring_but_not_the_sync_ps():
    half = dataclasses.replace(LAN, full_duplex=False, latency=0.0, reduce_bandwidth=math.inf)
    full = dataclasses.replace(half, full_duplex=True)
    assert scaling.communication_s(4e6, half, 4, "allreduce") == pytest.approx(
        2 * scaling.communication_s(4e6, full, 4, "allreduce"))
    # The sync round's pushes and pulls follow each other: nothing to share a link with.
    assert scaling.communication_s(4e6, half, 4, "ps", 4) == pytest.approx(
        scaling.communication_s(4e6, full, 4, "ps", 4))


def test_fp16_halves_the_ring_bytes_on_the_wire_only():
    fat = ClusterProfile("c", bandwidth=1e9, latency=0.0, reduce_bandwidth=1e10)
    plain = scaling.communication_s(1e9, fat, 4, "allreduce")
    half = scaling.communication_s(1e9, fat, 4, "allreduce", compression="fp16")
    assert plain - half == pytest.approx(0.75)  # 2 x 3/4 x 1 GB at 1 GB/s, halved
    with pytest.raises(ValueError, match="compression"):
        predict(MODEL, LAN, 2, "ps", compression="fp16")


def test_every_allreduce_bucket_pays_the_ring_latency():
    slow = ClusterProfile("c", bandwidth=math.inf, latency=1e-3, reduce_bandwidth=math.inf)
    one = scaling.communication_s(8e6, slow, 4, "allreduce", bucket_bytes=8 << 20)
    two = scaling.communication_s(8e6, slow, 4, "allreduce", bucket_bytes=4e6)
    assert one == pytest.approx(6e-3) and two == pytest.approx(12e-3)


def test_overlap_hides_communication_up_to_the_compute():
    slow = ClusterProfile.describe("slow", gbit_s=1, latency_us=50)
    plain = predict(MODEL, slow, 16, "allreduce")
    half = predict(MODEL, slow, 16, "allreduce", overlap=0.5)
    assert half.step_s == pytest.approx(plain.step_s - min(plain.communication_s,
                                                           0.5 * MODEL.compute_s))
    # Communication longer than the compute: never hidden beyond the compute.
    tiny = dataclasses.replace(MODEL, compute_s=1e-3)
    p = predict(tiny, slow, 16, "allreduce", overlap=1.0)
    assert p.step_s == pytest.approx(p.communication_s)


def test_worker_speed_scales_the_compute():
    fast = dataclasses.replace(LAN, speed=4.0)
    assert predict(MODEL, fast, 2, "allreduce").compute_s == pytest.approx(0.25 / 4)
    # Faster workers leave the same communication a larger share of the step.
    assert predict(MODEL, fast, 16, "ps").efficiency < predict(MODEL, LAN, 16, "ps").efficiency


def test_the_optimizer_apply_is_the_replicas_with_allreduce_and_the_shards_with_a_ps():
    applied = dataclasses.replace(MODEL, apply_s=0.05)
    one = predict(applied, LAN, 1, "allreduce")
    assert (one.update_s, one.communication_s) == (0.05, 0.0)
    assert one.efficiency == pytest.approx(1.0)  # one worker alone applies its own too
    ps = predict(applied, LAN, 4, "ps", ps_shards=2)
    assert ps.update_s == 0.0
    # The shard applies its half: 0.025 s on the shard's path instead of one pass at R.
    plain = predict(MODEL, LAN, 4, "ps", ps_shards=2)
    assert ps.communication_s - plain.communication_s == pytest.approx(
        0.025 - 2e6 / LAN.reduce_bandwidth)


def test_describe_uses_data_sheet_units():
    c = ClusterProfile.describe("dc", gbit_s=10, latency_us=50, speed=8, reduce_gb_s=4)
    assert (c.bandwidth, c.latency, c.speed, c.reduce_bandwidth) == pytest.approx(
        (1.25e9, 5e-5, 8, 4e9))
    assert c.object_latency is None and c.payload_latency == c.latency
    assert ClusterProfile.describe("dc", 10, 50, object_latency_us=500).payload_latency == \
        pytest.approx(5e-4)


def test_messages_carrying_arrays_pay_the_object_latency():
    c = ClusterProfile("c", bandwidth=math.inf, latency=1e-3, reduce_bandwidth=math.inf,
                       object_latency=5e-3)
    # A PS worker: global-step check and pull call small, push and fetch through the store.
    assert scaling.communication_s(1e6, c, 1, "ps") == pytest.approx(2e-3 + 10e-3)
    # Every ring hop carries a chunk.
    assert scaling.communication_s(1e6, c, 3, "allreduce") == pytest.approx(4 * 5e-3)


def test_at_batch_keeps_the_fixed_part():
    m = ModelProfile("r", batch_size=2, compute_s=3.0, grad_bytes=10)
    assert m.at_batch(32).compute_s == pytest.approx(48.0)
    assert m.at_batch(32, fixed_s=1.0).compute_s == pytest.approx(1.0 + 32.0)


@pytest.mark.parametrize("bad", [
    lambda: ClusterProfile("c", bandwidth=0, latency=0),
    lambda: ClusterProfile("c", bandwidth=1, latency=-1),
    lambda: ClusterProfile("c", bandwidth=1, latency=0, object_latency=-1),
    lambda: ClusterProfile("c", bandwidth=1, latency=0, speed=0),
    lambda: ModelProfile("m", 0, 1.0, 1),
    lambda: ModelProfile("m", 1, 0.0, 1),
    lambda: ModelProfile("m", 1, 1.0, 1, apply_s=-1.0),
    lambda: predict(MODEL, LAN, 0),
    lambda: predict(MODEL, LAN, 2, "ring"),
    lambda: predict(MODEL, LAN, 2, "ps", ps_shards=0),
    lambda: predict(MODEL, LAN, 2, overlap=1.5),
])
def test_bad_inputs_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


# -- measuring the pieces in-process --------------------------------------------------------

def mlp_graph(params_in: int = 256, hidden: int = 512, batch: int = 32, replicas: int = 0):
    """A 2-layer MLP regression and 4 batches of data; with `replicas`, its optimizer
    aggregates that many (SyncReplicasOptimizer)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, params_in], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        h = tf.layers.dense(x, hidden, tf.nn.relu)
        loss = tf.reduce_mean(tf.square(tf.layers.dense(h, 1) - y))
        opt = tf.train.GradientDescentOptimizer(0.01)
        if replicas:
            opt = tf.train.SyncReplicasOptimizer(opt, replicas, replicas)
        train = opt.minimize(loss, global_step=tf.train.get_or_create_global_step())
    return g, train, scaling_data(np.random.default_rng(0), 4 * batch, params_in)


def scaling_data(rng, rows: int, width: int, shards: int = 1):
    """Random regression rows in batches of rows / 4 / shards for each of `shards` workers."""
    from actorflow.actors.data import ShardedBatches
    return ShardedBatches({"x:0": rng.normal(size=(rows, width)).astype(np.float32),
                           "y:0": rng.normal(size=(rows, 1)).astype(np.float32)},
                          batch_size=rows // 4 // shards, shuffle=False)


def test_gradient_bytes_are_the_trained_variables_bytes():
    g, train, _ = mlp_graph(256, 512)
    assert scaling.gradient_bytes(g, train) == 4 * (256 * 512 + 512 + 512 + 1)
    with g.as_default():
        plain = tf.no_op(name="plain")
    with pytest.raises(ValueError, match="records no gradients"):
        scaling.gradient_bytes(g, plain)


def test_profile_model_times_the_gradient_step_in_process():
    g, train, data = mlp_graph(batch=32)
    p = scaling.profile_model(g, train, data, batch_size=32, name="mlp", steps=3)
    assert p.name == "mlp" and p.batch_size == 32
    assert p.grad_bytes == scaling.gradient_bytes(g, train)  # dense: the variables' bytes
    assert 0 < p.compute_s < 10 and 0 < p.apply_s < 10


def test_reduce_bandwidth_is_positive():
    assert scaling.measure_reduce_bandwidth(1 << 20, repeats=2) > 0


# -- the model against a real local 3-node cluster -----------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(shutil.which("setsid") is None or not os.path.isdir("/proc"),
                    reason="clusters/local_cluster.sh needs Linux (setsid, /proc)")
@pytest.mark.usefixtures("nodes")  # this process, a driver of the 3-node cluster
def test_prediction_matches_a_local_three_node_cluster_for_one_and_two_workers():
    """The issue's acceptance: the model, fed the links and the step measured on the
    cluster, predicts what ReplicatedTrainer (sync ps, STRICT_SPREAD: ps and workers on
    different nodes) trains at with 1 and 2 workers.

    The model here is an MLP with 2.5M parameters (10 MB of gradients) and a step of a few
    milliseconds, so that communication is most of the step: leaving it out, or getting
    the bytes a round moves wrong by 2x, would miss by more than the tolerance.

    Tolerance: predicted / measured within [1/2, 2]. This 2-core machine runs the three
    nodes, and on CI other tests beside them; its speed for one process drifts by 2x and
    more within a minute (measured while writing this: the same CIFAR step 0.43-0.93 s in
    an actor; the link 230-500 MB/s). `check_on_cluster` pairs every prediction with the
    link and step measured seconds before and reports the median over rounds, which
    removes most of the drift but not the bursts inside a round, nor the ps sharing the
    workers' cores (on a real cluster it has its own node; the model does not count its
    compute against the workers). The benchmark (benchmarks/scaling_model.py) reports the
    errors the model actually makes.
    """
    def build(n: int):
        g, train, _ = mlp_graph(1000, 2500, batch=32, replicas=n)
        return g, train, scaling_data(np.random.default_rng(n), 4 * 32 * n, 1000, n)

    got = scaling.check_on_cluster(build, 32, (1, 2), steps=12, rounds=3, min_step_s=0.1,
                                   name="mlp")
    for links in (got["links"], scaling.profile_links("local", (1 << 20, 4 << 20), 2)):
        assert links.bandwidth > 0 and links.latency > 0 and links.reduce_bandwidth > 0
    for p in got["points"]:
        pred = p["prediction"]
        assert pred["communication_s"] > pred["compute_s"], (
            f"the test model should be communication-bound here: {pred}")
        ratio = p["predicted_images_per_s"] / p["measured_images_per_s"]
        assert 0.5 <= ratio <= 2.0, got
