"""The book's policy network (ch. 8.2): REINFORCE on CartPole, episodes batched per update.

The network: 4 → 50 ReLU (no biases) → 1 sigmoid = P(action 1), Xavier weights. Each action
is sampled from that probability; with the "virtual label" y = 1 − action, the
log-likelihood is log(y·(y − p) + (1 − y)·(y + p)) and the loss −mean(loglik · advantage),
where the advantages are an episode's discounted returns (γ 0.99) normalised to zero mean
and unit std. The gradients of `batch_episodes` (25) episodes are summed and applied by
Adam(0.1) — one update per batch, as the book does with its gradient buffer. Optionally a
value baseline (a small linear critic) is subtracted from the returns.

The loop, top to bottom: collect a batch of complete episodes (a vector env with one lane per
episode in-process, or `workers` Ray rollout actors), compute returns and advantages, one
`train` call, log.
"""
from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass

import numpy as np

import actorflow as tf

from actorflow.actors.rollout import complete_episodes
from actorflow.models.rl import policy_mlp

from .run import Checkpoint, RunLogger, check_finite

__all__ = ["PGConfig", "PolicyGradient", "discounted_returns"]


@dataclass(frozen=True)
class PGConfig:
    """Settings of the book's policy-gradient agent (defaults: the book's)."""

    env_id: str = "CartPole-v1"
    """Environment (a vector env from `actorflow.envs.make_vector`); two discrete actions."""
    hidden: int = 50
    """Hidden units (book: H = 50)."""
    batch_episodes: int = 25
    """Episodes whose gradients are summed into one update (book: 25)."""
    learning_rate: float = 0.1
    """Adam learning rate (book: 0.1)."""
    gamma: float = 0.99
    """Discount (book: 0.99)."""
    total_steps: int = 100_000
    """Env-step budget."""
    target_return: float | None = None
    """Stop once a batch's mean return exceeds this (the book stops at 200)."""
    baseline: bool = False
    """Subtract a learned linear value baseline from the returns (beyond the book)."""
    seed: int = 0
    """Seeds the env, the graph and the action sampling."""
    workers: int = 0
    """Ray rollout actors collecting the episodes (0: in this process)."""
    eval_episodes: int = 20
    """Episodes of the final greedy evaluation."""
    checkpoint_every: int = 20
    """Updates between checkpoints (with a logdir)."""

    def __post_init__(self) -> None:
        bad = [f"{k}={getattr(self, k)!r}" for k in ("hidden", "batch_episodes", "total_steps")
               if getattr(self, k) < 1]
        if not 0 < self.gamma <= 1:
            bad.append(f"gamma={self.gamma!r}")
        if self.learning_rate <= 0:
            bad.append(f"learning_rate={self.learning_rate!r}")
        if self.workers < 0:
            bad.append(f"workers={self.workers!r}")
        if bad:
            raise ValueError(f"PGConfig: invalid {', '.join(bad)}")


def discounted_returns(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """Σ_k γ^k r_{t+k} for each step t of one episode (computed backwards, as the book)."""
    out = np.zeros(len(rewards), np.float32)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = running * gamma + rewards[t]
        out[t] = running
    return out


class PolicyGradient:
    """REINFORCE with the book's network and batching."""

    name = "pg"

    def __init__(self, config: PGConfig = PGConfig()) -> None:
        from actorflow.envs import make_vector
        self.config = config
        probe = make_vector(config.env_id, 1, seed=config.seed)
        if probe.num_actions != 2:
            raise ValueError(f"PolicyGradient needs 2 discrete actions; {config.env_id} has "
                             f"{probe.num_actions}")
        self.obs_dim = int(np.prod(probe.obs_shape))
        self.env = make_vector(config.env_id, config.batch_episodes, seed=config.seed)
        self.graph = tf.Graph()
        with self.graph.as_default():
            self._build()
        self.sess = tf.Session(graph=self.graph)
        self.sess.run(self.init)
        self.rng = np.random.default_rng(config.seed)
        self._act = self.sess.make_callable(self.probability, [self.observations])
        fetch = [self.train_op, self.loss]
        feeds = [self.observations, self.input_y, self.advantages, self.step_weights]
        if config.baseline:
            fetch.append(self.value_train)
            feeds.append(self.returns)
        self._train = self.sess.make_callable(fetch, feeds)
        self.env_steps = 0
        self.updates = 0

    # -- the network -------------------------------------------------------------------
    def _build(self) -> None:
        c = self.config
        tf.set_random_seed(c.seed)
        self.observations = tf.placeholder(tf.float32, [None, self.obs_dim], name="input_x")
        self.probability = policy_mlp(self.observations, hidden=c.hidden)["probability"]
        self.input_y = tf.placeholder(tf.float32, [None], name="input_y")
        self.advantages = tf.placeholder(tf.float32, [None], name="reward_signal")
        # 1/length of each step's episode: the mean over an episode, summed over episodes,
        # is the book's per-episode loss with its gradients added into one buffer.
        self.step_weights = tf.placeholder(tf.float32, [None], name="step_weights")
        y, p = self.input_y, self.probability
        loglik = tf.log(y * (y - p) + (1 - y) * (y + p))
        self.loss = -tf.reduce_sum(loglik * self.advantages * self.step_weights)
        self.train_op = tf.train.AdamOptimizer(c.learning_rate).minimize(self.loss)
        if c.baseline:
            self.returns = tf.placeholder(tf.float32, [None], name="returns")
            self.value = tf.squeeze(tf.layers.dense(self.observations, 1, name="value"), 1)
            self.value_train = tf.train.AdamOptimizer(0.01).minimize(
                tf.reduce_mean(tf.square(self.value - self.returns)))
        self.init = tf.global_variables_initializer()
        self.saver = tf.train.Saver(max_to_keep=3)

    # -- acting ------------------------------------------------------------------------
    def act(self, obs: np.ndarray, greedy: bool = False) -> np.ndarray:
        p1 = self._act(obs.reshape(len(obs), -1).astype(np.float32))
        if greedy:
            return (p1 > 0.5).astype(np.int64)
        return (self.rng.random(len(p1)) < p1).astype(np.int64)

    def collect_episodes(self) -> list[dict]:
        """One complete episode per lane of the vector env."""
        episodes = complete_episodes(self.env, self.act, int(self.rng.integers(2**31)))
        self.env_steps += sum(len(ep["rewards"]) for ep in episodes)
        return episodes

    # -- learning ----------------------------------------------------------------------
    def update(self, episodes: list[dict]) -> float:
        """One Adam step on the summed episode gradients; returns the loss."""
        obs = [ep["obs"] for ep in episodes]
        baselines = [0.0] * len(episodes)
        if self.config.baseline:  # one value run for the whole batch, split per episode
            values = self.sess.run(self.value, {self.observations: np.concatenate(obs)})
            baselines = np.split(values, np.cumsum([len(o) for o in obs])[:-1])
        ys, advs, weights, rets = [], [], [], []
        for ep, base in zip(episodes, baselines):
            ret = discounted_returns(ep["rewards"].astype(np.float32), self.config.gamma)
            adv = ret - base
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            ys.append(1.0 - ep["actions"])
            advs.append(adv)
            weights.append(np.full(len(ret), 1.0 / len(ret), np.float32))
            rets.append(ret)
        args = [np.concatenate(obs).astype(np.float32), np.concatenate(ys).astype(np.float32),
                np.concatenate(advs).astype(np.float32), np.concatenate(weights)]
        if self.config.baseline:
            args.append(np.concatenate(rets))
        out = self._train(*args)
        self.updates += 1
        return float(out[1])

    # -- the run -----------------------------------------------------------------------
    def train(self, logdir: str | None = None, resume: bool = False,
              progress: bool = True) -> dict:
        """Trains until the step budget (or the target return) is reached.

        Returns:
            The results: env_steps, episodes, updates, eval_return_mean, wall_s,
            steps_per_s, episodes_to_target (the episode count when a batch's mean first
            exceeded the target, or None).
        """
        c = self.config
        log = RunLogger(logdir, self.name, c, c.total_steps, quiet=not progress)
        ckpt = Checkpoint(logdir) if logdir else None
        if resume:
            self._resume(ckpt, log)
        rollouts = self.rollouts = self._rollout_workers()
        t0 = time.perf_counter()
        reached = None
        try:
            while self.env_steps < c.total_steps:
                if rollouts:
                    episodes = rollouts.collect(self)
                    self.env_steps += sum(len(ep["rewards"]) for ep in episodes)
                else:
                    episodes = self.collect_episodes()
                returns = [float(ep["rewards"].sum()) for ep in episodes]
                log.episode(returns, self.env_steps)
                loss = self.update(episodes)
                log.log(self.env_steps, {"loss": loss, "batch_mean_return": np.mean(returns)})
                check_finite(self.env_steps, {"loss": loss})  # before a save can keep it
                if ckpt and self.updates % c.checkpoint_every == 0:
                    self._save(ckpt, log)
                if c.target_return is not None and np.mean(returns) > c.target_return:
                    reached = log.episodes
                    break
        finally:
            if rollouts:
                rollouts.close()
        if ckpt:
            self._save(ckpt, log)
        wall = time.perf_counter() - t0
        ev = self.evaluate(c.eval_episodes)
        return log.close({"agent": self.name, "env": c.env_id, "env_steps": self.env_steps,
                          "episodes": log.episodes, "updates": self.updates,
                          "worker_restarts": rollouts.restarts if rollouts else 0,
                          "episodes_to_target": reached,
                          "eval_return_mean": ev["return_mean"], "wall_s": round(wall, 2),
                          "steps_per_s": round(self.env_steps / max(wall, 1e-9), 1)})

    def evaluate(self, episodes: int = 20, greedy: bool = True) -> dict:
        """Mean return of `episodes` episodes acting greedily (p > 0.5)."""
        from actorflow.envs import make_vector
        env = make_vector(self.config.env_id, episodes, seed=self.config.seed + 10_000)
        obs = env.reset()
        totals = np.zeros(episodes)
        running = np.ones(episodes, bool)
        while running.any():
            obs, rewards, terminated, truncated, _ = env.step(self.act(obs, greedy=greedy))
            totals += rewards * running
            running &= ~(terminated | truncated)
        return {"return_mean": float(totals.mean()), "return_std": float(totals.std()),
                "episodes": episodes}

    # -- checkpoints -------------------------------------------------------------------
    def _save(self, ckpt: Checkpoint, log: RunLogger) -> None:
        ckpt.save(self.sess, self.saver, self.env_steps,
                  {"agent": self.name, "env_steps": self.env_steps, "updates": self.updates,
                   "returns": log.returns, "return_steps": log.return_steps,
                   "rng": self.rng.bit_generator.state,
                   "config": dataclasses.asdict(self.config)})

    def _resume(self, ckpt: Checkpoint | None, log: RunLogger) -> None:
        state = ckpt.restore(self.sess, self.saver, self.name) if ckpt else None
        if state is None:
            log.resume(0, [], [])  # starting afresh: the old run's metrics rows go
            return
        self.env_steps, self.updates = int(state["env_steps"]), int(state["updates"])
        self.rng.bit_generator.state = state["rng"]
        log.resume(self.env_steps, state["returns"], state["return_steps"])

    def _rollout_workers(self):
        if self.config.workers == 0:
            return None
        from actorflow.actors.rollout import EpisodeRollouts
        from actorflow.envs import make_vector
        c = self.config
        return EpisodeRollouts(self, c.workers, functools.partial(make_vector, c.env_id))
