"""Partial runs (TF 1.x `Session.partial_run_setup` / `partial_run`): one execution of a
graph spread over several calls, each feeding some of the declared feeds and fetching some of
the declared fetches.

Contract: every op the declared fetches need runs at most once per partial run. A call runs
the ops that have just become computable (all their inputs fed or computed, no unfed declared
feed among them), and keeps the values that later calls need: declared fetches and every
value an op not yet computable reads. Later calls feed those kept values back and skip the
ops already run (`prune`'s `skip`), so nothing runs twice: random ops draw once and an
`assign_add` applies once, as in TF.
"""
from __future__ import annotations

import itertools

from .. import errors
from ..framework.graph import Operation, Tensor
from .prune import prune

__all__ = ["PartialRun", "PartialRunError"]

_PLACEHOLDERS = frozenset({"Placeholder", "PlaceholderV2"})
_HANDLES = itertools.count()


class PartialRunError(errors.InvalidArgumentError, ValueError):
    """A partial-run call that breaks the setup's contract: a feed or fetch it did not
    declare, one fed or fetched twice, or a fetch whose inputs are not fed yet."""


class PartialRun:
    """The state of one partial run of `session` (made by `Session.partial_run_setup`).

    Args:
        session: the Session (its fetch/feed resolution, feed checks and compiler are used).
        fetches: every fetch any later call may ask for (any fetch structure).
        feeds: every tensor (or name) any later call may feed.
    """

    def __init__(self, session, fetches, feeds, flatten, check_feed) -> None:
        self._session = session
        self._flatten = flatten
        self._check_feed = check_feed
        flat: list = []
        flatten(fetches, session._resolve_fetch, flat)
        self._fetches = set(flat)
        self._feeds = {session._resolve_feed_key(k) for k in feeds}
        targets = [f if isinstance(f, Operation) else f.op for f in flat]
        self._ops = prune(targets, self._feeds)  # topological order
        self._values: dict = {}      # Tensor -> value, fed or computed
        self._done: set = set()      # ops that have run
        self._fetched: set = set()
        names = ",".join(t.name for t in sorted(self._feeds, key=_order))
        self.handle = (f"{names}->{','.join(_name(f) for f in flat)}//"
                       f"{next(_HANDLES)}")

    # -- one call ------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None):
        """Feeds `feed_dict`, runs what became computable, returns `fetches`' values.

        Raises:
            PartialRunError: see the class.
            InvalidArgumentError, ...: a kernel failure, as `Session.run` raises it.
        """
        session = self._session
        flat: list = []
        rebuild = self._flatten(fetches, session._resolve_fetch, flat)
        fed = {}
        for key, value in (feed_dict or {}).items():
            t = session._resolve_feed_key(key)
            if t not in self._feeds:
                raise PartialRunError(None, t.op, f"The feed {t.name} was not specified in "
                                      "partial_run_setup.")
            if t in self._values:
                raise PartialRunError(None, t.op, f"The feed {t.name} has already been fed.")
            fed[t] = self._check_feed(t, value)
        for f in flat:
            if f not in self._fetches:
                raise PartialRunError(None, None, f"The fetch {_name(f)} was not specified in "
                                      "partial_run_setup.")
            if f in self._fetched:
                raise PartialRunError(None, None, f"The fetch {_name(f)} has already been "
                                      "fetched.")
        self._values.update(fed)
        ready = self._ready_ops()
        for f in flat:
            if not (ready.__contains__(f) if isinstance(f, Operation) else self._has(f, ready)):
                raise PartialRunError(None, None, f"Fetch {_name(f)} can't be computed from "
                                      "the feeds that have been fed so far.")
        self._run_new(ready)
        self._fetched.update(flat)
        return rebuild(iter([None if isinstance(f, Operation) else self._values[f]
                             for f in flat]))

    # -- which ops can run -----------------------------------------------------------------
    def _has(self, t: Tensor, ready: set) -> bool:
        """`t` has a value once fed or computed; a declared feed only by being fed."""
        return t in self._values or (t not in self._feeds and t.op in ready)

    def _ready_ops(self) -> set:
        """The ops whose inputs are all available now (those already run included)."""
        ready: set = set()
        ops = set(self._ops)
        for op in self._ops:
            if op in self._done:
                ready.add(op)
                continue
            if op.type in _PLACEHOLDERS:
                continue  # its value only ever comes from a feed
            ref = op.op_def.ref_inputs
            if all(i in ref or self._has(t, ready) for i, t in enumerate(op.inputs)) and \
                    all(c in ready or c not in ops for c in op.control_inputs):
                ready.add(op)
        return ready

    def _run_new(self, ready: set) -> None:
        """Runs the ops that became ready, keeping the values later calls need."""
        new = [op for op in self._ops if op in ready and op not in self._done]
        if not new:
            return
        new_set = set(new)
        waiting = [op for op in self._ops if op not in ready]
        wanted = {t for op in waiting for t in op.inputs if t.op in new_set}
        wanted |= {f for f in self._fetches if isinstance(f, Tensor) and f.op in new_set}
        wanted -= set(self._values)
        target_ops = {f for f in self._fetches if isinstance(f, Operation) and f in new_set}
        # Control inputs of ops still waiting run now, so that they run exactly once.
        target_ops |= {c for op in waiting for c in op.control_inputs if c in new_set}
        fetch_list = tuple(sorted(wanted, key=_order)) + tuple(sorted(target_ops,
                                                                      key=lambda o: o._id))
        known = set(self._values)
        ops = prune([f if isinstance(f, Operation) else f.op for f in fetch_list], known,
                    skip=self._done)
        feeds = tuple(sorted({t for op in ops for t in op.inputs if t in known}, key=_order))
        if fetch_list:
            out = self._session._run_compiled(ops, fetch_list, feeds,
                                              [self._values[t] for t in feeds])
            for f, value in zip(fetch_list, out):
                if isinstance(f, Tensor):
                    self._values[f] = value
        self._done |= set(ops)


def _order(t: Tensor) -> tuple:
    return t.op._id, t.value_index


def _name(f) -> str:
    return f.name
