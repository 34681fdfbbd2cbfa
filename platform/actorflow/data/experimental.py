"""`tf.data.experimental` (also `tf.contrib.data`): transformations TF programs apply with
`Dataset.apply`, each built from the core transformations."""
from __future__ import annotations

from typing import Callable

from .dataset_ops import AUTOTUNE, Dataset

__all__ = ["AUTOTUNE", "shuffle_and_repeat", "map_and_batch", "unbatch", "parallel_interleave",
           "batch_and_drop_remainder", "make_one_shot_iterator", "make_initializable_iterator"]


def shuffle_and_repeat(buffer_size, count=None, seed=None) -> Callable[[Dataset], Dataset]:
    """``dataset.shuffle(buffer_size, seed).repeat(count)``, for `Dataset.apply`: every
    epoch in a new order."""
    def apply(dataset: Dataset) -> Dataset:
        return dataset.shuffle(buffer_size, seed=seed, reshuffle_each_iteration=True) \
            .repeat(count)
    return apply


def map_and_batch(map_func, batch_size, num_parallel_batches=None, drop_remainder=False,
                  num_parallel_calls=None) -> Callable[[Dataset], Dataset]:
    """``dataset.map(map_func, num_parallel_calls).batch(batch_size, drop_remainder)``, for
    `Dataset.apply`. `num_parallel_batches` b means b * batch_size parallel calls, as TF
    defines it (at most one of the two may be given)."""
    if num_parallel_batches is not None and num_parallel_calls is not None:
        raise ValueError("`num_parallel_batches` and `num_parallel_calls` are mutually "
                         "exclusive.")
    if num_parallel_batches is not None:
        if not isinstance(batch_size, int):
            raise TypeError("num_parallel_batches needs a Python int batch_size here; pass "
                            "num_parallel_calls instead")
        num_parallel_calls = num_parallel_batches * batch_size

    def apply(dataset: Dataset) -> Dataset:
        return dataset.map(map_func, num_parallel_calls=num_parallel_calls) \
            .batch(batch_size, drop_remainder=drop_remainder)
    return apply


def unbatch() -> Callable[[Dataset], Dataset]:
    """`Dataset.unbatch`, for `Dataset.apply`."""
    return lambda dataset: dataset.unbatch()


def parallel_interleave(map_func, cycle_length, block_length=1, sloppy=False,
                        buffer_output_elements=None,
                        prefetch_input_elements=None) -> Callable[[Dataset], Dataset]:
    """`Dataset.interleave(map_func, cycle_length, block_length)`, for `Dataset.apply`.

    The datasets are read in the deterministic interleaved order whatever `sloppy` says;
    the buffering arguments are accepted for TF's signature.
    """
    return lambda dataset: dataset.interleave(map_func, cycle_length=cycle_length,
                                              block_length=block_length)


def batch_and_drop_remainder(batch_size) -> Callable[[Dataset], Dataset]:
    """`Dataset.batch(batch_size, drop_remainder=True)`, for `Dataset.apply` (TF 1.x
    contrib's name)."""
    return lambda dataset: dataset.batch(batch_size, drop_remainder=True)


def make_one_shot_iterator(dataset: Dataset):
    """`dataset.make_one_shot_iterator()`."""
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset: Dataset, shared_name=None):
    """`dataset.make_initializable_iterator(shared_name)`."""
    return dataset.make_initializable_iterator(shared_name)
