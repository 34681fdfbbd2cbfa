"""TFRecord files: framing, compression, damage and missing files (tf.io / tf.python_io)."""
from __future__ import annotations

import gzip
import os
import struct
import zlib

import pytest

import actorflow as tf
from actorflow.io import tf_record

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
RECORDS = [b"", b"hello", b"\x00" * 300, bytes(range(256)) * 5]


def _write(path, records, options=None):
    with tf.io.TFRecordWriter(str(path), options) as w:
        for r in records:
            w.write(r)


@pytest.mark.parametrize("data, crc", [(b"", 0), (b"123456789", 0xE3069283),
                                       (b"\x00" * 32, 0x8A9136AA), (b"\xff" * 32, 0x62A8AB43)])
def test_crc32c_known_vectors(data, crc):
    assert tf_record.crc32c(data) == crc


def test_framing_is_length_crc_data_crc(tmp_path):
    path = tmp_path / "a.tfrecord"
    _write(path, [b"hello"])
    raw = path.read_bytes()
    assert raw[:8] == struct.pack("<Q", 5)
    crc = tf_record.crc32c(raw[:8])
    masked = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert raw[8:12] == struct.pack("<I", masked)
    assert raw[12:17] == b"hello"
    assert raw[17:] == struct.pack("<I", tf_record.masked_crc32c(b"hello"))


@pytest.mark.parametrize("compression", [None, "", "ZLIB", "GZIP",
                                         tf.python_io.TFRecordCompressionType.GZIP])
def test_round_trip(tmp_path, compression):
    path = tmp_path / "r.tfrecord"
    options = tf.io.TFRecordOptions(compression)
    _write(path, RECORDS, options)
    assert list(tf.io.tf_record_iterator(str(path), options)) == RECORDS
    assert list(tf.python_io.tf_record_iterator(str(path), options)) == RECORDS


def test_compressed_files_are_standard_streams(tmp_path):
    _write(tmp_path / "g", RECORDS, "GZIP")
    _write(tmp_path / "z", RECORDS, "ZLIB")
    _write(tmp_path / "n", RECORDS)
    plain = (tmp_path / "n").read_bytes()
    assert gzip.decompress((tmp_path / "g").read_bytes()) == plain
    assert zlib.decompress((tmp_path / "z").read_bytes()) == plain


def test_flush_makes_records_readable_before_close(tmp_path):
    path = tmp_path / "f.tfrecord"
    w = tf.io.TFRecordWriter(str(path), "GZIP")
    w.write(b"first")
    w.flush()
    # A sync flush leaves a stream that decompresses up to here (no end marker yet).
    assert zlib.decompressobj(31).decompress(path.read_bytes()) == \
        tf_record.encode_record(b"first")
    w.write("second")
    w.close()
    w.close()
    assert list(tf.io.tf_record_iterator(str(path), "GZIP")) == [b"first", b"second"]
    with pytest.raises(tf.errors.FailedPreconditionError):
        w.write(b"late")


def test_options_and_compression_type_string():
    o = tf.io.TFRecordOptions(tf.io.TFRecordCompressionType.ZLIB)
    assert o.compression_type == tf.io.TFRecordCompressionType.ZLIB
    assert tf.io.TFRecordOptions.get_compression_type_string(o) == "ZLIB"
    assert tf.io.TFRecordOptions.get_compression_type_string("gzip") == "GZIP"
    assert tf.io.TFRecordOptions.get_compression_type_string(None) == ""
    with pytest.raises(ValueError, match="SNAPPY"):
        tf.io.TFRecordOptions("SNAPPY")


def _damaged(tmp_path, name, edit):
    path = tmp_path / name
    _write(path, [b"hello", b"world!"])
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(edit(raw)))
    return str(path)


def _flip(i):
    def edit(raw):
        raw[i] ^= 0x01
        return raw
    return edit


@pytest.mark.parametrize("name, edit, offset, what", [
    ("length", _flip(21 + 2), 21, "corrupted"),     # second record's length byte
    ("lengthcrc", _flip(21 + 9), 21, "corrupted"),  # its length CRC
    ("data", _flip(12), 0, "corrupted"),             # first record's data
    ("datacrc", _flip(18), 0, "corrupted"),          # first record's data CRC
    ("cut", lambda raw: raw[:-3], 21, "truncated"),  # second record cut inside its data CRC
])
def test_damaged_record_is_data_loss_naming_file_and_offset(tmp_path, name, edit, offset, what):
    path = _damaged(tmp_path, name, edit)
    with pytest.raises(tf.errors.DataLossError) as e:
        list(tf.io.tf_record_iterator(path))
    assert path in str(e.value) and f"{what} record at offset {offset}" in str(e.value)


def test_partial_header_at_the_end_ends_the_file_as_tf(tmp_path):
    # TF stops at a header cut short (a writer may still be appending it).
    path = _damaged(tmp_path, "hdr", lambda raw: raw[:25])
    assert list(tf.io.tf_record_iterator(path)) == [b"hello"]


def test_damaged_compressed_stream_is_data_loss(tmp_path):
    path = tmp_path / "bad.gz"
    _write(path, RECORDS, "GZIP")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(tf.errors.DataLossError, match="bad.gz"):
        list(tf.io.tf_record_iterator(str(path), "GZIP"))


def test_missing_file_is_not_found(tmp_path):
    path = str(tmp_path / "nope.tfrecord")
    with pytest.raises(tf.errors.NotFoundError, match="nope.tfrecord"):
        list(tf.io.tf_record_iterator(path))
    with pytest.raises(tf.errors.NotFoundError, match="no_dir"):
        tf.io.TFRecordWriter(str(tmp_path / "no_dir" / "x.tfrecord"))


def test_large_record_round_trips(tmp_path):
    data = os.urandom(3 << 20)
    path = tmp_path / "big.tfrecord"
    _write(path, [data, b"tail"], "ZLIB")
    assert list(tf.io.tf_record_iterator(str(path), "ZLIB")) == [data, b"tail"]


def _tf_records():
    import json
    with open(os.path.join(FIXTURES, "tf_expected.json")) as f:
        return [bytes.fromhex(h) for h in json.load(f)["examples_hex"]]


@pytest.mark.parametrize("name, compression", [("examples.tfrecord", None),
                                               ("examples_gzip.tfrecord", "GZIP"),
                                               ("examples_zlib.tfrecord", "ZLIB")])
def test_reads_files_tensorflow_wrote(name, compression):
    path = os.path.join(FIXTURES, name)
    assert list(tf.io.tf_record_iterator(path, compression)) == _tf_records()


def test_writes_what_tensorflow_wrote(tmp_path):
    _write(tmp_path / "plain", _tf_records())
    with open(os.path.join(FIXTURES, "examples.tfrecord"), "rb") as f:
        assert (tmp_path / "plain").read_bytes() == f.read()
    # Compressed: the same uncompressed stream (zlib's output may differ between builds).
    for name, compression, decompress in [("examples_gzip.tfrecord", "GZIP", gzip.decompress),
                                          ("examples_zlib.tfrecord", "ZLIB", zlib.decompress)]:
        _write(tmp_path / name, _tf_records(), compression)
        with open(os.path.join(FIXTURES, name), "rb") as f:
            theirs = decompress(f.read())
        assert decompress((tmp_path / name).read_bytes()) == theirs
