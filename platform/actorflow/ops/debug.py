"""Debugging ops: Print, Assert and CheckNumerics, and the TF 1.x helpers built on them.

Registers Print (identity of its first input that prints the others to stderr; stateful),
Assert (no outputs; fails the run with InvalidArgumentError when its bool condition is false;
stateful) and CheckNumerics (identity that fails the run on NaN/Inf). Values are formatted as
TF's ``Tensor::SummarizeValue``: at most `summarize` elements, nested brackets per dimension,
``...`` where elements were left out.

The `assert_*` family builds a condition from graph ops and an Assert on it. When both sides
are known at graph construction the check happens there: a false condition raises (as TF) and
a true one returns a NoOp.
"""
from __future__ import annotations

import sys
import threading

import numpy as np

from .. import dtypes, errors
from ..framework.graph import (Operation, Tensor, colocate_with, constant_value,
                               control_dependencies, convert_to_tensor, get_default_graph,
                               make_op, name_scope)
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import binary_args, out1, same_as_input
from .array import rank as _rank_of
from .array import shape as _shape_of
from .control import group, no_op, with_dependencies
from .logic import equal, greater, greater_equal, less, less_equal, not_equal
from .logic import is_finite, is_inf, is_nan  # noqa: F401 - tf.debugging names
from .reduction import reduce_all

__all__ = ["Print", "Assert", "check_numerics", "add_check_numerics_ops",
           "verify_tensor_all_finite", "assert_equal", "assert_none_equal", "assert_less",
           "assert_less_equal", "assert_greater", "assert_greater_equal", "assert_positive",
           "assert_negative", "assert_non_negative", "assert_non_positive", "assert_rank",
           "assert_rank_at_least", "assert_type", "assert_integer", "assert_scalar"]

_DEFAULT_SUMMARIZE = 3


# -- value formatting (TF's Tensor::SummarizeValue) ------------------------------------------
def _float_text(v, digits: tuple[int, int], ftype) -> str:
    """Shortest of %.{d}g that reads back to the same value (TF's FloatToBuffer)."""
    text = f"{v:.{digits[0]}g}"
    if not np.isfinite(v) or ftype(text) == v:
        return text
    return f"{v:.{digits[1]}g}"


def _element_formatter(dtype: np.dtype):
    if dtype.kind == "b":
        return lambda v: "1" if v else "0"
    if dtype.kind in "iu":
        return lambda v: str(int(v))
    if dtype.kind == "f":
        if dtype == np.float64:
            return lambda v: _float_text(float(v), (15, 17), float)
        return lambda v: _float_text(float(v), (6, 9), lambda s: float(np.float32(s)))
    if dtype.kind == "c":
        part = _element_formatter(np.dtype(np.float32 if dtype == np.complex64 else np.float64))
        return lambda v: f"({part(v.real)},{part(v.imag)})"
    return lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def summarize_value(value, summarize: int | None = _DEFAULT_SUMMARIZE) -> str:
    """`value` as TF 1.x prints it: at most `summarize` elements (all when negative/None)."""
    from .summary_ops import _host  # not at import: summary_ops imports the summary package
    arr = _host(value)
    n = arr.size
    limit = n if summarize is None or summarize < 0 else min(int(summarize), n)
    fmt = _element_formatter(arr.dtype)
    flat = arr.reshape(-1)
    if arr.ndim == 0:
        text = fmt(flat[0]) if limit else ""
    else:
        parts: list[str] = []
        _print_dim(0, arr.shape, limit, flat, fmt, [0], parts)
        text = "".join(parts)
    return text + ("..." if n > limit else "")


def _print_dim(dim: int, shape, limit: int, flat, fmt, index: list, out: list) -> None:
    """One dimension of `summarize_value`: innermost elements space-separated, outer ones
    bracketed, stopping after `limit` elements."""
    if index[0] >= limit:
        return
    if dim == len(shape) - 1:
        for i in range(shape[dim]):
            if index[0] >= limit:
                if dim != 0:
                    out.append("...")
                return
            if i > 0:
                out.append(" ")
            out.append(fmt(flat[index[0]]))
            index[0] += 1
        return
    for _ in range(shape[dim]):
        opened = index[0] < limit
        if opened:
            out.append("[")
        _print_dim(dim + 1, shape, limit, flat, fmt, index, out)
        if opened:
            out.append("]")


def _summarize_attr(summarize) -> int:
    return _DEFAULT_SUMMARIZE if summarize is None else int(summarize)


# -- Print -----------------------------------------------------------------------------------
def _print_kernel(op, ctx):
    message, summarize = op.attrs["message"], op.attrs["summarize"]
    first_n = op.attrs["first_n"]
    state = ctx.op_state(op, lambda: {"count": 0, "lock": threading.Lock()})

    def print_(x, *data):
        if first_n >= 0:
            with state["lock"]:
                if state["count"] >= first_n:
                    return x
                state["count"] += 1
        text = "".join(f"[{summarize_value(d, summarize)}]" for d in data)
        sys.stderr.write(f"{message}{text}\n")
        return x
    return print_


def _print_grad(op, grad):
    """d(Print(x, data))/dx = 1; the printed data gets no gradient."""
    return [grad] + [None] * (len(op.inputs) - 1)


register_op("Print", infer=same_as_input, grad=_print_grad, kernel=_print_kernel,
            stateful=True, aliases_input=True, host_only=True,
            doc="Identity of input 0 that prints message + the other inputs to stderr.")


def Print(input_, data, message: str | None = None, first_n: int | None = None,  # noqa: N802
          summarize: int | None = None, name: str | None = None) -> Tensor:
    """`input_`, printing `message` and the values of `data` to stderr each time it runs.

    Args:
        data: tensors (or values) to print, each as ``[v0 v1 v2...]``.
        first_n: print only the first `first_n` runs (None or negative: always).
        summarize: elements printed per tensor (default 3; negative: all).
    """
    input_ = convert_to_tensor(input_)
    data = [convert_to_tensor(d) for d in ([data] if isinstance(data, Tensor) else data)]
    attrs = {"message": "" if message is None else str(message),
             "first_n": -1 if first_n is None else int(first_n),
             "summarize": _summarize_attr(summarize)}
    return out1("Print", [input_] + data, attrs, name or "Print")


# -- Assert ----------------------------------------------------------------------------------
def _assert_infer(op):
    cond = op.inputs[0]
    if not cond.dtype.is_bool:
        raise TypeError(f"Assert: the condition {cond.name} must be bool, got "
                        f"{cond.dtype.name}")
    if cond._shape is not None and cond._shape not in ((), (1,)):
        raise ValueError(f"Assert: the condition {cond.name} must be a scalar, got shape "
                         f"{list(cond._shape)}")
    return []


def _assert_kernel(op, ctx):
    summarize = op.attrs["summarize"]

    def assert_(cond, *data):
        c = np.asarray(cond.get() if hasattr(cond, "get") else cond)
        if c.size != 1:
            raise errors.InvalidArgumentError(
                None, op, f"Assert '{op.name}': the condition should be a scalar, got shape "
                f"{list(c.shape)}")
        if not c.reshape(()).item():
            text = " ".join(f"[{summarize_value(d, summarize)}]" for d in data)
            raise errors.InvalidArgumentError(None, op, f"assertion failed: {text}")
    return assert_


register_op("Assert", infer=_assert_infer, grad=NOT_DIFFERENTIABLE, kernel=_assert_kernel,
            stateful=True,
            doc="Fails the run (InvalidArgumentError with the data) if the condition is false.")


def Assert(condition, data, summarize: int | None = None,  # noqa: N802
           name: str | None = None) -> Operation:
    """An op that raises InvalidArgumentError showing `data` when `condition` is false.

    Returns the op (no outputs): run it, or make other ops depend on it with
    `tf.control_dependencies`.
    """
    with name_scope(name, "Assert", [condition] + list(data)):
        condition = convert_to_tensor(condition, name="Condition")
        data = [convert_to_tensor(d) for d in data]
        return make_op("Assert", [condition] + data, {"summarize": _summarize_attr(summarize)},
                       "Assert")


# -- the assert_* family ---------------------------------------------------------------------
def _static_text(x) -> str:
    if isinstance(x, Tensor):
        v = constant_value(x)
        return x.name if v is None else summarize_value(v, -1)
    return str(x)


def _check_static(holds: bool, data) -> None:
    """TF's `_assert_static`: a statically false condition fails at graph construction."""
    if not holds:
        raise errors.InvalidArgumentError(None, None, "\n".join(_static_text(d) for d in data))


def _with_message(message, data) -> list:
    return list(data) if not message else [message] + list(data)


def _static_no_op(name: str = "statically_determined_true") -> Operation:
    return no_op(name=name)


def _compare_assert(np_fn, tf_fn, symbol: str, default_name: str):
    def assert_fn(x, y, data=None, summarize=None, message=None, name=None):
        with name_scope(name, default_name, [x, y] + list(data or [])):
            x, y = binary_args(x, y, default_name)
            if data is None:
                data = [f"Condition x {symbol} y did not hold element-wise:",
                        f"x ({x.name}) = ", x, f"y ({y.name}) = ", y]
            data = _with_message(message, data)
            xs, ys = constant_value(x), constant_value(y)
            if xs is not None and ys is not None:
                _check_static(bool(np.all(np_fn(xs, ys))), data)
                return _static_no_op()
            return Assert(reduce_all(tf_fn(x, y)), data, summarize=summarize)
    assert_fn.__name__ = default_name
    assert_fn.__doc__ = (f"An Assert that ``x {symbol} y`` holds for every element (broadcast);"
                         " raises at graph construction when both are constants and it fails.")
    return assert_fn


assert_equal = _compare_assert(np.equal, equal, "==", "assert_equal")
assert_none_equal = _compare_assert(np.not_equal, not_equal, "!=", "assert_none_equal")
assert_less = _compare_assert(np.less, less, "<", "assert_less")
assert_less_equal = _compare_assert(np.less_equal, less_equal, "<=", "assert_less_equal")
assert_greater = _compare_assert(np.greater, greater, ">", "assert_greater")
assert_greater_equal = _compare_assert(np.greater_equal, greater_equal, ">=",
                                       "assert_greater_equal")


def _sign_assert(compare, zero_first: bool, text: str, default_name: str):
    def assert_fn(x, data=None, summarize=None, message=None, name=None):
        with name_scope(name, default_name, [x] + list(data or [])):
            x = convert_to_tensor(x, name="x")
            if data is None:
                data = [f"Condition x {text} did not hold element-wise:",
                        f"x ({x.name}) = ", x]
            data = _with_message(message, data)
            zero = convert_to_tensor(0, dtype=x.dtype)
            a, b = (zero, x) if zero_first else (x, zero)
            return compare(a, b, data=data, summarize=summarize)
    assert_fn.__name__ = default_name
    assert_fn.__doc__ = f"An Assert that ``x {text}`` holds for every element."
    return assert_fn


assert_positive = _sign_assert(assert_less, True, "> 0", "assert_positive")
assert_negative = _sign_assert(assert_less, False, "< 0", "assert_negative")
assert_non_negative = _sign_assert(assert_less_equal, True, ">= 0", "assert_non_negative")
assert_non_positive = _sign_assert(assert_less_equal, False, "<= 0", "assert_non_positive")


def _rank_assert(static_ok, dynamic_cond, relation: str, default_name: str):
    def assert_fn(x, rank, data=None, summarize=None, message=None, name=None):
        with name_scope(name, default_name, [x, rank] + list(data or [])):
            x = convert_to_tensor(x, name="x")
            rank = convert_to_tensor(rank, dtype=dtypes.int32, name="rank")
            if rank._shape is not None and rank._shape != ():
                raise ValueError(f"{default_name}: rank must be a scalar, got shape "
                                 f"{list(rank._shape)}")
            want = constant_value(rank)
            if want is not None and x._shape is not None:
                if not static_ok(len(x._shape), int(want)):
                    raise ValueError(f"{message or ''}Tensor {x.name} must have rank "
                                     f"{relation}{int(want)}. Received rank {len(x._shape)}, "
                                     f"shape {list(x._shape)}")
                return _static_no_op()
            if data is None:
                data = [f"Tensor {x.name} must have rank {relation}", rank,
                        "Received shape: ", _shape_of(x)]
            data = _with_message(message, data)
            return Assert(dynamic_cond(_rank_of(x), rank), data, summarize=summarize)
    return assert_fn


_assert_rank = _rank_assert(lambda got, want: got == want, equal, "",
                            "assert_rank")
_assert_rank_at_least = _rank_assert(lambda got, want: got >= want, greater_equal,
                                     "at least ", "assert_rank_at_least")


def assert_rank(x, rank, data=None, summarize=None, message=None, name=None):
    """Asserts `x` has rank `rank`: a ValueError at graph construction when both are known
    (a NoOp is returned when it holds), else an Assert checked at run time."""
    return _assert_rank(x, rank, data, summarize, message, name)


def assert_rank_at_least(x, rank, data=None, summarize=None, message=None, name=None):
    """Asserts `x` has rank `rank` or more (static ValueError as `assert_rank`)."""
    return _assert_rank_at_least(x, rank, data, summarize, message, name)


def assert_scalar(tensor, name=None, message=None) -> Tensor:
    """`tensor` itself after checking statically that it is a scalar (ValueError if not)."""
    with name_scope(name, "assert_scalar", [tensor]):
        tensor = convert_to_tensor(tensor, name="tensor")
        s = tensor._shape
        if s is None:
            raise ValueError(f"{message or ''}Expected scalar shape for {tensor.name}, but "
                             "its rank is unknown.")
        if s != ():
            raise ValueError(f"{message or ''}Expected scalar shape for {tensor.name}, saw "
                             f"shape: {list(s)}.")
        return tensor


def assert_type(tensor, tf_type, message=None, name=None) -> Operation:
    """Statically asserts `tensor`'s dtype is `tf_type` (TypeError if not); returns a NoOp."""
    tf_type = dtypes.as_dtype(tf_type)
    with name_scope(name, "assert_type", [tensor]):
        tensor = convert_to_tensor(tensor, name="tensor")
        if tensor.dtype != tf_type:
            raise TypeError(f"{message or ''}{tensor.name} must be of type {tf_type.name}, "
                            f"not {tensor.dtype.name}")
        return _static_no_op("statically_determined_correct_type")


def assert_integer(x, message=None, name=None) -> Operation:
    """Statically asserts `x` has an integer dtype (TypeError if not); returns a NoOp."""
    with name_scope(name, "assert_integer", [x]):
        x = convert_to_tensor(x, name="x")
        if not x.dtype.is_integer:
            raise TypeError(f"{message or ''}Expected {x.name} to be integer type, found "
                            f"{x.dtype.name}.")
        return _static_no_op("statically_determined_was_integer")


# -- CheckNumerics ---------------------------------------------------------------------------
def _check_numerics_infer(op):
    x = op.inputs[0]
    if not x.dtype.is_floating:
        raise TypeError(f"CheckNumerics needs a floating-point tensor, got {x.dtype.name} "
                        f"({x.name})")
    return same_as_input(op)


def _check_numerics_kernel(op, ctx):
    xp, message = ctx.xp, op.attrs["message"]

    def check_numerics(x):
        if bool(xp.isfinite(x).all()):
            return x
        has_nan, has_inf = bool(xp.isnan(x).any()), bool(xp.isinf(x).any())
        what = "Inf and NaN" if has_nan and has_inf else ("NaN" if has_nan else "Inf")
        raise errors.InvalidArgumentError(None, op, f"{message} : Tensor had {what} values")
    return check_numerics


def _check_numerics_grad(op, grad):
    """Passes the gradient through, itself checked for NaN/Inf."""
    return [check_numerics(grad, "Not a number (NaN) or infinity (Inf) values detected in "
                           f"gradient. {op.attrs['message']}")]


register_op("CheckNumerics", infer=_check_numerics_infer, grad=_check_numerics_grad,
            kernel=_check_numerics_kernel, aliases_input=True,
            doc="Identity that fails the run (InvalidArgumentError) on NaN or Inf values.")


def check_numerics(tensor, message: str, name: str | None = None) -> Tensor:
    """`tensor`, failing the run with InvalidArgumentError naming `message` on NaN/Inf."""
    return out1("CheckNumerics", [convert_to_tensor(tensor)], {"message": str(message)},
                name or "CheckNumerics")


def verify_tensor_all_finite(t, msg: str, name: str | None = None) -> Tensor:
    """`t`, computed after a CheckNumerics of it with message `msg` has passed."""
    with name_scope(name, "VerifyFinite", [t]):
        t = convert_to_tensor(t, name="t")
        with colocate_with(t.op):
            verify = check_numerics(t, message=msg)
        return with_dependencies([verify], t)


def add_check_numerics_ops() -> Operation:
    """A group of CheckNumerics over every float output in the default graph (chained by
    control edges, as TF), each naming ``op_name:output_index``."""
    graph = get_default_graph()
    checks: list = []
    for op in list(graph.get_operations()):
        for out in op.outputs:
            if out.dtype in (dtypes.float16, dtypes.float32, dtypes.float64):
                with control_dependencies(checks):
                    checks = [check_numerics(out, f"{op.name}:{out.value_index}")]
    return group(*checks)
