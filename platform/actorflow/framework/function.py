"""Function graphs: a Python function traced into a graph of its own, compiled on demand.

Functional control flow (`If`, `While`, ops/control_flow.py) and `Dataset.map` hold their
bodies as `FuncGraph`s. A FuncGraph is an ordinary `Graph` with explicit inputs (Placeholders)
and outputs. When an op created in it takes a tensor of an enclosing graph, the tensor is
*captured*: a Placeholder stands for it inside and the pair is recorded, so the op running the
function passes the outer value in (through every level of nested function graphs).

Variables are the exception: a variable's ref (a VariableV2 output) is used in place, not
captured, because kernels reach a variable's value through the session
(`ctx.var_cell(var_op)`), whatever graph they sit in. So an assignment in a cond branch
writes the outer variable, and a variable created while tracing is created in the outermost
graph (variables.py), sharing the outermost graph's variable store and collections.

`compile_function(func_graph, ctx)` prunes the function graph to its outputs and stateful
ops and compiles it with the session's `compile_plan` for the caller's device: a body is a
plan like any other, run by the calling kernel.
"""
from __future__ import annotations

from .. import dtypes as _dtypes
from ..tensor_shape import as_shape
from .graph import Graph, Operation, Tensor, convert_to_tensor, get_default_graph

__all__ = ["FuncGraph", "trace", "clone_function"]


class FuncGraph(Graph):
    """A graph traced from a Python function.

    Attributes:
        name: the function's name (for messages).
        outer_graph: the graph the function was traced in.
        outputs: the flat list of output Tensors.
        structured_outputs: what the function returned (nested), with Tensors of this graph.
        captures: [(outer_tensor, inner_placeholder)], in capture order.
        control_outputs: stateful ops of this graph, which run whenever the function runs.
        outer_control_inputs: ops of enclosing graphs the body named in
            `control_dependencies`; the op calling the function waits for them instead.
    """

    def __init__(self, name: str, outer_graph: Graph) -> None:
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph
        self.outputs: list[Tensor] = []
        self.structured_outputs = None
        self.captures: list[tuple[Tensor, Tensor]] = []
        self.outer_control_inputs: list[Operation] = []
        self._args: list[Tensor] = []
        self._capture_map: dict[Tensor, Tensor] = {}
        outermost = outer_graph
        while isinstance(outermost, FuncGraph):
            outermost = outermost.outer_graph
        self._outermost = outermost
        # Variables, their scopes and collections are the outermost graph's (TF 1.x
        # get_variable in a loop body finds and creates the same variables as outside):
        # `_var_store` below reads and writes the outermost graph's.
        self._collections = outermost._collections
        self.seed = outermost.seed
        self._gradient_override_map = dict(outer_graph._gradient_override_map)

    @property
    def _var_store(self):
        """The outermost graph's variable store (variable_scope creates it on first use)."""
        return self._outermost._var_store

    @_var_store.setter
    def _var_store(self, store) -> None:
        if "_outermost" in self.__dict__:  # Graph.__init__'s None comes before it is known
            self._outermost._var_store = store

    # -- inputs ------------------------------------------------------------------------
    @property
    def inputs(self) -> list[Tensor]:
        """The function's parameters: the explicit arguments, then the captured values."""
        return self._args + [inner for _, inner in self.captures]

    @property
    def explicit_inputs(self) -> list[Tensor]:
        return list(self._args)

    @property
    def external_captures(self) -> list[Tensor]:
        """The outer tensors captured, in the order of their placeholders in `inputs`."""
        return [outer for outer, _ in self.captures]

    def encloses(self, graph: Graph) -> bool:
        """Whether `graph` is this graph's outer graph or one of its ancestors."""
        g = self.outer_graph
        while g is not None:
            if g is graph:
                return True
            g = getattr(g, "outer_graph", None)
        return False

    def capture(self, t: Tensor) -> Tensor:
        """The tensor of this graph standing for `t` (a placeholder for an outer tensor).

        Raises:
            ValueError: `t` belongs to a graph that does not enclose this one.
        """
        if t.graph is self:
            return t
        inner = self._capture_map.get(t)
        if inner is not None:
            return inner
        if t.graph is self.outer_graph:
            src = t
        elif isinstance(self.outer_graph, FuncGraph) and self.outer_graph.encloses(t.graph):
            src = self.outer_graph.capture(t)
            inner = self._capture_map.get(src)
            if inner is not None:
                self._capture_map[t] = inner
                return inner
        else:
            raise ValueError(f"Tensor {t.name} must be from the same graph as the function "
                             f"{self.name!r} or a graph enclosing it.")
        with self.control_dependencies(None), self.name_scope(None):
            inner = Graph.create_op(self, "Placeholder", [],
                                    {"dtype": src.dtype, "shape": src._shape}, "capture")
        inner = inner.outputs[0]
        self.captures.append((src, inner))
        self._capture_map[src] = inner
        self._capture_map[t] = inner
        return inner

    def _uses_foreign(self, t: Tensor) -> bool:
        return t.op.type == "VariableV2" and self.encloses(t.graph)

    # -- op creation -------------------------------------------------------------------
    def create_op(self, op_type: str, inputs, attrs=None, name: str | None = None,
                  control_inputs=None) -> Operation:
        """As `Graph.create_op`, capturing the inputs that belong to enclosing graphs
        (variable refs are used in place)."""
        inputs = list(inputs)
        for i, t in enumerate(inputs):
            if isinstance(t, Tensor) and t.graph is not self and not self._uses_foreign(t):
                if self.encloses(t.graph):
                    inputs[i] = self.capture(t)
        own = []
        for c in control_inputs or ():
            if c.graph is self:
                own.append(c)
            else:
                self._control_from_outside(c)
        return super().create_op(op_type, inputs, attrs, name, own)

    def _add_op(self, op: Operation) -> None:
        op._id = len(self._ops)
        self._ops.append(op)
        self._ops_by_name[op.name] = op
        for t in op.inputs:
            if t.graph is self:  # an outer variable's consumers stay its own graph's ops
                t._consumers.append(op)
        for c in op.control_inputs:
            c._control_outputs.append(op)

    def control_dependencies(self, control_inputs):
        """As `Graph.control_dependencies`; ops of enclosing graphs become control inputs of
        the op that calls this function."""
        if control_inputs is None:
            return super().control_dependencies(None)
        own = []
        for c in control_inputs:
            el = c
            if not isinstance(c, (Tensor, Operation)):
                el = c._as_graph_element() if hasattr(c, "_as_graph_element") else c
            op = el if isinstance(el, Operation) else getattr(el, "op", None)
            if isinstance(op, Operation) and op.graph is not self and self.encloses(op.graph):
                self._control_from_outside(op)
            else:
                own.append(c)
        return super().control_dependencies(own)

    def _control_from_outside(self, op: Operation) -> None:
        if op not in self.outer_control_inputs:
            self.outer_control_inputs.append(op)

    @property
    def control_outputs(self) -> list[Operation]:
        return [op for op in self._ops if op.op_def.stateful and op.type != "Placeholder"]


def add_outer_control_inputs(op: Operation, func_graphs) -> None:
    """Makes `op` (which calls `func_graphs`) wait for the outer ops their bodies named in
    `control_dependencies`, passing those of graphs further out up a level."""
    graph = op.graph
    for fg in func_graphs:
        for c in fg.outer_control_inputs:
            if c.graph is graph:
                op._add_control_input(c)
            elif isinstance(graph, FuncGraph):
                graph._control_from_outside(c)


def trace(fn, arg_specs, name: str, *, outer_graph: Graph | None = None) -> FuncGraph:
    """Traces `fn(*placeholders)` into a new FuncGraph.

    Args:
        fn: called once with one Placeholder per entry of `arg_specs`; returns a Tensor, an
            Operation, a Python value, None or a nesting (tuple, list, namedtuple, dict) of
            them. Values that are not Tensors are converted; a returned outer tensor is
            captured; Operations are run (they are stateful ops of the body) but give no
            output.
        arg_specs: [(DType, shape)] of the explicit arguments (a shape is a TensorShape,
            a list of ints/None, or None for an unknown rank).
        name: the function's name.
        outer_graph: the graph it is traced in (default: the default graph).
    """
    outer = outer_graph if outer_graph is not None else get_default_graph()
    fg = FuncGraph(name, outer)
    with fg.as_default():
        for i, (dtype, shape) in enumerate(arg_specs):
            shape = None if shape is None else as_shape(shape).as_tuple()
            fg._args.append(fg.create_op("Placeholder", [], {"dtype": _dtypes.as_dtype(dtype),
                                                            "shape": shape},
                                         f"arg{i}").outputs[0])
        out = fn(*fg._args)
        fg.structured_outputs = _map_leaves(lambda v: _as_output(fg, v), out)
        fg.outputs = [t for t in _leaves(fg.structured_outputs) if isinstance(t, Tensor)]
    return fg


def _as_output(fg: FuncGraph, v):
    if v is None or isinstance(v, Operation):
        return v
    if isinstance(v, Tensor):
        return fg.capture(v) if v.graph is not fg else v
    t = convert_to_tensor(v)
    return fg.capture(t) if t.graph is not fg else t


def _leaves(s) -> list:
    if isinstance(s, dict):
        return [x for k in sorted(s) for x in _leaves(s[k])]
    if isinstance(s, (list, tuple)):
        return [x for v in s for x in _leaves(v)]
    return [s]


def _map_leaves(fn, s):
    if isinstance(s, dict):
        return type(s)((k, _map_leaves(fn, s[k])) for k in s)
    if isinstance(s, tuple) and hasattr(s, "_fields"):
        return type(s)(*[_map_leaves(fn, v) for v in s])
    if isinstance(s, (list, tuple)):
        return type(s)(_map_leaves(fn, v) for v in s)
    return fn(s)


# -- cloning (gradient functions recompute the forward body) ------------------------------------
def _ops_needed(fg: FuncGraph, known: set) -> list[Operation]:
    """The ops of `fg` its outputs depend on (through data and control inputs) when the
    tensors in `known` are given, in creation (topological) order."""
    needed: set = set()
    stack = [t.op for t in fg.outputs if t not in known]
    while stack:
        op = stack.pop()
        if op in needed or op.graph is not fg:
            continue
        needed.add(op)
        stack.extend(t.op for t in op.inputs if t not in known)
        stack.extend(op.control_inputs)
    return sorted(needed, key=lambda op: op._id)



_CLONED_STATEFUL = frozenset({"If", "While"})


def clone_function(fg: FuncGraph, inputs: list[Tensor], values: dict | None = None) \
        -> list[Tensor]:
    """Re-creates the ops `fg`'s outputs depend on in the default graph, with `inputs`
    standing for `fg.inputs`; returns the tensors standing for `fg.outputs`.

    `values` maps tensors of `fg` to tensors to use instead of recomputing them (the
    outputs of its stateful ops, recorded by the forward run). Other stateful ops are not
    re-created (their side effects belong to the forward run), except nested If/While ops,
    which are cloned like pure ops. The clone's ops capture what they read from outside as
    any op built there does.
    """
    graph = get_default_graph()
    mapping: dict[Tensor, Tensor] = dict(zip(fg.inputs, inputs))
    mapping.update(values or {})
    needed = _ops_needed(fg, set(mapping))
    data_needed = {t for op in needed for t in op.inputs} | set(fg.outputs)
    op_map: dict[Operation, Operation] = {}
    for op in needed:
        wanted = [t for t in op.outputs if t in data_needed]
        if all(t in mapping for t in wanted) and (wanted or op.outputs):
            continue
        if op.op_def.stateful and op.type not in _CLONED_STATEFUL and not wanted:
            continue  # an update run only for its effect: it happened in the forward run
        new_inputs = [mapping.get(t, t) for t in op.inputs]
        controls = [op_map[c] for c in op.control_inputs if c in op_map]
        new = graph.create_op(op.type, new_inputs, dict(op.attrs), op.name.split("/")[-1],
                              controls)
        op_map[op] = new
        for t, nt in zip(op.outputs, new.outputs):
            mapping[t] = nt
    return [mapping[t] for t in fg.outputs]


# -- GraphDef export and import (graph_io.py calls these for FuncGraph attrs) ----------------
def function_to_data(fn, encode_attr, where: str) -> dict:
    """A FuncGraph (or a decoded `FunctionData`) as plain data: its nodes as a GraphDef's,
    attrs encoded by `encode_attr`, and its arguments, captures (outer tensor names) and
    outputs, by name."""
    if isinstance(fn, FunctionData):
        nodes = [dict(node, attr={k: encode_attr(v, f"{where}: attr {k!r} of op "
                                                    f"{node['name']!r}")
                                  for k, v in node["attr"].items()})
                 for node in fn.data["node"]]
        return dict(fn.data, node=nodes)
    nodes = []
    for op in fn.get_operations():
        attrs = {k: encode_attr(v, f"{where}: attr {k!r} of op {op.name!r} ({op.type})")
                 for k, v in op.attrs.items()}
        nodes.append({"name": op.name, "op": op.type, "device": op.device, "attr": attrs,
                      "input": [t.name for t in op.inputs] +
                               [f"^{c.name}" for c in op.control_inputs]})
    return {"name": fn.name, "node": nodes, "args": [t.name for t in fn._args],
            "captures": [[outer.name, inner.name] for outer, inner in fn.captures],
            "outputs": [t.name for t in fn.outputs]}


class FunctionData:
    """A decoded function attr (node attrs decoded), turned into a FuncGraph by
    `materialize` once the graph it is imported into is known."""

    def __init__(self, data: dict, decode_attr, where: str) -> None:
        try:
            nodes = [dict(node, attr={k: decode_attr(v, f"{where}: attr {k!r} of op "
                                                        f"{node['name']!r}")
                                      for k, v in node.get("attr", {}).items()})
                     for node in data["node"]]
            self.data = {"name": str(data.get("name", "function")), "node": nodes,
                         "args": list(data["args"]), "outputs": list(data["outputs"]),
                         "captures": [list(c) for c in data["captures"]]}
        except (KeyError, TypeError, AttributeError) as e:
            from ..errors import DataLossError
            raise DataLossError(None, None, f"{where}: malformed function: {e!r}") from None


def function_from_data(fd: FunctionData, outer: Graph, prefix: str) -> FuncGraph:
    """Re-creates the FuncGraph `fd` describes inside `outer` (an imported graph whose names
    carry `prefix`); ops are created through the registry, so inference runs again.

    Raises:
        ValueError: a node naming an input that is neither in the function nor in an
            enclosing graph.
        KeyError: an op type that is not registered.
    """
    from . import registry
    data = fd.data
    fg = FuncGraph(data["name"], outer)

    def lookup(name: str) -> Tensor:
        if ":" not in name:
            name += ":0"
        if name.rpartition(":")[0] in fg._ops_by_name:
            return fg.get_tensor_by_name(name)
        g = outer
        while g is not None:
            try:
                return g.get_tensor_by_name(name if isinstance(g, FuncGraph) else prefix + name)
            except (KeyError, ValueError):
                g = getattr(g, "outer_graph", None)
        raise ValueError(f"function {fg.name!r}: no tensor named {name!r}")

    with fg.as_default():
        for node in data["node"]:
            registry.get_op_def(node["op"])
            inputs = [lookup(s) for s in node["input"] if not s.startswith("^")]
            controls = [fg.get_operation_by_name(s[1:]) for s in node["input"]
                        if s.startswith("^")]
            attrs = {k: materialize(v, fg, prefix) for k, v in node["attr"].items()}
            op = Graph.create_op(fg, node["op"], inputs, attrs, node["name"] + "/", controls)
            op.device = node.get("device", "")
    fg._args = [fg.get_tensor_by_name(n) for n in data["args"]]
    for outer_name, inner_name in data["captures"]:
        src = outer.get_tensor_by_name(outer_name if isinstance(outer, FuncGraph)
                                       else prefix + outer_name)
        inner = fg.get_tensor_by_name(inner_name)
        fg.captures.append((src, inner))
        fg._capture_map[src] = inner
    fg.outputs = [fg.get_tensor_by_name(n) for n in data["outputs"]]
    fg.structured_outputs = list(fg.outputs)
    return fg


def materialize(value, outer: Graph, prefix: str):
    """`value` (a decoded attr) with each FunctionData turned into a FuncGraph in `outer`."""
    if isinstance(value, FunctionData):
        return function_from_data(value, outer, prefix)
    if isinstance(value, list):
        return [materialize(v, outer, prefix) for v in value]
    return value
