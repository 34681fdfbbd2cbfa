"""FIFOQueue / RandomShuffleQueue semantics (TF 1.x), in-process and through an actor."""
from __future__ import annotations

import queue as stdlib_queue

import numpy as np
import pytest

from actorflow import errors
from actorflow.actors._remote import _ray_options
from actorflow.actors.queue import (FIFOQueue, QueueActor, QueueCancelled, QueueClosed,
                                    QueueEmpty, QueueFull, RandomShuffleQueue)

from ..blocking_calls import JOIN_S, in_thread, wait_blocked


def test_fifo_order_and_wraparound():
    q = FIFOQueue(4, dtypes=np.int64)
    for i in range(3):
        q.enqueue(i)
    assert [int(q.dequeue()) for _ in range(2)] == [0, 1]
    q.enqueue_many(np.array([3, 4, 5]))  # wraps around the ring
    assert q.size() == 4
    np.testing.assert_array_equal(q.dequeue_many(4), [2, 3, 4, 5])
    assert q.size() == 0


def test_structures_tuple_dict_and_list_of_items():
    q = FIFOQueue(8, dtypes=[np.float32, np.int64], shapes=[(2,), ()])
    q.enqueue((np.ones(2), 7))
    q.enqueue_many([(np.zeros(2), 8), (np.full(2, 2.0), 9)])
    q.enqueue_many((np.full((2, 2), 3.0), np.array([10, 11])))
    x, y = q.dequeue_many(4)
    assert x.dtype == np.float32 and x.shape == (4, 2)
    np.testing.assert_array_equal(y, [7, 8, 9, 10])
    np.testing.assert_array_equal(x[:, 0], [1, 0, 2, 3])

    d = FIFOQueue(4, names=["a", "b"])
    d.enqueue_many({"a": np.arange(3), "b": np.array(["x", "yy", "zzz"])})
    item = d.dequeue()
    assert set(item) == {"a", "b"} and item["a"] == 0 and item["b"] == "x"
    rest = d.dequeue_many(2)
    assert list(rest["b"]) == ["yy", "zzz"]


def test_structure_errors():
    q = FIFOQueue(4, dtypes=[np.float32, np.int64], shapes=[(2,), ()])
    with pytest.raises(ValueError, match="per-item shape"):
        q.enqueue((np.ones(3), 1))
    with pytest.raises(TypeError, match="dtype"):
        q.enqueue((np.ones(2), 1.5))
    with pytest.raises(ValueError, match="first"):
        q.enqueue_many((np.ones((2, 2)), np.arange(3)))
    with pytest.raises(ValueError, match="dequeue 0"):
        q.dequeue_many(0)


def test_timeouts_raise_empty_and_full():
    q = FIFOQueue(1)
    with pytest.raises(QueueEmpty) as e:
        q.dequeue(timeout=0.01)
    assert isinstance(e.value, errors.DeadlineExceededError)
    assert isinstance(e.value, stdlib_queue.Empty)
    q.enqueue(1.0)
    with pytest.raises(QueueFull) as f:
        q.enqueue(2.0, timeout=0.01)
    assert isinstance(f.value, stdlib_queue.Full)
    big = FIFOQueue(4)
    big.enqueue_many(np.arange(2.0))
    with pytest.raises(QueueEmpty):
        big.dequeue_many(3, timeout=0.01)
    assert big.size() == 2  # a timed-out dequeue_many removes nothing


def test_producer_blocks_at_capacity_until_a_consumer_dequeues():
    q = FIFOQueue(2)
    q.enqueue_many(np.array([1.0, 2.0]))
    t, out = in_thread(q.enqueue, 3.0)
    wait_blocked(t)
    assert q.size() == 2
    assert float(q.dequeue()) == 1.0
    t.join(JOIN_S)
    assert out == {"value": None, "done": True}
    np.testing.assert_array_equal(q.dequeue_many(2), [2.0, 3.0])


def test_a_batch_larger_than_the_capacity_goes_in_as_room_frees_up():
    q = FIFOQueue(4, dtypes=np.int64)
    t, out = in_thread(q.enqueue_many, np.arange(10))
    got = []
    while len(got) < 10:
        got.extend(q.dequeue_many(2, timeout=JOIN_S))
    t.join(JOIN_S)
    assert out == {"value": None, "done": True}
    assert got == list(range(10))
    t, out = in_thread(q.dequeue_many, 7)  # more than the capacity: gathered in parts
    q.enqueue_many(np.arange(10, 17))
    t.join(JOIN_S)
    assert list(out["value"]) == list(range(10, 17))

    s = RandomShuffleQueue(6, min_after_dequeue=3, seed=0)
    t, out = in_thread(s.enqueue_many, np.arange(20))
    got = [int(s.dequeue(timeout=JOIN_S)) for _ in range(17)]
    t.join(JOIN_S)
    s.close()
    got += [int(x) for x in s.dequeue_up_to(6)]
    assert sorted(got) == list(range(20))


def test_close_wakes_blocked_consumers():
    q = FIFOQueue(4)
    t1, out1 = in_thread(q.dequeue)
    q2 = FIFOQueue(4)
    q2.enqueue(5.0)
    t2, out2 = in_thread(q2.dequeue_many, 3)
    t3, out3 = in_thread(q2.dequeue_up_to, 3)
    for t in (t1, t2, t3):
        wait_blocked(t)
    q.close()
    t1.join(JOIN_S)
    assert isinstance(out1["error"], QueueClosed)
    assert isinstance(out1["error"], errors.OutOfRangeError)
    q2.close()
    t2.join(JOIN_S)
    t3.join(JOIN_S)
    # dequeue_many(3) cannot be served by the 1 item left; dequeue_up_to(3) drains it
    assert isinstance(out2["error"], QueueClosed)
    assert list(out3["value"]) == [5.0]


def test_close_lets_pending_enqueues_finish_or_cancels_them():
    q = FIFOQueue(1)
    q.enqueue(1.0)
    t, out = in_thread(q.enqueue, 2.0)
    wait_blocked(t)
    q.close()
    with pytest.raises(QueueCancelled):
        q.enqueue(3.0)  # new enqueues are refused at once (TF: CancelledError)
    assert float(q.dequeue()) == 1.0
    t.join(JOIN_S)
    assert "error" not in out
    assert float(q.dequeue()) == 2.0

    c = FIFOQueue(1)
    c.enqueue(1.0)
    t, out = in_thread(c.enqueue, 2.0)
    wait_blocked(t)
    c.close(cancel_pending_enqueues=True)
    t.join(JOIN_S)
    assert isinstance(out["error"], QueueCancelled)
    assert isinstance(out["error"], errors.CancelledError)
    assert c.size() == 1


def test_dequeue_up_to_after_close():
    q = FIFOQueue(10)
    q.enqueue_many(np.arange(5))
    with pytest.raises(QueueEmpty):
        q.dequeue_up_to(6, timeout=0.01)  # open: behaves like dequeue_many
    q.close()
    assert q.is_closed()
    with pytest.raises(QueueClosed):
        q.dequeue_many(6)
    np.testing.assert_array_equal(q.dequeue_up_to(3), [0, 1, 2])
    np.testing.assert_array_equal(q.dequeue_up_to(3), [3, 4])
    with pytest.raises(QueueClosed):
        q.dequeue_up_to(3)


def test_shuffle_keeps_min_after_dequeue_until_close():
    q = RandomShuffleQueue(20, min_after_dequeue=5, seed=1)
    rng = np.random.default_rng(0)
    put, got = 0, []
    for _ in range(200):
        if rng.random() < 0.5 and q.size() < 20:
            q.enqueue(put)
            put += 1
        else:
            try:
                got.append(int(q.dequeue(timeout=0)))
            except QueueEmpty:
                assert q.size() <= 5
                continue
            assert q.size() >= 5
    assert q.size() >= 5
    q.close()
    got.extend(int(x) for x in q.dequeue_up_to(20))
    assert sorted(got) == list(range(put))  # each item exactly once
    assert got != sorted(got)


def test_shuffle_picks_uniformly():
    q = RandomShuffleQueue(10, min_after_dequeue=0, seed=0)
    first = np.zeros(10, int)
    for _ in range(2000):
        q.enqueue_many(np.arange(10))
        perm = q.dequeue_many(10)
        assert sorted(perm) == list(range(10))
        first[perm[0]] += 1
    # each item first with probability 1/10: 200 expected, ~13 standard deviations apart
    assert first.min() > 140 and first.max() < 260, first


def test_shuffle_batch_dequeue_waits_for_min_after_dequeue():
    q = RandomShuffleQueue(10, min_after_dequeue=4, seed=3, dtypes=[np.int64, np.float32])
    q.enqueue_many((np.arange(6), np.arange(6, dtype=np.float32)))
    with pytest.raises(QueueEmpty):
        q.dequeue_many(3, timeout=0.01)
    a, b = q.dequeue_many(2)
    np.testing.assert_array_equal(a.astype(np.float32), b)  # rows stay together
    assert q.size() == 4


def test_the_actor_module_reexports_the_core_queue_classes():
    import actorflow.queues as core
    from actorflow.actors import queue as remote
    for name in ("FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue", "PriorityQueue",
                 "QueueEmpty", "QueueFull", "QueueClosed", "QueueCancelled"):
        assert getattr(remote, name) is getattr(core, name), name


def test_actor_options_are_checked():
    with pytest.raises(TypeError, match="unknown actor option"):
        _ray_options({"num_cpu": 1})
    with pytest.raises(ValueError, match="placement_group_bundle_index"):
        _ray_options({"placement_group_bundle_index": 0})


@pytest.mark.slow
def test_queue_actor_round_trip_and_error_types(ray_local):
    q = QueueActor(FIFOQueue, 8, dtypes=[np.float32, np.int64], shapes=[(4,), ()])
    obs = np.arange(12, dtype=np.float32).reshape(3, 4)
    q.enqueue_many((obs, np.arange(3)))
    q.enqueue((np.ones(4), 9))
    assert q.size() == 4
    x, a = q.dequeue_many(4)
    np.testing.assert_array_equal(x[:3], obs)
    np.testing.assert_array_equal(a, [0, 1, 2, 9])
    with pytest.raises(QueueEmpty) as e:
        q.dequeue(timeout=0.01)
    assert type(e.value) is QueueEmpty
    with pytest.raises(ValueError):
        q.dequeue_many(0)
    t, out = in_thread(q.dequeue_many, 2)
    wait_blocked(t)
    q.close()
    t.join(JOIN_S)
    assert type(out["error"]) is QueueClosed
    with pytest.raises(QueueCancelled):
        q.enqueue((np.ones(4), 1))
    assert q.is_closed()
    q.shutdown()


@pytest.mark.slow
def test_shuffle_queue_actor(ray_local):
    q = QueueActor(RandomShuffleQueue, 100, min_after_dequeue=10, seed=0)
    q.enqueue_many(np.arange(50))
    got = list(q.dequeue_many(40))
    with pytest.raises(QueueEmpty):
        q.dequeue(timeout=0.01)
    q.close()
    got += list(q.dequeue_up_to(100))
    assert sorted(got) == list(range(50)) and got != list(range(50))
    q.shutdown()
