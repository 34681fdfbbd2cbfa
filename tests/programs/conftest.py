"""The programs assert learning progress from random initial weights: a fixed graph seed
per test keeps them deterministic (a program that sets its own seed overrides it)."""
import numpy as np
import pytest

import actorflow as tf


@pytest.fixture(autouse=True)
def _seeded_graph(_fresh_graph):
    tf.set_random_seed(1234)
    np.random.seed(1234)
    yield
