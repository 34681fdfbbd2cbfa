"""Cases for the queue ops (ops/data_flow.py).

Each case builds a queue, fills it and reads it back in one run: control dependencies order
the enqueue before the dequeue inside the run. None is differentiable.
"""
import numpy as np

import actorflow as tf

from . import OpCase, randn


def _fifo_round_trip(x):
    q = tf.FIFOQueue(4, [tf.float64], shapes=[[2, 3]])
    with tf.control_dependencies([q.enqueue([x])]):
        return q.dequeue()


def _many_round_trip(x):
    q = tf.FIFOQueue(8, [tf.float64, tf.int32], shapes=[[3], []])
    enq = q.enqueue_many([x, tf.range(4)])
    with tf.control_dependencies([enq]):
        a, b = q.dequeue_many(4)
    return [a, b]


def _up_to_after_close(x):
    q = tf.FIFOQueue(8, tf.float64, shapes=[[3]])
    with tf.control_dependencies([q.enqueue_many(x)]):
        close = q.close()
    with tf.control_dependencies([close]):
        return q.dequeue_up_to(6)


def _size(x):
    q = tf.FIFOQueue(8, tf.float64, shapes=[[3]])
    with tf.control_dependencies([q.enqueue_many(x)]):
        return q.size()


def _close_then_is_closed(x):
    q = tf.FIFOQueue(8, tf.float64, shapes=[[3]])
    before = q.is_closed()
    with tf.control_dependencies([before]):
        close = q.close(cancel_pending_enqueues=True)
    with tf.control_dependencies([close]):
        after = q.is_closed()
    return [before, after]


def _shuffle(x):
    q = tf.RandomShuffleQueue(10, 0, tf.float64, shapes=[[3]], seed=5)
    with tf.control_dependencies([q.enqueue_many(x)]):
        return q.dequeue_many(4)


def _check_shuffle(outs, inputs):
    got = outs[0]
    assert got.shape == (4, 3)
    rows = sorted(map(tuple, got))
    assert rows == sorted(map(tuple, inputs[0])), "each row comes out exactly once"


def _padding(x):
    q = tf.PaddingFIFOQueue(4, [tf.float64], shapes=[[None]])
    e1 = q.enqueue([x])
    with tf.control_dependencies([e1]):
        e2 = q.enqueue([x[:1]])
    with tf.control_dependencies([e2]):
        return q.dequeue_many(2)


def _padding_ref(x):
    return np.stack([x, np.concatenate([x[:1], np.zeros(len(x) - 1)])])


def _priority(x):
    q = tf.PriorityQueue(4, [tf.float64], shapes=[[]])
    with tf.control_dependencies([q.enqueue_many([tf.constant([3, 1, 2], tf.int64), x])]):
        prio, val = q.dequeue_many(3)
    return [prio, val]


def _select(x):
    a = tf.FIFOQueue(4, tf.float64, shapes=[[3]])
    b = tf.FIFOQueue(4, tf.float64, shapes=[[3]])
    chosen = tf.QueueBase.from_list(1, [a, b])
    with tf.control_dependencies([b.enqueue(x[0])]):
        return chosen.dequeue()


X43 = randn(4, 3, seed=3)
X3 = randn(3, seed=4)

CASES = [
    OpCase("FIFOQueueV2", _fifo_round_trip, [randn(2, 3)], lambda x: x, grad=False),
    OpCase("QueueEnqueueV2", _fifo_round_trip, [randn(2, 3, seed=1)], lambda x: x,
           grad=False),
    OpCase("QueueDequeueV2", _fifo_round_trip, [randn(2, 3, seed=2)], lambda x: x,
           grad=False),
    OpCase("QueueEnqueueManyV2", _many_round_trip, [X43],
           lambda x: [x, np.arange(4, dtype=np.int32)], grad=False),
    OpCase("QueueDequeueManyV2", _many_round_trip, [X43],
           lambda x: [x, np.arange(4, dtype=np.int32)], grad=False),
    OpCase("QueueDequeueUpToV2", _up_to_after_close, [X43], lambda x: x, grad=False),
    OpCase("QueueSizeV2", _size, [X43], lambda x: np.int32(4), grad=False),
    OpCase("QueueCloseV2", _close_then_is_closed, [X43],
           lambda x: [np.bool_(False), np.bool_(True)], grad=False),
    OpCase("QueueIsClosedV2", _close_then_is_closed, [X43],
           lambda x: [np.bool_(False), np.bool_(True)], grad=False),
    OpCase("RandomShuffleQueueV2", _shuffle, [X43], check=_check_shuffle, grad=False),
    OpCase("PaddingFIFOQueueV2", _padding, [X3], _padding_ref, grad=False),
    OpCase("PriorityQueueV2", _priority, [X3],
           lambda x: [np.array([1, 2, 3]), x[[1, 2, 0]]], grad=False),
    OpCase("QueueSelect", _select, [X43], lambda x: x[0], grad=False),
]
