"""TFRecord framing and CRC-32C (Castagnoli), as TensorFlow's event files use them.

A record is::

    uint64 length (little-endian) | uint32 masked_crc32c(length bytes) |
    data[length]                  | uint32 masked_crc32c(data)

CRC-32C is table-driven. Short inputs go byte by byte in Python; long ones are cut into
equal chunks whose CRC registers advance together as NumPy vectors, then are chained with the
precomputed linear map "append L zero bytes" (the register update is linear over GF(2), so
``reg(state, chunk) = shift_L(state) ^ reg(0, chunk)``).
"""
from __future__ import annotations

import functools
import os
import struct
from typing import Iterator

import numpy as np

from .. import errors
from ..file_safety import check_size

__all__ = ["crc32c", "masked_crc32c", "encode_record", "read_records"]

_POLY = 0x82F63B78  # CRC-32C, reflected
_MASK_DELTA = 0xA282EAD8
_NUMPY_FROM = 8192  # bytes; below this the plain loop is faster


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (_POLY if c & 1 else 0)
        table.append(c)
    return table


_TABLE = _make_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)


def _update(reg: int, data) -> int:
    table = _TABLE
    for b in data:
        reg = table[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg


@functools.lru_cache(maxsize=8)
def _shift_tables(length: int) -> np.ndarray:
    """T[i, v]: the register after `length` zero bytes, starting from ``v << 8i``."""
    x = (np.arange(256, dtype=np.uint32)[None, :] << (8 * np.arange(4, dtype=np.uint32))[:, None])
    for _ in range(length):
        x = _TABLE_NP[x & 0xFF] ^ (x >> 8)
    return x


def _update_chunked(reg: int, data: bytes) -> int:
    n = len(data)
    length = max(256, 1 << (n.bit_length() // 2))  # about sqrt(n), a power of two (cached)
    k = n // length
    blocks = np.frombuffer(data, dtype=np.uint8, count=k * length).reshape(k, length)
    regs = np.zeros(k, dtype=np.uint32)
    for j in range(length):
        regs = _TABLE_NP[(regs ^ blocks[:, j]) & 0xFF] ^ (regs >> 8)
    t0, t1, t2, t3 = (row.tolist() for row in _shift_tables(length))
    for r in regs.tolist():
        reg = t0[reg & 0xFF] ^ t1[(reg >> 8) & 0xFF] ^ t2[(reg >> 16) & 0xFF] ^ t3[reg >> 24] ^ r
    return _update(reg, data[k * length:])


def crc32c(data: bytes) -> int:
    """The CRC-32C of `data` (``crc32c(b"123456789") == 0xE3069283``)."""
    data = bytes(data)
    if len(data) < _NUMPY_FROM:
        return _update(0xFFFFFFFF, data) ^ 0xFFFFFFFF
    return _update_chunked(0xFFFFFFFF, data) ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits and add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data and the data's masked CRC."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data +
            struct.pack("<I", masked_crc32c(data)))


def read_records(path: str) -> Iterator[bytes]:
    """Yields the data of each record of the TFRecord file `path`, checking both CRCs.

    Raises:
        actorflow.errors.DataLossError: a truncated record or a CRC mismatch (the message
            gives the file and the offset).
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        offset = 0
        while True:
            header = f.read(12)
            if not header:
                return
            if len(header) < 12:
                raise errors.DataLossError(None, None, f"truncated record header at offset "
                                           f"{offset} of {path}")
            length, crc = struct.unpack("<QI", header)
            if masked_crc32c(header[:8]) != crc:
                raise errors.DataLossError(None, None, f"corrupted record length at offset "
                                           f"{offset} of {path}")
            # The length is only a claim (its CRC can be forged): bound it by the file's
            # size, taken again in case a writer appended since, before reading that much.
            if length + 4 > size - offset - 12:
                size = os.fstat(f.fileno()).st_size
            check_size(length + 4, size - offset - 12, f"record at offset {offset} of {path}")
            body = f.read(length + 4)
            if len(body) < length + 4:
                raise errors.DataLossError(None, None, f"truncated record at offset {offset} "
                                           f"of {path}")
            data, (crc,) = body[:length], struct.unpack("<I", body[length:])
            if masked_crc32c(data) != crc:
                raise errors.DataLossError(None, None, f"corrupted record data at offset "
                                           f"{offset} of {path}")
            offset += 12 + length + 4
            yield data
