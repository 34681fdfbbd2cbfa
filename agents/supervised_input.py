"""The supervised trainer's input: the book's ch. 5.3 CIFAR-10 pipeline as a data function.

The records of the CIFAR-10 binary files (``data_batch_1..5.bin``, ``test_batch.bin``: one
label byte, then the 32x32 image as red, green and blue planes) are read with the core's
`tf.data.FixedLengthRecordDataset` and `decode_raw`. Training batches are those of the book's
``distorted_inputs``: a random 24x24 crop, a random left-right flip, a random brightness
change (±63) and contrast factor (0.2-1.8), then per-image standardisation. ``"plain"``
input takes the centre crop in file order (the book's eval ``inputs``), so that a run's
batches are fixed: what the exactness tests use.

`CifarBatches` is the data function of `ReplicatedTrainer` (``data(worker_index,
num_workers)`` yields ``{tensor name: batch}``): worker i of N reads files i, i + N, ... (with
fewer files than workers, records i, i + N, ... of all files). Batch k of a worker depends
only on (seed, worker, k): its epoch's shuffle and its distortions are drawn from generators
seeded with them, so an iterator can start at any step and a resumed run sees exactly the
batches the uninterrupted one would have. The trainer wraps it in `actors.feeder.Prefetched`,
so that a thread makes the next batches while the step runs.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from actorflow.actors.feeder import file_shard

__all__ = ["CifarBatches", "cifar10_dir", "train_files", "test_file", "read_records",
           "distort", "center_crop", "standardize", "IMAGE_SIZE", "CROP_SHAPE", "NUM_CLASSES",
           "IMAGES", "LABELS"]

IMAGE_SIZE = 24
"""The side of the crops the network sees (the book's 24x24)."""
CROP_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 3)
"""One training image's shape."""
NUM_CLASSES = 10
"""CIFAR-10's classes (the labels 0-9)."""
IMAGES, LABELS = "images:0", "labels:0"
"""The placeholders of the supervised graph that batches feed."""
_HEIGHT = _WIDTH = 32
_RECORD_BYTES = 1 + _HEIGHT * _WIDTH * 3
_SUBDIR = "cifar-10-batches-bin"
_TRAIN_NAMES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))


def cifar10_dir(data_dir: str | None = None) -> str:
    """The folder holding the CIFAR-10 binary files, as an absolute path: `data_dir`, or its
    ``cifar-10-batches-bin`` subfolder when it has one; default ``$ACTORFLOW_DATA_DIR``.

    Raises:
        FileNotFoundError: the folder, or a file in it, is missing (naming the absolute path).
    """
    if not data_dir:
        root = os.environ.get("ACTORFLOW_DATA_DIR")
        if not root:
            raise FileNotFoundError("no CIFAR-10 data: give --data DIR or set "
                                    "$ACTORFLOW_DATA_DIR (holding cifar-10-batches-bin/)")
        data_dir = os.path.join(root, _SUBDIR)
    path = os.path.abspath(os.path.expanduser(data_dir))
    if os.path.isdir(os.path.join(path, _SUBDIR)):
        path = os.path.join(path, _SUBDIR)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"CIFAR-10 data folder {path} does not exist")
    for name in _TRAIN_NAMES + ("test_batch.bin",):
        if not os.path.isfile(os.path.join(path, name)):
            raise FileNotFoundError(f"CIFAR-10 file {os.path.join(path, name)} is missing")
    return path


def train_files(data_dir: str) -> list[str]:
    """The five training files of `data_dir` (a `cifar10_dir`)."""
    return [os.path.join(data_dir, name) for name in _TRAIN_NAMES]


def test_file(data_dir: str) -> str:
    """The test file of `data_dir` (a `cifar10_dir`)."""
    return os.path.join(data_dir, "test_batch.bin")


def read_records(paths: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All records of the CIFAR-10 binary files `paths`, in order, read with
    `tf.data.FixedLengthRecordDataset`.

    Returns:
        (labels int32 [n], images uint8 [n, 32, 32, 3]).

    Raises:
        ValueError: a file's size is not a whole number of records.
    """
    import actorflow as tf
    for path in paths:
        size = os.path.getsize(path)
        if size % _RECORD_BYTES:
            raise ValueError(f"{path} has {size} bytes, not a multiple of the CIFAR-10 "
                             f"record ({_RECORD_BYTES} bytes)")
    graph = tf.Graph()
    with graph.as_default():
        records = tf.data.FixedLengthRecordDataset(list(paths), _RECORD_BYTES).batch(4096)
        raw = tf.decode_raw(tf.data.make_one_shot_iterator(records).get_next(), tf.uint8)
    chunks = []
    with tf.Session(graph=graph) as sess:
        while True:
            try:
                chunks.append(sess.run(raw))
            except tf.errors.OutOfRangeError:
                break
    rows = np.concatenate(chunks) if chunks else np.zeros((0, _RECORD_BYTES), np.uint8)
    images = rows[:, 1:].reshape(-1, 3, _HEIGHT, _WIDTH).transpose(0, 2, 3, 1)
    return rows[:, 0].astype(np.int32), np.ascontiguousarray(images)


def standardize(images: np.ndarray) -> np.ndarray:
    """`tf.image.per_image_standardization` of each image of a float batch [n, h, w, c]:
    (x - mean) / max(std, 1 / sqrt(h * w * c))."""
    mean = images.mean(axis=(1, 2, 3), keepdims=True, dtype=np.float64)
    centred = images - mean.astype(np.float32)
    std = np.sqrt(np.mean(np.square(centred), axis=(1, 2, 3), keepdims=True))
    floor = np.float32(1.0 / np.sqrt(np.prod(images.shape[1:])))
    return (centred / np.maximum(std, floor)).astype(np.float32)


def center_crop(images: np.ndarray) -> np.ndarray:
    """The book's eval input: the centre 24x24 of uint8 images [n, 32, 32, 3]
    (`resize_image_with_crop_or_pad`), standardised."""
    top = (_HEIGHT - IMAGE_SIZE) // 2
    left = (_WIDTH - IMAGE_SIZE) // 2
    crop = images[:, top:top + IMAGE_SIZE, left:left + IMAGE_SIZE].astype(np.float32)
    return standardize(crop)


def distort(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The book's ``distorted_inputs`` of uint8 images [n, 32, 32, 3], drawn from `rng`: a
    random 24x24 crop, a random left-right flip, `adjust_brightness` by a delta in [-63, 63)
    and `adjust_contrast` by a factor in [0.2, 1.8) (each channel moved from its mean), then
    per-image standardisation. Returns float32 [n, 24, 24, 3]."""
    n = len(images)
    tops = rng.integers(0, _HEIGHT - IMAGE_SIZE + 1, n)
    lefts = rng.integers(0, _WIDTH - IMAGE_SIZE + 1, n)
    flips = rng.random(n) < 0.5
    delta = rng.uniform(-63.0, 63.0, n).astype(np.float32)
    factor = rng.uniform(0.2, 1.8, n).astype(np.float32)
    span = np.arange(IMAGE_SIZE)
    rows = (tops[:, None] + span)[:, :, None]
    cols = lefts[:, None] + span
    cols = np.where(flips[:, None], cols[:, ::-1], cols)[:, None, :]
    crop = images[np.arange(n)[:, None, None], rows, cols].astype(np.float32)
    crop += delta[:, None, None, None]
    mean = crop.mean(axis=(1, 2), keepdims=True)
    crop = (crop - mean) * factor[:, None, None, None] + mean
    return standardize(crop)


class CifarBatches:
    """The training batches of one worker's shard of the CIFAR-10 files (picklable).

    Args:
        data_dir: a `cifar10_dir`.
        batch_size: images per batch (per worker).
        distorted: the book's random distortions and a shuffle every epoch; False: centre
            crops in file order.
        seed: seeds every shuffle and distortion (with the worker index and the step).
        start_step: the first batch each worker yields (a resumed run's step).

    Raises:
        ValueError: a batch larger than a worker's shard (raised when a worker starts).
    """

    def __init__(self, data_dir: str, batch_size: int, distorted: bool = True, seed: int = 0,
                 start_step: int = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.data_dir = data_dir
        self.batch_size = int(batch_size)
        self.distorted = distorted
        self.seed = int(seed)
        self.start_step = int(start_step)

    def shard_size(self, worker_index: int, num_workers: int) -> int:
        """The number of records of a worker's shard (from the file sizes, nothing read)."""
        files, n, k = file_shard(train_files(self.data_dir), worker_index, num_workers)
        total = sum(os.path.getsize(f) // _RECORD_BYTES for f in files)
        return len(range(k, total, n))

    def check(self, num_workers: int) -> None:
        """Raises ValueError, naming them, when a worker's shard holds fewer images than a
        batch (before any worker starts)."""
        for i in range(num_workers):
            size = self.shard_size(i, num_workers)
            if size < self.batch_size:
                raise ValueError(f"batch_size {self.batch_size} is larger than worker {i} of "
                                 f"{num_workers}'s shard of the CIFAR-10 files in "
                                 f"{self.data_dir} ({size} images)")

    def shard(self, worker_index: int, num_workers: int) -> tuple[np.ndarray, np.ndarray]:
        """(labels, images) of worker `worker_index` of `num_workers`: its files, or, with
        fewer files than workers, its records of all files."""
        files, n, k = file_shard(train_files(self.data_dir), worker_index, num_workers)
        labels, images = read_records(files)
        return labels[k::n], images[k::n]

    def __call__(self, worker_index: int, num_workers: int) -> Iterator[dict]:
        labels, images = self.shard(worker_index, num_workers)
        if len(labels) < self.batch_size:
            raise ValueError(f"worker {worker_index} of {num_workers} has {len(labels)} "
                             f"CIFAR-10 images, fewer than a batch of {self.batch_size}")
        return self._batches(labels, images, worker_index)

    def _batches(self, labels: np.ndarray, images: np.ndarray, worker: int) -> Iterator[dict]:
        per_epoch = len(labels) // self.batch_size
        step = self.start_step
        while True:
            epoch, k = divmod(step, per_epoch)
            if self.distorted:
                order = np.random.default_rng([self.seed, worker, epoch]).permutation(
                    len(labels))
            else:
                order = np.arange(len(labels))
            rows = order[k * self.batch_size:(k + 1) * self.batch_size]
            if self.distorted:
                batch = distort(images[rows], np.random.default_rng([self.seed, worker,
                                                                     epoch, k, 1]))
            else:
                batch = center_crop(images[rows])
            yield {IMAGES: batch, LABELS: labels[rows]}
            step += 1
