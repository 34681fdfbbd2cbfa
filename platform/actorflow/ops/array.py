"""Array ops: shapes, reshaping, joining, slicing and indexing."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, constant_value, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import out1, same_as_input, static_axis

__all__ = ["identity", "stop_gradient", "reshape", "shape", "stack", "pack"]


def _identity(x):
    return x


# -- Identity / StopGradient ---------------------------------------------------------------
register_op("Identity", infer=same_as_input, grad=lambda op, g: [g],
            kernel=lambda op, ctx: _identity, aliases_input=True,
            doc="Returns its input.")
register_op("StopGradient", infer=same_as_input, grad=NOT_DIFFERENTIABLE,
            kernel=lambda op, ctx: _identity, aliases_input=True,
            doc="Returns its input; gradients do not flow through it.")


def identity(input, name: str | None = None) -> Tensor:
    """Returns a tensor with the same value as `input`."""
    return out1("Identity", [convert_to_tensor(input)], None, name or "Identity")


def stop_gradient(input, name: str | None = None) -> Tensor:
    """`input`, treated as a constant by `gradients`."""
    return out1("StopGradient", [convert_to_tensor(input)], None, name or "StopGradient")


# -- Shape ---------------------------------------------------------------------------------
def _shape_infer(op):
    s = op.inputs[0]._shape
    return [(op.attrs["out_type"], (None if s is None else len(s),))]


def _shape_kernel(op, ctx):
    dt = op.outputs[0].dtype.np

    def shape_(x):
        return np.array(np.shape(x), dtype=dt)
    return shape_


register_op("Shape", infer=_shape_infer, grad=NOT_DIFFERENTIABLE, kernel=_shape_kernel)


def shape(input, name: str | None = None, out_type=dtypes.int32) -> Tensor:
    """The dynamic shape of `input` as a 1-D int32 tensor."""
    return out1("Shape", [convert_to_tensor(input)], {"out_type": dtypes.as_dtype(out_type)},
                name or "Shape")


# -- Reshape -------------------------------------------------------------------------------
def _reshape_infer(op):
    x, s = op.inputs
    cv = constant_value(s)
    if cv is None:
        n = s._shape[0] if s._shape else None
        return [(x.dtype, None if n is None else (None,) * n)]
    dims = [int(d) for d in np.ravel(cv)]
    if dims.count(-1) > 1:
        raise ValueError(f"Reshape: at most one dimension may be -1, got {dims}")
    known = x._shape is not None and None not in x._shape
    if known:
        total = int(np.prod(x._shape))
        if -1 in dims:
            rest = int(np.prod([d for d in dims if d != -1]))
            if rest == 0 or total % rest:
                raise ValueError(f"Cannot reshape a tensor with {total} elements to shape "
                                 f"{dims}")
            dims = [total // rest if d == -1 else d for d in dims]
        elif int(np.prod(dims)) != total:
            raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {dims} "
                             f"({int(np.prod(dims))} elements)")
        return [(x.dtype, tuple(dims))]
    return [(x.dtype, tuple(None if d == -1 else d for d in dims))]


def _reshape_kernel(op, ctx):
    xp = ctx.xp

    def reshape_(x, s):
        return xp.reshape(x, tuple(int(d) for d in s))
    return reshape_


def _reshape_grad(op, grad):
    """Returns reshape(grad, shape(x))."""
    return [reshape(grad, shape(op.inputs[0])), None]


register_op("Reshape", infer=_reshape_infer, grad=_reshape_grad, kernel=_reshape_kernel,
            aliases_input=True)


def reshape(tensor, shape, name: str | None = None) -> Tensor:  # noqa: F811
    """`tensor` with its elements rearranged into `shape` (one dim may be -1)."""
    t = convert_to_tensor(tensor)
    if not isinstance(shape, Tensor) and not hasattr(shape, "_as_graph_element"):
        if any(isinstance(d, Tensor) for d in np.ravel(np.array(shape, dtype=object))):
            s = convert_to_tensor(list(shape))
        else:
            s = convert_to_tensor(np.array(shape, dtype=np.int32).reshape(-1))
    else:
        s = convert_to_tensor(shape)
    return out1("Reshape", [t, s], None, name or "Reshape")


# -- Pack (stack) --------------------------------------------------------------------------
def _pack_infer(op):
    ins = op.inputs
    if not ins:
        raise ValueError("stack needs at least one tensor")
    dt = ins[0].dtype
    shp = ins[0]._shape
    for t in ins[1:]:
        if t.dtype != dt:
            raise TypeError(f"stack: all inputs must share a dtype, got {dt.name} and "
                            f"{t.dtype.name}")
        if shp is None:
            shp = t._shape
        elif t._shape is not None:
            if len(t._shape) != len(shp) or any(a is not None and b is not None and a != b
                                                for a, b in zip(shp, t._shape)):
                raise ValueError(f"Shapes {list(shp)} and {list(t._shape)} are incompatible")
            shp = tuple(a if a is not None else b for a, b in zip(shp, t._shape))
    if shp is None:
        return [(dt, None)]
    axis = static_axis(op.attrs["axis"], len(shp) + 1)
    out = list(shp)
    out.insert(axis, len(ins))
    return [(dt, tuple(out))]


def _pack_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def pack(*xs):
        return xp.stack(xs, axis=axis)
    return pack


def _pack_grad(op, grad):
    """Returns unstack(grad, axis)."""
    return unstack(grad, num=len(op.inputs), axis=op.attrs["axis"])


register_op("Pack", infer=_pack_infer, grad=_pack_grad, kernel=_pack_kernel)


def stack(values, axis: int = 0, name: str = "stack") -> Tensor:
    """Stacks rank-R tensors into one rank-(R+1) tensor along `axis`."""
    ts = [convert_to_tensor(v) for v in values]
    if ts and any(t.dtype != ts[0].dtype for t in ts):
        # Python numbers next to tensors take the tensors' dtype.
        dt = next(t.dtype for t in ts if t.op.type != "Const")
        ts = [convert_to_tensor(v, dtype=dt) if not isinstance(v, Tensor) else
              convert_to_tensor(v) for v in values]
    return out1("Pack", ts, {"axis": int(axis)}, name)


pack = stack


# -- Unpack (unstack) ----------------------------------------------------------------------
def _unpack_infer(op):
    x = op.inputs[0]
    num, axis = op.attrs["num"], op.attrs["axis"]
    if x._shape is None:
        return [(x.dtype, None)] * num
    axis = static_axis(axis, len(x._shape))
    if x._shape[axis] is not None and x._shape[axis] != num:
        raise ValueError(f"Dimension {axis} has size {x._shape[axis]}, cannot unstack into "
                         f"{num} tensors")
    out = x._shape[:axis] + x._shape[axis + 1:]
    return [(x.dtype, out)] * num


def _unpack_kernel(op, ctx):
    xp, axis, num = ctx.xp, op.attrs["axis"], op.attrs["num"]

    def unpack(x):
        if x.shape[axis] != num:
            raise ValueError(f"dimension {axis} has size {x.shape[axis]}, expected {num}")
        return tuple(xp.moveaxis(x, axis, 0))
    return unpack


def _unpack_grad(op, *grads):
    """Returns stack(grads, axis)."""
    return [stack(list(grads), axis=op.attrs["axis"])]


register_op("Unpack", infer=_unpack_infer, grad=_unpack_grad, kernel=_unpack_kernel,
            aliases_input=True)


def unstack(value, num: int | None = None, axis: int = 0, name: str = "unstack") -> list:
    """Splits `value` along `axis` into a list of `num` tensors of one rank less.

    Raises:
        ValueError: `num` is None and the dimension is not statically known.
    """
    t = convert_to_tensor(value)
    if num is None:
        if t._shape is None or t._shape[axis] is None:
            raise ValueError(f"Cannot infer num from shape {t.get_shape()}")
        num = t._shape[axis]
    return list(make_unpack(t, num, axis, name))


def make_unpack(t, num, axis, name):
    from ..framework.graph import make_op
    return make_op("Unpack", [t], {"num": int(num), "axis": int(axis)}, name).outputs


__all__ += ["unstack", "unpack"]
unpack = unstack


# -- Size / Rank ---------------------------------------------------------------------------
def _size_kernel(op, ctx):
    dt = op.outputs[0].dtype.np

    def size_(x):
        return np.array(np.size(x), dtype=dt)
    return size_


def _rank_kernel(op, ctx):
    def rank_(x):
        return np.array(np.ndim(x), dtype=np.int32)
    return rank_


register_op("Size", infer=lambda op: [(op.attrs["out_type"], ())], grad=NOT_DIFFERENTIABLE,
            kernel=_size_kernel)
register_op("Rank", infer=lambda op: [(dtypes.int32, ())], grad=NOT_DIFFERENTIABLE,
            kernel=_rank_kernel)


def size(input, name: str | None = None, out_type=dtypes.int32) -> Tensor:
    """The number of elements of `input` as a scalar."""
    return out1("Size", [convert_to_tensor(input)], {"out_type": dtypes.as_dtype(out_type)},
                name or "Size")


def rank(input, name: str | None = None) -> Tensor:
    """The number of dimensions of `input` as a scalar int32."""
    return out1("Rank", [convert_to_tensor(input)], None, name or "Rank")


__all__ += ["size", "rank"]
