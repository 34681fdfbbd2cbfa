"""The one gate between a file's description of an array and the memory it gets.

Checkpoints, GraphDefs and replay files describe each array by a dtype tag and a shape that
are read from the file itself. A reader that hands such a tag to NumPy unchecked can be made
to build an object array over the file's raw bytes (NumPy then follows them as PyObject
pointers: a segmentation fault), or to allocate terabytes for a shape the file cannot hold.
So every reader of a file actorflow writes passes each array's description through
`check_array` before it allocates anything:

- the dtype must be one actorflow writes: bool, (u)int8..64, float16..64, complex64/128 in
  either byte order, and fixed-width str/bytes only where the caller allows text;
- the shape must be a list of at most `MAX_NDIM` non-negative ints;
- its byte count (computed with Python ints, so it cannot overflow) must match what the
  file records and fit in the bytes the file really holds.

Anything else is a `DataLossError` naming the file and the entry. `load_npz` reads an
``np.savez`` archive (the replay files) through the same checks.
"""
from __future__ import annotations

import math
import os
import struct
import zipfile
from typing import Iterable

import numpy as np

from .errors import DataLossError

__all__ = ["MAX_NDIM", "stored_dtype", "stored_shape", "check_size", "check_array", "load_npz"]

MAX_NDIM = 64
# kind -> the item sizes of the numeric dtypes actorflow writes (float128 etc. are not ours).
_NUMERIC_SIZES = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8),
                  "c": (8, 16)}
_CHUNK = 1 << 24  # bytes per read of an .npz member
_NPY_VERSIONS = {(1, 0): np.lib.format.read_array_header_1_0,
                 (2, 0): np.lib.format.read_array_header_2_0}


def stored_dtype(tag, where: str, *, text: bool = False) -> np.dtype:
    """The NumPy dtype named by `tag` (a dtype string read from a file), if actorflow writes it.

    Args:
        tag: the dtype as the file records it ("<f4", "|b1", ...), or a np.dtype already
            parsed from a header.
        where: the file and entry, for the error message.
        text: also accept fixed-width str and bytes dtypes ("<U12", "|S4").

    Raises:
        DataLossError: `tag` is not a dtype string, or names a dtype actorflow never writes
            (objects, structured, datetime, float128, ...).
    """
    if isinstance(tag, np.dtype):
        dt = tag
    elif isinstance(tag, str) and len(tag) <= 16:
        try:
            dt = np.dtype(tag)
        except (TypeError, ValueError, SyntaxError):
            raise DataLossError(None, None, f"{where}: unknown dtype {tag!r}") from None
    else:
        raise DataLossError(None, None, f"{where}: dtype {str(tag)[:40]!r} is not a dtype "
                            "string")
    plain = dt.fields is None and dt.subdtype is None and not dt.hasobject
    if plain and dt.itemsize in _NUMERIC_SIZES.get(dt.kind, ()):
        return dt
    if plain and text and dt.kind in "SU":
        return dt
    allowed = "a numeric or text dtype" if text else "a numeric dtype"
    raise DataLossError(None, None, f"{where}: dtype {dt.str!r} is not {allowed} that "
                        "actorflow writes; refusing to read it")


def stored_shape(shape, where: str) -> tuple[int, ...]:
    """`shape` (read from a file) as a tuple of ints.

    Raises:
        DataLossError: not a list/tuple of at most MAX_NDIM non-negative ints.
    """
    if not isinstance(shape, (list, tuple)) or len(shape) > MAX_NDIM or not all(
            type(d) is int and d >= 0 for d in shape):
        raise DataLossError(None, None, f"{where}: bad shape {str(shape)[:80]} (expected at "
                            f"most {MAX_NDIM} non-negative ints)")
    return tuple(shape)


def check_size(nbytes: int, available: int, where: str) -> None:
    """Raises DataLossError unless `nbytes` (declared by a file) fits in `available` bytes.

    Call it before allocating or reading `nbytes`: `available` is what the file really
    holds from that point on (its size on disk less the offset), never a size the file
    itself declares.
    """
    if type(nbytes) is not int or nbytes < 0:
        raise DataLossError(None, None, f"{where}: bad byte count {str(nbytes)[:40]}")
    if nbytes > available:
        raise DataLossError(None, None, f"{where} declares {nbytes} bytes, but the file holds "
                            f"only {max(available, 0)} there (truncated or corrupted)")


def check_array(tag, shape, where: str, *, available: int, nbytes: int | None = None,
                text: bool = False) -> tuple[np.dtype, tuple[int, ...], int]:
    """Checks one array's description read from a file; returns (dtype, shape, byte count).

    Args:
        tag, shape: the dtype and shape the file records.
        where: the file and entry, for error messages ("variable 'w' in /ckpt/x.data...").
        available: the bytes the file really holds for this array.
        nbytes: the byte count the file records, if it records one (must agree).
        text: allow str/bytes dtypes (see `stored_dtype`).

    Raises:
        DataLossError: a dtype actorflow does not write, a bad shape, a recorded byte count
            that disagrees with dtype and shape, or more bytes than `available`.
    """
    dt = stored_dtype(tag, where, text=text)
    dims = stored_shape(shape, where)
    need = math.prod(dims) * dt.itemsize  # Python ints: a crafted shape cannot overflow
    if nbytes is not None and nbytes != need:
        raise DataLossError(None, None, f"{where}: {str(nbytes)[:40]} bytes recorded for "
                            f"shape {list(dims)} of {dt.str}, which needs {need}")
    check_size(need, available, where)
    return dt, dims, need


def load_npz(path: str, *, text: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed ``np.savez`` archive, each checked before allocation.

    Unlike ``np.load``, every member's dtype, shape and size pass `check_array` against the
    bytes the archive really holds, so a crafted file cannot make it allocate more than the
    file's size or build arrays of Python objects.

    Args:
        path: the .npz file.
        text: names of members allowed to hold str/bytes arrays (e.g. a JSON "meta" string).

    Returns:
        {member name without ".npy": writable array}.

    Raises:
        FileNotFoundError: `path` does not exist.
        DataLossError: not a zip archive, a compressed or malformed member, a CRC mismatch,
            or a member failing `check_array` (the message names the file and the member).
    """
    text = frozenset(text)
    size = os.path.getsize(path)
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = info.filename
                where = f"entry {name!r} of {path}"
                if not name.endswith(".npy") or name[:-4] in out:
                    raise DataLossError(None, None, f"{where}: not a unique .npy member")
                # np.savez stores members uncompressed: the sizes the archive declares are
                # then bounded by the bytes on disk, and no member can inflate beyond them.
                if info.compress_type != zipfile.ZIP_STORED or \
                        info.compress_size != info.file_size:
                    raise DataLossError(None, None, f"{where}: compressed members are not "
                                        "read (actorflow writes np.savez archives)")
                check_size(info.file_size, size - info.header_offset, where)
                out[name[:-4]] = _read_npy(zf, info, where, name[:-4] in text)
    except (zipfile.BadZipFile, EOFError, ValueError, OverflowError, struct.error,
            NotImplementedError) as e:
        raise DataLossError(None, None, f"{path} is not a readable .npz archive: "
                            f"{str(e)[:200]}") from None
    return out


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str,
              text: bool) -> np.ndarray:
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        read_header = _NPY_VERSIONS.get(version)
        if read_header is None:
            raise DataLossError(None, None, f"{where}: unsupported .npy version {version}")
        shape, fortran_order, dtype = read_header(f)
        header_len = f.tell()
        dt, dims, n = check_array(dtype, list(shape), where, text=text,
                                  available=info.file_size - header_len)
        if n != info.file_size - header_len:
            raise DataLossError(None, None, f"{where}: {info.file_size - header_len} data "
                                f"bytes for shape {list(dims)} of {dt.str}, which needs {n}")
        buf = bytearray(n)  # bounded by the archive's size (checked above)
        view, got = memoryview(buf), 0
        while got < n:  # in chunks: f.readinto would read all n bytes into a temporary
            chunk = f.read(min(_CHUNK, n - got))
            if not chunk:
                break
            view[got:got + len(chunk)] = chunk
            got += len(chunk)
        if got != n or f.read(1):  # reading to the end also makes zipfile check the CRC
            raise DataLossError(None, None, f"{where} is truncated: read {got} of {n} bytes")
    arr = np.frombuffer(buf, dtype=dt)
    return arr.reshape(dims[::-1]).T if fortran_order else arr.reshape(dims)
