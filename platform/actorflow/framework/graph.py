"""Graph, Operation and Tensor; name scopes, control dependencies, devices, collections.

A `Graph` holds `Operation`s in creation order, which is also a topological order (an op's
inputs and control inputs exist before it), so passes sort by creation id instead of walking.
Creating an op runs its registered shape/dtype inference at once, so shape errors surface at
graph construction as `ValueError` naming the op and its input shapes.
"""
from __future__ import annotations

import contextlib
import re
import threading

import numpy as np

from .. import dtypes as _dtypes
from ..tensor_shape import TensorShape, as_shape
from . import registry
from .default_session import close_interactive_sessions, session_for

__all__ = ["Graph", "Operation", "Tensor", "GraphKeys", "get_default_graph",
           "reset_default_graph", "convert_to_tensor", "name_scope", "control_dependencies",
           "device", "colocate_with", "add_to_collection", "add_to_collections",
           "get_collection", "get_collection_ref", "make_op", "constant_value",
           "register_tensor_conversion_function", "is_tensor"]

_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/]*$")


class GraphKeys:
    """Standard collection names (TF 1.x `tf.GraphKeys`)."""

    GLOBAL_VARIABLES = "variables"
    VARIABLES = GLOBAL_VARIABLES
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    LOSSES = "losses"
    UPDATE_OPS = "update_ops"
    GLOBAL_STEP = "global_step"
    SAVERS = "savers"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    TRAIN_OP = "train_op"
    ACTIVATIONS = "activations"
    WEIGHTS = "weights"
    BIASES = "biases"


class Tensor:
    """The `value_index`-th output of an `Operation`; named ``"op_name:index"``."""

    __slots__ = ("op", "value_index", "dtype", "_shape", "_consumers", "__weakref__")
    __array_priority__ = 100  # NumPy defers `ndarray + Tensor` to Tensor.__radd__

    def __init__(self, op: "Operation", value_index: int, dtype, shape) -> None:
        self.op = op
        self.value_index = value_index
        self.dtype = _dtypes.as_dtype(dtype)
        self._shape = shape  # tuple of int/None, or None for unknown rank
        self._consumers: list[Operation] = []

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self) -> "Graph":
        return self.op.graph

    @property
    def device(self) -> str:
        return self.op.device

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._shape)

    def get_shape(self) -> TensorShape:
        return TensorShape(self._shape)

    def set_shape(self, shape) -> None:
        """Refines the static shape; ValueError when incompatible with what is known."""
        merged = TensorShape(self._shape).merge_with(as_shape(shape))
        self._shape = merged.as_tuple()

    def consumers(self) -> list:
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        """Runs this tensor in `session` (default: the default session) and returns its value."""
        return session_for(self.graph, session).run(self, feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self.name}' shape={self.get_shape()} dtype={self.dtype.name}>"

    __hash__ = object.__hash__  # identity (the C slot: tensors key many hot dicts)

    def __eq__(self, other) -> bool:  # TF 1.x: identity, so tensors can key dicts
        return self is other

    def __bool__(self) -> bool:
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use "
                        "`if t is not None:` to test for None, or tf.cond for values.")

    def __len__(self) -> int:
        if self._shape is None or self._shape[0] is None:
            raise TypeError(f"len is not well defined for tensor {self.name} of shape "
                            f"{self.get_shape()}")
        return self._shape[0]

    def __iter__(self):
        if self._shape is None or not self._shape or self._shape[0] is None:
            raise TypeError(f"Tensor {self.name} of shape {self.get_shape()} is not iterable")
        return iter([self[i] for i in range(self._shape[0])])

    def _as_graph_element(self):
        return self


class Operation:
    """A node of the graph: a registered op type applied to input tensors with attrs."""

    __slots__ = ("graph", "name", "type", "inputs", "outputs", "attrs", "device",
                 "control_inputs", "_id", "op_def", "_control_outputs", "__weakref__")

    def __init__(self, graph, name, type, inputs, attrs, device, control_inputs, op_def):
        self.graph = graph
        self.name = name
        self.type = type
        self.inputs = list(inputs)
        self.attrs = dict(attrs)
        self.device = device
        self.control_inputs = list(control_inputs)
        self.op_def = op_def
        self.outputs: list[Tensor] = []
        self._control_outputs: list[Operation] = []
        self._id = -1

    @property
    def node_def(self):
        """This op as a `NodeDef`: a dict whose keys (name, op, input, device, attr) also read
        as attributes, as device functions read ``op.node_def.op``."""
        from .graph_io import NodeDef
        return NodeDef(name=self.name, op=self.type, input=[t.name for t in self.inputs],
                       device=self.device, attr=dict(self.attrs))

    def get_attr(self, name: str):
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError(f"Operation {self.name!r} ({self.type}) has no attr {name!r}") \
                from None

    def values(self) -> tuple:
        return tuple(self.outputs)

    def run(self, feed_dict=None, session=None) -> None:
        """Runs this op in `session` (default: the default session)."""
        session_for(self.graph, session).run(self, feed_dict)

    def _add_control_input(self, op: "Operation") -> None:
        if op not in self.control_inputs:
            self.control_inputs.append(op)
            op._control_outputs.append(self)

    def __repr__(self) -> str:
        return f"<tf.Operation '{self.name}' type={self.type}>"

    def _as_graph_element(self):
        return self


class Graph:
    """A TF 1.x dataflow graph: ops, name scopes, collections, and a default-graph context."""

    def __init__(self) -> None:
        self._ops: list[Operation] = []
        self._ops_by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._name_stack = ""
        self._control_stack: list[list[Operation] | None] = []
        self._device_stack: list = []
        self._colocation_stack: list[Operation] = []
        self._collections: dict[str, list] = {}
        self._finalized = False
        self.seed = None
        self._op_seed_counter = 0
        self._var_store = None  # variable_scope's store, created on first use
        self._lock = threading.RLock()
        self._gradient_override_map: dict[str, str] = {}

    # -- default graph -----------------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self):
        """Makes this the default graph inside the `with` block."""
        stack = _default_graph_stack()
        stack.append(self)
        try:
            yield self
        finally:
            stack.pop()

    # -- naming ------------------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """`name` under the current name scope, with ``_N`` appended when already taken."""
        if self._name_stack:
            name = f"{self._name_stack}/{name}"
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = key
            while key in self._names_in_use:
                key = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        return name

    def get_name_scope(self) -> str:
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name):
        """Opens a name scope; a name ending in '/' re-enters that exact scope; None resets."""
        old = self._name_stack
        if name is None or name == "":
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            if not _VALID_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield "" if not new else new + "/"
        finally:
            self._name_stack = old

    # -- control dependencies, devices, colocation -------------------------------------
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run after `control_inputs`; None clears the outer ones."""
        if control_inputs is None:
            self._control_stack.append(None)
        else:
            ops = []
            for c in control_inputs:
                c = self.as_graph_element(c, allow_tensor=True, allow_operation=True)
                ops.append(c if isinstance(c, Operation) else c.op)
            self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    def _current_control_inputs(self) -> list[Operation]:
        out: list[Operation] = []
        for frame in reversed(self._control_stack):
            if frame is None:
                break
            out[:0] = frame
        return out

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Records a device request on ops created inside (a string or a function of the op)."""
        self._device_stack.append(device_name_or_function)
        try:
            yield
        finally:
            self._device_stack.pop()

    def _current_device(self, op: Operation) -> str:
        from .device_spec import merge_device
        dev = ""
        for d in self._device_stack:
            if d is None:
                dev = ""
                continue
            spec = d(op) if callable(d) else d
            dev = merge_device(dev, spec or "")
        return dev

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing: bool = False):
        """Ops created inside are placed on the device of `op` (a tensor, op or variable)."""
        if op is None:
            self._colocation_stack.append(None)
        else:
            el = self.as_graph_element(op, allow_tensor=True, allow_operation=True)
            self._colocation_stack.append(el if isinstance(el, Operation) else el.op)
        try:
            yield
        finally:
            self._colocation_stack.pop()

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: dict):
        old = dict(self._gradient_override_map)
        self._gradient_override_map.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = old

    # -- op creation -------------------------------------------------------------------
    def create_op(self, op_type: str, inputs, attrs=None, name: str | None = None,
                  control_inputs=None) -> Operation:
        """Creates an op of registered `op_type`, infers its outputs and adds it to the graph.

        Raises:
            RuntimeError: the graph is finalized.
            ValueError: an input belongs to another graph, or shape inference rejects them.
            TypeError: inference rejects the input dtypes.
        """
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        op_def = registry.get_op_def(op_type)
        inputs = list(inputs)
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError(f"Input to op {op_type} must be a Tensor, got {t!r}")
            if t.graph is not self and not self._uses_foreign(t):
                here = next((u.name for u in inputs if u.graph is self), None)
                peer = f"Tensor {here} and " if here else ""
                raise ValueError(f"Tensor {t.name} must be from the same graph as "
                                 f"{peer}the op {name or op_type} being created.")
        with self._lock:
            if name and name.endswith("/"):
                name = name[:-1]  # an exact name from a name scope (TF 1.x convention)
                self._names_in_use[name.lower()] = max(1, self._names_in_use.get(name.lower(), 0))
                if name in self._ops_by_name:
                    raise ValueError(f"Duplicate node name in graph: {name!r}")
            else:
                name = self.unique_name(name or op_type)
            controls = [c for c in self._current_control_inputs()
                        if all(t.op is not c for t in inputs)]
            for c in control_inputs or ():
                if c not in controls:
                    controls.append(c)
            op = Operation(self, name, op_type, inputs, attrs or {}, "", controls, op_def)
            coloc = self._colocation_stack[-1] if self._colocation_stack else None
            op.device = coloc.device if coloc is not None else self._current_device(op)
            if coloc is not None:
                op.attrs["_class"] = [f"loc:@{coloc.name}"]
            try:
                outs = op_def.infer(op)
            except (ValueError, TypeError) as e:
                shapes = ", ".join(_shape_str(t._shape) for t in inputs)
                raise type(e)(f"{e} for '{name}' (op: '{op_type}') with input shapes: "
                              f"{shapes}.") from None
            op.outputs = [Tensor(op, i, dt, None if sh is None else tuple(sh))
                          for i, (dt, sh) in enumerate(outs)]
            self._add_op(op)
        return op

    def _uses_foreign(self, t: Tensor) -> bool:
        """Whether an op of this graph may take `t` of another graph as it is (a function
        graph reads an enclosing graph's variables in place; see framework/function.py)."""
        return False

    def _add_op(self, op: Operation) -> None:
        op._id = len(self._ops)
        self._ops.append(op)
        self._ops_by_name[op.name] = op
        for t in op.inputs:
            t._consumers.append(op)
        for c in op.control_inputs:
            c._control_outputs.append(op)

    def _checkpoint(self) -> tuple:
        """A mark to `_rollback` to: the op count, names in use and collection sizes."""
        return (len(self._ops), dict(self._names_in_use),
                {k: len(v) for k, v in self._collections.items()})

    def _rollback(self, mark: tuple) -> None:
        """Removes the ops (and collection items) added since `mark` (a failed import)."""
        n, names, sizes = mark
        for op in reversed(self._ops[n:]):
            for t in op.inputs:
                t._consumers.remove(op)
            for c in op.control_inputs:
                c._control_outputs.remove(op)
            del self._ops_by_name[op.name]
        del self._ops[n:]
        self._names_in_use = names
        for k in list(self._collections):
            del self._collections[k][sizes.get(k, 0):]

    def _next_op_seed(self) -> int:
        self._op_seed_counter += 1
        return self._op_seed_counter

    # -- lookup ------------------------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        """Raises KeyError naming `name` when no op has it."""
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings, got {name!r}")
        try:
            return self._ops_by_name[name]
        except KeyError:
            raise KeyError(f"The name {name!r} refers to an Operation not in the graph.") \
                from None

    def get_tensor_by_name(self, name: str) -> Tensor:
        """Raises KeyError naming `name` when the op or output index does not exist."""
        el = self.as_graph_element(name, allow_tensor=True, allow_operation=False)
        return el

    def as_graph_element(self, obj, allow_tensor: bool = True, allow_operation: bool = True):
        """Resolves a Tensor, Operation, variable or "op:k"/"op" name to this graph's element.

        Raises:
            KeyError: a name that does not exist in this graph.
            ValueError: an element of another graph, or of a kind not allowed here.
            TypeError: an object that is no graph element.
        """
        if isinstance(obj, str):
            if ":" in obj:
                if not allow_tensor:
                    raise ValueError(f"Name {obj!r} looks like a Tensor name, but an "
                                     "Operation was requested.")
                op_name, _, idx = obj.rpartition(":")
                op = self._ops_by_name.get(op_name)
                if op is None:
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not "
                                   f"exist. The operation, {op_name!r}, does not exist in "
                                   "the graph.")
                try:
                    return op.outputs[int(idx)]
                except (IndexError, ValueError):
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not "
                                   f"exist. The operation, {op_name!r}, exists but only has "
                                   f"{len(op.outputs)} outputs.") from None
            if not allow_operation:
                raise ValueError(f"The name {obj!r} looks like an (invalid) Operation name, "
                                 "not a Tensor. Tensor names must be of the form "
                                 "\"<op_name>:<output_index>\".")
            op = self._ops_by_name.get(obj)
            if op is None:
                raise KeyError(f"The name {obj!r} refers to an Operation not in the graph.")
            return op
        conv = getattr(obj, "_as_graph_element", None)
        if conv is None:
            raise TypeError(f"Can not convert a {type(obj).__name__} into a Tensor or "
                            "Operation.")
        el = conv()
        if isinstance(el, Tensor):
            if not allow_tensor:
                raise TypeError(f"Can not convert a Tensor into an Operation: {el.name}")
        elif isinstance(el, Operation):
            if not allow_operation:
                raise TypeError(f"Can not convert an Operation into a Tensor: {el.name}")
        else:
            raise TypeError(f"Can not convert a {type(obj).__name__} into a graph element")
        if el.graph is not self:
            raise ValueError(f"{el!r} is not an element of this graph.")
        return el

    # -- collections -------------------------------------------------------------------
    def add_to_collection(self, name: str, value) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value) -> None:
        for n in ([names] if isinstance(names, str) else set(names)):
            self.add_to_collection(n, value)

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope: str | None = None) -> list:
        """A copy of collection `name`, filtered to items whose name matches `scope`."""
        items = list(self._collections.get(name, ()))
        if scope is None:
            return items
        pat = re.compile(scope)
        return [x for x in items if getattr(x, "name", None) and pat.match(x.name)]

    def get_all_collection_keys(self) -> list[str]:
        return [k for k, v in self._collections.items() if v]

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)

    # -- lifecycle ---------------------------------------------------------------------
    def finalize(self) -> None:
        """Makes the graph read-only; creating an op afterwards raises RuntimeError."""
        self._finalized = True

    @property
    def finalized(self) -> bool:
        return self._finalized

    @property
    def version(self) -> int:
        return len(self._ops)

    def as_graph_def(self, add_shapes: bool = False):
        return _builder("graph_def")(self, add_shapes=add_shapes)

    # TF 1.x spelling
    def get_all_ops(self):  # pragma: no cover - convenience alias
        return self.get_operations()


def _shape_str(shape) -> str:
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


# -- default graph stack ------------------------------------------------------------------
_global_default_graph: Graph | None = None
_local = threading.local()


def _default_graph_stack() -> list:
    stack = getattr(_local, "graphs", None)
    if stack is None:
        stack = _local.graphs = []
    return stack


def get_default_graph() -> Graph:
    """The innermost `Graph.as_default()` graph, else the global default graph."""
    global _global_default_graph
    stack = _default_graph_stack()
    if stack:
        return stack[-1]
    if _global_default_graph is None:
        _global_default_graph = Graph()
    return _global_default_graph


def reset_default_graph() -> None:
    """Replaces the global default graph with a new, empty one.

    Raises:
        AssertionError: called inside a `with graph.as_default():` block (as TF 1.x).
    """
    global _global_default_graph
    if _default_graph_stack():
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. "
                             "If you need a cleared graph, exit the nesting and create a "
                             "new graph.")
    close_interactive_sessions()
    _global_default_graph = Graph()


# -- module-level conveniences (TF 1.x functions) ------------------------------------------
@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """Opens `name` (or `default_name` when name is None) as a name scope.

    With `values`, the graph of those tensors becomes the default graph inside the block,
    as in TF 1.x, so the ops created there land where the scope was opened.
    """
    graph = _graph_of(values) if values else get_default_graph()
    scope = name if name is not None else default_name
    with graph.as_default(), graph.name_scope(scope) as s:
        yield s


def _graph_of(values) -> Graph:
    for v in values:
        el = v
        if hasattr(v, "_as_graph_element"):
            try:
                el = v._as_graph_element()
            except Exception:  # noqa: BLE001 - fall back to the default graph
                continue
        if isinstance(el, (Tensor, Operation)):
            return _innermost(el.graph)
    return get_default_graph()


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def colocate_with(op, ignore_existing: bool = False):
    return get_default_graph().colocate_with(op, ignore_existing)


def add_to_collection(name: str, value) -> None:
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value) -> None:
    get_default_graph().add_to_collections(names, value)


def get_collection(key: str, scope: str | None = None) -> list:
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list:
    return get_default_graph().get_collection_ref(key)


def make_op(op_type: str, inputs, attrs=None, name: str | None = None) -> Operation:
    """Creates an op in the graph of its inputs (or the default graph when it has none)."""
    graph = _innermost(inputs[0].graph) if inputs else get_default_graph()
    return graph.create_op(op_type, inputs, attrs, name)


def _innermost(graph: Graph) -> Graph:
    """The default graph when it is a function graph traced inside `graph` (its ops then
    capture `graph`'s tensors), else `graph`."""
    d = get_default_graph()
    if d is graph:
        return graph
    outer = getattr(d, "outer_graph", None)
    while outer is not None:
        if outer is graph:
            return d
        outer = getattr(outer, "outer_graph", None)
    return graph


# -- builders from the layers above ---------------------------------------------------------
# The graph needs a few functions defined above it: `constant` and `stack` (ops/constant.py,
# ops/joining.py) to convert Python values, and the GraphDef writer (graph_io.py) for
# `Graph.as_graph_def`. They register here when their modules are imported (as
# `import actorflow` does), so the imports only point down.
_builders: dict = {}


def register_builder(kind: str, fn) -> None:
    """Registers the function behind "constant", "stack" or "graph_def"."""
    _builders[kind] = fn


def _builder(kind: str):
    try:
        return _builders[kind]
    except KeyError:
        raise RuntimeError(f"no {kind!r} builder is registered: import actorflow (which "
                           f"imports the module defining it) first") from None


# -- conversion ----------------------------------------------------------------------------
_conversion_functions: list[tuple[type, object]] = []


def register_tensor_conversion_function(base_type, conversion_func) -> None:
    """Registers ``conversion_func(value, dtype=None, name=None) -> Tensor`` for `base_type`."""
    _conversion_functions.append((base_type, conversion_func))


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def _default_np_dtype(value):
    """TF 1.x's choice for Python values: floats → float32, ints → int32, bools → bool."""
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return np.float32 if arr.dtype == np.float64 and not isinstance(value, np.ndarray) \
            and not isinstance(value, np.generic) else arr.dtype
    if arr.dtype.kind in "iu":
        if isinstance(value, (np.ndarray, np.generic)):
            return arr.dtype
        if arr.size and (arr.max() > np.iinfo(np.int32).max or
                         arr.min() < np.iinfo(np.int32).min):
            return np.int64
        return np.int32
    return arr.dtype


def convert_to_tensor(value, dtype=None, name: str | None = None, preferred_dtype=None):
    """Converts a Tensor, variable, NumPy array, Python number or (nested) list to a Tensor.

    Raises:
        ValueError / TypeError: `value` has an incompatible dtype or cannot be converted.
    """
    dtype = None if dtype is None else _dtypes.as_dtype(dtype)
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with "
                             f"dtype {value.dtype.name}: {value!r}")
        return value
    for base, fn in _conversion_functions:
        if isinstance(value, base):
            t = fn(value, dtype=dtype, name=name)
            if dtype is not None and t.dtype != dtype:
                raise ValueError(f"Tensor conversion requested dtype {dtype.name} for "
                                 f"{type(value).__name__} with dtype {t.dtype.name}")
            return t
    if isinstance(value, Operation):
        raise TypeError(f"Can not convert an Operation into a Tensor: {value.name}")
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        return _builder("stack")([convert_to_tensor(v, dtype=dtype) for v in value],
                                 name=name or "packed")
    constant = _builder("constant")
    if dtype is None and preferred_dtype is not None:
        try:
            return constant(value, dtype=preferred_dtype, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=dtype, name=name or "Const")


def _contains_tensor(value) -> bool:
    for v in value:
        if isinstance(v, Tensor) or hasattr(v, "_as_graph_element"):
            return True
        if isinstance(v, (list, tuple)) and _contains_tensor(v):
            return True
    return False


def constant_value(tensor: Tensor):
    """The tensor's value when it is known at graph construction, else None."""
    op = tensor.op
    if op.type == "Const":
        return op.attrs["value"]
    if op.type == "Shape" and op.inputs[0]._shape is not None \
            and None not in op.inputs[0]._shape:
        return np.array(op.inputs[0]._shape, dtype=tensor.dtype.np)
    if op.type == "Size" and op.inputs[0]._shape is not None \
            and None not in op.inputs[0]._shape:
        return np.array(int(np.prod(op.inputs[0]._shape)), dtype=tensor.dtype.np)
    if op.type == "Rank" and op.inputs[0]._shape is not None:
        return np.array(len(op.inputs[0]._shape), dtype=np.int32)
    if op.type == "Pack":
        vals = [constant_value(t) for t in op.inputs]
        if any(v is None for v in vals):
            return None
        return np.stack(vals, axis=op.attrs.get("axis", 0))
    if op.type in ("Identity", "StopGradient"):
        return constant_value(op.inputs[0])
    if op.type == "Cast":
        v = constant_value(op.inputs[0])
        return None if v is None else v.astype(tensor.dtype.np)
    return None
