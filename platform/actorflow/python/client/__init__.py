"""`tensorflow.python.client`: `device_lib`."""
from . import device_lib

__all__ = ["device_lib"]
