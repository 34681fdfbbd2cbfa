"""Double + Dueling DQN (the book's ch. 8), with prioritized replay, n-step returns, Huber loss
and gradient clipping as config switches; an MLP Q-net for vector observations and the book's
conv Q-net for images.

The agent, in the order it runs (CleanRL's ``dqn.py`` order):

1. ``DQNConfig``: every setting, validated; the defaults reach CartPole-v1's 500 within 50k
   env steps (``DQNConfig.book()``: the book's GridWorld run).
2. Environments: ``actorflow.envs.make_vector(env_id, num_envs, seed)``.
3. Networks (``q_network``, composing ``actorflow.models.rl.q_network``): ``online`` and
   ``target`` copies in one graph, each mapping observations to ``q_values``
   [batch, num_actions]; dueling heads combine V + (A - mean A) (``dueling_combine``).
4. Learner step (one ``make_callable``): Q(s, a) of the taken actions, the n-step Double DQN
   target ``td_targets`` (r + γ^m (1 - terminated) Q_target(s', argmax Q_online(s'))), Huber or
   squared TD error weighted by the importance weights, Adam on globally clipped gradients;
   returns |TD error| for the replay priorities. Target update: θ' ← τθ + (1 - τ)θ' every
   ``target_update_interval`` learner steps (τ = 1: periodic copy; the book: τ 0.001 each step).
5. Loop: collect ``train_freq`` env steps ε-greedily (``LocalRollout.sample``) → replay
   ``add_batch`` → ``gradient_steps`` × (``sample`` → learner step → ``update_priorities``) →
   target update → log → checkpoint; at the end a greedy evaluation (``DQN.evaluate``).

``workers > 0`` (Ape-X): the only change is step 5's experience source, see
``DQN._rollouts``.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

import actorflow as tf
from actorflow.actors.columns import (ACTIONS, GAMMAS, INDICES, NEXT_OBS, OBS, REWARDS,
                                      TERMINATEDS, WEIGHTS)
from actorflow.actors.replay import ReplayBuffer
from actorflow.actors.rollout import transition_fragment
from actorflow.file_safety import load_npz
from actorflow.models import rl
from actorflow.models.rl import dueling_combine

from .run import Checkpoint, RunLogger, check_finite, window_means

__all__ = ["DQNConfig", "DQN", "LinearSchedule", "LocalRollout", "q_network", "dueling_combine",
           "td_targets"]


# ----- 1. config --------------------------------------------------------------------------------
@dataclass(frozen=True)
class DQNConfig:
    """Settings of a DQN run; ``DQNConfig.book()`` gives the book's GridWorld run.

    Defaults: CartPole-v1 with SB3 zoo's tuned schedule (lr 2.3e-3, batch 64, 256 env steps
    then 128 learner steps, target copied every 128 learner steps, ε 1 → 0.04) and the
    strongest combination of the switches measured with benchmarks/dqn_cartpole.py (50k
    steps, greedy evaluation means, seeds 0-4): 3-step returns, Huber loss, clipping at 10,
    uniform replay, no dueling, no double: [500, 500, 500, 96, 498]; with Double + Dueling:
    [500, 500, 137, 150, 500]; 1-step: [500, 500, 495, 103, 500] but slower learning."""

    env_id: str = "CartPole-v1"
    """Environment id for ``actorflow.envs.make_vector``."""
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Extra keyword arguments of the environment (GridWorld: ``size``, ``obs_size``)."""
    total_steps: int = 50_000
    """Environment steps to train for (all envs together)."""
    seed: int = 0
    """Seeds the graph initialisers, the environments, exploration and replay sampling."""
    workers: int = 0
    """0: collect in this process; N > 0: N rollout actors feeding a shared replay (Ape-X)."""
    num_envs: int = 1
    """Environments stepped together per rollout (per worker when ``workers > 0``)."""
    network: str = "auto"
    """Q-net body: ``"mlp"``, ``"conv"`` (the book's 4 conv layers) or ``"auto"`` (conv for
    image observations [H, W, C], else mlp)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the MLP body (ReLU)."""
    dueling: bool = False
    """Dueling heads: Q = V + (A - mean A) (the book); else one linear Q head."""
    double: bool = False
    """Double DQN target: the online net picks a' = argmax Q(s'), the target net scores it
    (the book); else max over the target net."""
    learning_rate: float = 2.3e-3
    """Adam learning rate (the book: 1e-4 on GridWorld)."""
    gamma: float = 0.99
    """Discount factor (the book: 0.99)."""
    batch_size: int = 64
    """Transitions per learner step (the book: 32)."""
    buffer_size: int = 100_000
    """Replay capacity in transitions (the book: 50,000)."""
    learning_starts: int = 1_000
    """Env steps of uniformly random actions before learning starts (the book: 10,000)."""
    train_freq: int = 256
    """Env steps collected between rounds of learner steps (the book: 4)."""
    gradient_steps: int = 128
    """Learner steps per round (the book: 1)."""
    tau: float = 1.0
    """Target update θ' ← τθ + (1 - τ)θ' (the book: 0.001; 1.0 copies)."""
    target_update_interval: int = 128
    """Learner steps between target updates (the book: 1)."""
    eps_start: float = 1.0
    """ε at ``learning_starts`` (the book: 1)."""
    eps_final: float = 0.04
    """ε after ``exploration_steps`` more env steps (the book: 0.1)."""
    exploration_steps: int = 7_000
    """Env steps of the linear ε decay, counted from ``learning_starts`` (the book: 10,000)."""
    prioritized: bool = False
    """Proportional prioritized replay with importance weights (Schaul et al. 2016)."""
    priority_alpha: float = 0.6
    """Priority exponent α of prioritized replay."""
    priority_beta: float = 0.4
    """Importance exponent β at the start; it rises linearly to 1 at ``total_steps``."""
    n_step: int = 3
    """Steps of the n-step return (1: the book's one-step target)."""
    loss: str = "huber"
    """TD loss: ``"huber"`` (δ = 1) or ``"mse"`` (the book)."""
    max_grad_norm: float | None = 10.0
    """Clip the gradients to this global norm (``tf.clip_by_global_norm``); None: no clipping."""
    eval_episodes: int = 20
    """Greedy evaluation episodes at the end of ``train``."""
    target_return: float | None = None
    """Stop once the mean return of the last 100 training (ε-greedy) episodes reaches this,
    the book's measure; None: train for ``total_steps``."""
    log_interval: int = 1_000
    """Env steps between progress records."""
    checkpoint_interval: int = 10_000
    """Env steps between checkpoints (when ``train`` has a logdir)."""

    def __post_init__(self) -> None:
        if isinstance(self.hidden, list):  # from JSON (config.json, checkpoints)
            object.__setattr__(self, "hidden", tuple(self.hidden))
        positive = ("total_steps", "num_envs", "batch_size", "buffer_size", "train_freq",
                    "gradient_steps", "target_update_interval", "n_step", "eval_episodes",
                    "log_interval", "checkpoint_interval")
        for name in positive:
            _check(self, name, isinstance(getattr(self, name), int)
                   and getattr(self, name) > 0, "a positive int")
        for name in ("workers", "learning_starts", "exploration_steps", "seed"):
            _check(self, name, isinstance(getattr(self, name), int)
                   and getattr(self, name) >= 0, "an int >= 0")
        _check(self, "env_id", isinstance(self.env_id, str) and self.env_id != "",
               "a non-empty string")
        _check(self, "network", self.network in ("auto", "mlp", "conv"),
               "'auto', 'mlp' or 'conv'")
        _check(self, "loss", self.loss in ("huber", "mse"), "'huber' or 'mse'")
        _check(self, "hidden", isinstance(self.hidden, tuple) and len(self.hidden) > 0
               and all(isinstance(h, int) and h > 0 for h in self.hidden),
               "a non-empty tuple of positive ints")
        _check(self, "gamma", 0.0 < self.gamma <= 1.0, "in (0, 1]")
        _check(self, "tau", 0.0 < self.tau <= 1.0, "in (0, 1]")
        _check(self, "learning_rate", self.learning_rate > 0, "positive")
        for name in ("eps_start", "eps_final", "priority_beta"):
            _check(self, name, 0.0 <= getattr(self, name) <= 1.0, "in [0, 1]")
        _check(self, "priority_alpha", self.priority_alpha >= 0, ">= 0")
        _check(self, "max_grad_norm", self.max_grad_norm is None or self.max_grad_norm > 0,
               "positive or None")
        _check(self, "env_kwargs", isinstance(self.env_kwargs, Mapping), "a mapping")
        _check(self, "target_return", self.target_return is None
               or isinstance(self.target_return, (int, float)), "a number or None")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "DQNConfig":
        """A config from a mapping (a CLI, a checkpoint's JSON).

        Raises:
            ValueError: an unknown key (one line naming it and the known keys), a bad value.
        """
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown DQNConfig keys {unknown}; known: {', '.join(known)}")
        return cls(**values)

    @classmethod
    def book(cls, **overrides: Any) -> "DQNConfig":
        """The book's GridWorld run (ch. 8): 84×84×3 pixels, conv net, Double + Dueling,
        soft target τ 0.001 each step, Adam 1e-4, batch 32, update every 4 steps, 50k replay,
        10k random steps then ε 1 → 0.1 over 10k, squared TD error, no clipping, 500k steps."""
        book = dict(env_id="actorflow/GridWorld-v0", total_steps=500_000, network="conv",
                    dueling=True, double=True, n_step=1,
                    learning_rate=1e-4, batch_size=32, buffer_size=50_000,
                    learning_starts=10_000, train_freq=4, gradient_steps=1, tau=0.001,
                    target_update_interval=1, eps_start=1.0, eps_final=0.1,
                    exploration_steps=10_000, loss="mse", max_grad_norm=None,
                    eval_episodes=100, log_interval=5_000, checkpoint_interval=50_000)
        book.update(overrides)
        return cls.from_dict(book)

    @classmethod
    def gridworld(cls, **overrides: Any) -> "DQNConfig":
        """The book's GridWorld net, env and schedule (``book()``) with this library's
        stronger switches, the default of ``experiments/gridworld_dqn.py``: prioritized
        replay, 3-step returns, Huber loss, clipping at 10, Adam 1e-3, one learner step
        every 16 env steps over 4 envs, ε 1 → 0.05.

        Picked on seed 0 (100-episode training mean by env step): on 42×42 images, a step
        every 4 env steps at Adam 2.5e-4 gave 19.0 at 45k; every 8 at 5e-4 reached 22 at 60k;
        every 16 at 1e-3 at 50k, for a quarter of the learner steps (the 84×84 conv net costs
        ~77 ms a step on one core here). On 84×84: every 8 at 5e-4 stalled near 20 up to
        85k; every 16 at 1e-3 reached 22.7 at 45k. ``benchmarks/dqn_gridworld.py`` measures
        it over seeds."""
        return cls.book(**{**dict(total_steps=250_000, num_envs=4, prioritized=True,
                                  n_step=3, loss="huber",
                                  max_grad_norm=10.0, learning_rate=1e-3, train_freq=16,
                                  eps_final=0.05), **overrides})

    @classmethod
    def preset_for(cls, env_id: str) -> dict[str, Any]:
        """Settings for `env_id` where they differ from the (CartPole) defaults: GridWorld
        gets ``gridworld()``; other envs nothing. The CLI starts from these."""
        if env_id.startswith("actorflow/GridWorld"):
            return {**cls.gridworld().to_dict(), "env_id": env_id}
        return {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (tuples as lists)."""
        out = dataclasses.asdict(self)
        out["hidden"] = list(self.hidden)
        out["env_kwargs"] = dict(self.env_kwargs)
        return out


def _check(config: DQNConfig, name: str, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"DQNConfig.{name} must be {expected}, got {getattr(config, name)!r}")


@dataclass(frozen=True)
class LinearSchedule:
    """ε by env step: 1 before ``begin`` (random actions), then linear from ``start`` to
    ``final`` over ``duration`` steps, then ``final``. Picklable, for rollout actors."""

    begin: int
    duration: int
    start: float
    final: float

    def __call__(self, step: int) -> float:
        if step < self.begin:
            return 1.0
        frac = min(1.0, (step - self.begin) / max(1, self.duration))
        return self.start + frac * (self.final - self.start)


# ----- 3. networks ------------------------------------------------------------------------------
def q_network(obs, num_actions: int, config: DQNConfig):
    """q_values [B, num_actions] of `obs` [B, *obs_shape], built in the current variable scope:
    `actorflow.models.rl.q_network` with the config's ``network``, ``hidden`` and
    ``dueling`` (the mlp, or the book's conv body; one linear or dueling heads).

    Raises:
        ValueError: ``network="conv"`` on observations that are not [H, W, C] with H, W >= 36.
    """
    return rl.q_network(obs, num_actions, network=config.network, hidden=config.hidden,
                        dueling=config.dueling)["q_values"]


def td_targets(rewards, gammas, terminateds, next_q_online, next_q_target, double: bool = True):
    """r + γ^m (1 - terminated) Q_target(s', a'), a' = argmax_a Q_online(s', a) (Double DQN)
    or argmax_a Q_target(s', a); no gradient flows into the result.

    Args: rewards, gammas (γ^m of each row's m-step return), terminateds (float) [B];
    next_q_online, next_q_target [B, A].
    """
    num_actions = next_q_target.shape.as_list()[1]
    chooser = next_q_online if double else next_q_target
    best = tf.one_hot(tf.argmax(chooser, axis=1), num_actions, dtype=tf.float32)
    next_value = tf.reduce_sum(next_q_target * best, axis=1)
    return tf.stop_gradient(rewards + gammas * (1.0 - terminateds) * next_value)


class _Graph:
    """The agent's graph: online and target nets, learner step, target update, and the
    callables the loop uses (``act``, ``learn``, ``update_target``)."""

    def __init__(self, config: DQNConfig, obs_shape: tuple, obs_dtype, num_actions: int):
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.set_random_seed(config.seed)
            obs_dt = tf.as_dtype(obs_dtype)
            self.obs = tf.placeholder(obs_dt, [None, *obs_shape], name="obs")
            self.actions = tf.placeholder(tf.int64, [None], name="actions")
            self.rewards = tf.placeholder(tf.float32, [None], name="rewards")
            self.next_obs = tf.placeholder(obs_dt, [None, *obs_shape], name="next_obs")
            self.terminateds = tf.placeholder(tf.float32, [None], name="terminateds")
            self.gammas = tf.placeholder(tf.float32, [None], name="gammas")
            self.weights = tf.placeholder(tf.float32, [None], name="weights")
            with tf.variable_scope("online"):
                q_values = q_network(self.obs, num_actions, config)
            self.q_values = tf.identity(q_values, name="q_values")
            with tf.variable_scope("online", reuse=True):
                next_q_online = q_network(self.next_obs, num_actions, config)
            with tf.variable_scope("target"):
                next_q_target = q_network(self.next_obs, num_actions, config)
            self.greedy = tf.argmax(self.q_values, axis=1)
            taken = tf.one_hot(self.actions, num_actions, dtype=tf.float32)
            q_taken = tf.reduce_sum(self.q_values * taken, axis=1)
            target = td_targets(self.rewards, self.gammas, self.terminateds, next_q_online,
                                next_q_target, config.double)
            self.td_abs = tf.abs(q_taken - target)
            lossfn = tf.losses.huber_loss if config.loss == "huber" else \
                tf.losses.mean_squared_error
            self.loss = lossfn(target, q_taken, weights=self.weights)
            online = tf.trainable_variables("online")
            target_vars = tf.trainable_variables("target")
            optimizer = tf.train.AdamOptimizer(config.learning_rate)
            grads = tf.gradients(self.loss, online)
            if config.max_grad_norm is not None:
                grads, _ = tf.clip_by_global_norm(grads, config.max_grad_norm)
            self.train_op = optimizer.apply_gradients(list(zip(grads, online)))
            tau = config.tau
            self.target_update = tf.group(*[
                tf.assign(t, o if tau == 1.0 else tau * o + (1.0 - tau) * t)
                for o, t in zip(online, target_vars)])
            self.init_target = tf.group(*[tf.assign(t, o) for o, t in zip(online, target_vars)])
            self.q_mean = tf.reduce_mean(q_taken)
            self.saver = tf.train.Saver(max_to_keep=3)
            self.session = tf.Session(graph=self.graph)
            self.session.run(tf.global_variables_initializer())
            self.session.run(self.init_target)
        s = self.session
        self.act = s.make_callable(self.greedy, [self.obs])
        self.learn = s.make_callable(
            [self.train_op, self.loss, self.td_abs, self.q_mean],
            [self.obs, self.actions, self.rewards, self.next_obs, self.terminateds,
             self.gammas, self.weights])
        self.update_target = s.make_callable(self.target_update)


# ----- 5. experience ----------------------------------------------------------------------------
class LocalRollout:
    """In-process experience source: a vector env stepped ε-greedily with the agent's greedy
    callable. ``sample`` returns transition rows (time-major, with ``ENV_IDS``) for
    ``ReplayBuffer.add_batch`` and the returns of the episodes that ended."""

    def __init__(self, venv, act: Callable[[np.ndarray], np.ndarray], seed: int) -> None:
        self.venv = venv
        self.act = act
        self.rng = np.random.default_rng(seed)
        self.obs = venv.reset(seed=seed)

    def sample(self, num_steps: int, epsilon: LinearSchedule, step: int):
        """Steps every env `num_steps` times from env step `step` (ε from `epsilon`).

        Returns:
            (rows: dict of [num_steps * num_envs, ...] arrays, episode_returns [k],
            episode_lengths [k]).
        """
        venv, n = self.venv, self.venv.num_envs

        def choose(obs, t):
            eps = epsilon(step + t * n)
            actions = self.rng.integers(0, venv.num_actions, n)
            if eps < 1.0:
                greedy = self.rng.random(n) >= eps
                if greedy.any():
                    actions = np.where(greedy, self.act(obs), actions)
            return actions

        rows, self.obs, returns, lengths = transition_fragment(venv, self.obs, num_steps, choose)
        return rows, returns, lengths


# ----- the agent --------------------------------------------------------------------------------
class DQN:
    """Double + Dueling DQN agent (see the module docstring for the call sequence).

    Attributes: ``config``, ``graph`` (the TF graph and its callables), ``sess``, ``saver``,
    ``replay``, ``epsilon`` (the ε schedule), ``env_steps``, ``episodes``, ``updates``.
    """

    name = "dqn"

    def __init__(self, config: DQNConfig | None = None) -> None:
        from actorflow.envs import make_vector
        self.config = cfg = config or DQNConfig()
        self._make_vector = make_vector
        probe = make_vector(cfg.env_id, 1, seed=cfg.seed, **cfg.env_kwargs)
        self.obs_shape, self.obs_dtype = tuple(probe.obs_shape), np.dtype(probe.obs_dtype)
        if probe.num_actions is None:
            raise ValueError(f"DQN needs discrete actions; {cfg.env_id} has "
                             f"{getattr(probe, 'action_space', 'continuous ones')}")
        self.num_actions = int(probe.num_actions)
        self.graph = _Graph(cfg, self.obs_shape, self.obs_dtype, self.num_actions)
        self.sess, self.saver = self.graph.session, self.graph.saver
        replay_args = dict(prioritized=cfg.prioritized, alpha=cfg.priority_alpha,
                           beta=cfg.priority_beta, n_step=cfg.n_step, gamma=cfg.gamma,
                           seed=cfg.seed)
        if cfg.workers > 0:
            # Ape-X: one replay actor that the rollout actors add to and the learner samples.
            # Ray restarts it if it dies; `train` refills it from the last checkpoint.
            from actorflow.actors.replay import ShardedReplay
            self.replay = ShardedReplay(1, cfg.buffer_size, self.obs_shape,
                                        obs_dtype=self.obs_dtype,
                                        options={"num_cpus": 0.5, "max_restarts": 3},
                                        **replay_args)
        else:
            self.replay = ReplayBuffer(cfg.buffer_size, self.obs_shape, self.obs_dtype,
                                       **replay_args)
        self.epsilon = LinearSchedule(cfg.learning_starts, cfg.exploration_steps,
                                      cfg.eps_start, cfg.eps_final)
        self.env_steps = self.episodes = self.updates = 0
        self._rollout: LocalRollout | None = None

    # ----- the loop -------------------------------------------------------------------------
    def train(self, logdir: str | None = None, resume: bool = False,
              progress: bool = True) -> dict:
        """Trains to ``config.total_steps`` env steps (or until the last 100 training
        episodes average ``config.target_return``), then evaluates greedily.

        Args:
            logdir: where the run's files and checkpoints go (None: nothing written).
            resume: continue the run in `logdir` from its latest checkpoint (step count,
                returns, weights, Adam state, replay content, RNG states; the envs start
                fresh episodes).
            progress: print the live progress line.

        Returns:
            ``env_steps``, ``episodes``, ``updates``, ``eval_return_mean``,
            ``eval_return_std``, ``train_return_mean`` (last 100 episodes), ``wall_s``,
            ``steps_per_s``, ``solved_at_steps`` (the env step at which ``target_return``
            was reached; None if it was not, or none was set).
        """
        cfg = self.config
        log = RunLogger(logdir, self.name, cfg, cfg.total_steps, quiet=not progress)
        ckpt = Checkpoint(logdir) if logdir else None
        if resume:
            self._resume(ckpt, log)
        rollouts = self._rollouts()
        if not isinstance(self.replay, ReplayBuffer):
            self.replay.restore = functools.partial(self._checkpointed_replay, ckpt)
        per_round = max(1, cfg.train_freq // cfg.num_envs)  # vector steps per round
        metrics: dict[str, float] = {}
        next_log = self.env_steps + cfg.log_interval
        next_ckpt = self.env_steps + cfg.checkpoint_interval
        t0, steps0 = time.perf_counter(), self.env_steps
        solved_at = None
        try:
            while self.env_steps < cfg.total_steps and solved_at is None:
                left = -(-(cfg.total_steps - self.env_steps) // cfg.num_envs)
                rows, returns, _ = rollouts.sample(min(per_round, left), self.epsilon,
                                                   self.env_steps)
                if rows is None:  # the rollout actors added their rows to the replay actor
                    self.env_steps += rollouts.rows_added
                else:
                    self.replay.add_batch(rows)
                    self.env_steps += len(rows[REWARDS])
                self.episodes += len(returns)
                log.episode(returns, self.env_steps)
                solved_at = self._solved(log, len(returns))
                diverged = False
                if self.env_steps >= cfg.learning_starts and len(self.replay) >= cfg.batch_size:
                    metrics = self._learn_round()
                    diverged = not np.isfinite(metrics["loss"])
                # A line at least every progress_every_s too: a slow run (GridWorld's conv net)
                # may take many minutes per log_interval.
                if self.env_steps >= next_log or self.env_steps >= cfg.total_steps \
                        or solved_at is not None or diverged or log.due():
                    while next_log <= self.env_steps:
                        next_log += cfg.log_interval
                    log.log(self.env_steps, {**metrics, "epsilon": self.epsilon(self.env_steps)})
                if diverged:  # before a save can keep the weights
                    check_finite(self.env_steps, {"loss": metrics["loss"]})
                if ckpt is not None and self.env_steps >= next_ckpt:
                    next_ckpt += cfg.checkpoint_interval
                    self._save(ckpt, log)
        finally:  # rollout actors end with the run, also when it raises
            if cfg.workers > 0:
                rollouts.close()
                self._rollout = None
        wall = time.perf_counter() - t0
        if ckpt is not None:
            self._save(ckpt, log)
        ev = self.evaluate(cfg.eval_episodes)
        recent = log.returns[-100:]
        return log.close({
            "agent": self.name, "env": cfg.env_id, "env_steps": self.env_steps,
            "episodes": self.episodes, "updates": self.updates,
            "train_return_mean": float(np.mean(recent)) if recent else None,
            "eval_return_mean": ev["return_mean"], "eval_return_std": ev["return_std"],
            "workers": cfg.workers,
            "wall_s": round(wall, 2),
            "steps_per_s": round((self.env_steps - steps0) / max(wall, 1e-9), 1),
            "solved_at_steps": solved_at})

    def _solved(self, log: RunLogger, new: int) -> int | None:
        """The current env step if a window of 100 training episodes ending at one of the
        `new` episodes just recorded averages ``target_return`` (episodes of several envs
        end together: each counts, not only the last)."""
        target = self.config.target_return
        if target is None or new == 0:
            return None
        reached = window_means(log.returns[-(99 + new):]) >= target
        return self.env_steps if bool(reached.any()) else None

    def _learn_round(self) -> dict[str, float]:
        """``gradient_steps`` learner steps on replay samples, with target updates; the
        importance exponent β rises linearly from ``priority_beta`` to 1 at ``total_steps``."""
        cfg, g = self.config, self.graph
        beta = cfg.priority_beta + (1.0 - cfg.priority_beta) * min(
            1.0, self.env_steps / cfg.total_steps)
        # The Ape-X replay actor is sampled once per round (a call per learner step would
        # cost a round trip each); priorities then go back once, at the end of the round.
        remote = not isinstance(self.replay, ReplayBuffer)
        if remote:
            recoveries = self.replay.recoveries
            try:
                whole = self.replay.sample(cfg.batch_size * cfg.gradient_steps, beta)
            except tf.errors.FailedPreconditionError:
                # The replay actor died in this round and came back empty (no checkpoint to
                # restore it from): learning resumes once the rollouts have refilled it.
                last = getattr(self, "_last_round", None)
                if self.replay.recoveries == recoveries or last is None:
                    raise
                return last
            seen_idx, seen_td = [], []
        for i in range(cfg.gradient_steps):
            if remote:
                b = {k: v[i * cfg.batch_size:(i + 1) * cfg.batch_size]
                     for k, v in whole.items()}
            else:
                b = self.replay.sample(cfg.batch_size, beta)
            _, loss, td_abs, q_mean = g.learn(b[OBS], b[ACTIONS], b[REWARDS], b[NEXT_OBS],
                                              b[TERMINATEDS].astype(np.float32), b[GAMMAS],
                                              b[WEIGHTS])
            if cfg.prioritized and remote:
                seen_idx.append(b[INDICES])
                seen_td.append(td_abs)
            elif cfg.prioritized:
                self.replay.update_priorities(b[INDICES], td_abs)
            self.updates += 1
            if self.updates % cfg.target_update_interval == 0:
                g.update_target()
        if cfg.prioritized and remote:
            self.replay.update_priorities(np.concatenate(seen_idx), np.concatenate(seen_td))
        self._last_round = {"loss": float(loss), "q_mean": float(q_mean),
                            "updates": self.updates}
        return self._last_round

    def _rollouts(self) -> LocalRollout:
        """The loop's experience source: ``sample(num_steps, epsilon, step) -> (rows,
        episode_returns, episode_lengths)``, rows ready for ``replay.add_batch``.

        workers = 0: `LocalRollout` over a vector env in this process.

        workers = N (Ape-X): `actorflow.actors.rollout.TransitionRollouts`: N rollout actors,
        each a vector env of num_envs / N lanes and a CPU copy of this graph acting
        ε-greedily on ``q_values:0`` (ε of the round's first step), adding their rows
        (``ENV_IDS`` offset per actor) straight into one replay actor (`ShardedReplay`) that
        the learner samples; the online network's weights go out once per learner version
        through the object store.
        """
        cfg = self.config
        if cfg.workers > 0 and self._rollout is None:
            from actorflow.actors.rollout import TransitionRollouts, policy_variables
            g = self.graph
            names = policy_variables(g.graph, g.q_values.name, g.obs.name)

            def weights():
                return self.updates, {n: self.sess.run(f"{n}:0") for n in names}

            make_env = functools.partial(self._make_vector, cfg.env_id, **cfg.env_kwargs)
            self._rollout = TransitionRollouts(g.graph, g.obs.name, g.q_values.name, make_env,
                                               cfg.num_envs, cfg.workers, cfg.seed, weights,
                                               replay=self.replay)
        if self._rollout is None:
            venv = self._make_vector(self.config.env_id, self.config.num_envs,
                                     seed=self.config.seed, **self.config.env_kwargs)
            self._rollout = LocalRollout(venv, self.graph.act, self.config.seed)
        return self._rollout

    @staticmethod
    def _checkpointed_replay(ckpt: Checkpoint | None, shard: int) -> dict | None:
        """For a replay actor that Ray restarted (empty): its rows at the latest checkpoint
        (None without one: it refills from the rollouts, and learning waits until it holds
        a batch)."""
        found = ckpt.latest() if ckpt is not None else None
        path = found[0] + ".replay.npz" if found else None
        if path is None or not os.path.exists(path):
            return None
        import sys
        sys.stderr.write(f"actorflow: replay actor {shard} restarted; restoring {path}\n")
        return _load_replay(path)

    # ----- evaluation -----------------------------------------------------------------------
    def evaluate(self, episodes: int = 20, greedy: bool = True) -> dict:
        """Plays `episodes` episodes side by side (one env each, the first episode of each
        counts) with the greedy policy, or with ε = ``eps_final`` when not `greedy`.

        Returns:
            ``return_mean``, ``return_std``, ``episodes``.
        """
        if int(episodes) <= 0:
            raise ValueError(f"evaluate: episodes must be positive, got {episodes}")
        cfg, n = self.config, int(episodes)
        seed = cfg.seed + 10_000
        venv = self._make_vector(cfg.env_id, n, seed=seed, **cfg.env_kwargs)
        rng = np.random.default_rng(seed)
        obs = venv.reset(seed=seed)
        totals = np.zeros(n)
        running = np.ones(n, bool)
        eps = 0.0 if greedy else cfg.eps_final
        while running.any():
            actions = self.graph.act(obs)
            if eps > 0:
                explore = rng.random(n) < eps
                actions = np.where(explore, rng.integers(0, self.num_actions, n), actions)
            obs, rewards, terminated, truncated, _ = venv.step(actions)
            totals += rewards * running
            running &= ~(terminated | truncated)
        return {"return_mean": float(totals.mean()), "return_std": float(totals.std()),
                "episodes": n}

    # ----- checkpoints ----------------------------------------------------------------------
    def _save(self, ckpt: Checkpoint, log: RunLogger) -> None:
        """Variables through the Saver, the replay as a file of the same checkpoint
        (``<prefix>.replay.npz``), then the loop state as JSON (see `Checkpoint.save`)."""
        state = {"agent": self.name, "env_steps": self.env_steps, "episodes": self.episodes,
                 "updates": self.updates, "returns": log.returns,
                 "return_steps": log.return_steps, "config": self.config.to_dict()}
        rollouts = self._rollouts()
        if isinstance(rollouts, LocalRollout):
            state["rollout_rng"] = rollouts.rng.bit_generator.state
        replay_state = self.replay.state_dict()
        if "shards" in replay_state:  # the Ape-X replay actor: its one shard
            replay_state = replay_state["shards"][0]
        ckpt.save(self.sess, self.saver, self.env_steps, state,
                  files={"replay.npz": lambda path: _save_replay(path, replay_state)})

    def _resume(self, ckpt: Checkpoint | None, log: RunLogger) -> None:
        """Restores the latest checkpoint in the logdir (none there: starts afresh).

        Raises:
            ValueError: no logdir, or the checkpoint is another agent's.
        """
        if ckpt is None:
            raise ValueError("resume needs a logdir holding the run to continue")

        def load_replay(path: str) -> None:
            replay_state = _load_replay(path)
            if not isinstance(self.replay, ReplayBuffer):  # the Ape-X replay actor
                replay_state = {**self.replay.state_dict(), "shards": [replay_state]}
            self.replay.load_state_dict(replay_state)

        # The replay is part of a checkpoint: one without it is incomplete and skipped.
        state = ckpt.restore(self.sess, self.saver, self.name,
                             files={"replay.npz": load_replay})
        if state is None:
            log.resume(0, [], [])  # starting afresh: the old run's metrics rows go
            return
        self.env_steps, self.episodes = int(state["env_steps"]), int(state["episodes"])
        self.updates = int(state["updates"])
        rollouts = self._rollouts()
        if isinstance(rollouts, LocalRollout) and "rollout_rng" in state:
            rollouts.rng.bit_generator.state = state["rollout_rng"]
        log.resume(self.env_steps, state["returns"], state["return_steps"])


def _save_replay(path: str, state: Mapping[str, Any]) -> None:
    """Writes `ReplayBuffer.state_dict()` as one .npz: arrays under "columns/<name>",
    "pending/<name>" and "priorities", the rest as JSON under "meta" (no pickles)."""
    arrays = {f"columns/{k}": v for k, v in state["columns"].items()}
    if state["pending"] is not None:
        arrays.update({f"pending/{k}": v for k, v in state["pending"].items()})
    if "priorities" in state:
        arrays["priorities"] = state["priorities"]
    meta = {k: v for k, v in state.items() if k not in ("columns", "pending", "priorities")}
    meta["has_pending"] = state["pending"] is not None
    tmp = path + ".tmp.npz"
    np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, path)


def _load_replay(path: str) -> dict[str, Any]:
    """The state `_save_replay` wrote.

    Raises:
        DataLossError: `path` is not such a file: a member of a dtype, shape or size that
            `_save_replay` does not write (checked before allocating), or a malformed "meta".
    """
    arrays = load_npz(path, text=("meta",))
    meta = arrays.pop("meta", None)
    try:
        if meta is None or meta.dtype.kind != "U" or meta.ndim != 0:
            raise ValueError("no JSON string under 'meta'")
        state = json.loads(str(meta))
        if not isinstance(state, dict) or not isinstance(state.get("has_pending"), bool):
            raise ValueError("'meta' is not a map with a boolean 'has_pending'")
    except ValueError as e:
        raise tf.errors.DataLossError(None, None, f"replay file {path}: {e}") from None
    state["columns"] = {k[8:]: v for k, v in arrays.items() if k.startswith("columns/")}
    pending = {k[8:]: v for k, v in arrays.items() if k.startswith("pending/")}
    state["pending"] = pending if state.pop("has_pending") else None
    if "priorities" in arrays:
        state["priorities"] = arrays["priorities"]
    return state
