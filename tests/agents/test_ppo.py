"""PPO: GAE and the clipped objective by hand, sampling, config errors, learning, resume."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import actorflow as tf
from actorflow.actors.columns import ACTIONS, OBS, REWARDS, TERMINATEDS, TRUNCATEDS
from actorflow.agents.ppo import (ACTION_LOGP, BOOTSTRAP_VALUES, EPISODE_RETURNS, PPO,
                                  VF_PREDS, PPOConfig, RolloutSampler, gae, ppo_loss,
                                  SpecSampler)


def test_gae_by_hand_with_an_episode_end():
    rewards = np.ones((3, 2), np.float32)
    values = np.array([[0.5, 1.0]] * 3, np.float32)
    dones = np.array([[False, False], [True, False], [False, False]])
    adv, ret = gae(rewards, values, dones, np.array([2.0, 3.0], np.float32), 0.9, 0.5)
    # Lane 0 ends at t=1: t=2 bootstraps from last_values, t=1 from nothing, t=0 from V_1.
    # deltas 0.95, 0.5, 2.3 -> A = 0.95 + 0.45 * 0.5, 0.5, 2.3.
    # Lane 1 never ends: deltas 0.9, 0.9, 2.7 -> A_1 = 0.9 + 0.45 * 2.7, A_0 = 0.9 + 0.45 A_1.
    a1 = 0.9 + 0.45 * 2.7
    expected = np.array([[1.175, 0.9 + 0.45 * a1], [0.5, a1], [2.3, 2.7]])
    np.testing.assert_allclose(adv, expected, rtol=1e-6)
    np.testing.assert_allclose(ret, expected + values, rtol=1e-6)
    assert adv.dtype == ret.dtype == np.float32


def _loss_graph():
    logits = tf.placeholder(tf.float32, [None, 2])
    value = tf.placeholder(tf.float32, [None])
    feeds = dict(actions=tf.placeholder(tf.int64, [None]),
                 old_logp=tf.placeholder(tf.float32, [None]),
                 advantages=tf.placeholder(tf.float32, [None]),
                 returns=tf.placeholder(tf.float32, [None]), clip=tf.placeholder(tf.float32, []))
    terms = ppo_loss(logits, value, feeds["actions"], feeds["old_logp"], feeds["advantages"],
                     feeds["returns"], feeds["clip"], vf_coef=0.5, ent_coef=0.1)
    return logits, value, feeds, terms


def test_clipped_objective_by_hand():
    logits, value, ph, terms = _loss_graph()
    grad = tf.gradients(terms["policy_loss"], logits)[0]
    # pi = (0.6, 0.4) in both rows, the old policy was uniform: ratio 1.2 for action 0 (A = +1)
    # and 0.8 for action 1 (A = -2). With clip 0.1 both terms are the clipped ones:
    # min(1.2, 1.1) * 1 = 1.1 and min(0.8 * -2, 0.9 * -2) = -1.8.
    feed = {logits: np.log([[0.6, 0.4], [0.6, 0.4]]), value: [1.0, 2.0],
            ph["actions"]: [0, 1], ph["old_logp"]: np.log([0.5, 0.5]),
            ph["advantages"]: [1.0, -2.0], ph["returns"]: [0.0, 4.0], ph["clip"]: 0.1}
    with tf.Session() as sess:
        out, g = sess.run([terms, grad], feed)
        unclipped = sess.run(terms["policy_loss"], {**feed, ph["clip"]: 0.3})
        g_unclipped = sess.run(grad, {**feed, ph["clip"]: 0.3})
    entropy = -(0.6 * math.log(0.6) + 0.4 * math.log(0.4))
    assert out["policy_loss"] == pytest.approx(-(1.1 - 1.8) / 2, rel=1e-5)
    assert out["value_loss"] == pytest.approx((1.0 + 4.0) / 2, rel=1e-6)
    assert out["entropy"] == pytest.approx(entropy, rel=1e-5)
    assert out["loss"] == pytest.approx(0.35 + 0.5 * 2.5 - 0.1 * entropy, rel=1e-5)
    assert out["clip_fraction"] == 1.0
    kl = ((0.2 - math.log(1.2)) + (-0.2 - math.log(0.8))) / 2
    assert out["approx_kl"] == pytest.approx(kl, rel=1e-4)
    np.testing.assert_allclose(g, 0.0, atol=1e-7)  # clipped terms pass no gradient
    assert unclipped == pytest.approx(-(1.2 - 1.6) / 2, rel=1e-5)
    assert np.abs(g_unclipped).min() > 0.01


class _CountingEnv:
    """Two lanes; obs = [step in episode]; reward 1; lane 0 is truncated every 2 steps."""

    num_envs, obs_shape, num_actions, max_episode_steps = 2, (1,), 2, 2

    def reset(self, seed=None):
        self.t = np.zeros(2, np.float32)
        return self.t[:, None].copy()

    def step(self, actions):
        self.t += 1
        final = self.t[:, None].copy()
        truncated = np.array([self.t[0] >= 2, False])
        returns = self.t[truncated].copy()
        self.t[truncated] = 0
        info = {"final_obs": final, "episode_returns": returns,
                "episode_lengths": returns.astype(np.int64)}
        return (self.t[:, None].copy(), np.ones(2, np.float32), np.zeros(2, bool), truncated,
                info)

    def close(self):
        pass


def test_sampler_bootstraps_truncated_rewards_from_the_final_obs():
    policy = lambda obs: (np.zeros((len(obs), 2), np.float32), 10.0 * obs[:, 0])
    frag = RolloutSampler(_CountingEnv(), policy, steps=3, gamma=0.5, seed=0).sample()
    assert frag[OBS].shape == (3, 2, 1) and frag[ACTIONS].shape == (3, 2)
    np.testing.assert_array_equal(frag[OBS][:, :, 0], [[0, 0], [1, 1], [0, 2]])
    np.testing.assert_array_equal(frag[TRUNCATEDS][:, 0], [False, True, False])
    # lane 0 truncated at t=1 in state 2: reward 1 + 0.5 * V(final) = 1 + 0.5 * 20.
    np.testing.assert_allclose(frag[REWARDS], [[1, 1], [11, 1], [1, 1]])
    np.testing.assert_allclose(frag[VF_PREDS], [[0, 0], [10, 10], [0, 20]])
    np.testing.assert_allclose(frag[BOOTSTRAP_VALUES], [10, 30])
    np.testing.assert_allclose(frag[ACTION_LOGP], math.log(0.5), rtol=1e-6)
    np.testing.assert_array_equal(frag[EPISODE_RETURNS], [2.0])
    assert not frag[TERMINATEDS].any()


def test_config_errors_are_one_line():
    cases = [(dict(num_envs=0), r"^PPOConfig: num_envs must be > 0, got 0$"),
             (dict(gae_lambda=1.5), r"^PPOConfig: gae_lambda must be in \[0, 1\], got 1.5$"),
             (dict(minibatch_size=100), r"^PPOConfig: minibatch_size 100 must divide the "
                                        r"update batch num_envs \* rollout_steps = 256$"),
             (dict(workers=3), r"^PPOConfig: num_envs 8 must be a multiple of workers 3$"),
             (dict(target_return=475.0), r"^PPOConfig: target_return needs eval_every > 0$")]
    for kwargs, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            PPOConfig(**kwargs)
    with pytest.raises(TypeError):
        PPOConfig(learning_rte=1e-3)  # a typo is not silently accepted
    assert PPOConfig(hidden=[32, 32]).hidden == (32, 32)  # as read back from config.json


def test_rollout_worker_sampler_matches_the_in_process_one():
    agent = PPO(PPOConfig(num_envs=4, rollout_steps=8, minibatch_size=32, seed=3))
    local = agent._make_sampler()
    remote = SpecSampler(agent.policy_spec(), "CartPole-v1", 4, 8, agent.config.gamma, seed=3)
    a, b = local.sample(), remote.sample()
    for key in (OBS, ACTIONS, REWARDS, TERMINATEDS, ACTION_LOGP, VF_PREDS):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-6, err_msg=key)
    agent.update(a)  # new weights reach the copy only through set_weights
    remote.set_weights(agent.get_weights(), 1)
    obs = a[OBS][0]
    np.testing.assert_allclose(agent.policy_step(obs)[0], remote.policy(obs)[0], rtol=1e-5)


@pytest.mark.slow  # ~4 s alone; 8x more where two BLAS threads fight other processes
def test_learns_cartpole_well_past_random(tmp_path):
    agent = PPO(PPOConfig(total_steps=6144, seed=0))
    result = agent.train(logdir=str(tmp_path), progress=False)
    # Random play scores about 22; the default settings pass 475 by about 20k steps.
    assert result["env_steps"] == 6144 and result["updates"] == 24
    assert result["eval_return_mean"] > 150, result
    assert result["train_return_mean"] > 40, result
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == result["updates"]
    last = json.loads(lines[-1])
    assert last["step"] == 6144 and last["learning_rate"] == pytest.approx(1e-3 / 24)
    assert json.loads((tmp_path / "summary.json").read_text()) == result


def test_resume_continues_steps_and_returns(tmp_path):
    # Checkpoints at updates 5, 10, 15, 20: model-640 is among the 3 kept at the end.
    config = dict(num_envs=4, rollout_steps=16, minibatch_size=32, epochs=2, seed=2,
                  checkpoint_every=5)
    first = PPO(PPOConfig(total_steps=640, **config))
    r1 = first.train(logdir=str(tmp_path), progress=False)
    weights = first.get_weights()
    second = PPO(PPOConfig(total_steps=1280, **config))
    r2 = second.train(logdir=str(tmp_path), resume=True, progress=False)
    assert (r1["env_steps"], r2["env_steps"]) == (640, 1280)
    assert (r1["updates"], r2["updates"]) == (10, 20)
    assert r2["episodes"] > r1["episodes"]  # the returns before the resume are kept
    resumed = PPO(PPOConfig(total_steps=1280, **config))
    resumed.saver.restore(resumed.sess, f"{tmp_path}/checkpoints/model-640")
    for name, value in resumed.get_weights().items():
        np.testing.assert_array_equal(value, weights[name], err_msg=name)


def test_resume_refuses_another_agents_checkpoint(tmp_path):
    from actorflow.agents.run import Checkpoint
    agent = PPO(PPOConfig(total_steps=256))
    Checkpoint(str(tmp_path)).save(agent.sess, agent.saver, 0, {"agent": "dqn"})
    with pytest.raises(ValueError, match="is of agent 'dqn', not 'ppo'"):
        agent.train(logdir=str(tmp_path), resume=True, progress=False)


@pytest.mark.slow
def test_two_rollout_actors_feed_the_learner(ray_local):
    from actorflow.agents.ppo import PPO, PPOConfig
    agent = PPO(PPOConfig(workers=2, total_steps=2 * 8 * 32 * 4, seed=3))
    result = agent.train(progress=False)
    assert result["workers"] == 2 and result["env_steps"] == 2048
    assert result["updates"] >= 1
