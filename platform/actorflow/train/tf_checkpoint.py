"""Reading TensorFlow's V2 checkpoints (tensor bundles) without TensorFlow.

A TF checkpoint with prefix P is ``P.index`` and the shards ``P.data-NNNNN-of-MMMMM``:

- ``P.index`` is a LevelDB-format table (an SSTable): data blocks of key/value entries with
  prefix-compressed keys and restart points, an index block of block handles, a metaindex
  block and a 48-byte footer (the two handles, padded, and the magic 0xdb4775248b80fb57).
  Each block is followed by a 5-byte trailer: its compression type and the masked CRC-32C of
  the block and that type byte. The key "" holds a BundleHeaderProto (number of shards, byte
  order, format version); every other key a tensor's BundleEntryProto (dtype, shape, shard,
  offset, size, masked CRC-32C of its bytes, and for a partitioned variable its slices).
- a data shard holds the tensors' bytes back to back: numbers in the header's byte order,
  strings as the varint64 lengths, a masked CRC-32C of the lengths and the bytes.

TF (2.21 as 1.x) writes the index blocks uncompressed (its bundle writer turns the table's
default Snappy off); a Snappy block is refused with `UnimplementedError`. Nothing here
executes anything from the files: the protos are decoded field by field
(`actorflow.summary.wire`), every size the index declares is checked against the bytes the
files really hold before anything is allocated (`actorflow.file_safety`), and every block and
tensor is checked against its CRC; a mismatch is a `DataLossError` naming the file and the
entry. TF's older V1 format (one table holding the values) is read by
`actorflow.train.tf_checkpoint_v1` on the same table reader.
"""
from __future__ import annotations

import difflib
import math
import os
import re
import struct
from typing import NamedTuple

import numpy as np

from .. import dtypes, errors
from ..file_safety import MAX_NDIM, check_array, check_size
from ..io.tf_record import masked_crc32c
from ..summary import wire

__all__ = ["TABLE_MAGIC", "TFCheckpointReader", "is_tf_checkpoint", "read_table", "slice_key",
           "close_matches", "not_found_message"]

TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER = 48
_TRAILER = 5
_SNAPPY = 1
_TENSOR_BUNDLE_VERSION = 1  # the bundle format version this reader implements (TF's)
_BIG_ENDIAN = 1

# TF's DataType enum -> actorflow dtype, for the types actorflow has.
_DTYPES = {1: dtypes.float32, 2: dtypes.float64, 3: dtypes.int32, 4: dtypes.uint8,
           5: dtypes.int16, 6: dtypes.int8, 7: dtypes.string, 8: dtypes.complex64,
           9: dtypes.int64, 10: dtypes.bool, 17: dtypes.uint16, 18: dtypes.complex128,
           19: dtypes.float16}
_TF_DTYPE_NAMES = {11: "qint8", 12: "quint8", 13: "qint32", 14: "bfloat16", 15: "qint16",
                   16: "quint16", 20: "resource", 21: "variant", 22: "uint32", 23: "uint64"}


# -- protos (tensorflow/core/protobuf/tensor_bundle.proto and its imports) -----------------
class _VersionDef(wire.Message):
    FIELDS = (wire.Field("producer", 1, "int32"), wire.Field("min_consumer", 2, "int32"),
              wire.Field("bad_consumers", 3, "int32", True))


class _BundleHeader(wire.Message):
    FIELDS = (wire.Field("num_shards", 1, "int32"), wire.Field("endianness", 2, "enum"),
              wire.Field("version", 3, _VersionDef))


class _Dim(wire.Message):
    FIELDS = (wire.Field("size", 1, "int64"), wire.Field("name", 2, "string"))


class _TensorShape(wire.Message):
    FIELDS = (wire.Field("dim", 2, _Dim, True), wire.Field("unknown_rank", 3, "bool"))


class _Extent(wire.Message):
    FIELDS = (wire.Field("start", 1, "int64"), wire.Field("length", 2, "int64"))


class _TensorSlice(wire.Message):
    FIELDS = (wire.Field("extent", 1, _Extent, True),)


class _BundleEntry(wire.Message):
    # crc32c (field 6) is a fixed32, which `wire.Message` does not declare: `_parse_entry`
    # reads it from the raw fields.
    FIELDS = (wire.Field("dtype", 1, "enum"), wire.Field("shape", 2, _TensorShape),
              wire.Field("shard_id", 3, "int32"), wire.Field("offset", 4, "int64"),
              wire.Field("size", 5, "int64"), wire.Field("slices", 7, _TensorSlice, True))


class _Entry(NamedTuple):
    """A checked BundleEntryProto."""

    dtype: int
    dims: list
    shard_id: int
    offset: int
    size: int
    crc32c: int | None
    slices: list
    data: bytes | None = None  # a V1 slice's TensorProto (see tf_checkpoint_v1)


def is_tf_checkpoint(prefix: str) -> bool:
    """Whether ``prefix.index`` exists and ends with the table magic of TF's V2 format."""
    try:
        with open(prefix + ".index", "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() < _FOOTER:
                return False
            f.seek(-8, os.SEEK_END)
            return struct.unpack("<Q", f.read(8))[0] == TABLE_MAGIC
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return False


def close_matches(name: str, names) -> list[str]:
    """Up to three of `names` that look like `name` (for "not found" messages)."""
    return difflib.get_close_matches(name, list(names), n=3, cutoff=0.6)


def not_found_message(name: str, names, prefix: str) -> str:
    """TF's "Key ... not found in checkpoint" message, with the close matches, if any."""
    near = close_matches(name, names)
    hint = f" (close matches: {', '.join(near)})" if near else ""
    return f"Key {name} not found in checkpoint {prefix}{hint}"


# -- the table -----------------------------------------------------------------------------
def _corrupt(where: str, what: str) -> errors.DataLossError:
    return errors.DataLossError(None, None, f"{where}: {what}")


def _varint(data: bytes, pos: int, where: str) -> tuple[int, int]:
    try:
        return wire.decode_varint(data, pos)
    except wire.DecodeError as e:
        raise _corrupt(where, str(e)) from None


def _handle(data: bytes, pos: int, size: int, where: str) -> tuple[tuple[int, int], int]:
    """((offset, size), next position) of a BlockHandle; the block and its trailer must lie
    inside the file's `size` bytes."""
    offset, pos = _varint(data, pos, where)
    length, pos = _varint(data, pos, where)
    if offset + length + _TRAILER > size:
        raise _corrupt(where, f"block handle (offset {offset}, size {length}) points past "
                       f"the end of the {size}-byte file")
    return (offset, length), pos


def _block(raw: bytes, handle: tuple[int, int], where: str) -> bytes:
    """The contents of the block at `handle`, after checking its trailer's type and CRC."""
    offset, size = handle
    contents = raw[offset:offset + size]
    kind = raw[offset + size]
    (stored,) = struct.unpack_from("<I", raw, offset + size + 1)
    if masked_crc32c(raw[offset:offset + size + 1]) != stored:
        raise _corrupt(where, f"block at offset {offset} is corrupted (checksum mismatch)")
    if kind == _SNAPPY:
        raise errors.UnimplementedError(
            None, None, f"{where}: block at offset {offset} is Snappy-compressed; actorflow "
            "reads the uncompressed tables TensorFlow's checkpoint writer produces")
    if kind != 0:
        raise _corrupt(where, f"block at offset {offset} has unknown compression type {kind}")
    return contents


def _block_entries(block: bytes, where: str):
    """Yields (key, value) of a block: entries of varint (shared, non-shared, value length),
    the key's non-shared bytes and the value; then the restart offsets and their count."""
    if len(block) < 4:
        raise _corrupt(where, "block shorter than its restart count")
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * restarts
    if restarts < 1 or end < 0:
        raise _corrupt(where, f"block has a bad restart count {restarts}")
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos, where)
        unshared, pos = _varint(block, pos, where)
        size, pos = _varint(block, pos, where)
        if shared > len(key) or pos + unshared + size > end:
            raise _corrupt(where, f"block entry at offset {pos} is malformed")
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + size]
        pos += size


def read_table(path: str) -> dict[bytes, bytes]:
    """{key: value} of the SSTable at `path`, every block's CRC checked.

    Raises:
        DataLossError: not a table (bad magic), truncated, a CRC mismatch or a malformed
            block (naming the file).
        UnimplementedError: a Snappy-compressed block.
    """
    with open(path, "rb") as f:
        raw = f.read()
    where = f"checkpoint index {path}"
    if len(raw) < _FOOTER or struct.unpack_from("<Q", raw, len(raw) - 8)[0] != TABLE_MAGIC:
        raise _corrupt(where, "not a TensorFlow checkpoint index (bad magic number)")
    footer = len(raw) - _FOOTER
    _, pos = _handle(raw, footer, footer, where)  # the metaindex: TF writes no filters
    index, _ = _handle(raw, pos, footer, where)
    table, last = {}, None
    for _, value in _block_entries(_block(raw, index, where), where):
        handle, _ = _handle(value, 0, footer, where)
        for key, val in _block_entries(_block(raw, handle, where), where):
            if last is not None and key <= last:
                raise _corrupt(where, f"keys out of order at {key[:80]!r}")
            table[key] = val
            last = key
    return table


# -- slice keys (tensorflow/core/util/saved_tensor_slice_util.cc, lib/strings/ordered_code) --
# OrderedCode: the bits a signed number's first two bytes carry to say its length; the
# escapes of the bytes 0x00 and 0xff in a string.
_LENGTH_HEADER = {2: (0xC0, 0), 3: (0xE0, 0), 4: (0xF0, 0), 5: (0xF8, 0), 6: (0xFC, 0),
                  7: (0xFE, 0), 8: (0xFF, 0), 9: (0xFF, 0x80), 10: (0xFF, 0xC0)}
_ESCAPES = {b"\x00": b"\x00\xff", b"\xff": b"\xff\x00"}


def _num_increasing(n: int) -> bytes:
    body = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big") if n else b""
    return bytes([len(body)]) + body


def _signed_num_increasing(n: int) -> bytes:
    x = ~n if n < 0 else n
    length = (x.bit_length() // 7) + 1  # OrderedCode's kBitsToLength
    if length == 1:
        return bytes([(0x80 ^ n) & 0xFF])
    header = _LENGTH_HEADER[length]
    buf = bytearray((n & ((1 << 80) - 1)).to_bytes(10, "big")[10 - length:])
    buf[0] ^= header[0]
    buf[1] ^= header[1]
    return bytes(buf)


def slice_key(name: str, extents: list[tuple[int, int]]) -> bytes:
    """The table key TF stores one slice of tensor `name` under (EncodeTensorNameSlice):
    [(start, length)] per dimension, length -1 for the whole dimension."""
    escaped = re.sub(rb"[\x00\xff]", lambda m: _ESCAPES[m.group()], name.encode("utf-8"))
    out = [_num_increasing(0), escaped, b"\x00\x01", _num_increasing(len(extents))]
    for start, length in extents:
        out += [_signed_num_increasing(start), _signed_num_increasing(length)]
    return b"".join(out)


# -- the reader ----------------------------------------------------------------------------
class TFCheckpointReader:
    """Reads a TensorFlow V2 checkpoint (TF 1.x `tf.train.NewCheckpointReader` over it).

    `NewCheckpointReader`, `list_variables`, `load_variable`, `Saver.restore` and
    `init_from_checkpoint` use it when a checkpoint's index is TF's (`is_tf_checkpoint`).

    Args:
        prefix: the checkpoint prefix ("dir/model.ckpt-1000").

    Raises (on construction):
        NotFoundError: ``prefix.index`` does not exist.
        DataLossError: the index is not a readable table or holds a malformed header or
            entry (naming the file and the entry).
        UnimplementedError: a Snappy-compressed index block, or a bundle version newer than
            this reader.
    """

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._index = prefix + ".index"
        try:
            table = read_table(self._index)
        except FileNotFoundError:
            raise errors.NotFoundError(
                None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                f"matching files for {prefix}") from None
        where = f"checkpoint index {self._index}"
        header = self._parse(_BundleHeader, table.pop(b"", None), f"{where}, header")
        self._check_header(header, where)
        self._shards = header.num_shards
        self._big_endian = header.endianness == _BIG_ENDIAN
        self._entries: dict[str, _Entry] = {}
        self._slices: dict[bytes, _Entry] = {}
        for key, value in table.items():
            if key[:1] == b"\x00":  # a slice of a partitioned variable (see `slice_key`)
                self._slices[key] = self._parse_entry(value, f"{where}, slice {key!r}")
                continue
            try:
                name = key.decode("utf-8")
            except UnicodeDecodeError:
                raise _corrupt(where, f"tensor name {key[:80]!r} is not UTF-8") from None
            self._entries[name] = self._parse_entry(value, f"{where}, tensor {name!r}")

    # -- parsing -------------------------------------------------------------------------
    @staticmethod
    def _parse(cls, value, where: str):
        if value is None:
            raise _corrupt(where, "missing")
        try:
            return cls.FromString(value)
        except (wire.DecodeError, UnicodeDecodeError) as e:
            raise _corrupt(where, f"malformed: {e}") from None

    def _check_header(self, header: _BundleHeader, where: str) -> None:
        n = header.num_shards if header.num_shards is not None else 0
        if n < 1:
            raise _corrupt(where, f"bad number of shards {n}")
        if header.endianness not in (None, 0, _BIG_ENDIAN):
            raise _corrupt(where, f"unknown byte order {header.endianness}")
        version = header.version or _VersionDef()
        if (version.min_consumer or 0) > _TENSOR_BUNDLE_VERSION or \
                _TENSOR_BUNDLE_VERSION in version.bad_consumers:
            raise errors.UnimplementedError(
                None, None, f"{where}: the bundle needs a reader of version "
                f"{version.min_consumer} (this one is {_TENSOR_BUNDLE_VERSION})")

    def _parse_entry(self, value: bytes, where: str) -> _Entry:
        proto = self._parse(_BundleEntry, value, where)
        crc = None
        try:
            for number, wire_type, raw in wire.iter_fields(value):
                if number == 6 and wire_type == wire.FIXED32:
                    crc = struct.unpack("<I", raw)[0]
        except (wire.DecodeError, struct.error) as e:
            raise _corrupt(where, f"malformed: {e}") from None
        shape = proto.shape or _TensorShape()
        if shape.unknown_rank:
            raise _corrupt(where, "shape of unknown rank")
        dims = [d.size or 0 for d in shape.dim]
        if any(d < 0 for d in dims) or len(dims) > MAX_NDIM:
            raise _corrupt(where, f"bad shape {dims}")
        shard, offset, size = proto.shard_id or 0, proto.offset or 0, proto.size or 0
        if not 0 <= shard < self._shards or offset < 0 or size < 0:
            raise _corrupt(where, f"bad location (shard {shard} of {self._shards}, offset "
                           f"{offset}, size {size})")
        return _Entry(proto.dtype or 0, dims, shard, offset, size, crc, list(proto.slices))

    # -- TF API --------------------------------------------------------------------------
    def has_tensor(self, name: str) -> bool:
        return name in self._entries

    def get_variable_to_shape_map(self) -> dict:
        return {name: list(e.dims) for name, e in self._entries.items()}

    def get_variable_to_dtype_map(self) -> dict:
        """{name: DType}; tensors of a type actorflow lacks (bfloat16, ...) are left out."""
        return {name: _DTYPES[e.dtype] for name, e in self._entries.items()
                if e.dtype in _DTYPES}

    def debug_string(self) -> bytes:
        lines = [f"{name} ({self._dtype_name(e)}) {e.dims}"
                 for name, e in sorted(self._entries.items())]
        return ("\n".join(lines) + "\n").encode()

    def get_tensor(self, name: str) -> np.ndarray:
        """The saved value of tensor `name` (a partitioned variable whole).

        Raises:
            NotFoundError: no tensor `name` (the message lists close matches).
            DataLossError: its bytes are missing, truncated or fail the CRC.
            UnimplementedError: a dtype actorflow has no type for (bfloat16, uint32, ...).
        """
        return self.read_tensors([name])[name]

    def read_tensors(self, names) -> dict[str, np.ndarray]:
        """{name: value} for each of `names`, opening each data shard once."""
        files: dict[int, object] = {}
        try:
            out = {}
            for name in names:
                entry = self._entries.get(name)
                if entry is None:
                    raise errors.NotFoundError(None, None, not_found_message(
                        name, self._entries, self._prefix))
                out[name] = self._value(name, entry, files)
            return out
        finally:
            for f in files.values():
                f.close()

    def dtype_name(self, name: str) -> str:
        """The actorflow/TF name of tensor `name`'s dtype ("float32", "bfloat16", ...)."""
        return self._dtype_name(self._entries[name])

    @staticmethod
    def _dtype_name(entry: _Entry) -> str:
        d = entry.dtype
        return _DTYPES[d].name if d in _DTYPES else _TF_DTYPE_NAMES.get(d, f"dtype {d}")

    # -- reading -------------------------------------------------------------------------
    def _data_path(self, shard: int) -> str:
        return f"{self._prefix}.data-{shard:05d}-of-{self._shards:05d}"

    def _file(self, shard: int, files: dict):
        f = files.get(shard)
        if f is None:
            path = self._data_path(shard)
            try:
                f = files[shard] = open(path, "rb")
            except FileNotFoundError:
                raise errors.DataLossError(None, None, f"Checkpoint data file {path} is "
                                           f"missing (index {self._index})") from None
        return f

    def _value(self, name: str, entry: _Entry, files: dict) -> np.ndarray:
        dtype = _DTYPES.get(entry.dtype)
        if dtype is None:
            raise errors.UnimplementedError(
                None, None, f"tensor {name!r} in checkpoint {self._prefix} has dtype "
                f"{self._dtype_name(entry)}, which actorflow has no type for")
        if not entry.slices:
            return self._read(name, entry, dtype, files)
        return self._assemble(name, entry, dtype, files)

    def _assemble(self, name: str, entry: _Entry, dtype, files: dict) -> np.ndarray:
        """A partitioned variable: each slice is its own entry under `slice_key`."""
        where = f"tensor {name!r} in checkpoint index {self._index}"
        parts, stored = [], 0
        for s in entry.slices:
            extents = [(x.start or 0, -1 if x.length is None else x.length) for x in s.extent]
            if len(extents) != len(entry.dims):
                raise _corrupt(where, f"slice of rank {len(extents)} for shape {entry.dims}")
            index = []
            for (start, length), dim in zip(extents, entry.dims):
                stop = dim if length == -1 else start + length
                if not 0 <= start <= stop <= dim:
                    raise _corrupt(where, f"slice {extents} outside shape {entry.dims}")
                index.append(slice(start, stop))
            part = self._slices.get(slice_key(name, extents))
            if part is None:
                raise _corrupt(where, f"slice {extents} is listed but not stored")
            if part.dims != [i.stop - i.start for i in index] or part.dtype != entry.dtype:
                raise _corrupt(where, f"slice {extents} is stored with shape {part.dims}")
            parts.append((tuple(index), part))
            stored += part.size
        # The whole tensor is allocated only if its slices' bytes (each checked against the
        # data files) could fill it: a crafted shape cannot make it allocate more.
        itemsize = 1 if dtype == dtypes.string else dtype.np.itemsize
        check_size(math.prod(entry.dims) * itemsize, stored, where)
        whole = np.empty(entry.dims, dtype=dtype.np)
        covered = np.zeros(entry.dims, dtype=bool)
        for index, part in parts:
            if covered[index].any():
                raise _corrupt(where, "slices overlap")
            covered[index] = True
            whole[index] = self._read(name, part, dtype, files)
        if not covered.all():  # TF: "does not have sufficient slices"
            raise _corrupt(where, f"its slices do not cover the shape {entry.dims}")
        return whole

    def _read(self, name: str, entry: _Entry, dtype, files: dict) -> np.ndarray:
        f = self._file(entry.shard_id, files)
        where = f"tensor {name!r} in checkpoint data file {self._data_path(entry.shard_id)}"
        available = os.fstat(f.fileno()).st_size - entry.offset
        if dtype == dtypes.string:
            check_size(entry.size, available, where)
            f.seek(entry.offset)
            return self._strings(f.read(entry.size), entry, where)
        order = ">" if self._big_endian else "<"
        np_dtype = dtype.np.newbyteorder(order) if dtype.np.itemsize > 1 else dtype.np
        dt, shape, _ = check_array(np_dtype, entry.dims, where, nbytes=entry.size,
                                   available=available)
        arr = np.empty(shape, dtype=dt)
        view = memoryview(arr.reshape(-1)).cast("B")
        f.seek(entry.offset)
        got = f.readinto(view)
        if got != entry.size:
            raise _corrupt(where, f"truncated: read {got} of {entry.size} bytes")
        self._check_crc(view, entry, where)
        return arr.astype(dtype.np, copy=False)

    @staticmethod
    def _check_crc(buf, entry: _Entry, where: str) -> None:
        if entry.crc32c is None or masked_crc32c(buf) != entry.crc32c:
            raise _corrupt(where, "corrupted (checksum mismatch)")

    @staticmethod
    def _strings(buf: bytes, entry: _Entry, where: str) -> np.ndarray:
        """A string tensor from its bytes: the varint64 lengths, the masked CRC-32C of the
        lengths, the strings. The entry's CRC is TF's running CRC over each length as a
        uint32 (a uint64 when it needs one), the lengths' CRC and the strings."""
        n = math.prod(entry.dims)
        check_size(n, len(buf), where)  # each length takes at least one byte
        lengths, pos, packed = [], 0, []
        for _ in range(n):
            length, pos = _varint(buf, pos, where)
            lengths.append(length)
            packed.append(struct.pack("<I" if length <= 0xFFFFFFFF else "<Q", length))
        packed = b"".join(packed)
        if pos + 4 > len(buf) or struct.unpack_from("<I", buf, pos)[0] != \
                masked_crc32c(packed):
            raise _corrupt(where, "string lengths are corrupted (checksum mismatch)")
        strings = buf[pos + 4:]
        if sum(lengths) != len(strings):
            raise _corrupt(where, f"string data of {len(strings)} bytes for lengths summing "
                           f"to {sum(lengths)}")
        if entry.crc32c is None or masked_crc32c(packed + buf[pos:]) != entry.crc32c:
            raise _corrupt(where, "corrupted (checksum mismatch)")
        out = np.empty(n, dtype=object)
        pos = 0
        for i, length in enumerate(lengths):
            out[i] = strings[pos:pos + length]
            pos += length
        return out.reshape(entry.dims)
