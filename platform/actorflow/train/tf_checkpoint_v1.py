"""Reading TensorFlow's V1 checkpoints (the format Saver wrote before TF 0.12's V2).

A V1 checkpoint is one file, or shards named by a pattern (``model.ckpt-?????-of-00002``),
each the same LevelDB-format table as a V2 index (`tf_checkpoint.read_table`, whose block
CRCs cover everything). The key "" holds a SavedTensorSlices whose ``meta`` lists each
tensor's name, shape, dtype and slices; every other key (`tf_checkpoint.slice_key`) holds
one slice's values as a TensorProto in its typed repeated fields (``float_val``, ``int_val``,
``half_val``, ``string_val``, ...) or in ``tensor_content``. The values are decoded field by
field into NumPy arrays; nothing from the file is executed, and a count or size that does
not fit the slice's shape is a `DataLossError` naming the file and the tensor.
"""
from __future__ import annotations

import glob
import math
import os
import struct

import numpy as np

from .. import dtypes, errors
from ..file_safety import MAX_NDIM
from ..summary import wire
from .tf_checkpoint import (_DTYPES, TABLE_MAGIC, TFCheckpointReader, _corrupt, _Entry,
                            _TensorShape, _TensorSlice, _VersionDef, read_table, slice_key)

__all__ = ["TFV1CheckpointReader", "is_tf_v1_checkpoint"]

_V1_VERSION = 1  # TF's kTensorSliceVersion (min consumer this reader accepts)


class _SavedSliceMeta(wire.Message):
    FIELDS = (wire.Field("name", 1, "string"), wire.Field("shape", 2, _TensorShape),
              wire.Field("type", 3, "enum"), wire.Field("slice", 4, _TensorSlice, True))


class _SavedTensorSliceMeta(wire.Message):
    FIELDS = (wire.Field("tensor", 1, _SavedSliceMeta, True),
              wire.Field("versions", 2, _VersionDef))


class _SavedSlice(wire.Message):
    # `data` (a TensorProto) stays raw bytes: `_decode` reads its arrays without lists.
    FIELDS = (wire.Field("name", 1, "string"), wire.Field("slice", 2, _TensorSlice),
              wire.Field("data", 3, "bytes"))


class _SavedTensorSlices(wire.Message):
    FIELDS = (wire.Field("meta", 1, _SavedTensorSliceMeta), wire.Field("data", 2, _SavedSlice))


# TensorProto's typed field for each dtype: (field number, how its values are stored).
_FIELDS = {"float32": (5, "<f4"), "float64": (6, "<f8"), "complex64": (9, "<f4"),
           "complex128": (12, "<f8"), "int32": (7, "varint"), "int16": (7, "varint"),
           "int8": (7, "varint"), "uint8": (7, "varint"), "uint16": (7, "varint"),
           "int64": (10, "varint"), "bool": (11, "varint"), "float16": (13, "varint"),
           "string": (8, "bytes")}
_TENSOR_CONTENT = 4


def _files(pattern: str) -> list[str]:
    if glob.has_magic(pattern):
        return sorted(glob.glob(pattern))
    return [pattern] if os.path.isfile(pattern) else []


def is_tf_v1_checkpoint(pattern: str) -> bool:
    """Whether `pattern` names (or, as a glob, matches) files ending with the table magic."""
    files = _files(pattern)
    for path in files:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() < 48:
                return False
            f.seek(-8, os.SEEK_END)
            if struct.unpack("<Q", f.read(8))[0] != TABLE_MAGIC:
                return False
    return bool(files)


def _varints(raw: bytes, where: str) -> np.ndarray:
    """The packed varints in `raw` as uint64 (two's complement for negative int64s)."""
    b = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(b < 0x80)
    if len(b) and (len(ends) == 0 or ends[-1] != len(b) - 1):
        raise _corrupt(where, "truncated varint")
    lengths = np.diff(ends, prepend=-1)
    if len(lengths) and lengths.max() > 10:
        raise _corrupt(where, "varint longer than ten bytes")
    group = np.repeat(np.arange(len(ends)), lengths)
    shift = (np.arange(len(b)) - np.repeat(ends - lengths + 1, lengths)) * 7
    out = np.zeros(len(ends), dtype=np.uint64)
    np.add.at(out, group, (b & 0x7F).astype(np.uint64) << shift.astype(np.uint64))
    return out


def _decode(raw: bytes, dtype, dims: list, where: str) -> np.ndarray:
    """The array of `dims` a slice's TensorProto holds (its typed field or tensor_content)."""
    n = math.prod(dims)
    number, kind = _FIELDS[dtype.name]
    chunks, content = [], None
    try:
        for num, wire_type, value in wire.iter_fields(raw):
            if num == _TENSOR_CONTENT and wire_type == wire.LEN:
                content = value
            elif num == number:
                if kind == "varint" and wire_type == wire.VARINT:
                    value = wire.encode_varint(value)  # one unpacked element
                chunks.append(value)
    except wire.DecodeError as e:
        raise _corrupt(where, f"malformed TensorProto: {e}") from None
    if content is not None and dtype != dtypes.string:
        if len(content) != n * dtype.np.itemsize:
            raise _corrupt(where, f"tensor_content of {len(content)} bytes for shape {dims}")
        return np.frombuffer(content, dtype=dtype.np.newbyteorder("<")).astype(
            dtype.np).reshape(dims)
    if kind == "bytes":
        values = np.empty(len(chunks), dtype=object)
        values[:] = [bytes(c) for c in chunks]
    elif kind == "varint":
        values = _varints(b"".join(chunks), where)
    else:
        payload = b"".join(chunks)
        if len(payload) % np.dtype(kind).itemsize:
            raise _corrupt(where, f"{len(payload)} bytes of {kind} values")
        values = np.frombuffer(payload, dtype=kind)
    if dtype.is_complex:  # (real, imaginary) pairs
        if len(values) % 2:
            raise _corrupt(where, f"{len(values)} parts of complex values")
        values = values[0::2] + 1j * values[1::2]
    if len(values) != n:
        raise _corrupt(where, f"{len(values)} values for shape {dims}")
    if dtype == dtypes.float16:  # half_val holds each value's bit pattern
        return values.astype(np.uint16).view(np.float16).reshape(dims)
    if dtype == dtypes.bool:
        return (values != 0).reshape(dims)
    return values.astype(dtype.np).reshape(dims)


class TFV1CheckpointReader(TFCheckpointReader):
    """Reads a TensorFlow V1 checkpoint (`tf.train.NewCheckpointReader` over it).

    Args:
        pattern: the checkpoint file, or a glob matching its shards.

    Raises (on construction):
        NotFoundError: no file matches `pattern`.
        DataLossError: a file is not a readable table, or its metadata or a slice is
            malformed (naming the file and the tensor).
        UnimplementedError: a Snappy-compressed block or a newer format version.
    """

    def __init__(self, pattern: str) -> None:
        files = _files(pattern)
        if not files:
            raise errors.NotFoundError(
                None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                f"matching files for {pattern}")
        self._prefix = pattern
        self._files = files
        self._index = files[0]
        self._shards = len(files)
        self._big_endian = False
        self._entries: dict[str, _Entry] = {}
        self._slices: dict[bytes, _Entry] = {}
        for shard, path in enumerate(files):
            self._load(shard, path)

    def _load(self, shard: int, path: str) -> None:
        where = f"checkpoint file {path}"
        table = read_table(path)
        meta = self._parse(_SavedTensorSlices, table.pop(b"", None), f"{where}, meta").meta
        if meta is None:
            raise _corrupt(where, "no tensor metadata")
        version = meta.versions or _VersionDef()
        if (version.min_consumer or 0) > _V1_VERSION:
            raise errors.UnimplementedError(None, None, f"{where}: needs a reader of version "
                                            f"{version.min_consumer}")
        for t in meta.tensor:
            at = f"{where}, tensor {t.name!r}"
            dims = [d.size or 0 for d in (t.shape or _TensorShape()).dim]
            if any(d < 0 for d in dims) or len(dims) > MAX_NDIM:
                raise _corrupt(at, f"bad shape {dims}")
            old = self._entries.get(t.name)
            slices = (old.slices if old else []) + list(t.slice)
            self._entries[t.name] = _Entry(t.type or 0, dims, shard, 0, 0, None, slices)
        for key, value in table.items():
            saved = self._parse(_SavedTensorSlices, value, f"{where}, slice {key!r}").data
            entry = self._entries.get(saved.name if saved else None)
            if entry is None or saved.slice is None:
                raise _corrupt(where, f"slice {key!r} of no listed tensor")
            extents = [(x.start or 0, -1 if x.length is None else x.length)
                       for x in saved.slice.extent]
            if key != slice_key(saved.name, extents) or len(extents) != len(entry.dims):
                raise _corrupt(where, f"slice {key!r} does not match its tensor {saved.name!r}")
            dims = [dim if n == -1 else n for (_, n), dim in zip(extents, entry.dims)]
            data = saved.data or b""
            # an upper bound of the slice's bytes once decoded (every value takes at least
            # one byte of the proto), which `_assemble` checks before allocating
            itemsize = 1 if entry.dtype not in _DTYPES or _DTYPES[entry.dtype] == \
                dtypes.string else _DTYPES[entry.dtype].np.itemsize
            self._slices[key] = _Entry(entry.dtype, dims, shard, 0, len(data) * itemsize,
                                       None, [], data)

    def _read(self, name: str, entry: _Entry, dtype, files: dict) -> np.ndarray:
        where = f"tensor {name!r} in checkpoint file {self._files[entry.shard_id]}"
        if entry.data is None:  # the metadata lists no slices for the tensor
            raise _corrupt(where, "no values stored")
        return _decode(entry.data, dtype, entry.dims, where)
