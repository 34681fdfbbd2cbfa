"""Text and bytes conversions and the numeric type tuples of `tf.compat`."""
from __future__ import annotations

import numbers
import os

import numpy as np

__all__ = ["as_bytes", "as_str", "as_str_any", "as_text", "bytes_or_text_types",
           "complex_types", "integral_types", "path_to_str", "real_types"]

#: What `as_bytes` and `as_text` accept.
bytes_or_text_types = (bytes, str)
#: Integers, Python's and NumPy's (`isinstance(x, tf.compat.integral_types)`).
integral_types = (numbers.Integral, np.integer)
#: Real numbers, Python's and NumPy's.
real_types = (numbers.Real, np.integer, np.floating)
#: Complex numbers (and so every number), Python's and NumPy's.
complex_types = (numbers.Complex, np.number)


def as_bytes(bytes_or_text, encoding: str = "utf-8") -> bytes:
    """`bytes_or_text` as bytes: str is encoded with `encoding`, bytes and bytearray are
    returned as bytes.

    Raises:
        TypeError: anything else.
    """
    if isinstance(bytes_or_text, bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


def as_text(bytes_or_text, encoding: str = "utf-8") -> str:
    """`bytes_or_text` as str: bytes are decoded with `encoding`, str is returned as is.

    Raises:
        TypeError: anything else (a bytearray too, as in TF).
        UnicodeDecodeError: bytes that are not valid in `encoding`.
    """
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


#: Python 3's native string is text: `as_str` is `as_text`.
as_str = as_text


def as_str_any(value, encoding: str = "utf-8") -> str:
    """`value` as str: bytes are decoded (`as_str`), anything else goes through `str()`."""
    if isinstance(value, bytes):
        return as_str(value, encoding)
    return str(value)


def path_to_str(path):
    """A path-like object (`pathlib.Path`, anything with `__fspath__`) as str; other values
    are returned unchanged."""
    if isinstance(path, os.PathLike):
        return as_str_any(path.__fspath__())
    return path
