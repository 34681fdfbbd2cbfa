"""The projector's configuration messages (TensorBoard's `projector_config.proto`), with the
protobuf API programs use (`embeddings.add()`, `sprite.single_image_dim.extend(...)`) and the
protobuf text format TensorBoard reads (`str(config)`)."""
from __future__ import annotations

__all__ = ["EmbeddingInfo", "ProjectorConfig", "SpriteMetadata"]


class _Message:
    """A proto3 message of string, repeated uint32, message and repeated message fields.

    `_FIELDS` lists ``(name, kind)`` in field-number order; kind is ``"string"``,
    ``"uint32*"`` (repeated), a `_Message` subclass, or ``[subclass]`` (repeated). Message
    fields exist from the start (protobuf creates them on first access); text format leaves
    out fields at their default (empty string, empty list, empty message), as proto3 does.
    """

    _FIELDS: tuple = ()

    def __init__(self, **fields) -> None:
        for name, kind in self._FIELDS:
            if kind == "string":
                value = ""
            elif kind == "uint32*":
                value = []
            elif isinstance(kind, list):
                value = _Repeated(kind[0])
            else:
                value = kind()
            object.__setattr__(self, name, value)
        for name, value in fields.items():
            setattr(self, name, value)

    def __setattr__(self, name: str, value) -> None:
        kinds = dict(self._FIELDS)
        if name not in kinds:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}; fields: "
                                 f"{', '.join(kinds)}")
        kind = kinds[name]
        if kind == "string":
            if not isinstance(value, str):
                raise TypeError(f"{type(self).__name__}.{name} takes a str, got "
                                f"{type(value).__name__}")
        elif kind == "uint32*" or isinstance(kind, list):
            raise AttributeError(f"Assignment not allowed to repeated field {name!r} in "
                                 "protocol message object (use append/extend/add)")
        else:
            raise AttributeError(f"Assignment not allowed to field {name!r} in protocol "
                                 "message object (set its own fields)")
        object.__setattr__(self, name, value)

    def _is_empty(self) -> bool:
        return not any(_has(getattr(self, name)) for name, _ in self._FIELDS)

    def _text_lines(self, indent: str) -> list:
        lines = []
        for name, kind in self._FIELDS:
            value = getattr(self, name)
            if kind == "string":
                if value:
                    lines.append(f'{indent}{name}: "{_escape(value)}"')
            elif kind == "uint32*":
                lines.extend(f"{indent}{name}: {int(v)}" for v in value)
            else:
                for m in (value if isinstance(kind, list) else [value]):
                    if isinstance(kind, list) or not m._is_empty():
                        lines.append(f"{indent}{name} {{")
                        lines.extend(m._text_lines(indent + "  "))
                        lines.append(f"{indent}}}")
        return lines

    def __str__(self) -> str:
        """The message in protobuf text format (as `text_format.MessageToString`)."""
        lines = self._text_lines("")
        return "".join(line + "\n" for line in lines)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and str(self) == str(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{str(self).strip()}>"


def _has(value) -> bool:
    if isinstance(value, _Message):
        return not value._is_empty()
    return bool(value)


class _Repeated(list):
    """A repeated message field: a list with protobuf's ``add(**fields)``."""

    def __init__(self, cls) -> None:
        super().__init__()
        self._cls = cls

    def add(self, **fields):
        """Appends a new message (with `fields` set) and returns it."""
        m = self._cls(**fields)
        self.append(m)
        return m


def _escape(text: str) -> str:
    """C-style escaping of the UTF-8 bytes, as protobuf's text format writes strings."""
    special = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x22: '\\"', 0x27: "\\'", 0x5C: "\\\\"}
    out = []
    for b in text.encode("utf-8"):
        if b in special:
            out.append(special[b])
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03o}")
    return "".join(out)


class SpriteMetadata(_Message):
    """The sprite image: `image_path` (relative to the log directory) holds the thumbnails in
    a grid, each `single_image_dim` = [width, height] pixels, in the tensor's row order."""

    _FIELDS = (("image_path", "string"), ("single_image_dim", "uint32*"))


class EmbeddingInfo(_Message):
    """One embedding: `tensor_name` (a variable's name in the checkpoint), `metadata_path`
    (a TSV file of labels, one row per embedding row), `sprite`, and optionally
    `tensor_path` (a TSV of values instead of a checkpoint), `tensor_shape`,
    `bookmarks_path`."""


class ProjectorConfig(_Message):
    """The projector's configuration: `embeddings` (``config.embeddings.add()``) and,
    optionally, where the checkpoint holding them is (`model_checkpoint_path` or
    `model_checkpoint_dir`; default: the log directory)."""


EmbeddingInfo._FIELDS = (("tensor_name", "string"), ("metadata_path", "string"),
                         ("bookmarks_path", "string"), ("tensor_shape", "uint32*"),
                         ("sprite", SpriteMetadata), ("tensor_path", "string"))
ProjectorConfig._FIELDS = (("model_checkpoint_path", "string"), ("embeddings", [EmbeddingInfo]),
                           ("model_checkpoint_dir", "string"))
