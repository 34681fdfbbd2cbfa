"""`tf.train.MonitoredSession` and `tf.train.MonitoredTrainingSession` (TF 1.x): a session
that initializes or restores the model, runs its queue runners, and calls hooks around
each run.

Construction: every hook's `begin()`; the session creator finalizes the `Scaffold` (each op
left None is taken from its graph collection, or made and added there: init, ready,
local-init and summary ops, a Saver) and creates the session through a `SessionManager`
(`ChiefSessionCreator` restores the latest checkpoint of `checkpoint_dir` or initializes;
`WorkerSessionCreator` waits for a ready model); then a Coordinator starts the graph's queue
runners, the graph is finalized and each hook's `after_create_session(session, coord)` runs.

``run(fetches, feed_dict, options, run_metadata)`` asks each hook's `before_run` for extra
fetches and feeds (a feed given twice is an error), runs everything in one call, hands each
hook its own results in `after_run`, and returns the caller's. `should_stop()` is true once a
hook requested a stop or the coordinator was told to stop (a queue runner's error).

Leaving the ``with`` block (or `close()`) calls each hook's `end(session)` unless an
exception is on its way, stops and joins the queue-runner threads, and closes the session;
`OutOfRangeError` (an input pipeline that ran out) ends the block cleanly.

`MonitoredTrainingSession` is the usual entry point: on the chief it adds a
`StepCounterHook`, a `SummarySaverHook` (every 100 steps by default) and a
`CheckpointSaverHook` (every 600 seconds by default) writing to `checkpoint_dir`.
"""
from __future__ import annotations

from .. import errors
from ..framework.graph import GraphKeys, get_default_graph
from ..variables import (global_variables, global_variables_initializer,
                         local_variables_initializer, report_uninitialized_variables)
from .basic_session_run_hooks import CheckpointSaverHook, StepCounterHook, SummarySaverHook
from .coordinator import Coordinator
from .queue_runner import start_queue_runners
from .saver import Saver
from .session_manager import SessionManager
from .session_run_hook import SessionRunArgs, SessionRunContext, SessionRunValues

__all__ = ["Scaffold", "SessionCreator", "ChiefSessionCreator", "WorkerSessionCreator",
           "MonitoredSession", "SingularMonitoredSession", "MonitoredTrainingSession"]

USE_DEFAULT = object()


class Scaffold:
    """The ops a monitored session needs to make a model ready, gathered in `finalize()`.

    Args:
        init_op, init_feed_dict: initialize the model when no checkpoint restores it.
        init_fn: ``init_fn(scaffold, session)``, called after `init_op`.
        ready_op: a string vector naming what is not initialized.
        ready_for_local_init_op: must report nothing before `local_init_op` runs.
        local_init_op: run in every new session.
        summary_op: what `SummarySaverHook` writes.
        saver: what restores and saves checkpoints.
        copy_from_scaffold: take the arguments left None from this scaffold.
    """

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None,
                 saver=None, copy_from_scaffold=None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")
            c = copy_from_scaffold
            init_op = init_op if init_op is not None else c.init_op
            init_feed_dict = init_feed_dict if init_feed_dict is not None else c.init_feed_dict
            init_fn = init_fn if init_fn is not None else c._user_init_fn
            ready_op = ready_op if ready_op is not None else c.ready_op
            ready_for_local_init_op = (ready_for_local_init_op
                                       if ready_for_local_init_op is not None
                                       else c.ready_for_local_init_op)
            local_init_op = local_init_op if local_init_op is not None else c.local_init_op
            summary_op = summary_op if summary_op is not None else c.summary_op
            saver = saver if saver is not None else c.saver
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op, self._init_feed_dict = init_op, init_feed_dict
        self._ready_op, self._ready_for_local_init_op = ready_op, ready_for_local_init_op
        self._local_init_op, self._summary_op, self._saver = local_init_op, summary_op, saver

    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    init_fn = property(lambda self: self._init_fn)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    local_init_op = property(lambda self: self._local_init_op)
    summary_op = property(lambda self: self._summary_op)
    saver = property(lambda self: self._saver)

    @staticmethod
    def get_or_default(arg_name: str, collection_key: str, default_constructor):
        """The single op of `collection_key`, or ``default_constructor()`` added there.

        Raises:
            RuntimeError: the collection holds more than one op.
        """
        graph = get_default_graph()
        elements = graph.get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError(f"More than one item in the collection \"{collection_key}\". "
                                   f"Please indicate which one to use by passing it to the "
                                   f"tf.Scaffold constructor as:  tf.Scaffold({arg_name}=item"
                                   f" to use)")
            return elements[0]
        op = default_constructor()
        if op is not None:
            graph.add_to_collection(collection_key, op)
        return op

    def finalize(self) -> "Scaffold":
        """Fills in every op left None and finalizes the default graph."""
        from ..ops.summary_ops import merge_all
        graph = get_default_graph()
        if self._init_op is None:
            self._init_op = Scaffold.get_or_default("init_op", GraphKeys.INIT_OP,
                                                    global_variables_initializer)
        if self._ready_op is None:
            self._ready_op = Scaffold.get_or_default("ready_op", GraphKeys.READY_OP,
                                                     report_uninitialized_variables)
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", GraphKeys.READY_FOR_LOCAL_INIT_OP,
                lambda: report_uninitialized_variables(global_variables()))
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default(
                "local_init_op", GraphKeys.LOCAL_INIT_OP, local_variables_initializer)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", GraphKeys.SUMMARY_OP,
                                                       merge_all)
        if self._saver is None:
            self._saver = Scaffold.get_or_default(
                "saver", GraphKeys.SAVERS, lambda: Saver(sharded=True, allow_empty=True))
        self._saver.build()
        graph.finalize()
        return self


class SessionCreator:
    """Makes the session a `MonitoredSession` runs."""

    def create_session(self):
        raise NotImplementedError("create_session is not implemented for {self}.")


class ChiefSessionCreator(SessionCreator):
    """Restores the latest checkpoint of `checkpoint_dir` (or
    `checkpoint_filename_with_path`), or else initializes the model."""

    def __init__(self, scaffold=None, master: str = "", config=None,
                 checkpoint_dir: str | None = None,
                 checkpoint_filename_with_path: str | None = None):
        self._scaffold = scaffold or Scaffold()
        self._master, self._config = master, config
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path

    def create_session(self):
        self._scaffold.finalize()
        return _session_manager(self._scaffold).prepare_session(
            self._master, saver=self._scaffold.saver, checkpoint_dir=self._checkpoint_dir,
            checkpoint_filename_with_path=self._checkpoint_filename_with_path,
            config=self._config, init_op=self._scaffold.init_op,
            init_feed_dict=self._scaffold.init_feed_dict, init_fn=self._scaffold.init_fn)


class WorkerSessionCreator(SessionCreator):
    """Waits until the chief has made the model ready."""

    def __init__(self, scaffold=None, master: str = "", config=None,
                 max_wait_secs: float = 30 * 60):
        self._scaffold = scaffold or Scaffold()
        self._master, self._config, self._max_wait_secs = master, config, max_wait_secs

    def create_session(self):
        self._scaffold.finalize()
        return _session_manager(self._scaffold).wait_for_session(
            self._master, config=self._config, max_wait_secs=self._max_wait_secs)


def _session_manager(scaffold: Scaffold) -> SessionManager:
    return SessionManager(local_init_op=scaffold.local_init_op, ready_op=scaffold.ready_op,
                          ready_for_local_init_op=scaffold.ready_for_local_init_op,
                          graph=get_default_graph())


class MonitoredSession:
    """A session with hooks, queue runners and a coordinated stop (see the module docstring).

    Args:
        session_creator: makes the session (default: a `ChiefSessionCreator`).
        hooks: `SessionRunHook`s, called in order.
        stop_grace_period_secs: how long `close` waits for the queue-runner threads.
    """

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs: float = 120):
        self._hooks = list(hooks or [])
        self._stop_grace_period_secs = stop_grace_period_secs
        self._should_stop = False
        self._tf_sess = None
        self._coord = None
        for hook in self._hooks:
            hook.begin()
        self._tf_sess = (session_creator or ChiefSessionCreator()).create_session()
        self._coord = Coordinator()
        start_queue_runners(sess=self._tf_sess, coord=self._coord)
        self._tf_sess.graph.finalize()
        for hook in self._hooks:
            hook.after_create_session(self._tf_sess, self._coord)

    @property
    def graph(self):
        return self._tf_sess.graph

    def _tf_session(self):
        return self._tf_sess

    def should_stop(self) -> bool:
        """True once a hook requested a stop, the coordinator was stopped, or it closed.

        Raises:
            The error a queue-runner thread reported to the coordinator, if any.
        """
        if self._tf_sess is None:
            return True
        self._coord.raise_requested_exception()
        return self._should_stop or self._coord.should_stop()

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs `fetches` with every hook's fetches and feeds; returns the caller's values.

        Raises:
            RuntimeError: the session was asked to stop or is closed.
            ValueError: a tensor fed both by the caller and a hook, or by two hooks.
        """
        if self._tf_sess is None:
            raise RuntimeError("Session is already closed.")
        if self._should_stop:
            raise RuntimeError("Run called even after should_stop requested.")
        run_context = SessionRunContext(SessionRunArgs(fetches, feed_dict), self._tf_sess)
        all_fetches, feeds, options = self._before_run(run_context, fetches, feed_dict,
                                                       options)
        outputs = self._tf_sess.run(all_fetches, feed_dict=feeds, options=options,
                                    run_metadata=run_metadata)
        for i, hook in enumerate(self._hooks):
            hook.after_run(run_context, SessionRunValues(outputs.get(i), options,
                                                         run_metadata))
        self._should_stop = self._should_stop or run_context.stop_requested
        return outputs["caller"]

    def _before_run(self, run_context, fetches, feed_dict, options):
        all_fetches = {"caller": fetches}
        user_feeds = dict(feed_dict or {})
        hook_feeds: dict = {}
        for i, hook in enumerate(self._hooks):
            request = hook.before_run(run_context)
            if request is None:
                continue
            if request.fetches is not None:
                all_fetches[i] = request.fetches
            if request.feed_dict:
                for key in request.feed_dict:
                    if key in user_feeds:
                        raise RuntimeError(f"Same tensor is fed by a SessionRunHook and user. "
                                           f"Conflict(s): {key}")
                    if key in hook_feeds:
                        raise RuntimeError(f"Same tensor is fed by two hooks. Conflict(s): "
                                           f"{key}")
                hook_feeds.update(request.feed_dict)
            if request.options is not None and options is None:
                options = request.options
        if hook_feeds:
            user_feeds.update(hook_feeds)
        return all_fetches, (user_feeds or None), options

    def run_step_fn(self, step_fn):
        """Calls ``step_fn(step_context)``; `step_context.session` is the raw session and
        `step_context.run_with_hooks` runs through the hooks."""
        return step_fn(_StepContext(self))

    def close(self) -> None:
        self._close(None)

    def _close(self, exception_type) -> None:
        if self._tf_sess is None:
            return
        sess, self._tf_sess = self._tf_sess, None
        try:
            if exception_type is None:
                for hook in self._hooks:
                    hook.end(sess)
        finally:
            try:
                self._coord.request_stop()
                self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs,
                                 ignore_live_threads=True)
            finally:
                sess.close()

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        if exception_type is not None and issubclass(exception_type,
                                                     (errors.OutOfRangeError, StopIteration)):
            exception_type = None
        self._close(exception_type)
        return exception_type is None


class _StepContext:
    """What `run_step_fn` hands its function."""

    def __init__(self, monitored):
        self._monitored = monitored

    session = property(lambda self: self._monitored._tf_sess)

    def run_with_hooks(self, *args, **kwargs):
        return self._monitored.run(*args, **kwargs)

    def request_stop(self):
        self._monitored._should_stop = True


class SingularMonitoredSession(MonitoredSession):
    """A `MonitoredSession` for a single process: always the chief."""

    def __init__(self, hooks=None, scaffold=None, master: str = "", config=None,
                 checkpoint_dir: str | None = None, stop_grace_period_secs: float = 120,
                 checkpoint_filename_with_path: str | None = None):
        creator = ChiefSessionCreator(
            scaffold=scaffold, master=master, config=config, checkpoint_dir=checkpoint_dir,
            checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(creator, hooks=hooks, stop_grace_period_secs=stop_grace_period_secs)

    def raw_session(self):
        """The underlying session, without hooks."""
        return self._tf_sess


def MonitoredTrainingSession(master: str = "", is_chief: bool = True,  # noqa: N802 - TF name
                             checkpoint_dir: str | None = None, scaffold=None, hooks=None,
                             chief_only_hooks=None, save_checkpoint_secs=USE_DEFAULT,
                             save_summaries_steps=USE_DEFAULT, save_summaries_secs=USE_DEFAULT,
                             config=None, stop_grace_period_secs: float = 120,
                             log_step_count_steps: int = 100, max_wait_secs: float = 7200,
                             save_checkpoint_steps=USE_DEFAULT, summary_dir=None):
    """A `MonitoredSession` for training (see the module docstring for the hooks it adds).

    Checkpoints: every `save_checkpoint_secs` (600 when neither it nor
    `save_checkpoint_steps` is given); summaries: every `save_summaries_steps` (100 when
    neither it nor `save_summaries_secs` is given), into `summary_dir` or `checkpoint_dir`.
    """
    if save_summaries_steps is USE_DEFAULT and save_summaries_secs is USE_DEFAULT:
        save_summaries_steps, save_summaries_secs = 100, None
    save_summaries_steps = None if save_summaries_steps is USE_DEFAULT else save_summaries_steps
    save_summaries_secs = None if save_summaries_secs is USE_DEFAULT else save_summaries_secs
    if save_checkpoint_secs is USE_DEFAULT and save_checkpoint_steps is USE_DEFAULT:
        save_checkpoint_secs, save_checkpoint_steps = 600, None
    save_checkpoint_secs = None if save_checkpoint_secs is USE_DEFAULT else save_checkpoint_secs
    save_checkpoint_steps = (None if save_checkpoint_steps is USE_DEFAULT
                             else save_checkpoint_steps)
    scaffold = scaffold or Scaffold()
    if not is_chief:
        creator = WorkerSessionCreator(scaffold=scaffold, master=master, config=config,
                                       max_wait_secs=max_wait_secs)
        return MonitoredSession(creator, hooks=hooks or [],
                                stop_grace_period_secs=stop_grace_period_secs)
    all_hooks = list(chief_only_hooks or []) + list(hooks or [])
    creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config,
                                  checkpoint_dir=checkpoint_dir)
    summary_dir = summary_dir or checkpoint_dir
    if summary_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(StepCounterHook(output_dir=summary_dir,
                                             every_n_steps=log_step_count_steps))
        if (save_summaries_steps and save_summaries_steps > 0) or \
                (save_summaries_secs and save_summaries_secs > 0):
            all_hooks.append(SummarySaverHook(scaffold=scaffold,
                                              save_steps=save_summaries_steps or None,
                                              save_secs=save_summaries_secs or None,
                                              output_dir=summary_dir))
    if checkpoint_dir:
        if (save_checkpoint_secs and save_checkpoint_secs > 0) or \
                (save_checkpoint_steps and save_checkpoint_steps > 0):
            all_hooks.append(CheckpointSaverHook(checkpoint_dir,
                                                 save_steps=save_checkpoint_steps or None,
                                                 save_secs=save_checkpoint_secs or None,
                                                 scaffold=scaffold))
    return MonitoredSession(creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)
