"""File datasets: `TFRecordDataset`, `TextLineDataset`, `FixedLengthRecordDataset`.

Each yields scalar strings (bytes) read from its files one file after another, opening a
file when the pipeline reaches it. `filenames` is a string scalar or vector, or a Dataset of
strings (read through `flat_map`, or `interleave` with ``num_parallel_reads`` files open at
once, one record from each in turn, as TF does). Compression ("", "ZLIB", "GZIP") is the
whole file's, as `actorflow.io` writes it. A missing file is a NotFoundError and a damaged
record a DataLossError, raised by `get_next()` when the pipeline reaches them.
"""
from __future__ import annotations

import os

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ..io.tf_record import TFRecordOptions, _open_stream, tf_record_iterator
from .dataset_ops import Dataset, _int64_scalar
from .kernels import DATASET_OP_TYPES, dataset_op
from .pipeline import DatasetValue
from .structure import LEAF, ElementSpec

__all__ = ["TFRecordDataset", "TextLineDataset", "FixedLengthRecordDataset"]

_STRING_SPEC = ElementSpec(LEAF, (dtypes.string,), ((),))


def _string_scalar(data: bytes) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = data
    return out


def _paths(filenames) -> list[str]:
    return [f.decode() if isinstance(f, bytes) else str(f) for f in np.ravel(filenames)]


def _compression(value, op) -> TFRecordOptions:
    name = np.asarray(value).item()
    name = name.decode() if isinstance(name, bytes) else str(name)
    if name not in ("", "ZLIB", "GZIP"):
        raise errors.InvalidArgumentError(None, op, f"Unsupported compression_type: {name!r} "
                                          "(expected '', 'ZLIB' or 'GZIP')")
    return TFRecordOptions(name)


class _RecordsValue(DatasetValue):
    """The records of each file in turn, read by `read(path)`."""

    def __init__(self, paths: list, read) -> None:
        self.paths = paths
        self.read = read

    def iterate(self, run):
        for path in self.paths:
            for data in self.read(path):
                yield (_string_scalar(data),)


def _tf_record_kernel(op, ctx):
    def tf_record_dataset(filenames, compression, buffer_size):
        options = _compression(compression, op)
        return _RecordsValue(_paths(filenames), lambda p: tf_record_iterator(p, options))
    return tf_record_dataset


def _text_lines(path: str, options: TFRecordOptions):
    with _open_stream(path, options) as f:
        for line in f:
            if line.endswith(b"\n"):
                line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            yield line


def _text_line_kernel(op, ctx):
    def text_line_dataset(filenames, compression, buffer_size):
        options = _compression(compression, op)
        return _RecordsValue(_paths(filenames), lambda p: _text_lines(p, options))
    return text_line_dataset


def _fixed_records(path: str, header: int, record: int, footer: int, options, op):
    with _open_stream(path, options) as f:
        if options.compression_type == 0:
            size = os.fstat(f.fileno()).st_size
            body = size - header - footer
            if body % record:
                raise errors.InvalidArgumentError(
                    None, op, f"Excluding the header ({header} bytes) and footer ({footer} "
                    f"bytes), input file \"{path}\" has body length {body} bytes, which is "
                    f"not an exact multiple of the record length ({record} bytes).")
            f.read(header)
            for _ in range(max(body, 0) // record):
                yield f.read(record)
            return
        # Compressed: the uncompressed size is known only at the end; keep back footer bytes.
        f.read(header)
        pending = b""
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            pending += chunk
            while len(pending) >= record + footer:
                yield pending[:record]
                pending = pending[record:]
        if len(pending) != footer:
            raise errors.InvalidArgumentError(
                None, op, f"Excluding the header ({header} bytes) and footer ({footer} bytes), "
                f"input file \"{path}\" has a body that is not an exact multiple of the record "
                f"length ({record} bytes).")


def _fixed_length_kernel(op, ctx):
    def fixed_length_record_dataset(filenames, header, record, footer, buffer_size,
                                    compression):
        h, r, f = int(header), int(record), int(footer)
        if r <= 0 or h < 0 or f < 0:
            raise errors.InvalidArgumentError(
                None, op, f"record_bytes must be > 0 and header/footer bytes >= 0, got "
                f"record_bytes={r}, header_bytes={h}, footer_bytes={f}")
        options = _compression(compression, op)
        return _RecordsValue(_paths(filenames),
                             lambda p: _fixed_records(p, h, r, f, options, op))
    return fixed_length_record_dataset


for _type, _kernel, _doc in (
        ("TFRecordDataset", _tf_record_kernel, "The records of TFRecord files."),
        ("TextLineDataset", _text_line_kernel,
         "The lines of text files, without their line endings."),
        ("FixedLengthRecordDatasetV2", _fixed_length_kernel,
         "The fixed-length records of binary files between a header and a footer.")):
    register_op(_type, infer=lambda op: [(dtypes.variant, ())], grad=NOT_DIFFERENTIABLE,
                kernel=_kernel, host_only=True, doc=_doc)
    DATASET_OP_TYPES.append(_type)
del _type, _kernel, _doc


# -- the Python classes ------------------------------------------------------------------------
def _filenames_tensor(filenames) -> Tensor:
    t = convert_to_tensor(filenames, dtype=dtypes.string, name="filenames")
    if t._shape is not None and len(t._shape) > 1:
        raise TypeError(f"`filenames` must be a scalar or vector of strings, got shape "
                        f"{list(t._shape)}")
    return t


def _string_arg(value, name: str) -> Tensor:
    return convert_to_tensor("" if value is None else value, dtype=dtypes.string, name=name)


class _FileDataset(Dataset):
    """A file dataset: built per file, then combined over a Dataset of filenames."""

    def __init__(self, filenames, num_parallel_reads=None) -> None:
        if isinstance(filenames, Dataset):
            if filenames._spec.types != (dtypes.string,) or filenames._spec.shapes[0] not in \
                    ((), None):
                raise TypeError("`filenames` must be a Dataset of scalar tf.string elements")
            files = filenames
        elif num_parallel_reads is not None:
            files = Dataset.from_tensor_slices(_filenames_tensor(filenames))
        else:
            ds = self._one(_filenames_tensor(filenames))
            super().__init__(ds._variant, ds._spec)
            return
        read = self._one
        if num_parallel_reads is None:
            ds = files.flat_map(read)
        else:
            ds = files.interleave(read, cycle_length=num_parallel_reads, block_length=1)
        super().__init__(ds._variant, ds._spec)

    def _one(self, filenames) -> Dataset:
        raise NotImplementedError


class _CompressedFileDataset(_FileDataset):
    """A file dataset of scalar strings read by op `_OP_TYPE` with a compression type."""

    _OP_TYPE = ""

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None) -> None:
        self._compression_type = compression_type
        self._buffer_size = buffer_size
        super().__init__(filenames, num_parallel_reads)

    def _one(self, filenames) -> Dataset:
        inputs = [_filenames_tensor(filenames),
                  _string_arg(self._compression_type, "compression_type"),
                  _int64_scalar(-1 if self._buffer_size is None else self._buffer_size,
                                "buffer_size")]
        return Dataset(dataset_op(self._OP_TYPE, inputs, _STRING_SPEC), _STRING_SPEC)


class TFRecordDataset(_CompressedFileDataset):
    """The records of TFRecord files, as scalar strings.

    Args:
        filenames: a string scalar or vector, or a Dataset of strings.
        compression_type: "" (none), "ZLIB" or "GZIP".
        buffer_size: accepted for TF's signature (the reader buffers on its own).
        num_parallel_reads: files read at once, one record from each in turn.
    """

    _OP_TYPE = "TFRecordDataset"


class TextLineDataset(_CompressedFileDataset):
    """The lines of text files (without "\\n" or "\\r\\n"), as scalar strings.

    Args:
        filenames: a string scalar or vector, or a Dataset of strings.
        compression_type: "" (none), "ZLIB" or "GZIP".
        buffer_size: accepted for TF's signature.
    """

    _OP_TYPE = "TextLineDataset"


class FixedLengthRecordDataset(_FileDataset):
    """Records of `record_bytes` bytes from binary files, after `header_bytes` and before
    `footer_bytes`, as scalar strings. A body that is not a whole number of records is an
    InvalidArgumentError when the file is reached.
    """

    def __init__(self, filenames, record_bytes, header_bytes=None, footer_bytes=None,
                 buffer_size=None, compression_type=None, num_parallel_reads=None) -> None:
        self._args = (record_bytes, header_bytes, footer_bytes, buffer_size, compression_type)
        super().__init__(filenames, num_parallel_reads)

    def _one(self, filenames) -> Dataset:
        record, header, footer, buffer_size, compression = self._args
        inputs = [_filenames_tensor(filenames),
                  _int64_scalar(header or 0, "header_bytes"),
                  _int64_scalar(record, "record_bytes"),
                  _int64_scalar(footer or 0, "footer_bytes"),
                  _int64_scalar(-1 if buffer_size is None else buffer_size, "buffer_size"),
                  _string_arg(compression, "compression_type")]
        return Dataset(dataset_op("FixedLengthRecordDatasetV2", inputs, _STRING_SPEC),
                       _STRING_SPEC)
