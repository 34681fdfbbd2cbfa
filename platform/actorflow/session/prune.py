"""Prune pass: the ops a run needs.

Contract: given the ops to run (fetched tensors' producers and fetched ops) and the set of fed
tensors, return every op reachable backwards through data inputs and control inputs, stopping
at fed tensors, in topological order. Ref inputs (the variable an Assign writes) are not data
dependencies: writing a variable does not read it first. Creation order is topological, so the
result is sorted by creation id rather than walked again.
"""
from __future__ import annotations

__all__ = ["prune"]


def prune(targets, fed, skip=frozenset()) -> list:
    """Ops needed to compute `targets` (Operations) when the tensors in `fed` are given.

    Ops in `skip` are left out, with every dependency reached only through them (a
    parameter-server shard runs a train op without the updates of other shards' variables).
    """
    needed: set = set(skip)
    stack = list(targets)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        ref = op.op_def.ref_inputs
        for i, t in enumerate(op.inputs):
            if t in fed or i in ref:
                continue
            if t.op not in needed:
                stack.append(t.op)
        stack.extend(c for c in op.control_inputs if c not in needed)
    if skip:
        needed -= set(skip)
    return sorted(needed, key=lambda o: o._id)
