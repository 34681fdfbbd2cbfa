"""Stateful variable ops: VariableV2 (the value cell), Assign, AssignAdd, AssignSub,
IsVariableInitialized. Input 0 of each assignment is a *ref* input: the kernel writes the
variable's cell in the session instead of reading a value first."""
from __future__ import annotations

import numpy as np

from .. import errors
from ..framework.registry import NOT_DIFFERENTIABLE, register_op

__all__ = ["uninitialized_error", "check_ref"]


def uninitialized_error(op_or_name) -> errors.FailedPreconditionError:
    name = getattr(op_or_name, "name", op_or_name)
    return errors.FailedPreconditionError(
        None, op_or_name if not isinstance(op_or_name, str) else None,
        f"Attempting to use uninitialized value {name}")


def check_ref(t, what: str) -> None:
    """Raises TypeError unless `t` is a variable's ref tensor (what assignments update)."""
    if t.op.type != "VariableV2":
        raise TypeError(f"{what} requires a variable (ref) as its first input, got "
                        f"{t.name} produced by a {t.op.type} op")


def _var_infer(op):
    return [(op.attrs["dtype"], op.attrs["shape"])]


def _var_kernel(op, ctx):
    cell = ctx.var_cell(op)

    def read_variable():
        v = cell.value
        if v is None:
            raise uninitialized_error(op)
        return v
    return read_variable


register_op("VariableV2", infer=_var_infer, grad=NOT_DIFFERENTIABLE, kernel=_var_kernel,
            stateful=True, doc="Holds a value across runs; reading it returns the value.")


def _assign_infer(op):
    ref, value = op.inputs
    if value.dtype != ref.dtype:
        raise TypeError(f"Assign: value of dtype {value.dtype.name} does not match variable "
                        f"dtype {ref.dtype.name}")
    if op.attrs.get("validate_shape", True):
        if ref._shape is not None and value._shape is not None:
            if len(ref._shape) != len(value._shape) or any(
                    a is not None and b is not None and a != b
                    for a, b in zip(ref._shape, value._shape)):
                raise ValueError(f"Shapes {list(ref._shape)} and {list(value._shape)} are "
                                 "incompatible")
        return [(ref.dtype, ref._shape if ref._shape is not None else value._shape)]
    return [(ref.dtype, value._shape)]


def _assign_kernel(op, ctx):
    xp = ctx.xp
    cell = ctx.var_cell(op.inputs[0].op)
    dt = op.outputs[0].dtype.np
    validate = op.attrs.get("validate_shape", True)
    static = op.inputs[0]._shape

    def assign(value):
        cur = cell.value
        value = xp.asarray(value)
        if cur is not None and cur.shape == value.shape and cur.dtype == value.dtype:
            xp.copyto(cur, value)
            return cur
        if validate and static is not None and (
                value.ndim != len(static) or
                any(d is not None and d != s for d, s in zip(static, value.shape))):
            raise errors.InvalidArgumentError(
                None, op, f"Assign requires shapes of both tensors to match. lhs shape= "
                f"{list(static)} rhs shape= {list(value.shape)} (variable {cell.name})")
        cell.value = xp.array(value, dtype=dt, copy=True)
        return cell.value
    return assign


def _update_kernel(ufunc_name: str):
    def factory(op, ctx):
        cell = ctx.var_cell(op.inputs[0].op)
        fn = getattr(ctx.xp, ufunc_name)

        def update(delta):
            cur = cell.value
            if cur is None:
                raise uninitialized_error(op.inputs[0].op)
            if np.shape(delta) != cur.shape and np.broadcast_shapes(
                    np.shape(delta), cur.shape) != cur.shape:
                raise errors.InvalidArgumentError(
                    None, op, f"{op.type} requires shapes of both tensors to match. lhs "
                    f"shape= {list(cur.shape)} rhs shape= {list(np.shape(delta))}")
            fn(cur, delta, out=cur)
            return cur
        return update
    return factory


register_op("Assign", infer=_assign_infer, grad=NOT_DIFFERENTIABLE, kernel=_assign_kernel,
            ref_inputs=(0,), stateful=True, aliases_input=True,
            doc="Writes a copy of value into the variable; returns the variable's value.")
register_op("AssignAdd", infer=_assign_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_update_kernel("add"), ref_inputs=(0,), stateful=True, aliases_input=True,
            doc="variable += value, in place.")
register_op("AssignSub", infer=_assign_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_update_kernel("subtract"), ref_inputs=(0,), stateful=True,
            aliases_input=True, doc="variable -= value, in place.")


def _is_init_kernel(op, ctx):
    cell = ctx.var_cell(op.inputs[0].op)

    def is_variable_initialized():
        return np.bool_(cell.value is not None)
    return is_variable_initialized


register_op("IsVariableInitialized", infer=lambda op: [(_bool(), ())],
            grad=NOT_DIFFERENTIABLE, kernel=_is_init_kernel, ref_inputs=(0,), stateful=True)


def _bool():
    from .. import dtypes
    return dtypes.bool


def _initialized_value_kernel(op, ctx):
    cell = ctx.var_cell(op.inputs[0].op)

    def initialized_value(initial):
        v = cell.value
        return initial if v is None else v
    return initialized_value


register_op("InitializedValue", infer=_assign_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_initialized_value_kernel, ref_inputs=(0,), stateful=True,
            aliases_input=True,
            doc="The variable's value when it is initialised, else its initial value.")
