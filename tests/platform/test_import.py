"""Importing actorflow from a checkout: the stdlib `platform` module is never shadowed (see
DESIGN.md: platform/ has no __init__.py), and the core pulls in neither Ray nor Gymnasium."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, pythonpath: bool) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_platform_folder_is_a_source_root_not_a_package():
    assert (ROOT / "platform" / "actorflow" / "__init__.py").is_file()
    assert not (ROOT / "platform" / "__init__.py").exists()


@pytest.mark.parametrize("pythonpath", [False, True], ids=["cwd", "PYTHONPATH"])
def test_import_from_repository_root(pythonpath):
    code = ("import numpy, actorflow, platform; "
            "assert hasattr(platform, 'system'), platform; "
            "print(actorflow.__name__, platform.system())")
    r = _run(code, pythonpath)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("actorflow ")


def test_core_imports_neither_ray_nor_gymnasium():
    code = ("import sys, actorflow as tf; "
            "tf.Session().run(tf.constant(1.0) + 1.0); "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('ray', 'gymnasium', 'gym')); "
            "print(bad); assert not bad, bad")
    r = _run(code, pythonpath=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cupy_is_imported_only_when_a_session_looks_for_gpus():
    code = ("import sys, actorflow as tf; "
            "assert 'cupy' not in sys.modules, 'import actorflow imported cupy'; "
            "s = tf.Session(config=tf.ConfigProto(device_count={'GPU': 0})); "
            "assert s.run(tf.constant(2.0) * 3.0) == 6.0; "
            "assert 'cupy' not in sys.modules, 'a session without GPUs imported cupy'; "
            "print('ok')")
    r = _run(code, pythonpath=True)
    assert r.returncode == 0, r.stdout + r.stderr
