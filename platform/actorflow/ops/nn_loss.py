"""Softmax and the losses on logits (part of `tf.nn`): softmax, log_softmax and the fused
cross entropies (softmax, sparse softmax, sigmoid), plus the composite weighted sigmoid cross
entropy and log-Poisson loss.

Registers: Softmax, SoftmaxGrad, LogSoftmax, LogSoftmaxGrad, SoftmaxCrossEntropyWithLogits,
SparseSoftmaxCrossEntropyWithLogits, SigmoidCrossEntropyWithLogits.

The cross entropies return their ``backprop`` (the logits gradient) as a second output, so the
backward pass reuses it instead of recomputing the softmax.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, convert_to_tensor, make_op
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import out1, static_axis
from .math import add, multiply, negative, subtract
from .reduction import reduce_sum
from .nn import _float_infer, _grad_pair_infer, _merge_shapes, softplus

__all__ = ["softmax", "log_softmax", "softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits_v2", "sparse_softmax_cross_entropy_with_logits",
           "sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits",
           "log_poisson_loss"]


# -- shared rules --------------------------------------------------------------------------
def _is_zero(g) -> bool:
    """True when an output gradient is absent (None or the zeros `gradients` fills in)."""
    return g is None or g.op.type == "ZerosLike"


def _keep_dims_shape(shape, axis: int):
    """`shape` with `axis` restored as size 1 (inverse of reducing it away)."""
    s = list(shape)
    s.insert(axis, 1)
    return s


def _expand_at(g: Tensor, like: Tensor, axis: int) -> Tensor:
    """`g` (the reduction of `like` over `axis`) reshaped to keep-dims form for broadcasting."""
    from .array import reshape, shape
    xs = like._shape
    if xs is not None and None not in xs:
        return reshape(g, _keep_dims_shape([d for i, d in enumerate(xs)
                                            if i != axis % len(xs)], axis % len(xs)))
    return out1("ReshapeToReduced", [g, shape(like)], {"axes": [axis]}, "ReshapeToReduced")


# -- Softmax / LogSoftmax ------------------------------------------------------------------
def _axis_infer(op):
    """Inference rule of ops with an `axis` attr: a float input, output like it."""
    out = _float_infer(op)
    x = op.inputs[0]
    if x._shape is not None:
        if not x._shape:
            raise ValueError(f"{op.type} expects a tensor of rank >= 1, got a scalar")
        static_axis(op.attrs["axis"], len(x._shape))
    return out


def _softmax_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def softmax_(x):
        e = x - x.max(axis=axis, keepdims=True)
        xp.exp(e, out=e)
        e /= e.sum(axis=axis, keepdims=True)
        return e
    return softmax_


def _softmax_grad_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def softmax_grad(g, y):
        gy = xp.multiply(g, y)
        s = gy.sum(axis=axis, keepdims=True)
        xp.subtract(g, s, out=gy)
        gy *= y
        return gy
    return softmax_grad


def _softmax_grad(op, grad):
    """Returns (grad - Σ(grad · y)) · y along the axis, y = softmax(x) (the saved output)."""
    return [softmax_grad(grad, op.outputs[0], op.attrs["axis"])]


def softmax_grad(grad, y, axis: int = -1) -> Tensor:
    """The fused softmax gradient (g - Σ g·y) · y from the softmax output `y`."""
    return out1("SoftmaxGrad", [grad, y], {"axis": axis}, "SoftmaxGrad")


def _log_softmax_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def log_softmax_(x):
        s = x - x.max(axis=axis, keepdims=True)
        e = xp.exp(s)
        lse = e.sum(axis=axis, keepdims=True)
        s -= xp.log(lse, out=lse)
        return s
    return log_softmax_


def _log_softmax_grad_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def log_softmax_grad(g, y):
        e = xp.exp(y)
        e *= g.sum(axis=axis, keepdims=True)
        return xp.subtract(g, e, out=e)
    return log_softmax_grad


def _log_softmax_grad(op, grad):
    """Returns grad - exp(y) · Σ grad along the axis, y = log_softmax(x) (the saved output)."""
    return [out1("LogSoftmaxGrad", [grad, op.outputs[0]], {"axis": op.attrs["axis"]},
                 "LogSoftmaxGrad")]


register_op("Softmax", infer=_axis_infer, grad=_softmax_grad, kernel=_softmax_kernel,
            doc="exp(x - max x) / Σ exp(x - max x) along `axis`.")
register_op("SoftmaxGrad", infer=_grad_pair_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_softmax_grad_kernel, doc="(g - Σ g·y) · y: the Softmax gradient from y.")
register_op("LogSoftmax", infer=_axis_infer, grad=_log_softmax_grad, kernel=_log_softmax_kernel,
            doc="x - max x - log Σ exp(x - max x) along `axis`.")
register_op("LogSoftmaxGrad", infer=_grad_pair_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_log_softmax_grad_kernel,
            doc="g - exp(y) · Σ g: the LogSoftmax gradient from y.")


def _axis_arg(axis, dim, default: int = -1) -> int:
    if axis is not None and dim is not None and axis != dim:
        raise ValueError(f"Cannot specify both 'axis' ({axis}) and 'dim' ({dim})")
    a = axis if axis is not None else dim
    return default if a is None else int(a)


def softmax(logits, dim=-1, name=None, axis=None) -> Tensor:
    """exp(logits) / Σ exp(logits) along `dim` (the last axis by default), overflow-free."""
    a = _axis_arg(axis, None if dim == -1 and axis is not None else dim)
    return out1("Softmax", [convert_to_tensor(logits)], {"axis": a}, name or "Softmax")


def log_softmax(logits, dim=-1, name=None, axis=None) -> Tensor:
    """logits - log Σ exp(logits) along `dim` (the last axis by default), overflow-free."""
    a = _axis_arg(axis, None if dim == -1 and axis is not None else dim)
    return out1("LogSoftmax", [convert_to_tensor(logits)], {"axis": a}, name or "LogSoftmax")


# -- SoftmaxCrossEntropyWithLogits / SparseSoftmaxCrossEntropyWithLogits -------------------
def _without_axis(shape, axis: int):
    if shape is None:
        return None
    a = static_axis(axis, len(shape))
    return tuple(d for i, d in enumerate(shape) if i != a)


def _sce_infer(op):
    x, z = op.inputs
    if not x.dtype.is_floating:
        raise TypeError(f"logits must be floating point, got {x.dtype.name}")
    if z.dtype != x.dtype:
        raise TypeError(f"labels are {z.dtype.name} but logits are {x.dtype.name}")
    shape = _merge_shapes(x._shape, z._shape, "logits and labels must be same size")
    if shape is not None and not shape:
        raise ValueError("logits must have rank >= 1, got a scalar")
    return [(x.dtype, _without_axis(shape, op.attrs["axis"])), (x.dtype, shape)]


def _sce_rows(xp, x2, z2):
    """(loss, backprop) of 2-D logits and labels along axis 1; one N×C temporary."""
    e = x2 - x2.max(axis=1, keepdims=True)  # shifted logits: exp cannot overflow
    zx = xp.einsum("ij,ij->i", z2, e)
    xp.exp(e, out=e)
    s = e.sum(axis=1)
    zsum = z2.sum(axis=1)
    loss = xp.log(s)
    loss *= zsum
    loss -= zx  # Σ z·(log Σ exp - shifted)
    zsum /= s
    e *= zsum[:, None]
    e -= z2  # softmax · Σ labels - labels (softmax - labels for distributions)
    return loss, e


def _sce_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]
    x_shape = op.inputs[0]._shape

    def check(x, z):
        if x.shape != z.shape:
            raise errors.InvalidArgumentError(
                None, op, f"{op.type} op '{op.name}': logits and labels must be same size: "
                f"logits_size={list(x.shape)} labels_size={list(z.shape)}")

    def softmax_cross_entropy_2d(x, z):
        if x.shape != z.shape:
            check(x, z)
        return _sce_rows(xp, x, z)

    def softmax_cross_entropy(x, z):
        check(x, z)
        moved = axis % x.ndim != x.ndim - 1
        if moved:
            x, z = xp.moveaxis(x, axis, -1), xp.moveaxis(z, axis, -1)
        c = x.shape[-1]
        loss, e = _sce_rows(xp, x.reshape(-1, c), z.reshape(-1, c))
        backprop = e.reshape(x.shape)
        if moved:
            backprop = xp.ascontiguousarray(xp.moveaxis(backprop, -1, axis))
        return loss.reshape(x.shape[:-1]), backprop

    if x_shape is not None and len(x_shape) == 2 and axis in (-1, 1):
        return softmax_cross_entropy_2d
    return softmax_cross_entropy


def _sce_grad(op, grad_loss, grad_backprop):
    """Returns (g·backprop, -g·log_softmax(x)), g = grad_loss broadcast along the axis and
    backprop = softmax(x)·Σz - z the saved output.

    A gradient b reaching `backprop` (second derivatives) adds Σz·(b - Σ b·p)·p for the logits
    and Σ b·p - b for the labels (p = softmax(x)).
    """
    x, z = op.inputs
    axis = op.attrs["axis"]
    g = _expand_at(grad_loss, x, axis)
    gx = multiply(g, op.outputs[1])
    gz = negative(multiply(g, log_softmax(x, axis=axis)))
    if not _is_zero(grad_backprop):
        p = softmax(x, axis=axis)
        zsum = reduce_sum(z, axis, keep_dims=True)
        gx = add(gx, multiply(softmax_grad(grad_backprop, p, axis), zsum))
        bp_dot = reduce_sum(multiply(grad_backprop, p), axis, keep_dims=True)
        gz = add(gz, subtract(bp_dot, grad_backprop))
    return [gx, gz]


register_op("SoftmaxCrossEntropyWithLogits", infer=_sce_infer, grad=_sce_grad,
            kernel=_sce_kernel,
            doc="loss = -Σ labels · log_softmax(logits) along `axis`; backprop = "
                "softmax · Σ labels - labels.")


def _sparse_sce_infer(op):
    x, t = op.inputs
    if not x.dtype.is_floating:
        raise TypeError(f"logits must be floating point, got {x.dtype.name}")
    if t.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"labels must be int32 or int64, got {t.dtype.name}")
    if x._shape is not None and not x._shape:
        raise ValueError("logits must have rank >= 1, got a scalar")
    lead = None if x._shape is None else x._shape[:-1]
    if lead is not None and t._shape is not None and len(t._shape) != len(lead):
        raise ValueError(f"Rank mismatch: Rank of labels (received {len(t._shape)}) should "
                         f"equal rank of logits minus 1 (received {len(x._shape)}).")
    lead = _merge_shapes(lead, t._shape, "labels and logits batch dimensions")
    full = None if lead is None else lead + ((x._shape[-1],) if x._shape else (None,))
    return [(x.dtype, lead), (x.dtype, full)]


def _sparse_sce_kernel(op, ctx):
    xp = ctx.xp

    def sparse_softmax_cross_entropy(x, t):
        c = x.shape[-1]
        if x.shape[:-1] != t.shape:
            raise errors.InvalidArgumentError(
                None, op, f"{op.type} op '{op.name}': logits and labels must have the same "
                f"first dimensions: logits shape {list(x.shape)}, labels shape {list(t.shape)}")
        x2, t1 = x.reshape(-1, c), t.reshape(-1)
        if t1.size and (int(t1.min()) < 0 or int(t1.max()) >= c):
            bad = int(t1[(t1 < 0) | (t1 >= c)][0])
            raise errors.InvalidArgumentError(
                None, op, f"{op.type} op '{op.name}': received a label value of {bad} which "
                f"is outside the valid range of [0, {c}).")
        rows = xp.arange(t1.size)
        e = x2 - x2.max(axis=1, keepdims=True)  # shifted logits: exp cannot overflow
        picked = e[rows, t1]
        xp.exp(e, out=e)
        s = e.sum(axis=1)
        loss = xp.log(s)
        loss -= picked
        e /= s[:, None]
        e[rows, t1] -= 1  # softmax - one_hot(labels)
        return loss.reshape(t.shape), e.reshape(x.shape)
    return sparse_softmax_cross_entropy


def _sparse_sce_grad(op, grad_loss, grad_backprop):
    """Returns g·(softmax(x) - one_hot(labels)), g = grad_loss broadcast along the class axis.

    A gradient reaching the `backprop` output adds the softmax Jacobian applied to it.
    """
    x = op.inputs[0]
    gx = multiply(_expand_at(grad_loss, x, -1), op.outputs[1])
    if not _is_zero(grad_backprop):
        gx = add(gx, softmax_grad(grad_backprop, softmax(x), -1))
    return [gx, None]


register_op("SparseSoftmaxCrossEntropyWithLogits", infer=_sparse_sce_infer,
            grad=_sparse_sce_grad, kernel=_sparse_sce_kernel,
            doc="loss = -log_softmax(logits)[label] per row; backprop = softmax - "
                "one_hot(label).")


def _ce_args(_sentinel, labels, logits, fn: str):
    if _sentinel is not None:
        raise ValueError(f"Only call `{fn}` with named arguments (labels=..., logits=..., ...)")
    if labels is None or logits is None:
        raise ValueError(f"Both labels and logits must be provided to `{fn}`.")
    logits = convert_to_tensor(logits, name="logits")
    return logits


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None) -> Tensor:
    """-Σ labels · log softmax(logits) along `dim`, one fused op; no gradient into labels.

    Raises:
        ValueError: positional arguments, a missing argument, or mismatched shapes.
    """
    from .array import stop_gradient
    logits = _ce_args(_sentinel, labels, logits, "softmax_cross_entropy_with_logits")
    labels = stop_gradient(convert_to_tensor(labels, dtype=logits.dtype, name="labels"))
    return _sce(logits, labels, dim, name)


def softmax_cross_entropy_with_logits_v2(_sentinel=None, labels=None, logits=None, dim=-1,
                                         name=None) -> Tensor:
    """As `softmax_cross_entropy_with_logits`, with gradients into labels as well."""
    logits = _ce_args(_sentinel, labels, logits, "softmax_cross_entropy_with_logits_v2")
    labels = convert_to_tensor(labels, dtype=logits.dtype, name="labels")
    return _sce(logits, labels, dim, name)


def _sce(logits, labels, dim, name):
    op = make_op("SoftmaxCrossEntropyWithLogits", [logits, labels], {"axis": int(dim)},
                 name or "SoftmaxCrossEntropyWithLogits")
    return op.outputs[0]


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None) -> Tensor:
    """-log softmax(logits)[labels] per example, one fused op.

    Args:
        labels: int32/int64 class indices of shape logits.shape[:-1], each in [0, classes);
            an index outside that range raises InvalidArgumentError when the op runs.
        logits: float tensor [..., classes].

    Raises:
        ValueError: positional arguments, a missing argument, or a rank mismatch.
    """
    logits = _ce_args(_sentinel, labels, logits, "sparse_softmax_cross_entropy_with_logits")
    labels = convert_to_tensor(labels, name="labels")
    op = make_op("SparseSoftmaxCrossEntropyWithLogits", [logits, labels], None,
                 name or "SparseSoftmaxCrossEntropyWithLogits")
    return op.outputs[0]


# -- SigmoidCrossEntropyWithLogits ---------------------------------------------------------
def _sigmoid_ce_infer(op):
    x, z = op.inputs
    if not x.dtype.is_floating:
        raise TypeError(f"logits must be floating point, got {x.dtype.name}")
    if z.dtype != x.dtype:
        raise TypeError(f"labels are {z.dtype.name} but logits are {x.dtype.name}")
    shape = _merge_shapes(x._shape, z._shape, "logits and labels must have the same shape")
    return [(x.dtype, shape), (x.dtype, shape)]


def _sigmoid_ce_kernel(op, ctx):
    xp = ctx.xp

    def sigmoid_cross_entropy(x, z):
        if x.shape != z.shape:
            raise errors.InvalidArgumentError(
                None, op, f"{op.type} op '{op.name}': logits and labels must have the same "
                f"shape: {list(x.shape)} vs {list(z.shape)}")
        if x.ndim == 0:  # NumPy's ufuncs give 0-d inputs scalars, which take no out=
            loss, backprop = sigmoid_cross_entropy(x.reshape(1), z.reshape(1))
            return loss.reshape(()), backprop.reshape(())
        t = xp.abs(x)
        xp.negative(t, out=t)
        xp.exp(t, out=t)  # exp(-|x|) in (0, 1]
        backprop = xp.where(x >= 0, 1, t).astype(x.dtype, copy=False)
        d = t + 1
        backprop /= d  # sigmoid(x), stable for either sign
        backprop -= z
        xp.log1p(t, out=d)
        loss = xp.maximum(x, 0)
        loss -= xp.multiply(x, z, out=t)
        loss += d  # max(x, 0) - x·z + log(1 + exp(-|x|))
        return loss, backprop
    return sigmoid_cross_entropy


def _sigmoid_ce_grad(op, grad_loss, grad_backprop):
    """Returns (g·(sigmoid(x) - z), -g·x); backprop = sigmoid(x) - z is the saved output.

    A gradient reaching `backprop` adds grad_backprop·s·(1 - s) (s = sigmoid(x)) for the
    logits and -grad_backprop for the labels.
    """
    x, z = op.inputs
    bp = op.outputs[1]
    gx = multiply(grad_loss, bp)
    gz = negative(multiply(grad_loss, x))
    if not _is_zero(grad_backprop):
        s = add(bp, z)
        gx = add(gx, multiply(grad_backprop, multiply(s, subtract(1.0, s))))
        gz = subtract(gz, grad_backprop)
    return [gx, gz]


register_op("SigmoidCrossEntropyWithLogits", infer=_sigmoid_ce_infer, grad=_sigmoid_ce_grad,
            kernel=_sigmoid_ce_kernel,
            doc="loss = max(x, 0) - x·z + log(1 + exp(-|x|)); backprop = sigmoid(x) - z.")


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                      name=None) -> Tensor:
    """Elementwise logistic loss z·-log(sigmoid(x)) + (1-z)·-log(1-sigmoid(x)), overflow-free.

    Raises:
        ValueError: positional arguments, a missing argument, or mismatched shapes.
    """
    logits = _ce_args(_sentinel, labels, logits, "sigmoid_cross_entropy_with_logits")
    labels = convert_to_tensor(labels, dtype=logits.dtype, name="labels")
    op = make_op("SigmoidCrossEntropyWithLogits", [logits, labels], None,
                 name or "logistic_loss")
    return op.outputs[0]


def weighted_cross_entropy_with_logits(targets, logits, pos_weight, name=None) -> Tensor:
    """Logistic loss with positives weighted by `pos_weight`:
    (1 - z)·x + (1 + (pos_weight - 1)·z)·softplus(-x)."""
    logits = convert_to_tensor(logits, name="logits")
    targets = convert_to_tensor(targets, dtype=logits.dtype, name="targets")
    log_weight = add(multiply(subtract(pos_weight, 1.0), targets), 1.0) \
        if isinstance(pos_weight, Tensor) else \
        add(multiply(targets, float(pos_weight) - 1.0), 1.0)
    return add(multiply(subtract(1.0, targets), logits),
               multiply(log_weight, softplus(negative(logits))), name=name or "logistic_loss")


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None) -> Tensor:
    """exp(log_input) - log_input·targets (+ Stirling's term for targets > 1 when full)."""
    from .unary import exp, log
    log_input = convert_to_tensor(log_input, name="log_input")
    targets = convert_to_tensor(targets, dtype=log_input.dtype, name="targets")
    result = subtract(exp(log_input), multiply(log_input, targets))
    if not compute_full_loss:
        return result if name is None else add(result, 0.0, name=name)
    from .constant import zeros_like
    from .logic import greater, where
    big = greater(targets, 1.0)
    safe = where(big, targets, zeros_like(targets) + 2.0)  # log() only of values > 1
    stirling = add(subtract(multiply(safe, log(safe)), safe),
                   multiply(log(multiply(safe, 2.0 * np.pi)), 0.5))
    return add(result, where(big, stirling, zeros_like(targets)), name=name or "log_poisson")
