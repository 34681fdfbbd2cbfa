"""TF 1.x helpers built from existing ops: tf.norm, tf.trace (ops/linalg.py), tf.log_sigmoid
(ops/unary.py), tf.sequence_mask, tf.eye, tf.diag, tf.diag_part (ops/indexing.py),
tf.matrix_transpose (ops/array.py) and tf.make_template (variable_scope.py)."""
import numpy as np
import pytest

import actorflow as tf

X = np.array([[3.0, -4.0, 1.0], [1.0, 2.0, -2.0]])


def _run(*fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(list(fetches), feed)


@pytest.mark.parametrize("ord_, axis", [("euclidean", None), ("euclidean", 1), (1, 0),
                                        (np.inf, 1), (3, 1), (0.5, None), ("fro", (0, 1)),
                                        (1, (0, 1)), (np.inf, (0, 1)), ("euclidean", (1, 0))])
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm_matches_numpy(ord_, axis, keepdims):
    t = tf.constant(X)
    out, = _run(tf.norm(t, ord=ord_, axis=axis, keepdims=keepdims))
    np_ord = None if ord_ == "euclidean" else ord_
    if axis is None:
        ref = np.linalg.norm(X.ravel(), 2 if np_ord is None else np_ord)
        ref = np.reshape(ref, (1, 1)) if keepdims else ref
    else:
        ref = np.linalg.norm(X, np_ord, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    assert np.shape(out) == np.shape(ref)


def test_norm_gradient_and_errors():
    v = tf.constant([3.0, 4.0])
    g, = tf.gradients(tf.norm(v), v)
    np.testing.assert_allclose(_run(g)[0], [0.6, 0.8], rtol=1e-6)
    assert tf.norm(tf.ones([2, 3]), axis=1, keep_dims=True).shape.as_list() == [2, 1]
    with pytest.raises(ValueError):
        tf.norm(v, ord="fro")  # Frobenius needs a matrix (axis pair)
    with pytest.raises(ValueError):
        tf.norm(tf.ones([2, 2]), ord=2, axis=[0, 1])  # spectral norm not supported
    with pytest.raises(ValueError):
        tf.norm(v, ord=-1)
    with pytest.raises(ValueError):
        tf.norm(tf.ones([2, 2, 2]), axis=[0, 1, 2])


def test_trace_and_log_sigmoid():
    m = np.arange(9.0).reshape(3, 3)
    batch = np.arange(8.0).reshape(2, 2, 2)
    xs = np.array([-100.0, -1.0, 0.0, 2.0, 100.0])
    tr, trb, ls = _run(tf.trace(m), tf.trace(batch), tf.log_sigmoid(xs))
    assert tr == 12.0
    np.testing.assert_allclose(trb, [3.0, 11.0])
    np.testing.assert_allclose(ls, -np.logaddexp(0.0, -xs), rtol=1e-12)


def test_sequence_mask():
    lengths = tf.placeholder(tf.int32, [None])
    default = tf.sequence_mask(lengths)
    fixed = tf.sequence_mask([[1, 0], [2, 3]], 3, dtype=tf.int32)
    d, f = _run(default, fixed, feed={lengths: [2, 0, 1]})
    np.testing.assert_array_equal(d, [[True, True], [False, False], [True, False]])
    np.testing.assert_array_equal(f, [[[1, 0, 0], [0, 0, 0]], [[1, 1, 0], [1, 1, 1]]])
    assert f.dtype == np.int32 and fixed.shape.as_list() == [2, 2, 3]
    with pytest.raises(TypeError):
        tf.sequence_mask([1.5, 2.0])


def test_eye_static_dynamic_and_batched():
    n = tf.placeholder(tf.int32, [])
    static = tf.eye(2, 3, dtype=tf.int32)
    batched = tf.eye(2, batch_shape=[2, 1])
    dynamic = tf.eye(n, batch_shape=[2])
    s, b, d = _run(static, batched, dynamic, feed={n: 3})
    np.testing.assert_array_equal(s, np.eye(2, 3))
    assert s.dtype == np.int32
    assert static.shape.as_list() == [2, 3] and batched.shape.as_list() == [2, 1, 2, 2]
    np.testing.assert_array_equal(b, np.broadcast_to(np.eye(2), (2, 1, 2, 2)))
    np.testing.assert_array_equal(d, np.broadcast_to(np.eye(3), (2, 3, 3)))


def test_matrix_transpose_diag_and_diag_part():
    a = np.arange(24.0).reshape(2, 3, 4)
    v = tf.placeholder(tf.float64, [None])
    mt, dg, dp, dpb = _run(tf.matrix_transpose(a), tf.diag(v), tf.diag_part(X[:, :2]),
                           tf.matrix_diag_part(np.arange(8.0).reshape(2, 2, 2)),
                           feed={v: [1.0, 2.0, 3.0]})
    np.testing.assert_array_equal(mt, a.transpose(0, 2, 1))
    np.testing.assert_array_equal(dg, np.diag([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(dp, [3.0, 2.0])
    np.testing.assert_array_equal(dpb, [[0.0, 3.0], [4.0, 7.0]])
    g, = tf.gradients(tf.reduce_sum(tf.diag(v) * 2.0), v)
    np.testing.assert_array_equal(_run(g, feed={v: [1.0, 2.0]})[0], [2.0, 2.0])
    with pytest.raises(ValueError):
        tf.matrix_transpose(tf.ones([3]))
    with pytest.raises(ValueError):
        tf.diag_part(tf.ones([2, 3]))
    with pytest.raises(ValueError):
        tf.diag(tf.ones([2, 2]))


def test_make_template_shares_variables_and_binds_kwargs():
    def affine(x, bias):
        w = tf.get_variable("w", [], initializer=tf.constant_initializer(2.0))
        return x * w + bias

    tmpl = tf.make_template("affine", affine, bias=1.0)
    assert tmpl.variable_scope is None and tmpl.variables == []
    a, b = tmpl(tf.constant(1.0)), tmpl(tf.constant(3.0))
    other = tf.make_template("affine", affine, bias=0.0)
    c = other(tf.constant(1.0))
    assert [v.name for v in tf.global_variables()] == ["affine/w:0", "affine_1/w:0"]
    assert tmpl.variable_scope_name == "affine" and other.variable_scope_name == "affine_1"
    early = tf.make_template("early", affine, create_scope_now_=True, bias=0.0)
    with tf.variable_scope("elsewhere"):
        d = early(tf.constant(1.0))
        early(tf.constant(1.0))
    assert early.variables[0].name == "early/w:0"
    assert len(tf.global_variables()) == 3
    assert _run(a, b, c, d) == [3.0, 7.0, 2.0, 2.0]
    with pytest.raises(ValueError):
        tf.make_template("bad", 3)
