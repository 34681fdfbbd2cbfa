"""`ParameterServer`: one shard of a model's variables and the optimizer that updates them.

The shard imports the whole training graph (a GraphExecutor) and runs the train op's update
for its own variables with the gradients *fed*: the train op records which gradient tensor
updates which variable (attr ``_gradients``), so the optimizer graph the user wrote (Adam's
slots and bias corrections, the global step increment) runs here unchanged, on this
process's device. Updates of other shards' variables are pruned away.

Modes:

- **sync** (a `SyncReplicasOptimizer` in the graph, or ``mode="sync"``): `push` adds each
  gradient computed against the current version into a running sum as it arrives (one per
  worker per round); when `replicas_to_aggregate` have arrived their mean is applied as one
  step; gradients computed against older weights are stale and dropped. The version (and
  the global step) counts rounds.
- **async**: each gradient is applied on arrival unless it is more than `staleness` versions
  old. The version (and global step) counts applied gradients, the sum of worker steps.

Sparse gradients: a variable whose recorded gradient is an IndexedSlices (an embedding) is
pushed as ``(values, indices)`` — only the rows a worker touched — and fed to the update as
such. A sync round concatenates the workers' rows and divides the values by their number
(the mean of the dense gradients, since the optimizer sums repeated rows); async mode
applies each push as it comes.

Weights are versioned: `pull(since)` returns nothing when the version has not moved, and can
wait for the next version (sync workers wait for the round to close).

Sparse pulls: a variable that the update plan writes only row by row (ScatterSub / ScatterAdd /
ScatterUpdate / ScatterMul or a SparseApply* op fed its pushed indices: SGD, Adagrad,
Momentum, LazyAdam's sparse updates — not Adam's sparse path, which decays its slots and moves
the whole variable) is *row-wise*: the shard records the rows each version wrote.
`pull_changes(since, epoch)` sends a worker that holds version `since` of this shard's
lineage (`epoch`, renewed by every restore) only the rows changed since then, as
``(values, rows)``, and dense variables whole; a worker too far behind (more than
`row_history` versions), at -1, or of another epoch gets everything.

With a checkpoint directory the shard saves its state (variables, optimizer slots, global
step) every `checkpoint_every` versions through `Saver`, and a new shard (an actor restarted
after a failure) restores the latest checkpoint: the step goes back at most one interval.
"""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

import actorflow as tf
from actorflow.session.prune import prune
from actorflow.train.optimizer import recorded_gradients

from .executor import GraphExecutor

__all__ = ["ParameterServer", "Pulled", "StaleVersion", "flat_gradients", "grouped_gradients",
           "shard_variables"]


_BLOCK = 1 << 15
"""Elements per block of `_add_scaled`: the block of the sum stays in cache for the scale."""


def _add_scaled(out: np.ndarray, a: np.ndarray, b: np.ndarray, scale: float) -> None:
    """out = (a + b) * scale in one pass over memory, block by block (`out` may be `a`)."""
    fo, fa, fb = out.reshape(-1), a.reshape(-1), np.asarray(b).reshape(-1)
    factor = out.dtype.type(scale)
    for s in range(0, fo.size, _BLOCK):
        block = fo[s:s + _BLOCK]
        np.add(fa[s:s + _BLOCK], fb[s:s + _BLOCK], out=block)
        if scale != 1.0:
            block *= factor


class StaleVersion(RuntimeError):
    """A pull waited past its timeout for a new version."""


class Pulled(NamedTuple):
    """What `ParameterServer.pull_changes` returns.

    Attributes:
        version: the shard's version now.
        epoch: its lineage (a token renewed when the shard restores or loads a state).
        weights: None when nothing changed, else {name: array} with, for row-wise variables
            in a sparse pull, ``(values, rows)``: the current values of the changed rows.
        global_step: the global step now (saves the worker a call per step).
    """
    version: int
    epoch: int
    weights: dict | None
    global_step: int


def flat_gradients(grads: Sequence) -> list:
    """Gradients in variable order as one list of arrays, a sparse one as values, indices."""
    return [a for g in grads for a in (g if isinstance(g, tuple) else (g,))]


def grouped_gradients(arrays, parts: Sequence[Sequence]) -> list:
    """The inverse of `flat_gradients`: one array per variable whose `parts` has one
    tensor, ``(values, indices)`` per one with two, taken from the iterator `arrays`."""
    return [next(arrays) if len(p) == 1 else (next(arrays), next(arrays)) for p in parts]


_ROW_WISE = frozenset({"ScatterSub", "ScatterAdd", "ScatterUpdate", "ScatterMul"})
"""Writers that change only the rows at their indices (with the SparseApply* family)."""


def _writes_rows_only(op) -> bool:
    return op.type in _ROW_WISE or op.type.startswith("SparseApply")


def _depends_on(op, tensor) -> bool:
    """Whether `tensor` is among the (transitive) inputs of `op`."""
    seen, stack = set(), list(op.inputs)
    while stack:
        t = stack.pop()
        if t is tensor:
            return True
        if t.op not in seen:
            seen.add(t.op)
            stack.extend(t.op.inputs)
    return False


def shard_variables(graph, train_op: str, num_shards: int) -> list[list[str]]:
    """The variables that `train_op` updates, split over `num_shards` ps shards.

    A variable whose device names a ps task (``/job:ps/task:k``, as `replica_device_setter`
    writes) goes to shard k; the others go to the shard holding the fewest bytes so far.

    Raises:
        ValueError: `train_op` records no gradients, or a device names a task >= num_shards.
    """
    from actorflow.framework.device_spec import DeviceSpec
    from actorflow.train.distribute import _variable_bytes
    op = graph.get_operation_by_name(train_op.split(":")[0])
    entries = recorded_gradients(op)
    if not entries:
        raise ValueError(f"{train_op!r} is not an optimizer's update (apply_gradients / "
                         "minimize): it records no gradients to apply")
    shards: list[list[str]] = [[] for _ in range(num_shards)]
    loads = [0] * num_shards
    rest = []
    for var in (e.variable for e in entries):
        vop = graph.get_operation_by_name(var)
        spec = DeviceSpec.from_string(vop.device or "")
        if spec.job == "ps" and spec.task is not None:
            if spec.task >= num_shards:
                raise ValueError(f"Variable {var} is placed on /job:ps/task:{spec.task} but "
                                 f"the cluster has {num_shards} ps task(s)")
            shards[spec.task].append(var)
            loads[spec.task] += _variable_bytes(vop)
        else:
            rest.append(vop)
    for vop in sorted(rest, key=_variable_bytes, reverse=True):
        k = min(range(num_shards), key=lambda i: (loads[i], i))
        shards[k].append(vop.name)
        loads[k] += _variable_bytes(vop)
    return shards


class ParameterServer:
    """A shard of variables, updated by the graph's optimizer from pushed gradients.

    Args:
        graph_def: the training graph (msgpack GraphDef bytes or a GraphDef).
        train_op: the name of the op `minimize` / `apply_gradients` returned.
        variables: the variables this shard owns (default: every variable the op updates).
        mode: "sync", "async", or None to follow the graph (sync when the train op comes
            from a `SyncReplicasOptimizer`).
        replicas_to_aggregate, total_num_replicas: sync mode's aggregation (default: the
            SyncReplicasOptimizer's, else 1).
        staleness: async mode drops gradients more than this many versions old.
        checkpoint_dir: where to save every `checkpoint_every` versions and restore from.
        device: the device that holds the variables and runs the updates.
        initial_weights: {name: array} overriding the initializers (e.g. the driver's).
        row_history: how many versions of changed rows a sparse pull can reach back over.

    Raises:
        ValueError: the train op records no gradients, an unknown variable, a bad mode.
    """

    def __init__(self, graph_def, train_op: str, variables: Sequence[str] | None = None,
                 mode: str | None = None, replicas_to_aggregate: int | None = None,
                 total_num_replicas: int | None = None, staleness: int = 50,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 100,
                 device: str = "/cpu:0", initial_weights: Mapping | None = None,
                 shard_index: int = 0, row_history: int = 100) -> None:
        self.executor = GraphExecutor(graph_def, device=device)
        graph = self.executor.graph
        self.train_op = graph.get_operation_by_name(train_op.split(":")[0])
        entries = {e.variable: e for e in recorded_gradients(self.train_op)}
        if not entries:
            raise ValueError(f"{train_op!r} records no gradients: pass the op returned by "
                             "an optimizer's minimize or apply_gradients")
        grad_of = {var: e.tensors for var, e in entries.items()}  # sparse: values, indices
        owned = list(grad_of) if variables is None else list(variables)
        unknown = [v for v in owned if v not in grad_of]
        if unknown:
            raise ValueError(f"{train_op!r} does not update {unknown}")
        sync = self.train_op.attrs.get("_sync_replicas")
        if mode is None:
            mode = "sync" if sync else "async"
        if mode not in ("sync", "async"):
            raise ValueError(f"mode must be 'sync' or 'async', got {mode!r}")
        self.mode = mode
        self.replicas_to_aggregate = int(replicas_to_aggregate or (sync[0] if sync else 1))
        self.total_num_replicas = int(total_num_replicas or (sync[1] if sync else
                                                              self.replicas_to_aggregate))
        self.staleness = int(staleness)
        self.variables = owned
        self.shard_index = shard_index
        # Per owned variable its fed tensors: [gradient], or [values, indices] when sparse.
        self._grad_parts = [[graph.get_tensor_by_name(n) for n in grad_of[v]] for v in owned]
        self._grad_tensors = [t for parts in self._grad_parts for t in parts]
        self._plan = self._compile_update(graph, set(owned), grad_of)
        # Row-wise variables (their index in `variables`): each version's written rows.
        self._row_wise = [k for k, v in enumerate(owned) if v in self._row_wise_names]
        self._changes: deque = deque(maxlen=max(0, int(row_history)))
        self._changes_from = 0  # the oldest `since` the history reaches back to
        self.epoch = self._new_epoch()
        self._lock = threading.Condition()
        self._pending: dict = {}  # workers that pushed in the current round
        self._sum = None          # their gradients' running sum
        self._acc: dict = {}      # dense sums' buffers, kept from round to round
        self.version = 0
        self.dropped = 0
        self._global_step = self._find_global_step(graph)
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_every = max(1, int(checkpoint_every))
        self._saver = None
        self.executor.initialize()
        if initial_weights:
            self.executor.set_weights({k: v for k, v in initial_weights.items()
                                       if k in self._state_names}, copy=True)
        if checkpoint_dir:
            self._saver = tf.train.Saver(var_list={n: self.executor._var_op(n).outputs[0]
                                                   for n in self._state_names},
                                         max_to_keep=2, pad_step_number=True)
            self.restore_latest()

    # -- the update plan ---------------------------------------------------------------
    def _compile_update(self, graph, owned: set, grad_of: dict):
        """The train op's closure with the owned gradients fed, other updates left out."""
        fed = set(self._grad_tensors)
        others = {graph.get_operation_by_name(name.rsplit(":", 1)[0])
                  for v in grad_of if v not in owned for name in grad_of[v]}
        # The ops applying another shard's gradient: everything its tensors feed, not only
        # their readers (a sparse update first sums the rows of repeated indices). Updates
        # join the train op through control edges only, so this stops at them.
        skip = set()
        stack = [t for g_op in others for t in g_op.outputs if t not in fed]
        while stack:
            for c in stack.pop().consumers():
                if c not in skip:
                    skip.add(c)
                    stack.extend(t for t in c.outputs if t not in fed)
        ops = prune([self.train_op], fed, skip=skip)
        state = {op.inputs[i].op.name for op in ops for i in op.op_def.ref_inputs}
        self._state_names = sorted(state)
        self._row_wise_names = self._find_row_wise(ops, owned)
        sess = self.executor.session
        feeds = tuple(sorted(fed, key=lambda t: (t.op._id, t.value_index)))
        self._feed_order = [self._grad_tensors.index(t) for t in feeds]
        return sess._compile(ops, (self.train_op,), feeds, fed)

    def _find_row_wise(self, ops, owned: set) -> set:
        """The owned variables with a sparse gradient that every writer in the plan updates
        row by row at indices that come from the pushed ones: a version changes only the
        pushed rows of them."""
        writers: dict = {}
        for op in ops:
            for i in op.op_def.ref_inputs:
                writers.setdefault(op.inputs[i].op.name, []).append(op)
        out = set()
        for v, parts in zip(self.variables, self._grad_parts):
            if v in owned and len(parts) == 2 and writers.get(v) and all(
                    _writes_rows_only(w) and _depends_on(w, parts[1]) for w in writers[v]):
                out.add(v)
        return out

    @staticmethod
    def _new_epoch() -> int:
        """A token no other lineage of this shard (an earlier actor, a restore) holds."""
        return int.from_bytes(os.urandom(8), "little") >> 1

    def _find_global_step(self, graph):
        for op in graph.get_operations():
            if op.type == "VariableV2" and op.name in self._state_names and \
                    op.name.split("/")[-1] == "global_step":
                return op
        return None

    def _apply(self, grads: Sequence) -> None:
        flat = flat_gradients(grads)
        self._plan.run(*[flat[i] for i in self._feed_order])
        self.version += 1
        if self._changes.maxlen:
            self._changes.append([np.unique(grads[k][1]) for k in self._row_wise])
        if self._saver is not None and self.version % self._checkpoint_every == 0:
            self.save()

    # -- the protocol ------------------------------------------------------------------
    def push(self, worker: int, version: int, grads: Mapping[str, np.ndarray] | Sequence) -> bool:
        """Offers `worker`'s gradients, computed against weights of `version`.

        `grads` is {variable name: gradient} (or a list in `variables` order); the gradient
        of a variable with a sparse (IndexedSlices) gradient is ``(values, indices)`` (or an
        `IndexedSlicesValue`): the touched rows and their row numbers. Returns whether they
        were used (False: stale, dropped).

        Raises:
            KeyError: a gradient is missing for an owned variable.
            ValueError: a gradient's shape differs from its variable's.
            TypeError: a dense array for a sparse gradient, or the reverse.
        """
        values = self._checked(grads)
        with self._lock:
            if self.mode == "async":
                if self.version - version > self.staleness:
                    self.dropped += 1
                    return False
                self._apply(values)
                self._lock.notify_all()
                return True
            if version != self.version:
                self.dropped += 1
                return False
            if worker in self._pending:
                return False  # one gradient per worker per round
            self._accumulate(worker, values)
            if len(self._pending) >= self.replicas_to_aggregate:
                self._apply(self._take_mean())
                self._lock.notify_all()
            return True

    def _accumulate(self, worker: int, values: list) -> None:
        """Adds a round's gradient into the running sum as it arrives (TF's conditional
        accumulator), so summing overlaps with the other workers' transfers.

        Dense sums go into buffers kept from round to round, and the arrival that closes the
        round scales the sum to the mean in the same pass (`_add_scaled`). A new sum array
        every round is fresh memory: in a threaded ps actor (each thread its own malloc
        arena) summing two 40 MB gradients took 184-261 ms a round in page faults, 9-13 ms
        into a kept buffer (measured on this machine's VM)."""
        self._pending[worker] = True
        # A sparse gradient's running "sum" is the list of the pushed (values, indices).
        if self._sum is None:
            self._sum = [[v] if isinstance(v, tuple) else v  # kept as received: no copy yet
                         for v in values]
            return
        n = len(self._pending)
        scale = 1.0 / n if n >= self.replicas_to_aggregate else 1.0
        for k, (acc, v) in enumerate(zip(self._sum, values)):
            if isinstance(v, tuple):
                acc.append(v)  # the list the first push started
                continue
            out = self._buffer(k, acc) if n == 2 else acc  # the first push stays unwritten
            _add_scaled(out, acc, v, scale)
            self._sum[k] = out

    def _buffer(self, k: int, like: np.ndarray) -> np.ndarray:
        """The kept accumulation buffer of the k-th owned gradient, shaped like `like`."""
        buf = self._acc.get(k)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = self._acc[k] = np.empty(like.shape, like.dtype)
        return buf

    def _take_mean(self) -> list:
        total, n = self._sum, len(self._pending)
        self._sum = None
        self._pending.clear()
        scale = 1.0 / n
        for k, acc in enumerate(total):
            if isinstance(acc, list):  # sparse: all rows, values / n
                values = np.concatenate([v for v, _ in acc])  # owned, so scaled in place
                indices = np.concatenate([i for _, i in acc])
                if n > 1:
                    values *= values.dtype.type(scale)
                total[k] = (values, indices)
            # dense sums: already scaled by the arrival that closed the round
        return total

    def _checked(self, grads) -> list:
        if isinstance(grads, Mapping):
            try:
                grads = [grads[v] for v in self.variables]
            except KeyError as e:
                raise KeyError(f"No gradient pushed for variable {e.args[0]!r} of ps shard "
                               f"{self.shard_index}") from None
        out = []
        for v, parts, g in zip(self.variables, self._grad_parts, grads):
            if len(parts) == 2:
                out.append(self._checked_rows(v, parts, g))
                continue
            t = parts[0]
            if isinstance(g, tuple):
                raise TypeError(f"Gradient for {v} is dense: push an array, not {type(g)}")
            arr = np.asarray(g, dtype=t.dtype.np)
            if t._shape is not None and None not in t._shape and arr.shape != t._shape:
                raise ValueError(f"Gradient for {v} has shape {list(arr.shape)}, expected "
                                 f"{list(t._shape)}")
            out.append(arr)
        return out

    def _checked_rows(self, v: str, parts, g) -> tuple:
        """A sparse push as (values [n, ...], indices [n]) arrays of the fed dtypes."""
        if not isinstance(g, tuple) or len(g) not in (2, 3):
            raise TypeError(f"Gradient for {v} is sparse: push (values, indices), got "
                            f"{type(g).__name__}")
        values = np.asarray(g[0], dtype=parts[0].dtype.np)
        indices = np.asarray(g[1], dtype=parts[1].dtype.np)
        row = self.executor._var_op(v).outputs[0]._shape
        if indices.ndim != 1 or values.shape[:1] != indices.shape or (
                row is not None and values.shape[1:] != tuple(row[1:])):
            raise ValueError(f"Sparse gradient for {v}: values {list(values.shape)} and "
                             f"indices {list(indices.shape)} must be [n] + "
                             f"{'?' if row is None else list(row[1:])} and [n]")
        return values, indices

    def pull(self, since: int = -1, wait: bool = False, timeout: float | None = None):
        """``(version, weights)``; weights is None when the version is still `since`.

        With `wait`, blocks until the version differs from `since` (a sync round closed, or
        the shard restored an older checkpoint).

        Raises:
            StaleVersion: `wait` timed out.
        """
        with self._lock:
            if wait:
                self._wait_past(since, None, timeout)
            if self.version == since:
                return self.version, None
            return self.version, self._publish()

    def pull_changes(self, since: int = -1, epoch: int | None = None, wait: bool = False,
                     timeout: float | None = None) -> Pulled:
        """Like `pull`, but a worker holding version `since` of epoch `epoch` (what its last
        `Pulled` said) receives, for row-wise variables, only the rows changed since then:
        ``(values, rows)``; dense variables come whole. A worker at -1, of another epoch (the
        shard restored a checkpoint or loaded a state meanwhile), or further behind than the
        row history gets every weight, as from `pull`.

        Raises:
            StaleVersion: `wait` timed out.
        """
        with self._lock:
            if wait:
                self._wait_past(since, epoch, timeout)
            step = self._step_locked()
            if epoch != self.epoch:
                return Pulled(self.version, self.epoch, self._publish(), step)
            if self.version == since:
                return Pulled(self.version, self.epoch, None, step)
            rows = self._rows_since(since)
            weights = self._publish() if rows is None else self._publish_rows(since, rows)
            return Pulled(self.version, self.epoch, weights, step)

    def push_and_pull(self, worker: int, version: int, grads, epoch: int | None = None,
                      wait: bool = False, timeout: float | None = None) -> tuple[bool, Pulled]:
        """`push` then ``pull_changes(version, epoch, wait, timeout)`` in one call (one
        round trip for a remote shard): ``(used, pulled)``.

        Raises:
            what `push` and `pull_changes` raise.
        """
        used = self.push(worker, version, grads)
        return used, self.pull_changes(version, epoch, wait, timeout)

    def push_flat(self, worker: int, version: int, *arrays: np.ndarray) -> bool:
        """`push` with the gradients as separate arguments, in `variables` order, a sparse
        one as its values and indices: an actor call inlines each array under Ray's inline
        limit (100 KB) into the request instead of putting the whole list in the object
        store (benchmarks/word2vec_sparse.py's sparse ps step on this 2-core machine: 10.8 ms,
        against 17.3 ms with the list as one argument, in separate runs).

        Raises:
            ValueError: not one array per dense and two per sparse gradient.
        """
        return self.push(worker, version, self._grouped(arrays))

    def push_and_pull_flat(self, worker: int, version: int, epoch: int | None, wait: bool,
                           timeout: float | None, *arrays: np.ndarray) -> tuple[bool, Pulled]:
        """`push_and_pull` with the gradients as in `push_flat`."""
        return self.push_and_pull(worker, version, self._grouped(arrays), epoch, wait,
                                  timeout)

    def _grouped(self, arrays: Sequence) -> list:
        want = sum(len(parts) for parts in self._grad_parts)
        if len(arrays) != want:
            raise ValueError(f"ps shard {self.shard_index} takes {want} gradient arrays (one "
                             "per dense gradient, values and indices per sparse one), got "
                             f"{len(arrays)}")
        return grouped_gradients(iter(arrays), self._grad_parts)

    def _wait_past(self, since: int, epoch: int | None, timeout: float | None) -> None:
        """Waits (lock held) until the version differs from `since` or, when `epoch` is
        given, the epoch from `epoch`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.version == since and (epoch is None or epoch == self.epoch):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise StaleVersion(f"ps shard {self.shard_index}: no new version after "
                                   f"{since} within {timeout} s")
            self._lock.wait(left)

    def _rows_since(self, since: int) -> dict | None:
        """{row-wise variable: rows changed after version `since`}, None when the history
        does not reach back that far (or `since` is no version of this lineage)."""
        if since < max(self._changes_from, self.version - len(self._changes)) or \
                since > self.version:
            return None
        recent = list(self._changes)[len(self._changes) - (self.version - since):]
        out = {}
        for j, k in enumerate(self._row_wise):
            parts = [rows[j] for rows in recent]
            out[self.variables[k]] = np.unique(np.concatenate(parts)) if len(parts) > 1 else \
                parts[0] if parts else np.zeros(0, np.int64)
        return out

    def _publish(self):
        """The weights a pull hands out: a snapshot (updates happen in place). Called with
        the lock held."""
        return self.executor.get_weights(self.variables)

    def _publish_rows(self, since: int, rows: Mapping[str, np.ndarray]) -> dict:
        """A sparse pull's weights (lock held), a snapshot like `_publish`'s."""
        return self._row_payload(rows, copy=True)

    def _row_payload(self, rows: Mapping[str, np.ndarray], copy: bool) -> dict:
        """The changed rows of row-wise variables, ``(values, rows)`` (values copied), and
        the dense variables whole (copied with `copy`). A variable that changed in more than
        half its rows goes whole (fewer bytes than values plus indices)."""
        live = self.executor.get_weights(self.variables, copy=False)
        out = {}
        for name in self.variables:
            value, changed = live[name], rows.get(name)
            if changed is None or 2 * len(changed) > len(value):
                out[name] = np.array(value, copy=True) if copy else value
            else:
                out[name] = (value[changed], changed)
        return out

    def global_step(self) -> int:
        """The global step (the graph's global_step variable, else the version)."""
        with self._lock:
            return self._step_locked()

    def _step_locked(self) -> int:
        if self._global_step is None:
            return self.version
        name = self._global_step.name
        return int(self.executor.get_weights([name], copy=False)[name])

    def _new_lineage(self) -> None:
        """After a restore or a loaded state (lock held): every worker's copy may differ
        from this state, so the next pulls are full."""
        self.epoch = self._new_epoch()
        self._changes.clear()
        self._changes_from = self.version

    def stats(self) -> dict:
        with self._lock:
            return {"version": self.version, "dropped": self.dropped, "mode": self.mode,
                    "variables": len(self.variables), "pending": len(self._pending)}

    # -- checkpoints ---------------------------------------------------------------------
    def save(self) -> str | None:
        """Writes the shard's state to its checkpoint directory; returns the path."""
        if self._saver is None:
            return None
        os.makedirs(self._checkpoint_dir, exist_ok=True)
        prefix = os.path.join(self._checkpoint_dir, f"ps-{self.shard_index}")
        return self._saver.save(self.executor.session, prefix, global_step=self.version,
                                latest_filename=f"checkpoint-{self.shard_index}",
                                write_meta_graph=False)

    def restore_latest(self) -> bool:
        """Restores the newest checkpoint of this shard, if any; returns whether it did."""
        if self._saver is None:
            return False
        path = tf.train.latest_checkpoint(self._checkpoint_dir,
                                          latest_filename=f"checkpoint-{self.shard_index}")
        if path is None:
            return False
        with self._lock:
            self._saver.restore(self.executor.session, path)
            self.version = int(path.rsplit("-", 1)[1])
            self._pending.clear()
            self._sum = None
            self._new_lineage()
            self._lock.notify_all()
        return True

    def load_state(self, version: int, weights: Mapping[str, np.ndarray]) -> None:
        """Sets the shard's state and version as a restore does, from another shard's
        `weights()` and version (an all-reduce replica catching up with a live peer).

        Raises:
            KeyError: a name that is no state variable of the shard.
            ValueError: a value whose shape differs from its variable's.
        """
        unknown = sorted(set(weights) - set(self._state_names))
        if unknown:
            raise KeyError(f"ps shard {self.shard_index} holds no state named {unknown}")
        with self._lock:
            self.executor.set_weights(weights, copy=True)
            self.version = int(version)
            self._pending.clear()
            self._sum = None
            self._new_lineage()
            self._lock.notify_all()

    def weights(self) -> dict:
        """{name: array} of every state variable of the shard (variables, slots, step)."""
        with self._lock:
            return self.executor.get_weights(self._state_names)
