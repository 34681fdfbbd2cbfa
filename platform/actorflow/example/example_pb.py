"""`tf.train.Example` and its parts, from tensorflow/core/example/{feature,example}.proto.

A `Feature` holds one of three lists (`bytes_list`, `float_list`, `int64_list`); `Features`
maps names to features; an `Example` holds one `Features`. A `SequenceExample` adds
`feature_lists`: names mapped to a `FeatureList` (one `Feature` per time step). The wire
encoding is TensorFlow's (packed floats and int64s), so the bytes are what TF reads and
writes; map entries are written sorted by key, as protobuf's deterministic serialization.
"""
from __future__ import annotations

from .message import Field, MapField, ProtoMessage

__all__ = ["BytesList", "FloatList", "Int64List", "Feature", "Features", "FeatureList",
           "FeatureLists", "Example", "SequenceExample"]


class BytesList(ProtoMessage):
    """A list of byte strings (``value``)."""

    FIELDS = (Field("value", 1, "bytes", True),)


class FloatList(ProtoMessage):
    """A list of float32 numbers (``value``), packed on the wire."""

    FIELDS = (Field("value", 1, "float", True),)


class Int64List(ProtoMessage):
    """A list of int64 numbers (``value``), packed on the wire."""

    FIELDS = (Field("value", 1, "int64", True),)


class Feature(ProtoMessage):
    """One of `bytes_list`, `float_list` or `int64_list` (the oneof ``kind``)."""

    FIELDS = (Field("bytes_list", 1, BytesList), Field("float_list", 2, FloatList),
              Field("int64_list", 3, Int64List))
    ONEOFS = {"kind": ("bytes_list", "float_list", "int64_list")}


class Features(ProtoMessage):
    """``feature``: a map from names to `Feature`."""

    FIELDS = (MapField("feature", 1, "string", Feature),)


class FeatureList(ProtoMessage):
    """``feature``: a sequence of `Feature`, one per step."""

    FIELDS = (Field("feature", 1, Feature, True),)


class FeatureLists(ProtoMessage):
    """``feature_list``: a map from names to `FeatureList`."""

    FIELDS = (MapField("feature_list", 1, "string", FeatureList),)


class Example(ProtoMessage):
    """One record of named features (``features``)."""

    FIELDS = (Field("features", 1, Features),)


class SequenceExample(ProtoMessage):
    """Per-record features (``context``) and per-step features (``feature_lists``)."""

    FIELDS = (Field("context", 1, Features), Field("feature_lists", 2, FeatureLists))
