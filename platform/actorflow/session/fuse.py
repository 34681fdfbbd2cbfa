"""Fusion pass: regions of small elementwise float ops run as one numexpr kernel.

Contract: ``fusion_regions(ops, fetches, feeds, alias, device_type)`` returns
``{root op: Region}`` for the CPU plan that `compile.compile_plan` builds; the plan runs each
region's kernel once, at its root's position, in place of the region's ops (which it skips).
A region is a tree of fusable ops (`EXPRESSIONS`) of one float dtype (float32 or float64)
whose internal tensors each have exactly one reader in the plan and are neither fetched nor
fed nor CSE-merged; its leaves are the tensors computed outside it (0-d float constants are
folded into the expression). Regions of one op stay unfused; big ones are split
(`MAX_REGION_OPS`: numexpr's compile time grows faster than linearly with the expression).
Expressions are built as numexpr expression trees (no string to parse, so no limit on
nesting), compiled once per process for each structure (a chain cut into chunks, a repeated
layer share one), and called under one lock each: numexpr keeps a call's temporaries in the
expression object and releases the GIL while it computes.

Why: a NumPy ufunc call costs ~0.3 µs however small its operands, so a chain of k ops on a
few dozen elements costs k such calls; one pre-compiled numexpr expression costs ~0.5 µs
plus ~30 ns an op. But numexpr's virtual machine is slower per element than NumPy's SIMD
loops (at one thread: an 8-op region on 16K float32 elements 5x slower fused, BiasAdd + Relu
on AlexNet's 25 MB conv1 output 2.6x; benchmarks/fusion_size.py), so a region is
evaluated fused only while its operands hold at most `MAX_ELEMENTS` elements: a region
whose static shape is bigger is not formed, and one whose shape is not fully known checks
its operands' sizes at run time and else runs its ops one by one, as an unfused plan would.

Exactness: every expression is typed explicitly (numexpr kinds 'float' = float32, 'double'
= float64; constants are NumPy scalars of the region's dtype), compiled with
``optimization='none'`` (numexpr otherwise turns ``x / c`` into ``x * (1/c)``), so add, sub,
mul, div, max/min (NaN-propagating, as ``np.maximum``), neg, abs, sqrt, reciprocal, rsqrt,
square, Relu, ReluGrad, BiasAdd, the comparisons and Select (an elementwise condition) give
results bit-equal to the NumPy kernels (a NaN's sign bit aside: IEEE leaves it free); exp, log,
log1p, tanh, sin, cos and sigmoid use the C library's functions, a few ulp from NumPy's.

Tracing and errors: a region is one kernel call, recorded in `RunMetadata` under its root op.
When numexpr fails, the region's ops run one by one: an error then names the op that raised
it, as the unfused plan's would.

Fusion needs the optional ``numexpr`` package; without it, or with ``ACTORFLOW_FUSE=0`` in
the environment when a plan is compiled, plans are exactly unfused. numexpr runs on its own
thread pool: it is imported with at most this process's usable CPUs as its maximum and the
session's BLAS thread count as its size, and `threads.apply_blas_threads` resizes it with
BLAS's (a session never oversubscribes more with fusion than without).
"""
from __future__ import annotations

import itertools
import os
import threading

import numpy as np

from .. import errors

__all__ = ["Region", "fusion_regions", "load_numexpr", "MAX_ELEMENTS", "MAX_REGION_OPS",
           "ENV_SWITCH"]

ENV_SWITCH = "ACTORFLOW_FUSE"
"""Environment variable: ``0`` disables fusion for plans compiled while it is set."""

MAX_ELEMENTS = 128
"""Largest operand (elements) a region evaluates fused: at one thread, fusion's break-even
is ~128 elements for 2-op float32 regions and ~256 for 8-op ones; at 16K elements an 8-op
region runs 5x slower fused (benchmarks/fusion_size.py)."""

MAX_REGION_OPS = 64
"""Most ops in one region: numexpr compiles 64 ops in ~5 ms, 128 in ~18 ms."""

_KINDS = {np.dtype(np.float32): ("float", float), np.dtype(np.float64): ("double", np.double)}

_lock = threading.Lock()
_numexpr: list = []  # [module or None] once the import was tried
_compiled: dict = {}  # expression structure -> (compiled numexpr expression, its lock)
_COMPILED_CACHE = 1024  # structures kept (emptied when full: plans keep their own)
_kernel_ids = itertools.count()


def load_numexpr():
    """numexpr, imported once with this process's thread limits, or None when missing."""
    with _lock:
        if not _numexpr:
            _numexpr.append(_import_numexpr())
        return _numexpr[0]


def _import_numexpr():
    from .threads import BLAS_APPLIED, usable_cpus
    threads = BLAS_APPLIED[0] or 1
    # numexpr sizes its pool from the environment at import (and logs a line when unset):
    # at most the CPUs we may use, starting at the session's BLAS count, not every core.
    env = {"NUMEXPR_MAX_THREADS": str(usable_cpus()), "NUMEXPR_NUM_THREADS": str(threads)}
    saved = {k: os.environ.get(k) for k in env}
    for k, v in env.items():
        if not os.environ.get(k):
            os.environ[k] = v
    try:
        import numexpr
    except ImportError:
        return None
    finally:
        for k, v in saved.items():
            if v is None:
                del os.environ[k]
            else:
                os.environ[k] = v
    numexpr.set_num_threads(threads)
    return numexpr


# -- expressions ---------------------------------------------------------------------------
def _op(name):
    def build(ne, kind, op, args):
        return ne.OpNode(name, args, kind)
    return build


def _func(name):
    def build(ne, kind, op, args):
        return ne.FuncNode(name, args, kind)
    return build


def _const(ne, kind, value):
    return ne.ConstantNode(np.float32(value) if kind == "float" else np.float64(value))


def _reciprocal(ne, kind, op, args):
    return ne.OpNode("div", (_const(ne, kind, 1), args[0]), kind)


def _rsqrt(ne, kind, op, args):  # the kernel's reciprocal(sqrt(x)), both correctly rounded
    return _reciprocal(ne, kind, op, (ne.OpNode("sqrt", args, kind),))


def _square(ne, kind, op, args):
    return ne.OpNode("mul", (args[0], args[0]), kind)


def _relu(ne, kind, op, args):
    return ne.FuncNode("maximum", (args[0], _const(ne, kind, 0)), kind)


def _relu_grad(ne, kind, op, args):
    # g * (y > 0) as NumPy computes it: g times 1.0 or 0.0 (so -g * 0 = -0, inf * 0 = nan).
    g, y = args
    mask = ne.FuncNode("where", (ne.OpNode("gt", (y, _const(ne, kind, 0)), "bool"),
                                 _const(ne, kind, 1), _const(ne, kind, 0)), kind)
    return ne.OpNode("mul", (g, mask), kind)


def _sigmoid(ne, kind, op, args):
    # The kernel's 1 / (1 + exp(min(-x, log(max) - 0.1))): exp never overflows.
    dt = np.float32 if kind == "float" else np.float64
    limit = float(np.log(np.finfo(dt).max)) - 0.1
    t = ne.FuncNode("minimum", (ne.OpNode("neg", args, kind), _const(ne, kind, limit)), kind)
    e = ne.FuncNode("exp", (t,), kind)
    return _reciprocal(ne, kind, op, (ne.OpNode("add", (e, _const(ne, kind, 1)), kind),))


def _compare(name, swap=False):
    def build(ne, kind, op, args):  # numexpr has no lt/le: x < y is y > x
        return ne.OpNode(name, args[::-1] if swap else args, "bool")
    return build


def _select(ne, kind, op, args):
    return ne.FuncNode("where", args, kind)


EXPRESSIONS = {
    "Add": _op("add"), "Sub": _op("sub"), "Mul": _op("mul"), "RealDiv": _op("div"),
    "BiasAdd": _op("add"), "Neg": _op("neg"), "Sqrt": _op("sqrt"),
    "Maximum": _func("maximum"), "Minimum": _func("minimum"), "Abs": _func("absolute"),
    "Exp": _func("exp"), "Log": _func("log"), "Log1p": _func("log1p"), "Tanh": _func("tanh"),
    "Sin": _func("sin"), "Cos": _func("cos"),
    "Reciprocal": _reciprocal, "Rsqrt": _rsqrt, "Square": _square, "Relu": _relu,
    "ReluGrad": _relu_grad, "Sigmoid": _sigmoid, "Select": _select,
    "Greater": _compare("gt"), "GreaterEqual": _compare("ge"), "Less": _compare("gt", True),
    "LessEqual": _compare("ge", True), "Equal": _compare("eq"), "NotEqual": _compare("ne"),
}
"""Fusable op type -> builder(numexpr.expressions, kind, op, argument nodes) of its node."""

_COMPARISONS = frozenset({"Greater", "GreaterEqual", "Less", "LessEqual", "Equal", "NotEqual"})

_LEAF_INPUTS = frozenset({"Square"})
"""Ops whose expression uses its input twice: the input is never fused into them (its
subtree would be duplicated)."""


class Region:
    """Fusable ops computing `root`'s output from `inputs` (tensors computed outside).

    Attributes:
        root: the op whose output the region computes; the plan's kernel call stands there.
        ops: the region's ops, topologically sorted (root last).
        inputs: the external tensors the kernel takes, in argument order.
        dtype: the NumPy float dtype the region computes in.
    """

    def __init__(self, root, ops, args, inputs, consts, dims_known: bool) -> None:
        self.root = root
        self.dtype = _float_dtype(root)
        self.ops = ops
        self._args = args  # {op: its input tensors, CSE aliases resolved}
        self.inputs = inputs
        self._consts = consts  # {tensor: 0-d value} folded into the expression
        self._dims_known = dims_known

    def kernel(self, ctx):
        """The region's kernel for `ctx` (a CompileContext): ``kernel(*inputs) -> output``.

        Raises:
            errors.UnimplementedError: a region op without a kernel on the device.
        """
        kind = _KINDS[self.dtype][0]
        types = tuple(bool if t.dtype.is_bool else _KINDS[self.dtype][1] for t in self.inputs)
        # The expression's structure: equal structures (a repeated layer, a long chain cut
        # into chunks) share one compiled expression, compiled once per process.
        refs = {t: ("a", i) for i, t in enumerate(self.inputs)}
        refs.update((t, ("c", v.tobytes())) for t, v in self._consts.items())
        key = [kind, types]
        for n, op in enumerate(self.ops):
            key.append((op.type, tuple(refs[t] for t in self._args[op])))
            refs[op.outputs[0]] = ("t", n)
        key = tuple(key)
        with _lock:
            compiled = _compiled.get(key)
        if compiled is None:
            # numexpr keeps a call's temporaries in the expression object, with the GIL
            # released while it computes: concurrent calls of one expression need its lock.
            compiled = (self._compile(kind, types), threading.Lock())
            with _lock:
                if len(_compiled) >= _COMPILED_CACHE:
                    _compiled.clear()
                _compiled[key] = compiled
        return self._build(compiled, ctx)

    def _compile(self, kind: str, types: tuple):
        """The region's expression, compiled by numexpr."""
        ne = load_numexpr()
        names = {t: f"a{i}" for i, t in enumerate(self.inputs)}
        nodes = {t: ne.expressions.VariableNode(names[t], "bool" if ty is bool else kind)
                 for t, ty in zip(self.inputs, types)}
        for t, v in self._consts.items():
            nodes[t] = _const(ne.expressions, kind, v)
        for op in self.ops:
            args = tuple(nodes[t] for t in self._args[op])
            nodes[op.outputs[0]] = EXPRESSIONS[op.type](ne.expressions, kind, op, args)
        return ne.NumExpr(nodes[self.root.outputs[0]],
                          [(names[t], ty) for t, ty in zip(self.inputs, types)],
                          optimization="none")

    def _build(self, compiled, ctx):
        """The kernel: generated Python running `compiled` ((numexpr expression, its lock)),
        with the region's ops one by one (their own kernels) as the path for big operands
        and for errors."""
        from .compile import failing_line, kernel_for, op_error  # compile imports this module
        line_ops, arg_slots, body = {}, {}, []
        slots = {t: f"a{i}" for i, t in enumerate(self.inputs)}
        for t in self._consts:
            slots[t] = f"c{len(slots)}"
        env = {slots[t]: v for t, v in self._consts.items()}
        for n, op in enumerate(self.ops):
            env[f"k{n}"] = kernel_for(op, ctx)
            slots[op.outputs[0]] = f"t{n}"
            arg_slots[op] = [slots[t] for t in self._args[op]]
            line_ops[len(body) + 2] = op  # line 1 is the def
            body.append(f"    t{n} = k{n}({', '.join(arg_slots[op])})\n")
        params = ", ".join(f"a{i}" for i in range(len(self.inputs)))
        filename = f"<actorflow-fused-{next(_kernel_ids)}-ops>"
        src = f"def unfused({params}):\n" + "".join(body) + f"    return t{len(self.ops) - 1}\n"
        exec(compile(src, filename, "exec"), env)  # noqa: S102 - source generated above
        unfused = env["unfused"]

        def explain(exc, args):
            """The region's ops one by one: their result, or the error naming the op."""
            try:
                return unfused(*args)
            except Exception as err:  # noqa: BLE001 - re-raised as the failing op's error
                if isinstance(err, errors.OpError):
                    raise
                op, locs = failing_line(err, filename, line_ops)
                if op is None:
                    raise
                values = [locs.get(n, env.get(n)) for n in arg_slots[op]]
                raise op_error(err, op, values) from err

        probes = [i for i, t in enumerate(self.inputs)
                  if not _fully_known(t._shape) and not self._dims_known]
        fused_src = [f"def fused({params}):\n"]
        if probes:
            test = " or ".join(f"a{i}.size > {MAX_ELEMENTS}" for i in probes)
            fused_src.append(f"    if {test}:\n        return unfused({params})\n")
        fused_src.append(f"    try:\n        with lock:\n            return ne_eval({params})\n"
                         f"    except Exception as exc:\n"
                         f"        return explain(exc, ({params}{',' if params else ''}))\n")
        fenv = {"ne_eval": compiled[0], "lock": compiled[1], "unfused": unfused,
                "explain": explain}
        exec(compile("".join(fused_src), filename[:-5] + "-call>", "exec"), fenv)  # noqa: S102
        return fenv["fused"]


def _fully_known(shape) -> bool:
    return shape is not None and None not in shape


def _float_dtype(op):
    """The float dtype `op` computes in: its output's, a comparison's operands'."""
    return np.dtype((op.inputs[0] if op.type in _COMPARISONS else op.outputs[0]).dtype.np)


def _small_float(op) -> bool:
    """`op` is fusable by type, dtype and (static) size."""
    if op.type not in EXPRESSIONS or len(op.outputs) != 1 or op.op_def.stateful:
        return False
    if op.type == "BiasAdd" and op.attrs.get("data_format", "NHWC").startswith("NC"):
        return False  # channels first: the bias is not broadcast along the last axis
    out = op.outputs[0]
    dtype = _float_dtype(op)
    floats = op.inputs[1:] if op.type == "Select" else op.inputs
    if dtype not in _KINDS or any(np.dtype(t.dtype.np) != dtype for t in floats):
        return False
    if op.type == "Select":
        cond, shape = op.inputs[0]._shape, out._shape
        if not op.inputs[0].dtype.is_bool or cond is None or shape is None \
                or len(cond) not in (0, len(shape)):
            return False  # a vector condition selecting rows is not elementwise
    shape = out._shape
    if shape is None or len(shape) == 0:
        return False  # NumPy returns 0-d results as scalars; numexpr as arrays
    return int(np.prod([d for d in shape if d is not None])) <= MAX_ELEMENTS


def fusion_regions(ops, fetches, feeds, alias, device_type: str) -> dict:
    """{root op: Region} for the fusable regions of `ops` (the pruned, sorted op list that
    `compile_plan` compiles); empty off the CPU, without numexpr or with fusion disabled.

    Args:
        fetches: the plan's fetches (Tensors or Operations): never swallowed by a region.
        feeds: the fed tensors: an op with a fed output is not fused.
        alias: {tensor: representative} from the CSE pass (None: no CSE).
    """
    if device_type != "CPU" or os.environ.get(ENV_SWITCH, "1").strip() == "0" \
            or load_numexpr() is None:
        return {}
    alias = alias or {}
    fed = set(feeds)
    fetched = set()
    for f in fetches:
        fetched.update(getattr(f, "outputs", ()) or (f,))
    readers: dict = {}  # tensor -> number of reads by plan ops (a tensor read twice counts 2)
    control = set()
    for op in ops:
        ref = op.op_def.ref_inputs
        for i, t in enumerate(op.inputs):
            if i not in ref:
                t = alias.get(t, t)
                readers[t] = readers.get(t, 0) + 1
        control.update(getattr(op, "control_inputs", ()))
    candidates = {op for op in ops if _small_float(op) and op.outputs[0] not in alias
                  and op.outputs[0] not in fed}
    from .compile import _READ_AT_USE  # compile imports this module
    index = {op: i for i, op in enumerate(ops)}
    regions: dict = {}
    taken: set = set()
    for root in reversed(ops):
        if root not in candidates or root in taken:
            continue
        members = _grow(root, candidates, taken, readers, fetched, fed, control, alias,
                        _READ_AT_USE)
        if len(members) < 2:
            continue
        taken.update(members)
        regions[root] = _region(root, sorted(members, key=index.__getitem__), alias, fed)
    return regions


def _grow(root, candidates, taken, readers, fetched, fed, control, alias, read_at_use) -> set:
    """The ops of the region rooted at `root`: producers absorbed depth first while each
    feeds only its reader in the region and the region stays under `MAX_REGION_OPS`."""
    members = {root}
    stack = [root]
    dtype = _float_dtype(root)
    while stack:
        op = stack.pop()
        if op.type in _LEAF_INPUTS:
            continue
        for t in op.inputs:
            t = alias.get(t, t)
            p = t.op
            if (p not in candidates or p in taken or p in members or p in control
                    or readers.get(t, 0) != 1 or t in fetched or t in fed
                    or _float_dtype(p) != dtype or len(members) >= MAX_REGION_OPS
                    or any(x.op.type in read_at_use for x in p.inputs)):
                # A variable read by a member would happen at the root's position, maybe
                # after an assignment ordered between the two: such an op is never absorbed.
                continue
            members.add(p)
            stack.append(p)
    return members


def _region(root, order, alias, fed) -> Region:
    """The Region of the ops `order` (topologically sorted) rooted at `root`."""
    members = set(order)
    inputs, consts = [], {}
    for op in order:
        for t in op.inputs:
            t = alias.get(t, t)
            if t.op in members or t in consts or t in inputs:
                continue
            value = t.op.attrs.get("value") if t.op.type == "Const" and t not in fed else None
            if isinstance(value, np.ndarray) and value.ndim == 0 \
                    and value.dtype == _float_dtype(root):
                consts[t] = value
            else:
                inputs.append(t)
    args = {op: tuple(alias.get(t, t) for t in op.inputs) for op in order}
    return Region(root, order, args, inputs, consts, _fully_known(root.outputs[0]._shape))
