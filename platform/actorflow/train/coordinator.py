"""`tf.train.Coordinator` and `tf.train.LooperThread` (TF 1.x): stopping a set of threads
together and reporting the first error any of them hit.

Threads poll `Coordinator.should_stop()` in their loops; any thread calls `request_stop()`
(with the exception that made it stop, if any); the main thread calls `join(threads)`, which
waits for the threads and then re-raises the exception reported first. Exceptions of the
"clean stop" types (`OutOfRangeError` by default: an input pipeline running dry) stop the
threads without being reported.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Callable, Iterable

from .. import errors
from .. import tf_logging as logging

__all__ = ["Coordinator", "LooperThread"]

# How often `join` looks at its threads while no stop was requested (seconds). TF polls
# once a second; a short period lets join return soon after the last thread ends.
_JOIN_POLL_S = 0.05


class Coordinator:
    """Coordinates the termination of a set of threads.

    Args:
        clean_stop_exception_types: exception types that stop the threads without being
            re-raised by `join` (default: ``(tf.errors.OutOfRangeError,)``).
    """

    def __init__(self, clean_stop_exception_types: Iterable[type] | None = None) -> None:
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise = None
        self._joined = False
        self._registered_threads: set = set()

    def _filter_exception(self, ex):
        """None for a clean-stop exception, else `ex` (an exception or an exc_info tuple)."""
        instance = ex[1] if isinstance(ex, tuple) else ex
        if isinstance(instance, self._clean_stop_exception_types):
            return None
        return ex

    def request_stop(self, ex=None) -> None:
        """Asks every coordinated thread to stop; `should_stop()` turns True.

        Args:
            ex: the exception (or ``sys.exc_info()`` tuple) that made the caller stop. The
                first one reported before the stop is re-raised by `join`; later ones, and
                clean-stop types, are ignored.

        Raises:
            The exception `ex`, when the coordinator has already been joined (nobody would
            see it otherwise).
        """
        with self._lock:
            ex = self._filter_exception(ex)
            if self._joined:
                instance = ex[1] if isinstance(ex, tuple) else ex
                if instance is not None:
                    logging.error("Error reported to Coordinator after join: %s: %s",
                                  type(instance).__name__, instance)
                    raise instance
                return
            if not self._stop_event.is_set():
                if ex is not None and self._exc_info_to_raise is None:
                    if isinstance(ex, tuple):
                        self._exc_info_to_raise = ex
                    else:
                        current = sys.exc_info()
                        self._exc_info_to_raise = current if current[1] is ex else (
                            type(ex), ex, ex.__traceback__)
                    if not isinstance(self._exc_info_to_raise[1], BaseException):
                        self._exc_info_to_raise = None
                        raise TypeError(f"ex must be an exception or an exc_info tuple, "
                                        f"got {ex!r}")
                self._stop_event.set()

    def clear_stop(self) -> None:
        """Makes the coordinator reusable: clears the stop request and any exception."""
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        """Whether a stop was requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """A context manager that requests a stop (reporting the exception) when its body
        raises; the exception is not propagated further. Clean-stop types just stop."""
        try:
            yield
        except:  # noqa: E722 - every exception, as TF does, is reported to the coordinator
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        """Blocks until a stop is requested or `timeout` seconds pass; True if stopped."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread: threading.Thread) -> None:
        """Adds `thread` to the threads that `join` waits for."""
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads: Iterable[threading.Thread] | None = None,
             stop_grace_period_secs: float = 120, ignore_live_threads: bool = False) -> None:
        """Waits for the threads (and the registered ones) to end.

        Returns once all of them have ended, or, after a stop was requested, once they end
        within `stop_grace_period_secs`.

        Raises:
            The exception passed to `request_stop` first, if any.
            RuntimeError: threads are still alive after the grace period (unless
                `ignore_live_threads`, which only logs them).
        """
        with self._lock:
            waiting = set(self._registered_threads)
        waiting.update(threads or ())
        threads_ = list(waiting)
        while any(t.is_alive() for t in threads_) and not self.wait_for_stop(_JOIN_POLL_S):
            pass
        deadline = time.monotonic() + max(float(stop_grace_period_secs), 0.0)
        for t in threads_:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            t.join(remaining)
        stragglers = [t.name for t in threads_ if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exc_info_to_raise is not None:
                raise self._exc_info_to_raise[1]
            if stragglers:
                if ignore_live_threads:
                    logging.info("Coordinator stopped with threads still running: %s",
                                 " ".join(stragglers))
                else:
                    raise RuntimeError("Coordinator stopped with threads still running: "
                                       + " ".join(stragglers))

    @property
    def joined(self) -> bool:
        """Whether `join` has run (and `clear_stop` has not since)."""
        return self._joined

    def raise_requested_exception(self) -> None:
        """Re-raises the exception passed to `request_stop`, if there is one."""
        with self._lock:
            if self._exc_info_to_raise is not None:
                raise self._exc_info_to_raise[1]

    def loop(self, timer_interval_secs: float | None, target: Callable, args=None,
             kwargs=None) -> "LooperThread":
        """Starts a `LooperThread` calling ``target(*args, **kwargs)`` every
        `timer_interval_secs` seconds until a stop is requested; returns it."""
        looper = LooperThread(self, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        return looper


class LooperThread(threading.Thread):
    """A daemon thread that runs `run_loop()` (by default `target`) repeatedly — every
    `timer_interval_secs` seconds, or back to back when it is None — until its coordinator
    stops; an exception in it is reported to the coordinator. Registers with `coord`.

    Subclass and override `start_loop`, `run_loop`, `stop_loop`, or pass `target`.
    """

    def __init__(self, coord: Coordinator, timer_interval_secs: float | None,
                 target: Callable | None = None, args=None, kwargs=None) -> None:
        if not isinstance(coord, Coordinator):
            raise ValueError(f"'coord' argument must be a Coordinator: {coord!r}")
        super().__init__()
        self.daemon = True
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._loop_target = target
        if target is not None:
            self._loop_args = tuple(args or ())
            self._loop_kwargs = dict(kwargs or {})
        elif args or kwargs:
            raise ValueError("'args' and 'kwargs' argument require that you also pass "
                             "'target'")
        coord.register_thread(self)

    @staticmethod
    def loop(coord: Coordinator, timer_interval_secs: float | None, target: Callable,
             args=None, kwargs=None) -> "LooperThread":
        """Creates and starts a LooperThread calling `target`; returns it."""
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        return looper

    def run(self) -> None:
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                next_time = time.monotonic()
                while not self._coord.wait_for_stop(max(next_time - time.monotonic(), 0.0)):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self) -> None:
        """Called once when the thread starts."""

    def stop_loop(self) -> None:
        """Called once when the loop ends."""

    def run_loop(self) -> None:
        """One iteration: calls `target`."""
        if self._loop_target is not None:
            self._loop_target(*self._loop_args, **self._loop_kwargs)
