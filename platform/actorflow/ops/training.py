"""Optimizer update ops (TF 1.x `training_ops`): ApplyGradientDescent, ApplyMomentum,
ApplyAdagrad, ApplyAdadelta, ApplyRMSProp, ApplyCenteredRMSProp, ApplyAdam, ApplyFtrl and
ApplyFtrlV2, and their Sparse forms (SparseApplyMomentum, ..., SparseApplyFtrlV2, plus the
lazy SparseApplyAdam) that update only the rows at an index vector.

Each op takes the variable and its slot variables as *ref* inputs (the kernel updates their
session cells in place), then scalar hyper-parameters and the gradient as values, and returns
the updated variable (a view of its storage, hence ``aliases_input``).

Kernels run their update as a short sequence of in-place ufunc calls (``out=``) over one or
two scratch buffers. On the host (NumPy) the arrays are walked in chunks of `CHUNK` elements so
the scratch buffers and the chunk of every operand stay in cache between the calls; on other
array namespaces (CuPy) the whole array is one chunk.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import errors
from ..framework.graph import Tensor, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import out1
from .state import check_ref, uninitialized_error

__all__ = ["CHUNK", "apply_gradient_descent", "apply_momentum", "apply_adagrad",
           "apply_adadelta", "apply_rms_prop", "apply_centered_rms_prop", "apply_adam",
           "apply_ftrl", "apply_ftrl_v2", "sparse_apply_momentum", "sparse_apply_adagrad",
           "sparse_apply_adadelta", "sparse_apply_rms_prop", "sparse_apply_centered_rms_prop",
           "sparse_apply_adam", "sparse_apply_ftrl", "sparse_apply_ftrl_v2"]

CHUNK = 1 << 16
"""Elements per chunk of a host update (measured by benchmarks/adam_step.py)."""


@dataclass(frozen=True)
class _ApplySpec:
    """The signature of one Apply op and its update.

    Attributes:
        inputs: input names in TF order; the first `n_refs` are refs (variable, then slots).
        prepare: ``prepare(xp, dtype, attrs, *scalars) -> tuple`` turning the scalar inputs
            (in input order) into the constants `step` takes, once per run.
        step: ``step(xp, var, *slots, grad, *scratch, *consts)``: the in-place update of
            one chunk.
        n_scratch: scratch buffers `step` needs, each the chunk's size and the var's dtype.
        nesterov_step: the step (taking one more scratch buffer) used when the op's
            ``use_nesterov`` attr is set, for ops whose Nesterov form differs in shape.
    """

    type: str
    inputs: tuple
    n_refs: int
    prepare: Callable
    step: Callable
    n_scratch: int
    doc: str
    nesterov_step: Callable | None = None

    @property
    def grad_index(self) -> int:
        name = "delta" if "delta" in self.inputs else "grad"
        return self.inputs.index(name)


# -- shape rule ----------------------------------------------------------------------------
def _compatible(a, b) -> bool:
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _apply_infer(spec: _ApplySpec):
    def infer(op):
        var = op.inputs[0]
        for i, t in enumerate(op.inputs):
            what = spec.inputs[i]
            if i < spec.n_refs:
                check_ref(t, f"{spec.type} input '{what}'")
            if t.dtype != var.dtype:
                raise TypeError(f"{spec.type}: input '{what}' has dtype {t.dtype.name}, "
                                f"expected {var.dtype.name} (the variable's dtype)")
            if i < spec.n_refs or i == spec.grad_index:
                if not _compatible(var._shape, t._shape):
                    raise ValueError(f"{spec.type}: var and {what} do not have the same "
                                     f"shape: {_fmt(var._shape)} vs {_fmt(t._shape)}")
            elif t._shape is not None and len(t._shape) != 0:
                raise ValueError(f"{spec.type}: {what} is not a scalar: {_fmt(t._shape)}")
        if not var.dtype.is_floating:
            raise TypeError(f"{spec.type}: variable dtype {var.dtype.name} is not a float type")
        return [(var.dtype, var._shape)]
    return infer


def _fmt(shape) -> str:
    return "<unknown>" if shape is None else str(list(shape))


# -- kernel --------------------------------------------------------------------------------
def _apply_kernel(spec: _ApplySpec, sparse: bool = False):
    """Kernel factory: checks the operands, then runs `spec.step` in place, chunk by chunk
    over the whole variable or, for the Sparse op, over the rows at its indices."""
    op_type = ("Sparse" if sparse else "") + spec.type

    def factory(op, ctx):
        xp = ctx.xp
        ref_ops = [t.op for t in op.inputs[:spec.n_refs]]
        cells = [ctx.var_cell(o) for o in ref_ops]
        attrs = dict(op.attrs)
        prepare, step, n_scratch = spec.prepare, spec.step, spec.n_scratch
        if spec.nesterov_step is not None and attrs.get("use_nesterov", False):
            step, n_scratch = spec.nesterov_step, n_scratch + 1
        g_at = spec.grad_index - spec.n_refs
        arrays = (g_at, g_at + 1) if sparse else (g_at,)  # grad (and indices): not scalars
        names = (_sparse_inputs(spec) if sparse else spec.inputs)[spec.n_refs:]
        chunk = CHUNK if xp is np else None
        var_name = ref_ops[0].name

        def apply(*values):
            refs = [c.value for c in cells]
            for r, o in zip(refs, ref_ops):
                if r is None:
                    raise uninitialized_error(o)
            var = refs[0]
            grad = values[g_at]
            scalars = []
            for i, v in enumerate(values):
                if i in arrays:
                    continue
                if v.ndim:
                    raise errors.InvalidArgumentError(
                        None, op, f"{op_type}: {names[i]} is not a scalar: "
                        f"{list(v.shape)} (variable {var_name})")
                scalars.append(v)
            for r, o in zip(refs, ref_ops):
                if r.shape != var.shape:
                    raise errors.InvalidArgumentError(
                        None, op, f"{op_type}: var and {o.name} do not have the same shape"
                        f": {list(var.shape)} vs {list(r.shape)}")
            if sparse:
                _check_rows(op, var, grad, values[g_at + 1], var_name)
            elif grad.shape != var.shape:
                raise errors.InvalidArgumentError(
                    None, op, f"{spec.type}: var and grad do not have the same shape: "
                    f"{list(var.shape)} vs {list(grad.shape)} (variable {var_name})")
            consts = prepare(xp, var.dtype, attrs, *scalars)
            if sparse:
                _run_rows(xp, step, refs, grad, values[g_at + 1], consts, n_scratch)
            else:
                _run_chunked(xp, step, refs, grad, consts, n_scratch, chunk)
            return var
        return apply
    return factory


def _run_chunked(xp, step, refs, grad, consts, n_scratch, chunk) -> None:
    """Runs `step` over `chunk`-element slices of the flattened operands (all of them at once
    when `chunk` is None, the arrays are small, or a ref is not C-contiguous)."""
    var = refs[0]
    n = var.size
    if chunk is None or n <= chunk or not all(r.flags.c_contiguous for r in refs):
        scratch = [xp.empty(var.shape, var.dtype) for _ in range(n_scratch)]
        step(xp, *refs, grad, *scratch, *consts)
        return
    flat = [r.reshape(-1) for r in refs]
    g = grad.reshape(-1)
    scratch = [xp.empty(chunk, var.dtype) for _ in range(n_scratch)]
    for s in range(0, n, chunk):
        e = s + chunk
        if e > n:
            scratch = [t[:n - s] for t in scratch]
        step(xp, *[f[s:e] for f in flat], g[s:e], *scratch, *consts)


# -- the updates (TF's formulas, training_ops.cc) -------------------------------------------
# Each step takes its constants precomputed once per run by the spec's `prepare` (as 0-d
# arrays of the variable's dtype: complements such as 1 - rho included), so a chunk costs
# only its ufunc calls.
def _gd_step(xp, var, grad, t, alpha):
    """var -= alpha * delta."""
    xp.multiply(grad, alpha, out=t)
    xp.subtract(var, t, out=var)


def _momentum_step(xp, var, accum, grad, t, lr, momentum, nesterov):
    """accum = accum * momentum + grad; var -= lr * accum (Nesterov: lr * (grad + momentum *
    accum))."""
    xp.multiply(accum, momentum, out=accum)
    xp.add(accum, grad, out=accum)
    if nesterov:
        xp.multiply(accum, momentum, out=t)
        xp.add(t, grad, out=t)
        xp.multiply(t, lr, out=t)
    else:
        xp.multiply(accum, lr, out=t)
    xp.subtract(var, t, out=var)


def _adagrad_step(xp, var, accum, grad, t, lr, update_slots):
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""
    if update_slots:
        xp.multiply(grad, grad, out=t)
        xp.add(accum, t, out=accum)
    xp.sqrt(accum, out=t)
    xp.divide(grad, t, out=t)
    xp.multiply(t, lr, out=t)
    xp.subtract(var, t, out=var)


def _adadelta_step(xp, var, accum, accum_update, grad, t, u, lr, rho, one_minus_rho, eps):
    """accum = rho accum + (1-rho) grad^2; update = sqrt(accum_update + eps) / sqrt(accum + eps)
    * grad; accum_update = rho accum_update + (1-rho) update^2; var -= lr * update."""
    xp.multiply(accum, rho, out=accum)
    xp.multiply(grad, grad, out=t)
    xp.multiply(t, one_minus_rho, out=t)
    xp.add(accum, t, out=accum)
    xp.add(accum, eps, out=t)
    xp.sqrt(t, out=t)
    xp.add(accum_update, eps, out=u)
    xp.sqrt(u, out=u)
    xp.divide(u, t, out=u)
    xp.multiply(u, grad, out=u)
    xp.multiply(accum_update, rho, out=accum_update)
    xp.multiply(u, u, out=t)
    xp.multiply(t, one_minus_rho, out=t)
    xp.add(accum_update, t, out=accum_update)
    xp.multiply(u, lr, out=u)
    xp.subtract(var, u, out=var)


def _ms_update(xp, ms, grad, t, one_minus_rho):
    """ms += (grad^2 - ms) * (1 - rho)."""
    xp.multiply(grad, grad, out=t)
    xp.subtract(t, ms, out=t)
    xp.multiply(t, one_minus_rho, out=t)
    xp.add(ms, t, out=ms)


def _mom_update(xp, var, mom, grad, t, lr, momentum):
    """With t = the denominator's square: mom = momentum mom + lr grad / sqrt(t); var -= mom."""
    xp.sqrt(t, out=t)
    xp.divide(grad, t, out=t)
    xp.multiply(t, lr, out=t)
    xp.multiply(mom, momentum, out=mom)
    xp.add(mom, t, out=mom)
    xp.subtract(var, mom, out=var)


def _rmsprop_step(xp, var, ms, mom, grad, t, lr, one_minus_rho, momentum, eps):
    """ms = rho ms + (1-rho) grad^2; mom = momentum mom + lr grad / sqrt(ms + eps); var -= mom."""
    _ms_update(xp, ms, grad, t, one_minus_rho)
    xp.add(ms, eps, out=t)
    _mom_update(xp, var, mom, grad, t, lr, momentum)


def _centered_rmsprop_step(xp, var, mg, ms, mom, grad, t, lr, one_minus_rho, momentum, eps):
    """As RMSProp with mg = rho mg + (1-rho) grad and denominator sqrt(ms - mg^2 + eps)."""
    _ms_update(xp, ms, grad, t, one_minus_rho)
    xp.subtract(grad, mg, out=t)
    xp.multiply(t, one_minus_rho, out=t)
    xp.add(mg, t, out=mg)
    xp.multiply(mg, mg, out=t)
    xp.subtract(ms, t, out=t)
    xp.add(t, eps, out=t)
    _mom_update(xp, var, mom, grad, t, lr, momentum)


def _adam_step(xp, var, m, v, grad, t, lr_t, b1, one_minus_b1, b2, one_minus_b2, eps):
    """m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; var -= lr_t m / (sqrt(v) + eps)."""
    xp.multiply(m, b1, out=m)
    xp.multiply(grad, one_minus_b1, out=t)
    xp.add(m, t, out=m)
    xp.multiply(v, b2, out=v)
    xp.multiply(grad, grad, out=t)
    xp.multiply(t, one_minus_b2, out=t)
    xp.add(v, t, out=v)
    xp.sqrt(v, out=t)
    xp.add(t, eps, out=t)
    xp.divide(m, t, out=t)
    xp.multiply(t, lr_t, out=t)
    xp.subtract(var, t, out=var)


def _adam_nesterov_step(xp, var, m, v, grad, t, u, lr_t, b1, one_minus_b1, b2, one_minus_b2,
                        eps):
    """As Adam, with var -= lr_t (b1 m + (1-b1) g) / (sqrt(v) + eps)."""
    xp.multiply(m, b1, out=m)
    xp.multiply(grad, one_minus_b1, out=t)
    xp.add(m, t, out=m)
    xp.multiply(v, b2, out=v)
    xp.multiply(grad, grad, out=u)
    xp.multiply(u, one_minus_b2, out=u)
    xp.add(v, u, out=v)
    xp.multiply(m, b1, out=u)
    xp.add(u, t, out=u)
    xp.sqrt(v, out=t)
    xp.add(t, eps, out=t)
    xp.divide(u, t, out=t)
    xp.multiply(t, lr_t, out=t)
    xp.subtract(var, t, out=var)


def _ftrl_step(xp, var, accum, linear, grad, t, u, lr, l1, two_l2, two_shrink, lr_power):
    """new_accum = accum + g^2; linear += g' - (new_accum^-p - accum^-p) / lr * var, with
    g' = g + 2 shrink var; var = (sign(linear) l1 - linear) / (new_accum^-p / lr + 2 l2)
    where |linear| > l1, else 0; accum = new_accum."""
    def power(x, out):  # x ** -lr_power
        if lr_power == -0.5:
            xp.sqrt(x, out=out)
        else:
            xp.power(x, -lr_power, out=out)

    power(accum, u)
    xp.multiply(grad, grad, out=t)
    xp.add(accum, t, out=accum)
    power(accum, t)
    xp.subtract(t, u, out=u)
    xp.divide(u, lr, out=u)
    xp.multiply(u, var, out=u)
    xp.add(linear, grad, out=linear)
    xp.subtract(linear, u, out=linear)
    if two_shrink is not None:
        xp.multiply(var, two_shrink, out=u)
        xp.add(linear, u, out=linear)
    xp.divide(t, lr, out=t)
    xp.add(t, two_l2, out=t)
    xp.sign(linear, out=u)
    xp.multiply(u, l1, out=u)
    xp.subtract(u, linear, out=u)
    xp.divide(u, t, out=u)
    xp.abs(linear, out=t)
    xp.copyto(var, u, where=t > l1)
    xp.copyto(var, 0, where=t <= l1)


# -- prepare: scalar inputs -> step constants ------------------------------------------------
def _const(xp, dt, *xs) -> tuple:
    return tuple(xp.asarray(x, dtype=dt) for x in xs)


def _gd_prepare(xp, dt, attrs, alpha):
    return _const(xp, dt, alpha)


def _momentum_prepare(xp, dt, attrs, lr, momentum):
    return _const(xp, dt, lr, momentum) + (bool(attrs.get("use_nesterov", False)),)


def _adagrad_prepare(xp, dt, attrs, lr):
    return _const(xp, dt, lr) + (bool(attrs.get("update_slots", True)),)


def _adadelta_prepare(xp, dt, attrs, lr, rho, eps):
    return _const(xp, dt, lr, rho, 1 - rho, eps)


def _rmsprop_prepare(xp, dt, attrs, lr, rho, momentum, eps):
    return _const(xp, dt, lr, 1 - rho, momentum, eps)


def _adam_prepare(xp, dt, attrs, b1_power, b2_power, lr, b1, b2, eps):
    lr_t = lr * xp.sqrt(1 - b2_power) / (1 - b1_power)
    return _const(xp, dt, lr_t, b1, 1 - b1, b2, 1 - b2, eps)


def _ftrl_prepare(xp, dt, attrs, lr, l1, l2, lr_power):
    return _const(xp, dt, lr, l1, 2 * l2) + (None, float(lr_power))


def _ftrl_v2_prepare(xp, dt, attrs, lr, l1, l2, shrink, lr_power):
    return _const(xp, dt, lr, l1, 2 * l2, 2 * shrink) + (float(lr_power),)


SPECS = [
    _ApplySpec("ApplyGradientDescent", ("var", "alpha", "delta"), 1, _gd_prepare, _gd_step, 1,
               "var -= alpha * delta."),
    _ApplySpec("ApplyMomentum", ("var", "accum", "lr", "grad", "momentum"), 2,
               _momentum_prepare, _momentum_step, 1, _momentum_step.__doc__),
    _ApplySpec("ApplyAdagrad", ("var", "accum", "lr", "grad"), 2, _adagrad_prepare,
               _adagrad_step, 1, _adagrad_step.__doc__),
    _ApplySpec("ApplyAdadelta", ("var", "accum", "accum_update", "lr", "rho", "epsilon",
                                 "grad"), 3, _adadelta_prepare, _adadelta_step, 2,
               _adadelta_step.__doc__),
    _ApplySpec("ApplyRMSProp", ("var", "ms", "mom", "lr", "rho", "momentum", "epsilon",
                                "grad"), 3, _rmsprop_prepare, _rmsprop_step, 1,
               _rmsprop_step.__doc__),
    _ApplySpec("ApplyCenteredRMSProp", ("var", "mg", "ms", "mom", "lr", "rho", "momentum",
                                        "epsilon", "grad"), 4, _rmsprop_prepare,
               _centered_rmsprop_step, 1, _centered_rmsprop_step.__doc__),
    _ApplySpec("ApplyAdam", ("var", "m", "v", "beta1_power", "beta2_power", "lr", "beta1",
                             "beta2", "epsilon", "grad"), 3, _adam_prepare, _adam_step, 1,
               "lr_t = lr sqrt(1 - beta2_power) / (1 - beta1_power); " + _adam_step.__doc__,
               nesterov_step=_adam_nesterov_step),
    _ApplySpec("ApplyFtrl", ("var", "accum", "linear", "grad", "lr", "l1", "l2", "lr_power"),
               3, _ftrl_prepare, _ftrl_step, 2, _ftrl_step.__doc__),
    _ApplySpec("ApplyFtrlV2", ("var", "accum", "linear", "grad", "lr", "l1", "l2",
                               "l2_shrinkage", "lr_power"), 3, _ftrl_v2_prepare, _ftrl_step, 2,
               _ftrl_step.__doc__),
]

for _spec in SPECS:
    register_op(_spec.type, infer=_apply_infer(_spec), grad=NOT_DIFFERENTIABLE,
                kernel=_apply_kernel(_spec), ref_inputs=tuple(range(_spec.n_refs)),
                stateful=True, aliases_input=True, doc=_spec.doc)


# -- sparse updates: the same steps over the rows at `indices` -------------------------------
# SparseApplyX(var, slots..., hyper-parameters..., grad, indices, ...) applies ApplyX's update
# to the rows var[indices[i]] (and the same rows of each slot) with grad[i]; other rows, and
# their slots, are left alone. The kernel gathers the rows, runs the dense step on them and
# scatters them back. A row indexed twice is updated twice, in order (TF's kernels loop over
# the indices); the optimizers pass unique indices (duplicates summed first), so that happens
# only for direct calls. SparseApplyAdam has no TF counterpart: it is the row-wise ("lazy")
# Adam update of tf.contrib.opt.LazyAdamOptimizer.
def _sparse_inputs(spec: _ApplySpec) -> tuple:
    g = spec.grad_index
    return spec.inputs[:g + 1] + ("indices",) + spec.inputs[g + 1:]


def _sparse_apply_infer(spec: _ApplySpec):
    inputs = _sparse_inputs(spec)
    g, k = spec.grad_index, spec.grad_index + 1
    op_type = "Sparse" + spec.type

    def infer(op):
        var, grad = op.inputs[0], op.inputs[g]
        for i, t in enumerate(op.inputs):
            what = inputs[i]
            if i < spec.n_refs:
                check_ref(t, f"{op_type} input '{what}'")
            if i == k:
                if not t.dtype.is_integer:
                    raise TypeError(f"{op_type}: indices must be int32 or int64, got "
                                    f"{t.dtype.name}")
                if t._shape is not None and len(t._shape) != 1:
                    raise ValueError(f"{op_type}: indices must be a vector: {_fmt(t._shape)}")
                continue
            if t.dtype != var.dtype:
                raise TypeError(f"{op_type}: input '{what}' has dtype {t.dtype.name}, "
                                f"expected {var.dtype.name} (the variable's dtype)")
            if i < spec.n_refs:
                if not _compatible(var._shape, t._shape):
                    raise ValueError(f"{op_type}: var and {what} do not have the same shape: "
                                     f"{_fmt(var._shape)} vs {_fmt(t._shape)}")
            elif i != g and t._shape is not None and len(t._shape) != 0:
                raise ValueError(f"{op_type}: {what} is not a scalar: {_fmt(t._shape)}")
        rows = None if var._shape is None else (None,) + tuple(var._shape[1:])
        if grad._shape is not None and not _compatible(rows, grad._shape):
            raise ValueError(f"{op_type}: grad must be [n] + var.shape[1:] = {_fmt(rows)}, got "
                             f"{_fmt(grad._shape)}")
        if not var.dtype.is_floating:
            raise TypeError(f"{op_type}: variable dtype {var.dtype.name} is not a float type")
        return [(var.dtype, var._shape)]
    return infer


def _check_rows(op, var, grad, indices, var_name: str) -> None:
    """A Sparse op's grad is [len(indices)] + var.shape[1:] and its indices are rows of var."""
    if indices.ndim != 1 or grad.shape != indices.shape + var.shape[1:]:
        raise errors.InvalidArgumentError(
            None, op, f"{op.type}: grad {list(grad.shape)} must be [len(indices)] + "
            f"var.shape[1:] for indices {list(indices.shape)} and variable {var_name} of "
            f"shape {list(var.shape)}")
    outside = (indices < 0) | (indices >= var.shape[0])
    if indices.size and bool(outside.any()):
        raise errors.InvalidArgumentError(
            None, op, f"{op.type}: index {int(indices[outside][0])} is not in "
            f"[0, {var.shape[0]}) (variable {var_name})")


def _run_rows(xp, step, refs, grad, indices, consts, n_scratch) -> None:
    """Runs `step` on copies of the indexed rows of every ref and writes them back."""
    for at, rows_grad in _occurrence_passes(xp, indices, grad):
        rows = [r[at] for r in refs]
        scratch = [xp.empty(rows_grad.shape, refs[0].dtype) for _ in range(n_scratch)]
        step(xp, *rows, rows_grad, *scratch, *consts)
        for r, new in zip(refs, rows):
            r[at] = new


def _occurrence_passes(xp, indices, grad):
    """(rows, grad rows) to update in turn: one pass when the indices are unique; else pass k
    holds the k-th occurrence of each repeated row, so that every pass indexes a row once."""
    if indices.size < 2:
        return [(indices, grad)]
    # stable, so each row's occurrences keep their order (CuPy's argsort always is stable and
    # takes no `kind`)
    order = xp.argsort(indices, kind="stable") if xp is np else xp.argsort(indices)
    ranked = indices[order]
    new_row = ranked[1:] != ranked[:-1]
    if bool(new_row.all()):
        return [(indices, grad)]
    pos = xp.arange(indices.size)
    starts = xp.concatenate([xp.zeros(1, dtype=pos.dtype), xp.flatnonzero(new_row) + 1])
    run_start = starts[xp.cumsum(xp.concatenate([xp.zeros(1, dtype=pos.dtype),
                                                 new_row.astype(pos.dtype)]))]
    rank = pos - run_start
    passes = []
    for k in range(int(rank.max()) + 1):
        sel = order[rank == k]
        passes.append((indices[sel], grad[sel]))
    return passes


for _spec in SPECS:
    if _spec.type == "ApplyGradientDescent":
        continue  # TF's sparse SGD is scatter_sub(var, indices, lr * values)
    register_op("Sparse" + _spec.type, infer=_sparse_apply_infer(_spec),
                grad=NOT_DIFFERENTIABLE, kernel=_apply_kernel(_spec, sparse=True),
                ref_inputs=tuple(range(_spec.n_refs)), stateful=True, aliases_input=True,
                doc=f"{_spec.doc} Only the rows at indices (grad holds one row each).")



# -- graph construction --------------------------------------------------------------------
def _ref(v) -> Tensor:
    ref = v._ref() if hasattr(v, "_ref") else v
    if not isinstance(ref, Tensor):
        raise TypeError(f"Expected a variable, got {v!r}")
    return ref


def _apply(op_type: str, refs, values, attrs, name) -> Tensor:
    refs = [_ref(r) for r in refs]
    dtype = refs[0].dtype
    values = [convert_to_tensor(v) if isinstance(v, Tensor) or hasattr(v, "_as_graph_element")
              else convert_to_tensor(v, dtype=dtype) for v in values]
    return out1(op_type, refs + values, attrs, name or op_type)


def apply_gradient_descent(var, alpha, delta, use_locking=False, name=None) -> Tensor:
    """var -= alpha * delta; returns the updated variable."""
    return _apply("ApplyGradientDescent", [var], [alpha, delta],
                  {"use_locking": bool(use_locking)}, name)


def apply_momentum(var, accum, lr, grad, momentum, use_locking=False, use_nesterov=False,
                   name=None) -> Tensor:
    """accum = accum * momentum + grad; var -= lr * accum (or the Nesterov form)."""
    return _apply("ApplyMomentum", [var, accum], [lr, grad, momentum],
                  {"use_locking": bool(use_locking), "use_nesterov": bool(use_nesterov)}, name)


def apply_adagrad(var, accum, lr, grad, use_locking=False, update_slots=True,
                  name=None) -> Tensor:
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""
    return _apply("ApplyAdagrad", [var, accum], [lr, grad],
                  {"use_locking": bool(use_locking), "update_slots": bool(update_slots)},
                  name)


def apply_adadelta(var, accum, accum_update, lr, rho, epsilon, grad, use_locking=False,
                   name=None) -> Tensor:
    """The Adadelta update (Zeiler 2012) with TF's learning-rate factor."""
    return _apply("ApplyAdadelta", [var, accum, accum_update], [lr, rho, epsilon, grad],
                  {"use_locking": bool(use_locking)}, name)


def apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, use_locking=False,
                   name=None) -> Tensor:
    """ms = rho ms + (1-rho) grad^2; mom = momentum mom + lr grad / sqrt(ms + eps); var -= mom."""
    return _apply("ApplyRMSProp", [var, ms, mom], [lr, rho, momentum, epsilon, grad],
                  {"use_locking": bool(use_locking)}, name)


def apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                            use_locking=False, name=None) -> Tensor:
    """RMSProp normalised by the centred second moment ms - mg^2."""
    return _apply("ApplyCenteredRMSProp", [var, mg, ms, mom],
                  [lr, rho, momentum, epsilon, grad], {"use_locking": bool(use_locking)},
                  name)


def apply_adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
               use_locking=False, use_nesterov=False, name=None) -> Tensor:
    """The Adam update with lr_t = lr sqrt(1 - beta2_power) / (1 - beta1_power)."""
    return _apply("ApplyAdam", [var, m, v],
                  [beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad],
                  {"use_locking": bool(use_locking), "use_nesterov": bool(use_nesterov)}, name)


def apply_ftrl(var, accum, linear, grad, lr, l1, l2, lr_power, use_locking=False,
               name=None) -> Tensor:
    """The FTRL-Proximal update (McMahan et al. 2013)."""
    return _apply("ApplyFtrl", [var, accum, linear], [grad, lr, l1, l2, lr_power],
                  {"use_locking": bool(use_locking)}, name)


def apply_ftrl_v2(var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power,
                  use_locking=False, name=None) -> Tensor:
    """FTRL-Proximal with an L2 shrinkage term added to the gradient of the linear slot."""
    return _apply("ApplyFtrlV2", [var, accum, linear],
                  [grad, lr, l1, l2, l2_shrinkage, lr_power],
                  {"use_locking": bool(use_locking)}, name)


def sparse_apply_momentum(var, accum, lr, grad, indices, momentum, use_locking=False,
                          use_nesterov=False, name=None) -> Tensor:
    """ApplyMomentum on the rows var[indices] with grad (one row per index)."""
    return _apply("SparseApplyMomentum", [var, accum],
                         [lr, grad, _indices(indices), momentum],
                  {"use_locking": bool(use_locking),
                          "use_nesterov": bool(use_nesterov)}, name)


def sparse_apply_adagrad(var, accum, lr, grad, indices, use_locking=False, update_slots=True,
                         name=None) -> Tensor:
    """ApplyAdagrad on the rows var[indices] with grad (one row per index)."""
    return _apply("SparseApplyAdagrad", [var, accum], [lr, grad, _indices(indices)],
                  {"use_locking": bool(use_locking),
                          "update_slots": bool(update_slots)}, name)


def sparse_apply_adadelta(var, accum, accum_update, lr, rho, epsilon, grad, indices,
                          use_locking=False, name=None) -> Tensor:
    """ApplyAdadelta on the rows var[indices] with grad (one row per index)."""
    return _apply("SparseApplyAdadelta", [var, accum, accum_update],
                         [lr, rho, epsilon, grad, _indices(indices)],
                  {"use_locking": bool(use_locking)}, name)


def sparse_apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, indices,
                          use_locking=False, name=None) -> Tensor:
    """ApplyRMSProp on the rows var[indices] with grad (one row per index)."""
    return _apply("SparseApplyRMSProp", [var, ms, mom],
                         [lr, rho, momentum, epsilon, grad, _indices(indices)],
                  {"use_locking": bool(use_locking)}, name)


def sparse_apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                                   indices, use_locking=False, name=None) -> Tensor:
    """ApplyCenteredRMSProp on the rows var[indices] with grad (one row per index)."""
    return _apply("SparseApplyCenteredRMSProp", [var, mg, ms, mom],
                         [lr, rho, momentum, epsilon, grad, _indices(indices)],
                  {"use_locking": bool(use_locking)}, name)


def sparse_apply_adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
                      indices, use_locking=False, use_nesterov=False, name=None) -> Tensor:
    """The lazy Adam update: ApplyAdam on the rows var[indices], m[indices], v[indices] only
    (tf.contrib.opt.LazyAdamOptimizer's rule; TF has no op for it)."""
    return _apply("SparseApplyAdam", [var, m, v],
                         [beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
                          _indices(indices)],
                  {"use_locking": bool(use_locking),
                          "use_nesterov": bool(use_nesterov)}, name)


def sparse_apply_ftrl(var, accum, linear, grad, indices, lr, l1, l2, lr_power,
                      use_locking=False, name=None) -> Tensor:
    """ApplyFtrl on the rows var[indices] with grad (one row per index)."""
    return _apply("SparseApplyFtrl", [var, accum, linear],
                         [grad, _indices(indices), lr, l1, l2, lr_power],
                  {"use_locking": bool(use_locking)}, name)


def sparse_apply_ftrl_v2(var, accum, linear, grad, indices, lr, l1, l2, l2_shrinkage,
                         lr_power, use_locking=False, name=None) -> Tensor:
    """ApplyFtrlV2 on the rows var[indices] with grad (one row per index)."""
    return _apply("SparseApplyFtrlV2", [var, accum, linear],
                         [grad, _indices(indices), lr, l1, l2, l2_shrinkage, lr_power],
                  {"use_locking": bool(use_locking)}, name)


def _indices(indices) -> Tensor:
    """The index vector as a tensor of its own integer type (`_apply` would cast values to
    the variable's dtype)."""
    return indices if isinstance(indices, Tensor) else convert_to_tensor(indices, name="indices")
