"""Cases for the optimizer update ops (ops/training.py), and the NumPy references of TF's
update formulas that tests/platform/test_optimizers.py reuses.

Each case writes the variable and its slots from the fed inputs (through control
dependencies), applies one update and returns the op's output and every ref read afterwards.
"""
import numpy as np

import actorflow as tf
from actorflow.ops import training as training_ops

from . import OpCase, randn, randu


# -- NumPy references (plain, out-of-place: independent of the in-place kernels) -------------
def ref_gradient_descent(var, alpha, delta):
    return [var - alpha * delta]


def ref_momentum(var, accum, lr, grad, momentum, use_nesterov=False):
    accum = accum * momentum + grad
    if use_nesterov:
        var = var - (grad * lr + accum * momentum * lr)
    else:
        var = var - lr * accum
    return [var, accum]


def ref_adagrad(var, accum, lr, grad):
    accum = accum + grad * grad
    return [var - lr * grad / np.sqrt(accum), accum]


def ref_adadelta(var, accum, accum_update, lr, rho, eps, grad):
    accum = rho * accum + (1 - rho) * grad ** 2
    update = np.sqrt(accum_update + eps) / np.sqrt(accum + eps) * grad
    accum_update = rho * accum_update + (1 - rho) * update ** 2
    return [var - lr * update, accum, accum_update]


def ref_rms_prop(var, ms, mom, lr, rho, momentum, eps, grad):
    ms = rho * ms + (1 - rho) * grad ** 2
    mom = momentum * mom + lr * grad / np.sqrt(ms + eps)
    return [var - mom, ms, mom]


def ref_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, eps, grad):
    mg = rho * mg + (1 - rho) * grad
    ms = rho * ms + (1 - rho) * grad ** 2
    mom = momentum * mom + lr * grad / np.sqrt(ms - mg ** 2 + eps)
    return [var - mom, mg, ms, mom]


def ref_adam(var, m, v, b1p, b2p, lr, b1, b2, eps, grad, use_nesterov=False):
    lr_t = lr * np.sqrt(1 - b2p) / (1 - b1p)
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad ** 2
    step = (b1 * m + (1 - b1) * grad) if use_nesterov else m
    return [var - lr_t * step / (np.sqrt(v) + eps), m, v]


def ref_ftrl(var, accum, linear, grad, lr, l1, l2, lr_power, shrinkage=0.0):
    new_accum = accum + grad ** 2
    g = grad + 2 * shrinkage * var
    sigma = (new_accum ** -lr_power - accum ** -lr_power) / lr
    linear = linear + g - sigma * var
    quadratic = new_accum ** -lr_power / lr + 2 * l2
    pre = (np.sign(linear) * l1 - linear) / quadratic
    var = np.where(np.abs(linear) > l1, pre, 0.0)
    return [var, new_accum, linear]


# -- case builder ------------------------------------------------------------------------------
def _case(op_type, fn, n_refs, inputs, reference, name="", **attrs):
    """A case feeding var and slots through `tf.assign` and the rest directly to `fn`."""
    def build(*phs):
        refs = []
        writes = []
        for i in range(n_refs):
            v = tf.Variable(tf.zeros(phs[i].get_shape(), dtype=phs[i].dtype), name=f"r{i}")
            refs.append(v)
            writes.append(tf.assign(v, phs[i]))
        with tf.control_dependencies(writes):
            out = fn(*refs, *phs[n_refs:], **attrs)
        with tf.control_dependencies([out]):
            after = [r.read_value() for r in refs]
        return [out] + after

    def ref(*xs):
        new = reference(*xs, **attrs)
        return [new[0]] + list(new)
    return OpCase(op_type, build, inputs, reference=ref, grad=False, name=name,
                  atol=1e-10, rtol=1e-10)


def _s(x):
    return np.float64(x)


V = randn(2, 3)
G = randn(2, 3, seed=1)
POS = randu(2, 3, seed=2)
POS2 = randu(2, 3, seed=3)
M = randn(2, 3, seed=4)
MG = 0.1 * randn(2, 3, seed=5)

CASES = [
    _case("ApplyGradientDescent", training_ops.apply_gradient_descent, 1, [V, _s(0.1), G],
          ref_gradient_descent),
    _case("ApplyMomentum", training_ops.apply_momentum, 2, [V, M, _s(0.1), G, _s(0.9)],
          ref_momentum),
    _case("ApplyMomentum", training_ops.apply_momentum, 2, [V, M, _s(0.1), G, _s(0.9)],
          ref_momentum, name="nesterov", use_nesterov=True),
    _case("ApplyAdagrad", training_ops.apply_adagrad, 2, [V, POS, _s(0.1), G], ref_adagrad),
    _case("ApplyAdadelta", training_ops.apply_adadelta, 3,
          [V, POS, POS2, _s(0.5), _s(0.95), _s(1e-6), G], ref_adadelta),
    _case("ApplyRMSProp", training_ops.apply_rms_prop, 3,
          [V, POS, M, _s(0.01), _s(0.9), _s(0.5), _s(1e-10), G], ref_rms_prop),
    _case("ApplyCenteredRMSProp", training_ops.apply_centered_rms_prop, 4,
          [V, MG, POS, M, _s(0.01), _s(0.9), _s(0.5), _s(1e-10), G], ref_centered_rms_prop),
    _case("ApplyAdam", training_ops.apply_adam, 3,
          [V, M, POS, _s(0.9 ** 3), _s(0.999 ** 3), _s(0.01), _s(0.9), _s(0.999), _s(1e-8), G],
          ref_adam),
    _case("ApplyAdam", training_ops.apply_adam, 3,
          [V, M, POS, _s(0.9 ** 3), _s(0.999 ** 3), _s(0.01), _s(0.9), _s(0.999), _s(1e-8), G],
          ref_adam, name="nesterov", use_nesterov=True),
    _case("ApplyFtrl", training_ops.apply_ftrl, 3,
          [V, POS, M, G, _s(0.5), _s(0.3), _s(0.1), _s(-0.5)], ref_ftrl),
    _case("ApplyFtrl", training_ops.apply_ftrl, 3,
          [V, POS, M, G, _s(0.5), _s(0.3), _s(0.1), _s(-0.7)], ref_ftrl, name="power"),
    _case("ApplyFtrlV2", training_ops.apply_ftrl_v2, 3,
          [V, POS, M, G, _s(0.5), _s(0.3), _s(0.1), _s(0.2), _s(-0.5)],
          lambda var, acc, lin, g, lr, l1, l2, sh, p: ref_ftrl(var, acc, lin, g, lr, l1, l2,
                                                                p, sh)),
]


# -- sparse updates: the dense reference applied row by row, in index order -------------------
def _sparse_case(op_type, fn, n_refs, inputs, reference, name="", **attrs):
    """A case of a SparseApply op: `inputs` hold the grad rows, then the indices, where the
    dense op has its grad. The reference updates each indexed row in turn, so a repeated
    index is updated twice."""
    g = next(i for i, x in enumerate(inputs) if isinstance(x, np.ndarray) and
             x.dtype.kind == "i") - 1

    def rowwise(*xs, **kw):
        refs = [np.array(x, copy=True) for x in xs[:n_refs]]
        grad, indices = xs[g], xs[g + 1]
        rest = xs[n_refs:g] + xs[g + 2:]
        for k, row in enumerate(indices):
            args = [r[row] for r in refs] + list(rest[:g - n_refs]) + [grad[k]] + \
                list(rest[g - n_refs:])
            for r, new in zip(refs, reference(*args, **kw)):
                r[row] = new
        return refs
    return _case(op_type, fn, n_refs, inputs, rowwise, name=name, **attrs)


SV = randn(4, 3, seed=6)
SM = randn(4, 3, seed=7)
SPOS = randu(4, 3, seed=8)
SPOS2 = randu(4, 3, seed=9)
SMG = 0.1 * randn(4, 3, seed=10)
SG = randn(3, 3, seed=11)
ROWS = np.array([3, 1, 3], np.int32)  # row 3 twice: updated twice, in order

CASES += [
    _sparse_case("SparseApplyMomentum", training_ops.sparse_apply_momentum, 2,
                 [SV, SM, _s(0.1), SG, ROWS, _s(0.9)], ref_momentum),
    _sparse_case("SparseApplyAdagrad", training_ops.sparse_apply_adagrad, 2,
                 [SV, SPOS, _s(0.1), SG, ROWS], ref_adagrad),
    _sparse_case("SparseApplyAdadelta", training_ops.sparse_apply_adadelta, 3,
                 [SV, SPOS, SPOS2, _s(0.5), _s(0.95), _s(1e-6), SG, ROWS], ref_adadelta),
    _sparse_case("SparseApplyRMSProp", training_ops.sparse_apply_rms_prop, 3,
                 [SV, SPOS, SM, _s(0.01), _s(0.9), _s(0.5), _s(1e-10), SG, ROWS],
                 ref_rms_prop),
    _sparse_case("SparseApplyCenteredRMSProp", training_ops.sparse_apply_centered_rms_prop,
                 4, [SV, SMG, SPOS, SM, _s(0.01), _s(0.9), _s(0.5), _s(1e-10), SG, ROWS],
                 ref_centered_rms_prop),
    _sparse_case("SparseApplyAdam", training_ops.sparse_apply_adam, 3,
                 [SV, SM, SPOS, _s(0.9 ** 3), _s(0.999 ** 3), _s(0.01), _s(0.9), _s(0.999),
                  _s(1e-8), SG, ROWS], ref_adam),
    _sparse_case("SparseApplyFtrl", training_ops.sparse_apply_ftrl, 3,
                 [SV, SPOS, SM, SG, ROWS, _s(0.5), _s(0.3), _s(0.1), _s(-0.5)], ref_ftrl),
    _sparse_case("SparseApplyFtrlV2", training_ops.sparse_apply_ftrl_v2, 3,
                 [SV, SPOS, SM, SG, ROWS, _s(0.5), _s(0.3), _s(0.1), _s(0.2), _s(-0.5)],
                 lambda var, acc, lin, g, lr, l1, l2, sh, p: ref_ftrl(var, acc, lin, g, lr, l1,
                                                                       l2, p, sh)),
]

