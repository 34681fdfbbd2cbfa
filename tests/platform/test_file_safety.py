"""Crafted checkpoint and GraphDef files: readers raise DataLossError, never crash or allocate.

An index entry of dtype "|O" used to make the checkpoint reader read the data file's bytes
as PyObject pointers (a segmentation fault), so those cases run in a subprocess: a crash is
then a failed test instead of a dead pytest. "Must not allocate" is checked with tracemalloc,
which sees NumPy's array allocations.
"""
from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zlib

import msgpack
import numpy as np
import pytest

import actorflow as tf
from actorflow import file_safety
from actorflow.errors import DataLossError
from actorflow.train import saver as saver_mod

GIB = 1 << 30


# -- helpers ---------------------------------------------------------------------------------
def _write_index(prefix: str, header: dict) -> None:
    body = msgpack.packb(header, use_bin_type=True)
    with open(prefix + ".index", "wb") as f:
        f.write(saver_mod.MAGIC + saver_mod._HEAD.pack(zlib.crc32(body), len(body)) + body)


def _read_header(prefix: str) -> dict:
    with open(prefix + ".index", "rb") as f:
        raw = f.read()
    return msgpack.unpackb(raw[len(saver_mod.MAGIC) + saver_mod._HEAD.size:], raw=False)


def _crafted_checkpoint(tmp_path, **entry) -> str:
    """A checkpoint of one int64 variable "v" (4 values), its index entry then changed."""
    prefix = str(tmp_path / "model.ckpt")
    saver_mod.write_checkpoint(prefix, [("v", np.arange(4, dtype=np.int64))])
    header = _read_header(prefix)
    data_size = entry.pop("data_size", None)
    if data_size is not None:
        header["data_size"] = data_size
    header["tensors"][0].update(entry)
    _write_index(prefix, header)
    return prefix


def _in_subprocess(code: str) -> str:
    """Runs `code` in a fresh interpreter; its stdout. A crash fails the test cleanly."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"reader crashed (rc {proc.returncode}): {proc.stderr[-2000:]}"
    return proc.stdout.strip()


def _peak_bytes(fn) -> int:
    """The peak traced allocation while `fn()` runs (it must raise DataLossError)."""
    tracemalloc.start()
    try:
        with pytest.raises(DataLossError):
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _restore_into_int64_var(prefix: str, validate_shape: bool = True) -> None:
    """Saver.restore of checkpoint `prefix` into an int64 variable "v" of 4 values (of
    unknown static shape unless `validate_shape`, so that any saved shape is accepted)."""
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros(4, np.int64), name="v", validate_shape=validate_shape)
        saver = tf.train.Saver([v])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.restore(sess, prefix)


# -- the shared checks -------------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["|O", "O", "<O", "i4,O", "(2,)f4", "V8", "M8[s]", "<f16",
                                 "T", "|S4", "<U3", 7, ["<f4"], "bogus"])
def test_stored_dtype_refuses_what_actorflow_does_not_write(tag):
    with pytest.raises(DataLossError, match="entry x"):
        file_safety.stored_dtype(tag, "entry x")


@pytest.mark.parametrize("tag", ["<f4", ">f8", "|b1", "|u1", "<i8", "<c16", "<f2"])
def test_stored_dtype_accepts_numeric(tag):
    assert file_safety.stored_dtype(tag, "x") == np.dtype(tag)


def test_stored_dtype_accepts_text_only_when_asked():
    assert file_safety.stored_dtype("<U3", "x", text=True) == np.dtype("<U3")
    with pytest.raises(DataLossError):
        file_safety.stored_dtype("|O", "x", text=True)


@pytest.mark.parametrize("shape", [[-1, 4], [2.0], [True], "12", [1] * 65, None])
def test_stored_shape_refuses_bad_shapes(shape):
    with pytest.raises(DataLossError, match="bad shape"):
        file_safety.stored_shape(shape, "x")


def test_check_array_bounds_the_size_by_what_the_file_holds():
    dt, dims, n = file_safety.check_array("<f4", [2, 3], "x", available=24, nbytes=24)
    assert (dt, dims, n) == (np.dtype("<f4"), (2, 3), 24)
    with pytest.raises(DataLossError, match="declares 24 bytes, but the file holds only 23"):
        file_safety.check_array("<f4", [2, 3], "x", available=23)
    with pytest.raises(DataLossError, match="needs 24"):
        file_safety.check_array("<f4", [2, 3], "x", available=100, nbytes=20)
    # Python ints: a shape whose int64 product would wrap to 0 is still huge.
    with pytest.raises(DataLossError, match="declares"):
        file_safety.check_array("|u1", [2 ** 32, 2 ** 32], "x", available=10)


# -- checkpoints -----------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    "tf.train.load_variable(p, 'v')",
    "tf.train.NewCheckpointReader(p).get_tensor('v')",
])
def test_object_dtype_entry_is_data_loss_not_a_crash(tmp_path, call):
    prefix = _crafted_checkpoint(tmp_path, dtype="|O")
    out = _in_subprocess(f"""
        import actorflow as tf
        p = {prefix!r}
        try:
            {call}
        except tf.errors.DataLossError as e:
            print("DataLossError:", e)
        else:
            print("no error")
    """)
    assert out.startswith("DataLossError:"), out
    assert "model.ckpt.index" in out and "'v'" in out and "|O" in out


def test_saver_restore_refuses_object_dtype_as_data_loss(tmp_path):
    prefix = _crafted_checkpoint(tmp_path, dtype="|O")
    with pytest.raises(DataLossError, match="'v'.*'\\|O'"):
        _restore_into_int64_var(prefix)


def test_negative_dims_are_data_loss(tmp_path):
    prefix = _crafted_checkpoint(tmp_path, shape=[-1, 4], nbytes=32)
    with pytest.raises(DataLossError, match="bad shape"):
        tf.train.load_variable(prefix, "v")
    with pytest.raises(DataLossError, match="bad shape"):
        tf.train.NewCheckpointReader(prefix)


def test_huge_declared_size_is_refused_before_allocating(tmp_path):
    # 1 GiB of int64, consistently declared by entry and header; the data file has 32 bytes.
    prefix = _crafted_checkpoint(tmp_path, shape=[GIB // 8], nbytes=GIB, data_size=GIB)
    assert _peak_bytes(lambda: tf.train.load_variable(prefix, "v")) < 16 << 20
    assert _peak_bytes(lambda: tf.train.NewCheckpointReader(prefix).get_tensor("v")) \
        < 16 << 20
    assert _peak_bytes(lambda: _restore_into_int64_var(prefix, validate_shape=False)) \
        < 16 << 20
    with pytest.raises(DataLossError, match=r"declares 1073741824 bytes, but the file holds "
                                            r"only 32"):
        tf.train.load_variable(prefix, "v")


def test_shape_beyond_the_recorded_data_size_is_data_loss(tmp_path):
    prefix = _crafted_checkpoint(tmp_path, shape=[8], nbytes=64)
    with pytest.raises(DataLossError, match="variable 'v'.*declares 64 bytes"):
        tf.train.NewCheckpointReader(prefix)


def test_byte_count_disagreeing_with_shape_is_data_loss(tmp_path):
    prefix = _crafted_checkpoint(tmp_path, shape=[2], nbytes=32)
    with pytest.raises(DataLossError, match="32 bytes recorded for shape \\[2\\]"):
        tf.train.load_variable(prefix, "v")


def test_data_file_name_cannot_leave_the_checkpoint_directory(tmp_path):
    (tmp_path / "a").mkdir()
    other = str(tmp_path / "other")
    saver_mod.write_checkpoint(other, [("v", np.arange(4, dtype=np.int64))])
    prefix = str(tmp_path / "a" / "model.ckpt")
    header = _read_header(other)
    header["data_file"] = "../" + os.path.basename(other + saver_mod._DATA_SUFFIX)
    _write_index(prefix, header)
    with pytest.raises(DataLossError, match="bad data file name"):
        tf.train.load_variable(prefix, "v")


def test_string_entry_that_is_not_a_list_of_bytes_is_data_loss(tmp_path):
    prefix = str(tmp_path / "s.ckpt")
    saver_mod.write_checkpoint(prefix, [("s", np.array([b"ab", b"c"], dtype=object))])
    data = msgpack.packb({"a": 1})
    with open(prefix + saver_mod._DATA_SUFFIX, "wb") as f:
        f.write(data)
    header = _read_header(prefix)
    header["data_size"] = len(data)
    header["tensors"][0].update(nbytes=len(data), crc32=zlib.crc32(data))
    _write_index(prefix, header)
    assert list(tf.train.NewCheckpointReader(prefix).get_variable_to_shape_map()) == ["s"]
    with pytest.raises(DataLossError, match="not 2 byte strings"):
        tf.train.load_variable(prefix, "s")


def test_valid_checkpoints_still_read(tmp_path):
    prefix = str(tmp_path / "ok.ckpt")
    values = [("f", np.arange(6, dtype=np.float32).reshape(2, 3)),
              ("b", np.array([True, False])), ("e", np.zeros((0, 3), np.uint8)),
              ("s", np.array([b"x", b"yz"], dtype=object))]
    saver_mod.write_checkpoint(prefix, values)
    reader = tf.train.NewCheckpointReader(prefix)
    for name, arr in values:
        got = reader.get_tensor(name)
        assert got.dtype == arr.dtype and got.shape == arr.shape
        assert got.tolist() == arr.tolist()


# -- GraphDefs -------------------------------------------------------------------------------
def _const_graph_def_bytes(value: dict) -> bytes:
    with tf.Graph().as_default() as g:
        tf.constant([1.0, 2.0], name="c")
        gd = g.as_graph_def()
    gd.node[0].attr["value"] = value
    return gd.SerializeToString()


BAD_ARRAYS = {
    "object dtype": ({"__ndarray__": "|O", "shape": [1], "data": b"\x00" * 8},
                     "not a numeric dtype"),
    "structured with objects": ({"__ndarray__": "i4,O", "shape": [1], "data": b"\x00" * 12},
                                "not a numeric dtype"),
    "huge shape": ({"__ndarray__": "<f4", "shape": [GIB], "data": b"\x00" * 8}, "declares"),
    "int64-wrapping shape": ({"__ndarray__": "|u1", "shape": [2 ** 32, 2 ** 32], "data": b""},
                             "declares"),
    "shape beyond the data": ({"__ndarray__": "<f4", "shape": [3], "data": b"\x00" * 8},
                              "declares 12 bytes"),
    "negative dims": ({"__ndarray__": "<f4", "shape": [-2], "data": b""}, "bad shape"),
    "too many bytes": ({"__ndarray__": "<f4", "shape": [1], "data": b"\x00" * 8},
                       "does not hold shape"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARRAYS))
def test_graph_def_file_with_a_bad_array_is_data_loss(tmp_path, case):
    value, message = BAD_ARRAYS[case]
    path = tmp_path / "graph.msgpack"
    path.write_bytes(_const_graph_def_bytes(value))
    with pytest.raises(DataLossError, match=f"graph.msgpack.*node 'c' attr 'value'.*{message}"):
        tf.train.import_meta_graph(str(path))
    with tf.Graph().as_default(), pytest.raises(DataLossError, match=message):
        tf.import_graph_def(path.read_bytes())


def test_graph_def_text_form_refuses_object_arrays(tmp_path):
    with tf.Graph().as_default() as g:
        tf.constant([1.0, 2.0], name="c")
        text = g.as_graph_def().to_text()
    assert '"__ndarray__": "<f4"' in text
    path = tmp_path / "graph.txt"
    path.write_text(text.replace('"__ndarray__": "<f4"', '"__ndarray__": "|O"'))
    with pytest.raises(DataLossError, match="graph.txt.*not a numeric dtype"):
        tf.train.import_meta_graph(str(path))
    path.write_text(text.replace('"shape": [2]', '"shape": [3]'))
    with pytest.raises(DataLossError, match="graph.txt.*flat list of 3 numbers"):
        tf.train.import_meta_graph(str(path))


def test_graph_def_with_a_huge_declared_array_is_refused_before_allocating(tmp_path):
    path = tmp_path / "graph.msgpack"
    path.write_bytes(_const_graph_def_bytes(
        {"__ndarray__": "<f4", "shape": [GIB // 4], "data": b"\x00" * 8}))
    assert _peak_bytes(lambda: tf.train.import_meta_graph(str(path))) < 16 << 20


# -- .npz archives ----------------------------------------------------------------------------
def test_load_npz_reads_what_np_savez_writes(tmp_path):
    path = str(tmp_path / "a.npz")
    arrays = {"meta": np.array('{"a": 1}'), "x": np.arange(6.0).reshape(2, 3),
              "f": np.asfortranarray(np.arange(6).reshape(2, 3)), "e": np.zeros((0, 2))}
    np.savez(path, **arrays)
    got = file_safety.load_npz(path, text=("meta",))
    assert sorted(got) == sorted(arrays)
    for k, v in arrays.items():
        assert got[k].dtype == v.dtype and got[k].tolist() == v.tolist()
        assert got[k].flags.writeable
    with pytest.raises(DataLossError, match="'meta.npy'.*not a numeric dtype"):
        file_safety.load_npz(path)


def test_load_npz_refuses_corrupted_bytes(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, x=np.arange(64, dtype=np.int64))
    raw = bytearray(path.read_bytes())
    at = raw.index(np.arange(64, dtype=np.int64).tobytes()[8:16])
    raw[at] ^= 0xFF  # one flipped data byte: the zip CRC catches it
    path.write_bytes(bytes(raw))
    with pytest.raises(DataLossError, match="a.npz"):
        file_safety.load_npz(str(path))


# -- event files (TFRecord framing) ------------------------------------------------------------
def test_record_with_a_huge_declared_length_is_refused_before_allocating(tmp_path):
    from actorflow.io import tf_record
    length = struct.pack("<Q", GIB)  # its CRC is easy to forge: only the file size bounds it
    path = tmp_path / "events.out"
    path.write_bytes(tf_record.encode_record(b"ok") + length +
                     struct.pack("<I", tf_record.masked_crc32c(length)) + b"\x00" * 8)
    records = tf_record.tf_record_iterator(str(path))
    assert next(records) == b"ok"
    assert _peak_bytes(lambda: next(records)) < 16 << 20
    with pytest.raises(DataLossError, match="events.out: truncated record at offset 18"):
        list(tf_record.tf_record_iterator(str(path)))
