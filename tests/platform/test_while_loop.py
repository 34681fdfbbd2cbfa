"""tf.while_loop (ops/control_flow.py): structures, maximum_iterations, shape invariants,
nesting, side effects, gradients against finite differences, training through a loop."""
import collections

import numpy as np
import pytest

import actorflow as tf


def test_counter_loop_returns_single_tensor_or_structure():
    i = tf.constant(0)
    r = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [i])
    assert isinstance(r, tf.Tensor)
    same = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [i], return_same_structure=True)
    assert isinstance(same, list) and len(same) == 1
    with tf.Session() as sess:
        assert sess.run(r) == 10 and sess.run(same) == [10]


def test_nested_namedtuple_loop_vars():
    State = collections.namedtuple("State", "step acc")
    x = tf.placeholder(tf.float32, [2])

    def body(s, extra):
        return State(s.step + 1, s.acc + x), {"n": extra["n"] * 2}
    out = tf.while_loop(lambda s, e: s.step < 3, body,
                        (State(tf.constant(0), tf.zeros([2])), {"n": tf.constant(1)}))
    assert isinstance(out[0], State) and set(out[1]) == {"n"}
    with tf.Session() as sess:
        got = sess.run(out, {x: [1.0, 2.0]})
    assert got[0].step == 3 and got[1]["n"] == 8
    np.testing.assert_allclose(got[0].acc, [3, 6])


def test_maximum_iterations_bounds_the_loop():
    n = tf.placeholder(tf.int32, [])
    r = tf.while_loop(lambda i: i < 100, lambda i: i + 1, [tf.constant(0)],
                      maximum_iterations=n)
    with tf.Session() as sess:
        assert sess.run(r, {n: 7}) == 7
        assert sess.run(r, {n: 1000}) == 100


def test_shape_invariants():
    x = tf.ones([1, 2])
    with pytest.raises(ValueError, match=r"Input tensor 'ones.*enters the loop with shape "
                       r"\(1, 2\), but has shape \(2, 2\) after one iteration"):
        tf.while_loop(lambda a: tf.shape(a)[0] < 8, lambda a: tf.concat([a, a], 0), [x])
    r = tf.while_loop(lambda a: tf.shape(a)[0] < 8, lambda a: tf.concat([a, a], 0), [x],
                      shape_invariants=[tf.TensorShape([None, 2])])
    assert r.get_shape().as_list() == [None, 2]
    with pytest.raises(ValueError, match="not compatible with the initial shape"):
        tf.while_loop(lambda a: True, lambda a: a, [x],
                      shape_invariants=[tf.TensorShape([3, 2])])
    with tf.Session() as sess:
        assert sess.run(r).shape == (8, 2)


def test_loop_errors():
    with pytest.raises(TypeError, match="cond must be callable"):
        tf.while_loop(1, lambda i: i, [tf.constant(0)])
    with pytest.raises(ValueError, match="No loop variables"):
        tf.while_loop(lambda: True, lambda: (), [])
    with pytest.raises(TypeError, match="type int32, but has type float32"):
        tf.while_loop(lambda i: i < 3, lambda i: tf.cast(i, tf.float32), [tf.constant(0)])
    with pytest.raises(ValueError, match="structure"):
        tf.while_loop(lambda i, j: i < 3, lambda i, j: i, [tf.constant(0), tf.constant(1)])


def test_nested_loops():
    def outer_body(i, total):
        inner = tf.while_loop(lambda j, s: j < i, lambda j, s: (j + 1, s + j),
                              [tf.constant(0), tf.constant(0)])[1]
        return i + 1, total + inner
    r = tf.while_loop(lambda i, t: i < 5, outer_body, [tf.constant(0), tf.constant(0)])[1]
    with tf.Session() as sess:
        assert sess.run(r) == sum(sum(range(i)) for i in range(5))


def test_assign_in_loop_body_runs_each_iteration():
    v = tf.Variable(0.0)
    def body(i):
        with tf.control_dependencies([tf.assign_add(v, 1.0)]):
            return i + 1
    r = tf.while_loop(lambda i: i < 4, body, [tf.constant(0)])
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(r)
        assert sess.run(v) == 4.0


def test_gradient_of_x_to_the_n_and_of_captured_variable():
    x = tf.placeholder(tf.float64, [])
    n = tf.placeholder(tf.int32, [])
    w = tf.Variable(1.5, dtype=tf.float64)
    _, p = tf.while_loop(lambda i, p: i < n, lambda i, p: (i + 1, p * x * w),
                         [tf.constant(0), tf.constant(1.0, tf.float64)])
    gx, gw = tf.gradients(p, [x, w])
    with tf.Session() as sess:
        sess.run(w.initializer)
        for xv, nv in ((1.3, 5), (0.7, 1), (2.0, 0)):
            got = sess.run([p, gx, gw], {x: xv, n: nv})
            np.testing.assert_allclose(got[0], (xv * 1.5) ** nv)
            np.testing.assert_allclose(got[1], nv * xv ** (nv - 1) * 1.5 ** nv if nv else 0)
            np.testing.assert_allclose(got[2], nv * 1.5 ** (nv - 1) * xv ** nv if nv else 0)


def test_gradient_matches_finite_differences_for_vector_loop():
    x0 = np.array([0.2, -0.5, 0.9])
    a = tf.placeholder(tf.float64, [3])
    m = tf.placeholder(tf.float64, [3, 3])

    def body(i, h):
        return i + 1, tf.tanh(tf.reshape(tf.matmul(tf.reshape(h, [1, 3]), m), [3]) + a)
    _, h = tf.while_loop(lambda i, h: i < 4, body, [tf.constant(0), a * 0.5])
    loss = tf.reduce_sum(h * np.array([1.0, -2.0, 0.5]))
    ga, gm = tf.gradients(loss, [a, m])
    mv = np.random.default_rng(0).standard_normal((3, 3)) * 0.5

    def f(av, mvv):
        hh = av * 0.5
        for _ in range(4):
            hh = np.tanh(hh @ mvv + av)
        return float(np.sum(hh * np.array([1.0, -2.0, 0.5])))
    with tf.Session() as sess:
        got_a, got_m = sess.run([ga, gm], {a: x0, m: mv})
    eps = 1e-6
    num_a = np.array([(f(x0 + eps * e, mv) - f(x0 - eps * e, mv)) / (2 * eps)
                      for e in np.eye(3)])
    num_m = np.zeros((3, 3))
    for idx in np.ndindex(3, 3):
        d = np.zeros((3, 3))
        d[idx] = eps
        num_m[idx] = (f(x0, mv + d) - f(x0, mv - d)) / (2 * eps)
    np.testing.assert_allclose(got_a, num_a, atol=1e-6)
    np.testing.assert_allclose(got_m, num_m, atol=1e-6)


def test_gradient_through_cond_inside_loop():
    x = tf.placeholder(tf.float64, [])

    def body(i, y):
        return i + 1, tf.cond(tf.equal(i % 2, 0), lambda: y * x, lambda: y + x)
    _, y = tf.while_loop(lambda i, y: i < 4, body, [tf.constant(0), tf.constant(1.0, tf.float64)])
    g, = tf.gradients(y, x)
    f = lambda v: ((1 * v + v) * v + v)  # noqa: E731 - i=0: *x, 1: +x, 2: *x, 3: +x
    with tf.Session() as sess:
        got = sess.run([y, g], {x: 1.7})
    np.testing.assert_allclose(got[0], f(1.7))
    np.testing.assert_allclose(got[1], (f(1.7 + 1e-6) - f(1.7 - 1e-6)) / 2e-6, rtol=1e-6)


def test_back_prop_false_is_not_differentiable():
    x = tf.placeholder(tf.float64, [])
    r = tf.while_loop(lambda i, p: i < 3, lambda i, p: (i + 1, p * x),
                      [tf.constant(0), tf.constant(1.0, tf.float64)], back_prop=False)[1]
    assert tf.gradients(r, x) == [None]
    with tf.Session() as sess:
        assert sess.run(r, {x: 2.0}) == 8.0


def test_optimizer_trains_a_model_using_cond_and_while_loop():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((64, 2))
    ys = xs @ np.array([1.5, -2.0]) + 0.5
    x = tf.placeholder(tf.float64, [None, 2])
    y = tf.placeholder(tf.float64, [None])
    training = tf.placeholder_with_default(True, [])
    w = tf.Variable(np.zeros(2))
    b = tf.Variable(0.0, dtype=tf.float64)
    # the prediction is built by a loop adding x*w/4 four times, then a cond adding b
    _, pred = tf.while_loop(lambda i, acc: i < 4,
                            lambda i, acc: (i + 1, acc + tf.reduce_sum(x * w, 1) / 4.0),
                            [tf.constant(0), tf.zeros_like(y)])
    pred = tf.cond(training, lambda: pred + b, lambda: pred + b * 1.0)
    loss = tf.reduce_mean(tf.square(pred - y))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: xs, y: ys})
        for _ in range(200):
            sess.run(train, {x: xs, y: ys})
        last = sess.run(loss, {x: xs, y: ys})
        np.testing.assert_allclose(sess.run(w), [1.5, -2.0], atol=1e-3)
    assert last < first * 1e-4


def test_gradient_of_nested_loops_and_of_a_loop_inside_cond():
    x = tf.placeholder(tf.float64, [])

    def outer(i, a):
        _, b = tf.while_loop(lambda j, b: j < 2, lambda j, b: (j + 1, b * x),
                             [tf.constant(0), a])
        return i + 1, b
    _, r = tf.while_loop(lambda i, a: i < 3, outer,
                         [tf.constant(0), tf.constant(1.0, tf.float64)])
    p = tf.placeholder(tf.bool, [])
    c = tf.cond(p, lambda: tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x),
                                         [tf.constant(0), x])[1],
                lambda: x * 2.0)
    g, gc = tf.gradients(r, x)[0], tf.gradients(c, x)[0]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run([r, g], {x: 1.5}), [1.5 ** 6, 6 * 1.5 ** 5])
        np.testing.assert_allclose(sess.run([c, gc], {x: 1.5, p: True}),
                                   [1.5 ** 4, 4 * 1.5 ** 3])
        np.testing.assert_allclose(sess.run([c, gc], {x: 1.5, p: False}), [3.0, 2.0])


def test_variables_made_in_a_body_are_outer_and_regularized_outside():
    x = tf.placeholder(tf.float32, [2, None, 2])
    with tf.variable_scope("s", regularizer=lambda w: tf.reduce_sum(w * w)):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(3), x, dtype=tf.float32)
    graph = tf.get_default_graph()
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert names == ["s/rnn/basic_rnn_cell/bias", "s/rnn/basic_rnn_cell/kernel"]
    losses = tf.losses.get_regularization_losses()
    assert len(losses) == 2 and all(t.graph is graph for t in losses)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel = sess.run([v for v in tf.trainable_variables() if "kernel" in v.name][0])
        np.testing.assert_allclose(sess.run(tf.losses.get_regularization_loss()),
                                   np.sum(kernel * kernel), rtol=1e-5)


def test_namedtuple_loop_vars_are_passed_as_positional_args():
    S = collections.namedtuple("S", "a b")
    r = tf.while_loop(lambda a, b: a < 3, lambda a, b: S(a + 1, b * 2),
                      S(tf.constant(0), tf.constant(1)))
    assert isinstance(r, S)
    with tf.Session() as sess:
        assert sess.run(r) == S(3, 8)


def test_random_draws_in_a_body_are_reused_by_the_gradient():
    x = tf.placeholder(tf.float64, [300])

    def body(i, a):
        mask = tf.cast(tf.random_uniform([300], seed=2) < 0.7, tf.float64) + 0.5
        return i + 1, a * mask
    _, y = tf.while_loop(lambda i, a: i < 3, body, [tf.constant(0), x])
    g, = tf.gradients(tf.reduce_sum(y), x)
    xv = np.random.default_rng(0).uniform(1.0, 2.0, 300)
    with tf.Session() as sess:
        out, grad = sess.run([y, g], {x: xv})
    np.testing.assert_allclose(grad, out / xv)  # the product of this run's three masks
    assert len(np.unique(np.round(grad, 6))) > 1


def test_second_order_gradient_through_a_loop_is_refused_not_silently_zero():
    x = tf.constant(1.5, tf.float64)
    _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x])
    (dy,) = tf.gradients(y, [x])
    with pytest.raises(LookupError, match="No gradient defined for operation .*WhileGrad"):
        tf.gradients(dy, [x])
