"""Batching dataset values: batch, padded_batch and unbatch (see pipeline.py for what a
`DatasetValue` is). A batch stacks whole elements with one np.stack per component."""
from __future__ import annotations

import itertools

import numpy as np

from .. import errors
from .pipeline import DatasetValue, needs_copy

__all__ = ["stack_batch", "BatchValue", "PaddedBatchValue", "UnbatchValue"]


def stack_batch(elems: list, op) -> tuple:
    """The elements' components stacked along a new first axis: one np.stack per component.

    Raises:
        InvalidArgumentError: two elements with different shapes in one component.
    """
    out = []
    for k, comp in enumerate(zip(*elems)):
        try:
            out.append(np.stack(comp))
        except ValueError:
            first = np.shape(comp[0])
            j = next(j for j, c in enumerate(comp) if np.shape(c) != first)
            raise errors.InvalidArgumentError(
                None, op, f"Cannot batch tensors with different shapes in component {k}. "
                f"First element had shape {list(first)} and element {j} had shape "
                f"{list(np.shape(comp[j]))}.") from None
    return tuple(out)


class BatchValue(DatasetValue):
    def __init__(self, input: DatasetValue, batch_size: int, drop_remainder: bool, op) -> None:
        if batch_size < 1:
            raise errors.InvalidArgumentError(None, op, "Batch size must be greater than zero.")
        self.input = input
        self.batch_size = batch_size
        self.drop_remainder = drop_remainder
        self.op = op

    def iterate(self, run):
        direct = self.input.iterate_batches(run, self.batch_size, self.drop_remainder)
        if direct is not None:
            yield from direct
            return
        for elems in _groups(self.input.iterate(run), self.batch_size, self.drop_remainder):
            yield stack_batch(elems, self.op)


class PaddedBatchValue(DatasetValue):
    """Batches whose components are padded with `padding_values` to `padded_shapes` (-1 dims:
    the batch's longest)."""

    def __init__(self, input: DatasetValue, batch_size: int, padded_shapes: list,
                 padding_values: tuple, drop_remainder: bool, op) -> None:
        if batch_size < 1:
            raise errors.InvalidArgumentError(None, op, "Batch size must be greater than zero.")
        self.input = input
        self.batch_size = batch_size
        self.padded_shapes = [tuple(int(d) for d in np.ravel(s)) for s in padded_shapes]
        self.padding_values = padding_values
        self.drop_remainder = drop_remainder
        self.op = op

    def iterate(self, run):
        for elems in _groups(self.input.iterate(run), self.batch_size, self.drop_remainder):
            yield tuple(self._pad(k, comp) for k, comp in enumerate(zip(*elems)))

    def _pad(self, k: int, comp) -> np.ndarray:
        want = self.padded_shapes[k]
        shapes = [np.shape(c) for c in comp]
        for s in shapes:
            if len(s) != len(want):
                raise errors.InvalidArgumentError(
                    None, self.op, f"All elements in a batch must have the same rank as the "
                    f"padded shape for component {k}: expected rank {len(want)} but got "
                    f"element with rank {len(s)}")
        target = tuple(max(s[d] for s in shapes) if w == -1 else w
                       for d, w in enumerate(want))
        for s in shapes:
            if any(a > b for a, b in zip(s, target)):
                raise errors.InvalidArgumentError(
                    None, self.op, f"Attempted to pad to a smaller size than the input "
                    f"element: component {k} has shape {list(s)}, padded shape "
                    f"{list(target)}.")
        dtype = np.asarray(comp[0]).dtype
        out = np.full((len(comp),) + target, self.padding_values[k], dtype=dtype)
        for i, c in enumerate(comp):
            out[(i,) + tuple(slice(0, d) for d in np.shape(c))] = c
        return out


class UnbatchValue(DatasetValue):
    """Each input element split along its first axis into that many elements."""

    def __init__(self, input: DatasetValue, op) -> None:
        self.input = input
        self.op = op

    def iterate(self, run):
        for elem in self.input.iterate(run):
            sizes = {np.shape(c)[0] if np.ndim(c) else None for c in elem}
            if None in sizes or len(sizes) != 1:
                raise errors.InvalidArgumentError(
                    None, self.op, "unbatch: every component of an input element must have "
                    f"the same size in the 0th dimension, got {sorted(map(str, sizes))}")
            copy = tuple(needs_copy(c) for c in elem)
            for i in range(sizes.pop()):
                yield tuple(c[i, ...].copy() if cp else c[i] for c, cp in zip(elem, copy))


def _groups(it, n: int, drop_remainder: bool):
    """Lists of `n` consecutive elements of `it`; the last one shorter unless dropped."""
    while True:
        elems = list(itertools.islice(it, n))
        if not elems or (len(elems) < n and drop_remainder):
            return
        yield elems
