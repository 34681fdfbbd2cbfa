"""Cases for the NN ops (ops/nn.py, nn_loss.py, normalization.py, embedding.py): activations
and their gradient helpers, softmax, dropout, bias, L2 loss, fused batch norm, the cross
entropies, in_top_k and top_k."""
import numpy as np

import actorflow as tf
from actorflow.framework.graph import make_op

from . import OpCase, randn, randu


def _op(op_type, *inputs, **attrs):
    """The outputs of one `op_type` op built straight from `inputs` (for gradient helpers)."""
    outs = make_op(op_type, list(inputs), attrs or None).outputs
    return outs[0] if len(outs) == 1 else list(outs)


def _away_from(x, points, gap=0.05):
    """`x` with entries closer than `gap` to any of `points` pushed away (finite differences)."""
    x = x.copy()
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + np.where(x[near] >= p, gap, -gap)
    return x


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_batch_norm(x, scale, offset, axes=(0, 1, 2), eps=1e-3):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = mean.shape
    y = (x - mean) / np.sqrt(var + eps) * scale.reshape(shape) + offset.reshape(shape)
    n = x.size // scale.size
    return y, mean.ravel(), var.ravel() * n / (n - 1)


def np_batch_norm_grad(g, x, scale, mean, inv, training, axes=(0, 1, 2)):
    shape = [1] * x.ndim
    c = [i for i in range(x.ndim) if i not in axes][0]
    shape[c] = -1
    xhat = (x - mean.reshape(shape)) * inv.reshape(shape)
    dscale = (g * xhat).sum(axis=axes)
    doffset = g.sum(axis=axes)
    k = (scale * inv).reshape(shape)
    if training:
        n = x.size // scale.size
        dx = k * (g - doffset.reshape(shape) / n - xhat * dscale.reshape(shape) / n)
    else:
        dx = g * k
    return dx, dscale, doffset


def _one_hot(labels, c):
    return np.eye(c)[labels]


def _check_dropout(outs, inputs):
    y, mask = outs
    x, kp = inputs
    kept = mask != 0
    np.testing.assert_allclose(mask[kept], 1 / kp)
    np.testing.assert_allclose(y, x * mask)
    assert 0 < kept.sum() < kept.size


_X = randn(3, 4)
_G = randn(3, 4, seed=1)
_X6 = _away_from(randn(3, 4, seed=2) * 4, [0.0, 6.0])
_XR = _away_from(_X, [0.0])
_Y = np.maximum(_XR, 0)
_LABELS = np_softmax(randn(4, 5, seed=3))
_SPARSE = np.array([0, 4, 2, 3], np.int32)
_BN_X = randn(2, 3, 2, 3, seed=4)
_BN_SCALE = randu(3, seed=5)
_BN_OFFSET = randn(3, seed=6)

CASES = [
    # -- activations and their gradient helpers --------------------------------------
    OpCase("Relu", tf.nn.relu, [_XR], reference=lambda x: np.maximum(x, 0)),
    OpCase("Relu", tf.nn.relu, [np.array([-3, 0, 2], np.int32)],
           reference=lambda x: np.maximum(x, 0), grad=False, name="int"),
    OpCase("ReluGrad", lambda g, y: _op("ReluGrad", g, y), [_G, _Y],
           reference=lambda g, y: g * (y > 0), grad_inputs=(0,)),
    OpCase("Relu6", tf.nn.relu6, [_X6], reference=lambda x: np.clip(x, 0, 6)),
    OpCase("Relu6Grad", lambda g, x: _op("Relu6Grad", g, x), [_G, _X6],
           reference=lambda g, x: g * ((x > 0) & (x < 6)), grad_inputs=(0,)),
    OpCase("Elu", tf.nn.elu, [_XR], reference=lambda x: np.where(x > 0, x, np.expm1(x))),
    OpCase("EluGrad", lambda g, y: _op("EluGrad", g, y), [_G, np.where(_XR > 0, _XR,
                                                                         np.expm1(_XR))],
           reference=lambda g, y: g * np.where(y > 0, 1, y + 1), grad=False),
    OpCase("Softplus", tf.nn.softplus, [_X * 3], reference=lambda x: np.log1p(np.exp(x))),
    OpCase("SoftplusGrad", lambda g, x: _op("SoftplusGrad", g, x), [_G, _X * 3],
           reference=lambda g, x: g * np_sigmoid(x), grad=False),
    OpCase("Softsign", tf.nn.softsign, [_X], reference=lambda x: x / (1 + np.abs(x))),
    OpCase("SoftsignGrad", lambda g, x: _op("SoftsignGrad", g, x), [_G, _X],
           reference=lambda g, x: g / (1 + np.abs(x)) ** 2, grad=False),
    # -- softmax -------------------------------------------------------------------------
    OpCase("Softmax", tf.nn.softmax, [_X], reference=np_softmax),
    OpCase("Softmax", lambda x: tf.nn.softmax(x, dim=0), [_X],
           reference=lambda x: np_softmax(x, 0), name="dim0"),
    OpCase("SoftmaxGrad", lambda g, y: _op("SoftmaxGrad", g, y, axis=-1),
           [_G, np_softmax(_X)],
           reference=lambda g, y: (g - (g * y).sum(-1, keepdims=True)) * y, grad=False),
    OpCase("LogSoftmax", tf.nn.log_softmax, [_X], reference=np_log_softmax),
    OpCase("LogSoftmax", lambda x: tf.nn.log_softmax(x, dim=0), [_X],
           reference=lambda x: np_log_softmax(x, 0), name="dim0"),
    OpCase("LogSoftmaxGrad", lambda g, y: _op("LogSoftmaxGrad", g, y, axis=-1),
           [_G, np_log_softmax(_X)],
           reference=lambda g, y: g - np.exp(y) * g.sum(-1, keepdims=True), grad=False),
    # -- dropout (kept-mask property; gradient with keep_prob fed as 1, a fixed mask) -----
    OpCase("Dropout", lambda x, kp: make_op("Dropout", [x, kp], {"seed": 1, "seed2": 2}
                                            ).outputs,
           [randn(40, 5), np.float64(0.6)], check=_check_dropout, grad=False),
    OpCase("Dropout", lambda x, kp: tf.nn.dropout(x, kp), [_X, np.float64(1.0)],
           reference=lambda x, kp: x, grad_inputs=(0,), name="keep1"),
    # -- bias ----------------------------------------------------------------------------
    OpCase("BiasAdd", tf.nn.bias_add, [randn(2, 3, 2, 4), randn(4, seed=1)],
           reference=lambda v, b: v + b),
    OpCase("BiasAdd", lambda v, b: tf.nn.bias_add(v, b, data_format="NCHW"),
           [randn(2, 3, 2, 2), randn(3, seed=1)],
           reference=lambda v, b: v + b[:, None, None], name="NCHW"),
    OpCase("BiasAddGrad", lambda g: _op("BiasAddGrad", g, data_format="NHWC"),
           [randn(2, 3, 4)], reference=lambda g: g.sum((0, 1))),
    OpCase("BiasAddGrad", lambda g: _op("BiasAddGrad", g, data_format="NCHW"),
           [randn(2, 3, 2, 2)], reference=lambda g: g.sum((0, 2, 3)), name="NCHW"),
    OpCase("L2Loss", tf.nn.l2_loss, [_X], reference=lambda x: np.sum(x * x) / 2),
    # -- fused batch norm ----------------------------------------------------------------
    OpCase("FusedBatchNorm", lambda x, s, o: list(tf.nn.fused_batch_norm(x, s, o)),
           [_BN_X, _BN_SCALE, _BN_OFFSET],
           reference=lambda x, s, o: np_batch_norm(x, s, o), grad=False, atol=1e-9),
    OpCase("FusedBatchNorm", lambda x, s, o: tf.nn.fused_batch_norm(x, s, o)[0],
           [_BN_X, _BN_SCALE, _BN_OFFSET],
           reference=lambda x, s, o: np_batch_norm(x, s, o)[0], name="train-grad"),
    OpCase("FusedBatchNorm",
           lambda x, s, o: tf.nn.fused_batch_norm(x, s, o, data_format="NCHW")[0],
           [_BN_X, _BN_SCALE[:3], _BN_OFFSET[:3]],
           reference=lambda x, s, o: np_batch_norm(np.moveaxis(x, 1, -1), s, o)[0]
           .transpose(0, 3, 1, 2), name="NCHW"),
    OpCase("FusedBatchNorm",
           lambda x, s, o, m, v: list(tf.nn.fused_batch_norm(x, s, o, m, v,
                                                             is_training=False)),
           [_BN_X, _BN_SCALE, _BN_OFFSET, randn(3, seed=7), randu(3, seed=8)],
           reference=lambda x, s, o, m, v: [(x - m) / np.sqrt(v + 1e-3) * s + o, m, v],
           grad_inputs=(0, 1, 2), name="inference"),
    OpCase("FusedBatchNormGrad",
           lambda g, x, s, m, i: _op("FusedBatchNormGrad", g, x, s, m, i, epsilon=1e-3,
                                     data_format="NHWC", is_training=True),
           [randn(2, 3, 2, 3, seed=9), _BN_X, _BN_SCALE, randn(3, seed=7), randu(3, seed=8)],
           reference=lambda g, x, s, m, i: np_batch_norm_grad(g, x, s, m, i, True),
           grad=False),
    OpCase("FusedBatchNormGrad",
           lambda g, x, s, m, i: _op("FusedBatchNormGrad", g, x, s, m, i, epsilon=1e-3,
                                     data_format="NCHW", is_training=False),
           [randn(2, 3, 2, 3, seed=9), _BN_X, _BN_SCALE, randn(3, seed=7), randu(3, seed=8)],
           reference=lambda g, x, s, m, i: np_batch_norm_grad(g, x, s, m, i, False,
                                                              axes=(0, 2, 3)),
           grad=False, name="NCHW-inference"),
    # -- embedding shard ids ---------------------------------------------------------------
    OpCase("EmbeddingShardIds", lambda ids: _op("EmbeddingShardIds", ids, sizes=[3, 2, 2]),
           [np.array([[0, 1, 2], [3, 4, 5], [6, 0, 4]], np.int64)],
           reference=lambda ids: np.array([[0, 3, 5], [1, 4, 6], [2, 0, 4]], np.int64),
           grad=False),
    # -- cross entropies -------------------------------------------------------------------
    OpCase("SoftmaxCrossEntropyWithLogits",
           lambda z, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x),
           [_LABELS, randn(4, 5, seed=4)],
           reference=lambda z, x: -(z * np_log_softmax(x)).sum(-1)),
    OpCase("SoftmaxCrossEntropyWithLogits",
           lambda z, x: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x, dim=0),
           [_LABELS, randn(4, 5, seed=4)],
           reference=lambda z, x: -(z * np_log_softmax(x, 0)).sum(0), grad_inputs=(1,),
           name="dim0"),
    OpCase("SparseSoftmaxCrossEntropyWithLogits",
           lambda t, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=t, logits=x),
           [_SPARSE, randn(4, 5, seed=4)],
           reference=lambda t, x: -np_log_softmax(x)[np.arange(4), t]),
    OpCase("SparseSoftmaxCrossEntropyWithLogits",
           lambda t, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=t, logits=x),
           [_SPARSE.reshape(2, 2).astype(np.int64), randn(2, 2, 5, seed=4)],
           reference=lambda t, x: -np.take_along_axis(np_log_softmax(x), t[..., None],
                                                      -1)[..., 0], name="rank3"),
    OpCase("SigmoidCrossEntropyWithLogits",
           lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
           [randu(3, 4, low=0, high=1), _X * 3],
           reference=lambda z, x: -z * np.log(np_sigmoid(x)) - (1 - z) * np.log(
               1 - np_sigmoid(x))),
    # -- top k -----------------------------------------------------------------------------
    OpCase("InTopK", lambda p, t: tf.nn.in_top_k(p, t, 2),
           [np.array([[0.1, 0.3, 0.3, 0.2], [0.5, 0.1, 0.2, 0.2], [1, 2, 3, np.nan]],
                     np.float32), np.array([2, 3, 0], np.int32)],
           reference=lambda p, t: np.array([True, True, False]), grad=False),
    OpCase("TopKV2", lambda x: list(tf.nn.top_k(x, 2)), [_X],
           reference=lambda x: [np.sort(x, -1)[:, ::-1][:, :2],
                                np.argsort(-x, -1)[:, :2].astype(np.int32)]),
    OpCase("TopKV2", lambda x: list(tf.nn.top_k(x)),
           [np.array([[1, 3, 3, 0], [2, 2, 1, 2]], np.int32)],
           reference=lambda x: [np.array([[3], [2]], np.int32),
                                np.array([[1], [0]], np.int32)], grad=False, name="ties"),
    OpCase("TopKGrad", lambda g, i, s: _op("TopKGrad", g, i, s),
           [randn(2, 2), np.array([[3, 0], [1, 2]], np.int32), np.array([2, 4], np.int32)],
           reference=lambda g, i, s: np.array([[g[0, 1], 0, 0, g[0, 0]],
                                               [0, g[1, 0], g[1, 1], 0]]), grad=False),

    OpCase("Select", tf.nn.selu, [randn(2, 3)], name="selu",
           reference=lambda x: 1.0507009873554805 * np.where(
               x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0)))),
    OpCase("Sigmoid", tf.nn.swish, [randn(2, 3)], name="swish",
           reference=lambda x: x / (1 + np.exp(-x))),
    OpCase("ConcatV2", tf.nn.crelu, [randn(2, 3)], name="crelu",
           reference=lambda x: np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], -1)),
    OpCase("ConcatV2", lambda x: tf.nn.crelu(x, axis=0), [randn(2, 3)], name="crelu-axis0",
           reference=lambda x: np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], 0)),
]
