"""Learning-rate schedules of the global step (TF 1.x `tf.train.*_decay`).

Each returns a scalar tensor of the learning rate's dtype, recomputed from `global_step` on
every run, so it can be passed straight to an optimizer.
"""
from __future__ import annotations

from ..framework.graph import convert_to_tensor, get_default_graph
from ..ops.math import cast

__all__ = ["exponential_decay", "piecewise_constant", "polynomial_decay",
           "inverse_time_decay", "natural_exp_decay"]


def _require_step(global_step, what: str) -> None:
    if global_step is None:
        raise ValueError(f"global_step is required for {what}.")


def _progress(learning_rate, global_step, decay_steps, staircase: bool):
    """(lr tensor, global_step / decay_steps in lr's dtype, floored when `staircase`)."""
    from .. import floor
    learning_rate = convert_to_tensor(learning_rate, name="learning_rate")
    dtype = learning_rate.dtype
    p = cast(global_step, dtype) / cast(decay_steps, dtype)
    if staircase:
        p = floor(p)
    return learning_rate, p


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate,
                      staircase: bool = False, name: str | None = None):
    """learning_rate * decay_rate ^ (global_step / decay_steps) (integer division when
    `staircase`)."""
    from .. import pow as pow_
    _require_step(global_step, "exponential_decay")
    with get_default_graph().name_scope(name or "ExponentialDecay") as scope:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        return _named(lr * pow_(cast(decay_rate, lr.dtype), p), scope)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate,
                       staircase: bool = False, name: str | None = None):
    """learning_rate / (1 + decay_rate * global_step / decay_steps)."""
    _require_step(global_step, "inverse_time_decay")
    with get_default_graph().name_scope(name or "InverseTimeDecay") as scope:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        denom = 1.0 + cast(decay_rate, lr.dtype) * p
        return _named(lr / denom, scope)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate,
                      staircase: bool = False, name: str | None = None):
    """learning_rate * exp(-decay_rate * global_step / decay_steps)."""
    from .. import exp
    _require_step(global_step, "natural_exp_decay")
    with get_default_graph().name_scope(name or "NaturalExpDecay") as scope:
        lr, p = _progress(learning_rate, global_step, decay_steps, staircase)
        return _named(lr * exp(-cast(decay_rate, lr.dtype) * p), scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle: bool = False, name: str | None = None):
    """(learning_rate - end) * (1 - step / decay_steps) ^ power + end, with step capped at
    decay_steps, or (with `cycle`) decay_steps stretched to the next multiple above step."""
    from .. import ceil, equal, minimum, where
    from .. import pow as pow_
    _require_step(global_step, "polynomial_decay")
    with get_default_graph().name_scope(name or "PolynomialDecay") as scope:
        lr = convert_to_tensor(learning_rate, name="learning_rate")
        dtype = lr.dtype
        end = cast(end_learning_rate, dtype)
        power = cast(power, dtype)
        step = cast(global_step, dtype)
        steps = cast(decay_steps, dtype)
        if cycle:
            one = convert_to_tensor(1.0, dtype=dtype)
            multiplier = where(equal(step, 0.0), one, ceil(step / steps))
            steps = steps * multiplier
        else:
            step = minimum(step, steps)
        p = step / steps
        return _named((lr - end) * pow_(1.0 - p, power) + end, scope)


def piecewise_constant(x, boundaries, values, name: str | None = None):
    """values[0] while x <= boundaries[0], values[i] while boundaries[i-1] < x <=
    boundaries[i], values[-1] once x > boundaries[-1].

    Raises:
        ValueError: len(values) != len(boundaries) + 1, or the values differ in dtype.
    """
    from .. import less_equal, where
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of "
                         f"values ({len(boundaries)} boundaries, {len(values)} values)")
    with get_default_graph().name_scope(name or "PiecewiseConstant") as scope:
        x = convert_to_tensor(x)
        bounds = [_boundary(b, x) for b in boundaries]
        vals = [convert_to_tensor(v) for v in values]
        for v in vals[1:]:
            if v.dtype != vals[0].dtype:
                raise ValueError("Values must have elements all with the same dtype "
                                 f"({vals[0].dtype.name} != {v.dtype.name}).")
        out = vals[-1]
        for b, v in zip(reversed(bounds), reversed(vals[:-1])):
            out = where(less_equal(x, b), v, out)
        return _named(out, scope)


def _boundary(b, x):
    """A boundary as a tensor of x's dtype (int32/int64 mix allowed, as in TF)."""
    t = convert_to_tensor(b) if hasattr(b, "dtype") and hasattr(b, "op") else None
    if t is None:
        return convert_to_tensor(b, dtype=x.dtype)
    if t.dtype != x.dtype:
        if t.dtype.is_integer and x.dtype.is_integer:
            return cast(t, x.dtype)
        raise ValueError(f"Boundaries ({t.dtype.name}) must have the same dtype as x "
                         f"({x.dtype.name}).")
    return t


def _named(t, scope: str):
    """`t` as an Identity named exactly `scope` (TF names a schedule's result by its scope)."""
    from ..ops.array import identity
    return identity(t, name=scope)
