"""Gradient clipping by norm (TF 1.x `tf.clip_by_global_norm`, `tf.clip_by_norm`,
`tf.global_norm`, `tf.clip_by_average_norm`).

As in TF, `global_norm`, `clip_by_global_norm` and `clip_by_norm` take `IndexedSlices` too:
the norm is that of their `values` (rows of repeated indices are not summed first), and the
clipped result is an IndexedSlices with the same indices.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..framework.graph import colocate_with, convert_to_tensor, get_default_graph
from ..framework.indexed_slices import IndexedSlices
from ..ops.array import identity
from ..ops.math import add_n, cast
from ..ops.reduction import reduce_sum

__all__ = ["clip_by_global_norm", "clip_by_norm", "global_norm", "clip_by_average_norm"]


def _as_sequence(t_list, what: str) -> list:
    if not isinstance(t_list, Sequence) or isinstance(t_list, (str, bytes)):
        raise TypeError(f"{what}: t_list should be a sequence, got {type(t_list).__name__}")
    return list(t_list)


def _dense_part(t):
    """The tensor whose norm counts: an IndexedSlices' values, else `t` itself."""
    return t.values if isinstance(t, IndexedSlices) else t


def _like(given, clipped):
    """`clipped` values in the form of `given` (an IndexedSlices keeps its indices)."""
    if isinstance(given, IndexedSlices):
        return IndexedSlices(clipped, given.indices, given.dense_shape)
    return clipped


def global_norm(t_list, name: str | None = None):
    """sqrt(sum over the non-None tensors of sum(t^2)).

    Raises:
        TypeError: `t_list` is not a sequence.
        ValueError: `t_list` holds no tensor.
    """
    from .. import sqrt
    t_list = _as_sequence(t_list, "global_norm")
    with get_default_graph().name_scope(name or "global_norm"):
        values = [convert_to_tensor(_dense_part(t), name=f"t_{i}")
                  for i, t in enumerate(t_list) if t is not None]
        if not values:
            raise ValueError("global_norm: t_list holds no tensor (all entries are None)")
        squares = []
        for v in values:
            with colocate_with(v):
                squares.append(reduce_sum(v * v))
        total = squares[0] if len(squares) == 1 else add_n(squares)
        return sqrt(total, name="global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name: str | None = None):
    """Scales every tensor by clip_norm / max(global_norm, clip_norm).

    Returns:
        (list of clipped tensors, None entries kept as None; the global norm used). When the
        norm is inf or NaN every clipped entry is NaN, as in TF.

    Raises:
        TypeError: `t_list` is not a sequence.
    """
    from .. import minimum
    t_list = _as_sequence(t_list, "clip_by_global_norm")
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    use_norm = convert_to_tensor(use_norm)
    with get_default_graph().name_scope(name or "clip_by_global_norm") as scope:
        dtype = use_norm.dtype
        clip_norm = cast(convert_to_tensor(clip_norm, dtype=dtype), dtype)
        one = convert_to_tensor(1.0, dtype=dtype)
        scale = clip_norm * minimum(one / use_norm, one / clip_norm)
        scale = scale + (use_norm - use_norm)  # NaN for an inf/NaN norm
        clipped = []
        base = scope.rstrip("/").rsplit("/", 1)[-1]
        for i, t in enumerate(t_list):
            if t is None:
                clipped.append(None)
                continue
            v = convert_to_tensor(_dense_part(t), name=f"t_{i}")
            with colocate_with(v):
                clipped.append(_like(t, identity(v * cast(scale, v.dtype),
                                                 name=f"{base}_{i}")))
    return clipped, use_norm


def clip_by_norm(t, clip_norm, axes=None, name: str | None = None):
    """t * clip_norm / max(||t||_2, clip_norm), the norm taken over `axes` (default all)."""
    from .. import maximum, ones_like, sqrt, where
    with get_default_graph().name_scope(name or "clip_by_norm") as scope:
        given = t
        t = convert_to_tensor(_dense_part(t), name="t")
        clip_norm = convert_to_tensor(clip_norm, dtype=t.dtype)
        l2sum = reduce_sum(t * t, axes, keepdims=True)
        pred = l2sum > 0
        # Guards sqrt's gradient at 0: the norm of an all-zero tensor is 0.
        l2norm = where(pred, sqrt(where(pred, l2sum, ones_like(l2sum))), l2sum)
        return _like(given, identity(t * clip_norm / maximum(l2norm, clip_norm), name=scope))


def clip_by_average_norm(t, clip_norm, name: str | None = None):
    """t * clip_norm / max(||t||_2 / size(t), clip_norm)."""
    from .. import minimum, size, sqrt
    with get_default_graph().name_scope(name or "clip_by_average_norm") as scope:
        t = convert_to_tensor(t, name="t")
        clip_norm = convert_to_tensor(clip_norm, dtype=t.dtype)
        n = cast(size(t), t.dtype)
        inv_norm = 1.0 / sqrt(reduce_sum(t * t))
        one = convert_to_tensor(1.0, dtype=t.dtype)
        return identity(t * clip_norm * minimum(inv_norm * n, one / clip_norm), name=scope)
