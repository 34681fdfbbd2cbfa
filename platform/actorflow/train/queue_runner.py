"""`tf.train.QueueRunner`, `add_queue_runner`, `start_queue_runners` (TF 1.x): threads that
keep a queue filled by running its enqueue ops over and over.

A `QueueRunner` holds a queue, a list of enqueue ops (one thread each), a close op and a
cancel op. Each thread runs its enqueue op until:

- the op raises one of `queue_closed_exception_types` (`OutOfRangeError`: its input ran
  dry, e.g. a producer past its last epoch): the last such thread of a session runs the
  close op, so consumers drain what is left and then get `OutOfRangeError`;
- the coordinator asks for a stop; a watcher thread then runs the cancel op (close with
  ``cancel_pending_enqueues``) so enqueues blocked on a full queue end;
- any other exception: reported with ``coord.request_stop(e)``, which stops every thread
  and makes ``coord.join`` re-raise it;
- the session is closed (its queues are cancelled, blocked enqueues raise
  `CancelledError`): the thread ends quietly and requests a stop without an error, so
  ``sess.close(); coord.join(threads)`` leaves no runner thread alive. (TF would report the
  session's error to the coordinator here; closing the session first is a common habit.)
"""
from __future__ import annotations

import threading
import weakref
from typing import Iterable

from .. import errors
from .. import tf_logging as logging
from ..framework.default_session import get_default_session
from ..framework.graph import GraphKeys, Operation, add_to_collection, get_collection
from ..queues import runner_turn
from .coordinator import Coordinator

__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]


_TURN_WAIT_S = 1.0  # seconds a runner thread waits for its turn before running anyway

class QueueRunner:
    """Holds a list of enqueue ops for a queue, each to be run in its own thread.

    Args:
        queue: the queue (a ``tf.QueueBase``).
        enqueue_ops: ops run repeatedly, one thread each.
        close_op: closes the queue (default ``queue.close()``); run when the enqueue
            threads end on a queue-closed exception.
        cancel_op: closes the queue cancelling pending enqueues (default
            ``queue.close(cancel_pending_enqueues=True)``); run when a stop is requested.
        queue_closed_exception_types: exception types meaning "input exhausted" (default
            ``(tf.errors.OutOfRangeError,)``).

    Raises:
        ValueError: no queue or no enqueue ops.
    """

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None, queue_runner_def=None,
                 import_scope=None) -> None:
        if queue_runner_def is not None:
            raise ValueError("queue_runner_def is not supported: pass queue and enqueue_ops")
        if queue is None or not enqueue_ops:
            raise ValueError("Must provide queue and enqueue_ops.")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = cancel_op if cancel_op is not None else queue.close(
            cancel_pending_enqueues=True)
        if not queue_closed_exception_types:
            self._queue_closed_exception_types = (errors.OutOfRangeError,)
        else:
            types = tuple(queue_closed_exception_types)
            for t in types:
                if not (isinstance(t, type) and issubclass(t, errors.OpError)):
                    raise TypeError(f"queue_closed_exception_types must be tf.errors "
                                    f"types, got {t!r}")
            self._queue_closed_exception_types = types
        self._lock = threading.Lock()
        # The runner's threads take turns at running their enqueue ops. Python threads
        # share one interpreter lock: 16 of them running small NumPy kernels at once
        # handed it between cores so often that the book's CIFAR-10 pipeline delivered
        # 3.5k images/s on 2 idle cores against 9.3k with one thread. A thread keeps its
        # turn from run to run until it blocks in a queue (a full queue, an empty filename
        # queue), where it gives the turn up (`queues.runner_turn`); one blocked elsewhere
        # holds the others back at most _TURN_WAIT_S.
        self._turn = threading.Lock()
        # Enqueue threads still running, per session (the last one closes the queue).
        self._runs_per_session: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._exceptions_raised: list = []

    @property
    def queue(self):
        return self._queue

    @property
    def enqueue_ops(self) -> list:
        return list(self._enqueue_ops)

    @property
    def close_op(self) -> Operation:
        return self._close_op

    @property
    def cancel_op(self) -> Operation:
        return self._cancel_op

    @property
    def queue_closed_exception_types(self) -> tuple:
        return self._queue_closed_exception_types

    @property
    def exceptions_raised(self) -> list:
        """Exceptions of threads that ran without a coordinator."""
        return list(self._exceptions_raised)

    @property
    def name(self) -> str:
        """The name of the queue."""
        return self._queue.name

    def _run(self, sess, enqueue_op, coord: Coordinator | None) -> None:
        """One enqueue thread: runs `enqueue_op` until the queue closes or a stop."""
        decremented = False
        try:
            run_enqueue = sess.make_callable(enqueue_op)
            turn = self._turn
            runner_turn.lock = None
            while not (coord is not None and coord.should_stop()):
                if runner_turn.lock is None:  # kept from run to run until a queue wait
                    runner_turn.lock = turn if turn.acquire(timeout=_TURN_WAIT_S) else None
                try:
                    run_enqueue()
                except self._queue_closed_exception_types:
                    with self._lock:
                        self._runs_per_session[sess] -= 1
                        decremented = True
                        if self._runs_per_session[sess] == 0:
                            try:
                                sess.run(self._close_op)
                            except Exception as e:  # noqa: BLE001 - as TF: ignored
                                logging.vlog(1, "Ignored exception: %s", e)
                    return
        except Exception as e:  # noqa: BLE001 - every other failure goes to the coordinator
            if _session_closed(sess):
                if coord is not None:
                    coord.request_stop()
                return
            if coord is not None:
                coord.request_stop(e)
            else:
                logging.error("Exception in QueueRunner: %s", e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            held, runner_turn.lock = getattr(runner_turn, "lock", None), None
            if held is not None:
                held.release()
            if not decremented:
                with self._lock:
                    self._runs_per_session[sess] -= 1

    def _close_on_stop(self, sess, cancel_op, coord: Coordinator) -> None:
        """Waits for a stop request, then cancels the queue's pending enqueues."""
        coord.wait_for_stop()
        try:
            sess.run(cancel_op)
        except Exception as e:  # noqa: BLE001 - as TF: ignored (the session may be closed)
            logging.vlog(1, "Ignored exception: %s", e)

    def create_threads(self, sess, coord: Coordinator | None = None, daemon: bool = False,
                       start: bool = False) -> list[threading.Thread]:
        """Creates (and with `start`, starts) the threads that run the enqueue ops in
        `sess`, plus, with `coord`, one that cancels the queue when a stop is requested.
        All threads are registered with `coord`.

        Returns:
            The threads; an empty list when this runner's threads already run in `sess`.
        """
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [threading.Thread(target=self._run, args=(sess, op, coord),
                                    name=f"QueueRunnerThread-{self.name}-{op.name}")
                   for op in self._enqueue_ops]
        if coord is not None:
            threads.append(threading.Thread(target=self._close_on_stop,
                                            args=(sess, self._cancel_op, coord),
                                            name=f"QueueRunnerThread-{self.name}"))
        for t in threads:
            if coord is not None:
                coord.register_thread(t)
            if daemon:
                t.daemon = True
            if start:
                t.start()
        return threads


def _session_closed(sess) -> bool:
    return bool(getattr(sess, "_closed", False))


def add_queue_runner(qr: QueueRunner, collection: str = GraphKeys.QUEUE_RUNNERS) -> None:
    """Adds `qr` to the graph collection `collection` (read by `start_queue_runners`)."""
    add_to_collection(collection, qr)


def start_queue_runners(sess=None, coord: Coordinator | None = None, daemon: bool = True,
                        start: bool = True,
                        collection: str = GraphKeys.QUEUE_RUNNERS) -> list[threading.Thread]:
    """Starts the threads of every queue runner in `collection` of the session's graph.

    Args:
        sess: the session (default: the default session).
        coord: a Coordinator to register the threads with and to report errors to.
        daemon, start: as `QueueRunner.create_threads`.

    Returns:
        All the threads created.

    Raises:
        ValueError: no session given and none is the default.
    """
    if sess is None:
        sess = get_default_session()
        if sess is None:
            raise ValueError("Cannot start queue runners: No default session is registered. "
                             "Use `with sess.as_default()` or pass an explicit session to "
                             "tf.start_queue_runners(sess=sess)")
    with sess.graph.as_default():
        runners: Iterable[QueueRunner] = get_collection(collection)
        threads: list = []
        for qr in runners:
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
