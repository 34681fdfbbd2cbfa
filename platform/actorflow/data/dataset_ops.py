"""`tf.data.Dataset` (TF 1.x, graph mode): a Python object describing an input pipeline.

Each `Dataset` owns the variant tensor of the dataset op that produces it (kernels.py) and
the static description of its element (`ElementSpec`: nesting, dtypes, shapes). Sources and
transformations add ops to the graph at once; nothing runs until an iterator made from the
dataset is initialized in a session (iterator_ops.py).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, constant_value, convert_to_tensor, name_scope
from ..ops.random import get_seed
from ..tensor_shape import TensorShape, as_shape
from . import structure
from .functions import StructuredFunction
from .kernels import dataset_op
from .structure import LEAF, ElementSpec, HasElementSpec

__all__ = ["Dataset", "AUTOTUNE"]

AUTOTUNE = -1
"""Lets the runtime choose a parallelism or buffer size (map: the usable CPUs; prefetch: 2)."""


def _int64_scalar(value, name: str) -> Tensor:
    """An integer scalar parameter as a tensor (Python ints become int64 constants)."""
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        t = convert_to_tensor(value)
        if not t.dtype.is_integer:
            raise TypeError(f"`{name}` must be an integer tensor, got {t.dtype.name} ({t.name})")
    else:
        if isinstance(value, (float, np.floating)) or isinstance(value, bool):
            raise TypeError(f"`{name}` must be an integer, got {value!r}")
        t = convert_to_tensor(np.int64(value), dtype=dtypes.int64, name=name)
    if t._shape is not None and t._shape != ():
        raise ValueError(f"`{name}` must be a scalar, got shape {list(t._shape)}")
    return t


def _bool_scalar(value, name: str) -> Tensor:
    t = convert_to_tensor(value, dtype=dtypes.bool, name=name)
    if t._shape is not None and t._shape != ():
        raise ValueError(f"`{name}` must be a scalar, got shape {list(t._shape)}")
    return t


def _static_int(t: Tensor):
    v = constant_value(t)
    return None if v is None else int(np.asarray(v))


class Dataset(HasElementSpec):
    """A sequence of elements, each a nested structure (tuples, dicts) of tensors.

    Build one from a source (`from_tensor_slices`, `from_tensors`, `from_generator`, `range`,
    `zip`, `list_files`, or a file dataset such as `TFRecordDataset`), chain transformations
    (`map`, `batch`, `shuffle`, ...), then read it through an iterator
    (`make_one_shot_iterator`, `make_initializable_iterator`, `Iterator.from_structure`).
    """

    def __init__(self, variant: Tensor, spec: ElementSpec) -> None:
        self._variant = variant
        self._spec = spec

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} shapes: {self.output_shapes}, types: "
                f"{self.output_types}>")

    def __iter__(self):
        raise RuntimeError("__iter__() is only supported inside of tf.function or when eager "
                           "execution is enabled; in a graph use make_one_shot_iterator().")

    def _derive(self, op_type: str, inputs, spec: ElementSpec | None = None, attrs=None,
                py_attrs=None) -> "Dataset":
        spec = self._spec if spec is None else spec
        return Dataset(dataset_op(op_type, [self._variant] + list(inputs), spec, attrs,
                                  py_attrs), spec)

    # -- sources ------------------------------------------------------------------------
    @staticmethod
    def from_tensors(tensors) -> "Dataset":
        """A dataset of one element: `tensors` (a nested structure; a list is one tensor)."""
        with name_scope("TensorDataset"):
            element = structure.normalize_element(tensors, "from_tensors argument")
        spec = structure.spec_of_tensors(element)
        return Dataset(dataset_op("TensorDataset", structure.flatten(element), spec), spec)

    @staticmethod
    def from_tensor_slices(tensors) -> "Dataset":
        """A dataset of the slices of `tensors` along their first dimension.

        Every component must have the same size in dimension 0.

        Raises:
            ValueError: a scalar component, or components whose first dimensions differ.
        """
        with name_scope("TensorSliceDataset"):
            element = structure.normalize_element(tensors, "from_tensor_slices argument")
        leaves = structure.flatten(element)
        first = None
        for t in leaves:
            if t._shape is not None and len(t._shape) == 0:
                raise ValueError(f"from_tensor_slices: component {t.name} is a scalar; every "
                                 "component needs at least one dimension to slice")
            d = None if t._shape is None else t._shape[0]
            if d is not None and first is not None and d != first:
                raise ValueError(f"Dimensions {first} and {d} are not compatible: every "
                                 "component of from_tensor_slices must have the same size "
                                 "in dimension 0")
            first = d if d is not None else first
        spec = ElementSpec(structure.template_of(element), tuple(t.dtype for t in leaves),
                           tuple(None if t._shape is None else t._shape[1:] for t in leaves))
        return Dataset(dataset_op("TensorSliceDataset", leaves, spec), spec)

    @staticmethod
    def from_generator(generator: Callable, output_types, output_shapes=None,
                       args=None) -> "Dataset":
        """A dataset of the elements yielded by ``generator(*args)``.

        Args:
            generator: a callable returning an iterator; called anew each time an iterator
                over the dataset is initialized, with `args` evaluated then (NumPy values).
            output_types: the (nested) dtypes of an element.
            output_shapes: the (nested) shapes; default: unknown. Yielded values are checked
                against them when read (InvalidArgumentError).
            args: tensors (or values) passed to `generator`.
        """
        if not callable(generator):
            raise TypeError("`generator` must be callable.")
        spec = structure.spec_from_declared(output_types, output_shapes)
        arg_tensors = [convert_to_tensor(a, name=f"arg{i}") for i, a in enumerate(args or ())]
        template = spec.template

        def flatten(value) -> list:
            return structure.flatten_along(value, template, "`generator` yielded an element")
        return Dataset(dataset_op("GeneratorDataset", arg_tensors, spec,
                                  py_attrs={"generator": generator, "flatten": flatten}), spec)

    @staticmethod
    def range(*args) -> "Dataset":
        """int64 scalars like Python's range: range(stop), range(start, stop[, step])."""
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to Dataset.range: {args!r}")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else \
            (args[0], args[1], args[2] if len(args) == 3 else 1)
        spec = ElementSpec(LEAF, (dtypes.int64,), ((),))
        inputs = [_int64_scalar(v, n) for v, n in ((start, "start"), (stop, "stop"),
                                                   (step, "step"))]
        return Dataset(dataset_op("RangeDataset", inputs, spec), spec)

    @staticmethod
    def zip(datasets) -> "Dataset":
        """A dataset of tuples (or dicts) of the elements of `datasets`, in step; it ends with
        the shortest input."""
        flat = structure.flatten(datasets)
        if not flat or not all(isinstance(d, Dataset) for d in flat):
            raise TypeError(f"The argument to `Dataset.zip()` must be a (nested) structure of "
                            f"`Dataset` objects, got {datasets!r}")
        template = structure.pack(datasets, [d._spec.template for d in flat])
        spec = ElementSpec(template, sum((d._spec.types for d in flat), ()),
                           sum((d._spec.shapes for d in flat), ()))
        return Dataset(dataset_op("ZipDataset", [d._variant for d in flat], spec), spec)

    @staticmethod
    def list_files(file_pattern, shuffle: bool | None = None, seed=None) -> "Dataset":
        """A dataset of the file names matching `file_pattern` (a glob, or a vector of them),
        sorted, then shuffled unless ``shuffle=False``. No match is an InvalidArgumentError
        when the iterator is initialized."""
        pattern = convert_to_tensor(file_pattern, dtype=dtypes.string, name="file_pattern")
        spec = ElementSpec(LEAF, (dtypes.string,), ((),))
        ds = Dataset(dataset_op("MatchingFilesDataset", [pattern], spec), spec)
        if shuffle is None or shuffle:
            ds = ds.shuffle(1 << 62, seed=seed)
        return ds

    # -- transformations ------------------------------------------------------------------
    def apply(self, transformation_func: Callable) -> "Dataset":
        """``transformation_func(self)``, which must return a Dataset."""
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError("`transformation_func` must return a Dataset. Got: " + repr(out))
        return out

    def concatenate(self, dataset: "Dataset") -> "Dataset":
        """This dataset's elements followed by `dataset`'s (same structure and dtypes)."""
        a, b = self._spec, dataset._spec
        if a.template != b.template or a.types != b.types:
            raise TypeError(f"Two datasets to concatenate have different types "
                            f"{self.output_types} and {dataset.output_types}")
        spec = a.with_shapes(structure.most_specific_compatible_shape(x, y)
                             for x, y in zip(a.shapes, b.shapes))
        return self._derive("ConcatenateDataset", [dataset._variant], spec)

    def map(self, map_func: Callable, num_parallel_calls=None) -> "Dataset":
        """``map_func(*element)`` for each element (traced once into the graph).

        Args:
            num_parallel_calls: elements processed at once by a thread pool (AUTOTUNE: the
                usable CPUs); the output keeps the input order.
        """
        fn = StructuredFunction(map_func, "map_func", self._spec, "map")
        py = {"f": fn.graph}
        if num_parallel_calls is None:
            return self._derive("MapDataset", fn.captured, fn.output_spec, py_attrs=py)
        n = _int64_scalar(num_parallel_calls, "num_parallel_calls")
        return self._derive("ParallelMapDataset", [n] + fn.captured, fn.output_spec,
                            py_attrs=py)

    def filter(self, predicate: Callable) -> "Dataset":
        """The elements for which ``predicate(*element)`` (a scalar bool tensor) is true."""
        fn = StructuredFunction(predicate, "predicate", self._spec, "predicate")
        return self._derive("FilterDataset", fn.captured, py_attrs={"f": fn.graph})

    def flat_map(self, map_func: Callable) -> "Dataset":
        """The elements of the datasets ``map_func(*element)``, one after another."""
        fn = StructuredFunction(map_func, "map_func", self._spec, "dataset")
        return self._derive("FlatMapDataset", fn.captured, fn.dataset_spec,
                            py_attrs={"f": fn.graph})

    def interleave(self, map_func: Callable, cycle_length=AUTOTUNE, block_length=1,
                   num_parallel_calls=None) -> "Dataset":
        """The elements of the datasets ``map_func(*element)``, `cycle_length` of them open at
        once, taking `block_length` consecutive elements from each in turn.

        `num_parallel_calls` is accepted; the datasets are read in the calling thread, in
        the deterministic order.
        """
        fn = StructuredFunction(map_func, "map_func", self._spec, "dataset")
        inputs = [_int64_scalar(cycle_length, "cycle_length"),
                  _int64_scalar(block_length, "block_length")]
        return self._derive("InterleaveDataset", inputs + fn.captured, fn.dataset_spec,
                            py_attrs={"f": fn.graph})

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None) -> "Dataset":
        """The elements in random order, drawn from a buffer of `buffer_size` elements.

        Args:
            seed: with the graph seed, makes the order reproducible (`tf.set_random_seed`).
            reshuffle_each_iteration: a new order for each pass (default True), e.g. each
                epoch of a following `repeat`; re-initializing an iterator starts the same
                sequence of orders again.
        """
        seed, seed2 = get_seed(seed)
        inputs = [_int64_scalar(buffer_size, "buffer_size"),
                  _int64_scalar(0 if seed is None else seed, "seed"),
                  _int64_scalar(0 if seed2 is None else seed2, "seed2")]
        reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        return self._derive("ShuffleDataset", inputs,
                            attrs={"reshuffle_each_iteration": reshuffle})

    def repeat(self, count=None) -> "Dataset":
        """The dataset `count` times (None or -1: forever)."""
        return self._derive("RepeatDataset",
                            [_int64_scalar(-1 if count is None else count, "count")])

    def take(self, count) -> "Dataset":
        """At most the first `count` elements (-1: all)."""
        return self._derive("TakeDataset", [_int64_scalar(count, "count")])

    def skip(self, count) -> "Dataset":
        """All but the first `count` elements (-1: none)."""
        return self._derive("SkipDataset", [_int64_scalar(count, "count")])

    def shard(self, num_shards, index) -> "Dataset":
        """Every `num_shards`-th element starting at `index` (one worker's share)."""
        return self._derive("ShardDataset", [_int64_scalar(num_shards, "num_shards"),
                                             _int64_scalar(index, "index")])

    def cache(self, filename="") -> "Dataset":
        """The elements, cached by the first complete pass: in memory (``filename=""``) or in
        a file that later iterators, sessions and programs read instead of the input."""
        name = convert_to_tensor(filename, dtype=dtypes.string, name="filename")
        return self._derive("CacheDataset", [name])

    def prefetch(self, buffer_size) -> "Dataset":
        """The elements, produced ahead by a background thread (AUTOTUNE: 2 elements)."""
        return self._derive("PrefetchDataset", [_int64_scalar(buffer_size, "buffer_size")])

    def batch(self, batch_size, drop_remainder: bool = False) -> "Dataset":
        """Consecutive elements stacked into batches of `batch_size`; the last batch may be
        smaller unless `drop_remainder`. Static shapes gain a first dimension: None, or the
        batch size when `drop_remainder` and the size is a constant."""
        n = _int64_scalar(batch_size, "batch_size")
        drop = _bool_scalar(drop_remainder, "drop_remainder")
        dim = _batch_dim(n, drop)
        spec = self._spec.with_shapes(None if s is None else (dim,) + s
                                      for s in self._spec.shapes)
        return self._derive("BatchDatasetV2", [n, drop], spec)

    def padded_batch(self, batch_size, padded_shapes, padding_values=None,
                     drop_remainder: bool = False) -> "Dataset":
        """Batches whose components are padded to `padded_shapes` (None or -1 dims: the
        longest in the batch) with `padding_values` (default 0, or b"" for strings).

        Raises:
            ValueError: a padded shape whose rank differs from its component's, or smaller
                than a known dimension of it.
            TypeError: a padding value of another dtype than its component.
        """
        spec = self._spec
        shapes = structure.flatten_along(padded_shapes, spec.template, "padded_shapes")
        if padding_values is None:
            values = [b"" if t == dtypes.string else 0 for t in spec.types]
        else:
            values = structure.flatten_along(padding_values, spec.template, "padding_values")
        shape_tensors, value_tensors, static = [], [], []
        for k, (p, comp_shape) in enumerate(zip(shapes, spec.shapes)):
            t, st = _padded_shape(p, k)
            if comp_shape is not None and st is not None:
                if len(st) != len(comp_shape) or any(
                        a is not None and b is not None and a < b
                        for a, b in zip(st, comp_shape)):
                    raise ValueError(f"The padded shape {list(st)} is not compatible with the "
                                     f"corresponding input component shape "
                                     f"{list(comp_shape)}.")
            shape_tensors.append(t)
            static.append(st)
        for k, (v, dt) in enumerate(zip(values, spec.types)):
            t = convert_to_tensor(v, name=f"padding_value_{k}") if isinstance(v, Tensor) \
                else convert_to_tensor(v, dtype=dt, name=f"padding_value_{k}")
            if t.dtype != dt:
                raise TypeError(f"Padding value {v!r} of component {k} has dtype "
                                f"{t.dtype.name}, the component has {dt.name}")
            value_tensors.append(t)
        n = _int64_scalar(batch_size, "batch_size")
        drop = _bool_scalar(drop_remainder, "drop_remainder")
        dim = _batch_dim(n, drop)
        out = spec.with_shapes(None if st is None else (dim,) + st for st in static)
        return self._derive("PaddedBatchDatasetV2",
                            [n] + shape_tensors + value_tensors + [drop], out)

    def unbatch(self) -> "Dataset":
        """Each element split along its first dimension into that many elements."""
        for s in self._spec.shapes:
            if s is not None and len(s) == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
        spec = self._spec.with_shapes(None if s is None else s[1:] for s in self._spec.shapes)
        return self._derive("UnbatchDataset", [], spec)

    # -- iterators ------------------------------------------------------------------------
    def make_one_shot_iterator(self):
        """An iterator initialized on first use, once (see `tf.data.Iterator`)."""
        from .iterator_ops import make_one_shot_iterator
        return make_one_shot_iterator(self)

    def make_initializable_iterator(self, shared_name: str | None = None):
        """An iterator that `iterator.initializer` (re)starts."""
        from .iterator_ops import make_initializable_iterator
        return make_initializable_iterator(self, shared_name)


def _batch_dim(n: Tensor, drop: Tensor):
    keep = constant_value(drop)
    if keep is None or not bool(keep):
        return None
    return _static_int(n)


def _padded_shape(p, k: int):
    """A padded shape as (int64 vector tensor with -1 for unknown dims, static tuple)."""
    if isinstance(p, Tensor) or hasattr(p, "_as_graph_element"):
        t = convert_to_tensor(p)
        if not t.dtype.is_integer:
            raise TypeError(f"padded_shapes[{k}] must be an integer vector, got {t.dtype.name}")
        v = constant_value(t)
        if v is not None:
            static = tuple(None if d < 0 else int(d) for d in np.ravel(v))
        elif t._shape is not None and len(t._shape) == 1 and t._shape[0] is not None:
            static = (None,) * t._shape[0]
        else:
            static = None
        return t, static
    if isinstance(p, (list, tuple)):
        p = [None if d is None or int(d) < 0 else int(d) for d in p]
    shape = as_shape(p) if not isinstance(p, TensorShape) else p
    if shape.ndims is None:
        raise ValueError(f"padded_shapes[{k}] must have a known rank, got {p!r}")
    dims = shape.as_list()
    arr = np.array([-1 if d is None else d for d in dims], dtype=np.int64)
    return convert_to_tensor(arr, name=f"padded_shape_{k}"), tuple(dims)
