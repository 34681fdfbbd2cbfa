"""The book's GridWorld (ch. 8, from the DeepRL-Agents project), many boards at once in NumPy.

The game: a size x size board (size 5) holds 1 hero, 4 goals and 2 fires, each on its own
cell. Actions 0 up, 1 down, 2 left, 3 right move the hero one cell; a move off the board does
nothing. Moving onto a goal earns +1, onto a fire -1, anything else 0; the touched object
disappears and the same kind respawns at a random free cell (not the hero's, not another
object's). Episodes never end by themselves; the vector env truncates them after 50 steps.

Observation: the (size+2) x (size+2) board as RGB with a white 1-cell border and a black
inside, the fires painting the red channel, the goals green and the hero blue, resized by
nearest neighbour to obs_size x obs_size (84). Rows are the board's y (0 at the top), columns
its x. Values are uint8 0 or 255 (the book fed floats 0..1: divide by 255).

Storage: each board is one row of a uint8 array over the (size+2)^2 cells, holding a code
per cell (EMPTY, FIRE, GOAL, HERO, WALL for the border), so a move is a flat index offset
and the border stops it. The observations of all boards live in one image array, kept up to
date by repainting only the cells a step changed (the hero's old and new cell, respawns):
a precomputed nearest-neighbour map lists the pixels of each cell, and one NumPy scatter
paints the colours of all changed cells of all boards. A new game repaints its whole board
the same way. Observations handed out are copies of that image.
"""
from __future__ import annotations

import numpy as np

from ._episodes import EpisodeStats, check_actions, step_info

__all__ = ["GridBoards", "VectorGridWorld"]

EMPTY, FIRE, GOAL, HERO, WALL = 0, 1, 2, 3, 4
PALETTE = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]],
                   np.uint8)
"""RGB of each cell code: black, red (fire), green (goal), blue (hero), white (border)."""
CODE_REWARDS = np.array([0.0, -1.0, 1.0, 0.0, 0.0], np.float32)
"""Reward for moving onto a cell holding each code."""
NUM_GOALS = 4
NUM_FIRES = 2


def nearest_index(n_in: int, n_out: int) -> np.ndarray:
    """Source index of each of `n_out` outputs resizing `n_in` samples by nearest neighbour
    (pixel centres: floor((i + 1/2) * n_in / n_out), as PIL's NEAREST)."""
    return (2 * np.arange(n_out) + 1) * n_in // (2 * n_out)


def cell_pixels(width: int, obs_size: int) -> np.ndarray:
    """[width^2, k]: the flat pixel indices of an obs_size^2 nearest-neighbour resize of a
    width^2 board that show each cell, rows padded by repeating their first pixel (every cell
    has at least one pixel when obs_size >= width)."""
    src = nearest_index(width, obs_size)
    owner = (src[:, None] * width + src[None, :]).ravel()  # the cell shown by each pixel
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=width * width)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    k = counts.max()
    offsets = np.minimum(np.arange(k)[None, :], counts[:, None] - 1)
    return order[starts[:, None] + offsets]


class GridBoards:
    """`num_boards` GridWorld boards: placement, moves with respawn, and rendering.

    Random draws come from the Generator passed to each call, so a single `gymnasium.Env`
    can use its own ``np_random``.
    """

    def __init__(self, num_boards: int, size: int = 5, obs_size: int = 84) -> None:
        if size < 3:
            raise ValueError(f"GridWorld: size must be >= 3 (room for 7 objects, the hero and "
                             f"a free cell), got {size}")
        if obs_size < size + 2:
            raise ValueError(f"GridWorld: obs_size must be >= size + 2 = {size + 2} (every "
                             f"cell visible), got {obs_size}")
        self.size, self.obs_size = size, obs_size
        width = size + 2
        self.board = np.full((num_boards, width * width), WALL, np.uint8)
        self.hero = np.zeros(num_boards, np.int64)
        ys, xs = np.mgrid[1:size + 1, 1:size + 1]
        self.interior = (ys * width + xs).ravel()
        self.moves = np.array([-width, width, -1, 1], np.int64)  # up, down, left, right
        self.pixels = cell_pixels(width, obs_size)
        self.image = np.zeros((num_boards, obs_size * obs_size, 3), np.uint8)
        self._lanes = np.arange(num_boards)
        self._all_cells = np.arange(width * width)

    def place(self, rows: np.ndarray, rng: np.random.Generator) -> None:
        """New games on boards `rows`: the hero, goals and fires on distinct random cells."""
        rows = np.asarray(rows)
        count = 1 + NUM_GOALS + NUM_FIRES
        picks = rng.random((len(rows), len(self.interior))).argsort(axis=1)[:, :count]
        cells = self.interior[picks]
        rows2 = rows[:, None]
        self.board[rows2, self.interior] = EMPTY
        self.board[rows2, cells[:, 1:1 + NUM_GOALS]] = GOAL
        self.board[rows2, cells[:, 1 + NUM_GOALS:]] = FIRE
        self.board[rows, cells[:, 0]] = HERO
        self.hero[rows] = cells[:, 0]
        self.repaint(rows)

    def repaint(self, rows: np.ndarray) -> None:
        """Repaints the whole image of boards `rows` from their cells."""
        self._paint(np.repeat(rows, len(self._all_cells)), np.tile(self._all_cells, len(rows)))

    def move(self, actions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Moves every board's hero by `actions` [num_boards]; returns the rewards (float32).

        A touched object respawns (same kind) at a uniformly drawn free cell of its board.
        """
        lanes, hero = self._lanes, self.hero
        target = hero + self.moves[actions]
        target = np.where(self.board[lanes, target] == WALL, hero, target)
        touched = self.board[lanes, target]  # HERO where the hero did not move
        self.board[lanes, hero] = EMPTY
        self.board[lanes, target] = HERO
        self.hero = target
        rewards = CODE_REWARDS[touched]
        hit = np.flatnonzero(rewards)
        if len(hit):
            keys = rng.random((len(hit), self.board.shape[1]))
            keys[self.board[hit] != EMPTY] = -1.0
            spawned = keys.argmax(axis=1)
            self.board[hit, spawned] = touched[hit]
            self._paint(np.concatenate((lanes, lanes, hit)),
                        np.concatenate((hero, target, spawned)))
        else:
            self._paint(np.concatenate((lanes, lanes)), np.concatenate((hero, target)))
        return rewards

    def _paint(self, rows: np.ndarray, cells: np.ndarray) -> None:
        """Repaints cells[i] of board rows[i] in the image from the board's codes."""
        colours = PALETTE[self.board[rows, cells]]
        self.image[rows[:, None], self.pixels[cells]] = colours[:, None, :]

    def render(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Observations [len(rows) or num_boards, obs_size, obs_size, 3] uint8 (0 / 255), a
        copy."""
        image = self.image.copy() if rows is None else self.image[rows]
        return image.reshape(len(image), self.obs_size, self.obs_size, 3)


class VectorGridWorld:
    """`num_envs` GridWorld lanes stepped together, truncated after `max_episode_steps` (50)
    and reset in that same step. Rewards: +1 goal, -1 fire, else 0; never terminated.

    Attributes: ``num_envs``, ``obs_shape`` (obs_size, obs_size, 3), ``obs_dtype`` uint8,
    ``num_actions`` 4, ``max_episode_steps``. See `actorflow.envs.make_vector` for the
    ``reset`` / ``step`` contract and the module doc for the game and the observation.
    """

    obs_dtype = np.dtype(np.uint8)
    num_actions = 4

    def __init__(self, num_envs: int, seed: int | None = None, size: int = 5,
                 obs_size: int = 84, max_episode_steps: int = 50) -> None:
        if num_envs < 1:
            raise ValueError(f"VectorGridWorld: num_envs must be >= 1, got {num_envs}")
        self.num_envs = int(num_envs)
        self.obs_shape = (obs_size, obs_size, 3)
        self.max_episode_steps = int(max_episode_steps)
        self._boards = GridBoards(self.num_envs, size, obs_size)
        self._rng = np.random.default_rng(seed)
        self._stats = EpisodeStats(self.num_envs)
        self._needs_reset = True

    def reset(self, seed: int | None = None) -> np.ndarray:
        """New games in every lane (re-seeding first if `seed` is given); returns the
        observations [num_envs, obs_size, obs_size, 3]."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._boards.place(np.arange(self.num_envs), self._rng)
        self._stats.reset()
        self._needs_reset = False
        return self._boards.render()

    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Applies `actions` [num_envs] in 0..3; returns (obs, rewards float32, terminated,
        truncated, info), lanes at the step limit already reset."""
        if self._needs_reset:
            raise RuntimeError("VectorGridWorld.step called before reset()")
        a = check_actions(actions, self.num_envs, 4, "VectorGridWorld")
        rewards = self._boards.move(a, self._rng)
        self._stats.add(rewards)
        truncated = self._stats.lengths >= self.max_episode_steps
        terminated = np.zeros(self.num_envs, bool)
        obs = self._boards.render()
        ended = np.flatnonzero(truncated)
        final_obs = obs
        if len(ended):
            final_obs = obs.copy()
            self._boards.place(ended, self._rng)
            obs[ended] = self._boards.render(ended)
        returns, lengths = self._stats.pop(ended)
        return obs, rewards, terminated, truncated, step_info(final_obs, returns, lengths)

    def render(self, lane: int = 0) -> np.ndarray:
        """The RGB frame [obs_size, obs_size, 3] uint8 of one lane (its observation)."""
        return self._boards.render(np.array([lane]))[0]

    def close(self) -> None:
        """Nothing to release (present for symmetry with the Gymnasium wrapper)."""
