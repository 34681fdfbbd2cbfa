"""Protocol-buffer messages with protobuf's Python API: presence, oneofs, maps, lazy defaults.

`summary.wire.Message` is enough for the event files actorflow writes; the messages users
build by hand (``tf.train.Example``) need the behaviour of protobuf's own classes:

- reading an unset message field gives an empty default that is not set (``HasField`` stays
  False) until something inside it is modified, which sets it and every message above it;
- a field in a oneof, once set, clears the other members (`WhichOneof` names the set one);
- a map field (``map<string, Message>``) creates an entry when a missing key is read;
- repeated scalars check their values as protobuf does (bytes fields refuse str, int fields
  refuse floats, float fields round to float32) and mark their message modified on change;
- assigning to a message or repeated field is refused (use the constructor, ``CopyFrom``,
  ``.add()``, ``.append()``/``.extend()``).

Declare fields as `wire.Field` (kind: a scalar kind or a `ProtoMessage` class) or `MapField`.
Encoding is `summary.wire`'s: fields by number, repeated numbers packed, map entries sorted by
key (protobuf's deterministic serialization, so equal messages give equal bytes).
"""
from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

from ..summary.wire import (LEN, DecodeError, Field, as_bytes, decode_packed, decode_scalar,
                            encode_packed, encode_scalar, encode_varint, field_key, iter_fields)

__all__ = ["ProtoMessage", "MapField", "Field", "DecodeError"]

_INT_KINDS = frozenset({"int64", "uint64", "int32", "uint32", "enum"})
_INT_RANGE = {"int64": (-(1 << 63), (1 << 63) - 1), "uint64": (0, (1 << 64) - 1),
              "int32": (-(1 << 31), (1 << 31) - 1), "uint32": (0, (1 << 32) - 1),
              "enum": (-(1 << 31), (1 << 31) - 1)}
_DEFAULTS = {"string": "", "bytes": b"", "float": 0.0, "double": 0.0, "bool": False}


class MapField(NamedTuple):
    """A ``map<key_kind, value>`` field; `value` is a `ProtoMessage` class or a scalar kind."""

    name: str
    number: int
    key_kind: str
    value: object


def _is_message(kind) -> bool:
    return isinstance(kind, type) and issubclass(kind, ProtoMessage)


def _check_scalar(kind: str, v, field: str):
    """`v` converted to the Python type protobuf stores for `kind`; TypeError/ValueError as
    protobuf raises them."""
    if kind == "bytes":
        if isinstance(v, (bytes, np.bytes_)):
            return bytes(v)
        raise TypeError(f"{field}: {v!r} has type {type(v).__name__}, but expected bytes")
    if kind == "string":
        if isinstance(v, bytes):
            return v.decode("utf-8")
        if isinstance(v, str):
            return v
        raise TypeError(f"{field}: {v!r} has type {type(v).__name__}, but expected str")
    if kind in _INT_KINDS:
        if isinstance(v, (float, np.floating)) or not hasattr(v, "__index__"):
            raise TypeError(f"{field}: {v!r} has type {type(v).__name__}, but expected an int")
        v = int(v)
        lo, hi = _INT_RANGE[kind]
        if not lo <= v <= hi:
            raise ValueError(f"{field}: value {v} is out of range for {kind}")
        return v
    if kind == "bool":
        return bool(v)
    if kind == "float":
        return struct.unpack("<f", struct.pack("<f", float(v)))[0]
    if kind == "double":
        return float(v)
    raise TypeError(f"unknown field kind {kind!r}")


class RepeatedScalars(list):
    """A repeated scalar field: a list that checks its values and marks its owner modified."""

    def __init__(self, owner: "ProtoMessage", field: Field, values=()) -> None:
        super().__init__()
        self._owner, self._field = owner, field
        list.extend(self, self._conv(values))

    def _conv(self, values) -> list:
        kind, where = self._field.kind, f"{type(self._owner).__name__}.{self._field.name}"
        if isinstance(values, np.ndarray) and kind == "float":
            return np.asarray(values, np.float32).ravel().tolist()
        if isinstance(values, np.ndarray) and kind in _INT_KINDS and values.dtype.kind in "iub":
            return [_check_scalar(kind, v, where) for v in values.ravel().tolist()]
        return [_check_scalar(kind, v, where) for v in values]

    def append(self, value) -> None:
        super().append(self._conv([value])[0])
        self._owner._modified()

    def extend(self, values) -> None:
        items = self._conv(values)
        super().extend(items)
        if items:
            self._owner._modified()

    def insert(self, index, value) -> None:
        super().insert(index, self._conv([value])[0])
        self._owner._modified()

    def __setitem__(self, index, value) -> None:
        if isinstance(index, slice):
            super().__setitem__(index, self._conv(value))
        else:
            super().__setitem__(index, self._conv([value])[0])
        self._owner._modified()

    def __iadd__(self, values):
        self.extend(values)
        return self

    def __eq__(self, other) -> bool:
        return list.__eq__(self, list(other)) if isinstance(other, (list, tuple)) else False

    __hash__ = None

    def __reduce__(self):
        return list, (list(self),)


class RepeatedMessages(list):
    """A repeated message field: ``add(**fields)`` appends a new message and returns it."""

    def __init__(self, owner: "ProtoMessage", field: Field, values=()) -> None:
        super().__init__()
        self._owner, self._field = owner, field
        for v in values:
            self.append(v)

    def add(self, **fields) -> "ProtoMessage":
        m = self._field.kind(**fields)
        self.append(m)
        return m

    def append(self, m) -> None:
        if not isinstance(m, self._field.kind):
            raise TypeError(f"{type(self._owner).__name__}.{self._field.name} holds "
                            f"{self._field.kind.__name__}, got {type(m).__name__}")
        m._parent = (self._owner, None)
        super().append(m)
        self._owner._modified()

    def extend(self, items) -> None:
        for m in items:
            self.append(m)

    def __eq__(self, other) -> bool:
        return list.__eq__(self, list(other)) if isinstance(other, (list, tuple)) else False

    __hash__ = None


class MessageMap(dict):
    """A map field; a message-valued map creates an empty entry when a missing key is read."""

    def __init__(self, owner: "ProtoMessage", field: MapField, items=None) -> None:
        super().__init__()
        self._owner, self._field = owner, field
        for k, v in (items or {}).items():
            self[k] = v

    def _key(self, key):
        return _check_scalar(self._field.key_kind, key,
                             f"{type(self._owner).__name__}.{self._field.name} key")

    def __missing__(self, key):
        if not _is_message(self._field.value):
            raise KeyError(key)
        m = self._field.value()
        self[key] = m
        return m

    def __getitem__(self, key):
        return super().__getitem__(self._key(key))

    def __contains__(self, key) -> bool:
        try:
            return super().__contains__(self._key(key))
        except (TypeError, ValueError):
            return False

    def get(self, key, default=None):
        return super().get(self._key(key), default)

    def __setitem__(self, key, value) -> None:
        kind = self._field.value
        if _is_message(kind):
            if not isinstance(value, kind):
                raise TypeError(f"{type(self._owner).__name__}.{self._field.name} holds "
                                f"{kind.__name__}, got {type(value).__name__}")
            value._parent = (self._owner, None)
        else:
            value = _check_scalar(kind, value, f"{self._field.name} value")
        super().__setitem__(self._key(key), value)
        self._owner._modified()

    def __delitem__(self, key) -> None:
        super().__delitem__(self._key(key))
        self._owner._modified()

    def get_or_create(self, key):
        return self[key]

    __hash__ = None


class ProtoMessage:
    """Base of the protobuf-style messages; subclasses declare `FIELDS` and `ONEOFS`
    (``{"kind": ("bytes_list", "float_list", "int64_list")}``)."""

    FIELDS: tuple = ()
    ONEOFS: dict = {}
    _by_name: dict = {}
    _by_number: dict = {}
    _oneof_of: dict = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._by_name = {f.name: f for f in cls.FIELDS}
        cls._by_number = {f.number: f for f in cls.FIELDS}
        cls._oneof_of = {m: group for group, members in cls.ONEOFS.items() for m in members}

    def __init__(self, **fields) -> None:
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_parent", None)  # (owner, field name or None: a container)
        object.__setattr__(self, "_defaults", {})  # unset message fields read so far
        for name, value in fields.items():
            f = self._field(name)
            if value is None:
                continue
            if isinstance(f, MapField):
                self._values[name] = MessageMap(self, f, dict(value))
            elif f.repeated:
                cls = RepeatedMessages if _is_message(f.kind) else RepeatedScalars
                self._values[name] = cls(self, f, value)
            elif _is_message(f.kind):
                if isinstance(value, dict):
                    value = f.kind(**value)
                if not isinstance(value, f.kind):
                    raise TypeError(f"{type(self).__name__}.{name} must be a "
                                    f"{f.kind.__name__}, got {type(value).__name__}")
                self._set(name, value.__deepcopy__())
            else:
                self._set(name, _check_scalar(f.kind, value, f"{type(self).__name__}.{name}"))

    # -- field access --------------------------------------------------------------------
    def _field(self, name: str):
        f = self._by_name.get(name)
        if f is None:
            raise ValueError(f"Protocol message {type(self).__name__} has no {name!r} field")
        return f

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        f = type(self)._by_name.get(name)
        if f is None:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        values = self._values
        if name in values:
            return values[name]
        if isinstance(f, MapField):
            return values.setdefault(name, MessageMap(self, f))
        if f.repeated:
            cls = RepeatedMessages if _is_message(f.kind) else RepeatedScalars
            return values.setdefault(name, cls(self, f))
        if _is_message(f.kind):
            child = self._defaults.get(name)
            if child is None:
                child = self._defaults[name] = f.kind()
                child._parent = (self, name)  # set here only once something inside changes
            return child
        return _DEFAULTS.get(f.kind, 0)

    def __setattr__(self, name: str, value) -> None:
        f = self._field(name) if not name.startswith("_") else None
        if f is None:
            object.__setattr__(self, name, value)
            return
        if isinstance(f, MapField) or f.repeated or _is_message(f.kind):
            raise AttributeError(f"Assignment not allowed to field {name!r} in protocol "
                                 f"message {type(self).__name__} (use CopyFrom, add, append "
                                 "or extend)")
        self._set(name, _check_scalar(f.kind, value, f"{type(self).__name__}.{name}"))

    def _set(self, name: str, value) -> None:
        group = self._oneof_of.get(name)
        if group is not None:
            for other in self.ONEOFS[group]:
                if other != name:
                    self._values.pop(other, None)
        if isinstance(value, ProtoMessage):
            value._parent = (self, name)
        self._defaults.pop(name, None)
        self._values[name] = value
        self._modified()

    def _modified(self) -> None:
        """Something inside changed: an unset default becomes set in its parent, upwards."""
        parent = self._parent
        if parent is None:
            return
        owner, name = parent
        if name is None:
            owner._modified()
        elif owner._values.get(name) is not self:
            owner._set(name, self)
        else:
            owner._modified()

    def HasField(self, name: str) -> bool:  # noqa: N802 - protobuf spelling
        """Whether singular message or oneof field `name` (or a oneof's name) is set."""
        if name in self.ONEOFS:
            return self.WhichOneof(name) is not None
        f = self._field(name)
        if isinstance(f, MapField) or f.repeated:
            raise ValueError(f"Protocol message has no singular \"{name}\" field.")
        return name in self._values

    def WhichOneof(self, group: str):  # noqa: N802 - protobuf spelling
        """The name of the set member of oneof `group`, or None."""
        if group not in self.ONEOFS:
            raise ValueError(f"Protocol message has no oneof \"{group}\" field.")
        return next((m for m in self.ONEOFS[group] if m in self._values), None)

    def ClearField(self, name: str) -> None:  # noqa: N802 - protobuf spelling
        if name in self.ONEOFS:
            for m in self.ONEOFS[name]:
                self._values.pop(m, None)
        else:
            self._field(name)
            self._values.pop(name, None)

    def Clear(self) -> None:  # noqa: N802 - protobuf spelling
        self._values.clear()
        self._defaults.clear()

    def ListFields(self) -> list:  # noqa: N802 - protobuf spelling
        """(field, value) of each set field, by field number."""
        return [(f, self._values[f.name]) for f in sorted(self.FIELDS, key=lambda f: f.number)
                if f.name in self._values and self._present(f)]

    def _present(self, f) -> bool:
        v = self._values.get(f.name)
        if isinstance(f, MapField) or f.repeated:
            return bool(v)
        return f.name in self._values

    def CopyFrom(self, other: "ProtoMessage") -> None:  # noqa: N802 - protobuf spelling
        if other is self:
            return
        self.Clear()
        self.MergeFrom(other)

    def MergeFrom(self, other: "ProtoMessage") -> None:  # noqa: N802 - protobuf spelling
        if type(other) is not type(self):
            raise TypeError(f"MergeFrom expects a {type(self).__name__}, got "
                            f"{type(other).__name__}")
        self.ParseFromString(other.SerializeToString(), merge=True)
        self._modified()

    def __deepcopy__(self, memo=None) -> "ProtoMessage":
        return type(self).FromString(self.SerializeToString())

    # -- encoding ------------------------------------------------------------------------
    def SerializeToString(self, deterministic: bool = True) -> bytes:  # noqa: N802
        """The message's wire encoding (map entries by key, as deterministic protobuf)."""
        out = []
        for f in self.FIELDS:
            v = self._values.get(f.name)
            if v is None:
                continue
            if isinstance(f, MapField):
                for key in sorted(v):
                    entry = _encode_one(1, f.key_kind, key) + _encode_one(2, f.value, v[key])
                    out.append(field_key(f.number, LEN) + encode_varint(len(entry)) + entry)
            elif f.repeated and not _is_message(f.kind) and f.kind not in ("string", "bytes"):
                if v:
                    b = encode_packed(f.kind, v)
                    out.append(field_key(f.number, LEN) + encode_varint(len(b)) + b)
            elif f.repeated:
                out.extend(_encode_one(f.number, f.kind, x) for x in v)
            else:
                out.append(_encode_one(f.number, f.kind, v))
        return b"".join(out)

    def ByteSize(self) -> int:  # noqa: N802 - protobuf spelling
        return len(self.SerializeToString())

    def ParseFromString(self, data, merge: bool = False) -> int:  # noqa: N802
        """Replaces this message's contents by the message encoded in `data` (with
        ``merge=True``, merges as protobuf's MergeFromString); returns the bytes read.

        Raises:
            DecodeError: `data` is not a valid encoding.
        """
        data = as_bytes(data)
        if not merge:
            self.Clear()
        for number, wire_type, raw in iter_fields(data):
            f = self._by_number.get(number)
            if f is None:
                continue
            if isinstance(f, MapField):
                key, value = _parse_entry(f, raw)
                getattr(self, f.name)[key] = value
            elif _is_message(f.kind):
                if wire_type != LEN:
                    raise DecodeError(f"field {number}: a message needs wire type 2")
                if f.repeated:
                    getattr(self, f.name).append(f.kind.FromString(raw))
                else:
                    cur = self._values.get(f.name)
                    if cur is None:
                        self._set(f.name, f.kind.FromString(raw))
                    else:
                        cur.ParseFromString(raw, merge=True)
            elif f.repeated:
                target = getattr(self, f.name)
                if wire_type == LEN and f.kind not in ("string", "bytes"):
                    list.extend(target, decode_packed(f.kind, raw, number))
                else:
                    list.append(target, decode_scalar(f.kind, wire_type, raw, number))
            else:
                self._set(f.name, decode_scalar(f.kind, wire_type, raw, number))
        return len(data)

    def MergeFromString(self, data) -> int:  # noqa: N802 - protobuf spelling
        return self.ParseFromString(data, merge=True)

    @classmethod
    def FromString(cls, data):  # noqa: N802 - protobuf spelling
        """The message encoded by `data` (bytes, or a 0-d array holding bytes)."""
        m = cls()
        m.ParseFromString(data)
        return m

    # -- comparison and text -------------------------------------------------------------
    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(self._canon(f) == other._canon(f) for f in self.FIELDS)

    def _canon(self, f):
        v = self._values.get(f.name)
        if isinstance(f, MapField):
            return dict(v) if v else {}
        if f.repeated:
            return list(v) if v else []
        return v

    __hash__ = None

    def __repr__(self) -> str:
        return _text(self, 0)

    __str__ = __repr__

    def __reduce__(self):
        return type(self).FromString, (self.SerializeToString(),)


def _encode_one(number: int, kind, value) -> bytes:
    if _is_message(kind):
        b = value.SerializeToString()
        return field_key(number, LEN) + encode_varint(len(b)) + b
    wire_type, payload = encode_scalar(kind, value)
    return field_key(number, wire_type) + payload


def _parse_entry(f: MapField, raw: bytes):
    key, value = _DEFAULTS.get(f.key_kind, 0), None
    for number, wire_type, v in iter_fields(raw):
        if number == 1:
            key = decode_scalar(f.key_kind, wire_type, v, 1)
        elif number == 2:
            value = decode_scalar(f.value, wire_type, v, 2)
    if value is None:
        value = f.value() if _is_message(f.value) else _DEFAULTS.get(f.value, 0)
    return key, value


def _scalar_text(kind, v) -> str:
    if kind in ("bytes", "string"):
        b = v.encode("utf-8") if isinstance(v, str) else v
        return '"' + "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else
                             {34: '\\"', 92: "\\\\", 10: "\\n"}.get(c, f"\\{c:03o}")
                             for c in b) + '"'
    if kind == "bool":
        return "true" if v else "false"
    if kind == "float":
        return str(np.float32(v))
    return repr(v)


def _text(m: ProtoMessage, indent: int) -> str:
    """Protobuf's text format."""
    pad, lines = "  " * indent, []
    for f, v in m.ListFields():
        if isinstance(f, MapField):
            for key in sorted(v):
                body = f"{pad}  key: {_scalar_text(f.key_kind, key)}\n"
                if _is_message(f.value):
                    body += f"{pad}  value {{\n{_text(v[key], indent + 2)}{pad}  }}\n"
                else:
                    body += f"{pad}  value: {_scalar_text(f.value, v[key])}\n"
                lines.append(f"{pad}{f.name} {{\n{body}{pad}}}\n")
            continue
        for x in (v if f.repeated else [v]):
            if _is_message(f.kind):
                lines.append(f"{pad}{f.name} {{\n{_text(x, indent + 1)}{pad}}}\n")
            else:
                lines.append(f"{pad}{f.name}: {_scalar_text(f.kind, x)}\n")
    return "".join(lines)
