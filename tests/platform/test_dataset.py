"""tf.data.Dataset: each source and transformation read through an iterator and compared
with the same pipeline computed in NumPy; element structures and static shapes as TF
computes them; map functions traced once; shuffle seeds."""
import numpy as np
import pytest

import actorflow as tf

Dataset = tf.data.Dataset


def read_all(ds, sess=None, limit=10_000):
    """Every element of `ds`, through a one-shot iterator, until OutOfRangeError."""
    nxt = ds.make_one_shot_iterator().get_next()
    own = sess is None
    sess = sess or tf.Session()
    out = []
    try:
        for _ in range(limit):
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out
        raise AssertionError("the dataset did not end")
    finally:
        if own:
            sess.close()



# -- sources -------------------------------------------------------------------------------------
def test_from_tensor_slices_tuple_and_dict_structure():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.arange(4)
    ds = Dataset.from_tensor_slices(({"a": x, "b": y}, [1, 2, 3, 4]))
    assert ds.output_types == ({"a": tf.float32, "b": tf.int64}, tf.int32)
    assert ds.output_shapes[0]["a"].as_list() == [3]
    assert ds.output_shapes[0]["b"].as_list() == []
    assert ds.output_shapes[1].as_list() == []
    assert ds.output_classes == ({"a": tf.Tensor, "b": tf.Tensor}, tf.Tensor)
    got = read_all(ds)
    assert len(got) == 4
    for i, (feat, label) in enumerate(got):
        np.testing.assert_array_equal(feat["a"], x[i])
        assert feat["b"] == y[i] and label == i + 1


def test_from_tensor_slices_rejects_mismatched_first_dims_and_scalars():
    with pytest.raises(ValueError, match="not compatible"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="scalar"):
        Dataset.from_tensor_slices(np.float32(1.0))


def test_from_tensors_is_one_element_and_a_list_is_one_tensor():
    ds = Dataset.from_tensors([[1, 2], [3, 4]])
    assert ds.output_shapes.as_list() == [2, 2]
    got = read_all(ds)
    assert len(got) == 1
    np.testing.assert_array_equal(got[0], [[1, 2], [3, 4]])


def test_range_forms():
    assert read_all(Dataset.range(4)) == [0, 1, 2, 3]
    assert read_all(Dataset.range(2, 5)) == [2, 3, 4]
    assert read_all(Dataset.range(10, 0, -4)) == [10, 6, 2]
    assert Dataset.range(3).output_types == tf.int64


def test_zip_nests_and_ends_with_shortest():
    a = Dataset.range(5)
    b = Dataset.from_tensor_slices(np.arange(6).reshape(3, 2) * 1.5)
    ds = Dataset.zip((a, {"b": b}))
    assert ds.output_types == (tf.int64, {"b": tf.float64})
    got = read_all(ds)
    assert [g[0] for g in got] == [0, 1, 2]
    np.testing.assert_array_equal(np.stack([g[1]["b"] for g in got]),
                                  np.arange(6).reshape(3, 2) * 1.5)


def test_concatenate_shapes_and_type_check():
    a = Dataset.from_tensors(np.zeros((2, 3)))
    b = Dataset.from_tensors(np.ones((4, 3)))
    ds = a.concatenate(b)
    assert ds.output_shapes.as_list() == [None, 3]
    got = read_all(ds)
    assert [g.shape for g in got] == [(2, 3), (4, 3)]
    with pytest.raises(TypeError, match="different types"):
        Dataset.range(2).concatenate(Dataset.from_tensors(1.0))


def test_from_generator_with_args_and_shape_check():
    calls = []

    def gen(n, scale):
        calls.append((n, scale))
        for i in range(n):
            yield i * scale, [i] * 2

    ds = Dataset.from_generator(gen, (tf.float32, tf.int32), (tf.TensorShape([]), [2]),
                                args=(3, 0.5))
    assert ds.output_shapes[1].as_list() == [2]
    got = read_all(ds)
    assert calls == [(3, 0.5)]
    assert [float(g[0]) for g in got] == [0.0, 0.5, 1.0]
    np.testing.assert_array_equal(got[2][1], [2, 2])
    assert got[0][0].dtype == np.float32

    bad = Dataset.from_generator(lambda: iter([[1, 2], [3]]), tf.int64, [2])
    nxt = bad.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(nxt), [1, 2])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \(1,\)"):
            sess.run(nxt)


def test_from_generator_unknown_shapes_and_strings():
    ds = Dataset.from_generator(lambda: iter(["ab", b"c"]), tf.string)
    assert ds.output_shapes.ndims is None
    assert [g for g in read_all(ds)] == [b"ab", b"c"]


# -- map and friends --------------------------------------------------------------------------
def test_map_tuple_args_and_dict_output():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    ds = Dataset.from_tensor_slices((x, np.arange(3))).map(
        lambda a, b: {"sum": tf.reduce_sum(a), "b2": b * 2})
    assert ds.output_types == {"sum": tf.float32, "b2": tf.int64}
    got = read_all(ds)
    assert [g["sum"] for g in got] == list(x.sum(1))
    assert [g["b2"] for g in got] == [0, 2, 4]


def test_map_is_traced_once():
    traces = []

    def fn(v):
        traces.append(v)  # a Python side effect: happens when the function is traced
        return v + 1

    ds = Dataset.range(5).map(fn)
    assert len(traces) == 1
    assert read_all(ds) == [1, 2, 3, 4, 5]
    assert read_all(ds) == [1, 2, 3, 4, 5]
    assert len(traces) == 1


def test_map_returning_list_becomes_tuple():
    with pytest.warns(UserWarning, match="tuple"):
        ds = Dataset.range(2).map(lambda v: [v, v * 3])
    assert ds.output_types == (tf.int64, tf.int64)
    assert [tuple(g) for g in read_all(ds)] == [(0, 0), (1, 3)]


def test_map_stateful_random_draws_per_element():
    ds = Dataset.from_tensors(np.zeros(50, np.float32)).repeat(4).map(
        lambda z: z + tf.random_uniform([50], seed=1))
    got = read_all(ds)
    assert len(got) == 4
    for i in range(4):
        for j in range(i):
            assert not np.array_equal(got[i], got[j])


def test_map_captures_are_evaluated_at_initialization():
    v = tf.Variable(2.0)
    scale = v * 10.0  # an outer tensor the function captures
    ds = Dataset.from_tensor_slices(np.array([1.0, 2.0, 3.0], np.float32)).map(
        lambda x: x * scale + tf.constant(0.5))
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(it.initializer)
        assert sess.run(nxt) == 20.5
        sess.run(v.assign(3.0))
        assert sess.run(nxt) == 40.5  # still the value captured at initialization
        sess.run(it.initializer)
        assert sess.run(nxt) == 30.5


def test_map_error_names_the_failure():
    ds = Dataset.from_generator(lambda: iter([[1.0, 2.0]]), tf.float32).map(
        lambda x: tf.reshape(x, [3]))
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Reshape"):
            sess.run(nxt)


def test_parallel_map_keeps_order():
    x = np.random.default_rng(0).standard_normal((200, 8)).astype(np.float32)
    ds = Dataset.from_tensor_slices(x).map(lambda r: tf.reduce_sum(r * r),
                                           num_parallel_calls=4)
    got = np.array(read_all(ds))
    np.testing.assert_allclose(got, (x * x).sum(1), rtol=1e-5)
    auto = Dataset.range(30).map(lambda v: v * 2, num_parallel_calls=tf.data.AUTOTUNE)
    assert read_all(auto) == list(range(0, 60, 2))


def test_filter_and_predicate_check():
    ds = Dataset.range(20).filter(lambda v: tf.logical_and(v > 3, tf.equal(v % 4, 0)))
    assert read_all(ds) == [4, 8, 12, 16]
    with pytest.raises(ValueError, match="scalar boolean"):
        Dataset.range(3).filter(lambda v: v + 1)


def test_flat_map_and_interleave_orders():
    ds = Dataset.range(1, 4).flat_map(lambda v: Dataset.range(v).map(lambda u: u + 10 * v))
    assert read_all(ds) == [10, 20, 21, 30, 31, 32]

    def numpy_interleave(n_inputs, reps, cycle, block):
        # The reference order TF defines: cycle_length inputs open, block_length from each.
        iters = [iter([i] * reps) for i in range(n_inputs)]
        slots, out, nxt = [None] * cycle, [], 0
        while True:
            for k in range(cycle):
                if slots[k] is None and nxt < n_inputs:
                    slots[k], nxt = iters[nxt], nxt + 1
                if slots[k] is None:
                    continue
                for _ in range(block):
                    v = next(slots[k], None)
                    if v is None:
                        slots[k] = None
                        break
                    out.append(v)
            if all(s is None for s in slots) and nxt >= n_inputs:
                return out

    for cycle, block in ((2, 2), (3, 1), (1, 3), (4, 2)):
        ds = Dataset.range(5).interleave(lambda v: Dataset.from_tensors(v).repeat(3),
                                         cycle_length=cycle, block_length=block)
        assert read_all(ds) == numpy_interleave(5, 3, cycle, block), (cycle, block)


def test_interleave_function_may_capture_an_outer_dataset_parameter():
    offset = tf.constant(np.int64(100))
    ds = Dataset.range(2).interleave(lambda v: Dataset.range(2).map(lambda u: u + v + offset),
                                     cycle_length=2, block_length=1)
    assert read_all(ds) == [100, 101, 101, 102]


# -- shuffle, repeat, take, skip, cache --------------------------------------------------------
def test_shuffle_seed_is_deterministic_across_sessions_and_graphs():
    def order(seed):
        with tf.Graph().as_default():
            return read_all(Dataset.range(50).shuffle(20, seed=seed))
    a, b, c = order(7), order(7), order(8)
    assert sorted(a) == list(range(50)) and a != list(range(50))
    assert a == b and a != c


def test_shuffle_graph_seed():
    def order():
        with tf.Graph().as_default():
            tf.set_random_seed(5)
            return read_all(Dataset.range(30).shuffle(30))
    assert order() == order()


def test_reshuffle_each_iteration():
    epochs = read_all(Dataset.range(20).shuffle(20, seed=1).repeat(3))
    e = [epochs[i * 20:(i + 1) * 20] for i in range(3)]
    assert all(sorted(x) == list(range(20)) for x in e)
    assert e[0] != e[1] and e[1] != e[2]
    same = read_all(Dataset.range(20).shuffle(20, seed=1, reshuffle_each_iteration=False)
                    .repeat(3))
    assert same[:20] == same[20:40] == same[40:]


def test_shuffle_reinitialized_repeats_the_sequence_of_orders():
    ds = Dataset.range(10).shuffle(10, seed=4).repeat(2)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        runs = []
        for _ in range(2):
            sess.run(it.initializer)
            runs.append([sess.run(nxt) for _ in range(20)])
    assert runs[0] == runs[1]


def test_small_shuffle_buffer_is_a_local_shuffle():
    got = read_all(Dataset.range(100).shuffle(3, seed=2))
    assert sorted(got) == list(range(100))
    # With a buffer of 3, element k cannot leave before element k - 2 has been read in.
    for pos, v in enumerate(got):
        assert v <= pos + 2


def test_repeat_take_skip_then_out_of_range():
    ds = Dataset.range(3).repeat(2).skip(1).take(4)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [sess.run(nxt) for _ in range(4)] == [1, 2, 0, 1]
        for _ in range(2):  # stays at the end
            with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
                sess.run(nxt)
    assert len(read_all(Dataset.range(2).repeat().take(7))) == 7
    assert read_all(Dataset.range(4).take(-1)) == [0, 1, 2, 3]
    assert read_all(Dataset.range(4).skip(-1)) == []


def test_repeat_of_empty_dataset_ends():
    assert read_all(Dataset.range(0).repeat()) == []


def test_cache_in_memory_reads_input_once():
    calls = []

    def gen():
        calls.append(1)
        yield from range(3)

    ds = Dataset.from_generator(gen, tf.int64, []).cache().repeat(3)
    assert read_all(ds) == [0, 1, 2] * 3
    assert len(calls) == 1


def test_shard():
    assert read_all(Dataset.range(10).shard(4, 1)) == [1, 5, 9]
    nxt = Dataset.range(3).shard(2, 5).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Index"):
            sess.run(nxt)


# -- batching ------------------------------------------------------------------------------------
def test_batch_remainder_and_static_shapes():
    x = np.arange(70, dtype=np.float32).reshape(7, 2, 5)
    ds = Dataset.from_tensor_slices((x, np.arange(7)))
    b = ds.batch(3)
    assert b.output_shapes[0].as_list() == [None, 2, 5]
    assert b.output_shapes[1].as_list() == [None]
    got = read_all(b)
    assert [g[0].shape[0] for g in got] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([g[0] for g in got]), x)

    d = ds.batch(3, drop_remainder=True)
    assert d.output_shapes[0].as_list() == [3, 2, 5]
    got = read_all(d)
    assert len(got) == 2
    np.testing.assert_array_equal(got[1][1], [3, 4, 5])


def test_batch_size_from_placeholder_is_unknown_statically():
    n = tf.placeholder(tf.int64, [])
    ds = Dataset.range(10).map(lambda v: v * 2).batch(n, drop_remainder=True)
    assert ds.output_shapes.as_list() == [None]
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer, {n: 4})
        np.testing.assert_array_equal(sess.run(nxt), [0, 2, 4, 6])
        np.testing.assert_array_equal(sess.run(nxt), [8, 10, 12, 14])
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)


def test_batch_of_mapped_elements_and_mismatched_shapes():
    ds = Dataset.range(5).map(lambda v: tf.fill([2], v)).batch(2)
    got = read_all(ds)
    np.testing.assert_array_equal(got[0], [[0, 0], [1, 1]])
    bad = Dataset.range(1, 3).map(lambda v: tf.fill([tf.cast(v, tf.int32)], v)).batch(2)
    nxt = bad.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot batch tensors"):
            sess.run(nxt)


def _ragged():
    return Dataset.range(1, 6).map(
        lambda v: (tf.fill([tf.cast(v, tf.int32)], v), tf.cast(v, tf.float32)))


def test_padded_batch_to_longest_and_to_fixed_shape():
    ds = _ragged().padded_batch(2, padded_shapes=([None], []))
    assert ds.output_shapes[0].as_list() == [None, None]
    got = read_all(ds)
    np.testing.assert_array_equal(got[0][0], [[1, 0], [2, 2]])
    np.testing.assert_array_equal(got[1][0], [[3, 3, 3, 0], [4, 4, 4, 4]])
    np.testing.assert_array_equal(got[2][0], [[5, 5, 5, 5, 5]])

    fixed = _ragged().padded_batch(2, padded_shapes=([6], []),
                                   padding_values=(np.int64(-1), 0.0), drop_remainder=True)
    assert fixed.output_shapes[0].as_list() == [2, 6]
    got = read_all(fixed)
    assert len(got) == 2
    np.testing.assert_array_equal(got[0][0], [[1, -1, -1, -1, -1, -1], [2, 2, -1, -1, -1, -1]])

    small = _ragged().padded_batch(5, padded_shapes=([3], []))
    nxt = small.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="smaller"):
            sess.run(nxt)


def test_padded_batch_checks_shapes_and_values_at_construction():
    ds = Dataset.from_tensor_slices(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match="not compatible"):
        ds.padded_batch(2, padded_shapes=[3])
    with pytest.raises(ValueError, match="not compatible"):
        ds.padded_batch(2, padded_shapes=[2, 2])
    with pytest.raises(TypeError, match="dtype"):
        ds.padded_batch(2, padded_shapes=[3, 2], padding_values=tf.constant(1))


def test_padded_batch_strings():
    ds = Dataset.from_tensor_slices(np.array([[b"a", b"b"]], dtype=object)).padded_batch(
        1, padded_shapes=[3])
    got = read_all(ds)
    assert got[0].tolist() == [[b"a", b"b", b""]]


def test_unbatch_inverts_batch():
    x = np.arange(10).reshape(5, 2)
    ds = Dataset.from_tensor_slices(x).batch(2).unbatch()
    assert ds.output_shapes.as_list() == [2]
    np.testing.assert_array_equal(np.stack(read_all(ds)), x)
    ds = Dataset.from_tensors(x).apply(tf.data.experimental.unbatch())
    np.testing.assert_array_equal(np.stack(read_all(ds)), x)


def test_prefetch_yields_in_order():
    ds = Dataset.range(100).map(lambda v: v * v, num_parallel_calls=2).prefetch(3)
    assert read_all(ds) == [v * v for v in range(100)]
    assert read_all(Dataset.range(5).prefetch(tf.data.AUTOTUNE)) == [0, 1, 2, 3, 4]


def test_experimental_shuffle_and_repeat_and_map_and_batch():
    ds = Dataset.range(6).apply(tf.data.experimental.shuffle_and_repeat(6, count=2, seed=3))
    got = read_all(ds)
    assert sorted(got[:6]) == sorted(got[6:]) == list(range(6))
    ds = Dataset.range(7).apply(tf.data.experimental.map_and_batch(lambda v: v + 1, 3,
                                                                   drop_remainder=True))
    got = read_all(ds)
    assert [list(g) for g in got] == [[1, 2, 3], [4, 5, 6]]
    assert ds.output_shapes.as_list() == [3]


def test_apply_must_return_a_dataset():
    with pytest.raises(TypeError, match="must return a Dataset"):
        Dataset.range(3).apply(lambda ds: 3)


def test_static_shapes_through_map_follow_the_function():
    ds = Dataset.from_tensor_slices(np.zeros((4, 8, 8, 3), np.uint8)).map(
        lambda im: tf.reshape(tf.cast(im, tf.float32), [-1]))
    assert ds.output_shapes.as_list() == [192]
    assert ds.output_types == tf.float32
    assert ds.batch(2).output_shapes.as_list() == [None, 192]


def test_iterating_a_dataset_in_graph_mode_is_an_error():
    with pytest.raises(RuntimeError, match="eager"):
        iter(Dataset.range(3))


def test_string_components_come_back_as_bytes():
    names = np.array([b"ab", b"c", b"def"], dtype=object)
    ds = Dataset.from_tensor_slices(names)
    one = read_all(ds)
    assert one == list(names)  # a scalar string fetch is bytes, as in TF
    rebatched = read_all(Dataset.from_tensors(names).unbatch().batch(2))
    assert rebatched[0].dtype == object and rebatched[0].tolist() == [b"ab", b"c"]


def test_contrib_data_aliases():
    ds = Dataset.range(10).apply(tf.contrib.data.batch_and_drop_remainder(4))
    assert ds.output_shapes.as_list() == [4]
    assert [list(b) for b in read_all(ds)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    inter = Dataset.range(2).apply(tf.contrib.data.parallel_interleave(
        lambda v: Dataset.from_tensors(v).repeat(2), cycle_length=2))
    assert read_all(inter) == [0, 1, 0, 1]
    assert tf.contrib.data.TFRecordDataset is tf.data.TFRecordDataset
    assert tf.contrib.data.shuffle_and_repeat is tf.data.experimental.shuffle_and_repeat


def test_map_random_crop_and_flip_per_element():
    image = np.arange(8 * 8, dtype=np.float32).reshape(8, 8, 1)
    flip = getattr(getattr(tf, "image", None), "random_flip_left_right", None)

    def augment(im):
        im = tf.random_crop(im, [4, 4, 1])
        return flip(im) if flip is not None else im

    got = read_all(Dataset.from_tensors(image).repeat(30).map(augment))
    assert all(g.shape == (4, 4, 1) for g in got)
    assert len({g.tobytes() for g in got}) > 5  # fresh crops (and flips) per element
    for g in got:  # every output is a (possibly mirrored) window of the image
        rows = g[:, :, 0]
        r0 = int(rows.min()) // 8
        ok = any(np.array_equal(rows, m[r0:r0 + 4, c:c + 4])
                 for c in range(5) for m in (image[:, :, 0], image[:, ::-1, 0]))
        assert ok
