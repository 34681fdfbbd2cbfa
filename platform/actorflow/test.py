"""`tf.test`: the TF 1.x testing helpers programs and their test files reach for —
`TestCase` (sessions on a fresh graph, array assertions), `main`, `get_temp_dir`, and the
device queries `is_gpu_available`, `gpu_device_name`, `is_built_with_cuda`."""
from __future__ import annotations

import contextlib
import tempfile
import unittest

import numpy as np

from .framework.graph import Graph, Tensor, get_default_graph
from .session.devices import gpu_backend, gpu_count
from .session.session import Session

__all__ = ["TestCase", "main", "get_temp_dir", "is_gpu_available", "gpu_device_name",
           "is_built_with_cuda", "is_built_with_gpu_support"]

_TEMP_DIR: list[str] = []


def is_built_with_cuda() -> bool:
    """True when a CUDA array library (CuPy) can be imported: actorflow's GPU kernels need it."""
    return gpu_backend() is not None


is_built_with_gpu_support = is_built_with_cuda


def is_gpu_available(cuda_only: bool = False, min_cuda_compute_capability=None) -> bool:
    """True when at least one CUDA device can run actorflow's GPU kernels."""
    return gpu_count() > 0


def gpu_device_name() -> str:
    """The name of the first GPU ("/device:GPU:0"), or "" when there is none."""
    return "/device:GPU:0" if gpu_count() > 0 else ""


def get_temp_dir() -> str:
    """A temporary folder for this process's tests (made once, kept until exit)."""
    if not _TEMP_DIR:
        _TEMP_DIR.append(tempfile.mkdtemp(prefix="actorflow_test_"))
    return _TEMP_DIR[0]


def main(argv=None) -> None:
    """Runs the tests of the calling module (`unittest.main`), as `tf.test.main()` does."""
    unittest.main(argv=argv)


class TestCase(unittest.TestCase):
    """`tf.test.TestCase`: each test builds on a fresh default graph; `session()` /
    `cached_session()` / `test_session()` run it; `evaluate` fetches tensors; and the
    `assertAll*` helpers compare arrays with NumPy's tolerances."""

    def setUp(self) -> None:
        super().setUp()
        self._graph_context = Graph().as_default()
        self._graph_context.__enter__()
        self._cached: Session | None = None

    def tearDown(self) -> None:
        if self._cached is not None:
            self._cached.close()
            self._cached = None
        self._graph_context.__exit__(None, None, None)
        super().tearDown()

    def get_temp_dir(self) -> str:
        """A temporary folder of this test case's process."""
        return get_temp_dir()

    @contextlib.contextmanager
    def session(self, graph: Graph | None = None, config=None, use_gpu: bool = False,
                force_gpu: bool = False):
        """A new session on `graph` (the test's default graph), closed on exit."""
        with Session(graph=graph or get_default_graph(), config=config) as sess:
            yield sess

    @contextlib.contextmanager
    def cached_session(self, graph: Graph | None = None, config=None, use_gpu: bool = False,
                       force_gpu: bool = False):
        """The test's one session (made on first use, closed by tearDown), as default."""
        if self._cached is None or self._cached._closed:
            self._cached = Session(graph=graph or get_default_graph(), config=config)
        with self._cached.as_default():
            yield self._cached

    def test_session(self, graph: Graph | None = None, config=None, use_gpu: bool = False,
                     force_gpu: bool = False):
        """The old name of `cached_session`. unittest's loader also collects it as a test
        (its name starts with "test"): run that way, it skips itself, as TF's does."""
        if self.id().endswith(".test_session"):
            self.skipTest("Not a test.")
        return self.cached_session(graph, config, use_gpu, force_gpu)

    def evaluate(self, tensors):
        """The values of `tensors` (any nesting) in the current default session."""
        from .session.session import get_default_session
        sess = get_default_session()
        if sess is None:
            with self.cached_session() as sess:
                return sess.run(tensors)
        return sess.run(tensors)

    def _value(self, x):
        return self.evaluate(x) if isinstance(x, Tensor) else x

    def assertAllClose(self, a, b, rtol: float = 1e-6, atol: float = 1e-6, msg=None) -> None:
        """Asserts that arrays (or nestings of them) are elementwise close."""
        np.testing.assert_allclose(np.asarray(self._value(a)), np.asarray(self._value(b)),
                                   rtol=rtol, atol=atol, err_msg=msg or "")

    def assertAllEqual(self, a, b, msg=None) -> None:
        """Asserts that two arrays have the same shape and the same elements."""
        a, b = np.asarray(self._value(a)), np.asarray(self._value(b))
        self.assertEqual(a.shape, b.shape, msg or f"shapes differ: {a.shape} vs {b.shape}")
        np.testing.assert_array_equal(a, b, err_msg=msg or "")

    def assertNear(self, f1: float, f2: float, err: float, msg=None) -> None:
        """Asserts |f1 - f2| <= err."""
        self.assertTrue(abs(f1 - f2) <= err, msg or f"{f1} != {f2} +/- {err}")

    def assertArrayNear(self, farray1, farray2, err: float, msg=None) -> None:
        """Asserts two float sequences are elementwise within `err`."""
        self.assertEqual(len(farray1), len(farray2), msg)
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg)

    def assertShapeEqual(self, np_array, tf_tensor, msg=None) -> None:
        """Asserts that a NumPy array's shape equals a tensor's static shape."""
        self.assertEqual(list(np.shape(np_array)), tf_tensor.get_shape().as_list(), msg)

    def assertAllInRange(self, target, lower_bound, upper_bound, open_lower_bound=False,
                         open_upper_bound=False) -> None:
        """Asserts every element lies in [lower_bound, upper_bound] (or open ends)."""
        t = np.asarray(self._value(target))
        low = t > lower_bound if open_lower_bound else t >= lower_bound
        high = t < upper_bound if open_upper_bound else t <= upper_bound
        self.assertTrue(np.all(low & high), f"values outside the range: {t}")

