"""Agent runs that lose an actor (a PPO rollout actor, the DQN replay actor) finish; a folder
named `actorflow` where the driver stands does not reach the Ray workers."""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time

import pytest

from actorflow.actors.replay import ReplayActorDiedError

pytestmark = pytest.mark.slow


def test_ppo_run_finishes_after_a_rollout_actor_is_killed(ray_local):
    from actorflow.agents.ppo import PPO, PPOConfig

    agent = PPO(PPOConfig(total_steps=8 * 32 * 10, workers=2, epochs=2, seed=4))
    update = agent.update

    def update_then_kill(fragment):
        if agent.updates == 3:
            # Long enough after the start for Ray to have freed what it stored for the
            # actors' constructors (the restart then failed: ReferenceCountingAssertionError).
            gc.collect()
            time.sleep(2.0)
            ray_local.kill(agent.sampler.actors[0], no_restart=False)
        return update(fragment)

    agent.update = update_then_kill
    result = agent.train(progress=False)
    assert result["env_steps"] == 8 * 32 * 10
    assert result["updates"] == 10


def _dqn_killing_its_replay(ray, no_restart: bool):
    from actorflow.agents.dqn import DQN, DQNConfig

    agent = DQN(DQNConfig(workers=2, seed=1, total_steps=6000, learning_starts=500,
                          checkpoint_interval=1000, train_freq=256, gradient_steps=16))
    learn_round, rounds = agent._learn_round, []

    def learn_then_kill():
        rounds.append(1)
        if len(rounds) == 8:
            ray.kill(agent.replay.shards[0], no_restart=no_restart)
        return learn_round()

    agent._learn_round = learn_then_kill
    return agent


@pytest.mark.parametrize("checkpoints", [True, False])
def test_dqn_run_finishes_after_the_replay_actor_is_killed(ray_local, tmp_path, capsys,
                                                           checkpoints):
    agent = _dqn_killing_its_replay(ray_local, no_restart=False)
    result = agent.train(logdir=str(tmp_path) if checkpoints else None, progress=False)
    assert result["env_steps"] >= 6000
    assert agent.replay.recoveries == 1
    # With checkpoints the restarted actor gets the last one's rows; without, it refills.
    restored = "replay actor 0 restarted; restoring" in capsys.readouterr().err
    assert restored == checkpoints
    agent.replay.shutdown()


def test_dqn_names_a_replay_actor_that_stays_dead(ray_local):
    agent = _dqn_killing_its_replay(ray_local, no_restart=True)
    with pytest.raises(ReplayActorDiedError, match="replay actor 0 of 1"):
        agent.train(progress=False)
    assert agent._rollout is None  # the run closed its rollout actors as it raised


def test_workers_import_the_installed_actorflow_wherever_the_driver_stands(tmp_path):
    # A clone named actorflow where the driver stands: Ray puts the driver's directory first
    # on every worker's sys.path.
    (tmp_path / "actorflow").mkdir()
    (tmp_path / "actorflow" / "__init__.py").write_text('"""a clone, not the package"""\n')
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "PYTHONPATH")}
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "actorflow"), "train", "ppo",
         "--workers", "2", "--steps", "512"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["env_steps"] == 512 and result["workers"] == 2


def test_a_dqn_run_that_raises_stops_its_rollout_actors(ray_local):
    """A run that ends with an error (here a diverged loss) does not leave its rollout
    actors running."""
    from actorflow.agents.dqn import DQN, DQNConfig
    from actorflow.agents.run import NonFiniteLossError

    agent = DQN(DQNConfig(workers=1, seed=2, total_steps=4000, learning_starts=300,
                          train_freq=64, gradient_steps=2, learning_rate=1e30,
                          max_grad_norm=None))
    with pytest.raises(NonFiniteLossError):
        agent.train(progress=False)
    assert agent._rollout is None
