"""Functional control flow: `tf.cond`, `tf.case` and `tf.while_loop` as If and While ops.

A branch or loop body is traced into a `FuncGraph` (framework/function.py) held in the op's
attrs; the op's kernel runs the body's compiled plan. So the compile pass stays straight-line
for every graph, and only the ops inside the taken branch run (an assignment in the untaken
branch does not happen).

- If: inputs ``[pred] + captured``; both branches take the captured values in the same
  order. Outputs: the branch outputs, then hidden values (see below).
- While: inputs ``loop_vars + captured (+ maximum_iterations)``; cond and body take
  ``loop_vars + captured``. Outputs: the final loop vars, then (with back_prop) a variant
  holding each iteration's loop vars and hidden values, which `WhileGrad` walks backwards.

Gradients recompute rather than keep intermediates: a gradient function clones the forward
body into a new FuncGraph and differentiates the clone there. The values of the body's
stateful ops (random draws, assignments read by other ops) are not recomputed: the forward op
returns them as hidden outputs and the clone reads those, so a dropout mask is the same in
both passes and an assignment is not repeated.
"""
from __future__ import annotations

from .. import dtypes
from ..framework.function import FuncGraph, add_outer_control_inputs, clone_function, trace
from ..framework.graph import (Operation, Tensor, convert_to_tensor, get_default_graph,
                               name_scope)
from ..framework.registry import NO_GRADIENT, register_op
from ..tensor_shape import TensorShape, as_shape
from .tensor_array import TensorArray, add_lists

__all__ = ["cond", "case", "while_loop", "smart_cond"]

_CONTROL_FLOW_OPS = frozenset({"If", "While"})


# -- nested structures (tuples, lists, namedtuples, dicts; TensorArrays are leaves) -----------
def _flatten(s) -> list:
    if isinstance(s, dict):
        return [x for k in sorted(s) for x in _flatten(s[k])]
    if isinstance(s, (list, tuple)):
        return [x for v in s for x in _flatten(v)]
    return [s]


def _pack_as(structure, flat):
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            vals = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, vals[k]) for k in s)
        if isinstance(s, tuple) and hasattr(s, "_fields"):
            return type(s)(*[build(v) for v in s])
        if isinstance(s, (list, tuple)):
            return type(s)(build(v) for v in s)
        return next(it)
    return build(structure)


def _same_structure(a, b) -> bool:
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and sorted(a) == sorted(b) and \
            all(_same_structure(a[k], b[k]) for k in a)
    seq_a, seq_b = isinstance(a, (list, tuple)), isinstance(b, (list, tuple))
    if seq_a or seq_b:
        return seq_a and seq_b and len(a) == len(b) and \
            all(_same_structure(x, y) for x, y in zip(a, b))
    return True


def _to_tensor_leaf(v):
    """A TensorArray travels as its flow; anything else as a tensor."""
    if isinstance(v, TensorArray):
        return v.flow
    return convert_to_tensor(v)


def _rewrap(template, t):
    """`t` in the form of `template` (a TensorArray over flow `t`, or `t` itself)."""
    return template._with_flow(t) if isinstance(template, TensorArray) else t


def _shape_str(shape) -> str:
    return str(TensorShape(shape))


def _most_specific(a, b):
    """The most specific shape compatible with both static shapes (None where they differ)."""
    if a is None or b is None or len(a) != len(b):
        return None
    return tuple(x if x == y else None for x, y in zip(a, b))


# -- hidden values: what the gradient reads instead of recomputing ------------------------------
def _stateful_values(fg: FuncGraph) -> list[Tensor]:
    """Outputs of `fg`'s stateful ops that other ops of `fg` read (If/While excluded: the
    gradient clones those)."""
    out = []
    for op in fg.get_operations():
        if not op.op_def.stateful or op.type in _CONTROL_FLOW_OPS or \
                op.type in ("Placeholder", "VariableV2"):
            continue
        for t in op.outputs:
            if t._consumers and t.dtype not in (dtypes.string, dtypes.resource,
                                                dtypes.variant):
                out.append(t)
    return out


def _dummy(fg: FuncGraph, dtype) -> Tensor:
    """A scalar of `dtype` in `fg`: the untaken branch's stand-in for a hidden value."""
    import numpy as np
    from .constant import constant
    with fg.as_default(), fg.control_dependencies(None):
        return constant(np.zeros((), dtype.np), dtype=dtype, name="hidden_dummy")


def _align_captures(graphs: list[FuncGraph]) -> list[Tensor]:
    """The union of the graphs' captured outer tensors; every graph then captures all of
    them, in that order (after its explicit arguments)."""
    ext: list[Tensor] = []
    seen: set = set()
    for fg in graphs:
        for outer, _ in fg.captures:
            if outer not in seen:
                seen.add(outer)
                ext.append(outer)
    for fg in graphs:
        inner = {outer: ph for outer, ph in fg.captures}
        for t in ext:
            if t not in inner:
                inner[t] = fg.capture(t)
        fg.captures = [(t, inner[t]) for t in ext]
    return ext


# -- If ---------------------------------------------------------------------------------------
def _if_infer(op):
    return list(op.attrs["output_specs"])


def _if_kernel(op, ctx):
    then_fn = ctx.compile_function(op.attrs["then_branch"])
    else_fn = ctx.compile_function(op.attrs["else_branch"])
    n_out = len(op.outputs)

    def if_kernel(pred, *args):
        out = (then_fn if pred else else_fn)(*args)
        if n_out == 1:
            return out[0]
        return out if n_out else None
    return if_kernel


def _if_grad(op, *grads):
    """Gradients of If: an If over the branches' gradient functions (each differentiates a
    clone of its branch, reading the branch's hidden values from the forward op)."""
    then_fg, else_fg = op.attrs["then_branch"], op.attrs["else_branch"]
    n_real = op.attrs["num_outputs"]
    n_then_hidden = op.attrs["num_then_hidden"]
    pred, ext = op.inputs[0], list(op.inputs[1:])
    diff = [i for i, t in enumerate(ext) if _differentiable(t)]
    if not diff:
        return [None] * len(op.inputs)
    real_grads = list(grads[:n_real])
    hidden = op.outputs[n_real:]
    # A branch's own hidden values follow its real outputs (the other's are dummies).
    then_hidden = dict(zip(then_fg.outputs[n_real:n_real + n_then_hidden],
                           hidden[:n_then_hidden]))
    else_hidden = dict(zip(else_fg.outputs[n_real + n_then_hidden:], hidden[n_then_hidden:]))

    def grad_fn(fg, hidden_map):
        def build():
            gfg = get_default_graph()
            inner = [gfg.capture(t) for t in ext]
            values = {k: gfg.capture(v) for k, v in hidden_map.items()}
            outs = clone_function(fg, inner, values)
            ys, gys = [], []
            for y, g in zip(outs, real_grads):
                if g is not None and _differentiable(y):
                    ys.append(y)
                    gys.append(g)
            from ..gradients import _zeros_for, gradients
            gs = gradients(ys, [inner[i] for i in diff], grad_ys=gys) if ys else \
                [None] * len(diff)
            return [_zeros_for(inner[i]) if g is None else g for i, g in zip(diff, gs)]
        return build

    graph = op.graph
    with graph.as_default():
        then_g = trace(grad_fn(then_fg, then_hidden), [], f"{then_fg.name}_grad",
                       outer_graph=graph)
        else_g = trace(grad_fn(else_fg, else_hidden), [], f"{else_fg.name}_grad",
                       outer_graph=graph)
        outs = _make_if(pred, then_g, else_g, list(then_g.outputs), list(else_g.outputs),
                        "If_grad")
    result = [None] * len(op.inputs)
    for k, i in enumerate(diff):
        result[1 + i] = outs[k]
    return result


register_op("If", infer=_if_infer, grad=_if_grad, kernel=_if_kernel, stateful=True,
            aliases_input=True,
            doc="Runs then_branch or else_branch (FuncGraphs) on the captured inputs, as "
            "the scalar bool `pred` says; returns that branch's outputs.")


def _differentiable(t: Tensor) -> bool:
    return t.dtype.is_floating or t.dtype.is_complex or t.dtype is dtypes.variant


def _make_if(pred: Tensor, then_fg: FuncGraph, else_fg: FuncGraph, then_out: list,
             else_out: list, name) -> list[Tensor]:
    """Creates the If op over traced branches whose flat outputs are `then_out`/`else_out`
    (checked to agree); returns its real outputs."""
    specs = []
    for i, (a, b) in enumerate(zip(then_out, else_out)):
        if a.dtype != b.dtype:
            raise ValueError(f"Outputs of true_fn and false_fn must have the same type: "
                             f"{a.dtype.name}, {b.dtype.name} (output {i})")
        specs.append((a.dtype, _most_specific(a._shape, b._shape)))
    then_hidden, else_hidden = _stateful_values(then_fg), _stateful_values(else_fg)
    then_fg.outputs = list(then_out) + then_hidden + [_dummy(then_fg, t.dtype)
                                                      for t in else_hidden]
    else_fg.outputs = list(else_out) + [_dummy(else_fg, t.dtype) for t in then_hidden] + \
        else_hidden
    specs += [(t.dtype, None) for t in then_hidden + else_hidden]
    ext = _align_captures([then_fg, else_fg])
    graph = get_default_graph()  # the branches' outer graph: `ext` are its tensors
    op = graph.create_op("If", [pred] + ext,
                         {"then_branch": then_fg, "else_branch": else_fg,
                          "output_specs": specs, "num_outputs": len(then_out),
                          "num_then_hidden": len(then_hidden)}, name)
    add_outer_control_inputs(op, [then_fg, else_fg])
    return op.outputs[:len(then_out)] if then_out else [op]


def cond(pred, true_fn=None, false_fn=None, strict: bool = False, name=None, fn1=None,
         fn2=None):
    """Returns `true_fn()` if the scalar bool tensor `pred` is true, else `false_fn()`.

    Both functions are traced once into sub-graphs; at run time only the chosen one runs.
    They must return the same structure of tensors (of equal dtypes); the result has that
    structure. Tensors and variables from outside used inside are passed in by value, except
    that variables assigned inside are updated in place. Without `strict`, a returned
    one-element list or tuple is unpacked.

    Raises:
        TypeError: `pred` is a Python bool, or a function is missing or not callable.
        ValueError: the branches return different structures or dtypes.
    """
    if fn1 is not None:
        if true_fn is not None:
            raise TypeError("cond(): true_fn and fn1 may not be set simultaneously.")
        true_fn = fn1
    if fn2 is not None:
        if false_fn is not None:
            raise TypeError("cond(): false_fn and fn2 may not be set simultaneously.")
        false_fn = fn2
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    if isinstance(pred, bool):
        raise TypeError("'pred' must not be a Python bool.")
    with name_scope(name, "cond", [pred]) as scope:
        pred = convert_to_tensor(pred)
        if pred.dtype != dtypes.bool:
            raise TypeError(f"cond: pred must be a bool tensor, got {pred.name} of dtype "
                            f"{pred.dtype.name}")
        if pred._shape is not None and pred._shape != ():
            raise ValueError(f"cond: pred must be a scalar, got {pred.name} of shape "
                             f"{_shape_str(pred._shape)}")
        graph = get_default_graph()
        then_fg = trace(lambda: _leaves_to_tensors(true_fn()), [], "cond_true",
                        outer_graph=graph)
        else_fg = trace(lambda: _leaves_to_tensors(false_fn()), [], "cond_false",
                        outer_graph=graph)
        s_then, s_else = then_fg.structured_outputs, else_fg.structured_outputs
        if not _same_structure(s_then, s_else):
            raise ValueError(f"Outputs of true_fn and false_fn must have the same structure: "
                             f"{_describe(s_then)} vs {_describe(s_else)}")
        flat_then, flat_else = _flatten(s_then), _flatten(s_else)
        for a, b in zip(flat_then, flat_else):
            if (a is None) != (b is None) or isinstance(a, Operation) != \
                    isinstance(b, Operation):
                raise ValueError(f"Outputs of true_fn and false_fn must have the same "
                                 f"structure: {_describe(s_then)} vs {_describe(s_else)}")
        then_out = [t for t in flat_then if isinstance(t, Tensor)]
        else_out = [t for t in flat_else if isinstance(t, Tensor)]
        outs = _make_if(pred, then_fg, else_fg, then_out, else_out, scope)
        op = outs[0].op if then_out else outs[0]
        it = iter(outs)
        flat = []
        templates = _flatten(then_fg._templates)
        for leaf, tmpl in zip(flat_then, templates):
            if isinstance(leaf, Tensor):
                flat.append(_rewrap(tmpl, next(it)))
            elif isinstance(leaf, Operation):
                flat.append(op)
            else:
                flat.append(None)
        result = _pack_as(s_then, flat)
    if not strict and isinstance(result, (list, tuple)) and not hasattr(result, "_fields") \
            and len(result) == 1:
        return result[0]
    return result


def _leaves_to_tensors(out):
    """A branch's result with TensorArrays as their flows (the templates are kept on the
    graph being traced, to rewrap the If's outputs)."""
    fg = get_default_graph()
    fg._templates = out
    return _pack_as(out, [v.flow if isinstance(v, TensorArray) else v
                          for v in _flatten(out)])


def _describe(s) -> str:
    return repr(_pack_as(s, ["*" if isinstance(x, Tensor) else type(x).__name__
                             for x in _flatten(s)])) if s is not None else "None"


def smart_cond(pred, true_fn=None, false_fn=None, name=None):
    """`true_fn()` or `false_fn()` chosen now when `pred` is a Python bool (or a tensor whose
    value is known when the graph is built), else `cond(pred, true_fn, false_fn)`.

    Raises:
        TypeError: `pred` is neither a bool tensor nor a Python bool (or 0/1).
    """
    from ..framework.graph import constant_value
    if isinstance(pred, Tensor) or hasattr(pred, "_as_graph_element"):
        pred = convert_to_tensor(pred)
        value = constant_value(pred)
        if value is None:
            return cond(pred, true_fn, false_fn, name=name)
        pred = bool(value)
    if not isinstance(pred, (bool, int)) and type(pred).__name__ != "bool_" or \
            pred not in (0, 1, True, False):
        raise TypeError(f"`pred` must be a Tensor, or a Python bool, or 1 or 0. Found "
                        f"instead: {pred!r}")
    return true_fn() if pred else false_fn()


def case(pred_fn_pairs, default=None, exclusive: bool = False, strict: bool = False,
         name: str = "case"):
    """The result of the function paired with the first true predicate, else `default()`.

    `pred_fn_pairs` is a list of (bool scalar tensor, callable) pairs (or a dict). Without
    `default`, the last pair's function is the default, and the run fails when no
    predicate holds. With `exclusive`, the run fails when more than one predicate holds.

    Raises:
        TypeError: a pair is not (tensor, callable), or a predicate is not a bool tensor.
    """
    if isinstance(pred_fn_pairs, dict):
        pred_fn_pairs = list(pred_fn_pairs.items())
    if not isinstance(pred_fn_pairs, (list, tuple)):
        raise TypeError("fns must be a list, tuple, or dict")
    pairs = []
    for pair in pred_fn_pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"Each entry in pred_fn_pairs must be a 2-tuple, got {pair!r}")
        p, fn = pair
        if not callable(fn):
            raise TypeError(f"fn for pred {getattr(p, 'name', p)} must be callable.")
        if isinstance(p, bool):
            raise TypeError("'pred' must not be a Python bool.")
        p = convert_to_tensor(p)
        if p.dtype != dtypes.bool:
            raise TypeError(f"pred must be Tensor of type bool: {p.name}")
        pairs.append((p, fn))
    if default is not None and not callable(default):
        raise TypeError("default must be callable.")
    if not pairs:
        if default is None:
            raise ValueError("case: no pred_fn_pairs and no default")
        return default()
    from .control import group, with_dependencies
    from .debug import Assert
    from .joining import stack
    from .math import cast
    from .reduction import reduce_any, reduce_sum
    with name_scope(name, "case", [p for p, _ in pairs]):
        preds = stack([p for p, _ in pairs])
        checks = []
        if default is None:
            # The last function is the default, but it is taken only when its predicate
            # holds: the run fails when none does.
            default = pairs[-1][1]
            pairs = pairs[:-1]
            checks.append(Assert(reduce_any(preds),
                                 ["None of the conditions evaluated as True."],
                                 name="Assert_none"))
        if exclusive:
            count = reduce_sum(cast(preds, dtypes.int32))
            checks.append(Assert(count <= 1, ["More than one condition evaluated as True: ",
                                              count], name="Assert_exclusive"))
        if checks:
            gate = group(*checks)
            pairs = [(with_dependencies([gate], p), fn) for p, fn in pairs]
            if not pairs:  # only a default: it runs once the check has passed
                from .constant import constant
                p = with_dependencies([gate], constant(True))
                pairs = [(p, default)]

        def chain(i):
            if i == len(pairs):
                return default
            p, fn = pairs[i]
            return lambda: cond(p, fn, chain(i + 1), strict=strict)
        return chain(0)()


# -- While -------------------------------------------------------------------------------------
def _while_infer(op):
    return list(op.attrs["output_specs"])


def _while_kernel(op, ctx):
    cond_fn = ctx.compile_function(op.attrs["cond"])
    body_fn = ctx.compile_function(op.attrs["body"])
    n = op.attrs["num_loop_vars"]
    n_cap = op.attrs["num_captures"]
    has_max = op.attrs["has_max"]
    # The history output exists with back_prop; it is kept only when a gradient reads it.
    record = op.attrs["back_prop"] and bool(op.outputs[n]._consumers)
    single = n == 1 and not op.attrs["back_prop"]

    def while_kernel(*args):
        vals = args[:n]
        caps = args[n:n + n_cap]
        limit = int(args[-1]) if has_max else None
        hist = [] if record else None
        i = 0
        while (limit is None or i < limit) and cond_fn(*vals, *caps)[0]:
            out = body_fn(*vals, *caps)
            if record:
                hist.append((vals, out[n:]))
            vals = out[:n]
            i += 1
        if single:
            return vals[0]
        if op.attrs["back_prop"]:
            return (*vals, tuple(hist) if record else ())
        return tuple(vals)
    return while_kernel


def _while_grad(op, *grads):
    """Gradients of While: a WhileGrad op that walks the recorded iterations backwards
    through the gradient of a clone of the body."""
    if not op.attrs["back_prop"]:
        return [None] * len(op.inputs)
    body = op.attrs["body"]
    n = op.attrs["num_loop_vars"]
    n_cap = op.attrs["num_captures"]
    loop_in = list(op.inputs[:n])
    ext = list(op.inputs[n:n + n_cap])
    hidden = body.outputs[n:]  # the recorded values of the body's stateful ops
    diff_vars = [i for i, t in enumerate(loop_in) if _differentiable(t)]
    diff_caps = [j for j, t in enumerate(ext) if _differentiable(t)]
    out_grads = [grads[i] for i in diff_vars]
    if not diff_vars and not diff_caps:
        return [None] * len(op.inputs)
    if all(g is None for g in out_grads):
        return [None] * len(op.inputs)
    specs = [(t.dtype, t._shape) for t in body.inputs] + \
        [(t.dtype, t._shape) for t in hidden] + \
        [(op.outputs[i].dtype, op.outputs[i]._shape) for i in diff_vars]

    def body_grad(*args):
        vals = list(args[:n + n_cap])
        hid = args[n + n_cap:n + n_cap + len(hidden)]
        gys = args[n + n_cap + len(hidden):]
        outs = clone_function(body, vals, dict(zip(hidden, hid)))
        ys, gs_in = [], []
        for k, i in enumerate(diff_vars):
            if _differentiable(outs[i]):
                ys.append(outs[i])
                gs_in.append(gys[k])
        from ..gradients import _zeros_for, gradients
        xs = [vals[i] for i in diff_vars] + [vals[n + j] for j in diff_caps]
        gs = gradients(ys, xs, grad_ys=gs_in) if ys else [None] * len(xs)
        return [_zeros_for(x) if g is None else g for x, g in zip(xs, gs)]

    graph = op.graph
    with graph.as_default():
        gfg = trace(body_grad, specs, f"{body.name}_grad", outer_graph=graph)
        from ..gradients import _zeros_for
        seeds = [g if g is not None else _zeros_for(op.outputs[i])
                 for g, i in zip(out_grads, diff_vars)]
        gext = gfg.external_captures
        inputs = [op.outputs[n]] + ext + seeds + gext
        specs_out = [(loop_in[i].dtype, op.outputs[i]._shape) for i in diff_vars] + \
            [(ext[j].dtype, ext[j]._shape) for j in diff_caps]
        gop = graph.create_op("WhileGrad", inputs,
                              {"grad_body": gfg, "num_loop_vars": n, "num_captures": n_cap,
                               "diff_vars": diff_vars, "diff_caps": diff_caps,
                               "output_specs": specs_out}, "WhileGrad")
    result = [None] * len(op.inputs)
    for k, i in enumerate(diff_vars):
        result[i] = gop.outputs[k]
    for k, j in enumerate(diff_caps):
        result[n + j] = gop.outputs[len(diff_vars) + k]
    return result


register_op("While", infer=_while_infer, grad=_while_grad, kernel=_while_kernel,
            stateful=True, aliases_input=True,
            doc="Runs body (a FuncGraph) on the loop vars while cond holds (at most "
            "maximum_iterations times); returns the final loop vars and, with back_prop, the "
            "recorded iterations.")


def _accumulate(a, b):
    if a is None:
        return b
    if isinstance(a, tuple):
        return add_lists(a, b)
    return a + b


def _while_grad_kernel(op, ctx):
    gfn = ctx.compile_function(op.attrs["grad_body"])
    xp = ctx.xp
    n_cap = op.attrs["num_captures"]
    diff_vars, diff_caps = op.attrs["diff_vars"], op.attrs["diff_caps"]
    m = len(diff_vars)
    n_out = len(op.outputs)

    def while_grad(hist, *rest):
        ext = rest[:n_cap]
        gs = rest[n_cap:n_cap + m]
        gext = rest[n_cap + m:]
        acc = [None] * len(diff_caps)
        for vals, hidden in reversed(hist):
            out = gfn(*vals, *ext, *hidden, *gs, *gext)
            gs = out[:m]
            for k in range(len(diff_caps)):
                acc[k] = _accumulate(acc[k], out[m + k])
        for k, j in enumerate(diff_caps):
            if acc[k] is None:
                v = ext[j]
                acc[k] = (None,) * len(v) if isinstance(v, tuple) else xp.zeros_like(v)
        out = (*gs, *acc)
        return out[0] if n_out == 1 else out
    return while_grad


# Second-order gradients through a loop are not built: asking for them raises LookupError.
register_op("WhileGrad", infer=lambda op: list(op.attrs["output_specs"]),
            grad=NO_GRADIENT, kernel=_while_grad_kernel, aliases_input=True,
            doc="Gradient of While: from the recorded iterations, the captured values and "
            "the gradients of the final loop vars, the gradients of the initial loop vars "
            "and of the captured values.")


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations: int = 10,
               back_prop: bool = True, swap_memory: bool = False, name=None,
               maximum_iterations=None, return_same_structure: bool = False):
    """Repeats ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` is true.

    `loop_vars` is a tensor, TensorArray or nesting (tuple, list, namedtuple, dict) of them;
    `body` returns the same structure, with the same dtypes, and shapes at least as specific
    as the loop var's shape invariant (its initial shape unless `shape_invariants` gives a
    less specific one). `maximum_iterations` bounds the number of iterations. With
    `back_prop=False` the loop is not differentiable. `parallel_iterations` and
    `swap_memory` are accepted and ignored (iterations run one after another).

    Returns:
        The final loop vars: a single tensor when there is one loop variable and
        `return_same_structure` is False, else the structure of `loop_vars`.

    Raises:
        TypeError: cond or body is not callable; body changes a loop var's dtype.
        ValueError: no loop vars; parallel_iterations < 1; body changes the structure or a
            shape beyond its invariant (the message names the loop var).
    """
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if parallel_iterations < 1:
        raise TypeError("parallel_iterations must be a positive integer.")
    if loop_vars is None or (isinstance(loop_vars, (list, tuple, dict)) and not loop_vars):
        raise ValueError("No loop variables provided")
    flat_templates = _flatten(loop_vars)
    with name_scope(name, "while", [v for v in flat_templates if isinstance(v, Tensor)]) \
            as scope:
        flat = [_to_tensor_leaf(v) for v in flat_templates]
        invariants = [None] * len(flat)
        if shape_invariants is not None:
            inv = _flatten(shape_invariants)
            if len(flat) == 1 and not isinstance(shape_invariants, (dict, TensorShape)) and \
                    (len(inv) != 1 or not isinstance(inv[0], (TensorShape, type(None)))):
                inv = [shape_invariants]  # one loop var's shape, given as a list of dims
            if len(inv) != len(flat):
                raise ValueError(f"shape_invariants must have the same structure as "
                                 f"loop_vars: {len(inv)} shapes for {len(flat)} loop vars")
            invariants = [None if s is None else as_shape(s) for s in inv]
        shapes = []
        for t, tmpl, inv in zip(flat, flat_templates, invariants):
            if isinstance(tmpl, TensorArray) or inv is None:
                shapes.append(t._shape)
                continue
            if not inv.is_compatible_with(TensorShape(t._shape)):
                raise ValueError(f"The shape invariant specified for {t.name} is not "
                                 f"compatible with the initial shape of the loop variable. "
                                 f"It enters the loop with shape {TensorShape(t._shape)}, but "
                                 f"the specified shape invariant is {inv}.")
            shapes.append(inv.as_tuple())
        specs = [(t.dtype, s) for t, s in zip(flat, shapes)]
        graph = get_default_graph()

        def packed(args):
            vals = [_rewrap(tmpl, a) for tmpl, a in zip(flat_templates, args)]
            return _pack_as(loop_vars, vals)

        def call(fn, args):
            p = packed(args)  # a list, tuple or namedtuple is passed as positional args
            return fn(*p) if isinstance(loop_vars, (list, tuple)) else fn(p)

        cond_fg = trace(lambda *a: _cond_result(call(cond, a)), specs, "while_cond",
                        outer_graph=graph)
        body_fg = trace(lambda *a: _body_result(call(body, a), loop_vars, flat), specs,
                        "while_body", outer_graph=graph)
        body_out = body_fg.outputs
        for t, out, (dt, shape) in zip(flat, body_out, specs):
            if out.dtype != dt:
                raise TypeError(f"Loop var {t.name} enters the loop with type {dt.name}, "
                                f"but has type {out.dtype.name} after one iteration.")
            if not _shape_le(out._shape, shape):
                raise ValueError(
                    f"Input tensor '{t.name}' enters the loop with shape "
                    f"{TensorShape(shape)}, but has shape {TensorShape(out._shape)} after "
                    f"one iteration. To allow the shape to vary across iterations, use the "
                    f"`shape_invariants` argument of tf.while_loop to specify a "
                    f"less-specific shape.")
        hidden = _stateful_values(body_fg) if back_prop else []
        body_fg.outputs = list(body_out) + hidden
        ext = _align_captures([cond_fg, body_fg])
        inputs = flat + ext
        if maximum_iterations is not None:
            inputs.append(convert_to_tensor(maximum_iterations, dtype=dtypes.int32,
                                            name="maximum_iterations"))
        out_specs = list(specs) + ([(dtypes.variant, ())] if back_prop else [])
        op = graph.create_op("While", inputs,
                             {"cond": cond_fg, "body": body_fg, "num_loop_vars": len(flat),
                              "num_captures": len(ext),
                              "has_max": maximum_iterations is not None,
                              "back_prop": bool(back_prop),
                              "parallel_iterations": int(parallel_iterations),
                              "output_specs": out_specs}, scope)
        add_outer_control_inputs(op, [cond_fg, body_fg])
        results = [_rewrap(tmpl, t) for tmpl, t in zip(flat_templates, op.outputs)]
        # A TensorArray's element shape may have been learned in the body.
        for k, tmpl in enumerate(flat_templates):
            if isinstance(tmpl, TensorArray):
                learned = body_fg._ta_shapes[k]
                if learned is not None:
                    results[k]._element_shape = learned
    if not return_same_structure and len(results) == 1:
        return results[0]
    return _pack_as(loop_vars, results)


def _shape_le(out, inv) -> bool:
    """Whether static shape `out` is at least as specific as the invariant `inv`."""
    if inv is None:
        return True
    if out is None or len(out) != len(inv):
        return False
    return all(b is None or a == b for a, b in zip(out, inv))


def _cond_result(c):
    c = convert_to_tensor(c)
    if c.dtype != dtypes.bool:
        raise TypeError(f"while_loop: cond must return a bool tensor, got {c.dtype.name}")
    if c._shape is not None and c._shape != ():
        raise ValueError(f"while_loop: cond must return a scalar, got shape "
                         f"{_shape_str(c._shape)}")
    return c


def _body_result(result, loop_vars, flat: list):
    """The body's result as a flat list of tensors, checked against `loop_vars`."""
    fg = get_default_graph()
    if len(flat) == 1 and not isinstance(result, (list, tuple, dict)):
        result = [result]
        leaves = result
    else:
        if isinstance(loop_vars, (list, tuple, dict)):
            ok = _same_structure(loop_vars, result)
            if not ok and isinstance(result, (list, tuple)) and isinstance(
                    loop_vars, (list, tuple)):
                ok = _same_structure(list(loop_vars), list(result))
        else:
            ok = _same_structure([loop_vars], list(result) if isinstance(
                result, (list, tuple)) else [result])
        if not ok:
            raise ValueError(f"The two structures don't have the same nested structure: "
                             f"loop_vars {_describe(loop_vars)} and body result "
                             f"{_describe(result)}")
        leaves = _flatten(result)
    fg._ta_shapes = [v.element_shape if isinstance(v, TensorArray) else None for v in leaves]
    return [_to_tensor_leaf(v) for v in leaves]
