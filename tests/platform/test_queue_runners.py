"""tf.train.Coordinator, LooperThread and QueueRunner: stopping threads together, reporting
their errors, closing queues when input runs dry, and leaving no thread behind."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import actorflow as tf

JOIN_S = 10.0  # generous bound on threads that must end; never a speed check


# -- Coordinator -----------------------------------------------------------------------------
def test_request_stop_and_clear_stop():
    coord = tf.train.Coordinator()
    assert not coord.should_stop() and not coord.wait_for_stop(0.01)
    coord.request_stop()
    assert coord.should_stop() and coord.wait_for_stop(0.01)
    coord.clear_stop()
    assert not coord.should_stop()


def test_join_reraises_the_first_reported_exception():
    coord = tf.train.Coordinator()

    def worker(k):
        with coord.stop_on_exception():
            if k == 1:
                raise ValueError("worker 1 failed")
            coord.wait_for_stop()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    with pytest.raises(ValueError, match="worker 1 failed"):
        coord.join(threads)
    assert not any(t.is_alive() for t in threads)
    assert coord.joined


def test_later_exceptions_and_clean_stops_are_not_reported():
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "input ran out"))
    coord.join([])  # a clean stop: nothing raised
    coord.clear_stop()
    coord.request_stop(RuntimeError("first"))
    coord.request_stop(RuntimeError("second"))
    with pytest.raises(RuntimeError, match="first"):
        coord.raise_requested_exception()
    with pytest.raises(RuntimeError, match="first"):
        coord.join([])
    with pytest.raises(KeyError):
        coord.request_stop(KeyError("after join"))  # nobody would see it otherwise


def test_join_names_threads_that_do_not_stop():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=release.wait, name="stubborn")
    t.start()
    coord.register_thread(t)
    coord.request_stop()
    with pytest.raises(RuntimeError, match="stubborn"):
        coord.join(stop_grace_period_secs=0.05)
    coord.clear_stop()
    coord.request_stop()
    coord.join([t], stop_grace_period_secs=0.05, ignore_live_threads=True)
    release.set()
    t.join(JOIN_S)


def test_looper_thread_runs_until_stop():
    coord = tf.train.Coordinator()
    calls = []

    def tick(tag):
        calls.append(tag)
        if len(calls) == 3:
            coord.request_stop()

    looper = coord.loop(0.001, tick, args=("t",))
    coord.join([looper])
    assert calls == ["t", "t", "t"] and not looper.is_alive()
    with pytest.raises(ValueError):
        tf.train.LooperThread(coord, 1.0, args=(1,))


def test_looper_thread_reports_its_exception():
    coord = tf.train.Coordinator()

    def boom():
        raise ZeroDivisionError("looper failed")

    looper = tf.train.LooperThread.loop(coord, None, boom)
    with pytest.raises(ZeroDivisionError):
        coord.join([looper])


# -- QueueRunner -----------------------------------------------------------------------------
def _counting_pipeline(capacity=4, threads=2):
    """A queue filled by `threads` runner threads with increasing numbers."""
    counter = tf.Variable(0, dtype=tf.int32, name="counter")
    q = tf.FIFOQueue(capacity, tf.int32, shapes=[[]])
    enq = q.enqueue(tf.assign_add(counter, 1))
    qr = tf.train.QueueRunner(q, [enq] * threads)
    tf.train.add_queue_runner(qr)
    return q, qr, counter


def test_request_stop_ends_every_runner_thread():
    q, qr, counter = _counting_pipeline()
    deq = q.dequeue_many(3)
    with tf.Session() as sess:
        sess.run(counter.initializer)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert len(threads) == 3  # two enqueue threads and the one cancelling on stop
        assert all(t.daemon for t in threads)
        assert sess.run(deq).shape == (3,)
        coord.request_stop()
        coord.join(threads)  # threads blocked on the full queue are cancelled
        assert not any(t.is_alive() for t in threads)


def test_no_runner_thread_survives_session_close():
    q, qr, counter = _counting_pipeline(capacity=2, threads=3)
    sess = tf.Session()
    sess.run(counter.initializer)
    coord = tf.train.Coordinator()
    threads = qr.create_threads(sess, coord, daemon=True, start=True)
    sess.run(q.dequeue())  # the pipeline runs; the queue is full again soon
    sess.close()
    coord.join(threads)
    assert not any(t.is_alive() for t in threads)


def test_runner_exception_is_reraised_by_join():
    x = tf.Variable(1.0, name="x")
    q = tf.FIFOQueue(4, tf.float32, shapes=[[]])
    bad = tf.Assert(tf.less(x, 0.0), [x], name="x_must_be_negative")
    with tf.control_dependencies([bad]):
        enq = q.enqueue(x)
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [enq]))
    with tf.Session() as sess:
        sess.run(x.initializer)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        with pytest.raises(tf.errors.InvalidArgumentError):
            coord.join(threads)
        assert not any(t.is_alive() for t in threads)


def test_uninitialized_pipeline_reports_failed_precondition():
    q, qr, counter = _counting_pipeline()
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        with pytest.raises(tf.errors.FailedPreconditionError):
            coord.join(threads)


def test_out_of_range_in_a_runner_closes_its_queue():
    """An input that runs dry closes the queue: consumers drain it, then get
    OutOfRangeError; the coordinator sees a clean stop."""
    source = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    fill = source.enqueue_many([np.arange(5, dtype=np.int32)])
    close_source = source.close()
    sink = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(sink, [sink.enqueue(source.dequeue())] * 2))
    deq = sink.dequeue()
    with tf.Session() as sess:
        sess.run(fill)
        sess.run(close_source)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        got = []
        with pytest.raises(tf.errors.OutOfRangeError):
            while True:
                got.append(int(sess.run(deq)))
        assert sorted(got) == [0, 1, 2, 3, 4]
        coord.request_stop()
        coord.join(threads)


def test_create_threads_is_once_per_session_and_without_coordinator():
    counter = tf.Variable(0, dtype=tf.int32, name="counter")
    q = tf.FIFOQueue(3, tf.int32, shapes=[[]])
    qr = tf.train.QueueRunner(q, [q.enqueue(tf.assign_add(counter, 1))],
                              queue_closed_exception_types=(tf.errors.OutOfRangeError,
                                                            tf.errors.CancelledError))
    with tf.Session() as sess:
        sess.run(counter.initializer)
        threads = qr.create_threads(sess, start=True)
        assert len(threads) == 1 and not threads[0].daemon
        assert qr.create_threads(sess) == []  # already running in this session
        np.testing.assert_array_equal(sess.run(q.dequeue_many(3)), [1, 2, 3])
        sess.run(qr.cancel_op)  # without a coordinator the queue is closed by hand
        threads[0].join(JOIN_S)
        assert not threads[0].is_alive()
        assert qr.exceptions_raised == []  # a cancelled enqueue counts as "closed" here


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_without_coordinator_errors_are_kept_and_raised_in_the_thread():
    q, qr, counter = _counting_pipeline(capacity=1, threads=1)
    with tf.Session() as sess:
        sess.run(counter.initializer)
        threads = qr.create_threads(sess, start=True)
        assert sess.run(q.dequeue()) == 1
        sess.run(qr.cancel_op)
        threads[0].join(JOIN_S)
        assert not threads[0].is_alive()
        errors = qr.exceptions_raised
        assert len(errors) == 1 and isinstance(errors[0], tf.errors.CancelledError)


def test_queue_runner_construction_and_module_path():
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    with pytest.raises(ValueError):
        tf.train.QueueRunner(q, [])
    qr = tf.train.queue_runner.QueueRunner(q, [q.enqueue(1)])
    assert qr.name == q.name and qr.queue is q
    assert qr.close_op.type == "QueueCloseV2" and qr.cancel_op.type == "QueueCloseV2"
    assert qr.queue_closed_exception_types == (tf.errors.OutOfRangeError,)
    tf.train.queue_runner.add_queue_runner(qr, collection="mine")
    assert tf.get_collection("mine") == [qr]
    assert tf.train.queue_runner.start_queue_runners is tf.train.start_queue_runners
    with pytest.raises(ValueError, match="No default session"):
        tf.train.start_queue_runners()


def test_start_queue_runners_uses_the_default_session_and_collection():
    q, qr, counter = _counting_pipeline(capacity=2, threads=1)
    with tf.Session() as sess:
        sess.run(counter.initializer)
        coord = tf.train.Coordinator()
        assert tf.train.start_queue_runners(coord=coord, collection="empty") == []
        threads = tf.train.start_queue_runners(coord=coord, start=False)
        assert not any(t.is_alive() for t in threads)
        for t in threads:
            t.start()
        assert sess.run(q.dequeue()) == 1
        coord.request_stop()
        coord.join(threads)


def test_a_runner_thread_gives_its_turn_up_when_it_blocks_in_a_queue():
    """The threads of one QueueRunner take turns (they share one interpreter lock); a thread
    waiting in a queue must hand its turn on, or the runner's other threads would stall."""
    from actorflow import queues
    turn = threading.Lock()
    turn.acquire()
    queues.runner_turn.lock = turn
    q = queues.FIFOQueue(2)
    try:
        with pytest.raises(queues.QueueEmpty):
            q.dequeue(timeout=0.01)
        assert queues.runner_turn.lock is None
        assert turn.acquire(blocking=False), "the turn is still held"
    finally:
        queues.runner_turn.lock = None


def test_runner_threads_taking_turns_still_fill_the_queue_from_several_ops():
    src = tf.FIFOQueue(10, tf.int32)
    q = tf.FIFOQueue(10, tf.int32)
    # The first op blocks on an empty queue; the second must keep filling `q`.
    qr = tf.train.QueueRunner(q, [q.enqueue([src.dequeue()]), q.enqueue([tf.constant(7)])])
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        got = [sess.run(q.dequeue()) for _ in range(20)]
        coord.request_stop()
        sess.run(q.close(cancel_pending_enqueues=True))
        sess.run(src.close(cancel_pending_enqueues=True))
        coord.join(threads)
    assert got == [7] * 20
