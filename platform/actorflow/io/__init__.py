"""`tf.io`: TFRecord files (`TFRecordWriter`, `tf_record_iterator`, `TFRecordOptions`)."""
# ruff: noqa: F401
from .tf_record import (TFRecordCompressionType, TFRecordOptions, TFRecordWriter,
                        tf_record_iterator)
