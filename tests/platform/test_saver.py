"""Saver: round trips, checkpoint state and retention, atomic writes, and the errors for
missing, mismatched, truncated and corrupted checkpoints."""
import os

import msgpack
import numpy as np
import pytest

import actorflow as tf
from actorflow.train import saver as saver_mod


def _model():
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="w")
    b = tf.Variable(np.array([1.5, -2.5]), name="layer/b")
    n = tf.Variable(np.int64(7), name="n")
    return w, b, n


def _files(d):
    return sorted(os.listdir(d))


def test_round_trip_and_returned_prefix(tmp_path):
    w, b, n = _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=1000)
        assert path == str(tmp_path / "model.ckpt-1000")
        sess.run([w.assign(tf.zeros([2, 3])), b.assign([0.0, 0.0]), n.assign(0)])
        saver.restore(sess, path)
        got_w, got_b, got_n = sess.run([w, b, n])
    np.testing.assert_array_equal(got_w, np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(got_b, [1.5, -2.5])
    assert got_n == 7 and got_w.dtype == np.float32 and got_n.dtype == np.int64
    assert _files(tmp_path) == ["checkpoint", "model.ckpt-1000.data-00000-of-00001",
                                "model.ckpt-1000.index", "model.ckpt-1000.meta"]
    assert tf.train.checkpoint_exists(path)
    assert not tf.train.checkpoint_exists(str(tmp_path / "model.ckpt-999"))


def test_restore_into_a_fresh_graph_without_initialising(tmp_path):
    w, b, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver([w, b]).save(sess, str(tmp_path / "m"), write_meta_graph=False)
    assert path == str(tmp_path / "m")
    with tf.Graph().as_default():
        w2 = tf.Variable(tf.zeros([2, 3]), name="w")
        b2 = tf.Variable(tf.zeros([2], tf.float64), name="layer/b")
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            np.testing.assert_array_equal(sess.run(w2), np.arange(6).reshape(2, 3))
            np.testing.assert_array_equal(sess.run(b2), [1.5, -2.5])


def test_var_list_dict_renames(tmp_path):
    w, _, _ = _model()
    with tf.Session() as sess:
        sess.run(w.initializer)
        path = tf.train.Saver({"weights": w}).save(sess, str(tmp_path / "m"))
    assert dict(tf.train.list_variables(path)) == {"weights": [2, 3]}
    np.testing.assert_array_equal(tf.train.load_variable(path, "weights"),
                                  np.arange(6).reshape(2, 3))
    with tf.Graph().as_default():
        other = tf.Variable(tf.ones([2, 3]), name="other")
        with tf.Session() as sess:
            tf.train.Saver({"weights": other}).restore(sess, path)
            np.testing.assert_array_equal(sess.run(other), np.arange(6).reshape(2, 3))


def test_global_step_tensor_and_checkpoint_state(tmp_path):
    w, _, _ = _model()
    step = tf.train.get_or_create_global_step()
    inc = tf.assign_add(step, 1)
    saver = tf.train.Saver([w, step], max_to_keep=2)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        paths = []
        for _ in range(4):
            sess.run(inc)
            paths.append(saver.save(sess, prefix, global_step=step))
    assert paths == [f"{prefix}-{i}" for i in (1, 2, 3, 4)]
    assert saver.last_checkpoints == paths[2:]
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]
    st = tf.train.get_checkpoint_state(str(tmp_path))
    assert st.model_checkpoint_path == paths[-1]
    assert st.all_model_checkpoint_paths == paths[2:]
    for p in paths[:2]:
        assert not tf.train.checkpoint_exists(p)
        assert not any(f.startswith(os.path.basename(p) + ".") for f in _files(tmp_path))
    text = (tmp_path / "checkpoint").read_text()
    assert text.splitlines()[0] == f'model_checkpoint_path: "{paths[-1]}"'
    assert f'all_model_checkpoint_paths: "{paths[2]}"' in text


def test_relative_paths_and_latest_filename(tmp_path):
    w, _, _ = _model()
    saver = tf.train.Saver([w], save_relative_paths=True, pad_step_number=True)
    with tf.Session() as sess:
        sess.run(w.initializer)
        path = saver.save(sess, str(tmp_path / "m"), global_step=3, latest_filename="latest")
        with pytest.raises(ValueError, match="path components"):
            saver.save(sess, str(tmp_path / "m"), latest_filename="a/b")
    assert path.endswith("m-00000003")
    assert 'model_checkpoint_path: "m-00000003"' in (tmp_path / "latest").read_text()
    assert tf.train.latest_checkpoint(str(tmp_path), "latest") == path
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None


def test_a_relative_save_dir_is_found_again(tmp_path, monkeypatch):
    # The book's ch. 8 DQN: saver.save(sess, path + '/model-' + str(i) + '.cptk') with
    # path = "./dqn", later tf.train.get_checkpoint_state(path) to load the model.
    monkeypatch.chdir(tmp_path)
    os.makedirs("dqn")
    w, _, _ = _model()
    saver = tf.train.Saver([w], max_to_keep=2)
    with tf.Session() as sess:
        sess.run(w.initializer)
        for i in (1000, 2000, 3000):
            saver.save(sess, "./dqn" + "/model-" + str(i) + ".cptk")
    state_file = (tmp_path / "dqn" / "checkpoint").read_text()
    assert 'model_checkpoint_path: "model-3000.cptk"' in state_file
    ckpt = tf.train.get_checkpoint_state("./dqn")
    assert ckpt.model_checkpoint_path == os.path.join("./dqn", "model-3000.cptk")
    assert ckpt.all_model_checkpoint_paths == [os.path.join("./dqn", f"model-{i}.cptk")
                                               for i in (2000, 3000)]
    assert tf.train.latest_checkpoint("dqn") == os.path.join("dqn", "model-3000.cptk")
    with tf.Session() as sess:
        saver.restore(sess, ckpt.model_checkpoint_path)
        np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(2, 3))


def test_keep_checkpoint_every_n_hours_preserves_old_files(tmp_path):
    w, _, _ = _model()
    saver = tf.train.Saver([w], max_to_keep=1, keep_checkpoint_every_n_hours=1e-12)
    with tf.Session() as sess:
        sess.run(w.initializer)
        paths = [saver.save(sess, str(tmp_path / "m"), global_step=i) for i in range(3)]
    assert all(tf.train.checkpoint_exists(p) for p in paths)
    assert tf.train.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths == \
        paths[-1:]


def test_max_to_keep_none_keeps_everything(tmp_path):
    w, _, _ = _model()
    saver = tf.train.Saver([w], max_to_keep=None)
    with tf.Session() as sess:
        sess.run(w.initializer)
        paths = [saver.save(sess, str(tmp_path / "m"), global_step=i) for i in range(7)]
    assert all(tf.train.checkpoint_exists(p) for p in paths)
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]


def test_resume_training_with_optimizer_slots(tmp_path):
    w = tf.Variable([1.0, -2.0], name="w")
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(w * w), global_step=step)
    saver = tf.train.Saver()
    names = {v.op.name for v in tf.global_variables()}
    assert {"w/Adam", "w/Adam_1", "beta1_power", "beta2_power", "global_step"} <= names
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        sess.run(train)
        path = saver.save(sess, str(tmp_path / "m"), global_step=step)
        sess.run(train)
        sess.run(train)
        want = sess.run(w)
        saver.restore(sess, path)
        assert tf.train.global_step(sess, step) == 2
        sess.run(train)
        sess.run(train)
        np.testing.assert_array_equal(sess.run(w), want)


def test_large_variable_round_trip(tmp_path):
    big = np.random.default_rng(0).standard_normal(2_000_000).astype(np.float32)
    v = tf.Variable(big, name="big")
    saver = tf.train.Saver([v])
    with tf.Session() as sess:
        sess.run(v.initializer)
        path = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
        sess.run(v.assign(tf.zeros([2_000_000])))
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(v), big)
    assert os.path.getsize(path + ".data-00000-of-00001") == big.nbytes


def test_reader_and_file_format(tmp_path):
    w, b, n = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    reader = tf.train.NewCheckpointReader(path)
    assert reader.get_variable_to_shape_map() == {"w": [2, 3], "layer/b": [2], "n": []}
    assert reader.get_variable_to_dtype_map()["n"] == tf.int64
    assert reader.has_tensor("w") and not reader.has_tensor("nope")
    np.testing.assert_array_equal(reader.get_tensor("layer/b"), [1.5, -2.5])
    with pytest.raises(tf.errors.NotFoundError, match="nope"):
        reader.get_tensor("nope")
    raw = (tmp_path / "m.index").read_bytes()
    assert raw.startswith(saver_mod.MAGIC)
    header = msgpack.unpackb(raw[len(saver_mod.MAGIC) + 12:])
    entry = {e["name"]: e for e in header["tensors"]}["w"]
    assert entry["dtype"] == "<f4" and entry["shape"] == [2, 3] and entry["nbytes"] == 24
    with pytest.raises(tf.errors.NotFoundError):
        tf.train.NewCheckpointReader(str(tmp_path / "absent"))


def test_import_meta_graph(tmp_path):
    w, b, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(path + ".meta")
        with tf.Session() as sess:
            saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run("layer/b:0"), [1.5, -2.5])


def test_write_graph_is_reexported():
    from actorflow.framework.graph_io import write_graph
    assert tf.train.write_graph is write_graph


# -- atomicity -----------------------------------------------------------------------------
def test_failed_save_leaves_previous_checkpoint_and_no_temp_files(tmp_path, monkeypatch):
    w, _, _ = _model()
    saver = tf.train.Saver([w])
    with tf.Session() as sess:
        sess.run(w.initializer)
        path = saver.save(sess, str(tmp_path / "m"))
        before = {f: (tmp_path / f).read_bytes() for f in _files(tmp_path)}
        sess.run(w.assign(tf.ones([2, 3])))

        def boom(arr):
            raise OSError("disk full")
        monkeypatch.setattr(saver_mod, "_payload", boom)
        with pytest.raises(OSError, match="disk full"):
            saver.save(sess, str(tmp_path / "m"))
        monkeypatch.undo()
        assert {f: (tmp_path / f).read_bytes() for f in _files(tmp_path)} == before
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(2, 3))


# -- errors ------------------------------------------------------------------------------
def _saved(tmp_path):
    w, b, n = _model()
    saver = tf.train.Saver()
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    path = saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
    return saver, sess, path, (w, b, n)


def test_truncated_data_file_is_data_loss(tmp_path):
    saver, sess, path, (w, b, n) = _saved(tmp_path)
    data = path + ".data-00000-of-00001"
    size = os.path.getsize(data)
    with open(data, "r+b") as f:
        f.truncate(size - 4)
    sess.run(w.assign(tf.zeros([2, 3])))
    with pytest.raises(tf.errors.DataLossError) as e:
        saver.restore(sess, path)
    assert data in str(e.value) and "truncated" in str(e.value)
    assert "'n'" in str(e.value)  # the last variable written
    np.testing.assert_array_equal(sess.run(w), np.zeros((2, 3)))  # nothing restored
    sess.close()


def test_corrupted_data_byte_is_data_loss_naming_the_variable(tmp_path):
    saver, sess, path, _ = _saved(tmp_path)
    data = path + ".data-00000-of-00001"
    with open(data, "r+b") as f:
        f.seek(3)
        byte = f.read(1)
        f.seek(3)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(tf.errors.DataLossError, match=r"'w'.*corrupted"):
        saver.restore(sess, path)
    sess.close()


def test_corrupted_or_truncated_index_is_data_loss(tmp_path):
    saver, sess, path, _ = _saved(tmp_path)
    index = path + ".index"
    raw = bytearray(open(index, "rb").read())
    raw[-2] ^= 0x55
    open(index, "wb").write(bytes(raw))
    with pytest.raises(tf.errors.DataLossError, match="corrupted") as e:
        saver.restore(sess, path)
    assert index in str(e.value)
    open(index, "wb").write(bytes(raw[:10]))
    with pytest.raises(tf.errors.DataLossError, match="truncated"):
        saver.restore(sess, path)
    open(index, "wb").write(b"not a checkpoint at all")
    with pytest.raises(tf.errors.DataLossError, match="magic"):
        saver.restore(sess, path)
    sess.close()


def test_missing_variable_is_not_found(tmp_path):
    _, sess, path, _ = _saved(tmp_path)
    sess.close()
    with tf.Graph().as_default():
        tf.Variable(tf.zeros([2, 3]), name="w")
        extra = tf.Variable(1.0, name="extra")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.NotFoundError, match="Key extra not found"):
                tf.train.Saver().restore(sess, path)
            sess.run(extra.initializer)
            assert sess.run(extra) == 1.0


def test_shape_and_dtype_mismatch_is_invalid_argument(tmp_path):
    _, sess, path, _ = _saved(tmp_path)
    sess.close()
    with tf.Graph().as_default():
        tf.Variable(tf.zeros([3, 2]), name="w")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"'w'.*\[2, 3\].*\[3, 2\]"):
                tf.train.Saver().restore(sess, path)
    with tf.Graph().as_default():
        tf.Variable(tf.zeros([2, 3], tf.float64), name="w")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"'w'.*float32.*float64"):
                tf.train.Saver().restore(sess, path)
    with tf.Graph().as_default():
        w = tf.Variable(tf.zeros([3, 2]), name="w")
        with tf.Session() as sess:
            tf.train.Saver([w], reshape=True).restore(sess, path)
            np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(3, 2))


def test_save_and_restore_argument_errors(tmp_path):
    w, _, _ = _model()
    saver = tf.train.Saver([w])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="w"):
            saver.save(sess, str(tmp_path / "m"))
        sess.run(w.initializer)
        with pytest.raises(ValueError, match="doesn't exist"):
            saver.save(sess, str(tmp_path / "no" / "m"))
        with pytest.raises(ValueError, match="not a valid checkpoint"):
            saver.restore(sess, str(tmp_path / "absent"))
        with pytest.raises(ValueError, match="None"):
            saver.restore(sess, None)
        with pytest.raises(TypeError, match="Session"):
            saver.save("not a session", str(tmp_path / "m"))
    with pytest.raises(ValueError, match="same name"):
        tf.train.Saver([w, w])
    with pytest.raises(TypeError, match="not a Variable"):
        tf.train.Saver([tf.constant(1.0)])
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to save"):
            tf.train.Saver()
        with tf.Session() as sess:
            assert tf.train.Saver(allow_empty=True).save(sess, str(tmp_path / "e")) is None
    assert not tf.train.checkpoint_exists(str(tmp_path / "e"))
