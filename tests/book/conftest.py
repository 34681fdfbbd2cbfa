"""Fixtures for the book programs: the project's MNIST split (first 8,000 test images to
train on, last 2,000 to evaluate) read through actorflow's own loader."""
from __future__ import annotations

import pytest

from ..conftest import data_dir


@pytest.fixture(scope="session")
def mnist():
    d = data_dir()
    if d is None:
        pytest.skip("MNIST data not found: set ACTORFLOW_DATA_DIR to a folder with mnist/")
    from actorflow.datasets import mnist as mnist_loader
    return mnist_loader.read_test_split(d / "mnist", one_hot=True, seed=0)
