"""Rollout workers: vector environments plus a CPU copy of the policy, as Ray actors.

A `RolloutWorker` holds a vector env, made in the actor by a factory the agent passes in
(``functools.partial(actorflow.envs.make_vector, env_id, **env_kwargs)``: envs sit above
the actors, so this module never imports them), and a `GraphExecutor` of the agent's graph,
and acts with a policy read from one tensor:

- ``("bernoulli", "probability:0")``: P(action 1) per row (the book's policy network);
- ``("categorical", "probs:0")``: a row of action probabilities;
- ``("epsilon_greedy", "q_values:0")``: argmax of Q, or a random action with probability ε.

Weights arrive once per version: the learner `ray.put`s them and every worker reads the same
object (zero-copy). Calls carry whole episodes or fragments of many steps, never one step.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .executor import GraphExecutor, graph_def_bytes

__all__ = ["RolloutWorker", "EpisodeRollouts", "FragmentRollouts", "TransitionRollouts",
           "RolloutActorError", "call_all", "complete_episodes", "policy_variables",
           "transition_fragment"]


#: ``make_env(num_envs, seed=seed)`` -> a vector env (`actorflow.envs.make_vector`'s API).
EnvFactory = Callable[..., Any]


class RolloutWorker:
    """Acts in `num_envs` lanes of the vector env `make_env` builds, with the policy of a graph.

    Args:
        graph_def: the agent's graph (bytes, GraphDef or Graph).
        obs_input: the observation placeholder's name ("input_x:0").
        policy: (kind, tensor name), kinds as in the module docstring.
        make_env: ``make_env(num_envs, seed=seed)`` -> the vector env (picklable: it travels
            to the actor).
        num_envs, seed: the vector env's lanes and seed.
    """

    def __init__(self, graph_def, obs_input: str, policy: tuple, make_env: EnvFactory,
                 num_envs: int, seed: int = 0) -> None:
        self.executor = GraphExecutor(graph_def)
        self.obs_input = obs_input
        shape = self.executor.graph.get_tensor_by_name(obs_input)._shape
        self._flatten = shape is not None and len(shape) == 2  # a flat input: flatten obs
        self.kind, self.fetch = policy
        if self.kind not in ("bernoulli", "categorical", "epsilon_greedy"):
            raise ValueError(f"unknown policy kind {self.kind!r}")
        self.env = make_env(num_envs, seed=seed)
        self.rng = np.random.default_rng([seed, 7])
        self.version = -1

    def set_weights(self, version: int, weights: dict) -> None:
        if version != self.version:
            self.executor.set_weights(weights, copy=False)  # read only: acting never writes
            self.version = version

    def act(self, obs: np.ndarray, epsilon: float = 0.0) -> np.ndarray:
        feed = obs.reshape(len(obs), -1) if self._flatten else obs
        out = self.executor.run(self.fetch, {self.obs_input: feed})
        if self.kind == "bernoulli":
            return (self.rng.random(len(out)) < out).astype(np.int64)
        if self.kind == "categorical":
            cum = np.cumsum(out, axis=1)
            u = self.rng.random((len(out), 1)) * cum[:, -1:]
            return (u > cum).sum(axis=1).astype(np.int64)
        greedy = out.argmax(axis=1)
        explore = self.rng.random(len(out)) < epsilon
        return np.where(explore, self.rng.integers(0, out.shape[1], len(out)), greedy)

    def sample(self, version: int, weights: dict | None, n_steps: int,
               epsilon: float = 0.0, into=None, env_id_offset: int = 0) -> dict:
        """A fragment of `n_steps` steps of every env lane, continuing where the last call
        stopped: columns OBS, ACTIONS, REWARDS, NEXT_OBS (the true next observation, also at
        episode ends), TERMINATEDS, TRUNCATEDS, ENV_IDS, each [n_steps * num_envs, ...] in
        time-major order, plus "episode_returns" and "episode_lengths" of the episodes that
        ended. With `into` (a replay handle) the rows go there (ENV_IDS shifted by
        `env_id_offset`) and only their count comes back, as "rows"."""
        from .columns import ENV_IDS, REWARDS
        if weights is not None:
            self.set_weights(version, weights)
        if getattr(self, "_obs", None) is None:
            self._obs = self.env.reset(seed=int(self.rng.integers(2**31)))
        rows, self._obs, returns, lengths = transition_fragment(
            self.env, self._obs, n_steps, lambda obs, t: self.act(obs, epsilon))
        rows[ENV_IDS] = rows[ENV_IDS] + env_id_offset
        episodes = {"episode_returns": returns, "episode_lengths": lengths}
        if into is not None:
            into.add_batch(rows)
            return {"rows": len(rows[REWARDS]), **episodes}
        return {**rows, **episodes}

    def episodes(self, version: int, weights: dict, seed: int) -> list[dict]:
        """One complete episode per env lane: [{"obs", "actions", "rewards"}]."""
        self.set_weights(version, weights)
        return complete_episodes(self.env, self.act, seed)


def transition_fragment(env, obs: np.ndarray, n_steps: int, choose):
    """Steps vector env `env` `n_steps` times from observations `obs`, acting with
    ``choose(obs, t) -> actions``.

    Returns:
        (rows, last obs, episode returns, episode lengths): rows are the columns OBS,
        ACTIONS, REWARDS, NEXT_OBS (the true next observation, also at episode ends),
        TERMINATEDS, TRUNCATEDS and ENV_IDS, [n_steps * num_envs, ...] in time-major order.
    """
    from .columns import ACTIONS, ENV_IDS, NEXT_OBS, OBS, REWARDS, TERMINATEDS, TRUNCATEDS
    n = env.num_envs
    obs_buf = np.empty((n_steps, n, *env.obs_shape), env.obs_dtype)
    next_buf = np.empty_like(obs_buf)
    act_buf = np.empty((n_steps, n), np.int64)
    rew_buf = np.empty((n_steps, n), np.float32)
    term_buf = np.empty((n_steps, n), bool)
    trunc_buf = np.empty((n_steps, n), bool)
    returns, lengths = [], []
    for t in range(n_steps):
        actions = choose(obs, t)
        next_obs, rewards, terminated, truncated, info = env.step(actions)
        obs_buf[t], act_buf[t], rew_buf[t] = obs, actions, rewards
        term_buf[t], trunc_buf[t] = terminated, truncated
        next_buf[t] = info["final_obs"]
        returns.extend(info["episode_returns"])
        lengths.extend(info["episode_lengths"])
        obs = next_obs
    flat = (n_steps * n,)
    rows = {OBS: obs_buf.reshape(flat + env.obs_shape), ACTIONS: act_buf.reshape(flat),
            REWARDS: rew_buf.reshape(flat), NEXT_OBS: next_buf.reshape(flat + env.obs_shape),
            TERMINATEDS: term_buf.reshape(flat), TRUNCATEDS: trunc_buf.reshape(flat),
            ENV_IDS: np.tile(np.arange(n), n_steps)}
    return rows, obs, np.asarray(returns, np.float64), np.asarray(lengths, np.int64)


class RolloutActorError(RuntimeError):
    """A rollout actor failed in a way no restart cures: its constructor raised (e.g. it
    could not import actorflow), or it died with no restarts left."""


def call_all(actors, submit) -> tuple[list, int]:
    """``submit(actor)`` on every actor at once, then their results in order. An actor that
    died is asked again once Ray has restarted it (it receives its inputs anew). Returns
    (results, restarts).

    Raises:
        RolloutActorError: an actor's constructor failed, or it is dead for good.
        Exception: what an actor's method raised, as it raised it (e.g. the replay actor's
            death while the rollout actor added rows to it): a live actor is not asked again.
    """
    from ._remote import actor_restarting, get, get_retrying, require_ray
    ray = require_ray()
    refs = [submit(a) for a in actors]
    out, restarts = [], 0
    for i, (actor, ref) in enumerate(zip(actors, refs)):
        try:
            try:
                out.append(get(ref))
            except ray.exceptions.RayActorError as e:
                if not actor_restarting(e):
                    raise
                restarts += 1
                out.append(get_retrying(lambda a=actor: submit(a)))
        except ray.exceptions.RayActorError as e:
            if isinstance(e, ray.exceptions.RayTaskError):
                raise  # the actor is alive; its method failed on something else
            what = "could not start" if e.actor_init_failed else "died and was not restarted"
            raise RolloutActorError(f"rollout actor {i} of {len(actors)} {what}: "
                                    f"{_last_line(str(e))}") from e
    return out, restarts


def _last_line(text: str) -> str:
    """The last non-blank line of a (remote) traceback: the exception itself."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else text


def complete_episodes(env, act, seed: int) -> list[dict]:
    """Runs every lane of vector env `env` for exactly one episode, choosing actions with
    ``act(obs) -> actions``; returns [{"obs" (flattened), "actions", "rewards"}] per lane."""
    n = env.num_envs
    obs = env.reset(seed=seed)
    lanes = [{"obs": [], "actions": [], "rewards": []} for _ in range(n)]
    running = np.ones(n, bool)
    while running.any():
        actions = act(obs)
        next_obs, rewards, terminated, truncated, _ = env.step(actions)
        for i in np.flatnonzero(running):
            lanes[i]["obs"].append(obs[i].reshape(-1))
            lanes[i]["actions"].append(actions[i])
            lanes[i]["rewards"].append(rewards[i])
        running &= ~(terminated | truncated)
        obs = next_obs
    return [{k: np.asarray(v) for k, v in lane.items()} for lane in lanes]


class EpisodeRollouts:
    """`workers` RolloutWorker actors sharing one agent's batch of episodes.

    The agent (e.g. `PolicyGradient`) provides `graph`, `sess`, `observations`,
    `probability`, `config` (batch_episodes, seed) and `rng`; `make_env` as for
    `RolloutWorker`.
    """

    def __init__(self, agent, workers: int, make_env: EnvFactory) -> None:
        from ._remote import as_actor
        c = agent.config
        per = [c.batch_episodes // workers + (i < c.batch_episodes % workers)
               for i in range(workers)]
        gd = graph_def_bytes(agent.graph)
        self._agent = agent
        self._names = policy_variables(agent.graph, agent.probability.name,
                                       agent.observations.name)
        self.actors = [as_actor(RolloutWorker, gd, agent.observations.name,
                                ("bernoulli", agent.probability.name), make_env, n,
                                seed=c.seed * 1000 + i, options={"num_cpus": 0.5,
                                                                 "max_restarts": 3})
                       for i, n in enumerate(per) if n > 0]
        self.version = 0
        self.restarts = 0

    def collect(self, agent) -> list[dict]:
        """Every worker's episodes with the agent's current weights (put once)."""
        import ray
        self.version += 1
        weights = ray.put({n: agent.sess.run(f"{n}:0") for n in self._names})
        seeds = iter(agent.rng.integers(2**31, size=len(self.actors)).tolist())
        calls = {id(a): next(seeds) for a in self.actors}
        parts, restarts = call_all(self.actors, lambda a: a.episodes.remote(
            self.version, weights, calls[id(a)]))
        self.restarts += restarts
        return [ep for part in parts for ep in part]

    def close(self) -> None:
        import ray
        for a in self.actors:
            ray.kill(a)


class FragmentRollouts:
    """Rollout actors that each host a sampler (``sample()``, ``set_weights(weights,
    version)``) and whose fragments are merged for the learner.

    Weights go into the object store once per version; the current version's reference is
    sent with every `sample`, so an actor that Ray restarted after a failure catches up before
    it samples (its `set_weights` ignores a version it already has).

    Args:
        sampler_cls: the class each actor hosts (e.g. PPO's `SpecSampler`).
        worker_args: one tuple of constructor arguments per actor.
        merge: joins the list of fragments (default: the list itself).
        options: Ray actor options (default: half a CPU, 3 restarts).
    """

    def __init__(self, sampler_cls, worker_args: list, merge=None, options=None) -> None:
        from ._remote import as_actor
        opts = {"num_cpus": 0.5, "max_restarts": 3, **(options or {})}
        self.actors = [as_actor(sampler_cls, *args, options=opts) for args in worker_args]
        self._merge = merge or (lambda parts: parts)
        self._weights = (None, -1)
        self.restarts = 0

    def set_weights(self, weights: dict, version: int) -> None:
        import ray
        if version != self._weights[1]:
            self._weights = (ray.put(weights), version)

    def sample(self):
        """Every actor's next fragment, merged."""
        ref, version = self._weights

        def submit(actor):
            if ref is not None:
                actor.set_weights.remote(ref, version)  # ordered before the sample
            return actor.sample.remote()

        parts, restarts = call_all(self.actors, submit)
        self.restarts += restarts
        return self._merge(parts)

    def close(self) -> None:
        import ray
        for a in self.actors:
            ray.kill(a)


def policy_variables(graph, fetch: str, obs_input: str) -> list[str]:
    """Names of the variables that `fetch` reads when `obs_input` is fed: the weights a
    rollout actor needs (not a target network's or the optimizer's)."""
    from actorflow.session.prune import prune
    t = graph.get_tensor_by_name(fetch)
    ops = prune([t.op], {graph.get_tensor_by_name(obs_input)})
    return [op.name for op in ops if op.type == "VariableV2"]


class TransitionRollouts:
    """`workers` RolloutWorker actors stepping ε-greedily on a Q network: the experience
    source of a replay-based agent (DQN). Each actor has `num_envs / workers` lanes; its
    rows come back with ENV_IDS offset per actor, so n-step lanes stay apart, and all of
    them go into the learner's one replay buffer.

    Args:
        graph: the agent's graph; `fetch` its Q values, `obs_input` its observation input.
        make_env: as for `RolloutWorker`; `num_envs` lanes in all, split over the actors.
        weights: ``weights() -> (version, {name: array})`` of the acting network; a new version
            goes into the object store once and every actor reads it.
        replay: a `ShardedReplay` handle: the actors add their rows into it themselves
            (Ape-X) and `sample` returns no rows, only `rows_added`.
    """

    def __init__(self, graph, obs_input: str, fetch: str, make_env: EnvFactory, num_envs: int,
                 workers: int, seed: int, weights, replay=None) -> None:
        from ._remote import as_actor
        gd = graph_def_bytes(graph)
        self.replay = replay
        self.rows_added = 0
        self.lanes = max(1, num_envs // workers)
        self._weights = weights
        self._shared = (-1, None)
        self.actors = [as_actor(RolloutWorker, gd, obs_input, ("epsilon_greedy", fetch),
                                make_env, self.lanes, seed * 1000 + i,
                                options={"num_cpus": 0.5, "max_restarts": 3})
                       for i in range(workers)]
        self.restarts = 0

    def sample(self, num_steps: int, epsilon, step: int):
        """`num_steps` vector steps of every actor with ε = epsilon(step).

        Returns:
            (rows for ReplayBuffer.add_batch, episode_returns, episode_lengths).
        """
        import ray
        version, weights = self._weights()
        if version != self._shared[0]:
            self._shared = (version, ray.put(weights))
        ref, eps = self._shared[1], float(epsilon(step))

        def submit(actor):
            offset = self.actors.index(actor) * self.lanes
            return actor.sample.remote(version, ref, num_steps, eps, self.replay, offset)

        parts, restarts = call_all(self.actors, submit)
        self.restarts += restarts
        if self.replay is not None:
            self.rows_added = sum(int(p["rows"]) for p in parts)
            return (None, np.concatenate([p["episode_returns"] for p in parts]),
                    np.concatenate([p["episode_lengths"] for p in parts]))
        returns = np.concatenate([p.pop("episode_returns") for p in parts])
        lengths = np.concatenate([p.pop("episode_lengths") for p in parts])
        rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        return rows, returns, lengths

    def close(self) -> None:
        import ray
        for a in self.actors:
            ray.kill(a)
