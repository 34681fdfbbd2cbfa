"""TF 1.x variables: `Variable`, initialisation helpers and the variable collections.

A variable is a VariableV2 op (its value lives in each session), an Assign initializer and a
``read`` identity that ops consume. Gradients with respect to a variable flow to the
VariableV2 output (its ref), summed over every read.
"""
from __future__ import annotations

import numpy as np

from .framework.default_session import session_for
from .framework.graph import (GraphKeys, Operation, Tensor, convert_to_tensor,
                              get_default_graph, register_tensor_conversion_function)
from .ops import state as _state  # noqa: F401 - registers VariableV2 / Assign ops
from .ops._common import out1
from .tensor_shape import TensorShape

__all__ = ["Variable", "global_variables", "all_variables", "trainable_variables",
           "local_variables", "model_variables", "moving_average_variables",
           "global_variables_initializer", "initialize_all_variables",
           "local_variables_initializer", "initialize_local_variables",
           "variables_initializer", "initialize_variables", "is_variable_initialized",
           "report_uninitialized_variables", "assert_variables_initialized", "assign",
           "assign_add", "assign_sub"]


class Variable:
    """A value kept across `Session.run` calls (TF 1.x `tf.Variable`)."""

    def __init__(self, initial_value=None, trainable: bool = True, collections=None,
                 validate_shape: bool = True, caching_device=None, name: str | None = None,
                 variable_def=None, dtype=None, expected_shape=None, import_scope=None,
                 constraint=None) -> None:
        if variable_def is not None:
            self._init_from_proto(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        # Inside a function graph (a cond branch, a loop body) the variable still lives in
        # the outermost graph, as in TF: its value is session state every graph reads.
        graph = get_default_graph()
        while getattr(graph, "outer_graph", None) is not None:
            graph = graph.outer_graph
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        # As TF 1.x's init_scope: a variable's ops never inherit the control dependencies
        # in force where it is created (its initializer must not run someone's update).
        with graph.as_default(), graph.control_dependencies(None), \
                graph.name_scope(name or "Variable") as scope:
            if callable(initial_value):
                with graph.name_scope("Initializer"):
                    self._initial_value = convert_to_tensor(initial_value(), dtype=dtype)
            else:  # a Python/NumPy value becomes the Const "<name>/initial_value" (TF 1.x)
                self._initial_value = convert_to_tensor(initial_value, dtype=dtype,
                                                        name="initial_value")
            shape = self._initial_value._shape if validate_shape else None
            if validate_shape and (shape is None or None in shape):
                raise ValueError(f"initial_value must have a shape specified: "
                                 f"{self._initial_value!r}")
            self._variable = graph.create_op(
                "VariableV2", [], {"shape": shape, "dtype": self._initial_value.dtype,
                                   "container": "", "shared_name": ""}, scope).outputs[0]
            with graph.colocate_with(self._variable.op):
                self._initializer_op = out1(
                    "Assign", [self._variable, self._initial_value],
                    {"validate_shape": validate_shape, "use_locking": True}, "Assign").op
                self._snapshot = out1("Identity", [self._variable], None, "read")
        self._trainable = trainable
        self._constraint = constraint
        self._save_slice_info = None
        graph.add_to_collections(collections, self)

    def _init_from_proto(self, variable_def: dict, import_scope: str | None) -> None:
        """Wraps the existing ops a `to_proto()` record names (under `import_scope`)."""
        graph = get_default_graph()
        prefix = f"{import_scope}/" if import_scope else ""
        try:
            self._variable = graph.get_tensor_by_name(prefix + variable_def["variable_name"])
            self._initializer_op = graph.get_operation_by_name(
                prefix + variable_def["initializer_name"])
            self._snapshot = graph.get_tensor_by_name(prefix + variable_def["snapshot_name"])
            init_name = variable_def.get("initial_value_name")
            self._initial_value = (graph.get_tensor_by_name(prefix + init_name)
                                   if init_name else None)
        except KeyError as e:
            raise ValueError(f"variable_def {variable_def!r} names an element missing from "
                             f"the graph: {e.args[0]}") from None
        _state.check_ref(self._variable, "Variable(variable_def=...)")
        self._trainable = bool(variable_def.get("trainable", True))
        self._constraint = None
        self._save_slice_info = None

    def to_proto(self, export_scope: str | None = None) -> dict:
        """This variable's VariableDef: the names of its ops, relative to `export_scope`."""
        def rel(name: str) -> str:
            if export_scope and name.startswith(export_scope + "/"):
                return name[len(export_scope) + 1:]
            return name
        return {"variable_name": rel(self._variable.name),
                "initializer_name": rel(self._initializer_op.name),
                "snapshot_name": rel(self._snapshot.name),
                "initial_value_name": (rel(self._initial_value.name)
                                       if self._initial_value is not None else ""),
                "trainable": self._trainable}

    @staticmethod
    def from_proto(variable_def: dict, import_scope: str | None = None) -> "Variable":
        """The Variable over the existing ops that `variable_def` names (see `to_proto`)."""
        return Variable(variable_def=variable_def, import_scope=import_scope)

    # -- identity ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._variable.name

    @property
    def op(self) -> Operation:
        return self._variable.op

    @property
    def graph(self):
        return self._variable.graph

    @property
    def device(self) -> str:
        return self._variable.op.device

    @property
    def dtype(self):
        return self._variable.dtype

    @property
    def shape(self) -> TensorShape:
        return self._variable.get_shape()

    def get_shape(self) -> TensorShape:
        return self._variable.get_shape()

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def initializer(self) -> Operation:
        return self._initializer_op

    @property
    def initial_value(self) -> Tensor:
        return self._initial_value

    @property
    def constraint(self):
        return self._constraint

    def initialized_value(self) -> Tensor:
        """The variable's value if it is initialised, else its initial value.

        Use it to initialise one variable from another regardless of initialiser order.
        """
        with self.graph.control_dependencies(None):
            return out1("InitializedValue", [self._variable, self._initial_value],
                        {"validate_shape": True}, self.op.name + "/initialized_value")

    # -- reading -----------------------------------------------------------------------
    def value(self) -> Tensor:
        """The tensor that reads this variable (its ``read`` snapshot)."""
        return self._snapshot

    def read_value(self) -> Tensor:
        """A new read of the variable (ordered by the control dependencies in scope); it runs
        on the variable's device, so it reads after the writes it depends on."""
        with self._variable.graph.colocate_with(self._variable.op):
            return out1("Identity", [self._variable], None, "read")

    def _ref(self) -> Tensor:
        return self._variable

    def _as_graph_element(self) -> Tensor:
        return self._variable

    def eval(self, session=None):
        return self._variable.eval(session=session)

    def load(self, value, session=None) -> None:
        """Writes `value` into the variable in `session` without adding ops per call."""
        sess = session_for(self.graph, session)
        arr = np.asarray(value, dtype=self.dtype.np)
        shape = self._variable._shape
        if shape is not None and tuple(arr.shape) != shape:
            raise ValueError(f"Cannot load a value of shape {arr.shape} into variable "
                             f"{self.name} of shape {shape}")
        sess._store_variable(self.op, np.array(arr, copy=True))

    # -- writing -----------------------------------------------------------------------
    def assign(self, value, use_locking: bool = False, name=None, read_value: bool = True):
        return assign(self._variable, value, use_locking=use_locking, name=name)

    def assign_add(self, delta, use_locking: bool = False, name=None,
                   read_value: bool = True):
        return assign_add(self._variable, delta, use_locking=use_locking, name=name)

    def assign_sub(self, delta, use_locking: bool = False, name=None,
                   read_value: bool = True):
        return assign_sub(self._variable, delta, use_locking=use_locking, name=name)

    def count_up_to(self, limit: int):
        """Increments this int variable and returns its old value; OutOfRangeError once it
        has reached `limit` (see ``tf.count_up_to``)."""
        from .ops.state import count_up_to
        return count_up_to(self._variable, limit)

    def set_shape(self, shape) -> None:
        self._variable.set_shape(shape)

    def __repr__(self) -> str:
        return (f"<tf.Variable '{self.name}' shape={self.get_shape()} "
                f"dtype={self.dtype.name}>")

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other) -> bool:
        return self is other

    def __bool__(self) -> bool:
        raise TypeError("Using a `tf.Variable` as a Python `bool` is not allowed.")

    def __iter__(self):
        return iter(self._snapshot)

    def __getitem__(self, key):
        return self._snapshot[key]


def _overload_from_tensor() -> None:
    """Gives Variable every arithmetic/comparison operator of Tensor, applied to value()."""
    names = [n for n in vars(Tensor) if n.startswith("__") and n not in _NOT_DELEGATED]
    for n in names:
        fn = getattr(Tensor, n)
        if not callable(fn):
            continue

        def delegate(self, *args, _fn=fn):
            return _fn(self._snapshot, *args)
        delegate.__name__ = n
        setattr(Variable, n, delegate)


_NOT_DELEGATED = {
    "__init__", "__repr__", "__hash__", "__eq__", "__bool__", "__len__", "__iter__",
    "__getitem__", "__slots__", "__module__", "__doc__", "__weakref__", "__array_priority__",
    "__dict__", "__qualname__", "__firstlineno__", "__static_attributes__",
}
Variable.__array_priority__ = 100


def _var_to_tensor(v: Variable, dtype=None, name=None) -> Tensor:
    return v._snapshot


register_tensor_conversion_function(Variable, _var_to_tensor)


# -- assignment functions ------------------------------------------------------------------
def _ref_of(ref) -> Tensor:
    if isinstance(ref, Variable):
        return ref._variable
    if isinstance(ref, Tensor):
        _state.check_ref(ref, "assign")
        return ref
    raise TypeError(f"assign requires a Variable, got {ref!r}")


def _update(op_type, ref, value, name, validate_shape=True, use_locking=False):
    ref = _ref_of(ref)
    value = convert_to_tensor(value, dtype=ref.dtype)
    graph = ref.graph
    with graph.colocate_with(ref.op):
        return out1(op_type, [ref, value],
                    {"validate_shape": validate_shape, "use_locking": bool(use_locking)},
                    name or op_type)


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Writes `value` into variable `ref`; returns the new value."""
    return _update("Assign", ref, value, name,
                   True if validate_shape is None else validate_shape, use_locking)


def assign_add(ref, value, use_locking=None, name=None):
    """`ref += value` in place; returns the new value."""
    return _update("AssignAdd", ref, value, name, True, use_locking)


def assign_sub(ref, value, use_locking=None, name=None):
    """`ref -= value` in place; returns the new value."""
    return _update("AssignSub", ref, value, name, True, use_locking)


# -- collections and initialisation --------------------------------------------------------
def global_variables(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def variables_initializer(var_list, name: str = "init") -> Operation:
    """One op running the initializers of `var_list`."""
    from .ops.control import group, no_op
    var_list = list(var_list)
    if not var_list:
        return no_op(name=name)
    return group(*[v.initializer for v in var_list], name=name)


initialize_variables = variables_initializer


def global_variables_initializer() -> Operation:
    """One op initialising every global variable (run it once per session)."""
    return variables_initializer(global_variables(), name="init")


initialize_all_variables = global_variables_initializer


def local_variables_initializer() -> Operation:
    return variables_initializer(local_variables(), name="init_1")


initialize_local_variables = local_variables_initializer


def is_variable_initialized(variable) -> Tensor:
    """A bool scalar: whether `variable` has a value in the running session."""
    return out1("IsVariableInitialized", [_ref_of(variable)], None, "IsVariableInitialized")


def report_uninitialized_variables(var_list=None, name: str = "report_uninitialized_variables"):
    """A string vector naming the variables of `var_list` that have no value yet."""
    from .ops.indexing import boolean_mask
    from .ops.joining import stack
    from .ops.constant import constant
    from .ops.logic import logical_not
    var_list = global_variables() if var_list is None else list(var_list)
    if not var_list:
        return constant(np.array([], dtype=object), name=name)
    with get_default_graph().name_scope(name):
        inited = stack([is_variable_initialized(v) for v in var_list])
        names = constant(np.array([v.op.name for v in var_list], dtype=object))
        return boolean_mask(names, logical_not(inited))


def assert_variables_initialized(var_list=None):
    from .ops.joining import stack
    from .ops.reduction import reduce_all
    var_list = global_variables() if var_list is None else list(var_list)
    return reduce_all(stack([is_variable_initialized(v) for v in var_list]))


_overload_from_tensor()
