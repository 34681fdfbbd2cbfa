"""`tf.contrib.learn.datasets.mnist` (= `tensorflow.examples.tutorials.mnist.input_data`):
MNIST read the way TF 1.x tutorials call it, over `actorflow.datasets.mnist`.

Tutorials pass a folder of their own (``read_data_sets("MNIST_data/", one_hot=True)``) and
expect TF to download the files into it. actorflow downloads nothing here: it reads the IDX
files from that folder when they are there, and otherwise from ``$ACTORFLOW_DATA_DIR`` (the
folder holding ``mnist/``). When neither holds them, FileNotFoundError names the files and
every folder it looked in. With only the 10,000-image test set present, the project's split
applies (see `actorflow.datasets.mnist.read_test_split`): train 8,000, test 2,000.
"""
from __future__ import annotations

import os
from pathlib import Path

from ....datasets import mnist as _mnist
from ....datasets.mnist import (DataSet, Datasets, dense_to_one_hot, extract_images,
                                extract_labels)
from .... import dtypes as _dtypes

__all__ = ["DataSet", "Datasets", "DEFAULT_SOURCE_URL", "dense_to_one_hot", "extract_images",
           "extract_labels", "load_mnist", "read_data_sets"]

DEFAULT_SOURCE_URL = _mnist.SOURCE_URL
_FILES = (_mnist.TRAIN_IMAGES, _mnist.TRAIN_LABELS, _mnist.TEST_IMAGES, _mnist.TEST_LABELS)


def read_data_sets(train_dir, fake_data: bool = False, one_hot: bool = False,
                   dtype=_dtypes.float32, reshape: bool = True, validation_size=None,
                   seed: int | None = None, source_url: str = DEFAULT_SOURCE_URL):
    """MNIST as ``Datasets(train, validation, test)`` of `DataSet`s (`images`, `labels`,
    `num_examples`, `next_batch`), as TF 1.x's tutorial loader returns it.

    Args:
        train_dir: the program's MNIST folder; used when it holds the IDX files, else
            ``$ACTORFLOW_DATA_DIR`` is.
        one_hot: labels as one-hot rows instead of class ids.
        dtype: float32 (pixels scaled to [0, 1]) or uint8.
        reshape: images as ``[n, 784]`` rather than ``[n, 28, 28, 1]``.
        validation_size: training examples held out for validation (default: TF's 5000
            with the full training set; none when the split of the test set is used).
        seed: seeds the shuffling of `next_batch`.
        source_url: accepted for TF's signature; nothing is downloaded.

    Raises:
        FileNotFoundError: no MNIST files in `train_dir` nor in ``$ACTORFLOW_DATA_DIR``; the
            message lists the files and folders.
        ValueError: `fake_data` (not supported), or a damaged file.
    """
    d = _locate(train_dir)
    return _mnist.read_data_sets(d, fake_data=fake_data, one_hot=one_hot, dtype=dtype,
                                 reshape=reshape, validation_size=validation_size, seed=seed)


def load_mnist(train_dir="MNIST-data"):
    """`read_data_sets(train_dir)` with TF's default folder name (`load_dataset('mnist')`)."""
    return read_data_sets(train_dir)


def _locate(train_dir) -> Path:
    """The folder to read: `train_dir` (or its ``mnist/``) when it holds MNIST images, else
    ``$ACTORFLOW_DATA_DIR``'s; FileNotFoundError naming what was looked for otherwise."""
    candidates = []
    if train_dir is not None:
        candidates.append(_mnist.data_dir(train_dir))
    if os.environ.get(_mnist.DATA_DIR_ENV):
        candidates.append(_mnist.data_dir(None))
    for d in candidates:
        if any((d / name).is_file() or (d / name[:-3]).is_file()
               for name in (_mnist.TEST_IMAGES, _mnist.TRAIN_IMAGES)):
            return d
    looked = [str(d) for d in candidates]
    env = os.environ.get(_mnist.DATA_DIR_ENV)
    where = ", ".join(looked) if looked else "nowhere"
    raise FileNotFoundError(
        f"No MNIST files for read_data_sets({train_dir!r}): looked for {', '.join(_FILES)} "
        f"(gzipped or not; the two t10k files are enough) in {where}"
        f" ({_mnist.DATA_DIR_ENV}={env!r}). actorflow downloads nothing here: copy the IDX "
        f"files into {looked[0] if looked else 'train_dir'} or set {_mnist.DATA_DIR_ENV} to "
        "the folder holding mnist/")
