"""Bookkeeping shared by the vector environments: action checks, episode returns and lengths,
and the autoreset ``info`` dict.

Every vector env in `actorflow.envs` steps all its lanes at once and resets a lane in the same
step its episode ends (see `actorflow.envs.make_vector`). `EpisodeStats` keeps the running
return and length of each lane and hands out those of the lanes that just ended.
"""
from __future__ import annotations

import numpy as np

__all__ = ["EpisodeStats", "check_actions", "step_info"]

_NO_RETURNS = np.zeros(0, np.float64)
_NO_LENGTHS = np.zeros(0, np.int64)


def check_actions(actions, num_envs: int, num_actions: int, env_name: str) -> np.ndarray:
    """`actions` as an integer array of shape [num_envs] with values in [0, num_actions).

    Raises ValueError naming `env_name` for a wrong shape or an out-of-range action.
    """
    a = np.asarray(actions)
    if a.shape != (num_envs,) or a.dtype.kind not in "iub":
        raise ValueError(f"{env_name}.step: actions must be integers of shape ({num_envs},), "
                         f"got {a.dtype} {a.shape}")
    if num_envs and (a.min() < 0 or a.max() >= num_actions):
        raise ValueError(f"{env_name}.step: actions must lie in [0, {num_actions}), got "
                         f"min {a.min()} max {a.max()}")
    return a


class EpisodeStats:
    """Running return (float64) and length (int64) of each of `num_envs` lanes."""

    def __init__(self, num_envs: int) -> None:
        self.returns = np.zeros(num_envs, np.float64)
        self.lengths = np.zeros(num_envs, np.int64)

    def reset(self) -> None:
        """Starts a new episode in every lane."""
        self.returns[:] = 0.0
        self.lengths[:] = 0

    def add(self, rewards: np.ndarray) -> None:
        """Counts one step with `rewards` [num_envs] in every lane."""
        self.returns += rewards
        self.lengths += 1

    def pop(self, ended: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(returns, lengths) of the lanes at indices `ended`, which start a new episode."""
        if not len(ended):
            return _NO_RETURNS, _NO_LENGTHS
        returns, lengths = self.returns[ended], self.lengths[ended]
        self.returns[ended] = 0.0
        self.lengths[ended] = 0
        return returns, lengths


def step_info(final_obs: np.ndarray, returns: np.ndarray, lengths: np.ndarray) -> dict:
    """The ``info`` dict every vector env's ``step`` returns.

    ``final_obs`` [num_envs, *obs_shape]: the last observation of an episode that ended in
    this step, and the current observation in every other row (when no row ended it may be
    the very array returned as ``obs``). ``episode_returns`` / ``episode_lengths``: one entry
    per episode that ended in this step, in lane order.
    """
    return {"final_obs": final_obs, "episode_returns": returns, "episode_lengths": lengths}
