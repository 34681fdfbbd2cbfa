"""Cases for the math families (ops/math.py, unary.py, logic.py, reduction.py, linalg.py)
beyond the core ops in core.py: division, unary and binary functions, comparisons and logic,
selection, clipping, cumulative ops, batched matmul, reductions and arg-reductions, and the
gradient helper ops."""
import numpy as np

import actorflow as tf
from actorflow.ops import math as math_ops
from actorflow.ops import unary as unary_ops
from actorflow.ops._common import out1

from . import OpCase, randn, randu


def _ints(*shape, low=-9, high=10, seed=0, dtype=np.int32):
    return np.random.default_rng(seed).integers(low, high, shape).astype(dtype)


def _bools(*shape, seed=0):
    return np.random.default_rng(seed).random(shape) < 0.5


def _distinct(*shape, seed=0):
    """Values with no ties (max/min gradients are ambiguous at ties)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.37 - n * 0.15).reshape(shape)


def _sigmoid(x):
    """An overflow-free reference: exp(min(x, 0)) / (1 + exp(-|x|))."""
    return np.exp(np.minimum(x, 0)) / (1 + np.exp(-np.abs(x)))


def _cum(fn, identity, axis, exclusive=False, reverse=False):
    def ref(x):
        x = np.flip(x, axis) if reverse else x
        out = fn(x, axis=axis)
        if exclusive:
            pad = np.full_like(np.take(out, [0], axis=axis), identity)
            out = np.concatenate([pad, np.delete(out, -1, axis=axis)], axis=axis)
        return np.flip(out, axis) if reverse else out
    return ref


def _logsumexp(x, axis, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


_UNARY = [  # (op type, function, reference, input)
    ("Abs", tf.abs, np.abs, randn(2, 3)),
    ("Sign", tf.sign, np.sign, randn(2, 3)),
    ("Sqrt", tf.sqrt, np.sqrt, randu(2, 3)),
    ("Rsqrt", tf.rsqrt, lambda x: 1 / np.sqrt(x), randu(2, 3)),
    ("Exp", tf.exp, np.exp, randn(2, 3)),
    ("Log", tf.log, np.log, randu(2, 3)),
    ("Log1p", tf.log1p, np.log1p, randu(2, 3, low=-0.5, high=1.0)),
    ("Sin", tf.sin, np.sin, randn(2, 3)),
    ("Cos", tf.cos, np.cos, randn(2, 3)),
    ("Tanh", tf.tanh, np.tanh, randn(2, 3)),
    ("Sigmoid", tf.sigmoid, _sigmoid, randn(2, 3) * 3),
    ("Reciprocal", tf.reciprocal, np.reciprocal, randu(2, 3)),
]

_SPECIAL = np.array([0.5, 1.5, 2.5, -0.5, -1.7, 2.2, np.inf, -np.inf, np.nan, 0.0])


def _np_erf(x):
    import math
    return np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype)


CASES = [OpCase(t, fn, [x], reference=ref) for t, fn, ref, x in _UNARY] + [
    # -- unary: dtypes, scalars and extremes ------------------------------------------------
    OpCase("Abs", tf.abs, [_ints(5)], reference=np.abs, grad=False, name="int32"),
    OpCase("Sign", tf.sign, [_ints(5, dtype=np.int64)], reference=np.sign, grad=False,
           name="int64"),
    OpCase("Sigmoid", tf.sigmoid,
           [np.array([-1000.0, -80.0, -30.0, -1.0, 0.0, 1.0, 30.0, 80.0, 1000.0], np.float32)],
           reference=lambda x: _sigmoid(x.astype(np.float64)).astype(np.float32), grad=False,
           atol=1e-38, rtol=1e-6, name="extremes-float32"),
    OpCase("Sigmoid", tf.sigmoid, [np.array(0.3)], reference=_sigmoid, name="scalar"),
    OpCase("Sigmoid", tf.sigmoid, [np.array([-20.0, -9.0, -1.0, 0.0, 4.0, 12.0], np.float16)],
           reference=lambda x: _sigmoid(x.astype(np.float64)).astype(np.float16), grad=False,
           atol=0, rtol=1e-3, name="float16"),
    OpCase("Tanh", tf.tanh, [np.array(-0.4)], reference=np.tanh, name="scalar"),
    OpCase("Floor", tf.floor, [_SPECIAL], reference=np.floor, grad=False),
    OpCase("Ceil", tf.ceil, [_SPECIAL], reference=np.ceil, grad=False),
    OpCase("Round", tf.round, [_SPECIAL], reference=np.round, grad=False),
    OpCase("IsFinite", tf.is_finite, [_SPECIAL], reference=np.isfinite, grad=False),
    OpCase("IsNan", tf.is_nan, [_SPECIAL], reference=np.isnan, grad=False),
    OpCase("IsInf", tf.is_inf, [_SPECIAL], reference=np.isinf, grad=False),
    # -- fused gradient helpers -----------------------------------------------------------------
    OpCase("TanhGrad", unary_ops.tanh_grad, [np.tanh(randn(2, 3)), randn(2, 3, seed=1)],
           reference=lambda y, g: g * (1 - y * y)),
    OpCase("SigmoidGrad", unary_ops.sigmoid_grad, [_sigmoid(randn(2, 3)), randn(2, 3, seed=1)],
           reference=lambda y, g: g * y * (1 - y)),
    OpCase("TanhGrad", lambda x: tf.gradients(tf.tanh(x), x)[0], [randn(3)],
           reference=lambda x: 1 - np.tanh(x) ** 2, name="second-order"),
    OpCase("SigmoidGrad", lambda x: tf.gradients(tf.sigmoid(x), x)[0], [randn(3)],
           reference=lambda x: _sigmoid(x) * (1 - _sigmoid(x)), name="second-order"),
    # -- division ------------------------------------------------------------------------------
    OpCase("FloorDiv", lambda x, y: x // y, [_ints(2, 4), np.array([3, -3, 4, -2], np.int32)],
           reference=np.floor_divide, grad=False, name="int32"),
    OpCase("FloorDiv", tf.floordiv, [randn(2, 3) * 4, randu(3, seed=1)],
           reference=np.floor_divide, grad=False, name="float"),
    OpCase("FloorDiv", tf.div, [_ints(5, dtype=np.int64), np.array(2, np.int64)],
           reference=np.floor_divide, grad=False, name="div-int64"),
    OpCase("RealDiv", tf.div, [randn(2, 3), randu(2, 3, seed=1)], reference=np.divide,
           name="div-float"),
    OpCase("FloorMod", lambda x, y: x % y, [_ints(2, 4), np.array([3, -3, 4, -2], np.int32)],
           reference=np.mod, grad=False, name="int32"),
    OpCase("FloorMod", tf.mod, [np.array([[2.3, -1.7, 5.4], [-4.1, 0.8, 3.3]]),
                                np.array([1.1, 0.9, -2.5])],
           reference=np.mod),
    # -- binary functions ---------------------------------------------------------------------
    OpCase("Pow", tf.pow, [randu(2, 3), randn(3, seed=1)], reference=np.power),
    OpCase("Pow", lambda x, y: x ** y, [_ints(4, low=-3, high=4), np.array([0, 1, 2, 3],
                                                                            np.int32)],
           reference=np.power, grad=False, name="int32"),
    OpCase("Pow", lambda x: 2.0 ** x, [randn(3)], reference=lambda x: 2.0 ** x, name="rpow"),
    OpCase("Maximum", tf.maximum, [randn(2, 3), randn(3, seed=1)], reference=np.maximum),
    OpCase("Minimum", tf.minimum, [randn(2, 3), randn(2, 1, seed=1)], reference=np.minimum),
    OpCase("Maximum", tf.maximum, [_ints(2, 3), _ints(3, seed=1)], reference=np.maximum,
           grad=False, name="int32"),
    OpCase("SquaredDifference", tf.squared_difference, [randn(2, 3), randn(3, seed=1)],
           reference=lambda x, y: (x - y) ** 2),
    # -- comparisons and logic ----------------------------------------------------------------
    OpCase("Equal", tf.equal, [_ints(2, 3, low=0, high=3), _ints(3, low=0, high=3, seed=1)],
           reference=np.equal, grad=False),
    OpCase("NotEqual", tf.not_equal, [_ints(2, 3, low=0, high=3),
                                      _ints(2, 1, low=0, high=3, seed=1)],
           reference=np.not_equal, grad=False),
    OpCase("Less", lambda x, y: x < y, [randn(2, 3), randn(3, seed=1)], reference=np.less,
           grad=False),
    OpCase("LessEqual", lambda x, y: x <= y, [_ints(4), _ints(4, seed=1)],
           reference=np.less_equal, grad=False),
    OpCase("Greater", lambda x: x > 0.0, [randn(2, 3)], reference=lambda x: x > 0, grad=False),
    OpCase("GreaterEqual", tf.greater_equal, [randn(2, 3), randn(2, 3, seed=1)],
           reference=np.greater_equal, grad=False),
    OpCase("LogicalAnd", lambda x, y: x & y, [_bools(2, 3), _bools(3, seed=1)],
           reference=np.logical_and, grad=False),
    OpCase("LogicalOr", tf.logical_or, [_bools(2, 3), _bools(2, 3, seed=1)],
           reference=np.logical_or, grad=False),
    OpCase("LogicalNot", lambda x: ~x, [_bools(5)], reference=np.logical_not, grad=False),
    OpCase("NotEqual", tf.logical_xor, [_bools(2, 3), _bools(2, 3, seed=1)],
           reference=np.logical_xor, grad=False, name="logical_xor"),
    # -- selection and clipping ----------------------------------------------------------------
    OpCase("Select", tf.where, [_bools(2, 3), randn(2, 3), randn(2, 3, seed=1)],
           reference=np.where),
    OpCase("Select", tf.where, [_bools(3), randn(3, 2), randn(3, 2, seed=1)],
           reference=lambda c, x, y: np.where(c[:, None], x, y), name="rows"),
    OpCase("Select", lambda c, x: tf.where(c, x, -x), [_bools(4), _ints(4)],
           reference=lambda c, x: np.where(c, x, -x), grad=False, name="int32"),
    OpCase("Select", tf.where, [np.array(False), randn(2, 3), randn(2, 3, seed=1)],
           reference=lambda c, x, y: y, name="scalar-condition"),
    OpCase("Where", tf.where, [_bools(2, 3)],
           reference=lambda c: np.argwhere(c).astype(np.int64), grad=False),
    OpCase("Where", lambda c: tf.where(c), [_bools(2, 2, 3, seed=2)],
           reference=lambda c: np.argwhere(c).astype(np.int64), grad=False, name="rank3"),
    OpCase("ClipByValue", lambda t, lo, hi: tf.clip_by_value(t, lo, hi),
           [randn(2, 3) * 2, np.array(-0.5), np.array([0.4, 0.8, 1.2])],
           reference=lambda t, lo, hi: np.clip(t, lo, hi)),
    OpCase("ClipByValue", lambda t: tf.clip_by_value(t, -2, 3), [_ints(6)],
           reference=lambda t: np.clip(t, -2, 3), grad=False, name="int32"),
    OpCase("ClipByValue", lambda t: tf.clip_by_value(t, -0.5, 0.5), [np.array(0.8)],
           reference=lambda t: np.clip(t, -0.5, 0.5), name="scalar"),
    # -- cumulative ------------------------------------------------------------------------------
    OpCase("Cumsum", lambda x: tf.cumsum(x, axis=1), [randn(2, 4)],
           reference=_cum(np.cumsum, 0, 1)),
    OpCase("Cumsum", lambda x: tf.cumsum(x, axis=0, exclusive=True, reverse=True),
           [randn(3, 2)], reference=_cum(np.cumsum, 0, 0, True, True), name="exclusive-reverse"),
    OpCase("Cumsum", lambda x: tf.cumsum(x, axis=-1, exclusive=True), [_ints(2, 4)],
           reference=_cum(np.cumsum, 0, 1, True), grad=False, name="int32-exclusive"),
    OpCase("Cumprod", lambda x: tf.cumprod(x, axis=1), [randu(2, 4)],
           reference=_cum(np.cumprod, 1, 1)),
    OpCase("Cumprod", lambda x: tf.cumprod(x, axis=0, exclusive=True, reverse=True),
           [randu(3, 2)], reference=_cum(np.cumprod, 1, 0, True, True), name="exclusive-reverse"),
    OpCase("Cumprod", lambda x: tf.cumprod(x, reverse=True), [_ints(4, low=1, high=4)],
           reference=_cum(np.cumprod, 1, 0, False, True), grad=False, name="int32-reverse"),
    # -- batched matmul -------------------------------------------------------------------------
    OpCase("BatchMatMul", tf.matmul, [randn(2, 2, 3), randn(2, 3, 4, seed=1)],
           reference=np.matmul),
    OpCase("BatchMatMul", lambda a, b: tf.matmul(a, b, adjoint_a=True, adjoint_b=True),
           [randn(2, 3, 2), randn(2, 4, 3, seed=1)],
           reference=lambda a, b: np.swapaxes(a, 1, 2) @ np.swapaxes(b, 1, 2), name="adj"),
    OpCase("BatchMatMul", lambda a, b: tf.matmul(a, b, transpose_b=True),
           [randn(2, 1, 2, 3), randn(3, 4, 3, seed=1)],
           reference=lambda a, b: a @ np.swapaxes(b, -1, -2), name="broadcast"),
    OpCase("BatchMatMul", lambda a, b: tf.matmul(a, b, transpose_a=True),
           [randn(3, 2), randn(2, 3, 4, seed=1)], reference=lambda a, b: a.T @ b,
           name="rank2-rank3"),
    OpCase("BatchMatMul", tf.matmul, [_ints(2, 2, 3), _ints(2, 3, 2, seed=1)],
           reference=np.matmul, grad=False, name="int32"),
    # -- reductions ------------------------------------------------------------------------------
    OpCase("Max", lambda x: tf.reduce_max(x, axis=1), [_distinct(2, 3)],
           reference=lambda x: x.max(1)),
    OpCase("Max", lambda x: tf.reduce_max(x, reduction_indices=[0, 2], keep_dims=True),
           [_distinct(2, 3, 2)], reference=lambda x: x.max((0, 2), keepdims=True),
           name="keep"),
    OpCase("Max", tf.reduce_max, [np.array([[1.0, 3.0], [3.0, 2.0]])],
           reference=np.max, name="ties"),
    OpCase("Min", lambda x: tf.reduce_min(x, axis=-1, keepdims=True), [_distinct(2, 3)],
           reference=lambda x: x.min(-1, keepdims=True)),
    OpCase("Min", lambda x: tf.reduce_min(x, axis=0), [_ints(3, 4)],
           reference=lambda x: x.min(0), grad=False, name="int32"),
    OpCase("Prod", lambda x: tf.reduce_prod(x, axis=1), [randn(2, 3)],
           reference=lambda x: x.prod(1)),
    OpCase("Prod", lambda x: tf.reduce_prod(x, axis=[0, 2], keep_dims=True),
           [np.array([[[1.5, 0.0], [0.7, 2.0]], [[-1.2, 0.0], [0.9, 1.1]]])],
           reference=lambda x: x.prod((0, 2), keepdims=True), name="zeros-two-axes"),
    OpCase("Prod", tf.reduce_prod, [randu(2, 3)], reference=np.prod, name="all"),
    OpCase("Prod", lambda x: tf.reduce_prod(x, 0), [_ints(3, 2, low=-3, high=4)],
           reference=lambda x: x.prod(0, dtype=np.int32), grad=False, name="int32"),
    OpCase("All", lambda x: tf.reduce_all(x, axis=1), [_bools(3, 4)],
           reference=lambda x: x.all(1), grad=False),
    OpCase("Any", lambda x: tf.reduce_any(x, keep_dims=True), [_bools(3, 4)],
           reference=lambda x: x.any(keepdims=True), grad=False),
    OpCase("Max", lambda x: tf.reduce_logsumexp(x, axis=1), [randn(2, 3)],
           reference=lambda x: _logsumexp(x, 1), name="logsumexp"),
    OpCase("Max", lambda x: tf.reduce_logsumexp(x, axis=[0], keepdims=True),
           [np.array([[1000.0, -1000.0], [1001.0, -np.inf]])],
           reference=lambda x: np.array([[1000.0 + np.log1p(np.e), -1000.0]]), grad=False,
           name="logsumexp-extremes"),
    OpCase("Sum", lambda x: tf.count_nonzero(x, axis=1), [_ints(3, 4, low=-1, high=2)],
           reference=lambda x: np.count_nonzero(x, axis=1).astype(np.int64), grad=False,
           name="count_nonzero"),
    OpCase("ArgMax", lambda x: tf.argmax(x, 1), [_distinct(3, 4)],
           reference=lambda x: x.argmax(1), grad=False),
    OpCase("ArgMax", lambda x: tf.argmax(x, dimension=0, output_type=tf.int32), [_ints(3, 4)],
           reference=lambda x: x.argmax(0).astype(np.int32), grad=False, name="int32"),
    OpCase("ArgMin", lambda x: tf.argmin(x, axis=-1), [_distinct(2, 3, 2)],
           reference=lambda x: x.argmin(-1), grad=False),
    # -- casts: float64 -> float32 -> float64; small values keep the float32 rounding of the
    # finite-difference steps below the gradient tolerance --------------------------------------
    OpCase("Cast", lambda x: tf.cast(tf.cast(x, tf.float32), tf.float64), [randn(2, 3) * 1e-4],
           reference=lambda x: x.astype(np.float32).astype(np.float64), name="float-roundtrip"),
    # -- gradient helpers on dynamic shapes -------------------------------------------------------
    OpCase("SumToShape",
           lambda g, x: math_ops.sum_to_shape_of(g, tf.placeholder_with_default(x, None)),
           [randn(2, 3), randn(1, 3, seed=1)], reference=lambda g, x: g.sum(0, keepdims=True),
           grad_inputs=(0,)),
    OpCase("ReshapeToReduced",
           lambda t, x: out1("ReshapeToReduced", [t, tf.shape(x)], {"axes": [1]}),
           [randn(2), randn(2, 3, seed=1)], reference=lambda t, x: t.reshape(2, 1),
           grad_inputs=(0,)),

    # -- einsum and erf ----------------------------------------------------------------------
    OpCase("Einsum", lambda a, b: tf.einsum("ij,jk->ik", a, b), [randn(2, 3), randn(3, 4, seed=1)],
           reference=lambda a, b: a @ b, name="matmul"),
    OpCase("Einsum", lambda a, b: tf.einsum("bij,bkj->bik", a, b),
           [randn(2, 2, 3), randn(2, 4, 3, seed=1)],
           reference=lambda a, b: np.einsum("bij,bkj->bik", a, b), name="batch"),
    OpCase("Einsum", lambda a, b: tf.einsum("ij,jk->k", a, b), [randn(2, 3), randn(3, 2, seed=1)],
           reference=lambda a, b: np.einsum("ij,jk->k", a, b), name="summed-within-operand"),
    OpCase("Einsum", lambda a, b: tf.einsum("...ij,jk", a, b),
           [randn(2, 2, 3), randn(3, 2, seed=1)],
           reference=lambda a, b: np.einsum("...ij,jk", a, b), name="ellipsis-implicit"),
    OpCase("Einsum", lambda a: tf.einsum("ijk->kj", a), [randn(2, 3, 2)],
           reference=lambda a: np.einsum("ijk->kj", a), name="one-operand"),
    OpCase("Einsum", lambda a, b: tf.einsum("i,j->ij", a, b), [randn(3), randn(2, seed=1)],
           reference=np.outer, name="outer"),
    OpCase("Einsum", lambda a: tf.einsum("ii", a), [randn(3, 3)], reference=np.trace,
           grad=False, name="trace"),
    OpCase("Einsum", lambda a, b: tf.einsum("ij,ij->", a, b),
           [_ints(2, 3), _ints(2, 3, seed=1)],
           reference=lambda a, b: np.einsum("ij,ij->", a, b), grad=False, name="int32"),
    OpCase("Erf", tf.erf, [randn(2, 3)], reference=_np_erf),
    OpCase("Erf", tf.erf, [randn(3).astype(np.float32) * 3], reference=_np_erf, grad=False,
           name="float32"),
]
