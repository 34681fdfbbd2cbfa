"""tf.losses: values against NumPy formulas, weights and reductions, label smoothing, and the
loss collections."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf

R = tf.losses.Reduction


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sum_by_nonzero(losses, weights):
    w = np.broadcast_to(weights, losses.shape)
    return (losses * w).sum() / max((w != 0).sum(), 1)


RNG = np.random.RandomState(0)
LOGITS = RNG.randn(4, 3).astype(np.float32)
ONEHOT = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
PRED = RNG.randn(4, 2).astype(np.float32)
LABELS = RNG.randn(4, 2).astype(np.float32)


# -- compute_weighted_loss -----------------------------------------------------------------
@pytest.mark.parametrize("weights", [1.0, 0.5, np.array([[1.0], [0.0], [2.0], [0.5]]),
                                     np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0],
                                               [0.0, 3.0]])])
def test_compute_weighted_loss_reductions(weights):
    losses = np.abs(PRED)
    w = np.broadcast_to(weights, losses.shape)
    expected = {
        R.NONE: losses * w,
        R.SUM: (losses * w).sum(),
        R.MEAN: (losses * w).sum() / w.sum(),
        R.SUM_OVER_BATCH_SIZE: (losses * w).sum() / losses.size,
        R.SUM_BY_NONZERO_WEIGHTS: _sum_by_nonzero(losses, weights),
    }
    got = {r: tf.losses.compute_weighted_loss(tf.constant(losses), weights, reduction=r)
           for r in expected}
    values = _run(got)
    for r, value in expected.items():
        np.testing.assert_allclose(values[r], value, rtol=1e-5, err_msg=r)
    assert len(tf.losses.get_losses()) == len(expected)


def test_default_reduction_is_sum_by_nonzero_weights_and_all_zero_weights_give_zero():
    losses = tf.constant(np.abs(PRED))
    a = tf.losses.compute_weighted_loss(losses, [[1.0], [0.0], [0.0], [1.0]])
    b = tf.losses.compute_weighted_loss(losses, 0.0)
    c = tf.losses.compute_weighted_loss(losses, np.zeros((4, 1)), reduction=R.MEAN)
    av, bv, cv = _run([a, b, c])
    np.testing.assert_allclose(av, np.abs(PRED)[[0, 3]].mean(), rtol=1e-6)
    assert bv == 0.0 and cv == 0.0


def test_compute_weighted_loss_bad_arguments_raise():
    losses = tf.constant(np.abs(PRED))
    with pytest.raises(ValueError, match="Reduction"):
        tf.losses.compute_weighted_loss(losses, reduction="mean")
    with pytest.raises(ValueError, match="broadcast"):
        tf.losses.compute_weighted_loss(losses, np.ones(4))
    with pytest.raises(ValueError, match="broadcast"):
        tf.losses.compute_weighted_loss(losses, np.ones((4, 3)))


def test_compute_weighted_loss_keeps_float64():
    loss = tf.losses.compute_weighted_loss(tf.constant(np.abs(PRED).astype(np.float64)))
    assert loss.dtype == tf.float64
    np.testing.assert_allclose(_run(loss), np.abs(PRED.astype(np.float64)).mean(), rtol=1e-12)


# -- regression losses ---------------------------------------------------------------------
def test_mean_squared_error_and_absolute_difference_with_weights():
    w = np.array([[1.0], [0.0], [2.0], [1.0]], np.float32)
    mse = tf.losses.mean_squared_error(LABELS, PRED, weights=w)
    mae = tf.losses.absolute_difference(tf.constant(LABELS), tf.constant(PRED))
    mse_sum = tf.losses.mean_squared_error(LABELS, PRED, reduction=R.SUM)
    a, b, c = _run([mse, mae, mse_sum])
    np.testing.assert_allclose(a, _sum_by_nonzero((PRED - LABELS) ** 2, w), rtol=1e-5)
    np.testing.assert_allclose(b, np.abs(PRED - LABELS).mean(), rtol=1e-5)
    np.testing.assert_allclose(c, ((PRED - LABELS) ** 2).sum(), rtol=1e-5)
    assert mse.op.name.startswith("mean_squared_error/")
    assert tf.losses.get_losses() == [mse, mae, mse_sum]


@pytest.mark.parametrize("delta", [1.0, 0.3])
def test_huber_loss(delta):
    err = np.abs(PRED * 2 - LABELS)
    ref = np.where(err <= delta, 0.5 * err ** 2, delta * (err - 0.5 * delta))
    loss = tf.losses.huber_loss(LABELS, PRED * 2, delta=delta)
    np.testing.assert_allclose(_run(loss), ref.mean(), rtol=1e-5)


def test_log_loss_hinge_loss_and_cosine_distance():
    p = 1 / (1 + np.exp(-PRED))
    y = (LABELS > 0).astype(np.float32)
    log = tf.losses.log_loss(y, p)
    hinge = tf.losses.hinge_loss(y, PRED)
    unit_a = PRED / np.linalg.norm(PRED, axis=1, keepdims=True)
    unit_b = LABELS / np.linalg.norm(LABELS, axis=1, keepdims=True)
    cos = tf.losses.cosine_distance(unit_b, unit_a, axis=1)
    lv, hv, cv = _run([log, hinge, cos])
    eps = 1e-7
    ref = -y * np.log(p + eps) - (1 - y) * np.log(1 - p + eps)
    np.testing.assert_allclose(lv, ref.mean(), rtol=1e-5)
    np.testing.assert_allclose(hv, np.maximum(0, 1 - (2 * y - 1) * PRED).mean(), rtol=1e-5)
    np.testing.assert_allclose(cv, (1 - (unit_a * unit_b).sum(1)).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="axis"):
        tf.losses.cosine_distance(unit_b, unit_a)


def test_bad_labels_and_shapes_raise():
    with pytest.raises(ValueError, match="labels"):
        tf.losses.mean_squared_error(None, PRED)
    with pytest.raises(ValueError, match="predictions"):
        tf.losses.absolute_difference(LABELS, None)
    with pytest.raises(ValueError, match="incompatible"):
        tf.losses.mean_squared_error(LABELS, PRED[:, :1].repeat(3, 1))


# -- cross entropies -----------------------------------------------------------------------
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_softmax_cross_entropy_with_weights_and_label_smoothing(smoothing):
    w = np.array([1.0, 0.0, 2.0, 0.5], np.float32)
    loss = tf.losses.softmax_cross_entropy(ONEHOT, LOGITS, weights=w,
                                           label_smoothing=smoothing)
    labels = ONEHOT * (1 - smoothing) + smoothing / 3
    per_row = -(labels * np.log(_softmax(LOGITS))).sum(1)
    np.testing.assert_allclose(_run(loss), _sum_by_nonzero(per_row, w), rtol=1e-5)
    assert loss.op.name.startswith("softmax_cross_entropy_loss/")


def test_softmax_cross_entropy_gradient_goes_to_logits_only():
    logits = tf.constant(LOGITS)
    labels = tf.constant(ONEHOT)
    loss = tf.losses.softmax_cross_entropy(labels, logits, label_smoothing=0.1)
    g_logits, g_labels = tf.gradients(loss, [logits, labels])
    assert g_labels is None
    smoothed = ONEHOT * 0.9 + 0.1 / 3
    np.testing.assert_allclose(_run(g_logits), (_softmax(LOGITS) - smoothed) / 4,
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_sigmoid_cross_entropy(smoothing):
    y = (LABELS > 0).astype(np.float32)
    loss = tf.losses.sigmoid_cross_entropy(y, PRED, label_smoothing=smoothing)
    ys = y * (1 - smoothing) + 0.5 * smoothing
    ref = np.maximum(PRED, 0) - PRED * ys + np.log1p(np.exp(-np.abs(PRED)))
    np.testing.assert_allclose(_run(loss), ref.mean(), rtol=1e-5)


def test_sparse_softmax_cross_entropy_vector_and_column_labels():
    ids = np.array([0, 2, 1, 2], np.int32)
    per_row = -np.log(_softmax(LOGITS))[np.arange(4), ids]
    a = tf.losses.sparse_softmax_cross_entropy(ids, LOGITS)
    b = tf.losses.sparse_softmax_cross_entropy(ids[:, None], LOGITS,
                                               weights=np.array([[1.0], [0.0], [1.0], [3.0]]))
    av, bv = _run([a, b])
    np.testing.assert_allclose(av, per_row.mean(), rtol=1e-5)
    np.testing.assert_allclose(bv, _sum_by_nonzero(per_row, np.array([1.0, 0, 1, 3])),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="labels"):
        tf.losses.sparse_softmax_cross_entropy(None, LOGITS)


# -- collections ---------------------------------------------------------------------------
def test_loss_collection_argument_and_add_loss():
    a = tf.losses.mean_squared_error(LABELS, PRED, loss_collection=None)
    b = tf.losses.mean_squared_error(LABELS, PRED, loss_collection="mine")
    assert tf.losses.get_losses() == []
    assert tf.losses.get_losses(loss_collection="mine") == [b]
    tf.losses.add_loss(a)
    assert tf.losses.get_losses() == [a]


def test_total_and_regularization_losses():
    w = tf.get_variable("w", [3], initializer=tf.constant_initializer(2.0),
                        regularizer=tf.contrib.layers.l2_regularizer(0.5))
    with tf.name_scope("head"):
        mse = tf.losses.mean_squared_error(LABELS, PRED)
    extra = tf.reduce_sum(w)
    tf.losses.add_loss(extra)
    reg = tf.losses.get_regularization_loss()
    total = tf.losses.get_total_loss()
    no_reg = tf.losses.get_total_loss(add_regularization_losses=False)
    scoped = tf.losses.get_losses(scope="head")
    assert scoped == [mse]
    assert len(tf.losses.get_regularization_losses()) == 1
    mv, rv, tv, nv = _run([mse, reg, total, no_reg])
    np.testing.assert_allclose(rv, 0.5 * 12 / 2)
    np.testing.assert_allclose(tv, mv + 6.0 + rv, rtol=1e-6)
    np.testing.assert_allclose(nv, mv + 6.0, rtol=1e-6)


def test_empty_collections():
    assert _run(tf.losses.get_regularization_loss()) == 0.0
    with pytest.raises(ValueError, match="No losses"):
        tf.losses.get_total_loss()
