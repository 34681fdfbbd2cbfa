"""Control ops: NoOp and the TF 1.x helpers built on control edges (group, tuple,
with_dependencies)."""
from __future__ import annotations

from ..framework.graph import (Operation, Tensor, control_dependencies, convert_to_tensor,
                               get_default_graph, name_scope)
from ..framework.registry import NOT_DIFFERENTIABLE, register_op

__all__ = ["no_op", "group", "tuple", "with_dependencies"]

register_op("NoOp", infer=lambda op: [], grad=NOT_DIFFERENTIABLE, kernel=None,
            doc="Does nothing; its control inputs order other ops.")


def no_op(name: str | None = None) -> Operation:
    """An op that does nothing (useful as a control-dependency target)."""
    return get_default_graph().create_op("NoOp", [], None, name or "NoOp")


def _as_op(x) -> Operation:
    if isinstance(x, Operation):
        return x
    if isinstance(x, Tensor):
        return x.op
    el = x._as_graph_element() if hasattr(x, "_as_graph_element") else None
    if el is None:
        raise TypeError(f"Expected an Operation or Tensor, got {x!r}")
    return el if isinstance(el, Operation) else el.op


def group(*inputs, name: str | None = None) -> Operation:
    """An op that runs after all `inputs` (ops or tensors, or lists of them)."""
    flat = []
    for x in inputs:
        if isinstance(x, (list, _builtin_tuple, set)):
            flat.extend(x)
        else:
            flat.append(x)
    ops = [_as_op(x) for x in flat]
    graph = ops[0].graph if ops else get_default_graph()
    with graph.as_default(), control_dependencies(ops):
        return no_op(name=name or "group_deps")


_builtin_tuple = tuple


def tuple(tensors, name: str | None = None, control_inputs=None):  # noqa: A001
    """Identities of `tensors` that are only available once all of them are computed."""
    from .array import identity
    with name_scope(name, "tuple", [t for t in tensors if t is not None]):
        gate = group(*[t for t in tensors if t is not None], *(control_inputs or []))
        out = []
        for t in tensors:
            if t is None:
                out.append(None)
                continue
            with control_dependencies([gate]):
                out.append(identity(t))
        return out


def with_dependencies(dependencies, output_tensor, name: str | None = None):
    """`output_tensor`, computed only after `dependencies` have run."""
    from .array import identity
    with name_scope(name, "control_dependency", list(dependencies) + [output_tensor]):
        with control_dependencies(dependencies):
            return identity(convert_to_tensor(output_tensor))
