"""tf.Print, tf.Assert and the assert_* family, check_numerics and tf.debugging."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf
from actorflow.ops.debug import summarize_value


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


# -- formatting ------------------------------------------------------------------------------
def test_summarize_value_matches_tf_formatting():
    assert summarize_value(np.arange(5)) == "0 1 2..."
    assert summarize_value(np.arange(3)) == "0 1 2"
    assert summarize_value(np.arange(6).reshape(2, 3), 4) == "[0 1 2][3...]..."
    assert summarize_value(np.arange(4).reshape(2, 2), -1) == "[0 1][2 3]"
    assert summarize_value(np.float32(2.5)) == "2.5"
    assert summarize_value(np.array([0.1, 1.0, 1e-10], np.float32), -1) == "0.1 1 1e-10"
    assert summarize_value(np.array([1 / 3], np.float32)) == "0.333333343"
    assert summarize_value(np.array([np.nan, np.inf])) == "nan inf"
    assert summarize_value(np.array([True, False])) == "1 0"
    assert summarize_value(np.array([b"ab", "c"], dtype=object)) == "ab c"
    assert summarize_value(np.zeros((0,))) == ""


# -- Print -----------------------------------------------------------------------------------
def test_print_writes_message_and_data_to_stderr(capsys):
    x = tf.placeholder(tf.float32, [None])
    y = tf.Print(x, [x, tf.shape(x)], "x = ")
    assert y.dtype == tf.float32 and y.get_shape().as_list() == [None]
    with tf.Session() as sess:
        out = sess.run(y, {x: [1.0, 2.0, 3.0, 4.0]})
    np.testing.assert_array_equal(out, [1, 2, 3, 4])
    assert capsys.readouterr().err == "x = [1 2 3...][4]\n"


def test_print_first_n_and_summarize(capsys):
    x = tf.constant([1, 2, 3, 4, 5])
    y = tf.Print(x, [x], "v", first_n=2, summarize=-1)
    with tf.Session() as sess:
        for _ in range(4):
            sess.run(y)
    assert capsys.readouterr().err == "v[1 2 3 4 5]\n" * 2


def test_print_runs_only_when_its_output_is_needed(capsys):
    x = tf.constant(1.0)
    tf.Print(x, [x], "unused")
    z = x + 1.0
    with tf.Session() as sess:
        assert sess.run(z) == 2.0
    assert capsys.readouterr().err == ""


def test_print_gradient_is_identity():
    x = tf.placeholder(tf.float64, [3])
    y = tf.Print(x * 3.0, [x])
    (g,) = tf.gradients(tf.reduce_sum(y), [x])
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {x: [1.0, 2.0, 3.0]}), [3.0, 3.0, 3.0])


# -- Assert ----------------------------------------------------------------------------------
def test_assert_raises_with_data_when_false():
    x = tf.placeholder(tf.float32, [None])
    op = tf.Assert(tf.reduce_all(x > 0), ["x must be positive", x], summarize=2)
    assert isinstance(op, tf.Operation) and op.type == "Assert" and not op.outputs
    with tf.control_dependencies([op]):
        y = tf.identity(x)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [1.0, 2.0])
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(y, {x: [1.0, -2.0, 3.0]})
    assert str(e.value) == "assertion failed: [x must be positive] [1 -2...]"
    assert e.value.op is op


def test_assert_run_directly():
    c = tf.placeholder(tf.bool, [])
    op = tf.Assert(c, [tf.constant("no")])
    with tf.Session() as sess:
        assert sess.run(op, {c: True}) is None
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[no\]"):
            sess.run(op, {c: False})


def test_assert_condition_must_be_a_bool_scalar():
    with pytest.raises(TypeError, match="bool"):
        tf.Assert(tf.constant(1), [])
    with pytest.raises(ValueError, match="scalar"):
        tf.Assert(tf.constant([True, False]), [])


def test_assert_is_not_differentiable_and_stateful():
    from actorflow.framework import registry
    d = registry.get_op_def("Assert")
    assert d.stateful and d.grad is registry.NOT_DIFFERENTIABLE
    assert registry.get_op_def("Print").stateful


# -- assert_* family -------------------------------------------------------------------------
@pytest.mark.parametrize("fn,good,bad", [
    (tf.assert_equal, ([1, 2], [1, 2]), ([1, 2], [1, 3])),
    (tf.assert_none_equal, ([1, 2], [3, 4]), ([1, 2], [3, 2])),
    (tf.assert_less, ([1, 2], [2, 3]), ([1, 2], [2, 2])),
    (tf.assert_less_equal, ([1, 2], [1, 3]), ([1, 4], [1, 3])),
    (tf.assert_greater, ([2, 3], [1, 2]), ([2, 2], [1, 2])),
    (tf.assert_greater_equal, ([2, 2], [1, 2]), ([2, 1], [1, 2])),
])
def test_binary_asserts_at_run_time(fn, good, bad):
    x = tf.placeholder(tf.int32, [2])
    y = tf.placeholder(tf.int32, [2])
    check = fn(x, y, message="custom")
    assert check.type == "Assert"
    with tf.Session() as sess:
        sess.run(check, {x: good[0], y: good[1]})
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(check, {x: bad[0], y: bad[1]})
    msg = str(e.value)
    assert msg.startswith("assertion failed: [custom] [Condition x ")
    assert "did not hold element-wise" in msg and "Placeholder" in msg


def test_binary_asserts_static():
    ok = tf.assert_equal(tf.constant([1, 2]), [1, 2])
    assert ok.type == "NoOp"
    with pytest.raises(tf.errors.InvalidArgumentError, match="Condition x < y"):
        tf.assert_less(tf.constant(3.0), 2.0)
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        tf.assert_equal(tf.constant([1, 2]), tf.constant([1, 5]), message="sizes differ")
    assert str(e.value).splitlines()[0] == "sizes differ"
    assert "1 5" in str(e.value)


def test_binary_assert_broadcasts_and_checks_dtypes():
    x = tf.placeholder(tf.float32, [2, 2])
    check = tf.assert_less(x, 1)  # the python scalar takes x's dtype
    with tf.Session() as sess:
        sess.run(check, {x: np.zeros((2, 2))})
    with pytest.raises(TypeError):
        tf.assert_equal(x, tf.constant([1, 2]))


@pytest.mark.parametrize("fn,good,bad,text", [
    (tf.assert_positive, [1.0, 2.0], [1.0, 0.0], "x > 0"),
    (tf.assert_negative, [-1.0, -2.0], [-1.0, 0.0], "x < 0"),
    (tf.assert_non_negative, [0.0, 2.0], [-1.0, 0.0], "x >= 0"),
    (tf.assert_non_positive, [0.0, -2.0], [1.0, 0.0], "x <= 0"),
])
def test_sign_asserts(fn, good, bad, text):
    x = tf.placeholder(tf.float32, [2])
    check = fn(x)
    with tf.Session() as sess:
        sess.run(check, {x: good})
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"Condition {text} did not hold"):
            sess.run(check, {x: bad})
    assert fn(tf.constant(good)).type == "NoOp"
    with pytest.raises(tf.errors.InvalidArgumentError):
        fn(tf.constant(bad))


def test_assert_rank_static_and_dynamic():
    assert tf.assert_rank(tf.zeros([2, 3]), 2).type == "NoOp"
    with pytest.raises(ValueError, match="must have rank 3. Received rank 2"):
        tf.assert_rank(tf.zeros([2, 3]), 3)
    with pytest.raises(ValueError, match="at least 3"):
        tf.assert_rank_at_least(tf.zeros([2, 3]), 3)
    assert tf.assert_rank_at_least(tf.zeros([2, 3]), 1).type == "NoOp"
    x = tf.placeholder(tf.float32)  # unknown rank: checked when run
    check = tf.assert_rank(x, 2)
    assert check.type == "Assert"
    with tf.Session() as sess:
        sess.run(check, {x: np.zeros((1, 2))})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank"):
            sess.run(check, {x: np.zeros(3)})


def test_assert_type_integer_scalar():
    assert tf.assert_type(tf.constant(1.0), tf.float32).type == "NoOp"
    with pytest.raises(TypeError, match="must be of type int32"):
        tf.assert_type(tf.constant(1.0), tf.int32)
    assert tf.assert_integer(tf.constant(1)).type == "NoOp"
    with pytest.raises(TypeError, match="integer"):
        tf.assert_integer(tf.constant(1.0))
    s = tf.constant(2.0)
    assert tf.assert_scalar(s) is s
    with pytest.raises(ValueError, match="scalar"):
        tf.assert_scalar(tf.constant([1.0]))


# -- check_numerics --------------------------------------------------------------------------
@pytest.mark.parametrize("values,what", [([1.0, np.nan], "NaN"), ([np.inf, 1.0], "Inf"),
                                         ([np.nan, -np.inf], "Inf and NaN")])
def test_check_numerics_names_message(values, what):
    x = tf.placeholder(tf.float32, [2])
    y = tf.check_numerics(x, "bad x")
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [1.0, 2.0])
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(y, {x: values})
    assert str(e.value) == f"bad x : Tensor had {what} values"


def test_check_numerics_rejects_integers():
    with pytest.raises(TypeError, match="floating"):
        tf.check_numerics(tf.constant([1, 2]), "m")


def test_check_numerics_gradient_is_checked():
    x = tf.placeholder(tf.float32, [2])
    y = tf.check_numerics(x, "fwd")
    (g,) = tf.gradients(tf.reduce_sum(tf.sqrt(y)), [x])
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {x: [1.0, 4.0]}), [0.5, 0.25])
    gx = tf.placeholder(tf.float32, [2])
    (g2,) = tf.gradients(tf.check_numerics(gx, "fwd"), [gx], grad_ys=[gx * np.inf])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="in gradient. fwd"):
            sess.run(g2, {gx: [1.0, 1.0]})


def test_verify_tensor_all_finite():
    x = tf.placeholder(tf.float64, [2])
    y = tf.verify_tensor_all_finite(x * 2.0, "doubled x")
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [2.0, 4.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="doubled x : Tensor had NaN"):
            sess.run(y, {x: [np.nan, 2.0]})


def test_add_check_numerics_ops():
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.log(x, name="log_x")
    check = tf.add_check_numerics_ops()
    assert check.type == "NoOp"
    with tf.Session() as sess:
        out, _ = sess.run([y, check], {x: [1.0, 2.0]})
        np.testing.assert_allclose(out, np.log([1.0, 2.0]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="log_x:0 : Tensor had Inf"), \
                np.errstate(divide="ignore"):
            sess.run([y, check], {x: [0.0, 2.0]})


def test_debugging_namespace():
    for name in ["Assert", "check_numerics", "assert_equal", "assert_rank", "is_nan", "is_inf",
                 "is_finite", "verify_tensor_all_finite", "assert_type"]:
        assert callable(getattr(tf.debugging, name)), name
    assert tf.debugging.is_nan is tf.is_nan
    assert tf.debugging.assert_less is tf.assert_less
