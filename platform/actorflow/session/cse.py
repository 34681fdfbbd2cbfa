"""CSE pass: an op that computes exactly what an earlier op computes is run once.

Contract: given the pruned ops (topologically sorted) and the fed tensors, return
``{tensor: representative}`` for every output of an op that duplicates an earlier one: same
type, same inputs (after earlier merges), same control inputs and equal attrs. Only pure ops
take part — small constants, and ops with at least one data input, no state (`stateful`), no
ref inputs and no fed output — so placeholders, variables, random and assignment ops are
never merged.
Gradient graphs repeat `Shape`, `Cast` and `Size` of one tensor often; the book's ch. 1
lists this pass among TensorFlow's graph optimisations.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes

__all__ = ["eliminate_common_subexpressions"]

_SMALL_ARRAY = 64  # array attrs up to this many elements are compared by value


def eliminate_common_subexpressions(ops, fed) -> dict:
    """{duplicate output tensor: the earlier equal op's output} for the ops given."""
    alias: dict = {}
    seen: dict = {}
    for op in ops:
        d = op.op_def
        if (not op.inputs and op.type != "Const") or d.stateful or d.ref_inputs \
                or any(t in fed for t in op.outputs):
            continue
        try:
            key = (op.type, tuple(id(alias.get(t, t)) for t in op.inputs),
                   tuple(id(c) for c in op.control_inputs), _freeze(op.attrs))
            hash(key)
        except TypeError:
            continue  # an attr we cannot compare: keep the op
        first = seen.setdefault(key, op)
        if first is not op:
            alias.update(zip(op.outputs, first.outputs))
    return alias


def _freeze(value):
    """A hashable stand-in for an attr value, equal exactly when the values are equal."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    if isinstance(value, dtypes.DType):
        return ("dtype", value.name)
    if isinstance(value, np.ndarray):
        if value.size > _SMALL_ARRAY or value.dtype.kind == "O":
            return ("array", id(value))
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return (type(value).__name__, value)
    return ("object", id(value))
