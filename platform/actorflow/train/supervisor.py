"""`tf.train.Supervisor` (TF 1.x): a Coordinator, a Saver and a SessionManager for a
training program, as the book's PTB language model (ch. 7) and distributed MNIST (ch. 9)
use it.

``sv = tf.train.Supervisor(logdir=...)`` fills in what the caller leaves at `USE_DEFAULT`,
each from the first item of its graph collection (``INIT_OP``, ``READY_OP``,
``READY_FOR_LOCAL_INIT_OP``, ``LOCAL_INIT_OP``, ``SAVERS``, ``SUMMARY_OP``) or else made and
added there: `global_variables_initializer`, `report_uninitialized_variables` (of all
variables; of the global ones before local init), `local_variables_initializer`, a Saver
when there are variables, `summary.merge_all`; and the global step. Then it finalizes the
graph.

``with sv.managed_session() as sess:`` gives a session restored from `logdir`'s latest
checkpoint or initialized; on a chief with a `logdir` it writes the graph and starts the
standard services — a thread saving a checkpoint every `save_model_secs`, one writing
summaries every `save_summaries_secs`, one logging global steps per second — and, everywhere,
the queue runners of the graph. Leaving the block stops all of those and closes the session;
an exception from the block is re-raised after the stop, except `OutOfRangeError` (an input
pipeline that ran out), which ends the block cleanly. No checkpoint is written on exit.
"""
from __future__ import annotations

import contextlib
import os
import time

from .. import tf_logging as logging
from ..framework.graph import GraphKeys, get_default_graph
from ..variables import (global_variables, global_variables_initializer,
                         local_variables_initializer, report_uninitialized_variables)
from .coordinator import Coordinator, LooperThread
from .saver import Saver
from .session_manager import SessionManager
from .training_util import get_global_step

__all__ = ["Supervisor"]


class Supervisor:
    """Looks after a training session: initialization or recovery from checkpoints,
    queue runners, periodic checkpoints and summaries, and a coordinated stop.

    Args:
        graph: the model's graph (default: the default graph); finalized here.
        ready_op: string vector naming what is not initialized (None: no check).
        ready_for_local_init_op: must be empty before `local_init_op` runs (None: no check).
        is_chief: only the chief initializes, saves and writes summaries; the others wait
            for a ready model.
        init_op, init_feed_dict, init_fn: how the chief initializes a model it cannot
            restore (`init_fn(sess)` runs after `init_op`).
        local_init_op: run in every new session.
        logdir: checkpoints and event files go here; None turns the services off.
        summary_op, summary_writer, save_summaries_secs: the summary service.
        saver, save_model_secs, checkpoint_basename: the checkpoint service
            (``<logdir>/<checkpoint_basename>-<global step>``).
        global_step: the step counter used to number checkpoints and summaries.
        recovery_wait_secs: how often a non-chief checks whether the model is ready.
        stop_grace_secs: how long `stop` waits for the threads to end.
        session_manager: a `SessionManager` to use instead of one built from the above.
        local_init_run_options: RunOptions for `local_init_op`.
    """

    USE_DEFAULT = 0

    def __init__(self, graph=None, ready_op=USE_DEFAULT, ready_for_local_init_op=USE_DEFAULT,
                 is_chief: bool = True, init_op=USE_DEFAULT, init_feed_dict=None,
                 local_init_op=USE_DEFAULT, logdir: str | None = None,
                 summary_op=USE_DEFAULT, saver=USE_DEFAULT, global_step=USE_DEFAULT,
                 save_summaries_secs: float = 120, save_model_secs: float = 600,
                 recovery_wait_secs: float = 30, stop_grace_secs: float = 120,
                 checkpoint_basename: str = "model.ckpt", session_manager=None,
                 summary_writer=USE_DEFAULT, init_fn=None, local_init_run_options=None):
        # the summary package imports tf.train's modules: import it when first needed
        from ..ops.summary_ops import merge_all
        from ..summary.writer import FileWriter
        self._graph = graph if graph is not None else get_default_graph()
        with self._graph.as_default():
            self._ready_op = self._from_collection_or(
                ready_op, GraphKeys.READY_OP, report_uninitialized_variables)
            self._ready_for_local_init_op = self._from_collection_or(
                ready_for_local_init_op, GraphKeys.READY_FOR_LOCAL_INIT_OP,
                lambda: report_uninitialized_variables(global_variables()))
            self._init_op = self._from_collection_or(init_op, GraphKeys.INIT_OP,
                                                     global_variables_initializer)
            self._local_init_op = self._from_collection_or(
                local_init_op, GraphKeys.LOCAL_INIT_OP, local_variables_initializer)
            self._saver = self._from_collection_or(saver, GraphKeys.SAVERS,
                                                   self._new_saver)
            self._summary_op = self._from_collection_or(summary_op, GraphKeys.SUMMARY_OP,
                                                        merge_all)
            self._global_step = (get_global_step(self._graph) if global_step is self.USE_DEFAULT
                                 else global_step)
        self._is_chief = is_chief
        self._init_feed_dict = init_feed_dict
        self._init_fn = init_fn
        self._logdir = logdir
        self._save_summaries_secs = save_summaries_secs
        self._save_model_secs = save_model_secs
        self._stop_grace_secs = stop_grace_secs
        self._save_path = os.path.join(logdir, checkpoint_basename) if logdir else None
        if summary_writer is self.USE_DEFAULT:
            summary_writer = FileWriter(logdir) if (logdir and is_chief) else None
        self._summary_writer = summary_writer
        self._graph_added_to_summary = False
        self._session_manager = session_manager or SessionManager(
            local_init_op=self._local_init_op, ready_op=self._ready_op,
            ready_for_local_init_op=self._ready_for_local_init_op, graph=self._graph,
            recovery_wait_secs=recovery_wait_secs,
            local_init_run_options=local_init_run_options)
        self._coord = Coordinator()
        self._started_threads: list = []
        self._graph.finalize()

    def _from_collection_or(self, given, key: str, make):
        """`given`, unless it is USE_DEFAULT: then the first item of collection `key`, else
        ``make()`` (added to that collection when it is not None)."""
        if given is not self.USE_DEFAULT:
            return given
        found = self._graph.get_collection(key)
        if found:
            return found[0]
        made = make()
        if made is not None:
            self._graph.add_to_collection(key, made)
        return made

    @staticmethod
    def _new_saver():
        """A Saver of all global variables, or None when there are none."""
        return Saver() if global_variables() else None

    # -- properties -----------------------------------------------------------------------
    is_chief = property(lambda self: self._is_chief)
    session_manager = property(lambda self: self._session_manager)
    coord = property(lambda self: self._coord)
    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    summary_writer = property(lambda self: self._summary_writer)
    summary_op = property(lambda self: self._summary_op)
    save_summaries_secs = property(lambda self: self._save_summaries_secs)
    global_step = property(lambda self: self._global_step)
    saver = property(lambda self: self._saver)
    save_model_secs = property(lambda self: self._save_model_secs)
    save_path = property(lambda self: self._save_path)

    # -- sessions -------------------------------------------------------------------------
    def prepare_or_wait_for_session(self, master: str = "", config=None,
                                    wait_for_checkpoint: bool = False,
                                    max_wait_secs: float = 7200,
                                    start_standard_services: bool = True):
        """The chief's restored-or-initialized session (services started), or, on other
        tasks, a session once the chief has made the model ready; queue runners started
        when `start_standard_services`."""
        self._coord.clear_stop()
        if self._summary_writer is not None:
            self._summary_writer.reopen()
        if self._is_chief:
            sess = self._session_manager.prepare_session(
                master, init_op=self._init_op, saver=self._saver,
                checkpoint_dir=self._logdir, wait_for_checkpoint=wait_for_checkpoint,
                max_wait_secs=max_wait_secs, config=config,
                init_feed_dict=self._init_feed_dict, init_fn=self._init_fn)
            self._write_graph()
            if start_standard_services:
                logging.info("Starting standard services.")
                self.start_standard_services(sess)
        else:
            sess = self._session_manager.wait_for_session(master, config=config,
                                                          max_wait_secs=max_wait_secs)
        if start_standard_services:
            logging.info("Starting queue runners.")
            self.start_queue_runners(sess)
        return sess

    @contextlib.contextmanager
    def managed_session(self, master: str = "", config=None,
                        start_standard_services: bool = True,
                        close_summary_writer: bool = True):
        """A context manager around `prepare_or_wait_for_session`: on exit it stops the
        services and queue runners, closes the session and re-raises an exception from the
        block unless it is `OutOfRangeError`."""
        sess = None
        try:
            sess = self.prepare_or_wait_for_session(
                master=master, config=config, start_standard_services=start_standard_services)
            yield sess
        except Exception as e:  # noqa: BLE001 - handed to the coordinator, re-raised by stop
            self.request_stop(e)
        finally:
            try:
                self.stop(close_summary_writer=close_summary_writer)
            finally:
                if sess is not None:
                    sess.close()

    # -- services -------------------------------------------------------------------------
    def start_standard_services(self, sess) -> list:
        """Starts the checkpoint, summary and step-counter threads (chief only; only those
        a `logdir` and the ops present allow). Returns them.

        Raises:
            RuntimeError: called on a non-chief.
        """
        if not self._is_chief:
            raise RuntimeError("Only chief supervisor can start standard services. Because "
                               "only chief supervisors can write events.")
        threads = []
        if self._logdir and self._summary_writer is not None:
            if self._summary_op is not None and self._save_summaries_secs:
                threads.append(self.loop(self._save_summaries_secs, self._write_summaries,
                                         args=(sess,)))
            if self._global_step is not None and self._save_summaries_secs:
                threads.append(self._step_counter(sess))
        if self._logdir and self._saver is not None and self._save_model_secs:
            threads.append(self.loop(self._save_model_secs, self._save_checkpoint,
                                     args=(sess,)))
        return threads

    def start_queue_runners(self, sess, queue_runners=None) -> list:
        """Starts the threads of `queue_runners` (default: the graph's ``QUEUE_RUNNERS``),
        registered with this supervisor's coordinator."""
        if queue_runners is None:
            queue_runners = self._graph.get_collection(GraphKeys.QUEUE_RUNNERS)
        threads = []
        for qr in queue_runners:
            threads.extend(qr.create_threads(sess, coord=self._coord, daemon=True,
                                             start=True))
        return threads

    def loop(self, timer_interval_secs, target, args=None, kwargs=None):
        """Starts a thread calling `target(*args, **kwargs)` every `timer_interval_secs`
        (at once the first time) until a stop is requested; returns it."""
        looper = LooperThread(self._coord, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        self._started_threads.append(looper)
        return looper

    def stop(self, threads=None, close_summary_writer: bool = True,
             ignore_live_threads: bool = False) -> None:
        """Requests a stop and joins the service and queue-runner threads (and `threads`);
        re-raises an exception reported to the coordinator."""
        from ..summary.protos import SessionLog
        join_threads = list(self._started_threads) + list(threads or [])
        self._coord.request_stop()
        try:
            self._coord.join(join_threads, stop_grace_period_secs=self._stop_grace_secs,
                             ignore_live_threads=ignore_live_threads)
        finally:
            if close_summary_writer and self._summary_writer is not None:
                self._summary_writer.add_session_log(SessionLog(status=SessionLog.STOP))
                self._summary_writer.close()
                self._graph_added_to_summary = False
            self._started_threads = []

    def request_stop(self, ex=None) -> None:
        """Asks every coordinated thread to stop (with the exception to re-raise, if any)."""
        self._coord.request_stop(ex)

    def should_stop(self) -> bool:
        """Whether a stop was requested."""
        return self._coord.should_stop()

    def stop_on_exception(self):
        """A context manager that turns an exception into a stop request."""
        return self._coord.stop_on_exception()

    def wait_for_stop(self) -> None:
        """Blocks until a stop is requested."""
        self._coord.wait_for_stop()

    def summary_computed(self, sess, summary, global_step=None) -> None:
        """Writes a summary computed by the caller (at the current global step by default).

        Raises:
            RuntimeError: there is no summary writer (no logdir, or not the chief).
        """
        if self._summary_writer is None:
            raise RuntimeError("Writing a summary requires a summary writer.")
        if global_step is None and self._global_step is not None:
            global_step = sess.run(self._global_step)
        self._summary_writer.add_summary(summary, global_step)

    # -- the threads' bodies ----------------------------------------------------------------
    def _write_graph(self) -> None:
        if self._graph_added_to_summary or not self._is_chief or not self._logdir:
            return
        from ..summary.protos import SessionLog
        if self._summary_writer is not None:
            self._summary_writer.add_graph(self._graph)
            self._summary_writer.add_session_log(SessionLog(status=SessionLog.START))
            self._graph_added_to_summary = True

    def _save_checkpoint(self, sess) -> None:
        if not _session_open(sess):
            return
        logging.info("Saving checkpoint to path %s", self._save_path)
        self._saver.save(sess, self._save_path, global_step=self._global_step)

    def _write_summaries(self, sess) -> None:
        if not _session_open(sess):
            return
        if self._global_step is not None:
            summary, step = sess.run([self._summary_op, self._global_step])
        else:
            summary, step = sess.run(self._summary_op), None
        self._summary_writer.add_summary(summary, step)

    def _step_counter(self, sess):
        """A thread writing ``global_step/sec`` every `save_summaries_secs`."""
        from ..summary.protos import Summary
        last = {"step": None, "time": None}
        tag = f"{self._global_step.op.name}/sec"

        def count_steps():
            if not _session_open(sess):
                return
            step, now = int(sess.run(self._global_step)), time.time()
            if last["step"] is not None and now > last["time"]:
                rate = (step - last["step"]) / (now - last["time"])
                summary = Summary(value=[Summary.Value(tag=tag, simple_value=rate)])
                self._summary_writer.add_summary(summary, step)
                logging.info("%s: %g", tag, rate)
            last["step"], last["time"] = step, now

        return self.loop(self._save_summaries_secs, count_steps)


def _session_open(sess) -> bool:
    """Services skip their work once the session is closed (they may wake after it)."""
    return not getattr(sess, "_closed", False)


