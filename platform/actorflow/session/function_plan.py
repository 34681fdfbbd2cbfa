"""Function plans: a traced sub-graph (`FuncGraph`: a cond branch, a loop body, a tf.data
map function) compiled by the same compile pass as a run, for one session and device.
Kernels reach this through `CompileContext.compile_function`, so the op families need not
import the session."""
from __future__ import annotations

import threading

from ..framework.function import FuncGraph
from .compile import compile_plan
from .prune import prune

__all__ = ["CompiledFunction", "compile_function"]


class CompiledFunction:
    """A function graph compiled for one session and device: ``f(*input_values)`` returns
    the tuple of output values. Inputs are in `FuncGraph.inputs` order (explicit arguments,
    then captured values). Safe to call from several threads at once."""

    def __init__(self, func_graph: FuncGraph, plan, xp) -> None:
        self.func_graph = func_graph
        self._plan = plan
        self._run = plan.run
        self._copies = plan.copies
        self._mask = plan.copy_mask
        self._xp = xp
        self.num_inputs = len(func_graph.inputs)

    def __call__(self, *values) -> tuple:
        try:
            out = self._run(*values)
        except Exception as e:  # noqa: BLE001 - a body's failure names the body's op
            raise self._plan.translate(e).with_traceback(None) from None
        if self._copies:
            xp = self._xp
            out = tuple(xp.array(v, copy=True) if c and v is not None else v
                        for v, c in zip(out, self._mask))
        return out


_compile_lock = threading.RLock()


def compile_function(func_graph: FuncGraph, ctx) -> CompiledFunction:
    """`func_graph` compiled for `ctx`'s session and device (cached on the context).

    The plan computes `func_graph.outputs` from `func_graph.inputs` and also runs the
    body's stateful ops (an assignment in a branch happens when the branch runs). Values stay
    on the device: the calling kernel passes device arrays in and gets device arrays out.
    """
    cache = ctx.__dict__.get("_functions")
    if cache is None:
        with _compile_lock:
            cache = ctx.__dict__.setdefault("_functions", {})
    fn = cache.get(func_graph)
    if fn is not None:
        return fn
    with _compile_lock:
        fn = cache.get(func_graph)
        if fn is None:
            inputs = func_graph.inputs
            targets = [t.op for t in func_graph.outputs] + func_graph.control_outputs
            ops = prune(targets, set(inputs))
            # Outer ops reached here are variables read in place: they come first (they
            # have no inputs), then the body in its own creation order.
            outer = [op for op in ops if op.graph is not func_graph]
            inner = [op for op in ops if op.graph is func_graph]
            plan = compile_plan(outer + inner, list(func_graph.outputs), list(inputs), ctx,
                                host_io=False)
            fn = cache[func_graph] = CompiledFunction(func_graph, plan, ctx.xp)
    return fn
