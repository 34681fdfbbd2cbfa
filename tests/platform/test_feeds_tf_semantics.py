"""Feeds are converted as TF 1.x's Session.run converts them (checked against
tensorflow-cpu 2.21's tf.compat.v1.Session, whose feed code is TF 1.x's): numbers with
``np.asarray(value).astype(dtype)``, bool and string with ``np.asarray(value, dtype)``.
Errors only where that conversion fails, where the shape is incompatible, or where a Python
int scalar does not survive the conversion."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf
from actorflow.session.session import FeedConversionError


def _feed(dtype, value, shape=None):
    with tf.Graph().as_default():
        x = tf.placeholder(dtype, shape=shape, name="x")
        with tf.Session() as sess:
            return sess.run(tf.identity(x), {x: value})


def test_list_and_nested_list():
    out = _feed(tf.float32, [[1, 2, 3, 4]], [None, 4])
    assert out.dtype == np.float32 and out.tolist() == [[1.0, 2.0, 3.0, 4.0]]


def test_replay_batch_of_tuples_through_np_vstack():
    """The book's ch. 8 DQN: transitions stored as object rows ``[s, a, r, s1, d]``; a sample
    is an object array whose columns are fed as they are: ``np.vstack`` of the state column,
    the action column, and targets computed from the object reward column (an object array
    of numbers) fed to a float placeholder."""
    rng = np.random.RandomState(0)
    buffer = [np.reshape(np.array([rng.rand(4), i % 2, float(i), rng.rand(4), i == 3],
                                  dtype=object), [1, 5]) for i in range(5)]
    batch = np.reshape(np.array(buffer, dtype=object), [5, 5])
    next_q = np.arange(5, dtype=np.float32)
    end_multiplier = -(batch[:, 4] - 1)
    target_q = batch[:, 2] + (0.99 * next_q * end_multiplier)
    assert batch[:, 1].dtype == object and target_q.dtype == object
    with tf.Graph().as_default():
        s = tf.placeholder(tf.float32, [None, 4])
        a = tf.placeholder(tf.int32, [None])
        target = tf.placeholder(tf.float32, [None])
        q = tf.reduce_sum(s, axis=1) * tf.reduce_sum(tf.one_hot(a, 2), axis=1)
        loss = tf.reduce_mean(tf.square(target - q))
        with tf.Session() as sess:
            t, q_val, _ = sess.run([target, q, loss], {s: np.vstack(batch[:, 0]),
                                                       a: batch[:, 1], target: target_q})
    assert t.dtype == np.float32
    np.testing.assert_allclose(t, [0.0, 1.99, 3.98, 3.0, 7.96], rtol=1e-6)
    np.testing.assert_allclose(q_val, [np.sum(row[0]) for row in batch], rtol=1e-6)


def test_int_array_for_float_placeholder():
    out = _feed(tf.float32, np.ones((1, 4), np.int64), [None, 4])
    assert out.dtype == np.float32 and out.tolist() == [[1.0] * 4]


@pytest.mark.parametrize("value,expected", [
    ([1.5, -1.7], [1, -1]), (np.array([1.5, -2.7]), [1, -2]), (["3", "4"], [3, 4]),
])
def test_floats_for_int_placeholder_truncate(value, expected):
    out = _feed(tf.int32, value, [None])
    assert out.dtype == np.int32 and out.tolist() == expected


def test_scalars():
    assert _feed(tf.int32, np.int64(5), []) == 5
    assert _feed(tf.int32, np.float64(5.7), []) == 5
    assert _feed(tf.int32, 1.7, []) == 1
    assert _feed(tf.int32, True, []) == 1
    assert _feed(tf.complex64, 3, []) == 3 + 0j
    out = _feed(tf.float32, 2 ** 24 + 1, [])  # rounds, as TF (NumPy's float32 compare)
    assert out == np.float32(2 ** 24)


@pytest.mark.parametrize("value", [[True, False], [1, 0], [2, 0], np.array([1, 0]),
                                   [1.5, 0.0]])
def test_bool_placeholder_takes_any_numbers(value):
    out = _feed(tf.bool, value, [None])
    assert out.dtype == np.bool_ and out.tolist() == [True, False]


def test_bool_scalars():
    assert _feed(tf.bool, 1, []) is not None and bool(_feed(tf.bool, 1, [])) is True
    assert bool(_feed(tf.bool, 0, [])) is False
    assert bool(_feed(tf.bool, np.int64(5), [])) is True  # NumPy scalars are converted
    with pytest.raises(TypeError, match="does not fit its dtype bool"):
        _feed(tf.bool, 5, [])  # a Python int other than 0/1 is TF's TypeError


@pytest.mark.parametrize("value", [
    ["a", "é"], [b"a", "é".encode()], np.array(["a", "é".encode()], dtype=object),
    np.array(["a", "é"]), np.array([b"a", "é".encode()]),
])
def test_string_placeholder_holds_utf8_bytes(value):
    """Ops see bytes, str encoded as UTF-8 (TF: identity of a fed 'é' is b'\\xc3\\xa9')."""
    out = _feed(tf.string, value, [None])
    assert out.dtype == object and out.tolist() == [b"a", b"\xc3\xa9"]


def test_string_placeholder_scalars_and_errors():
    assert _feed(tf.string, "x", []) == b"x"
    with pytest.raises(TypeError, match="does not fit its dtype string"):
        _feed(tf.string, 5, [])  # TF: "Type of feed value 5 ... not compatible"
    with pytest.raises(FeedConversionError, match="Unsupported object type int"):
        _feed(tf.string, ["a", 1], [None])  # TF fails in its runtime


def test_feeding_a_non_placeholder_tensor():
    with tf.Graph().as_default():
        c = tf.constant([1.0, 2.0])
        d = c * 2
        with tf.Session() as sess:
            assert sess.run(d + 1, {d: [5, 6]}).tolist() == [6.0, 7.0]
            with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3,\) for "
                                                 r"Tensor 'mul:0', which has shape '\(2,\)'"):
                sess.run(d, {d: [5.0, 6.0, 7.0]})


def test_shape_errors_use_tf_message():
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        _feed(tf.float32, np.zeros((2, 3)), [None, 4])
    assert str(e.value) == ("Cannot feed value of shape (2, 3) for Tensor 'x:0', which has "
                            "shape '(?, 4)'")
    assert isinstance(e.value, ValueError)
    with pytest.raises(ValueError, match=r"shape \(\) for Tensor 'x:0'"):
        _feed(tf.float32, 3.0, [None, 4])


@pytest.mark.parametrize("value,message", [
    ([["a", "b", "c", "d"]], "could not convert string to float"),
    ([[1, 2, 3, 4], [1, 2]], "inhomogeneous"),
    ({"a": 1}, "float() argument must be"),
])
def test_conversion_failures(value, message):
    with pytest.raises(FeedConversionError) as e:
        _feed(tf.float32, value)
    assert message in str(e.value) and "'x:0'" in str(e.value) and "float32" in str(e.value)
    assert isinstance(e.value, tf.errors.InvalidArgumentError)
    assert isinstance(e.value, ValueError) and isinstance(e.value, TypeError)


def test_python_int_too_large_for_a_float():
    """TF's check of a Python int scalar fails with OverflowError here; ours is the same
    FeedOverflowError (a TypeError) as for ints out of an integer dtype's range."""
    with pytest.raises(TypeError, match=r"Feed value 100000000000\.\.\. \(401 digits\) for "
                                        r"Tensor 'x:0' does not fit its dtype float32"):
        _feed(tf.float32, 10 ** 400)


def test_int_conversion_failure_and_wrap_around():
    with pytest.raises(ValueError, match="invalid literal for int"):
        _feed(tf.int32, "a", [])
    assert _feed(tf.uint8, [-1, 300], [None]).tolist() == [255, 44]  # lists wrap, as in TF
    with pytest.raises(TypeError, match="does not fit its dtype uint8"):
        _feed(tf.uint8, -1, [])  # a Python int scalar must fit


def test_make_callable_converts_too():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        with tf.Session() as sess:
            f = sess.make_callable(x * 2, [x])
            assert f([1, 2]).tolist() == [2.0, 4.0]
            assert f(np.array([1, 2], dtype=object)).tolist() == [2.0, 4.0]


def test_exact_dtype_arrays_pass_through_unconverted():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        with tf.Session() as sess:
            value = np.array([1.0, 2.0], np.float32)
            assert sess.run(x, {x: value}) is value  # the fast path: no copy
