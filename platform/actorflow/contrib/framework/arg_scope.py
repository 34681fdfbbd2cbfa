"""`tf.contrib.framework.arg_scope`: default keyword arguments for decorated layer functions.

``with arg_scope([conv2d, fully_connected], weights_regularizer=reg):`` makes every call of
those functions inside the block receive ``weights_regularizer=reg`` unless the call passes
it itself. Scopes nest: an inner scope starts from a copy of the outer one and overrides the
same keys. A function takes part only when wrapped by `add_arg_scope`; the wrapper looks its
defaults up by a key shared by the wrapper and the function it wraps, so naming either one in
an `arg_scope` list works. ``with arg_scope(...) as sc`` yields the scope's dict, which
``with arg_scope(sc):`` enters again later (how `inception_v3_arg_scope()` is used).

As in TF 1.x (after 1.0) the stack is one per process, not per graph or thread: scopes are
meant for the thread that builds a model.
"""
from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, Iterator

__all__ = ["arg_scope", "add_arg_scope", "current_arg_scope", "has_arg_scope",
           "arg_scoped_arguments", "arg_scope_func_key"]

_ARG_STACK: list[dict] = [{}]
# key -> the names of the decorated function's keyword (defaulted) arguments
_DECORATED_OPS: dict[Any, tuple[str, ...]] = {}


def current_arg_scope() -> dict:
    """The innermost scope: a dict ``{function key: {argument: default}}``."""
    if not _ARG_STACK:
        _ARG_STACK.append({})
    return _ARG_STACK[-1]


def arg_scope_func_key(op: Callable) -> Any:
    """The key under which `op`'s defaults are kept (the wrapped function's, for a wrapper)."""
    return getattr(op, "_key_op", op)


def _kwarg_names(func: Callable) -> tuple[str, ...]:
    code = func.__code__
    positional = code.co_varnames[:code.co_argcount]
    n_defaults = len(func.__defaults__ or ())
    names = positional[len(positional) - n_defaults:] if n_defaults else ()
    return tuple(names) + tuple(code.co_varnames[code.co_argcount:
                                                 code.co_argcount + code.co_kwonlyargcount])


def has_arg_scope(func: Callable) -> bool:
    """Whether `func` (or the function it wraps) was decorated with `add_arg_scope`."""
    return arg_scope_func_key(func) in _DECORATED_OPS


def arg_scoped_arguments(func: Callable) -> tuple[str, ...]:
    """The keyword arguments of a decorated `func` that an arg_scope may set.

    Raises:
        ValueError: `func` is not decorated with `add_arg_scope`.
    """
    if not has_arg_scope(func):
        raise ValueError(f"{_name_op(func)} is not decorated with @add_arg_scope")
    return _DECORATED_OPS[arg_scope_func_key(func)]


def _name_op(op: Callable) -> str:
    return f"{getattr(op, '__module__', '?')}.{getattr(op, '__name__', repr(op))}"


def add_arg_scope(func: Callable) -> Callable:
    """Decorates `func` so that calls take their missing keyword arguments from the
    innermost `arg_scope` naming it; arguments given at the call win."""
    key = arg_scope_func_key(func)

    @functools.wraps(func)
    def func_with_args(*args, **kwargs):
        scoped = current_arg_scope().get(key)
        if scoped:
            kwargs = {**scoped, **kwargs}
        return func(*args, **kwargs)

    if key not in _DECORATED_OPS:
        _DECORATED_OPS[key] = _kwarg_names(getattr(func, "__wrapped__", func))
    func_with_args._key_op = key
    return func_with_args


@contextlib.contextmanager
def arg_scope(list_ops_or_scope, **kwargs) -> Iterator[dict]:
    """Sets `kwargs` as defaults of every function in `list_ops_or_scope` inside the block,
    or, given a dict yielded by an earlier `arg_scope`, enters that scope again.

    Yields:
        The new current scope, a dict ``{function key: {argument: value}}``.

    Raises:
        TypeError: `list_ops_or_scope` is neither a list/tuple nor a dict.
        ValueError: a function in the list is not decorated with `add_arg_scope`, or a dict
            is given together with `kwargs`.
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError("When attempting to re-use a scope by suppling a dictionary, "
                             "kwargs must be empty.")
        scope = dict(list_ops_or_scope)
    else:
        if not isinstance(list_ops_or_scope, (list, tuple)):
            raise TypeError("list_ops_or_scope must either be a list/tuple or reused scope "
                            f"(i.e. dict), got {type(list_ops_or_scope).__name__}")
        scope = dict(current_arg_scope())
        for op in list_ops_or_scope:
            if not has_arg_scope(op):
                raise ValueError(f"{_name_op(op)} is not decorated with @add_arg_scope")
            key = arg_scope_func_key(op)
            scope[key] = {**scope.get(key, {}), **kwargs}
    _ARG_STACK.append(scope)
    try:
        yield scope
    finally:
        _ARG_STACK.pop()
