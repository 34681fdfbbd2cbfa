"""The protocol-buffer wire format, enough to write and read TensorBoard event files.

A message class lists its fields as `Field(name, number, kind, repeated)`; `kind` is a scalar
kind (``"double"``, ``"float"``, ``"int64"``, ``"uint64"``, ``"int32"``, ``"uint32"``,
``"bool"``, ``"enum"``, ``"string"``, ``"bytes"``) or a `Message` subclass. Encoding writes
every field that is set (not None; a non-empty list when repeated), so a oneof member equal to
its default (``simple_value=0.0``) is still written. Repeated numbers are packed (proto3).
Decoding skips unknown fields and accepts packed and unpacked repeated numbers.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

__all__ = ["Field", "Message", "DecodeError", "encode_varint", "decode_varint", "field_key",
           "encode_scalar", "decode_scalar", "encode_packed", "decode_packed", "iter_fields",
           "as_bytes", "VARINT", "FIXED64", "LEN", "FIXED32"]

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5  # wire types
_MASK64 = (1 << 64) - 1
_VARINT_KINDS = frozenset({"int64", "uint64", "int32", "uint32", "bool", "enum"})
_PACKED_NP = {"double": "<f8", "float": "<f4"}


class DecodeError(ValueError):
    """Bytes that are not a valid encoding of the message being parsed."""


class Field(NamedTuple):
    name: str
    number: int
    kind: object
    repeated: bool = False


def encode_varint(n: int) -> bytes:
    """Base-128 varint of `n`; negative numbers take ten bytes (two's complement, 64 bits)."""
    n &= _MASK64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the varint at `pos`; DecodeError when truncated."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise DecodeError("varint longer than ten bytes")


def field_key(number: int, wire_type: int) -> bytes:
    return encode_varint((number << 3) | wire_type)


def encode_scalar(kind: str, v) -> tuple[int, bytes]:
    """(wire type, payload) of one scalar value."""
    if kind in _VARINT_KINDS:
        return VARINT, encode_varint(int(v))
    if kind == "double":
        return FIXED64, struct.pack("<d", float(v))
    if kind == "float":
        return FIXED32, struct.pack("<f", float(v))
    if kind in ("string", "bytes"):
        b = v.encode("utf-8") if isinstance(v, str) else bytes(v)
        return LEN, encode_varint(len(b)) + b
    raise TypeError(f"unknown field kind {kind!r}")


def encode_packed(kind: str, values) -> bytes:
    if kind in _PACKED_NP:
        return np.asarray(values, dtype=_PACKED_NP[kind]).tobytes()
    return b"".join(encode_varint(int(v)) for v in values)


def _signed(kind: str, v: int) -> int:
    if kind in ("int64", "int32", "enum") and v >= 1 << 63:
        return v - (1 << 64)
    return v


def decode_scalar(kind, wire_type: int, raw, number: int):
    if isinstance(kind, type):
        if wire_type != LEN:
            raise DecodeError(f"field {number}: a message needs wire type 2, got {wire_type}")
        return kind.FromString(raw)
    if kind in _VARINT_KINDS:
        if wire_type != VARINT:
            raise DecodeError(f"field {number}: {kind} needs wire type 0, got {wire_type}")
        return bool(raw) if kind == "bool" else _signed(kind, raw)
    if kind == "double" and wire_type == FIXED64:
        return struct.unpack("<d", raw)[0]
    if kind == "float" and wire_type == FIXED32:
        return struct.unpack("<f", raw)[0]
    if kind in ("string", "bytes") and wire_type == LEN:
        return raw.decode("utf-8") if kind == "string" else bytes(raw)
    raise DecodeError(f"field {number}: wire type {wire_type} does not fit kind {kind}")


def decode_packed(kind: str, raw: bytes, number: int) -> list:
    if kind in _PACKED_NP:
        size = np.dtype(_PACKED_NP[kind]).itemsize
        if len(raw) % size:
            raise DecodeError(f"field {number}: packed {kind} of {len(raw)} bytes")
        return np.frombuffer(raw, dtype=_PACKED_NP[kind]).tolist()
    out, pos = [], 0
    while pos < len(raw):
        v, pos = decode_varint(raw, pos)
        out.append(bool(v) if kind == "bool" else _signed(kind, v))
    return out


def iter_fields(data: bytes):
    """Yields (field number, wire type, raw value) for each field of an encoded message."""
    data = memoryview(data).tobytes() if not isinstance(data, bytes) else data
    pos, n = 0, len(data)
    while pos < n:
        key, pos = decode_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            raw, pos = decode_varint(data, pos)
        elif wire_type == FIXED64:
            raw, pos = data[pos:pos + 8], pos + 8
        elif wire_type == FIXED32:
            raw, pos = data[pos:pos + 4], pos + 4
        elif wire_type == LEN:
            size, pos = decode_varint(data, pos)
            raw, pos = data[pos:pos + size], pos + size
        else:
            raise DecodeError(f"field {number}: unsupported wire type {wire_type}")
        if pos > n:
            raise DecodeError(f"field {number}: truncated")
        yield number, wire_type, raw


class RepeatedMessages(list):
    """A repeated message field: a list with TF's ``add(**fields)``."""

    def __init__(self, cls, items=()) -> None:
        super().__init__(items)
        self._cls = cls

    def add(self, **fields):
        m = self._cls(**fields)
        self.append(m)
        return m


class Message:
    """A protocol-buffer message over the `FIELDS` its subclass declares."""

    FIELDS: tuple = ()
    _by_name: dict = {}
    _by_number: dict = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._by_name = {f.name: f for f in cls.FIELDS}
        cls._by_number = {f.number: f for f in cls.FIELDS}

    def __init__(self, **fields) -> None:
        for f in self.FIELDS:
            object.__setattr__(self, f.name, self._empty(f) if f.repeated else None)
        for k, v in fields.items():
            setattr(self, k, v)

    @staticmethod
    def _empty(f: Field):
        return RepeatedMessages(f.kind) if isinstance(f.kind, type) else []

    def __setattr__(self, name: str, value) -> None:
        f = self._by_name.get(name)
        if f is None:
            raise AttributeError(f"{type(self).__qualname__} has no field {name!r}; fields: "
                                 f"{', '.join(self._by_name)}")
        if f.repeated:
            items = list(value) if value is not None else []
            value = RepeatedMessages(f.kind, items) if isinstance(f.kind, type) else items
        object.__setattr__(self, name, value)

    def HasField(self, name: str) -> bool:  # noqa: N802 - protobuf spelling
        v = getattr(self, name)
        return bool(v) if self._by_name[name].repeated else v is not None

    def SerializeToString(self) -> bytes:  # noqa: N802 - protobuf spelling
        out = []
        for f in self.FIELDS:
            v = getattr(self, f.name)
            if v is None or (f.repeated and len(v) == 0):
                continue
            values = v if f.repeated else [v]
            if isinstance(f.kind, type):
                for m in values:
                    b = m.SerializeToString()
                    out.append(field_key(f.number, LEN) + encode_varint(len(b)) + b)
            elif f.repeated and f.kind not in ("string", "bytes"):
                b = encode_packed(f.kind, values)
                out.append(field_key(f.number, LEN) + encode_varint(len(b)) + b)
            else:
                for x in values:
                    wt, payload = encode_scalar(f.kind, x)
                    out.append(field_key(f.number, wt) + payload)
        return b"".join(out)

    def ParseFromString(self, data) -> None:  # noqa: N802 - protobuf spelling
        """Merges the encoded message `data` into this one (repeated fields append)."""
        for number, wire_type, raw in iter_fields(data):
            f = self._by_number.get(number)
            if f is None:
                continue
            if f.repeated:
                target = getattr(self, f.name)
                if wire_type == LEN and f.kind not in ("string", "bytes") \
                        and not isinstance(f.kind, type):
                    target.extend(decode_packed(f.kind, raw, number))
                else:
                    target.append(decode_scalar(f.kind, wire_type, raw, number))
            else:
                object.__setattr__(self, f.name,
                                   decode_scalar(f.kind, wire_type, raw, number))

    @classmethod
    def FromString(cls, data):  # noqa: N802 - protobuf spelling
        """The message encoded by `data` (bytes, or a 0-d array holding bytes)."""
        m = cls()
        m.ParseFromString(as_bytes(data))
        return m

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and all(
            getattr(self, f.name) == getattr(other, f.name) for f in self.FIELDS)

    __hash__ = None

    def __repr__(self) -> str:
        inner = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.FIELDS
                          if self.HasField(f.name))
        return f"{type(self).__qualname__}({inner})"


def as_bytes(value) -> bytes:
    """Bytes from bytes, str, a NumPy bytes scalar or a 0-d array holding one (a fetch)."""
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"expected one serialized message, got an array of shape "
                             f"{value.shape}")
        value = value.reshape(()).item()
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"expected serialized bytes, got {type(value).__name__}")
