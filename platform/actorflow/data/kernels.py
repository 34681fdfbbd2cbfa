"""Dataset ops: one registry entry per op type, each producing a `variant` scalar whose value
is a `DatasetValue` (pipeline.py) built from the op's evaluated inputs.

A dataset op runs when an iterator's initializer (or a one-shot iterator's first run) needs
it, so its tensor inputs — a placeholder fed to `from_tensor_slices`, a batch size, the
values a map function captures — are evaluated then, as in TF. Every dataset op records its
element's flat ``output_types`` / ``output_shapes`` as attrs.

What a GraphDef cannot hold (the traced function of `map`, `filter`, `flat_map`,
`interleave`; the Python generator of `from_generator`) is kept beside the op in `PY_ATTRS`,
keyed by the op; such ops export (attrs naming the function) but do not run after import.
"""
from __future__ import annotations

import glob
import os
import weakref

import numpy as np

from .. import dtypes, errors
from ..framework.function import add_outer_control_inputs
from ..framework.graph import make_op
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from . import batching, ordering, pipeline

__all__ = ["PY_ATTRS", "dataset_op", "DATASET_OP_TYPES"]

PY_ATTRS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
"""{Operation: {name: Python object}} for what op attrs cannot serialise."""

DATASET_OP_TYPES: list[str] = []


def _variant_out(op) -> list:
    return [(dtypes.variant, ())]


def _py_attr(op, name: str):
    try:
        return PY_ATTRS[op][name]
    except KeyError:
        raise errors.UnimplementedError(
            None, op, f"{op.type} op {op.name!r} has no Python {name} (a dataset op imported "
            "from a GraphDef cannot run its function)") from None


def _register(op_type: str, kernel, doc: str, stateful: bool = False) -> None:
    register_op(op_type, infer=_variant_out, grad=NOT_DIFFERENTIABLE, kernel=kernel,
                stateful=stateful, host_only=True, doc=doc)
    DATASET_OP_TYPES.append(op_type)


def dataset_op(op_type: str, inputs, spec, attrs=None, py_attrs=None, name=None):
    """Creates a dataset op producing elements of `spec`; returns its variant tensor."""
    all_attrs = dict(spec.attrs())
    all_attrs.update(attrs or {})
    op = make_op(op_type, list(inputs), all_attrs, name or op_type)
    if py_attrs:
        PY_ATTRS[op] = dict(py_attrs)
        funcs = [f for f in py_attrs.values() if hasattr(f, "outer_control_inputs")]
        if funcs:
            add_outer_control_inputs(op, funcs)
    return op.outputs[0]


def _int(x) -> int:
    return int(np.asarray(x))


# -- sources ---------------------------------------------------------------------------------
_register("TensorDataset", lambda op, ctx: lambda *c: pipeline.TensorsValue(tuple(c)),
          "One element made of the input tensors.")
_register("TensorSliceDataset", lambda op, ctx: lambda *c: pipeline.SlicesValue(c, op),
          "The slices of the input tensors along their first dimension.")
_register("RangeDataset",
          lambda op, ctx: lambda a, b, s: pipeline.RangeValue(_int(a), _int(b), _int(s), op),
          "int64 scalars from start to stop (exclusive) by step.")


def _generator_kernel(op, ctx):
    gen = _py_attr(op, "generator")
    flatten = _py_attr(op, "flatten")
    types = tuple(op.attrs["output_types"])
    shapes = tuple(op.attrs["output_shapes"])

    def generator_dataset(*args):
        return pipeline.GeneratorValue(gen, tuple(_py_value(a) for a in args), types, shapes,
                                       flatten, op)
    return generator_dataset


def _py_value(a):
    """A generator argument as TF passes it: a NumPy array (scalars as NumPy scalars)."""
    a = np.asarray(a)
    return a[()] if a.ndim == 0 else a


_register("GeneratorDataset", _generator_kernel,
          "The elements a Python generator yields (called with the evaluated args).",
          stateful=True)


class _MatchingFilesValue(pipeline.DatasetValue):
    """The sorted names of the files matching the patterns, globbed when a pass starts (a
    one-shot iterator's dataset ops run with every get_next; the file system is read once
    per pass)."""

    def __init__(self, patterns, op) -> None:
        self.patterns = [p.decode() if isinstance(p, bytes) else str(p)
                         for p in np.ravel(patterns)]
        self.op = op

    def iterate(self, run):
        names = set()
        for p in self.patterns:
            names.update(glob.glob(p))
        if not names:
            raise errors.InvalidArgumentError(
                None, self.op, "No files matched pattern: " + ",".join(self.patterns))
        for name in sorted(names):
            out = np.empty((), dtype=object)
            out[()] = os.fsencode(name)
            yield (out,)


def _matching_files_kernel(op, ctx):
    return lambda patterns: _MatchingFilesValue(patterns, op)


_register("MatchingFilesDataset", _matching_files_kernel,
          "The sorted file names matching the glob pattern(s).", stateful=True)


# -- combining --------------------------------------------------------------------------------
_register("ZipDataset", lambda op, ctx: lambda *ds: pipeline.ZipValue(list(ds)),
          "Tuples of the input datasets' elements, up to the shortest input.")
_register("ConcatenateDataset",
          lambda op, ctx: lambda a, b: pipeline.ConcatenateValue(a, b),
          "The elements of the first dataset, then those of the second.")


# -- functions --------------------------------------------------------------------------------
def _bind(op, ctx):
    """``bind(captured)``: the op's function compiled for this session, called as
    ``f(*element)`` with the captured values (the op's trailing inputs) appended."""
    fn = ctx.compile_function(_py_attr(op, "f"))

    def bind(captured: tuple):
        if not captured:
            return fn
        return lambda *elem: fn(*elem, *captured)
    return bind


def _map_kernel(op, ctx):
    bind = _bind(op, ctx)
    return lambda ds, *captured: pipeline.MapValue(ds, bind(captured))


def _parallel_map_kernel(op, ctx):
    bind = _bind(op, ctx)
    return lambda ds, n, *captured: pipeline.MapValue(ds, bind(captured), _int(n))


def _filter_kernel(op, ctx):
    bind = _bind(op, ctx)

    def filter_dataset(ds, *captured):
        f = bind(captured)
        return pipeline.FilterValue(ds, lambda *elem: f(*elem)[0], op)
    return filter_dataset


def _flat_map_kernel(op, ctx):
    bind = _bind(op, ctx)
    return lambda ds, *captured: pipeline.InterleaveValue(ds, bind(captured), 1, 1, op)


def _interleave_kernel(op, ctx):
    bind = _bind(op, ctx)
    return lambda ds, cycle, block, *captured: pipeline.InterleaveValue(
        ds, bind(captured), _int(cycle), _int(block), op)


_register("MapDataset", _map_kernel, "f(*element) for each element.", stateful=True)
_register("ParallelMapDataset", _parallel_map_kernel,
          "f(*element) for each element, num_parallel_calls at once, in input order.",
          stateful=True)
_register("FilterDataset", _filter_kernel, "The elements for which predicate(*element) holds.",
          stateful=True)
_register("FlatMapDataset", _flat_map_kernel,
          "The elements of the datasets f(*element), one dataset after another.",
          stateful=True)
_register("InterleaveDataset", _interleave_kernel,
          "The elements of the datasets f(*element), cycle_length open at once, block_length "
          "elements from each in turn.", stateful=True)


# -- reordering, repeating, slicing ------------------------------------------------------------
def _shuffle_kernel(op, ctx):
    reshuffle = bool(op.attrs.get("reshuffle_each_iteration", True))
    return lambda ds, size, seed, seed2: ordering.ShuffleValue(
        ds, _int(size), _int(seed), _int(seed2), reshuffle, op)


_register("ShuffleDataset", _shuffle_kernel,
          "The input's elements in a random order drawn through a buffer of buffer_size.",
          stateful=True)
_register("RepeatDataset", lambda op, ctx: lambda ds, n: ordering.RepeatValue(ds, _int(n)),
          "The input count times (-1: forever).")
_register("TakeDataset", lambda op, ctx: lambda ds, n: ordering.TakeValue(ds, _int(n)),
          "The first count elements (-1: all).")
_register("SkipDataset", lambda op, ctx: lambda ds, n: ordering.SkipValue(ds, _int(n)),
          "All but the first count elements (-1: none).")


def _shard_kernel(op, ctx):
    def shard_dataset(ds, num_shards, index):
        n, i = _int(num_shards), _int(index)
        if n < 1:
            raise errors.InvalidArgumentError(None, op, "Number of shards must be greater "
                                              f"than zero (currently num_shards = {n}).")
        if not 0 <= i < n:
            raise errors.InvalidArgumentError(None, op, "Index must be between 0 and "
                                              f"{n - 1} (currently index = {i}).")
        return ordering.ShardValue(ds, n, i)
    return shard_dataset


_register("ShardDataset", _shard_kernel, "Every num_shards-th element, from index on.")


def _cache_kernel(op, ctx):
    def cache_dataset(ds, filename):
        name = np.asarray(filename).item()
        name = name.decode() if isinstance(name, bytes) else str(name)
        if name:
            return ordering.FileCacheValue(ds, name, op)
        return ordering.CacheValue(ds)
    return cache_dataset


_register("CacheDataset", _cache_kernel,
          "The input's elements, cached by the first complete pass (in memory, or in files "
          "named after filename).", stateful=True)


# -- batching ---------------------------------------------------------------------------------
_register("BatchDatasetV2",
          lambda op, ctx: lambda ds, n, drop: batching.BatchValue(ds, _int(n), bool(drop), op),
          "Consecutive elements stacked into batches of batch_size.")


def _padded_batch_kernel(op, ctx):
    k = len(op.attrs["output_types"])

    def padded_batch_dataset(ds, n, *rest):
        shapes, values, drop = rest[:k], rest[k:2 * k], rest[2 * k]
        return batching.PaddedBatchValue(ds, _int(n), list(shapes),
                                         tuple(np.asarray(v).item() for v in values),
                                         bool(drop), op)
    return padded_batch_dataset


_register("PaddedBatchDatasetV2", _padded_batch_kernel,
          "Batches of consecutive elements padded to padded_shapes with padding_values.")
_register("UnbatchDataset", lambda op, ctx: lambda ds: batching.UnbatchValue(ds, op),
          "Each element split along its first dimension.")
_register("PrefetchDataset",
          lambda op, ctx: lambda ds, n: pipeline.PrefetchValue(ds, _int(n), op),
          "The input, produced ahead by a background thread into a buffer.")
