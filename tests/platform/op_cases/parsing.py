"""Cases for the parsing ops. Example records and expected values are TensorFlow's (from
fixtures/tf_expected.json, written by fixtures/make_tf_fixtures.py with TF itself)."""
import json
import os

import numpy as np

import actorflow as tf

from . import OpCase

with open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf_expected.json")) as _f:
    _TF = json.load(_f)
_SERIALIZED = np.array([bytes.fromhex(h) for h in _TF["examples_hex"]], dtype=object)
_PARSED = _TF["parse_example"]


def _tf_value(want):
    if "bytes_hex" in want:
        return np.array([bytes.fromhex(h) for h in want["bytes_hex"]], dtype=object)
    return np.array(want["values"], dtype=want["dtype"])


def _parse_batch(s):
    p = tf.parse_example(s, {"tokens": tf.VarLenFeature(tf.int64),
                             "vec": tf.FixedLenFeature([3], tf.float32),
                             "opt": tf.FixedLenFeature([1], tf.int64, default_value=[-1])})
    return [p["tokens"].indices, p["tokens"].values, p["tokens"].dense_shape, p["opt"],
            p["vec"]]


def _parse_batch_reference(s):
    t = _PARSED["tokens"]
    return [np.array(t["indices"], np.int64), _tf_value(t["values"]),
            np.array(t["dense_shape"], np.int64), _tf_value(_PARSED["opt"]),
            _tf_value(_PARSED["vec"])]


def _parse_single(s):
    p = tf.parse_single_example(s, {"label": tf.FixedLenFeature([], tf.string),
                                    "names": tf.VarLenFeature(tf.string)})
    return [p["names"].indices, p["names"].values, p["names"].dense_shape, p["label"]]


def _parse_single_reference(s):
    w = _TF["parse_single_example_1"]
    return [np.array(w["names"]["indices"], np.int64), _tf_value(w["names"]["values"]),
            np.array(w["names"]["dense_shape"], np.int64),
            np.array(bytes.fromhex(w["label"]["bytes_hex"]), dtype=object)]


def _raw(case):
    return _tf_value(_TF["decode_raw"][case])


_CSV = np.array([b'1,"a,b",2.5', b"2,,", b'3,"say ""hi""",NA', b" 4 ,x,-1e3"], dtype=object)

CASES = [
    OpCase("ParseExample", _parse_batch, [_SERIALIZED], _parse_batch_reference, grad=False),
    OpCase("ParseSingleExample", _parse_single, [np.array(_SERIALIZED[1], dtype=object)],
           _parse_single_reference, grad=False),
    OpCase("DecodeRaw", lambda s: tf.decode_raw(s, tf.int16, little_endian=False),
           [np.array([b"\x01\x00\x02\x00", b"\xff\xff\x00\x80"], dtype=object)],
           lambda s: _raw("int16_be"), grad=False, name="int16_be"),
    OpCase("DecodeRaw", lambda s: tf.decode_raw(s, tf.float32),
           [np.array([b"\x01\x00\x02\x00", b"\xff\xff\x00\x80"], dtype=object)],
           lambda s: _raw("float32"), grad=False, name="float32"),
    OpCase("DecodeCSV", lambda r: tf.decode_csv(r, [[0], ["dflt"], [0.5]], na_value="NA"),
           [_CSV], lambda r: [_tf_value(w) for w in _TF["decode_csv"]], grad=False),
    OpCase("StringToNumber", lambda s: tf.string_to_number(s, tf.float64),
           [np.array([b"1.5", b"-2", b"3e2"], dtype=object)],
           lambda s: _tf_value(_TF["string_to_number"]["float64"]), grad=False),
    OpCase("SparseToDense",
           lambda i, v: tf.sparse_to_dense(i, [3, 4], v, default_value=-1.0),
           [np.array([[0, 1], [2, 3]], np.int64), np.array([1.5, 2.5], np.float32)],
           lambda i, v: np.array([[-1, 1.5, -1, -1], [-1] * 4, [-1, -1, -1, 2.5]],
                                 np.float32), grad=False),
]


def _split_reference(s):
    w = _TF["string_split"]["keep_empty"]
    return [np.array(w["indices"], np.int64), _tf_value(w["values"]),
            np.array(w["dense_shape"], np.int64)]


def _split(s):
    sp = tf.string_split(s, " ", skip_empty=False)
    return [sp.indices, sp.values, sp.dense_shape]


CASES.append(OpCase("StringSplit", _split, [np.array([b"a b  c", b"", b"de"], dtype=object)],
                    _split_reference, grad=False))
