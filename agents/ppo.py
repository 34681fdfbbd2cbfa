"""PPO: clipped surrogate objective, GAE(lambda), minibatch epochs over vectorised envs.

Schulman et al. 2017, in the form Stable-Baselines3 and CleanRL run it. Reading order:

1. `PPOConfig`: every setting, defaults from rl-baselines3-zoo's CartPole-v1 PPO (8 envs x
   32 steps per update, minibatch 256, 20 epochs, gamma 0.98, lambda 0.8, lr 1e-3 and clip
   0.2 both decayed linearly to 0, no entropy bonus), measured to solve CartPole-v1 here.
2. `build_actor_critic` (``actorflow.models.rl.actor_critic``): the network (two 64-64 tanh
   MLPs, or one shared trunk), returning the named tensors ``logits`` and ``value``.
3. `ppo_loss`: the clipped surrogate, value loss and entropy bonus as graph tensors.
4. `gae`: advantages and returns of a rollout (NumPy, time-major).
5. `RolloutSampler`: steps a vector env with the policy and returns a trajectory fragment
   (the same object runs inside a rollout actor; see "Rollout workers" below).
6. `PPO.train`: sample a fragment, compute GAE, run `epochs` passes of shuffled minibatches,
   log, repeat until `total_steps` env steps; then a greedy evaluation.

Rollout workers (``workers > 0``): the train loop only calls ``sampler.sample()``,
``sampler.set_weights(weights, version)`` and ``sampler.close()``. `PPO._make_sampler` builds
an in-process `RolloutSampler` for ``workers == 0``; for ``workers > 0`` it calls the hook
``actorflow.actors.rollout.FragmentRollouts``: `workers` actors hosting `SpecSampler` (built
from `PPO.policy_spec()`: the graph as msgpack GraphDef bytes, tensor names and weights; each
actor with its own vector env of num_envs / workers lanes and a CPU `GraphExecutor` of the
policy); the weights go into the object store once per version for all of them, and their
fragments are joined along the env axis (`concat_fragments`).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

import actorflow as tf
from actorflow.actors.columns import ACTIONS, OBS, REWARDS, TERMINATEDS, TRUNCATEDS
from actorflow.models.rl import actor_critic as build_actor_critic

from .run import Checkpoint, RunLogger, check_finite

__all__ = ["PPOConfig", "PPO", "build_actor_critic", "ppo_loss", "gae", "RolloutSampler",
           "SpecSampler", "concat_fragments", "ACTION_LOGP", "VF_PREDS",
           "BOOTSTRAP_VALUES", "EPISODE_RETURNS", "EPISODE_LENGTHS"]

# Fragment columns beyond actorflow.actors.columns (a fragment is time-major: [T, n, ...]).
ACTION_LOGP = "action_logp"
"""log pi(a_t | s_t) of the sampling policy, [T, n] float32."""
VF_PREDS = "vf_preds"
"""V(s_t) of the sampling policy, [T, n] float32."""
BOOTSTRAP_VALUES = "bootstrap_values"
"""V(s_T) of the observation after the fragment's last step, [n] float32."""
EPISODE_RETURNS = "episode_returns"
"""Returns of the episodes that ended inside the fragment, [k] float32."""
EPISODE_LENGTHS = "episode_lengths"
"""Lengths of the episodes that ended inside the fragment, [k] int."""

METRICS = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")
"""The `ppo_loss` terms an update reports (means over its minibatches)."""


@dataclass(frozen=True)
class PPOConfig:
    """PPO settings; defaults solve CartPole-v1 (greedy eval >= 475) in about 100k env steps."""

    env_id: str = "CartPole-v1"
    """Environment id for `actorflow.envs.make_vector` (discrete actions, vector observations)."""
    total_steps: int = 100_000
    """Env-step budget (summed over all envs and workers), used in whole updates of
    num_envs * rollout_steps (at least one); the lr and clip schedules run over it."""
    seed: int = 0
    """Seeds the graph's initialisers, the envs and the action sampling."""
    workers: int = 0
    """Rollout actors (Ray); 0 samples in this process."""
    num_envs: int = 8
    """Parallel envs in all (with workers, split evenly among them): the same run in-process
    and on workers."""
    rollout_steps: int = 32
    """Steps per env in one fragment; an update consumes num_envs * rollout_steps
    transitions."""
    minibatch_size: int = 256
    """Transitions per gradient step (must divide the update batch)."""
    epochs: int = 20
    """Passes over each update batch, reshuffled every pass."""
    gamma: float = 0.98
    """Discount factor."""
    gae_lambda: float = 0.8
    """GAE lambda: 0 is one-step TD advantages, 1 is Monte-Carlo returns minus V."""
    lr: float = 1e-3
    """Adam learning rate (epsilon 1e-5) at the start of training."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over total_steps."""
    clip: float = 0.2
    """Clip range epsilon of the ratio pi/pi_old in the surrogate objective."""
    anneal_clip: bool = True
    """Decay the clip range linearly to 0 over total_steps."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus."""
    vf_coef: float = 0.5
    """Weight of the value loss mean((V - returns)^2)."""
    max_grad_norm: float = 0.5
    """Global-norm gradient clipping; 0 disables it."""
    normalize_advantages: bool = True
    """Normalise advantages to mean 0, std 1 within each minibatch."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes (tanh) of the policy and value MLPs."""
    shared: bool = False
    """One trunk for policy and value (True) or two separate MLPs (False)."""
    eval_episodes: int = 20
    """Greedy episodes of the final evaluation (and of each periodic one)."""
    eval_every: int = 0
    """Evaluate greedily every this many env steps (0: only at the end)."""
    target_return: float | None = None
    """Stop once a periodic evaluation's mean return reaches this (needs eval_every > 0)."""
    checkpoint_every: int = 50
    """Updates between checkpoints (with a logdir)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))  # a list from config.json
        checks = [
            (isinstance(self.env_id, str) and self.env_id != "", "env_id must be a non-empty "
             f"string, got {self.env_id!r}"),
            (self.total_steps > 0, f"total_steps must be > 0, got {self.total_steps}"),
            (self.workers >= 0, f"workers must be >= 0, got {self.workers}"),
            (self.num_envs > 0, f"num_envs must be > 0, got {self.num_envs}"),
            (self.rollout_steps > 0, f"rollout_steps must be > 0, got {self.rollout_steps}"),
            (self.minibatch_size > 0, f"minibatch_size must be > 0, got {self.minibatch_size}"),
            (self.epochs > 0, f"epochs must be > 0, got {self.epochs}"),
            (0.0 <= self.gamma <= 1.0, f"gamma must be in [0, 1], got {self.gamma}"),
            (0.0 <= self.gae_lambda <= 1.0,
             f"gae_lambda must be in [0, 1], got {self.gae_lambda}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (self.clip > 0, f"clip must be > 0, got {self.clip}"),
            (self.ent_coef >= 0, f"ent_coef must be >= 0, got {self.ent_coef}"),
            (self.vf_coef >= 0, f"vf_coef must be >= 0, got {self.vf_coef}"),
            (self.max_grad_norm >= 0, f"max_grad_norm must be >= 0, got {self.max_grad_norm}"),
            (len(self.hidden) > 0 and all(h > 0 for h in self.hidden),
             f"hidden must be a non-empty tuple of positive sizes, got {self.hidden}"),
            (self.eval_episodes > 0, f"eval_episodes must be > 0, got {self.eval_episodes}"),
            (self.eval_every >= 0, f"eval_every must be >= 0, got {self.eval_every}"),
            (self.checkpoint_every > 0,
             f"checkpoint_every must be > 0, got {self.checkpoint_every}"),
            (self.target_return is None or self.eval_every > 0,
             "target_return needs eval_every > 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"PPOConfig: {message}")
        if self.workers and self.num_envs % self.workers:
            raise ValueError(f"PPOConfig: num_envs {self.num_envs} must be a multiple of "
                             f"workers {self.workers}")
        if self.batch_size % self.minibatch_size:
            raise ValueError(f"PPOConfig: minibatch_size {self.minibatch_size} must divide the "
                             f"update batch num_envs * rollout_steps = {self.batch_size}")

    @property
    def batch_size(self) -> int:
        """Transitions per update: num_envs * rollout_steps."""
        return self.num_envs * self.rollout_steps


def ppo_loss(logits, value, actions, old_logp, advantages, returns, clip,
             vf_coef: float = 0.5, ent_coef: float = 0.0) -> dict:
    """PPO's loss terms as graph tensors (all means over the batch).

    With ratio = exp(log pi(a|s) - old_logp):
    policy_loss = -mean(min(ratio * A, clip(ratio, 1 - clip, 1 + clip) * A)),
    value_loss = mean((value - returns)^2), entropy = mean(-sum(pi log pi)),
    loss = policy_loss + vf_coef * value_loss - ent_coef * entropy; also approx_kl =
    mean((ratio - 1) - log ratio) and clip_fraction = mean(|ratio - 1| > clip).
    """
    num_actions = int(logits.shape[-1])
    logp_all = tf.nn.log_softmax(logits)
    logp = tf.reduce_sum(logp_all * tf.one_hot(actions, num_actions), axis=1)
    log_ratio = logp - old_logp
    ratio = tf.exp(log_ratio)
    surrogate = tf.minimum(ratio * advantages,
                           tf.clip_by_value(ratio, 1.0 - clip, 1.0 + clip) * advantages)
    policy_loss = -tf.reduce_mean(surrogate)
    value_loss = tf.reduce_mean(tf.square(value - returns))
    entropy = tf.reduce_mean(-tf.reduce_sum(tf.exp(logp_all) * logp_all, axis=1))
    loss = policy_loss + vf_coef * value_loss - ent_coef * entropy
    approx_kl = tf.reduce_mean((ratio - 1.0) - log_ratio)
    clip_fraction = tf.reduce_mean(tf.cast(tf.abs(ratio - 1.0) > clip, tf.float32))
    return {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss,
            "entropy": entropy, "approx_kl": approx_kl, "clip_fraction": clip_fraction}


# -- advantages ----------------------------------------------------------------------------
def gae(rewards: np.ndarray, values: np.ndarray, dones: np.ndarray, last_values: np.ndarray,
        gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """GAE(lambda) advantages and value targets of a time-major rollout.

    rewards, values, dones: [T, n] (dones[t] = the episode ended at step t, so nothing after
    it is bootstrapped); last_values: [n], V of the observation after step T-1. A time-limit
    truncation is handled by the sampler, which adds gamma * V(final obs) to that reward.
    delta_t = r_t + gamma V_{t+1} (1 - d_t) - V_t; A_t = delta_t + gamma lam (1 - d_t) A_{t+1}.
    Returns (advantages, returns = advantages + values), both float32 [T, n].
    """
    steps = rewards.shape[0]
    advantages = np.empty(rewards.shape, np.float32)
    not_done = 1.0 - dones.astype(np.float32)
    next_values = np.asarray(last_values, np.float32)
    running = np.zeros(rewards.shape[1:], np.float32)
    for t in range(steps - 1, -1, -1):
        delta = rewards[t] + gamma * next_values * not_done[t] - values[t]
        running = delta + (gamma * lam) * not_done[t] * running
        advantages[t] = running
        next_values = values[t]
    return advantages, advantages + values


# -- sampling ------------------------------------------------------------------------------
def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class RolloutSampler:
    """Steps a vector env with a policy; the same class runs in-process and in rollout actors.

    Args:
        venv: an `actorflow.envs` vector env (batch-first, autoreset in the same step).
        policy: ``policy(obs) -> (logits [n, A], values [n])`` (a `Session.make_callable`).
        steps: env steps per fragment and env.
        gamma: discount, for bootstrapping truncated episodes from V(final obs).
        seed: seeds the env reset and the action sampling.
        load_weights: ``load_weights({variable name: array})`` for a policy that is a copy
            (a rollout actor's executor); None where the policy reads the learner's variables.
    """

    def __init__(self, venv, policy, steps: int, gamma: float, seed: int | None = None,
                 load_weights=None):
        self.venv = venv
        self.policy = policy
        self.steps = steps
        self.gamma = np.float32(gamma)
        self.rng = np.random.default_rng(seed)
        self.obs = venv.reset(seed=seed)
        self.version = 0
        self._load_weights = load_weights

    def set_weights(self, weights: dict | None, version: int) -> None:
        """Loads `weights` (once per version) into a copied policy; records the version."""
        if version != self.version and weights is not None and self._load_weights is not None:
            self._load_weights(weights)
        self.version = version

    def sample(self) -> dict:
        """One fragment: {OBS [T,n,...], ACTIONS, REWARDS, TERMINATEDS, TRUNCATEDS,
        ACTION_LOGP, VF_PREDS [T,n]; BOOTSTRAP_VALUES [n]; EPISODE_RETURNS,
        EPISODE_LENGTHS [k]; "version"}. REWARDS of truncated steps include gamma*V(final)."""
        n, steps = self.venv.num_envs, self.steps
        obs_buf = np.empty((steps, n) + tuple(self.venv.obs_shape), np.float32)
        actions = np.empty((steps, n), np.int64)
        rewards = np.empty((steps, n), np.float32)
        terminated = np.empty((steps, n), bool)
        truncated = np.empty((steps, n), bool)
        logps = np.empty((steps, n), np.float32)
        values = np.empty((steps, n), np.float32)
        ep_returns, ep_lengths = [], []
        rows = np.arange(n)
        obs = self.obs
        for t in range(steps):
            obs_buf[t] = obs
            logits, values[t] = self.policy(obs_buf[t])
            logp_all = _log_softmax(logits)
            # Gumbel-max: argmax(log pi + Gumbel noise) is a sample of pi.
            action = np.argmax(logp_all - np.log(-np.log(self.rng.random(logp_all.shape))),
                               axis=1)
            actions[t], logps[t] = action, logp_all[rows, action]
            obs, rewards[t], terminated[t], truncated[t], info = self.venv.step(action)
            cut = truncated[t] & ~terminated[t]
            if cut.any():
                _, final_values = self.policy(info["final_obs"][cut].astype(np.float32))
                rewards[t, cut] += self.gamma * final_values
            if len(info["episode_returns"]):
                ep_returns.append(info["episode_returns"])
                ep_lengths.append(info["episode_lengths"])
        self.obs = obs
        _, last_values = self.policy(np.asarray(obs, np.float32))
        return {OBS: obs_buf, ACTIONS: actions, REWARDS: rewards, TERMINATEDS: terminated,
                TRUNCATEDS: truncated, ACTION_LOGP: logps, VF_PREDS: values,
                BOOTSTRAP_VALUES: np.asarray(last_values, np.float32),
                EPISODE_RETURNS: np.concatenate(ep_returns or [np.zeros(0, np.float32)]),
                EPISODE_LENGTHS: np.concatenate(ep_lengths or [np.zeros(0, np.int64)]),
                "version": self.version}

    def close(self) -> None:
        close = getattr(self.venv, "close", None)
        if close is not None:
            close()


def concat_fragments(fragments: list[dict]) -> dict:
    """Fragments of equal length from several samplers as one, along the env axis."""
    if len(fragments) == 1:
        return fragments[0]
    out = {}
    for key in fragments[0]:
        if key == "version":
            out[key] = min(f[key] for f in fragments)
        elif key in (EPISODE_RETURNS, EPISODE_LENGTHS, BOOTSTRAP_VALUES):
            out[key] = np.concatenate([f[key] for f in fragments])
        else:
            out[key] = np.concatenate([f[key] for f in fragments], axis=1)
    return out


class SpecSampler(RolloutSampler):
    """A `RolloutSampler` over its own CPU `GraphExecutor` of `PPO.policy_spec()`: what a
    rollout actor hosts (``as_actor(SpecSampler, spec, env_id, ...)``). ``set_weights``
    loads {variable name: array} into the executor once per version."""

    def __init__(self, spec: dict, env_id: str, num_envs: int, steps: int, gamma: float,
                 seed: int | None = None, **env_kwargs) -> None:
        from actorflow.actors.executor import GraphExecutor
        from actorflow.envs import make_vector

        self.executor = GraphExecutor(spec["graph_def"], device="/cpu:0")
        self.executor.set_weights(spec["weights"])
        policy = self.executor.session.make_callable([spec["logits"], spec["value"]],
                                                     [spec["obs"]])
        super().__init__(make_vector(env_id, num_envs, seed=seed, **env_kwargs), policy,
                         steps, gamma, seed,
                         load_weights=lambda w: self.executor.set_weights(w, copy=False))


# -- the agent -----------------------------------------------------------------------------
class PPO:
    """Proximal Policy Optimization on a discrete-action `actorflow.envs` vector env.

    ``PPO(config).train()`` trains and returns the result dict; ``evaluate()`` runs greedy
    (or sampled) episodes with the current weights.
    """

    name = "ppo"

    def __init__(self, config: PPOConfig = PPOConfig()) -> None:
        from actorflow.envs import make_vector

        self.config = c = config
        probe = make_vector(c.env_id, 1, seed=c.seed)
        if getattr(probe, "num_actions", None) is None:
            raise ValueError(f"PPO needs discrete actions; {c.env_id} has none")
        self.obs_shape = tuple(probe.obs_shape)
        self.num_actions = int(probe.num_actions)
        # uint8 images (GridWorld) are fed as floats 0..255 and scaled to 0..1 in the graph.
        self.obs_scale = 1.0 / 255 if np.dtype(probe.obs_dtype) == np.uint8 else 1.0
        probe.close()
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.set_random_seed(c.seed)
            self._build()
        self.sess = tf.Session(graph=self.graph)
        self.sess.run(self.init)
        self.policy_step = self.sess.make_callable([self.logits, self.value], [self.obs_ph])
        """``policy_step(obs) -> (logits [n, A], values [n])``: the call of every env step."""
        self._train_step = self.sess.make_callable(
            [self.train_op] + [self.losses[k] for k in METRICS],
            [self.obs_ph, self.actions_ph, self.old_logp_ph, self.advantages_ph,
             self.returns_ph, self.lr_ph, self.clip_ph])
        self.rng = np.random.default_rng([c.seed, 1])  # minibatch shuffles
        self.sampler = None
        self.env_steps = 0
        self.updates = 0

    # -- the network and the loss --------------------------------------------------------
    def _build(self) -> None:
        c = self.config
        self.obs_ph = tf.placeholder(tf.float32, (None,) + self.obs_shape, name="obs")
        flat = tf.reshape(self.obs_ph, [-1, int(np.prod(self.obs_shape))])
        if self.obs_scale != 1.0:
            flat = flat * self.obs_scale
        net = build_actor_critic(flat, self.num_actions, c.hidden, c.shared)
        self.logits, self.value = net["logits"], net["value"]
        self.actions_ph = tf.placeholder(tf.int64, [None], name="actions")
        self.old_logp_ph = tf.placeholder(tf.float32, [None], name="old_logp")
        self.advantages_ph = tf.placeholder(tf.float32, [None], name="advantages")
        self.returns_ph = tf.placeholder(tf.float32, [None], name="returns")
        self.lr_ph = tf.placeholder(tf.float32, [], name="learning_rate")
        self.clip_ph = tf.placeholder(tf.float32, [], name="clip_range")
        self.losses = ppo_loss(self.logits, self.value, self.actions_ph, self.old_logp_ph,
                               self.advantages_ph, self.returns_ph, self.clip_ph,
                               c.vf_coef, c.ent_coef)
        self.trainables = tf.trainable_variables()
        grads = tf.gradients(self.losses["loss"], self.trainables)
        if c.max_grad_norm > 0:
            grads, _ = tf.clip_by_global_norm(grads, c.max_grad_norm)
        optimizer = tf.train.AdamOptimizer(self.lr_ph, epsilon=1e-5)
        self.train_op = optimizer.apply_gradients(list(zip(grads, self.trainables)))
        self.init = tf.global_variables_initializer()
        self.saver = tf.train.Saver(max_to_keep=3)

    # -- weights and the rollout-worker hook ----------------------------------------------
    def get_weights(self) -> dict:
        """{variable name: array} of the actor-critic: what rollout workers receive."""
        values = self.sess.run(self.trainables)
        return {v.op.name: value for v, value in zip(self.trainables, values)}

    def policy_spec(self) -> dict:
        """What a rollout actor needs to run the policy on its CPU (`SpecSampler`):
        the graph as msgpack GraphDef bytes, the names of obs/logits/value, the weights."""
        from actorflow.actors.executor import graph_def_bytes
        return {"graph_def": graph_def_bytes(self.graph), "obs": self.obs_ph.name,
                "logits": self.logits.name, "value": self.value.name,
                "weights": self.get_weights()}

    def _make_sampler(self):
        """The source of fragments: ``sample()``, ``set_weights(weights, version)``,
        ``close()``. In-process for workers == 0; else rollout actors (see module doc)."""
        c = self.config
        if c.workers == 0:
            from actorflow.envs import make_vector
            venv = make_vector(c.env_id, c.num_envs, seed=c.seed)
            return RolloutSampler(venv, self.policy_step, c.rollout_steps, c.gamma,
                                  seed=c.seed)
        import ray

        from actorflow.actors.rollout import FragmentRollouts
        spec = ray.put(self.policy_spec())  # the graph travels once; restarts re-read it
        per = c.num_envs // c.workers
        return FragmentRollouts(SpecSampler, [(spec, c.env_id, per, c.rollout_steps, c.gamma,
                                               c.seed * 1000 + i) for i in range(c.workers)],
                                merge=concat_fragments)

    # -- one update ----------------------------------------------------------------------
    def _schedule(self) -> tuple[np.float32, np.float32]:
        """(lr, clip) now: decayed linearly to 0 over total_steps where configured."""
        c = self.config
        remaining = max(0.0, 1.0 - self.env_steps / c.total_steps)
        return (np.float32(c.lr * remaining if c.anneal_lr else c.lr),
                np.float32(c.clip * remaining if c.anneal_clip else c.clip))

    def update(self, fragment: dict) -> dict:
        """GAE over `fragment`, then `epochs` passes of shuffled minibatches; mean metrics."""
        c = self.config
        dones = fragment[TERMINATEDS] | fragment[TRUNCATEDS]
        advantages, returns = gae(fragment[REWARDS], fragment[VF_PREDS], dones,
                                  fragment[BOOTSTRAP_VALUES], c.gamma, c.gae_lambda)
        batch = advantages.size
        obs = fragment[OBS].reshape((batch,) + self.obs_shape)
        actions = fragment[ACTIONS].reshape(batch)
        old_logp = fragment[ACTION_LOGP].reshape(batch)
        advantages, returns = advantages.reshape(batch), returns.reshape(batch)
        lr, clip = self._schedule()
        sums, count = np.zeros(len(METRICS)), 0
        for _ in range(c.epochs):
            order = self.rng.permutation(batch)
            for start in range(0, batch, c.minibatch_size):
                idx = order[start:start + c.minibatch_size]
                adv = advantages[idx]
                if c.normalize_advantages:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                out = self._train_step(obs[idx], actions[idx], old_logp[idx], adv,
                                       returns[idx], lr, clip)
                sums += out[1:]
                count += 1
        self.updates += 1
        metrics = dict(zip(METRICS, (sums / count).tolist()))
        values = fragment[VF_PREDS].reshape(batch)
        metrics["explained_variance"] = float(
            1.0 - np.var(returns - values) / max(float(np.var(returns)), 1e-8))
        metrics.update(learning_rate=float(lr), clip_range=float(clip))
        return metrics

    # -- the run -------------------------------------------------------------------------
    def train(self, logdir: str | None = None, resume: bool = False,
              progress: bool = True) -> dict:
        """Trains for `total_steps` env steps (or until a periodic greedy evaluation reaches
        `target_return`).

        Returns:
            env_steps, episodes, updates, eval_return_mean (greedy, eval_episodes episodes),
            wall_s, steps_per_s, train_return_mean (last 100 training episodes), evals
            ([env_steps, mean] of the periodic evaluations), solved_at_steps.
        """
        c = self.config
        log = RunLogger(logdir, self.name, c, c.total_steps, quiet=not progress)
        ckpt = Checkpoint(logdir) if logdir else None
        self.sampler = self._make_sampler()
        if resume:
            self._resume(ckpt, log)
        evals: list[list] = []
        solved_at = None
        start_steps, t0 = self.env_steps, time.perf_counter()
        try:
            while self.env_steps + c.batch_size <= c.total_steps or self.updates == 0:
                fragment = self.sampler.sample()
                metrics = self.update(fragment)  # lr and clip as of the fragment's start
                self.env_steps += fragment[REWARDS].size
                log.episode(fragment[EPISODE_RETURNS], self.env_steps)
                self.sampler.set_weights(None if c.workers == 0 else self.get_weights(),
                                         self.updates)
                if c.eval_every and self.env_steps // c.eval_every > \
                        (self.env_steps - fragment[REWARDS].size) // c.eval_every:
                    score = self.evaluate(c.eval_episodes)["return_mean"]
                    evals.append([self.env_steps, score])
                    metrics["eval_return_mean"] = score
                    if c.target_return is not None and score >= c.target_return:
                        solved_at = self.env_steps
                log.log(self.env_steps, metrics)
                check_finite(self.env_steps, {k: metrics[k] for k in ("policy_loss",
                                                                       "value_loss")})
                if ckpt and self.updates % c.checkpoint_every == 0:
                    self._save(ckpt, log)
                if solved_at is not None:
                    break
        finally:
            self.sampler.close()
        if ckpt:
            self._save(ckpt, log)
        wall = time.perf_counter() - t0
        final = self.evaluate(c.eval_episodes)
        recent = log.returns[-100:]
        return log.close({
            "agent": self.name, "env": c.env_id, "seed": c.seed, "workers": c.workers,
            "env_steps": self.env_steps, "episodes": log.episodes, "updates": self.updates,
            "eval_return_mean": final["return_mean"], "eval_return_std": final["return_std"],
            "wall_s": round(wall, 2),
            "steps_per_s": round((self.env_steps - start_steps) / max(wall, 1e-9), 1),
            "train_return_mean": float(np.mean(recent)) if recent else None,
            "evals": evals, "solved_at_steps": solved_at})

    def evaluate(self, episodes: int = 20, greedy: bool = True, seed: int | None = None) -> dict:
        """One episode in each of `episodes` parallel envs with argmax actions (greedy) or
        sampled ones: return_mean, return_std, returns. The envs are seeded with `seed`
        (default: the config's seed + 10000, apart from training)."""
        from actorflow.envs import make_vector
        if episodes < 1:
            raise ValueError(f"evaluate: episodes must be >= 1, got {episodes}")
        seed = self.config.seed + 10_000 if seed is None else seed
        env = make_vector(self.config.env_id, episodes, seed=seed)
        rng = np.random.default_rng(seed)
        obs = env.reset(seed=seed)
        totals = np.zeros(episodes)
        running = np.ones(episodes, bool)
        while running.any():
            logits, _ = self.policy_step(np.asarray(obs, np.float32))
            if not greedy:  # Gumbel-max sampling
                logits = logits - np.log(-np.log(rng.random(logits.shape)))
            obs, rewards, terminated, truncated, _ = env.step(np.argmax(logits, axis=1))
            totals += rewards * running
            running &= ~(terminated | truncated)
        env.close()
        return {"return_mean": float(totals.mean()), "return_std": float(totals.std()),
                "episodes": episodes, "returns": totals.tolist()}

    # -- checkpoints ---------------------------------------------------------------------
    def _save(self, ckpt: Checkpoint, log: RunLogger) -> None:
        state = {"agent": self.name, "env_steps": self.env_steps, "updates": self.updates,
                 "returns": log.returns, "return_steps": log.return_steps,
                 "rng": self.rng.bit_generator.state,
                 "config": dataclasses.asdict(self.config)}
        if isinstance(self.sampler, RolloutSampler):
            state["sampler_rng"] = self.sampler.rng.bit_generator.state
        ckpt.save(self.sess, self.saver, self.env_steps, state)

    def _resume(self, ckpt: Checkpoint | None, log: RunLogger) -> None:
        """Restores variables (Adam's slots included), step and update counts, returns and
        RNG states. The envs restart from fresh episodes (their state is not saved)."""
        state = ckpt.restore(self.sess, self.saver, self.name) if ckpt else None
        if state is None:
            log.resume(0, [], [])  # starting afresh: the old run's metrics rows go
            return
        self.env_steps, self.updates = int(state["env_steps"]), int(state["updates"])
        self.rng.bit_generator.state = state["rng"]
        if "sampler_rng" in state and isinstance(self.sampler, RolloutSampler):
            self.sampler.rng.bit_generator.state = state["sampler_rng"]
            self.sampler.obs = self.sampler.venv.reset(seed=self.config.seed + self.updates)
            self.sampler.version = self.updates
        log.resume(self.env_steps, state["returns"], state["return_steps"])

    def close(self) -> None:
        self.sess.close()
