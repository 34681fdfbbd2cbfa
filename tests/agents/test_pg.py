"""The book's policy-gradient agent: returns, learning, workers, resume, bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

from actorflow.agents.pg import PGConfig, PolicyGradient, discounted_returns


def test_discounted_returns_by_hand():
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 0.0, 2.0]), 0.5),
                               [1.0 + 0.0 + 0.5, 0.0 + 1.0, 2.0])


def test_config_rejects_bad_values_on_one_line():
    with pytest.raises(ValueError, match=r"^PGConfig: invalid batch_episodes=0, gamma=1.5$"):
        PGConfig(batch_episodes=0, gamma=1.5)
    with pytest.raises(TypeError):
        PGConfig(learning_rte=0.1)  # a typo is not silently accepted


def test_learns_cartpole_well_past_random(tmp_path):
    agent = PolicyGradient(PGConfig(total_steps=60_000, target_return=150, seed=1))
    result = agent.train(logdir=str(tmp_path), progress=False)
    # Random play scores ~20; the book's setting passes 150 within a few thousand episodes.
    assert result["episodes_to_target"] is not None, result
    assert result["eval_return_mean"] > 100
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == result["updates"]
    assert json.loads(lines[-1])["step"] == result["env_steps"]
    assert (tmp_path / "returns.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "summary.json").read_text()) == result
    assert any(p.name.startswith("events.out.tfevents") for p in tmp_path.iterdir())


def test_value_baseline_learns_too():
    agent = PolicyGradient(PGConfig(total_steps=60_000, target_return=150, seed=1,
                                    baseline=True))
    result = agent.train(progress=False)
    assert result["episodes_to_target"] is not None, result
    assert result["eval_return_mean"] > 100


def test_resume_continues_steps_and_returns(tmp_path):
    first = PolicyGradient(PGConfig(total_steps=3000, seed=2, checkpoint_every=1))
    r1 = first.train(logdir=str(tmp_path), progress=False)
    second = PolicyGradient(PGConfig(total_steps=6000, seed=2, checkpoint_every=1))
    r2 = second.train(logdir=str(tmp_path), resume=True, progress=False)
    assert r2["env_steps"] > r1["env_steps"] >= 3000
    assert r2["updates"] > r1["updates"]
    assert r2["episodes"] > r1["episodes"]  # the returns before the resume are kept
    w1 = first.sess.run("W1:0")
    resumed = PolicyGradient(PGConfig(total_steps=6000, seed=2))
    resumed.saver.restore(resumed.sess, f"{tmp_path}/checkpoints/model-{r1['env_steps']}")
    np.testing.assert_array_equal(resumed.sess.run("W1:0"), w1)


@pytest.mark.slow
def test_two_rollout_workers_learn(ray_local):
    agent = PolicyGradient(PGConfig(total_steps=60_000, target_return=150, seed=3, workers=2))
    result = agent.train(progress=False)
    assert result["episodes_to_target"] is not None, result
    assert result["episodes"] % 25 == 0  # whole batches of 25 episodes from 2 workers


@pytest.mark.slow
def test_a_killed_rollout_worker_is_replaced(ray_local):
    import threading
    import time

    agent = PolicyGradient(PGConfig(total_steps=15_000, seed=5, workers=2))

    def kill_after_two_updates() -> None:
        while agent.updates < 2 or getattr(agent, "rollouts", None) is None:
            time.sleep(0.05)
        ray_local.kill(agent.rollouts.actors[0], no_restart=False)

    killer = threading.Thread(target=kill_after_two_updates, daemon=True)
    killer.start()
    result = agent.train(progress=False)
    killer.join(30)
    assert result["env_steps"] >= 15_000
    assert result["worker_restarts"] >= 1
