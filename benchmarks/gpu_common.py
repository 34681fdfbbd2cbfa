"""Shared set-up of the GPU benchmarks (gpu_matmul, gpu_cnn_step, gpu_alexnet).

Each benchmark runs on ``--device cuda`` (default: the first GPU, through CuPy) or
``--device cpu`` (a small smoke run of the same logic on a machine without CUDA). Timings
synchronise the device after every call, so a call's time includes its GPU work. actorflow
need not be installed: the repository's ``platform/`` folder is put on ``sys.path`` when
``import actorflow`` would fail.
"""
from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
try:
    import actorflow  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "platform"))

from _timing import emit, import_torch, interleaved  # noqa: E402,F401

import actorflow as tf  # noqa: E402


class Target:
    """Where a benchmark runs: the actorflow device string, a session config, a device
    synchronisation, and the matching PyTorch device name."""

    def __init__(self, device: str) -> None:
        if device not in ("cuda", "cpu"):
            raise SystemExit(f"--device must be 'cuda' or 'cpu', got {device!r}")
        self.kind = device
        self.cupy = None
        if device == "cuda":
            from actorflow.session.devices import gpu_backend, gpu_unavailable_reason
            self.cupy = gpu_backend()
            if self.cupy is None:
                raise SystemExit(f"no CUDA device: {gpu_unavailable_reason()} "
                                 "(use --device cpu for a smoke run)")
        self.tf_device = "/gpu:0" if device == "cuda" else "/cpu:0"
        self.torch_device = device

    def config(self) -> tf.ConfigProto:
        """Explicit placement only on the GPU; no GPU at all for CPU runs."""
        if self.kind == "cuda":
            return tf.ConfigProto(allow_soft_placement=False)
        return tf.ConfigProto(device_count={"GPU": 0})

    def sync(self) -> None:
        if self.cupy is not None:
            self.cupy.cuda.runtime.deviceSynchronize()

    def synced(self, fn):
        """`fn` followed by a device synchronisation (what a timing must include)."""
        sync = self.sync

        def call():
            fn()
            sync()
        return call

    def name(self) -> str:
        if self.cupy is None:
            return "cpu"
        props = self.cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)

    def torch(self):
        """PyTorch on this device (TF32 off, cuDNN autotuning on), or None when torch is
        missing or has no CUDA."""
        torch = import_torch()
        if torch is None or (self.kind == "cuda" and not torch.cuda.is_available()):
            return None
        if self.kind == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
        return torch

    def torch_sync(self, torch):
        if self.kind == "cuda":
            return torch.cuda.synchronize
        return lambda: None


def add_device_arg(ap) -> None:
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                    help="cuda (default) or cpu for a smoke run of the script logic")
    ap.add_argument("--rounds", type=int, default=5)
