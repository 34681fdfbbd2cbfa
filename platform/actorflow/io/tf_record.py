"""TFRecord files: `TFRecordWriter`, `tf_record_iterator`, `TFRecordOptions`.

A TFRecord file is a sequence of records, each framed as::

    uint64 length (little-endian) | uint32 masked_crc32c(the 8 length bytes) |
    data[length]                  | uint32 masked_crc32c(data)

with ``masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8`` (mod 2**32). The whole stream
may be compressed as one zlib stream (ZLIB) or a gzip stream (GZIP); byte offsets in error
messages are then offsets in the uncompressed stream. CRC-32C comes from the `google-crc32c`
wheel (hardware or C implementation, GB/s), so framing costs nothing next to the I/O.

As TensorFlow does, a file that ends inside a record's 12-byte header ends the iteration (a
writer may be appending), while a record whose header is whole but whose data or CRC is cut
short, or a CRC that does not match, is a `DataLossError` naming the file and the offset.
"""
from __future__ import annotations

import enum
import io
import os
import struct
import zlib
from typing import Iterator

import google_crc32c

from .. import errors
from ..gfile import _os_error

__all__ = ["TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter", "tf_record_iterator",
           "crc32c", "masked_crc32c", "encode_record", "iter_records"]

_MASK_DELTA = 0xA282EAD8
_HEADER = 12
_READ_CHUNK = 1 << 20  # bytes per read while collecting a large record's data


def crc32c(data) -> int:
    """The CRC-32C (Castagnoli) of `data` (``crc32c(b"123456789") == 0xE3069283``)."""
    return google_crc32c.value(bytes(data) if not isinstance(data, bytes) else data)


def masked_crc32c(data) -> int:
    """TFRecord's masked CRC of `data`: the CRC rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """One framed record: length, the length's masked CRC, the data, the data's masked CRC."""
    header = struct.pack("<Q", len(data))
    return b"".join((header, struct.pack("<I", masked_crc32c(header)), data,
                     struct.pack("<I", masked_crc32c(data))))


class TFRecordCompressionType(enum.IntEnum):
    """How a TFRecord file is compressed (the numbers are TF's)."""

    NONE = 0
    ZLIB = 1
    GZIP = 2


_TYPE_BY_NAME = {"": TFRecordCompressionType.NONE, "NONE": TFRecordCompressionType.NONE,
                 "ZLIB": TFRecordCompressionType.ZLIB, "GZIP": TFRecordCompressionType.GZIP}
# zlib's `wbits` for each compressed format: 15 is a zlib header, 16 + 15 a gzip header.
_WBITS = {TFRecordCompressionType.ZLIB: 15, TFRecordCompressionType.GZIP: 31}


class TFRecordOptions:
    """Options of a TFRecord writer or reader: the compression and zlib's settings.

    Args:
        compression_type: a `TFRecordCompressionType`, ``"ZLIB"``, ``"GZIP"``, ``""`` or None
            (no compression).
        flush_mode: zlib's flush mode for `TFRecordWriter.flush` (default Z_SYNC_FLUSH).
        input_buffer_size, output_buffer_size: accepted for TF's signature; the streams here
            buffer on their own.
        window_bits: zlib's window size, 8..15 (default 15).
        compression_level: 0..9, or -1 for zlib's default.
        compression_method: only zlib.DEFLATED.
        mem_level: zlib's memory level, 1..9 (TF's default 9).
        compression_strategy: zlib's strategy (default Z_DEFAULT_STRATEGY).
    """

    compression_type_map = {TFRecordCompressionType.ZLIB: "ZLIB",
                            TFRecordCompressionType.GZIP: "GZIP",
                            TFRecordCompressionType.NONE: ""}

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None,
                 output_buffer_size=None, window_bits=None, compression_level=None,
                 compression_method=None, mem_level=None, compression_strategy=None) -> None:
        self.compression_type = _compression_type(compression_type)
        self.flush_mode = zlib.Z_SYNC_FLUSH if flush_mode is None else int(flush_mode)
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = 15 if window_bits is None else int(window_bits)
        self.compression_level = -1 if compression_level is None else int(compression_level)
        if compression_method not in (None, zlib.DEFLATED):
            raise ValueError(f"compression_method must be zlib.DEFLATED "
                             f"({zlib.DEFLATED}), got {compression_method!r}")
        self.compression_method = zlib.DEFLATED
        self.mem_level = 9 if mem_level is None else int(mem_level)
        self.compression_strategy = (zlib.Z_DEFAULT_STRATEGY if compression_strategy is None
                                     else int(compression_strategy))

    @classmethod
    def get_compression_type_string(cls, options) -> str:
        """``"ZLIB"``, ``"GZIP"`` or ``""`` for options, a compression type or None."""
        if isinstance(options, TFRecordOptions):
            return cls.compression_type_map[options.compression_type]
        return cls.compression_type_map[_compression_type(options)]

    def _wbits(self) -> int:
        base = self.window_bits
        return base + 16 if self.compression_type == TFRecordCompressionType.GZIP else base

    def __repr__(self) -> str:
        return f"TFRecordOptions(compression_type={self.compression_type.name})"


def _compression_type(value) -> TFRecordCompressionType:
    if value is None:
        return TFRecordCompressionType.NONE
    if isinstance(value, TFRecordOptions):
        return value.compression_type
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str):
        try:
            return _TYPE_BY_NAME[value.upper()]
        except KeyError:
            raise ValueError(f"unknown TFRecord compression type {value!r}; use '', 'ZLIB' "
                             "or 'GZIP'") from None
    try:
        return TFRecordCompressionType(int(value))
    except ValueError:
        raise ValueError(f"unknown TFRecord compression type {value!r}") from None


def _options(options) -> TFRecordOptions:
    return options if isinstance(options, TFRecordOptions) else TFRecordOptions(options)


class TFRecordWriter:
    """Writes records to a TFRecord file (created or truncated when the writer is made).

    Args:
        path: the file to write.
        options: a `TFRecordOptions`, or a compression type (``"GZIP"``, ``"ZLIB"``, ``""``).

    Raises:
        actorflow.errors.NotFoundError: the directory does not exist (other OS errors map to
            their `tf.errors` type).
    """

    def __init__(self, path, options=None) -> None:
        self._path = os.fspath(path)
        self._options = _options(options)
        try:
            self._file = open(self._path, "wb")  # noqa: SIM115 - closed by close()
        except OSError as e:
            raise _os_error(e, self._path) from None
        o = self._options
        self._zlib = None
        if o.compression_type != TFRecordCompressionType.NONE:
            self._zlib = zlib.compressobj(o.compression_level, zlib.DEFLATED, o._wbits(),
                                          o.mem_level, o.compression_strategy)

    def write(self, record) -> None:
        """Appends one record (bytes, or str written as UTF-8)."""
        if self._file is None:
            raise errors.FailedPreconditionError(None, None,
                                                 f"TFRecordWriter for {self._path} is closed")
        if isinstance(record, str):
            record = record.encode("utf-8")
        framed = encode_record(bytes(record))
        self._file.write(self._zlib.compress(framed) if self._zlib is not None else framed)

    def flush(self) -> None:
        """Pushes what was written so far to the file (a zlib sync flush when compressed)."""
        if self._file is None:
            return
        if self._zlib is not None:
            self._file.write(self._zlib.flush(self._options.flush_mode))
        self._file.flush()

    def close(self) -> None:
        """Finishes the compressed stream, if any, and closes the file (twice is fine)."""
        if self._file is None:
            return
        try:
            if self._zlib is not None:
                self._file.write(self._zlib.flush(zlib.Z_FINISH))
        finally:
            self._file.close()
            self._file = None

    def __enter__(self) -> "TFRecordWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Inflating(io.RawIOBase):
    """A readable raw stream of the uncompressed bytes of a zlib or gzip file (concatenated
    gzip members are read one after another, as gzip readers do)."""

    def __init__(self, raw, wbits: int, path: str) -> None:
        self._raw, self._wbits, self._path = raw, wbits, path
        self._z = zlib.decompressobj(wbits)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        while not self._pending:
            if self._z.eof:
                rest = self._z.unused_data
                if not rest:
                    rest = self._raw.read(_READ_CHUNK)
                if not rest or self._wbits != 31:
                    return 0
                self._z = zlib.decompressobj(self._wbits)
            else:
                rest = self._z.unconsumed_tail or self._raw.read(_READ_CHUNK)
                if not rest:
                    raise errors.DataLossError(None, None, f"{self._path}: the compressed "
                                               "stream ends before its end marker (truncated)")
            try:
                self._pending = self._z.decompress(rest, _READ_CHUNK)
            except zlib.error as e:
                raise errors.DataLossError(None, None, f"{self._path}: corrupted compressed "
                                           f"stream ({e})") from None
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_stream(path: str, options: TFRecordOptions):
    """The file's uncompressed byte stream."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as e:
        raise _os_error(e, path) from None
    if options.compression_type == TFRecordCompressionType.NONE:
        return f
    return io.BufferedReader(_Inflating(f, options._wbits(), path), _READ_CHUNK)


def _read_exact(stream, n: int) -> bytes:
    """Up to `n` bytes, read in bounded chunks so a forged length cannot allocate it all."""
    if n <= _READ_CHUNK:
        return stream.read(n)
    parts, left = [], n
    while left:
        part = stream.read(min(left, _READ_CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def iter_records(path, options=None) -> Iterator[tuple[int, bytes]]:
    """Yields (byte offset, data) of each record of TFRecord file `path`, checking both CRCs.

    Raises:
        actorflow.errors.NotFoundError: `path` does not exist.
        actorflow.errors.DataLossError: a CRC mismatch or a truncated record (the message
            names the file and the record's offset).
    """
    path = os.fspath(path)
    stream = _open_stream(path, _options(options))
    with stream:
        offset = 0
        while True:
            header = stream.read(_HEADER)
            if len(header) < _HEADER:
                return  # end of file, or a header still being written (TF stops there too)
            length, length_crc = struct.unpack("<QI", header)
            if masked_crc32c(header[:8]) != length_crc:
                raise errors.DataLossError(None, None, f"{path}: corrupted record at offset "
                                           f"{offset} (the length's CRC does not match; is "
                                           "this a TFRecord file?)")
            body = _read_exact(stream, length + 4)
            if len(body) < length + 4:
                raise errors.DataLossError(None, None, f"{path}: truncated record at offset "
                                           f"{offset} (its header declares {length} bytes)")
            data = body[:length]
            if masked_crc32c(data) != struct.unpack("<I", body[length:])[0]:
                raise errors.DataLossError(None, None, f"{path}: corrupted record at offset "
                                           f"{offset} (the data's CRC does not match)")
            yield offset, data
            offset += _HEADER + length + 4


def tf_record_iterator(path, options=None) -> Iterator[bytes]:
    """Yields the data (bytes) of each record of the TFRecord file `path`.

    Args:
        path: the file to read.
        options: a `TFRecordOptions` or a compression type naming how the file is compressed.

    Raises:
        actorflow.errors.NotFoundError: `path` does not exist.
        actorflow.errors.DataLossError: a damaged record (file and offset in the message).
    """
    for _, data in iter_records(path, options):
        yield data
