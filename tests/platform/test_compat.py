"""tf.compat: text/bytes conversions, numeric type tuples, dimension helpers, tf.compat.v1 as
the module itself, and the graph-mode switches (checked against TF 1.x's behaviour)."""
from __future__ import annotations

import numbers
import pathlib

import numpy as np
import pytest

import actorflow as tf


def test_compat_v1_is_the_module_itself():
    import actorflow.compat.v1 as tf1
    from actorflow.compat import v1

    assert tf1 is tf and v1 is tf and tf.compat.v1 is tf
    assert tf.compat.v1.placeholder is tf.placeholder
    assert tf.compat.v1.compat.v1 is tf  # as in TF, where v1 has its own compat


def test_a_tf1_program_through_compat_v1():
    import actorflow.compat.v1 as tf1

    tf1.disable_v2_behavior()
    tf1.disable_eager_execution()
    with tf1.Graph().as_default():
        x = tf1.placeholder(tf1.float32, [None, 2])
        y = tf1.reduce_sum(x * 2.0)
        with tf1.Session() as sess:
            assert sess.run(y, {x: [[1, 2], [3, 4]]}) == 20.0


def test_as_bytes():
    assert tf.compat.as_bytes("é") == b"\xc3\xa9"
    assert tf.compat.as_bytes("é", encoding="latin-1") == b"\xe9"
    assert tf.compat.as_bytes(b"ab") == b"ab"
    out = tf.compat.as_bytes(bytearray(b"ab"))
    assert out == b"ab" and type(out) is bytes
    with pytest.raises(TypeError, match="Expected binary or unicode string, got 5"):
        tf.compat.as_bytes(5)


def test_as_text_and_as_str():
    assert tf.compat.as_text(b"\xc3\xa9") == "é"
    assert tf.compat.as_text(b"\xe9", encoding="latin-1") == "é"
    assert tf.compat.as_text("x") == "x"
    assert tf.compat.as_str is tf.compat.as_text
    with pytest.raises(TypeError, match="Expected binary or unicode string"):
        tf.compat.as_text(bytearray(b"ab"))  # TF rejects bytearray here (not in as_bytes)
    with pytest.raises(TypeError):
        tf.compat.as_text(None)
    with pytest.raises(UnicodeDecodeError):
        tf.compat.as_text(b"\xff")


def test_as_str_any_and_path_to_str():
    assert tf.compat.as_str_any(b"x") == "x"
    assert tf.compat.as_str_any(5) == "5"
    assert tf.compat.as_str_any("s") == "s"
    assert tf.compat.path_to_str(pathlib.Path("/a/b")) == "/a/b"
    assert tf.compat.path_to_str(5) == 5
    assert tf.compat.path_to_str("rel/p") == "rel/p"


def test_type_tuples():
    c = tf.compat
    assert c.bytes_or_text_types == (bytes, str)
    assert isinstance(np.int8(1), c.integral_types) and isinstance(3, c.integral_types)
    assert not isinstance(1.5, c.integral_types)
    assert isinstance(np.float16(1), c.real_types) and isinstance(2, c.real_types)
    assert not isinstance(1j, c.real_types)
    assert isinstance(np.complex64(1j), c.complex_types) and isinstance(1j, c.complex_types)
    assert c.integral_types == (numbers.Integral, np.integer)


def test_dimension_helpers():
    shape = tf.placeholder(tf.float32, [None, 3]).shape
    assert tf.compat.dimension_value(shape[1]) == 3
    assert tf.compat.dimension_value(shape[0]) is None
    assert tf.compat.dimension_value(7) == 7 and tf.compat.dimension_value(None) is None
    assert tf.compat.dimension_at_index(shape, 1).value == 3
    assert tf.compat.dimension_at_index(tf.TensorShape(None), 5).value is None
    with pytest.raises(IndexError):
        tf.compat.dimension_at_index(shape, 5)


def test_graph_mode_switches():
    assert tf.executing_eagerly() is False
    assert tf.compat.v1.executing_eagerly() is False
    for switch in (tf.disable_eager_execution, tf.disable_v2_behavior,
                   tf.disable_v2_tensorshape):
        assert switch() is None
    with pytest.raises(tf.compat.EagerExecutionError, match="eager execution"):
        tf.enable_eager_execution()
    with pytest.raises(NotImplementedError, match="tf.enable_v2_behavior"):
        tf.enable_v2_behavior()
