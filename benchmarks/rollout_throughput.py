"""CartPole sampling through rollout actors, policy inference included: env-steps/s.

Each `RolloutWorker` actor holds a `VectorCartPole` of `--envs` lanes and a CPU copy of a
4-64-64-2 MLP policy (an actorflow graph: softmax probabilities, actions sampled in NumPy);
one `sample(n_steps)` call returns a columnar fragment of envs x n_steps transitions. Timed:
1 and 2 workers sampling concurrently, as seen by the learner (Ray calls and transfers of
the fragments included); baseline in the same run: the same class called in this process.
Target: >= 20k env-steps/s per rollout worker.

    python benchmarks/rollout_throughput.py [--envs 64] [--steps 64] [--rounds 5]
"""
from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # what a 1-CPU Ray worker gets anyway

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.actors.executor import graph_def_bytes  # noqa: E402
from actorflow.actors.rollout import RolloutWorker  # noqa: E402
from actorflow.envs import make_vector  # noqa: E402


def policy_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="obs")
        h = tf.layers.dense(tf.layers.dense(x, 64, tf.nn.tanh), 64, tf.nn.tanh)
        tf.nn.softmax(tf.layers.dense(h, 2), name="probs")
        init = tf.global_variables_initializer()
        sess = tf.Session()
        sess.run(init)
        weights = {op.name: sess.run(op.outputs[0]) for op in g.get_operations()
                   if op.type == "VariableV2"}
    return g, weights


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--envs", type=int, default=64)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    g, weights = policy_graph()
    spec = ("obs:0", ("categorical", "probs:0"), functools.partial(make_vector, "CartPole-v1"),
            args.envs)
    g = graph_def_bytes(g)  # what travels to the actors
    per_call = args.envs * args.steps

    local = RolloutWorker(g, *spec, seed=0)
    local.sample(0, weights, args.steps)
    samples = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        local.sample(0, None, args.steps)
        samples.append(time.perf_counter() - t0)
    in_process = per_call / statistics.median(samples)

    import ray

    from actorflow.actors._remote import as_actor, ensure_ray
    ensure_ray("local", include_dashboard=False)
    rows = {}
    for n in (1, 2):
        actors = [as_actor(RolloutWorker, g, *spec, seed=i, options={"num_cpus": 1})
                  for i in range(n)]
        ref = ray.put(weights)
        ray.get([a.sample.remote(0, ref, args.steps) for a in actors])  # warm
        samples = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            ray.get([a.sample.remote(0, None, args.steps) for a in actors])
            samples.append(time.perf_counter() - t0)
        total = n * per_call / statistics.median(samples)
        rows[n] = {"steps_per_s": total, "per_worker_steps_per_s": total / n}
        for a in actors:
            ray.kill(a)
    emit({"benchmark": "rollout_throughput", "env": "CartPole-v1", "envs": args.envs,
          "steps_per_call": per_call, "cores": os.cpu_count(), "target_per_worker": 20000,
          "in_process_steps_per_s": in_process,
          "workers_1": rows[1], "workers_2": rows[2]})


if __name__ == "__main__":
    main()
