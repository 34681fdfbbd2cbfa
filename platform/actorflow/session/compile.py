"""Compile pass: a pruned op list becomes a plan — straight-line Python over numbered slots.

Contract: ``compile_plan(ops, fetches, feeds, ctx)`` resolves each op's kernel once (for the
device type and array namespace in `ctx`), gives every live tensor a numbered local slot, and
emits one kernel call per op in topological order, followed by ``del`` of each slot after its
last reader (so buffers are freed as soon as they are dead). Constants are bound into the plan
instead of being recomputed; NoOps vanish (sequential order already honours control edges);
a variable (VariableV2) is read inline by each of its readers, at the reader's position.
On the CPU, regions of small elementwise ops are one kernel call each (session/fuse.py).

The plan is generated Python source compiled once: the hot loop does no graph walking, no
dict lookup by name and no allocation beyond what kernels return. A traced variant, emitted on
demand, records per-op wall time and output bytes for `RunMetadata`. When a kernel raises, the
failing line maps back to its op, and the error names the op and the shapes of its inputs.
"""
from __future__ import annotations

import itertools
import time

import numpy as np

from .. import errors
from ..framework import registry
from .fuse import fusion_regions

__all__ = ["Plan", "CompileContext", "compile_plan"]

_plan_ids = itertools.count()

# Ops whose output is a variable's ref: no slot of their own; every reader calls the kernel
# inline, so a read placed after an assignment (by a control edge) sees the assigned value,
# as a TF 1.x ref read does.
_READ_AT_USE = frozenset({"VariableV2"})


class CompileContext:
    """What kernel factories may ask for: the device, its array namespace and type, and the
    session's state."""

    def __init__(self, session, device=None) -> None:
        from .devices import LocalDevice
        self.session = session
        self.device = device if device is not None else LocalDevice("CPU", 0)
        self.xp = self.device.xp
        self.device_type = self.device.device_type
        timeout_ms = getattr(getattr(session, "_config", None), "operation_timeout_in_ms", 0)
        #: Seconds a `_Recv` waits for its value (None: until the run ends or fails).
        self.transfer_timeout = timeout_ms / 1000.0 if timeout_ms and timeout_ms > 0 else None

    def var_cell(self, var_op):
        """The mutable cell holding variable `var_op`'s value in this session."""
        return self.session._var_cell(var_op)

    def rng(self, op):
        """The random generator of stateful random op `op` in this session (seeded)."""
        return self.session._rng_for(op)

    def op_state(self, op, factory):
        """Per-session state of a stateful op, created by `factory()` on first use."""
        return self.session._op_state(op, factory)

    def compile_function(self, func_graph):
        """`func_graph` (a traced branch, loop body or dataset function) compiled for this
        context's session and device, cached: a callable ``f(*inputs) -> outputs``."""
        from .function_plan import compile_function
        return compile_function(func_graph, self)


class Plan:
    """A compiled run: ``plan.run(*feed_values) -> tuple of fetch values``."""

    def __init__(self, fn, traced_src, kernels, consts, line_ops, arg_names, ops, copy_mask,
                 filename, device, env):
        self.run = fn
        self.device = device
        self._env = env
        self._traced_src = traced_src
        self._kernels = kernels
        self._consts = consts
        self._traced = None
        self.line_ops = line_ops
        self.arg_names = arg_names
        self.ops = ops
        self.copy_mask = copy_mask
        self.copies = any(copy_mask)
        self.filename = filename

    def run_traced(self, feed_values, records: list):
        """Runs the plan recording (op, start_s, end_s, output_bytes) into `records`."""
        if self._traced is None:
            traced = _build(self._traced_src, self._kernels, self._consts,
                            self.filename + "-traced", extra=self._env)
            self._traced = _on_device(traced, self.device) if self.device.is_gpu else traced
        return self._traced(records, *feed_values)

    def record_trace(self, run_metadata, records, t_start_wall: float) -> None:
        """Adds this plan's per-op records (from `run_traced`) to `run_metadata`."""
        run_metadata._record(self.ops, records, t_start_wall, self.device.name)

    def translate(self, exc: BaseException, op=None) -> errors.OpError:
        """Turns an exception raised inside a kernel into an OpError naming the op.

        `op` names the failing op when the caller knows it (the traced plan, whose lines
        do not map to ops); otherwise the failing line of the plan gives it.
        """
        line_op, locs = failing_line(exc, self.filename, self.line_ops)
        op = op if op is not None else line_op
        if isinstance(exc, errors.OpError):
            if exc.op is None and op is not None:
                exc.op = op
            return exc
        if op is None:
            return errors.InternalError(None, None, f"{type(exc).__name__}: {exc}")
        return op_error(exc, op, [locs.get(name) for name in self.arg_names.get(op, ())])


def failing_line(exc: BaseException, filename: str, line_ops: dict) -> tuple:
    """(op, frame locals) of the innermost frame of `exc`'s traceback in generated code whose
    file name starts with `filename`, its line mapped to an op by `line_ops`; (None, {})
    when no frame is in that code."""
    tb, op, locs = exc.__traceback__, None, {}
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(filename):
            op, locs = line_ops.get(tb.tb_lineno), tb.tb_frame.f_locals
        tb = tb.tb_next
    return op, locs


def op_error(exc: BaseException, op, values) -> errors.OpError:
    """The OpError for `exc`, raised by `op`'s kernel on the input `values` (None: freed):
    it names the op and the inputs' shapes."""
    msg = (f"{op.type} op '{op.name}' failed on inputs "
           f"{', '.join(_describe(v) for v in values) or '()'}: {type(exc).__name__}: {exc}")
    if isinstance(exc, MemoryError):
        return errors.ResourceExhaustedError(None, op, msg)
    return errors.InvalidArgumentError(None, op, msg)


def kernel_for(op, ctx: CompileContext):
    """`op`'s kernel on `ctx`'s device.

    Raises:
        errors.UnimplementedError: the device type has no kernel for the op.
    """
    factory = registry.kernel_factory(op.op_def, ctx.device_type)
    if factory is None:
        raise errors.UnimplementedError(None, op, f"No {ctx.device_type} kernel for op "
                                        f"{op.name} ({op.type})")
    return factory(op, ctx)


def _describe(v) -> str:
    if v is None:
        return "<freed>"
    shape = getattr(v, "shape", None)
    dtype = getattr(v, "dtype", None)
    if shape is None:
        return repr(v)
    return f"{dtype}[{','.join(str(d) for d in shape)}]"


def _build(src: str, kernels: list, consts: list, filename: str, extra=None):
    names = [f"k{i}" for i in range(len(kernels))] + [f"c{i}" for i in range(len(consts))]
    outer = f"def __make({', '.join(names)}):\n{src}    return plan\n"
    env = {"_perf": time.perf_counter, "_nbytes": _nbytes}
    if extra:
        env.update(extra)
    exec(compile(outer, filename, "exec"), env)  # noqa: S102 - source generated above
    return env["__make"](*kernels, *consts)


def _nbytes(v) -> int:
    if isinstance(v, tuple):
        return sum(_nbytes(x) for x in v)
    return int(getattr(v, "nbytes", 0))


def compile_plan(ops, fetches, feeds, ctx: CompileContext, alias=None,
                 host_io: bool = True) -> Plan:
    """Compiles `ops` (pruned, topologically sorted) into a Plan.

    Args:
        fetches: Tensors or Operations, in the order the plan returns them (ops give None).
        feeds: the fed Tensors, in the order the plan takes their values.
        alias: {tensor: equal earlier tensor} from the CSE pass; the ops whose outputs are
            all aliased are not run, their readers read the representative.
        host_io: on a GPU, feeds arrive as host arrays and fetches leave as host arrays;
            False keeps both on the device (a function body called by a kernel).
    """
    alias = alias or {}
    from ..framework.graph import Tensor

    expr: dict = {}
    for i, t in enumerate(feeds):
        expr[t] = f"f{i}"
    # Readers of each tensor, as line indices, to place `del`s.
    consts: list = []
    kernels: list = []
    used: set = {alias.get(f, f) for f in fetches if isinstance(f, Tensor)}
    for op in ops:
        ref = op.op_def.ref_inputs
        for i, t in enumerate(op.inputs):
            if i not in ref:
                used.add(alias.get(t, t))

    # Regions of small elementwise ops: one kernel each, called at the root's position.
    regions = fusion_regions(ops, fetches, feeds, alias, ctx.device_type)
    swallowed = {op for r in regions.values() for op in r.ops if op is not r.root}

    lines: list[tuple] = []  # (op, call source, assignment target, slots read)
    slot_ids = itertools.count()
    arg_names: dict = {}
    for op in ops:
        if op.type == "NoOp" or op in swallowed:
            continue
        if op.outputs and all(t in alias for t in op.outputs):
            for t in op.outputs:
                if alias[t] in expr:
                    expr[t] = expr[alias[t]]
            continue
        if op.type == "Const":
            t = op.outputs[0]
            if t not in expr:
                expr[t] = f"c{len(consts)}"
                consts.append(ctx.device.to_device(op.attrs["value"]))
            continue
        if all(t in expr for t in op.outputs) and op.outputs and (
                not op.op_def.stateful or op.type in _READ_AT_USE):
            continue  # every output fed (a fed variable is not read)
        region = regions.get(op)
        kernels.append(region.kernel(ctx) if region else kernel_for(op, ctx))
        k = f"k{len(kernels) - 1}"
        if op.type in _READ_AT_USE:
            expr[op.outputs[0]] = f"{k}()"  # each reader reads the variable when it runs
            continue
        ref = op.op_def.ref_inputs
        args = [expr[t] for t in region.inputs] if region else \
            [expr[t] for i, t in enumerate(op.inputs) if i not in ref]
        arg_names[op] = args
        outs = []
        for t in op.outputs:
            if t in used and t not in expr:
                expr[t] = f"v{next(slot_ids)}"
                outs.append(expr[t])
            else:
                outs.append("_")  # unused, or fed: the fed value wins
        call = f"{k}({', '.join(args)})"
        if not op.outputs:
            target = ""
        elif len(op.outputs) == 1:
            target = "" if outs[0] == "_" else outs[0]
        else:
            target = ", ".join(outs) + ("," if len(outs) == 1 else "")
            if all(o == "_" for o in outs):
                target = ""
        lines.append((op, call, target, [a for a in args if a.startswith("v")]))

    # Liveness: free each slot after its last reader unless it is returned.
    returned = {expr[f] for f in fetches if isinstance(f, Tensor) and f in expr}
    last_read: dict[str, int] = {}
    for idx, (_, _, _, reads) in enumerate(lines):
        for s in reads:
            last_read[s] = idx
    frees: dict[int, list[str]] = {}
    for s, idx in last_read.items():
        if s not in returned:
            frees.setdefault(idx, []).append(s)
    # Slots written but never read or returned die right after their writer.
    for idx, (_, _, target, _) in enumerate(lines):
        for s in (x.strip() for x in target.split(",")):
            if s.startswith("v") and s not in last_read and s not in returned:
                frees.setdefault(idx, []).append(s)

    params = ", ".join(f"f{i}" for i in range(len(feeds)))
    on_gpu = ctx.device.is_gpu and host_io
    ret = []
    for f in fetches:
        if isinstance(f, Tensor) and f in expr:
            # Fetches leave a GPU as host arrays; feeds enter it once, at the top.
            ret.append(f"_host({expr[f]})" if on_gpu else expr[f])
        else:
            ret.append("None")
    ret_src = f"    return ({', '.join(ret)}{',' if len(ret) == 1 else ''})\n"

    body, tbody, line_ops = [], [], {}
    if on_gpu and feeds:
        moves = "".join(f"        f{i} = _dev(f{i})\n" for i in range(len(feeds)))
        body.append(moves)
        tbody.append(moves)
    lineno = 3 + (len(feeds) if on_gpu else 0)  # line 1: def __make, line 2: def plan
    for idx, (op, call, target, _) in enumerate(lines):
        stmt = f"{target} = {call}" if target else call
        body.append(f"        {stmt}\n")
        line_ops[lineno] = op
        lineno += 1
        tbody.append(f"        _t0 = _perf(); _o = {call}; "
                     f"_records.append(({idx}, _t0, _perf(), _nbytes(_o)))\n")
        if target:
            tbody.append(f"        {target} = _o\n")
        if idx in frees:
            body.append(f"        del {', '.join(frees[idx])}\n")
            lineno += 1
    src = f"    def plan({params}):\n" + "".join(body) + ret_src.replace("    return",
                                                                       "        return")
    tparams = "_records" + (", " + params if params else "")
    tsrc = f"    def plan({tparams}):\n" + "".join(tbody) + \
        ret_src.replace("    return", "        return")
    filename = f"<actorflow-plan-{next(_plan_ids)}>"
    env = {"_dev": ctx.device.to_device, "_host": ctx.device.to_host}
    fn = _build(src, kernels, consts, filename, extra=env)
    if ctx.device.is_gpu:
        fn = _on_device(fn, ctx.device)
    aliasing = _aliases_state(ops)
    copy_mask = tuple(isinstance(f, Tensor) and f in aliasing for f in fetches)
    plan = Plan(fn, tsrc, kernels, consts, line_ops, arg_names, [ln[0] for ln in lines],
                copy_mask, filename, ctx.device, env)
    return plan


def _on_device(fn, device):
    """`fn` run with `device` current (CUDA kernels launch on the plan's GPU)."""
    def run_on_device(*args):
        with device.activate():
            return fn(*args)
    return run_on_device


_STATE_OPS = frozenset({"VariableV2", "Const"})


def _aliases_state(ops) -> set:
    """Tensors whose value may share memory with what outlives the run — variable storage
    (updated in place later) or a plan's read-only constant: fetches return copies of these."""
    out: set = set()
    for op in ops:
        if op.type in _STATE_OPS:
            out.update(op.outputs)
        elif op.op_def.aliases_input and any(t in out or t.op.type in _STATE_OPS
                                             for t in op.inputs):
            out.update(op.outputs)
    return out


def copy_aliased(out: tuple, mask: tuple) -> tuple:
    """`out` with the values that may alias variable storage copied (fetches are snapshots)."""
    return tuple(np.array(v, copy=True) if c and v is not None else v
                 for v, c in zip(out, mask))
