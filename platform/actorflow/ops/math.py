"""Math ops: elementwise arithmetic with NumPy broadcasting, unary functions, comparisons and
logic, selection, cumulative sums, matmul, reductions, casts, and the operator overloads of
`Tensor`.

Dtype rules (TF 1.x): both operands of a binary op share one dtype (a Python number takes the
other operand's dtype; two tensors of different dtypes are a TypeError), and every kernel
returns exactly the declared dtype, so int32 stays int32 under NumPy 2 promotion.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, constant_value, convert_to_tensor, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import (binary_args, binary_op, broadcast_shapes, normalize_axes, out1,
                      same_as_input, static_axis, ufunc_kernel, unary_op)

__all__ = ["add", "subtract", "sub", "multiply", "mul", "negative", "neg", "square",
           "matmul", "divide", "truediv", "realdiv", "div", "reduce_sum", "reduce_mean",
           "add_n", "cast", "to_float", "to_int32", "to_int64", "to_double", "sum_to_shape_of",
           # division
           "floordiv", "floor_div", "floormod", "mod",
           # unary functions
           "abs", "sign", "sqrt", "rsqrt", "exp", "log", "log1p", "sin", "cos", "tanh",
           "sigmoid", "reciprocal", "floor", "ceil", "round", "is_finite", "is_nan", "is_inf",
           # binary functions
           "pow", "maximum", "minimum", "squared_difference",
           # comparisons, logic, selection
           "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "logical_and", "logical_or", "logical_not", "logical_xor", "where",
           "clip_by_value", "cumsum", "cumprod",
           # products and reductions
           "tensordot", "reduce_max", "reduce_min", "reduce_prod", "reduce_all", "reduce_any",
           "reduce_logsumexp", "count_nonzero", "argmax", "argmin", "arg_max", "arg_min"]


# -- shape rules ---------------------------------------------------------------------------
def _binary_infer(op):
    x, y = op.inputs
    if x.dtype != y.dtype:
        raise TypeError(f"Input 'y' of '{op.type}' Op has type {y.dtype.name} that does not "
                        f"match type {x.dtype.name} of argument 'x'.")
    return [(x.dtype, broadcast_shapes(x._shape, y._shape))]



def _compare_infer(op):
    """Comparison: operands share a dtype; a bool result of the broadcast shape."""
    return [(dtypes.bool, _binary_infer(op)[0][1])]


def _numeric_binary_infer(op):
    """Arithmetic that NumPy has no bool/string loop for (floor division, power, ...)."""
    out = _binary_infer(op)
    _check_numeric(op.type, op.inputs[0])
    return out


def _check_numeric(what: str, t: Tensor) -> None:
    if t.dtype.is_bool or t.dtype == dtypes.string:
        raise TypeError(f"{what} does not accept dtype {t.dtype.name} ({t.name})")


def _numeric_infer(op):
    """Unary op over numbers (ints, floats, complex): same dtype and shape as the input."""
    _check_numeric(op.type, op.inputs[0])
    return same_as_input(op)


def _float_infer(op):
    """Unary op defined for floating point (and complex) inputs only."""
    x = op.inputs[0]
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise TypeError(f"{op.type} needs a floating point input, but {x.name} is "
                        f"{x.dtype.name}; cast it first")
    return [(x.dtype, x._shape)]


def _float_test_infer(op):
    """IsFinite / IsNan / IsInf: a float input, a bool output of the same shape."""
    return [(dtypes.bool, _float_infer(op)[0][1])]


def _logical_infer(op):
    """Logical ops: bool inputs, a bool output of the broadcast shape."""
    shape = op.inputs[0]._shape
    for i, t in enumerate(op.inputs):
        if not t.dtype.is_bool:
            raise TypeError(f"{op.type} needs bool inputs, but input {i} ({t.name}) is "
                            f"{t.dtype.name}")
        shape = broadcast_shapes(shape, t._shape) if i else shape
    return [(dtypes.bool, shape)]


def _merge_shapes(a, b, what: str):
    """The most specific shape compatible with both `a` and `b` (None dims are unknown)."""
    if a is None or b is None:
        return b if a is None else a
    if len(a) != len(b) or any(x is not None and y is not None and x != y
                               for x, y in zip(a, b)):
        raise ValueError(f"{what}: shapes {list(a)} and {list(b)} must be equal")
    return tuple(x if x is not None else y for x, y in zip(a, b))


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
        shape = tuple(int(d) for d in s)
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


def sum_to_shape_of(grad: Tensor, x: Tensor) -> Tensor:
    """`grad` (shaped like a broadcast result) reduced to the shape of `x`."""
    gs, xs = grad._shape, x._shape
    if gs is not None and xs is not None and gs == xs and None not in xs:
        return grad
    if gs is not None and xs is not None and None not in gs and None not in xs:
        lead = len(gs) - len(xs)
        axes = list(range(lead)) + [i + lead for i, d in enumerate(xs)
                                    if d == 1 and gs[i + lead] != 1]
        out = reduce_sum(grad, axis=axes) if axes else grad
        if out._shape != xs:
            from .array import reshape
            out = reshape(out, list(xs))
        return out
    from .array import shape
    return out1("SumToShape", [grad, shape(x)], None, "SumToShape")


# -- Add / Sub / Mul / Neg / Square --------------------------------------------------------
def _add_grad(op, grad):
    """Returns (grad, grad), each summed back to its input's shape."""
    x, y = op.inputs
    return [sum_to_shape_of(grad, x), sum_to_shape_of(grad, y)]


def _sub_grad(op, grad):
    """Returns (grad, -grad), each summed back to its input's shape."""
    x, y = op.inputs
    return [sum_to_shape_of(grad, x), sum_to_shape_of(negative(grad), y)]


def _mul_grad(op, grad):
    """Returns (grad * y, grad * x), each summed back to its input's shape."""
    x, y = op.inputs
    return [sum_to_shape_of(multiply(grad, y), x), sum_to_shape_of(multiply(grad, x), y)]


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
    return [sum_to_shape_of(gx, x), sum_to_shape_of(gy, y)]


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
    return [sum_to_shape_of(grad, x), sum_to_shape_of(gy, y)]


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


# -- Unary functions -----------------------------------------------------------------------
def _abs_grad(op, grad):
    """Returns grad * sign(x)."""
    return [multiply(grad, sign(op.inputs[0]))]


def _sign_grad(op, grad):
    """Returns 0: sign(x) is piecewise constant."""
    from .constant import zeros_like
    return [zeros_like(op.inputs[0])]


def _sqrt_grad(op, grad):
    """Returns grad * 0.5 / y."""
    y = op.outputs[0]  # y = sqrt(x)
    return [divide(multiply(grad, 0.5), y)]


def _rsqrt_grad(op, grad):
    """Returns grad * -0.5 * y³."""
    y = op.outputs[0]  # y = 1 / sqrt(x)
    return [multiply(grad, multiply(-0.5, multiply(y, square(y))))]


def _exp_grad(op, grad):
    """Returns grad * y."""
    y = op.outputs[0]  # y = exp(x)
    return [multiply(grad, y)]


def _log_grad(op, grad):
    """Returns grad / x."""
    return [divide(grad, op.inputs[0])]


def _log1p_grad(op, grad):
    """Returns grad / (1 + x)."""
    return [divide(grad, add(1, op.inputs[0]))]


def _sin_grad(op, grad):
    """Returns grad * cos(x)."""
    return [multiply(grad, cos(op.inputs[0]))]


def _cos_grad(op, grad):
    """Returns -grad * sin(x)."""
    return [negative(multiply(grad, sin(op.inputs[0])))]


def _reciprocal_grad(op, grad):
    """Returns -grad * y²."""
    y = op.outputs[0]  # y = 1 / x
    return [negative(multiply(grad, square(y)))]


def _tanh_grad(op, grad):
    """Returns grad * (1 - y * y)."""
    y = op.outputs[0]  # y = tanh(x)
    return [tanh_grad(y, grad)]


def _sigmoid_grad(op, grad):
    """Returns grad * y * (1 - y)."""
    y = op.outputs[0]  # y = sigmoid(x)
    return [sigmoid_grad(y, grad)]


def _rsqrt_kernel(op, ctx):
    xp = ctx.xp

    def rsqrt_(x):
        return xp.reciprocal(xp.sqrt(x))
    return rsqrt_


def _sigmoid_kernel(op, ctx):
    """1 / (1 + exp(-x)) with -x clamped below log(dtype max): exp never overflows, and only
    results already in the subnormal range (sigmoid(x) < ~1e-38 in float32) are affected. One
    temporary, updated in place. float16 is computed in float32 (its range is too short)."""
    xp = ctx.xp
    dt = op.outputs[0].dtype.np
    work = np.float32 if dt == np.float16 else dt
    limit = float(np.log(np.finfo(work).max)) - 0.1

    def sigmoid_(x):
        t = xp.negative(x, dtype=work)
        xp.minimum(t, limit, out=t)
        xp.exp(t, out=t)
        t += 1
        xp.reciprocal(t, out=t)
        return t if work is dt else t.astype(dt)
    return _scalar_safe(op, sigmoid_, xp)


_UNARY = [  # (type, xp ufunc name or kernel factory, infer, gradient, doc)
    ("Abs", "absolute", _numeric_infer, _abs_grad, "|x| elementwise."),
    ("Sign", "sign", _numeric_infer, _sign_grad, "-1, 0 or 1 by the sign of x."),
    ("Sqrt", "sqrt", _float_infer, _sqrt_grad, "√x elementwise."),
    ("Rsqrt", _rsqrt_kernel, _float_infer, _rsqrt_grad, "1 / √x elementwise."),
    ("Exp", "exp", _float_infer, _exp_grad, "eˣ elementwise."),
    ("Log", "log", _float_infer, _log_grad, "Natural logarithm elementwise."),
    ("Log1p", "log1p", _float_infer, _log1p_grad, "log(1 + x), accurate near 0."),
    ("Sin", "sin", _float_infer, _sin_grad, "sin(x) elementwise."),
    ("Cos", "cos", _float_infer, _cos_grad, "cos(x) elementwise."),
    ("Tanh", "tanh", _float_infer, _tanh_grad, "tanh(x) elementwise."),
    ("Sigmoid", _sigmoid_kernel, _float_infer, _sigmoid_grad,
     "1 / (1 + e⁻ˣ) elementwise, computed without overflow."),
    ("Reciprocal", "reciprocal", _numeric_infer, _reciprocal_grad,
     "1 / x elementwise."),
    ("Floor", "floor", _float_infer, NOT_DIFFERENTIABLE, "Largest integer ≤ x."),
    ("Ceil", "ceil", _float_infer, NOT_DIFFERENTIABLE, "Smallest integer ≥ x."),
    ("Round", "rint", _float_infer, NOT_DIFFERENTIABLE,
     "x rounded to the nearest integer, halves to even."),
    ("IsFinite", "isfinite", _float_test_infer, NOT_DIFFERENTIABLE,
     "True where x is neither infinite nor NaN."),
    ("IsNan", "isnan", _float_test_infer, NOT_DIFFERENTIABLE, "True where x is NaN."),
    ("IsInf", "isinf", _float_test_infer, NOT_DIFFERENTIABLE,
     "True where x is +inf or -inf."),
]


for _type, _kernel, _infer, _grad, _doc in _UNARY:
    register_op(_type, infer=_infer, grad=_grad, doc=_doc,
                kernel=ufunc_kernel(_kernel) if isinstance(_kernel, str) else _kernel)
del _type, _kernel, _infer, _grad, _doc


def abs(x, name=None) -> Tensor:  # noqa: A001 - TF 1.x spells it tf.abs
    """|x| elementwise."""
    return unary_op("Abs", x, name or "Abs")


def sign(x, name=None) -> Tensor:
    """-1, 0 or 1 elementwise, by the sign of x."""
    return unary_op("Sign", x, name or "Sign")


def sqrt(x, name=None) -> Tensor:
    """√x elementwise."""
    return unary_op("Sqrt", x, name or "Sqrt")


def rsqrt(x, name=None) -> Tensor:
    """1 / √x elementwise."""
    return unary_op("Rsqrt", x, name or "Rsqrt")


def exp(x, name=None) -> Tensor:
    """eˣ elementwise."""
    return unary_op("Exp", x, name or "Exp")


def log(x, name=None) -> Tensor:
    """Natural logarithm elementwise."""
    return unary_op("Log", x, name or "Log")


def log1p(x, name=None) -> Tensor:
    """log(1 + x) elementwise, accurate near 0."""
    return unary_op("Log1p", x, name or "Log1p")


def sin(x, name=None) -> Tensor:
    """sin(x) elementwise."""
    return unary_op("Sin", x, name or "Sin")


def cos(x, name=None) -> Tensor:
    """cos(x) elementwise."""
    return unary_op("Cos", x, name or "Cos")


def tanh(x, name=None) -> Tensor:
    """tanh(x) elementwise."""
    return unary_op("Tanh", x, name or "Tanh")


def sigmoid(x, name=None) -> Tensor:
    """1 / (1 + e⁻ˣ) elementwise, computed without overflow."""
    return unary_op("Sigmoid", x, name or "Sigmoid")


def reciprocal(x, name=None) -> Tensor:
    """1 / x elementwise."""
    return unary_op("Reciprocal", x, name or "Reciprocal")


def floor(x, name=None) -> Tensor:
    """The largest integer ≤ x, elementwise."""
    return unary_op("Floor", x, name or "Floor")


def ceil(x, name=None) -> Tensor:
    """The smallest integer ≥ x, elementwise."""
    return unary_op("Ceil", x, name or "Ceil")


def round(x, name=None) -> Tensor:  # noqa: A001 - TF 1.x spells it tf.round
    """x rounded to the nearest integer elementwise, halves to even."""
    return unary_op("Round", x, name or "Round")


def is_finite(x, name=None) -> Tensor:
    """True where x is neither infinite nor NaN."""
    return unary_op("IsFinite", x, name or "IsFinite")


def is_nan(x, name=None) -> Tensor:
    """True where x is NaN."""
    return unary_op("IsNan", x, name or "IsNan")


def is_inf(x, name=None) -> Tensor:
    """True where x is +inf or -inf."""
    return unary_op("IsInf", x, name or "IsInf")


def _tanh_grad_kernel(op, ctx):
    xp = ctx.xp

    def tanh_grad_(y, g):
        t = xp.multiply(y, y)
        xp.subtract(1, t, out=t)
        t *= g
        return t
    return _scalar_safe(op, tanh_grad_, xp)


def _sigmoid_grad_kernel(op, ctx):
    xp = ctx.xp

    def sigmoid_grad_(y, g):
        t = xp.subtract(1, y)
        t *= y
        t *= g
        return t
    return _scalar_safe(op, sigmoid_grad_, xp)


def _tanh_grad_grad(op, grad):
    """Returns (-2 * grad * g * y, grad * (1 - y²)) for z = g * (1 - y²)."""
    y, g = op.inputs
    return [multiply(-2.0, multiply(grad, multiply(g, y))), tanh_grad(y, grad)]


def _sigmoid_grad_grad(op, grad):
    """Returns (grad * g * (1 - 2y), grad * y * (1 - y)) for z = g * y * (1 - y)."""
    y, g = op.inputs
    return [multiply(grad, multiply(g, subtract(1.0, multiply(2.0, y)))), sigmoid_grad(y, grad)]


register_op("TanhGrad", infer=_binary_infer, grad=_tanh_grad_grad, kernel=_tanh_grad_kernel,
            doc="g * (1 - y²) for y = tanh(x): the fused gradient of Tanh.")
register_op("SigmoidGrad", infer=_binary_infer, grad=_sigmoid_grad_grad,
            kernel=_sigmoid_grad_kernel,
            doc="g * y * (1 - y) for y = sigmoid(x): the fused gradient of Sigmoid.")


def tanh_grad(y, dy, name=None) -> Tensor:
    """dy * (1 - y²), the gradient of tanh given its output y."""
    return binary_op("TanhGrad", y, dy, name or "TanhGrad")


def sigmoid_grad(y, dy, name=None) -> Tensor:
    """dy * y * (1 - y), the gradient of sigmoid given its output y."""
    return binary_op("SigmoidGrad", y, dy, name or "SigmoidGrad")


# -- Binary functions: Pow / Maximum / Minimum / SquaredDifference -------------------------
def _pow_grad(op, grad):
    """Returns (grad * y * x^(y-1), grad * z * log(x)) with log(x) taken as 0 where x <= 0."""
    from .constant import ones_like, zeros_like
    x, y = op.inputs
    z = op.outputs[0]  # z = x ** y
    gx = multiply(grad, multiply(y, pow(x, subtract(y, 1))))
    positive = greater(x, 0)
    log_x = where(positive, log(where(positive, x, ones_like(x))), zeros_like(x))
    gy = multiply(grad, multiply(z, log_x))
    return [sum_to_shape_of(gx, x), sum_to_shape_of(gy, y)]


def _route_grad(op, grad, to_x: Tensor) -> list:
    """Sends grad to x where `to_x` is true and to y elsewhere, summed to each input's shape."""
    from .constant import zeros_like
    x, y = op.inputs
    zeros = zeros_like(grad)
    return [sum_to_shape_of(where(to_x, grad, zeros), x),
            sum_to_shape_of(where(to_x, zeros, grad), y)]


def _maximum_grad(op, grad):
    """Returns (grad where x >= y, grad where x < y), each summed to its input's shape."""
    x, y = op.inputs
    return _route_grad(op, grad, greater_equal(x, y))


def _minimum_grad(op, grad):
    """Returns (grad where x <= y, grad where x > y), each summed to its input's shape."""
    x, y = op.inputs
    return _route_grad(op, grad, less_equal(x, y))


def _squared_difference_grad(op, grad):
    """Returns (2 * grad * (x - y), -2 * grad * (x - y)), each summed to its input's shape."""
    x, y = op.inputs
    gx = multiply(grad, multiply(2, subtract(x, y)))
    return [sum_to_shape_of(gx, x), sum_to_shape_of(negative(gx), y)]


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


# -- Comparisons and logic -----------------------------------------------------------------
_COMPARISONS = [("Equal", "equal", "x == y"), ("NotEqual", "not_equal", "x != y"),
                ("Less", "less", "x < y"), ("LessEqual", "less_equal", "x <= y"),
                ("Greater", "greater", "x > y"), ("GreaterEqual", "greater_equal", "x >= y")]


for _type, _fname, _math in _COMPARISONS:
    register_op(_type, infer=_compare_infer, grad=NOT_DIFFERENTIABLE, kernel=ufunc_kernel(_fname),
                doc=f"The bool tensor {_math} elementwise, with broadcasting.")
for _type, _fname, _math in [("LogicalAnd", "logical_and", "x AND y"),
                             ("LogicalOr", "logical_or", "x OR y")]:
    register_op(_type, infer=_logical_infer, grad=NOT_DIFFERENTIABLE, kernel=ufunc_kernel(_fname),
                doc=f"{_math} elementwise on bool tensors, with broadcasting.")
del _type, _fname, _math


def equal(x, y, name=None) -> Tensor:
    """The bool tensor x == y elementwise, with broadcasting."""
    return binary_op("Equal", x, y, name or "Equal")


def not_equal(x, y, name=None) -> Tensor:
    """The bool tensor x != y elementwise, with broadcasting."""
    return binary_op("NotEqual", x, y, name or "NotEqual")


def less(x, y, name=None) -> Tensor:
    """The bool tensor x < y elementwise, with broadcasting."""
    return binary_op("Less", x, y, name or "Less")


def less_equal(x, y, name=None) -> Tensor:
    """The bool tensor x <= y elementwise, with broadcasting."""
    return binary_op("LessEqual", x, y, name or "LessEqual")


def greater(x, y, name=None) -> Tensor:
    """The bool tensor x > y elementwise, with broadcasting."""
    return binary_op("Greater", x, y, name or "Greater")


def greater_equal(x, y, name=None) -> Tensor:
    """The bool tensor x >= y elementwise, with broadcasting."""
    return binary_op("GreaterEqual", x, y, name or "GreaterEqual")


def logical_and(x, y, name=None) -> Tensor:
    """x AND y elementwise on bool tensors, with broadcasting."""
    return binary_op("LogicalAnd", x, y, name or "LogicalAnd")


def logical_or(x, y, name=None) -> Tensor:
    """x OR y elementwise on bool tensors, with broadcasting."""
    return binary_op("LogicalOr", x, y, name or "LogicalOr")


register_op("LogicalNot", infer=_logical_infer, grad=NOT_DIFFERENTIABLE,
            kernel=ufunc_kernel("logical_not"), doc="NOT x elementwise on a bool tensor.")


def logical_not(x, name=None) -> Tensor:
    """NOT x elementwise on a bool tensor."""
    return unary_op("LogicalNot", x, name or "LogicalNot")


def logical_xor(x, y, name="LogicalXor") -> Tensor:
    """x XOR y elementwise on bool tensors, with broadcasting (x != y)."""
    x, y = binary_args(x, y, "LogicalXor")
    if not (x.dtype.is_bool and y.dtype.is_bool):
        raise TypeError(f"logical_xor needs bool inputs, got {x.dtype.name} ({x.name})")
    return out1("NotEqual", [x, y], None, name)


# -- Select / Where ------------------------------------------------------------------------
def _select_infer(op):
    c, x, y = op.inputs
    if not c.dtype.is_bool:
        raise TypeError(f"where: condition {c.name} must be bool, not {c.dtype.name}")
    if x.dtype != y.dtype:
        raise TypeError(f"where: x is {x.dtype.name} but y is {y.dtype.name}")
    shape = _merge_shapes(x._shape, y._shape, "where: x and y")
    if c._shape is not None and shape is not None:
        if not c._shape:
            pass  # a scalar condition picks x or y whole
        elif len(c._shape) == len(shape):
            shape = _merge_shapes(c._shape, shape, "where: condition and x")
        elif len(c._shape) == 1 and len(shape) > 1:
            rows = _merge_shapes(c._shape, shape[:1], "where: a vector condition and x's rows")
            shape = rows + shape[1:]
        else:
            raise ValueError(f"where: condition of shape {list(c._shape)} must be a scalar, "
                             f"have the shape of x {list(shape)} or be a vector over its first "
                             "dimension")
    return [(x.dtype, shape)]


def _select_kernel(op, ctx):
    xp = ctx.xp
    c, x = op.inputs[0]._shape, op.outputs[0]._shape
    if c is not None and x is not None:
        if len(c) == len(x) or not c:
            return xp.where
        rows = (-1,) + (1,) * (len(x) - 1)
        return lambda c, a, b: xp.where(xp.reshape(c, rows), a, b)

    def select(c, a, b):
        if xp.ndim(c) == 1 and xp.ndim(a) > 1:
            c = xp.reshape(c, (-1,) + (1,) * (xp.ndim(a) - 1))
        return xp.where(c, a, b)
    return select


def _select_grad(op, grad):
    """Returns (None, grad where condition, grad where not condition)."""
    from .constant import zeros_like
    c = op.inputs[0]
    zeros = zeros_like(grad)
    return [None, where(c, grad, zeros), where(c, zeros, grad)]


def _where_kernel(op, ctx):
    xp = ctx.xp

    def where_(c):
        return xp.argwhere(c).astype(np.int64, copy=False)
    return where_


register_op("Select", infer=_select_infer, grad=_select_grad, kernel=_select_kernel,
            doc="x where condition is true, else y (a vector condition selects rows).")
register_op("Where", grad=NOT_DIFFERENTIABLE, kernel=_where_kernel,
            infer=lambda op: [(dtypes.int64, (None, None if op.inputs[0]._shape is None
                                                else len(op.inputs[0]._shape)))],
            doc="The int64 [n, rank] coordinates of the true (nonzero) elements of the input.")


def where(condition, x=None, y=None, name=None) -> Tensor:
    """TF 1.x `where`: with x and y, the elements of x where `condition` is true and of y
    elsewhere (a vector condition picks whole rows); without them, the int64 indices of the
    true elements of `condition`, shape [n, rank(condition)].

    Raises:
        ValueError: only one of x and y is given.
    """
    if (x is None) != (y is None):
        raise ValueError("x and y must both be non-None or both be None.")
    c = convert_to_tensor(condition)
    if x is None:
        return out1("Where", [c], None, name or "Where")
    x, y = binary_args(x, y, "Select")
    return out1("Select", [c, x, y], None, name or "Select")


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


# -- Cumsum / Cumprod ----------------------------------------------------------------------
def _cum_infer(op):
    x = op.inputs[0]
    if x._shape is not None:
        if not x._shape:
            raise ValueError(f"{op.type} needs an input of rank >= 1, not a scalar")
        static_axis(op.attrs["axis"], len(x._shape))
    return same_as_input(op)


def _cum_kernel(fname: str, identity: int):
    def factory(op, ctx):
        xp = ctx.xp
        fn = getattr(xp, fname)
        axis, exclusive, reverse = op.attrs["axis"], op.attrs["exclusive"], op.attrs["reverse"]
        dt = op.outputs[0].dtype.np
        if not exclusive and not reverse:
            return lambda x: fn(x, axis=axis, dtype=dt)

        def cumulative(x):
            ax = axis % x.ndim
            if reverse:
                x = xp.flip(x, ax)
            out = fn(x, axis=ax, dtype=dt)
            if exclusive:
                shifted = xp.empty_like(out)
                lead = (slice(None),) * ax
                shifted[lead + (slice(0, 1),)] = identity
                shifted[lead + (slice(1, None),)] = out[lead + (slice(0, -1),)]
                out = shifted
            return xp.flip(out, ax) if reverse else out
        return cumulative
    return factory


def _cumsum_grad(op, grad):
    """Returns cumsum(grad) in the opposite direction."""
    a = op.attrs
    return [cumsum(grad, a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"])]


def _cumprod_grad(op, grad):
    """Returns cumsum(grad * y) in the opposite direction, divided by x (x must be nonzero)."""
    x, a = op.inputs[0], op.attrs
    y = op.outputs[0]  # y = cumprod(x)
    s = cumsum(multiply(grad, y), a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"])
    return [divide(s, x)]


register_op("Cumsum", infer=_cum_infer, grad=_cumsum_grad, kernel=_cum_kernel("cumsum", 0),
            doc="Running sums along an axis (exclusive: shifted by one; reverse: from the end).")
register_op("Cumprod", infer=_cum_infer, grad=_cumprod_grad, kernel=_cum_kernel("cumprod", 1),
            doc="Running products along an axis (exclusive / reverse as Cumsum).")


def _cumulative(op_type, x, axis, exclusive, reverse, name):
    x = convert_to_tensor(x)
    _check_numeric(op_type, x)
    if isinstance(axis, Tensor):
        cv = constant_value(axis)
        if cv is None:
            raise ValueError(f"{op_type}: axis must be known at graph construction")
        axis = cv
    attrs = {"axis": int(axis), "exclusive": bool(exclusive), "reverse": bool(reverse)}
    return out1(op_type, [x], attrs, name or op_type)


def cumsum(x, axis=0, exclusive: bool = False, reverse: bool = False, name=None) -> Tensor:
    """Cumulative sum along `axis`: [a, b, c] → [a, a+b, a+b+c]; exclusive → [0, a, a+b];
    reverse sums from the end."""
    return _cumulative("Cumsum", x, axis, exclusive, reverse, name)


def cumprod(x, axis=0, exclusive: bool = False, reverse: bool = False, name=None) -> Tensor:
    """Cumulative product along `axis`: [a, b, c] → [a, ab, abc]; exclusive → [1, a, ab];
    reverse multiplies from the end."""
    return _cumulative("Cumprod", x, axis, exclusive, reverse, name)


# -- MatMul --------------------------------------------------------------------------------
def _matmul_infer(op):
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if a.dtype != b.dtype:
        raise TypeError(f"MatMul: a is {a.dtype.name} but b is {b.dtype.name}")
    for t in (a, b):
        if t._shape is not None and len(t._shape) != 2:
            raise ValueError(f"Shape must be rank 2 but is rank {len(t._shape)}")
    sa = a._shape or (None, None)
    sb = b._shape or (None, None)
    m, k1 = (sa[1], sa[0]) if ta else sa
    k2, n = (sb[1], sb[0]) if tb else sb
    if k1 is not None and k2 is not None and k1 != k2:
        raise ValueError(f"Dimensions must be equal, but are {k1} and {k2}")
    return [(a.dtype, (m, n))]


def _matmul_kernel(op, ctx):
    xp = ctx.xp
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        return xp.matmul
    if ta and not tb:
        return lambda a, b: xp.matmul(a.T, b)
    if tb and not ta:
        return lambda a, b: xp.matmul(a, b.T)
    return lambda a, b: xp.matmul(a.T, b.T)


def _matmul_grad(op, grad):
    """Returns (grad · bᵀ, aᵀ · grad), with the op's transposes folded in."""
    a, b = op.inputs
    return _matmul_grads(a, b, grad, op.attrs["transpose_a"], op.attrs["transpose_b"])


def _matmul_grads(a, b, grad, ta: bool, tb: bool) -> list:
    """The gradients of op(a) · op(b) where op transposes when `ta` / `tb` is set."""
    if not ta and not tb:
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not ta and tb:
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [matmul(b, grad, transpose_a=True, transpose_b=True),
            matmul(grad, a, transpose_a=True, transpose_b=True)]


register_op("MatMul", infer=_matmul_infer, grad=_matmul_grad, kernel=_matmul_kernel)


# -- BatchMatMul: matrix products over leading (broadcast) batch dimensions ----------------
def _batch_matmul_infer(op):
    a, b = op.inputs
    if a.dtype != b.dtype:
        raise TypeError(f"BatchMatMul: x is {a.dtype.name} but y is {b.dtype.name}")
    for t in (a, b):
        if t._shape is not None and len(t._shape) < 2:
            raise ValueError(f"BatchMatMul: {t.name} must have rank >= 2, not {len(t._shape)}")
    if a._shape is None or b._shape is None:
        return [(a.dtype, None)]
    m, k1 = a._shape[-2:][::-1] if op.attrs["adj_x"] else a._shape[-2:]
    k2, n = b._shape[-2:][::-1] if op.attrs["adj_y"] else b._shape[-2:]
    if k1 is not None and k2 is not None and k1 != k2:
        raise ValueError(f"BatchMatMul: inner dimensions must be equal, but are {k1} and {k2}")
    return [(a.dtype, broadcast_shapes(a._shape[:-2], b._shape[:-2]) + (m, n))]


def _batch_matmul_kernel(op, ctx):
    xp = ctx.xp
    adj_x, adj_y = op.attrs["adj_x"], op.attrs["adj_y"]
    if not adj_x and not adj_y:
        return xp.matmul
    if op.inputs[0].dtype.is_complex:
        def adj(t):
            return xp.conj(xp.swapaxes(t, -1, -2))
    else:
        def adj(t):
            return xp.swapaxes(t, -1, -2)
    if adj_x and adj_y:
        return lambda a, b: xp.matmul(adj(a), adj(b))
    if adj_x:
        return lambda a, b: xp.matmul(adj(a), b)
    return lambda a, b: xp.matmul(a, adj(b))


def _batch_matmul_grad(op, grad):
    """Returns (grad · yᵀ, xᵀ · grad) per batch, adjoints folded in, summed over broadcast
    batch dimensions."""
    x, y = op.inputs
    gx, gy = _matmul_grads(x, y, grad, op.attrs["adj_x"], op.attrs["adj_y"])
    return [sum_to_shape_of(gx, x), sum_to_shape_of(gy, y)]


register_op("BatchMatMul", infer=_batch_matmul_infer, grad=_batch_matmul_grad,
            kernel=_batch_matmul_kernel,
            doc="Matrix products over the last two dims; leading batch dims broadcast.")

def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name=None) -> Tensor:
    """Matrix product a · b of rank-2 tensors (rank > 2: batched, via BatchMatMul)."""
    a, b = binary_args(a, b, "MatMul")
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    ra = len(a._shape) if a._shape is not None else 2
    rb = len(b._shape) if b._shape is not None else 2
    if ra > 2 or rb > 2:
        return out1("BatchMatMul", [a, b], {"adj_x": ta, "adj_y": tb}, name or "MatMul")
    return out1("MatMul", [a, b], {"transpose_a": ta, "transpose_b": tb}, name or "MatMul")



def tensordot(a, b, axes, name=None) -> Tensor:
    """Tensor contraction of `a` and `b` over `axes`: an int n (the last n axes of a with the
    first n of b) or a pair [axes_a, axes_b] of equal-length axis lists (or ints). The result
    has a's free axes followed by b's, computed as one matmul of transposed, reshaped inputs.

    Raises:
        ValueError: an input's rank is unknown, or the axes do not pair up.
    """
    a, b = binary_args(a, b, "tensordot")
    if a._shape is None or b._shape is None:
        raise ValueError("tensordot needs inputs of known rank")
    ra, rb = len(a._shape), len(b._shape)
    axes_a, axes_b = _tensordot_axes(axes, ra, rb)
    for i, j in zip(axes_a, axes_b):
        da, db = a._shape[i], b._shape[j]
        if da is not None and db is not None and da != db:
            raise ValueError(f"tensordot: axis {i} of a ({da}) and axis {j} of b ({db}) "
                             "must have equal sizes")
    free_a = [i for i in range(ra) if i not in axes_a]
    free_b = [i for i in range(rb) if i not in axes_b]
    with name_scope(name, "Tensordot", [a, b]):
        product = matmul(_as_matrix(a, free_a, axes_a), _as_matrix(b, axes_b, free_b))
        from .array import reshape
        out = reshape(product, _dims(a, free_a) + _dims(b, free_b))
    out.set_shape([a._shape[i] for i in free_a] + [b._shape[i] for i in free_b])
    return out


def _tensordot_axes(axes, ra: int, rb: int) -> tuple[list, list]:
    if isinstance(axes, Tensor):
        axes = constant_value(axes)
        if axes is None:
            raise ValueError("tensordot: axes must be known at graph construction")
        axes = axes.tolist()
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if not 0 <= n <= min(ra, rb):
            raise ValueError(f"tensordot: axes={n} must be in [0, {min(ra, rb)}] for inputs "
                             f"of rank {ra} and {rb}")
        return list(range(ra - n, ra)), list(range(n))
    if len(axes) != 2:
        raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, not {axes}")
    pair = []
    for ax, rank in zip(axes, (ra, rb)):
        ax = [ax] if isinstance(ax, (int, np.integer)) else list(ax)
        pair.append([static_axis(int(i), rank) for i in ax])
    if len(pair[0]) != len(pair[1]):
        raise ValueError(f"tensordot: axes {pair[0]} and {pair[1]} differ in length")
    return pair[0], pair[1]


def _dims(t: Tensor, idx: list) -> list:
    """The sizes of `t`'s dims `idx`: ints where static, scalar tensors where not."""
    if all(t._shape[i] is not None for i in idx):
        return [t._shape[i] for i in idx]
    from .array import shape, unstack
    dynamic = unstack(shape(t), num=len(t._shape))
    return [t._shape[i] if t._shape[i] is not None else dynamic[i] for i in idx]


def _as_matrix(t: Tensor, rows: list, cols: list) -> Tensor:
    """`t` transposed to (rows, cols) order and reshaped to [prod(rows), prod(cols)]."""
    from .array import reshape
    perm = rows + cols
    if perm != list(range(len(perm))):
        from .array import transpose
        t2 = transpose(t, perm)
    else:
        t2 = t
    r, c = _dims(t, rows), _dims(t, cols)
    if all(isinstance(d, int) for d in r):
        return reshape(t2, [int(np.prod(r, dtype=np.int64)), -1])
    if all(isinstance(d, int) for d in c):
        return reshape(t2, [-1, int(np.prod(c, dtype=np.int64))])
    n_rows = r[0]
    for d in r[1:]:
        n_rows = multiply(n_rows, d)
    return reshape(t2, [n_rows, -1])

# -- Reductions ----------------------------------------------------------------------------
def _reduce_infer(op):
    x = op.inputs[0]
    axes = op.attrs["axes"]
    keep = op.attrs["keep_dims"]
    if x._shape is None:
        return [(_reduce_dtype(op), None)]
    rank = len(x._shape)
    for a in axes or ():
        if not -rank <= a < max(rank, 1):
            raise ValueError(f"Invalid reduction dimension {a} for input with {rank} "
                             "dimensions")
    axes_n = normalize_axes(axes, rank)
    if keep:
        out = tuple(1 if i in axes_n else d for i, d in enumerate(x._shape))
    else:
        out = tuple(d for i, d in enumerate(x._shape) if i not in axes_n)
    return [(_reduce_dtype(op), out)]


def _reduce_dtype(op):
    return op.attrs.get("out_dtype") or op.inputs[0].dtype


def _reduce_kernel(fname: str):
    def factory(op, ctx):
        fn = getattr(ctx.xp, fname)
        x = op.inputs[0]
        axes = op.attrs["axes"]
        axis = None if axes is None else tuple(axes)
        keep = op.attrs["keep_dims"]
        dt = op.outputs[0].dtype.np
        if fname in ("sum", "mean", "prod"):
            def reduce_(v):
                return fn(v, axis=axis, keepdims=keep, dtype=dt)
        else:
            def reduce_(v):
                return fn(v, axis=axis, keepdims=keep)
        _ = x
        return reduce_
    return factory


def _reduced_shape_keep(op):
    """The static keep-dims shape of a reduction's output, or None when unknown."""
    x = op.inputs[0]
    if x._shape is None:
        return None
    axes_n = normalize_axes(op.attrs["axes"], len(x._shape))
    return tuple(1 if i in axes_n else d for i, d in enumerate(x._shape))


def _expand_reduced(op, t: Tensor) -> Tensor:
    """Reshapes a reduction output (or its gradient) to keep-dims form for broadcasting."""
    from .array import reshape, shape
    if op.attrs["keep_dims"]:
        return t
    keep = _reduced_shape_keep(op)
    if keep is not None and None not in keep:
        return reshape(t, list(keep))
    x = op.inputs[0]
    return out1("ReshapeToReduced", [t, shape(x)],
                {"axes": op.attrs["axes"]}, "ReshapeToReduced")


def _sum_grad(op, grad):
    """Returns grad broadcast back to the input's shape."""
    x = op.inputs[0]
    from .constant import zeros_like
    return [add(_expand_reduced(op, grad), zeros_like(x))]


def _mean_grad(op, grad):
    """Returns grad / N broadcast back to the input's shape (N = reduced element count)."""
    x, y = op.inputs[0], op.outputs[0]
    g = _sum_grad(op, grad)[0]
    if x._shape is not None and None not in x._shape and y._shape is not None \
            and None not in y._shape:
        n = np.prod(x._shape, dtype=np.float64) / max(1, np.prod(y._shape, dtype=np.int64))
        return [multiply(g, convert_to_tensor(1.0 / n, dtype=x.dtype))]
    from .array import size
    return [divide(g, cast(size(x), x.dtype) / cast(size(y), x.dtype))]


def _reshape_to_reduced_infer(op):
    t, s = op.inputs
    n = s._shape[0] if s._shape else None
    return [(t.dtype, None if n is None else (None,) * n)]


def _reshape_to_reduced_kernel(op, ctx):
    axes = op.attrs["axes"]
    xp = ctx.xp

    def reshape_to_reduced(t, s):
        shape = [int(d) for d in s]
        ax = range(len(shape)) if axes is None else [a % len(shape) for a in axes]
        for a in ax:
            shape[a] = 1
        return xp.reshape(t, shape)
    return reshape_to_reduced


register_op("ReshapeToReduced", infer=_reshape_to_reduced_infer,
            grad=lambda op, g: [_reshape_like(g, op.inputs[0]), None],
            kernel=_reshape_to_reduced_kernel, aliases_input=True,
            doc="Reshapes a reduced tensor to keep-dims form (reduction gradient helper).")


def _shape_of(t):
    from .array import shape
    return shape(t)


def _reshape_like(g, t):
    """Returns reshape(grad, shape(t)): ReshapeToReduced only reshapes."""
    from .array import reshape
    return reshape(g, _shape_of(t))


register_op("Sum", infer=_reduce_infer, grad=_sum_grad, kernel=_reduce_kernel("sum"))
register_op("Mean", infer=_reduce_infer, grad=_mean_grad, kernel=_reduce_kernel("mean"))
def _extremum_grad(op, grad):
    """Returns grad / (number of extrema) at the positions equal to the reduced max (min)."""
    x = op.inputs[0]
    y = op.outputs[0]  # y = reduce_max(x) (or reduce_min(x))
    hits = cast(equal(x, _expand_reduced(op, y)), x.dtype)
    count = reduce_sum(hits, axis=op.attrs["axes"], keepdims=True)
    return [divide(multiply(hits, _expand_reduced(op, grad)), count)]


def _prod_grad(op, grad):
    """Returns grad * (product of the other elements of x's reduced slice), from exclusive
    cumulative products in both directions, so zeros in x are handled exactly."""
    from .array import reshape, shape
    x = op.inputs[0]
    g = _expand_reduced(op, grad)
    axes = op.attrs["axes"]
    if axes is None:
        flat = reshape(x, [-1])
        return [multiply(g, reshape(_product_of_others(flat, 0), shape(x)))]
    axes = normalize_axes(axes, None if x._shape is None else len(x._shape))
    axes = list(dict.fromkeys(axes))
    # prod over axes a1..ak = prod_ak(... prod_a1(x)): walk the chain back from its end.
    partial = [x]
    for a in axes[:-1]:
        partial.append(reduce_prod(partial[-1], a, keepdims=True))
    for a, p in zip(reversed(axes), reversed(partial)):
        g = multiply(g, _product_of_others(p, a))
    return [g]


def _product_of_others(x: Tensor, axis: int) -> Tensor:
    """For each element, the product of the other elements along `axis`."""
    return multiply(cumprod(x, axis, exclusive=True),
                    cumprod(x, axis, exclusive=True, reverse=True))


def _bool_reduce_infer(op):
    x = op.inputs[0]
    if not x.dtype.is_bool:
        raise TypeError(f"{op.type} needs a bool input, but {x.name} is {x.dtype.name}")
    return _reduce_infer(op)


register_op("Max", infer=_reduce_infer, grad=_extremum_grad, kernel=_reduce_kernel("max"),
            doc="Maximum over axes.")
register_op("Min", infer=_reduce_infer, grad=_extremum_grad, kernel=_reduce_kernel("min"),
            doc="Minimum over axes.")
register_op("Prod", infer=_reduce_infer, grad=_prod_grad, kernel=_reduce_kernel("prod"),
            doc="Product over axes.")
register_op("All", infer=_bool_reduce_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_reduce_kernel("all"), doc="Logical AND over axes of a bool tensor.")
register_op("Any", infer=_bool_reduce_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_reduce_kernel("any"), doc="Logical OR over axes of a bool tensor.")


def _axes_arg(axis, reduction_indices):
    if axis is None:
        axis = reduction_indices
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        cv = constant_value(axis)
        if cv is None:
            raise ValueError("reduction axes must be known at graph construction")
        axis = cv
    return [int(a) for a in np.ravel(axis)]


def _reduce(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims,
            out_dtype=None):
    x = convert_to_tensor(input_tensor)
    keep = bool(keepdims if keepdims is not None else (keep_dims or False))
    attrs = {"axes": _axes_arg(axis, reduction_indices), "keep_dims": keep}
    if out_dtype is not None:
        attrs["out_dtype"] = out_dtype
    return out1(op_type, [x], attrs, name or op_type)


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Sum over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None) -> Tensor:
    """Mean over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Maximum over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Minimum over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None) -> Tensor:
    """Product over `axis` (all axes when None); `keep_dims` keeps reduced axes as size 1."""
    return _reduce("Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Logical AND of a bool tensor over `axis` (all axes when None)."""
    return _reduce("All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None) -> Tensor:
    """Logical OR of a bool tensor over `axis` (all axes when None)."""
    return _reduce("Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed as m + log(sum(exp(x - m))) with m the (finite)
    maximum, so large inputs do not overflow."""
    from .array import reshape, shape, stop_gradient
    from .constant import zeros_like
    x = convert_to_tensor(input_tensor)
    keep = bool(keepdims if keepdims is not None else (keep_dims or False))
    axes = _axes_arg(axis, reduction_indices)
    with name_scope(name, "ReduceLogSumExp", [x]):
        m = reduce_max(x, axes, keepdims=True)
        m = stop_gradient(where(is_finite(m), m, zeros_like(m)))
        s = log(reduce_sum(exp(subtract(x, m)), axes, keepdims=keep))
        return add(s, m if keep else reshape(m, shape(s)))


def count_nonzero(input_tensor, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None) -> Tensor:
    """The number of nonzero (true) elements over `axis`, as `dtype`."""
    x = convert_to_tensor(input_tensor)
    with name_scope(name, "count_nonzero", [x]):
        nonzero = x if x.dtype.is_bool else not_equal(x, 0)
        return reduce_sum(cast(nonzero, dtype), axis, keepdims, None, reduction_indices,
                          keep_dims)


# -- ArgMax / ArgMin -----------------------------------------------------------------------
def _arg_infer(op):
    x = op.inputs[0]
    _check_numeric(op.type, x)
    dt = op.attrs["output_type"]
    if x._shape is None:
        return [(dt, None)]
    if not x._shape:
        raise ValueError(f"{op.type} needs an input of rank >= 1, not a scalar")
    axis = static_axis(op.attrs["axis"], len(x._shape))
    return [(dt, x._shape[:axis] + x._shape[axis + 1:])]


def _arg_kernel(fname: str):
    def factory(op, ctx):
        fn = getattr(ctx.xp, fname)
        axis = op.attrs["axis"]
        dt = op.outputs[0].dtype.np

        def arg(x):
            return fn(x, axis=axis).astype(dt, copy=False)
        return arg
    return factory


register_op("ArgMax", infer=_arg_infer, grad=NOT_DIFFERENTIABLE, kernel=_arg_kernel("argmax"),
            doc="Index of the largest value along an axis (the first one on ties).")
register_op("ArgMin", infer=_arg_infer, grad=NOT_DIFFERENTIABLE, kernel=_arg_kernel("argmin"),
            doc="Index of the smallest value along an axis (the first one on ties).")


def _arg(op_type, input, axis, name, dimension, output_type):
    if axis is not None and dimension is not None:
        raise ValueError("Cannot specify both 'axis' and 'dimension'")
    axis = dimension if axis is None else axis
    if isinstance(axis, Tensor):
        cv = constant_value(axis)
        if cv is None:
            raise ValueError(f"{op_type}: axis must be known at graph construction")
        axis = cv
    output_type = dtypes.as_dtype(output_type)
    if output_type not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"{op_type}: output_type must be int32 or int64, not {output_type}")
    attrs = {"axis": 0 if axis is None else int(axis), "output_type": output_type}
    return out1(op_type, [convert_to_tensor(input)], attrs, name or op_type)


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64) -> Tensor:
    """The index of the largest value along `axis` (0 when None; `dimension` is the old name)."""
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64) -> Tensor:
    """The index of the smallest value along `axis` (0 when None; `dimension` is the old name)."""
    return _arg("ArgMin", input, axis, name, dimension, output_type)


def arg_max(input, dimension, name=None, output_type=dtypes.int64) -> Tensor:
    """Deprecated TF 1.x spelling of `argmax(input, dimension)`."""
    return argmax(input, dimension, name, output_type=output_type)


def arg_min(input, dimension, name=None, output_type=dtypes.int64) -> Tensor:
    """Deprecated TF 1.x spelling of `argmin(input, dimension)`."""
    return argmin(input, dimension, name, output_type=output_type)


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


# -- norm, trace, log_sigmoid (compositions) -----------------------------------------------
def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None,  # noqa: A002
         keep_dims=None) -> Tensor:
    """The vector or matrix norm of `tensor` (TF 1.x `tf.norm`).

    `axis` None (all entries as one vector), an int (vectors) or a pair (matrices). `ord`:
    "euclidean" (2-norm of vectors, Frobenius of matrices), "fro" (matrices), 1, np.inf,
    or for vectors any p > 0.

    Raises:
        ValueError: an unsupported `ord` for the kind of norm, or a bad `axis`.
    """
    keep = bool(keepdims if keepdims is not None else keep_dims)
    axes = None if axis is None else ([axis] if isinstance(axis, (int, np.integer))
                                      else [int(a) for a in axis])
    if axes is not None and (len(axes) not in (1, 2) or len(set(axes)) != len(axes)):
        raise ValueError(f"norm: axis must be None, an int or a pair of distinct ints, got "
                         f"{axis!r}")
    is_matrix = axes is not None and len(axes) == 2
    vector_ord = ord in ("euclidean", 1, np.inf) or (
        not isinstance(ord, (str, bool)) and isinstance(ord, (int, float)) and ord > 0)
    if (is_matrix and ord not in ("euclidean", "fro", 1, np.inf)) or \
            (not is_matrix and not vector_ord):
        kind = "matrix" if is_matrix else "vector"
        raise ValueError(f"norm: ord={ord!r} is not supported for {kind} norms")
    with name_scope(name, "norm", [tensor]):
        x = convert_to_tensor(tensor, name="tensor")
        if ord in ("euclidean", "fro", 2):
            return sqrt(reduce_sum(x * x, axes, keepdims=keep))
        a = abs(x)
        if is_matrix:  # 1: largest column sum; inf: largest row sum
            summed = axes[0] if ord == 1 else axes[1]
            return reduce_max(reduce_sum(a, summed, keepdims=True), axes, keepdims=keep)
        if ord == 1:
            return reduce_sum(a, axes, keepdims=keep)
        if ord == np.inf:
            return reduce_max(a, axes, keepdims=keep)
        return pow(reduce_sum(pow(a, float(ord)), axes, keepdims=keep), 1.0 / ord)


def trace(x, name=None) -> Tensor:
    """The sum of the main diagonal of a square matrix (of each matrix of a batch)."""
    from .array import diag_part
    with name_scope(name, "Trace", [x]):
        return reduce_sum(diag_part(x), axis=-1)


def log_sigmoid(x, name=None) -> Tensor:
    """log(1 / (1 + exp(-x))), computed stably as -softplus(-x)."""
    from .nn import softplus
    with name_scope(name, "LogSigmoid", [x]):
        x = convert_to_tensor(x, name="x")
        return negative(softplus(negative(x)))


__all__ += ["norm", "trace", "log_sigmoid"]


# -- Operator overloads on Tensor ----------------------------------------------------------
def _install_operators() -> None:
    """Python operators on Tensor, as TF 1.x: `/` is truediv, `//` floordiv, `%` floormod,
    `&` `|` `^` `~` are logical (bool tensors). `==` and `!=` stay identity, so tensors can
    key dicts; use `equal` / `not_equal` for elementwise comparison."""
    def binary(fn):
        def op(self, other):
            return fn(self, other)

        def rop(self, other):
            return fn(other, self)
        return op, rop

    table = {"add": add, "sub": subtract, "mul": multiply, "truediv": truediv,
             "floordiv": floordiv, "mod": floormod, "pow": pow, "matmul": matmul,
             "and": logical_and, "or": logical_or, "xor": logical_xor}
    for name, fn in table.items():
        op, rop = binary(fn)
        setattr(Tensor, f"__{name}__", op)
        setattr(Tensor, f"__r{name}__", rop)
    for name, fn in {"lt": less, "le": less_equal, "gt": greater, "ge": greater_equal}.items():
        setattr(Tensor, f"__{name}__", binary(fn)[0])
    Tensor.__neg__ = lambda self: negative(self)
    Tensor.__abs__ = lambda self: abs(self)
    Tensor.__invert__ = lambda self: logical_not(self)


_install_operators()
