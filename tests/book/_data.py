"""Small data sets in the real file formats of the book's ch. 5.3 and ch. 7 programs, and the
place where the real data sets are looked for.

- CIFAR-10 binary (``cifar-10-batches-bin/``): ``data_batch_1.bin`` ... ``data_batch_5.bin``
  and ``test_batch.bin``, records of 3073 bytes: the label (one byte, 0-9), then the 32x32
  image as three 1024-byte planes, red, green, blue, each row-major.
- PTB (``simple-examples/data/``): ``ptb.train.txt``, ``ptb.valid.txt``, ``ptb.test.txt``,
  one sentence a line, words separated by single spaces, a space before the first word,
  rare words written ``<unk>``.
- text8: one line of lowercase words separated by single spaces, no newline, zipped as
  ``text8.zip`` holding the member ``text8``.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

CIFAR10_IMAGE_BYTES = 32 * 32 * 3
CIFAR10_RECORD_BYTES = 1 + CIFAR10_IMAGE_BYTES


def real_data(relative: str) -> Path | None:
    """``$ACTORFLOW_DATA_DIR/<relative>`` (else ``../shared/datasets/<relative>`` beside the
    checkout) when it exists."""
    roots = []
    if os.environ.get("ACTORFLOW_DATA_DIR"):
        roots.append(Path(os.path.abspath(os.path.expanduser(os.environ["ACTORFLOW_DATA_DIR"]))))
    roots.append(Path(__file__).resolve().parents[3] / "shared" / "datasets")
    for root in roots:
        if (root / relative).exists():
            return root / relative
    return None


def missing_message(relative: str) -> str:
    """The skip reason for a missing real data set, naming the path looked for."""
    where = os.environ.get("ACTORFLOW_DATA_DIR") or "$ACTORFLOW_DATA_DIR"
    return f"real data not found: expected {os.path.join(where, relative)}"


# -- CIFAR-10 -----------------------------------------------------------------------------
def cifar10_images(labels: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """[n, 32, 32, 3] uint8 images whose class shows in their colour and in a bright
    horizontal band at a class-dependent height, over noise (learnable in a few steps, and
    still visible after crops, flips and brightness/contrast changes)."""
    n = len(labels)
    palette = np.random.RandomState(1234).randint(40, 216, size=(10, 3))  # one per class
    images = rng.randint(0, 64, size=(n, 32, 32, 3)) + palette[labels][:, None, None, :] // 2
    for i, label in enumerate(labels):
        row = 2 + 3 * label
        images[i, row:row + 3, :, :] += 120
    return np.clip(images, 0, 255).astype(np.uint8)


def cifar10_records(labels: np.ndarray, images: np.ndarray) -> bytes:
    """The CIFAR-10 binary records of `images` [n, 32, 32, 3] (HWC uint8) and `labels`."""
    chw = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(labels), -1)
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None], chw], axis=1)
    return records.astype(np.uint8).tobytes()


def write_cifar10(data_dir: Path, per_train_file: int = 64, n_test: int = 64,
                  seed: int = 0) -> dict:
    """Writes ``data_batch_{1..5}.bin`` and ``test_batch.bin`` into `data_dir`; returns
    ``{file name: (labels, images)}``."""
    rng = np.random.RandomState(seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for name in names:
        n = n_test if name == "test_batch.bin" else per_train_file
        labels = rng.randint(0, 10, size=n)
        images = cifar10_images(labels, rng)
        (data_dir / name).write_bytes(cifar10_records(labels, images))
        written[name] = (labels, images)
    return written


# -- PTB ----------------------------------------------------------------------------------
def ptb_sentences(n_sentences: int, seed: int) -> list[list[str]]:
    """Sentences of a small grammar: a subject, then a verb that depends on it, then an
    object that depends on the verb, sometimes an adverb; rare names come out as <unk>."""
    rng = np.random.RandomState(seed)
    subjects = ["the cat", "a dog", "the company", "investors", "the bank", "mr. smith"]
    verbs = {0: ["sat", "slept"], 1: ["barked", "ran"], 2: ["said", "reported"],
             3: ["bought", "sold"], 4: ["raised", "cut"], 5: ["said", "resigned"]}
    objects = {"sat": "on the mat", "slept": "all day", "barked": "at the mailman",
               "ran": "to the park", "said": "it expects N profit",
               "reported": "a loss of $ N million", "bought": "shares of <unk> corp.",
               "sold": "the stock", "raised": "rates by N %", "cut": "its dividend",
               "resigned": "as chairman"}
    sentences = []
    for _ in range(n_sentences):
        s = rng.randint(len(subjects))
        verb = verbs[s][rng.randint(2)]
        words = subjects[s].split() + [verb] + objects[verb].split()
        if rng.rand() < 0.3:
            words.append("yesterday")
        sentences.append(words)
    return sentences


def write_ptb(data_dir: Path, n_train: int = 400, n_valid: int = 60, n_test: int = 60,
              seed: int = 0) -> None:
    """Writes ``ptb.train.txt``, ``ptb.valid.txt`` and ``ptb.test.txt`` into `data_dir`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, n, offset in (("train", n_train, 0), ("valid", n_valid, 1), ("test", n_test, 2)):
        lines = [" " + " ".join(words) + " \n" for words in ptb_sentences(n, seed + offset)]
        (data_dir / f"ptb.{name}.txt").write_text("".join(lines))


# -- text8 --------------------------------------------------------------------------------
def write_text8_zip(path: Path, words: list[str]) -> Path:
    """Writes `words` as text8 (one space-separated line) into the zip file `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("text8", " " + " ".join(words))
    return path
