"""Cases for the tf.data ops (actorflow/data): each builds a small dataset, reads its first
elements through an iterator in the one run the test makes, and compares them with the
elements computed in NumPy. The iterator ops (IteratorV2, MakeIterator, IteratorGetNext, ...)
are covered by every case; the file datasets read files written here into a temporary
directory."""
import atexit
import glob
import gzip
import os
import shutil
import tempfile

import numpy as np

import actorflow as tf
from actorflow.data.structure import flatten
from actorflow.io import TFRecordWriter

from . import OpCase, randn

Dataset = tf.data.Dataset


def _flat(structures) -> list:
    out = []
    for s in structures:
        out.extend(flatten(s))
    return out


def _read(k: int, make, one_shot: bool = False):
    """build(*inputs): the first `k` elements of ``make(*inputs)``, flattened. An
    initializable iterator is initialized by a control edge before the first get_next
    (creation order runs the later get_nexts after it)."""
    def build(*phs):
        ds = make(*phs)
        if one_shot:
            it = ds.make_one_shot_iterator()
            return _flat([it.get_next() for _ in range(k)])
        it = ds.make_initializable_iterator()
        with tf.control_dependencies([it.initializer]):
            first = it.get_next()
        return _flat([first] + [it.get_next() for _ in range(k - 1)])
    return build


def _ints(*values):
    return lambda *inputs: [np.int64(v) for v in values]


def _tmpdir() -> str:
    d = tempfile.mkdtemp(prefix="actorflow-data-cases-")
    atexit.register(shutil.rmtree, d, True)
    return d


def _tfrecords():
    path = os.path.join(_tmpdir(), "a.tfrecord")
    with TFRecordWriter(path) as w:
        for r in (b"first", b"", b"third"):
            w.write(r)
    return tf.data.TFRecordDataset(path)


def _text_lines():
    path = os.path.join(_tmpdir(), "a.txt.gz")
    with gzip.open(path, "wb") as f:
        f.write(b"one\r\ntwo\n\nfour")
    return tf.data.TextLineDataset([path], compression_type="GZIP")


def _fixed_length():
    path = os.path.join(_tmpdir(), "a.bin")
    with open(path, "wb") as f:
        f.write(b"HDR" + bytes(range(8)) + b"F")
    return tf.data.FixedLengthRecordDataset(path, 4, header_bytes=3, footer_bytes=1)


def _strings(*values):
    return lambda *inputs: [np.array(v, dtype=object) for v in values]


_CASES_DIR = os.path.dirname(os.path.abspath(__file__))


def _check_list_files(outs, inputs):
    want = sorted(glob.glob(os.path.join(_CASES_DIR, "*.py")))[:2]
    assert [o.decode() if isinstance(o, bytes) else o.item().decode() for o in outs] == want


def _check_shuffle(outs, inputs):
    got = [int(o) for o in outs]
    assert sorted(got) == list(range(10)) and got != list(range(10))


def _fill_v(v):
    return tf.fill([tf.cast(v, tf.int32)], v)  # [v, v, ..., v] (v of them)


def _gen():
    yield [1, 2]
    yield [3, 4]


def _via_string_handle(x):
    ds = Dataset.from_tensor_slices(x)
    it = ds.make_initializable_iterator()
    feedable = tf.data.Iterator.from_string_handle(it.string_handle(), ds.output_types,
                                                   ds.output_shapes)
    with tf.control_dependencies([it.initializer]):
        first = feedable.get_next()
    return [first, feedable.get_next()]


X = randn(5, 2)

CASES = [
    OpCase("TensorDataset", _read(1, Dataset.from_tensors), [X], lambda x: [x], grad=False),
    OpCase("TensorSliceDataset", _read(3, Dataset.from_tensor_slices), [X],
           lambda x: [x[0], x[1], x[2]], grad=False),
    OpCase("RangeDataset", _read(3, lambda: Dataset.range(2, 9, 3)), [], _ints(2, 5, 8),
           grad=False),
    OpCase("ZipDataset", _read(2, lambda x: Dataset.zip((Dataset.range(3),
                                                         Dataset.from_tensor_slices(x)))),
           [X], lambda x: [np.int64(0), x[0], np.int64(1), x[1]], grad=False),
    OpCase("ConcatenateDataset",
           _read(4, lambda: Dataset.range(2).concatenate(Dataset.range(5, 7))), [],
           _ints(0, 1, 5, 6), grad=False),
    OpCase("MapDataset",
           _read(2, lambda x: Dataset.from_tensor_slices(x).map(lambda r: r * 2.0 + 1.0)),
           [X], lambda x: [x[0] * 2 + 1, x[1] * 2 + 1], grad=False),
    OpCase("ParallelMapDataset",
           _read(4, lambda x: Dataset.from_tensor_slices(x).map(
               lambda r: tf.reduce_sum(r), num_parallel_calls=2)),
           [X], lambda x: list(x[:4].sum(axis=1)), grad=False),
    OpCase("FilterDataset",
           _read(3, lambda: Dataset.range(10).filter(lambda v: tf.equal(v % 3, 0))), [],
           _ints(0, 3, 6), grad=False),
    OpCase("FlatMapDataset",
           _read(4, lambda: Dataset.range(3).flat_map(
               lambda v: Dataset.from_tensors(v).repeat(2))), [], _ints(0, 0, 1, 1),
           grad=False),
    OpCase("InterleaveDataset",
           _read(12, lambda: Dataset.range(4).interleave(
               lambda v: Dataset.from_tensors(v).repeat(3), cycle_length=2, block_length=2)),
           [], _ints(0, 0, 1, 1, 0, 1, 2, 2, 3, 3, 2, 3), grad=False),
    OpCase("ShuffleDataset", _read(10, lambda: Dataset.range(10).shuffle(10, seed=3)), [],
           check=_check_shuffle, grad=False),
    OpCase("RepeatDataset", _read(6, lambda: Dataset.range(2).repeat(3)), [],
           _ints(0, 1, 0, 1, 0, 1), grad=False),
    OpCase("TakeDataset", _read(3, lambda: Dataset.range(10).take(3)), [], _ints(0, 1, 2),
           grad=False),
    OpCase("SkipDataset", _read(2, lambda: Dataset.range(5).skip(3)), [], _ints(3, 4),
           grad=False),
    OpCase("ShardDataset", _read(3, lambda: Dataset.range(10).shard(3, 1)), [],
           _ints(1, 4, 7), grad=False),
    OpCase("CacheDataset", _read(6, lambda: Dataset.range(3).cache().repeat(2)), [],
           _ints(0, 1, 2, 0, 1, 2), grad=False),
    OpCase("BatchDatasetV2", _read(3, lambda x: Dataset.from_tensor_slices(x).batch(2)), [X],
           lambda x: [x[0:2], x[2:4], x[4:]], grad=False),
    OpCase("PaddedBatchDatasetV2",
           _read(2, lambda: Dataset.range(1, 4).map(_fill_v).padded_batch(
               2, padded_shapes=[None], padding_values=np.int64(-1))), [],
           lambda: [np.array([[1, -1], [2, 2]]), np.array([[3, 3, 3]])], grad=False),
    OpCase("UnbatchDataset", _read(2, lambda x: Dataset.from_tensors(x).unbatch()), [X],
           lambda x: [x[0], x[1]], grad=False),
    OpCase("PrefetchDataset", _read(3, lambda: Dataset.range(3).prefetch(1)), [],
           _ints(0, 1, 2), grad=False),
    OpCase("GeneratorDataset",
           _read(2, lambda: Dataset.from_generator(_gen, tf.int64, tf.TensorShape([2]))), [],
           lambda: [np.array([1, 2]), np.array([3, 4])], grad=False),
    OpCase("MatchingFilesDataset",
           _read(2, lambda: Dataset.list_files(os.path.join(_CASES_DIR, "*.py"),
                                               shuffle=False)), [],
           check=_check_list_files, grad=False),
    OpCase("TFRecordDataset", _read(3, _tfrecords), [], _strings(b"first", b"", b"third"),
           grad=False),
    OpCase("TextLineDataset", _read(4, _text_lines), [], _strings(b"one", b"two", b"", b"four"),
           grad=False),
    OpCase("FixedLengthRecordDatasetV2", _read(2, _fixed_length), [],
           _strings(bytes(range(4)), bytes(range(4, 8))), grad=False),
    OpCase("OneShotIterator", _read(2, lambda: Dataset.range(4, 6), one_shot=True), [],
           _ints(4, 5), grad=False),
    OpCase("IteratorV2", _read(1, lambda: Dataset.range(7, 9)), [], _ints(7), grad=False),
    OpCase("MakeIterator", _read(2, lambda: Dataset.range(7, 9)), [], _ints(7, 8),
           grad=False),
    OpCase("IteratorGetNext", _read(2, lambda x: Dataset.from_tensor_slices(
        {"a": x, "b": x[:, 0]})), [X], lambda x: [x[0], x[0, 0], x[1], x[1, 0]], grad=False),
    OpCase("IteratorToStringHandle", _via_string_handle, [X], lambda x: [x[0], x[1]],
           grad=False),
    OpCase("IteratorFromStringHandleV2", _via_string_handle, [X], lambda x: [x[0], x[1]],
           grad=False, name="feedable"),
]
