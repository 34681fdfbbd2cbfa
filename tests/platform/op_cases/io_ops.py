"""Cases for the reader ops, over the fixture files; expected records and keys are what
TensorFlow's readers gave for them (fixtures/tf_expected.json). Each graph fills and closes
a queue of file names first (control dependencies), then reads."""
import json
import os

import numpy as np

import actorflow as tf

from . import OpCase

_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "fixtures"))
with open(os.path.join(_DIR, "tf_expected.json")) as _f:
    _TF = json.load(_f)["readers"]


def _files(*names):
    return np.array([os.path.join(_DIR, n) for n in names], dtype=object)


def _queue(files):
    q = tf.FIFOQueue(8, [tf.string])
    return q, [q.enqueue_many([files]), q.close()]


def _first_record(make_reader):
    def build(files):
        q, setup = _queue(files)
        with tf.control_dependencies(setup):
            return list(make_reader().read(q))
    return build


def _tf_first(case):
    def reference(files):
        key, value = _TF[case][0]
        name, _, rest = key.rpartition(":")
        return [np.array(os.path.join(_DIR, name).encode() + b":" + rest.encode(),
                         dtype=object), np.array(bytes.fromhex(value), dtype=object)]
    return reference


def _read_up_to_and_counters(files):
    q, setup = _queue(files)
    reader = tf.FixedLengthRecordReader(record_bytes=7, header_bytes=3, footer_bytes=2)
    with tf.control_dependencies(setup):
        keys, values = reader.read_up_to(q, 3)
    with tf.control_dependencies([values]):
        produced = reader.num_records_produced()
        completed = reader.num_work_units_completed()
    return [values, produced, completed]


def _read_up_to_reference(files):
    values = [bytes.fromhex(v) for _, v in _TF["fixed_7_3_2"][:3]]
    return [np.array(values, dtype=object), np.int64(3), np.int64(0)]


def _reset(files):
    q, setup = _queue(files)
    reader = tf.IdentityReader()
    with tf.control_dependencies(setup):
        _, value = reader.read(q)
    with tf.control_dependencies([value]):
        reset = reader.reset()
    with tf.control_dependencies([reset]):
        return [reader.num_records_produced()]


def _check_whole_file(outs, inputs):
    with open(inputs[0][0], "rb") as f:
        assert outs[1] == f.read()
    assert np.asarray(outs[0]).item() == inputs[0][0].encode()


_TEXT = _first_record(lambda: tf.TextLineReader(skip_header_lines=1))
_FIXED = _first_record(lambda: tf.FixedLengthRecordReader(7, header_bytes=3, footer_bytes=2))

CASES = [
    OpCase("TextLineReaderV2", _TEXT, [_files("lines.txt")], _tf_first("text_skip1"),
           grad=False),
    OpCase("ReaderReadV2", _TEXT, [_files("lines.txt")], _tf_first("text_skip1"), grad=False),
    OpCase("FixedLengthRecordReaderV2", _FIXED, [_files("cifar_like.bin")],
           _tf_first("fixed_7_3_2"), grad=False),
    OpCase("TFRecordReaderV2", _first_record(lambda: tf.TFRecordReader(options="GZIP")),
           [_files("examples_gzip.tfrecord")], _tf_first("tfrecord_gzip"), grad=False),
    OpCase("WholeFileReaderV2", _first_record(tf.WholeFileReader), [_files("lines.txt")],
           check=_check_whole_file, grad=False),
    OpCase("IdentityReaderV2", _first_record(tf.IdentityReader),
           [np.array([b"unit"], dtype=object)],
           lambda f: [np.array(b"unit", dtype=object)] * 2, grad=False),
    OpCase("ReaderReadUpToV2", _read_up_to_and_counters, [_files("cifar_like.bin")],
           _read_up_to_reference, grad=False),
    OpCase("ReaderNumRecordsProducedV2", _read_up_to_and_counters, [_files("cifar_like.bin")],
           _read_up_to_reference, grad=False),
    OpCase("ReaderNumWorkUnitsCompletedV2", _read_up_to_and_counters,
           [_files("cifar_like.bin")], _read_up_to_reference, grad=False),
    OpCase("ReaderResetV2", _reset, [np.array([b"unit"], dtype=object)],
           lambda f: [np.int64(0)], grad=False),
]
