"""Readers (TF 1.x ``io_ops``): turn work units (file names) from a queue into records.

A reader op (WholeFileReaderV2, TextLineReaderV2, FixedLengthRecordReaderV2,
TFRecordReaderV2, IdentityReaderV2) outputs a ``resource`` handle whose value, in each
session, is that session's reader state (kept in the session's op state). ReaderReadV2 takes
the reader and a queue handle: when the reader has no current work unit it dequeues the next
file name from the queue (blocking as the queue does), then produces the file's records one
per read as (key, value) strings. When the queue is closed and empty the read raises
`OutOfRangeError`, as TF does, which ends a queue-runner pipeline after `num_epochs`.

Keys are TF's: ``file:line`` (1-based, counting skipped header lines) for text lines,
``file:index`` (0-based) for fixed-length records, ``file:offset`` (byte offset in the
uncompressed stream) for TFRecords, the file name for whole files, the work unit itself for
the identity reader.

Files are read whole into memory when a work unit starts (text, fixed-length, whole-file;
TFRecord files are streamed), so a read is a slice, not a file access. One lock per reader
serializes reads, so queue-runner threads may share a reader.
"""
from __future__ import annotations

import threading
import zlib

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, convert_to_tensor, make_op
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ..gfile import _os_error
from ..io import tf_record

__all__ = ["ReaderBase", "WholeFileReader", "TextLineReader", "FixedLengthRecordReader",
           "TFRecordReader", "IdentityReader"]


# -- per-session reader state ----------------------------------------------------------------
def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise _os_error(e, path) from None


def _text(work) -> str:
    return work.decode("utf-8", "surrogateescape") if isinstance(work, bytes) else str(work)


class _Reader:
    """A reader's state in one session: the current work unit, its records, the counters."""

    def __init__(self, op) -> None:
        self.op = op
        self.lock = threading.Lock()
        self.work: bytes | None = None
        self.records = None  # iterator of (key bytes, value bytes) over the current work
        self.produced = 0
        self.completed = 0

    def records_of(self, work: bytes):
        """Yields the (key, value) records of work unit `work` (overridden per reader)."""
        raise NotImplementedError

    def _next_work(self, queue, timeout) -> None:
        item = queue.dequeue(timeout)
        if isinstance(item, (tuple, list)):
            if len(item) != 1:
                raise errors.InvalidArgumentError(
                    None, self.op, f"{self.op.name}: a reader's queue must hold one string "
                    f"per item, got {len(item)} components")
            item = item[0]
        if isinstance(item, np.ndarray):
            item = item.reshape(()).item() if item.size == 1 else None
        if isinstance(item, str):
            item = item.encode("utf-8")
        if not isinstance(item, (bytes, np.bytes_)):
            raise errors.InvalidArgumentError(
                None, self.op, f"{self.op.name}: expected a string work unit from the queue, "
                f"got {type(item).__name__}")
        self.work = bytes(item)
        self.records = self.records_of(self.work)

    def _finish_work(self) -> None:
        self.completed += 1
        self.work = None
        self.records = None

    def read(self, queue, timeout) -> tuple[bytes, bytes]:
        with self.lock:
            while True:
                if self.records is None:
                    self._next_work(queue, timeout)
                record = next(self.records, None)
                if record is not None:
                    self.produced += 1
                    return record
                self._finish_work()

    def read_up_to(self, queue, n: int, timeout) -> tuple[list, list]:
        """Up to `n` records; fewer when the current work unit ends after some records, or
        when the queue runs out after some (none: the queue's OutOfRangeError)."""
        keys, values = [], []
        with self.lock:
            while len(keys) < n:
                if self.records is None:
                    try:
                        self._next_work(queue, timeout)
                    except errors.OutOfRangeError:
                        if keys:
                            break
                        raise
                record = next(self.records, None)
                if record is None:
                    self._finish_work()
                    if keys:
                        break
                    continue
                keys.append(record[0])
                values.append(record[1])
                self.produced += 1
        return keys, values

    def reset(self) -> None:
        with self.lock:
            self.work = self.records = None
            self.produced = self.completed = 0


class _WholeFile(_Reader):
    def records_of(self, work):
        yield work, _read_file(_text(work))


class _Identity(_Reader):
    def records_of(self, work):
        yield work, work


class _TextLine(_Reader):
    def records_of(self, work):
        skip = self.op.attrs["skip_header_lines"]
        data = _read_file(_text(work))
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()  # the newline ending the last line starts no new line
        for number, line in enumerate(lines, start=1):
            if number <= skip:
                continue
            if line.endswith(b"\r"):
                line = line[:-1]
            yield work + b":" + str(number).encode(), line


class _FixedLength(_Reader):
    def records_of(self, work):
        a = self.op.attrs
        data = _read_file(_text(work))
        encoding = a["encoding"]
        if encoding:
            try:
                data = zlib.decompress(data, 31 if encoding == "GZIP" else 15)
            except zlib.error as e:
                raise errors.DataLossError(None, self.op, f"{_text(work)}: corrupted "
                                           f"{encoding} stream ({e})") from None
        size, hop = a["record_bytes"], a["hop_bytes"] or a["record_bytes"]
        end = len(data) - a["footer_bytes"]
        view = memoryview(data)
        index, pos = 0, a["header_bytes"]
        while pos + size <= end:
            yield work + b":" + str(index).encode(), bytes(view[pos:pos + size])
            index += 1
            pos += hop


class _TFRecord(_Reader):
    def records_of(self, work):
        options = tf_record.TFRecordOptions(self.op.attrs["compression_type"] or None)
        for offset, data in tf_record.iter_records(_text(work), options):
            yield work + b":" + str(offset).encode(), data


_STATE_CLASSES = {"WholeFileReaderV2": _WholeFile, "IdentityReaderV2": _Identity,
                  "TextLineReaderV2": _TextLine, "FixedLengthRecordReaderV2": _FixedLength,
                  "TFRecordReaderV2": _TFRecord}


# -- the ops ---------------------------------------------------------------------------------
def _reader_kernel(op, ctx):
    shared = op.attrs.get("shared_name") or ""
    key = ("shared_reader", op.type, shared) if shared else op
    state = ctx.op_state(key, lambda: _STATE_CLASSES[op.type](op))

    def reader_handle():
        return state
    return reader_handle


for _type, _doc in [
        ("WholeFileReaderV2", "A reader giving each file's whole contents as one record."),
        ("IdentityReaderV2", "A reader giving each work unit as its own key and value."),
        ("TextLineReaderV2", "A reader giving the lines of text files."),
        ("FixedLengthRecordReaderV2", "A reader giving fixed-size records of binary files."),
        ("TFRecordReaderV2", "A reader giving the records of TFRecord files.")]:
    register_op(_type, infer=lambda op: [(dtypes.resource, ())], grad=NOT_DIFFERENTIABLE,
                kernel=_reader_kernel, stateful=True, host_only=True, doc=_doc)
del _type, _doc


def _check_handles(op, n: int = 2) -> None:
    for i, what in list(enumerate(("reader", "queue")))[:n]:
        if op.inputs[i].dtype != dtypes.resource:
            raise TypeError(f"{op.type}: input {i} must be a {what} handle (resource), got "
                            f"{op.inputs[i].dtype.name}")


def _timeout(ctx) -> float | None:
    """Seconds a read may wait for a work unit: the session's operation_timeout_in_ms when
    positive, else forever."""
    ms = getattr(getattr(ctx.session, "_config", None), "operation_timeout_in_ms", 0) or 0
    return ms / 1000.0 if ms > 0 else None


def _read_infer(op):
    _check_handles(op)
    return [(dtypes.string, ()), (dtypes.string, ())]


def _read_kernel(op, ctx):
    timeout = _timeout(ctx)

    def reader_read(reader, queue):
        key, value = reader.read(queue, timeout)
        return np.array(key, dtype=object), np.array(value, dtype=object)
    return reader_read


def _read_up_to_infer(op):
    _check_handles(op)
    return [(dtypes.string, (None,)), (dtypes.string, (None,))]


def _read_up_to_kernel(op, ctx):
    timeout = _timeout(ctx)

    def reader_read_up_to(reader, queue, n):
        n = int(n)
        if n <= 0:
            raise errors.InvalidArgumentError(None, op, f"num_records must be positive, got "
                                              f"{n}")
        keys, values = reader.read_up_to(queue, n, timeout)
        k = np.empty(len(keys), dtype=object)
        v = np.empty(len(values), dtype=object)
        k[:], v[:] = keys, values
        return k, v
    return reader_read_up_to


def _counter_infer(op):
    _check_handles(op, 1)
    return [(dtypes.int64, ())]


def _reset_infer(op):
    _check_handles(op, 1)
    return []


def _counter_kernel(field: str):
    def factory(op, ctx):
        def counter(reader):
            return np.int64(getattr(reader, field))
        return counter
    return factory


def _reset_kernel(op, ctx):
    def reader_reset(reader):
        reader.reset()
    return reader_reset


register_op("ReaderReadV2", infer=_read_infer, grad=NOT_DIFFERENTIABLE, kernel=_read_kernel,
            stateful=True, host_only=True,
            doc="The next (key, value) record of a reader, dequeuing work units as needed.")
register_op("ReaderReadUpToV2", infer=_read_up_to_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_read_up_to_kernel, stateful=True, host_only=True,
            doc="Up to num_records (key, value) records of a reader.")
register_op("ReaderNumRecordsProducedV2",
            infer=_counter_infer,
            grad=NOT_DIFFERENTIABLE, kernel=_counter_kernel("produced"), stateful=True,
            host_only=True, doc="How many records the reader has produced.")
register_op("ReaderNumWorkUnitsCompletedV2",
            infer=_counter_infer,
            grad=NOT_DIFFERENTIABLE, kernel=_counter_kernel("completed"), stateful=True,
            host_only=True, doc="How many work units the reader has finished.")
register_op("ReaderResetV2", infer=_reset_infer,
            grad=NOT_DIFFERENTIABLE, kernel=_reset_kernel, stateful=True, host_only=True,
            doc="Forgets the reader's current work unit and zeroes its counters.")


# -- Python classes --------------------------------------------------------------------------
def _queue_ref(queue) -> Tensor:
    ref = getattr(queue, "queue_ref", None)
    return ref if ref is not None else convert_to_tensor(queue)


class ReaderBase:
    """Base class of the readers: produces (key, value) records from work units (file
    names) taken from a queue, one record per `read`.

    Args:
        reader_ref: the reader op's handle tensor.
        supports_serialize: accepted for TF's signature (state serialization is not
            implemented here).
    """

    def __init__(self, reader_ref: Tensor, supports_serialize: bool = False) -> None:
        self._reader_ref = reader_ref
        self._supports_serialize = supports_serialize

    @property
    def reader_ref(self) -> Tensor:
        return self._reader_ref

    @property
    def supports_serialize(self) -> bool:
        return self._supports_serialize

    def read(self, queue, name=None) -> tuple[Tensor, Tensor]:
        """The next record as (key, value) scalar strings; dequeues a work unit from
        `queue` (a queue or its handle) when the current one is finished.

        Raises (at run time): OutOfRangeError once the queue is closed and empty.
        """
        op = make_op("ReaderReadV2", [self._reader_ref, _queue_ref(queue)], None,
                     name or "ReaderReadV2")
        return op.outputs[0], op.outputs[1]

    def read_up_to(self, queue, num_records, name=None) -> tuple[Tensor, Tensor]:
        """Up to `num_records` records as (keys, values) string vectors; possibly fewer,
        e.g. when a file ends."""
        n = convert_to_tensor(num_records, dtype=dtypes.int64)
        op = make_op("ReaderReadUpToV2", [self._reader_ref, _queue_ref(queue), n], None,
                     name or "ReaderReadUpToV2")
        return op.outputs[0], op.outputs[1]

    def num_records_produced(self, name=None) -> Tensor:
        """How many records this reader has produced (successful reads)."""
        return make_op("ReaderNumRecordsProducedV2", [self._reader_ref], None,
                       name or "ReaderNumRecordsProducedV2").outputs[0]

    def num_work_units_completed(self, name=None) -> Tensor:
        """How many work units this reader has finished."""
        return make_op("ReaderNumWorkUnitsCompletedV2", [self._reader_ref], None,
                       name or "ReaderNumWorkUnitsCompletedV2").outputs[0]

    def reset(self, name=None):
        """An op restoring the reader to its initial clean state."""
        return make_op("ReaderResetV2", [self._reader_ref], None, name or "ReaderResetV2")

    def serialize_state(self, name=None):
        raise errors.UnimplementedError(None, None, f"{type(self).__name__} does not "
                                        "support serializing its state here")

    def restore_state(self, state, name=None):
        raise errors.UnimplementedError(None, None, f"{type(self).__name__} does not "
                                        "support restoring its state here")


def _reader_op(op_type: str, name, default_name: str, **attrs) -> Tensor:
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    return make_op(op_type, [], attrs, name or default_name).outputs[0]


class WholeFileReader(ReaderBase):
    """A reader whose records are whole files: key the file name, value its contents."""

    def __init__(self, name=None) -> None:
        super().__init__(_reader_op("WholeFileReaderV2", name, "WholeFileReaderV2"))


class IdentityReader(ReaderBase):
    """A reader whose one record per work unit is the work unit as both key and value."""

    def __init__(self, name=None) -> None:
        super().__init__(_reader_op("IdentityReaderV2", name, "IdentityReaderV2"))


class TextLineReader(ReaderBase):
    """A reader whose records are the lines of text files (without the line ending); the
    first `skip_header_lines` lines of each file are skipped."""

    def __init__(self, skip_header_lines=None, name=None) -> None:
        skip = int(skip_header_lines or 0)
        if skip < 0:
            raise ValueError(f"skip_header_lines must be >= 0, got {skip}")
        super().__init__(_reader_op("TextLineReaderV2", name, "TextLineReaderV2",
                                    skip_header_lines=skip))


class FixedLengthRecordReader(ReaderBase):
    """A reader whose records are `record_bytes`-sized pieces of binary files, after
    `header_bytes` and before `footer_bytes`, starting every `hop_bytes` (default
    `record_bytes`); bytes left over at the end that do not fill a record are ignored.

    Args:
        encoding: None, "ZLIB" or "GZIP" for compressed files.
    """

    def __init__(self, record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None,
                 name=None, encoding=None) -> None:
        record_bytes = int(record_bytes)
        if record_bytes <= 0:
            raise ValueError(f"record_bytes must be positive, got {record_bytes}")
        values = {"header_bytes": int(header_bytes or 0), "footer_bytes": int(footer_bytes or 0),
                  "hop_bytes": int(hop_bytes or 0)}
        for k, v in values.items():
            if v < 0:
                raise ValueError(f"{k} must be >= 0, got {v}")
        enc = (encoding.decode() if isinstance(encoding, bytes) else encoding or "").upper()
        if enc not in ("", "ZLIB", "GZIP"):
            raise ValueError(f"encoding must be None, 'ZLIB' or 'GZIP', got {encoding!r}")
        super().__init__(_reader_op("FixedLengthRecordReaderV2", name,
                                    "FixedLengthRecordReaderV2", record_bytes=record_bytes,
                                    encoding=enc, **values))


class TFRecordReader(ReaderBase):
    """A reader whose records are those of TFRecord files; key ``file:offset``.

    Args:
        options: a `tf.io.TFRecordOptions` (or a compression type) for compressed files.
    """

    def __init__(self, name=None, options=None) -> None:
        ctype = tf_record.TFRecordOptions.get_compression_type_string(options)
        super().__init__(_reader_op("TFRecordReaderV2", name, "TFRecordReaderV2",
                                    compression_type=ctype))

