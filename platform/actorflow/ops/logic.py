"""Comparisons, logic and selection: bool-valued elementwise ops and `where`.

Registers: Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual, LogicalAnd, LogicalOr,
LogicalNot, IsFinite, IsNan, IsInf, Select, Where. None is differentiable except Select
(the gradient flows to the branch each element was taken from).

Comparison operands share one dtype (a Python number takes the other operand's dtype); logical
ops take bool tensors only.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import binary_args, binary_op, broadcast_shapes, out1, ufunc_kernel, unary_op
from .math import _binary_infer
from .unary import _float_infer

__all__ = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "logical_and", "logical_or", "logical_not", "logical_xor", "where",
           "is_finite", "is_nan", "is_inf"]


# -- shape rules ---------------------------------------------------------------------------
def _compare_infer(op):
    """Comparison: operands share a dtype; a bool result of the broadcast shape."""
    return [(dtypes.bool, _binary_infer(op)[0][1])]


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


# -- IsFinite / IsNan / IsInf --------------------------------------------------------------
for _type, _fname, _doc in [
        ("IsFinite", "isfinite", "True where x is neither infinite nor NaN."),
        ("IsNan", "isnan", "True where x is NaN."),
        ("IsInf", "isinf", "True where x is +inf or -inf.")]:
    register_op(_type, infer=_float_test_infer, grad=NOT_DIFFERENTIABLE,
                kernel=ufunc_kernel(_fname), doc=_doc)
del _type, _fname, _doc


def is_finite(x, name=None) -> Tensor:
    """True where x is neither infinite nor NaN."""
    return unary_op("IsFinite", x, name or "IsFinite")


def is_nan(x, name=None) -> Tensor:
    """True where x is NaN."""
    return unary_op("IsNan", x, name or "IsNan")


def is_inf(x, name=None) -> Tensor:
    """True where x is +inf or -inf."""
    return unary_op("IsInf", x, name or "IsInf")


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
