"""The devices a local session can run on: logical CPU devices and CUDA GPUs through CuPy.

A `LocalDevice` is what the placement and partition passes place on and what a compiled
plan runs on: its array namespace (`xp`: NumPy or CuPy), how host arrays move onto it and
back, and a context that makes it current. CPU devices are logical: `ConfigProto(
device_count={"CPU": N})` gives N of them sharing this process's memory, so placement,
partitioning, transfers and concurrency run (and are tested) on machines without GPUs.

CuPy is imported lazily, the first time a session asks which GPUs exist; `import actorflow`
never imports it. Importing it also registers the GPU-specific kernels
(`actorflow.kernels.cupy_kernels`).
"""
from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

__all__ = ["LocalDevice", "local_devices", "gpu_backend", "gpu_count", "LOCAL_PREFIX"]

#: The job/replica/task part of every device of an in-process session.
LOCAL_PREFIX = "/job:localhost/replica:0/task:0"

_backend_lock = threading.Lock()
_backend: list = []  # [cupy module or None, reason] once probed


def gpu_backend():
    """CuPy, when it imports and sees at least one CUDA device; otherwise None.

    Probed once per process. Set ACTORFLOW_DISABLE_GPU=1 to hide GPUs from actorflow.
    """
    if not _backend:
        with _backend_lock:
            if not _backend:
                _backend.extend(_probe())
    return _backend[0]


def gpu_unavailable_reason() -> str:
    """Why `gpu_backend()` is None (empty when a GPU is available)."""
    gpu_backend()
    return _backend[1]


def _probe() -> tuple:
    if os.environ.get("ACTORFLOW_DISABLE_GPU", "") not in ("", "0"):
        return None, "ACTORFLOW_DISABLE_GPU is set"
    try:
        import cupy
    except ImportError:
        return None, "CuPy is not installed (pip install 'actorflow[cuda12]')"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - no driver, no device: CUDA is unusable either way
        return None, f"CUDA is not usable: {type(e).__name__}: {e}"
    if n < 1:
        return None, "no CUDA device is visible"
    from ..kernels import cupy_kernels  # noqa: F401 - registers the GPU-specific kernels
    return cupy, ""


def gpu_count() -> int:
    """Number of CUDA devices CuPy sees (0 without CuPy or CUDA)."""
    cp = gpu_backend()
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


class LocalDevice:
    """One device of this process: where a partition's kernels run and its variables live.

    Attributes:
        name: the full name, "/job:localhost/replica:0/task:0/device:GPU:1".
        device_type: "CPU" or "GPU".
        index: the index in the name (logical for CPUs; for GPUs, after
            `visible_device_list` remapping).
        physical: the CUDA device ordinal (GPUs) or the index (CPUs).
        xp: the array namespace kernels use on this device (numpy or cupy).
    """

    def __init__(self, device_type: str, index: int, physical: int | None = None,
                 xp=np) -> None:
        self.device_type = device_type
        self.index = index
        self.physical = index if physical is None else physical
        self.xp = xp
        self.name = f"{LOCAL_PREFIX}/device:{device_type}:{index}"
        self.job, self.replica, self.task = "localhost", 0, 0
        self.is_gpu = device_type == "GPU"
        self.is_remote = False
        self._array_type = np.ndarray if xp is np else xp.ndarray

    def __repr__(self) -> str:
        return f"LocalDevice({self.name!r})"

    def activate(self):
        """A context manager making this device current (CUDA) for the calling thread."""
        if self.is_gpu:
            return self.xp.cuda.Device(self.physical)
        return contextlib.nullcontext()

    def to_device(self, value):
        """`value` (a host array, or an array on another device) as an array on this device.

        Values already on this device are returned as they are (no copy)."""
        if not self.is_gpu:
            if type(value) is np.ndarray or not hasattr(value, "get"):
                return value
            return value.get()
        if isinstance(value, self._array_type) and value.device.id == self.physical:
            return value
        with self.xp.cuda.Device(self.physical):
            return self.xp.asarray(value)

    def to_host(self, value):
        """A host (NumPy) value of `value`; host values pass through unchanged."""
        if self.is_gpu and isinstance(value, self._array_type):
            return value.get()
        return value

    def synchronize(self) -> None:
        """Waits for this device's queued work (a no-op on CPUs)."""
        if self.is_gpu:
            with self.xp.cuda.Device(self.physical):
                self.xp.cuda.get_current_stream().synchronize()


def local_devices(config) -> list[LocalDevice]:
    """The devices a session with `config` (a ConfigProto) may use: CPUs first, then GPUs.

    `device_count={"CPU": N}` gives N logical CPU devices (default 1); `{"GPU": M}` caps the
    GPUs at M (default: every visible one); `gpu_options.visible_device_list="1,0"` picks and
    orders the CUDA devices that become /gpu:0, /gpu:1, ...

    Raises:
        ValueError: a device count below zero (or no CPU), or a visible device list naming a
            device that does not exist.
    """
    counts = dict(getattr(config, "device_count", None) or {})
    for key, n in counts.items():
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"ConfigProto.device_count[{key!r}] must be a non-negative int, "
                             f"got {n!r}")
    n_cpu = int(counts.get("CPU", 1))
    if n_cpu < 1:
        raise ValueError("ConfigProto.device_count['CPU'] must be at least 1: the CPU runs "
                         "feeds, fetches and every op without a GPU kernel")
    devices = [LocalDevice("CPU", i) for i in range(n_cpu)]
    want_gpus = counts.get("GPU")
    if want_gpus == 0:
        return devices
    cp = gpu_backend()
    if cp is None:
        return devices
    physical = list(range(gpu_count()))
    visible = str(getattr(getattr(config, "gpu_options", None), "visible_device_list", "")
                  or "").strip()
    if visible:
        try:
            chosen = [int(x) for x in visible.split(",")]
        except ValueError:
            raise ValueError(f"gpu_options.visible_device_list {visible!r} is not a "
                             "comma-separated list of device ordinals") from None
        bad = [c for c in chosen if c not in physical]
        if bad:
            raise ValueError(f"gpu_options.visible_device_list names CUDA device(s) {bad}, "
                             f"but this machine has {len(physical)}")
        physical = chosen
    if want_gpus is not None:
        physical = physical[:int(want_gpus)]
    devices += [LocalDevice("GPU", i, p, cp) for i, p in enumerate(physical)]
    return devices
