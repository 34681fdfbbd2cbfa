"""Agents refuse envs whose actions they cannot take, with a ValueError naming the space."""
from __future__ import annotations

import pytest

pytest.importorskip("gymnasium")


def test_dqn_refuses_continuous_actions():
    from actorflow.agents.dqn import DQN, DQNConfig
    with pytest.raises(ValueError, match=r"DQN needs discrete actions; Pendulum-v1 has Box\("):
        DQN(DQNConfig(env_id="Pendulum-v1"))


def test_ppo_refuses_continuous_actions():
    from actorflow.agents.ppo import PPO, PPOConfig
    with pytest.raises(ValueError, match="PPO needs discrete actions; Pendulum-v1"):
        PPO(PPOConfig(env_id="Pendulum-v1"))
