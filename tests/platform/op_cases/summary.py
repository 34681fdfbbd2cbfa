"""Cases for the summary ops. References are protobuf bytes spelled out by hand (field keys,
lengths, little-endian numbers), so they check the encoder rather than reuse it."""
import struct
import zlib

import numpy as np

import actorflow as tf

from . import OpCase


def _ld(field: int, payload: bytes) -> bytes:
    """A length-delimited field (payloads here are shorter than 128 bytes)."""
    assert len(payload) < 128
    return bytes([field << 3 | 2, len(payload)]) + payload


def _scalar_bytes(tag: str, value: float) -> bytes:
    return _ld(1, _ld(1, tag.encode()) + b"\x15" + struct.pack("<f", value))


def _check_histogram(outs, inputs):
    s = tf.Summary.FromString(outs[0])
    (v,) = s.value
    x = inputs[0].astype(np.float64)
    assert v.tag == "h"
    assert (v.histo.min, v.histo.max, v.histo.num) == (x.min(), x.max(), x.size)
    np.testing.assert_allclose([v.histo.sum, v.histo.sum_squares], [x.sum(), (x * x).sum()])
    assert sum(v.histo.bucket) == x.size


def _check_image(outs, inputs):
    s = tf.Summary.FromString(outs[0])
    assert [v.tag for v in s.value] == ["img/image/0", "img/image/1"]
    png = s.value[1].image.encoded_image_string
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    idat = png.index(b"IDAT")
    size = struct.unpack(">I", png[idat - 4:idat])[0]
    rows = np.frombuffer(zlib.decompress(png[idat + 4:idat + 4 + size]), np.uint8)
    np.testing.assert_array_equal(rows.reshape(2, 1 + 3 * 1)[:, 1:].reshape(2, 3),
                                  inputs[0][1].reshape(2, 3))


def _text_bytes():
    shape = _ld(2, b"\x08\x02")  # TensorShapeProto: one dim of size 2
    tensor = b"\x08\x07" + _ld(2, shape) + _ld(8, b"ab") + _ld(8, b"c")
    meta = _ld(1, _ld(1, b"text"))
    return _ld(1, _ld(1, b"note") + _ld(8, tensor) + _ld(9, meta))


CASES = [
    OpCase("ScalarSummary", lambda x: tf.summary.scalar("loss", x), [np.float64(2.5)],
           reference=lambda x: _scalar_bytes("loss", 2.5), grad=False),
    OpCase("HistogramSummary", lambda x: tf.summary.histogram("h", x),
           [np.array([[-3.0, 0.0, 0.5], [0.5, 7.0, 1e-3]])], check=_check_histogram,
           grad=False),
    OpCase("ImageSummary", lambda x: tf.summary.image("img", x, max_outputs=2),
           [np.arange(3 * 2 * 1 * 3, dtype=np.uint8).reshape(3, 2, 1, 3)],
           check=_check_image, grad=False),
    OpCase("TensorSummaryV2", lambda: tf.summary.text("note", tf.constant(["ab", "c"])),
           reference=lambda: _text_bytes(), grad=False),
    OpCase("MergeSummary",
           lambda x, y: tf.summary.merge([tf.summary.scalar("a", x),
                                          tf.summary.scalar("b", y)]),
           [np.float32(1.0), np.float32(-2.0)],
           reference=lambda x, y: _scalar_bytes("a", 1.0) + _scalar_bytes("b", -2.0),
           grad=False),
]
