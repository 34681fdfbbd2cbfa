"""Elementwise arithmetic with NumPy broadcasting, casts, and the gradients of broadcasting.

Registers: SumToShape (a broadcasting-gradient helper), Add, Sub, Mul, Neg, Square, RealDiv,
FloorDiv, FloorMod, Pow, Maximum, Minimum, SquaredDifference, ClipByValue, AddN, Cast.

The other elementwise families build on this one: unary functions (ops/unary.py), comparisons
and logic (ops/logic.py); reductions are in ops/reduction.py, matmul and norms in
ops/linalg.py, and the Python operators of `Tensor` in ops/operators.py. This module imports
none of them at module level (its gradients import them inside the function body).

Dtype rules (TF 1.x): both operands of a binary op share one dtype (a Python number takes the
other operand's dtype; two tensors of different dtypes are a TypeError), and every kernel
returns exactly the declared dtype, so int32 stays int32 under NumPy 2 promotion.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, constant_value, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import (binary_args, binary_op, broadcast_shapes, host_ints, out1,
                      same_as_input, ufunc_kernel)

__all__ = ["add", "subtract", "sub", "multiply", "mul", "negative", "neg", "square",
           "divide", "truediv", "realdiv", "div", "add_n", "cast", "to_float", "to_int32",
           "to_int64", "to_double", "sum_to_shape_of",
           # division
           "floordiv", "floor_div", "floormod", "mod",
           # binary functions
           "pow", "maximum", "minimum", "squared_difference", "clip_by_value"]


# -- shape rules ---------------------------------------------------------------------------
def _binary_infer(op):
    x, y = op.inputs
    if x.dtype != y.dtype:
        raise TypeError(f"Input 'y' of '{op.type}' Op has type {y.dtype.name} that does not "
                        f"match type {x.dtype.name} of argument 'x'.")
    return [(x.dtype, broadcast_shapes(x._shape, y._shape))]


def _numeric_binary_infer(op):
    """Arithmetic that NumPy has no bool/string loop for (floor division, power, ...)."""
    out = _binary_infer(op)
    _check_numeric(op.type, op.inputs[0])
    return out


def _check_numeric(what: str, t: Tensor) -> None:
    if t.dtype.is_bool or t.dtype == dtypes.string:
        raise TypeError(f"{what} does not accept dtype {t.dtype.name} ({t.name})")


def _scalar_safe(op, fn, xp):
    """`fn` itself when input 0 has a known rank > 0; otherwise `fn` run on 1-element views for
    0-d inputs (NumPy ufuncs return scalars, not arrays, for 0-d inputs, so a kernel that
    reuses a temporary through ``out=`` needs at least one dimension)."""
    shape = op.inputs[0]._shape
    if shape is not None and len(shape) > 0:
        return fn

    def scalar_safe(*xs):
        if xp.ndim(xs[0]):
            return fn(*xs)
        return fn(*(xp.reshape(x, (1,)) for x in xs)).reshape(())
    return scalar_safe

# -- broadcasting gradients ----------------------------------------------------------------
def _sum_to_infer(op):
    g, s = op.inputs
    cv = constant_value(s)
    if cv is not None:
        return [(g.dtype, tuple(int(d) for d in cv))]
    n = s._shape[0] if s._shape else None
    return [(g.dtype, None if n is None else (None,) * n)]


def _sum_to_kernel(op, ctx):
    xp = ctx.xp

    def sum_to_shape(g, s):
        shape = host_ints(s)
        if g.shape == shape:
            return g
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, d in enumerate(shape) if d == 1 and g.shape[i + lead] != 1)
        return xp.sum(g, axis=axes).reshape(shape) if axes else xp.reshape(g, shape)
    return sum_to_shape


def _sum_to_grad(op, grad):
    """Returns grad broadcast back to the shape of g."""
    return [_broadcast_like(grad, op.inputs[0]), None]


def _broadcast_like(x, like):
    from .constant import zeros_like
    return add(x, zeros_like(like))


register_op("SumToShape", infer=_sum_to_infer, grad=_sum_to_grad, kernel=_sum_to_kernel,
            aliases_input=True,
            doc="Sums a broadcast gradient back down to a shape (gradient helper).")


def sum_to_shape_of(grad: Tensor, x: Tensor, other: Tensor | None = None) -> Tensor:
    """`grad` (shaped like a broadcast result) reduced to the shape of `x`.

    `other` is the tensor x was broadcast against: when its static shape shows that
    broadcasting cannot have enlarged x, `grad` is returned as it is. When x's shape is fully
    known the sum is a static `reduce_sum`; otherwise a run-time SumToShape decides.
    """
    gs, xs = grad._shape, x._shape
    if gs is not None and xs is not None and gs == xs and None not in xs:
        return grad
    if other is not None and gs is not None and xs is not None and len(gs) == len(xs) \
            and _never_enlarged(xs, other._shape):
        return grad
    if gs is not None and xs is not None and None not in xs:
        lead = len(gs) - len(xs)
        # Summing an axis that turns out to have size 1 is harmless, so the axes where x has
        # size 1 are summed whether or not grad's size there is known.
        axes = list(range(lead)) + [i + lead for i, d in enumerate(xs)
                                    if d == 1 and gs[i + lead] != 1]
        from .reduction import reduce_sum
        out = reduce_sum(grad, axis=axes) if axes else grad
        if out._shape != xs:
            from .array import reshape
            out = reshape(out, list(xs))
        return out
    from .array import shape
    return out1("SumToShape", [grad, shape(x)], None, "SumToShape")


def _never_enlarged(x_shape, other_shape) -> bool:
    """True when broadcasting x against `other` can never enlarge x: other has no more axes,
    and on each axis other has size 1 or x has a known size other than 1."""
    if other_shape is None or len(other_shape) > len(x_shape):
        return False
    return all(od == 1 or (xd is not None and xd != 1)
               for xd, od in zip(reversed(x_shape), reversed(other_shape)))


# -- Add / Sub / Mul / Neg / Square --------------------------------------------------------
def _add_grad(op, grad):
    """Returns (grad, grad), each summed back to its input's shape."""
    x, y = op.inputs
    return [sum_to_shape_of(grad, x, y), sum_to_shape_of(grad, y, x)]


def _sub_grad(op, grad):
    """Returns (grad, -grad), each summed back to its input's shape."""
    x, y = op.inputs
    return [sum_to_shape_of(grad, x, y), sum_to_shape_of(negative(grad), y, x)]


def _mul_grad(op, grad):
    """Returns (grad * y, grad * x), each summed back to its input's shape."""
    x, y = op.inputs
    return [sum_to_shape_of(multiply(grad, y), x, y),
            sum_to_shape_of(multiply(grad, x), y, x)]


register_op("Add", infer=_binary_infer, grad=_add_grad, kernel=ufunc_kernel("add"))
register_op("Sub", infer=_binary_infer, grad=_sub_grad, kernel=ufunc_kernel("subtract"))
register_op("Mul", infer=_binary_infer, grad=_mul_grad, kernel=ufunc_kernel("multiply"))
register_op("Neg", infer=same_as_input, grad=lambda op, g: [negative(g)],
            kernel=ufunc_kernel("negative"))


def _square_grad(op, grad):
    """Returns grad * 2x."""
    x = op.inputs[0]
    return [multiply(grad, multiply(x, convert_to_tensor(2, dtype=x.dtype)))]


register_op("Square", infer=same_as_input, grad=_square_grad, kernel=ufunc_kernel("square"))


def add(x, y, name=None) -> Tensor:
    """x + y elementwise, with broadcasting."""
    x, y = binary_args(x, y, "Add")
    return out1("Add", [x, y], None, name or "add")


def subtract(x, y, name=None) -> Tensor:
    """x - y elementwise, with broadcasting."""
    x, y = binary_args(x, y, "Sub")
    return out1("Sub", [x, y], None, name or "sub")


def multiply(x, y, name=None) -> Tensor:
    """x * y elementwise, with broadcasting."""
    x, y = binary_args(x, y, "Mul")
    return out1("Mul", [x, y], None, name or "mul")


def negative(x, name=None) -> Tensor:
    """-x elementwise."""
    return out1("Neg", [convert_to_tensor(x)], None, name or "Neg")


def square(x, name=None) -> Tensor:
    """x * x elementwise."""
    return out1("Square", [convert_to_tensor(x)], None, name or "Square")


sub, mul, neg = subtract, multiply, negative


def _realdiv_grad(op, grad):
    """Returns (grad / y, -grad * x / y²), each summed back to its input's shape."""
    x, y = op.inputs
    gx = divide(grad, y)
    gy = negative(multiply(grad, divide(divide(x, y), y)))
    return [sum_to_shape_of(gx, x, y), sum_to_shape_of(gy, y, x)]


register_op("RealDiv", infer=_binary_infer, grad=_realdiv_grad,
            kernel=ufunc_kernel("true_divide"))


_TRUEDIV_FLOAT = {dtypes.int8: dtypes.float32, dtypes.uint8: dtypes.float32,
                  dtypes.int16: dtypes.float32, dtypes.uint16: dtypes.float32,
                  dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64}


def truediv(x, y, name=None) -> Tensor:
    """x / y elementwise with Python 3 semantics, with broadcasting: integers are cast to
    floats first (8/16-bit to float32, int32/int64 to float64, as TF 1.x does)."""
    x, y = binary_args(x, y, "truediv")
    if not (x.dtype.is_floating or x.dtype.is_complex):
        if x.dtype not in _TRUEDIV_FLOAT:
            raise TypeError(f"Invalid dtype {x.dtype.name} in __truediv__ ({x.name})")
        x, y = cast(x, _TRUEDIV_FLOAT[x.dtype]), cast(y, _TRUEDIV_FLOAT[x.dtype])
    return out1("RealDiv", [x, y], None, name or "truediv")


def divide(x, y, name=None) -> Tensor:
    """x / y elementwise (Python 3 true division), with broadcasting."""
    return truediv(x, y, name=name or "truediv")


realdiv = divide


def div(x, y, name=None) -> Tensor:
    """x / y with Python 2 semantics (TF 1.x `tf.div`): real division for floats, floor
    division for integers."""
    x, y = binary_args(x, y, "div")
    if x.dtype.is_floating or x.dtype.is_complex:
        return out1("RealDiv", [x, y], None, name or "div")
    return out1("FloorDiv", [x, y], None, name or "div")


def _floormod_grad(op, grad):
    """Returns (grad, -grad * floor(x / y)), each summed back to its input's shape."""
    x, y = op.inputs
    gy = negative(multiply(grad, floordiv(x, y)))
    return [sum_to_shape_of(grad, x, y), sum_to_shape_of(gy, y, x)]


register_op("FloorDiv", infer=_numeric_binary_infer, grad=NOT_DIFFERENTIABLE,
            kernel=ufunc_kernel("floor_divide"),
            doc="floor(x / y) elementwise (integers stay integers).")
register_op("FloorMod", infer=_numeric_binary_infer, grad=_floormod_grad,
            kernel=ufunc_kernel("remainder"),
            doc="x - floor(x / y) * y elementwise: the result takes the sign of y.")


def floordiv(x, y, name=None) -> Tensor:
    """floor(x / y) elementwise, with broadcasting (also for floats)."""
    return binary_op("FloorDiv", x, y, name or "floordiv")


def floormod(x, y, name=None) -> Tensor:
    """x - floor(x / y) * y elementwise (Python's %), with broadcasting."""
    return binary_op("FloorMod", x, y, name or "floormod")


floor_div, mod = floordiv, floormod


# -- Binary functions: Pow / Maximum / Minimum / SquaredDifference -------------------------
def _pow_grad(op, grad):
    """Returns (grad * y * x^(y-1), grad * z * log(x)) with log(x) taken as 0 where x <= 0."""
    from .constant import ones_like, zeros_like
    from .logic import greater, where
    from .unary import log
    x, y = op.inputs
    z = op.outputs[0]  # z = x ** y
    gx = multiply(grad, multiply(y, pow(x, subtract(y, 1))))
    positive = greater(x, 0)
    log_x = where(positive, log(where(positive, x, ones_like(x))), zeros_like(x))
    gy = multiply(grad, multiply(z, log_x))
    return [sum_to_shape_of(gx, x, y), sum_to_shape_of(gy, y, x)]


def _route_grad(op, grad, to_x: Tensor) -> list:
    """Sends grad to x where `to_x` is true and to y elsewhere, summed to each input's shape."""
    from .constant import zeros_like
    from .logic import where
    x, y = op.inputs
    zeros = zeros_like(grad)
    return [sum_to_shape_of(where(to_x, grad, zeros), x, y),
            sum_to_shape_of(where(to_x, zeros, grad), y, x)]


def _maximum_grad(op, grad):
    """Returns (grad where x >= y, grad where x < y), each summed to its input's shape."""
    from .logic import greater_equal
    x, y = op.inputs
    return _route_grad(op, grad, greater_equal(x, y))


def _minimum_grad(op, grad):
    """Returns (grad where x <= y, grad where x > y), each summed to its input's shape."""
    from .logic import less_equal
    x, y = op.inputs
    return _route_grad(op, grad, less_equal(x, y))


def _squared_difference_grad(op, grad):
    """Returns (2 * grad * (x - y), -2 * grad * (x - y)), each summed to its input's shape."""
    x, y = op.inputs
    gx = multiply(grad, multiply(2, subtract(x, y)))
    return [sum_to_shape_of(gx, x, y), sum_to_shape_of(negative(gx), y, x)]


def _squared_difference_kernel(op, ctx):
    xp = ctx.xp

    def squared_difference_(x, y):
        d = xp.subtract(x, y)
        d *= d
        return d
    return squared_difference_


register_op("Pow", infer=_numeric_binary_infer, grad=_pow_grad, kernel=ufunc_kernel("power"),
            doc="x ** y elementwise.")
register_op("Maximum", infer=_numeric_binary_infer, grad=_maximum_grad,
            kernel=ufunc_kernel("maximum"), doc="The larger of x and y elementwise.")
register_op("Minimum", infer=_numeric_binary_infer, grad=_minimum_grad,
            kernel=ufunc_kernel("minimum"), doc="The smaller of x and y elementwise.")
register_op("SquaredDifference", infer=_numeric_binary_infer, grad=_squared_difference_grad,
            kernel=_squared_difference_kernel, doc="(x - y)² elementwise.")


def pow(x, y, name=None) -> Tensor:  # noqa: A001 - TF 1.x spells it tf.pow
    """x ** y elementwise, with broadcasting."""
    return binary_op("Pow", x, y, name or "Pow")


def maximum(x, y, name=None) -> Tensor:
    """max(x, y) elementwise, with broadcasting."""
    return binary_op("Maximum", x, y, name or "Maximum")


def minimum(x, y, name=None) -> Tensor:
    """min(x, y) elementwise, with broadcasting."""
    return binary_op("Minimum", x, y, name or "Minimum")


def squared_difference(x, y, name=None) -> Tensor:
    """(x - y)² elementwise, with broadcasting."""
    return binary_op("SquaredDifference", x, y, name or "SquaredDifference")


# -- ClipByValue ---------------------------------------------------------------------------
def _clip_infer(op):
    t, lo, hi = op.inputs
    for what, b in (("clip_value_min", lo), ("clip_value_max", hi)):
        if b.dtype != t.dtype:
            raise TypeError(f"clip_by_value: {what} is {b.dtype.name} but t is {t.dtype.name}")
        out = broadcast_shapes(t._shape, b._shape)
        if out is not None and (len(out) != len(t._shape) or any(
                a is not None and c is not None and a != c for a, c in zip(out, t._shape))):
            raise ValueError(f"clip_by_value: {what} of shape {list(b._shape)} does not "
                             f"broadcast to t's shape {list(t._shape)}")
    return [(t.dtype, t._shape)]


def _clip_kernel(op, ctx):
    xp = ctx.xp

    def clip_(t, lo, hi):
        out = xp.maximum(t, lo)
        xp.minimum(out, hi, out=out)
        return out
    return _scalar_safe(op, clip_, xp)


def _clip_grad(op, grad):
    """Returns (grad where lo <= t <= hi, grad where t < lo, grad where t > hi), each summed to
    its input's shape."""
    from .constant import zeros_like
    from .logic import greater, less, logical_or, where
    t, lo, hi = op.inputs
    below, above = less(t, lo), greater(t, hi)
    zeros = zeros_like(grad)
    return [where(logical_or(below, above), zeros, grad),
            sum_to_shape_of(where(below, grad, zeros), lo),
            sum_to_shape_of(where(above, grad, zeros), hi)]


register_op("ClipByValue", infer=_clip_infer, grad=_clip_grad, kernel=_clip_kernel,
            doc="t clipped elementwise to [clip_value_min, clip_value_max].")


def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> Tensor:
    """`t` with values below `clip_value_min` raised to it and values above `clip_value_max`
    lowered to it; the bounds broadcast to t's shape. Gradients pass where t is inside."""
    t = convert_to_tensor(t)
    lo = binary_args(t, clip_value_min, "clip_by_value")[1]
    hi = binary_args(t, clip_value_max, "clip_by_value")[1]
    return out1("ClipByValue", [t, lo, hi], None, name or "clip_by_value")


# -- AddN ----------------------------------------------------------------------------------
def _add_n_infer(op):
    ins = op.inputs
    shp = ins[0]._shape
    for t in ins[1:]:
        if t.dtype != ins[0].dtype:
            raise TypeError("add_n: inputs must share a dtype")
        if shp is not None and t._shape is not None:
            if len(shp) != len(t._shape) or any(a is not None and b is not None and a != b
                                                for a, b in zip(shp, t._shape)):
                raise ValueError(f"Shapes {list(shp)} and {list(t._shape)} are incompatible")
            shp = tuple(a if a is not None else b for a, b in zip(shp, t._shape))
        elif shp is None:
            shp = t._shape
    return [(ins[0].dtype, shp)]


def _add_n_kernel(op, ctx):
    xp = ctx.xp
    if len(op.inputs) == 2:
        return xp.add

    def add_n_(*xs):
        out = xp.add(xs[0], xs[1])
        for x in xs[2:]:
            out += x
        return out
    return add_n_


register_op("AddN", infer=_add_n_infer, grad=lambda op, g: [g] * len(op.inputs),
            kernel=_add_n_kernel)


def add_n(inputs, name=None) -> Tensor:
    """Elementwise sum of a list of same-shaped tensors."""
    ts = [convert_to_tensor(t) for t in inputs]
    if not ts:
        raise ValueError("inputs must be a non-empty list of tensors")
    if len(ts) == 1:
        from .array import identity
        return identity(ts[0], name=name)
    return out1("AddN", ts, None, name or "AddN")


# -- Cast ----------------------------------------------------------------------------------
def _cast_kernel(op, ctx):
    dt = op.outputs[0].dtype.np

    def cast_(x):
        return x.astype(dt) if hasattr(x, "astype") else np.asarray(x, dtype=dt)
    return cast_


def _cast_grad(op, grad):
    """Returns cast(grad, x.dtype) for float↔float casts; None otherwise."""
    x = op.inputs[0]
    if x.dtype.is_floating and op.outputs[0].dtype.is_floating:
        return [cast(grad, x.dtype)]
    return [None]


register_op("Cast", infer=lambda op: [(op.attrs["DstT"], op.inputs[0]._shape)],
            grad=_cast_grad, kernel=_cast_kernel)


def cast(x, dtype, name=None) -> Tensor:
    """`x` converted elementwise to `dtype`."""
    x = convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    if x.dtype == dtype:
        return x
    return out1("Cast", [x], {"DstT": dtype}, name or "Cast")


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name)
