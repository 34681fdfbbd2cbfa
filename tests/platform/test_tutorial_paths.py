"""The module paths TF 1.x tutorials import, each a real module: examples.tutorials.mnist
.input_data, contrib.learn(.python.learn).datasets(.mnist), contrib.rnn,
contrib.tensorboard.plugins.projector and the tensorflow.python.* modules programs use."""
from __future__ import annotations

import gzip
import importlib
import os

import numpy as np
import pytest

import actorflow as tf
from actorflow.contrib.tensorboard.plugins import projector
from actorflow.examples.tutorials.mnist import input_data

ENV = "ACTORFLOW_DATA_DIR"


def _write_idx(path, magic: int, array: np.ndarray) -> None:
    head = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + array.astype(np.uint8).tobytes())


def _fake_mnist(folder, n_train: int = 30, n_test: int = 10) -> None:
    """Tiny MNIST-shaped IDX files: image i is filled with i, label i is i % 10."""
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = np.repeat(np.arange(n), 28 * 28).reshape(n, 28, 28)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", 2051, images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 2049, np.arange(n) % 10)


# -- MNIST ---------------------------------------------------------------------------------
def test_input_data_reads_the_folder_it_is_given(tmp_path, monkeypatch):
    _fake_mnist(tmp_path / "MNIST_data")
    monkeypatch.delenv(ENV, raising=False)
    mnist = input_data.read_data_sets(str(tmp_path / "MNIST_data"), one_hot=True,
                                      validation_size=5)
    assert mnist.train.images.shape == (25, 784) and mnist.train.images.dtype == np.float32
    assert mnist.train.labels.shape == (25, 10)
    assert mnist.validation.num_examples == 5 and mnist.test.num_examples == 10
    # validation is the front of the training files: images 0..4, labels 0..4
    np.testing.assert_array_equal(mnist.validation.labels.argmax(1), np.arange(5))
    np.testing.assert_allclose(mnist.validation.images[:, 0], np.arange(5) / 255.0, rtol=1e-6)
    xs, ys = mnist.train.next_batch(7)
    assert xs.shape == (7, 784) and ys.shape == (7, 10)


def test_input_data_falls_back_to_the_data_dir(tmp_path, monkeypatch):
    _fake_mnist(tmp_path / "data" / "mnist")
    monkeypatch.setenv(ENV, str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # "MNIST_data/" does not exist here: TF would download
    mnist = input_data.read_data_sets("MNIST_data/", validation_size=5)
    assert mnist.train.num_examples == 25 and mnist.train.labels.dtype == np.uint8
    assert not (tmp_path / "MNIST_data").exists()  # nothing was created or downloaded


def test_input_data_missing_files_names_files_and_folders(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path / "empty_data"))
    (tmp_path / "empty_data").mkdir()
    with pytest.raises(FileNotFoundError) as e:
        input_data.read_data_sets(str(tmp_path / "MNIST_data"))
    msg = str(e.value)
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                 str(tmp_path / "MNIST_data"), str(tmp_path / "empty_data"), ENV):
        assert name in msg
    monkeypatch.delenv(ENV)
    with pytest.raises(FileNotFoundError, match="downloads nothing"):
        input_data.read_data_sets(str(tmp_path / "MNIST_data"))


def test_input_data_on_the_shared_test_set(monkeypatch):
    """The real IDX files of the project's data directory (only the test set exists)."""
    data = os.environ.get(ENV)
    if not data or not os.path.isdir(os.path.join(data, "mnist")):
        pytest.skip(f"no MNIST data: set {ENV} to the folder holding mnist/")
    mnist = input_data.read_data_sets("MNIST_data/", one_hot=True)
    assert mnist.train.images.shape == (8000, 784) and mnist.test.images.shape == (2000, 784)
    assert mnist.train.labels.sum(1).tolist() == [1.0] * 8000
    assert 0.0 <= mnist.train.images.min() and mnist.train.images.max() <= 1.0


def test_contrib_learn_paths_are_one_module():
    a = importlib.import_module("actorflow.contrib.learn.datasets.mnist")
    b = importlib.import_module("actorflow.contrib.learn.python.learn.datasets.mnist")
    assert a is b and tf.contrib.learn.datasets.mnist is a
    assert tf.contrib.learn.python.learn.datasets.mnist is a
    assert input_data.read_data_sets is a.read_data_sets and input_data.DataSet is a.DataSet
    assert a.dense_to_one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_load_dataset(tmp_path, monkeypatch):
    _fake_mnist(tmp_path / "data" / "mnist")
    monkeypatch.setenv(ENV, str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # TF's default folder "MNIST-data" is absent
    monkeypatch.setitem(tf.contrib.learn.datasets.DATASETS, "mnist",
                        lambda: tf.contrib.learn.datasets.mnist.read_data_sets(
                            "MNIST-data", validation_size=5))
    assert tf.contrib.learn.datasets.load_dataset("mnist").test.num_examples == 10
    with pytest.raises(tf.contrib.learn.datasets.DatasetNotAvailableError, match="iris"):
        tf.contrib.learn.datasets.load_dataset("iris")
    with pytest.raises(ValueError, match="Name of dataset is not found: cifar"):
        tf.contrib.learn.datasets.load_dataset("cifar")


def test_load_mnist_defaults_to_tf_folder_name(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="MNIST-data"):
        tf.contrib.learn.datasets.mnist.load_mnist()


# -- contrib.rnn ---------------------------------------------------------------------------
def test_contrib_rnn_is_a_module():
    rnn = importlib.import_module("actorflow.contrib.rnn")
    from actorflow.contrib.rnn import BasicLSTMCell, static_rnn
    assert tf.contrib.rnn is rnn
    assert BasicLSTMCell is tf.nn.rnn_cell.BasicLSTMCell and static_rnn is rnn.static_rnn
    with tf.Graph().as_default():
        x = [tf.ones([2, 3]) for _ in range(4)]
        outs, _ = rnn.static_rnn(rnn.GRUCell(5), x, dtype=tf.float32)
        assert len(outs) == 4 and outs[0].shape.as_list() == [2, 5]


# -- projector -----------------------------------------------------------------------------
def test_visualize_embeddings_writes_tf_text_format(tmp_path):
    config = projector.ProjectorConfig()
    emb = config.embeddings.add()
    emb.tensor_name = "embedding:0"
    emb.metadata_path = "metadata.tsv"
    emb.sprite.image_path = "sprite.png"
    emb.sprite.single_image_dim.extend([28, 28])
    other = config.embeddings.add(tensor_name='say "hi"')
    other.tensor_shape.extend([3, 4])
    with tf.Graph().as_default():
        writer = tf.summary.FileWriter(str(tmp_path / "logs"))
        path = projector.visualize_embeddings(writer, config)
        writer.close()
    assert path == str(tmp_path / "logs" / "projector_config.pbtxt")
    # The text TF's text_format.MessageToString writes for the same config.
    assert (tmp_path / "logs" / "projector_config.pbtxt").read_text() == (
        'embeddings {\n  tensor_name: "embedding:0"\n  metadata_path: "metadata.tsv"\n'
        '  sprite {\n    image_path: "sprite.png"\n    single_image_dim: 28\n'
        '    single_image_dim: 28\n  }\n}\n'
        'embeddings {\n  tensor_name: "say \\"hi\\""\n  tensor_shape: 3\n'
        '  tensor_shape: 4\n}\n')


def test_projector_config_fields_behave_like_protobuf():
    config = projector.ProjectorConfig(model_checkpoint_path="model.ckpt")
    assert str(config) == 'model_checkpoint_path: "model.ckpt"\n'
    emb = config.embeddings.add()
    emb.tensor_name = "é"
    assert 'tensor_name: "\\303\\251"' in str(config)  # UTF-8 bytes as octal escapes
    with pytest.raises(AttributeError, match="no field 'name'"):
        emb.name = "x"
    with pytest.raises(AttributeError, match="repeated field"):
        emb.tensor_shape = [1]
    with pytest.raises(TypeError):
        emb.metadata_path = 3
    with pytest.raises(TypeError, match="ProjectorConfig"):
        projector.visualize_embeddings(None, emb)


# -- tensorflow.python.* -------------------------------------------------------------------
def test_python_module_paths():
    from actorflow.python.client import device_lib
    from actorflow.python.framework import dtypes, ops
    from actorflow.python.ops import rnn, rnn_cell

    assert dtypes is tf.dtypes and rnn is importlib.import_module("actorflow.rnn")
    assert rnn_cell.LSTMStateTuple is tf.nn.rnn_cell.LSTMStateTuple
    g = tf.Graph()
    with g.as_default():
        assert ops.get_default_graph() is g and isinstance(tf.constant(1.0), ops.Tensor)
    devices = device_lib.list_local_devices()
    assert devices[0].name == "/device:CPU:0" and devices[0].device_type == "CPU"
    cpus = device_lib.list_local_devices(tf.ConfigProto(device_count={"CPU": 2, "GPU": 0}))
    assert [d.name for d in cpus] == ["/device:CPU:0", "/device:CPU:1"]
