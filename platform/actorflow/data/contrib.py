"""`tf.contrib.data`: TF 1.x's contrib aliases of tf.data (the datasets, the iterator, and the
`experimental` transformations for `Dataset.apply`)."""
# ruff: noqa: F401
from .dataset_ops import AUTOTUNE, Dataset
from .experimental import (batch_and_drop_remainder, map_and_batch, parallel_interleave,
                           shuffle_and_repeat, unbatch)
from .iterator_ops import Iterator
from .readers import FixedLengthRecordDataset, TextLineDataset, TFRecordDataset

__all__ = ["AUTOTUNE", "Dataset", "Iterator", "TFRecordDataset", "TextLineDataset",
           "FixedLengthRecordDataset", "batch_and_drop_remainder", "map_and_batch",
           "parallel_interleave", "shuffle_and_repeat", "unbatch"]
