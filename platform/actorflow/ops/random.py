"""Random ops and seeds. A graph-level seed (`set_random_seed`) plus an op-level seed make a
random op reproducible across sessions: each op keeps one generator per session, seeded from
the pair, as TF 1.x does.

Primitives (stateful, not differentiable; each draws from ``ctx.rng(op)``):
RandomStandardNormal, TruncatedNormal, RandomUniform, RandomUniformInt, Multinomial,
RandomShuffle, RandomOrthogonal. The TF 1.x functions scale and shift them with graph ops.
Draws come from the session's NumPy generator and are moved to the device with ``xp.asarray``.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .. import dtypes, errors
from ..framework.graph import (Tensor, constant_value, convert_to_tensor, get_default_graph,
                               name_scope)
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ..tensor_shape import TensorShape
from ._common import host_ints, out1

__all__ = ["set_random_seed", "get_seed", "op_seeds", "random_normal", "truncated_normal",
           "random_uniform", "multinomial", "random_shuffle", "random_crop", "random"]

_DEFAULT_GRAPH_SEED = 87654321


def set_random_seed(seed) -> None:
    """Sets the default graph's seed; random ops created afterwards become reproducible."""
    get_default_graph().seed = None if seed is None else int(seed)


def get_seed(op_seed):
    """The (graph seed, op seed) pair to record on a new random op (TF 1.x rules)."""
    graph = get_default_graph()
    global_seed = graph.seed
    if global_seed is not None:
        if op_seed is None:
            op_seed = graph._next_op_seed()
        return global_seed, int(op_seed)
    if op_seed is not None:
        return _DEFAULT_GRAPH_SEED, int(op_seed)
    return None, None


def op_seeds(op):
    """The seeds recorded on random op `op` (None, None when it is unseeded)."""
    return op.attrs.get("seed"), op.attrs.get("seed2")


# -- shared pieces -------------------------------------------------------------------------
def _seed_attrs(seed) -> dict:
    seed, seed2 = get_seed(seed)
    return {"seed": seed, "seed2": seed2}


def _shape_tensor(shape) -> Tensor:
    """A 1-D int32/int64 tensor from a list, tuple, TensorShape or tensor of dims.

    Raises:
        ValueError: a TensorShape or list with unknown dimensions.
        TypeError: a shape tensor that is not int32 or int64.
    """
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"Shape {shape} must be fully defined for a random op")
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and not shape:
        return convert_to_tensor(np.zeros(0, np.int32), name="shape")
    t = convert_to_tensor(shape, dtype=None if isinstance(shape, Tensor) or
                          hasattr(shape, "_as_graph_element") else dtypes.int32, name="shape")
    if t.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"A shape must be int32 or int64, got {t.dtype.name} ({t.name})")
    return t


def _shape_from_input(s: Tensor):
    """The static output shape encoded by shape tensor `s` (dims None where unknown)."""
    if s._shape is not None and len(s._shape) != 1:
        raise ValueError(f"shape must be a vector, got a tensor of shape {list(s._shape)}")
    cv = constant_value(s)
    if cv is not None:
        dims = tuple(int(d) for d in np.ravel(cv))
        if any(d < 0 for d in dims):
            raise ValueError(f"Dimensions must be non-negative, got shape {list(dims)}")
        return dims
    if s.op.type == "Shape":  # shape(x): x's partly known static shape
        return s.op.inputs[0]._shape
    if s.op.type == "Pack" and all(t._shape == () for t in s.op.inputs):
        vals = [constant_value(t) for t in s.op.inputs]
        return tuple(None if v is None else int(v) for v in vals)
    n = s._shape[0] if s._shape else None
    return None if n is None else (None,) * n


def _dims(s) -> tuple:
    return host_ints(s)


def _float_dtype(dtype, what: str):
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"{what}: expected a floating point dtype, got {dtype.name}")
    return dtype


def _sample_infer(op):
    return [(op.attrs["dtype"], _shape_from_input(op.inputs[0]))]


def _normal(rng, shape, dt) -> np.ndarray:
    if dt in (np.float32, np.float64):
        return rng.standard_normal(shape, dtype=dt)
    return rng.standard_normal(shape, dtype=np.float32).astype(dt)


def _truncated(rng, shape, dt) -> np.ndarray:
    """Standard normal draws, each beyond two standard deviations drawn again."""
    x = _normal(rng, shape, dt)
    bad = np.abs(x) > 2
    while bad.any():
        x[bad] = _normal(rng, int(bad.sum()), dt)
        bad = np.abs(x) > 2
    return x


def _uniform(rng, shape, dt) -> np.ndarray:
    if dt in (np.float32, np.float64):
        return rng.random(shape, dtype=dt)
    return rng.random(shape, dtype=np.float32).astype(dt)


def _draw_kernel(draw):
    """Kernel factory for a shape-only sampler: ``draw(rng, shape, np_dtype)``."""
    def factory(op, ctx):
        xp, rng, dt = ctx.xp, ctx.rng(op), op.outputs[0].dtype.np

        def sample(s):
            return xp.asarray(draw(rng, _dims(s), dt))
        return sample
    factory.__name__ = f"{draw.__name__.strip('_')}_kernel"
    return factory


for _type, _draw, _doc in [
        ("RandomStandardNormal", _normal, "Normal draws with mean 0 and stddev 1."),
        ("TruncatedNormal", _truncated, "Standard normal draws, redrawn beyond 2 stddev."),
        ("RandomUniform", _uniform, "Uniform draws in [0, 1).")]:
    register_op(_type, infer=_sample_infer, grad=NOT_DIFFERENTIABLE, kernel=_draw_kernel(_draw),
                stateful=True, doc=_doc)


def _scaled_sample(op_type: str, shape, loc, scale, dtype, seed, name, default_name,
                   scale_name: str):
    """``op_type(shape) * scale + loc`` under name scope `name`, the sum named like it."""
    dtype = _float_dtype(dtype, default_name)
    with name_scope(name, default_name, [shape, loc, scale]) as scope:
        shape_t = _shape_tensor(shape)
        loc_t = convert_to_tensor(loc, dtype=dtype, name="mean" if scale_name == "stddev"
                                  else "min")
        scale_t = convert_to_tensor(scale, dtype=dtype, name=scale_name)
        rnd = out1(op_type, [shape_t], {"dtype": dtype, **_seed_attrs(seed)}, op_type)
        from .math import add, multiply
        return add(multiply(rnd, scale_t), loc_t, name=scope)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None,
                  name: str | None = None) -> Tensor:
    """Samples of `shape` from a normal distribution N(mean, stddev²).

    Raises:
        ValueError: `dtype` is not a floating point type.
    """
    return _scaled_sample("RandomStandardNormal", shape, mean, stddev, dtype, seed, name,
                          "random_normal", "stddev")


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None,
                     name: str | None = None) -> Tensor:
    """Normal samples of `shape`, each more than 2 stddev from `mean` drawn again.

    Raises:
        ValueError: `dtype` is not a floating point type.
    """
    return _scaled_sample("TruncatedNormal", shape, mean, stddev, dtype, seed, name,
                          "truncated_normal", "stddev")


# -- RandomUniformInt ----------------------------------------------------------------------
def _uniform_int_infer(op):
    s, lo, hi = op.inputs
    for t, what in ((lo, "minval"), (hi, "maxval")):
        if t._shape not in (None, ()):
            raise ValueError(f"{what} must be a scalar, got shape {list(t._shape)}")
    return [(lo.dtype, _shape_from_input(s))]


def _uniform_int_kernel(op, ctx):
    xp, rng, dt = ctx.xp, ctx.rng(op), op.outputs[0].dtype.np

    def uniform_int(s, lo, hi):
        lo, hi = int(lo), int(hi)
        if lo >= hi:
            raise errors.InvalidArgumentError(None, op, f"Need minval < maxval: {lo} >= {hi}")
        return xp.asarray(rng.integers(lo, hi, size=_dims(s), dtype=dt))
    return uniform_int


register_op("RandomUniformInt", infer=_uniform_int_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_uniform_int_kernel, stateful=True,
            doc="Integers drawn uniformly from [minval, maxval).")


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None,
                   name: str | None = None) -> Tensor:
    """Samples of `shape` drawn uniformly from [minval, maxval) (maxval 1 for floats).

    Raises:
        ValueError: an integer dtype without `maxval`, or a dtype that is neither float nor
            int32/int64.
    """
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_integer:
        if dtype not in (dtypes.int32, dtypes.int64):
            raise ValueError(f"random_uniform: integer dtype must be int32 or int64, got "
                             f"{dtype.name}")
        if maxval is None:
            raise ValueError(f"Must specify maxval for integer dtype {dtype.name}")
        with name_scope(name, "random_uniform", [shape, minval, maxval]) as scope:
            inputs = [_shape_tensor(shape), convert_to_tensor(minval, dtype=dtype, name="min"),
                      convert_to_tensor(maxval, dtype=dtype, name="max")]
            return out1("RandomUniformInt", inputs, _seed_attrs(seed), scope)
    if maxval is None:
        maxval = 1
    dtype = _float_dtype(dtype, "random_uniform")
    with name_scope(name, "random_uniform", [shape, minval, maxval]) as scope:
        lo = convert_to_tensor(minval, dtype=dtype, name="min")
        hi = convert_to_tensor(maxval, dtype=dtype, name="max")
        rnd = out1("RandomUniform", [_shape_tensor(shape)], {"dtype": dtype,
                                                              **_seed_attrs(seed)},
                   "RandomUniform")
        from .math import add, multiply, subtract
        return add(multiply(rnd, subtract(hi, lo, name="sub")), lo, name=scope)


# -- Multinomial ---------------------------------------------------------------------------
def _multinomial_infer(op):
    logits, n = op.inputs
    if not logits.dtype.is_floating:
        raise TypeError(f"logits must be floating point, got {logits.dtype.name}")
    if logits._shape is not None and len(logits._shape) != 2:
        raise ValueError(f"logits must be 2-D [batch, classes], got shape "
                         f"{list(logits._shape)}")
    if n._shape not in (None, ()):
        raise ValueError(f"num_samples must be a scalar, got shape {list(n._shape)}")
    batch = None if logits._shape is None else logits._shape[0]
    cv = constant_value(n)
    return [(op.attrs["output_dtype"], (batch, None if cv is None else int(cv)))]


def _multinomial_kernel(op, ctx):
    """Inverse-CDF sampling: each row's normalised CDF is offset by its row index, so one
    `searchsorted` over the flattened CDFs serves the whole batch."""
    xp, rng, dt = ctx.xp, ctx.rng(op), op.outputs[0].dtype.np

    def multinomial_(logits, n):
        batch, classes = logits.shape
        n = int(n)
        if classes == 0:
            raise errors.InvalidArgumentError(None, op, "num_classes should be positive, "
                                              "got 0")
        x = logits.astype(np.float64)
        p = xp.exp(x - x.max(axis=1, keepdims=True))
        cdf = xp.cumsum(p, axis=1)
        rows = xp.arange(batch, dtype=np.float64)[:, None]
        cdf = cdf / cdf[:, -1:] + rows
        u = xp.asarray(rng.random((batch, n))) + rows
        u = xp.minimum(u, xp.nextafter(rows + 1.0, rows))  # keep u + row below row + 1
        idx = xp.searchsorted(cdf.ravel(), u.ravel(), side="right").reshape(batch, n)
        idx = idx - xp.arange(batch)[:, None] * classes
        return xp.clip(idx, 0, classes - 1).astype(dt)
    return multinomial_


register_op("Multinomial", infer=_multinomial_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_multinomial_kernel, stateful=True,
            doc="Class indices drawn from softmax(logits), num_samples per row.")


def multinomial(logits, num_samples, seed=None, name: str | None = None,
                output_dtype=None) -> Tensor:
    """Draws `num_samples` class indices per row of 2-D `logits` ([batch, classes]),
    with probabilities softmax(logits); returns [batch, num_samples] int64."""
    output_dtype = dtypes.as_dtype(output_dtype or dtypes.int64)
    if output_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"output_dtype must be int32 or int64, got {output_dtype.name}")
    with name_scope(name, "multinomial", [logits]):
        logits = convert_to_tensor(logits, name="logits")
        n = convert_to_tensor(num_samples, dtype=dtypes.int32, name="num_samples")
        return out1("Multinomial", [logits, n], {"output_dtype": output_dtype,
                                                 **_seed_attrs(seed)}, "Multinomial")


def categorical(logits, num_samples, dtype=None, seed=None, name: str | None = None) -> Tensor:
    """`tf.random.categorical`: `multinomial` with the output dtype called `dtype`."""
    return multinomial(logits, num_samples, seed=seed, name=name, output_dtype=dtype)


# -- RandomShuffle -------------------------------------------------------------------------
def _shuffle_kernel(op, ctx):
    xp, rng = ctx.xp, ctx.rng(op)

    def shuffle(x):
        if x.ndim == 0 or x.shape[0] <= 1:
            return x.copy()
        return x[xp.asarray(rng.permutation(x.shape[0]))]
    return shuffle


register_op("RandomShuffle", infer=lambda op: [(op.inputs[0].dtype, op.inputs[0]._shape)],
            grad=NOT_DIFFERENTIABLE, kernel=_shuffle_kernel, stateful=True,
            doc="Its input with the slices along dimension 0 in random order.")


def random_shuffle(value, seed=None, name: str | None = None) -> Tensor:
    """`value` with its slices along dimension 0 in a random order."""
    value = convert_to_tensor(value)
    return out1("RandomShuffle", [value], _seed_attrs(seed), name or "RandomShuffle")


def random_crop(value, size, seed=None, name: str | None = None) -> Tensor:
    """A random slice of `value` of shape `size` (each dim of `value` at least as large).

    Raises:
        ValueError: `size` is statically larger than `value` or of a different rank.
    """
    from .array import shape as shape_of
    from .slicing import slice as slice_
    with name_scope(name, "random_crop", [value, size]) as scope:
        value = convert_to_tensor(value, name="value")
        size = convert_to_tensor(size, dtype=dtypes.int32, name="size")
        sv, vs = constant_value(size), value._shape
        if sv is not None and vs is not None:
            if len(np.ravel(sv)) != len(vs):
                raise ValueError(f"random_crop: size {list(np.ravel(sv))} must have one entry "
                                 f"per dimension of value {list(vs)}")
            if any(d is not None and s > d for s, d in zip(np.ravel(sv), vs)):
                raise ValueError(f"random_crop: need value.shape >= size, got {list(vs)} and "
                                 f"{list(np.ravel(sv))}")
        from .math import floormod, maximum
        # an oversized crop gets offset 0, and Slice then reports the misfit at run time
        limit = maximum(shape_of(value) - size + 1, 1)
        offset = floormod(random_uniform(shape_of(limit), maxval=dtypes.int32.max,
                                         dtype=dtypes.int32, seed=seed), limit)
        return slice_(value, offset, size, name=scope)


# -- RandomOrthogonal (orthogonal_initializer) ---------------------------------------------
def _orthogonal(rng, shape, dt) -> np.ndarray:
    """A random matrix with orthonormal rows or columns, reshaped to `shape`: the Q of the QR
    decomposition of a normal matrix, column signs fixed by diag(R) (TF 1.x's recipe)."""
    if len(shape) < 2:
        raise ValueError(f"The tensor to initialize must be at least two-dimensional, got "
                         f"shape {list(shape)}")
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    flat = (cols, rows) if rows < cols else (rows, cols)
    a = rng.standard_normal(flat)
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return q.reshape(shape).astype(dt)


register_op("RandomOrthogonal", infer=_sample_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_draw_kernel(_orthogonal), stateful=True,
            doc="A random orthogonal matrix (flattened to 2-D for rank > 2), for "
                "orthogonal_initializer.")


def random_orthogonal(shape, dtype=dtypes.float32, seed=None, name: str | None = None):
    """A random tensor whose 2-D flattening [prod(shape[:-1]), shape[-1]] has orthonormal
    columns (or rows, when it is wide).

    Raises:
        ValueError: `shape` has fewer than two dimensions, or `dtype` is not floating.
    """
    dtype = _float_dtype(dtype, "orthogonal")
    shape_t = _shape_tensor(shape)
    static = _shape_from_input(shape_t)
    if static is not None and len(static) < 2:
        raise ValueError(f"The tensor to initialize must be at least two-dimensional, got "
                         f"shape {list(static)}")
    return out1("RandomOrthogonal", [shape_t], {"dtype": dtype, **_seed_attrs(seed)},
                name or "RandomOrthogonal")


random = SimpleNamespace(  # `tf.random` (TF 1.13+ spellings)
    normal=random_normal, truncated_normal=truncated_normal, uniform=random_uniform,
    shuffle=random_shuffle, crop=random_crop, categorical=categorical, multinomial=multinomial,
    set_random_seed=set_random_seed, get_seed=get_seed)
