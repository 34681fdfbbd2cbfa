"""Experience replay: a columnar ring buffer (uniform or prioritized, n-step) and its actors.

`ReplayBuffer` is a plain class (tests and single-process agents use it directly; it is not
thread-safe, an actor serves one call at a time). `ShardedReplay` is the handle over K
replay actors; with K = 1 it is simply "the replay actor". The hot calls are ``add_batch``
and ``sample``; both move whole batches (dicts of NumPy arrays keyed by
``actorflow.actors.columns``), never single transitions.

Storage: one preallocated array per column (``OBS, ACTIONS, REWARDS, NEXT_OBS, TERMINATEDS,
TRUNCATEDS, GAMMAS``), ``[capacity, ...]``; ``add_batch`` writes at most two slices
(wrap-around) and overwrites the oldest rows once full.

Prioritized replay (Schaul et al. 2016): slot i is drawn with P(i) = p_i^α / Σ_j p_j^α,
where p_i = |priority_i| + eps, from a sum tree held in one NumPy array (a min tree beside
it); the batch descends the tree together, one vectorised step per level. New rows get the
largest priority seen so far. Importance weights are w_i = (N·P(i))^-β / max_j (N·P(j))^-β
= (p_i^α / min_j p_j^α)^-β, normalised over the whole buffer (all shards for
`ShardedReplay`), so they lie in (0, 1].

n-step returns: a stored transition at time t carries R = Σ_{k<m} γ^k r_{t+k}, the
``NEXT_OBS``/``TERMINATEDS``/``TRUNCATEDS`` of step t+m-1 and ``GAMMAS`` = γ^m, where
m = n, or fewer when the episode ends (terminated or truncated) inside the window; the
target is ``R + GAMMAS * (1 - TERMINATEDS) * V(NEXT_OBS)``. Rows given to ``add_batch`` must
be in time order per environment lane: a vector env passes an ``ENV_IDS`` column (the lane
of each row, e.g. ``np.arange(num_envs)`` for one step of every env, or rows time-major over
several steps); without it all rows form lane 0. Each lane keeps its last (n-1) rows pending
until their window is complete, so a row is stored once its next n-1 steps (or its episode
end) have arrived; pending rows are part of ``state_dict``.
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable, Mapping

import numpy as np

from actorflow import errors

from ._remote import as_actor, get, pack, unpack
from .columns import (ACTIONS, ENV_IDS, GAMMAS, INDICES, NEXT_OBS, OBS, REWARDS, TERMINATEDS,
                      TRANSITION_COLUMNS, TRUNCATEDS, WEIGHTS)

__all__ = ["ReplayBuffer", "ShardedReplay", "ReplayActorDiedError", "ShardRestarted"]

_STORED = TRANSITION_COLUMNS + (GAMMAS,)


class _SumMinTree:
    """Sum and min segment trees over `capacity` leaves, in two flat arrays (node 1 is the
    root, node k has children 2k and 2k+1, leaves start at `self.leaf0`)."""

    def __init__(self, capacity: int) -> None:
        self.depth = max(0, math.ceil(math.log2(capacity)))
        self.leaf0 = 1 << self.depth
        self.sum = np.zeros(2 * self.leaf0, np.float64)
        self.min = np.full(2 * self.leaf0, np.inf, np.float64)

    def update(self, slots: np.ndarray, values: np.ndarray) -> None:
        """Sets leaves `slots` to `values` and recomputes their ancestors, level by level
        (a node listed twice is recomputed twice to the same value: no dedup needed)."""
        node = slots + self.leaf0
        self.sum[node] = values
        self.min[node] = values
        for _ in range(self.depth):
            node >>= 1
            left, right = 2 * node, 2 * node + 1
            self.sum[node] = self.sum[left] + self.sum[right]
            self.min[node] = np.minimum(self.min[left], self.min[right])

    def total(self) -> float:
        return float(self.sum[1])

    def min_value(self) -> float:
        return float(self.min[1])

    def leaves(self, slots: np.ndarray) -> np.ndarray:
        return self.sum[slots + self.leaf0]

    def find(self, mass: np.ndarray) -> np.ndarray:
        """Slots whose prefix-sum interval holds each of `mass` (all in [0, total))."""
        node = np.ones(len(mass), np.int64)
        mass = mass.copy()
        for _ in range(self.depth):
            left = self.sum[2 * node]
            go_right = mass >= left
            mass -= left * go_right
            node = 2 * node + go_right
        return node - self.leaf0


class ReplayBuffer:
    """Ring buffer of transitions with uniform or prioritized sampling and n-step returns.

    Args:
        capacity: rows kept; the oldest are overwritten.
        obs_shape, obs_dtype: one observation (``OBS`` and ``NEXT_OBS``).
        action_shape, action_dtype: one action.
        prioritized: proportional prioritized sampling (else uniform).
        alpha: priority exponent (0: uniform). beta: default importance exponent of `sample`.
        eps: added to |priority| so that no row gets probability 0.
        n_step, gamma: n-step returns (n_step 1: plain transitions with GAMMAS = gamma).
        seed: seed of the sampling generator.
    """

    def __init__(self, capacity: int, obs_shape, obs_dtype=np.float32, action_shape=(),
                 action_dtype=np.int64, prioritized: bool = False, alpha: float = 0.6,
                 beta: float = 0.4, eps: float = 1e-6, n_step: int = 1, gamma: float = 0.99,
                 seed: int | None = None) -> None:
        if int(capacity) <= 0:
            raise ValueError(f"replay capacity must be positive, got {capacity}")
        if int(n_step) < 1:
            raise ValueError(f"n_step must be >= 1, got {n_step}")
        self.capacity = int(capacity)
        self.obs_shape = tuple(int(d) for d in obs_shape)
        self.action_shape = tuple(int(d) for d in action_shape)
        self.prioritized = bool(prioritized)
        self.alpha, self.beta, self.eps = float(alpha), float(beta), float(eps)
        self.n_step, self.gamma = int(n_step), float(gamma)
        c = self.capacity
        self._data = {
            OBS: np.zeros((c, *self.obs_shape), obs_dtype),
            ACTIONS: np.zeros((c, *self.action_shape), action_dtype),
            REWARDS: np.zeros(c, np.float32),
            NEXT_OBS: np.zeros((c, *self.obs_shape), obs_dtype),
            TERMINATEDS: np.zeros(c, bool),
            TRUNCATEDS: np.zeros(c, bool),
            GAMMAS: np.zeros(c, np.float32),
        }
        self._ptr = 0
        self._size = 0
        self._rng = np.random.default_rng(seed)
        self._tree = _SumMinTree(c) if self.prioritized else None
        self._max_priority = 1.0
        self._pending: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return self._size

    # ----- adding -------------------------------------------------------------------------
    def add_batch(self, batch: Mapping[str, np.ndarray]) -> int:
        """Adds 1-step transitions (a dict of arrays with the ``TRANSITION_COLUMNS``, optional
        ``ENV_IDS``); returns the number of rows stored (n-step: rows whose window closed).

        Raises:
            ValueError: a missing or unknown column, mismatched lengths or shapes.
        """
        count = self._check_batch(batch)
        if count == 0:
            return 0
        if self.n_step == 1:
            rows = {k: batch[k] for k in TRANSITION_COLUMNS}
            rows[GAMMAS] = np.full(count, self.gamma, np.float32)
        else:
            rows = self._n_step_rows(batch)
        return self._write(rows)

    def _check_batch(self, batch: Mapping[str, np.ndarray]) -> int:
        missing = [k for k in TRANSITION_COLUMNS if k not in batch]
        unknown = [k for k in batch if k not in TRANSITION_COLUMNS and k != ENV_IDS]
        if missing or unknown:
            raise ValueError(f"replay add_batch: missing columns {missing}, unknown {unknown}")
        lengths = {k: len(batch[k]) for k in batch}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"replay add_batch: columns disagree on the count: {lengths}")
        for key, shape in ((OBS, self.obs_shape), (NEXT_OBS, self.obs_shape),
                           (ACTIONS, self.action_shape)):
            if np.shape(batch[key])[1:] != shape:
                raise ValueError(f"replay add_batch: {key} rows have shape "
                                 f"{np.shape(batch[key])[1:]}, expected {shape}")
        return lengths[REWARDS]

    def _write(self, rows: Mapping[str, np.ndarray]) -> int:
        """Writes rows at the ring pointer (at most two slices per column)."""
        k = len(rows[REWARDS])
        skip = max(0, k - self.capacity)  # only the newest `capacity` rows survive
        n = k - skip
        if n == 0:
            return 0
        start = (self._ptr + skip) % self.capacity
        first = min(n, self.capacity - start)
        for key, col in self._data.items():
            src = rows[key]
            col[start:start + first] = src[skip:skip + first]
            if first < n:
                col[:n - first] = src[skip + first:]
        if self._tree is not None:
            slots = (start + np.arange(n)) % self.capacity
            self._tree.update(slots, np.full(n, self._max_priority ** self.alpha))
        self._ptr = (start + n) % self.capacity
        self._size = min(self._size + n, self.capacity)
        return n

    def _n_step_rows(self, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Closes the n-step windows the new rows complete; keeps the open ones pending."""
        count = len(batch[REWARDS])
        rows = {k: np.asarray(batch[k]) for k in TRANSITION_COLUMNS}
        rows[TERMINATEDS] = rows[TERMINATEDS].astype(bool, copy=False)
        rows[TRUNCATEDS] = rows[TRUNCATEDS].astype(bool, copy=False)
        rows[ENV_IDS] = np.asarray(batch.get(ENV_IDS, np.zeros(count, np.int64)), np.int64)
        if self._pending is not None:
            rows = {k: np.concatenate([self._pending[k], rows[k]]) for k in rows}
        order = np.argsort(rows[ENV_IDS], kind="stable")  # lanes together, time order kept
        lane = rows[ENV_IDS][order]
        reward = rows[REWARDS][order].astype(np.float64)
        done = (rows[TERMINATEDS] | rows[TRUNCATEDS])[order]
        total = len(order)
        pos = np.arange(total)
        ret = np.zeros(total)
        steps = np.zeros(total, np.int64)
        last = pos.copy()
        alive = np.ones(total, bool)
        ended = np.zeros(total, bool)
        for k in range(self.n_step):  # n is small: one vectorised pass per step
            j = np.minimum(pos + k, total - 1)
            valid = alive & (pos + k < total) & (lane[j] == lane)
            ret += np.where(valid, self.gamma ** k * reward[j], 0.0)
            steps += valid
            last = np.where(valid, j, last)
            ended |= valid & done[j]
            alive = valid & ~done[j]
        complete = ended | (steps == self.n_step)
        src, dst = order[complete], order[last[complete]]
        self._pending = {k: v[order[~complete]] for k, v in rows.items()} \
            if not complete.all() else None
        return {
            OBS: rows[OBS][src], ACTIONS: rows[ACTIONS][src],
            REWARDS: ret[complete].astype(np.float32),
            NEXT_OBS: rows[NEXT_OBS][dst], TERMINATEDS: rows[TERMINATEDS][dst],
            TRUNCATEDS: rows[TRUNCATEDS][dst],
            GAMMAS: (self.gamma ** steps[complete]).astype(np.float32),
        }

    # ----- sampling -----------------------------------------------------------------------
    def sample(self, batch_size: int, beta: float | None = None,
               global_min: float | None = None) -> dict[str, np.ndarray]:
        """A batch of `batch_size` rows drawn with replacement, plus ``WEIGHTS`` (importance
        weights; ones when uniform) and ``INDICES`` (slots, for `update_priorities`).

        Args:
            beta: importance exponent (default: the constructor's).
            global_min: smallest p^α over all shards, to normalise the weights globally
                (`ShardedReplay` passes it); default this buffer's own.

        Raises:
            FailedPreconditionError: the buffer is empty.
        """
        if self._size == 0:
            raise errors.FailedPreconditionError(
                None, None, f"sample({batch_size}) from an empty replay buffer")
        if self._tree is None:
            idx = self._rng.integers(0, self._size, int(batch_size))
            weights = np.ones(len(idx), np.float32)
        else:
            mass = self._rng.random(int(batch_size)) * self._tree.total()
            idx = np.minimum(self._tree.find(mass), self._size - 1)
            floor = self._tree.min_value() if global_min is None else global_min
            b = self.beta if beta is None else float(beta)
            weights = ((self._tree.leaves(idx) / floor) ** -b).astype(np.float32)
        out = {k: col[idx] for k, col in self._data.items()}
        out[WEIGHTS] = weights
        out[INDICES] = idx.astype(np.int64)
        return out

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Sets the priorities of sampled rows (e.g. |TD error|); p = |priority| + eps.

        Raises:
            ValueError: the buffer is not prioritized, or an index outside the stored rows.
        """
        if self._tree is None:
            raise ValueError("update_priorities on a replay buffer built with "
                             "prioritized=False")
        idx = np.asarray(indices, np.int64)
        p = np.abs(np.asarray(priorities, np.float64)) + self.eps
        if idx.shape != p.shape:
            raise ValueError(f"update_priorities: {idx.shape} indices, {p.shape} priorities")
        if len(idx) == 0:
            return
        if idx.min() < 0 or idx.max() >= self._size:
            raise ValueError(f"update_priorities: indices must be in [0, {self._size})")
        self._max_priority = max(self._max_priority, float(p.max()))
        self._tree.update(idx, p ** self.alpha)

    def stats(self) -> tuple[int, float, float]:
        """(rows stored, sampling mass, smallest p^α): how `ShardedReplay` splits a batch.
        Uniform: the mass is the row count and the minimum 1."""
        if self._tree is None:
            return self._size, float(self._size), 1.0
        return self._size, self._tree.total(), self._tree.min_value()

    # ----- checkpoints --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Stored rows, priorities, pending n-step rows and generator state (msgpack-ready:
        arrays, numbers, strings)."""
        s = self._size
        state = {
            "config": self._config(),
            "ptr": self._ptr, "size": s,
            "columns": {k: col[:s].copy() for k, col in self._data.items()},
            "max_priority": self._max_priority,
            "rng": json.dumps(self._rng.bit_generator.state),
            "pending": None if self._pending is None else
            {k: v.copy() for k, v in self._pending.items()},
        }
        if self._tree is not None:
            state["priorities"] = self._tree.leaves(np.arange(s)).copy()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores `state_dict()` output from a buffer of the same configuration.

        Raises:
            ValueError: the state comes from a buffer of another configuration, or its
                size, pointer or columns disagree with it (checked before anything changes).
        """
        if dict(state["config"]) != self._config():
            raise ValueError(f"replay state of config {dict(state['config'])} does not fit "
                             f"this buffer's {self._config()}")
        s, ptr = int(state["size"]), int(state["ptr"])
        if not (0 <= s <= self.capacity and 0 <= ptr < self.capacity):
            raise ValueError(f"replay state of size {s} and pointer {ptr} does not fit "
                             f"capacity {self.capacity}")
        for k, col in self._data.items():  # a state read from a file: no broadcasting
            got = state["columns"].get(k)
            want = (s,) + col.shape[1:]
            if not isinstance(got, np.ndarray) or got.shape != want or got.dtype != col.dtype:
                raise ValueError(f"replay state column {k!r} is not a {col.dtype} array of "
                                 f"shape {want}: got {getattr(got, 'dtype', type(got))} "
                                 f"{getattr(got, 'shape', '')}")
        for k, col in self._data.items():
            col[:s] = state["columns"][k]
        self._ptr, self._size = ptr, s
        self._max_priority = float(state["max_priority"])
        self._rng.bit_generator.state = json.loads(state["rng"])
        pending = state["pending"]
        self._pending = None if pending is None else {k: np.array(v) for k, v in
                                                      pending.items()}
        if self._tree is not None:
            self._tree = _SumMinTree(self.capacity)
            self._tree.update(np.arange(s), np.asarray(state["priorities"], np.float64))

    def _config(self) -> dict[str, Any]:
        return {"capacity": self.capacity, "obs_shape": list(self.obs_shape),
                "obs_dtype": str(self._data[OBS].dtype), "action_shape": list(self.action_shape),
                "action_dtype": str(self._data[ACTIONS].dtype), "prioritized": self.prioritized,
                "alpha": self.alpha, "n_step": self.n_step, "gamma": self.gamma}


class ReplayActorDiedError(RuntimeError):
    """A replay shard actor died and Ray did not bring it back (no restarts left, or none
    within the wait): its rows are gone."""


class ShardRestarted(RuntimeError):
    """Raised by a replay shard that Ray restarted (empty) until its owner restores it:
    `ShardedReplay` catches it, restores the shard and makes the call again."""


def _restarted_by_ray() -> bool:
    """Whether this process is a Ray actor that Ray restarted (False outside an actor)."""
    try:
        import ray
        if not ray.is_initialized():
            return False
        context = ray.get_runtime_context()
        return context.get_actor_id() is not None and bool(
            context.was_current_actor_reconstructed)
    except ImportError:
        return False


class _ReplayShard(ReplayBuffer):
    """A `ReplayBuffer` as a shard actor: the hot calls take and return packed batches
    (``_remote.pack``).

    After Ray restarted it (it comes back empty) the shard raises `ShardRestarted` from the
    calls that read it (`stats`, `sample_packed`, `update_priorities`, `state_dict`) until
    its owner restores it (`load_state_dict`) or accepts it as it is (`mark_recovered`);
    `add_packed` keeps working, so rollout actors never wait for the owner.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._restarted = _restarted_by_ray()

    def _check_current(self) -> None:
        if self._restarted:
            raise ShardRestarted("this replay shard was restarted empty and is not restored")

    def restarted(self) -> bool:
        """Whether Ray restarted this shard and nobody restored it yet."""
        return self._restarted

    def mark_recovered(self) -> None:
        """Accepts the restarted shard with the rows it has now."""
        self._restarted = False

    def add_packed(self, packed) -> int:
        return self.add_batch(unpack(packed))

    def sample_packed(self, batch_size: int, beta: float | None = None,
                      global_min: float | None = None):
        self._check_current()
        return pack(self.sample(batch_size, beta, global_min))

    def stats(self) -> tuple[int, float, float]:
        self._check_current()
        return super().stats()

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        self._check_current()
        super().update_priorities(indices, priorities)

    def state_dict(self) -> dict[str, Any]:
        self._check_current()
        return super().state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self._restarted = False


class ShardedReplay:
    """Handle over `num_shards` `ReplayBuffer` actors, each holding ceil(capacity / K) rows.

    - ``add_batch``: n_step 1 without ``ENV_IDS``: whole batches round-robin over the shards;
      with ``ENV_IDS``: rows go to shard ``env_id % K``, so an env lane (and its pending
      n-step window) stays on one shard. n_step > 1 needs ``ENV_IDS`` when K > 1.
    - ``sample``: splits `batch_size` over the shards by a multinomial draw with their
      sampling mass (row counts; sums of p^α when prioritized), so every row keeps its
      probability P(i); weights are normalised by the smallest p^α over all shards. Returned
      ``INDICES`` are global: shard * shard_capacity + slot. K = 1 skips the split.
    - ``update_priorities``: routes global indices back to their shards.

    The handle pickles (producers in other actors may add to the same shards).

    Fault tolerance: give the shards ``max_restarts`` in `options`. A call that finds its
    shard dead waits for Ray to restart it and is made again; a restarted shard comes back
    empty, and before the handle reads from it again it calls `restore` (if set: ``restore(
    shard) -> state | None``, e.g. the shard's rows at the last checkpoint, loaded without
    their pending n-step rows, whose env lanes have moved on) and counts it in `recoveries`.
    A shard that stays dead raises `ReplayActorDiedError` naming it.

    Args:
        num_shards: K replay actors.
        capacity: total rows over all shards.
        obs_shape: one observation's shape.
        seed: seeds the shards (spawned seeds) and the split draws.
        options: Ray actor options for every shard (``num_cpus`` defaults to 1).
        **kwargs: the other `ReplayBuffer` arguments.
    """

    def __init__(self, num_shards: int, capacity: int, obs_shape, *, seed: int | None = None,
                 options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if int(num_shards) < 1:
            raise ValueError(f"num_shards must be >= 1, got {num_shards}")
        self.num_shards = int(num_shards)
        self.shard_capacity = -(-int(capacity) // self.num_shards)
        self.n_step = int(kwargs.get("n_step", 1))
        seq = np.random.SeedSequence(seed)
        shard_seeds = [int(s.generate_state(1)[0]) for s in seq.spawn(self.num_shards)]
        self._rng = np.random.default_rng(seq)
        opts = {"num_cpus": 1}
        opts.update(options or {})
        self.shards = [as_actor(_ReplayShard, self.shard_capacity, obs_shape, seed=s,
                                options=opts, **kwargs) for s in shard_seeds]
        self._next = 0
        self.restore: Callable[[int], Mapping[str, Any] | None] | None = None
        """``restore(shard) -> state_dict or None`` for a shard Ray restarted (None: the
        shard goes on with the rows it has). Driver-side only: it is not pickled."""
        self.recoveries = 0
        """Restarted shards this handle restored or accepted."""

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["restore"] = None  # the owner's callback stays with the owner
        return state

    # ----- calls that ride out shard restarts ---------------------------------------------
    def _call(self, shard: int, method: str, *args: Any):
        return getattr(self.shards[shard], method).remote(*args)

    def _results(self, calls: list[tuple], refs: list) -> list:
        """The results of `refs`, the calls ``(shard, method, *args)`` already made."""
        return [self._result(call, ref) for call, ref in zip(calls, refs)]

    def _run(self, calls: list[tuple]) -> list:
        """Makes the calls ``(shard, method, *args)`` at once; their results in order."""
        return self._results(calls, [self._call(*c) for c in calls])

    def _result(self, call: tuple, ref):
        """``get(ref)``; if the shard died, once Ray restarted it the call is made again, and
        if it was restarted empty, after `_recover`. Priorities for a restarted shard are
        dropped: they belong to rows it lost."""
        from ._remote import actor_restarting, get_retrying, require_ray
        ray = require_ray()
        shard, method, args = call[0], call[1], call[2:]
        for _ in range(8):  # each turn is a restart or a restore; more means a crash loop
            try:
                return get(ref)
            except ShardRestarted:
                self._recover(shard)
            except ray.exceptions.RayActorError as e:
                if not actor_restarting(e):
                    raise self._died(shard, e) from e
                try:
                    get_retrying(lambda: self.shards[shard].restarted.remote())
                except ray.exceptions.RayActorError as e2:
                    raise self._died(shard, e2) from e2
            if method == "update_priorities":
                return None
            ref = self._call(shard, method, *args)
        return get(ref)

    def _died(self, shard: int, error: BaseException) -> ReplayActorDiedError:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        return ReplayActorDiedError(
            f"replay actor {shard} of {self.num_shards} (ReplayBuffer shard, actor id "
            f"{self.shards[shard]._actor_id.hex()}) died and was not restarted: {first}")

    def _recover(self, shard: int) -> None:
        """Restores a shard Ray restarted from ``restore(shard)``, or accepts it as it is."""
        state = self.restore(shard) if self.restore is not None else None
        if state is None:
            get(self.shards[shard].mark_recovered.remote())
        else:
            get(self.shards[shard].load_state_dict.remote({**state, "pending": None}))
        self.recoveries += 1

    def add_batch(self, batch: Mapping[str, np.ndarray], wait: bool = True):
        """Adds a batch (see `ReplayBuffer.add_batch`); returns the rows stored, or with
        ``wait=False`` the list of pending ObjectRefs (errors surface when they are got)."""
        k = self.num_shards
        if k == 1:
            calls = [(0, "add_packed", pack(batch))]
        elif ENV_IDS in batch:
            shard_of = np.asarray(batch[ENV_IDS]) % k
            calls = []
            for s in range(k):
                mask = shard_of == s
                if mask.any():
                    part = {key: np.asarray(v)[mask] for key, v in batch.items()}
                    calls.append((s, "add_packed", pack(part)))
        elif self.n_step > 1:
            raise ValueError("ShardedReplay with n_step > 1 needs an ENV_IDS column, so that "
                             "each env lane stays on one shard")
        else:
            calls = [(self._next, "add_packed", pack(batch))]
            self._next = (self._next + 1) % k
        refs = [self._call(*c) for c in calls]
        return sum(self._results(calls, refs)) if wait else refs

    def sample(self, batch_size: int, beta: float | None = None) -> dict[str, np.ndarray]:
        """A batch over all shards (see `ReplayBuffer.sample`), with global ``INDICES``."""
        if self.num_shards == 1:
            return unpack(self._run([(0, "sample_packed", batch_size, beta)])[0])
        stats = self._run([(s, "stats") for s in range(self.num_shards)])
        mass = np.array([m for _, m, _ in stats])
        if mass.sum() <= 0:
            raise errors.FailedPreconditionError(
                None, None, f"sample({batch_size}) from an empty sharded replay")
        floor = min(f for _, _, f in stats)
        counts = self._rng.multinomial(int(batch_size), mass / mass.sum())
        used = [s for s in range(self.num_shards) if counts[s] > 0]
        parts = [unpack(p) for p in self._run(
            [(s, "sample_packed", int(counts[s]), beta, floor) for s in used])]
        for s, part in zip(used, parts):
            part[INDICES] = part[INDICES] + s * self.shard_capacity
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Routes (global) indices and their priorities to the shards holding them."""
        idx = np.asarray(indices, np.int64)
        pri = np.asarray(priorities)
        shard_of = idx // self.shard_capacity
        calls = []
        for s in np.unique(shard_of):
            mask = shard_of == s
            calls.append((int(s), "update_priorities", idx[mask] - s * self.shard_capacity,
                          pri[mask]))
        self._run(calls)

    def __len__(self) -> int:
        return sum(n for n, _, _ in self._run([(s, "stats") for s in range(self.num_shards)]))

    def state_dict(self) -> dict[str, Any]:
        """The shards' states, in shard order, and the split generator's state."""
        return {"shards": self._run([(s, "state_dict") for s in range(self.num_shards)]),
                "rng": json.dumps(self._rng.bit_generator.state), "next": self._next}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores `state_dict()` output into shards of the same layout."""
        if len(state["shards"]) != self.num_shards:
            raise ValueError(f"state of {len(state['shards'])} shards for "
                             f"{self.num_shards} shards")
        self._run([(s, "load_state_dict", st) for s, st in enumerate(state["shards"])])
        self._rng.bit_generator.state = json.loads(state["rng"])
        self._next = int(state["next"])

    def shutdown(self) -> None:
        """Kills the shard actors (their rows are lost)."""
        from ._remote import require_ray
        ray = require_ray()
        for s in self.shards:
            ray.kill(s, no_restart=True)
