"""Variable sharing, name scopes and collections as TF 1.x codebases use them."""
import numpy as np
import pytest

import actorflow as tf


def _conv_relu(x, kernel_shape, bias_shape):
    weights = tf.get_variable("weights", kernel_shape,
                              initializer=tf.random_normal_initializer())
    biases = tf.get_variable("biases", bias_shape, initializer=tf.constant_initializer(0.0))
    return tf.nn.relu(tf.nn.conv2d(x, weights, strides=[1, 1, 1, 1], padding="SAME") + biases)


def _image_filters(input_images):
    with tf.variable_scope("conv1"):
        relu1 = _conv_relu(input_images, [3, 3, 1, 4], [4])
    with tf.variable_scope("conv2"):
        return _conv_relu(relu1, [3, 3, 4, 4], [4])


def test_variable_scope_reuse_shares_weights_between_two_towers():
    image1 = tf.placeholder(tf.float32, [1, 6, 6, 1])
    image2 = tf.placeholder(tf.float32, [1, 6, 6, 1])
    with tf.variable_scope("image_filters") as scope:
        result1 = _image_filters(image1)
        scope.reuse_variables()
        result2 = _image_filters(image2)
    names = sorted(v.name for v in tf.global_variables())
    assert names == ["image_filters/conv1/biases:0", "image_filters/conv1/weights:0",
                     "image_filters/conv2/biases:0", "image_filters/conv2/weights:0"]
    img = np.random.RandomState(0).rand(1, 6, 6, 1).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        r1, r2 = sess.run([result1, result2], {image1: img, image2: img})
    np.testing.assert_array_equal(r1, r2)


def test_reuse_true_and_auto_reuse():
    def dense(x, units, scope, reuse=None):
        with tf.variable_scope(scope, reuse=reuse):
            w = tf.get_variable("w", [x.shape[1], units])
            return tf.matmul(x, w), w

    x = tf.ones([2, 3])
    _, w1 = dense(x, 4, "fc")
    _, w2 = dense(x, 4, "fc", reuse=True)
    assert w1 is w2
    with pytest.raises(ValueError):
        dense(x, 4, "fc")  # already exists, reuse not set
    with pytest.raises(ValueError):
        dense(x, 4, "missing", reuse=True)  # does not exist

    def counter():
        with tf.variable_scope("shared", reuse=tf.AUTO_REUSE):
            return tf.get_variable("count", [], initializer=tf.zeros_initializer())

    c1, c2 = counter(), counter()
    assert c1 is c2 and c1.name == "shared/count:0"
    with tf.variable_scope("outer"):
        with tf.variable_scope("inner", reuse=tf.AUTO_REUSE):
            v = tf.get_variable("v", [2])
    with tf.variable_scope("outer", reuse=True):
        assert tf.get_variable("inner/v") is v
    with tf.variable_scope("outer/inner", reuse=True):
        assert tf.get_variable("v", [2]) is v


def test_name_scope_tensor_names_and_get_tensor_by_name():
    with tf.name_scope("layer1"):
        weights = tf.Variable(tf.ones([2, 2]), name="weights")
        x = tf.placeholder(tf.float32, [None, 2], name="input")
        out = tf.matmul(x, weights, name="out")
    with tf.name_scope("layer1"):  # re-entering makes a fresh scope
        other = tf.constant(1.0, name="c")
    with tf.variable_scope("vs"):
        gv = tf.get_variable("gv", [1])
        with tf.name_scope("ns"):
            gv2 = tf.get_variable("gv2", [1])  # get_variable ignores name_scope
            op = tf.add(gv, gv2, name="sum")
    assert weights.name == "layer1/weights:0"
    assert weights.op.name == "layer1/weights"
    assert x.name == "layer1/input:0"
    assert out.name == "layer1/out:0"
    assert other.name == "layer1_1/c:0"
    assert gv2.name == "vs/gv2:0"
    assert op.name == "vs/ns/sum:0"
    g = tf.get_default_graph()
    assert g.get_tensor_by_name("layer1/out:0") is out
    assert g.get_operation_by_name("layer1/out") is out.op
    assert tf.constant(0.0).name == "Const:0"
    assert tf.constant(0.0).name == "Const_1:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        val = sess.run("layer1/out:0", feed_dict={"layer1/input:0": [[1.0, 2.0]]})
    np.testing.assert_allclose(val, [[3.0, 3.0]])


def test_collections_and_l2_regularization_losses():
    regularizer = tf.contrib.layers.l2_regularizer(scale=0.1)
    with tf.variable_scope("net", regularizer=regularizer):
        w1 = tf.get_variable("w1", initializer=tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    w2 = tf.get_variable("w2", initializer=tf.constant([1.0, -1.0]),
                         regularizer=tf.contrib.layers.l2_regularizer(0.5))
    x = tf.constant([[1.0, 1.0]])
    dense_out = tf.layers.dense(x, 3, kernel_regularizer=regularizer,
                                kernel_initializer=tf.ones_initializer(), name="d")
    reg_losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(reg_losses) == 3
    tf.add_to_collection("my_losses", tf.reduce_sum(w2))
    tf.add_to_collection("my_losses", tf.constant(5.0))
    total_reg = tf.add_n(reg_losses)
    total = tf.add_n(tf.get_collection("my_losses")) + total_reg
    assert tf.losses.get_regularization_losses() == reg_losses
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)[0] is w1
    assert len(tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="net")) == 1
    assert len(tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)) == 4
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        r, t, loss_total, _ = sess.run([total_reg, total, tf.losses.get_regularization_loss(),
                                        dense_out])
    expected = 0.1 * 30 / 2 + 0.5 * 2 / 2 + 0.1 * 6 / 2
    assert abs(r - expected) < 1e-5
    assert abs(t - (expected + 5.0)) < 1e-5
    assert abs(loss_total - expected) < 1e-5
