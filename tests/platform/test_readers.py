"""Readers: records and keys as TensorFlow gives them (fixtures/tf_expected.json), queues of
file names, OutOfRangeError at the end, the CIFAR-10 binary pipeline."""
from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pytest

import actorflow as tf

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
with open(os.path.join(FIXTURES, "tf_expected.json")) as _f:
    READERS = json.load(_f)["readers"]


def _filenames(files, epochs: int = 1):
    """A closed FIFO queue holding `files` `epochs` times, filled when first run."""
    q = tf.FIFOQueue(len(files) * epochs + 1, [tf.string])
    fill = q.enqueue_many([np.array(list(files) * epochs, dtype=object)])
    return q, [fill, q.close()]


def _read_all(sess, key, value, limit: int = 100):
    got = []
    for _ in range(limit):
        try:
            k, v = sess.run([key, value])
        except tf.errors.OutOfRangeError:
            return got
        got.append([np.asarray(k).item().decode(), np.asarray(v).item().hex()])
    raise AssertionError("the reader never reached the end of its queue")


@pytest.mark.parametrize("case, files, make_reader", [
    ("text_skip1", ["lines.txt", "lines.txt"], lambda: tf.TextLineReader(skip_header_lines=1)),
    ("fixed_7_3_2", ["cifar_like.bin"],
     lambda: tf.FixedLengthRecordReader(record_bytes=7, header_bytes=3, footer_bytes=2)),
    ("tfrecord", ["examples.tfrecord"], lambda: tf.TFRecordReader()),
    ("tfrecord_gzip", ["examples_gzip.tfrecord"], lambda: tf.TFRecordReader(
        options=tf.python_io.TFRecordOptions(tf.python_io.TFRecordCompressionType.GZIP))),
])
def test_records_and_keys_match_tensorflow(monkeypatch, case, files, make_reader):
    monkeypatch.chdir(FIXTURES)
    q, setup = _filenames(files)
    key, value = make_reader().read(q)
    assert key.get_shape().as_list() == [] and value.dtype == tf.string
    with tf.Session() as sess:
        sess.run(setup)
        assert _read_all(sess, key, value) == READERS[case]


def test_counters_reset_and_out_of_range_after_the_epochs(tmp_path):
    paths = []
    for i in range(2):
        paths.append(str(tmp_path / f"f{i}.txt"))
        with open(paths[-1], "w") as f:
            f.write(f"a{i}\r\nb{i}\n")
    q, setup = _filenames(paths, epochs=2)
    reader = tf.TextLineReader()
    key, value = reader.read(q)
    produced, completed = reader.num_records_produced(), reader.num_work_units_completed()
    with tf.Session() as sess:
        sess.run(setup)
        got = _read_all(sess, key, value)
        assert [bytes.fromhex(v) for _, v in got] == [b"a0", b"b0", b"a1", b"b1"] * 2
        assert [k for k, _ in got[:2]] == [f"{paths[0]}:1", f"{paths[0]}:2"]
        assert sess.run([produced, completed]) == [8, 4]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(value)
        sess.run(reader.reset())
        assert sess.run([produced, completed]) == [0, 0]
    with tf.Session() as sess:  # state is per session
        assert sess.run(produced) == 0


def test_read_up_to_stops_at_the_end_of_a_file(tmp_path):
    paths = [str(tmp_path / "a.bin"), str(tmp_path / "b.bin")]
    for p, n in zip(paths, (5, 2)):
        with open(p, "wb") as f:
            f.write(bytes(range(n * 2)))
    q, setup = _filenames(paths)
    keys, values = tf.FixedLengthRecordReader(2).read_up_to(q, 3)
    assert keys.get_shape().as_list() == [None]
    with tf.Session() as sess:
        sess.run(setup)
        sizes = []
        while True:
            try:
                k, v = sess.run([keys, values])
            except tf.errors.OutOfRangeError:
                break
            sizes.append(len(k))
            assert all(len(x) == 2 for x in v)
        assert sizes == [3, 2, 2]
        with pytest.raises(tf.errors.InvalidArgumentError, match="positive"):
            sess.run(tf.FixedLengthRecordReader(2).read_up_to(q, 0))


def test_whole_file_identity_and_missing_files(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"\x00whole\xff")
    q, setup = _filenames([str(path)])
    key, value = tf.WholeFileReader().read(q)
    q2, setup2 = _filenames(["unit-1", "unit-2"])
    ikey, ivalue = tf.IdentityReader().read(q2)
    q3, setup3 = _filenames([str(tmp_path / "absent.bin")])
    missing = tf.WholeFileReader().read(q3)
    with tf.Session() as sess:
        sess.run(setup + setup2 + setup3)
        k, v = sess.run([key, value])
        assert np.asarray(k).item() == str(path).encode() and v == b"\x00whole\xff"
        assert [r[0] for r in _read_all(sess, ikey, ivalue)] == ["unit-1", "unit-2"]
        with pytest.raises(tf.errors.NotFoundError, match="absent.bin"):
            sess.run(missing)


def test_damaged_tfrecord_file_is_data_loss(tmp_path):
    path = tmp_path / "bad.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as w:
        w.write(b"one")
        w.write(b"two")
    raw = bytearray(path.read_bytes())
    raw[-2] ^= 1
    path.write_bytes(bytes(raw))
    q, setup = _filenames([str(path)])
    key, value = tf.TFRecordReader().read(q)
    with tf.Session() as sess:
        sess.run(setup)
        assert sess.run(value) == b"one"
        with pytest.raises(tf.errors.DataLossError, match="bad.tfrecord.*offset 19"):
            sess.run(value)


def test_fixed_length_hop_and_gzip_encoding(tmp_path):
    path = tmp_path / "h.bin.gz"
    path.write_bytes(gzip.compress(b"H" + bytes(range(10))))
    q, setup = _filenames([str(path)])
    key, value = tf.FixedLengthRecordReader(4, header_bytes=1, hop_bytes=3,
                                            encoding="GZIP").read(q)
    with tf.Session() as sess:
        sess.run(setup)
        got = _read_all(sess, key, value)
    assert [bytes.fromhex(v) for _, v in got] == [bytes([0, 1, 2, 3]), bytes([3, 4, 5, 6]),
                                                  bytes([6, 7, 8, 9])]
    assert [k.rsplit(":", 1)[1] for k, _ in got] == ["0", "1", "2"]
    with pytest.raises(ValueError):
        tf.FixedLengthRecordReader(0)


def test_cifar10_binary_pipeline(tmp_path):
    """The book's CIFAR-10 input: 3073-byte records (label, 3x32x32 image), decode_raw."""
    rng = np.random.default_rng(0)
    labels, images, paths = [], [], []
    for f in range(2):
        recs = []
        for _ in range(3):
            label = int(rng.integers(10))
            image = rng.integers(0, 256, (3, 32, 32), dtype=np.uint8)
            labels.append(label)
            images.append(image)
            recs.append(bytes([label]) + image.tobytes())
        paths.append(str(tmp_path / f"data_batch_{f}.bin"))
        with open(paths[-1], "wb") as fh:
            fh.write(b"".join(recs))
    q, setup = _filenames(paths)
    key, value = tf.FixedLengthRecordReader(record_bytes=1 + 32 * 32 * 3).read(q)
    record = tf.decode_raw(value, tf.uint8)
    label = tf.cast(tf.strided_slice(record, [0], [1]), tf.int32)
    depth_major = tf.reshape(tf.strided_slice(record, [1], [3073]), [3, 32, 32])
    image = tf.transpose(depth_major, [1, 2, 0])
    with tf.Session() as sess:
        sess.run(setup)
        for want_label, want_image in zip(labels, images):
            got_label, got_image = sess.run([label, image])
            assert got_label.tolist() == [want_label]
            np.testing.assert_array_equal(got_image, want_image.transpose(1, 2, 0))
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(image)


def test_string_input_producer_pipeline_ends_after_num_epochs(tmp_path):
    """The TF 1.x pipeline: string_input_producer(num_epochs) -> reader -> queue runners;
    once the epochs are read, read raises OutOfRangeError."""
    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"part{i}.csv"))
        with open(paths[-1], "w") as f:
            f.write("x,y\n" + "".join(f"{i},{j}\n" for j in range(4)))
    filenames = tf.train.string_input_producer(paths, num_epochs=2, shuffle=False)
    key, line = tf.TextLineReader(skip_header_lines=1).read(filenames)
    x, y = tf.decode_csv(line, [[0], [0]])
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        got = []
        try:
            while True:
                got.append(tuple(int(v) for v in sess.run([x, y])))
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
            coord.join(threads)
    assert got == [(i, j) for i in range(3) for j in range(4)] * 2


def test_tfrecord_examples_through_reader_parse_and_batch():
    filenames = tf.train.string_input_producer(
        [os.path.join(FIXTURES, "examples_zlib.tfrecord")], num_epochs=1, shuffle=False)
    _, serialized = tf.TFRecordReader(options=tf.io.TFRecordOptions("ZLIB")).read(filenames)
    feats = tf.parse_single_example(serialized, {"id": tf.FixedLenFeature([], tf.int64),
                                                 "vec": tf.FixedLenFeature([3], tf.float32)})
    ids, vecs = tf.train.batch([feats["id"], feats["vec"]], batch_size=3)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            got_ids, got_vecs = sess.run([ids, vecs])
        finally:
            coord.request_stop()
            coord.join(threads)
    assert got_ids.tolist() == [7, -3, 1 << 40]
    np.testing.assert_allclose(got_vecs[0], [0.5, -1.25, 3.0])
