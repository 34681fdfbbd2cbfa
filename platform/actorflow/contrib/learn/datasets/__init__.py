"""`tf.contrib.learn.datasets`: `load_dataset(name)` and the `mnist` module.

Only MNIST is available; TF's other data sets (iris, boston, dbpedia, ...) raise
`DatasetNotAvailableError` naming the data set.
"""
from __future__ import annotations

from . import mnist

__all__ = ["DATASETS", "DatasetNotAvailableError", "load_dataset", "mnist"]

#: name -> loader, for `load_dataset`.
DATASETS = {"mnist": mnist.load_mnist}
# The names TF 1.x's load_dataset knows, for a precise error rather than "not found".
_TF_DATASETS = ("iris", "boston", "dbpedia", "mnist")


class DatasetNotAvailableError(NotImplementedError):
    """A data set TF's `load_dataset` offers that actorflow does not ship."""


def load_dataset(name: str, size: str = "small", test_with_fake_data: bool = False):
    """Loads the data set `name` ('mnist': `mnist.load_mnist()`).

    Raises:
        ValueError: `name` is no data set TF knows either (TF's error).
        DatasetNotAvailableError: a TF data set actorflow does not ship.
    """
    if name not in _TF_DATASETS:
        raise ValueError(f"Name of dataset is not found: {name}")
    if name not in DATASETS:
        raise DatasetNotAvailableError(
            f"actorflow does not implement tf.contrib.learn.datasets.load_dataset({name!r}): "
            f"available: {', '.join(DATASETS)}")
    if test_with_fake_data:
        raise ValueError("test_with_fake_data is not supported: the MNIST loader reads the "
                         "real IDX files")
    return DATASETS[name]()
