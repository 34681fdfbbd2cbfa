"""`tf.train.SessionManager` (TF 1.x): creates sessions whose model is ready to use.

A chief calls `prepare_session`: it restores the latest checkpoint of `checkpoint_dir` (or
`checkpoint_filename_with_path`) when there is one, otherwise runs `init_op` and `init_fn`,
then `local_init_op`, and checks the model with `ready_op` (a string vector naming what is
still uninitialized; empty means ready). Other tasks call `wait_for_session`, which opens
sessions until the chief has made the model ready.
"""
from __future__ import annotations

import time

import numpy as np

from .. import errors
from .. import tf_logging as logging
from ..framework.graph import get_default_graph
from ..session.session import Session
from .saver import latest_checkpoint

__all__ = ["SessionManager"]


class SessionManager:
    """Creates sessions that are ready to run the model (initialized or restored).

    Args:
        local_init_op: run after every initialization or restore (local variables).
        ready_op: a string vector naming what is not ready; None skips the check.
        ready_for_local_init_op: must report nothing before `local_init_op` may run.
        graph: the model's graph (default: the default graph).
        recovery_wait_secs: pause between checks in `wait_for_session` / for a checkpoint.
        local_init_run_options: RunOptions for `local_init_op`.
    """

    def __init__(self, local_init_op=None, ready_op=None, ready_for_local_init_op=None,
                 graph=None, recovery_wait_secs: float = 30,
                 local_init_run_options=None) -> None:
        self._local_init_op = local_init_op
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph if graph is not None else get_default_graph()
        self._recovery_wait_secs = recovery_wait_secs
        self._local_init_run_options = local_init_run_options

    # -- the three entry points ---------------------------------------------------------
    def prepare_session(self, master: str = "", init_op=None, saver=None,
                        checkpoint_dir: str | None = None, wait_for_checkpoint: bool = False,
                        max_wait_secs: float = 7200, config=None, init_feed_dict=None,
                        init_fn=None, checkpoint_filename_with_path: str | None = None):
        """A session with the model restored from a checkpoint, or else initialized by
        `init_op` (fed `init_feed_dict`) and `init_fn(sess)`.

        Raises:
            RuntimeError: neither a checkpoint, `init_op` nor `init_fn` made the model ready
                (the message names what `ready_op` reports).
        """
        sess, restored, msg = self._restore_checkpoint(
            master, saver, checkpoint_dir, checkpoint_filename_with_path,
            wait_for_checkpoint, max_wait_secs, config)
        if not restored:
            if init_op is None and not init_fn and self._local_init_op is None:
                raise RuntimeError("Model is not initialized and no init_op or init_fn or "
                                   "local_init_op was given")
            if init_op is not None:
                sess.run(init_op, feed_dict=init_feed_dict)
            if init_fn:
                init_fn(sess)
        ready, reason = self._try_local_init(sess)
        if ready:
            ready, reason = self._model_ready(sess)
        if not ready:
            sess.close()
            raise RuntimeError("Init operations did not make model ready. "
                               f"Init op: {_name(init_op)}, init fn: {init_fn}, "
                               f"local_init_op: {_name(self._local_init_op)}, "
                               f"error: {reason}")
        return sess

    def recover_session(self, master: str = "", saver=None, checkpoint_dir: str | None = None,
                        wait_for_checkpoint: bool = False, max_wait_secs: float = 7200,
                        config=None, checkpoint_filename_with_path: str | None = None):
        """A session restored from the latest checkpoint, if there is one and it makes the
        model ready.

        Returns:
            ``(sess, initialized)``: `initialized` is False when nothing was restored or the
            model is not ready after the restore (the caller then initializes it).
        """
        sess, restored, _ = self._restore_checkpoint(
            master, saver, checkpoint_dir, checkpoint_filename_with_path,
            wait_for_checkpoint, max_wait_secs, config)
        if not restored:
            return sess, False
        ready, reason = self._try_local_init(sess)
        if ready:
            ready, reason = self._model_ready(sess)
        if not ready:
            logging.info("Restoring model from checkpoint did not make it ready: %s", reason)
        return sess, ready

    def wait_for_session(self, master: str = "", config=None, max_wait_secs: float = float("inf")):
        """Opens sessions until the model is ready (another task initializes it), pausing
        `recovery_wait_secs` between tries.

        Raises:
            DeadlineExceededError: still not ready after `max_wait_secs`.
        """
        deadline = time.time() + max_wait_secs
        while True:
            sess = Session(master, graph=self._graph, config=config)
            ready, reason = self._try_local_init(sess)
            if ready:
                ready, reason = self._model_ready(sess)
            if ready:
                return sess
            sess.close()
            remaining = deadline - time.time()
            if remaining < self._recovery_wait_secs:
                raise errors.DeadlineExceededError(
                    None, None, f"Session was not ready after waiting {max_wait_secs} secs: "
                    f"{reason}")
            logging.info("Waiting for model to be ready.  Ready_for_local_init_op:  %s, "
                         "ready: %s", None, reason)
            time.sleep(self._recovery_wait_secs)

    # -- helpers --------------------------------------------------------------------------
    def _restore_checkpoint(self, master, saver, checkpoint_dir, checkpoint_filename_with_path,
                            wait_for_checkpoint, max_wait_secs, config):
        """A new session, and whether a checkpoint was restored into it."""
        if checkpoint_dir and checkpoint_filename_with_path:
            raise ValueError("Can not provide both checkpoint_dir and "
                             "checkpoint_filename_with_path.")
        sess = Session(master, graph=self._graph, config=config)
        if saver is None or not (checkpoint_dir or checkpoint_filename_with_path):
            return sess, False, None
        if checkpoint_filename_with_path:
            saver.restore(sess, checkpoint_filename_with_path)
            return sess, True, None
        waited = 0.0
        path = latest_checkpoint(checkpoint_dir)
        while path is None:
            if not wait_for_checkpoint or waited >= max_wait_secs:
                return sess, False, "no checkpoint"
            logging.info("Waiting for checkpoint to be available.")
            time.sleep(self._recovery_wait_secs)
            waited += self._recovery_wait_secs
            path = latest_checkpoint(checkpoint_dir)
        saver.restore(sess, path)
        return sess, True, None

    def _try_local_init(self, sess):
        """Runs `local_init_op` once `ready_for_local_init_op` reports nothing."""
        if self._local_init_op is None:
            return True, None
        ready, reason = _ready(self._ready_for_local_init_op, sess,
                               "Model not ready for local init")
        if not ready:
            return False, reason
        sess.run(self._local_init_op, options=self._local_init_run_options)
        return True, None

    def _model_ready(self, sess):
        return _ready(self._ready_op, sess, "Model not ready")


def _ready(op, sess, what: str):
    """(True, None) when `op` is None or reports an empty vector, else (False, message)."""
    if op is None:
        return True, None
    try:
        names = np.asarray(sess.run(op))
    except errors.FailedPreconditionError as e:
        return False, f"{what}: {e}"
    if names.size == 0:
        return True, None
    listed = ", ".join(n.decode() if isinstance(n, bytes) else str(n) for n in names.ravel())
    return False, f"{what}: Variables not initialized: {listed}"


def _name(op) -> str | None:
    return None if op is None else getattr(op, "name", str(op))
