"""`from tensorflow.examples.tutorials.mnist import input_data`, then
``mnist = input_data.read_data_sets("MNIST_data/", one_hot=True)``.

As in TF 1.x this re-exports `tf.contrib.learn.datasets.mnist`: the files are read from the
folder given when it holds them, else from ``$ACTORFLOW_DATA_DIR``; nothing is downloaded.
"""
from ....contrib.learn.datasets.mnist import (DEFAULT_SOURCE_URL, DataSet, Datasets,  # noqa: F401
                                              dense_to_one_hot, extract_images,
                                              extract_labels, load_mnist, read_data_sets)

__all__ = ["DEFAULT_SOURCE_URL", "DataSet", "Datasets", "dense_to_one_hot", "extract_images",
           "extract_labels", "load_mnist", "read_data_sets"]
