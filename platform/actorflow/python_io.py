"""`tf.python_io`: TF 1.x's older home of the TFRecord reader and writer."""
# ruff: noqa: F401
from .io.tf_record import (TFRecordCompressionType, TFRecordOptions, TFRecordWriter,
                           tf_record_iterator)

__all__ = ["TFRecordWriter", "tf_record_iterator", "TFRecordOptions", "TFRecordCompressionType"]
