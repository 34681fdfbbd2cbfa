"""The default-session stack: `with sess:` / `sess.as_default()` push a session here, and
`Tensor.eval`, `Operation.run` and `Variable.load` find it here.

It lives in the framework layer, under the graph, so that the graph can reach the default
session without importing the session package above it (sessions import the graph). The
sessions are only used through their ``graph``, ``run`` and ``close``.
"""
from __future__ import annotations

import threading

__all__ = ["get_default_session", "DefaultSessionContext", "session_for",
           "register_interactive", "unregister_interactive", "close_interactive_sessions"]

_local = threading.local()
_interactive_sessions: list = []


def _session_stack() -> list:
    stack = getattr(_local, "sessions", None)
    if stack is None:
        stack = _local.sessions = []
    return stack


class DefaultSessionContext:
    """Makes `session` the default of this thread while the ``with`` block runs."""

    def __init__(self, session) -> None:
        self._session = session

    def __enter__(self):
        _session_stack().append(self._session)
        return self._session

    def __exit__(self, *exc) -> None:
        stack = _session_stack()
        for i in range(len(stack) - 1, -1, -1):  # the innermost occurrence
            if stack[i] is self._session:
                del stack[i]
                break


def get_default_session():
    """The innermost session made default by `with sess:` / `as_default()`, or None."""
    stack = _session_stack()
    return stack[-1] if stack else None


def session_for(graph, session):
    """`session`, else the default session, checked to run `graph`.

    Raises:
        ValueError: no session given and none is the default, or it runs another graph.
    """
    sess = session if session is not None else get_default_session()
    if sess is None:
        raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                         "registered. Use `with sess.as_default()` or pass an explicit "
                         "session to `eval(session=sess)`")
    if sess.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's graph "
                         "is different from the session's graph.")
    return sess


def register_interactive(session) -> None:
    """Records an InteractiveSession, which `tf.reset_default_graph()` closes."""
    _interactive_sessions.append(session)


def unregister_interactive(session) -> None:
    if session in _interactive_sessions:
        _interactive_sessions.remove(session)


def close_interactive_sessions() -> None:
    """Closes every open InteractiveSession (their graph is being reset)."""
    for s in list(_interactive_sessions):
        s.close()
