"""GridWorld (book ch. 8): board, moves, rewards, respawn, observation layout, seeding, the
vector env's 50-step autoreset, and a random agent's score."""
from __future__ import annotations

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from actorflow.envs import GridWorld, VectorGridWorld, make_vector  # noqa: E402
from actorflow.envs.gridworld import EMPTY, FIRE, GOAL, HERO, WALL  # noqa: E402

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3


def cells(venv, lane=0, size=5):
    """The lane's interior as a size x size array of codes."""
    return venv._boards.board[lane].reshape(size + 2, size + 2)[1:-1, 1:-1]


def set_board(venv, layout: dict, lane=0, size=5):
    """Puts the hero and objects at (y, x) cells: layout {(y, x): code}."""
    boards = venv._boards
    grid = np.full((size + 2, size + 2), WALL, np.uint8)
    grid[1:-1, 1:-1] = EMPTY
    for (y, x), code in layout.items():
        grid[y + 1, x + 1] = code
        if code == HERO:
            boards.hero[lane] = (y + 1) * (size + 2) + x + 1
    boards.board[lane] = grid.ravel()
    boards.repaint(np.array([lane]))


def book_render(grid_codes: np.ndarray, obs_size: int) -> np.ndarray:
    """The book's renderEnv: ones border, zeros inside, fires red, goals green, hero blue,
    nearest-neighbour resize (pixel centres, as PIL's NEAREST), scaled to 0/255."""
    size = grid_codes.shape[0]
    a = np.ones((size + 2, size + 2, 3))
    a[1:-1, 1:-1] = 0
    for code, channel in ((FIRE, 0), (GOAL, 1), (HERO, 2)):
        ys, xs = np.nonzero(grid_codes == code)
        a[ys + 1, xs + 1, channel] = 1
    src = np.floor((np.arange(obs_size) + 0.5) * (size + 2) / obs_size).astype(int)
    return (a[src][:, src] * 255).astype(np.uint8)


def fresh(num_envs=1, seed=0, **kw):
    venv = VectorGridWorld(num_envs, seed=seed, **kw)
    venv.reset()
    return venv


def test_reset_places_distinct_objects_and_renders_like_the_book():
    venv = VectorGridWorld(16, seed=0)
    obs = venv.reset()
    assert obs.shape == (16, 84, 84, 3) and obs.dtype == np.uint8
    assert (venv.obs_shape, venv.obs_dtype, venv.num_actions, venv.max_episode_steps) == (
        (84, 84, 3), np.dtype(np.uint8), 4, 50)
    for lane in range(16):
        c = cells(venv, lane)
        counts = [int((c == code).sum()) for code in (EMPTY, FIRE, GOAL, HERO)]
        assert counts == [25 - 7, 2, 4, 1]
        np.testing.assert_array_equal(obs[lane], book_render(c, 84))
    assert set(np.unique(obs)) == {0, 255}
    # white border of 12 px, black empty cells
    assert (obs[:, :12] == 255).all() and (obs[:, :, -12:] == 255).all()


@pytest.mark.parametrize("size,obs_size", [(5, 21), (5, 84), (6, 30), (4, 11)])
def test_image_follows_the_board_over_many_steps(size, obs_size):
    """The incrementally repainted image equals a full render after every step (moves,
    respawns, autoresets)."""
    venv = fresh(6, seed=1, size=size, obs_size=obs_size)
    rng = np.random.default_rng(2)
    for _ in range(60):
        obs, _, _, _, info = venv.step(rng.integers(0, 4, 6))
        for lane in range(6):
            np.testing.assert_array_equal(obs[lane], book_render(cells(venv, lane, size),
                                                                 obs_size))


@pytest.mark.parametrize("corner,blocked", [((0, 0), (UP, LEFT)), ((4, 4), (DOWN, RIGHT)),
                                            ((0, 4), (UP, RIGHT)), ((4, 0), (DOWN, LEFT))])
def test_moves_off_the_board_do_nothing(corner, blocked):
    venv = fresh()
    set_board(venv, {corner: HERO, (2, 2): GOAL})
    for action in blocked:
        _, rewards, *_ = venv.step(np.array([action]))
        assert rewards[0] == 0.0 and cells(venv)[corner] == HERO


@pytest.mark.parametrize("action,delta", [(UP, (-1, 0)), (DOWN, (1, 0)), (LEFT, (0, -1)),
                                          (RIGHT, (0, 1))])
def test_action_directions(action, delta):
    venv = fresh()
    set_board(venv, {(2, 2): HERO})
    obs, rewards, *_ = venv.step(np.array([action]))
    c = cells(venv)
    assert c[2 + delta[0], 2 + delta[1]] == HERO and c[2, 2] == EMPTY and rewards[0] == 0.0
    blue = (obs[0] == (0, 0, 255)).all(axis=-1)  # the hero's block, 12 x 12 px
    ys, xs = np.nonzero(blue)
    assert (ys.min(), xs.min()) == (12 * (3 + delta[0]), 12 * (3 + delta[1]))
    assert len(ys) == 144


@pytest.mark.parametrize("code,reward", [(GOAL, 1.0), (FIRE, -1.0)])
def test_touching_an_object_rewards_and_respawns_it_on_a_free_cell(code, reward):
    venv = fresh(200, seed=3)
    layout = {(2, 2): HERO, (2, 3): code, (0, 0): GOAL, (4, 4): FIRE}
    for lane in range(200):
        set_board(venv, layout, lane)
    _, rewards, *_ = venv.step(np.full(200, RIGHT))
    assert (rewards == reward).all() and rewards.dtype == np.float32
    spots = []
    for lane in range(200):
        c = cells(venv, lane)
        assert c[2, 3] == HERO and c[2, 2] in (EMPTY, code)  # old hero cell is free again
        assert c[0, 0] == GOAL and c[4, 4] == FIRE
        assert int((c == code).sum()) == 1 + (code == layout[(0, 0)]) + (code == layout[(4, 4)])
        new = [tuple(p) for p in np.argwhere(c == code) if tuple(p) not in ((0, 0), (4, 4))]
        assert len(new) == 1
        spots.append(new[0])
    # the respawn cell is drawn among the 22 free cells (the old hero cell included)
    assert set(spots) <= {(y, x) for y in range(5) for x in range(5)} - {(2, 3), (0, 0), (4, 4)}
    assert len(set(spots)) >= 18
    assert (2, 2) in spots


def test_vector_truncates_at_50_and_autoresets():
    venv = fresh(4, seed=5)
    rng = np.random.default_rng(0)
    total = np.zeros(4)
    for t in range(1, 51):
        obs, rewards, term, trunc, info = venv.step(rng.integers(0, 4, 4))
        total += rewards
        assert not term.any()
        assert trunc.all() == (t == 50) and trunc.any() == (t == 50)
        if t < 50:
            assert info["final_obs"] is obs and len(info["episode_returns"]) == 0
    np.testing.assert_array_equal(info["episode_returns"], total)
    assert info["episode_lengths"].tolist() == [50] * 4
    assert not np.array_equal(info["final_obs"], obs)
    for lane in range(4):
        np.testing.assert_array_equal(obs[lane], book_render(cells(venv, lane), 84))
    assert not venv.step(np.zeros(4, np.int64))[3].any()  # a fresh 50-step episode


def test_seeding_is_deterministic():
    a, b = VectorGridWorld(8, seed=9), VectorGridWorld(8, seed=9)
    np.testing.assert_array_equal(a.reset(), b.reset())
    rng = np.random.default_rng(1)
    for _ in range(120):  # crosses two autoresets
        actions = rng.integers(0, 4, 8)
        ra, rb = a.step(actions), b.step(actions)
        np.testing.assert_array_equal(ra[0], rb[0])
        np.testing.assert_array_equal(ra[1], rb[1])
    assert not np.array_equal(a.reset(seed=1), a.reset(seed=2))
    np.testing.assert_array_equal(a.reset(seed=4), b.reset(seed=4))


def test_random_agent_scores_about_2_per_episode():
    """The book: a random agent scores about 2 per 50-step episode."""
    venv = make_vector("actorflow/GridWorld-v0", 200, seed=0, obs_size=21)
    venv.reset()
    rng = np.random.default_rng(0)
    for _ in range(50):
        *_, info = venv.step(rng.integers(0, 4, 200))
    returns = info["episode_returns"]
    assert len(returns) == 200
    assert 1.0 <= returns.mean() <= 3.5, returns.mean()


def test_gymnasium_env_registered_with_50_step_limit():
    env = gymnasium.make("actorflow/GridWorld-v0", render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (84, 84, 3) and obs.dtype == np.uint8
    assert env.observation_space.contains(obs) and env.action_space.n == 4
    np.testing.assert_array_equal(env.render(), obs)
    for t in range(1, 51):
        obs, reward, term, trunc, _ = env.step(t % 4)
        assert reward in (-1.0, 0.0, 1.0) and not term
        assert trunc == (t == 50)
    again, _ = gymnasium.make("actorflow/GridWorld-v0").reset(seed=0)
    np.testing.assert_array_equal(again, env.reset(seed=0)[0])


def test_gridworld_matches_the_book_render_and_validates():
    env = GridWorld(size=6, obs_size=48)
    obs, _ = env.reset(seed=2)
    np.testing.assert_array_equal(obs, book_render(cells(env, size=6), 48))
    assert env.render() is None
    with pytest.raises(ValueError, match="action"):
        env.step(4)
    with pytest.raises(ValueError, match="size"):
        GridWorld(size=2)
    with pytest.raises(ValueError, match="obs_size"):
        VectorGridWorld(1, size=5, obs_size=6)
    with pytest.raises(ValueError, match="VectorGridWorld.step"):
        fresh(2).step(np.array([0, 4]))
