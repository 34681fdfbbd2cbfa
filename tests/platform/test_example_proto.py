"""tf.train.Example protos: TensorFlow's bytes, protobuf's Python behaviour."""
from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

import actorflow as tf

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
with open(os.path.join(FIXTURES, "tf_expected.json")) as _f:
    EXPECTED = json.load(_f)


def _feature(kind, values):
    if kind == "bytes":
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    if kind == "float":
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def fixture_examples():
    """The records make_tf_fixtures.py wrote with TensorFlow, built here."""
    rows = [
        dict(id=7, label=b"cat", vec=[0.5, -1.25, 3.0], tokens=[3, 1, 4], names=[b"a", b"bb"],
             pairs=[1.0, 2.0, 3.0, 4.0], opt=[42]),
        dict(id=-3, label=b"dog", vec=[0.1, 0.2, 0.3], tokens=[], names=[b"ccc"],
             pairs=[5.5, 6.5]),
        dict(id=1 << 40, label=b"\x00\xff", vec=[1e-3, 1e3, -0.0], tokens=[9, 2, 6, 5, 3],
             names=[], pairs=[]),
    ]
    kinds = dict(id="int64", label="bytes", vec="float", tokens="int64", names="bytes",
                 pairs="float", opt="int64")
    return [tf.train.Example(features=tf.train.Features(feature={
        k: _feature(kinds[k], v if isinstance(v, list) else [v]) for k, v in row.items()}))
        for row in rows]


def fixture_sequence_examples():
    out = []
    for n in (2, 0, 3):
        se = tf.train.SequenceExample()
        se.context.feature["length"].int64_list.value.append(n)
        se.context.feature["title"].bytes_list.value.append(b"seq%d" % n)
        steps = se.feature_lists.feature_list["tokens"].feature
        for t in range(n):
            steps.add().int64_list.value.extend([t, 10 * t])
        for t in range(n):
            se.feature_lists.feature_list["scores"].feature.add().float_list.value.append(t / 4)
        out.append(se)
    return out


def test_examples_serialize_to_tensorflows_bytes():
    got = [e.SerializeToString().hex() for e in fixture_examples()]
    assert got == EXPECTED["examples_hex"]


def test_sequence_examples_serialize_to_tensorflows_bytes():
    got = [e.SerializeToString().hex() for e in fixture_sequence_examples()]
    assert got == EXPECTED["sequence_examples_hex"]


def test_tensorflows_bytes_parse_to_the_same_messages():
    for hexed, built in zip(EXPECTED["examples_hex"], fixture_examples()):
        parsed = tf.train.Example.FromString(bytes.fromhex(hexed))
        assert parsed == built
    first = tf.train.Example.FromString(bytes.fromhex(EXPECTED["examples_hex"][0]))
    feats = first.features.feature
    assert list(feats["tokens"].int64_list.value) == [3, 1, 4]
    assert feats["vec"].float_list.value == [0.5, -1.25, 3.0]
    assert feats["names"].bytes_list.value == [b"a", b"bb"]
    assert feats["label"].WhichOneof("kind") == "bytes_list"
    third = tf.train.Example()
    third.ParseFromString(bytes.fromhex(EXPECTED["examples_hex"][2]))
    assert third.features.feature["id"].int64_list.value == [1 << 40]
    seq = tf.train.SequenceExample.FromString(bytes.fromhex(EXPECTED["sequence_examples_hex"][2]))
    steps = seq.feature_lists.feature_list["tokens"].feature
    assert [list(s.int64_list.value) for s in steps] == [[0, 0], [1, 10], [2, 20]]


def test_reading_an_unset_message_does_not_set_it():
    ex = tf.train.Example()
    assert not ex.HasField("features")
    assert len(ex.features.feature) == 0
    assert not ex.HasField("features") and ex.SerializeToString() == b""
    ex.features.feature["k"]  # a map creates the entry it is asked for, as protobuf's
    assert ex.HasField("features")
    assert ex.SerializeToString().hex() == "0a070a050a016b1200"
    assert ex != tf.train.Example(features=tf.train.Features())


def test_setting_one_member_of_the_oneof_clears_the_others():
    f = tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"q"]))
    assert f.int64_list.value == [] and f.WhichOneof("kind") == "bytes_list"
    f.int64_list.value.append(3)
    assert f.WhichOneof("kind") == "int64_list"
    assert not f.HasField("bytes_list") and f.bytes_list.value == []
    assert f == tf.train.Feature(int64_list=tf.train.Int64List(value=[3]))


def test_values_are_checked_and_floats_rounded_to_float32():
    with pytest.raises(TypeError):
        tf.train.BytesList(value=["text"])
    with pytest.raises(TypeError):
        tf.train.Int64List(value=[1.5])
    with pytest.raises(ValueError):
        tf.train.Int64List(value=[1 << 63])
    fl = tf.train.FloatList(value=[1, 0.1])
    assert fl.value == [1.0, float(np.float32(0.1))]
    assert tf.train.FloatList(value=np.array([[1.5, 2]], np.float32)).value == [1.5, 2.0]
    assert tf.train.Int64List(value=np.arange(3)).value == [0, 1, 2]
    with pytest.raises(AttributeError):
        tf.train.Example().features = tf.train.Features()


def test_copy_merge_clear_and_pickle():
    a, b = fixture_examples()[:2]
    c = tf.train.Example()
    c.CopyFrom(a)
    assert c == a and c is not a
    c.features.feature["tokens"].int64_list.value.append(5)
    assert a.features.feature["tokens"].int64_list.value == [3, 1, 4]
    d = tf.train.Example()
    d.MergeFrom(b)
    assert d == b
    d.Clear()
    assert d == tf.train.Example()
    assert pickle.loads(pickle.dumps(a)) == a
    assert c.ByteSize() == len(c.SerializeToString())


def test_text_format():
    f = tf.train.Features(feature={"x": _feature("float", [0.1]), "b": _feature("bytes", [b'a"'])})
    assert str(tf.train.Example(features=f)) == (
        'features {\n  feature {\n    key: "b"\n    value {\n      bytes_list {\n'
        '        value: "a\\""\n      }\n    }\n  }\n  feature {\n    key: "x"\n'
        '    value {\n      float_list {\n        value: 0.1\n      }\n    }\n  }\n}\n')


def test_decode_errors():
    with pytest.raises(ValueError):
        tf.train.Example.FromString(b"\x0a\x05\x01")
