"""Feeding Python ints to integer placeholders, as TF 1.x does.

TF checks a Python int scalar against the placeholder's integer dtype (TypeError "Type of
feed value ... is not compatible with Tensor type ...") and converts lists and NumPy values
with NumPy's wrap-around. Measured with tensorflow-cpu 2.21 (tf.compat.v1.Session), whose
feed code is TF 1.x's: 2**40 -> TypeError, [2**40] -> [0], np.int64(2**40) -> 0,
300 -> uint8 TypeError, [300] -> [44].
"""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf


def _feed(dtype, value):
    with tf.Graph().as_default():
        x = tf.placeholder(dtype, shape=None)
        y = tf.identity(x)
        with tf.Session() as sess:
            return sess.run(y, {x: value})


@pytest.mark.parametrize("dtype,value", [
    (tf.int32, 2 ** 40), (tf.int32, -2 ** 40), (tf.int32, 2 ** 31), (tf.int32, -2 ** 31 - 1),
    (tf.uint8, 300), (tf.uint8, -1), (tf.int8, 128), (tf.uint16, 65536), (tf.int64, 2 ** 63),
])
def test_python_int_that_does_not_fit_is_an_error(dtype, value):
    with pytest.raises(TypeError, match=f"Feed value {value} .* does not fit its dtype "
                                        f"{dtype.name}"):
        _feed(dtype, value)
    with pytest.raises(tf.errors.InvalidArgumentError):
        _feed(dtype, value)


@pytest.mark.parametrize("dtype,value", [
    (tf.int32, 2 ** 31 - 1), (tf.int32, -2 ** 31), (tf.uint8, 255), (tf.uint8, 0),
    (tf.int8, -128), (tf.int64, -2 ** 63), (tf.int32, True),
])
def test_python_int_at_the_limits_is_fed(dtype, value):
    out = _feed(dtype, value)
    assert out.dtype == dtype.np and out == value


def test_make_callable_checks_the_range_too():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.int32, shape=None)
        with tf.Session() as sess:
            f = sess.make_callable(tf.identity(x), [x])
            assert f(7) == 7
            with pytest.raises(TypeError, match="does not fit"):
                f(2 ** 40)


@pytest.mark.parametrize("value,expected", [
    ([2 ** 40], [0]), ([-2 ** 40, 1], [0, 1]), (np.array([2 ** 40]), [0]),
])
def test_lists_and_arrays_wrap_as_in_tf(value, expected):
    assert _feed(tf.int32, value).tolist() == expected


def test_numpy_scalars_wrap_as_in_tf():
    assert _feed(tf.int32, np.int64(2 ** 40)) == 0
    assert _feed(tf.uint8, [300]).tolist() == [44]


def test_large_python_int_fed_to_a_float_placeholder_is_converted():
    assert _feed(tf.float32, 2 ** 40) == np.float32(2 ** 40)
