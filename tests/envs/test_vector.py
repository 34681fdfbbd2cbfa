"""make_vector: id dispatch, unknown ids, and the Gymnasium wrapper's autoreset contract."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from actorflow.envs import (GymVectorEnv, VectorCartPole, VectorGridWorld,  # noqa: E402
                            make_vector)


def test_dispatch_and_kwargs():
    assert isinstance(make_vector("CartPole-v1", 2), VectorCartPole)
    grid = make_vector("actorflow/GridWorld-v0", 2, seed=0, size=4, obs_size=30)
    assert isinstance(grid, VectorGridWorld)
    assert grid.reset().shape == (2, 30, 30, 3)
    acrobot = make_vector("Acrobot-v1", 2, seed=0)
    assert isinstance(acrobot, GymVectorEnv)
    assert (acrobot.obs_shape, acrobot.obs_dtype, acrobot.num_actions,
            acrobot.max_episode_steps) == ((6,), np.dtype(np.float32), 3, 500)
    assert acrobot.reset().shape == (2, 6)
    pendulum = make_vector("Pendulum-v1", 1)
    assert pendulum.num_actions is None and pendulum.obs_shape == (3,)


def test_unknown_id_is_one_line_value_error():
    with pytest.raises(ValueError, match=r"unknown env 'Nope-v9'; known: CartPole-v1, "
                                         r"actorflow/GridWorld-v0, ") as e:
        make_vector("Nope-v9", 1)
    assert "\n" not in str(e.value)


def test_wrapper_equals_vector_cartpole_with_one_lane():
    """Gymnasium's CartPole behind the wrapper and ours, same seed and actions: the same
    observations, flags, final observations and episode statistics across autoresets."""
    ours, theirs = VectorCartPole(1, seed=4), GymVectorEnv("CartPole-v1", 1, seed=4)
    np.testing.assert_array_equal(ours.reset(), theirs.reset())
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(300):
        a = rng.integers(0, 2, 1)
        o, t = ours.step(a), theirs.step(a)
        np.testing.assert_allclose(o[0], t[0], rtol=1e-5, atol=1e-6)
        for k in (1, 2, 3):
            np.testing.assert_array_equal(o[k], t[k])
            assert o[k].dtype == t[k].dtype
        np.testing.assert_allclose(o[4]["final_obs"], t[4]["final_obs"], rtol=1e-5, atol=1e-6)
        for k in ("episode_returns", "episode_lengths"):
            np.testing.assert_array_equal(o[4][k], t[4][k])
            assert o[4][k].dtype == t[4][k].dtype
        ended += len(t[4]["episode_returns"])
    assert ended >= 5


def test_wrapper_final_obs_rows():
    venv = GymVectorEnv("CartPole-v1", 6, seed=0)
    obs = venv.reset()
    rng = np.random.default_rng(1)
    seen = 0
    for _ in range(100):
        prev = obs
        obs, rew, term, trunc, info = venv.step(rng.integers(0, 2, 6))
        done = term | trunc
        assert info["final_obs"].shape == (6, 4)
        np.testing.assert_array_equal(info["final_obs"][~done], obs[~done])
        if done.any():
            seen += 1
            assert (np.abs(obs[done]) <= 0.05).all()
            assert not np.allclose(info["final_obs"][done], prev[done])
            assert len(info["episode_returns"]) == done.sum()
    assert seen


def test_core_import_does_not_import_gymnasium():
    """Only `actorflow.envs` imports Gymnasium (to register GridWorld), not the core."""
    code = "import sys, actorflow; print('gymnasium' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
