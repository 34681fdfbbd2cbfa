"""GridWorld as a single ``gymnasium.Env`` (the game and observation: `actorflow.envs.gridworld`).

Registered as ``actorflow/GridWorld-v0`` with a 50-step limit when `actorflow.envs` is
imported; constructed directly, an episode never ends (the book's game has no end).
"""
from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces

from .gridworld import GridBoards

__all__ = ["GridWorld"]


class GridWorld(gymnasium.Env):
    """The book's GridWorld: `size` x `size` board (5), observations uint8
    [obs_size, obs_size, 3] with values 0 / 255 (84), 4 actions (0 up, 1 down, 2 left,
    3 right). ``render()`` with render_mode "rgb_array" returns the current observation."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, size: int = 5, obs_size: int = 84, render_mode: str | None = None):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"GridWorld: render_mode must be None or 'rgb_array', "
                             f"got {render_mode!r}")
        self._boards = GridBoards(1, size, obs_size)
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0, 255, (obs_size, obs_size, 3), np.uint8)
        self.action_space = spaces.Discrete(4)
        self._started = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """A new game: hero, 4 goals and 2 fires on distinct random cells."""
        super().reset(seed=seed)
        self._boards.place(np.zeros(1, np.int64), self.np_random)
        self._started = True
        return self._boards.render()[0], {}

    def step(self, action):
        """Moves the hero; reward +1 (goal), -1 (fire) or 0; never terminates."""
        if not self._started:
            raise RuntimeError("GridWorld.step called before reset()")
        if not self.action_space.contains(action):
            raise ValueError(f"GridWorld.step: action must be 0..3, got {action!r}")
        reward = self._boards.move(np.array([action], np.int64), self.np_random)[0]
        return self._boards.render()[0], float(reward), False, False, {}

    def render(self):
        """The current observation when render_mode is "rgb_array", else None."""
        if self.render_mode == "rgb_array" and self._started:
            return self._boards.render()[0]
        return None
