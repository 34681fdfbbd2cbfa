"""Stateful variable ops: VariableV2 (the value cell), Assign, AssignAdd, AssignSub,
IsVariableInitialized, the scatter updates ScatterUpdate/Add/Sub/Mul and
ScatterNdUpdate/Add/Sub, and CountUpTo. Input 0 of each assignment is a *ref* input: the
kernel writes the variable's cell in the session instead of reading a value first."""
from __future__ import annotations

import threading

import numpy as np

from .. import errors
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import ufunc_at

__all__ = ["uninitialized_error", "check_ref", "count_up_to"]


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
    box = np.bool_ if ctx.xp is np else ctx.xp.asarray

    def is_variable_initialized():
        return box(cell.value is not None)
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


# -- Scatter updates: rows (ScatterX) or index vectors (ScatterNdX) of a variable, in place --
def _scatter_infer(op):
    ref, indices, updates = op.inputs
    if not indices.dtype.is_integer:
        raise TypeError(f"{op.type}: indices must be int32 or int64, got {indices.dtype.name}")
    if updates.dtype != ref.dtype:
        raise TypeError(f"{op.type}: updates of dtype {updates.dtype.name} do not match "
                        f"variable dtype {ref.dtype.name}")
    want = _scatter_updates_shape(op.type, ref._shape, indices._shape)
    got = updates._shape
    if want is not None and got is not None and got != () and (
            len(want) != len(got) or any(a is not None and b is not None and a != b
                                         for a, b in zip(want, got))):
        raise ValueError(f"{op.type}: updates shape {list(got)} must be [] or indices.shape "
                         f"+ the indexed variable's remaining dims {list(want)}")
    return [(ref.dtype, ref._shape)]


def _scatter_updates_shape(op_type: str, ref_shape, idx_shape):
    """The static shape updates must have (None when unknown)."""
    if ref_shape is None or idx_shape is None:
        return None
    if not op_type.startswith("ScatterNd"):
        return tuple(idx_shape) + tuple(ref_shape[1:])
    if not idx_shape or idx_shape[-1] is None:
        return None
    return tuple(idx_shape[:-1]) + tuple(ref_shape[idx_shape[-1]:])


def _scatter_kernel(ufunc_name: str | None):
    """Kernel factory: variable[index] = updates (ufunc None), else ufunc.at(variable, index,
    updates) so that repeated indices accumulate."""
    def factory(op, ctx):
        xp = ctx.xp
        cell = ctx.var_cell(op.inputs[0].op)
        nd = op.type.startswith("ScatterNd")

        def scatter(indices, updates):
            cur = cell.value
            if cur is None:
                raise uninitialized_error(op.inputs[0].op)
            if nd:
                limit = np.asarray(cur.shape[:indices.shape[-1]])
                index = tuple(xp.moveaxis(indices, -1, 0))
            else:
                limit, index = np.asarray(cur.shape[:1]), indices
            if indices.size and bool(((indices < 0) | (indices >= xp.asarray(limit))).any()):
                raise errors.InvalidArgumentError(
                    None, op, f"{op.type}: an index is outside the variable's shape "
                    f"{list(cur.shape)} (variable {cell.name})")
            if ufunc_name is None:
                cur[index] = updates
            else:
                ufunc_at(xp, ufunc_name, cur, index, updates)
            return cur
        return scatter
    return factory


def _scatter(op_type: str, ref, indices, updates, use_locking, name):
    from ..framework.graph import convert_to_tensor
    from ._common import out1
    ref = getattr(ref, "_variable", ref)  # a Variable's ref tensor
    check_ref(ref, op_type)
    indices = convert_to_tensor(indices, name="indices")
    updates = convert_to_tensor(updates, dtype=ref.dtype, name="updates")
    with ref.graph.colocate_with(ref.op):
        return out1(op_type, [ref, indices, updates], {"use_locking": bool(use_locking)},
                    name or op_type)


def _scatter_function(fname: str, op_type: str, use_locking: bool, doc: str):
    """The public function `fname(ref, indices, updates, use_locking, name)` of `op_type`."""
    def scatter(ref, indices, updates, use_locking=use_locking, name=None):
        return _scatter(op_type, ref, indices, updates, use_locking, name)
    scatter.__name__ = scatter.__qualname__ = fname
    scatter.__doc__ = doc + " Returns the variable's new value; not differentiable."
    return scatter


_SCATTERS = [  # (op type, function, xp ufunc or None (assign), use_locking default, doc)
    ("ScatterUpdate", "scatter_update", None, True, "ref[indices] = updates (rows)"),
    ("ScatterAdd", "scatter_add", "add", False,
     "ref[indices] += updates, repeated indices adding up"),
    ("ScatterSub", "scatter_sub", "subtract", False,
     "ref[indices] -= updates, repeated indices adding up"),
    ("ScatterMul", "scatter_mul", "multiply", False,
     "ref[indices] *= updates, repeated indices multiplying"),
    ("ScatterNdUpdate", "scatter_nd_update", None, True,
     "ref[indices[..., :]] = updates (index vectors in the last axis)"),
    ("ScatterNdAdd", "scatter_nd_add", "add", False,
     "ref[indices[..., :]] += updates, repeated index vectors adding up"),
    ("ScatterNdSub", "scatter_nd_sub", "subtract", False,
     "ref[indices[..., :]] -= updates, repeated index vectors adding up"),
]
for _type, _fname, _ufunc, _locking, _doc in _SCATTERS:
    register_op(_type, infer=_scatter_infer, grad=NOT_DIFFERENTIABLE,
                kernel=_scatter_kernel(_ufunc), ref_inputs=(0,), stateful=True,
                aliases_input=True, doc=_doc + ", in place; returns the variable.")
    globals()[_fname] = _scatter_function(_fname, _type, _locking, _doc + ", in place.")
del _type, _fname, _ufunc, _locking, _doc


# -- CountUpTo: the epoch counter of input producers (train/input.py limit_epochs) ----------
def _count_up_to_infer(op):
    ref = op.inputs[0]
    if ref.dtype.name not in ("int32", "int64"):
        raise TypeError(f"CountUpTo: the variable must be int32 or int64, got {ref.dtype.name}")
    if ref._shape is not None and ref._shape != ():
        raise ValueError(f"CountUpTo: the variable must be a scalar, got shape "
                         f"{list(ref._shape)}")
    return [(ref.dtype, ())]


def _count_up_to_kernel(op, ctx):
    cell = ctx.var_cell(op.inputs[0].op)
    limit = int(op.attrs["limit"])
    lock = ctx.op_state(op, threading.Lock)  # two threads never both pass the limit

    def count_up_to():
        with lock:
            cur = cell.value
            if cur is None:
                raise uninitialized_error(op.inputs[0].op)
            before = np.array(cur, copy=True)
            if int(before) >= limit:
                raise errors.OutOfRangeError(None, op, f"Reached limit of {limit}")
            cell.value = np.asarray(before + 1, dtype=before.dtype)
            return before
    return count_up_to


register_op("CountUpTo", infer=_count_up_to_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_count_up_to_kernel, ref_inputs=(0,), stateful=True, host_only=True,
            doc="Increments an integer scalar variable unless it has reached `limit` "
                "(then OutOfRangeError); returns the value before the increment.")


def count_up_to(ref, limit: int, name=None):
    """Increments the scalar int32/int64 variable `ref` and returns its value before the
    increment; once the value has reached `limit`, running the op raises OutOfRangeError
    instead (TF 1.x ``tf.count_up_to``)."""
    from ._common import out1
    ref = getattr(ref, "_variable", ref)
    check_ref(ref, "CountUpTo")
    with ref.graph.colocate_with(ref.op):
        return out1("CountUpTo", [ref], {"limit": int(limit)}, name or "CountUpTo")
