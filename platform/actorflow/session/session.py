"""`Session`: prune → place → partition → CSE → compile → run, plans cached by
(fetches, feeds).

A plan whose ops all sit on one device compiles to one straight-line plan run in the calling
thread; otherwise each device's partition compiles on its own and the partitions run
concurrently, joined by Send/Recv transfers (`partition.py`, `executor.py`).

A session owns the state of its graph's stateful ops (variable values, random generators),
so two sessions over one graph never share variable values, as in TF 1.x.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping

import numpy as np

from .. import errors
from ..dtypes import string as _STRING
from ..framework.default_session import (DefaultSessionContext, get_default_session,
                                         register_interactive, unregister_interactive)
from ..framework.graph import Graph, Operation, Tensor, get_default_graph
from ..ops.constant import as_bytes_array
from .compile import CompileContext, _aliases_state, compile_plan, copy_aliased
from .config import ConfigProto, RunMetadata, RunOptions
from .cse import eliminate_common_subexpressions
from .devices import local_devices
from .executor import DeviceWorkers, MultiDevicePlan
from .partial_run import PartialRun
from .partition import n_transfers, partition
from .placement import place
from .prune import prune
from .threads import BLAS_APPLIED, apply_blas_threads, resolve_intra_op

__all__ = ["Session", "InteractiveSession", "get_default_session"]


class InvalidFeedError(errors.InvalidArgumentError, ValueError):
    """A feed of the wrong shape or dtype, or a fed key that is not in the graph."""


class FeedOverflowError(InvalidFeedError, TypeError):
    """A Python int scalar fed to a tensor whose dtype cannot hold it unchanged: out of an
    integer dtype's range, or other than 0/1 for bool, or any int for string (a TypeError in
    TF 1.x, which is why this is one too)."""


class FeedConversionError(InvalidFeedError, TypeError):
    """A feed value that NumPy cannot convert to the tensor's dtype: "could not convert
    string to float", a ragged list, a dict. TF lets NumPy's ValueError or TypeError through;
    this is both, and names the tensor."""


class FetchNotFoundError(errors.NotFoundError, KeyError):
    """A fetch or feed name that names nothing in the graph."""


class ForeignElementError(errors.InvalidArgumentError, ValueError):
    """A fetch or feed that belongs to another graph."""


class VarCell:
    """A variable's value in one session; None until initialised."""

    __slots__ = ("value", "name")

    def __init__(self, name: str) -> None:
        self.value = None
        self.name = name


class Session:
    """Runs (parts of) a graph. TF 1.x's `tf.Session(target='', graph=None, config=None)`.

    `target` may be a cluster (`actorflow.actors.Cluster`): ops placed on its tasks'
    devices ("/job:worker/task:1") then run in those tasks' actors (in-graph replication).
    """

    def __init__(self, target: str = "", graph: Graph | None = None,
                 config: ConfigProto | None = None) -> None:
        self._graph = graph if graph is not None else get_default_graph()
        self._config = config if config is not None else ConfigProto()
        self._target = target
        self._plans: dict = {}
        self._cells: dict[Operation, VarCell] = {}
        self._rngs: dict = {}
        self._states: dict = {}
        self._closed = False
        self._lock = threading.RLock()
        self._devices = None          # LocalDevices, probed on first use
        self._contexts: dict = {}     # device -> CompileContext
        self._pinned: dict = {}       # VariableV2 op -> the device holding its value
        self._workers = DeviceWorkers()
        opts = self._config.graph_options.optimizer_options
        self._cse = bool(getattr(opts, "do_common_subexpression_elimination", True))
        self._default_cm = None
        self._partial_runs: dict = {}  # handle -> PartialRun
        # BLAS threads for this session's runs (threads.py: 0 means the environment's count,
        # else 1), applied before a run only when another count was applied last.
        self._blas_threads = resolve_intra_op(self._config.intra_op_parallelism_threads)

    # -- properties --------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def graph_def(self):
        return self._graph.as_graph_def()

    @property
    def sess_str(self) -> str:
        return self._target

    # -- devices -----------------------------------------------------------------------
    def _local_devices(self) -> list:
        """This process's devices, then those a cluster target adds (its tasks' actors)."""
        if self._devices is None:
            devices = local_devices(self._config)
            remote = getattr(self._target, "session_devices", None)
            if remote is not None:
                devices = devices + list(remote())
            self._devices = devices
        return self._devices

    def _context(self, device) -> CompileContext:
        ctx = self._contexts.get(device)
        if ctx is None:
            ctx = self._contexts[device] = CompileContext(self, device)
        return ctx

    def _store_variable(self, var_op: Operation, value) -> None:
        """Sets a variable's value from a host array, on the device that holds it."""
        dev = self._pinned.get(var_op)
        self._var_cell(var_op).value = dev.to_device(value) if dev is not None else value

    def _pin_variables(self, var_ops) -> None:
        """Moves values stored before their variables were placed onto their devices."""
        for op in var_ops:
            cell = self._cells.get(op)
            if cell is not None and cell.value is not None:
                cell.value = self._pinned[op].to_device(cell.value)

    # -- state used by kernels ---------------------------------------------------------
    def _var_cell(self, var_op: Operation) -> VarCell:
        cell = self._cells.get(var_op)
        if cell is None:
            with self._lock:
                cell = self._cells.setdefault(var_op, VarCell(var_op.name))
        return cell

    def _rng_for(self, op: Operation) -> np.random.Generator:
        rng = self._rngs.get(op)
        if rng is None:
            from ..ops.random import op_seeds
            seed, seed2 = op_seeds(op)
            entropy = None if seed is None else [seed, seed2]
            rng = self._rngs.setdefault(op, np.random.Generator(np.random.PCG64(entropy)))
        return rng

    def _op_state(self, op: Operation, factory):
        st = self._states.get(op)
        if st is None:
            st = self._states.setdefault(op, factory())
            if self._closed:  # created by a run that raced with close()
                _cancel_on_close(st)
        return st

    # -- running -----------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options: RunOptions | None = None,
            run_metadata: RunMetadata | None = None):
        """Runs the ops and evaluates the tensors in `fetches`, feeding `feed_dict`.

        Args:
            fetches: a Tensor, Operation, variable, "op:k"/"op" name, or any nesting of lists,
                tuples, namedtuples and dicts of those. Ops fetch None.
            feed_dict: {tensor or name: value}; any tensor may be fed.
            options: `RunOptions(trace_level=RunOptions.FULL_TRACE)` records per-op timings
                into `run_metadata`.

        Returns:
            The fetched values, in the structure of `fetches`.

        Raises:
            RuntimeError: the session is closed.
            InvalidArgumentError: a feed of the wrong shape or dtype, a missing placeholder
                feed, or a kernel failure (the message names the op and input shapes).
            NotFoundError: a fetch or feed name that does not exist.
            FailedPreconditionError: a variable read before initialisation.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        graph = self._graph
        if type(fetches) is Tensor and fetches.op.graph is graph:
            flat, rebuild = (fetches,), _first  # the common cases, without the generic walk
        elif type(fetches) is list and all(_plain_element(f, graph) for f in fetches):
            flat, rebuild = tuple(fetches), list
        else:
            flat_list: list = []
            rebuild = _flatten_fetches(fetches, self._resolve_fetch, flat_list)
            flat = tuple(flat_list)
        feed_tensors, feed_values = self._prepare_feeds(feed_dict)
        plan = self._plans.get((flat, feed_tensors)) or self._plan_for(flat, feed_tensors)
        trace = options is not None and getattr(options, "trace_level", 0) > 0
        records: list = []
        if BLAS_APPLIED[0] != self._blas_threads:
            apply_blas_threads(self._blas_threads)
        try:
            if trace:
                t_start = time.time()
                out = plan.run_traced(feed_values, records)
            else:
                out = plan.run(*feed_values)
        except Exception as e:  # noqa: BLE001 - every kernel failure becomes an OpError
            # The traced plan's lines do not map to ops: its record count names the op.
            failed = plan.ops[len(records)] if trace and len(records) < len(plan.ops) \
                else None
            raise plan.translate(e, failed).with_traceback(None) from None
        if run_metadata is not None and options is not None:
            run_metadata._reset()
            if trace:
                plan.record_trace(run_metadata, records, t_start)
            if getattr(options, "output_partition_graphs", False):
                run_metadata.partition_graphs = list(getattr(plan, "partition_graphs", ()))
        if plan.copies:
            out = copy_aliased(out, plan.copy_mask)
        if plan.scalars:
            out = _as_scalars(out, plan.scalar_mask)
        return rebuild(iter(out))

    def make_callable(self, fetches, feed_list=None):
        """A function ``f(*feed_values)`` running `fetches`; skips per-call fetch parsing."""
        flat: list = []
        rebuild = _flatten_fetches(fetches, self._resolve_fetch, flat)
        feeds = [self._resolve_feed_key(k) for k in (feed_list or ())]
        order = sorted(range(len(feeds)), key=lambda i: (feeds[i].op._id, feeds[i].value_index))
        sorted_feeds = tuple(feeds[i] for i in order)

        def call(*values):
            if len(values) != len(feeds):
                raise TypeError(f"Expected {len(feeds)} feed values, got {len(values)}")
            converted = [_check_feed(sorted_feeds[j], values[i]) for j, i in enumerate(order)]
            plan = self._plan_for(tuple(flat), sorted_feeds)
            if BLAS_APPLIED[0] != self._blas_threads:
                apply_blas_threads(self._blas_threads)
            try:
                out = plan.run(*converted)
            except Exception as e:  # noqa: BLE001
                raise plan.translate(e).with_traceback(None) from None
            if plan.copies:
                out = copy_aliased(out, plan.copy_mask)
            if plan.scalars:
                out = _as_scalars(out, plan.scalar_mask)
            return rebuild(iter(out))

        return call

    def partial_run_setup(self, fetches, feeds=None) -> str:
        """Starts a partial run: one execution spread over several `partial_run` calls.

        Args:
            fetches: every fetch a later `partial_run` may ask for.
            feeds: every tensor (or name) a later `partial_run` may feed.

        Returns:
            The handle naming this partial run in `partial_run`.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        state = PartialRun(self, fetches, feeds or (), _flatten_fetches, _check_feed)
        self._partial_runs[state.handle] = state
        return state.handle

    def partial_run(self, handle: str, fetches, feed_dict=None):
        """Continues the partial run `handle`: feeds `feed_dict`, runs the ops that became
        computable (each op runs once per partial run) and returns `fetches`.

        Raises:
            PartialRunError: a feed or fetch not declared in `partial_run_setup`, fed or
                fetched twice, or a fetch whose inputs are not all fed yet.
            KeyError: an unknown handle.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        state = self._partial_runs.get(handle)
        if state is None:
            raise KeyError(f"No partial run with handle {handle!r} in this session")
        return state.run(fetches, feed_dict)

    def _run_compiled(self, ops, flat: tuple, feed_tensors: tuple, values: list) -> tuple:
        """Compiles `ops` (already pruned) for `flat` and runs it once on `values`."""
        plan = self._compile(ops, flat, feed_tensors, set(feed_tensors))
        if BLAS_APPLIED[0] != self._blas_threads:
            apply_blas_threads(self._blas_threads)
        try:
            out = plan.run(*values)
        except Exception as e:  # noqa: BLE001 - every kernel failure becomes an OpError
            raise plan.translate(e).with_traceback(None) from None
        if plan.copies:
            out = copy_aliased(out, plan.copy_mask)
        _mark_scalar_fetches(plan, flat)
        if plan.scalars:
            out = _as_scalars(out, plan.scalar_mask)
        return tuple(out)

    def _plan_for(self, flat: tuple, feed_tensors: tuple):
        key = (flat, feed_tensors)
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key)
                if plan is None:
                    fed = set(feed_tensors)
                    targets = [f if isinstance(f, Operation) else f.op
                               for f in flat if not (isinstance(f, Tensor) and f in fed)]
                    ops = prune(targets, fed)
                    plan = self._compile(ops, flat, feed_tensors, fed)
                    _mark_scalar_fetches(plan, flat)
                    self._plans[key] = plan
        return plan

    def _compile(self, ops, flat: tuple, feed_tensors: tuple, fed: set):
        """Places, partitions and compiles the pruned `ops` into a plan."""
        devices = self._local_devices()
        known = set(self._pinned)
        placement = place(ops, devices, soft=self._config.allow_soft_placement,
                          pinned=self._pinned, fed=fed)
        self._pin_variables([op for op in self._pinned if op not in known])
        if self._config.log_device_placement:
            _log_placement(ops, placement)
        fetched = {f if isinstance(f, Operation) else f.op for f in flat}
        used = {placement[op] for op in ops if op.type != "Const" or op in fetched}
        if len(used) <= 1 and not any(getattr(d, "is_remote", False) for d in used):
            device = used.pop() if used else devices[0]
            alias = eliminate_common_subexpressions(ops, fed) if self._cse else None
            plan = compile_plan(ops, flat, feed_tensors, self._context(device), alias)
            plan.partition_graphs = []
            return plan
        parts = partition(ops, placement, flat, feed_tensors, aliasing=_aliases_state(ops))
        for p in parts:
            if getattr(p.device, "is_remote", False):
                p.plan = p.device.compile_partition(p, self._graph)  # runs in its process
                continue
            alias = eliminate_common_subexpressions(p.ops, fed) if self._cse else None
            p.plan = compile_plan(p.ops, p.fetches, p.feeds, self._context(p.device), alias)
        return MultiDevicePlan(parts, feed_tensors, flat, self._workers, n_transfers(parts))

    def _resolve_fetch(self, obj):
        return self._resolve(obj, True, "Fetch argument")

    def _resolve_feed_key(self, key) -> Tensor:
        return self._resolve(key, False, "feed_dict key")

    def _resolve(self, obj, allow_operation: bool, what: str):
        """This graph's element named by `obj`, with the session's error types."""
        try:
            return self._graph.as_graph_element(obj, allow_tensor=True,
                                                allow_operation=allow_operation)
        except KeyError as e:
            raise FetchNotFoundError(None, None, str(e.args[0])) from None
        except ValueError as e:
            raise ForeignElementError(None, None, f"{what} {obj!r} cannot be interpreted as "
                                      f"a Tensor. ({e})") from None
        except TypeError as e:
            raise TypeError(f"{what} {obj!r} has invalid type {type(obj).__name__}, must be "
                            f"a string or Tensor. ({e})") from None

    def _prepare_feeds(self, feed_dict) -> tuple[tuple, tuple]:
        """The fed tensors in graph order, and their checked values in the same order."""
        if not feed_dict:
            return (), ()
        graph = self._graph
        pairs = []
        for key, value in feed_dict.items():
            t = key if type(key) is Tensor and key.op.graph is graph \
                else self._resolve_feed_key(key)
            pairs.append((t, _check_feed(t, value)))
        if len(pairs) == 1:
            return (pairs[0][0],), (pairs[0][1],)
        pairs.sort(key=_feed_order)
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Releases variable values and compiled plans; later runs raise RuntimeError.

        The session's queues are cancelled first: ops blocked in them (queue-runner threads
        in an enqueue, a reader waiting for a filename) raise CancelledError, so their
        threads end."""
        self._closed = True
        for state in list(self._states.values()):
            _cancel_on_close(state)
        self._plans.clear()
        self._cells.clear()
        self._workers.stop()

    def as_default(self):
        """Context manager making this the default session (for `Tensor.eval`, `Op.run`)."""
        return DefaultSessionContext(self)

    def __enter__(self) -> "Session":
        self._default_cm = self.as_default()
        self._default_cm.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._default_cm is not None:
            self._default_cm.__exit__(*exc)
            self._default_cm = None
        self.close()

    def list_devices(self) -> list:
        """The session's devices (name, device_type, memory_limit_bytes)."""
        out = []
        for d in self._local_devices():
            limit = 0
            if d.is_gpu:
                with d.activate():
                    limit = int(d.xp.cuda.runtime.memGetInfo()[1])
            out.append(_DeviceAttributes(d.name, d.device_type, limit))
        return out


def _cancel_on_close(state) -> None:
    """Cancels an op's per-session state that can block: state with a
    ``cancel_on_session_close()`` method (the queues of ``actorflow.queues``, whose calls
    blocked now or made later raise CancelledError)."""
    cancel = getattr(state, "cancel_on_session_close", None)
    if cancel is not None:
        cancel()


def _log_placement(ops, placement: dict) -> None:
    """Prints where each op of a new plan runs, in TF's `log_device_placement` format
    (``name: (Type): /job:localhost/replica:0/task:0/device:CPU:0``), naming the device an op
    asked for when it was placed elsewhere."""
    from ..framework.device_spec import DeviceSpec
    from .placement import matches
    for op in ops:
        dev = placement[op]
        moved = op.device and not matches(DeviceSpec.from_string(op.device), dev)
        asked = f" (requested {op.device})" if moved else ""
        print(f"{op.name}: ({op.type}): {dev.name}{asked}", file=sys.stderr)


class _DeviceAttributes:
    def __init__(self, name: str, device_type: str, memory_limit_bytes: int = 0) -> None:
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = memory_limit_bytes


class InteractiveSession(Session):
    """A Session that installs itself as the default session on construction."""

    def __init__(self, target: str = "", graph: Graph | None = None,
                 config: ConfigProto | None = None) -> None:
        super().__init__(target, graph, config)
        self._interactive_cm = self.as_default()
        self._interactive_cm.__enter__()
        register_interactive(self)

    def close(self) -> None:
        if self._interactive_cm is not None:
            try:
                self._interactive_cm.__exit__(None, None, None)
            except IndexError:
                pass
            self._interactive_cm = None
        unregister_interactive(self)
        super().close()



def _check_feed(t: Tensor, value):
    """Converts a feed value to the tensor's dtype, as TF 1.x does, and checks its shape
    against the static one.

    The fast path is an ndarray that already has the dtype; anything else goes through
    `_convert_feed`. Only a failed conversion or an incompatible shape is an error.
    """
    np_dtype = t.dtype.np
    if type(value) is np.ndarray and value.dtype == np_dtype and np_dtype.kind != "O":
        arr = value
    else:
        arr = _convert_feed(t, value, np_dtype)
    shape = t._shape
    if shape is not None:
        ok = arr.ndim == len(shape) and all(d is None or d == s
                                            for d, s in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("?" if d is None else str(d) for d in shape) + \
                (",)" if len(shape) == 1 else ")")
            raise InvalidFeedError(None, t.op, f"Cannot feed value of shape {arr.shape} for "
                                   f"Tensor {t.name!r}, which has shape {want!r}")
    return arr


def _convert_feed(t: Tensor, value, np_dtype: np.dtype) -> np.ndarray:
    """`value` as an array of `np_dtype`, converted the way TF 1.x's `Session.run` does.

    Numeric dtypes: ``np.asarray(value).astype(dtype)``, so lists, object arrays of numbers
    (``np.vstack`` over tuples), ints for floats, floats for ints (truncated toward zero) and
    strings of digits all convert, and out-of-range integers in lists and arrays wrap. Bool:
    ``np.asarray(value, bool)`` (any number). String: an object array of bytes (str encoded
    as UTF-8; anything else fails, as in TF's runtime). A Python int scalar must survive the
    conversion unchanged (TF's TypeError for 2**40 fed to int32, or 5 fed to bool or string).
    """
    if isinstance(value, Tensor):
        raise TypeError(f"The value of a feed cannot be a tf.Tensor object ({value.name}). "
                        "Acceptable feed values include Python scalars, strings, lists, "
                        "numpy ndarrays.")
    if isinstance(value, int):
        _check_python_int(t, value, np_dtype)
    try:
        if np_dtype.kind in "iufc":
            # astype, not asarray(dtype=): NumPy 2 refuses out-of-range Python ints in lists
            # where TF (and NumPy 1) wrap them.
            return np.asarray(value).astype(np_dtype, copy=False)
        if t.dtype is _STRING:
            return _string_feed(value)
        return np.asarray(value, dtype=np_dtype)
    except (ValueError, TypeError, OverflowError) as e:
        raise FeedConversionError(None, t.op, f"Cannot convert the value fed to Tensor "
                                  f"{t.name!r} to {t.dtype.name}: {e}") from None


def _string_feed(value) -> np.ndarray:
    """A string feed as an object array of bytes: str is UTF-8 encoded, as TF's runtime
    stores it (ops then see b'a' for a fed 'a').

    Raises:
        TypeError: an element that is neither str nor bytes (TF: "Unsupported object type").
    """
    arr = as_bytes_array(value)
    for x in arr.flat:
        if not isinstance(x, bytes):
            raise TypeError(f"Unsupported object type {type(x).__name__}")
    return arr


def _check_python_int(t: Tensor, value: int, np_dtype: np.dtype) -> None:
    """Raises FeedOverflowError when the Python int `value` changes on conversion to the
    tensor's dtype (TF compares the converted scalar with the int; strings compare as str)."""
    try:
        if np_dtype.kind == "O":
            same = False  # TF compares str(value) with value: never equal
        else:
            same = bool(np.array(value).astype(np_dtype) == value)
    except OverflowError:
        same = False
    if same:
        return
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        hint = f" (range {info.min}..{info.max}); use a larger dtype such as int64"
    elif np_dtype.kind == "O":
        hint = ": feed a str or bytes instead"
    elif np_dtype.kind == "b":
        hint = ": feed True/False, 0 or 1 instead"
    else:
        hint = ""
    shown = str(value)
    if len(shown) > 30:
        shown = f"{shown[:12]}... ({len(shown)} digits)"
    raise FeedOverflowError(None, t.op, f"Feed value {shown} for Tensor {t.name!r} does not "
                            f"fit its dtype {t.dtype.name}{hint}")


def _mark_scalar_fetches(plan, flat: tuple) -> None:
    """Marks the fetches that may be 0-d: TF returns those as NumPy scalars (np.float32,
    bytes for a string), not 0-d arrays. Fetches of known higher rank cost nothing."""
    mask = tuple(isinstance(f, Tensor) and (f._shape is None or f._shape == ())
                 for f in flat)
    plan.scalar_mask = mask
    plan.scalars = any(mask)


def _as_scalars(out: tuple, mask: tuple) -> tuple:
    return tuple(v[()] if m and type(v) is np.ndarray and v.ndim == 0 else v
                 for v, m in zip(out, mask))


def _feed_order(pair) -> tuple:
    t = pair[0]
    return t.op._id, t.value_index


def _plain_element(f, graph) -> bool:
    """`f` is a Tensor or Operation of `graph` (fetched as itself, nothing to resolve)."""
    t = type(f)
    return (t is Tensor and f.op.graph is graph) or (t is Operation and f.graph is graph)


def _first(it):
    return next(it)


def _flatten_fetches(fetches, resolve, flat: list):
    """Flattens a fetch structure into `flat`; returns a function rebuilding it from values."""
    parts = getattr(fetches, "_fetch_parts", None)
    if parts is not None:  # a composite (SparseTensor): its tensors, then its value type
        tensors, build = parts()
        subs = [_flatten_fetches(t, resolve, flat) for t in tensors]
        return lambda it: build(*[r(it) for r in subs])
    if isinstance(fetches, Mapping):
        items = [(k, _flatten_fetches(v, resolve, flat)) for k, v in fetches.items()]
        typ = type(fetches)

        def rebuild_map(it):
            vals = [(k, r(it)) for k, r in items]
            try:
                return typ(vals)
            except TypeError:
                return dict(vals)
        return rebuild_map
    if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):
        subs = [_flatten_fetches(v, resolve, flat) for v in fetches]
        typ = type(fetches)
        return lambda it: typ(*[r(it) for r in subs])
    if isinstance(fetches, (list, tuple)):
        subs = [_flatten_fetches(v, resolve, flat) for v in fetches]
        typ = type(fetches)
        return lambda it: typ(r(it) for r in subs)
    if fetches is None:
        raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
    flat.append(resolve(fetches))
    return next
