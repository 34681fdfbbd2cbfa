"""Parsing ops against what TensorFlow returned for the same inputs (fixtures/tf_expected.json)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import actorflow as tf

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
with open(os.path.join(FIXTURES, "tf_expected.json")) as _f:
    EXPECTED = json.load(_f)
SERIALIZED = [bytes.fromhex(h) for h in EXPECTED["examples_hex"]]


def specs():
    return {
        "id": tf.FixedLenFeature([], tf.int64),
        "label": tf.FixedLenFeature([], tf.string),
        "vec": tf.FixedLenFeature([3], tf.float32),
        "opt": tf.FixedLenFeature([1], tf.int64, default_value=[-1]),
        "tokens": tf.VarLenFeature(tf.int64),
        "names": tf.VarLenFeature(tf.string),
        "pairs": tf.io.FixedLenSequenceFeature([2], tf.float32, allow_missing=True),
    }


def assert_like_tf(got, want):
    """`got` (a fetched value) equals TF's value `want` as make_tf_fixtures.py stored it."""
    if "indices" in want:
        assert isinstance(got, tf.SparseTensorValue)
        np.testing.assert_array_equal(got.indices, np.array(want["indices"], np.int64)
                                      .reshape(-1, len(want["dense_shape"])))
        assert got.indices.dtype == np.int64 and got.dense_shape.dtype == np.int64
        np.testing.assert_array_equal(got.dense_shape, want["dense_shape"])
        assert_like_tf(got.values, want["values"])
        return
    if "bytes_hex" in want:
        if isinstance(want["bytes_hex"], str):
            assert np.asarray(got, dtype=object).item() == bytes.fromhex(want["bytes_hex"])
            return
        arr = np.asarray(got, dtype=object)
        assert list(arr.shape) == want["shape"]
        assert [b.hex() for b in arr.reshape(-1)] == list(np.ravel(
            np.array(want["bytes_hex"], dtype=object)))
        return
    arr = np.asarray(got)
    assert arr.dtype.name == want["dtype"] and list(arr.shape) == want["shape"]
    np.testing.assert_array_equal(arr, np.array(want["values"], dtype=want["dtype"]))


def test_parse_example_matches_tensorflow():
    parsed = tf.io.parse_example(SERIALIZED, specs())
    assert isinstance(parsed["tokens"], tf.SparseTensor)
    assert parsed["vec"].get_shape().as_list() == [3, 3]
    assert parsed["pairs"].get_shape().as_list() == [3, None, 2]
    with tf.Session() as sess:
        got = sess.run(parsed)
    assert set(got) == set(EXPECTED["parse_example"])
    for key, want in EXPECTED["parse_example"].items():
        assert_like_tf(got[key], want)


def test_parse_single_example_matches_tensorflow():
    single = {k: v for k, v in specs().items() if k != "pairs"}
    with tf.Session() as sess:
        got = sess.run(tf.parse_single_example(tf.constant(SERIALIZED[1]), single))
        pairs = sess.run(tf.io.parse_single_example(SERIALIZED[0], {"pairs": specs()["pairs"]}))
    for key, want in EXPECTED["parse_single_example_1"].items():
        assert_like_tf(got[key], want)
    assert_like_tf(pairs["pairs"], EXPECTED["parse_single_example_0_pairs"]["pairs"])


def test_parse_example_from_a_fed_placeholder_and_sparse_to_dense():
    serialized = tf.placeholder(tf.string, [None])
    parsed = tf.parse_example(serialized, {"tokens": tf.VarLenFeature(tf.int64)})
    dense = tf.sparse_tensor_to_dense(parsed["tokens"], default_value=-1)
    with tf.Session() as sess:
        got = sess.run(dense, {serialized: SERIALIZED})
        value = parsed["tokens"].eval({serialized: SERIALIZED[:2]}, session=sess)
    np.testing.assert_array_equal(got, [[3, 1, 4, -1, -1], [-1] * 5, [9, 2, 6, 5, 3]])
    assert value.dense_shape.tolist() == [2, 3]


def _run(fetch):
    with tf.Session() as sess:
        return sess.run(fetch)


@pytest.mark.parametrize("spec, message", [
    ({"missing": tf.FixedLenFeature([], tf.int64)}, "missing .*required but could not be found"),
    ({"vec": tf.FixedLenFeature([2], tf.float32)}, "Key: vec, Index: 0.*Values size: 3"),
    ({"id": tf.FixedLenFeature([], tf.float32)}, "Feature: id.*Data type: int64 but expected"),
    ({"tokens": tf.VarLenFeature(tf.string)}, "tokens.*Data types don't match"),
    ({"pairs": tf.FixedLenSequenceFeature([3], tf.float32, allow_missing=True)},
     "pairs.*not a multiple"),
    ({"opt": tf.FixedLenSequenceFeature([], tf.int64)}, "opt.*required"),
])
def test_parse_errors_name_the_feature(spec, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _run(tf.parse_example(SERIALIZED, spec))


def test_bad_record_and_bad_specs():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse example input"):
        _run(tf.parse_example([b"\x0a\x09\x01"], {"a": tf.VarLenFeature(tf.int64)}))
    with pytest.raises(ValueError, match="float64"):
        tf.parse_example(SERIALIZED, {"a": tf.FixedLenFeature([], tf.float64)})
    with pytest.raises(ValueError, match="fully defined"):
        tf.parse_example(SERIALIZED, {"a": tf.FixedLenFeature([None], tf.int64)})
    with pytest.raises(ValueError, match="empty"):
        tf.parse_example(SERIALIZED, {})
    with pytest.raises(ValueError, match="rank 0"):
        tf.parse_single_example(SERIALIZED, {"a": tf.VarLenFeature(tf.int64)})


def test_examples_built_here_parse_back():
    ex = tf.train.Example()
    ex.features.feature["img"].bytes_list.value.append(b"\x01\x02")
    ex.features.feature["shape"].int64_list.value.extend([1, 2])
    parsed = tf.parse_single_example(ex.SerializeToString(), {
        "img": tf.FixedLenFeature([], tf.string),
        "shape": tf.FixedLenFeature([2], tf.int64),
        "w": tf.FixedLenFeature([2], tf.float32, default_value=0.5)})
    got = _run(parsed)
    assert got["img"] == b"\x01\x02" and got["shape"].tolist() == [1, 2]
    np.testing.assert_array_equal(got["w"], np.float32([0.5, 0.5]))


@pytest.mark.parametrize("case, out_type, little", [("int16_le", tf.int16, True),
                                                    ("int16_be", tf.int16, False),
                                                    ("uint8", tf.uint8, True),
                                                    ("float32", tf.float32, True)])
def test_decode_raw_matches_tensorflow(case, out_type, little):
    raw = np.array([b"\x01\x00\x02\x00", b"\xff\xff\x00\x80"], dtype=object)
    got = _run(tf.decode_raw(raw, out_type, little_endian=little))
    assert_like_tf(got, EXPECTED["decode_raw"][case])


def test_decode_raw_errors_and_shape():
    x = tf.placeholder(tf.string, [2, 3])
    assert tf.io.decode_raw(x, tf.int32).get_shape().as_list() == [2, 3, None]
    with pytest.raises(tf.errors.InvalidArgumentError, match="element 1 has size 2 != 4"):
        _run(tf.decode_raw([b"abcd", b"ab"], tf.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="length 3 .* multiple of 4"):
        _run(tf.decode_raw([b"abc"], tf.float32))


def test_decode_csv_matches_tensorflow():
    records = ['1,"a,b",2.5', '2,,', '3,"say ""hi""",NA', ' 4 ,x,-1e3']
    got = _run(tf.decode_csv(records, [[0], ["dflt"], [0.5]], na_value="NA"))
    for g, w in zip(got, EXPECTED["decode_csv"]):
        assert_like_tf(g, w)
    tab = _run(tf.io.decode_csv(["a\tb", "c\td"], [[""], [""]], field_delim="\t"))
    for g, w in zip(tab, EXPECTED["decode_csv_tab"]):
        assert_like_tf(g, w)
    plain = _run(tf.decode_csv(['"x"', "y"], [[""]], use_quote_delim=False))
    assert_like_tf(plain[0], EXPECTED["decode_csv_noquote"][0])


def test_decode_csv_select_cols_types_and_errors():
    got = _run(tf.decode_csv(tf.constant([["1,2,3"], ["4,5,6"]]),
                             [tf.constant([], tf.int64), [0.0]], select_cols=[0, 2]))
    assert got[0].dtype == np.int64 and got[0].shape == (2, 1)
    np.testing.assert_array_equal(got[1], [[3.0], [6.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expect 2 fields but have 3"):
        _run(tf.decode_csv(["1,2,3"], [[0], [0]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Field 0 is required"):
        _run(tf.decode_csv([",2"], [tf.constant([], tf.int32), [0]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a valid int32: 2.5"):
        _run(tf.decode_csv(["1,2.5"], [[0], [0]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Quoted field"):
        _run(tf.decode_csv(['"a"b,1'], [[""], [0]]))
    with pytest.raises(ValueError, match="one character"):
        tf.decode_csv(["a"], [[""]], field_delim="::")


@pytest.mark.parametrize("case, out_type, strings", [
    ("float32", tf.float32, ["1.5", "-2", "3e2"]), ("float64", tf.float64, ["1.5", "-2", "3e2"]),
    ("int32", tf.int32, ["12", "-7"]), ("int64", tf.int64, ["9000000000"])])
def test_string_to_number_matches_tensorflow(case, out_type, strings):
    if case == "float32":
        got = _run(tf.string_to_number(strings))
    else:
        got = _run(tf.string_to_number(strings, out_type=out_type))
    assert_like_tf(got, EXPECTED["string_to_number"][case])


@pytest.mark.parametrize("text, out_type", [("abc", tf.float32), ("2.5", tf.int32),
                                            ("9000000000", tf.int32), ("1_000", tf.int64)])
def test_string_to_number_errors(text, out_type):
    with pytest.raises(tf.errors.InvalidArgumentError, match="could not correctly convert"):
        _run(tf.string_to_number([text], out_type))


def test_sparse_tensor_value_and_to_dense_checks():
    sp = tf.SparseTensor(indices=[[0, 1], [2, 0]], values=[1.5, 2.5], dense_shape=[3, 2])
    assert sp.get_shape().as_list() == [3, 2] and sp.dtype == tf.float32
    with tf.Session() as sess:
        v = sess.run(sp)
        dense = sess.run(tf.sparse.to_dense(sp))
        assert isinstance(v, tf.SparseTensorValue) and v.values.tolist() == [1.5, 2.5]
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of order"):
            sess.run(tf.sparse_to_dense([[2, 0], [0, 1]], [3, 2], [1.0, 2.0]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
            sess.run(tf.sparse_to_dense([[3, 0]], [3, 2], [1.0]))
    np.testing.assert_array_equal(dense, [[0, 1.5], [0, 0], [2.5, 0]])


@pytest.mark.parametrize("case, source, delimiter, skip_empty", [
    ("space", ["a b  c", "", "de"], " ", True), ("keep_empty", ["a b  c", "", "de"], " ", False),
    ("two_delims", ["a,b;c", "x"], ",;", True), ("bytes", ["h\u00e9y", "ab"], "", True)])
def test_string_split_matches_tensorflow(case, source, delimiter, skip_empty):
    sp = tf.string_split(source, delimiter, skip_empty=skip_empty)
    assert isinstance(sp, tf.SparseTensor)
    assert_like_tf(_run(sp), EXPECTED["string_split"][case])
