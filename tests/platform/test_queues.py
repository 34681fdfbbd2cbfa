"""Queues in the graph (tf.FIFOQueue & co.): semantics through sessions, static shapes, TF's
error types, blocking across threads, and cancellation when the session closes."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import actorflow as tf
from actorflow import queues as core_queues

from ..blocking_calls import JOIN_S, in_thread, wait_blocked


def test_fifo_order_through_the_graph():
    q = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    enq = q.enqueue_many([[1, 2, 3, 4, 5]])
    one = q.dequeue()
    with tf.Session() as sess:
        sess.run(enq)
        assert [int(sess.run(one)) for _ in range(5)] == [1, 2, 3, 4, 5]
        sess.run(enq)
        np.testing.assert_array_equal(sess.run(q.dequeue_many(3)), [1, 2, 3])
        assert sess.run(q.size()) == 2


def test_static_shapes_and_return_structures():
    q = tf.FIFOQueue(3, [tf.int32, tf.float32], shapes=[[], [2]])
    assert q.name == "fifo_queue" and q.queue_ref.dtype == tf.dtypes.resource
    assert q.dtypes == [tf.int32, tf.float32] and q.names is None
    a, b = q.dequeue()
    assert a.get_shape().as_list() == [] and b.get_shape().as_list() == [2]
    a, b = q.dequeue_many(4)
    assert a.get_shape().as_list() == [4] and b.get_shape().as_list() == [4, 2]
    a, b = q.dequeue_up_to(4)
    assert a.get_shape().as_list() == [None] and b.get_shape().as_list() == [None, 2]
    assert q.dequeue_many(tf.placeholder(tf.int32, []))[1].get_shape().as_list() == [None, 2]
    assert q.enqueue([1, [1.0, 2.0]]).type == "QueueEnqueueV2"
    single = tf.FIFOQueue(3, tf.string)
    assert isinstance(single.dequeue(), tf.Tensor)
    assert single.dequeue().get_shape().ndims is None
    named = tf.FIFOQueue(3, [tf.int32, tf.float32], shapes=[[], []], names=["a", "b"])
    out = named.dequeue()
    assert set(out) == {"a", "b"} and out["b"].dtype == tf.float32


def test_construction_errors():
    with pytest.raises(ValueError, match="fully defined"):
        tf.FIFOQueue(3, tf.float32, shapes=[[None]])
    with pytest.raises(ValueError, match="same length"):
        tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[]])
    q = tf.FIFOQueue(3, [tf.float32, tf.int32], shapes=[[2], []])
    with pytest.raises(ValueError, match="compatible"):
        q.enqueue([[1.0, 2.0, 3.0], 1])
    with pytest.raises(ValueError, match="components"):
        q.enqueue([[1.0, 2.0]])
    with pytest.raises(ValueError, match="dimension 0"):
        q.enqueue_many([np.zeros((2, 2), np.float32), np.zeros(3, np.int32)])
    with pytest.raises(ValueError, match="names"):
        q.enqueue({"a": 1.0, "b": 1})
    with pytest.raises(ValueError, match="min_after_dequeue"):
        tf.RandomShuffleQueue(5, 5, tf.float32)


def test_dict_queue_round_trip():
    q = tf.FIFOQueue(4, [tf.int32, tf.string], shapes=[[], []], names=["n", "s"])
    enq = q.enqueue({"n": 7, "s": b"seven"})
    with tf.Session() as sess:
        sess.run(enq)
        out = sess.run(q.dequeue())
    assert int(out["n"]) == 7 and out["s"] == b"seven"


def test_the_session_holds_an_actorflow_queue_object_per_session():
    """The kernel-level contract other ops (readers) rely on: the handle's value is the
    session's `actorflow.queues` object with dequeue() -> components, enqueue(components)."""
    q = tf.FIFOQueue(4, tf.string, shapes=[[]])
    with tf.Session() as s1, tf.Session() as s2:
        obj = s1.run(q.queue_ref)
        assert isinstance(obj, core_queues.FIFOQueue)
        assert obj is s1.run(q.queue_ref) and obj is not s2.run(q.queue_ref)
        obj.enqueue([b"file-a"])
        s1.run(q.enqueue(b"file-b"))
        assert obj.size() == 2 and s2.run(q.size()) == 0
        assert obj.dequeue() == (b"file-a",)
        assert s1.run(q.dequeue()) == b"file-b"


def test_seeded_shuffle_is_deterministic_and_emits_each_item_once():
    def run_once():
        tf.reset_default_graph()
        tf.set_random_seed(7)
        q = tf.RandomShuffleQueue(20, 0, tf.int64, shapes=[[]], seed=3)
        enq = q.enqueue_many([np.arange(20)])
        with tf.Session() as sess:
            sess.run(enq)
            return [int(sess.run(q.dequeue())) for _ in range(20)]

    first, second = run_once(), run_once()
    assert first == second
    assert sorted(first) == list(range(20)) and first != list(range(20))


def test_shuffle_keeps_min_after_dequeue_until_closed():
    q = tf.RandomShuffleQueue(10, 4, tf.int32, shapes=[[]], seed=1)
    enq = q.enqueue_many([np.arange(6, dtype=np.int32)])
    deq2, deq3 = q.dequeue_many(2), q.dequeue_many(3)
    config = tf.ConfigProto(operation_timeout_in_ms=50)
    with tf.Session(config=config) as sess:
        sess.run(enq)
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(deq3)  # would leave 3 < min_after_dequeue
        got = list(sess.run(deq2))
        assert sess.run(q.size()) == 4
        sess.run(q.close())
        got += list(sess.run(q.dequeue_up_to(10)))
    assert sorted(got) == list(range(6))


def test_closed_queue_errors_as_tf():
    q = tf.FIFOQueue(4, tf.float32, shapes=[[]], name="q")
    enq = q.enqueue(1.0)
    with tf.Session() as sess:
        sess.run(enq)
        sess.run(q.close())
        assert sess.run(q.is_closed())
        assert sess.run(q.dequeue()) == 1.0
        with pytest.raises(tf.errors.OutOfRangeError,
                           match=r"FIFOQueue 'q' is closed and has insufficient elements "
                                 r"\(requested 1, current size 0\)") as e:
            sess.run(q.dequeue())
        assert e.value.op is not None and e.value.op.type == "QueueDequeueV2"
        with pytest.raises(tf.errors.CancelledError, match="'q' is closed"):
            sess.run(enq)


def test_dequeue_up_to_returns_the_remainder_after_close():
    q = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    upto = q.dequeue_up_to(4)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3, 4, 5, 6]]))
        sess.run(q.close())
        np.testing.assert_array_equal(sess.run(upto), [1, 2, 3, 4])
        np.testing.assert_array_equal(sess.run(upto), [5, 6])
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(upto)


def test_closing_wakes_a_dequeue_blocked_in_another_thread():
    q = tf.FIFOQueue(4, tf.float32, shapes=[[]])
    deq = q.dequeue_many(2)
    close = q.close()
    with tf.Session() as sess:
        sess.run(q.enqueue(1.0))
        t, out = in_thread(sess.run, deq)
        wait_blocked(t)
        sess.run(close)
        t.join(JOIN_S)
        assert not t.is_alive()
        assert isinstance(out["error"], tf.errors.OutOfRangeError)


def test_blocked_dequeue_is_served_by_an_enqueue_from_another_thread():
    q = tf.FIFOQueue(4, tf.float32, shapes=[[]])
    x = tf.placeholder(tf.float32, [])
    enq, deq = q.enqueue(x), q.dequeue_many(3)
    with tf.Session() as sess:
        t, out = in_thread(sess.run, deq)
        wait_blocked(t)
        for v in (1.0, 2.0, 3.0):
            sess.run(enq, {x: v})
        t.join(JOIN_S)
        np.testing.assert_array_equal(out["value"], [1.0, 2.0, 3.0])


def test_blocked_enqueue_waits_for_room():
    q = tf.FIFOQueue(1, tf.float32, shapes=[[]])
    enq, deq = q.enqueue(5.0), q.dequeue()
    with tf.Session() as sess:
        sess.run(enq)
        t, out = in_thread(sess.run, enq)
        wait_blocked(t)
        assert sess.run(deq) == 5.0
        t.join(JOIN_S)
        assert "error" not in out and sess.run(q.size()) == 1


def test_close_cancel_pending_enqueues():
    q = tf.FIFOQueue(1, tf.float32, shapes=[[]])
    enq = q.enqueue(5.0)
    with tf.Session() as sess:
        sess.run(enq)
        t, out = in_thread(sess.run, enq)
        wait_blocked(t)
        sess.run(q.close(cancel_pending_enqueues=True))
        t.join(JOIN_S)
        assert isinstance(out["error"], tf.errors.CancelledError)
        assert sess.run(q.dequeue()) == 5.0


def test_session_close_cancels_blocked_queue_ops():
    q = tf.FIFOQueue(1, tf.float32, shapes=[[]])
    other = tf.FIFOQueue(1, tf.float32, shapes=[[]])
    enq, deq = q.enqueue(1.0), other.dequeue()
    sess = tf.Session()
    sess.run(enq)
    t1, out1 = in_thread(sess.run, enq)   # full: blocks
    t2, out2 = in_thread(sess.run, deq)   # empty: blocks
    wait_blocked(t1)
    wait_blocked(t2)
    sess.close()
    t1.join(JOIN_S)
    t2.join(JOIN_S)
    assert not t1.is_alive() and not t2.is_alive()
    assert isinstance(out1["error"], tf.errors.CancelledError)
    assert isinstance(out2["error"], tf.errors.CancelledError)


def test_operation_timeout_raises_deadline_exceeded():
    q = tf.FIFOQueue(1, tf.float32, shapes=[[]])
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=20)) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(q.dequeue())
        sess.run(q.enqueue(1.0))
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(q.enqueue(2.0))


def test_concurrent_runs_from_many_threads():
    """Session.run from several threads at once (plans compiled concurrently on first use,
    enqueues interleaved): every value arrives exactly once."""
    q = tf.FIFOQueue(1000, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    enq = q.enqueue(x)
    with tf.Session() as sess:
        def produce(base):
            for i in range(50):
                sess.run(enq, {x: base + i})

        threads = [threading.Thread(target=produce, args=(k * 1000,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(JOIN_S)
        got = sess.run(q.dequeue_many(300))
    assert sorted(got) == sorted(k * 1000 + i for k in range(6) for i in range(50))


def test_padding_fifo_queue_pads_each_batch_to_its_longest_item():
    q = tf.PaddingFIFOQueue(5, [tf.int32, tf.string], shapes=[[None], []])
    x = tf.placeholder(tf.int32, [None])
    enq = q.enqueue([x, "s"])
    vals, strs = q.dequeue_many(2)
    assert vals.get_shape().as_list() == [2, None]
    with tf.Session() as sess:
        sess.run(enq, {x: [1, 2, 3]})
        sess.run(enq, {x: [4]})
        sess.run(enq, {x: [5, 6]})
        np.testing.assert_array_equal(sess.run(vals), [[1, 2, 3], [4, 0, 0]])
        sess.run(q.close())
        np.testing.assert_array_equal(sess.run(q.dequeue_up_to(2)[0]), [[5, 6]])
    with pytest.raises(ValueError):
        tf.PaddingFIFOQueue(5, [tf.int32], shapes=None)


def test_priority_queue_orders_by_priority():
    q = tf.PriorityQueue(5, [tf.string], shapes=[[]])
    enq = q.enqueue_many([np.array([5, 1, 3], np.int64), [b"e", b"a", b"c"]])
    prio, val = q.dequeue()
    with tf.Session() as sess:
        sess.run(enq)
        sess.run(q.enqueue([np.int64(2), b"b"]))
        got = [sess.run([prio, val]) for _ in range(4)]
    assert [int(p) for p, _ in got] == [1, 2, 3, 5]
    assert [v for _, v in got] == [b"a", b"b", b"c", b"e"]


def test_shared_name_shares_one_queue_per_session():
    a = tf.FIFOQueue(4, tf.int32, shapes=[[]], shared_name="shared")
    b = tf.FIFOQueue(4, tf.int32, shapes=[[]], shared_name="shared")
    with tf.Session() as sess:
        sess.run(a.enqueue(3))
        assert sess.run(b.dequeue()) == 3


def test_from_list_selects_a_queue_at_run_time():
    qs = [tf.FIFOQueue(4, tf.int32, shapes=[[]]) for _ in range(3)]
    idx = tf.placeholder(tf.int32, [])
    chosen = tf.QueueBase.from_list(idx, qs)
    deq = chosen.dequeue()
    with tf.Session() as sess:
        for k, q in enumerate(qs):
            sess.run(q.enqueue(10 + k))
        assert sess.run(deq, {idx: 2}) == 12
        assert sess.run(deq, {idx: 0}) == 10
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(deq, {idx: 3})


def test_tf_queue_namespace():
    assert tf.queue.FIFOQueue is tf.FIFOQueue
    assert tf.queue.RandomShuffleQueue is tf.RandomShuffleQueue
    assert tf.queue.PaddingFIFOQueue is tf.PaddingFIFOQueue
    assert tf.queue.PriorityQueue is tf.PriorityQueue
    assert tf.queue.QueueBase is tf.QueueBase


def test_queue_ops_are_never_merged():
    """Two identical dequeues are two dequeues (stateful ops escape CSE)."""
    q = tf.FIFOQueue(4, tf.int32, shapes=[[]])
    d1, d2 = q.dequeue(), q.dequeue()
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2]]))
        assert sorted(int(v) for v in sess.run([d1, d2])) == [1, 2]


def test_blocked_multi_device_run_does_not_hold_up_the_runs_feeding_it():
    """A dequeue whose run spans two devices blocks in a partition; the enqueue runs (also
    spanning both devices) must still get through: blocking partitions stay off the
    per-device worker threads."""
    with tf.device("/cpu:0"):
        src = tf.random_uniform([8])
    with tf.device("/cpu:1"):
        pre = src * 2.0 + 1.0
    with tf.device("/cpu:0"):
        q = tf.FIFOQueue(4, tf.float32, shapes=[[8]])
        enq = q.enqueue(pre)
        batch = q.dequeue_many(3)
    with tf.device("/cpu:1"):
        total = tf.reduce_sum(batch * 3.0)
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [enq] * 2))
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        t, out = in_thread(lambda: [float(sess.run(total)) for _ in range(10)])
        t.join(JOIN_S)
        assert not t.is_alive(), "the consumer run deadlocked"
        assert len(out["value"]) == 10 and all(3 * 24 <= v <= 3 * 72 for v in out["value"])
        coord.request_stop()
        coord.join(threads)
