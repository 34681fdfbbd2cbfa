"""Reverse-mode autodiff that builds the backward pass into the graph (`tf.gradients`).

Keep the ops between `xs` and `ys` (forward-reachable from xs, backward-reachable from ys),
walk them in reverse creation order (creation order is topological), sum the gradients
arriving at each output, and call the op type's registered gradient function. The result is
ordinary graph ops, so backward passes are pruned, compiled and run like forward ones.

Sparse gradients: a gather along axis 0 (and so `embedding_lookup` and the sampled losses)
gives its params an `IndexedSlices` gradient. Several IndexedSlices reaching one tensor are
aggregated by concatenating their rows; mixed with dense gradients they are summed densely
(TF would turn the dense ones into slices of every row). A gradient function that does not
take IndexedSlices (all but those of `_SPARSE_AWARE`) receives the dense tensor.
"""
from __future__ import annotations

from .dtypes import variant as _variant
from .framework import registry
from .framework.graph import Operation, Tensor, convert_to_tensor, get_default_graph
from .framework.indexed_slices import IndexedSlices

__all__ = ["gradients", "hessians", "AggregationMethod", "GradientError"]


class GradientError(LookupError):
    """No gradient is registered for an op on the path from xs to ys."""


_SPARSE_AWARE = frozenset({"Identity"})
"""Op types whose gradient function passes an IndexedSlices gradient through unchanged
(a variable's ``read`` snapshot is an Identity)."""


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _differentiable(t: Tensor) -> bool:
    # A variant tensor carries a TensorArray's list: its gradient is a list of gradients.
    return t.dtype.is_floating or t.dtype.is_complex or t.dtype is _variant


def gradients(ys, xs, grad_ys=None, name: str = "gradients",
              colocate_gradients_with_ops: bool = False, gate_gradients: bool = False,
              aggregation_method=None, stop_gradients=None):
    """Symbolic partial derivatives of sum(ys) with respect to each x in xs.

    Args:
        ys: a tensor or list of tensors to differentiate.
        xs: a tensor, variable or list of them.
        grad_ys: initial gradients for ys (default: ones).
        stop_gradients: tensors treated as constants.

    Returns:
        A list with one gradient per x; None where x does not affect ys or is an integer;
        an `IndexedSlices` where x reaches ys only through gathers (module docstring).

    Raises:
        LookupError: an op on the path has no registered gradient.
    """
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = [convert_to_tensor(x) for x in _as_list(xs)]
    graph = ys[0].graph if ys else get_default_graph()
    stops = {convert_to_tensor(s) for s in _as_list(stop_gradients or [])}
    stop_ops = {s.op for s in stops}
    if grad_ys is None:
        grad_ys = [None] * len(ys)
    else:
        grad_ys = _as_list(grad_ys)
        if len(grad_ys) != len(ys):
            raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")

    x_ops = {x.op for x in xs}
    # Forward reachability from xs (through consumers).
    reach: set[Operation] = set()
    stack = list(x_ops)
    while stack:
        op = stack.pop()
        if op in reach:
            continue
        reach.add(op)
        for t in op.outputs:
            stack.extend(c for c in t._consumers if c not in reach)
    # Backward from ys, within reach.
    between: set[Operation] = set()
    stack = [y.op for y in ys if y.op in reach]
    while stack:
        op = stack.pop()
        if op in between:
            continue
        between.add(op)
        for t in op.inputs:
            if t.op in reach and t.op not in between:
                stack.append(t.op)

    pending: dict[Tensor, list] = {}
    with graph.name_scope(name):
        from .ops.constant import ones_like
        for y, gy in zip(ys, grad_ys):
            if not _differentiable(y):
                continue
            g = ones_like(y) if gy is None else convert_to_tensor(gy, dtype=y.dtype)
            pending.setdefault(y, []).append(g)

        for op in sorted(between, key=lambda o: o._id, reverse=True):
            out_grads = [_aggregate(pending.get(t)) for t in op.outputs]
            if all(g is None for g in out_grads):
                continue
            if op in stop_ops or not op.inputs:
                continue
            if not any(t.op in between or t in xs for t in op.inputs):
                continue
            grad_type = graph._gradient_override_map.get(op.type, op.type)
            grad_fn = registry.get_op_def(grad_type).grad
            if grad_fn is registry.NOT_DIFFERENTIABLE:
                continue
            if grad_fn is registry.NO_GRADIENT:
                raise LookupError(f"No gradient defined for operation '{op.name}' (op type: "
                                  f"{op.type})")
            if grad_type not in _SPARSE_AWARE:
                out_grads = [convert_to_tensor(g) if isinstance(g, IndexedSlices) else g
                             for g in out_grads]
            if len(op.outputs) > 1:
                out_grads = [g if g is not None or not _differentiable(t) else _zeros_for(t)
                             for g, t in zip(out_grads, op.outputs)]
            with graph.name_scope(op.name + "_grad"):
                in_grads = grad_fn(op, *out_grads)
            in_grads = list(in_grads) if isinstance(in_grads, (list, tuple)) else [in_grads]
            if len(in_grads) != len(op.inputs):
                raise ValueError(f"Gradient function for {op.type} returned {len(in_grads)} "
                                 f"gradients, expected {len(op.inputs)}")
            for t, g in zip(op.inputs, in_grads):
                if g is None or not _differentiable(t) or t in stops:
                    continue
                if t.op in between or t in xs:
                    pending.setdefault(t, []).append(g)

        results = []
        for x in xs:
            if not _differentiable(x):
                results.append(None)
                continue
            results.append(_aggregate(pending.get(x)))
    return results


def _aggregate(grads):
    """The sum of the gradients reaching one tensor: AddN of dense ones, the concatenation of
    IndexedSlices, a dense AddN when both kinds meet."""
    if not grads:
        return None
    if len(grads) == 1:
        return grads[0]
    sparse = [g for g in grads if isinstance(g, IndexedSlices)]
    if len(sparse) == len(grads):
        return _concat_slices(sparse)
    if sparse:
        grads = [convert_to_tensor(g) for g in grads]
    if grads[0].dtype is _variant:
        from .ops._common import out1
        return out1("TensorListAddN", list(grads))
    from .ops.math import add_n
    return add_n(grads)


def _concat_slices(grads: list) -> IndexedSlices:
    """One IndexedSlices holding the rows of all of `grads` (TF's
    _AggregateIndexedSlicesGradients); indices of mixed int types are taken as int64."""
    from .ops.joining import concat
    from .ops.math import cast
    index_dtypes = {g.indices.dtype for g in grads}
    indices = [g.indices if len(index_dtypes) == 1 else cast(g.indices, "int64")
               for g in grads]
    return IndexedSlices(concat([g.values for g in grads], 0), concat(indices, 0),
                         grads[0].dense_shape)


def _zeros_for(t: Tensor):
    if t.dtype is _variant:
        from .ops._common import out1
        return out1("TensorListZerosLike", [t])
    from .ops.constant import zeros_like
    return zeros_like(t)


class AggregationMethod:
    """TF 1.x's ways of summing the gradients that reach one tensor. `gradients` accepts any
    of them and always sums with AddN."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


def hessians(ys, xs, name: str = "hessians", colocate_gradients_with_ops: bool = False,
             gate_gradients: bool = False, aggregation_method=None):
    """The Hessian of sum(ys) with respect to each x in xs: shape x.shape + x.shape.

    Built as one backward pass per element of x (the gradient of the flattened gradient,
    seeded with each unit vector), so it suits small xs of fully known shape.

    Raises:
        ValueError: an x whose shape is not fully known.
    """
    import numpy as np

    from .ops.array import reshape
    from .ops.constant import zeros_like
    from .ops.joining import stack
    xs = [convert_to_tensor(x) for x in _as_list(xs)]
    graph = xs[0].graph if xs else get_default_graph()
    results = []
    with graph.name_scope(name):
        for x in xs:
            if x._shape is None or None in x._shape:
                raise ValueError(f"hessians: the shape of {x.name} must be fully known, "
                                 f"got {x.get_shape()}")
            n = int(np.prod(x._shape, dtype=np.int64))
            grad = gradients(ys, x)[0]
            if grad is None:
                results.append(None)
                continue
            flat = reshape(grad, [n])
            rows = []
            for i in range(n):
                seed = np.zeros(n, dtype=x.dtype.np)
                seed[i] = 1
                row = gradients(flat, x, grad_ys=[convert_to_tensor(seed)])[0]
                rows.append(zeros_like(x) if row is None else row)
            results.append(reshape(stack(rows), list(x._shape) * 2))
    return results
