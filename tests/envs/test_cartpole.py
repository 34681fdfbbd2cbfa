"""VectorCartPole: Gymnasium's CartPole-v1 dynamics, limits and seeding, and the autoreset
contract of the vector API."""
from __future__ import annotations

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from actorflow.envs import VectorCartPole, make_vector  # noqa: E402


def test_one_step_equals_gymnasium_from_the_same_state():
    """Many random states and both actions: our next state is Gymnasium's, and so are the
    termination flags."""
    rng = np.random.default_rng(0)
    n = 400
    venv = VectorCartPole(n, seed=1)
    venv.reset()
    states = rng.uniform([-2.5, -3, -0.25, -3], [2.5, 3, 0.25, 3], size=(n, 4))
    actions = rng.integers(0, 2, n)
    venv._state[:] = states.T
    obs, rewards, terminated, truncated, info = venv.step(actions)
    env = gymnasium.make("CartPole-v1").unwrapped
    env.reset(seed=0)
    for i in range(n):
        env.state = states[i].copy()
        env.steps_beyond_terminated = None
        g_obs, g_rew, g_term, _, _ = env.step(int(actions[i]))
        np.testing.assert_allclose(info["final_obs"][i], g_obs, rtol=1e-6, atol=1e-7)
        assert terminated[i] == g_term
        assert rewards[i] == g_rew == 1.0
    assert terminated.any() and not terminated.all()
    assert not truncated.any()


def test_trajectory_equals_gymnasium_step_by_step():
    """One lane, same seed, same random actions over several episodes: identical start
    states (same Generator draws), states step by step, and episode boundaries."""
    venv = VectorCartPole(1, seed=7)
    env = gymnasium.make("CartPole-v1")
    obs = venv.reset()
    g_obs, _ = env.reset(seed=7)
    np.testing.assert_array_equal(obs[0], g_obs)
    rng = np.random.default_rng(3)
    episodes = 0
    for _ in range(600):
        a = int(rng.integers(0, 2))
        obs, rew, term, trunc, info = venv.step(np.array([a]))
        g_obs, g_rew, g_term, g_trunc, _ = env.step(a)
        np.testing.assert_allclose(info["final_obs"][0], g_obs, rtol=1e-5, atol=1e-6)
        assert (term[0], trunc[0], rew[0]) == (g_term, g_trunc, g_rew)
        if g_term or g_trunc:
            episodes += 1
            g_obs, _ = env.reset()
            np.testing.assert_array_equal(obs[0], g_obs)
            assert info["episode_lengths"].tolist() == [info["episode_returns"][0]]
    assert episodes >= 10


def test_truncation_at_500_steps_and_autoreset():
    venv = make_vector("CartPole-v1", 3, seed=0)
    obs = venv.reset()
    assert obs.shape == (3, 4) and obs.dtype == np.float32
    assert (venv.num_envs, venv.obs_shape, venv.obs_dtype, venv.num_actions,
            venv.max_episode_steps) == (3, (4,), np.dtype(np.float32), 2, 500)
    for t in range(1, 501):
        venv._state[:] = 0.0  # balanced: never terminates
        obs, rew, term, trunc, info = venv.step(np.zeros(3, np.int64) + t % 2)
        assert rew.dtype == np.float32 and term.dtype == bool and trunc.dtype == bool
        assert not term.any()
        if t < 500:
            assert not trunc.any() and len(info["episode_returns"]) == 0
            assert info["episode_lengths"].dtype == np.int64
    assert trunc.all()
    assert info["episode_lengths"].tolist() == [500] * 3
    assert info["episode_returns"].tolist() == [500.0] * 3
    # the final obs is the stepped state; obs is a fresh start state in [-0.05, 0.05]
    assert np.abs(info["final_obs"]).max() > 0.0
    assert np.abs(obs).max() <= 0.05 and not np.array_equal(obs, info["final_obs"])


def test_autoreset_rows_only_for_ended_lanes():
    venv = VectorCartPole(4, seed=2)
    venv.reset()
    venv._state[:] = 0.0
    venv._state[2, 1] = 0.25  # lane 1 past 12 degrees after the step
    obs, _, term, _, info = venv.step(np.array([0, 1, 0, 1]))
    assert term.tolist() == [False, True, False, False]
    keep = [0, 2, 3]
    np.testing.assert_array_equal(info["final_obs"][keep], obs[keep])
    assert info["final_obs"][1, 2] > 0.2 and abs(obs[1, 2]) <= 0.05
    assert info["episode_returns"].tolist() == [1.0]
    assert info["episode_lengths"].tolist() == [1]


def test_seeding_is_deterministic():
    a, b = VectorCartPole(5, seed=11), VectorCartPole(5, seed=11)
    np.testing.assert_array_equal(a.reset(), b.reset())
    actions = np.array([0, 1, 1, 0, 1])
    for _ in range(50):
        oa, *_ = a.step(actions)
        ob, *_ = b.step(actions)
        np.testing.assert_array_equal(oa, ob)
    assert not np.array_equal(a.reset(seed=1), a.reset(seed=2))
    np.testing.assert_array_equal(a.reset(seed=3), b.reset(seed=3))


@pytest.mark.parametrize("bad", [np.array([0, 2]), np.array([-1, 0]), np.array([0]),
                                 np.array([0.0, 1.0])])
def test_bad_actions_raise(bad):
    venv = VectorCartPole(2, seed=0)
    venv.reset()
    with pytest.raises(ValueError, match="VectorCartPole.step"):
        venv.step(bad)


def test_step_before_reset_raises():
    with pytest.raises(RuntimeError, match="before reset"):
        VectorCartPole(1).step(np.array([0]))
