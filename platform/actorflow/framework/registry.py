"""The op registry: one entry per op type, its whole contract on adjacent lines.

An entry (`OpDef`) maps an op type to
  - ``infer(op) -> [(DType, shape), ...]``: output dtypes and static shapes (shape is a tuple of
    ints/None, or None for unknown rank); raises ValueError/TypeError on bad inputs;
  - ``grad(op, *output_grads) -> [input_grad or None, ...]``: builds gradient ops in the graph,
    or `NOT_DIFFERENTIABLE`;
  - kernels: ``factory(op, ctx) -> callable(*input_arrays)``. The generic factory is written
    against ``ctx.xp`` (NumPy or CuPy) and serves every device; `register_kernel` adds a
    device-specific override ("CPU", "GPU") where a benchmark shows it pays. Factories run once
    when a plan is compiled, so attribute decoding and `xp` resolution never happen per call.

Registering a type twice is an error naming the first registration's place.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["OpDef", "register_op", "register_kernel", "get_op_def", "registered_op_types",
           "NOT_DIFFERENTIABLE", "NO_GRADIENT", "kernel_factory", "has_kernel"]


class _NotDifferentiable:
    def __repr__(self) -> str:
        return "NOT_DIFFERENTIABLE"


NOT_DIFFERENTIABLE = _NotDifferentiable()


class _NoGradient:
    def __repr__(self) -> str:
        return "NO_GRADIENT"


#: A differentiable op whose gradient is not built: asking for it raises LookupError (as TF
#: does for an op without a registered gradient) rather than silently giving none.
NO_GRADIENT = _NoGradient()


@dataclass
class OpDef:
    """Everything the engine knows about one op type."""

    type: str
    infer: Callable
    grad: object
    kernel: Callable | None
    ref_inputs: tuple = ()
    stateful: bool = False
    aliases_input: bool = False
    where: str = ""
    device_kernels: dict = field(default_factory=dict)
    doc: str = ""
    host_only: bool = False


_REGISTRY: dict[str, OpDef] = {}


def _caller_place(depth: int = 2) -> str:
    frame = sys._getframe(depth)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def register_op(type: str, *, infer: Callable, grad, kernel: Callable | None,
                ref_inputs: tuple = (), stateful: bool = False, aliases_input: bool = False,
                host_only: bool = False, doc: str = "") -> OpDef:
    """Registers op `type`.

    Args:
        infer: output dtypes and shapes from the op's inputs and attrs.
        grad: gradient builder, `NOT_DIFFERENTIABLE`, or `NO_GRADIENT` (differentiating
            it raises LookupError).
        kernel: generic kernel factory over ``ctx.xp``; None only for ops the compiler
            handles itself (NoOp, Const).
        ref_inputs: input positions that name a variable to update rather than a value read.
        stateful: the op has side effects or state (never merged or folded).
        aliases_input: the kernel may return a view of an input (fetches copy such values when
            they can alias variable storage).
        host_only: the generic kernel needs host (NumPy) arrays, so the op runs only on CPU
            devices unless a device-specific kernel is registered.

    Raises:
        ValueError: `type` is already registered (the message names where).
    """
    if grad is None:
        raise ValueError(f"Op {type!r}: pass grad=NOT_DIFFERENTIABLE or a gradient function")
    if type in _REGISTRY:
        raise ValueError(f"Op type {type!r} is already registered at {_REGISTRY[type].where}")
    op_def = OpDef(type, infer, grad, kernel, tuple(ref_inputs), stateful, aliases_input,
                   _caller_place(), doc=doc, host_only=host_only)
    _REGISTRY[type] = op_def
    return op_def


def register_kernel(type: str, device: str, factory: Callable) -> None:
    """Adds a device-specific kernel ("CPU" or "GPU") for a registered op type.

    Raises:
        KeyError: the op type is not registered.
        ValueError: that device already has a specific kernel for this type.
    """
    op_def = get_op_def(type)
    if device in op_def.device_kernels:
        raise ValueError(f"Op {type!r} already has a {device} kernel")
    op_def.device_kernels[device] = factory


def get_op_def(type: str) -> OpDef:
    """The registry entry of `type`; KeyError naming the type when unknown."""
    try:
        return _REGISTRY[type]
    except KeyError:
        raise KeyError(f"Op type {type!r} is not registered") from None


def registered_op_types() -> list[str]:
    return sorted(_REGISTRY)


def kernel_factory(op_def: OpDef, device_type: str) -> Callable | None:
    """The device's own kernel where one is registered, else the generic `xp` kernel (None
    for a host-only op on a non-CPU device)."""
    own = op_def.device_kernels.get(device_type)
    if own is not None:
        return own
    if op_def.host_only and device_type != "CPU":
        return None
    return op_def.kernel


def has_kernel(op_def: OpDef, device_type: str) -> bool:
    """Whether an op of this type can run on a device of `device_type` ("CPU", "GPU")."""
    return op_def.kernel is None or kernel_factory(op_def, device_type) is not None
