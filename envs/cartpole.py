"""CartPole-v1 for many lanes at once, in NumPy.

The dynamics, thresholds and rewards are Gymnasium's ``CartPole-v1`` (Barto, Sutton and
Anderson's cart-pole with explicit Euler integration): a force of ±10 N pushes the cart; the
episode terminates when the cart leaves [-2.4, 2.4] or the pole tilts more than 12°, and is
truncated after 500 steps; every step, the terminating one included, earns reward 1. Start
states are drawn uniformly from [-0.05, 0.05]^4 per lane, in Gymnasium's order (x, x_dot,
theta, theta_dot), from one seeded `numpy.random.Generator`: with one lane and the same
seed, the start states equal those of ``gymnasium.make("CartPole-v1").reset(seed=seed)``
and the episodes after it. The state is float64 (as Gymnasium's); observations are float32.
"""
from __future__ import annotations

import math

import numpy as np

from ._episodes import EpisodeStats, check_actions, step_info

__all__ = ["VectorCartPole"]

GRAVITY = 9.8
MASSCART = 1.0
MASSPOLE = 0.1
TOTAL_MASS = MASSPOLE + MASSCART
LENGTH = 0.5  # half the pole's length
POLEMASS_LENGTH = MASSPOLE * LENGTH
FORCE_MAG = 10.0
TAU = 0.02  # seconds between state updates
THETA_THRESHOLD = 12 * 2 * math.pi / 360
X_THRESHOLD = 2.4
RESET_BOUND = 0.05

_FORCES = np.array([-FORCE_MAG, FORCE_MAG])


class VectorCartPole:
    """`num_envs` CartPole-v1 lanes stepped together, reset in the step their episode ends.

    Attributes: ``num_envs``, ``obs_shape`` (4,), ``obs_dtype`` float32, ``num_actions`` 2
    (0 pushes left, 1 right), ``max_episode_steps`` (500). See `actorflow.envs.make_vector`
    for the ``reset`` / ``step`` contract.
    """

    obs_shape = (4,)
    obs_dtype = np.dtype(np.float32)
    num_actions = 2

    def __init__(self, num_envs: int, seed: int | None = None,
                 max_episode_steps: int = 500) -> None:
        if num_envs < 1:
            raise ValueError(f"VectorCartPole: num_envs must be >= 1, got {num_envs}")
        self.num_envs = int(num_envs)
        self.max_episode_steps = int(max_episode_steps)
        self._rng = np.random.default_rng(seed)
        self._state = np.zeros((4, self.num_envs), np.float64)  # rows x, x_dot, theta, theta_dot
        self._deriv = np.zeros((4, self.num_envs), np.float64)  # d(state)/dt of the step
        self._ones = np.ones(self.num_envs, np.float32)
        self._limits = np.array([[X_THRESHOLD], [THETA_THRESHOLD]])
        self._stats = EpisodeStats(self.num_envs)
        self._needs_reset = True

    def _draw_states(self, count: int) -> np.ndarray:
        """[4, count] start states, drawn lane after lane as Gymnasium's reset draws them."""
        return self._rng.uniform(-RESET_BOUND, RESET_BOUND, size=(count, 4)).T

    def _obs(self) -> np.ndarray:
        return self._state.T.astype(np.float32, order="C")

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Starts a new episode in every lane (re-seeding first if `seed` is given); returns
        the observations [num_envs, 4]."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._state[:] = self._draw_states(self.num_envs)
        self._stats.reset()
        self._needs_reset = False
        return self._obs()

    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Applies `actions` [num_envs] (0 or 1) for one step of 0.02 s in every lane.

        Returns (obs, rewards float32, terminated, truncated, info); ended lanes are already
        reset (their last observation is in ``info["final_obs"]``).
        """
        if self._needs_reset:
            raise RuntimeError("VectorCartPole.step called before reset()")
        a = check_actions(actions, self.num_envs, 2, "VectorCartPole")
        state, deriv = self._state, self._deriv
        _, _, theta, theta_dot = state
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        # Same expressions, in the same order of operations, as Gymnasium's cartpole.py.
        temp = (_FORCES[a] + POLEMASS_LENGTH * np.square(theta_dot) * sintheta) / TOTAL_MASS
        thetaacc = np.divide(GRAVITY * sintheta - costheta * temp, LENGTH * (
            4.0 / 3.0 - MASSPOLE * np.square(costheta) / TOTAL_MASS), out=deriv[3])
        np.subtract(temp, POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS, out=deriv[1])
        deriv[0::2] = state[1::2]  # x_dot, theta_dot before the update (explicit Euler)
        deriv *= TAU
        state += deriv

        terminated = (np.abs(state[0::2]) > self._limits).any(axis=0)
        rewards = self._ones.copy()
        self._stats.add(rewards)
        truncated = self._stats.lengths >= self.max_episode_steps
        obs = self._obs()
        ended = (terminated | truncated).nonzero()[0]
        final_obs = obs
        if len(ended):
            final_obs = obs.copy()
            state[:, ended] = self._draw_states(len(ended))
            obs[ended] = state[:, ended].T
        returns, lengths = self._stats.pop(ended)
        return obs, rewards, terminated, truncated, step_info(final_obs, returns, lengths)

    def render(self, lane: int = 0, width: int = 300, height: int = 200) -> np.ndarray:
        """An RGB frame [height, width, 3] uint8 of one lane: track, cart and pole, drawn in
        NumPy (no display or pygame needed)."""
        x, theta = self._state[0, lane], self._state[2, lane]
        img = np.full((height, width, 3), 255, np.uint8)
        scale = width / (2 * X_THRESHOLD * 1.2)
        track_y = int(height * 0.75)
        img[track_y, :] = 0
        cx = int(width / 2 + x * scale)
        cart_w, cart_h = int(0.5 * scale), int(0.3 * scale)
        x0, x1 = max(0, cx - cart_w // 2), min(width, cx + cart_w // 2)
        y0, y1 = max(0, track_y - cart_h), track_y
        img[y0:y1, x0:x1] = (40, 40, 40)
        length = 2 * 0.5 * scale  # the pole is 2 * half-length (0.5) long
        t = np.linspace(0.0, 1.0, int(length) * 2)
        px = np.clip(np.rint(cx + np.sin(theta) * length * t).astype(int), 0, width - 1)
        py = np.clip(np.rint(y0 - np.cos(theta) * length * t).astype(int), 0, height - 1)
        for dx in (-2, -1, 0, 1, 2):  # a pole a few pixels wide
            img[py, np.clip(px + dx, 0, width - 1)] = (202, 152, 101)
        return img

    def close(self) -> None:
        """Nothing to release (present for symmetry with the Gymnasium wrapper)."""
