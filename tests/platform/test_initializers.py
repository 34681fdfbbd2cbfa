"""Initializers (values, statistics, fans, dtypes) and random-seed reproducibility."""
import numpy as np
import pytest

import actorflow as tf
from actorflow.init_ops import compute_fans


def _run(t):
    with tf.Session() as sess:
        return sess.run(t)


# -- constant initializers -------------------------------------------------------------------
def test_zeros_ones():
    z = _run(tf.zeros_initializer()([2, 3]))
    o = _run(tf.ones_initializer(dtype=tf.int32)([4]))
    np.testing.assert_array_equal(z, np.zeros((2, 3), np.float32))
    assert z.dtype == np.float32
    np.testing.assert_array_equal(o, np.ones(4, np.int32))
    assert o.dtype == np.int32
    assert _run(tf.zeros_initializer()([2], dtype=tf.float64)).dtype == np.float64


def test_constant_scalar_list_and_array():
    np.testing.assert_array_equal(_run(tf.constant_initializer(3.0)([2, 2])),
                                  np.full((2, 2), 3.0, np.float32))
    np.testing.assert_array_equal(_run(tf.constant_initializer([1, 2, 3, 4, 5, 6])([2, 3])),
                                  np.arange(1, 7, dtype=np.float32).reshape(2, 3))
    arr = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(_run(tf.constant_initializer(arr)([2, 3])),
                                  arr.reshape(2, 3))
    # a shorter list is padded with its last value (TF 1.x, verify_shape=False)
    np.testing.assert_array_equal(_run(tf.constant_initializer([1, 2])([4])), [1, 2, 2, 2])


def test_constant_verify_shape_and_bad_value():
    with pytest.raises(ValueError):
        tf.constant_initializer([1, 2], verify_shape=True)([4])
    with pytest.raises(ValueError):
        tf.constant_initializer([1, 2, 3])([2])
    with pytest.raises(TypeError, match="Invalid type for initial value"):
        tf.constant_initializer({"a": 1})


def test_identity_initializer():
    np.testing.assert_array_equal(_run(tf.identity_initializer(gain=2.0)([2, 3])),
                                  2 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        tf.identity_initializer()([2, 2, 2])


# -- random initializers ---------------------------------------------------------------------
def test_random_normal_and_truncated_normal_statistics():
    n = _run(tf.random_normal_initializer(1.0, 0.5, seed=1)([200, 100]))
    t = _run(tf.truncated_normal_initializer(0.0, 2.0, seed=2)([200, 100]))
    assert n.dtype == np.float32 and n.shape == (200, 100)
    assert abs(n.mean() - 1.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    assert np.abs(t).max() <= 4.0 and abs(t.std() - 2 * 0.8796) < 0.05


def test_random_uniform_float_and_int():
    u = _run(tf.random_uniform_initializer(-2.0, 3.0, seed=1)([10000]))
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.05
    i = _run(tf.random_uniform_initializer(0, 4, seed=1, dtype=tf.int32)([1000]))
    assert i.dtype == np.int32 and set(np.unique(i)) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="Must specify maxval"):
        tf.random_uniform_initializer(dtype=tf.int32)([3])


def test_float_only_initializers_reject_int_dtype():
    with pytest.raises(ValueError, match="Expected floating point type"):
        tf.random_normal_initializer(dtype=tf.int32)
    with pytest.raises(ValueError, match="Expected floating point type"):
        tf.glorot_uniform_initializer()([2, 2], dtype=tf.int32)


@pytest.mark.parametrize("shape,fans", [
    ([], (1, 1)), ([5], (5, 5)), ([3, 7], (3, 7)),
    ([3, 3, 4, 8], (36, 72)), ([2, 5, 6], (10, 12)),
])
def test_compute_fans(shape, fans):
    assert compute_fans(shape) == fans


@pytest.mark.parametrize("mode,n", [("fan_in", 36), ("fan_out", 72), ("fan_avg", 54)])
def test_variance_scaling_uniform_limit_uses_conv_fans(mode, n):
    x = _run(tf.variance_scaling_initializer(2.0, mode, "uniform", seed=3)([3, 3, 4, 8]))
    limit = np.sqrt(3 * 2.0 / n)
    assert np.abs(x).max() <= limit
    assert np.abs(x).max() > 0.9 * limit


def test_variance_scaling_normal_variants_have_target_std():
    shape = [400, 250]
    target = np.sqrt(1.5 / 400)
    t = _run(tf.variance_scaling_initializer(1.5, "fan_in", "truncated_normal", seed=4)(shape))
    u = _run(tf.variance_scaling_initializer(1.5, "fan_in", "untruncated_normal",
                                             seed=5)(shape))
    n = _run(tf.variance_scaling_initializer(1.5, "fan_in", "normal", seed=6)(shape))
    for x in (t, u, n):
        assert abs(x.std() / target - 1) < 0.02
    assert np.abs(t).max() <= 2 * target / 0.8796 + 1e-6
    assert np.abs(u).max() > 2.5 * target


def test_variance_scaling_bad_arguments():
    with pytest.raises(ValueError, match="scale"):
        tf.variance_scaling_initializer(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        tf.variance_scaling_initializer(mode="fan_sideways")
    with pytest.raises(ValueError, match="distribution"):
        tf.variance_scaling_initializer(distribution="cauchy")


def test_glorot_initializers():
    shape = [300, 200]
    u = _run(tf.glorot_uniform_initializer(seed=1)(shape))
    n = _run(tf.glorot_normal_initializer(seed=2)(shape, dtype=tf.float64))
    limit = np.sqrt(6.0 / 500)
    assert np.abs(u).max() <= limit and abs(u.std() - limit / np.sqrt(3)) < 0.01 * limit
    assert n.dtype == np.float64 and abs(n.std() / np.sqrt(2.0 / 500) - 1) < 0.02


def test_he_and_lecun():
    x = _run(tf.initializers.he_normal(seed=1)([500, 100]))
    assert abs(x.std() / np.sqrt(2.0 / 500) - 1) < 0.03
    y = _run(tf.initializers.lecun_uniform(seed=1)([500, 100]))
    assert np.abs(y).max() <= np.sqrt(3.0 / 500)


@pytest.mark.parametrize("shape", [[5, 3], [3, 5], [2, 3, 4], [4, 4]])
def test_orthogonal(shape):
    q = _run(tf.orthogonal_initializer(gain=2.0, seed=1)(shape)).astype(np.float64)
    assert q.shape == tuple(shape)
    flat = q.reshape(-1, shape[-1]) / 2.0
    if flat.shape[0] >= flat.shape[1]:
        np.testing.assert_allclose(flat.T @ flat, np.eye(flat.shape[1]), atol=1e-5)
    else:
        np.testing.assert_allclose(flat @ flat.T, np.eye(flat.shape[0]), atol=1e-5)


def test_orthogonal_needs_two_dims():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        tf.orthogonal_initializer()([4])


def test_initializer_config_round_trip():
    init = tf.variance_scaling_initializer(2.0, "fan_out", "uniform", seed=7)
    again = tf.VarianceScaling.from_config(init.get_config())
    assert (again.scale, again.mode, again.distribution, again.seed) == (2.0, "fan_out",
                                                                         "uniform", 7)


def test_get_variable_with_each_initializer():
    inits = [tf.zeros_initializer(), tf.ones_initializer(), tf.constant_initializer(2.0),
             tf.random_normal_initializer(), tf.truncated_normal_initializer(),
             tf.random_uniform_initializer(), tf.variance_scaling_initializer(),
             tf.glorot_uniform_initializer(), tf.glorot_normal_initializer(),
             tf.orthogonal_initializer(), tf.uniform_unit_scaling_initializer()]
    vs = [tf.get_variable(f"v{i}", [4, 3], initializer=init) for i, init in enumerate(inits)]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        vals = sess.run(vs)
    assert all(v.shape == (4, 3) and v.dtype == np.float32 for v in vals)
    assert vals[2][0, 0] == 2.0


# -- seeds -----------------------------------------------------------------------------------
def _sample_graph(graph_seed=None, op_seed=None):
    g = tf.Graph()
    with g.as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        outs = [tf.random_normal([5], seed=op_seed), tf.random_uniform([5], seed=op_seed),
                tf.truncated_normal([5], seed=op_seed),
                tf.random_uniform([5], maxval=100, dtype=tf.int32, seed=op_seed),
                tf.multinomial([[0.0, 0.0, 0.0]], 8, seed=op_seed),
                tf.random_shuffle(np.arange(10), seed=op_seed)]
        v = tf.get_variable("w", [3, 3])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = sess.run(outs + [v])
            second = sess.run(outs)
    return first, second


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_graph_seed_reproduces_across_graphs_and_sessions():
    a1, a2 = _sample_graph(graph_seed=42)
    b1, b2 = _sample_graph(graph_seed=42)
    assert _same(a1, b1) and _same(a2, b2)
    # successive runs in one session continue the sequence
    assert not np.array_equal(a1[0], a2[0])
    c1, _ = _sample_graph(graph_seed=43)
    assert not np.array_equal(a1[0], c1[0])


def test_op_seed_alone_is_reproducible():
    a1, _ = _sample_graph(op_seed=7)
    b1, _ = _sample_graph(op_seed=7)
    assert _same(a1[:-1], b1[:-1])  # the variable's initializer has no op seed


def test_unseeded_ops_differ():
    a1, _ = _sample_graph()
    b1, _ = _sample_graph()
    assert not np.array_equal(a1[0], b1[0])
    assert not np.array_equal(a1[-1], b1[-1])


def test_same_graph_new_session_restarts_sequence():
    tf.set_random_seed(0)
    x = tf.random_normal([4])
    with tf.Session() as s1:
        v1 = s1.run(x)
    with tf.Session() as s2:
        v2 = s2.run(x)
    np.testing.assert_array_equal(v1, v2)


def test_distinct_ops_get_distinct_streams_under_graph_seed():
    tf.set_random_seed(1)
    a, b = tf.random_normal([6]), tf.random_normal([6])
    av, bv = _run([a, b])
    assert not np.array_equal(av, bv)


def test_random_crop_covers_offsets_and_rejects_oversized_size():
    x = np.arange(4 * 5).reshape(4, 5)
    crop = tf.random_crop(x, [2, 3], seed=3)
    starts = set()
    with tf.Session() as sess:
        for _ in range(60):
            c = sess.run(crop)
            starts.add(divmod(int(c[0, 0]), 5))
            assert c.shape == (2, 3)
    assert starts == {(i, j) for i in range(3) for j in range(3)}
    with pytest.raises(ValueError, match="need value.shape >= size"):
        tf.random_crop(x, [5, 3])
    p = tf.placeholder(tf.float32, [None, 5])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.OpError):
            sess.run(tf.random_crop(p, [3, 3]), {p: np.zeros((2, 5))})


def test_shape_arguments_lists_of_tensors_and_shape_tensors():
    x = tf.placeholder(tf.float32, [None, 3])
    a = tf.random_normal([tf.shape(x)[0], 3])
    b = tf.random_uniform(tf.shape(x), dtype=tf.float64)
    c = tf.truncated_normal(tf.TensorShape([2, 2]))
    d = tf.random.categorical([[0.0, 1.0]], 4, dtype=tf.int32)
    assert a.get_shape().as_list() == [None, 3] and b.get_shape().as_list() == [None, 3]
    assert d.dtype == tf.int32 and d.get_shape().as_list() == [1, 4]
    with tf.Session() as sess:
        av, bv, cv, dv = sess.run([a, b, c, d], {x: np.zeros((4, 3))})
    assert av.shape == (4, 3) and bv.shape == (4, 3) and bv.dtype == np.float64
    assert cv.shape == (2, 2) and dv.shape == (1, 4)
    with pytest.raises(TypeError, match="int32 or int64"):
        tf.random_normal(tf.constant([2.0, 3.0]))
    with pytest.raises(ValueError, match="floating point"):
        tf.random_normal([2], dtype=tf.int32)


def test_uniform_int_needs_minval_below_maxval():
    lo = tf.placeholder(tf.int32, [])
    u = tf.random_uniform([3], lo, 5, dtype=tf.int32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Need minval < maxval"):
            sess.run(u, {lo: 5})
