"""NN ops (the `tf.nn` family): activations, softmax and the fused cross entropies, dropout,
bias, L2 loss, batch normalisation, embedding lookup, in_top_k and top_k.

Kernels are written for float32 first: each does one pass per unavoidable elementwise step,
allocates as few temporaries as it can and works in place (``out=``) on its own buffers.
Gradients come from fused helper ops (ReluGrad, SoftmaxGrad, BiasAddGrad, ...) or from outputs
the forward kernel already computed (the cross entropies' ``backprop``, FusedBatchNorm's saved
statistics), so a backward pass costs about as much as its forward pass.
"""
from __future__ import annotations

import collections

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, constant_value, convert_to_tensor, make_op, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import broadcast_shapes, out1, static_axis
from .math import add, matmul, multiply, negative, reduce_mean, reduce_sum, square, subtract

__all__ = ["relu", "relu6", "leaky_relu", "elu", "softplus", "softsign", "softmax",
           "log_softmax",
           "dropout", "bias_add", "xw_plus_b", "relu_layer", "l2_loss", "l2_normalize",
           "moments", "batch_normalization", "fused_batch_norm", "embedding_lookup",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
           "weighted_cross_entropy_with_logits", "log_poisson_loss", "in_top_k", "top_k"]


# -- shared rules --------------------------------------------------------------------------
def _float_infer(op):
    """Inference rule: one output like input 0, which must be floating point."""
    x = op.inputs[0]
    if not x.dtype.is_floating:
        raise TypeError(f"{op.type} expects a floating point input, got {x.dtype.name}")
    return [(x.dtype, x._shape)]


def _real_infer(op):
    """Inference rule: one output like input 0, which must be a real number type."""
    x = op.inputs[0]
    if not (x.dtype.is_floating or x.dtype.is_integer):
        raise TypeError(f"{op.type} expects a real number input, got {x.dtype.name}")
    return [(x.dtype, x._shape)]


def _merge_shapes(a, b, what: str):
    """The more specific of two compatible static shapes; ValueError when they differ."""
    if a is None:
        return b
    if b is None:
        return a
    if len(a) != len(b) or any(x is not None and y is not None and x != y
                               for x, y in zip(a, b)):
        raise ValueError(f"{what}: shapes {list(a)} and {list(b)} are incompatible")
    return tuple(x if x is not None else y for x, y in zip(a, b))


def _grad_pair_infer(op):
    """Inference rule of `XGrad(gradients, features)` ops: the gradient's dtype and shape."""
    g, x = op.inputs
    if g.dtype != x.dtype:
        raise TypeError(f"{op.type}: gradients are {g.dtype.name} but features are "
                        f"{x.dtype.name}")
    return [(g.dtype, _merge_shapes(g._shape, x._shape, op.type))]


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


# -- Relu / Relu6 / Elu / Softplus / Softsign ----------------------------------------------
def _relu_kernel(op, ctx):
    maximum = ctx.xp.maximum

    def relu_(x):
        return maximum(x, 0)
    return relu_


def _relu_grad_kernel(op, ctx):
    multiply_ = ctx.xp.multiply

    def relu_grad(g, y):
        return multiply_(g, y > 0)
    return relu_grad


def _relu_grad(op, grad):
    """Returns grad · (y > 0), y = relu(x) (the saved output)."""
    return [out1("ReluGrad", [grad, op.outputs[0]], None, "ReluGrad")]


def _relu_grad_grad(op, grad):
    """Returns (grad · (y > 0), None): ReluGrad is linear in its gradient input."""
    return [out1("ReluGrad", [grad, op.inputs[1]], None, "ReluGrad"), None]


register_op("Relu", infer=_real_infer, grad=_relu_grad, kernel=_relu_kernel,
            doc="max(x, 0).")
register_op("ReluGrad", infer=_grad_pair_infer, grad=_relu_grad_grad, kernel=_relu_grad_kernel,
            doc="g · (y > 0): the Relu gradient from its output y.")


def _relu6_kernel(op, ctx):
    xp = ctx.xp

    def relu6_(x):
        y = xp.maximum(x, 0)
        return xp.minimum(y, 6, out=y)
    return relu6_


def _relu6_grad_kernel(op, ctx):
    xp = ctx.xp

    def relu6_grad(g, x):
        inside = x > 0
        inside &= x < 6
        return xp.multiply(g, inside)
    return relu6_grad


def _relu6_grad(op, grad):
    """Returns grad · (0 < x < 6)."""
    return [out1("Relu6Grad", [grad, op.inputs[0]], None, "Relu6Grad")]


def _relu6_grad_grad(op, grad):
    """Returns (grad · (0 < x < 6), None): Relu6Grad is linear in its gradient input."""
    return [out1("Relu6Grad", [grad, op.inputs[1]], None, "Relu6Grad"), None]


register_op("Relu6", infer=_real_infer, grad=_relu6_grad, kernel=_relu6_kernel,
            doc="min(max(x, 0), 6).")
register_op("Relu6Grad", infer=_grad_pair_infer, grad=_relu6_grad_grad,
            kernel=_relu6_grad_kernel, doc="g · (0 < x < 6): the Relu6 gradient.")


def _elu_kernel(op, ctx):
    xp = ctx.xp

    def elu_(x):
        neg = xp.minimum(x, 0)
        xp.expm1(neg, out=neg)
        neg += xp.maximum(x, 0)
        return neg
    return elu_


def _elu_grad_kernel(op, ctx):
    xp = ctx.xp

    def elu_grad(g, y):
        d = y + 1
        xp.minimum(d, 1, out=d)  # 1 where y > 0, y + 1 = exp(x) elsewhere
        d *= g
        return d
    return elu_grad


def _elu_grad(op, grad):
    """Returns grad · (1 if y > 0 else y + 1), y = elu(x) (the saved output)."""
    return [out1("EluGrad", [grad, op.outputs[0]], None, "EluGrad")]


register_op("Elu", infer=_float_infer, grad=_elu_grad, kernel=_elu_kernel,
            doc="x if x > 0 else exp(x) - 1.")
register_op("EluGrad", infer=_grad_pair_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_elu_grad_kernel, doc="g · min(y + 1, 1): the Elu gradient from y.")


def _softplus_kernel(op, ctx):
    xp = ctx.xp

    def softplus_(x):
        t = xp.abs(x)
        xp.negative(t, out=t)
        xp.exp(t, out=t)
        xp.log1p(t, out=t)
        t += xp.maximum(x, 0)
        return t
    return softplus_


def _softplus_grad_kernel(op, ctx):
    xp = ctx.xp

    def softplus_grad(g, x):
        t = xp.abs(x)
        xp.negative(t, out=t)
        xp.exp(t, out=t)  # exp(-|x|) never overflows
        num = xp.where(x >= 0, 1, t).astype(t.dtype, copy=False)
        t += 1
        num /= t  # sigmoid(x)
        num *= g
        return num
    return softplus_grad


def _softplus_grad(op, grad):
    """Returns grad · sigmoid(x)."""
    return [out1("SoftplusGrad", [grad, op.inputs[0]], None, "SoftplusGrad")]


register_op("Softplus", infer=_float_infer, grad=_softplus_grad, kernel=_softplus_kernel,
            doc="log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)).")
register_op("SoftplusGrad", infer=_grad_pair_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_softplus_grad_kernel, doc="g · sigmoid(x): the Softplus gradient.")


def _softsign_kernel(op, ctx):
    xp = ctx.xp

    def softsign_(x):
        d = xp.abs(x)
        d += 1
        return xp.divide(x, d, out=d)
    return softsign_


def _softsign_grad_kernel(op, ctx):
    xp = ctx.xp

    def softsign_grad(g, x):
        d = xp.abs(x)
        d += 1
        d *= d
        return xp.divide(g, d, out=d)
    return softsign_grad


def _softsign_grad(op, grad):
    """Returns grad / (1 + |x|)²."""
    return [out1("SoftsignGrad", [grad, op.inputs[0]], None, "SoftsignGrad")]


register_op("Softsign", infer=_float_infer, grad=_softsign_grad, kernel=_softsign_kernel,
            doc="x / (1 + |x|).")
register_op("SoftsignGrad", infer=_grad_pair_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_softsign_grad_kernel, doc="g / (1 + |x|)²: the Softsign gradient.")


def _act(op_type: str, features, name) -> Tensor:
    return out1(op_type, [convert_to_tensor(features)], None, name or op_type)


def relu(features, name=None) -> Tensor:
    """max(features, 0) elementwise."""
    return _act("Relu", features, name)


def relu6(features, name=None) -> Tensor:
    """min(max(features, 0), 6) elementwise."""
    return _act("Relu6", features, name)


def leaky_relu(features, alpha=0.2, name=None) -> Tensor:
    """features if > 0 else alpha * features, elementwise (built from Maximum and Mul)."""
    from .math import maximum, multiply
    x = convert_to_tensor(features, name="features")
    with name_scope(name, "LeakyRelu", [x]):
        return maximum(multiply(x, convert_to_tensor(alpha, dtype=x.dtype)), x)


def elu(features, name=None) -> Tensor:
    """features if > 0 else exp(features) - 1, elementwise."""
    return _act("Elu", features, name)


def softplus(features, name=None) -> Tensor:
    """log(exp(features) + 1) elementwise, without overflow."""
    return _act("Softplus", features, name)


def softsign(features, name=None) -> Tensor:
    """features / (|features| + 1) elementwise."""
    return _act("Softsign", features, name)


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


# -- Dropout -------------------------------------------------------------------------------
def _dropout_infer(op):
    x, kp = op.inputs[:2]
    if not x.dtype.is_floating:
        raise ValueError(f"x has to be a floating point tensor since it's going to be scaled. "
                         f"Got a {x.dtype.name} tensor instead.")
    if kp.dtype != x.dtype:
        raise TypeError(f"keep_prob is {kp.dtype.name} but x is {x.dtype.name}")
    if kp._shape not in (None, ()):
        raise ValueError(f"keep_prob must be a scalar, got shape {list(kp._shape)}")
    mask_shape = x._shape
    if len(op.inputs) == 3:
        ns = op.inputs[2]
        cv = constant_value(ns)
        if cv is not None:
            mask_shape = tuple(int(d) for d in np.ravel(cv))
            if x._shape is not None and broadcast_shapes(x._shape, mask_shape) != x._shape:
                raise ValueError(f"noise_shape {list(mask_shape)} does not broadcast to the "
                                 f"shape of x {list(x._shape)}")
        else:
            n = ns._shape[0] if ns._shape else None
            mask_shape = None if n is None else (None,) * n
    return [(x.dtype, x._shape), (x.dtype, mask_shape)]


def _dropout_kernel(op, ctx):
    xp = ctx.xp
    rng = ctx.rng(op)
    dt = op.outputs[0].dtype.np
    draw_dt = dt if dt in (np.float32, np.float64) else np.float32
    on_host = xp is np

    def dropout_(x, keep_prob, noise_shape=None):
        kp = float(keep_prob)
        if not 0.0 < kp <= 1.0:
            raise errors.InvalidArgumentError(
                None, op, f"Dropout op '{op.name}': keep_prob must be in (0, 1], got {kp}")
        shape = x.shape if noise_shape is None else tuple(int(d) for d in noise_shape)
        mask = rng.random(shape, dtype=draw_dt)
        np.less(mask, kp, out=mask)  # 1.0 where kept (probability kp), else 0.0
        mask *= 1.0 / kp
        if mask.dtype != dt:
            mask = mask.astype(dt)
        if not on_host:
            mask = xp.asarray(mask)
        return xp.multiply(x, mask), mask
    return dropout_


def _dropout_grad(op, grad, _):
    """Returns grad · mask, mask = keep / keep_prob (the op's second output)."""
    return [multiply(grad, op.outputs[1]), None] + [None] * (len(op.inputs) - 2)


register_op("Dropout", infer=_dropout_infer, grad=_dropout_grad, kernel=_dropout_kernel,
            stateful=True,
            doc="x · keep / keep_prob with keep ~ Bernoulli(keep_prob); also returns the mask.")


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None) -> Tensor:
    """Keeps each element of `x` with probability `keep_prob`, scaled by 1 / keep_prob.

    Args:
        keep_prob: a Python float in (0, 1] or a scalar tensor (e.g. a placeholder) of x's
            dtype; a constant 1 returns `x` itself, as TF 1.x does.
        rate: the drop probability instead (TF >= 1.13): keep_prob = 1 - rate.
        noise_shape: shape of the random keep mask (broadcast against `x`), e.g.
            ``[batch, 1]`` to drop whole rows; default: the shape of `x`.
        seed: op seed, combined with the graph seed (`tf.set_random_seed`).

    Raises:
        ValueError: `x` is not floating point, or a constant `keep_prob` is outside (0, 1].
    """
    from .random import get_seed
    x = convert_to_tensor(x, name="x")
    if (keep_prob is None) == (rate is None):
        raise ValueError("dropout takes exactly one of keep_prob and rate")
    if rate is not None:
        if isinstance(rate, (int, float, np.number)):
            if not 0 <= float(rate) < 1:
                raise ValueError(f"rate must be a scalar tensor or a float in the range "
                                 f"[0, 1), got {rate}")
            keep_prob = 1.0 - float(rate)
        else:
            keep_prob = 1 - convert_to_tensor(rate, dtype=x.dtype, name="rate")
    if not x.dtype.is_floating:
        raise ValueError(f"x has to be a floating point tensor since it's going to be scaled. "
                         f"Got a {x.dtype.name} tensor instead.")
    if isinstance(keep_prob, (int, float, np.number)) and not 0 < float(keep_prob) <= 1:
        raise ValueError(f"keep_prob must be a scalar tensor or a float in the range (0, 1], "
                         f"got {keep_prob}")
    kp = convert_to_tensor(keep_prob, dtype=x.dtype, name="keep_prob")
    cv = constant_value(kp)
    if cv is not None and np.ndim(cv) == 0 and float(cv) == 1.0:
        return x
    inputs = [x, kp]
    if noise_shape is not None:
        inputs.append(convert_to_tensor(noise_shape, dtype=dtypes.int32, name="noise_shape"))
    seed1, seed2 = get_seed(seed)
    return make_op("Dropout", inputs, {"seed": seed1, "seed2": seed2},
                   name or "dropout").outputs[0]


# -- BiasAdd / BiasAddGrad -----------------------------------------------------------------
def _channel_axis(data_format: str, rank: int | None) -> int:
    if data_format.startswith("NC") and rank is not None and rank > 2:
        return 1
    return -1


def _bias_add_infer(op):
    v, b = op.inputs
    fmt = op.attrs["data_format"]
    if v.dtype != b.dtype:
        raise TypeError(f"BiasAdd: value is {v.dtype.name} but bias is {b.dtype.name}")
    if b._shape is not None and len(b._shape) != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {len(b._shape)} for bias")
    if v._shape is None:
        return [(v.dtype, None)]
    if len(v._shape) < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {len(v._shape)}")
    c = _channel_axis(fmt, len(v._shape))
    shape = list(v._shape)
    bc = b._shape[0] if b._shape is not None else None
    if shape[c] is not None and bc is not None and shape[c] != bc:
        raise ValueError(f"Dimensions must be equal, but are {shape[c]} and {bc} "
                         f"(bias_add of value {list(v._shape)} and bias [{bc}], "
                         f"data_format {fmt})")
    shape[c] = shape[c] if shape[c] is not None else bc
    return [(v.dtype, tuple(shape))]


def _bias_add_kernel(op, ctx):
    xp = ctx.xp
    if not op.attrs["data_format"].startswith("NC"):
        return xp.add

    def bias_add_nc(v, b):
        if v.ndim <= 2:
            return xp.add(v, b)
        return xp.add(v, b.reshape((-1,) + (1,) * (v.ndim - 2)))
    return bias_add_nc


def _bias_add_grad(op, grad):
    """Returns (grad, Σ grad over every axis but the channel axis)."""
    return [grad, out1("BiasAddGrad", [grad], {"data_format": op.attrs["data_format"]},
                       "BiasAddGrad")]


def _bias_add_grad_infer(op):
    g = op.inputs[0]
    if g._shape is None:
        return [(g.dtype, (None,))]
    if len(g._shape) < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {len(g._shape)}")
    return [(g.dtype, (g._shape[_channel_axis(op.attrs["data_format"], len(g._shape))],))]


def _bias_add_grad_kernel(op, ctx):
    nc = op.attrs["data_format"].startswith("NC")

    def bias_add_grad(g):
        if nc and g.ndim > 2:
            return g.sum(axis=(0,) + tuple(range(2, g.ndim)))
        if g.flags.c_contiguous:
            return g.reshape(-1, g.shape[-1]).sum(axis=0)
        return g.sum(axis=tuple(range(g.ndim - 1)))
    return bias_add_grad


def _bias_add_grad_grad(op, grad):
    """Returns grad broadcast along the channel axis to the shape of the input gradient."""
    from .constant import zeros_like
    return [bias_add(zeros_like(op.inputs[0]), grad, op.attrs["data_format"])]


register_op("BiasAdd", infer=_bias_add_infer, grad=_bias_add_grad, kernel=_bias_add_kernel,
            doc="value + bias, bias broadcast along the channel axis.")
register_op("BiasAddGrad", infer=_bias_add_grad_infer, grad=_bias_add_grad_grad,
            kernel=_bias_add_grad_kernel,
            doc="Σ over every axis but the channel axis (the BiasAdd bias gradient).")


def bias_add(value, bias, data_format=None, name=None) -> Tensor:
    """value + bias, with the 1-D `bias` added along the channel axis.

    Args:
        data_format: "NHWC" (default; channels last) or "NCHW" (channels at axis 1).
    """
    fmt = data_format or "NHWC"
    if fmt not in ("NHWC", "NCHW", "NDHWC", "NCDHW", "NWC", "NCW"):
        raise ValueError(f"bias_add: unknown data_format {fmt!r}")
    value = convert_to_tensor(value, name="input")
    bias = convert_to_tensor(bias, dtype=value.dtype, name="bias")
    return out1("BiasAdd", [value, bias], {"data_format": fmt}, name or "BiasAdd")


def xw_plus_b(x, weights, biases, name=None) -> Tensor:
    """matmul(x, weights) + biases."""
    return bias_add(matmul(x, weights), biases, name=name or "xw_plus_b")


def relu_layer(x, weights, biases, name=None) -> Tensor:
    """relu(matmul(x, weights) + biases)."""
    return relu(xw_plus_b(x, weights, biases), name=name or "relu_layer")


# -- L2Loss / l2_normalize -----------------------------------------------------------------
def _l2_loss_kernel(op, ctx):
    xp = ctx.xp
    dt = op.outputs[0].dtype.np

    def l2_loss_(x):
        r = x.reshape(-1)
        return xp.asarray(xp.dot(r, r) * 0.5, dtype=dt)
    return l2_loss_


def _l2_loss_grad(op, grad):
    """Returns x · grad."""
    return [multiply(op.inputs[0], grad)]


register_op("L2Loss", infer=lambda op: [(_float_infer(op)[0][0], ())], grad=_l2_loss_grad,
            kernel=_l2_loss_kernel, doc="Σ x² / 2.")


def l2_loss(t, name=None) -> Tensor:
    """sum(t ** 2) / 2, a scalar."""
    return out1("L2Loss", [convert_to_tensor(t)], None, name or "L2Loss")


def l2_normalize(x, dim=None, epsilon=1e-12, name=None, axis=None) -> Tensor:
    """x / sqrt(max(Σ x² along `dim`, epsilon))."""
    from .math import maximum, rsqrt
    x = convert_to_tensor(x, name="x")
    a = axis if axis is not None else dim
    square_sum = reduce_sum(square(x), a, keep_dims=True)
    inv_norm = rsqrt(maximum(square_sum, epsilon))
    return multiply(x, inv_norm, name=name or "l2_normalize")


# -- moments / batch_normalization ---------------------------------------------------------
def moments(x, axes, shift=None, name=None, keep_dims=False):
    """(mean, variance) of `x` over `axes`; `shift` is accepted and unused, as in TF 1.x."""
    from .array import squeeze, stop_gradient
    x = convert_to_tensor(x, name="x")
    axes = [int(a) for a in np.ravel(axes)]
    mean = reduce_mean(x, axes, keep_dims=True, name="mean")
    variance = reduce_mean(square(subtract(x, stop_gradient(mean))), axes,
                           keep_dims=keep_dims, name="variance")
    if not keep_dims:
        mean = squeeze(mean, axes, name=name or "mean")
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) · scale / sqrt(variance + ε) + offset.

    Computed as x · inv + (offset - mean · inv), inv = scale / sqrt(variance + ε); `offset`
    and `scale` may be None (0 and 1).
    """
    from .math import rsqrt
    x = convert_to_tensor(x, name="x")
    inv = rsqrt(add(variance, variance_epsilon))
    if scale is not None:
        inv = multiply(inv, scale)
    shift = negative(multiply(mean, inv)) if offset is None else \
        subtract(offset, multiply(mean, inv))
    return add(multiply(x, inv), shift, name=name or "batchnorm")


# -- FusedBatchNorm / FusedBatchNormGrad ---------------------------------------------------
def _fbn_infer(op):
    x, scale, offset, mean, var = op.inputs
    if x.dtype not in (dtypes.float16, dtypes.float32, dtypes.float64):
        raise TypeError(f"FusedBatchNorm expects a float input, got {x.dtype.name}")
    if x._shape is not None and len(x._shape) != 4:
        raise ValueError(f"input must be 4-dimensional, got shape {list(x._shape)}")
    pdt = scale.dtype
    c = None
    if x._shape is not None:
        c = x._shape[1 if op.attrs["data_format"] == "NCHW" else 3]
    params = [scale, offset] if op.attrs["is_training"] else [scale, offset, mean, var]
    for t in params:
        if t.dtype != pdt:
            raise TypeError(f"FusedBatchNorm: {t.name} is {t.dtype.name}, scale is {pdt.name}")
        if t._shape is not None:
            if len(t._shape) != 1:
                raise ValueError(f"{t.name} must be 1-dimensional, got {list(t._shape)}")
            c = _merge_shapes((c,), t._shape, "FusedBatchNorm channels")[0]
    return [(x.dtype, x._shape)] + [(pdt, (c,))] * 4


def _fbn_layout(data_format: str):
    """(reduction axes, einsum spec of Σ over them, parameter reshape) for a 4-D layout."""
    if data_format == "NCHW":
        return (0, 2, 3), "nchw,nchw->c", (lambda p: p.reshape(1, -1, 1, 1))
    return (0, 1, 2), "nhwc,nhwc->c", (lambda p: p)


def _fbn_kernel(op, ctx):
    xp = ctx.xp
    eps = float(op.attrs["epsilon"])
    training = op.attrs["is_training"]
    axes, spec, bshape = _fbn_layout(op.attrs["data_format"])
    ydt = op.outputs[0].dtype.np
    pdt = op.outputs[1].dtype.np
    work_dt = np.promote_types(ydt, pdt)

    def fused_batch_norm_(x, scale, offset, mean, var):
        xw = x.astype(work_dt, copy=False)
        if training:
            mean = xw.mean(axis=axes, dtype=work_dt)
            xc = xw - bshape(mean)
            n = x.size // mean.size
            var = xp.einsum(spec, xc, xc)
            var /= n
            batch_var = var * (n / (n - 1)) if n > 1 else var
        else:
            xc = xw - bshape(mean.astype(work_dt, copy=False))
            batch_var = var
        inv = 1.0 / xp.sqrt(var.astype(work_dt, copy=False) + eps)
        xc *= bshape(inv * scale)
        xc += bshape(offset.astype(work_dt, copy=False))
        # the statistics are C-sized: fresh copies keep outputs from aliasing inputs or each other
        return (xc.astype(ydt, copy=False), mean.astype(pdt), batch_var.astype(pdt),
                mean.astype(pdt), inv.astype(pdt))
    return fused_batch_norm_


def _fbn_grad(op, grad_y, *_):
    """Returns (dx, dscale, doffset) from the saved mean and 1/√(var+ε); mean/variance: None.

    Training: dx = scale·inv·(g - mean(g) - x̂·mean(g·x̂)), x̂ = (x - μ)·inv; inference:
    dx = g·scale·inv; dscale = Σ g·x̂, doffset = Σ g. Gradients reaching the batch_mean and
    batch_var outputs are not propagated (as in TensorFlow).
    """
    x, scale = op.inputs[:2]
    outs = make_op("FusedBatchNormGrad", [grad_y, x, scale, op.outputs[3], op.outputs[4]],
                   {k: op.attrs[k] for k in ("epsilon", "data_format", "is_training")},
                   "FusedBatchNormGrad").outputs
    return [outs[0], outs[1], outs[2], None, None]


def _fbn_grad_infer(op):
    g, x, scale = op.inputs[:3]
    return [(x.dtype, _merge_shapes(g._shape, x._shape, "FusedBatchNormGrad")),
            (scale.dtype, scale._shape), (scale.dtype, scale._shape)]


def _fbn_grad_kernel(op, ctx):
    xp = ctx.xp
    training = op.attrs["is_training"]
    axes, spec, bshape = _fbn_layout(op.attrs["data_format"])
    xdt = op.outputs[0].dtype.np
    pdt = op.outputs[1].dtype.np
    work_dt = np.promote_types(xdt, pdt)

    def fused_batch_norm_grad(g, x, scale, mean, inv):
        gw = g.astype(work_dt, copy=False)
        xhat = xp.subtract(x, bshape(mean), dtype=work_dt)
        xhat *= bshape(inv)
        doffset = gw.sum(axis=axes)
        dscale = xp.einsum(spec, gw, xhat)
        if training:  # dx = scale·inv·(g - mean(g) - x̂·mean(g·x̂)), in place in x̂
            n = x.size // doffset.size
            xhat *= bshape(dscale / n)
            dx = xp.subtract(gw, xhat, out=xhat)
            dx -= bshape(doffset / n)
            dx *= bshape(scale * inv)
        else:
            dx = xp.multiply(gw, bshape(scale * inv))
        return (dx.astype(xdt, copy=False), dscale.astype(pdt, copy=False),
                doffset.astype(pdt, copy=False))
    return fused_batch_norm_grad


register_op("FusedBatchNorm", infer=_fbn_infer, grad=_fbn_grad, kernel=_fbn_kernel,
            doc="Batch normalisation of 4-D x over N, H, W; also returns the statistics.")
register_op("FusedBatchNormGrad", infer=_fbn_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_fbn_grad_kernel,
            doc="(dx, dscale, doffset) of FusedBatchNorm from its saved mean and 1/√(var+ε).")


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None):
    """Batch normalisation of a 4-D tensor in one op: returns (y, batch_mean, batch_var).

    Training normalises with the batch statistics (biased variance) and returns batch_var with
    Bessel's correction n/(n-1), for running averages, as TensorFlow does. Inference
    (`is_training=False`) uses the given `mean` and `variance` and returns them.

    Raises:
        ValueError: inference without `mean` and `variance`, or an unknown data_format.
    """
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"fused_batch_norm: data_format must be NHWC or NCHW, got "
                         f"{data_format!r}")
    x = convert_to_tensor(x, name="input")
    scale = convert_to_tensor(scale, name="scale")
    offset = convert_to_tensor(offset, dtype=scale.dtype, name="offset")
    if mean is None or variance is None:
        if not is_training:
            raise ValueError("Both 'mean' and 'variance' must be a 1-D tensor when "
                             "is_training is False.")
        mean = variance = convert_to_tensor(np.zeros((0,), scale.dtype.np), name="empty")
    mean = convert_to_tensor(mean, dtype=scale.dtype, name="mean")
    variance = convert_to_tensor(variance, dtype=scale.dtype, name="variance")
    op = make_op("FusedBatchNorm", [x, scale, offset, mean, variance],
                 {"epsilon": float(epsilon), "data_format": data_format,
                  "is_training": bool(is_training)}, name or "FusedBatchNorm")
    return op.outputs[0], op.outputs[1], op.outputs[2]


# -- embedding_lookup ----------------------------------------------------------------------
def _shard_ids_infer(op):
    ids = op.inputs[0]
    if not ids.dtype.is_integer:
        raise TypeError(f"ids must be int32 or int64, got {ids.dtype.name}")
    return [(ids.dtype, ids._shape)]


def _shard_ids_kernel(op, ctx):
    xp = ctx.xp
    sizes = op.attrs["sizes"]
    n = len(sizes)
    dt = op.outputs[0].dtype.np
    sizes_arr = xp.asarray(sizes, dtype=dt)
    offsets = xp.asarray(np.concatenate([[0], np.cumsum(sizes)[:-1]]), dtype=dt)

    def embedding_shard_ids(ids):
        shard = ids % n
        local = ids // n
        bad = (ids < 0) | (local >= sizes_arr[shard])
        if bad.any():
            raise errors.InvalidArgumentError(
                None, op, f"{op.type} op '{op.name}': id {int(ids[bad].ravel()[0])} is not in "
                f"any of the {n} 'mod' shards of sizes {sizes}")
        local += offsets[shard]
        return local
    return embedding_shard_ids


register_op("EmbeddingShardIds", infer=_shard_ids_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_shard_ids_kernel,
            doc="Row of each id in the concatenation of its 'mod'-partitioned shards: "
                "offset[id % n] + id // n.")


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None) -> Tensor:
    """Rows of `params` for each id: ``gather(params, ids)``, shape ids.shape + row shape.

    Args:
        params: a tensor (or variable), or a list of shards of one table. With shards,
            'mod' puts id i in shard i % n at row i // n; 'div' gives each shard a
            contiguous range of ids, in order (the shards' row counts must be static).
        max_norm: rows whose L2 norm exceeds it are scaled down to it.

    The gradient w.r.t. params is dense (a scatter-add of the incoming rows).

    Raises:
        ValueError: an empty `params` list, shards with unknown row counts, or an unknown
            partition strategy.
    """
    from .array import concat, gather
    shards = list(params) if isinstance(params, (list, tuple)) else [params]
    if not shards:
        raise ValueError("embedding_lookup: need at least one params tensor")
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    shards = [convert_to_tensor(p, name="params") for p in shards]
    ids = convert_to_tensor(ids, name="ids")
    if len(shards) == 1:
        rows = gather(shards[0], ids, name=None if max_norm is not None else name)
    else:
        sizes = [p._shape[0] if p._shape else None for p in shards]
        if None in sizes:
            raise ValueError(f"embedding_lookup: the shards' row counts must be static, got "
                             f"{sizes}")
        if partition_strategy == "mod":
            ids = out1("EmbeddingShardIds", [ids], {"sizes": [int(s) for s in sizes]},
                       "EmbeddingShardIds")
        rows = gather(concat(shards, 0), ids, name=None if max_norm is not None else name)
    if max_norm is None:
        return rows
    return _clip_rows(rows, ids, max_norm, name)


def _clip_rows(rows: Tensor, ids: Tensor, max_norm, name) -> Tensor:
    """`rows` scaled so that each embedding (the axes after ids' axes) has norm <= max_norm."""
    from .math import minimum, rsqrt
    if ids._shape is None or rows._shape is None:
        raise ValueError("embedding_lookup with max_norm needs ids and params of known rank")
    axes = list(range(len(ids._shape), len(rows._shape)))
    sq = reduce_sum(square(rows), axes, keep_dims=True)
    scale = minimum(convert_to_tensor(1.0, dtype=rows.dtype), multiply(rsqrt(sq), max_norm))
    return multiply(rows, scale, name=name or "embedding_lookup")


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
    from .math import exp, log
    log_input = convert_to_tensor(log_input, name="log_input")
    targets = convert_to_tensor(targets, dtype=log_input.dtype, name="targets")
    result = subtract(exp(log_input), multiply(log_input, targets))
    if not compute_full_loss:
        return result if name is None else add(result, 0.0, name=name)
    from .constant import zeros_like
    from .math import greater, where
    big = greater(targets, 1.0)
    safe = where(big, targets, zeros_like(targets) + 2.0)  # log() only of values > 1
    stirling = add(subtract(multiply(safe, log(safe)), safe),
                   multiply(log(multiply(safe, 2.0 * np.pi)), 0.5))
    return add(result, where(big, stirling, zeros_like(targets)), name=name or "log_poisson")


# -- InTopK / TopKV2 -----------------------------------------------------------------------
def _in_top_k_infer(op):
    p, t = op.inputs
    if not p.dtype.is_floating:
        raise TypeError(f"predictions must be floating point, got {p.dtype.name}")
    if t.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"targets must be int32 or int64, got {t.dtype.name}")
    if p._shape is not None and len(p._shape) != 2:
        raise ValueError(f"predictions must be 2-dimensional, got {list(p._shape)}")
    if t._shape is not None and len(t._shape) != 1:
        raise ValueError(f"targets must be 1-dimensional, got {list(t._shape)}")
    n = _merge_shapes(None if p._shape is None else p._shape[:1], t._shape,
                      "predictions and targets batch size")
    return [(dtypes.bool, n if n is not None else (None,))]


def _in_top_k_kernel(op, ctx):
    xp, k = ctx.xp, int(op.attrs["k"])

    def in_top_k_(p, t):
        c = p.shape[1]
        valid = (t >= 0) & (t < c)
        pt = p[xp.arange(t.size), xp.where(valid, t, 0)]
        larger = (p > pt[:, None]).sum(axis=1)
        valid &= xp.isfinite(pt)
        valid &= larger < k
        return valid
    return in_top_k_


register_op("InTopK", infer=_in_top_k_infer, grad=NOT_DIFFERENTIABLE, kernel=_in_top_k_kernel,
            doc="predictions[i, targets[i]] is among the k largest of row i (ties count in).")


def in_top_k(predictions, targets, k, name=None) -> Tensor:
    """Whether each target's prediction is among the `k` largest of its row (bool, [batch]).

    Ties count in the target's favour; a non-finite prediction or an out-of-range target is
    never in the top k.
    """
    predictions = convert_to_tensor(predictions, name="predictions")
    targets = convert_to_tensor(targets, name="targets")
    return out1("InTopK", [predictions, targets], {"k": int(k)}, name or "InTopK")


def _top_k_infer(op):
    x, k = op.inputs
    if k.dtype != dtypes.int32:
        raise TypeError(f"k must be int32, got {k.dtype.name}")
    kv = constant_value(k)
    if x._shape is not None and not x._shape:
        raise ValueError("input must have rank >= 1, got a scalar")
    if kv is not None:
        kv = int(kv)
        if kv < 0:
            raise ValueError(f"k must be non-negative, got {kv}")
        if x._shape is not None and x._shape[-1] is not None and x._shape[-1] < kv:
            raise ValueError(f"input must have at least k={kv} columns, got {x._shape[-1]}")
    shape = None if x._shape is None else x._shape[:-1] + (kv,)
    return [(x.dtype, shape), (dtypes.int32, shape)]


def _top_k_kernel(op, ctx):
    xp = ctx.xp

    def top_k_(x, k):
        k = int(k)
        if not 0 <= k <= x.shape[-1]:
            raise errors.InvalidArgumentError(
                None, op, f"{op.type} op '{op.name}': input must have at least k={k} "
                f"columns, has {x.shape[-1]}")
        if k == 1:
            idx = xp.argmax(x, axis=-1)[..., None]  # first of equal maxima
        else:  # stable sort of -x: equal values keep their lower index first
            idx = xp.argsort(-x, axis=-1, kind="stable")[..., :k]
        return xp.take_along_axis(x, idx, axis=-1), idx.astype(np.int32)
    return top_k_


def _top_k_grad(op, grad_values, _):
    """Returns grad_values scattered into zeros of the input's shape at the top-k indices."""
    from .array import shape
    g = out1("TopKGrad", [grad_values, op.outputs[1], shape(op.inputs[0])], None, "TopKGrad")
    return [g, None]


def _top_k_grad_infer(op):
    g, idx, s = op.inputs
    cv = constant_value(s)
    if cv is not None:
        return [(g.dtype, tuple(int(d) for d in cv))]
    return [(g.dtype, None if g._shape is None else g._shape[:-1] + (None,))]


def _top_k_grad_kernel(op, ctx):
    xp = ctx.xp

    def top_k_grad(g, idx, shape):
        out = xp.zeros(tuple(int(d) for d in shape), dtype=g.dtype)
        xp.put_along_axis(out, idx, g, axis=-1)
        return out
    return top_k_grad


register_op("TopKV2", infer=_top_k_infer, grad=_top_k_grad, kernel=_top_k_kernel,
            doc="The k largest entries of each last-axis row and their indices, descending.")
register_op("TopKGrad", infer=_top_k_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_top_k_grad_kernel,
            doc="Scatters the top-k values' gradient back to the input's shape.")


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002 - TF's argument names
    """(values, indices) of the `k` largest entries along the last axis, largest first.

    Equal values come out lower index first; `sorted=False` returns the same (sorted) order.
    """
    x = convert_to_tensor(input, name="input")
    k = convert_to_tensor(k, dtype=dtypes.int32, name="k")
    op = make_op("TopKV2", [x, k], {"sorted": bool(sorted)}, name or "TopKV2")
    return TopKV2(op.outputs[0], op.outputs[1])


TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])
