"""Constants, fills and placeholders: Const, Placeholder, PlaceholderWithDefault, Fill,
ZerosLike, OnesLike, Range, LinSpace."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes, errors
from ..framework.graph import (constant_value, convert_to_tensor, get_default_graph,
                               register_builder)
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ..tensor_shape import as_shape, dims_of
from ._common import host, host_ints, out1

__all__ = ["constant", "zeros", "ones", "fill", "zeros_like", "ones_like", "range",
           "linspace", "lin_space", "placeholder", "placeholder_with_default"]


# -- Const ---------------------------------------------------------------------------------
def _const_infer(op):
    v = op.attrs["value"]
    return [(dtypes.as_dtype(v.dtype), v.shape)]


register_op("Const", infer=_const_infer, grad=NOT_DIFFERENTIABLE, kernel=None,
            doc="A value fixed at graph construction (bound into compiled plans).")


def constant(value, dtype=None, shape=None, name: str = "Const", verify_shape: bool = False):
    """A constant tensor from a Python or NumPy value, optionally cast and broadcast to `shape`.

    Raises:
        TypeError: `value` cannot be represented in `dtype`.
        ValueError: `value` does not fit `shape`.
    """
    from ..framework.graph import _default_np_dtype
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        src = np.asarray(value)
        if dtype.is_integer and src.dtype.kind == "f" and not np.all(np.mod(src, 1) == 0):
            raise TypeError(f"Expected {dtype.name}, got {value!r} of type "
                            f"'{type(value).__name__}' instead.")
        if dtype.is_bool and src.dtype.kind not in "b":
            raise TypeError(f"Expected bool, got {value!r} instead.")
        arr = as_bytes_array(value) if dtype == dtypes.string else np.array(value, dtype=dtype.np)
    else:
        src = np.asarray(value) if not isinstance(value, (str, bytes)) else None
        if src is None or src.dtype.kind in "USO" and _holds_text(src):
            arr = as_bytes_array(value)
        else:
            arr = np.array(value, dtype=_default_np_dtype(value))
    if shape is not None:
        shape = tuple(int(d) for d in as_shape(shape).as_list())
        n = int(np.prod(shape))
        if arr.size == n:
            arr = arr.reshape(shape)
        elif arr.size == 1 and not verify_shape:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        elif arr.size < n and not verify_shape and arr.size > 0:
            flat = np.concatenate([arr.ravel(), np.full(n - arr.size, arr.ravel()[-1],
                                                        dtype=arr.dtype)])
            arr = flat.reshape(shape)
        else:
            raise ValueError(f"Too many elements provided. Needed at most {n}, but received "
                             f"{arr.size}" if arr.size > n else
                             f"Expected Tensor's shape: {shape}, got {arr.shape}.")
    arr.setflags(write=False)
    graph = get_default_graph()
    return graph.create_op("Const", [], {"value": arr, "dtype": dtypes.as_dtype(arr.dtype)},
                           name).outputs[0]


def _holds_text(arr: np.ndarray) -> bool:
    if arr.dtype.kind in "US":
        return True
    return arr.size > 0 and isinstance(arr.flat[0], (str, bytes))


_encode = np.frompyfunc(lambda s: s.encode("utf-8") if isinstance(s, str) else s, 1, 1)


def as_bytes_array(value) -> np.ndarray:
    """`value` (str, bytes, or nested lists / arrays of them) as an object array of bytes:
    a tf.string tensor holds bytes, and text is stored UTF-8 encoded, as TF does."""
    arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) \
        or value.dtype.kind != "O" else value
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    return np.asarray(_encode(arr), dtype=object)


# -- Placeholders --------------------------------------------------------------------------
def _placeholder_infer(op):
    return [(op.attrs["dtype"], op.attrs["shape"])]


def _placeholder_kernel(op, ctx):
    shape = op.attrs["shape"]
    shape_s = "<unknown>" if shape is None else "[" + ",".join(
        "?" if d is None else str(d) for d in shape) + "]"
    msg = (f"You must feed a value for placeholder tensor '{op.name}' with dtype "
           f"{op.attrs['dtype'].name} and shape {shape_s}")

    def placeholder():
        raise errors.InvalidArgumentError(None, op, msg)
    return placeholder


register_op("Placeholder", infer=_placeholder_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_placeholder_kernel, doc="A value that must be fed.")


def placeholder(dtype, shape=None, name: str | None = None):
    """A tensor that each run must feed; `shape` None means any shape."""
    dtype = dtypes.as_dtype(dtype)
    shape = None if shape is None else dims_of(as_shape(shape))
    return get_default_graph().create_op("Placeholder", [], {"dtype": dtype, "shape": shape},
                                         name or "Placeholder").outputs[0]


def _pwd_infer(op):
    t = op.inputs[0]
    shape = op.attrs["shape"]
    if shape is not None and t._shape is not None:
        if len(shape) != len(t._shape) or any(a is not None and b is not None and a != b
                                              for a, b in zip(shape, t._shape)):
            raise ValueError(f"Shape {list(shape)} is not compatible with the default's "
                             f"{list(t._shape)}")
    return [(t.dtype, shape)]


register_op("PlaceholderWithDefault", infer=_pwd_infer,
            grad=lambda op, g: [g], kernel=lambda op, ctx: _identity,
            aliases_input=True, doc="Its input unless fed.")


def _identity(x):
    return x


def placeholder_with_default(input, shape, name: str | None = None):
    """A tensor that is `input` unless fed; `shape` may be less specific than input's."""
    t = convert_to_tensor(input)
    return out1("PlaceholderWithDefault", [t], {"shape": dims_of(as_shape(shape))},
                name or "PlaceholderWithDefault")


# -- Fills ---------------------------------------------------------------------------------
def _fill_infer(op):
    dims, value = op.inputs
    if value._shape not in (None, ()):
        raise ValueError(f"value must be a scalar, got shape {list(value._shape)}")
    cv = constant_value(dims)
    if cv is not None:
        return [(value.dtype, tuple(int(d) for d in np.ravel(cv)))]
    n = dims._shape[0] if dims._shape else None
    return [(value.dtype, None if n is None else (None,) * n)]


def _fill_kernel(op, ctx):
    xp = ctx.xp
    dt = op.outputs[0].dtype.np

    def fill(dims, value):
        return xp.full(host_ints(dims), value, dtype=dt)
    return fill


def _fill_grad(op, grad):
    """d/dvalue = sum(grad); dims get no gradient."""
    from .reduction import reduce_sum
    return [None, reduce_sum(grad)]


register_op("Fill", infer=_fill_infer, grad=_fill_grad, kernel=_fill_kernel)


def fill(dims, value, name: str | None = None):
    """A tensor of shape `dims` filled with scalar `value`."""
    dims = convert_to_tensor(dims, dtype=dtypes.int32) if not hasattr(dims, "dtype") \
        else convert_to_tensor(dims)
    return out1("Fill", [dims, convert_to_tensor(value)], None, name or "Fill")


def _dynamic_shape(shape) -> bool:
    """A shape given as a tensor, or as a list holding tensors (TF packs those)."""
    from ..framework.graph import _contains_tensor
    return hasattr(shape, "_as_graph_element") or hasattr(shape, "op") or (
        isinstance(shape, (list, tuple)) and _contains_tensor(shape))


def _shape_arg(shape):
    if _dynamic_shape(shape):
        return convert_to_tensor(shape)
    dims = as_shape(shape).as_list()
    return convert_to_tensor(np.array(dims, dtype=np.int32))


def zeros(shape, dtype=dtypes.float32, name: str | None = None):
    """A tensor of zeros of `shape` (a list, TensorShape or int32 tensor)."""
    dtype = dtypes.as_dtype(dtype)
    if not _dynamic_shape(shape):
        dims = as_shape(shape).as_list()
        return constant(np.zeros(dims, dtype=dtype.np), name=name or "zeros")
    return fill(_shape_arg(shape), np.zeros((), dtype.np), name=name or "zeros")


def ones(shape, dtype=dtypes.float32, name: str | None = None):
    """A tensor of ones of `shape` (a list, TensorShape or int32 tensor)."""
    dtype = dtypes.as_dtype(dtype)
    if not _dynamic_shape(shape):
        dims = as_shape(shape).as_list()
        return constant(np.ones(dims, dtype=dtype.np), name=name or "ones")
    return fill(_shape_arg(shape), np.ones((), dtype.np), name=name or "ones")


def _like_kernel(fname):
    def factory(op, ctx):
        fn = getattr(ctx.xp, fname)
        dt = op.outputs[0].dtype.np

        def like(x):
            return fn(x, dtype=dt)
        return like
    return factory


def _like_infer(op):
    return [(op.attrs.get("dtype") or op.inputs[0].dtype, op.inputs[0]._shape)]


register_op("ZerosLike", infer=_like_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_like_kernel("zeros_like"))
register_op("OnesLike", infer=_like_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_like_kernel("ones_like"))


def zeros_like(tensor, dtype=None, name: str | None = None, optimize: bool = True):
    """Zeros with the shape (and, unless given, dtype) of `tensor`."""
    t = convert_to_tensor(tensor)
    return out1("ZerosLike", [t], {"dtype": dtypes.as_dtype(dtype or t.dtype)},
                name or "zeros_like")


def ones_like(tensor, dtype=None, name: str | None = None, optimize: bool = True):
    """Ones with the shape (and, unless given, dtype) of `tensor`."""
    t = convert_to_tensor(tensor)
    return out1("OnesLike", [t], {"dtype": dtypes.as_dtype(dtype or t.dtype)},
                name or "ones_like")


# -- Range / LinSpace ----------------------------------------------------------------------
def _range_infer(op):
    vals = [constant_value(t) for t in op.inputs]
    dt = op.inputs[0].dtype
    if all(v is not None for v in vals):
        n = len(np.arange(*[v.item() for v in vals]))
        return [(dt, (n,))]
    return [(dt, (None,))]


def _range_kernel(op, ctx):
    xp, dt = ctx.xp, op.outputs[0].dtype.np

    def range_(start, limit, delta):  # the bounds give the length: read them on the host
        return xp.arange(host(start), host(limit), host(delta), dtype=dt)
    return range_


register_op("Range", infer=_range_infer, grad=NOT_DIFFERENTIABLE, kernel=_range_kernel)


def range(start, limit=None, delta=1, dtype=None, name: str = "range"):  # noqa: A001
    """[start, limit) in steps of delta; `range(n)` counts from 0 (TF 1.x `tf.range`)."""
    if limit is None:
        start, limit = 0, start
    vals = [start, limit, delta]
    if dtype is None:
        tensors = [v for v in vals if hasattr(v, "dtype") and not isinstance(v, np.ndarray)]
        if tensors:
            dtype = convert_to_tensor(tensors[0]).dtype
        elif any(isinstance(v, float) for v in vals):
            dtype = dtypes.float32
        else:
            dtype = dtypes.int32
    dtype = dtypes.as_dtype(dtype)
    ts = [convert_to_tensor(v, dtype=dtype) if not hasattr(v, "op") else convert_to_tensor(v)
          for v in vals]
    return out1("Range", ts, None, name)


def _linspace_infer(op):
    n = constant_value(op.inputs[2])
    return [(op.inputs[0].dtype, (None if n is None else int(n),))]


def _linspace_kernel(op, ctx):
    xp, dt = ctx.xp, op.outputs[0].dtype.np

    def linspace_(start, stop, num):
        return xp.linspace(host(start), host(stop), int(num), dtype=dt)
    return linspace_


register_op("LinSpace", infer=_linspace_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_linspace_kernel)


def linspace(start, stop, num, name: str = "LinSpace"):
    """`num` evenly spaced values from start to stop inclusive."""
    start = convert_to_tensor(start)
    stop = convert_to_tensor(stop, dtype=start.dtype)
    num = convert_to_tensor(num, dtype=dtypes.int32)
    return out1("LinSpace", [start, stop, num], None, name)


lin_space = linspace
del builtins


register_builder("constant", constant)  # convert_to_tensor of Python and NumPy values
