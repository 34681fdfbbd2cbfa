"""benchmarks/vs_tensorflow.py on the actorflow side only (no TensorFlow in tests): the driver's
JSON in quick mode, every book program building and stepping at a tiny size, the op-by-op
profile, and the NumPy CartPole against actorflow's own."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import actorflow
from actorflow.envs.cartpole import VectorCartPole
from benchmarks import book_programs
from benchmarks._engine_worker import Worker

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Sizes that keep every program's build and step well under a second.
TINY = {"cnn_b50": {"batch": 4}, "cnn_b256": {"batch": 4}, "cifar": {"batch": 4},
        "alexnet_fwd": {"batch": 2, "image_size": 64},
        "alexnet_fwdbwd": {"batch": 2, "image_size": 64},
        "vgg_fwd": {"batch": 1, "image_size": 32, "fc_units": 64},
        "vgg_fwdbwd": {"batch": 1, "image_size": 32, "fc_units": 64},
        "policy": {"max_episodes": 3}, "dispatch": {"ops": 50}}


def test_driver_quick_json_actorflow_only():
    # An interpreter without TensorFlow stands for --tf-python: its worker reports why.
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "vs_tensorflow.py"), "--quick",
         "--programs", "softmax", "dispatch", "--threads", "1", "--rounds", "2",
         "--tf-python", sys.executable], capture_output=True, text=True, timeout=120,
        cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert out["benchmark"] == "vs_tensorflow" and out["threads"] == ["1"]
    assert out["tensorflow"] is None and "tensorflow" in out["tensorflow_unavailable"]
    assert out["actorflow"]["numpy"] == np.__version__
    assert set(out["ratios"]) == {"softmax@1", "dispatch@1"}
    assert all(v is None for v in out["ratios"].values())
    for program, unit, items in [("softmax", "img/s", 100), ("dispatch", "ops/s", 2000)]:
        m = out["results"][program]["threads_1"]
        assert m["unit"] == unit and m["items_per_step"] == items
        assert m["tensorflow"] is None and m["ratio"] is None
        assert len(m["actorflow_rounds"]) == 2 and all(r > 0 for r in m["actorflow_rounds"])
        assert min(m["actorflow_rounds"]) <= m["actorflow"] <= max(m["actorflow_rounds"])
        assert m["actorflow_steps_per_round"] >= 1
    assert "softmax threads=1" in proc.stderr


def test_driver_rejects_bad_threads():
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "vs_tensorflow.py"), "--threads",
         "two"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and "'two'" in proc.stderr


@pytest.fixture(scope="module")
def worker():
    w = Worker(actorflow, "1")
    yield w
    w.free()


@pytest.mark.parametrize("program", list(book_programs.PROGRAMS))
def test_program_builds_and_steps(worker, program):
    built = worker.build(program, TINY.get(program, {}))
    assert built["ok"] and built["step_s"] > 0 and built["items_per_step"] > 0
    ran = worker.run(1)
    assert ran["ok"] and ran["seconds"] > 0
    if program == "policy":
        assert ran["info"] == {"solved": False, "episodes": 3,
                               "env_steps": ran["info"]["env_steps"]}
        assert ran["info"]["env_steps"] >= 3 * 9  # a CartPole episode lasts >= 9 steps
    worker.free()


def test_profile_lists_op_types(worker):
    worker.build("tiny_mlp", {})
    prof = worker.profile(top=5)
    kinds = [k for k, _, _ in prof["ops"]]
    assert "MatMul" in kinds and len(kinds) <= 5
    assert all(ms >= 0 and count >= 1 for _, ms, count in prof["ops"])
    worker.build("policy", TINY["policy"])
    with pytest.raises(ValueError, match="cannot be traced"):
        worker.profile(top=5)
    worker.free()


def test_numpy_cartpole_matches_actorflow_env():
    env = book_programs.CartPole(np.random.default_rng(3))
    ref = VectorCartPole(1, seed=3)
    np.testing.assert_array_equal(env.reset(), ref.reset())
    actions = np.random.default_rng(0).integers(0, 2, 200)
    for t, a in enumerate(actions):
        obs, reward, done = env.step(int(a))
        ref_obs, _, terminated, truncated, info = ref.step(np.array([a]))
        want = info["final_obs"] if (terminated | truncated)[0] else ref_obs
        np.testing.assert_allclose(obs, want, rtol=1e-6, atol=1e-7, err_msg=f"step {t}")
        assert done == bool((terminated | truncated)[0])
        if done:
            break
    assert done and reward == 1.0
