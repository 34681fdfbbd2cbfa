"""tf.data iterators: one-shot, initializable, reinitializable and feedable; per-session
state; errors before initialization and at the end; threads stopped on re-initialization
and Session.close; an Estimator-style input_fn."""
import threading

import numpy as np
import pytest

import actorflow as tf
from actorflow.data.pipeline import THREAD_PREFIX

Dataset = tf.data.Dataset


def data_threads() -> list:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()]


def test_get_next_before_initialization_is_failed_precondition():
    it = Dataset.range(3).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match="iterator has not been initialized"):
            sess.run(nxt)
        sess.run(it.initializer)
        assert sess.run(nxt) == 0


def test_initializable_iterator_fed_from_a_placeholder():
    x = tf.placeholder(tf.float32, [None, 2])
    it = Dataset.from_tensor_slices(x).batch(2).make_initializable_iterator()
    assert it.output_shapes.as_list() == [None, 2]
    nxt = it.get_next()
    with tf.Session() as sess:
        data = np.arange(10, dtype=np.float32).reshape(5, 2)
        sess.run(it.initializer, {x: data})
        got = [sess.run(nxt) for _ in range(3)]
        np.testing.assert_array_equal(np.concatenate(got), data)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)
        sess.run(it.initializer, {x: data[:1] * 2})  # re-initialize with other data
        np.testing.assert_array_equal(sess.run(nxt), data[:1] * 2)


def test_one_shot_iterator_refuses_placeholders():
    x = tf.placeholder(tf.float32, [3])
    with pytest.raises(ValueError, match="Cannot capture a placeholder"):
        Dataset.from_tensors(x).make_one_shot_iterator()
    with pytest.raises(ValueError, match="initializer"):
        Dataset.range(2).make_one_shot_iterator().initializer  # noqa: B018


def test_one_shot_iterator_module_forms_and_state_per_session():
    ds = Dataset.range(3)
    for make in (tf.data.make_one_shot_iterator, tf.compat.v1.data.make_one_shot_iterator):
        nxt = make(ds).get_next()
        with tf.Session() as s1, tf.Session() as s2:
            assert s1.run(nxt) == 0
            assert s1.run(nxt) == 1
            assert s2.run(nxt) == 0  # another session has its own iterator
            assert s1.run(nxt) == 2
    assert tf.data.get_output_types(ds) == tf.int64
    assert tf.data.get_output_shapes(ds).as_list() == []
    assert tf.data.get_output_classes(ds) is tf.Tensor


def test_reinitializable_iterator_switches_train_and_validation():
    train = Dataset.from_tensor_slices(np.arange(100, dtype=np.float32)).batch(10)
    val = Dataset.from_tensor_slices(-np.arange(15, dtype=np.float32)).batch(5)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    train_init, val_init = it.make_initializer(train), it.make_initializer(val)
    total = tf.reduce_sum(nxt)
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(train_init)
            got = [sess.run(total) for _ in range(3)]
            assert got == [45.0, 145.0, 245.0]
            sess.run(val_init)
            vals = []
            while True:
                try:
                    vals.append(sess.run(total))
                except tf.errors.OutOfRangeError:
                    break
            assert vals == [-10.0, -35.0, -60.0]


def test_make_initializer_checks_structure():
    it = tf.data.Iterator.from_structure(tf.int64, tf.TensorShape([None]))
    with pytest.raises(TypeError, match="output types"):
        it.make_initializer(Dataset.from_tensors(np.zeros(3, np.float32)))
    with pytest.raises(TypeError, match="output shapes"):
        it.make_initializer(Dataset.from_tensors(np.zeros((2, 3), np.int64)))
    with pytest.raises(TypeError, match="structure"):
        it.make_initializer(Dataset.zip((Dataset.range(2), Dataset.range(2))))
    with pytest.raises(ValueError, match="initializer"):
        it.initializer  # noqa: B018
    it.make_initializer(Dataset.range(3).batch(2))  # compatible: [None] and [None]


def test_feedable_iterator_switches_by_string_handle():
    train = Dataset.range(1000).repeat()
    val = Dataset.range(-3, 0)
    handle = tf.placeholder(tf.string, shape=[])
    feedable = tf.data.Iterator.from_string_handle(handle, train.output_types,
                                                   train.output_shapes)
    nxt = feedable.get_next()
    train_it = train.make_one_shot_iterator()
    val_it = val.make_initializable_iterator()
    with tf.Session() as sess:
        th, vh = sess.run([train_it.string_handle(), val_it.string_handle()])
        assert isinstance(np.asarray(th).item(), bytes) and th != vh
        assert [sess.run(nxt, {handle: th}) for _ in range(3)] == [0, 1, 2]
        sess.run(val_it.initializer)
        assert [sess.run(nxt, {handle: vh}) for _ in range(3)] == [-3, -2, -1]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt, {handle: vh})
        assert sess.run(nxt, {handle: th}) == 3  # the training iterator kept its place
        with pytest.raises(tf.errors.InvalidArgumentError, match="does not name"):
            sess.run(nxt, {handle: b"no-such-iterator"})
        with tf.Session() as other:
            with pytest.raises(tf.errors.InvalidArgumentError, match="this session"):
                other.run(nxt, {handle: th})


def test_feedable_iterator_checks_types():
    handle = tf.placeholder(tf.string, shape=[])
    feedable = tf.data.Iterator.from_string_handle(handle, tf.float32)
    nxt = feedable.get_next()
    ints = Dataset.range(3).make_one_shot_iterator()
    with tf.Session() as sess:
        h = sess.run(ints.string_handle())
        with pytest.raises(tf.errors.InvalidArgumentError, match="output types"):
            sess.run(nxt, {handle: h})


def test_get_next_structures_and_shapes():
    ds = Dataset.from_tensor_slices(({"img": np.zeros((6, 4, 4), np.float32)},
                                     np.arange(6, dtype=np.int32))).batch(4, True)
    it = ds.make_one_shot_iterator()
    feats, labels = it.get_next()
    assert feats["img"].shape.as_list() == [4, 4, 4]
    assert labels.shape.as_list() == [4] and labels.dtype == tf.int32
    with tf.Session() as sess:
        f, lab = sess.run([feats, labels])
    assert f["img"].shape == (4, 4, 4) and lab.tolist() == [0, 1, 2, 3]


def test_estimator_style_input_fn():
    x = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
    y = (x.sum(1) > 0).astype(np.int32)

    def input_fn():
        ds = Dataset.from_tensor_slices(({"x": x}, y)).shuffle(64, seed=1).repeat().batch(16)
        return ds.make_one_shot_iterator().get_next()

    features, labels = input_fn()
    w = tf.Variable(tf.zeros([3, 2]))
    logits = tf.matmul(features["x"], w)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(40):
            sess.run(train)
        assert sess.run(loss) < first * 0.7


def test_no_thread_alive_after_close():
    ds = Dataset.range(10_000).map(lambda v: v + 1, num_parallel_calls=3).prefetch(4)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    sess = tf.Session()
    sess.run(it.initializer)
    assert sess.run(nxt) == 1
    assert data_threads()
    sess.close()
    assert data_threads() == []


def test_reinitialization_stops_the_previous_pass_threads():
    ds = Dataset.range(10_000).prefetch(2).map(lambda v: v * 2, num_parallel_calls=2) \
        .prefetch(2)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer)
        assert sess.run(nxt) == 0
        before = set(data_threads())
        sess.run(it.initializer)
        assert sess.run(nxt) == 0
        assert not before & set(data_threads())
    assert data_threads() == []


def test_errors_in_a_prefetched_pipeline_reach_get_next():
    def gen():
        yield 1
        raise RuntimeError("generator broke")

    ds = Dataset.from_generator(gen, tf.int64, []).prefetch(2)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert sess.run(nxt) == 1
        with pytest.raises(tf.errors.InvalidArgumentError, match="generator broke"):
            sess.run(nxt)


def test_two_get_next_ops_advance_one_iterator():
    it = Dataset.range(10).make_one_shot_iterator()
    a, b = it.get_next(), it.get_next()
    with tf.Session() as sess:
        got = sess.run([a, b])
        assert sorted(got) == [0, 1]
        assert sess.run(a) == 2


def test_initializer_in_graph_export():
    it = Dataset.range(5).map(lambda v: v * 2).batch(2).make_initializable_iterator()
    it.get_next()
    gd = tf.get_default_graph().as_graph_def()  # function and dataset attrs serialise
    types = {n.op for n in gd.node}
    assert {"MapDataset", "BatchDatasetV2", "IteratorV2", "MakeIterator"} <= types


def test_initializer_starts_prefetching():
    started = threading.Event()

    def gen():
        started.set()
        yield from range(3)

    ds = Dataset.from_generator(gen, tf.int64, []).prefetch(1)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer)
        assert started.wait(30)  # produced before any get_next
        assert [sess.run(nxt) for _ in range(3)] == [0, 1, 2]


def test_concurrent_get_next_hands_out_each_element_once():
    nxt = Dataset.range(2000).map(lambda v: v * 1, num_parallel_calls=2).prefetch(4) \
        .make_one_shot_iterator().get_next()
    seen: list = [[], []]
    with tf.Session() as sess:
        def pull(k):
            for _ in range(1000):
                seen[k].append(int(sess.run(nxt)))
        threads = [threading.Thread(target=pull, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for part in seen:
        assert part == sorted(part)  # each thread sees the order of the dataset
    assert sorted(seen[0] + seen[1]) == list(range(2000))


def test_imported_graph_def_runs_a_pipeline_without_functions():
    ds = Dataset.from_tensor_slices(np.arange(10)).shuffle(10, seed=1).batch(4)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    gd = tf.get_default_graph().as_graph_def()
    with tf.Session() as sess:
        sess.run(it.initializer)
        want = [sess.run(nxt) for _ in range(3)]
    with tf.Graph().as_default() as g2:
        tf.import_graph_def(gd, name="")
        init = g2.get_operation_by_name(it.initializer.name)
        nxt2 = g2.get_tensor_by_name(nxt.name)
        with tf.Session() as sess:
            sess.run(init)
            for w in want:
                np.testing.assert_array_equal(sess.run(nxt2), w)


def test_imported_map_dataset_says_its_function_is_missing():
    it = Dataset.range(3).map(lambda v: v + 1).make_initializable_iterator()
    gd = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default() as g2:
        tf.import_graph_def(gd, name="")
        init = g2.get_operation_by_name(it.initializer.name)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.UnimplementedError, match="function"):
                sess.run(init)
