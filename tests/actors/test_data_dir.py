"""A relative ACTORFLOW_DATA_DIR inside a Ray worker: on a local Ray a worker runs in the
driver's working directory, so the README's relative form finds the same data there."""
from __future__ import annotations

import os

import pytest

from tests.conftest import data_dir

pytestmark = pytest.mark.slow


class _Reader:
    """Reads the MNIST test split where the worker's environment says."""

    def read(self) -> tuple[str, str, str, int]:
        from actorflow.datasets import mnist
        ds = mnist.read_test_split(train_size=8000)
        return (os.environ["ACTORFLOW_DATA_DIR"], os.getcwd(), str(mnist.data_dir()),
                ds.test.num_examples)


def test_a_worker_reads_mnist_from_a_relative_data_dir(ray_local):
    from actorflow.actors._remote import as_actor, get

    root = data_dir()
    if root is None:
        pytest.skip("MNIST data not found: set ACTORFLOW_DATA_DIR to a folder with mnist/")
    relative = os.path.relpath(root, os.getcwd())
    actor = as_actor(_Reader, options={
        "num_cpus": 0, "runtime_env": {"env_vars": {"ACTORFLOW_DATA_DIR": relative}}})
    env, cwd, resolved, n = get(actor.read.remote(), timeout=120)
    ray_local.kill(actor)
    assert env == relative and not os.path.isabs(env)
    assert cwd == os.getcwd()
    assert resolved == str(root / "mnist") and n == 2000
