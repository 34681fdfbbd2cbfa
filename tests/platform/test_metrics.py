"""tf.metrics: streaming values over several update batches against NumPy."""
import numpy as np
import pytest

import actorflow as tf



def _batches(n=3, size=7, seed=0):
    r = np.random.default_rng(seed)
    return [(r.integers(0, 2, size), r.uniform(0, 1, size).astype(np.float32),
             r.uniform(0, 2, size).astype(np.float32)) for _ in range(n)]


def _stream(value, update, feeds):
    """Runs update for each feed dict; returns the update results and the final value."""
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(value) == 0.0  # nothing seen yet
        ups = [sess.run(update, f) for f in feeds]
        return ups, sess.run(value)


def test_metric_variables_are_local_and_not_trainable():
    x = tf.placeholder(tf.float32, [None])
    tf.metrics.mean(x)
    local = tf.local_variables()
    assert [v.op.name for v in local] == ["mean/total", "mean/count"]
    assert not tf.trainable_variables() and not tf.global_variables()
    assert tf.get_collection(tf.metrics.METRIC_VARIABLES) == local


def test_local_variables_initializer_resets_the_metric():
    x = tf.placeholder(tf.float32, [None])
    m, update = tf.metrics.mean(x)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(update, {x: [1.0, 3.0]})
        assert sess.run(m) == 2.0
        sess.run(tf.local_variables_initializer())
        assert sess.run(m) == 0.0
        sess.run(update, {x: [5.0]})
        assert sess.run(m) == 5.0


@pytest.mark.parametrize("weighted", [False, True])
def test_mean(weighted):
    x = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    m, update = tf.metrics.mean(x, weights=w if weighted else None)
    data = _batches()
    feeds = [{x: v, w: wt} for _, v, wt in data]
    ups, final = _stream(m, update, feeds)
    vals = np.concatenate([v for _, v, _ in data])
    wts = np.concatenate([wt for _, _, wt in data]) if weighted else np.ones_like(vals)
    for k, up in enumerate(ups):
        n = 7 * (k + 1)
        np.testing.assert_allclose(up, np.average(vals[:n], weights=wts[:n]), rtol=1e-5)
    np.testing.assert_allclose(final, np.average(vals, weights=wts), rtol=1e-5)


def test_mean_with_weights_of_a_trailing_unit_dim():
    x = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None, 1])
    m, update = tf.metrics.mean(x, weights=w)
    _, final = _stream(m, update, [{x: [1.0, 2.0, 4.0], w: [[1.0], [0.0], [3.0]]}])
    np.testing.assert_allclose(final, 13.0 / 4.0)


def test_accuracy_streams_with_weights_and_squeezable_predictions():
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.int32, [None, 1])
    w = tf.placeholder(tf.float32, [None])
    acc, update = tf.metrics.accuracy(labels, preds, weights=w)
    data = [([1, 2, 3], [[1], [2], [0]], [1.0, 1.0, 2.0]), ([0, 5], [[0], [4]], [0.5, 0.0])]
    ups, final = _stream(acc, update, [{labels: a, preds: b, w: c} for a, b, c in data])
    np.testing.assert_allclose(ups, [2.0 / 4.0, 2.5 / 4.5], rtol=1e-6)
    np.testing.assert_allclose(final, 2.5 / 4.5, rtol=1e-6)
    assert acc.op.name == "accuracy/value" and update.op.name == "accuracy/update_op"


def test_accuracy_rejects_incompatible_shapes():
    with pytest.raises(ValueError, match="incompatible"):
        tf.metrics.accuracy(tf.zeros([3], tf.int32), tf.zeros([4], tf.int32))


def _confusion(labels, preds, weights):
    lab, pred = labels.astype(bool), preds.astype(bool)
    return {"tp": weights[lab & pred].sum(), "fp": weights[~lab & pred].sum(),
            "tn": weights[~lab & ~pred].sum(), "fn": weights[lab & ~pred].sum()}


@pytest.mark.parametrize("name", ["true_positives", "false_positives", "true_negatives",
                                  "false_negatives", "precision", "recall"])
def test_confusion_counts_and_ratios(name):
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    value, update = getattr(tf.metrics, name)(labels, preds, weights=w)
    data = _batches(seed=4)
    feeds = [{labels: lab, preds: np.round(p), w: wt} for lab, p, wt in data]
    ups, final = _stream(value, update, feeds)
    for k, up in enumerate(ups):
        seen = data[:k + 1]
        c = _confusion(np.concatenate([d[0] for d in seen]),
                       np.round(np.concatenate([d[1] for d in seen])),
                       np.concatenate([d[2] for d in seen]))
        short = {"true_positives": "tp", "false_positives": "fp", "true_negatives": "tn",
                 "false_negatives": "fn"}
        if name in short:
            want = c[short[name]]
        elif name == "precision":
            want = c["tp"] / (c["tp"] + c["fp"])
        else:
            want = c["tp"] / (c["tp"] + c["fn"])
        np.testing.assert_allclose(up, want, rtol=1e-5)
    np.testing.assert_allclose(final, ups[-1], rtol=1e-6)


def test_precision_is_zero_without_positive_predictions():
    labels = tf.constant([1, 1, 0])
    preds = tf.constant([0, 0, 0])
    p, update = tf.metrics.precision(labels, preds)
    ups, final = _stream(p, update, [None])
    assert ups == [0.0] and final == 0.0


@pytest.mark.parametrize("name,fn", [
    ("mean_squared_error", lambda d: d * d),
    ("mean_absolute_error", np.abs),
    ("root_mean_squared_error", lambda d: d * d),
])
def test_regression_errors(name, fn):
    labels = tf.placeholder(tf.float32, [None])
    preds = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    value, update = getattr(tf.metrics, name)(labels, preds, weights=w)
    data = _batches(seed=7)
    r = np.random.default_rng(8)
    targets = [r.uniform(0, 1, 7).astype(np.float32) for _ in data]
    feeds = [{labels: t, preds: p, w: wt} for t, (_, p, wt) in zip(targets, data)]
    ups, final = _stream(value, update, feeds)
    diffs = np.concatenate([p - t for t, (_, p, _) in zip(targets, data)])
    wts = np.concatenate([wt for _, _, wt in data])
    for k, up in enumerate(ups):
        n = 7 * (k + 1)
        want = np.average(fn(diffs[:n]), weights=wts[:n])
        if name == "root_mean_squared_error":
            want = np.sqrt(want)
        np.testing.assert_allclose(up, want, rtol=1e-5)
    np.testing.assert_allclose(final, ups[-1], rtol=1e-6)


def _tf_auc(labels, preds, weights, num_thresholds=200, curve="ROC", method="trapezoidal"):
    """TF 1.x's AUC algorithm, written directly in NumPy (float64)."""
    eps = 1e-7
    thresholds = np.array([-eps] + [(i + 1) / (num_thresholds - 1)
                                    for i in range(num_thresholds - 2)] + [1 + eps])
    above = preds[None, :] > thresholds[:, None].astype(np.float32)
    lab = labels.astype(bool)[None, :]
    tp = ((lab & above) * weights).sum(1)
    fn = ((lab & ~above) * weights).sum(1)
    tn = ((~lab & ~above) * weights).sum(1)
    fp = ((~lab & above) * weights).sum(1)
    if method == "careful_interpolation":
        return _interpolated_pr_auc(tp, fp, fn)
    rec = (tp + 1e-6) / (tp + fn + 1e-6)
    if curve == "ROC":
        x, y = fp / (fp + tn + 1e-6), rec
    else:
        x, y = rec, (tp + 1e-6) / (tp + fp + 1e-6)
    heights = {"trapezoidal": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
               "majoring": np.maximum(y[:-1], y[1:])}[method]
    return np.sum((x[:-1] - x[1:]) * heights)


def _div0(a, b):
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def _interpolated_pr_auc(tp, fp, fn):
    """TF's careful interpolation of the PR curve, in NumPy."""
    dtp, p = tp[:-1] - tp[1:], tp + fp
    slope = _div0(dtp, np.maximum(p[:-1] - p[1:], 0))
    intercept = tp[1:] - slope * p[1:]
    ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _div0(p[:-1], np.maximum(p[1:], 0)), 1.0)
    return np.sum(_div0(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)))


@pytest.mark.parametrize("curve,method", [("ROC", "trapezoidal"), ("PR", "trapezoidal"),
                                          ("ROC", "minoring"), ("PR", "majoring"),
                                          ("PR", "careful_interpolation")])
def test_auc_against_numpy(curve, method):
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    value, update = tf.metrics.auc(labels, preds, weights=w, curve=curve,
                                   summation_method=method)
    data = _batches(seed=11, size=20)
    ups, final = _stream(value, update, [{labels: lab, preds: p, w: wt}
                                         for lab, p, wt in data])
    for k, up in enumerate(ups):
        seen = data[:k + 1]
        want = _tf_auc(*(np.concatenate([d[i] for d in seen]) for i in range(3)),
                       curve=curve, method=method)
        np.testing.assert_allclose(up, want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(final, ups[-1], rtol=1e-6)


def test_auc_is_close_to_the_exact_roc_area():
    r = np.random.default_rng(3)
    labels = r.integers(0, 2, 400)
    preds = np.clip(labels * 0.3 + r.uniform(0, 0.7, 400), 0, 1).astype(np.float32)
    value, update = tf.metrics.auc(tf.constant(labels), tf.constant(preds))
    _, final = _stream(value, update, [None])
    pos, neg = preds[labels == 1], preds[labels == 0]
    exact = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) \
        / (pos.size * neg.size)
    assert abs(final - exact) < 0.01


def test_pr_auc_careful_interpolation_of_a_perfect_ranking_is_one():
    labels = tf.constant([0, 0, 1, 1])
    preds = tf.constant([0.1, 0.2, 0.8, 0.9])
    value, update = tf.metrics.auc(labels, preds, curve="PR",
                                   summation_method="careful_interpolation")
    _, final = _stream(value, update, [None])
    np.testing.assert_allclose(final, 1.0, rtol=1e-5)


def test_auc_rejects_unknown_curve_and_method():
    with pytest.raises(ValueError, match="Curve"):
        tf.metrics.auc(tf.constant([1]), tf.constant([0.5]), curve="XYZ")
    with pytest.raises(ValueError, match="summation_method"):
        tf.metrics.auc(tf.constant([1]), tf.constant([0.5]), summation_method="simpson")


def test_collections_and_mean_tensor():
    x = tf.placeholder(tf.float32, [2])
    value, update = tf.metrics.mean_tensor(x, metrics_collections=["m"],
                                           updates_collections=["u"])
    assert tf.get_collection("m") == [value] and tf.get_collection("u") == [update]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(update, {x: [1.0, 2.0]})
        np.testing.assert_allclose(sess.run(update, {x: [3.0, 6.0]}), [2.0, 4.0])
