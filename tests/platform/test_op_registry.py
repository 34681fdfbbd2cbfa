"""Every registered op: forward against a NumPy reference, gradient against finite
differences in float64. A registered op type without a case fails `test_every_op_has_a_case`."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf
from actorflow.framework import registry

from .op_cases import all_cases

CASES = all_cases()


def test_every_op_has_a_case():
    covered = {c.op_type for c in CASES}
    missing = sorted(set(registry.registered_op_types()) - covered)
    assert not missing, f"registered ops without an OpCase: {missing}"


def test_every_differentiable_op_has_a_gradient_check():
    checked = {c.op_type for c in CASES if c.grad}
    missing = sorted(t for t in registry.registered_op_types()
                     if registry.get_op_def(t).grad not in (registry.NOT_DIFFERENTIABLE,
                                                            registry.NO_GRADIENT)
                     and t not in checked)
    assert not missing, f"differentiable ops without a gradient check: {missing}"


def _build(case):
    phs = []
    for i, v in enumerate(case.inputs):
        v = np.asarray(v)
        phs.append(tf.placeholder(tf.as_dtype(v.dtype), v.shape, name=f"in{i}"))
    out = case.build(*phs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    feed = {p: np.asarray(v) for p, v in zip(phs, case.inputs)}
    return phs, outs, feed


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_forward(case):
    phs, outs, feed = _build(case)
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert case.op_type in types, f"case for {case.op_type} built only {sorted(types)}"
    with tf.Session() as sess:
        got = sess.run(outs, feed)
    if case.check is not None:
        case.check(got, [np.asarray(v) for v in case.inputs])
    if case.reference is not None:
        want = case.reference(*[np.asarray(v) for v in case.inputs])
        want = list(want) if isinstance(want, (list, tuple)) else [want]
        assert len(want) == len(got)
        for g, w, t in zip(got, want, outs):
            g, w = np.asarray(g), np.asarray(w)
            assert g.shape == w.shape, f"{case.id}: shape {g.shape} != reference {w.shape}"
            if t.get_shape().ndims is not None:
                static = t.get_shape().as_list()
                assert all(s is None or s == d for s, d in zip(static, g.shape)), \
                    f"{case.id}: static shape {static} disagrees with value {g.shape}"
            assert g.dtype == t.dtype.as_numpy_dtype or t.dtype == tf.string, \
                f"{case.id}: dtype {g.dtype} != declared {t.dtype}"
            if g.dtype.kind in "fc":
                np.testing.assert_allclose(g, w, atol=case.atol, rtol=case.rtol)
            else:
                np.testing.assert_array_equal(g, w)


GRAD_CASES = [c for c in CASES if c.grad]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c.id for c in GRAD_CASES])
def test_gradient(case):
    inputs = [np.asarray(v) for v in case.inputs]
    idx = case.grad_inputs
    if idx is None:
        idx = tuple(i for i, v in enumerate(inputs) if v.dtype.kind == "f")
    assert idx, f"{case.id}: no float inputs to differentiate"
    for i in idx:
        assert inputs[i].dtype == np.float64, f"{case.id}: gradient inputs must be float64"
    phs, outs, feed = _build(case)
    r = np.random.default_rng(1)
    weights = [r.standard_normal(o.get_shape().as_list() if o.get_shape().is_fully_defined()
                                 else ()) for o in outs]
    float_outs = [(o, w) for o, w in zip(outs, weights) if o.dtype.is_floating]
    loss = tf.add_n([tf.reduce_sum(o * tf.constant(w, dtype=o.dtype)) for o, w in float_outs])
    # IndexedSlices gradients (gather's) are compared as the dense tensors they stand for
    grads = [None if g is None else tf.convert_to_tensor(g)
             for g in tf.gradients(loss, [phs[i] for i in idx])]
    with tf.Session() as sess:
        sym = sess.run([g if g is not None else loss for g in grads], feed)

        def f(vals):
            fd = dict(feed)
            for i, v in zip(idx, vals):
                fd[phs[i]] = v
            return float(sess.run(loss, fd))

        eps = 1e-6
        for k, i in enumerate(idx):
            assert grads[k] is not None, f"{case.id}: no gradient for input {i}"
            x = inputs[i].copy()
            num = np.zeros_like(x)
            flat = x.reshape(-1)
            nf = num.reshape(-1)
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                hi = f([x if ii == i else inputs[ii] for ii in idx])
                flat[j] = orig - eps
                lo = f([x if ii == i else inputs[ii] for ii in idx])
                flat[j] = orig
                nf[j] = (hi - lo) / (2 * eps)
            np.testing.assert_allclose(np.asarray(sym[k]).reshape(num.shape), num,
                                       atol=case.grad_atol, rtol=case.grad_rtol,
                                       err_msg=f"{case.id}: gradient of input {i}")
