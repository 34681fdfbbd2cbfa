"""TensorFlow's event-file messages, with TensorFlow's field names and numbers.

From tensorflow/core/framework/{summary,tensor,tensor_shape,graph,node_def,attr_value}.proto,
tensorflow/core/util/event.proto and tensorflow/core/protobuf/config.proto (RunMetadata), so
TensorBoard reads what `FileWriter` writes. Only the fields actorflow writes or reads are
declared; decoding skips the others.
"""
from __future__ import annotations

import numpy as np

from .wire import Field, Message

__all__ = ["HistogramProto", "PluginData", "SummaryMetadata", "TensorShapeProto",
           "TensorProto", "Summary", "SessionLog", "LogMessage", "TaggedRunMetadata", "Event",
           "AttrValue", "NodeDef", "VersionDef", "GraphDef", "AllocatorMemoryUsed",
           "NodeExecStats", "DeviceStepStats", "StepStats", "RunMetadataProto",
           "DATA_TYPE_ENUM", "data_type_enum"]

# tensorflow/core/framework/types.proto
DATA_TYPE_ENUM = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
                  "string": 7, "complex64": 8, "int64": 9, "bool": 10, "uint16": 17,
                  "complex128": 18, "float16": 19}


def data_type_enum(dtype) -> int:
    """TF's DataType number of an actorflow DType (or its name)."""
    name = getattr(dtype, "name", dtype)
    try:
        return DATA_TYPE_ENUM[name]
    except KeyError:
        raise ValueError(f"dtype {name!r} has no TensorFlow DataType number") from None


class HistogramProto(Message):
    FIELDS = (Field("min", 1, "double"), Field("max", 2, "double"), Field("num", 3, "double"),
              Field("sum", 4, "double"), Field("sum_squares", 5, "double"),
              Field("bucket_limit", 6, "double", True), Field("bucket", 7, "double", True))


class PluginData(Message):
    FIELDS = (Field("plugin_name", 1, "string"), Field("content", 2, "bytes"))


class SummaryMetadata(Message):
    PluginData = PluginData
    FIELDS = (Field("plugin_data", 1, PluginData), Field("display_name", 2, "string"),
              Field("summary_description", 3, "string"), Field("data_class", 4, "enum"))


class _Dim(Message):
    FIELDS = (Field("size", 1, "int64"), Field("name", 2, "string"))


class TensorShapeProto(Message):
    Dim = _Dim
    FIELDS = (Field("dim", 2, _Dim, True), Field("unknown_rank", 3, "bool"))

    @classmethod
    def from_shape(cls, shape) -> "TensorShapeProto":
        """From a tuple of ints/None (None dims are -1) or None (unknown rank)."""
        if shape is None:
            return cls(unknown_rank=True)
        return cls(dim=[_Dim(size=-1 if d is None else int(d)) for d in shape])


class TensorProto(Message):
    FIELDS = (Field("dtype", 1, "enum"), Field("tensor_shape", 2, TensorShapeProto),
              Field("version_number", 3, "int32"), Field("tensor_content", 4, "bytes"),
              Field("float_val", 5, "float", True), Field("double_val", 6, "double", True),
              Field("int_val", 7, "int32", True), Field("string_val", 8, "bytes", True),
              Field("int64_val", 10, "int64", True), Field("bool_val", 11, "bool", True))

    @classmethod
    def from_array(cls, value) -> "TensorProto":
        """A TensorProto of a NumPy array: strings as `string_val`, numbers as raw bytes."""
        arr = np.asarray(value)
        shape = TensorShapeProto.from_shape(arr.shape)
        if arr.dtype.kind in "OSU":
            vals = [v.encode("utf-8") if isinstance(v, str) else bytes(v)
                    for v in arr.reshape(-1).tolist()]
            return cls(dtype=DATA_TYPE_ENUM["string"], tensor_shape=shape, string_val=vals)
        enum = data_type_enum(arr.dtype.name)
        content = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        return cls(dtype=enum, tensor_shape=shape, tensor_content=content)


class _Image(Message):
    FIELDS = (Field("height", 1, "int32"), Field("width", 2, "int32"),
              Field("colorspace", 3, "int32"), Field("encoded_image_string", 4, "bytes"))


class _Audio(Message):
    FIELDS = (Field("sample_rate", 1, "float"), Field("num_channels", 2, "int64"),
              Field("length_frames", 3, "int64"), Field("encoded_audio_string", 4, "bytes"),
              Field("content_type", 5, "string"))


class _Value(Message):
    FIELDS = (Field("tag", 1, "string"), Field("simple_value", 2, "float"),
              Field("obsolete_old_style_histogram", 3, "bytes"), Field("image", 4, _Image),
              Field("histo", 5, HistogramProto), Field("audio", 6, _Audio),
              Field("node_name", 7, "string"), Field("tensor", 8, TensorProto),
              Field("metadata", 9, SummaryMetadata))


class Summary(Message):
    """TF 1.x `tf.Summary`: ``Summary(value=[Summary.Value(tag=..., simple_value=...)])``."""

    Value = _Value
    Image = _Image
    Audio = _Audio
    FIELDS = (Field("value", 1, _Value, True),)


for _cls, _name in ((_Value, "Summary.Value"), (_Image, "Summary.Image"),
                   (_Audio, "Summary.Audio"), (_Dim, "TensorShapeProto.Dim")):
    _cls.__qualname__ = _name


class SessionLog(Message):
    STATUS_UNSPECIFIED, START, STOP, CHECKPOINT = 0, 1, 2, 3
    FIELDS = (Field("status", 1, "enum"), Field("checkpoint_path", 2, "string"),
              Field("msg", 3, "string"))


class LogMessage(Message):
    UNKNOWN, DEBUGGING, INFO, WARN, ERROR, FATAL = 0, 10, 20, 30, 40, 50
    FIELDS = (Field("level", 1, "enum"), Field("message", 2, "string"))


class TaggedRunMetadata(Message):
    FIELDS = (Field("tag", 1, "string"), Field("run_metadata", 2, "bytes"))


class Event(Message):
    """One record of an event file: a time, a step and one payload."""

    FIELDS = (Field("wall_time", 1, "double"), Field("step", 2, "int64"),
              Field("file_version", 3, "string"), Field("graph_def", 4, "bytes"),
              Field("summary", 5, Summary), Field("log_message", 6, LogMessage),
              Field("session_log", 7, SessionLog),
              Field("tagged_run_metadata", 8, TaggedRunMetadata),
              Field("meta_graph_def", 9, "bytes"))


# -- graphs --------------------------------------------------------------------------------
class _ListValue(Message):
    FIELDS = (Field("s", 2, "bytes", True), Field("i", 3, "int64", True),
              Field("f", 4, "float", True), Field("b", 5, "bool", True),
              Field("type", 6, "enum", True), Field("shape", 7, TensorShapeProto, True),
              Field("tensor", 8, TensorProto, True))


class AttrValue(Message):
    ListValue = _ListValue
    FIELDS = (Field("list", 1, _ListValue), Field("s", 2, "bytes"), Field("i", 3, "int64"),
              Field("f", 4, "float"), Field("b", 5, "bool"), Field("type", 6, "enum"),
              Field("shape", 7, TensorShapeProto), Field("tensor", 8, TensorProto))


class _AttrEntry(Message):
    """One entry of the map<string, AttrValue> `NodeDef.attr`."""

    FIELDS = (Field("key", 1, "string"), Field("value", 2, AttrValue))


class NodeDef(Message):
    AttrEntry = _AttrEntry
    FIELDS = (Field("name", 1, "string"), Field("op", 2, "string"),
              Field("input", 3, "string", True), Field("device", 4, "string"),
              Field("attr", 5, _AttrEntry, True))


_ListValue.__qualname__ = "AttrValue.ListValue"
_AttrEntry.__qualname__ = "NodeDef.AttrEntry"


class VersionDef(Message):
    FIELDS = (Field("producer", 1, "int32"), Field("min_consumer", 2, "int32"))


class GraphDef(Message):
    FIELDS = (Field("node", 1, NodeDef, True), Field("versions", 4, VersionDef))


# -- run metadata (step stats) -------------------------------------------------------------
class AllocatorMemoryUsed(Message):
    FIELDS = (Field("allocator_name", 1, "string"), Field("total_bytes", 2, "int64"),
              Field("peak_bytes", 3, "int64"))


class NodeExecStats(Message):
    FIELDS = (Field("node_name", 1, "string"), Field("all_start_micros", 2, "int64"),
              Field("op_start_rel_micros", 3, "int64"), Field("op_end_rel_micros", 4, "int64"),
              Field("all_end_rel_micros", 5, "int64"),
              Field("memory", 6, AllocatorMemoryUsed, True),
              Field("timeline_label", 8, "string"))


class DeviceStepStats(Message):
    FIELDS = (Field("device", 1, "string"), Field("node_stats", 2, NodeExecStats, True))


class StepStats(Message):
    FIELDS = (Field("dev_stats", 1, DeviceStepStats, True),)


class RunMetadataProto(Message):
    """The encoded form of `tf.RunMetadata` (its step stats)."""

    FIELDS = (Field("step_stats", 1, StepStats),)
