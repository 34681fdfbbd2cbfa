"""`tensorflow.python.client.device_lib.list_local_devices()`: the devices a session here
would use (CPUs, then the CUDA GPUs CuPy sees)."""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["DeviceAttributes", "list_local_devices"]


class DeviceAttributes(NamedTuple):
    """One device, with the fields programs read from TF's DeviceAttributes proto."""

    name: str  # "/device:CPU:0", "/device:GPU:1"
    device_type: str  # "CPU" or "GPU"
    memory_limit: int  # bytes; 0 for CPUs (TF reports host memory there)
    physical_device_desc: str


def list_local_devices(session_config=None) -> list[DeviceAttributes]:
    """The local devices, CPUs first, named as TF names them (``/device:GPU:0``).

    Args:
        session_config: a `ConfigProto` whose `device_count` and `gpu_options` restrict the
            devices, as they would a session's.
    """
    from ...framework.graph import Graph
    from ...session.session import Session

    sess = Session(graph=Graph(), config=session_config)
    try:
        devices = sess.list_devices()
    finally:
        sess.close()
    out = []
    for d in devices:
        short = "/device:" + d.name.rsplit("/device:", 1)[-1]
        out.append(DeviceAttributes(short, d.device_type, d.memory_limit_bytes,
                                    "" if d.device_type == "CPU" else d.name))
    return out
