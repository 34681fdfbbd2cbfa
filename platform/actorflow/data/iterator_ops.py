"""`tf.data.Iterator` (TF 1.x): reading a dataset's elements in a session.

An iterator is per-session state (`IteratorState`, created by the iterator op's kernel via
``ctx.op_state``). Running an initializer (`MakeIterator`) evaluates the dataset's ops and
restarts the state over the new `DatasetValue`, closing the threads of the previous pass;
`IteratorGetNext` returns the next element, raising OutOfRangeError at the end and
FailedPreconditionError before any initialization. `Session.close` closes every iterator's
threads (the session's ``cancel_on_session_close`` hook).

Kinds, as in TF: one-shot (initialized by its first use), initializable (one dataset,
`initializer`), reinitializable (`Iterator.from_structure`, `make_initializer(ds)` for any
dataset of that structure) and feedable (`Iterator.from_string_handle`, fed the
`string_handle()` of another iterator of this session).
"""
from __future__ import annotations

import itertools
import threading
import weakref

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Operation, Tensor, convert_to_tensor, make_op
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from . import structure
from .pipeline import DatasetValue, IteratorRun
from .structure import ElementSpec, HasElementSpec

__all__ = ["Iterator", "IteratorState", "make_one_shot_iterator",
           "make_initializable_iterator", "get_output_types", "get_output_shapes",
           "get_output_classes"]

_NOT_INITIALIZED = ("GetNext() failed because the iterator has not been initialized. Ensure "
                    "that you have run the initializer operation for this iterator before "
                    "getting the next element.")

_handle_ids = itertools.count(1)
_HANDLES: "weakref.WeakValueDictionary[bytes, IteratorState]" = weakref.WeakValueDictionary()


class IteratorState:
    """One iterator in one session: the running pass over a dataset value, if any."""

    def __init__(self, name: str, types: tuple, shapes: tuple, session) -> None:
        self.name = name
        self.types = types
        self.shapes = shapes
        self._session = weakref.ref(session) if session is not None else None
        self._lock = threading.Lock()
        self._elements = None    # the generator of the current pass
        self._run: list = [None]  # the current IteratorRun, in a box the finalizer shares
        self.handle = f"actorflow-iterator:{next(_handle_ids)}:{name}".encode()
        _HANDLES[self.handle] = self
        # A session dropped without close() still stops this iterator's threads.
        weakref.finalize(self, _close_box, self._run)

    @property
    def initialized(self) -> bool:
        return self._elements is not None

    def session(self):
        return None if self._session is None else self._session()

    def reset(self, value: DatasetValue) -> None:
        """Starts a new pass over `value`, closing the previous pass's threads first."""
        if not isinstance(value, DatasetValue):
            raise errors.InvalidArgumentError(None, None, f"Iterator {self.name}: expected a "
                                              f"dataset, got {type(value).__name__}")
        _close_box(self._run)  # wakes a GetNext blocked in the old pass
        with self._lock:
            _close_box(self._run)
            run = IteratorRun()
            self._run[0] = run
            self._elements = value.iterate(run)

    def get_next(self, op=None) -> tuple:
        """The next element (a tuple of components).

        Raises:
            FailedPreconditionError: never initialized.
            OutOfRangeError: the pass has ended ("End of sequence").
        """
        with self._lock:
            elements = self._elements
            if elements is None:
                raise errors.FailedPreconditionError(None, op, _NOT_INITIALIZED)
            try:
                return next(elements)
            except StopIteration:
                raise errors.OutOfRangeError(None, op, "End of sequence") from None

    def cancel_on_session_close(self) -> None:
        """Stops and joins this iterator's background threads (Session.close)."""
        _close_box(self._run)


def _close_box(box: list) -> None:
    run = box[0]
    if run is not None:
        box[0] = None
        run.close()


# -- ops -----------------------------------------------------------------------------------
def _resource_out(op) -> list:
    return [(dtypes.resource, ())]


def _state_of(op, ctx) -> IteratorState:
    return ctx.op_state(op, lambda: IteratorState(
        op.name, tuple(op.attrs["output_types"]), tuple(op.attrs["output_shapes"]),
        ctx.session))


def _iterator_kernel(op, ctx):
    def iterator():
        return _state_of(op, ctx)
    return iterator


register_op("IteratorV2", infer=_resource_out, grad=NOT_DIFFERENTIABLE, kernel=_iterator_kernel,
            stateful=True, host_only=True,
            doc="The session's iterator state (initialized by MakeIterator).")


def _one_shot_kernel(op, ctx):
    def one_shot_iterator(value):
        state = _state_of(op, ctx)
        if not state.initialized:
            with _one_shot_lock:
                if not state.initialized:
                    state.reset(value)
        return state
    return one_shot_iterator


_one_shot_lock = threading.Lock()
register_op("OneShotIterator", infer=_resource_out, grad=NOT_DIFFERENTIABLE,
            kernel=_one_shot_kernel, stateful=True, host_only=True,
            doc="The session's iterator over its input dataset, initialized by its first run.")


def _make_iterator_kernel(op, ctx):
    def make_iterator(value, state):
        state.reset(value)
    return make_iterator


register_op("MakeIterator", infer=lambda op: [], grad=NOT_DIFFERENTIABLE,
            kernel=_make_iterator_kernel, stateful=True, host_only=True,
            doc="(Re)starts an iterator over a dataset.")


def _get_next_infer(op) -> list:
    return list(zip(op.attrs["output_types"], op.attrs["output_shapes"]))


def _get_next_kernel(op, ctx):
    n = len(op.outputs)
    shapes = tuple(op.attrs["output_shapes"])

    def iterator_get_next(state):
        elem = state.get_next(op)
        if len(elem) != n:
            raise errors.InvalidArgumentError(
                None, op, f"Iterator produced an element of {len(elem)} components where "
                f"{n} were expected")
        for k, (v, s) in enumerate(zip(elem, shapes)):
            if s is not None and not structure.shape_is_compatible(np.shape(v), s):
                raise errors.InvalidArgumentError(
                    None, op, f"Iterator produced an element of shape {list(np.shape(v))} "
                    f"in component {k}, incompatible with the expected shape "
                    f"{[d if d is not None else -1 for d in s]}")
        return elem[0] if n == 1 else elem
    return iterator_get_next


register_op("IteratorGetNext", infer=_get_next_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_get_next_kernel, stateful=True, host_only=True,
            doc="The iterator's next element; OutOfRangeError at the end.")


def _to_handle_kernel(op, ctx):
    def iterator_to_string_handle(state):
        return np.array(state.handle, dtype=object)
    return iterator_to_string_handle


register_op("IteratorToStringHandle", infer=lambda op: [(dtypes.string, ())],
            grad=NOT_DIFFERENTIABLE, kernel=_to_handle_kernel, stateful=True, host_only=True,
            doc="A string naming the iterator in this session (for a feedable iterator).")


def _from_handle_kernel(op, ctx):
    types = tuple(op.attrs["output_types"])

    def iterator_from_string_handle(handle):
        key = np.asarray(handle).item()
        key = key.encode() if isinstance(key, str) else key
        state = _HANDLES.get(key) if isinstance(key, bytes) else None
        if state is None or state.session() is not ctx.session:
            raise errors.InvalidArgumentError(
                None, op, f"{key!r} does not name an iterator of this session (pass the value "
                "of iterator.string_handle() run in the same session)")
        if types and state.types != types:
            raise errors.InvalidArgumentError(
                None, op, f"The iterator named by the handle has output types "
                f"{[t.name for t in state.types]}, expected {[t.name for t in types]}")
        return state
    return iterator_from_string_handle


register_op("IteratorFromStringHandleV2", infer=_resource_out, grad=NOT_DIFFERENTIABLE,
            kernel=_from_handle_kernel, stateful=True, host_only=True,
            doc="The iterator a string handle names.")


# -- the Python API -----------------------------------------------------------------------------
class Iterator(HasElementSpec):
    """Reads the elements of a dataset in a session (TF 1.x `tf.data.Iterator`).

    Create one with `Dataset.make_one_shot_iterator`, `Dataset.make_initializable_iterator`,
    `Iterator.from_structure` or `Iterator.from_string_handle`; `get_next()` returns the
    element tensors (call it once and run the result in a loop).
    """

    def __init__(self, iterator_resource: Tensor, initializer, output_types, output_shapes,
                 output_classes=None) -> None:
        self._resource = iterator_resource
        self._initializer = initializer
        self._spec = structure.spec_from_declared(output_types, output_shapes)

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name: str | None = None,
                       output_classes=None) -> "Iterator":
        """An iterator not bound to a dataset: `make_initializer(dataset)` points it at any
        dataset with this structure (a reinitializable iterator).

        `shared_name` is recorded; an iterator is always private to its session here.
        """
        spec = structure.spec_from_declared(output_types, output_shapes)
        return _new_iterator(spec, shared_name, "Iterator")

    @staticmethod
    def from_string_handle(string_handle, output_types, output_shapes=None,
                           output_classes=None) -> "Iterator":
        """An iterator that reads from the iterator whose `string_handle()` value is fed to
        `string_handle` (a scalar string tensor, usually a placeholder): a feedable
        iterator switching between datasets by feed."""
        spec = structure.spec_from_declared(output_types, output_shapes)
        handle = convert_to_tensor(string_handle, dtype=dtypes.string)
        op = make_op("IteratorFromStringHandleV2", [handle], spec.attrs(),
                     "IteratorFromStringHandle")
        return _from_spec(op.outputs[0], None, spec)

    @property
    def initializer(self) -> Operation:
        """The op (re)starting this iterator over its dataset.

        Raises:
            ValueError: the iterator has no dataset of its own (from_structure, one-shot).
        """
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer.")
        return self._initializer

    def make_initializer(self, dataset, name: str | None = None) -> Operation:
        """An op that restarts this iterator over `dataset`.

        Raises:
            TypeError: `dataset`'s structure, dtypes or shapes do not fit the iterator's.
        """
        a, b = self._spec, dataset._spec
        if a.template != b.template:
            raise TypeError(f"Expected output structure {self.output_types} but got dataset "
                            f"with structure {dataset.output_types}.")
        if a.types != b.types:
            raise TypeError(f"Expected output types {self.output_types} but got dataset with "
                            f"output types {dataset.output_types}.")
        if not all(structure.shape_is_compatible(x, y) for x, y in zip(a.shapes, b.shapes)):
            raise TypeError(f"Expected output shapes compatible with {self.output_shapes} but "
                            f"got dataset with output shapes {dataset.output_shapes}.")
        return make_op("MakeIterator", [dataset._variant, self._resource], {},
                       name or "MakeIterator")

    def get_next(self, name: str | None = None):
        """The next element's tensors, nested like the element. Each run of them advances
        the iterator; at the end they raise OutOfRangeError."""
        op = make_op("IteratorGetNext", [self._resource], self._spec.attrs(),
                     name or "IteratorGetNext")
        return structure.pack(self._spec.template, op.outputs)

    def string_handle(self, name: str | None = None) -> Tensor:
        """A scalar string naming this iterator in the session, to feed a feedable
        iterator's handle placeholder."""
        return make_op("IteratorToStringHandle", [self._resource], {},
                       name or "IteratorToStringHandle").outputs[0]



def _from_spec(resource: Tensor, initializer, spec: ElementSpec) -> Iterator:
    it = Iterator.__new__(Iterator)
    it._resource = resource
    it._initializer = initializer
    it._spec = spec
    return it


def _new_iterator(spec: ElementSpec, shared_name, name: str) -> Iterator:
    attrs = dict(spec.attrs())
    attrs.update(shared_name=shared_name or "", container="")
    op = make_op("IteratorV2", [], attrs, name)
    return _from_spec(op.outputs[0], None, spec)


def make_initializable_iterator(dataset, shared_name: str | None = None) -> Iterator:
    """An iterator over `dataset` that its `initializer` (re)starts; running `get_next()`
    before that is a FailedPreconditionError."""
    it = _new_iterator(dataset._spec, shared_name, "Iterator")
    it._initializer = it.make_initializer(dataset)
    return it


def make_one_shot_iterator(dataset) -> Iterator:
    """An iterator over `dataset` that starts on its first use and cannot be restarted.

    The dataset's ops are inputs of the iterator op, so every run of `get_next()` evaluates
    them again (each builds a small description object; the first one's is used). That is
    why a dataset that depends on a placeholder needs an initializable iterator.

    Raises:
        ValueError: the dataset depends on a placeholder (use an initializable iterator).
    """
    _check_no_placeholder(dataset._variant)
    op = make_op("OneShotIterator", [dataset._variant], dataset._spec.attrs(),
                 "OneShotIterator")
    return _from_spec(op.outputs[0], None, dataset._spec)


def _check_no_placeholder(t: Tensor) -> None:
    seen, stack = set(), [t.op]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type.startswith("Placeholder"):
            raise ValueError(f"Cannot capture a placeholder (name:{op.name}, type:{op.type}) "
                             "by value.")
        stack.extend(x.op for x in op.inputs)
        stack.extend(op.control_inputs)


def get_output_types(dataset_or_iterator):
    """The (nested) dtypes of a Dataset's or Iterator's elements."""
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator):
    """The (nested) static shapes of a Dataset's or Iterator's elements."""
    return dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator):
    """The (nested) classes of a Dataset's or Iterator's elements."""
    return dataset_or_iterator.output_classes
