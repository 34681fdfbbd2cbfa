"""Shared fixtures: a fresh default graph per test, and the data directory."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import actorflow as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    """Every test starts with an empty default graph and no default session."""
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def data_dir() -> Path | None:
    """ACTORFLOW_DATA_DIR, else ../shared/datasets beside the checkout, if it exists; always
    absolute (the README's relative form resolves against the working directory, the
    repository root under CI), so that tests can pass it to other working directories."""
    env = os.environ.get("ACTORFLOW_DATA_DIR")
    candidates = [Path(os.path.abspath(os.path.expanduser(env)))] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "datasets")
    for c in candidates:
        if (c / "mnist").is_dir():
            return c
    return None


@pytest.fixture
def mnist_dir() -> Path:
    d = data_dir()
    if d is None:
        pytest.skip("MNIST data not found: set ACTORFLOW_DATA_DIR to a folder with mnist/")
    return d / "mnist"


def pytest_collection_modifyitems(config, items):
    try:
        import cupy  # noqa: F401
        has_gpu = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - any failure means no usable GPU
        has_gpu = False
    if not has_gpu:
        skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)
