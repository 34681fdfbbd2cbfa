"""`tf.data` with TF 1.x graph semantics (`tf.compat.v1.data`): datasets describe an input
pipeline in the graph; iterators read it in a session.

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    dataset = dataset.shuffle(1000).map(preprocess, num_parallel_calls=2).batch(128)
    images_batch, labels_batch = dataset.make_one_shot_iterator().get_next()

Modules: structure (element nesting and static specs), kernels (the dataset ops), pipeline,
ordering and batching (the host iterators that run them), functions (traced map/filter
functions), dataset_ops (`Dataset`), readers (file datasets), iterator_ops (`Iterator` and
its ops), experimental and contrib (`tf.data.experimental`, `tf.contrib.data`).
"""
# ruff: noqa: F401
from . import experimental
from .dataset_ops import AUTOTUNE, Dataset
from .iterator_ops import (Iterator, get_output_classes, get_output_shapes, get_output_types,
                           make_initializable_iterator, make_one_shot_iterator)
from .readers import FixedLengthRecordDataset, TextLineDataset, TFRecordDataset

__all__ = ["Dataset", "Iterator", "TFRecordDataset", "TextLineDataset",
           "FixedLengthRecordDataset", "experimental", "AUTOTUNE", "make_one_shot_iterator",
           "make_initializable_iterator", "get_output_types", "get_output_shapes",
           "get_output_classes"]
