"""Variable scopes and `get_variable` (TF 1.x `variable_scope.py`).

Each graph keeps a `_VariableStore` (in `Graph._var_store`): the variables made by
`get_variable`, keyed by full name, the current `VariableScope`, and a count of how often each
scope name was opened (for `default_name` uniquification). A variable's full name is the
variable-scope path plus its name, whatever name scope is open, and its ops (initializer,
``read``) live under that name. `variable_scope` also opens the matching name scope.

Sharing rules (`reuse` of the current scope): False creates and refuses an existing name;
True returns an existing variable and refuses a missing one; `AUTO_REUSE` does either.
`reuse=True` is inherited by sub-scopes and cannot be turned off inside them.
"""
from __future__ import annotations

import inspect

from . import dtypes
from .framework.graph import Graph, GraphKeys, _default_np_dtype, _graph_of, get_default_graph
from .tensor_shape import TensorShape, as_shape
from .variables import Variable

__all__ = ["VariableScope", "variable_scope", "get_variable_scope", "get_variable",
           "get_local_variable", "AUTO_REUSE", "no_regularizer", "variable_op_scope",
           "make_template", "Template"]


class _ReuseMode:
    """`tf.AUTO_REUSE`: create variables that are missing, return those that exist."""

    def __repr__(self) -> str:
        return "AUTO_REUSE"


AUTO_REUSE = _ReuseMode()


def no_regularizer(_):
    """A regularizer that adds no loss (to turn off a scope's regularizer)."""
    return None


class VariableScope:
    """The defaults `get_variable` applies inside a `variable_scope`: name prefix, reuse,
    initializer, regularizer, dtype, custom getter and constraint."""

    def __init__(self, reuse, name: str = "", initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None,
                 name_scope: str = "", dtype=dtypes.float32, use_resource=None,
                 constraint=None) -> None:
        self._name = name
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtypes.as_dtype(dtype)
        self._use_resource = use_resource
        self._constraint = constraint

    # -- properties ----------------------------------------------------------------------
    name = property(lambda self: self._name)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    regularizer = property(lambda self: self._regularizer)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    dtype = property(lambda self: self._dtype)
    use_resource = property(lambda self: self._use_resource)
    constraint = property(lambda self: self._constraint)

    @property
    def original_name_scope(self) -> str:
        """The name scope opened when this scope was first entered ("" or ending in "/")."""
        return self._name_scope

    # -- setters ------------------------------------------------------------------------
    def reuse_variables(self) -> None:
        """Makes `get_variable` in this scope (and its sub-scopes) return existing variables."""
        self._reuse = True

    def set_initializer(self, initializer) -> None:
        self._initializer = initializer

    def set_regularizer(self, regularizer) -> None:
        self._regularizer = regularizer

    def set_dtype(self, dtype) -> None:
        self._dtype = dtypes.as_dtype(dtype)

    def set_caching_device(self, caching_device) -> None:
        self._caching_device = caching_device

    def set_partitioner(self, partitioner) -> None:
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter) -> None:
        self._custom_getter = custom_getter

    def set_use_resource(self, use_resource) -> None:
        self._use_resource = use_resource

    # -- variables ------------------------------------------------------------------------
    def get_variable(self, var_store: "_VariableStore", name: str, shape=None, dtype=None,
                     initializer=None, regularizer=None, reuse=None, trainable=None,
                     collections=None, caching_device=None, partitioner=None,
                     validate_shape: bool = True, use_resource=None, custom_getter=None,
                     constraint=None, **kwargs):
        """Gets or creates ``<scope name>/<name>`` in `var_store`, filling in this scope's
        defaults for the arguments left None."""
        if regularizer is None:
            regularizer = self._regularizer
        if caching_device is None:
            caching_device = self._caching_device
        if partitioner is None:
            partitioner = self._partitioner
        if constraint is None:
            constraint = self._constraint
        if custom_getter is None:
            custom_getter = self._custom_getter
        if reuse is None:
            reuse = self._reuse
        full_name = f"{self._name}/{name}" if self._name else name
        if dtype is not None and initializer is not None and not callable(initializer):
            init_dtype = _value_dtype(initializer)
            if init_dtype != dtypes.as_dtype(dtype):
                raise ValueError(f"Initializer type '{init_dtype.name}' and explicit dtype "
                                 f"'{dtypes.as_dtype(dtype).name}' don't match.")
        if initializer is None:
            initializer = self._initializer
        if dtype is None:
            dtype = self._dtype
        with var_store.graph.name_scope(None):  # variables are named by the variable scope
            return var_store.get_variable(
                full_name, shape=shape, dtype=dtype, initializer=initializer,
                regularizer=regularizer, reuse=reuse, trainable=trainable,
                collections=collections, caching_device=caching_device,
                partitioner=partitioner, validate_shape=validate_shape,
                use_resource=use_resource, custom_getter=custom_getter,
                constraint=constraint, **kwargs)

    def global_variables(self) -> list:
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def trainable_variables(self) -> list:
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def local_variables(self) -> list:
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_collection(self, name: str) -> list:
        """The items of collection `name` whose names lie under this scope."""
        scope = self._name + "/" if self._name else ""
        return [x for x in get_default_graph().get_collection(name)
                if getattr(x, "name", "").startswith(scope)]

    def __repr__(self) -> str:
        return f"<VariableScope name={self._name!r} reuse={self._reuse!r}>"


class _VariableStore:
    """The variables `get_variable` made in one graph, plus the variable-scope state."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.vars: dict[str, Variable] = {}
        self.current_scope = VariableScope(False)
        self.scope_counts: dict[str, int] = {}

    # -- scope bookkeeping ---------------------------------------------------------------
    def open_variable_scope(self, scope_name: str) -> None:
        self.scope_counts[scope_name] = self.scope_counts.get(scope_name, 0) + 1

    def close_variable_subscopes(self, scope_name: str | None) -> None:
        """Forgets the counts of the scopes under `scope_name` (all when None)."""
        prefix = "" if scope_name is None else scope_name + "/"
        for k in self.scope_counts:
            if k.startswith(prefix):
                self.scope_counts[k] = 0

    def unique_scope_name(self, prefix: str) -> str:
        """`prefix` under the current scope, suffixed ``_N`` when that scope was opened."""
        cur = self.current_scope.name
        base = f"{cur}/{prefix}" if cur else prefix
        if not self.scope_counts.get(base, 0):
            return prefix
        i = 1
        while self.scope_counts.get(f"{base}_{i}", 0):
            i += 1
        return f"{prefix}_{i}"

    # -- variables ------------------------------------------------------------------------
    def get_variable(self, name: str, shape=None, dtype=dtypes.float32, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape: bool = True,
                     use_resource=None, custom_getter=None, constraint=None, **kwargs):
        """Runs `custom_getter` (if any) around the store's own getter."""
        if partitioner is not None:
            raise NotImplementedError(f"Variable {name}: partitioned variables are not "
                                      "supported")
        dtype = dtypes.as_dtype(dtype)
        if custom_getter is None:
            return self._get_single_variable(
                name, shape, dtype, initializer, regularizer, reuse, trainable, collections,
                caching_device, validate_shape, constraint)
        if not callable(custom_getter):
            raise ValueError(f"Passed a custom_getter which is not callable: {custom_getter}")

        def true_getter(name, shape=None, dtype=dtypes.float32, initializer=None,
                        regularizer=None, reuse=None, trainable=None, collections=None,
                        caching_device=None, partitioner=None, validate_shape=True,
                        use_resource=None, constraint=None, **kw):
            return self._get_single_variable(
                name, shape, dtypes.as_dtype(dtype), initializer, regularizer, reuse,
                trainable, collections, caching_device, validate_shape, constraint)

        return custom_getter(
            getter=true_getter, name=name, shape=shape, dtype=dtype, initializer=initializer,
            regularizer=regularizer, reuse=reuse, trainable=trainable,
            collections=collections, caching_device=caching_device, partitioner=partitioner,
            validate_shape=validate_shape, use_resource=use_resource, constraint=constraint,
            **kwargs)

    def _get_single_variable(self, name, shape, dtype, initializer, regularizer, reuse,
                             trainable, collections, caching_device, validate_shape,
                             constraint) -> Variable:
        from_value = initializer is not None and not callable(initializer)
        if shape is not None and from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        shape = as_shape(shape)
        if name in self.vars:
            return self._existing(name, shape, dtype, reuse)
        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with "
                             "tf.get_variable(). Did you mean to set reuse=None or "
                             "reuse=tf.AUTO_REUSE in VarScope?")
        if initializer is None:
            initializer = _default_initializer(name, dtype)
        if from_value:
            init_val, var_dtype = initializer, None
        else:
            if inspect.isclass(initializer):
                initializer = initializer(dtype=dtype)
            if shape.is_fully_defined():
                dims = shape.as_list()

                def init_val():
                    return initializer(dims, dtype=dtype, partition_info=None)
                var_dtype = dtype
            elif _takes_no_arguments(initializer):
                init_val, var_dtype = initializer, None
            else:
                raise ValueError(f"Shape of a new variable ({name}) must be fully defined, "
                                 f"but instead was {shape}.")
        if trainable is None:
            trainable = True
        # like TF's init_scope: initializers never wait on the control dependencies in scope
        with self.graph.control_dependencies(None), \
                _caching_device_scope(self.graph, caching_device):
            v = Variable(initial_value=init_val, name=name, trainable=trainable,
                         collections=collections, dtype=var_dtype,
                         validate_shape=validate_shape, constraint=constraint)
        self.vars[name] = v
        if regularizer is not None:
            self._regularize(name, v, regularizer)
        return v

    def _existing(self, name: str, shape: TensorShape, dtype, reuse) -> Variable:
        """The stored variable `name`, after the reuse, shape and dtype checks."""
        found = self.vars[name]
        if reuse is False or reuse is None:
            raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set "
                             "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        if not shape.is_compatible_with(found.get_shape()):
            raise ValueError(f"Trying to share variable {name}, but specified shape {shape} "
                             f"and found shape {found.get_shape()}.")
        if dtype is not None and dtype != found.dtype:
            raise ValueError(f"Trying to share variable {name}, but specified dtype "
                             f"{dtype.name} and found dtype {found.dtype.name}.")
        return found

    def _regularize(self, name: str, v: Variable, regularizer) -> None:
        """Adds ``regularizer(v)`` (unless None) to REGULARIZATION_LOSSES."""
        graph = self.graph  # the outermost graph, also for a variable made in a loop body
        with graph.as_default(), graph.colocate_with(v.op), \
                graph.name_scope(name + "/Regularizer/"):
            loss = regularizer(v)
        if loss is not None:
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)


def _value_dtype(value) -> dtypes.DType:
    """The dtype `value` (a tensor, variable or NumPy/Python value) converts to."""
    dt = getattr(value, "dtype", None)
    if isinstance(dt, dtypes.DType):
        return dt
    return dtypes.as_dtype(_default_np_dtype(value))


def _default_initializer(name: str, dtype):
    """glorot_uniform for floats, zeros for integers, bools and strings."""
    from .init_ops import glorot_uniform_initializer, zeros_initializer
    if dtype.is_floating:
        return glorot_uniform_initializer()
    if dtype.is_integer or dtype.is_bool or dtype == dtypes.string:
        return zeros_initializer()
    raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")


def _takes_no_arguments(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


def _caching_device_scope(graph: Graph, caching_device):
    import contextlib
    return contextlib.nullcontext() if caching_device is None else graph.device(caching_device)


def _store(graph: Graph | None = None) -> _VariableStore:
    graph = graph or get_default_graph()
    if graph._var_store is None:
        graph._var_store = _VariableStore(graph)
    return graph._var_store


def get_variable_scope() -> VariableScope:
    """The current variable scope of the default graph."""
    return _store().current_scope


def get_variable(name: str, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape: bool = True, use_resource=None, custom_getter=None,
                 constraint=None, **kwargs) -> Variable:
    """Gets the variable ``<current variable scope>/<name>``, or creates it.

    `initializer` may be an initializer (called with the shape and dtype), an initializer
    class, a zero-argument callable, or a Tensor / NumPy value (then `shape` must be None and
    the variable takes the value's shape and dtype). Without one, the scope's initializer is
    used, else glorot_uniform for floats and zeros for ints/bools.

    Raises:
        ValueError: the variable exists and the scope does not reuse, it is missing and the
            scope reuses (reuse=True), the shape or dtype differs from the existing one, or
            the shape of a new variable is not fully defined.
    """
    return get_variable_scope().get_variable(
        _store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
        use_resource=use_resource, custom_getter=custom_getter, constraint=constraint,
        **kwargs)


def get_local_variable(name: str, shape=None, dtype=None, initializer=None, regularizer=None,
                       trainable=False, collections=None, caching_device=None,
                       partitioner=None, validate_shape: bool = True, use_resource=None,
                       custom_getter=None, constraint=None, **kwargs) -> Variable:
    """`get_variable` for a non-trainable variable in LOCAL_VARIABLES (plus `collections`)."""
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape, dtype, initializer, regularizer, False, collections,
                        caching_device, partitioner, validate_shape, use_resource,
                        custom_getter, constraint, **kwargs)


def _compose_getters(outer, inner):
    """A custom getter running `inner` with `outer` as its getter (TF 1.x nesting)."""
    if outer is None:
        return inner

    def composed(getter, *args, **kwargs):
        return inner(lambda *a, **kw: outer(getter, *a, **kw), *args, **kwargs)
    return composed


class variable_scope:  # noqa: N801 - TF 1.x name
    """Opens a variable scope (and the matching name scope) for `get_variable`.

    Args:
        name_or_scope: a name (appended to the current scope) or a `VariableScope` (entered
            again under its own name; its name scope is opened anew as "<last part>_N").
        default_name: used, made unique, when `name_or_scope` is None.
        values: tensors whose graph becomes the default graph inside.
        initializer, regularizer, caching_device, custom_getter, dtype, constraint: new
            defaults for `get_variable` inside (None keeps the enclosing ones).
        reuse: True or `AUTO_REUSE` to share variables; None/False inherit the enclosing mode.
        auxiliary_name_scope: also open a name scope (default True).

    Raises:
        TypeError: `name_or_scope` is neither a string nor a VariableScope, or both it and
            `default_name` are None.
        ValueError: `reuse=True` without `name_or_scope`.
    """

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None,
                 regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                 reuse=None, dtype=None, use_resource=None, constraint=None,
                 auxiliary_name_scope: bool = True) -> None:
        if name_or_scope is None and default_name is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if name_or_scope is not None and not isinstance(name_or_scope, (str, VariableScope)):
            raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
        if name_or_scope is None and reuse is True:
            raise ValueError("reuse=True cannot be used without a name_or_scope")
        if partitioner is not None:
            raise NotImplementedError("variable_scope(partitioner=...): partitioned "
                                      "variables are not supported")
        if custom_getter is not None and not callable(custom_getter):
            raise ValueError(f"Passed a custom_getter which is not callable: {custom_getter}")
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = values
        self._reuse = reuse if reuse is True or reuse is AUTO_REUSE else None
        self._overrides = {"initializer": initializer, "regularizer": regularizer,
                           "caching_device": caching_device, "dtype": dtype,
                           "use_resource": use_resource, "constraint": constraint}
        self._custom_getter = custom_getter
        self._aux_name_scope = auxiliary_name_scope
        self._stack = None

    def __enter__(self) -> VariableScope:
        import contextlib
        stack = contextlib.ExitStack()
        try:
            graph = _graph_of(self._values) if self._values else get_default_graph()
            stack.enter_context(graph.as_default())
            store = _store(graph)
            scope = self._open(store, graph, stack)
        except BaseException:
            stack.close()
            raise
        old_scope, old_counts = store.current_scope, dict(store.scope_counts)
        store.current_scope = scope
        stack.callback(self._restore, store, old_scope, old_counts, scope)
        self._stack = stack
        return scope

    def __exit__(self, *exc) -> bool:
        stack, self._stack = self._stack, None
        return stack.__exit__(*exc)

    def _restore(self, store, old_scope, old_counts, scope) -> None:
        store.current_scope = old_scope
        if isinstance(self._name_or_scope, VariableScope):
            store.scope_counts = old_counts
        else:
            store.close_variable_subscopes(scope.name)

    def _open(self, store: _VariableStore, graph: Graph, stack) -> VariableScope:
        """Opens the name scope and builds the new VariableScope."""
        parent = store.current_scope
        target = self._name_or_scope
        if target is None:
            ns = self._enter_name_scope(graph, stack, self._default_name)
            name = store.unique_scope_name(self._default_name)
            return self._child(store, parent, name, ns)
        if isinstance(target, VariableScope):
            short = target.name.split("/")[-1]
            self._enter_name_scope(graph, stack, short)
            store.open_variable_scope(target.name)
            getter = target.custom_getter
            if self._custom_getter is not None:
                getter = _compose_getters(getter, self._custom_getter)
            scope = VariableScope(
                self._reuse or target.reuse, target.name, target.initializer,
                target.regularizer, target.caching_device, None, getter,
                target.original_name_scope, target.dtype, target.use_resource,
                target.constraint)
            return self._apply_overrides(scope)
        ns = self._enter_name_scope(graph, stack, target)
        return self._child(store, parent, target, ns)

    def _enter_name_scope(self, graph: Graph, stack, name: str) -> str | None:
        """Opens name scope `name` (made unique); without the auxiliary name scope, the
        current one stays and is returned."""
        if not self._aux_name_scope:
            cur = graph.get_name_scope()
            return cur + "/" if cur else ""
        if not name:
            return None
        return stack.enter_context(graph.name_scope(name))

    def _child(self, store, parent: VariableScope, name: str, ns) -> VariableScope:
        """A sub-scope `name` of `parent`, inheriting its reuse and defaults."""
        full = f"{parent.name}/{name}" if parent.name else name
        store.open_variable_scope(full)
        getter = _compose_getters(parent.custom_getter, self._custom_getter) \
            if self._custom_getter is not None else parent.custom_getter
        scope = VariableScope(
            self._reuse or parent.reuse, full, parent.initializer, parent.regularizer,
            parent.caching_device, None, getter, ns if ns is not None else name,
            parent.dtype, parent.use_resource, parent.constraint)
        return self._apply_overrides(scope)

    def _apply_overrides(self, scope: VariableScope) -> VariableScope:
        o = self._overrides
        if o["initializer"] is not None:
            scope.set_initializer(o["initializer"])
        if o["regularizer"] is not None:
            scope.set_regularizer(o["regularizer"])
        if o["caching_device"] is not None:
            scope.set_caching_device(o["caching_device"])
        if o["dtype"] is not None:
            scope.set_dtype(o["dtype"])
        if o["use_resource"] is not None:
            scope.set_use_resource(o["use_resource"])
        if o["constraint"] is not None:
            scope._constraint = o["constraint"]
        return scope


def variable_op_scope(values, name_or_scope, default_name=None, initializer=None,
                      regularizer=None, caching_device=None, partitioner=None,
                      custom_getter=None, reuse=None, dtype=None, use_resource=None):
    """Deprecated TF 1.x spelling of ``variable_scope(name_or_scope, default_name, values)``."""
    return variable_scope(name_or_scope, default_name=default_name, values=values,
                          initializer=initializer, regularizer=regularizer,
                          caching_device=caching_device, partitioner=partitioner,
                          custom_getter=custom_getter, reuse=reuse, dtype=dtype,
                          use_resource=use_resource)


class Template:
    """A function whose `get_variable` calls create variables on the first call and share
    them on every later one (TF 1.x `tf.make_template`). Built by `make_template`."""

    def __init__(self, name: str, func, create_scope_now: bool = False, unique_name=None,
                 custom_getter=None) -> None:
        self._name = name
        self._func = func
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        self._variable_scope = None
        if create_scope_now:
            with variable_scope(unique_name, default_name=name,
                                custom_getter=custom_getter) as vs:
                self._variable_scope = vs

    def __call__(self, *args, **kwargs):
        if self._variable_scope is None:
            with variable_scope(self._unique_name, default_name=self._name,
                                custom_getter=self._custom_getter) as vs:
                self._variable_scope = vs
                return self._func(*args, **kwargs)
        first = not self._variable_scope.global_variables()
        with variable_scope(self._variable_scope, reuse=None if first else True):
            return self._func(*args, **kwargs)

    @property
    def name(self) -> str:
        return self._name

    @property
    def func(self):
        return self._func

    @property
    def variable_scope(self) -> VariableScope | None:
        return self._variable_scope

    @property
    def variable_scope_name(self) -> str | None:
        return None if self._variable_scope is None else self._variable_scope.name

    @property
    def variables(self) -> list:
        return [] if self._variable_scope is None else self._variable_scope.global_variables()

    global_variables = variables

    @property
    def trainable_variables(self) -> list:
        vs = self._variable_scope
        return [] if vs is None else vs.trainable_variables()


def make_template(name_: str, func_, create_scope_now_: bool = False, unique_name_=None,
                  custom_getter_=None, **kwargs) -> Template:
    """Wraps `func_` (with `kwargs` bound) so that all its calls share one set of variables,
    created in a fresh variable scope `name_` (made unique) on the first call.

    Raises:
        ValueError: `func_` is not callable.
    """
    import functools
    if not callable(func_):
        raise ValueError(f"make_template: func_ must be callable, got {func_!r}")
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(name_, func_, create_scope_now_, unique_name_, custom_getter_)
