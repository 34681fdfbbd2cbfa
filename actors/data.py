"""`ShardedBatches`: the data function of replicated training, over in-memory arrays.

``ShardedBatches({"x:0": images, "y:0": labels}, batch_size=100)`` is a picklable callable:
``data(worker_index, num_workers)`` yields endless feed dicts of `batch_size` rows from that
worker's shard (rows ``worker_index::num_workers``), reshuffled every epoch with a seed of
its own, so replicas see disjoint data and runs repeat exactly.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

__all__ = ["ShardedBatches"]


class ShardedBatches:
    """Batches of each worker's shard of `arrays` ({tensor name: array}, equal first dims).

    Args:
        batch_size: rows per batch (per worker).
        shuffle: reshuffle the shard every epoch (seeded by `seed` and the worker index).

    Raises:
        ValueError: arrays of different lengths, or a batch larger than a shard.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], batch_size: int,
                 shuffle: bool = True, seed: int = 0) -> None:
        lengths = {name: len(a) for name, a in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"Arrays must have equal lengths, got {lengths}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.arrays = {name: np.asarray(a) for name, a in arrays.items()}
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.rows = next(iter(lengths.values()))

    def __call__(self, worker_index: int, num_workers: int) -> Iterator[dict]:
        shard = np.arange(worker_index, self.rows, num_workers)
        if len(shard) < self.batch_size:
            raise ValueError(f"Worker {worker_index} of {num_workers} has {len(shard)} rows, "
                             f"fewer than a batch of {self.batch_size}")
        return self._batches(shard, np.random.default_rng([self.seed, worker_index]))

    def _batches(self, shard: np.ndarray, rng) -> Iterator[dict]:
        while True:
            order = rng.permutation(shard) if self.shuffle else shard
            for start in range(0, len(order) - self.batch_size + 1, self.batch_size):
                rows = order[start:start + self.batch_size]
                yield {name: a[rows] for name, a in self.arrays.items()}
