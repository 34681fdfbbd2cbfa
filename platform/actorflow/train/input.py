"""TF 1.x input pipelines built from queues and queue runners: the producers
(`string_input_producer`, `range_input_producer`, `slice_input_producer`, `input_producer`,
`limit_epochs`) and the batchers (`batch`, `shuffle_batch`, `batch_join`,
`shuffle_batch_join` and their ``maybe_`` forms).

Each function adds a queue to the graph, the enqueue ops that fill it and a `QueueRunner`
for them in the ``QUEUE_RUNNERS`` collection; ``tf.train.start_queue_runners`` starts the
threads. A producer with ``num_epochs`` counts its epochs in a *local* variable ("epochs"),
so ``tf.local_variables_initializer()`` must run first, as in TF; after the last epoch its
runner closes the queue and readers of it get `OutOfRangeError` once it is drained — which
then closes the batch queues downstream, so the training loop's ``sess.run`` raises
`OutOfRangeError` after the last (full, or with ``allow_smaller_final_batch`` smaller)
batch. Every queue reports how full it is with a scalar summary, named as TF names it
(``fraction_of_<capacity>_full``, ``fraction_over_<min>_of_<capacity - min>_full``).

Sparse tensors are not supported.
"""
from __future__ import annotations

from collections.abc import Mapping

from .. import dtypes as _dtypes
from ..framework.graph import (GraphKeys, Tensor, constant_value, control_dependencies,
                               convert_to_tensor, name_scope)
from ..tensor_shape import TensorShape, as_shape
from .queue_runner import QueueRunner, add_queue_runner

__all__ = ["limit_epochs", "input_producer", "string_input_producer", "range_input_producer",
           "slice_input_producer", "batch", "maybe_batch", "batch_join", "maybe_batch_join",
           "shuffle_batch", "maybe_shuffle_batch", "shuffle_batch_join",
           "maybe_shuffle_batch_join"]


def _tf():
    """The ``actorflow`` namespace (ops from many families; imported late: it imports us)."""
    import actorflow
    return actorflow


# -- producers -------------------------------------------------------------------------------
def limit_epochs(tensor, num_epochs: int | None = None, name=None) -> Tensor:
    """Returns `tensor` `num_epochs` times, then raises OutOfRangeError when evaluated.

    The count lives in a local variable named "epochs" (initialise it with
    ``tf.local_variables_initializer()``). With `num_epochs` None, `tensor` is returned as
    it is.

    Raises:
        ValueError: num_epochs is not positive.
    """
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 not {num_epochs}.")
    tf = _tf()
    with name_scope(name, "limit_epochs", [tensor]) as scope:
        epochs = tf.Variable(tf.constant(0, dtype=_dtypes.int64), name="epochs",
                             trainable=False, collections=[GraphKeys.LOCAL_VARIABLES])
        counter = epochs.count_up_to(num_epochs)
        with control_dependencies([counter]):
            return tf.identity(tensor, name=scope)


def input_producer(input_tensor, element_shape=None, num_epochs: int | None = None,
                   shuffle: bool = True, seed=None, capacity: int = 32, shared_name=None,
                   summary_name: str | None = None, name=None, cancel_op=None):
    """A queue that a runner fills with the rows of `input_tensor` (its slices along
    dimension 0), over and over: `num_epochs` times (None: forever), each time in a new
    random order when `shuffle`.

    Args:
        input_tensor: a tensor of rank >= 1.
        element_shape: the shape of a row, when `input_tensor`'s is not fully known.
        seed: seeds the shuffling (with the graph seed).
        capacity: the queue's capacity.
        shared_name: the queue's shared name.
        summary_name: name of a scalar summary of how full the queue is (None: none).
        cancel_op: the runner's cancel op (default: close the queue cancelling enqueues).

    Returns:
        The queue (a ``tf.FIFOQueue``); its runner is in ``GraphKeys.QUEUE_RUNNERS``.

    Raises:
        ValueError: the row shape is not fully known.
    """
    tf = _tf()
    with name_scope(name, "input_producer", [input_tensor]) as scope:
        input_tensor = convert_to_tensor(input_tensor, name="input_tensor")
        shape = input_tensor.get_shape()
        row = TensorShape(None) if shape.ndims is None else TensorShape(shape.as_list()[1:])
        element_shape = row.merge_with(as_shape(element_shape) if element_shape is not None
                                       else TensorShape(None))
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or "
                             "`element_shape` must be specified")
        if shuffle:
            input_tensor = tf.random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        q = tf.FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype],
                         shapes=[element_shape], shared_name=shared_name, name=scope)
        enq = q.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(q, [enq], cancel_op=cancel_op))
        if summary_name is not None:
            tf.summary.scalar(summary_name,
                              tf.cast(q.size(), _dtypes.float32) * (1.0 / capacity))
        return q


def string_input_producer(string_tensor, num_epochs: int | None = None,
                          shuffle: bool = True, seed=None, capacity: int = 32,
                          shared_name=None, name=None, cancel_op=None):
    """A queue of the strings of `string_tensor` (e.g. filenames for a reader), repeated
    `num_epochs` times (None: forever), shuffled each epoch when `shuffle`.

    Returns:
        The queue; readers take it as their filename queue.

    Raises:
        ValueError: `string_tensor` is an empty Python list (an empty tensor fails when run).
    """
    not_null_err = "string_input_producer requires a non-null input tensor"
    if not isinstance(string_tensor, Tensor) and not _nonempty(string_tensor):
        raise ValueError(not_null_err)
    tf = _tf()
    with name_scope(name, "input_producer", [string_tensor]) as scope:
        string_tensor = convert_to_tensor(string_tensor, dtype=_dtypes.string)
        check = tf.Assert(tf.greater(tf.size(string_tensor), 0), [not_null_err])
        with control_dependencies([check]):
            string_tensor = tf.identity(string_tensor)
        return input_producer(string_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, f"fraction_of_{capacity}_full", scope, cancel_op)


def _nonempty(value) -> bool:
    try:
        return len(value) > 0
    except TypeError:
        return value is not None


def range_input_producer(limit, num_epochs: int | None = None, shuffle: bool = True,
                         seed=None, capacity: int = 32, shared_name=None, name=None):
    """A queue of the int32 integers 0 .. limit-1, repeated `num_epochs` times (None:
    forever), shuffled each epoch when `shuffle`."""
    tf = _tf()
    with name_scope(name, "input_producer", [limit]) as scope:
        range_tensor = tf.range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, f"fraction_of_{capacity}_full", scope)


def slice_input_producer(tensor_list, num_epochs: int | None = None, shuffle: bool = True,
                         seed=None, capacity: int = 32, shared_name=None, name=None) -> list:
    """Row i of every tensor of `tensor_list`, for i taken from a `range_input_producer`
    over their common first dimension: one row (of each) per evaluation.

    Returns:
        A list of tensors, one row of each input.

    Raises:
        ValueError: `tensor_list` is empty.
    """
    tf = _tf()
    with name_scope(name, "input_producer", list(tensor_list)):
        tensors = [convert_to_tensor(t) for t in tensor_list]
        if not tensors:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = tf.shape(tensors[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle,
                                     seed=seed, capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [tf.gather(t, index) for t in tensors]


# -- batching helpers ------------------------------------------------------------------------
def _as_tensor_list(tensors) -> list:
    if isinstance(tensors, Mapping):
        return [tensors[k] for k in sorted(tensors, key=str)]
    if isinstance(tensors, (list, tuple)):
        return list(tensors)
    return [tensors]


def _as_tensor_list_list(tensors_list) -> list[list]:
    if not tensors_list:
        raise ValueError("Expected at least one set of tensors")
    if isinstance(tensors_list[0], Mapping):
        keys = set(tensors_list[0])
        for d in tensors_list[1:]:
            if set(d) != keys:
                raise ValueError(f"All dictionaries in tensors_list must have the same keys: "
                                 f"{sorted(keys)} and {sorted(d)}")
    out = [_as_tensor_list(t) for t in tensors_list]
    if len({len(t) for t in out}) != 1:
        raise ValueError("Expecting all tensor lists in tensors_list to have the same length")
    return out


def _as_original_type(original, dequeued):
    """The dequeued tensors in the structure the caller passed in."""
    if isinstance(original, Mapping):
        values = dequeued if isinstance(dequeued, (list, dict)) else [dequeued]
        if isinstance(values, dict):
            values = list(values.values())
        return {k: values[i] for i, k in enumerate(sorted(original, key=str))}
    return dequeued


def _validate(tensor_list: list, what: str) -> list[Tensor]:
    if not tensor_list:
        raise ValueError(f"Expected at least one tensor in {what}().")
    return [convert_to_tensor(t) for t in tensor_list]


def _validate_keep_input(keep_input, enqueue_many: bool) -> Tensor:
    keep_input = convert_to_tensor(keep_input, dtype=_dtypes.bool)
    ndims = keep_input.get_shape().ndims
    if ndims is None:
        raise ValueError("`keep_input` dimensions must be known at graph construction.")
    if not enqueue_many and ndims == 1:
        raise ValueError("`keep_input` cannot be a vector when `enqueue_many=False`.")
    if ndims > 1:
        raise ValueError("`keep_input` must be 0 or 1 dimensions.")
    return keep_input


def _dtypes_of(tensor_list_list: list[list[Tensor]]) -> list:
    types = [t.dtype for t in tensor_list_list[0]]
    for other in tensor_list_list[1:]:
        if [t.dtype for t in other] != types:
            raise TypeError(f"Expected types to be consistent: {types} vs. "
                            f"{[t.dtype for t in other]}.")
    return types


def _shapes_of(tensor_list_list: list[list[Tensor]], shapes, enqueue_many: bool) -> list:
    """The per-item shapes of the queue: given, or merged from the tensors (without their
    first dimension when `enqueue_many`)."""
    if shapes is not None:
        return [as_shape(s) for s in shapes]
    out = []
    for i in range(len(tensor_list_list[0])):
        merged = None
        for tl in tensor_list_list:
            s = tl[i].get_shape()
            if s.ndims is None:
                raise ValueError(f"Cannot infer Tensor's rank: {tl[i]}")
            if enqueue_many:
                if s.ndims < 1:
                    raise ValueError(f"Shape {s} of {tl[i].name} must have rank at least 1 "
                                     "with enqueue_many=True")
                s = TensorShape(s.as_list()[1:])
            merged = s if merged is None else merged.merge_with(s)
        out.append(merged)
    return out


def _gated(tensor_list: list[Tensor], keep_input: Tensor, enqueue_many: bool):
    """(tensors, enqueue_many) enqueueing only the items `keep_input` keeps: a batch
    masked by a vector keep_input, or by a scalar one repeated (one item, or the whole
    batch, or nothing)."""
    tf = _tf()
    if not enqueue_many:
        tensor_list = [tf.expand_dims(t, 0) for t in tensor_list]
    if keep_input.get_shape().ndims == 1:
        mask = keep_input
    else:
        mask = tf.fill(tf.shape(tensor_list[0])[:1], keep_input)
    return [tf.boolean_mask(t, mask) for t in tensor_list], True


def _enqueue_ops(queue, tensor_list_list: list[list[Tensor]], enqueue_many: bool,
                 keep_input: Tensor) -> list:
    """One enqueue op per tensor list, gated by `keep_input` unless it is constant True."""
    tf = _tf()
    keep = constant_value(keep_input)
    ops = []
    for tensor_list in tensor_list_list:
        many = enqueue_many
        if keep is not None and keep.ndim == 0:
            if not bool(keep):
                ops.append(tf.no_op())
                continue
        else:
            tensor_list, many = _gated(tensor_list, keep_input, enqueue_many)
        ops.append(queue.enqueue_many(tensor_list) if many else queue.enqueue(tensor_list))
    return ops


def _dequeue(queue, batch_size, allow_smaller_final_batch: bool, name: str):
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=name)
    return queue.dequeue_many(batch_size, name=name)


def _batch(tensors, batch_size, keep_input, num_threads: int, capacity: int,
           enqueue_many: bool, shapes, dynamic_pad: bool, allow_smaller_final_batch: bool,
           shared_name, name, scope_default: str):
    tf = _tf()
    tensor_list = _as_tensor_list(tensors)
    with name_scope(name, scope_default, list(tensor_list) + [keep_input]) as scope:
        tensor_list = _validate(tensor_list, scope_default)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes_of([tensor_list])
        shapes = _shapes_of([tensor_list], shapes, enqueue_many)
        queue_cls = tf.PaddingFIFOQueue if dynamic_pad else tf.FIFOQueue
        queue = queue_cls(capacity=capacity, dtypes=types, shapes=shapes,
                          shared_name=shared_name)
        enqueue_ops = _enqueue_ops(queue, [tensor_list], enqueue_many, keep_input)
        add_queue_runner(QueueRunner(queue, enqueue_ops * int(num_threads)))
        tf.summary.scalar(f"fraction_of_{capacity}_full",
                          tf.cast(queue.size(), _dtypes.float32) * (1.0 / capacity))
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, scope)
        return _as_original_type(tensors, dequeued)


def _batch_join(tensors_list, batch_size, keep_input, capacity: int, enqueue_many: bool,
                shapes, dynamic_pad: bool, allow_smaller_final_batch: bool, shared_name,
                name, scope_default: str):
    tf = _tf()
    tensor_list_list = _as_tensor_list_list(tensors_list)
    flat = [t for tl in tensor_list_list for t in tl]
    with name_scope(name, scope_default, flat + [keep_input]) as scope:
        tensor_list_list = [_validate(tl, scope_default) for tl in tensor_list_list]
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes_of(tensor_list_list)
        shapes = _shapes_of(tensor_list_list, shapes, enqueue_many)
        queue_cls = tf.PaddingFIFOQueue if dynamic_pad else tf.FIFOQueue
        queue = queue_cls(capacity=capacity, dtypes=types, shapes=shapes,
                          shared_name=shared_name)
        enqueue_ops = _enqueue_ops(queue, tensor_list_list, enqueue_many, keep_input)
        add_queue_runner(QueueRunner(queue, enqueue_ops))
        tf.summary.scalar(f"fraction_of_{capacity}_full",
                          tf.cast(queue.size(), _dtypes.float32) * (1.0 / capacity))
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, scope)
        return _as_original_type(tensors_list[0], dequeued)


def _shuffle_batch(tensors_list, batch_size, capacity: int, min_after_dequeue: int,
                   keep_input, num_threads: int, seed, enqueue_many: bool, shapes,
                   allow_smaller_final_batch: bool, shared_name, name, scope_default: str,
                   join: bool):
    tf = _tf()
    tensor_list_list = _as_tensor_list_list(tensors_list) if join else \
        [_as_tensor_list(tensors_list)]
    flat = [t for tl in tensor_list_list for t in tl]
    with name_scope(name, scope_default, flat + [keep_input]) as scope:
        if capacity <= min_after_dequeue:
            raise ValueError(f"capacity {capacity} must be bigger than min_after_dequeue "
                             f"{min_after_dequeue}.")
        tensor_list_list = [_validate(tl, scope_default) for tl in tensor_list_list]
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes_of(tensor_list_list)
        shapes = _shapes_of(tensor_list_list, shapes, enqueue_many)
        queue = tf.RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue,
                                      seed=seed, dtypes=types, shapes=shapes,
                                      shared_name=shared_name)
        enqueue_ops = _enqueue_ops(queue, tensor_list_list, enqueue_many, keep_input)
        if not join:
            enqueue_ops = enqueue_ops * int(num_threads)
        add_queue_runner(QueueRunner(queue, enqueue_ops))
        full = tf.cast(tf.maximum(0, queue.size() - min_after_dequeue), _dtypes.float32) * (
            1.0 / (capacity - min_after_dequeue))
        tf.summary.scalar(f"fraction_over_{min_after_dequeue}_of_"
                          f"{capacity - min_after_dequeue}_full", full)
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, scope)
        original = tensors_list[0] if join else tensors_list
        return _as_original_type(original, dequeued)


# -- batching ----------------------------------------------------------------------------------
def batch(tensors, batch_size, num_threads: int = 1, capacity: int = 32,
          enqueue_many: bool = False, shapes=None, dynamic_pad: bool = False,
          allow_smaller_final_batch: bool = False, shared_name=None, name=None):
    """Batches `tensors` (a list or dict of tensors: one example) through a FIFO queue
    filled by `num_threads` runner threads.

    Args:
        tensors: the tensors of one example (with `enqueue_many`, of a batch of examples
            along dimension 0).
        batch_size: examples per output batch.
        capacity: the queue's capacity.
        shapes: the per-example shapes, when the tensors' static shapes are not enough.
        dynamic_pad: a PaddingFIFOQueue: dimensions may vary between examples and each
            batch is padded (zeros) to its largest example.
        allow_smaller_final_batch: once the input runs out, the last batch may be smaller
            (dimension 0 of the outputs is then unknown statically).

    Returns:
        The batched tensors, in the structure of `tensors`.

    Raises:
        ValueError: shapes that cannot be inferred or are not fully defined (without
            dynamic_pad).
    """
    return _batch(tensors, batch_size, True, num_threads, capacity, enqueue_many, shapes,
                  dynamic_pad, allow_smaller_final_batch, shared_name, name, "batch")


def maybe_batch(tensors, keep_input, batch_size, num_threads: int = 1, capacity: int = 32,
                enqueue_many: bool = False, shapes=None, dynamic_pad: bool = False,
                allow_smaller_final_batch: bool = False, shared_name=None, name=None):
    """As `batch`, enqueueing an example only where the bool `keep_input` is True (a
    scalar, or with `enqueue_many` a vector with one entry per example)."""
    return _batch(tensors, batch_size, keep_input, num_threads, capacity, enqueue_many,
                  shapes, dynamic_pad, allow_smaller_final_batch, shared_name, name, "batch")


def batch_join(tensors_list, batch_size, capacity: int = 32, enqueue_many: bool = False,
               shapes=None, dynamic_pad: bool = False, allow_smaller_final_batch: bool = False,
               shared_name=None, name=None):
    """Batches examples from several lists of tensors (of equal dtypes), one runner thread
    per list, into one FIFO queue (e.g. one reader per list); arguments as `batch`."""
    return _batch_join(tensors_list, batch_size, True, capacity, enqueue_many, shapes,
                       dynamic_pad, allow_smaller_final_batch, shared_name, name,
                       "batch_join")


def maybe_batch_join(tensors_list, keep_input, batch_size, capacity: int = 32,
                     enqueue_many: bool = False, shapes=None, dynamic_pad: bool = False,
                     allow_smaller_final_batch: bool = False, shared_name=None, name=None):
    """As `batch_join`, enqueueing only where `keep_input` is True (see `maybe_batch`)."""
    return _batch_join(tensors_list, batch_size, keep_input, capacity, enqueue_many, shapes,
                       dynamic_pad, allow_smaller_final_batch, shared_name, name,
                       "batch_join")


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads: int = 1,
                  seed=None, enqueue_many: bool = False, shapes=None,
                  allow_smaller_final_batch: bool = False, shared_name=None, name=None):
    """Batches `tensors` in random order through a RandomShuffleQueue that holds back
    `min_after_dequeue` examples (so that each batch mixes well); `num_threads` runner
    threads fill it. Other arguments as `batch`.

    Raises:
        ValueError: `capacity` is not larger than `min_after_dequeue`.
    """
    return _shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, True,
                          num_threads, seed, enqueue_many, shapes, allow_smaller_final_batch,
                          shared_name, name, "shuffle_batch", join=False)


def maybe_shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input,
                        num_threads: int = 1, seed=None, enqueue_many: bool = False,
                        shapes=None, allow_smaller_final_batch: bool = False,
                        shared_name=None, name=None):
    """As `shuffle_batch`, enqueueing only where `keep_input` is True (see `maybe_batch`)."""
    return _shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input,
                          num_threads, seed, enqueue_many, shapes, allow_smaller_final_batch,
                          shared_name, name, "shuffle_batch", join=False)


def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None,
                       enqueue_many: bool = False, shapes=None,
                       allow_smaller_final_batch: bool = False, shared_name=None, name=None):
    """As `shuffle_batch`, from several lists of tensors, one runner thread per list."""
    return _shuffle_batch(tensors_list, batch_size, capacity, min_after_dequeue, True, 1,
                          seed, enqueue_many, shapes, allow_smaller_final_batch, shared_name,
                          name, "shuffle_batch_join", join=True)


def maybe_shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue,
                             keep_input, seed=None, enqueue_many: bool = False, shapes=None,
                             allow_smaller_final_batch: bool = False, shared_name=None,
                             name=None):
    """As `shuffle_batch_join`, enqueueing only where `keep_input` is True."""
    return _shuffle_batch(tensors_list, batch_size, capacity, min_after_dequeue, keep_input,
                          1, seed, enqueue_many, shapes, allow_smaller_final_batch,
                          shared_name, name, "shuffle_batch_join", join=True)
