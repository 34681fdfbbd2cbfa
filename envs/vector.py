"""`make_vector`: the one way agents make environments, and the wrapper over Gymnasium's
vector envs for ids that have no NumPy implementation here.

Every vector env (ours and the wrapper) has the same API, batch-first NumPy arrays:

- attributes ``num_envs``, ``obs_shape`` (tuple), ``obs_dtype`` (np.dtype), ``num_actions``
  (int for a discrete action space, else None), ``max_episode_steps`` (int or None);
- ``obs = venv.reset(seed=None)``: [num_envs, *obs_shape]; a seed re-seeds the env;
- ``obs, rewards, terminated, truncated, info = venv.step(actions)``: rewards float32 [n],
  terminated / truncated bool [n]. A lane whose episode ended is reset in the same step:
  ``obs[i]`` is the first observation of its next episode and ``info["final_obs"][i]`` the
  last one of the finished episode (``final_obs`` is a full [n, ...] array; the rows that did
  not end hold their current observation). ``info["episode_returns"]`` (float64) and
  ``info["episode_lengths"]`` (int64) hold one entry per episode that ended in the step.
- ``close()``.
"""
from __future__ import annotations

import numpy as np

from ._episodes import EpisodeStats, step_info
from .cartpole import VectorCartPole

__all__ = ["make_vector", "GymVectorEnv", "GRIDWORLD_ID"]

GRIDWORLD_ID = "actorflow/GridWorld-v0"
_OURS = ("CartPole-v1", GRIDWORLD_ID)


def make_vector(env_id: str, num_envs: int, seed: int | None = None, **kwargs):
    """A vector env of `num_envs` lanes of `env_id`, seeded with `seed` (see the module doc).

    "CartPole-v1" -> `VectorCartPole`; "actorflow/GridWorld-v0" -> `VectorGridWorld` (kwargs
    ``size``, ``obs_size``); any other registered Gymnasium id -> `GymVectorEnv` (kwargs go to
    the env's constructor). Unknown ids raise ValueError.
    """
    if env_id == "CartPole-v1":
        return VectorCartPole(num_envs, seed=seed, **kwargs)
    if env_id == GRIDWORLD_ID:
        from .gridworld import VectorGridWorld
        return VectorGridWorld(num_envs, seed=seed, **kwargs)
    try:
        import gymnasium
    except ImportError:
        raise ValueError(f"unknown env {env_id!r}; known: {', '.join(_OURS)} "
                         "(Gymnasium is not installed)") from None
    if env_id not in gymnasium.registry:
        known = ", ".join(_OURS + tuple(k for k in gymnasium.registry if k not in _OURS))
        raise ValueError(f"unknown env {env_id!r}; known: {known}")
    return GymVectorEnv(env_id, num_envs, seed=seed, **kwargs)


class GymVectorEnv:
    """Any registered Gymnasium id behind the `make_vector` API: a
    ``gymnasium.vector.SyncVectorEnv`` in same-step autoreset mode, with its per-lane
    ``final_obs`` gathered into one array and episode returns and lengths counted here.
    """

    def __init__(self, env_id: str, num_envs: int, seed: int | None = None, **kwargs) -> None:
        import gymnasium
        from gymnasium.vector import AutoresetMode

        if num_envs < 1:
            raise ValueError(f"GymVectorEnv({env_id!r}): num_envs must be >= 1, got {num_envs}")
        self.env_id = env_id
        self.num_envs = int(num_envs)
        self._env = gymnasium.make_vec(
            env_id, num_envs=self.num_envs, vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **kwargs)
        space = self._env.single_observation_space
        self.obs_shape = tuple(space.shape)
        self.obs_dtype = np.dtype(space.dtype)
        action_space = self._env.single_action_space
        self.num_actions = (int(action_space.n)
                            if isinstance(action_space, gymnasium.spaces.Discrete) else None)
        self.action_space = action_space  # Gymnasium's, for messages naming a space
        spec = gymnasium.spec(env_id)
        self.max_episode_steps = spec.max_episode_steps
        self._seed = seed
        self._stats = EpisodeStats(self.num_envs)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Resets every lane; lane i is seeded with seed + i (the constructor's seed on the
        first reset when `seed` is None)."""
        if seed is None:
            seed, self._seed = self._seed, None
        obs, _ = self._env.reset(seed=seed)
        self._stats.reset()
        return np.asarray(obs)

    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """One step of every lane; ended lanes are reset in the same step (module doc)."""
        obs, rewards, terminated, truncated, info = self._env.step(np.asarray(actions))
        obs = np.asarray(obs)
        rewards = np.asarray(rewards, np.float32)
        terminated = np.asarray(terminated, bool)
        truncated = np.asarray(truncated, bool)
        self._stats.add(rewards)
        ended = np.flatnonzero(terminated | truncated)
        final_obs = obs
        if len(ended):
            final_obs = obs.copy()
            for i in ended:
                final_obs[i] = info["final_obs"][i]
        returns, lengths = self._stats.pop(ended)
        return obs, rewards, terminated, truncated, step_info(final_obs, returns, lengths)

    def close(self) -> None:
        """Closes Gymnasium's envs."""
        self._env.close()
