"""Reading the features of a serialized `tf.train.Example` without building messages.

The parsing ops decode thousands of records per run and want a few named lists from each, so
they walk the wire format directly (Example.features -> map entries -> Feature -> list) and
decode only the features they were asked for: packed floats become one NumPy view, varints
are decoded in one loop, bytes are sliced.
"""
from __future__ import annotations

import numpy as np

from ..summary.wire import FIXED32, LEN, VARINT, DecodeError, decode_packed, iter_fields

__all__ = ["decode_features", "KINDS", "DecodeError"]

#: Feature's oneof members by field number, as the dtype names the parsing ops use.
KINDS = {1: "string", 2: "float32", 3: "int64"}


def _list_values(kind: str, raw: bytes) -> list | np.ndarray:
    """The ``value`` field (number 1) of a BytesList, FloatList or Int64List."""
    chunks = []
    for number, wire_type, v in iter_fields(raw):
        if number != 1:
            continue
        if kind == "string":
            if wire_type != LEN:
                raise DecodeError("bytes value with a non-length wire type")
            chunks.append([bytes(v)])
        elif kind == "float32":
            if wire_type == LEN:
                if len(v) % 4:
                    raise DecodeError(f"packed floats of {len(v)} bytes")
                chunks.append(np.frombuffer(v, dtype="<f4"))
            elif wire_type == FIXED32:
                chunks.append(np.frombuffer(v, dtype="<f4"))
            else:
                raise DecodeError(f"float value with wire type {wire_type}")
        else:
            if wire_type == LEN:
                chunks.append(decode_packed("int64", v, 1))
            elif wire_type == VARINT:  # iter_fields decoded it, as unsigned 64 bits
                chunks.append([v - (1 << 64) if v >= 1 << 63 else v])
            else:
                raise DecodeError(f"int64 value with wire type {wire_type}")
    if kind == "float32":
        return np.concatenate(chunks).astype(np.float32) if chunks else \
            np.zeros(0, np.float32)
    return [x for c in chunks for x in c]


def _feature(raw: bytes):
    """(kind or None for a Feature with no list set, values) of one encoded Feature."""
    kind, values = None, []
    for number, wire_type, v in iter_fields(raw):
        k = KINDS.get(number)
        if k is None:
            continue
        if wire_type != LEN:
            raise DecodeError("a Feature's list with a non-length wire type")
        kind, values = k, _list_values(k, v)  # the last member set wins, as protobuf's
    return kind, values


def _map_entries(raw: bytes, wanted):
    """(name, encoded value) of each entry of a map<string, ...> field's entries in `raw`
    (a Features or FeatureLists message) whose name is in `wanted`."""
    for number, wire_type, entry in iter_fields(raw):
        if number != 1 or wire_type != LEN:
            continue
        key, value = b"", b""
        for n, w, v in iter_fields(entry):
            if n == 1 and w == LEN:
                key = v
            elif n == 2 and w == LEN:
                value = v
        name = key.decode("utf-8", "replace")
        if name in wanted:
            yield name, value


def decode_features(data: bytes, wanted) -> dict:
    """{name: (kind, values)} for the features of serialized Example `data` named in
    `wanted`; kind is "string", "float32", "int64" or None (a Feature with no list).

    Raises:
        DecodeError: `data` is not a serialized Example.
    """
    out = {}
    for number, wire_type, features in iter_fields(data):
        if number != 1:
            continue
        if wire_type != LEN:
            raise DecodeError("Example.features with a non-length wire type")
        for name, value in _map_entries(features, wanted):
            out[name] = _feature(value)
    return out

