"""MNIST from its IDX files, with TF 1.x's `input_data` interface.

``read_data_sets(train_dir)`` returns ``Datasets(train, validation, test)`` of `DataSet`s
whose ``images`` are float32 in [0, 1] (``[n, 784]`` when `reshape`) and whose ``labels`` are
uint8 class ids or one-hot float32 rows; ``next_batch(n)`` walks an epoch in shuffled order.

Files are read from `train_dir`, else from ``$ACTORFLOW_DATA_DIR`` (the folder holding
``mnist/``, or the ``mnist`` folder itself), gzipped or not; a relative path resolves against
the working directory of the process that reads it. The project's shared data holds
only the 10,000-image test set; `read_test_split` (and `read_data_sets` when the training
files are absent) then splits it: the first 8,000 images train, the last 2,000 evaluate.
Nothing is downloaded unless ``download=True``, and a download is checked against the known
MD5 sums before it is kept.
"""
from __future__ import annotations

import collections
import gzip
import hashlib
import os
import sys
import urllib.request
from pathlib import Path
from typing import Callable

import numpy as np

from .. import dtypes as _dtypes

__all__ = ["DataSet", "Datasets", "read_data_sets", "read_test_split", "read_idx",
           "extract_images", "extract_labels", "dense_to_one_hot", "maybe_download",
           "data_dir", "SOURCE_URL", "TEST_SPLIT_TRAIN_SIZE"]

SOURCE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
MD5 = {
    TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    TRAIN_LABELS: "d53e105ee54ea40749a09fcbcd1e9432",
    TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
    TEST_LABELS: "ec29112dd5afa0611ce80d1b7f02629c",
}
DATA_DIR_ENV = "ACTORFLOW_DATA_DIR"
TEST_SPLIT_TRAIN_SIZE = 8000  # the project's split of the test set: 8,000 train, rest test
NUM_CLASSES = 10
_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])


# -- IDX files -----------------------------------------------------------------------------
def _open(path: Path):
    """The file's bytes stream, un-gzipped when it is gzip (by content, not by name)."""
    f = open(path, "rb")
    if f.read(2) == b"\x1f\x8b":
        f.close()
        return gzip.open(path, "rb")
    f.seek(0)
    return f


def read_idx(path, magic: int | None = None) -> np.ndarray:
    """The uint8 array stored in an IDX file (gzipped or not).

    Args:
        magic: the expected magic number (2051 images, 2049 labels), or None for any
            unsigned-byte IDX file.

    Raises:
        ValueError: a wrong magic number, or a file shorter than its header says (the
            message names the file).
        FileNotFoundError: no such file.
    """
    path = Path(path)
    try:
        with _open(path) as f:
            head = f.read(4)
            if len(head) < 4:
                raise ValueError(f"{path}: not an IDX file (only {len(head)} bytes)")
            got = int.from_bytes(head, "big")
            if magic is not None and got != magic:
                raise ValueError(f"Invalid magic number {got} in MNIST file {path}: expected "
                                 f"{magic}")
            if got >> 8 != 0x08 or not 1 <= got & 0xFF <= 4:
                raise ValueError(f"Invalid magic number {got} in IDX file {path}: expected "
                                 "unsigned bytes (0x08) and 1 to 4 dimensions")
            ndim = got & 0xFF
            dims_raw = f.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise ValueError(f"{path}: truncated IDX header")
            dims = [int.from_bytes(dims_raw[4 * i:4 * i + 4], "big") for i in range(ndim)]
            n = int(np.prod(dims))
            data = f.read(n)
    except (OSError, EOFError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"Cannot read IDX file {path}: {e}") from None
    if len(data) < n:
        raise ValueError(f"{path}: truncated IDX data: {len(data)} of {n} bytes for shape "
                         f"{dims}")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def extract_images(path) -> np.ndarray:
    """The images of an IDX image file as uint8 ``[n, rows, cols, 1]`` (TF 1.x layout)."""
    images = read_idx(path, _IMAGES_MAGIC)
    return images.reshape(*images.shape, 1)


def extract_labels(path, one_hot: bool = False, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """The labels of an IDX label file: uint8 ``[n]``, or one-hot uint8 ``[n, num_classes]``."""
    labels = read_idx(path, _LABELS_MAGIC)
    return dense_to_one_hot(labels, num_classes) if one_hot else labels


def dense_to_one_hot(labels, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Class ids ``[n]`` as one-hot rows ``[n, num_classes]`` (uint8)."""
    labels = np.asarray(labels)
    out = np.zeros((labels.shape[0], num_classes), dtype=np.uint8)
    out[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1
    return out


# -- DataSet -------------------------------------------------------------------------------
class DataSet:
    """Images and labels with epoch-aware, optionally shuffled mini-batches.

    Args:
        images: uint8 ``[n, rows, cols]`` or ``[n, rows, cols, 1]`` (or already float).
        labels: ``[n]`` class ids or ``[n, classes]`` one-hot rows.
        dtype: float32 (pixels scaled to [0, 1], one-hot labels float32) or uint8 (raw).
        reshape: flatten each image to ``rows * cols``.
        seed: seeds the shuffling, for reproducible batches.

    Raises:
        TypeError: `dtype` is neither float32 nor uint8.
        ValueError: images and labels disagree on the number of examples.
    """

    def __init__(self, images, labels, dtype=_dtypes.float32, reshape: bool = True,
                 seed: int | None = None) -> None:
        dtype = _dtypes.as_dtype(dtype)
        if dtype not in (_dtypes.float32, _dtypes.uint8):
            raise TypeError(f"Invalid image dtype {dtype.name}, expected uint8 or float32")
        images, labels = np.asarray(images), np.asarray(labels)
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"images.shape: {images.shape} labels.shape: {labels.shape}")
        if reshape and images.ndim > 2:
            images = images.reshape(images.shape[0], int(np.prod(images.shape[1:])))
        if dtype == _dtypes.float32:
            if images.dtype == np.uint8:
                images = images.astype(np.float32) * np.float32(1.0 / 255.0)
            else:
                images = images.astype(np.float32)
            if labels.ndim == 2:
                labels = labels.astype(np.float32)
        self._images = images
        self._labels = labels
        self._num_examples = images.shape[0]
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(self._num_examples)
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self) -> np.ndarray:
        return self._images

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    @property
    def num_examples(self) -> int:
        return self._num_examples

    @property
    def epochs_completed(self) -> int:
        return self._epochs_completed

    def next_batch(self, batch_size: int, fake_data: bool = False, shuffle: bool = True):
        """The next `batch_size` examples as ``(images, labels)``.

        Each epoch visits every example once, in a fresh random order when `shuffle`; a batch
        that crosses the end of an epoch takes the epoch's rest and the next epoch's start.

        Raises:
            ValueError: `batch_size` is not positive, or `fake_data` is requested, or the set
                is empty.
        """
        if fake_data:
            raise ValueError("fake_data is not supported: read the real MNIST files")
        if batch_size <= 0 or self._num_examples == 0:
            raise ValueError(f"next_batch({batch_size}) on a DataSet of "
                             f"{self._num_examples} examples")
        start = self._index_in_epoch
        if start == 0 and self._epochs_completed == 0 and shuffle:
            self._order = self._rng.permutation(self._num_examples)
        parts = []
        need = batch_size
        while need > 0:
            take = min(need, self._num_examples - start)
            parts.append(self._order[start:start + take])
            start += take
            need -= take
            if start == self._num_examples:
                self._epochs_completed += 1
                start = 0
                if shuffle:
                    self._order = self._rng.permutation(self._num_examples)
        self._index_in_epoch = start
        idx = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return self._images[idx], self._labels[idx]


# -- locating and fetching files -----------------------------------------------------------
def data_dir(train_dir=None) -> Path:
    """The absolute folder holding the MNIST files: `train_dir`, else ``$ACTORFLOW_DATA_DIR``.

    A relative path (and ``~``) is resolved here, against this process's working directory,
    so that the folder returned still names the same place after a ``chdir`` and can be
    written as a ``file://`` URL. A folder with an ``mnist/`` subfolder and no MNIST files of
    its own resolves to the subfolder.

    Raises:
        ValueError: neither `train_dir` nor ``ACTORFLOW_DATA_DIR`` is given.
    """
    if train_dir is None:
        env = os.environ.get(DATA_DIR_ENV)
        if not env:
            raise ValueError(f"No MNIST directory: pass train_dir or set {DATA_DIR_ENV} "
                             "to the folder holding mnist/")
        train_dir = env
    d = Path(os.path.abspath(os.path.expanduser(os.fspath(train_dir))))
    if not _find(d, TEST_IMAGES) and not _find(d, TRAIN_IMAGES) and (d / "mnist").is_dir():
        d = d / "mnist"
    return d


def _source(train_dir) -> str:
    """Where a data folder came from, for error messages: the argument, or the variable's
    value and the working directory it was resolved against."""
    if train_dir is not None:
        return f"train_dir={os.fspath(train_dir)!r}"
    env = os.environ.get(DATA_DIR_ENV, "")
    if os.path.isabs(os.path.expanduser(env)):
        return f"{DATA_DIR_ENV}={env!r}"
    # A Ray job runs in its own copy of --working-dir: a relative path lands inside it.
    return (f"{DATA_DIR_ENV}={env!r}, relative to the working directory {os.getcwd()}; "
            "give an absolute path where the working directory differs (ray job submit)")


def _check_dir(d: Path, train_dir) -> None:
    """Raises FileNotFoundError naming the absolute folder and where it came from when `d`
    holds no MNIST images at all (rather than blaming one missing file)."""
    if not d.is_dir():
        raise FileNotFoundError(f"MNIST directory {d} does not exist ({_source(train_dir)})")
    if _find(d, TEST_IMAGES) is None and _find(d, TRAIN_IMAGES) is None:
        raise FileNotFoundError(f"No MNIST files ({TEST_IMAGES} or {TRAIN_IMAGES}, gzipped or "
                                f"not) in {d} nor in {d / 'mnist'} ({_source(train_dir)})")


def _find(d: Path, gz_name: str) -> Path | None:
    """`d/gz_name`, or its un-gzipped twin, when either exists."""
    for name in (gz_name, gz_name[:-3]):
        if (d / name).is_file():
            return d / name
    return None


def _require(d: Path, gz_name: str) -> Path:
    p = _find(d, gz_name)
    if p is None:
        raise FileNotFoundError(f"MNIST file {gz_name} (or {gz_name[:-3]}) not found in {d}")
    return p


def _md5(path: Path) -> str:
    h = hashlib.md5()  # noqa: S324 - a checksum of public data, not security
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _urlopen_fetch(url: str, dest: Path) -> None:
    """Copies `url` to `dest`, printing progress to stderr (no third-party progress bar)."""
    with urllib.request.urlopen(url) as r, open(dest, "wb") as out:  # noqa: S310
        total = int(r.headers.get("Content-Length") or 0)
        done = 0
        for chunk in iter(lambda: r.read(1 << 16), b""):
            out.write(chunk)
            done += len(chunk)
            if total:
                sys.stderr.write(f"\r{dest.name}: {done * 100 // total}% of {total} bytes")
        sys.stderr.write(f"\r{dest.name}: {done} bytes\n")


def maybe_download(filename: str, work_directory, source_url: str = SOURCE_URL,
                   md5: str | None = None, fetch: Callable | None = None) -> Path:
    """`work_directory/filename`, downloaded from `source_url` first when it is missing.

    A downloaded file is kept only when its MD5 sum matches `md5` (default: the known sum of
    that MNIST file). `fetch(url, dest_path)` replaces the urllib download (for tests and
    mirrors); ``file://`` URLs work with the default, and so does a local folder given as a
    plain path (relative or absolute).

    Raises:
        ValueError: the checksum does not match (the partial file is removed).
    """
    d = Path(work_directory)
    d.mkdir(parents=True, exist_ok=True)
    dest = d / filename
    if dest.is_file():
        return dest
    want = md5 if md5 is not None else MD5.get(filename)
    tmp = d / (filename + ".part")
    if "://" not in source_url:  # a local mirror folder: file URLs must be absolute
        source_url = Path(os.path.abspath(os.path.expanduser(source_url))).as_uri() + "/"
    try:
        (fetch or _urlopen_fetch)(source_url + filename, tmp)
        if want is not None:
            got = _md5(tmp)
            if got != want:
                raise ValueError(f"Checksum mismatch for {filename} from {source_url}: MD5 "
                                 f"{got}, expected {want}")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


# -- the data sets -------------------------------------------------------------------------
def _load_pair(d: Path, images_name: str, labels_name: str, one_hot: bool):
    images = extract_images(_require(d, images_name))
    labels = extract_labels(_require(d, labels_name), one_hot=one_hot)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{d}: {images_name} holds {images.shape[0]} images but "
                         f"{labels_name} holds {labels.shape[0]} labels")
    return images, labels


def _datasets(train, validation, test, dtype, reshape, seed) -> Datasets:
    def make(pair, offset):
        return DataSet(*pair, dtype=dtype, reshape=reshape,
                       seed=None if seed is None else seed + offset)
    return Datasets(make(train, 0), make(validation, 1), make(test, 2))


def read_test_split(train_dir=None, train_size: int = TEST_SPLIT_TRAIN_SIZE,
                    one_hot: bool = False, dtype=_dtypes.float32, reshape: bool = True,
                    validation_size: int = 0, seed: int | None = None) -> Datasets:
    """The project's split of the 10,000-image MNIST test set (no training files needed).

    train = the first `train_size` test images (less the first `validation_size` of them,
    which form validation), test = the remaining ``10000 - train_size``.

    Raises:
        FileNotFoundError: the t10k files are not in the directory.
        ValueError: sizes that do not fit the 10,000 images.
    """
    d = data_dir(train_dir)
    _check_dir(d, train_dir)
    images, labels = _load_pair(d, TEST_IMAGES, TEST_LABELS, one_hot)
    n = images.shape[0]
    if not 0 < train_size < n or not 0 <= validation_size < train_size:
        raise ValueError(f"train_size {train_size} and validation_size {validation_size} do "
                         f"not split {n} test images (0 <= validation < train < {n})")
    v, t = validation_size, train_size
    return _datasets((images[v:t], labels[v:t]), (images[:v], labels[:v]),
                     (images[t:], labels[t:]), dtype, reshape, seed)


def read_data_sets(train_dir=None, fake_data: bool = False, one_hot: bool = False,
                   dtype=_dtypes.float32, reshape: bool = True, validation_size=None,
                   seed: int | None = None, source_url: str = SOURCE_URL,
                   download: bool = False, train_from_test: int | None = None) -> Datasets:
    """MNIST as ``Datasets(train, validation, test)`` (TF 1.x `input_data.read_data_sets`).

    Args:
        train_dir: the folder with the IDX files (default ``$ACTORFLOW_DATA_DIR``).
        one_hot: labels as one-hot float32 rows instead of uint8 class ids.
        dtype: float32 (pixels in [0, 1]) or uint8.
        reshape: images as ``[n, 784]`` rather than ``[n, 28, 28, 1]``.
        validation_size: examples taken from the front of the training set for validation
            (default 5000; 0 when the training set comes from the test set).
        seed: seeds the shuffling of `next_batch`.
        download: fetch missing files from `source_url`, verifying their MD5 sums.
        train_from_test: split the test set instead (train = its first `train_from_test`
            images, see `read_test_split`). Used automatically (with 8,000) when only the
            t10k files are present.

    Raises:
        FileNotFoundError: the files are missing (and not downloaded).
        ValueError: a bad file (wrong magic number, truncated), or a bad size.
    """
    if fake_data:
        raise ValueError("fake_data is not supported: read the real MNIST files")
    d = data_dir(train_dir)
    if download:
        for name in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS):
            if _find(d, name) is None:
                maybe_download(name, d, source_url)
    _check_dir(d, train_dir)
    if train_from_test is None and _find(d, TRAIN_IMAGES) is None \
            and _find(d, TEST_IMAGES) is not None:
        train_from_test = TEST_SPLIT_TRAIN_SIZE
    if train_from_test is not None:
        return read_test_split(d, train_from_test, one_hot, dtype, reshape,
                               validation_size or 0, seed)
    validation_size = 5000 if validation_size is None else validation_size
    train_images, train_labels = _load_pair(d, TRAIN_IMAGES, TRAIN_LABELS, one_hot)
    test = _load_pair(d, TEST_IMAGES, TEST_LABELS, one_hot)
    if not 0 <= validation_size <= len(train_images):
        raise ValueError(f"Validation size should be between 0 and {len(train_images)}. "
                         f"Received: {validation_size}.")
    v = validation_size
    return _datasets((train_images[v:], train_labels[v:]),
                     (train_images[:v], train_labels[:v]), test, dtype, reshape, seed)
