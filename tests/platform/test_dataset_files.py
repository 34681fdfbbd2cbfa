"""tf.data file datasets (TFRecord, text lines, fixed-length records), list_files and the
file cache, on small files written by the tests."""
import gzip
import os
import zlib

import numpy as np
import pytest

import actorflow as tf
from actorflow.io import TFRecordOptions, TFRecordWriter

Dataset = tf.data.Dataset


def read_all(ds, limit=10_000):
    nxt = ds.make_one_shot_iterator().get_next()
    out = []
    with tf.Session() as sess:
        for _ in range(limit):
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return [v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v
                        for v in out]
    raise AssertionError("the dataset did not end")


def write_records(path, records, compression=None):
    with TFRecordWriter(str(path), TFRecordOptions(compression)) as w:
        for r in records:
            w.write(r)
    return str(path)


def records(prefix: str, n: int) -> list:
    return [f"{prefix}{i}".encode() * (i + 1) for i in range(n)]


@pytest.mark.parametrize("compression", [None, "ZLIB", "GZIP"])
def test_tf_record_dataset_reads_every_record(tmp_path, compression):
    recs = records("r", 5) + [b""]
    path = write_records(tmp_path / "a.tfrecord", recs, compression)
    ds = tf.data.TFRecordDataset(path, compression_type=compression)
    assert ds.output_types == tf.string and ds.output_shapes.as_list() == []
    assert read_all(ds) == recs


def test_tf_record_dataset_files_in_order_and_parallel_reads_interleaved(tmp_path):
    a = write_records(tmp_path / "a", records("a", 3))
    b = write_records(tmp_path / "b", records("b", 2))
    c = write_records(tmp_path / "c", records("c", 1))
    assert read_all(tf.data.TFRecordDataset([a, b, c])) == \
        records("a", 3) + records("b", 2) + records("c", 1)
    # num_parallel_reads=2: a and b open, one record from each in turn; c replaces b.
    ra, rb, rc = records("a", 3), records("b", 2), records("c", 1)
    want = [ra[0], rb[0], ra[1], rb[1], ra[2], rc[0]]
    assert read_all(tf.data.TFRecordDataset([a, b, c], num_parallel_reads=2)) == want


def test_tf_record_dataset_over_a_dataset_of_filenames(tmp_path):
    paths = [write_records(tmp_path / f"f{i}", records(f"f{i}-", 2)) for i in range(3)]
    files = Dataset.from_tensor_slices(paths)
    got = read_all(tf.data.TFRecordDataset(files).batch(3))
    flat = [x for batch in got for x in batch.tolist()]
    assert flat == [r for i in range(3) for r in records(f"f{i}-", 2)]


def test_tf_record_dataset_filenames_from_a_placeholder(tmp_path):
    a = write_records(tmp_path / "a", [b"x", b"y"])
    names = tf.placeholder(tf.string, [None])
    it = tf.data.TFRecordDataset(names).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer, {names: [a, a]})
        assert [np.asarray(sess.run(nxt)).item() for _ in range(4)] == [b"x", b"y", b"x", b"y"]


def test_missing_and_damaged_files(tmp_path):
    nxt = tf.data.TFRecordDataset(str(tmp_path / "missing")).make_one_shot_iterator() \
        .get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError, match="missing"):
            sess.run(nxt)
    path = write_records(tmp_path / "bad", [b"hello world", b"second"])
    data = bytearray(open(path, "rb").read())
    data[14] ^= 0xFF  # a byte of the first record's data
    open(path, "wb").write(bytes(data))
    nxt = tf.data.TFRecordDataset(path).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.DataLossError):
            sess.run(nxt)


def test_text_line_dataset(tmp_path):
    p1 = tmp_path / "a.txt"
    p1.write_bytes(b"first\r\nsecond\n\nlast without newline")
    p2 = tmp_path / "b.txt.gz"
    with gzip.open(p2, "wb") as f:
        f.write(b"g1\ng2\n")
    p3 = tmp_path / "c.txt.z"
    p3.write_bytes(zlib.compress(b"z1\n"))
    assert read_all(tf.data.TextLineDataset(str(p1))) == \
        [b"first", b"second", b"", b"last without newline"]
    assert read_all(tf.data.TextLineDataset([str(p2)], compression_type="GZIP")) == \
        [b"g1", b"g2"]
    assert read_all(tf.data.TextLineDataset(str(p3), compression_type="ZLIB")) == [b"z1"]
    lines = tf.data.TextLineDataset([str(p1), str(p1)]).skip(1).take(5)
    assert read_all(lines) == [b"second", b"", b"last without newline", b"first", b"second"]


def test_fixed_length_record_dataset(tmp_path):
    body = np.arange(24, dtype=np.uint8).tobytes()
    path = tmp_path / "fl.bin"
    path.write_bytes(b"HEAD" + body + b"FT")
    ds = tf.data.FixedLengthRecordDataset(str(path), 6, header_bytes=4, footer_bytes=2)
    got = read_all(ds)
    assert got == [body[i:i + 6] for i in range(0, 24, 6)]
    gz = tmp_path / "fl.bin.gz"
    with gzip.open(gz, "wb") as f:
        f.write(b"HEAD" + body + b"FT")
    ds = tf.data.FixedLengthRecordDataset(str(gz), 6, header_bytes=4, footer_bytes=2,
                                          compression_type="GZIP")
    assert read_all(ds) == got


def test_fixed_length_body_not_a_multiple(tmp_path):
    path = tmp_path / "odd.bin"
    path.write_bytes(b"HH" + bytes(10) + b"F")
    ds = tf.data.FixedLengthRecordDataset(str(path), 4, header_bytes=2, footer_bytes=1)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="not an exact multiple"):
            sess.run(nxt)


def test_fixed_length_records_decoded_in_map(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 12)
    path = tmp_path / "img.bin"
    path.write_bytes(images.tobytes())
    ds = tf.data.FixedLengthRecordDataset(str(path), 12).map(
        lambda r: tf.reshape(tf.decode_raw(r, tf.uint8), [3, 4]))
    got = read_all(ds)
    np.testing.assert_array_equal(np.stack(got), images.reshape(2, 3, 4))


def test_list_files_sorted_and_shuffled(tmp_path):
    names = [str(tmp_path / f"part-{i:02d}.txt") for i in range(12)]
    for n in names:
        open(n, "w").close()
    open(tmp_path / "other.csv", "w").close()
    pattern = str(tmp_path / "part-*.txt")
    assert [x.decode() for x in read_all(Dataset.list_files(pattern, shuffle=False))] == names
    shuffled = [x.decode() for x in read_all(Dataset.list_files(pattern, seed=3))]
    assert sorted(shuffled) == names and shuffled != names
    nxt = Dataset.list_files(str(tmp_path / "nothing-*")).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="No files matched"):
            sess.run(nxt)


def test_file_cache_is_read_by_later_iterators(tmp_path):
    calls = []

    def gen():
        calls.append(1)
        for i in range(4):
            yield np.array([i, -i], np.int64), f"s{i}".encode()

    cache = str(tmp_path / "cache")
    ds = Dataset.from_generator(gen, (tf.int64, tf.string), ([2], [])).cache(cache)
    first = read_all(ds)
    assert len(calls) == 1
    assert os.path.exists(cache + ".data-00000-of-00001")
    second = read_all(ds.repeat(2))
    assert len(calls) == 1  # every later pass read the file
    assert len(second) == 8
    for a, b in zip(first + first, second):
        np.testing.assert_array_equal(a[0], b[0])
        assert np.asarray(a[1]).item() == np.asarray(b[1]).item()


def test_file_cache_incomplete_pass_leaves_no_cache(tmp_path):
    cache = str(tmp_path / "partial")
    ds = Dataset.range(10).cache(cache)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        sess.run(nxt)
    assert not os.path.exists(cache + ".data-00000-of-00001")
    assert read_all(ds) == list(range(10))
    assert os.path.exists(cache + ".data-00000-of-00001")
