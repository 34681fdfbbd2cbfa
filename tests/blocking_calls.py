"""Helpers for tests of calls that block (queues in the graph and as actors)."""
from __future__ import annotations

import threading

JOIN_S = 10.0  # generous bound on a thread that must finish; never a speed check


def in_thread(fn, *args, **kwargs):
    """Runs fn in a daemon thread; returns (thread, outcome) with outcome["value"] or
    ["error"], and outcome["done"] once it returned."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            outcome["error"] = e
        outcome["done"] = True

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, outcome


def wait_blocked(t: threading.Thread) -> None:
    """Gives a thread time to reach its wait; it must still be running afterwards."""
    t.join(0.2)
    assert t.is_alive(), "the call should block"
