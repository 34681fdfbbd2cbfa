"""Errors: each mistake raises a specific exception that names the op or placeholder and the
shapes involved, never a bare NumPy traceback."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf


def _assert_clean(exc: BaseException) -> None:
    """The kernel's own exception is hidden: no chained NumPy traceback."""
    assert exc.__cause__ is None
    assert exc.__suppress_context__


# -- feeds and fetches ---------------------------------------------------------------------
def test_feed_of_wrong_shape_names_placeholder_and_shapes():
    x = tf.placeholder(tf.float32, [None, 3], name="images")
    y = x * 2.0
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(y, {x: np.zeros((2, 4))})
    msg = str(e.value)
    assert "images:0" in msg and "(2, 4)" in msg and "(?, 3)" in msg
    assert isinstance(e.value, ValueError)  # TF 1.x raises ValueError for this
    with tf.Session() as sess, pytest.raises(ValueError, match="shape"):
        sess.run(y, {x: np.zeros(3)})


def test_feed_that_does_not_convert_names_placeholder_and_dtype():
    """TF converts a feed to the placeholder's dtype (floats truncate to ints) and fails only
    where the conversion itself fails."""
    n = tf.placeholder(tf.int32, [2], name="counts")
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(n + 1, {n: np.array([1.5, 2.5])}), [2, 3])
        with pytest.raises(tf.errors.InvalidArgumentError, match="counts:0") as e:
            sess.run(n + 1, {n: ["a", "b"]})
        assert "int32" in str(e.value) and "invalid literal" in str(e.value)
        assert isinstance(e.value, ValueError)  # NumPy's (and so TF's) error is a ValueError
        _assert_clean(e.value)


def test_feed_of_a_tensor_is_a_type_error():
    x = tf.placeholder(tf.float32, [])
    with tf.Session() as sess, pytest.raises(TypeError, match="cannot be a tf.Tensor"):
        sess.run(x + 1.0, {x: tf.constant(1.0)})


def test_missing_feed_names_the_placeholder():
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.reduce_sum(x)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(y)
    assert "You must feed a value for placeholder tensor 'x'" in str(e.value)
    assert "float32" in str(e.value) and "[?,784]" in str(e.value)
    assert e.value.op.name == "x"
    _assert_clean(e.value)


def test_unknown_fetch_and_feed_names():
    tf.constant(1.0, name="a")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError, match="'nope:0'"):
            sess.run("nope:0")
        with pytest.raises(tf.errors.NotFoundError, match="only has 1 outputs"):
            sess.run("a:3")
        with pytest.raises(KeyError):  # NotFoundError is also a KeyError
            sess.run("a", {"ghost:0": 1.0})
        with pytest.raises(TypeError, match="invalid type"):
            sess.run(3.5)


def test_tensor_from_another_graph():
    g = tf.Graph()
    with g.as_default():
        foreign = tf.constant(1.0, name="foreign")
    tf.constant(2.0)
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="foreign") as e:
            sess.run(foreign)
        assert isinstance(e.value, tf.errors.InvalidArgumentError)
        with pytest.raises(ValueError, match="foreign"):
            sess.run(tf.constant(1.0), {foreign: 1.0})
    with pytest.raises(ValueError, match="same graph as Tensor foreign:0"):
        tf.add(foreign, tf.constant(1.0))


# -- graph construction --------------------------------------------------------------------
def test_matmul_shape_mismatch_at_construction():
    a = tf.placeholder(tf.float32, [2, 3], name="a")
    b = tf.placeholder(tf.float32, [4, 5], name="b")
    with pytest.raises(ValueError) as e:
        tf.matmul(a, b, name="product")
    msg = str(e.value)
    assert "product" in msg and "MatMul" in msg and "[2,3], [4,5]" in msg
    assert e.value.__cause__ is None


def test_dtype_mismatch_at_construction():
    a = tf.placeholder(tf.float32, [2])
    b = tf.placeholder(tf.int32, [2])
    with pytest.raises(TypeError, match="int32.*float32|float32.*int32"):
        tf.add(a, b)


def test_unknown_op_in_imported_graph_def():
    tf.constant(1.0, name="c")
    gd = tf.get_default_graph().as_graph_def()
    gd.node.append(tf.NodeDef(name="mystery", op="FancyCustomOp", input=["c:0"], device="",
                              attr={}))
    g = tf.Graph()
    with g.as_default():
        with pytest.raises(ValueError, match="'mystery'.*'FancyCustomOp'"):
            tf.import_graph_def(gd)
    assert g.get_operations() == []  # nothing half-imported


# -- run time ------------------------------------------------------------------------------
def test_uninitialized_variable_names_the_variable():
    v = tf.Variable(tf.zeros([3]), name="bias")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match="uninitialized value bias") as e:
            sess.run(v + 1.0)
    _assert_clean(e.value)


def test_kernel_failure_names_op_and_input_shapes():
    x = tf.placeholder(tf.float32, [None], name="x")
    r = tf.reshape(x, [2, 3], name="to_matrix")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(r, {x: np.zeros(5)})
    msg = str(e.value)
    assert "Reshape op 'to_matrix'" in msg and "float32[5]" in msg and "int32[2]" in msg
    assert e.value.op is r.op
    _assert_clean(e.value)


def test_matmul_failure_at_run_time_with_unknown_static_shapes():
    a = tf.placeholder(tf.float32, [None, None], name="a")
    b = tf.placeholder(tf.float32, [None, None], name="b")
    c = tf.matmul(a, b, name="mm")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="mm") as e:
            sess.run(c, {a: np.ones((2, 3)), b: np.ones((4, 5))})
    assert "float32[2,3]" in str(e.value) and "float32[4,5]" in str(e.value)
    _assert_clean(e.value)


def test_kernel_failure_under_full_trace_names_op_and_shapes():
    x = tf.placeholder(tf.float32, [None], name="x")
    r = tf.reshape(x * 2.0, [2, 3], name="to_matrix")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(r, {x: np.zeros(5)},
                     options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                     run_metadata=tf.RunMetadata())
    assert "to_matrix" in str(e.value) and "float32[5]" in str(e.value)
    assert e.value.op is r.op
    _assert_clean(e.value)


def test_assign_of_wrong_shape_at_run_time():
    v = tf.Variable(tf.zeros([2]), name="v", validate_shape=True)
    x = tf.placeholder(tf.float32, [None])
    a = tf.assign(v, x)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2\].*\[3\]"):
            sess.run(a, {x: np.ones(3)})


def test_errors_carry_codes_and_subclass_op_error():
    for cls, code in [(tf.errors.InvalidArgumentError, 3), (tf.errors.NotFoundError, 5),
                      (tf.errors.FailedPreconditionError, 9)]:
        err = cls(None, None, "msg")
        assert isinstance(err, tf.errors.OpError) and err.error_code == code
        assert str(err) == "msg"


def test_errors_pickle_with_type_and_message():
    import pickle

    for err in (tf.errors.InvalidArgumentError(None, None, "bad shape [2,3]"),
                tf.errors.DataLossError(None, None, "truncated")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert str(back) == str(err) and back.error_code == err.error_code
        assert back.op is None
