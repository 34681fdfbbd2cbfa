"""Optimizers against NumPy implementations of TF's update formulas, over several steps, plus
slot variables, gradient plumbing, the global step and the update ops' errors."""
import numpy as np
import pytest

import actorflow as tf
from actorflow.ops import training as training_ops

from .op_cases.training import (ref_adadelta, ref_adagrad, ref_adam, ref_centered_rms_prop,
                                ref_ftrl, ref_momentum, ref_rms_prop)

STEPS = 4


def f32(*xs):
    """Hyper-parameters as the optimizers see them: Python floats become float32 tensors
    (cast to the variable's dtype), as in TF."""
    out = [float(np.float32(x)) for x in xs]
    return out if len(out) > 1 else out[0]


# -- NumPy optimizers: (init_state(value), step(value, grad, state, t) -> value) ------------
def np_sgd(lr):
    lr = f32(lr)
    return lambda x: None, lambda x, g, s, t: x - lr * g


def np_momentum(lr, mom, nesterov=False):
    lr, mom = f32(lr, mom)
    def step(x, g, s, t):
        x, s[0] = ref_momentum(x, s[0], lr, g, mom, nesterov)
        return x
    return lambda x: [np.zeros_like(x)], step


def np_adagrad(lr, init=0.1):
    lr = f32(lr)
    def step(x, g, s, t):
        x, s[0] = ref_adagrad(x, s[0], lr, g)
        return x
    return lambda x: [np.full_like(x, init)], step


def np_adadelta(lr, rho, eps):
    lr, rho, eps = f32(lr, rho, eps)
    def step(x, g, s, t):
        x, s[0], s[1] = ref_adadelta(x, s[0], s[1], lr, rho, eps, g)
        return x
    return lambda x: [np.zeros_like(x), np.zeros_like(x)], step


def np_rmsprop(lr, decay, mom, eps, centered=False):
    lr, decay, mom, eps = f32(lr, decay, mom, eps)
    def step(x, g, s, t):
        if centered:
            x, s[2], s[0], s[1] = ref_centered_rms_prop(x, s[2], s[0], s[1], lr, decay, mom,
                                                        eps, g)
        else:
            x, s[0], s[1] = ref_rms_prop(x, s[0], s[1], lr, decay, mom, eps, g)
        return x
    return lambda x: [np.ones_like(x), np.zeros_like(x), np.zeros_like(x)], step


def np_adam(lr, b1, b2, eps):
    """beta1_power / beta2_power are float32 variables multiplied by beta after each step."""
    lr, b1, b2, eps = f32(lr, b1, b2, eps)

    def step(x, g, s, t):
        x, s[0], s[1] = ref_adam(x, s[0], s[1], float(s[2]), float(s[3]), lr, b1, b2, eps, g)
        s[2], s[3] = s[2] * np.float32(b1), s[3] * np.float32(b2)
        return x
    return lambda x: [np.zeros_like(x), np.zeros_like(x), np.float32(b1), np.float32(b2)], step


def np_ftrl(lr, power=-0.5, init=0.1, l1=0.0, l2=0.0, shrink=0.0):
    lr, power, l1, l2, shrink = f32(lr, power, l1, l2, shrink)
    def step(x, g, s, t):
        x, s[0], s[1] = ref_ftrl(x, s[0], s[1], g, lr, l1, l2, power, shrink)
        return x
    return lambda x: [np.full_like(x, init), np.zeros_like(x)], step


OPTIMIZERS = {
    "sgd": (lambda: tf.train.GradientDescentOptimizer(0.1), np_sgd(0.1)),
    "momentum": (lambda: tf.train.MomentumOptimizer(0.1, 0.9), np_momentum(0.1, 0.9)),
    "nesterov": (lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
                 np_momentum(0.1, 0.9, True)),
    "adagrad": (lambda: tf.train.AdagradOptimizer(0.2), np_adagrad(0.2)),
    "adadelta": (lambda: tf.train.AdadeltaOptimizer(1.0, 0.9, 1e-6),
                 np_adadelta(1.0, 0.9, 1e-6)),
    "rmsprop": (lambda: tf.train.RMSPropOptimizer(0.01), np_rmsprop(0.01, 0.9, 0.0, 1e-10)),
    "rmsprop_momentum": (lambda: tf.train.RMSPropOptimizer(0.01, 0.8, 0.5, 1e-6),
                         np_rmsprop(0.01, 0.8, 0.5, 1e-6)),
    "rmsprop_centered": (lambda: tf.train.RMSPropOptimizer(0.01, 0.8, 0.5, 1e-6,
                                                           centered=True),
                         np_rmsprop(0.01, 0.8, 0.5, 1e-6, centered=True)),
    "adam": (lambda: tf.train.AdamOptimizer(0.05), np_adam(0.05, 0.9, 0.999, 1e-8)),
    "adam_betas": (lambda: tf.train.AdamOptimizer(0.01, 0.5, 0.9, 1e-4),
                   np_adam(0.01, 0.5, 0.9, 1e-4)),
    "ftrl": (lambda: tf.train.FtrlOptimizer(0.3), np_ftrl(0.3)),
    "ftrl_l1_l2": (lambda: tf.train.FtrlOptimizer(0.3, -0.6, 0.2, 0.05, 0.1),
                   np_ftrl(0.3, -0.6, 0.2, 0.05, 0.1)),
    "ftrl_shrinkage": (lambda: tf.train.FtrlOptimizer(
        0.3, l1_regularization_strength=0.01, l2_shrinkage_regularization_strength=0.2),
        np_ftrl(0.3, l1=0.01, shrink=0.2)),
}


def _problem(dtype, shape_w=(3, 2)):
    """loss = sum(cw * w^2) + sum(cb * b): grad_w = 2 cw w, grad_b = cb."""
    r = np.random.default_rng(0)
    w0 = r.standard_normal(shape_w).astype(dtype)
    b0 = r.standard_normal(2).astype(dtype)
    cw = r.uniform(0.5, 1.5, shape_w).astype(dtype)
    cb = r.standard_normal(2).astype(dtype)
    return w0, b0, cw, cb


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_optimizer_matches_numpy(key, dtype):
    make, (init, step) = OPTIMIZERS[key]
    w0, b0, cw, cb = _problem(dtype)
    w = tf.Variable(w0, name="w")
    b = tf.Variable(b0, name="b")
    loss = tf.reduce_sum(tf.constant(cw) * w * w) + tf.reduce_sum(tf.constant(cb) * b)
    train = make().minimize(loss)
    ws, bs = init(w0.astype(np.float64)), init(b0.astype(np.float64))
    want_w, want_b = w0.astype(np.float64), b0.astype(np.float64)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=1e-6)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t in range(1, STEPS + 1):
            sess.run(train)
            want_w = step(want_w, 2 * cw * want_w, ws, t)
            want_b = step(want_b, cb.astype(np.float64), bs, t)
            got_w, got_b = sess.run([w, b])
            assert got_w.dtype == dtype
            np.testing.assert_allclose(got_w, want_w, **tol, err_msg=f"{key} step {t}")
            np.testing.assert_allclose(got_b, want_b, **tol, err_msg=f"{key} step {t}")


@pytest.mark.parametrize("key", ["adam", "momentum", "nesterov", "adagrad", "adadelta",
                                 "rmsprop_centered", "ftrl_l1_l2", "sgd"])
def test_chunked_update_of_a_large_variable(key):
    """A variable larger than the kernels' chunk (with a ragged tail) updates exactly."""
    make, (init, step) = OPTIMIZERS[key]
    n = 2 * training_ops.CHUNK + 123
    r = np.random.default_rng(3)
    x0 = r.standard_normal(n)
    g = r.standard_normal(n)
    v = tf.Variable(x0, name="big")
    train = make().apply_gradients([(tf.constant(g), v)])
    state = init(x0)
    want = x0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t in (1, 2):
            sess.run(train)
            want = step(want, g, state, t)
        np.testing.assert_allclose(sess.run(v), want, rtol=1e-10, atol=1e-12)


# -- slots -------------------------------------------------------------------------------
def test_adam_slot_and_non_slot_variables():
    with tf.device("/cpu:0"):
        w = tf.Variable(np.ones((2, 3), np.float32), name="w")
    b = tf.Variable(np.zeros(3, np.float64), name="layer/b")
    opt = tf.train.AdamOptimizer()
    loss = tf.reduce_sum(w) + tf.cast(tf.reduce_sum(b * b), tf.float32)
    with tf.name_scope("train"):
        opt.minimize(loss)
    assert opt.get_slot_names() == ["m", "v"]
    m, v = opt.get_slot(w, "m"), opt.get_slot(w, "v")
    assert (m.name, v.name) == ("w/Adam:0", "w/Adam_1:0")
    assert opt.get_slot(b, "m").name == "layer/b/Adam:0"
    for slot, var in [(m, w), (v, w), (opt.get_slot(b, "v"), b)]:
        assert slot.get_shape().as_list() == var.get_shape().as_list()
        assert slot.dtype == var.dtype
        assert slot.device == var.device
        assert slot.op.get_attr("_class") == [f"loc:@{var.op.name}"]
    trainable = tf.trainable_variables()
    assert m not in trainable and v not in trainable
    assert m in tf.global_variables()
    names = [x.name for x in opt.variables()]
    assert names == sorted(names)
    assert {"train/beta1_power:0", "train/beta2_power:0", "w/Adam:0", "w/Adam_1:0",
            "layer/b/Adam:0", "layer/b/Adam_1:0"} == set(names)
    assert opt.get_slot(w, "nope") is None
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(m), np.zeros((2, 3), np.float32))


def test_slot_names_of_each_optimizer():
    w = tf.Variable(np.ones(3, np.float32), name="w")
    cases = [
        (tf.train.MomentumOptimizer(0.1, 0.9), {"momentum": "w/Momentum:0"}),
        (tf.train.AdagradOptimizer(0.1), {"accumulator": "w/Adagrad:0"}),
        (tf.train.AdadeltaOptimizer(), {"accum": "w/Adadelta:0",
                                        "accum_update": "w/Adadelta_1:0"}),
        (tf.train.RMSPropOptimizer(0.1, centered=True),
         {"rms": "w/RMSProp:0", "mg": "w/RMSProp_1:0", "momentum": "w/RMSProp_2:0"}),
        (tf.train.FtrlOptimizer(0.1), {"accum": "w/Ftrl:0", "linear": "w/Ftrl_1:0"}),
    ]
    for opt, want in cases:
        opt.minimize(tf.reduce_sum(w * w))
        assert {k: opt.get_slot(w, k).name for k in opt.get_slot_names()} == want
    assert tf.train.GradientDescentOptimizer(0.1).get_slot_names() == []


def test_initial_slot_values():
    w = tf.Variable(np.ones(3, np.float32), name="w")
    ada = tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.25)
    rms = tf.train.RMSPropOptimizer(0.1)
    ftrl = tf.train.FtrlOptimizer(0.1, initial_accumulator_value=0.5)
    for opt in (ada, rms, ftrl):
        opt.minimize(tf.reduce_sum(w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(ada.get_slot(w, "accumulator")), [0.25] * 3)
        np.testing.assert_array_equal(sess.run(rms.get_slot(w, "rms")), [1.0] * 3)
        np.testing.assert_array_equal(sess.run(ftrl.get_slot(w, "accum")), [0.5] * 3)


def test_two_apply_calls_share_slots():
    w = tf.Variable(np.ones(2, np.float32), name="w")
    opt = tf.train.MomentumOptimizer(0.1, 0.5)
    opt.apply_gradients([(tf.constant([1.0, 1.0]), w)])
    slot = opt.get_slot(w, "momentum")
    opt.apply_gradients([(tf.constant([2.0, 2.0]), w)])
    assert opt.get_slot(w, "momentum") is slot
    assert len(opt.variables()) == 1


# -- gradients, apply, global step -------------------------------------------------------
def test_compute_gradients_keeps_none_and_apply_skips_it():
    a = tf.Variable(2.0, name="a")
    unused = tf.Variable(5.0, name="unused")
    loss = a * a
    opt = tf.train.GradientDescentOptimizer(0.25)
    gv = opt.compute_gradients(loss)
    assert [v for _, v in gv] == [a, unused]
    assert gv[1][0] is None and gv[0][0] is not None
    train = opt.apply_gradients(gv)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(gv[0][0]) == pytest.approx(4.0)
        sess.run(train)
        assert sess.run(a) == pytest.approx(1.0)
        assert sess.run(unused) == pytest.approx(5.0)


def test_no_gradients_is_a_value_error():
    a = tf.Variable(2.0, name="a")
    b = tf.Variable(3.0, name="b")
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, a), (None, b)])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.minimize(b * 2.0, var_list=[a])
    with pytest.raises(ValueError, match="No variables provided"):
        opt.apply_gradients([])
    with pytest.raises(TypeError, match="not a tf.Variable"):
        opt.apply_gradients([(tf.constant(1.0), tf.constant(2.0))])
    with pytest.raises(ValueError, match="gate_gradients"):
        opt.compute_gradients(a * 2.0, gate_gradients=7)


def test_integer_loss_is_rejected():
    a = tf.Variable(2, name="a")
    with pytest.raises(ValueError, match="Invalid type"):
        tf.train.GradientDescentOptimizer(0.1).compute_gradients(a * 2, var_list=[a])


def test_var_list_and_resource_collection():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(1.0, name="b", trainable=False)
    tf.add_to_collection("trainable_resource_variables", b)
    opt = tf.train.GradientDescentOptimizer(0.5)
    assert [v for _, v in opt.compute_gradients(a * b)] == [a, b]
    gv = opt.compute_gradients(a * b, var_list=[b])
    assert [v for _, v in gv] == [b]


def test_global_step_increments_after_the_update():
    w = tf.Variable(1.0, name="w")
    step = tf.train.get_or_create_global_step()
    opt = tf.train.GradientDescentOptimizer(0.5)
    train = opt.minimize(w * w, global_step=step, gate_gradients=opt.GATE_GRAPH)
    assert train in tf.get_collection(tf.GraphKeys.TRAIN_OP)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(3):
            sess.run(train)
            assert tf.train.global_step(sess, step) == i + 1
        assert sess.run(w) == pytest.approx(0.0)


def test_learning_rate_as_placeholder_and_schedule():
    w = tf.Variable(0.0, name="w")
    lr = tf.placeholder(tf.float32, [])
    train = tf.train.GradientDescentOptimizer(lr).minimize(-w)
    step = tf.train.get_or_create_global_step()
    decayed = tf.train.exponential_decay(1.0, step, 1, 0.5)
    w2 = tf.Variable(0.0, name="w2")
    train2 = tf.train.GradientDescentOptimizer(decayed).minimize(-w2, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {lr: 0.5})
        sess.run(train, {lr: 2.0})
        assert sess.run(w) == pytest.approx(2.5)
        for _ in range(3):
            sess.run(train2)
        assert sess.run(w2) == pytest.approx(1.0 + 0.5 + 0.25)


def test_float64_variable_with_adam():
    w = tf.Variable(np.array([1.0, -1.0]), name="w")
    train = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(w * w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), [0.9, -0.9], rtol=1e-6)


def test_fetching_loss_with_train_op_sees_the_old_value():
    w = tf.Variable(3.0, name="w")
    loss = w * w
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, _ = sess.run([loss, train])
        assert got == pytest.approx(9.0)
        assert sess.run(w) == pytest.approx(3.0 - 0.1 * 6.0)


def test_invalid_hyper_parameters():
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="learning_rate_power"):
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        tf.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0)
    with pytest.raises(ValueError, match="optimizer name"):
        tf.train.Optimizer(False, "")


# -- the update ops themselves -----------------------------------------------------------
def test_apply_op_construction_errors():
    w = tf.Variable(np.zeros(3, np.float32), name="w")
    with pytest.raises(TypeError, match="requires a variable"):
        training_ops.apply_gradient_descent(w.value(), 0.1, np.ones(3, np.float32))
    with pytest.raises(ValueError, match="same shape"):
        training_ops.apply_gradient_descent(w, 0.1, np.ones(4, np.float32))
    with pytest.raises(ValueError, match="not a scalar"):
        training_ops.apply_gradient_descent(w, [0.1, 0.2, 0.3], np.ones(3, np.float32))
    with pytest.raises(TypeError, match="float64"):
        training_ops.apply_gradient_descent(w, 0.1, tf.constant(np.ones(3, np.float64)))


def test_apply_op_run_time_errors():
    w = tf.Variable(np.zeros(3, np.float32), name="w")
    acc = tf.Variable(np.zeros(3, np.float32), name="acc")
    g = tf.placeholder(tf.float32, None)
    upd = training_ops.apply_adagrad(w, acc, 0.1, g)
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="acc"):
            sess.run(upd, {g: np.ones(3)})
        sess.run(acc.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[3\] vs \[4\]"):
            sess.run(upd, {g: np.ones(4)})
        out = sess.run(upd, {g: np.ones(3)})
        np.testing.assert_allclose(out, [-0.1] * 3, rtol=1e-6)


def test_learning_rate_held_in_a_variable():
    """PTB-style: the learning rate is a non-trainable variable assigned between epochs."""
    lr = tf.Variable(0.0, trainable=False, name="lr")
    w = tf.Variable(0.0, name="w")
    train = tf.train.GradientDescentOptimizer(lr).minimize(-w)
    new_lr = tf.placeholder(tf.float32, [])
    set_lr = tf.assign(lr, new_lr)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        sess.run(set_lr, {new_lr: 0.5})
        sess.run(train)
        assert sess.run(w) == pytest.approx(0.5)


@pytest.mark.parametrize("key", ["adam", "momentum", "rmsprop_centered", "ftrl"])
def test_updates_are_in_place(key):
    """The variable and its slots keep their storage across steps (no reallocation)."""
    make, _ = OPTIMIZERS[key]
    w = tf.Variable(np.ones(5, np.float32), name="w")
    opt = make()
    train = opt.minimize(tf.reduce_sum(w * w))
    refs = [w] + [opt.get_slot(w, n) for n in opt.get_slot_names()]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = [sess._var_cell(v.op).value for v in refs]
        start = [b.copy() for b in before]
        sess.run(train)
        after = [sess._var_cell(v.op).value for v in refs]
    assert all(a is b for a, b in zip(after, before))
    assert not np.array_equal(after[0], start[0])


def test_minimize_var_list_may_be_a_dict_view_or_generator():
    # nlintz/TensorFlow-Tutorials 11_gan: minimize(G_obj, var_list=g_weights.values())
    weights = {"w1": tf.Variable(1.0, name="w1"), "w2": tf.Variable(2.0, name="w2")}
    other = tf.Variable(3.0, name="other")
    loss = weights["w1"] * weights["w2"] + other
    opt = tf.train.GradientDescentOptimizer(0.1)
    grads = opt.compute_gradients(loss, var_list=weights.values())
    assert [v for _, v in grads] == [weights["w1"], weights["w2"]]
    train = opt.minimize(loss, var_list=(v for v in weights.values()))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        w1, w2, o = sess.run([weights["w1"], weights["w2"], other])
    assert (w1, w2, o) == (pytest.approx(0.8), pytest.approx(1.9), 3.0)
