"""GPU parity: every op case, its gradients, variables, checkpoints and training steps run under
``tf.device("/gpu:0")`` and must equal the same graph run on the CPU.

All tests are marked ``gpu`` (tests/conftest.py skips them without CuPy and a CUDA device).
The CPU reference is the same graph in a session that sees no GPU. Op cases keep their own
dtypes (mostly float64, which the GPU runs natively); tolerances are per dtype, widened to a
case's own forward tolerance. Random ops draw on the host generator seeded from the graph
seed, so they agree across devices too.

ACTORFLOW_GPU_TEST_DEVICE overrides the device under test (e.g. "/cpu:0" to dry-run this
file's logic on a machine without a GPU, calling the test functions directly).
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import actorflow as tf
from actorflow.session.devices import gpu_backend

from .op_cases import all_cases
from .test_op_registry import _build

pytestmark = pytest.mark.gpu

DEVICE = os.environ.get("ACTORFLOW_GPU_TEST_DEVICE", "/gpu:0")
CASES = all_cases()
GRAD_CASES = [c for c in CASES if c.grad]
_TOL = {"float16": (1e-2, 1e-3), "float32": (2e-4, 2e-5), "float64": (1e-7, 1e-9)}


def _cpu_config() -> tf.ConfigProto:
    return tf.ConfigProto(device_count={"GPU": 0})


def _gpu_config(soft: bool = True) -> tf.ConfigProto:
    return tf.ConfigProto(allow_soft_placement=soft)


def _run_case(case, on_gpu: bool, grads: bool):
    """Builds `case` in a fresh graph (under DEVICE when `on_gpu`) and runs its outputs, or
    the gradients of Σ w·outputs with respect to its float inputs."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(1234)
        if on_gpu:
            with tf.device(DEVICE):
                phs, outs, feed = _build(case)
                fetches = _grad_fetches(case, phs, outs) if grads else outs
        else:
            phs, outs, feed = _build(case)
            fetches = _grad_fetches(case, phs, outs) if grads else outs
        config = _gpu_config() if on_gpu else _cpu_config()
        with tf.Session(config=config) as sess:
            return sess.run(fetches, feed)


def _grad_fetches(case, phs, outs) -> list:
    idx = case.grad_inputs
    if idx is None:
        idx = tuple(i for i, v in enumerate(case.inputs) if np.asarray(v).dtype.kind == "f")
    r = np.random.default_rng(1)
    terms = []
    for o in outs:
        if not o.dtype.is_floating:
            continue
        shape = o.get_shape().as_list() if o.get_shape().is_fully_defined() else ()
        terms.append(tf.reduce_sum(o * tf.constant(r.standard_normal(shape), dtype=o.dtype)))
    grads = tf.gradients(tf.add_n(terms), [phs[i] for i in idx])
    return [g for g in grads if g is not None]


def _assert_same(got, want, case, what: str) -> None:
    assert len(got) == len(want), f"{case.id} {what}: {len(got)} outputs vs {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert isinstance(g, (np.ndarray, np.generic, bytes)), \
            f"{case.id} {what}[{k}]: fetched {type(g).__name__}, not a NumPy value"
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{case.id} {what}[{k}]: shape {g.shape} vs {w.shape}"
        assert g.dtype == w.dtype, f"{case.id} {what}[{k}]: dtype {g.dtype} vs {w.dtype}"
        if g.dtype.kind in "fc":
            rtol, atol = _TOL.get(g.dtype.name, _TOL["float32"])
            np.testing.assert_allclose(g, w, rtol=max(rtol, case.rtol), atol=max(atol, case.atol),
                                       err_msg=f"{case.id} {what}[{k}] GPU vs CPU")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{case.id} {what}[{k}] GPU vs CPU")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_forward_matches_cpu(case):
    got = _run_case(case, on_gpu=True, grads=False)
    if case.check is not None:
        case.check(got, [np.asarray(v) for v in case.inputs])
    _assert_same(got, _run_case(case, on_gpu=False, grads=False), case, "output")


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c.id for c in GRAD_CASES])
def test_gradients_match_cpu(case):
    got = _run_case(case, on_gpu=True, grads=True)
    _assert_same(got, _run_case(case, on_gpu=False, grads=True), case, "gradient")


# -- variables, checkpoints, feeds and fetches ----------------------------------------------
def test_variable_lives_on_the_gpu_and_checkpoints_round_trip(tmp_path):
    init = np.arange(12, dtype=np.float32).reshape(3, 4)
    with tf.device(DEVICE):
        v = tf.Variable(init, name="v")
        bump = tf.assign_add(v, tf.ones([3, 4]))
    saver = tf.train.Saver([v])
    with tf.Session(config=_gpu_config(soft=False)) as sess:
        sess.run(v.initializer)
        cell = sess._var_cell(v._ref().op).value
        if DEVICE.startswith("/gpu"):
            assert isinstance(cell, gpu_backend().ndarray)
        path = saver.save(sess, str(tmp_path / "model"))
        sess.run(bump)
        np.testing.assert_array_equal(sess.run(v), init + 1)
        saver.restore(sess, path)
        restored = sess.run(v)
        assert isinstance(restored, np.ndarray)
        np.testing.assert_array_equal(restored, init)
        if DEVICE.startswith("/gpu"):
            assert isinstance(sess._var_cell(v._ref().op).value, gpu_backend().ndarray)


def test_feeds_and_fetches_are_numpy_without_soft_placement():
    with tf.device(DEVICE):
        x = tf.placeholder(tf.float32, [2, 3])
        w = tf.constant(np.ones((3, 4), np.float32))
        y = tf.matmul(x, w)
        s = tf.reduce_sum(y)
    feed = np.arange(6, dtype=np.float32).reshape(2, 3)
    with tf.Session(config=_gpu_config(soft=False)) as sess:
        out_y, out_s = sess.run([y, s], {x: feed})
    assert type(out_y) is np.ndarray and out_y.dtype == np.float32
    assert isinstance(out_s, (np.ndarray, np.generic))
    np.testing.assert_array_equal(out_y, feed @ np.ones((3, 4), np.float32))
    assert float(out_s) == float((feed @ np.ones((3, 4), np.float32)).sum())


# -- training steps --------------------------------------------------------------------------
def _batch(seed: int, n: int, features: int, classes: int):
    """A seeded float32 batch in [0, 1) and its one-hot labels."""
    r = np.random.default_rng(seed)
    return (r.random((n, features), dtype=np.float32),
            np.eye(classes, dtype=np.float32)[r.integers(0, classes, n)])


def _mlp_run(device: str | None, optimizer: str, steps: int = 3):
    """Losses and final weights of `steps` steps of a small MLP (seeded) on `device`."""
    xs, ys = _batch(0, 16, 20, 5)
    graph = tf.Graph()
    with graph.as_default(), tf.device(device):
        tf.set_random_seed(7)
        x = tf.placeholder(tf.float32, [None, 20])
        y_ = tf.placeholder(tf.float32, [None, 5])
        w1 = tf.Variable(tf.truncated_normal([20, 32], stddev=0.1))
        b1 = tf.Variable(tf.zeros([32]))
        w2 = tf.Variable(tf.truncated_normal([32, 5], stddev=0.1))
        b2 = tf.Variable(tf.zeros([5]))
        h = tf.nn.relu(tf.matmul(x, w1) + b1)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_,
                                                                      logits=tf.matmul(h, w2) + b2))
        opt = (tf.train.GradientDescentOptimizer(0.5) if optimizer == "sgd"
               else tf.train.AdamOptimizer(0.01))
        train = opt.minimize(loss)
        config = _cpu_config() if device is None else _gpu_config(soft=False)
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([train, loss], {x: xs, y_: ys})[1] for _ in range(steps)]
            return losses, sess.run([w1, b1, w2, b2])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mlp_training_matches_cpu(optimizer):
    gpu_losses, gpu_w = _mlp_run(DEVICE, optimizer)
    cpu_losses, cpu_w = _mlp_run(None, optimizer)
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-5, atol=1e-6)
    assert gpu_losses[-1] < gpu_losses[0]
    for g, c in zip(gpu_w, cpu_w):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-6)


def _cnn_run(device: str | None):
    """One Adam step of the book's 5.2 MNIST CNN (batch 8, keep_prob 1): loss, gradients
    and the updated weights."""
    xs, ys = _batch(3, 8, 784, 10)
    graph = tf.Graph()
    with graph.as_default(), tf.device(device):
        tf.set_random_seed(11)
        x = tf.placeholder(tf.float32, [None, 784])
        y_ = tf.placeholder(tf.float32, [None, 10])
        keep = tf.placeholder(tf.float32)

        def weight(shape):
            return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

        def bias(shape):
            return tf.Variable(tf.constant(0.1, shape=shape))

        def conv_pool(h, w, b):
            h = tf.nn.relu(tf.nn.conv2d(h, w, strides=[1, 1, 1, 1], padding="SAME") + b)
            return tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

        params = [weight([5, 5, 1, 32]), bias([32]), weight([5, 5, 32, 64]), bias([64]),
                  weight([3136, 1024]), bias([1024]), weight([1024, 10]), bias([10])]
        h = conv_pool(tf.reshape(x, [-1, 28, 28, 1]), params[0], params[1])
        h = conv_pool(h, params[2], params[3])
        h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 64]), params[4]) + params[5])
        logits = tf.matmul(tf.nn.dropout(h, keep), params[6]) + params[7]
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=logits))
        grads = tf.gradients(loss, params)
        train = tf.train.AdamOptimizer(1e-4).minimize(loss)
        config = _cpu_config() if device is None else _gpu_config(soft=False)
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            feed = {x: xs, y_: ys, keep: 1.0}
            got = sess.run([loss] + grads, feed)
            sess.run(train, feed)
            return got, sess.run(params)


def test_book_cnn_step_matches_cpu():
    (gpu_out, gpu_w), (cpu_out, cpu_w) = _cnn_run(DEVICE), _cnn_run(None)
    for g, c in zip(gpu_out, cpu_out):
        np.testing.assert_allclose(g, c, rtol=1e-3, atol=1e-5 * max(1.0, np.abs(c).max()))
    for g, c in zip(gpu_w, cpu_w):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-6)
