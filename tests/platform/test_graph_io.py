"""GraphDef export/import: node encoding, msgpack and text round trips, import through the
registry (input_map, return_elements, scopes, collections), and files."""
from __future__ import annotations

import msgpack
import numpy as np
import pytest

import actorflow as tf


def _small_graph():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.device("/cpu:0"):
        w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="w")
    b = tf.Variable(tf.zeros([2]), name="b")
    with tf.control_dependencies([b.initializer]):
        y = tf.add(tf.matmul(x, w), b, name="y")
    return x, w, b, y


def test_node_defs_record_inputs_controls_devices_and_attrs():
    x, w, b, y = _small_graph()
    gd = tf.get_default_graph().as_graph_def()
    nodes = {n.name: n for n in gd.node}
    assert [n.name for n in gd.node] == [op.name for op in tf.get_default_graph()
                                         .get_operations()]
    assert nodes["y"].op == "Add"
    assert nodes["y"]["input"] == ["MatMul:0", "b/read:0", "^b/Assign"]
    assert nodes["w"].device == "/device:CPU:0"
    assert nodes["x"].attr["dtype"] == {"__dtype__": "float32"}
    assert nodes["x"].attr["shape"] == {"__tuple__": [None, 3]}
    value = nodes["w/initial_value"].attr["value"]
    assert value["__ndarray__"] == "<f4" and value["shape"] == [3, 2]
    assert np.frombuffer(value["data"], "<f4").tolist() == [0, 1, 2, 3, 4, 5]
    msgpack.packb([dict(n) for n in gd.node], use_bin_type=True)  # plain msgpack data


def test_add_shapes_records_output_shapes():
    _small_graph()
    gd = tf.get_default_graph().as_graph_def(add_shapes=True)
    y = next(n for n in gd.node if n.name == "y")
    assert y.attr["_output_shapes"] == [{"__tuple__": [None, 2]}]


def test_bytes_round_trip_is_exact():
    _small_graph()
    gd = tf.get_default_graph().as_graph_def()
    data = gd.SerializeToString()
    assert isinstance(data, bytes)
    back = tf.GraphDef.FromString(data)
    assert back == gd and len(back.node) == len(gd.node)
    other = tf.GraphDef()
    other.ParseFromString(data)
    assert other == gd
    with pytest.raises(tf.errors.DataLossError):
        tf.GraphDef.FromString(b"\xc1 definitely not msgpack")
    with pytest.raises(tf.errors.DataLossError, match="node"):
        tf.GraphDef.FromString(msgpack.packb({"something": 1}))


def test_import_runs_the_same_values_and_reruns_shape_inference():
    x, w, b, y = _small_graph()
    gd = tf.get_default_graph().as_graph_def()
    feed = np.ones((4, 3), np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        want = sess.run(y, {x: feed})
    g = tf.Graph()
    with g.as_default():
        y2, x2 = tf.import_graph_def(gd, return_elements=["y:0", "x"])
        assert y2.name == "import/y:0" and x2.name == "import/x"
        assert y2.get_shape().as_list() == [None, 2]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(y2, {"import/x:0": feed}), want)


def test_input_map_replaces_inputs_and_shapes_follow():
    x, w, b, y = _small_graph()
    gd = tf.get_default_graph().as_graph_def()
    g = tf.Graph()
    with g.as_default():
        fixed = tf.constant(np.ones((5, 3), np.float32), name="fixed")
        (y2,) = tf.import_graph_def(gd, input_map={"x": fixed}, return_elements=["y:0"],
                                    name="model")
        assert y2.name == "model/y:0"
        assert y2.get_shape().as_list() == [5, 2]  # inferred again from the mapped input
        assert g.get_tensor_by_name("model/MatMul:0").op.inputs[0] is fixed
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(y2), np.full((5, 2), [6, 9]))
        with pytest.raises(ValueError, match="names no node"):
            tf.import_graph_def(gd, input_map={"nope:0": fixed})
        with pytest.raises(TypeError, match="must be a Tensor"):
            tf.import_graph_def(gd, input_map={"x:0": 1.0})


def test_import_scopes_are_unique_and_empty_name_keeps_names():
    tf.constant(1.0, name="c")
    gd = tf.get_default_graph().as_graph_def()
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd)
        tf.import_graph_def(gd)
        tf.import_graph_def(gd, name="")
        assert [op.name for op in g.get_operations()] == ["import/c", "import_1/c", "c"]
        tf.import_graph_def(gd, name="")  # a clash is renamed, as TF 1.x does
        assert [op.name for op in g.get_operations()][-1] == "c_1"
        with pytest.raises(ValueError, match="return_element 'zzz'"):
            tf.import_graph_def(gd, return_elements=["zzz"])
        assert len(g.get_operations()) == 4  # the failed import left nothing behind


def test_import_restores_variable_collections():
    _small_graph()
    tf.add_to_collection("outputs", tf.get_default_graph().get_tensor_by_name("y:0"))
    gd = tf.get_default_graph().as_graph_def()
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd)
        gv = tf.global_variables()
        assert [v.name for v in gv] == ["import/w:0", "import/b:0"]
        assert tf.trainable_variables() == gv  # the same Variable objects
        assert gv[0].initializer.name == "import/w/Assign"
        assert tf.get_collection("outputs")[0].name == "import/y:0"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(gv[0]), np.arange(6).reshape(3, 2))
    g2 = tf.Graph()
    with g2.as_default():
        tf.import_graph_def(gd, import_collections=False)
        assert tf.global_variables() == []


def test_control_inputs_and_devices_survive_import():
    _small_graph()
    gd = tf.get_default_graph().as_graph_def()
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
        y = g.get_operation_by_name("y")
        assert [c.name for c in y.control_inputs] == ["b/Assign"]
        assert g.get_operation_by_name("w").device == "/device:CPU:0"
        assert tf.get_default_graph().as_graph_def() == gd


def test_nodes_out_of_order_are_sorted_and_bad_references_fail():
    a = tf.constant(2.0, name="a")
    tf.multiply(a, a, name="sq")
    gd = tf.get_default_graph().as_graph_def()
    gd.node.reverse()
    g = tf.Graph()
    with g.as_default():
        (sq,) = tf.import_graph_def(gd, return_elements=["sq:0"])
        with tf.Session() as sess:
            assert sess.run(sq) == 4.0
    gd.node[0]["input"] = ["missing:0", "a:0"]
    with tf.Graph().as_default(), pytest.raises(ValueError, match="no node named 'missing'"):
        tf.import_graph_def(gd)


def test_import_never_unpickles_or_builds_object_arrays_from_bytes():
    tf.constant([1.0, 2.0], name="c")
    gd = tf.get_default_graph().as_graph_def()
    gd.node[0].attr["value"] = {"__ndarray__": "|O", "shape": [1], "data": b"\x80\x04."}
    with tf.Graph().as_default(), pytest.raises(tf.errors.DataLossError,
                                                match="not a numeric dtype"):
        tf.import_graph_def(gd)
    gd.node[0].attr["value"] = {"__ndarray__": "<f4", "shape": [3], "data": b"\0" * 8}
    with tf.Graph().as_default(), pytest.raises(tf.errors.DataLossError,
                                                match="declares 12 bytes"):
        tf.import_graph_def(gd)


def test_string_constants_and_scalars_round_trip():
    s = tf.constant(["ab", "c"], name="s")
    gd = tf.GraphDef.FromString(tf.get_default_graph().as_graph_def().SerializeToString())
    with tf.Graph().as_default():
        (s2,) = tf.import_graph_def(gd, return_elements=["s:0"])
        assert s2.dtype == tf.string
        with tf.Session() as sess:
            assert list(sess.run(s2)) == [b"ab", b"c"]
    assert s.dtype == tf.string


def test_write_graph_binary_and_text(tmp_path):
    x, w, b, y = _small_graph()
    g = tf.get_default_graph()
    p_bin = tf.write_graph(g, str(tmp_path / "logs"), "graph.msgpack")
    p_txt = tf.write_graph(g.as_graph_def(), str(tmp_path / "logs"), "graph.txt",
                           as_text=True)
    text = open(p_txt, encoding="utf-8").read()
    assert '"name": "w/initial_value"' in text and '"op": "MatMul"' in text
    assert "0.0, 1.0, 2.0, 3.0, 4.0, 5.0" in text  # values readable, not bytes
    assert tf.read_graph(p_bin) == g.as_graph_def()
    assert tf.read_graph(p_txt) == g.as_graph_def()
    with pytest.raises(tf.errors.NotFoundError):
        tf.read_graph(str(tmp_path / "absent"))


def test_unserialisable_attr_names_the_op():
    g = tf.get_default_graph()
    g.create_op("NoOp", [], {"payload": object()}, name="weird")
    with pytest.raises(TypeError, match="'payload' of op 'weird'"):
        g.as_graph_def()


def test_book_softmax_regression_round_trip():
    """Chapter 3's model exported, imported into a fresh graph, and trained identically."""
    rng = np.random.default_rng(0)
    images = rng.random((60, 784), dtype=np.float32) * np.float32(0.05)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 60)]

    x = tf.placeholder(tf.float32, [None, 784], name="x")
    W = tf.Variable(tf.zeros([784, 10]), name="W")
    b = tf.Variable(tf.zeros([10]), name="b")
    y = tf.nn.softmax(tf.matmul(x, W) + b, name="y")
    y_ = tf.placeholder(tf.float32, [None, 10], name="y_")
    cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]),
                                   name="cross_entropy")
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy,
                                                                 name="train_step")
    gd = tf.get_default_graph().as_graph_def()

    def train(sess, step, loss, out, xs, ys):
        sess.run(tf.global_variables_initializer())
        for i in range(0, 60, 20):
            sess.run(step, {xs: images[i:i + 20], ys: labels[i:i + 20]})
        return sess.run([loss, out], {xs: images, ys: labels})

    with tf.Session() as sess:
        want = train(sess, train_step, cross_entropy, y, x, y_)
    g = tf.Graph()
    with g.as_default():
        step2, loss2, out2, x2, ys2 = tf.import_graph_def(
            tf.GraphDef.FromString(gd.SerializeToString()),
            return_elements=["train_step", "cross_entropy:0", "y:0", "x:0", "y_:0"])
        with tf.Session() as sess:
            got = train(sess, step2, loss2, out2, x2, ys2)
    assert np.isfinite(want[0]) and want[0] != pytest.approx(np.log(10))  # it trained
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])
