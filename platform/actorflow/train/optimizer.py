"""The TF 1.x `Optimizer` base class: gradients, slot variables and the update step.

``minimize`` = ``compute_gradients`` (symbolic gradients with respect to each variable's ref)
followed by ``apply_gradients`` (one update op per variable, built by the subclass's
``_apply_dense``, then ``_finish`` and the global-step increment). Subclasses keep their
per-variable state in *slot* variables ("<var>/<Optimizer>", "<var>/<Optimizer>_1", ...),
created non-trainable and colocated with the variable they serve.

Sparse gradients: an `IndexedSlices` gradient (from a gather / `embedding_lookup`) goes to
``_apply_sparse_duplicate_indices``, which by default sums the rows of repeated indices
(TF's ``_deduplicate_indexed_slices``) and calls ``_apply_sparse(grad, var)`` with unique
indices; an optimizer without a sparse rule applies the dense tensor instead.

The train op records in its attr ``_gradients`` which gradient tensor updates which variable,
so that a parameter server can run the update with gradients fed from workers: one entry per
updated variable, ``[gradient tensor, variable op]`` for a dense gradient and
``[values tensor, variable op, indices tensor]`` for an IndexedSlices gradient (its dense
shape is the variable's shape). Feeding those tensors runs the same update.
"""
from __future__ import annotations

import collections.abc
import dataclasses

import numpy as np

from .. import dtypes
from ..framework.graph import (GraphKeys, Operation, Tensor, convert_to_tensor,
                               get_default_graph)
from ..framework.indexed_slices import IndexedSlices

__all__ = ["Optimizer", "GradientEntry", "recorded_gradients"]

_TRAINABLE_RESOURCE_VARIABLES = getattr(GraphKeys, "TRAINABLE_RESOURCE_VARIABLES",
                                        "trainable_resource_variables")
_VALID_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


def _var_op(var) -> Operation:
    """The VariableV2 op of a Variable or of a variable's ref tensor."""
    op = getattr(var, "op", None)
    if not isinstance(op, Operation) or op.type != "VariableV2":
        raise TypeError(f"Argument is not a tf.Variable: {var!r}")
    return op


def _var_ref(var) -> Tensor:
    """The ref tensor gradients are taken with respect to (TF: ``var._ref()``)."""
    return var._ref() if hasattr(var, "_ref") else _var_op(var).outputs[0]


class Optimizer:
    """Base class for optimizers (TF 1.x `tf.train.Optimizer`).

    Subclasses implement ``_create_slots(var_list)``, ``_prepare()`` (convert
    hyper-parameters to tensors once per `apply_gradients`), ``_apply_dense(grad, var)`` and
    optionally ``_apply_sparse(grad, var)`` (an IndexedSlices with unique indices) and
    ``_finish(update_ops, name)``.
    """

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking: bool, name: str) -> None:
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict[str, dict] = {}
        self._non_slot_dict: dict = {}

    def get_name(self) -> str:
        return self._name

    # -- the three steps ---------------------------------------------------------------
    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops: bool = False,
                 name: str | None = None, grad_loss=None) -> Operation:
        """Adds ops that update `var_list` to decrease `loss` (and increment `global_step`).

        Returns:
            The training op.

        Raises:
            ValueError: no variable receives a gradient from `loss`.
        """
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        if not any(g is not None for g, _ in grads_and_vars):
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do "
                f"not support gradients, between variables {[str(v) for _, v in grads_and_vars]}"
                f" and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops: bool = False,
                          grad_loss=None) -> list:
        """Gradients of `loss` for each variable in `var_list`.

        Args:
            var_list: variables to differentiate (default: the trainable variables plus the
                TRAINABLE_RESOURCE_VARIABLES collection).

        Returns:
            A list of (gradient, variable) pairs; the gradient is None where `loss` does not
            depend on the variable, and an `IndexedSlices` where it reaches the variable only
            through gathers (`embedding_lookup`, the sampled losses).

        Raises:
            ValueError: `gate_gradients` is invalid, or there are no variables.
            TypeError: a dtype that cannot be optimized, or a non-variable in `var_list`.
        """
        if callable(loss) and not isinstance(loss, Tensor):
            loss = loss()
        if gate_gradients not in (self.GATE_NONE, self.GATE_OP, self.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, "
                             f"Optimizer.GATE_OP, Optimizer.GATE_GRAPH. Not {gate_gradients}")
        loss = convert_to_tensor(loss)
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            grad_loss = convert_to_tensor(grad_loss)
            self._assert_valid_dtypes([grad_loss])
        graph = loss.graph
        if var_list is None:
            var_list = (graph.get_collection(GraphKeys.TRAINABLE_VARIABLES) +
                        graph.get_collection(_TRAINABLE_RESOURCE_VARIABLES))
        else:
            var_list = _flatten(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        refs = [_var_ref(v) for v in var_list]
        from ..gradients import gradients
        grads = gradients(loss, refs, grad_ys=None if grad_loss is None else [grad_loss],
                          gate_gradients=(gate_gradients == self.GATE_OP),
                          aggregation_method=aggregation_method,
                          colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == self.GATE_GRAPH:
            grads = _gated(grads)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def apply_gradients(self, grads_and_vars, global_step=None,
                        name: str | None = None) -> Operation:
        """Adds the update ops for each (gradient, variable) pair with a gradient.

        The global step, when given, is incremented after every update has run.

        Raises:
            ValueError: `grads_and_vars` is empty, or every gradient is None.
            TypeError: a gradient that cannot be converted to a tensor, or a non-variable.
        """
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            _var_op(v)
            if g is not None and not isinstance(g, IndexedSlices):
                try:
                    g = convert_to_tensor(g)
                except (TypeError, ValueError) as e:
                    raise TypeError("Gradient must be convertible to a Tensor or "
                                    f"IndexedSlices, or None: {g!r}") from e
            converted.append((g, v))
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError("No gradients provided for any variable: "
                             f"{[(str(g), str(v)) for g, v in converted]}.")
        graph = _var_op(var_list[0]).graph
        with graph.control_dependencies(None):
            self._create_slots(var_list)
        update_ops = []
        with graph.name_scope(name or self._name) as scope:
            self._prepare()
            for grad, var in converted:
                if grad is None:
                    continue
                op = _var_op(var)
                with graph.name_scope("update_" + op.name), graph.colocate_with(op):
                    if isinstance(grad, IndexedSlices):
                        update = self._apply_sparse_duplicate_indices(grad, var)
                    else:
                        update = self._apply_dense(grad, var)
                update_ops.append(update.op if isinstance(update, Tensor) else update)
            if global_step is None:
                apply_updates = self._finish(update_ops, scope)
            else:
                from ..variables import assign_add
                with graph.control_dependencies([self._finish(update_ops, "update")]):
                    with graph.colocate_with(_var_op(global_step)):
                        apply_updates = assign_add(global_step, 1, name=scope).op
        # Which gradient updates which variable: a parameter server applying this update with
        # gradients from elsewhere feeds these tensors (kept through GraphDef export; the
        # format is in the module docstring).
        apply_updates.attrs["_gradients"] = [_gradient_entry(g, v)
                                             for g, v in converted if g is not None]
        train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
        if apply_updates not in train_ops:
            train_ops.append(apply_updates)
        return apply_updates

    # -- slots -------------------------------------------------------------------------
    def get_slot_names(self) -> list[str]:
        """The names of the slots this optimizer creates ("m", "v", ...), sorted."""
        return sorted(self._slots)

    def get_slot(self, var, name: str):
        """The slot variable `name` created for `var`, or None."""
        named = self._slots.get(name)
        if named is None:
            return None
        return named.get(_var_op(var))

    def variables(self) -> list:
        """The optimizer's variables in the default graph (slots and e.g. beta powers)."""
        graph = get_default_graph()
        out = [v for (_, g), v in self._non_slot_dict.items() if g is graph]
        for named in self._slots.values():
            out.extend(v for v in named.values() if v.graph is graph)
        return sorted(out, key=lambda v: v.name)

    def _slot_dict(self, slot_name: str) -> dict:
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot(self, var, val, slot_name: str, op_name: str):
        """The slot `slot_name` of `var`, created from value or tensor `val` on first use."""
        named = self._slot_dict(slot_name)
        op = _var_op(var)
        if op not in named:
            named[op] = create_slot(var, val, op_name)
        return named[op]

    def _get_or_make_slot_with_initializer(self, var, initializer, shape, dtype,
                                           slot_name: str, op_name: str):
        """As `_get_or_make_slot`, the initial value being ``initializer(shape, dtype=...)``."""
        dtype = dtypes.as_dtype(dtype)
        if callable(initializer):
            shape = list(shape.as_list() if hasattr(shape, "as_list") else shape)
            return self._get_or_make_slot(
                var, lambda: initializer(shape, dtype=dtype), slot_name, op_name)
        return self._get_or_make_slot(var, np.asarray(initializer, dtype.np), slot_name,
                                      op_name)

    def _zeros_slot(self, var, slot_name: str, op_name: str):
        """A slot of zeros shaped like `var`."""
        return self._get_or_make_slot(var, 0, slot_name, op_name)

    def _create_non_slot_variable(self, initial_value, name: str, colocate_with):
        """A variable of the optimizer itself (e.g. Adam's beta powers), one per graph."""
        op = _var_op(colocate_with)
        graph = op.graph
        key = (name, graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            from ..variables import Variable
            with graph.control_dependencies(None), graph.colocate_with(op):
                v = Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name: str, graph=None):
        return self._non_slot_dict.get((name, graph or get_default_graph()))

    def _non_slot_variables(self) -> list:
        return list(self._non_slot_dict.values())

    # -- hooks for subclasses ----------------------------------------------------------
    def _create_slots(self, var_list) -> None:
        """Creates every slot `_apply_dense` needs for `var_list` (default: none)."""

    def _prepare(self) -> None:
        """Converts hyper-parameters to tensors (called once per `apply_gradients`)."""

    def _apply_dense(self, grad, var):
        raise NotImplementedError(f"{type(self).__name__} must implement _apply_dense")

    def _apply_sparse_duplicate_indices(self, grad: IndexedSlices, var):
        """Applies an IndexedSlices gradient that may repeat indices: sums the rows of each
        index, then calls `_apply_sparse`."""
        values, indices = _deduplicate_indexed_slices(grad.values, grad.indices)
        return self._apply_sparse(IndexedSlices(values, indices, grad.dense_shape), var)

    def _apply_sparse(self, grad: IndexedSlices, var):
        """The update for an IndexedSlices gradient with unique indices. Default: the dense
        update with the gradient made dense (for optimizers with no sparse rule)."""
        return self._apply_dense(convert_to_tensor(grad), var)

    def _finish(self, update_ops, name_scope) -> Operation:
        """The op that completes a step: by default, a group of the update ops."""
        from ..ops.control import group
        return group(*update_ops, name=name_scope)

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _call_if_callable(param):
        return param() if callable(param) else param

    def _valid_dtypes(self) -> set:
        return set(_VALID_DTYPES)

    def _assert_valid_dtypes(self, tensors) -> None:
        valid = self._valid_dtypes()
        for t in tensors:
            dtype = t.dtype.base_dtype if hasattr(t.dtype, "base_dtype") else t.dtype
            if dtype not in valid:
                raise ValueError(f"Invalid type {dtype!r} for {t.name}, expected: "
                                 f"{[v.name for v in sorted(valid, key=lambda d: d.name)]}.")

    def _hyper(self, value, name: str) -> Tensor:
        """A hyper-parameter (float, tensor or callable) as a tensor named `name`."""
        value = self._call_if_callable(value)
        if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
            return convert_to_tensor(value)
        return convert_to_tensor(value, name=name)


@dataclasses.dataclass(frozen=True)
class GradientEntry:
    """One entry of a train op's ``_gradients`` attr, read by name.

    Attributes:
        variable: the name of the updated variable's op.
        gradient: the name of the gradient tensor (an IndexedSlices gradient: its values).
        indices: the name of the IndexedSlices gradient's indices tensor, None when dense.
    """

    variable: str
    gradient: str
    indices: str | None = None

    @classmethod
    def parse(cls, entry) -> "GradientEntry":
        """Reads ``[gradient, variable]`` or ``[values, variable, indices]``.

        Raises:
            ValueError: an entry of another length.
        """
        if len(entry) not in (2, 3):
            raise ValueError(f"A _gradients entry is [gradient, variable] or [values, "
                             f"variable, indices], got {entry!r}")
        return cls(entry[1], entry[0], entry[2] if len(entry) == 3 else None)

    @property
    def sparse(self) -> bool:
        return self.indices is not None

    @property
    def tensors(self) -> list[str]:
        """The names of the tensors to fetch / feed: [gradient] or [values, indices]."""
        return [self.gradient] if self.indices is None else [self.gradient, self.indices]


def recorded_gradients(train_op) -> list[GradientEntry]:
    """The (gradient, variable) pairs an optimizer's train op records (its ``_gradients``
    attr, format in the module docstring), empty when it records none."""
    return [GradientEntry.parse(e) for e in train_op.attrs.get("_gradients") or ()]


def _gated(grads: list) -> list:
    """The gradients, each available only once all are computed (GATE_GRAPH); an
    IndexedSlices is gated through its values and indices and stays sparse."""
    from ..ops.control import tuple as tuple_
    flat = []
    for g in grads:
        flat.extend([g.values, g.indices] if isinstance(g, IndexedSlices) else [g])
    gated = iter(tuple_(flat))
    return [IndexedSlices(next(gated), next(gated), g.dense_shape)
            if isinstance(g, IndexedSlices) else next(gated) for g in grads]


def _gradient_entry(grad, var) -> list:
    """The ``_gradients`` entry of one (gradient, variable) pair (module docstring)."""
    if isinstance(grad, IndexedSlices):
        return [grad.values.name, _var_op(var).name, grad.indices.name]
    return [grad.name, _var_op(var).name]


def _deduplicate_indexed_slices(values: Tensor, indices: Tensor) -> tuple:
    """(summed values, unique indices): the rows of `values` added up per distinct index,
    in order of first occurrence (TF's ``_deduplicate_indexed_slices``)."""
    from ..ops.array import shape
    from ..ops.indexing import unsorted_segment_sum
    from ..ops.segment import unique
    unique_indices, positions = unique(indices)
    summed = unsorted_segment_sum(values, positions, shape(unique_indices)[0])
    return summed, unique_indices


def _cast_like(t: Tensor, var) -> Tensor:
    """`t` cast to the dtype of `var` (no op when it already has it)."""
    from ..ops.math import cast
    return cast(t, var.dtype)


def create_slot(primary, val, op_name: str):
    """A non-trainable variable shaped like `primary`, named ``<primary>/<op_name>``.

    Args:
        val: a scalar (filled to the primary's shape), a tensor or array of the full shape,
            or a callable returning one.
    """
    from ..ops.constant import fill
    from ..variables import Variable
    op = _var_op(primary)
    graph = op.graph
    shape = op.outputs[0]._shape
    dtype = primary.dtype
    known = shape is not None and None not in shape

    def initial():
        v = val() if callable(val) else val
        if isinstance(v, Tensor) or hasattr(v, "_as_graph_element"):
            return v
        arr = np.asarray(v, dtype=dtype.np)
        if arr.ndim == 0:
            if known:
                return fill(list(shape), arr)
            from ..ops.array import shape as shape_of
            return fill(shape_of(_var_ref(primary)), arr)
        return convert_to_tensor(arr)

    with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None), \
            graph.colocate_with(op):
        return Variable(initial, trainable=False, name=f"{op.name}/{op_name}",
                        validate_shape=known, dtype=dtype)


def _flatten(x) -> list:
    """The variables of a nesting of lists, tuples, sets, dicts, dict views (``d.values()``)
    and iterators, in order."""
    if isinstance(x, (list, tuple, set, collections.abc.MappingView, collections.abc.Iterator)):
        out = []
        for e in x:
            out.extend(_flatten(e))
        return out
    if isinstance(x, dict):
        return _flatten(list(x.values()))
    return [x]
