"""tf.train input producers and batching: epochs, shuffling, batches (padded, smaller final
batch, joined, masked) and the classic queue-runner training loop."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf


def drain(fetch, init_local: bool = True):
    """Runs the graph's queue runners and fetches `fetch` until OutOfRangeError; returns
    the values (the classic TF 1.x loop)."""
    got = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        if init_local:
            sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while not coord.should_stop():
                got.append(sess.run(fetch))
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads)
        assert not any(t.is_alive() for t in threads)
    return got


def test_string_input_producer_gives_exactly_num_epochs():
    names = [b"a", b"b", b"c", b"d"]
    q = tf.train.string_input_producer(names, num_epochs=3, shuffle=False)
    got = drain(q.dequeue())
    assert got == names * 3


def test_shuffled_epochs_hold_every_item_once_each():
    q = tf.train.string_input_producer([b"a", b"b", b"c", b"d", b"e"], num_epochs=4,
                                       seed=3)
    got = drain(q.dequeue())
    assert len(got) == 20
    epochs = [sorted(got[i:i + 5]) for i in range(0, 20, 5)]
    assert all(e == [b"a", b"b", b"c", b"d", b"e"] for e in epochs)
    assert any(got[i:i + 5] != sorted(got[i:i + 5]) for i in range(0, 20, 5))


def test_num_epochs_needs_local_variables_initialized():
    q = tf.train.range_input_producer(5, num_epochs=1)
    assert [v.op.name for v in tf.local_variables()] == ["input_producer/limit_epochs/epochs"]
    deq = q.dequeue()
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        with pytest.raises(tf.errors.FailedPreconditionError):
            coord.join(threads)
    assert deq.dtype == tf.int32


def test_range_input_producer_without_epochs_keeps_going():
    q = tf.train.range_input_producer(3, shuffle=False, capacity=4)
    deq = q.dequeue_many(7)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        np.testing.assert_array_equal(sess.run(deq), [0, 1, 2, 0, 1, 2, 0])
        coord.request_stop()
        coord.join(threads)


def test_limit_epochs():
    x = tf.constant([1, 2])
    assert tf.train.limit_epochs(x) is x
    with pytest.raises(ValueError):
        tf.train.limit_epochs(x, 0)
    limited = tf.train.limit_epochs(x, 2)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(limited)
        sess.run(limited)
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(limited)


def test_slice_input_producer_keeps_rows_together():
    images = np.arange(12, dtype=np.float32).reshape(6, 2)
    labels = np.arange(6, dtype=np.int64)
    image, label = tf.train.slice_input_producer([images, labels], num_epochs=2, seed=1)
    assert image.get_shape().as_list() == [2] and label.get_shape().as_list() == []
    got = drain([image, label])
    assert len(got) == 12
    for img, lab in got:
        np.testing.assert_array_equal(img, images[lab])
    assert sorted(int(lab) for _, lab in got) == sorted(list(range(6)) * 2)


def test_input_producer_requires_known_element_shape():
    with pytest.raises(ValueError, match="element_shape"):
        tf.train.input_producer(tf.placeholder(tf.float32, [None, None]))
    q = tf.train.input_producer(tf.placeholder(tf.float32, [None, None]), element_shape=[3],
                                shuffle=False)
    assert q.shapes[0].as_list() == [3]
    with pytest.raises(ValueError, match="non-null"):
        tf.train.string_input_producer([])


def test_batch_allow_smaller_final_batch():
    q = tf.train.range_input_producer(10, num_epochs=1, shuffle=False)
    batch = tf.train.batch([q.dequeue()], batch_size=4, allow_smaller_final_batch=True)
    assert batch.get_shape().as_list() == [None]
    got = drain(batch)
    assert [list(b) for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batch_drops_an_incomplete_final_batch_by_default():
    q = tf.train.range_input_producer(10, num_epochs=1, shuffle=False)
    batch = tf.train.batch([q.dequeue()], batch_size=4)
    assert batch.name == "batch:0" and batch.get_shape().as_list() == [4]
    got = drain(batch)
    assert [list(b) for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_batch_structures_enqueue_many_and_summaries():
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
    y = tf.constant([10, 11, 12])
    batch = tf.train.batch({"x": x, "y": y}, batch_size=5, enqueue_many=True, capacity=8)
    assert batch["x"].get_shape().as_list() == [5, 2] and batch["y"].dtype == tf.int32
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        out = sess.run(batch)
        coord.request_stop()
        coord.join(threads)
    np.testing.assert_array_equal(out["y"], [10, 11, 12, 10, 11])
    np.testing.assert_array_equal(out["x"][3], [0.0, 1.0])
    names = [t.op.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES)]
    assert names == ["batch/fraction_of_8_full"]
    with pytest.raises(ValueError, match="fully defined"):
        tf.train.batch([tf.placeholder(tf.float32, [None])], 2)


def test_dynamic_pad_pads_to_the_longest_example():
    lengths = tf.train.range_input_producer(4, num_epochs=1, shuffle=False).dequeue() + 1
    seq = tf.range(lengths)  # [0], [0, 1], [0, 1, 2], [0, 1, 2, 3]
    batch = tf.train.batch([seq, lengths], batch_size=2, dynamic_pad=True)
    assert batch[0].get_shape().as_list() == [2, None]
    got = drain(batch)
    np.testing.assert_array_equal(got[0][0], [[0, 0], [0, 1]])
    np.testing.assert_array_equal(got[1][0], [[0, 1, 2, 0], [0, 1, 2, 3]])
    np.testing.assert_array_equal(got[1][1], [3, 4])


def test_shuffle_batch_emits_each_example_once_per_epoch():
    q = tf.train.range_input_producer(50, num_epochs=2, shuffle=False)
    batch = tf.train.shuffle_batch([q.dequeue()], batch_size=10, capacity=30,
                                   min_after_dequeue=10, num_threads=3, seed=4,
                                   allow_smaller_final_batch=True)
    got = np.concatenate(drain(batch))
    assert sorted(got) == sorted(list(range(50)) * 2)
    assert list(got) != sorted(got)
    names = [t.op.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES)]
    assert "shuffle_batch/fraction_over_10_of_20_full" in names
    with pytest.raises(ValueError, match="min_after_dequeue"):
        tf.train.shuffle_batch([tf.constant(1)], 2, capacity=5, min_after_dequeue=5)


def test_batch_join_and_shuffle_batch_join_read_every_list():
    a = tf.train.range_input_producer(4, num_epochs=1, shuffle=False, name="a").dequeue()
    b = tf.train.range_input_producer(4, num_epochs=1, shuffle=False, name="b").dequeue()
    joined = tf.train.batch_join([[a], [b + 100]], batch_size=2,
                                 allow_smaller_final_batch=True)
    got = sorted(np.concatenate(drain(joined)))
    assert got == [0, 1, 2, 3, 100, 101, 102, 103]

    tf.reset_default_graph()
    c = tf.train.range_input_producer(6, num_epochs=1, shuffle=False, name="c").dequeue()
    d = tf.train.range_input_producer(6, num_epochs=1, shuffle=False, name="d").dequeue()
    shuffled = tf.train.shuffle_batch_join([{"v": c}, {"v": d * -1 - 1}], batch_size=4,
                                           capacity=10, min_after_dequeue=2,
                                           allow_smaller_final_batch=True)
    got = sorted(np.concatenate([b["v"] for b in drain(shuffled)]))
    assert got == sorted(list(range(6)) + [-k - 1 for k in range(6)])


def test_maybe_batch_keeps_only_selected_examples():
    values = tf.constant(np.arange(8))
    keep = tf.equal(tf.mod(values, 2), 0)
    batch = tf.train.maybe_batch([values], keep, batch_size=4, enqueue_many=True)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        np.testing.assert_array_equal(sess.run(batch), [0, 2, 4, 6])
        coord.request_stop()
        coord.join(threads)

    tf.reset_default_graph()
    i = tf.train.range_input_producer(10, num_epochs=1, shuffle=False).dequeue()
    odd = tf.train.maybe_shuffle_batch([i], batch_size=5, capacity=10, min_after_dequeue=0,
                                       keep_input=tf.equal(tf.mod(i, 2), 1), seed=1)
    got = drain(odd)
    assert sorted(got[0]) == [1, 3, 5, 7, 9]
    with pytest.raises(ValueError, match="vector"):
        tf.train.maybe_batch([tf.constant(1)], tf.constant([True]), 2)


def test_the_classic_training_loop_sees_every_batch():
    """TF 1.x's loop: train until the input raises OutOfRangeError, then stop and join."""
    images = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    image = tf.train.slice_input_producer([images], num_epochs=3, shuffle=True, seed=2)[0]
    batch = tf.train.shuffle_batch([image], batch_size=5, capacity=20, min_after_dequeue=5,
                                   num_threads=2, seed=1)
    w = tf.Variable(tf.zeros([3]))
    step = tf.assign_add(w, tf.reduce_sum(batch, axis=0))
    steps = 0
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while not coord.should_stop():
                sess.run(step)
                steps += 1
        except tf.errors.OutOfRangeError:
            done = True
        finally:
            coord.request_stop()
        coord.join(threads)
        total = sess.run(w)
    assert done and steps == 12  # 60 examples in batches of 5, nothing left over
    np.testing.assert_allclose(total, 3 * images.sum(axis=0), rtol=1e-5)
