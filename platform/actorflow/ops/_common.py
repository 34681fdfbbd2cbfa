"""Helpers shared by the op families: shape inference rules and argument conversion."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, convert_to_tensor, make_op

__all__ = ["broadcast_shapes", "same_as_input", "binary_args", "unary_op", "binary_op",
           "out1", "ufunc_kernel", "shape_of", "static_axis", "normalize_axes", "host",
           "host_ints", "ufunc_at"]


def broadcast_shapes(a, b, what: str = "") -> tuple | None:
    """NumPy broadcasting of two static shapes with unknown (None) dims.

    Raises:
        ValueError: the shapes cannot broadcast (the message shows both).
    """
    if a is None or b is None:
        return None
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None:
            out.append(y)
        elif y is None or x == y:
            out.append(x)
        else:
            raise ValueError(f"Dimensions must be equal, but are {x} and {y}; shapes "
                             f"{list(a)} and {list(b)} do not broadcast")
    return tuple(reversed(out))


def same_as_input(op) -> list:
    """Inference rule: one output with input 0's dtype and shape."""
    t = op.inputs[0]
    return [(t.dtype, t._shape)]


def binary_args(x, y, name: str = "") -> tuple[Tensor, Tensor]:
    """Converts both operands, a Python value taking the other's dtype (TF 1.x rule).

    Raises:
        TypeError: both are tensors of different dtypes.
    """
    if isinstance(x, Tensor) or hasattr(x, "_as_graph_element"):
        x = convert_to_tensor(x)
        y = _convert_like(y, x.dtype, name)
    elif isinstance(y, Tensor) or hasattr(y, "_as_graph_element"):
        y = convert_to_tensor(y)
        x = _convert_like(x, y.dtype, name)
    else:
        x = convert_to_tensor(x)
        y = _convert_like(y, x.dtype, name)
    if x.dtype != y.dtype:
        raise TypeError(f"{name or 'Op'}: input 'y' of dtype {y.dtype.name} does not match "
                        f"dtype {x.dtype.name} of argument 'x' ({x.name}, {y.name})")
    return x, y


def _convert_like(v, dtype, name):
    if isinstance(v, Tensor) or hasattr(v, "_as_graph_element"):
        return convert_to_tensor(v)
    arr = np.asarray(v)
    if dtype.is_integer and arr.dtype.kind == "f":
        raise TypeError(f"{name or 'Op'}: cannot convert {v!r} to {dtype.name}")
    return convert_to_tensor(v, dtype=dtype)


def out1(op_type: str, inputs, attrs=None, name=None) -> Tensor:
    """Creates an op and returns its single output."""
    return make_op(op_type, inputs, attrs, name).outputs[0]


def unary_op(op_type: str, x, name=None, attrs=None) -> Tensor:
    return out1(op_type, [convert_to_tensor(x)], attrs, name)


def binary_op(op_type: str, x, y, name=None) -> Tensor:
    x, y = binary_args(x, y, op_type)
    return out1(op_type, [x, y], None, name)


def ufunc_kernel(fname: str):
    """Kernel factory returning ``xp.<fname>`` itself: a bare ufunc call per op."""
    def factory(op, ctx):
        return getattr(ctx.xp, fname)
    factory.__name__ = f"{fname}_kernel"
    return factory


def shape_of(t: Tensor):
    return t._shape


def static_axis(axis, rank: int | None):
    """Normalises a (possibly negative) axis against a known rank; ValueError when out of range."""
    if rank is None:
        return axis
    if not -rank <= axis < max(rank, 1):
        raise ValueError(f"axis {axis} is out of range for a tensor of rank {rank}")
    return axis % rank if rank else 0


def normalize_axes(axis, rank):
    """None → all axes; int or list → a sorted tuple of non-negative axes (when rank known)."""
    if axis is None:
        return None if rank is None else tuple(range(rank))
    if isinstance(axis, (int, np.integer)):
        axis = [int(axis)]
    axes = [int(a) for a in axis]
    if rank is None:
        return tuple(axes)
    return tuple(sorted({static_axis(a, rank) for a in axes}))


def is_float(dtype) -> bool:
    return dtypes.as_dtype(dtype).is_floating


# -- device-neutral kernel helpers -----------------------------------------------------------
def host(value):
    """`value` on the host: a device (CuPy) array copied into a NumPy array (a tuple of them
    element by element); NumPy arrays and Python values are returned as they are. Kernels
    call it only where a host value is needed: a shape, a loop bound, an index spec."""
    if isinstance(value, tuple):
        return tuple(host(v) for v in value)
    if isinstance(value, (np.ndarray, np.generic)):
        return value
    get = getattr(value, "get", None)
    return value if get is None else get()


def host_ints(value) -> tuple:
    """A shape-like value (a 0-d or 1-D int array on any device, or a sequence of ints) as a
    tuple of Python ints, with one device-to-host copy for a device array."""
    return tuple(int(v) for v in np.ravel(host(value)))


# `ufunc.at` dtypes CuPy implements on the device (atomics); others go through the host.
_DEVICE_AT = {"add": ("int32", "uint32", "uint64", "float16", "float32", "float64"),
              "subtract": ("int32", "uint32"),
              "maximum": ("int32", "uint32", "uint64", "float32", "float64"),
              "minimum": ("int32", "uint32", "uint64", "float32", "float64")}


def ufunc_at(xp, fname: str, a, index, values) -> None:
    """``xp.<fname>.at(a, index, values)``: the unbuffered in-place update of `a` at `index`
    (repeated indices accumulate) on either backend.

    NumPy runs its own `ufunc.at`. CuPy implements `at` for add, subtract, maximum and minimum
    over some dtypes only (atomics); a float subtract becomes an add of -values, and anything
    else runs NumPy's `ufunc.at` on a host copy of `a` that is then copied back.
    """
    if xp is np:
        getattr(np, fname).at(a, index, values)
        return
    dt = np.dtype(a.dtype).name
    if fname == "subtract" and dt in _DEVICE_AT["add"] and dt not in _DEVICE_AT["subtract"]:
        xp.add.at(a, index, xp.negative(xp.asarray(values, dtype=a.dtype)))
    elif dt in _DEVICE_AT.get(fname, ()):
        getattr(xp, fname).at(a, index, xp.asarray(values, dtype=a.dtype))
    else:
        h = host(a)
        getattr(np, fname).at(h, host(index), host(values))
        a[...] = xp.asarray(h)
