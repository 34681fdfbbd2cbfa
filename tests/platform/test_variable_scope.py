"""variable_scope / get_variable: naming, sharing rules, defaults, regularizers, getters."""
import numpy as np
import pytest

import actorflow as tf


def _init_and_run(fetches):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches)


# -- naming ----------------------------------------------------------------------------------
def test_variable_named_by_variable_scope_not_name_scope():
    with tf.name_scope("outer_ns"):
        with tf.variable_scope("tower"):
            with tf.variable_scope("conv1"):
                w = tf.get_variable("weights", [3, 3, 2, 4])
                c = tf.constant(1.0)
    assert w.name == "tower/conv1/weights:0"
    assert w.op.name == "tower/conv1/weights"
    assert w.initializer.name.startswith("tower/conv1/weights/")
    assert w.value().name == "tower/conv1/weights/read:0"
    assert c.name == "outer_ns/tower/conv1/Const:0"
    assert w.get_shape().as_list() == [3, 3, 2, 4]


def test_initializer_ops_live_under_the_variable_name():
    with tf.variable_scope("s"):
        tf.get_variable("v", [2, 3])
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert "s/v" in names
    assert all(n.startswith("s/v") for n in names), names
    assert any(n.startswith("s/v/Initializer/") for n in names), names


def test_variable_scope_opens_name_scope_and_reentry_by_object():
    with tf.variable_scope("foo") as scope:
        a = tf.constant(1.0)
    assert scope.name == "foo"
    assert scope.original_name_scope == "foo/"
    assert a.name == "foo/Const:0"
    with tf.variable_scope(scope):
        b = tf.constant(1.0)
        v = tf.get_variable("v", [1])
        assert tf.get_variable_scope().original_name_scope == "foo/"
    # the variable scope name is reused; the name scope is opened anew (TF 1.x)
    assert v.name == "foo/v:0"
    assert b.name == "foo_1/Const:0"
    with tf.name_scope(scope.original_name_scope):
        c = tf.constant(1.0)
    assert c.name == "foo/Const_1:0"


def test_reentering_scope_object_inside_another_scope_keeps_its_name():
    with tf.variable_scope("a") as a_scope:
        pass
    with tf.variable_scope("b"):
        with tf.variable_scope(a_scope):
            v = tf.get_variable("v", [1])
            assert tf.get_variable_scope().name == "a"
    assert v.name == "a/v:0"


def test_default_name_is_made_unique():
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="fc"):
            names.append(tf.get_variable_scope().name)
            tf.get_variable("w", [2])
    assert names == ["fc", "fc_1", "fc_2"]
    with tf.variable_scope("fc_3"):
        pass
    with tf.variable_scope(None, default_name="fc"):
        assert tf.get_variable_scope().name == "fc_4"


def test_default_names_restart_inside_each_reentered_parent():
    seen = []
    for reuse in (None, True):
        with tf.variable_scope("net", reuse=reuse):
            with tf.variable_scope(None, default_name="dense"):
                seen.append(tf.get_variable("w", [2]))
    assert seen[0] is seen[1]
    assert seen[0].name == "net/dense/w:0"


def test_values_selects_the_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(1.0)
    with tf.variable_scope("s", values=[x]):
        v = tf.get_variable("v", [2])
        assert tf.get_default_graph() is g
    assert v.graph is g
    assert tf.get_default_graph() is not g


def test_auxiliary_name_scope_false_keeps_current_name_scope():
    with tf.name_scope("ns"):
        with tf.variable_scope("vs", auxiliary_name_scope=False) as scope:
            c = tf.constant(1.0)
            v = tf.get_variable("v", [1])
    assert c.name == "ns/Const:0"
    assert v.name == "vs/v:0"
    assert scope.original_name_scope == "ns/"


# -- sharing ---------------------------------------------------------------------------------
def test_reuse_true_returns_same_variable():
    with tf.variable_scope("model"):
        w = tf.get_variable("w", [2, 2])
    with tf.variable_scope("model", reuse=True):
        assert tf.get_variable("w", [2, 2]) is w
        assert tf.get_variable("w") is w  # shape may be left out
        assert tf.get_variable_scope().reuse is True


def test_reuse_variables_method_and_inheritance():
    with tf.variable_scope("m") as scope:
        w = tf.get_variable("w", [3])
        with tf.variable_scope("inner"):
            u = tf.get_variable("u", [3])
        scope.reuse_variables()
        assert tf.get_variable("w", [3]) is w
        # reuse is inherited and reuse=False cannot switch it off in a sub-scope
        with tf.variable_scope("inner", reuse=False):
            assert tf.get_variable_scope().reuse is True
            assert tf.get_variable("u", [3]) is u
    assert tf.get_variable_scope().reuse is False


def test_existing_variable_without_reuse_raises():
    with tf.variable_scope("x"):
        tf.get_variable("v", [1])
    with pytest.raises(ValueError, match=r"Variable x/v already exists, disallowed\. "
                                         r"Did you mean to set reuse=True"):
        with tf.variable_scope("x"):
            tf.get_variable("v", [1])


def test_missing_variable_with_reuse_raises():
    with pytest.raises(ValueError, match=r"Variable y/nope does not exist, or was not created "
                                         r"with tf.get_variable\(\)\. Did you mean to set "
                                         r"reuse=None"):
        with tf.variable_scope("y", reuse=True):
            tf.get_variable("nope", [1])


def test_variable_from_tf_variable_is_not_in_store():
    with tf.variable_scope("z"):
        tf.Variable(1.0, name="v")
    with pytest.raises(ValueError, match="does not exist"):
        with tf.variable_scope("z", reuse=True):
            tf.get_variable("v", [])


def test_shape_and_dtype_mismatch_on_reuse_raise():
    with tf.variable_scope("s"):
        tf.get_variable("v", [2, 3])
    with tf.variable_scope("s", reuse=True):
        with pytest.raises(ValueError, match=r"Trying to share variable s/v, but specified "
                                             r"shape \(3, 2\) and found shape \(2, 3\)"):
            tf.get_variable("v", [3, 2])
        with pytest.raises(ValueError, match="specified dtype float64 and found dtype "
                                             "float32"):
            tf.get_variable("v", [2, 3], dtype=tf.float64)


def test_auto_reuse_creates_then_shares():
    def net():
        with tf.variable_scope("net", reuse=tf.AUTO_REUSE):
            return tf.get_variable("w", [4])
    a, b = net(), net()
    assert a is b
    assert len(tf.global_variables()) == 1


def test_reuse_true_without_name_raises():
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        with tf.variable_scope(None, default_name="d", reuse=True):
            pass


def test_bad_name_or_scope_types():
    with pytest.raises(TypeError, match="name_or_scope is required"):
        tf.variable_scope(None)
    with pytest.raises(TypeError, match="must be a string or VariableScope"):
        tf.variable_scope(3)


def test_scope_restored_after_exception():
    with pytest.raises(RuntimeError):
        with tf.variable_scope("boom"):
            raise RuntimeError("x")
    assert tf.get_variable_scope().name == ""
    assert tf.get_default_graph().get_name_scope() == ""


def test_variable_scopes_are_per_graph():
    with tf.variable_scope("a"):
        tf.get_variable("v", [1])
    with tf.Graph().as_default():
        with tf.variable_scope("a"):
            v = tf.get_variable("v", [1])  # no clash: a fresh store
        assert v.name == "a/v:0"


# -- initializers and defaults ---------------------------------------------------------------
def test_default_initializers():
    w = tf.get_variable("w", [40, 60])
    i = tf.get_variable("i", [3], dtype=tf.int32)
    b = tf.get_variable("b", [2], dtype=tf.bool)
    wv, iv, bv = _init_and_run([w, i, b])
    limit = np.sqrt(6.0 / 100)
    assert wv.dtype == np.float32 and np.abs(wv).max() <= limit and wv.std() > limit / 3
    np.testing.assert_array_equal(iv, np.zeros(3, np.int32))
    np.testing.assert_array_equal(bv, [False, False])


def test_initializer_from_value_takes_its_shape_and_dtype():
    v = tf.get_variable("v", initializer=np.arange(6, dtype=np.float64).reshape(2, 3))
    c = tf.get_variable("c", initializer=tf.constant([1, 2, 3]))
    s = tf.get_variable("s", initializer=2.5)
    assert v.dtype == tf.float64 and v.get_shape().as_list() == [2, 3]
    assert c.dtype == tf.int32
    vv, cv, sv = _init_and_run([v, c, s])
    np.testing.assert_array_equal(vv, np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(cv, [1, 2, 3])
    assert sv == np.float32(2.5)


def test_initializer_value_with_shape_or_wrong_dtype_raises():
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape"):
        tf.get_variable("a", [2], initializer=tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="Initializer type 'int32' and explicit dtype "
                                         "'float32' don't match"):
        tf.get_variable("b", dtype=tf.float32, initializer=tf.constant([1, 2]))


def test_unknown_shape_raises():
    with pytest.raises(ValueError, match=r"Shape of a new variable \(u\) must be fully "
                                         r"defined"):
        tf.get_variable("u", [None, 3])
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("u2")


def test_zero_argument_callable_initializer():
    v = tf.get_variable("v", initializer=lambda: tf.ones([2, 2]), dtype=None)
    assert v.get_shape().as_list() == [2, 2]
    np.testing.assert_array_equal(_init_and_run(v), np.ones((2, 2)))


def test_initializer_class_is_instantiated():
    v = tf.get_variable("v", [3], initializer=tf.ones_initializer)
    np.testing.assert_array_equal(_init_and_run(v), np.ones(3))


def test_scope_initializer_and_dtype_are_inherited_and_overridden():
    with tf.variable_scope("s", initializer=tf.constant_initializer(0.5), dtype=tf.float64):
        a = tf.get_variable("a", [2])
        with tf.variable_scope("t"):
            b = tf.get_variable("b", [2])
            tf.get_variable_scope().set_initializer(tf.constant_initializer(2.0))
            c = tf.get_variable("c", [2])
            d = tf.get_variable("d", [2], initializer=tf.zeros_initializer())
    e = tf.get_variable("e", [2])
    assert a.dtype == tf.float64 and b.dtype == tf.float64 and e.dtype == tf.float32
    av, bv, cv, dv = _init_and_run([a, b, c, d])
    np.testing.assert_array_equal(av, [0.5, 0.5])
    np.testing.assert_array_equal(bv, [0.5, 0.5])
    np.testing.assert_array_equal(cv, [2.0, 2.0])
    np.testing.assert_array_equal(dv, [0.0, 0.0])


def test_initializer_ignores_control_dependencies_in_scope():
    x = tf.placeholder(tf.float32, [])
    with tf.control_dependencies([tf.identity(x)]):
        v = tf.get_variable("v", [2], initializer=tf.ones_initializer())
    with tf.Session() as sess:
        sess.run(v.initializer)  # would need x fed if the initializer waited on it
        np.testing.assert_array_equal(sess.run(v), [1.0, 1.0])


# -- collections, regularizers, getters ------------------------------------------------------
def test_trainable_and_collections():
    w = tf.get_variable("w", [1])
    n = tf.get_variable("n", [1], trainable=False)
    m = tf.get_variable("m", [1], collections=["mine", tf.GraphKeys.GLOBAL_VARIABLES])
    assert w in tf.trainable_variables() and n not in tf.trainable_variables()
    assert n in tf.global_variables()
    assert tf.get_collection("mine") == [m]


def test_get_local_variable():
    with tf.variable_scope("metrics"):
        v = tf.get_local_variable("count", [], initializer=tf.zeros_initializer())
    assert v.name == "metrics/count:0"
    assert v in tf.local_variables()
    assert v not in tf.global_variables() and v not in tf.trainable_variables()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(v) == 0.0


def test_regularizer_losses_collected():
    def l2(v):
        return tf.reduce_sum(v * v)
    with tf.variable_scope("reg", regularizer=l2, initializer=tf.ones_initializer()):
        w = tf.get_variable("w", [3])
        tf.get_variable("nreg", [2], regularizer=tf.no_regularizer)
    u = tf.get_variable("u", [2], initializer=tf.ones_initializer(),
                        regularizer=lambda v: 2.0 * tf.reduce_sum(v))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 2
    assert losses[0].name.startswith("reg/w/Regularizer/")
    assert _init_and_run(losses) == [3.0, 4.0]
    # reusing does not add the loss again
    with tf.variable_scope("reg", reuse=True, regularizer=l2):
        assert tf.get_variable("w", [3]) is w
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 2
    assert u.name == "u:0"


def test_scope_variable_listing():
    with tf.variable_scope("a") as a:
        w = tf.get_variable("w", [1])
        n = tf.get_variable("n", [1], trainable=False)
    with tf.variable_scope("ab"):
        tf.get_variable("x", [1])
    assert a.global_variables() == [w, n]
    assert a.trainable_variables() == [w]
    assert tf.trainable_variables("a/") == [w]


def test_custom_getters_compose():
    calls = []

    def outer(getter, name, *args, **kwargs):
        calls.append(("outer", name))
        return getter(name, *args, **kwargs)

    def inner(getter, name, *args, **kwargs):
        calls.append(("inner", name))
        kwargs["trainable"] = False
        return getter(name, *args, **kwargs)

    with tf.variable_scope("g", custom_getter=outer):
        with tf.variable_scope("h", custom_getter=inner):
            v = tf.get_variable("v", [2])
    assert calls == [("inner", "g/h/v"), ("outer", "g/h/v")]
    assert v.name == "g/h/v:0" and v not in tf.trainable_variables()


def test_custom_getter_must_be_callable():
    with pytest.raises(ValueError, match="not callable"):
        tf.variable_scope("s", custom_getter=3)


def test_variables_train_through_optimizer_style_update():
    with tf.variable_scope("lin"):
        w = tf.get_variable("w", initializer=np.array([1.0, 2.0], np.float32))
    loss = tf.reduce_sum(w * w)
    (g,) = tf.gradients(loss, [w])
    step = tf.assign_sub(w, 0.25 * g)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        np.testing.assert_allclose(sess.run(w), [0.5, 1.0])
