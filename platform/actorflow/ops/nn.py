"""NN ops (the core of `tf.nn`): activations, dropout, bias and L2 loss.

Registers: Relu, ReluGrad, Relu6, Relu6Grad, Elu, EluGrad, Softplus, SoftplusGrad, Softsign,
SoftsignGrad, Dropout, BiasAdd, BiasAddGrad, L2Loss. `leaky_relu`, `selu`, `swish`, `crelu`,
`xw_plus_b`, `relu_layer` and `zero_fraction` are composites. The rest of `tf.nn` lives
beside this module: softmax and the cross entropies (nn_loss.py), normalisation
(normalization.py), embedding lookup and top-k (embedding.py), convolution (conv.py) and
pooling (pooling.py); the inference rules below are shared with them.

Kernels are written for float32 first: each does one pass per unavoidable elementwise step,
allocates as few temporaries as it can and works in place (``out=``) on its own buffers.
Gradients come from fused helper ops (ReluGrad, SoftmaxGrad, BiasAddGrad, ...) or from outputs
the forward kernel already computed (the cross entropies' ``backprop``, FusedBatchNorm's saved
statistics), so a backward pass costs about as much as its forward pass.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, constant_value, convert_to_tensor, make_op, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import broadcast_shapes, host_ints, out1
from .linalg import matmul
from .math import multiply

__all__ = ["relu", "relu6", "leaky_relu", "elu", "softplus", "softsign", "selu", "swish",
           "crelu",
           "dropout", "bias_add", "xw_plus_b", "relu_layer", "l2_loss", "zero_fraction"]


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


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(features, name=None) -> Tensor:
    """scale * (features if > 0 else alpha * (exp(features) - 1)), with SELU's fixed alpha
    and scale (built from Elu, Greater and Select)."""
    from .logic import greater, where
    x = convert_to_tensor(features, name="features")
    with name_scope(name, "Selu", [x]):
        neg = multiply(elu(x), convert_to_tensor(_SELU_ALPHA, dtype=x.dtype))
        pos = where(greater(x, convert_to_tensor(0, dtype=x.dtype)), x, neg)
        return multiply(pos, convert_to_tensor(_SELU_SCALE, dtype=x.dtype))


def swish(features, name=None) -> Tensor:
    """features * sigmoid(features) elementwise."""
    from .unary import sigmoid
    x = convert_to_tensor(features, name="features")
    with name_scope(name, "swish", [x]):
        return multiply(x, sigmoid(x))


def crelu(features, name=None, axis=-1) -> Tensor:
    """concat([relu(features), relu(-features)], axis): doubles that axis's depth."""
    from .joining import concat
    from .math import negative
    x = convert_to_tensor(features, name="features")
    with name_scope(name, "CRelu", [x]):
        return concat([relu(x), relu(negative(x))], axis)


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
        shape = x.shape if noise_shape is None else host_ints(noise_shape)
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
    """Channels-last float gradients sum as ones @ g (a BLAS GEMV): 1.3-4x faster than
    g.sum(axis=0) on the book's conv layers, and more accurate in float32."""
    xp = ctx.xp
    nc = op.attrs["data_format"].startswith("NC")
    ones_cache: list = [None]

    def ones(rows: int, dtype):
        vec = ones_cache[0]
        if vec is None or vec.shape[0] != rows or vec.dtype != dtype:
            vec = ones_cache[0] = xp.ones(rows, dtype)
        return vec

    def bias_add_grad(g):
        if nc and g.ndim > 2:
            return g.sum(axis=(0,) + tuple(range(2, g.ndim)))
        if not g.flags.c_contiguous:
            return g.sum(axis=tuple(range(g.ndim - 1)))
        g2 = g.reshape(-1, g.shape[-1])
        if g.dtype not in (np.float32, np.float64) or g2.shape[0] == 0:
            return g2.sum(axis=0)
        return xp.matmul(ones(g2.shape[0], g.dtype), g2)
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


# -- L2Loss --------------------------------------------------------------------------------


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


def zero_fraction(value, name=None) -> Tensor:
    """The fraction of `value`'s elements that are zero, a float32 scalar (the sparsity of
    an activation, as the CIFAR-10 tutorial's summaries report it)."""
    from .logic import equal
    from .math import cast
    from .reduction import reduce_mean
    with name_scope(name, "zero_fraction", [value]):
        value = convert_to_tensor(value, name="value")
        zero = convert_to_tensor(0, dtype=value.dtype, name="zero")
        return reduce_mean(cast(equal(value, zero), dtypes.float32))
