"""Array ops that join or repeat tensors: stacking, concatenation, tiling and padding.

Registers Pack, Unpack, ConcatV2, Tile, PadV2, MirrorPad and MirrorPadGrad; `meshgrid` is a
composition of reshapes and BroadcastTo.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..framework.graph import (Tensor, _shape_str, constant_value, convert_to_tensor,
                               register_builder)
from ..framework.registry import register_op
from ._common import host, host_ints, out1, static_axis
from .array import (_check_int, _compatible, _dim, _int_arg, _int_vector, _is_tensor_like,
                    _reshape_like, identity, partial_value, reshape, shape)

__all__ = ["stack", "pack"]


# -- Pack (stack) --------------------------------------------------------------------------
def _pack_infer(op):
    ins = op.inputs
    if not ins:
        raise ValueError("stack needs at least one tensor")
    dt = ins[0].dtype
    shp = ins[0]._shape
    for t in ins[1:]:
        if t.dtype != dt:
            raise TypeError(f"stack: all inputs must share a dtype, got {dt.name} and "
                            f"{t.dtype.name}")
        if shp is None:
            shp = t._shape
        elif t._shape is not None:
            if len(t._shape) != len(shp) or any(a is not None and b is not None and a != b
                                                for a, b in zip(shp, t._shape)):
                raise ValueError(f"Shapes {list(shp)} and {list(t._shape)} are incompatible")
            shp = tuple(a if a is not None else b for a, b in zip(shp, t._shape))
    if shp is None:
        return [(dt, None)]
    axis = static_axis(op.attrs["axis"], len(shp) + 1)
    out = list(shp)
    out.insert(axis, len(ins))
    return [(dt, tuple(out))]


def _pack_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def pack(*xs):
        return xp.stack(xs, axis=axis)
    return pack


def _pack_grad(op, grad):
    """Returns unstack(grad, axis)."""
    return unstack(grad, num=len(op.inputs), axis=op.attrs["axis"])


register_op("Pack", infer=_pack_infer, grad=_pack_grad, kernel=_pack_kernel)


def stack(values, axis: int = 0, name: str = "stack") -> Tensor:
    """Stacks rank-R tensors into one rank-(R+1) tensor along `axis`."""
    ts = [convert_to_tensor(v) for v in values]
    if ts and any(t.dtype != ts[0].dtype for t in ts):
        # Python numbers next to tensors take the tensors' dtype.
        dt = next(t.dtype for t in ts if t.op.type != "Const")
        ts = [convert_to_tensor(v, dtype=dt) if not isinstance(v, Tensor) else
              convert_to_tensor(v) for v in values]
    return out1("Pack", ts, {"axis": int(axis)}, name)


pack = stack


# -- Unpack (unstack) ----------------------------------------------------------------------
def _unpack_infer(op):
    x = op.inputs[0]
    num, axis = op.attrs["num"], op.attrs["axis"]
    if x._shape is None:
        return [(x.dtype, None)] * num
    axis = static_axis(axis, len(x._shape))
    if x._shape[axis] is not None and x._shape[axis] != num:
        raise ValueError(f"Dimension {axis} has size {x._shape[axis]}, cannot unstack into "
                         f"{num} tensors")
    out = x._shape[:axis] + x._shape[axis + 1:]
    return [(x.dtype, out)] * num


def _unpack_kernel(op, ctx):
    xp, axis, num = ctx.xp, op.attrs["axis"], op.attrs["num"]

    def unpack(x):
        if x.shape[axis] != num:
            raise ValueError(f"dimension {axis} has size {x.shape[axis]}, expected {num}")
        return tuple(xp.moveaxis(x, axis, 0))
    return unpack


def _unpack_grad(op, *grads):
    """Returns stack(grads, axis)."""
    return [stack(list(grads), axis=op.attrs["axis"])]


register_op("Unpack", infer=_unpack_infer, grad=_unpack_grad, kernel=_unpack_kernel,
            aliases_input=True)


def unstack(value, num: int | None = None, axis: int = 0, name: str = "unstack") -> list:
    """Splits `value` along `axis` into a list of `num` tensors of one rank less.

    Raises:
        ValueError: `num` is None and the dimension is not statically known.
    """
    t = convert_to_tensor(value)
    if num is None:
        if t._shape is None or t._shape[axis] is None:
            raise ValueError(f"Cannot infer num from shape {t.get_shape()}")
        num = t._shape[axis]
    return list(make_unpack(t, num, axis, name))


def make_unpack(t, num, axis, name):
    from ..framework.graph import make_op
    return make_op("Unpack", [t], {"num": int(num), "axis": int(axis)}, name).outputs


__all__ += ["unstack", "unpack"]
unpack = unstack


# -- ConcatV2 ------------------------------------------------------------------------------
def _concat_infer(op):
    ins, axis = op.inputs, op.attrs["axis"]
    dt = ins[0].dtype
    known = [t for t in ins if t._shape is not None]
    for t in ins[1:]:
        if t.dtype != dt:
            raise TypeError(f"concat: all values must share a dtype, got {dt.name} "
                            f"({ins[0].name}) and {t.dtype.name} ({t.name})")
    if not known:
        return [(dt, None)]
    r = len(known[0]._shape)
    if r == 0:
        raise ValueError("concat: cannot concatenate scalars (use stack instead)")
    ax = static_axis(axis, r)
    out = list(known[0]._shape)
    for t in known[1:]:
        s = t._shape
        if len(s) != r:
            raise ValueError(f"Shape must be rank {r} but is rank {len(s)}: cannot concat "
                             f"shapes {_shape_str(known[0]._shape)} and {_shape_str(s)}")
        for i, d in enumerate(s):
            if i == ax:
                continue
            if not _compatible(out[i], d):
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are "
                                 f"{out[i]} and {d}. Shapes are "
                                 f"{_shape_str(known[0]._shape)} and {_shape_str(s)}")
            out[i] = d if out[i] is None else out[i]
    sizes = [None if t._shape is None else t._shape[ax] for t in ins]
    out[ax] = None if None in sizes else sum(sizes)
    return [(dt, tuple(out))]


def _concat_kernel(op, ctx):
    xp, axis = ctx.xp, op.attrs["axis"]

    def concat_(*xs):
        return xp.concatenate(xs, axis=axis)
    return concat_


def _concat_grad(op, grad):
    """Returns the slices of grad along axis that line up with each input."""
    from .slicing import split
    ins, axis = op.inputs, op.attrs["axis"]
    sizes = [None if t._shape is None else t._shape[axis] for t in ins]
    if None not in sizes:
        return split(grad, sizes, axis=axis)
    return split(grad, stack([_dim(t, axis) for t in ins]), axis=axis, num=len(ins))


register_op("ConcatV2", infer=_concat_infer, grad=_concat_grad, kernel=_concat_kernel,
            doc="Joins its inputs along attr axis.")


def _same_dtype_tensors(values) -> list[Tensor]:
    """Converts `values`; Python numbers next to tensors take the tensors' dtype."""
    ts = [convert_to_tensor(v) for v in values]
    if ts and any(t.dtype != ts[0].dtype for t in ts):
        tensor_dts = [t.dtype for t in ts if t.op.type != "Const"]
        if tensor_dts:
            ts = [convert_to_tensor(v) if isinstance(v, Tensor) else
                  convert_to_tensor(v, dtype=tensor_dts[0]) for v in values]
    return ts


def concat(values, axis, name: str = "concat") -> Tensor:
    """Joins `values` (tensors of one rank) along `axis` (TF 1.0 argument order).

    Raises:
        ValueError: ranks or non-axis dimensions differ (the message shows the shapes).
        TypeError: dtypes differ.
    """
    if isinstance(values, (int, np.integer)) and isinstance(axis, (list, tuple)):
        values, axis = axis, values  # the pre-1.0 order concat(concat_dim, values)
    if isinstance(values, Tensor):
        values = [values]
    ts = _same_dtype_tensors(values)
    if not ts:
        raise ValueError("concat: values must be a non-empty list of tensors")
    ax = _int_arg(axis, "concat axis")
    if len(ts) == 1:
        if ts[0]._shape is not None:
            static_axis(ax, len(ts[0]._shape))
        return identity(ts[0], name=name)
    r = next((len(t._shape) for t in ts if t._shape is not None), None)
    if r is not None and r > 0:
        ax = static_axis(ax, r)
    elif ax < 0:
        raise ValueError(f"concat: a negative axis ({ax}) needs inputs of known rank")
    return out1("ConcatV2", ts, {"axis": ax}, name)


concat_v2 = concat
__all__ += ["concat", "concat_v2"]


# -- Tile ----------------------------------------------------------------------------------
def _tile_infer(op):
    x, m = op.inputs
    _check_int(m, "tile multiples")
    mult = partial_value(m)
    if x._shape is None:
        return [(x.dtype, None if mult is None else (None,) * len(mult))]
    if mult is not None and len(mult) != len(x._shape):
        raise ValueError(f"tile: multiples has {len(mult)} entries but the input has shape "
                         f"{_shape_str(x._shape)} (rank {len(x._shape)})")
    if mult is None:
        return [(x.dtype, tuple(None for _ in x._shape))]
    for k in mult:
        if k is not None and k < 0:
            raise ValueError(f"tile: multiples must be non-negative, got {mult}")
    out = tuple(d if k == 1 else (None if d is None or k is None else d * k)
                for d, k in zip(x._shape, mult))
    return [(x.dtype, out)]


def _tile_kernel(op, ctx):
    xp = ctx.xp
    mult = constant_value(op.inputs[1])
    if mult is not None:
        reps = tuple(int(k) for k in np.ravel(mult))

        def tile_const(x, m):
            return xp.tile(x, reps)
        return tile_const

    def tile_(x, m):
        return xp.tile(x, host_ints(m))
    return tile_


def _tile_grad(op, grad):
    """Returns sum of reshape(grad, [m0, d0, m1, d1, ...]) over the multiple axes."""
    from .reduction import reduce_sum
    x, m = op.inputs
    if x._shape is None:
        raise ValueError(f"tile gradient needs the rank of {x.name} to be known")
    r = len(x._shape)
    mult = partial_value(m)
    if mult is not None and None not in mult and None not in x._shape:
        split_shape = [v for pair in zip(mult, x._shape) for v in pair]
    else:
        split_shape = reshape(stack([m, shape(x, out_type=m.dtype)], axis=1), [-1])
    summed = reduce_sum(reshape(grad, split_shape), axis=list(range(0, 2 * r, 2)))
    return [_reshape_like(summed, x), None]


register_op("Tile", infer=_tile_infer, grad=_tile_grad, kernel=_tile_kernel,
            doc="Repeats the input multiples[i] times along each axis i.")


def tile(input, multiples, name: str | None = None) -> Tensor:
    """`input` repeated `multiples[i]` times along each axis i."""
    return out1("Tile", [convert_to_tensor(input), _int_vector(multiples)], None,
                name or "Tile")


__all__ += ["tile"]


# -- PadV2 / MirrorPad / MirrorPadGrad ------------------------------------------------------
def _pad_pairs(op, x_shape, what: str, sign: int = 1):
    """Static per-dimension (before, after) pairs (ints or None) and the padded shape."""
    p = op.inputs[1]
    _check_int(p, f"{what} paddings")
    if p._shape is not None and (len(p._shape) != 2 or p._shape[1] not in (2, None)):
        raise ValueError(f"{what}: paddings must have shape [rank, 2], got "
                         f"{_shape_str(p._shape)}")
    flat = partial_value(p)
    r = len(x_shape) if x_shape is not None else (None if flat is None else len(flat) // 2)
    if r is None:
        return None, None
    if p._shape is not None and p._shape[0] is not None and p._shape[0] != r:
        raise ValueError(f"{what}: paddings of shape {_shape_str(p._shape)} do not match "
                         f"the rank of input shape {_shape_str(x_shape)}")
    flat = flat or [None] * (2 * r)
    pairs = list(zip(flat[0::2], flat[1::2]))
    if any(v is not None and v < 0 for v in flat):
        raise ValueError(f"{what}: paddings must be non-negative, got {flat}")
    dims = x_shape or (None,) * r
    out = tuple(None if d is None or a is None or b is None else d + sign * (a + b)
                for d, (a, b) in zip(dims, pairs))
    return pairs, out


def _pad_infer(op):
    x, _, c = op.inputs
    if c.dtype != x.dtype:
        raise TypeError(f"pad: constant_values dtype {c.dtype.name} does not match input "
                        f"dtype {x.dtype.name}")
    if c._shape not in (None, ()):
        raise ValueError(f"pad: constant_values must be a scalar, got shape "
                         f"{_shape_str(c._shape)}")
    _, out = _pad_pairs(op, x._shape, "pad")
    return [(x.dtype, out)]


def _pairs_of(p) -> list:
    return [(int(a), int(b)) for a, b in np.asarray(host(p)).reshape(-1, 2)]


def _pad_kernel(op, ctx):
    xp = ctx.xp
    dt = op.outputs[0].dtype.np

    const = constant_value(op.inputs[1])
    fixed = None if const is None else _pairs_of(const)

    def pad_(x, p, c):
        pairs = fixed or _pairs_of(p)
        if len(pairs) != x.ndim or min((v for pr in pairs for v in pr), default=0) < 0:
            raise ValueError(f"paddings {pairs} do not fit an input of shape {list(x.shape)}")
        out = xp.full(tuple(d + a + b for d, (a, b) in zip(x.shape, pairs)), c, dtype=dt)
        out[tuple(builtins.slice(a, a + d) for d, (a, _) in zip(x.shape, pairs))] = x
        return out
    return pad_


def _pad_grad(op, grad):
    """Returns (slice(grad, paddings[:, 0], shape(x)), None, sum(grad) - sum(grad_x))."""
    from .math import subtract
    from .reduction import reduce_sum
    from .slicing import slice
    x, p, _ = op.inputs
    pv = constant_value(p)
    if pv is not None and x._shape is not None and None not in x._shape:
        gx = slice(grad, [a for a, _ in _pairs_of(pv)], list(x._shape))
    else:
        gx = slice(grad, p[:, 0], shape(x, out_type=p.dtype))
    return [gx, None, subtract(reduce_sum(grad), reduce_sum(gx))]


register_op("PadV2", infer=_pad_infer, grad=_pad_grad, kernel=_pad_kernel,
            doc="Pads with constant_values: paddings[i] = [before, after] for dimension i.")


_MIRROR_MODES = {"REFLECT": ("reflect", 1), "SYMMETRIC": ("symmetric", 0)}


def _mirror_pad_infer(op):
    x = op.inputs[0]
    mode = op.attrs["mode"]
    pairs, out = _pad_pairs(op, x._shape, f"pad ({mode})")
    if pairs is not None and x._shape is not None:
        limit = _MIRROR_MODES[mode][1]
        for i, (d, (a, b)) in enumerate(zip(x._shape, pairs)):
            if d is not None and any(v is not None and v > d - limit for v in (a, b)):
                raise ValueError(f"pad ({mode}): paddings {a, b} of dimension {i} must be at "
                                 f"most {d - limit} for input shape {_shape_str(x._shape)}")
    return [(x.dtype, out)]


def _mirror_pad_kernel(op, ctx):
    xp = ctx.xp
    np_mode, limit = _MIRROR_MODES[op.attrs["mode"]]

    const = constant_value(op.inputs[1])
    fixed = None if const is None else _pairs_of(const)

    def mirror_pad(x, p):
        pairs = fixed or _pairs_of(p)
        if len(pairs) != x.ndim or any(not 0 <= v <= d - limit
                                       for d, pr in zip(x.shape, pairs) for v in pr):
            raise ValueError(f"paddings {pairs} do not fit {op.attrs['mode']} padding of an "
                             f"input of shape {list(x.shape)}")
        return xp.pad(x, pairs, mode=np_mode)
    return mirror_pad


def _mirror_pad_grad(op, grad):
    """Returns mirror_pad_grad(grad): each mirrored element's gradient folded back."""
    return [out1("MirrorPadGrad", [grad, op.inputs[1]], {"mode": op.attrs["mode"]},
                 "MirrorPadGrad"), None]


register_op("MirrorPad", infer=_mirror_pad_infer, grad=_mirror_pad_grad,
            kernel=_mirror_pad_kernel,
            doc="Pads by mirroring the input (attr mode REFLECT or SYMMETRIC).")


def _mirror_pad_grad_infer(op):
    g = op.inputs[0]
    _, out = _pad_pairs(op, g._shape, "MirrorPadGrad", sign=-1)
    return [(g.dtype, out)]


def _mirror_pad_grad_kernel(op, ctx):
    xp = ctx.xp
    off = _MIRROR_MODES[op.attrs["mode"]][1]

    def mirror_pad_grad(g, p):
        out = g
        for ax, (before, after) in enumerate(_pairs_of(p)):
            if not before and not after:
                continue
            n = out.shape[ax]
            d = n - before - after

            def at(a, b, ax=ax):
                return (builtins.slice(None),) * ax + (builtins.slice(a, b),)
            core = out[at(before, before + d)].copy()
            if before:
                core[at(off, off + before)] += xp.flip(out[at(0, before)], ax)
            if after:
                core[at(d - after - off, d - off)] += xp.flip(out[at(n - after, n)], ax)
            out = core
        return out if out is not g else g.copy()
    return mirror_pad_grad


def _mirror_pad_grad_grad(op, grad):
    """Returns mirror_pad(grad) (the adjoint of folding)."""
    return [out1("MirrorPad", [grad, op.inputs[1]], {"mode": op.attrs["mode"]}, "MirrorPad"),
            None]


register_op("MirrorPadGrad", infer=_mirror_pad_grad_infer, grad=_mirror_pad_grad_grad,
            kernel=_mirror_pad_grad_kernel,
            doc="Folds the gradient of a MirrorPad output back onto its input.")


def pad(tensor, paddings, mode: str = "CONSTANT", name: str | None = None,
        constant_values=0) -> Tensor:
    """`tensor` padded by paddings[i] = [before, after] along each dimension i.

    mode: "CONSTANT" (fill with `constant_values`), "REFLECT" (mirror without the edge) or
    "SYMMETRIC" (mirror with the edge), case-insensitive.
    """
    x = convert_to_tensor(tensor)
    p = convert_to_tensor(paddings) if _is_tensor_like(paddings) else _int_matrix(paddings)
    mode = mode.upper()
    if mode == "CONSTANT":
        c = convert_to_tensor(constant_values, dtype=None if isinstance(
            constant_values, Tensor) else x.dtype)
        return out1("PadV2", [x, p, c], None, name or "Pad")
    if mode not in _MIRROR_MODES:
        raise ValueError(f"pad: unknown mode {mode!r} (CONSTANT, REFLECT or SYMMETRIC)")
    return out1("MirrorPad", [x, p], {"mode": mode}, name or "MirrorPad")


def _int_matrix(rows) -> Tensor:
    """An [n, 2] int tensor from nested lists (which may hold scalar int tensors)."""
    if any(_is_tensor_like(v) for r in rows for v in (r if isinstance(r, (list, tuple))
                                                     else [r])):
        return stack([_int_vector(r) for r in rows])
    arr = np.array(rows, dtype=np.int64).reshape(-1, 2)
    return convert_to_tensor(arr.astype(np.int32))


__all__ += ["pad"]


# -- meshgrid (a composition) --------------------------------------------------------------
def meshgrid(*args, **kwargs) -> list:
    """N-D coordinate grids from N vectors: output i holds args[i] broadcast along every
    other axis. indexing='xy' (default, Cartesian: the first two axes swapped, so outputs have
    shape [len(y), len(x), ...]) or 'ij' (matrix: shape [len(x), len(y), ...]).

    Raises:
        ValueError: an unknown `indexing`.
        TypeError: an unexpected keyword argument.
    """
    from ..framework.graph import name_scope
    from .array import broadcast_to, size
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    with name_scope(name, "meshgrid", list(args)):
        xs = [reshape(convert_to_tensor(a), [-1]) for a in args]
        n = len(xs)
        axes = list(range(n))
        if indexing == "xy" and n > 1:
            axes[0], axes[1] = 1, 0
        sizes = [x._shape[0] if x._shape[0] is not None else size(x) for x in xs]
        grid = [None] * n
        for i, ax in enumerate(axes):
            grid[ax] = sizes[i]
        if any(isinstance(d, Tensor) for d in grid):
            grid = stack([convert_to_tensor(d) for d in grid])
        outs = []
        for x, ax in zip(xs, axes):
            outs.append(broadcast_to(reshape(x, [1] * ax + [-1] + [1] * (n - 1 - ax)), grid))
        return outs


__all__ += ["meshgrid"]


register_builder("stack", stack)  # convert_to_tensor of lists holding tensors
