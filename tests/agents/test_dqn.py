"""DQN: the Double DQN target and dueling heads on hand cases, config validation, learning
CartPole in-process, prioritized n-step replay, the conv net, checkpoints and resume."""
from __future__ import annotations

import glob
import json
import os

import numpy as np
import pytest

import actorflow as tf
from actorflow.agents.dqn import DQN, DQNConfig, LinearSchedule, dueling_combine, td_targets

#: A fast CartPole setup (the default switches: 3-step returns, plain DQN heads): small net,
#: frequent short learner rounds, periodic target copies.
FAST = dict(total_steps=12_000, hidden=(64, 64), learning_rate=2e-3, batch_size=64,
            learning_starts=500, train_freq=32, gradient_steps=16, target_update_interval=64,
            exploration_steps=4_000, eps_final=0.02, log_interval=4_000, eval_episodes=10)


def test_double_dqn_target_hand_case():
    rewards = tf.constant([1.0, 0.5, -1.0])
    gammas = tf.constant([0.99, 0.9801, 0.5])
    terminateds = tf.constant([0.0, 0.0, 1.0])
    next_online = tf.constant([[1.0, 3.0], [2.0, 0.0], [5.0, 4.0]])
    next_target = tf.constant([[10.0, 20.0], [30.0, 40.0], [7.0, 8.0]])
    double = td_targets(rewards, gammas, terminateds, next_online, next_target, double=True)
    plain = td_targets(rewards, gammas, terminateds, next_online, next_target, double=False)
    with tf.Session() as sess:
        got_double, got_plain = sess.run([double, plain])
    # Double: the online net picks a' = [1, 0, 0], the target net scores it: [20, 30, 7];
    # the terminated row keeps its reward alone.
    np.testing.assert_allclose(got_double, [1 + 0.99 * 20, 0.5 + 0.9801 * 30, -1.0], rtol=1e-6)
    # Plain DQN: max over the target net: [20, 40, 8].
    np.testing.assert_allclose(got_plain, [1 + 0.99 * 20, 0.5 + 0.9801 * 40, -1.0], rtol=1e-6)
    grads = tf.gradients(tf.reduce_sum(double), [next_target])
    assert grads[0] is None  # the target is a constant for the loss


def test_dueling_combine():
    value = tf.constant([[1.0], [2.0]])
    advantages = tf.constant([[1.0, 2.0, 3.0], [0.0, 0.0, 3.0]])
    with tf.Session() as sess:
        q = sess.run(dueling_combine(value, advantages))
    np.testing.assert_allclose(q, [[0.0, 1.0, 2.0], [1.0, 1.0, 4.0]])
    np.testing.assert_allclose(q.mean(axis=1), [1.0, 2.0])  # mean Q is V


@pytest.mark.parametrize("overrides, field", [
    (dict(gamma=1.5), "gamma"), (dict(loss="l1"), "loss"), (dict(network="rnn"), "network"),
    (dict(batch_size=0), "batch_size"), (dict(hidden=()), "hidden"), (dict(tau=0.0), "tau"),
    (dict(total_steps=-5), "total_steps"), (dict(eps_final=2.0), "eps_final"),
    (dict(max_grad_norm=0.0), "max_grad_norm"), (dict(n_step=0), "n_step"),
])
def test_config_rejects_invalid_values(overrides, field):
    with pytest.raises(ValueError) as err:
        DQNConfig(**overrides)
    assert f"DQNConfig.{field}" in str(err.value) and "\n" not in str(err.value)


def test_config_rejects_unknown_keys():
    with pytest.raises(ValueError) as err:
        DQNConfig.from_dict({"gamma": 0.9, "learning_rat": 1e-3})
    assert "learning_rat" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(TypeError):
        DQNConfig(learning_rat=1e-3)
    assert DQNConfig.from_dict({"hidden": [32, 32]}).hidden == (32, 32)  # JSON lists


def test_book_config_is_the_books_gridworld_run():
    c = DQNConfig.book()
    assert (c.env_id, c.network, c.tau, c.batch_size, c.train_freq, c.learning_rate,
            c.buffer_size, c.eps_final, c.loss) == (
        "actorflow/GridWorld-v0", "conv", 0.001, 32, 4, 1e-4, 50_000, 0.1, "mse")
    assert c.dueling and c.double and c.n_step == 1 and c.max_grad_norm is None


def test_gridworld_preset_is_the_book_run_with_the_stronger_switches():
    book, grid = DQNConfig.book(), DQNConfig.gridworld(seed=3)
    same = ("env_id", "network", "dueling", "double", "tau", "batch_size", "buffer_size",
            "learning_starts", "exploration_steps", "gamma")
    assert all(getattr(book, k) == getattr(grid, k) for k in same)
    assert grid.prioritized and grid.n_step == 3 and grid.loss == "huber" and grid.seed == 3
    assert DQNConfig.gridworld(train_freq=4).train_freq == 4  # overrides win


def test_config_rejects_a_non_numeric_target_return():
    with pytest.raises(ValueError, match="target_return"):
        DQNConfig(target_return="22")


@pytest.mark.parametrize("target, solved", [(5.0, True), (1_000.0, False)])
def test_target_return_stops_once_100_training_episodes_average_it(target, solved):
    # Random play (no learner steps before learning_starts) scores about 22 per episode:
    # a target of 5 is met as soon as 100 episodes have ended; 1,000 never is.
    config = DQNConfig(**{**FAST, "total_steps": 4_000, "learning_starts": 10_000,
                          "eval_episodes": 1, "target_return": target})
    agent = DQN(config)
    result = agent.train(progress=False)
    if solved:
        assert result["solved_at_steps"] == result["env_steps"] < 4_000
        assert result["episodes"] == 100 and result["train_return_mean"] >= target
    else:
        assert result["solved_at_steps"] is None and result["env_steps"] == 4_000


def test_target_return_counts_every_episode_of_a_batch():
    # Episodes of several envs end in the same round: the window ending at any of them
    # counts, here the one ending at the first of the three (the last's mean is lower).
    from actorflow.agents.run import RunLogger
    agent = DQN(DQNConfig(**{**FAST, "target_return": 10.0}))
    agent.env_steps = 1234
    log = RunLogger(None, "dqn", quiet=True)
    log.episode([10.0] * 99)
    assert agent._solved(log, 99) is None  # 99 episodes: no full window yet
    log.episode([10.0, 0.0, 0.0])
    assert agent._solved(log, 3) == 1234
    log.episode([0.0])
    assert agent._solved(log, 1) is None


def test_epsilon_schedule():
    eps = LinearSchedule(begin=100, duration=1000, start=1.0, final=0.1)
    assert eps(0) == 1.0 and eps(99) == 1.0
    assert eps(600) == pytest.approx(0.55) and eps(1100) == pytest.approx(0.1)
    assert eps(10**6) == pytest.approx(0.1)


@pytest.mark.slow
def test_learns_cartpole_in_process():
    result = DQN(DQNConfig(seed=1, **FAST)).train(progress=False)
    assert result["env_steps"] == FAST["total_steps"]
    assert result["eval_return_mean"] > 100  # random play: about 22; seeds 0-2 gave 142-249


@pytest.mark.slow
def test_prioritized_n_step_replay_runs_and_reprioritizes():
    config = DQNConfig(**{**FAST, "total_steps": 1_500, "prioritized": True, "n_step": 3,
                          "eval_episodes": 2})
    agent = DQN(config)
    result = agent.train(progress=False)
    assert result["updates"] == agent.updates > 0
    priorities = agent.replay.state_dict()["priorities"]
    assert len(np.unique(priorities)) > 10  # TD errors replaced the initial max priority
    gammas = agent.replay.state_dict()["columns"]["gammas"]
    np.testing.assert_allclose(np.unique(gammas), [0.99 ** 3, 0.99 ** 2, 0.99], rtol=1e-6)


@pytest.mark.slow
def test_conv_q_net_on_gridworld_pixels():
    config = DQNConfig.book(total_steps=96, learning_starts=48, buffer_size=200,
                            env_kwargs={"obs_size": 36}, eval_episodes=2, log_interval=48)
    agent = DQN(config)
    assert agent.graph.obs.dtype == tf.uint8 and agent.graph.q_values.shape.as_list() == [None, 4]
    result = agent.train(progress=False)
    assert result["updates"] == (96 - 48) // 4 + 1
    assert result["env_steps"] == 96


@pytest.mark.slow
def test_resume_continues_steps_returns_and_replay(tmp_path):
    logdir = str(tmp_path / "run")
    small = {**FAST, "total_steps": 1_000, "checkpoint_interval": 10_000, "eval_episodes": 2,
             "log_interval": 500}
    first = DQN(DQNConfig(**small))
    first.train(logdir=logdir, progress=False)
    replay_rows = len(first.replay)
    episodes = first.episodes
    second = DQN(DQNConfig(**{**small, "total_steps": 1_500}))
    result = second.train(logdir=logdir, resume=True, progress=False)
    assert result["env_steps"] == 1_500
    assert len(second.replay) == replay_rows + 500
    assert second.episodes >= episodes and second.updates > first.updates
    with open(os.path.join(logdir, "summary.json")) as f:
        assert json.load(f)["env_steps"] == 1_500
    assert len(glob.glob(os.path.join(logdir, "checkpoints", "*.replay.npz"))) == 2


@pytest.mark.slow
def test_resume_rejects_a_checkpoint_of_another_agent(tmp_path):
    logdir = str(tmp_path / "run")
    small = {**FAST, "total_steps": 600, "eval_episodes": 1}
    DQN(DQNConfig(**small)).train(logdir=logdir, progress=False)
    for path in glob.glob(os.path.join(logdir, "checkpoints", "*.state.json")):
        with open(path) as f:
            state = json.load(f)
        state["agent"] = "pg"
        with open(path, "w") as f:
            json.dump(state, f)
    with pytest.raises(ValueError, match="agent 'pg'") as err:
        DQN(DQNConfig(**{**small, "total_steps": 800})).train(logdir=logdir, resume=True,
                                                             progress=False)
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_two_rollout_actors_feed_the_replay_and_learn(ray_local):
    agent = DQN(DQNConfig(workers=2, seed=1, total_steps=12_000))
    result = agent.train(progress=False)
    assert result["workers"] == 2 and result["env_steps"] >= 12_000
    assert result["eval_return_mean"] > 60, result  # random play: ~22
