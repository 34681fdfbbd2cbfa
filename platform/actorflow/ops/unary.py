"""Elementwise functions of one tensor and the fused gradients of tanh and sigmoid.

Registers: Abs, Sign, Sqrt, Rsqrt, Exp, Log, Log1p, Sin, Cos, Tanh, Sigmoid, Reciprocal, Floor,
Ceil, Round, TanhGrad, SigmoidGrad, Erf. Also defines `log_sigmoid` (a composition).

Every kernel returns exactly the input's dtype; the float-only functions reject integer inputs
at graph construction (TF 1.x). Negation and squaring live with the arithmetic in ops/math.py.
"""
from __future__ import annotations

import math

import numpy as np

from ..framework.graph import Tensor, convert_to_tensor, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import binary_op, same_as_input, ufunc_kernel, unary_op
from .math import (_binary_infer, _check_numeric, _scalar_safe, add, divide, multiply, negative,
                   square, subtract)

__all__ = ["abs", "sign", "sqrt", "rsqrt", "exp", "log", "log1p", "sin", "cos", "tanh",
           "sigmoid", "reciprocal", "floor", "ceil", "round", "log_sigmoid", "erf"]


# -- shape rules ---------------------------------------------------------------------------
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


# -- log_sigmoid (a composition) -----------------------------------------------------------
def log_sigmoid(x, name=None) -> Tensor:
    """log(1 / (1 + exp(-x))), computed stably as -softplus(-x)."""
    from .nn import softplus
    with name_scope(name, "LogSigmoid", [x]):
        x = convert_to_tensor(x, name="x")
        return negative(softplus(negative(x)))


# -- Erf: a host kernel --------------------------------------------------------------------
def _erf_kernel(op, ctx):
    """A HOST kernel: the error function has no NumPy ufunc (and SciPy is not a dependency),
    so each element goes through Python's `math.erf` (correctly rounded in float64), on the
    host: device arrays are copied to the host and back. Slow for large tensors."""
    xp = ctx.xp
    dt = op.outputs[0].dtype.np
    to_host = getattr(xp, "asnumpy", np.asarray)
    host_erf = np.vectorize(math.erf, otypes=[np.float64])

    def erf_(x):
        return xp.asarray(host_erf(to_host(x)).astype(dt, copy=False))
    return erf_


def _erf_grad(op, grad):
    """Returns grad * 2 / √π * exp(-x²)."""
    x = op.inputs[0]
    return [multiply(grad, multiply(convert_to_tensor(2.0 / math.sqrt(math.pi), dtype=x.dtype),
                                    exp(negative(square(x)))))]


register_op("Erf", infer=_float_infer, grad=_erf_grad, kernel=_erf_kernel,
            doc="The error function 2/√π ∫₀ˣ e^(-t²) dt elementwise (a host kernel).")


def erf(x, name=None) -> Tensor:
    """The error function elementwise (computed on the host with math.erf)."""
    return unary_op("Erf", x, name or "Erf")
