"""tf.IndexedSlices: the object, its value and dense conversion; sparse gradients of gather,
embedding_lookup and the sampled losses; their aggregation in tf.gradients; clip ops."""
import warnings

import numpy as np
import pytest

import actorflow as tf


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


# -- the object ------------------------------------------------------------------------------
def test_indexed_slices_properties_fetch_and_dense_conversion():
    values = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], name="vals")
    s = tf.IndexedSlices(values, tf.constant([2, 0, 2]), tf.constant([4, 2]))
    assert s.values is values and s.op is values.op and s.name == "vals:0"
    assert s.dtype == tf.float32 and s.graph is values.graph and s.device == values.device
    assert s.shape.as_list() == [4, 2] and s.get_shape().as_list() == [4, 2]
    got = _run(s)
    assert isinstance(got, tf.IndexedSlicesValue)
    np.testing.assert_array_equal(got.indices, [2, 0, 2])
    want = [[3, 4], [0, 0], [6, 8], [0, 0]]
    np.testing.assert_array_equal(got.to_dense(), want)
    dense = tf.convert_to_tensor(s)
    assert isinstance(dense, tf.Tensor) and dense.get_shape().as_list() == [4, 2]
    np.testing.assert_array_equal(_run(dense), want)
    np.testing.assert_array_equal(_run(tf.reduce_sum(s, 0)), [9, 12])  # a dense op takes it
    np.testing.assert_array_equal(_run((-s).values), -_run(values))
    assert tf.convert_to_tensor_or_indexed_slices(s) is s
    assert isinstance(tf.convert_to_tensor_or_indexed_slices([1.0]), tf.Tensor)


def test_indexed_slices_errors():
    s = tf.IndexedSlices(tf.ones([2, 2]), [0, 1])
    assert s.dense_shape is None and s.shape.ndims is None
    with pytest.raises(ValueError, match="without dense_shape"):
        tf.convert_to_tensor(s)
    with pytest.raises(ValueError, match="requested dtype float64 for IndexedSlices"):
        tf.convert_to_tensor(tf.IndexedSlices(tf.ones([1, 2]), [0], [3, 2]), tf.float64)
    with pytest.raises(TypeError, match="indices must be int32 or int64"):
        tf.IndexedSlices(tf.ones([1, 2]), [0.5])
    got = _run(s)
    assert got.dense_shape is None
    with pytest.raises(ValueError, match="needs a dense_shape"):
        got.to_dense()


def test_dense_conversion_warns_like_tf_when_large_or_of_unknown_shape():
    big = tf.IndexedSlices(tf.ones([1, 1000]), [0], tf.constant([100000, 1000]))
    with pytest.warns(UserWarning, match="dense Tensor with 100000000 elements"):
        tf.convert_to_tensor(big)
    shape = tf.placeholder(tf.int32, [2])
    with pytest.warns(UserWarning, match="of unknown shape"):
        unknown = tf.convert_to_tensor(tf.IndexedSlices(tf.ones([1, 2]), [1], shape))
    np.testing.assert_array_equal(_run(unknown, {shape: [2, 2]}), [[0, 0], [1, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.convert_to_tensor(tf.IndexedSlices(tf.ones([1, 2]), [0], tf.constant([9, 2])))


# -- sparse gradients --------------------------------------------------------------------------
def test_gather_gradient_is_sparse_along_axis_0_only():
    p = tf.Variable(np.arange(12.0).reshape(4, 3))
    ids = tf.constant([[0, 2], [2, 3]])
    g0, = tf.gradients(tf.reduce_sum(tf.gather(p, ids) * 2.0), p)
    assert isinstance(g0, tf.IndexedSlices)
    got = _run(g0)
    assert got.values.shape == (4, 3)
    np.testing.assert_array_equal(got.indices, [0, 2, 2, 3])
    np.testing.assert_array_equal(got.dense_shape, [4, 3])
    np.testing.assert_array_equal(got.to_dense(), [[2] * 3, [0] * 3, [4] * 3, [2] * 3])
    g1, = tf.gradients(tf.reduce_sum(tf.gather(p, [1, 1], axis=1)), p)
    assert isinstance(g1, tf.Tensor)
    np.testing.assert_array_equal(_run(g1), [[0, 2, 0]] * 4)


def test_gather_of_unknown_row_shape_gives_rows_of_the_dynamic_shape():
    p = tf.placeholder(tf.float64, [None, None])
    g, = tf.gradients(tf.reduce_sum(tf.gather(p, [1])), p)
    got = _run(g, {p: np.zeros((3, 2))})
    np.testing.assert_array_equal(got.values, [[1, 1]])
    np.testing.assert_array_equal(got.dense_shape, [3, 2])


def test_aggregation_concatenates_slices_and_sums_mixed_densely():
    p = tf.Variable(np.zeros((4, 2)))
    two = tf.reduce_sum(tf.gather(p, [1])) + 3.0 * tf.reduce_sum(tf.gather(p, [1, 3]))
    g, = tf.gradients(two, p)
    assert isinstance(g, tf.IndexedSlices)
    got = _run(g)
    np.testing.assert_array_equal(got.indices, [1, 3, 1])  # rows of both, duplicates kept
    np.testing.assert_array_equal(got.to_dense(), [[0, 0], [4, 4], [0, 0], [3, 3]])
    mixed = two + tf.reduce_sum(p * p + p)
    g, = tf.gradients(mixed, p)
    assert isinstance(g, tf.Tensor)
    np.testing.assert_array_equal(_run(g), [[1, 1], [5, 5], [1, 1], [4, 4]])
    wide = tf.reduce_sum(tf.gather(p, tf.constant([0], tf.int64))) + \
        tf.reduce_sum(tf.gather(p, tf.constant([2], tf.int32)))
    g, = tf.gradients(wide, p)
    assert g.indices.dtype == tf.int64
    np.testing.assert_array_equal(_run(g).indices, [2, 0])


def test_gradient_functions_of_dense_ops_receive_the_dense_gradient():
    p = tf.Variable(np.arange(6.0).reshape(3, 2))
    scaled = p * 2.0
    g, = tf.gradients(tf.reduce_sum(tf.gather(scaled, [0, 0, 2])), p)
    assert isinstance(g, tf.Tensor)
    np.testing.assert_array_equal(_run(g), [[4, 4], [0, 0], [2, 2]])
    # inside control flow the branch's gradient is made dense
    pred = tf.placeholder(tf.bool, [])
    out = tf.cond(pred, lambda: tf.reduce_sum(tf.gather(p, [1])), lambda: tf.reduce_sum(p))
    g, = tf.gradients(out, p)
    np.testing.assert_array_equal(_run(tf.convert_to_tensor(g), {pred: True}),
                                  [[0, 0], [1, 1], [0, 0]])


def test_embedding_lookup_gradient_is_sparse_and_equals_the_one_hot_gradient():
    r = np.random.default_rng(0)
    w_val = r.standard_normal((7, 3))
    ids = np.array([[1, 4], [4, 6]])
    w = tf.Variable(w_val)
    emb = tf.nn.embedding_lookup(w, ids)
    g, = tf.gradients(tf.reduce_sum(tf.square(emb)), w)
    assert isinstance(g, tf.IndexedSlices)
    one_hot = tf.one_hot(ids.reshape(-1), 7, dtype=tf.float64)
    ref, = tf.gradients(tf.reduce_sum(tf.square(tf.matmul(one_hot, w))), w)
    got, want = _run([tf.convert_to_tensor(g), ref])
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("strategy", ["div", "mod"])
def test_each_shard_of_a_sharded_lookup_gets_the_slices_of_its_own_rows(strategy):
    table = np.arange(21.0).reshape(7, 3)
    parts = [table[:4], table[4:]] if strategy == "div" else [table[0::2], table[1::2]]
    shards = [tf.Variable(p) for p in parts]
    ids = tf.placeholder(tf.int32, [None, 2])
    looked = tf.nn.embedding_lookup(shards, ids, strategy)
    assert looked.get_shape().as_list() == [None, 2, 3]
    gs = tf.gradients(tf.reduce_sum(tf.square(looked)), shards)
    assert all(isinstance(g, tf.IndexedSlices) for g in gs)
    feed = {ids: [[1, 4], [4, 6]]}
    rows, g0, g1 = _run([looked, gs[0], gs[1]], feed)
    np.testing.assert_array_equal(rows, table[[[1, 4], [4, 6]]])
    assert len(g0.indices) + len(g1.indices) == 4  # each id's row once, in its own shard
    dense = np.zeros((7, 3))
    np.add.at(dense, [1, 4, 4, 6], 2 * table[[1, 4, 4, 6]])
    want = [dense[:4], dense[4:]] if strategy == "div" else [dense[0::2], dense[1::2]]
    np.testing.assert_array_equal(g0.to_dense(), want[0])
    np.testing.assert_array_equal(g1.to_dense(), want[1])
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"id 7 is not in any of the 2 "
                                                             f"'{strategy}' shards"):
        _run(looked, {ids: [[7, 0]]})


@pytest.mark.parametrize("loss_fn", [tf.nn.nce_loss, tf.nn.sampled_softmax_loss])
def test_sampled_losses_give_sparse_gradients_to_weights_and_biases(loss_fn):
    r = np.random.default_rng(1)
    classes, dim = 20, 4
    w = tf.Variable(r.standard_normal((classes, dim)))
    b = tf.Variable(r.standard_normal(classes))
    x = tf.constant(r.standard_normal((5, dim)))
    lab = r.integers(0, classes, (5, 1))
    samp = r.choice(classes, 6, replace=False)
    # fixed samples (a sampler draws anew each run) so that finite differences apply
    sampled = (tf.constant(samp), tf.constant(np.full((5, 1), 0.3)),
               tf.constant(np.full(6, 0.3)))
    loss = tf.reduce_sum(loss_fn(w, b, tf.constant(lab), x, 6, classes,
                                 sampled_values=sampled))
    gw, gb = tf.gradients(loss, [w, b])
    assert isinstance(gw, tf.IndexedSlices) and isinstance(gb, tf.IndexedSlices)
    got_w, got_b = _run([gw, gb])
    rows = set(lab.ravel()) | set(samp.ravel())
    assert set(got_w.indices) == rows and len(got_w.indices) == 5 + 6  # true, then sampled
    assert got_w.values.shape == (11, dim) and got_b.values.shape == (11,)
    # the dense gradient agrees with finite differences of the loss along one touched row
    row = int(got_w.indices[0])
    dense = got_w.to_dense()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        base = w.eval(sess)
        eps, fd = 1e-6, []
        for j in range(dim):
            vals = []
            for sgn in (1, -1):
                bumped = base.copy()
                bumped[row, j] += sgn * eps
                w.load(bumped, sess)
                vals.append(sess.run(loss))
            fd.append((vals[0] - vals[1]) / (2 * eps))
    np.testing.assert_allclose(dense[row], fd, rtol=1e-5, atol=1e-7)


def test_compute_gradients_returns_indexed_slices_for_embeddings():
    emb = tf.Variable(np.ones((5, 2)), name="emb")
    dense = tf.Variable(np.ones(2), name="dense")
    loss = tf.reduce_sum(tf.nn.embedding_lookup(emb, [0, 3]) * dense)
    gv = tf.train.GradientDescentOptimizer(0.1).compute_gradients(loss)
    kinds = {v.op.name: type(g).__name__ for g, v in gv}
    assert kinds == {"emb": "IndexedSlices", "dense": "Tensor"}


# -- clip ops --------------------------------------------------------------------------------
def test_clip_ops_take_indexed_slices_as_tf_does():
    values = np.array([[3.0, 4.0], [0.0, 12.0]])
    s = tf.IndexedSlices(tf.constant(values), tf.constant([1, 1]), tf.constant([3, 2]))
    dense = tf.constant([[5.0, 0.0]], tf.float64)
    norm = tf.global_norm([s, dense, None])
    clipped, used = tf.clip_by_global_norm([s, None, dense], 6.5)
    by_norm = tf.clip_by_norm(s, 6.5)
    assert isinstance(clipped[0], tf.IndexedSlices) and clipped[1] is None
    assert isinstance(by_norm, tf.IndexedSlices) and by_norm.indices is s.indices
    n, c0, c2, u, bn = _run([norm, clipped[0], clipped[2], used, by_norm])
    total = np.sqrt(9 + 16 + 144 + 25)  # the norm of the values, rows not summed first
    np.testing.assert_allclose(n, total)
    np.testing.assert_allclose(u, total)
    np.testing.assert_allclose(c0.values, values * 6.5 / total)
    np.testing.assert_array_equal(c0.indices, [1, 1])
    np.testing.assert_allclose(c2, [[5.0 * 6.5 / total, 0.0]])
    np.testing.assert_allclose(bn.values, values * 6.5 / 13.0)
