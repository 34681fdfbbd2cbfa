"""`tf.io`: TFRecord files, tf.train.Example parsing and the decode ops."""
# ruff: noqa: F401
from ..ops.parsing import (FixedLenFeature, FixedLenSequenceFeature, VarLenFeature, decode_csv,
                           decode_raw, parse_example, parse_single_example)
from .tf_record import (TFRecordCompressionType, TFRecordOptions, TFRecordWriter,
                        tf_record_iterator)
