"""Graph contracts: naming and scopes, collections, control dependencies, devices,
colocation, finalize and lookup by name."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf


# -- names ---------------------------------------------------------------------------------
def test_default_names_are_made_unique():
    a = tf.constant(1.0)
    b = tf.constant(2.0)
    c = tf.constant(3.0, name="Const")
    assert [a.op.name, b.op.name, c.op.name] == ["Const", "Const_1", "Const_2"]
    assert a.name == "Const:0"


def test_unique_names_skip_names_taken_explicitly():
    tf.constant(1.0, name="x_1")
    x = tf.constant(1.0, name="x")
    x1 = tf.constant(1.0, name="x")
    assert x.op.name == "x" and x1.op.name == "x_2"


def test_name_scopes_nest_and_reopen_uniquely():
    with tf.name_scope("layer") as scope:
        assert scope == "layer/"
        a = tf.constant(1.0, name="a")
        with tf.name_scope("inner"):
            b = tf.constant(1.0, name="b")
    with tf.name_scope("layer") as scope2:
        c = tf.constant(1.0, name="a")
    assert scope2 == "layer_1/"
    assert (a.op.name, b.op.name, c.op.name) == ("layer/a", "layer/inner/b", "layer_1/a")


def test_exact_scope_with_trailing_slash_and_reset_with_none():
    with tf.name_scope("outer"):
        with tf.name_scope("layer/") as s:
            a = tf.constant(1.0, name="a")
        with tf.name_scope(None) as s2:
            b = tf.constant(1.0, name="b")
    assert s == "layer/" and a.op.name == "layer/a"
    assert s2 == "" and b.op.name == "b"
    with tf.name_scope("layer/"):  # re-entering an exact scope reuses it
        assert tf.constant(1.0, name="a").op.name == "layer/a_1"


def test_name_scope_default_name_and_values_pick_the_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(1.0)
    with tf.name_scope(None, "Default", [x]) as s:
        assert s == "Default/"
        assert tf.get_default_graph() is g  # as TF 1.x: the values' graph becomes default
        y = tf.identity(x, name="y")
    assert y.op.name == "Default/y" and y.graph is g
    assert tf.get_default_graph() is not g


def test_invalid_scope_name_is_a_value_error():
    with pytest.raises(ValueError, match="not a valid scope name"):
        with tf.name_scope("bad name!"):
            pass


def test_op_name_with_trailing_slash_is_exact_and_duplicates_fail():
    g = tf.get_default_graph()
    op = g.create_op("NoOp", [], name="exact/")
    assert op.name == "exact"
    with pytest.raises(ValueError, match="Duplicate node name"):
        g.create_op("NoOp", [], name="exact/")


# -- collections ---------------------------------------------------------------------------
def test_collections_and_graph_keys():
    v = tf.Variable(1.0, name="v")
    w = tf.Variable(2.0, name="w", trainable=False)
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) == [v, w]
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES) == [v]
    assert tf.GraphKeys.VARIABLES == tf.GraphKeys.GLOBAL_VARIABLES
    tf.add_to_collection("losses", 3)
    tf.add_to_collections(["a", "b"], "item")
    assert tf.get_collection("losses") == [3]
    assert tf.get_collection("a") == ["item"] and tf.get_collection("b") == ["item"]
    got = tf.get_collection("losses")
    got.append(4)  # get_collection returns a copy ...
    assert tf.get_collection("losses") == [3]
    tf.get_collection_ref("losses").append(5)  # ... get_collection_ref the list itself
    assert tf.get_collection("losses") == [3, 5]
    assert tf.get_collection("missing") == []


def test_get_collection_scope_filters_by_name_prefix():
    with tf.name_scope("enc"):
        a = tf.Variable(1.0, name="a")
    b = tf.Variable(1.0, name="b")
    assert tf.global_variables("enc") == [a]
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope="b") == [b]


# -- control dependencies ------------------------------------------------------------------
def test_control_dependencies_nest_and_none_clears():
    a = tf.constant(1.0, name="a")
    b = tf.constant(2.0, name="b")
    with tf.control_dependencies([a]):
        c = tf.constant(3.0, name="c")
        with tf.control_dependencies([b.op]):
            d = tf.constant(4.0, name="d")
            with tf.control_dependencies(None):
                e = tf.constant(5.0, name="e")
    assert c.op.control_inputs == [a.op]
    assert set(d.op.control_inputs) == {a.op, b.op}
    assert e.op.control_inputs == []
    assert a.op._control_outputs == [c.op, d.op]


def test_control_dependency_already_a_data_input_is_dropped():
    a = tf.constant(1.0)
    with tf.control_dependencies([a]):
        b = tf.identity(a)
    assert b.op.control_inputs == []


def test_control_dependencies_order_execution():
    v = tf.Variable(0.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        inc = tf.assign_add(v, 1.0)
        with tf.control_dependencies([inc]):
            read = v.read_value()
        assert sess.run(read) == 1.0
        assert sess.run(read) == 2.0


# -- devices and colocation ----------------------------------------------------------------
def test_device_scopes_merge_field_by_field():
    with tf.device("/job:worker/task:1"):
        a = tf.constant(1.0)
        with tf.device("/gpu:0"):
            b = tf.constant(1.0)
            with tf.device("/job:ps"):
                c = tf.constant(1.0)
        with tf.device(None):
            d = tf.constant(1.0)
    assert a.device == "/job:worker/task:1"
    assert b.device == "/job:worker/task:1/device:GPU:0"
    assert c.device == "/job:ps/task:1/device:GPU:0"
    assert d.device == ""


def test_device_function_sees_the_op():
    def by_type(op):
        return "/cpu:0" if op.type == "Const" else "/gpu:1"

    with tf.device(by_type):
        a = tf.constant(1.0)
        b = a + a
    assert a.device == "/device:CPU:0" and b.device == "/device:GPU:1"


def test_bad_device_string_is_a_value_error():
    with pytest.raises(ValueError, match="device specification"):
        with tf.device("/tpu:banana"):
            tf.constant(1.0)


def test_colocate_with_copies_device_and_records_class():
    with tf.device("/gpu:0"):
        v = tf.Variable(1.0, name="v")
    with tf.device("/cpu:0"), tf.colocate_with(v):
        x = tf.identity(v)
    assert x.device == v.device == "/device:GPU:0"
    assert x.op.get_attr("_class") == ["loc:@v"]


def test_device_spec_round_trip():
    spec = tf.DeviceSpec.from_string("/job:worker/replica:0/task:3/device:GPU:2")
    assert (spec.job, spec.replica, spec.task, spec.device_type, spec.device_index) == \
        ("worker", 0, 3, "GPU", 2)
    assert spec.to_string() == "/job:worker/replica:0/task:3/device:GPU:2"
    assert tf.DeviceSpec.from_string("/cpu:*").to_string() == "/device:CPU:*"


# -- finalize, lookup, misc ----------------------------------------------------------------
def test_finalize_makes_the_graph_read_only():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0)
        g.finalize()
        assert g.finalized
        with pytest.raises(RuntimeError, match="finalized"):
            tf.constant(2.0)


def test_get_tensor_and_operation_by_name():
    with tf.name_scope("s"):
        x = tf.constant([1.0, 2.0], name="x")
        parts = tf.unstack(x)
    g = tf.get_default_graph()
    assert g.get_tensor_by_name("s/x:0") is x
    assert g.get_operation_by_name("s/x") is x.op
    assert g.get_tensor_by_name("s/unstack:1") is parts[1]
    with pytest.raises(KeyError, match="does not exist"):
        g.get_tensor_by_name("s/y:0")
    with pytest.raises(KeyError, match="only has 2 outputs"):
        g.get_tensor_by_name("s/unstack:2")
    with pytest.raises(ValueError, match="Tensor names must be of the form"):
        g.get_tensor_by_name("s/x")
    with pytest.raises(KeyError, match="not in the graph"):
        g.get_operation_by_name("nope")
    with pytest.raises(ValueError, match="looks like a Tensor name"):
        g.as_graph_element("s/x:0", allow_tensor=False)


def test_graphs_are_separate_and_as_default_nests():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0)
        with g2.as_default():
            b = tf.constant(1.0)
            assert tf.get_default_graph() is g2
        assert tf.get_default_graph() is g1
    assert a.graph is g1 and b.graph is g2
    with pytest.raises(ValueError, match="must be from the same graph"):
        tf.add(a, b)


def test_reset_default_graph_inside_a_graph_block_fails():
    with tf.Graph().as_default():
        with pytest.raises(AssertionError):
            tf.reset_default_graph()
    old = tf.get_default_graph()
    tf.reset_default_graph()
    assert tf.get_default_graph() is not old


def test_operation_and_tensor_accessors():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.identity(x, name="y")
    assert y.op.inputs == [x] and x.consumers() == [y.op]
    assert y.op.outputs == [y] and y.op.values() == (y,)
    assert y.get_shape().as_list() == [None, 3] and y.shape.ndims == 2
    assert x.op.get_attr("dtype") == tf.float32
    with pytest.raises(ValueError, match="no attr"):
        x.op.get_attr("missing")
    assert y.op.node_def["input"] == ["x:0"]
    assert "y:0" in repr(y) and "Identity" in repr(y.op)
    with pytest.raises(TypeError, match="bool"):
        bool(x)
    y.set_shape([4, 3])
    assert y.get_shape().as_list() == [4, 3]
    with pytest.raises(ValueError):
        y.set_shape([5, 3])


def test_tensors_key_dicts_by_identity():
    a = tf.constant(1.0)
    b = tf.constant(1.0)
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2 and a != b


def test_convert_to_tensor_rules():
    assert tf.convert_to_tensor(1.0).dtype == tf.float32
    assert tf.convert_to_tensor(1).dtype == tf.int32
    assert tf.convert_to_tensor(np.float64(1.0)).dtype == tf.float64
    assert tf.convert_to_tensor(2 ** 40).dtype == tf.int64
    t = tf.constant(1.0)
    assert tf.convert_to_tensor(t) is t
    with pytest.raises(ValueError, match="requested dtype"):
        tf.convert_to_tensor(t, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.convert_to_tensor(tf.no_op())


def test_group_and_tuple():
    a = tf.constant(1.0)
    b = tf.constant(2.0)
    g = tf.group(a, [b])
    assert g.type == "NoOp" and set(g.control_inputs) == {a.op, b.op}
    ta, tb = tf.tuple([a, b])
    assert ta.op.type == "Identity" and ta.op.control_inputs[0].type == "NoOp"
    with tf.Session() as sess:
        assert sess.run(g) is None
        assert sess.run([ta, tb]) == [1.0, 2.0]


def test_node_def_reads_as_attributes_in_a_device_function():
    # TensorFlow-Examples' multigpu_cnn: variables to the parameter device by op type
    def assign_to_device(op):
        node_def = op if isinstance(op, tf.NodeDef) else op.node_def
        return "/cpu:0" if node_def.op in ("Variable", "VariableV2") else "/cpu:1"
    with tf.device(assign_to_device):
        v = tf.Variable(1.0, name="v")
        y = tf.add(v, 1.0, name="y")
    assert v.op.device.endswith("CPU:0") and y.op.device.endswith("CPU:1")
    nd = y.op.node_def
    assert nd.name == nd["name"] == "y" and nd.op == "Add"
    assert len(nd.input) == 2 and nd.input[0].startswith("v")
