"""Saving and restoring: Saver save/restore/latest_checkpoint and resuming training,
write_graph / import_graph_def round trip, and meta graph export/import."""
import os

import numpy as np

import actorflow as tf


def _model():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    with tf.variable_scope("model"):
        w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    pred = tf.add(tf.matmul(x, w), b, name="pred")
    loss = tf.reduce_mean(tf.square(pred - y), name="loss")
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    return x, y, pred, loss, train, step


def _data():
    rng = np.random.RandomState(0)
    xs = rng.randn(64, 2).astype(np.float32)
    return xs, (xs @ np.array([[1.5], [-0.5]], np.float32) + 2.0)


def test_saver_resume_training_equals_uninterrupted_training(tmp_path):
    xs, ys = _data()
    ckpt_dir = str(tmp_path / "ckpt")
    os.makedirs(ckpt_dir)

    # Uninterrupted run: 40 steps.
    x, y, pred, loss, train, step = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(40):
            sess.run(train, {x: xs, y: ys})
        straight = sess.run(loss, {x: xs, y: ys})

    # Interrupted run: 20 steps, save, new graph, restore, 20 more.
    tf.reset_default_graph()
    x, y, pred, loss, train, step = _model()
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(20):
            sess.run(train, {x: xs, y: ys})
            if i % 5 == 4:
                path = saver.save(sess, os.path.join(ckpt_dir, "model.ckpt"), global_step=step)
    assert path.endswith("model.ckpt-20")
    assert tf.train.latest_checkpoint(ckpt_dir) == path
    assert tf.train.checkpoint_exists(path)
    state = tf.train.get_checkpoint_state(ckpt_dir)
    assert state.model_checkpoint_path == path
    assert len(state.all_model_checkpoint_paths) == 2  # max_to_keep

    tf.reset_default_graph()
    x, y, pred, loss, train, step = _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, tf.train.latest_checkpoint(ckpt_dir))
        assert sess.run(step) == 20
        for _ in range(20):
            sess.run(train, {x: xs, y: ys})
        resumed = sess.run(loss, {x: xs, y: ys})
    np.testing.assert_allclose(resumed, straight, rtol=1e-5)


def test_saver_with_var_list_dict_and_checkpoint_reader(tmp_path):
    a = tf.Variable([1.0, 2.0], name="a")
    b = tf.Variable(7, name="b")
    saver = tf.train.Saver({"renamed_a": a})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"))
    reader = tf.train.NewCheckpointReader(path)
    assert reader.has_tensor("renamed_a")
    assert not reader.has_tensor("b")
    np.testing.assert_allclose(reader.get_tensor("renamed_a"), [1.0, 2.0])
    names = dict(tf.train.list_variables(path))
    assert names == {"renamed_a": [2]}

    tf.reset_default_graph()
    other = tf.Variable([0.0, 0.0], name="other")
    restore = tf.train.Saver({"renamed_a": other})
    with tf.Session() as sess:
        restore.restore(sess, path)
        np.testing.assert_allclose(sess.run(other), [1.0, 2.0])
    del b


def test_write_graph_and_import_graph_def_round_trip(tmp_path):
    x = tf.placeholder(tf.float32, [None, 3], name="input")
    w = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2), name="weights")
    h = tf.nn.relu(tf.matmul(x, w) - 4.0, name="hidden")
    tf.reduce_sum(h, axis=1, name="output")
    graph_def = tf.get_default_graph().as_graph_def()
    tf.train.write_graph(graph_def, str(tmp_path), "graph.pb", as_text=False)
    assert (tmp_path / "graph.pb").exists()

    feed = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], np.float32)
    expected = np.maximum(feed @ np.arange(6).reshape(3, 2) - 4.0, 0).sum(1)
    with tf.Graph().as_default() as g:
        loaded = tf.GraphDef()
        with open(str(tmp_path / "graph.pb"), "rb") as f:
            loaded.ParseFromString(f.read())
        assert len(loaded.node) == len(graph_def.node)
        tf.import_graph_def(loaded, name="imported")
        inp = g.get_tensor_by_name("imported/input:0")
        out = g.get_tensor_by_name("imported/output:0")
        with tf.Session(graph=g) as sess:
            np.testing.assert_allclose(sess.run(out, {inp: feed}), expected)


def test_import_graph_def_without_prefix_uniquifies_clashing_names():
    """TF 1.x import_graph_def(name="") renames nodes that clash with existing ones."""
    feed = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], np.float32)
    expected = np.maximum(feed @ np.arange(6).reshape(3, 2) - 4.0, 0).sum(1)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="input")
        w = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
        h = tf.nn.relu(tf.matmul(x, w) - 4.0, name="hidden")
        tf.reduce_sum(h, axis=1, name="output")
        graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default():
        out2, = tf.import_graph_def(graph_def, input_map={"input:0": tf.constant(feed)},
                                    return_elements=["output:0"], name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(out2), expected)


def test_export_and_import_meta_graph_then_continue_training(tmp_path):
    xs, ys = _data()
    x, y, pred, loss, train, step = _model()
    tf.add_to_collection("train_op", train)
    saver = tf.train.Saver()
    prefix = str(tmp_path / "meta_model")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(10):
            sess.run(train, {x: xs, y: ys})
        before = sess.run(loss, {x: xs, y: ys})
        saver.save(sess, prefix)
    assert os.path.exists(prefix + ".meta")

    tf.reset_default_graph()
    with tf.Session() as sess:
        new_saver = tf.train.import_meta_graph(prefix + ".meta")
        new_saver.restore(sess, prefix)
        g = tf.get_default_graph()
        x2 = g.get_tensor_by_name("x:0")
        y2 = g.get_tensor_by_name("y:0")
        loss2 = g.get_tensor_by_name("loss:0")
        train2 = tf.get_collection("train_op")[0]
        assert abs(sess.run(loss2, {x2: xs, y2: ys}) - before) < 1e-6
        for _ in range(10):
            sess.run(train2, {x2: xs, y2: ys})
        assert sess.run(loss2, {x2: xs, y2: ys}) < before
