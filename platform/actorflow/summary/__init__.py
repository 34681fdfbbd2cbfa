"""TF 1.x `tf.summary`: summary ops and `FileWriter` for TensorBoard.

``tf.summary.scalar/histogram/image/text`` add ops whose value is a serialized `Summary`
protobuf; ``merge``/``merge_all`` combine them; ``FileWriter(logdir, graph)`` writes them
(``add_summary(value, step)``), the graph and run metadata to an event file that TensorBoard
reads. The protobuf wire format and PNG encoding are written here in Python and NumPy
(`wire`, `encode`; event files are framed by `actorflow.io.tf_record`), so neither
TensorFlow nor protobuf is needed.
"""
from ..ops.summary_ops import (histogram, image, merge, merge_all, scalar, tensor_summary,
                               text)
from .protos import Event, HistogramProto, SessionLog, Summary, SummaryMetadata, TaggedRunMetadata
from .writer import EventFileWriter, FileWriter, FileWriterCache, summary_iterator

__all__ = ["scalar", "histogram", "image", "text", "tensor_summary", "merge", "merge_all",
           "FileWriter", "FileWriterCache", "EventFileWriter", "Summary", "SummaryMetadata",
           "HistogramProto", "Event", "SessionLog", "TaggedRunMetadata",
           "summary_iterator"]
