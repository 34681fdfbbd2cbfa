"""Checkpoints: `Saver`, the "checkpoint" state file and a checkpoint reader (TF 1.x API).

A checkpoint with prefix P is two files, as TF's V2 format:

- ``P.data-00000-of-00001``: the raw bytes of every array, back to back, in native C order
  (string arrays as a msgpack list of byte strings);
- ``P.index``: ``MAGIC`` (8 bytes), the CRC-32 and length of the header (uint32, uint64,
  little-endian) and the msgpack header: the data file's name and size, and per variable its
  name, dtype, shape, byte offset, byte count and CRC-32.

Nothing is pickled. Each file is written to a temporary file in the same directory, flushed,
fsynced and renamed over its final name; the index goes last, so a checkpoint whose index
exists is complete, and any torn or corrupted byte is caught by a checksum on restore
(`DataLossError` naming the file and the variable). An index is only a claim: each
entry's dtype, shape and byte count pass `actorflow.file_safety.check_array` (dtypes
actorflow writes, sizes within the data file on disk) before a byte is allocated. The
"checkpoint" state file is the same text TF writes (``model_checkpoint_path: "..."``) and
is replaced atomically too.

Checkpoints TensorFlow wrote are read too: `NewCheckpointReader`, `list_variables`,
`load_variable` and `Saver.restore` hand its V2 format (told apart by the index's table
magic) to `actorflow.train.tf_checkpoint.TFCheckpointReader` and its V1 files (a table at
the path itself) to `actorflow.train.tf_checkpoint_v1.TFV1CheckpointReader`.
"""
from __future__ import annotations

import glob
import logging
import math
import os
import re
import struct
import time
import zlib

import msgpack
import numpy as np

from .. import errors
from ..file_safety import check_array, check_size, stored_shape
from ..framework.graph import GraphKeys, Operation, Tensor, get_default_graph
from .tf_checkpoint import TFCheckpointReader, is_tf_checkpoint, not_found_message
from .tf_checkpoint_v1 import TFV1CheckpointReader, is_tf_v1_checkpoint

__all__ = ["Saver", "CheckpointState", "NewCheckpointReader", "CheckpointReader",
           "latest_checkpoint", "get_checkpoint_state", "update_checkpoint_state",
           "checkpoint_exists", "get_checkpoint_mtimes", "remove_checkpoint",
           "list_variables", "load_variable", "import_meta_graph", "export_meta_graph"]

MAGIC = b"AFCKPT\x00\x01"
_FORMAT_VERSION = 1
_HEAD = struct.Struct("<IQ")
_DATA_SUFFIX = ".data-00000-of-00001"
_SAVEABLE_OBJECTS = getattr(GraphKeys, "SAVEABLE_OBJECTS", "saveable_objects")
_log = logging.getLogger(__name__)


# -- atomic files --------------------------------------------------------------------------
def _atomic_write(path: str, write) -> None:
    """Calls ``write(file)`` on a temporary file next to `path`, then renames it into place
    after flush + fsync, so readers see the old file or the whole new one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temp(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


def _create_temp(directory: str, name: str) -> tuple[int, str]:
    """(fd, path) of a new file ``.<name>.<random>.tmp`` in `directory`, as
    `tempfile.mkstemp` makes, but with the permissions an ordinary file gets (0666 less the
    umask) rather than mkstemp's 0600: checkpoints match the other files of a run."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the checkpoint format -----------------------------------------------------------------
def _index_path(prefix: str) -> str:
    return prefix + ".index"


def _data_path(prefix: str) -> str:
    return prefix + _DATA_SUFFIX


def _host(value) -> np.ndarray:
    """A host NumPy array of a variable's value (device arrays are copied to the host)."""
    if isinstance(value, np.ndarray):
        return value
    get = getattr(value, "get", None)
    return np.asarray(get() if callable(get) else value)


def _payload(arr: np.ndarray):
    """(bytes-like to write, dtype tag) for one array; no copy for contiguous numeric arrays."""
    if arr.dtype.kind in "OSU":
        items = [x.encode() if isinstance(x, str) else bytes(x) for x in arr.reshape(-1)]
        return msgpack.packb(items, use_bin_type=True), "string"
    arr = np.ascontiguousarray(arr)
    return memoryview(arr.reshape(-1)).cast("B"), arr.dtype.str


def write_checkpoint(prefix: str, named_arrays) -> None:
    """Writes `named_arrays` ([(name, ndarray)]) as checkpoint `prefix` (data, then index)."""
    entries = []

    def write_data(f):
        offset = 0
        for name, arr in named_arrays:
            buf, tag = _payload(arr)
            f.write(buf)
            n = len(buf) if isinstance(buf, bytes) else buf.nbytes
            entries.append({"name": name, "dtype": tag, "shape": list(arr.shape),
                            "offset": offset, "nbytes": n, "crc32": zlib.crc32(buf)})
            offset += n
        entries.append(offset)

    _atomic_write(_data_path(prefix), write_data)
    size = entries.pop()
    header = msgpack.packb({"version": _FORMAT_VERSION,
                            "data_file": os.path.basename(_data_path(prefix)),
                            "data_size": size, "tensors": entries}, use_bin_type=True)

    def write_index(f):
        f.write(MAGIC)
        f.write(_HEAD.pack(zlib.crc32(header), len(header)))
        f.write(header)

    _atomic_write(_index_path(prefix), write_index)


class CheckpointReader:
    """Reads a checkpoint written by `Saver.save` (TF 1.x `tf.train.NewCheckpointReader`).

    Raises (on construction):
        NotFoundError: no checkpoint exists at the prefix.
        DataLossError: the index is truncated or corrupted, or an entry has a dtype
            actorflow does not write or a bad shape or size (the message names the file and
            the entry).
    """

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._index = _index_path(prefix)
        try:
            with open(self._index, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise errors.NotFoundError(
                None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                f"matching files for {prefix}") from None
        header = self._parse_index(raw)
        self._data = os.path.join(os.path.dirname(self._index), header["data_file"])
        self._entries = {e["name"]: e for e in header["tensors"]}

    def _parse_index(self, raw: bytes) -> dict:
        where = f"checkpoint index {self._index}"
        if raw[:len(MAGIC)] != MAGIC:
            raise errors.DataLossError(None, None, f"{where} is not an actorflow checkpoint "
                                       "(bad magic bytes)")
        try:
            crc, n = _HEAD.unpack_from(raw, len(MAGIC))
        except struct.error:
            raise errors.DataLossError(None, None, f"{where} is truncated") from None
        body = raw[len(MAGIC) + _HEAD.size:]
        if len(body) != n:
            raise errors.DataLossError(None, None, f"{where} is truncated: header of "
                                       f"{len(body)} bytes, expected {n}")
        if zlib.crc32(body) != crc:
            raise errors.DataLossError(None, None, f"{where} is corrupted (header checksum "
                                       "mismatch)")
        try:
            header = msgpack.unpackb(body, raw=False)
            if header.get("version") != _FORMAT_VERSION:
                raise errors.DataLossError(None, None, f"{where} has unsupported format "
                                           f"version {header.get('version')!r}")
            data_file, data_size = header["data_file"], header["data_size"]
            tensors = header["tensors"]
        except (ValueError, KeyError, TypeError, AttributeError,
                msgpack.exceptions.ExtraData) as exc:
            raise errors.DataLossError(None, None, f"{where} has a malformed header: "
                                       f"{exc}") from None
        # The data file must sit next to the index: a crafted name must not read elsewhere.
        if not isinstance(data_file, str) or not data_file or data_file in (".", "..") or \
                os.path.basename(data_file) != data_file or "\\" in data_file:
            raise errors.DataLossError(None, None, f"{where}: bad data file name "
                                       f"{str(data_file)[:80]!r}")
        if type(data_size) is not int or data_size < 0:
            raise errors.DataLossError(None, None, f"{where}: bad data file size "
                                       f"{str(data_size)[:40]}")
        if not isinstance(tensors, list):
            raise errors.DataLossError(None, None, f"{where}: 'tensors' is not a list")
        for e in tensors:
            self._check_entry(e, data_size, where)
        return header

    @staticmethod
    def _check_entry(e, data_size: int, where: str) -> None:
        """Checks one index entry before anything trusts it: dtype on the allow-list, shape,
        byte count and offset inside the data file's recorded size (DataLossError if not)."""
        keys = ("name", "dtype", "shape", "offset", "nbytes", "crc32")
        if not isinstance(e, dict) or any(k not in e for k in keys) or \
                not isinstance(e["name"], str):
            raise errors.DataLossError(None, None, f"{where}: malformed entry "
                                       f"{str(e)[:120]}")
        at = f"{where}, variable {e['name']!r}"
        check_size(e["offset"], data_size, f"{at}: offset")
        check_size(e["crc32"], 0xFFFFFFFF, f"{at}: crc32")
        if e["dtype"] == "string":
            stored_shape(e["shape"], at)
            check_size(e["nbytes"], data_size - e["offset"], at)
        else:
            check_array(e["dtype"], e["shape"], at, nbytes=e["nbytes"],
                        available=data_size - e["offset"])

    # -- TF API ------------------------------------------------------------------------
    def has_tensor(self, name: str) -> bool:
        return name in self._entries

    def get_variable_to_shape_map(self) -> dict:
        return {k: list(e["shape"]) for k, e in self._entries.items()}

    def get_variable_to_dtype_map(self) -> dict:
        from .. import dtypes
        return {k: dtypes.string if e["dtype"] == "string" else
                dtypes.as_dtype(np.dtype(e["dtype"])) for k, e in self._entries.items()}

    def get_tensor(self, name: str) -> np.ndarray:
        """The saved value of `name`.

        Raises:
            NotFoundError: `name` is not in the checkpoint.
            DataLossError: its bytes are missing or fail the checksum.
        """
        e = self._entries.get(name)
        if e is None:
            raise errors.NotFoundError(None, None, not_found_message(name, self._entries,
                                                                     self._prefix))
        with self._open_data() as f:
            return self._read(f, e)

    def debug_string(self) -> bytes:
        lines = [f"{k} ({e['dtype']}) {e['shape']}" for k, e in sorted(self._entries.items())]
        return ("\n".join(lines) + "\n").encode()

    # -- reading -----------------------------------------------------------------------
    def _open_data(self):
        try:
            return open(self._data, "rb")
        except FileNotFoundError:
            raise errors.DataLossError(None, None, f"Checkpoint data file {self._data} is "
                                       f"missing (index {self._index})") from None

    def _read(self, f, e: dict) -> np.ndarray:
        name, tag, shape = e["name"], e["dtype"], tuple(e["shape"])
        where = f"variable {name!r} in checkpoint data file {self._data}"
        # Bound by the bytes really on disk (the index's sizes are only claims) before
        # allocating; _check_entry already put the dtype on the allow-list.
        available = os.fstat(f.fileno()).st_size - e["offset"]
        f.seek(e["offset"])
        if tag == "string":
            check_size(e["nbytes"], available, where)
            buf = f.read(e["nbytes"])
            self._check(buf, len(buf), e, where)
            return self._strings(buf, shape, where)
        dt, shape, _ = check_array(tag, shape, where, nbytes=e["nbytes"], available=available)
        arr = np.empty(shape, dtype=dt)
        view = memoryview(arr.reshape(-1)).cast("B")
        got = f.readinto(view)
        self._check(view, got, e, where)
        return arr

    @staticmethod
    def _strings(buf: bytes, shape: tuple, where: str) -> np.ndarray:
        """The string array of `shape` in `buf` (a msgpack list of byte strings)."""
        try:
            items = msgpack.unpackb(buf)
        except (ValueError, TypeError, msgpack.UnpackException) as exc:
            raise errors.DataLossError(None, None, f"{where}: malformed string data: "
                                       f"{exc}") from None
        if not isinstance(items, list) or len(items) != math.prod(shape) or \
                not all(isinstance(x, bytes) for x in items):
            raise errors.DataLossError(None, None, f"{where}: string data is not "
                                       f"{math.prod(shape)} byte strings for shape "
                                       f"{list(shape)}")
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
        return arr.reshape(shape)

    @staticmethod
    def _check(buf, got: int, e: dict, where: str) -> None:
        if got != e["nbytes"]:
            raise errors.DataLossError(None, None, f"{where} is truncated: read {got} of "
                                       f"{e['nbytes']} bytes")
        if zlib.crc32(buf) != e["crc32"]:
            raise errors.DataLossError(None, None, f"{where} is corrupted (checksum "
                                       "mismatch)")


def NewCheckpointReader(filepattern: str):  # noqa: N802 - TF spelling
    """A reader of the checkpoint with prefix `filepattern`: a `CheckpointReader` for
    actorflow's own checkpoints, a `TFCheckpointReader` for those TensorFlow wrote in its V2
    format, a `TFV1CheckpointReader` for its V1 files (all have TF's reader methods:
    get_tensor, has_tensor, get_variable_to_shape_map, ...)."""
    if is_tf_checkpoint(filepattern):
        return TFCheckpointReader(filepattern)
    if is_tf_v1_checkpoint(filepattern):
        return TFV1CheckpointReader(filepattern)
    return CheckpointReader(filepattern)


def _reader_for(ckpt_dir_or_file: str):
    if os.path.isdir(ckpt_dir_or_file):
        path = latest_checkpoint(ckpt_dir_or_file)
        if path is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {ckpt_dir_or_file}")
        return NewCheckpointReader(path)
    return NewCheckpointReader(ckpt_dir_or_file)


def list_variables(ckpt_dir_or_file: str) -> list:
    """[(name, shape)] of the checkpoint (or a directory's latest one), sorted by name."""
    shapes = _reader_for(ckpt_dir_or_file).get_variable_to_shape_map()
    return sorted(shapes.items())


def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    """The value of variable `name` in the checkpoint (or a directory's latest one)."""
    if name.endswith(":0"):
        name = name[:-2]
    return _reader_for(ckpt_dir_or_file).get_tensor(name)


# -- checkpoint state ----------------------------------------------------------------------
class CheckpointState:
    """The content of a "checkpoint" file: the latest and all kept checkpoint paths."""

    def __init__(self, model_checkpoint_path: str = "", all_model_checkpoint_paths=(),
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp: float = 0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def to_text(self) -> str:
        lines = [f"model_checkpoint_path: {_quote(self.model_checkpoint_path)}"]
        lines += [f"all_model_checkpoint_paths: {_quote(p)}"
                  for p in self.all_model_checkpoint_paths]
        lines += [f"all_model_checkpoint_timestamps: {t!r}"
                  for t in self.all_model_checkpoint_timestamps]
        if self.last_preserved_timestamp:
            lines.append(f"last_preserved_timestamp: {self.last_preserved_timestamp!r}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> "CheckpointState":
        """Parses the text form; ValueError on a line it does not understand."""
        st = cls()
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            m = _STATE_LINE.match(line)
            if m is None:
                raise ValueError(f"line {n}: cannot parse {line!r}")
            key, value = m.group(1), m.group(2)
            if key == "model_checkpoint_path":
                st.model_checkpoint_path = _unquote(value)
            elif key == "all_model_checkpoint_paths":
                st.all_model_checkpoint_paths.append(_unquote(value))
            elif key == "all_model_checkpoint_timestamps":
                st.all_model_checkpoint_timestamps.append(float(value))
            elif key == "last_preserved_timestamp":
                st.last_preserved_timestamp = float(value)
            else:
                raise ValueError(f"line {n}: unknown field {key!r}")
        return st

    def __repr__(self) -> str:
        return self.to_text()


_STATE_LINE = re.compile(r"^([a-z_]+)\s*:\s*(.+)$")


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        raise ValueError(f"expected a quoted string, got {s}")
    out, i, body = [], 0, s[1:-1]
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _state_path(checkpoint_dir: str, latest_filename: str | None) -> str:
    return os.path.join(checkpoint_dir, latest_filename or "checkpoint")


def get_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None):
    """The CheckpointState recorded in `checkpoint_dir`, or None when there is none (or it
    cannot be parsed, which is logged). Relative paths are made relative to the directory."""
    path = _state_path(checkpoint_dir, latest_filename)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        st = CheckpointState.from_text(text)
    except ValueError as e:
        _log.warning("%s: %s: %s", type(e).__name__, path, e)
        return None
    if not st.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")
    if not os.path.isabs(st.model_checkpoint_path):
        st.model_checkpoint_path = os.path.join(checkpoint_dir, st.model_checkpoint_path)
    st.all_model_checkpoint_paths = [p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)
                                     for p in st.all_model_checkpoint_paths]
    return st


def update_checkpoint_state(save_dir: str, model_checkpoint_path: str,
                            all_model_checkpoint_paths=None, latest_filename=None,
                            all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None,
                            save_relative_paths: bool = False) -> None:
    """Atomically rewrites the state file of `save_dir`; the latest path is listed last.

    Paths are recorded as `get_checkpoint_state` reads them back (relative ones against the
    state file's folder): with a relative `save_dir` ("./dqn", as the book's programs save),
    relative paths become relative to it; with ``save_relative_paths``, absolute ones too.

    Raises:
        RuntimeError: the state file would overwrite the checkpoint itself.
    """
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    state_path = _state_path(save_dir, latest_filename)
    if os.path.abspath(state_path) == os.path.abspath(model_checkpoint_path):
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for "
                           "checkpoint state.  Please use a different save path.")

    def recorded(p: str) -> str:
        if os.path.isabs(p):
            return os.path.relpath(p, save_dir) if save_relative_paths else p
        return os.path.relpath(p, save_dir) if not os.path.isabs(save_dir) else p

    model_checkpoint_path, paths = recorded(model_checkpoint_path), [recorded(p) for p in paths]
    st = CheckpointState(model_checkpoint_path, paths,
                         all_model_checkpoint_timestamps or (),
                         last_preserved_timestamp or 0.0)
    data = st.to_text().encode("utf-8")
    _atomic_write(state_path, lambda f: f.write(data))


def checkpoint_exists(checkpoint_prefix: str) -> bool:
    """Whether a complete checkpoint (its index file, or TF's V1 file) exists for the prefix
    or pattern."""
    return bool(glob.glob(glob.escape(checkpoint_prefix) + ".index")) or \
        bool(glob.glob(checkpoint_prefix + ".index")) or is_tf_v1_checkpoint(checkpoint_prefix)


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None):
    """The prefix of the most recent checkpoint in `checkpoint_dir`, or None."""
    st = get_checkpoint_state(checkpoint_dir, latest_filename)
    if st and st.model_checkpoint_path:
        if checkpoint_exists(st.model_checkpoint_path):
            return st.model_checkpoint_path
        _log.error("Couldn't match files for checkpoint %s", st.model_checkpoint_path)
    return None


def get_checkpoint_mtimes(checkpoint_prefixes) -> list:
    """Modification times of the existing checkpoints' index files."""
    out = []
    for p in checkpoint_prefixes:
        try:
            out.append(os.stat(_index_path(p)).st_mtime)
        except FileNotFoundError:
            continue
    return out


def remove_checkpoint(checkpoint_prefix: str, checkpoint_format_version=None,
                      meta_graph_suffix: str = "meta") -> None:
    """Deletes the files of a checkpoint (index, data and meta graph); missing ones are fine."""
    for path in (_index_path(checkpoint_prefix), _data_path(checkpoint_prefix),
                 f"{checkpoint_prefix}.{meta_graph_suffix}"):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


# -- meta graphs -----------------------------------------------------------------------------
def export_meta_graph(filename: str | None = None, graph=None, **kwargs):
    """Writes the graph (GraphDef plus its variable collections) to `filename` (msgpack);
    returns the GraphDef."""
    from ..framework.graph_io import write_graph
    graph = graph if graph is not None else get_default_graph()
    gd = graph.as_graph_def()
    if filename:
        directory, name = os.path.split(os.path.abspath(filename))
        write_graph(gd, directory, name, as_text=bool(kwargs.get("as_text", False)))
    return gd


def import_meta_graph(meta_graph_or_file, clear_devices: bool = False, import_scope=None,
                      **saver_kwargs):
    """Imports a graph written by `export_meta_graph` / `Saver.save` into the default graph.

    Returns:
        A Saver over the imported graph's global variables, or None when it has none.
    """
    from ..framework.graph_io import GraphDef, import_graph_def, read_graph
    gd = meta_graph_or_file
    if isinstance(gd, str):
        gd = read_graph(gd)
    if not isinstance(gd, GraphDef):
        raise TypeError(f"import_meta_graph needs a file name or GraphDef, got {gd!r}")
    if clear_devices:
        for node in gd.node:
            node["device"] = ""
    import_graph_def(gd, name=import_scope or "")
    graph = get_default_graph()
    scope = f"{import_scope}/" if import_scope else None
    if not graph.get_collection(GraphKeys.GLOBAL_VARIABLES, scope):
        return None
    return Saver(graph.get_collection(GraphKeys.GLOBAL_VARIABLES, scope), **saver_kwargs)


# -- Saver ---------------------------------------------------------------------------------
def _var_op(v) -> Operation:
    op = getattr(v, "op", None)
    if isinstance(v, (Tensor,)) or hasattr(v, "_ref"):
        if isinstance(op, Operation) and op.type == "VariableV2":
            return op
    raise TypeError(f"Variable to save is not a Variable: {v!r}")


def _named_variables(var_list) -> dict:
    """{checkpoint name: variable} from a list (names = op names) or a dict."""
    if isinstance(var_list, dict):
        out = {}
        for name, v in var_list.items():
            if not isinstance(name, str):
                raise TypeError(f"Saver var_list keys must be strings, got {name!r}")
            _var_op(v)
            out[name] = v
        return out
    out = {}
    for v in var_list:
        name = _var_op(v).name
        if name in out:
            raise ValueError(f"At least two variables have the same name: {name}")
        out[name] = v
    return out


class Saver:
    """Saves and restores variables (TF 1.x `tf.train.Saver`).

    Args:
        var_list: None (every global variable and SAVEABLE_OBJECTS entry), a list of
            variables (saved under their op names) or a dict {checkpoint name: variable}.
        max_to_keep: how many recent checkpoints to keep (None or 0 keeps all).
        keep_checkpoint_every_n_hours: also keep one checkpoint per this many hours.
        reshape: allow restoring a value of another shape with the same number of elements.
        allow_empty: an empty var_list is not an error (save and restore do nothing).
        pad_step_number: write the step as %08d in the file name.
        save_relative_paths: record relative paths in the state file.
        filename: the default prefix (for `restore` with save_path None after a save).

    Raises:
        ValueError: no variables to save (unless `allow_empty`), or duplicate names.
        TypeError: a var_list entry that is not a variable.
    """

    def __init__(self, var_list=None, reshape: bool = False, sharded: bool = False,
                 max_to_keep: int | None = 5, keep_checkpoint_every_n_hours: float = 10000.0,
                 name: str | None = None, restore_sequentially: bool = False,
                 saver_def=None, builder=None, defer_build: bool = False,
                 allow_empty: bool = False, write_version=2, pad_step_number: bool = False,
                 save_relative_paths: bool = False, filename: str | None = None) -> None:
        graph = get_default_graph()
        if var_list is None:
            var_list = (graph.get_collection(GraphKeys.GLOBAL_VARIABLES) +
                        graph.get_collection(_SAVEABLE_OBJECTS))
        self._vars = _named_variables(var_list)
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._is_empty = not self._vars
        self._graph = _var_op(next(iter(self._vars.values()))).graph if self._vars else graph
        self._reshape = reshape
        self._max_to_keep = max_to_keep
        self._keep_every_n_hours = keep_checkpoint_every_n_hours
        self._next_checkpoint_time = time.time() + (keep_checkpoint_every_n_hours or 0) * 3600
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self._name = name or "save"
        self._last_checkpoints: list[tuple[str, float]] = []
        self._checkpoints_to_be_deleted: list[tuple[str, float]] = []

    def build(self) -> None:
        """Nothing to build: kept for TF 1.x code that calls it after `defer_build=True`."""

    # -- saving ------------------------------------------------------------------------
    def save(self, sess, save_path: str, global_step=None, latest_filename: str | None = None,
             meta_graph_suffix: str = "meta", write_meta_graph: bool = True,
             write_state: bool = True, strip_default_attrs: bool = False):
        """Writes the variables' values in `sess` to a checkpoint.

        Args:
            save_path: the checkpoint prefix ("dir/model.ckpt").
            global_step: an int, or a tensor/variable read in `sess`; appended as "-<step>".
            latest_filename: the state file's name in the save directory ("checkpoint").

        Returns:
            The checkpoint prefix written ("dir/model.ckpt-1000"), or None for an empty Saver.

        Raises:
            TypeError: `sess` is not a Session.
            ValueError: the save directory does not exist, or `latest_filename` has a path.
            FailedPreconditionError: a variable is not initialised in `sess`.
        """
        if not hasattr(sess, "_var_cell"):
            raise TypeError(f"'sess' must be a Session; {sess!r}")
        if latest_filename is None:
            latest_filename = "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                from .training_util import global_step as read_step
                global_step = read_step(sess, global_step)
            fmt = "%s-%08d" if self._pad_step_number else "%s-%d"
            checkpoint_file = fmt % (save_path, int(global_step))
        else:
            checkpoint_file = save_path
        save_dir = os.path.dirname(save_path)
        if save_dir and not os.path.isdir(save_dir):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        if self._is_empty:
            return None
        write_checkpoint(checkpoint_file, self._values(sess))
        if write_state:
            self._record_last_checkpoint(checkpoint_file)
            update_checkpoint_state(
                save_dir or ".", checkpoint_file, [p for p, _ in self._last_checkpoints],
                latest_filename, [t for _, t in self._last_checkpoints],
                save_relative_paths=self._save_relative_paths)
            self._maybe_delete_old_checkpoints(meta_graph_suffix)
        if write_meta_graph:
            self.export_meta_graph(f"{checkpoint_file}.{meta_graph_suffix}")
        return checkpoint_file

    def _values(self, sess) -> list:
        """[(name, host array)] of every variable in `sess`, read from the cells (no copy)."""
        from ..ops.state import uninitialized_error
        if sess.graph is not self._graph:
            raise ValueError("The Saver's variables belong to a different graph than the "
                             "session's graph.")
        out = []
        for name, v in self._vars.items():
            op = _var_op(v)
            value = sess._var_cell(op).value
            if value is None:
                raise uninitialized_error(op)
            out.append((name, _host(value)))
        return out

    def export_meta_graph(self, filename: str | None = None, **kwargs):
        """Writes the saver's graph to `filename` (see the module's `export_meta_graph`)."""
        return export_meta_graph(filename, graph=self._graph, **kwargs)

    # -- restoring ---------------------------------------------------------------------
    def restore(self, sess, save_path: str) -> None:
        """Loads every variable of this Saver from checkpoint `save_path` into `sess`.

        `save_path` may be an actorflow checkpoint or one TensorFlow wrote (its V2 format;
        see `actorflow.train.tf_checkpoint`): variables are matched by checkpoint name (a
        var_list dict maps other names). All values are read and checked before any
        variable changes, so a failed restore leaves the session as it was.

        Raises:
            ValueError: `save_path` is None or names no checkpoint.
            NotFoundError: a variable is missing from the checkpoint (named in the message).
            InvalidArgumentError: a variable's saved shape or dtype differs from its own.
            DataLossError: a checkpoint file is truncated or corrupted (naming file and
                variable).
        """
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        if not checkpoint_exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        if sess.graph is not self._graph:
            raise ValueError("The Saver's variables belong to a different graph than the "
                             "session's graph.")
        reader = NewCheckpointReader(save_path)
        if isinstance(reader, TFCheckpointReader):
            arrays = self._read_tf(reader, save_path)
        else:
            arrays = self._read_own(reader, save_path)
        values = []
        for op, arr in arrays:
            static = op.outputs[0]._shape
            if static is not None and tuple(arr.shape) != static and self._reshape:
                arr = arr.reshape(static)
            values.append((op, arr))
        for op, arr in values:
            sess._store_variable(op, arr)

    def _read_own(self, reader: CheckpointReader, save_path: str) -> list:
        """[(variable op, value)] from an actorflow checkpoint, read in file order."""
        plan = []
        for name, v in self._vars.items():
            e = reader._entries.get(name)
            if e is None:
                raise errors.NotFoundError(None, _var_op(v), not_found_message(
                    name, reader._entries, save_path))
            dtype = "string" if e["dtype"] == "string" else np.dtype(e["dtype"]).name
            self._check_saved(name, v, save_path, dtype, tuple(e["shape"]))
            plan.append((_var_op(v), e))
        with reader._open_data() as f:
            return [(op, reader._read(f, e))
                    for op, e in sorted(plan, key=lambda p: p[1]["offset"])]

    def _read_tf(self, reader: TFCheckpointReader, save_path: str) -> list:
        """[(variable op, value)] from a checkpoint TensorFlow wrote."""
        shapes = reader.get_variable_to_shape_map()
        for name, v in self._vars.items():
            if name not in shapes:
                raise errors.NotFoundError(None, _var_op(v), not_found_message(
                    name, shapes, save_path))
            self._check_saved(name, v, save_path, reader.dtype_name(name),
                              tuple(shapes[name]))
        arrays = reader.read_tensors(list(self._vars))
        return [(_var_op(v), arrays[name]) for name, v in self._vars.items()]

    def _check_saved(self, name: str, v, save_path: str, got: str, shape: tuple) -> None:
        """InvalidArgumentError unless the saved dtype `got` and `shape` fit variable `v`."""
        op = _var_op(v)
        want = op.outputs[0].dtype
        if got != want.name:
            raise errors.InvalidArgumentError(
                None, op, f"Restoring variable {name!r} from {save_path}: dtype {got} in the "
                f"checkpoint does not match the variable's dtype {want.name}")
        static = op.outputs[0]._shape
        if static is not None:
            same = len(static) == len(shape) and all(
                d is None or d == s for d, s in zip(static, shape))
            fits = self._reshape and None not in static and \
                int(np.prod(static)) == int(np.prod(shape))
            if not same and not fits:
                raise errors.InvalidArgumentError(
                    None, op, f"Restoring variable {name!r} from {save_path}: shape "
                    f"{list(shape)} in the checkpoint does not match the variable's shape "
                    f"{list(static)}")

    # -- bookkeeping of kept checkpoints ---------------------------------------------------
    @property
    def last_checkpoints(self) -> list:
        """The kept checkpoint prefixes, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints) -> None:
        self._last_checkpoints = [(p, time.time()) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time) -> None:
        self._last_checkpoints = [(p, float(t)) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths) -> None:
        """Adopts the existing ones of `checkpoint_paths` as kept checkpoints."""
        existing = [p for p in checkpoint_paths if checkpoint_exists(p)]
        mtimes = get_checkpoint_mtimes(existing)
        self.set_last_checkpoints_with_time(list(zip(existing, mtimes)))

    def _record_last_checkpoint(self, path: str) -> None:
        if not self._max_to_keep:
            return
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != path]
        self._last_checkpoints.append((path, time.time()))
        while len(self._last_checkpoints) > self._max_to_keep:
            self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _maybe_delete_old_checkpoints(self, meta_graph_suffix: str) -> None:
        while self._checkpoints_to_be_deleted:
            path, stamp = self._checkpoints_to_be_deleted.pop(0)
            if self._keep_every_n_hours and stamp > self._next_checkpoint_time:
                self._next_checkpoint_time += self._keep_every_n_hours * 3600
                continue
            try:
                remove_checkpoint(path, meta_graph_suffix=meta_graph_suffix)
            except OSError as e:
                _log.warning("Ignoring: failed to delete old checkpoint %s: %s", path, e)
