"""`tf.gfile`: TF 1.x file I/O on the local filesystem.

`GFile` (also `Open`, `FastGFile`) is a file object: ``read``/``readline``/``readlines``/
iteration/``write``/``seek``/``tell``/``flush``/``close`` and a context manager; ``"b"`` in the
mode gives bytes, otherwise str (UTF-8, no newline translation, as TF). Either kind of file
accepts str or bytes in ``write``. The functions mirror TF's: Exists, IsDirectory, MakeDirs,
Mkdir, ListDirectory, Glob, Remove, Rename, Copy, DeleteRecursively, Stat, Walk. Failures raise
the `tf.errors` type TF raises (NotFoundError, AlreadyExistsError, ...), naming the path.
"""
from __future__ import annotations

import errno
import glob as _glob
import os
import shutil
from dataclasses import dataclass
from typing import Iterator

from . import errors

__all__ = ["GFile", "Open", "FastGFile", "Exists", "IsDirectory", "MakeDirs", "Mkdir",
           "ListDirectory", "Glob", "Remove", "Rename", "Copy", "DeleteRecursively", "Stat",
           "Walk", "FileStatistics"]

_ERRORS = {
    errno.ENOENT: errors.NotFoundError, errno.EEXIST: errors.AlreadyExistsError,
    errno.EACCES: errors.PermissionDeniedError, errno.EPERM: errors.PermissionDeniedError,
    errno.EISDIR: errors.FailedPreconditionError, errno.ENOTDIR: errors.FailedPreconditionError,
    errno.ENOTEMPTY: errors.FailedPreconditionError, errno.ENOSPC: errors.ResourceExhaustedError,
}


def _os_error(e: OSError, path) -> errors.OpError:
    """The tf.errors type TF raises for `e`, naming `path`."""
    cls = _ERRORS.get(e.errno, errors.UnknownError)
    return cls(None, None, f"{os.fspath(path)}; {e.strerror or e}")


def _not_found(path) -> errors.NotFoundError:
    return errors.NotFoundError(None, None, f"{os.fspath(path)}; No such file or directory")


def _exists_error(path) -> errors.AlreadyExistsError:
    return errors.AlreadyExistsError(None, None, f"file already exists: {os.fspath(path)}")


class GFile:
    """A file on the local filesystem, opened in `mode` ("r", "w", "a", "r+", "w+", "a+",
    each optionally with "b").

    Raises:
        NotFoundError: reading a file that does not exist (or writing into a missing
            directory).
        FailedPreconditionError: the path is a directory.
    """

    def __init__(self, name, mode: str = "r") -> None:
        if not mode or mode.replace("b", "").replace("+", "") not in ("r", "w", "a"):
            raise errors.InvalidArgumentError(None, None, f"mode {mode!r} not supported; use "
                                              "r, w or a, optionally with + and b")
        self.name = os.fspath(name)
        self.mode = mode
        self._binary = "b" in mode
        try:
            if self._binary:
                self._f = open(self.name, mode)
            else:
                self._f = open(self.name, mode, encoding="utf-8", newline="")
        except OSError as e:
            raise _os_error(e, self.name) from None

    # -- reading -----------------------------------------------------------------------------
    def read(self, n: int = -1):
        """Up to `n` bytes (binary) or characters (text); everything left when negative."""
        return self._f.read(-1 if n is None else n)

    def readline(self):
        return self._f.readline()

    def readlines(self) -> list:
        return self._f.readlines()

    def __iter__(self):
        return self

    def __next__(self):
        line = self._f.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    # -- writing -----------------------------------------------------------------------------
    def write(self, file_content) -> None:
        """Writes str or bytes (converted to the file's kind, UTF-8)."""
        if self._binary and isinstance(file_content, str):
            file_content = file_content.encode("utf-8")
        elif not self._binary and isinstance(file_content, (bytes, bytearray, memoryview)):
            file_content = bytes(file_content).decode("utf-8")
        self._f.write(file_content)

    def flush(self) -> None:
        self._f.flush()

    # -- position ----------------------------------------------------------------------------
    def seek(self, offset: int | None = None, whence: int = 0, position: int | None = None):
        """Moves to `offset` (or the deprecated `position`) relative to `whence`."""
        if position is not None:
            if offset is not None:
                raise ValueError("seek: pass offset or position, not both")
            offset = position
        return self._f.seek(0 if offset is None else offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def size(self) -> int:
        """The file's current length in bytes."""
        self._f.flush()
        return os.fstat(self._f.fileno()).st_size

    # -- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        self._f.close()

    @property
    def closed(self) -> bool:
        return self._f.closed

    def __enter__(self) -> "GFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<GFile {self.name!r} mode={self.mode!r}>"


Open = GFile


class FastGFile(GFile):
    """`GFile` (TF's name for the variant without thread locking)."""


def Exists(filename) -> bool:  # noqa: N802
    """Whether `filename` (a file or directory) exists."""
    return os.path.exists(filename)


def IsDirectory(dirname) -> bool:  # noqa: N802
    """Whether `dirname` is an existing directory."""
    return os.path.isdir(dirname)


def MakeDirs(dirname) -> None:  # noqa: N802
    """Creates `dirname` and any missing parents; an existing directory is fine.

    Raises:
        FailedPreconditionError: a component of the path is a file.
    """
    try:
        os.makedirs(dirname, exist_ok=True)
    except FileExistsError:
        raise errors.FailedPreconditionError(
            None, None, f"{os.fspath(dirname)}; a path component is not a directory") from None
    except OSError as e:
        raise _os_error(e, dirname) from None


def Mkdir(dirname) -> None:  # noqa: N802
    """Creates directory `dirname` (its parent must exist).

    Raises:
        AlreadyExistsError: `dirname` exists.
        NotFoundError: the parent directory does not exist.
    """
    try:
        os.mkdir(dirname)
    except OSError as e:
        raise _os_error(e, dirname) from None


def ListDirectory(dirname) -> list[str]:  # noqa: N802
    """The names of the entries of directory `dirname` (without the directory part).

    Raises:
        NotFoundError: `dirname` is not an existing directory.
    """
    if not os.path.isdir(dirname):
        raise errors.NotFoundError(None, None, f"Could not find directory {os.fspath(dirname)}")
    try:
        return sorted(os.listdir(dirname))
    except OSError as e:
        raise _os_error(e, dirname) from None


def Glob(filename) -> list[str]:  # noqa: N802
    """The paths matching a glob pattern (or a list of patterns), sorted."""
    patterns = [filename] if isinstance(filename, (str, bytes, os.PathLike)) else filename
    out: list[str] = []
    for p in patterns:
        out.extend(_glob.glob(os.fspath(p)))
    return sorted(set(out))


def Remove(filename) -> None:  # noqa: N802
    """Deletes file `filename`.

    Raises:
        NotFoundError: it does not exist.
    """
    try:
        os.remove(filename)
    except OSError as e:
        raise _os_error(e, filename) from None


def _transfer(move, oldname, newname, overwrite: bool) -> None:
    """``move(oldname, newname)`` with TF's checks and errors (Rename and Copy)."""
    if not os.path.exists(oldname):
        raise _not_found(oldname)
    if not overwrite and os.path.exists(newname):
        raise _exists_error(newname)
    try:
        move(oldname, newname)
    except OSError as e:
        raise _os_error(e, newname) from None


def Rename(oldname, newname, overwrite: bool = False) -> None:  # noqa: N802
    """Renames (moves) `oldname` to `newname`.

    Raises:
        NotFoundError: `oldname` does not exist.
        AlreadyExistsError: `newname` exists and `overwrite` is False.
    """
    _transfer(os.replace, oldname, newname, overwrite)


def Copy(oldpath, newpath, overwrite: bool = False) -> None:  # noqa: N802
    """Copies file `oldpath` to `newpath`.

    Raises:
        NotFoundError: `oldpath` does not exist.
        AlreadyExistsError: `newpath` exists and `overwrite` is False.
    """
    _transfer(shutil.copyfile, oldpath, newpath, overwrite)


def DeleteRecursively(dirname) -> None:  # noqa: N802
    """Deletes `dirname` and everything under it (or a single file).

    Raises:
        NotFoundError: it does not exist.
    """
    if not os.path.lexists(dirname):
        raise _not_found(dirname)
    try:
        if os.path.isdir(dirname) and not os.path.islink(dirname):
            shutil.rmtree(dirname)
        else:
            os.remove(dirname)
    except OSError as e:
        raise _os_error(e, dirname) from None


@dataclass
class FileStatistics:
    """What `Stat` returns (TF's FileStatistics)."""

    length: int
    mtime_nsec: int
    is_directory: bool


def Stat(filename) -> FileStatistics:  # noqa: N802
    """The length, modification time (ns) and kind of `filename`.

    Raises:
        NotFoundError: it does not exist.
    """
    try:
        st = os.stat(filename)
    except OSError as e:
        raise _os_error(e, filename) from None
    return FileStatistics(int(st.st_size), int(st.st_mtime_ns), os.path.isdir(filename))


def Walk(top, in_order: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802
    """Yields ``(dirname, subdirectory names, file names)`` for `top` and every directory
    under it, parents first when `in_order` (else children first); nothing when `top` is
    not a directory."""
    top = os.fspath(top)
    if not os.path.isdir(top):
        return
    names = ListDirectory(top)
    subdirs = [n for n in names if os.path.isdir(os.path.join(top, n))]
    files = [n for n in names if n not in subdirs]
    if in_order:
        yield top, subdirs, files
    for d in subdirs:
        yield from Walk(os.path.join(top, d), in_order)
    if not in_order:
        yield top, subdirs, files
