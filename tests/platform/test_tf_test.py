"""tf.test: a TF 1.x test file (a tf.test.TestCase subclass run by tf.test.main) runs, and
its assertions fail when they should."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import actorflow as tf


class _Square(tf.test.TestCase):
    def test_square(self):
        with self.cached_session():
            x = tf.constant([1.0, 2.0])
            self.assertAllClose(tf.square(x).eval(), [1.0, 4.0])
            self.assertAllEqual(self.evaluate(tf.shape(x)), [2])

    def test_fresh_graph_per_test(self):
        assert tf.get_default_graph().get_operations() == []


def test_testcase_runs_on_a_fresh_graph_and_sessions():
    result = __import__("unittest").TextTestRunner(stream=open("/dev/null", "w")).run(
        __import__("unittest").defaultTestLoader.loadTestsFromTestCase(_Square))
    assert result.wasSuccessful(), result.failures + result.errors


def test_assertions_fail_on_different_values():
    case = tf.test.TestCase()
    with pytest.raises(AssertionError):
        case.assertAllClose(np.float32([1, 2]), [1, 2.5])
    with pytest.raises(AssertionError):
        case.assertAllEqual([1, 2], [[1, 2]])
    with pytest.raises(AssertionError):
        case.assertAllInRange([0.0, 1.5], 0.0, 1.0)


def test_device_queries_agree():
    assert tf.test.is_gpu_available() == (tf.test.gpu_device_name() != "")


def test_a_tf_test_file_runs_under_tf_test_main(tmp_path):
    prog = tmp_path / "square_test.py"
    prog.write_text(textwrap.dedent("""
        import actorflow as tf

        class SquareTest(tf.test.TestCase):
            def testSquare(self):
                with self.test_session():
                    self.assertAllEqual(tf.square([2, 3]).eval(), [4, 9])

            def testWrong(self):
                with self.session() as sess:
                    self.assertAllEqual(sess.run(tf.square([2, 3])), [4, 8])

        if __name__ == "__main__":
            tf.test.main()
    """))
    proc = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "FAIL: testWrong" in proc.stderr and "failures=1" in proc.stderr
