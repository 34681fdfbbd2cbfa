"""Reading TensorFlow V2 (and V1) checkpoints: the fixtures TF 2.21 wrote
(scripts/make_tf_checkpoint_fixtures.py), corrupted and crafted ones, and the TF entry points
(NewCheckpointReader, list_variables, load_variable, Saver.restore, init_from_checkpoint)."""
from __future__ import annotations

import os
import shutil
import struct

import numpy as np
import pytest

import actorflow as tf
from actorflow.io.tf_record import masked_crc32c
from actorflow.summary import wire
from actorflow.train import tf_checkpoint as tfc
from actorflow.train import tf_checkpoint_v1 as tfc1
from actorflow.train.tf_checkpoint_v1 import TFV1CheckpointReader

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "tf_checkpoints")
DTYPES = os.path.join(FIXTURES, "dtypes.ckpt")
SCOPED = os.path.join(FIXTURES, "cifar_scoped.ckpt")


def _expected(name: str) -> dict:
    with np.load(os.path.join(FIXTURES, name + ".npz")) as npz:
        return {k.replace("__", "/"): npz[k] for k in npz.files}


def _copy(tmp_path, name: str) -> str:
    for f in os.listdir(FIXTURES):
        if f.startswith(name + ".ckpt."):
            shutil.copy(os.path.join(FIXTURES, f), tmp_path / f)
    return str(tmp_path / (name + ".ckpt"))


def _flip(path: str, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


# -- a minimal table writer, to craft indexes whose CRCs are right --------------------------
def _block(out: bytearray, contents: bytes, kind: int = 0) -> bytes:
    """Appends a block and its trailer; returns its encoded BlockHandle."""
    offset = len(out)
    out += contents + bytes([kind])
    out += struct.pack("<I", masked_crc32c(contents + bytes([kind])))
    return wire.encode_varint(offset) + wire.encode_varint(len(contents))


def _entries(pairs) -> bytes:
    body = b"".join(wire.encode_varint(0) + wire.encode_varint(len(k)) +
                    wire.encode_varint(len(v)) + k + v for k, v in pairs)
    return body + struct.pack("<II", 0, 1)  # one restart point, at offset 0


def _write_table(path: str, table: dict, kind: int = 0) -> None:
    pairs = sorted(table.items())
    out = bytearray()
    data = _block(out, _entries(pairs), kind)
    meta = _block(out, _entries([]))
    index = _block(out, _entries([(pairs[-1][0], data)]))
    footer = meta + index
    out += footer + b"\x00" * (40 - len(footer)) + struct.pack("<Q", tfc.TABLE_MAGIC)
    with open(path, "wb") as f:
        f.write(out)


def _header(endianness: int = 0) -> bytes:
    return tfc._BundleHeader(num_shards=1, endianness=endianness,
                             version=tfc._VersionDef(producer=1)).SerializeToString()


def _entry(dtype: int, shape, size: int, crc: int, offset: int = 0, slices=()) -> bytes:
    proto = tfc._BundleEntry(dtype=dtype, shape=tfc._TensorShape(
        dim=[tfc._Dim(size=d) for d in shape]), shard_id=0, offset=offset, size=size,
        slices=[tfc._TensorSlice(extent=[tfc._Extent(start=a, length=n) for a, n in s])
                for s in slices])
    return proto.SerializeToString() + wire.field_key(6, wire.FIXED32) + \
        struct.pack("<I", crc)


def _crafted(tmp_path, entries: dict, data: bytes, endianness: int = 0, kind: int = 0):
    prefix = str(tmp_path / "crafted.ckpt")
    _write_table(prefix + ".index", {b"": _header(endianness), **entries}, kind)
    with open(prefix + ".data-00000-of-00001", "wb") as f:
        f.write(data)
    return prefix


# -- reading the fixtures ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dtypes", "sharded", "v1", "v1_sharded"])
def test_values_equal_what_tensorflow_saved(name):
    # TF's Saver.save returns this pattern as the path of a sharded V1 checkpoint
    pattern = "-?????-of-00002" if name == "v1_sharded" else ""
    reader = tf.train.NewCheckpointReader(os.path.join(FIXTURES, name + ".ckpt" + pattern))
    assert isinstance(reader, tf.train.TFCheckpointReader)
    assert isinstance(reader, TFV1CheckpointReader) == name.startswith("v1")
    expected = _expected(name)
    assert sorted(reader.get_variable_to_shape_map()) == sorted(expected)
    for key, want in expected.items():
        got = reader.get_tensor(key)
        if key == "words":  # strings come back as an object array of bytes
            assert got.dtype == object and got.tolist() == want.tolist()
            continue
        assert got.dtype == want.dtype and got.shape == want.shape, key
        np.testing.assert_array_equal(got, want, err_msg=key)


def test_partitioned_variable_is_assembled_and_listed_whole():
    shapes = dict(tf.train.list_variables(DTYPES))
    assert shapes["part"] == [5, 3]
    assert not any(k.startswith("\x00") for k in shapes)  # slices are not listed
    np.testing.assert_array_equal(tf.train.load_variable(DTYPES, "part"),
                                  _expected("dtypes")["part"])


def test_slice_keys_match_tensorflow():
    # Keys TF 2.21 wrote for a [100000, 2] variable in three slices (starts 0, 33334, 66667).
    assert tfc.slice_key("bigpart", [(0, 33334), (0, 2)]) == \
        b"\x00bigpart\x00\x01\x01\x02\x80\xe0\x826\x80\x82"
    assert tfc.slice_key("bigpart", [(33334, 33333), (0, 2)]) == \
        b"\x00bigpart\x00\x01\x01\x02\xe0\x826\xe0\x825\x80\x82"
    assert tfc.slice_key("bigpart", [(66667, 33333), (0, 2)]) == \
        b"\x00bigpart\x00\x01\x01\x02\xe1\x04k\xe0\x825\x80\x82"


def test_list_variables_dtypes_and_load_variable():
    listed = tf.train.list_variables(SCOPED)
    assert listed == [("cifar/conv1/biases", [64]), ("cifar/conv1/weights", [5, 5, 3, 64]),
                      ("cifar/softmax_linear/biases", [10]),
                      ("cifar/softmax_linear/weights", [192, 10])]
    reader = tf.train.NewCheckpointReader(DTYPES)
    dtypes = reader.get_variable_to_dtype_map()
    assert dtypes["i64"] == tf.int64 and dtypes["flags"] == tf.bool
    assert dtypes["f16"] == tf.float16 and dtypes["words"] == tf.string
    assert reader.has_tensor("scope/inner/w") and not reader.has_tensor("scope")
    assert b"i64 (int64) [3]" in reader.debug_string()
    np.testing.assert_array_equal(tf.train.load_variable(DTYPES, "i64:0"),
                                  _expected("dtypes")["i64"])


def test_directory_reads_its_latest_checkpoint(tmp_path):
    prefix = _copy(tmp_path, "sharded")
    tf.train.update_checkpoint_state(str(tmp_path), prefix)
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "v3"),
                                  _expected("sharded")["v3"])


def test_missing_tensor_lists_close_matches():
    reader = tf.train.NewCheckpointReader(DTYPES)
    with pytest.raises(tf.errors.NotFoundError, match=r"Key scope/iner/w not found.*"
                       r"close matches: scope/inner/w"):
        reader.get_tensor("scope/iner/w")


# -- Saver.restore -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dtypes", "v1"])
def test_saver_restores_tensorflow_values(name):
    expected = _expected(name)
    names = ["scalar", "f16", "f64", "i8", "i64", "u16", "c64", "flags", "part",
             "scope/inner/w"]
    variables = {n: tf.Variable(np.zeros_like(expected[n]), name=n.replace("/", "_"))
                 for n in names}
    saver = tf.train.Saver(variables)
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(FIXTURES, name + ".ckpt"))
        for n in names:
            got = sess.run(variables[n])
            assert got.dtype == expected[n].dtype
            np.testing.assert_array_equal(got, expected[n], err_msg=n)


def test_saver_restore_errors_name_the_mismatch():
    with tf.Graph().as_default():
        w = tf.Variable(np.zeros((3, 3), np.float32), name="w")
        with tf.Session() as sess, pytest.raises(
                tf.errors.InvalidArgumentError, match=r"shape \[2, 3, 4\] in the checkpoint "
                r"does not match the variable's shape \[3, 3\]"):
            tf.train.Saver({"f32": w}).restore(sess, DTYPES)
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                                 match="dtype int64 in the checkpoint"):
            tf.train.Saver({"i64": w}).restore(sess, DTYPES)
        with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError,
                                                 match="close matches: f32"):
            tf.train.Saver({"f33": w}).restore(sess, DTYPES)


# -- corruption ----------------------------------------------------------------------------
def test_corrupted_data_is_data_loss_naming_file_and_tensor(tmp_path):
    prefix = _copy(tmp_path, "dtypes")
    reader = tf.train.NewCheckpointReader(prefix)
    offset = reader._entries["f32"].offset
    _flip(prefix + ".data-00000-of-00001", offset + 5)
    with pytest.raises(tf.errors.DataLossError, match=r"tensor 'f32' in checkpoint data file "
                       r".*dtypes\.ckpt\.data-00000-of-00001: corrupted \(checksum"):
        reader.get_tensor("f32")
    np.testing.assert_array_equal(reader.get_tensor("i64"), _expected("dtypes")["i64"])


def test_corrupted_string_lengths_are_data_loss(tmp_path):
    prefix = _copy(tmp_path, "dtypes")
    offset = tf.train.NewCheckpointReader(prefix)._entries["words"].offset
    _flip(prefix + ".data-00000-of-00001", offset)  # the first varint length
    with pytest.raises(tf.errors.DataLossError, match="tensor 'words'"):
        tf.train.load_variable(prefix, "words")


def test_corrupted_or_truncated_index_is_data_loss(tmp_path):
    prefix = _copy(tmp_path, "dtypes")
    _flip(prefix + ".index", 40)  # inside the data block
    with pytest.raises(tf.errors.DataLossError, match=r"checkpoint index .*dtypes\.ckpt\."
                       r"index: block at offset 0 is corrupted"):
        tf.train.NewCheckpointReader(prefix)
    with open(prefix + ".index", "r+b") as f:
        f.truncate(os.path.getsize(prefix + ".index") - 60)
    with pytest.raises(tf.errors.DataLossError):  # no magic at the end any more
        tf.train.NewCheckpointReader(prefix)


def test_missing_shard_and_truncated_data_are_data_loss(tmp_path):
    prefix = _copy(tmp_path, "sharded")
    os.remove(prefix + ".data-00001-of-00002")
    reader = tf.train.NewCheckpointReader(prefix)
    with pytest.raises(tf.errors.DataLossError, match=r"data-00001-of-00002 is missing"):
        reader.read_tensors(["v0", "v1", "v2", "v3"])
    prefix = _copy(tmp_path, "cifar_scoped")
    with open(prefix + ".data-00000-of-00001", "r+b") as f:
        f.truncate(100)
    with pytest.raises(tf.errors.DataLossError, match="cifar/softmax_linear/weights"):
        tf.train.load_variable(prefix, "cifar/softmax_linear/weights")


# -- crafted indexes -----------------------------------------------------------------------
def test_crafted_checkpoint_reads_and_big_endian_is_swapped(tmp_path):
    value = np.array([1.5, -2.0, 3.25], np.float32)
    little = value.astype("<f4").tobytes()
    prefix = _crafted(tmp_path, {b"x": _entry(1, [3], 12, masked_crc32c(little))}, little)
    np.testing.assert_array_equal(tf.train.load_variable(prefix, "x"), value)
    big = value.astype(">f4").tobytes()
    prefix = _crafted(tmp_path, {b"x": _entry(1, [3], 12, masked_crc32c(big))}, big,
                      endianness=1)
    got = tf.train.load_variable(prefix, "x")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, value)


def test_huge_declared_size_is_refused_before_allocation(tmp_path):
    huge = 2 ** 40
    prefix = _crafted(tmp_path, {b"big": _entry(1, [2 ** 20, 2 ** 18], huge, 0),
                                 b"many": _entry(7, [huge], 64, 0)}, b"\x00" * 64)
    reader = tf.train.NewCheckpointReader(prefix)
    assert dict(tf.train.list_variables(prefix))["big"] == [2 ** 20, 2 ** 18]
    with pytest.raises(tf.errors.DataLossError, match=r"tensor 'big'.*declares 1099511627776 "
                       r"bytes, but the file holds only 64"):
        reader.get_tensor("big")
    with pytest.raises(tf.errors.DataLossError, match=r"tensor 'many'.*declares"):
        reader.get_tensor("many")  # 2**40 strings cannot fit in 64 bytes of lengths


def test_slices_that_do_not_fill_their_tensor_are_refused(tmp_path):
    half = np.ones(2, np.float32).tobytes()
    part = {tfc.slice_key("p", [(0, 2)]): _entry(1, [2], 8, masked_crc32c(half))}
    prefix = _crafted(tmp_path, {b"p": _entry(1, [4], 0, 0, slices=[[(0, 2)]]), **part}, half)
    with pytest.raises(tf.errors.DataLossError, match=r"tensor 'p'.*bytes"):
        tf.train.load_variable(prefix, "p")  # 16 bytes wanted, 8 stored: not even allocated
    prefix = _crafted(tmp_path, {b"p": _entry(1, [4], 0, 0, slices=[[(0, 2)], [(0, 2)]]),
                                 **part}, half)
    with pytest.raises(tf.errors.DataLossError, match=r"tensor 'p'.*slices overlap"):
        tf.train.load_variable(prefix, "p")
    prefix = _crafted(tmp_path, {b"p": _entry(1, [4], 0, 0, slices=[[(0, 2)], [(2, 2)]]),
                                 **part}, half)
    with pytest.raises(tf.errors.DataLossError, match=r"slice \[\(2, 2\)\] is listed but "
                       "not stored"):
        tf.train.load_variable(prefix, "p")
    # one long string can hold more bytes than the tensor's elements: coverage is checked
    packed = struct.pack("<I", 8)
    data = wire.encode_varint(8) + struct.pack("<I", masked_crc32c(packed)) + b"abcdefgh"
    crc = masked_crc32c(packed + data[1:])
    prefix = _crafted(tmp_path, {b"s": _entry(7, [4], 0, 0, slices=[[(0, 1)]]),
                                 tfc.slice_key("s", [(0, 1)]): _entry(7, [1], 13, crc)}, data)
    with pytest.raises(tf.errors.DataLossError, match=r"tensor 's'.*do not cover the shape"):
        tf.train.load_variable(prefix, "s")


def test_snappy_blocks_and_unsupported_dtypes_are_refused(tmp_path):
    entry = {b"x": _entry(1, [1], 4, masked_crc32c(b"\x00" * 4))}
    prefix = _crafted(tmp_path, entry, b"\x00" * 4, kind=1)
    with pytest.raises(tf.errors.UnimplementedError, match="Snappy-compressed"):
        tf.train.NewCheckpointReader(prefix)
    prefix = _crafted(tmp_path, {b"b": _entry(14, [2], 4, masked_crc32c(b"\x00" * 4))},
                      b"\x00" * 4)
    with pytest.raises(tf.errors.UnimplementedError, match="bfloat16"):
        tf.train.load_variable(prefix, "b")


def test_v1_values_that_do_not_fit_their_shape_are_data_loss(tmp_path):
    meta = tfc1._SavedTensorSliceMeta(tensor=[tfc1._SavedSliceMeta(
        name="w", shape=tfc._TensorShape(dim=[tfc._Dim(size=3)]), type=1,
        slice=[tfc._TensorSlice(extent=[tfc._Extent()])])])
    key = tfc.slice_key("w", [(0, -1)])

    def write(values: np.ndarray) -> str:
        proto = wire.field_key(5, wire.LEN) + wire.encode_varint(values.nbytes) + \
            values.tobytes()
        saved = tfc1._SavedSlice(name="w", slice=tfc._TensorSlice(extent=[tfc._Extent()]),
                                 data=proto)
        path = str(tmp_path / "v1.ckpt")
        _write_table(path, {b"": tfc1._SavedTensorSlices(meta=meta).SerializeToString(),
                            key: tfc1._SavedTensorSlices(data=saved).SerializeToString()})
        return path

    np.testing.assert_array_equal(tf.train.load_variable(write(np.ones(3, "<f4")), "w"),
                                  np.ones(3, np.float32))
    with pytest.raises(tf.errors.DataLossError, match=r"tensor 'w' in checkpoint file "
                       r".*v1\.ckpt: 2 values for shape \[3\]"):
        tf.train.load_variable(write(np.ones(2, "<f4")), "w")


# -- init_from_checkpoint ------------------------------------------------------------------
def _cifar_like_variables(scope: str = "") -> dict:
    out = {}
    with tf.variable_scope(scope or tf.get_variable_scope()):
        for layer, shape in (("conv1", [5, 5, 3, 64]), ("softmax_linear", [192, 10])):
            with tf.variable_scope(layer):
                out[f"{layer}/weights"] = tf.get_variable("weights", shape)
                out[f"{layer}/biases"] = tf.get_variable(
                    "biases", shape[-1:], initializer=tf.zeros_initializer())
    return out


def test_init_from_checkpoint_scope_name_and_variable_maps():
    variables = _cifar_like_variables()
    other = tf.get_variable("other", [10])
    tf.train.init_from_checkpoint(SCOPED, {"cifar/conv1/": "conv1/",
                                           "cifar/softmax_linear/weights":
                                               "softmax_linear/weights",
                                           "cifar/softmax_linear/biases": other})
    reader = tf.train.NewCheckpointReader(SCOPED)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for name in ("conv1/weights", "conv1/biases", "softmax_linear/weights"):
            np.testing.assert_array_equal(sess.run(variables[name]),
                                          reader.get_tensor("cifar/" + name))
        np.testing.assert_array_equal(sess.run(other),
                                      reader.get_tensor("cifar/softmax_linear/biases"))
        # softmax_linear/biases was not mapped: it keeps its own initializer (zeros)
        np.testing.assert_array_equal(sess.run(variables["softmax_linear/biases"]),
                                      np.zeros(10, np.float32))


def test_init_from_checkpoint_root_scope_map():
    variables = _cifar_like_variables("net")
    tf.train.init_from_checkpoint(SCOPED, {"cifar/": "net/"})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(variables["conv1/biases"]),
                                      tf.train.load_variable(SCOPED, "cifar/conv1/biases"))


def test_init_from_checkpoint_errors():
    _cifar_like_variables()
    with pytest.raises(ValueError, match=r"Tensor cifar/conv1/weight is not found.*close "
                       r"matches: cifar/conv1/weights"):
        tf.train.init_from_checkpoint(SCOPED, {"cifar/conv1/weight": "conv1/weights"})
    with pytest.raises(ValueError, match=r"Shape of variable conv1/weights:0 \(\(5, 5, 3, "
                       r"64\)\) doesn't match .* cifar/softmax_linear/weights \(\[192, 10\]\)"):
        tf.train.init_from_checkpoint(SCOPED, {"cifar/softmax_linear/weights":
                                               "conv1/weights"})
    with pytest.raises(ValueError, match="should map to scope only"):
        tf.train.init_from_checkpoint(SCOPED, {"cifar/conv1/weights": "nothing/here"})
    tf.get_variable("local3/weights", [4, 4])
    with pytest.raises(ValueError, match=r"Tensor cifar/local3/weights \(local3/weights in "
                       r"cifar/\) is not found"):
        tf.train.init_from_checkpoint(SCOPED, {"cifar/": "/"})


def test_init_from_checkpoint_reads_actorflow_checkpoints_and_directories(tmp_path):
    with tf.Graph().as_default():
        with tf.variable_scope("old"):
            w = tf.get_variable("w", [2, 3])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saved = sess.run(w)
            tf.train.Saver().save(sess, str(tmp_path / "model.ckpt"), global_step=7)
    with tf.variable_scope("new"):
        w = tf.get_variable("w", [2, 3], initializer=tf.zeros_initializer())
    tf.train.init_from_checkpoint(str(tmp_path), {"old/": "new/"})  # its latest checkpoint
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(w), saved)
