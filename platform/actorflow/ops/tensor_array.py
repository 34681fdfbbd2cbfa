"""`tf.TensorArray` in the functional style of TF 2: a value, not a resource.

A TensorArray wraps one `variant` tensor (its `flow`) whose value is an immutable host tuple
of arrays, one per element (None for an element not yet written). Each write, scatter or
unstack makes a new tuple and returns a new TensorArray over it, so a TensorArray may be a
`tf.while_loop` loop variable like any tensor, and gradients flow through the list ops.

The gradient of a list is a list of the same length whose None elements stand for zeros;
`TensorListAddN` sums such lists and `TensorListZerosLike` makes an all-zero one
(gradients.py uses both for `variant` tensors).

Ops: TensorListReserve, TensorListFromTensor, TensorListSetItem, TensorListGetItem,
TensorListStack, TensorListGather, TensorListScatter, TensorListSplit, TensorListConcat,
TensorListLength, and the gradient helpers TensorListZerosLike, TensorListAddN,
TensorListScatterInto (a zero list of a given length with some elements set) and
TensorListStackOrZeros (stack/gather, unwritten elements as zeros shaped like a reference).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, convert_to_tensor, get_default_graph, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ..tensor_shape import TensorShape, as_shape
from ._common import host, out1

__all__ = ["TensorArray"]

_variant = dtypes.variant


def _elem_shape(op):
    s = op.attrs.get("element_shape")
    return None if s is None else tuple(s)


def _int_scalar(v) -> int:
    return int(np.asarray(host(v)).reshape(()))


def _int_list(v) -> list:
    return [int(i) for i in np.ravel(host(v))]


# -- forward ops -----------------------------------------------------------------------------
def _reserve_kernel(op, ctx):
    def tensor_list_reserve(size):
        n = _int_scalar(size)
        if n < 0:
            raise errors.InvalidArgumentError(None, op, f"TensorArray size must be >= 0, "
                                              f"got {n}")
        return (None,) * n
    return tensor_list_reserve


register_op("TensorListReserve", infer=lambda op: [(_variant, ())], grad=NOT_DIFFERENTIABLE,
            kernel=_reserve_kernel, doc="A list of `size` unwritten elements.")


def _from_tensor_infer(op):
    return [(_variant, ())]


def _from_tensor_kernel(op, ctx):
    def tensor_list_from_tensor(value):
        return tuple(value[i] for i in range(value.shape[0]))
    return tensor_list_from_tensor


def _from_tensor_grad(op, dlist):
    """d tensor = stack(d list), unwritten gradient elements as zeros."""
    return [out1("TensorListStackOrZeros", [dlist, op.inputs[0]])]


register_op("TensorListFromTensor", infer=_from_tensor_infer, grad=_from_tensor_grad,
            kernel=_from_tensor_kernel, doc="The list of a tensor's slices along axis 0.")


def _check_index(op, lst, i: int, dynamic: bool, writing: bool):
    if i < 0 or (i >= len(lst) and not (writing and dynamic)):
        raise errors.InvalidArgumentError(
            None, op, f"Tried to {'write to' if writing else 'read from'} index {i} but "
            f"array size is: {len(lst)}")


def _set_item_kernel(op, ctx):
    dynamic = op.attrs.get("dynamic_size", False)

    def tensor_list_set_item(lst, index, item):
        i = _int_scalar(index)
        _check_index(op, lst, i, dynamic, True)
        if i >= len(lst):
            lst = lst + (None,) * (i + 1 - len(lst))
        elif lst[i] is not None:
            raise errors.InvalidArgumentError(
                None, op, f"Could not write to TensorArray index {i} because it has "
                "already been written to.")
        return lst[:i] + (item,) + lst[i + 1:]
    return tensor_list_set_item


def _set_item_grad(op, dlist):
    """d list = d list (the written element was unwritten before); d item = dlist[index]."""
    _, index, item = op.inputs
    return [dlist, None, out1("TensorListStackOrZeros", [dlist, item, index],
                              {"single": True})]


register_op("TensorListSetItem", infer=lambda op: [(_variant, ())], grad=_set_item_grad,
            kernel=_set_item_kernel, doc="The list with element `index` set to `item`.")


def _get_item_infer(op):
    return [(op.attrs["element_dtype"], _elem_shape(op))]


def _zeros_for(op, xp, what: str):
    shape = _elem_shape(op)
    if shape is None or None in shape:
        raise errors.InvalidArgumentError(
            None, op, f"Could not read {what} of TensorArray: the element was never written "
            "and the element shape is not fully defined.")
    return xp.zeros(shape, dtype=op.attrs["element_dtype"].np)


def _get_item_kernel(op, ctx):
    xp = ctx.xp

    def tensor_list_get_item(lst, index):
        i = _int_scalar(index)
        _check_index(op, lst, i, False, False)
        v = lst[i]
        return _zeros_for(op, xp, f"index {i}") if v is None else v
    return tensor_list_get_item


def _get_item_grad(op, ditem):
    """d list = a zero list of the forward length with `ditem` at `index`."""
    lst, index = op.inputs
    return [out1("TensorListScatterInto", [lst, index, ditem], {"single": True}), None]


register_op("TensorListGetItem", infer=_get_item_infer, grad=_get_item_grad,
            kernel=_get_item_kernel, doc="Element `index` of the list.")


def _stack_infer(op):
    shape = _elem_shape(op)
    return [(op.attrs["element_dtype"], None if shape is None else (None,) + shape)]


def _stack_values(op, xp, lst):
    if not lst:
        shape = _elem_shape(op)
        if shape is None or None in shape:
            raise errors.InvalidArgumentError(
                None, op, "TensorArray has size zero, but element shape is not fully "
                "defined. Currently only static shapes are supported when packing zero-size "
                "TensorArrays.")
        return xp.zeros((0,) + shape, dtype=op.attrs["element_dtype"].np)
    vals = [_zeros_for(op, xp, f"index {i}") if v is None else v for i, v in enumerate(lst)]
    try:
        return xp.stack(vals)
    except ValueError as e:
        raise errors.InvalidArgumentError(
            None, op, f"TensorArray elements have different shapes: "
            f"{[tuple(v.shape) for v in vals]}") from e


def _stack_kernel(op, ctx):
    xp = ctx.xp

    def tensor_list_stack(lst):
        return _stack_values(op, xp, lst)
    return tensor_list_stack


def _stack_grad(op, dvalue):
    """d list = unstack(d value)."""
    return [out1("TensorListFromTensor", [dvalue])]


register_op("TensorListStack", infer=_stack_infer, grad=_stack_grad, kernel=_stack_kernel,
            doc="The elements stacked along a new axis 0.")


def _gather_kernel(op, ctx):
    xp = ctx.xp

    def tensor_list_gather(lst, indices):
        idx = _int_list(indices)
        for i in idx:
            _check_index(op, lst, i, False, False)
        return _stack_values(op, xp, [lst[i] for i in idx])
    return tensor_list_gather


def _gather_grad(op, dvalue):
    """d list = zero list with the rows of d value scattered to `indices`."""
    lst, indices = op.inputs
    return [out1("TensorListScatterInto", [lst, indices, dvalue], {"single": False}), None]


register_op("TensorListGather", infer=_stack_infer, grad=_gather_grad, kernel=_gather_kernel,
            doc="The elements at `indices`, stacked.")


def _scatter_kernel(op, ctx):
    dynamic = op.attrs.get("dynamic_size", False)

    def tensor_list_scatter(lst, indices, value):
        idx = _int_list(indices)
        if len(idx) != value.shape[0]:
            raise errors.InvalidArgumentError(
                None, op, f"TensorArray scatter: {len(idx)} indices for a value with "
                f"{value.shape[0]} rows")
        out = list(lst)
        for k, i in enumerate(idx):
            _check_index(op, out, i, dynamic, True)
            if i >= len(out):
                out.extend([None] * (i + 1 - len(out)))
            elif out[i] is not None:
                raise errors.InvalidArgumentError(
                    None, op, f"Could not write to TensorArray index {i} because it has "
                    "already been written to.")
            out[i] = value[k]
        return tuple(out)
    return tensor_list_scatter


def _scatter_grad(op, dlist):
    """d value = gather(d list, indices), unwritten elements as zeros."""
    _, indices, value = op.inputs
    return [dlist, None, out1("TensorListStackOrZeros", [dlist, value, indices],
                              {"single": False})]


register_op("TensorListScatter", infer=lambda op: [(_variant, ())], grad=_scatter_grad,
            kernel=_scatter_kernel, doc="The list with rows of `value` at `indices`.")


def _split_kernel(op, ctx):
    def tensor_list_split(value, lengths):
        lens = _int_list(lengths)
        if sum(lens) != value.shape[0]:
            raise errors.InvalidArgumentError(
                None, op, f"Expected sum of lengths to be equal to values.shape[0], but sum "
                f"of lengths is {sum(lens)} and value's shape is: {list(value.shape)}")
        offs = np.cumsum([0] + lens)
        return tuple(value[offs[i]:offs[i + 1]] for i in range(len(lens)))
    return tensor_list_split


def _split_grad(op, dlist):
    """d value = concat(d list), unwritten elements as zeros."""
    value, lengths = op.inputs
    return [out1("TensorListConcat", [dlist, value, lengths],
                 {"element_dtype": value.dtype, "element_shape": None}), None]


register_op("TensorListSplit", infer=lambda op: [(_variant, ())], grad=_split_grad,
            kernel=_split_kernel, doc="The list of consecutive pieces of `value` along axis "
            "0 with the given lengths.")


def _concat_infer(op):
    shape = _elem_shape(op)
    if shape is None and len(op.inputs) > 1:  # a gradient: shaped like the forward value
        shape = op.inputs[1]._shape
    return [(op.attrs["element_dtype"], None if shape is None else (None,) + shape[1:])]


def _concat_kernel(op, ctx):
    xp = ctx.xp

    def tensor_list_concat(lst, like=None, lengths=None):
        vals = list(lst)
        if like is not None:  # a gradient: unwritten pieces are zeros of the forward rows
            offs = np.cumsum([0] + _int_list(lengths))
            vals = [xp.zeros_like(like[offs[i]:offs[i + 1]]) if v is None else v
                    for i, v in enumerate(vals)]
        if not vals:
            shape = _elem_shape(op)
            if shape is None or None in shape[1:]:
                raise errors.InvalidArgumentError(None, op, "Concat of an empty TensorArray "
                                                  "needs a fully defined element shape")
            return xp.zeros((0,) + tuple(shape[1:]), dtype=op.attrs["element_dtype"].np)
        if any(v is None for v in vals):
            raise errors.InvalidArgumentError(None, op, "Could not concat a TensorArray with "
                                              "unwritten elements")
        return xp.concatenate(vals, axis=0)
    return tensor_list_concat


def _concat_grad(op, dvalue):
    """d list = split(d value) with the forward elements' lengths."""
    return [out1("TensorListSplitLike", [dvalue, op.inputs[0]])] + [None] * (len(op.inputs) - 1)


register_op("TensorListConcat", infer=_concat_infer, grad=_concat_grad, kernel=_concat_kernel,
            doc="The elements concatenated along axis 0.")


def _split_like_kernel(op, ctx):
    def tensor_list_split_like(value, lst):
        lens = [0 if v is None else v.shape[0] for v in lst]
        offs = np.cumsum([0] + lens)
        return tuple(value[offs[i]:offs[i + 1]] for i in range(len(lens)))
    return tensor_list_split_like


register_op("TensorListSplitLike", infer=lambda op: [(_variant, ())],
            grad=NOT_DIFFERENTIABLE, kernel=_split_like_kernel,
            doc="Gradient helper: `value` split along axis 0 like the elements of a list.")


def _length_kernel(op, ctx):
    box = np.int32 if ctx.xp is np else (lambda n: ctx.xp.asarray(n, dtype=np.int32))

    def tensor_list_length(lst):
        return box(len(lst))
    return tensor_list_length


register_op("TensorListLength", infer=lambda op: [(dtypes.int32, ())], grad=NOT_DIFFERENTIABLE,
            kernel=_length_kernel, doc="The number of elements.")


# -- gradient helpers -----------------------------------------------------------------------------
def _zeros_like_kernel(op, ctx):
    def tensor_list_zeros_like(lst):
        return (None,) * len(lst)
    return tensor_list_zeros_like


register_op("TensorListZerosLike", infer=lambda op: [(_variant, ())], grad=NOT_DIFFERENTIABLE,
            kernel=_zeros_like_kernel, doc="An all-zero gradient list of the same length.")


def add_lists(a, b):
    """Element-wise sum of two gradient lists (None is zero); the longer length wins."""
    n = max(len(a), len(b))
    a = tuple(a) + (None,) * (n - len(a))
    b = tuple(b) + (None,) * (n - len(b))
    return tuple(y if x is None else x if y is None else x + y for x, y in zip(a, b))


def _add_n_kernel(op, ctx):
    def tensor_list_add_n(*lists):
        out = lists[0]
        for lst in lists[1:]:
            out = add_lists(out, lst)
        return out
    return tensor_list_add_n


register_op("TensorListAddN", infer=lambda op: [(_variant, ())], grad=NOT_DIFFERENTIABLE,
            kernel=_add_n_kernel, doc="Element-wise sum of gradient lists.")


def _scatter_into_kernel(op, ctx):
    single = op.attrs["single"]

    def tensor_list_scatter_into(like, indices, value):
        out = [None] * len(like)
        if single:
            out[_int_scalar(indices)] = value
        else:
            for k, i in enumerate(_int_list(indices)):
                out[i] = value[k] if out[i] is None else out[i] + value[k]
        return tuple(out)
    return tensor_list_scatter_into


register_op("TensorListScatterInto", infer=lambda op: [(_variant, ())],
            grad=NOT_DIFFERENTIABLE, kernel=_scatter_into_kernel,
            doc="Gradient helper: a zero list as long as `like` with `value` (rows of it "
            "unless `single`) at `indices`.")


def _stack_or_zeros_infer(op):
    like = op.inputs[1]
    if op.attrs.get("single"):
        return [(like.dtype, like._shape)]
    return [(like.dtype, like._shape)]


def _stack_or_zeros_kernel(op, ctx):
    xp = ctx.xp
    single = op.attrs.get("single", False)
    has_idx = len(op.inputs) > 2

    def tensor_list_stack_or_zeros(lst, like, indices=None):
        if single:
            v = lst[_int_scalar(indices)] if _int_scalar(indices) < len(lst) else None
            return xp.zeros_like(like) if v is None else v
        idx = _int_list(indices) if has_idx else range(like.shape[0])
        rows = []
        for k, i in enumerate(idx):
            v = lst[i] if i < len(lst) else None
            rows.append(xp.zeros_like(like[k]) if v is None else v)
        return xp.stack(rows) if rows else xp.zeros_like(like)
    return tensor_list_stack_or_zeros


register_op("TensorListStackOrZeros", infer=_stack_or_zeros_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_stack_or_zeros_kernel,
            doc="Gradient helper: the elements at `indices` (all, or one when `single`) "
            "stacked, unwritten ones as zeros shaped like the rows of `like`.")


# -- the Python object ----------------------------------------------------------------------------
class TensorArray:
    """A list of tensors of one dtype, written and read by index inside the graph
    (TF 1.x `tf.TensorArray`; typically a `tf.while_loop` variable).

    Each mutating method (`write`, `scatter`, `unstack`, `split`) returns a new TensorArray;
    use it for further operations, as TF requires. `flow` is the variant tensor carrying the
    list. `clear_after_read` and `colocate_with_first_write_call` are accepted and ignored:
    values are immutable, so reading an element twice is always allowed.
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape: bool = True,
                 element_shape=None, colocate_with_first_write_call: bool = True,
                 name=None) -> None:
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._infer_shape = infer_shape
        self._element_shape = TensorShape(None) if element_shape is None \
            else as_shape(element_shape)
        if handle is not None and flow is None:
            flow = handle
        if flow is not None:
            if not isinstance(flow, Tensor) or flow.dtype != _variant:
                raise TypeError(f"TensorArray flow must be a variant tensor, got {flow!r}")
            self._flow = flow
            return
        if size is None:
            raise ValueError("Size must be provided if handle is not provided")
        with name_scope(name or tensor_array_name, "TensorArray", [size]):
            size = convert_to_tensor(size, dtype=dtypes.int32, name="size")
            self._flow = out1("TensorListReserve", [size], {"element_dtype": self._dtype})

    # -- properties --------------------------------------------------------------------
    @property
    def flow(self) -> Tensor:
        """The variant tensor holding the list (what a while loop carries)."""
        return self._flow

    @property
    def handle(self) -> Tensor:
        return self._flow

    @property
    def dtype(self):
        return self._dtype

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic_size

    @property
    def element_shape(self) -> TensorShape:
        return self._element_shape

    def _with_flow(self, flow: Tensor, element_shape=None) -> "TensorArray":
        ta = TensorArray.__new__(TensorArray)
        ta._dtype = self._dtype
        ta._dynamic_size = self._dynamic_size
        ta._infer_shape = self._infer_shape
        ta._element_shape = self._element_shape if element_shape is None else element_shape
        ta._flow = flow
        return ta

    def _merge_shape(self, shape: TensorShape) -> TensorShape:
        if not self._infer_shape:
            return self._element_shape
        try:
            return self._element_shape.merge_with(shape)
        except ValueError:
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected "
                             f"{self._element_shape} (and infer_shape=True)") from None

    def _attrs(self) -> dict:
        dims = self._element_shape.as_tuple() if hasattr(self._element_shape, "as_tuple") \
            else None
        return {"element_dtype": self._dtype, "element_shape": dims,
                "dynamic_size": self._dynamic_size}

    def _value(self, value, name: str) -> Tensor:
        t = convert_to_tensor(value, dtype=self._dtype, name=name)
        return t

    # -- reads -------------------------------------------------------------------------
    def read(self, index, name=None) -> Tensor:
        """The element at `index` (zeros when never written and the element shape is
        fully known)."""
        with name_scope(name, "TensorArrayRead", [self._flow, index]):
            index = convert_to_tensor(index, dtype=dtypes.int32, name="index")
            return out1("TensorListGetItem", [self._flow, index], self._attrs())

    def stack(self, name=None) -> Tensor:
        """All elements stacked along a new axis 0."""
        with name_scope(name, "TensorArrayStack", [self._flow]):
            return out1("TensorListStack", [self._flow], self._attrs())

    def gather(self, indices, name=None) -> Tensor:
        """The elements at `indices`, stacked along a new axis 0."""
        with name_scope(name, "TensorArrayGather", [self._flow, indices]):
            indices = convert_to_tensor(indices, dtype=dtypes.int32, name="indices")
            return out1("TensorListGather", [self._flow, indices], self._attrs())

    def concat(self, name=None) -> Tensor:
        """All elements concatenated along axis 0."""
        with name_scope(name, "TensorArrayConcat", [self._flow]):
            attrs = self._attrs()
            del attrs["dynamic_size"]
            return out1("TensorListConcat", [self._flow], attrs)

    def size(self, name=None) -> Tensor:
        """The number of elements (an int32 scalar)."""
        return out1("TensorListLength", [self._flow], None, name or "TensorArraySize")

    # -- writes ------------------------------------------------------------------------
    def write(self, index, value, name=None) -> "TensorArray":
        """A TensorArray with `value` at `index`.

        Raises:
            ValueError: with infer_shape, `value`'s shape differs from earlier elements'.
        """
        with name_scope(name, "TensorArrayWrite", [self._flow, index, value]):
            index = convert_to_tensor(index, dtype=dtypes.int32, name="index")
            value = self._value(value, "value")
            shape = self._merge_shape(value.get_shape())
            flow = out1("TensorListSetItem", [self._flow, index, value], self._attrs())
            return self._with_flow(flow, shape)

    def unstack(self, value, name=None) -> "TensorArray":
        """A TensorArray holding the slices of `value` along axis 0."""
        with name_scope(name, "TensorArrayUnstack", [value]):
            value = self._value(value, "value")
            shape = self._merge_shape(value.get_shape()[1:] if value._shape is not None
                                      else TensorShape(None))
            flow = out1("TensorListFromTensor", [value])
            return self._with_flow(flow, shape)

    def scatter(self, indices, value, name=None) -> "TensorArray":
        """A TensorArray with the rows of `value` at `indices`."""
        with name_scope(name, "TensorArrayScatter", [self._flow, indices, value]):
            indices = convert_to_tensor(indices, dtype=dtypes.int32, name="indices")
            value = self._value(value, "value")
            shape = self._merge_shape(value.get_shape()[1:] if value._shape is not None
                                      else TensorShape(None))
            flow = out1("TensorListScatter", [self._flow, indices, value], self._attrs())
            return self._with_flow(flow, shape)

    def split(self, value, lengths, name=None) -> "TensorArray":
        """A TensorArray of consecutive pieces of `value` (along axis 0) of `lengths`."""
        with name_scope(name, "TensorArraySplit", [value, lengths]):
            value = self._value(value, "value")
            lengths = convert_to_tensor(lengths, dtype=dtypes.int64, name="lengths")
            shape = TensorShape(None) if value._shape is None else \
                TensorShape((None,) + tuple(value._shape[1:]))
            flow = out1("TensorListSplit", [value, lengths])
            return self._with_flow(flow, self._merge_shape(shape))

    def identity(self) -> "TensorArray":
        """A TensorArray over an identity of the flow."""
        from .array import identity
        return self._with_flow(identity(self._flow))

    def close(self, name=None):
        """Does nothing but return an op (values need no release)."""
        from .control import no_op
        with get_default_graph().control_dependencies([self._flow]):
            return no_op(name=name or "TensorArrayClose")

    def __repr__(self) -> str:
        return f"<TensorArray dtype={self._dtype.name} flow={self._flow.name}>"
