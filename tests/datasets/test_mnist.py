"""The MNIST reader: IDX parsing, the project's test split, DataSet batching, downloads."""
from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from actorflow.datasets import mnist


def _write_idx(path: Path, arr: np.ndarray, magic: int, compress: bool) -> Path:
    head = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    data = head + arr.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def _fake_mnist(d: Path, n: int, prefix: str = "t10k", compress: bool = True):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    ext = ".gz" if compress else ""
    _write_idx(d / f"{prefix}-images-idx3-ubyte{ext}", images, 2051, compress)
    _write_idx(d / f"{prefix}-labels-idx1-ubyte{ext}", labels, 2049, compress)
    return images, labels


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_gz_and_plain(tmp_path, compress):
    images, labels = _fake_mnist(tmp_path, 12, compress=compress)
    ext = ".gz" if compress else ""
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / f"t10k-images-idx3-ubyte{ext}"),
                                  images)
    got = mnist.extract_images(tmp_path / f"t10k-images-idx3-ubyte{ext}")
    assert got.shape == (12, 28, 28, 1) and got.dtype == np.uint8
    np.testing.assert_array_equal(
        mnist.extract_labels(tmp_path / f"t10k-labels-idx1-ubyte{ext}"), labels)


def test_wrong_magic_names_the_file(tmp_path):
    p = _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros(5), 2049, True)
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz") as e:
        mnist.extract_images(p)
    assert "2049" in str(e.value) and "2051" in str(e.value)


def test_truncated_and_garbage_files_name_the_file(tmp_path):
    p = tmp_path / "t10k-labels-idx1-ubyte"
    p.write_bytes((2049).to_bytes(4, "big") + (10).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(ValueError, match="truncated.*|.*t10k-labels-idx1-ubyte"):
        mnist.extract_labels(p)
    bad = tmp_path / "broken.gz"
    bad.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(ValueError, match="broken.gz"):
        mnist.read_idx(bad)


def test_missing_files_name_directory_and_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        mnist.read_test_split(tmp_path)


def test_test_split_from_only_t10k_files(tmp_path):
    images, labels = _fake_mnist(tmp_path, 50)
    ds = mnist.read_test_split(tmp_path, train_size=40, one_hot=True)
    assert ds.train.images.shape == (40, 784) and ds.train.images.dtype == np.float32
    np.testing.assert_allclose(ds.train.images, images[:40].reshape(40, -1) / 255.0,
                               rtol=1e-6)
    assert ds.test.num_examples == 10 and ds.validation.num_examples == 0
    np.testing.assert_array_equal(ds.test.labels.argmax(1), labels[40:])
    assert ds.test.labels.dtype == np.float32 and ds.test.labels.shape == (10, 10)
    # read_data_sets falls back to the same split when the training files are absent
    auto = mnist.read_data_sets(tmp_path, train_from_test=40)
    np.testing.assert_array_equal(auto.train.labels, labels[:40])


def test_read_data_sets_with_training_files(tmp_path):
    train_images, train_labels = _fake_mnist(tmp_path, 30, prefix="train", compress=False)
    _fake_mnist(tmp_path, 7)
    ds = mnist.read_data_sets(tmp_path, validation_size=5, reshape=False, dtype=np.uint8)
    assert ds.train.num_examples == 25 and ds.validation.num_examples == 5
    assert ds.test.num_examples == 7
    assert ds.train.images.shape == (25, 28, 28, 1) and ds.train.images.dtype == np.uint8
    np.testing.assert_array_equal(ds.validation.labels, train_labels[:5])
    with pytest.raises(ValueError, match="Validation size"):
        mnist.read_data_sets(tmp_path, validation_size=31)
    with pytest.raises(TypeError, match="dtype"):
        mnist.read_data_sets(tmp_path, validation_size=5, dtype=np.int32)


def test_directory_from_environment(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    _, labels = _fake_mnist(tmp_path / "mnist", 20)
    monkeypatch.setenv("ACTORFLOW_DATA_DIR", str(tmp_path))
    ds = mnist.read_test_split(train_size=15)
    np.testing.assert_array_equal(ds.test.labels, labels[15:])
    monkeypatch.setenv("ACTORFLOW_DATA_DIR", str(tmp_path / "mnist"))
    assert mnist.read_test_split(train_size=15).train.num_examples == 15
    monkeypatch.delenv("ACTORFLOW_DATA_DIR")
    with pytest.raises(ValueError, match="ACTORFLOW_DATA_DIR"):
        mnist.read_data_sets()


def test_relative_directory_resolves_against_the_working_directory(tmp_path, monkeypatch):
    # The README's form: ACTORFLOW_DATA_DIR=../shared/datasets, run from the checkout.
    (tmp_path / "shared" / "datasets" / "mnist").mkdir(parents=True)
    _, labels = _fake_mnist(tmp_path / "shared" / "datasets" / "mnist", 20)
    (tmp_path / "main").mkdir()
    monkeypatch.chdir(tmp_path / "main")
    monkeypatch.setenv("ACTORFLOW_DATA_DIR", "../shared/datasets")
    d = mnist.data_dir()
    assert d == tmp_path / "shared" / "datasets" / "mnist" and d.is_absolute()
    assert d.as_uri().startswith("file:///")
    np.testing.assert_array_equal(mnist.read_test_split(train_size=15).test.labels,
                                  labels[15:])
    monkeypatch.chdir(tmp_path)  # the resolved folder stays valid after a chdir
    np.testing.assert_array_equal(mnist.read_test_split(d, train_size=15).test.labels,
                                  labels[15:])
    assert mnist.data_dir("shared/datasets") == d  # a relative train_dir too


def test_missing_directory_names_the_absolute_path_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACTORFLOW_DATA_DIR", "../no-such-datasets")
    with pytest.raises(FileNotFoundError) as e:
        mnist.read_data_sets()
    msg = str(e.value)
    assert str(tmp_path.parent / "no-such-datasets") in msg
    assert "ACTORFLOW_DATA_DIR='../no-such-datasets'" in msg and str(tmp_path) in msg
    assert "train-images" not in msg.split("(")[0]  # no single missing file is blamed
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No MNIST files.*empty.*train_dir='empty'"):
        mnist.read_data_sets("empty")


def test_next_batch_epochs_cover_every_example_once():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1)
    ds = mnist.DataSet(images, np.arange(10), dtype=np.uint8, seed=3)
    seen = np.concatenate([ds.next_batch(4)[1] for _ in range(5)])  # 20 = two epochs
    assert ds.epochs_completed == 2
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
    assert list(seen[:10]) != list(range(10))  # shuffled
    x, y = ds.next_batch(3)
    np.testing.assert_array_equal(x.ravel(), y)  # images stay paired with labels
    plain = mnist.DataSet(images, np.arange(10), dtype=np.uint8)
    assert list(plain.next_batch(7, shuffle=False)[1]) == list(range(7))
    assert list(plain.next_batch(7, shuffle=False)[1]) == [7, 8, 9, 0, 1, 2, 3]


def test_next_batch_is_reproducible_with_a_seed():
    a = mnist.DataSet(np.zeros((20, 2, 2)), np.arange(20), seed=7)
    b = mnist.DataSet(np.zeros((20, 2, 2)), np.arange(20), seed=7)
    for _ in range(4):
        np.testing.assert_array_equal(a.next_batch(6)[1], b.next_batch(6)[1])


def test_real_test_split(mnist_dir):
    ds = mnist.read_test_split(mnist_dir, one_hot=True, seed=0)
    assert ds.train.num_examples == 8000 and ds.test.num_examples == 2000
    assert ds.train.images.shape == (8000, 784) and ds.train.images.dtype == np.float32
    assert 0.0 <= ds.train.images.min() and ds.train.images.max() <= 1.0
    assert ds.train.labels.shape == (8000, 10)
    np.testing.assert_array_equal(ds.train.labels.sum(1), 1)
    counts = np.bincount(ds.test.labels.argmax(1), minlength=10)
    assert counts.min() > 100  # every digit is present in the evaluation split
    dense = mnist.read_data_sets(mnist_dir.parent)  # only t10k files: the same split
    assert dense.train.labels.dtype == np.uint8
    np.testing.assert_array_equal(dense.train.labels, ds.train.labels.argmax(1))


def test_download_verifies_checksum(tmp_path, mnist_dir):
    dest = tmp_path / "dl"
    url = mnist_dir.as_uri() + "/"
    p = mnist.maybe_download(mnist.TEST_LABELS, dest, source_url=url)
    assert p.read_bytes() == (mnist_dir / mnist.TEST_LABELS).read_bytes()
    assert len(mnist.read_idx(p)) == 10000


def test_download_from_a_relative_mirror_folder(tmp_path, monkeypatch):
    server = tmp_path / "mirror"
    server.mkdir()
    _fake_mnist(server, 4)
    md5 = hashlib.md5((server / mnist.TEST_LABELS).read_bytes()).hexdigest()
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    p = mnist.maybe_download(mnist.TEST_LABELS, "data", source_url="../mirror/", md5=md5)
    assert p.resolve() == tmp_path / "work" / "data" / mnist.TEST_LABELS
    assert p.read_bytes() == (server / mnist.TEST_LABELS).read_bytes()


def test_download_rejects_a_bad_checksum(tmp_path):
    server = tmp_path / "server"
    server.mkdir()
    (server / mnist.TEST_LABELS).write_bytes(b"not the real file")
    dest = tmp_path / "dl"
    with pytest.raises(ValueError, match="Checksum mismatch"):
        mnist.maybe_download(mnist.TEST_LABELS, dest, source_url=server.as_uri() + "/")
    assert list(dest.iterdir()) == []  # nothing kept


def test_download_with_a_fake_fetcher_and_explicit_md5(tmp_path):
    payload = b"payload bytes"
    calls = []

    def fetch(url, dest):
        calls.append(url)
        Path(dest).write_bytes(payload)

    md5 = hashlib.md5(payload).hexdigest()
    p = mnist.maybe_download("x.bin", tmp_path, "http://example.invalid/", md5=md5,
                             fetch=fetch)
    assert calls == ["http://example.invalid/x.bin"] and p.read_bytes() == payload
    mnist.maybe_download("x.bin", tmp_path, "http://example.invalid/", md5=md5, fetch=fetch)
    assert len(calls) == 1  # present files are not fetched again


def test_read_data_sets_download_fetches_missing_files(tmp_path):
    server = tmp_path / "server"
    server.mkdir()
    _fake_mnist(server, 12, prefix="train")
    _fake_mnist(server, 6)
    md5s = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in server.iterdir()}
    dest = tmp_path / "data"
    dest.mkdir()
    shutil.copy(server / mnist.TEST_IMAGES, dest)  # one file present already
    fetched = []

    def fetch(url, path):
        fetched.append(url.rsplit("/", 1)[1])
        shutil.copy(server / fetched[-1], path)

    with mock.patch.dict(mnist.MD5, md5s), mock.patch.object(mnist, "_urlopen_fetch", fetch):
        ds = mnist.read_data_sets(dest, download=True, validation_size=2,
                                  source_url="http://example.invalid/")
    assert sorted(fetched) == sorted([mnist.TRAIN_IMAGES, mnist.TRAIN_LABELS,
                                      mnist.TEST_LABELS])
    assert ds.train.num_examples == 10 and ds.test.num_examples == 6
