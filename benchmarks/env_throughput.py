"""Environment throughput: env-steps/s of our NumPy vector envs against Gymnasium's.

Sections, each timed interleaved (candidate and baseline alternating, in this process):

- ``cartpole``: one ``step`` of all lanes, for num_envs 1, 8, 64, 256. Candidate ``ours``:
  ``VectorCartPole``; baseline ``gym_sync``: ``gymnasium.make_vec("CartPole-v1", n,
  vectorization_mode="sync")``; reference ``gym_vector``: Gymnasium's own NumPy
  ``vector_entry_point`` CartPole.
- ``policy``: sampling including policy inference: a 4-64-64-2 ReLU MLP (actorflow graph,
  ``tf.multinomial`` on its logits, run through ``sess.make_callable``) picks every lane's
  action, then the env steps; num_envs 64 and 256; ours vs ``gym_sync`` under the same
  policy. Target: >= 20,000 env-steps/s per worker with ours.
- ``gridworld``: ``VectorGridWorld`` steps at obs_size 84 and 21, num_envs 1 and 64, against
  Gymnasium's ``SyncVectorEnv`` over the single-env ``GridWorld`` (same game and rendering).

Prints one JSON line: per section and size, median seconds per step and env-steps/s.
BLAS runs on one thread (OMP_NUM_THREADS=1 unless set), as in a Ray rollout worker with one
CPU: on this shared 2-core machine a threaded OpenBLAS made the policy's 256-row matmuls up
to 100x slower under load.

    python benchmarks/env_throughput.py [--repeat 1000] [--rounds 7]
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.envs import VectorCartPole, VectorGridWorld  # noqa: E402

CARTPOLE_ENVS = (1, 8, 64, 256)
POLICY_ENVS = (64, 256)
GRID_ENVS = (1, 64)
GRID_OBS = (84, 21)


def stepper(venv, actions: np.ndarray):
    """A zero-argument step of `venv`, cycling through pre-drawn `actions` [k, num_envs]."""
    state = {"i": 0}

    def step():
        i = state["i"] = (state["i"] + 1) % len(actions)
        venv.step(actions[i])

    return step


def gym_vec(env_id: str, n: int, mode: str = "sync", **kwargs):
    """Gymnasium's vector env of `env_id` (vectorization `mode`), reset with seed 0."""
    env = gymnasium.make_vec(env_id, n, vectorization_mode=mode, **kwargs)
    env.reset(seed=0)
    return env


def first_obs(venv) -> np.ndarray:
    """Resets ours or Gymnasium's vector env with seed 0; the observations."""
    obs = venv.reset(seed=0)
    return obs[0] if isinstance(obs, tuple) else obs


def reset_ours(venv):
    first_obs(venv)
    return venv


def rates(res: dict, n: int) -> dict:
    """Median seconds per step and env-steps/s of each candidate, and ours / gym_sync."""
    out = {}
    for name, r in res.items():
        out[f"{name}_median_s"] = r["median_s"]
        out[f"{name}_steps_per_s"] = n / r["median_s"]
    out["speedup_vs_gym_sync"] = res["gym_sync"]["median_s"] / res["ours"]["median_s"]
    return out


def bench_cartpole(args, rng) -> dict:
    out = {}
    for n in CARTPOLE_ENVS:
        actions = rng.integers(0, 2, (64, n))
        candidates = {
            "ours": stepper(reset_ours(VectorCartPole(n)), actions),
            "gym_sync": stepper(gym_vec("CartPole-v1", n), actions),
            "gym_vector": stepper(gym_vec("CartPole-v1", n, "vector_entry_point"), actions),
        }
        res = interleaved(candidates, repeat=max(5, args.repeat * 8 // max(n, 8)),
                          rounds=args.rounds)
        out[str(n)] = rates(res, n)
    return out


def mlp_policy(seed: int = 0):
    """(obs placeholder [None, 4], actions [None] int64) of a 4-64-64-2 MLP policy."""
    tf.set_random_seed(seed)
    obs = tf.placeholder(tf.float32, [None, 4], name="obs")
    hidden = tf.layers.dense(obs, 64, activation=tf.nn.relu)
    hidden = tf.layers.dense(hidden, 64, activation=tf.nn.relu)
    logits = tf.layers.dense(hidden, 2)
    return obs, tf.reshape(tf.multinomial(logits, 1), [-1])


def policy_loop(venv, policy):
    """A zero-argument step: the policy picks every lane's action from the last obs."""
    state = {"obs": np.asarray(first_obs(venv), np.float32)}

    def step():
        state["obs"] = np.asarray(venv.step(policy(state["obs"]))[0], np.float32)

    return step


def bench_policy(args) -> dict:
    out = {}
    graph = tf.Graph()
    with graph.as_default():
        obs, actions = mlp_policy()
        sess = tf.Session(graph=graph)
        sess.run(tf.global_variables_initializer())
        policy = sess.make_callable(actions, feed_list=[obs])
        for n in POLICY_ENVS:
            candidates = {"ours": policy_loop(VectorCartPole(n), policy),
                          "gym_sync": policy_loop(gym_vec("CartPole-v1", n), policy)}
            res = interleaved(candidates, repeat=max(5, args.repeat * 8 // n),
                              rounds=args.rounds)
            out[str(n)] = rates(res, n)
        sess.close()
    return out


def bench_gridworld(args, rng) -> dict:
    out = {}
    for obs_size in GRID_OBS:
        for n in GRID_ENVS:
            actions = rng.integers(0, 4, (64, n))
            candidates = {
                "ours": stepper(reset_ours(VectorGridWorld(n, obs_size=obs_size)), actions),
                "gym_sync": stepper(gym_vec("actorflow/GridWorld-v0", n, obs_size=obs_size),
                                    actions),
            }
            res = interleaved(candidates, repeat=max(5, args.repeat * 8 // max(n, 8)),
                              rounds=args.rounds)
            out[f"obs{obs_size}_n{n}"] = rates(res, n)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=1000,
                   help="steps per timed round at num_envs <= 8 (scaled down above)")
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    emit({"benchmark": "env_throughput", "repeat": args.repeat, "rounds": args.rounds,
          "cartpole": bench_cartpole(args, rng), "policy": bench_policy(args),
          "gridworld": bench_gridworld(args, rng)})


if __name__ == "__main__":
    main()
