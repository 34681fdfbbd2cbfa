"""`tf.train.SessionRunHook` (TF 1.x): code a `MonitoredSession` calls around each run.

The call sequence, for each hook:

    begin()                                   # once, before the graph is finalized
    after_create_session(session, coord)      # once the session is ready (and again on a new one)
    for each session.run(...):
        args = before_run(run_context)        # None or SessionRunArgs: more fetches and feeds
        ... the caller's fetches and every hook's fetches run together ...
        after_run(run_context, run_values)    # run_values.results: the hook's own fetches
    end(session)                              # once, when the session closes without error

A hook stops the loop with ``run_context.request_stop()``; `MonitoredSession.should_stop()`
then becomes true.
"""
from __future__ import annotations

import collections

__all__ = ["SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues"]


class SessionRunHook:
    """A hook that extends a `MonitoredSession`'s runs; every method does nothing here."""

    def begin(self):
        """Called once before the session is created; the graph may still change."""

    def after_create_session(self, session, coord):  # noqa: ARG002 - the documented signature
        """Called when a session is created (the graph is final)."""

    def before_run(self, run_context):  # noqa: ARG002
        """Returns None or a `SessionRunArgs` to add to the coming run."""
        return None

    def after_run(self, run_context, run_values):  # noqa: ARG002
        """Called after each run with the values of this hook's fetches."""

    def end(self, session):  # noqa: ARG002
        """Called once at the end of the session (not when it ends on an error)."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs",
                                            ["fetches", "feed_dict", "options"])):
    """What a hook adds to a run: fetches (any nesting), feeds and RunOptions."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunContext:
    """The run in progress: the caller's arguments, the session, and a stop request."""

    def __init__(self, original_args: SessionRunArgs, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    original_args = property(lambda self: self._original_args)
    session = property(lambda self: self._session)
    stop_requested = property(lambda self: self._stop_requested)

    def request_stop(self) -> None:
        """Asks the monitored session to stop after this run."""
        self._stop_requested = True


SessionRunValues = collections.namedtuple("SessionRunValues",
                                          ["results", "options", "run_metadata"])
SessionRunValues.__doc__ = "What a hook gets after a run: the values of its own fetches."
