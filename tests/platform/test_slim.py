"""tf.contrib.slim: arg_scope and add_arg_scope, softmax, one_hot_encoding, repeat/stack under
arg_scope, named outputs (end points), the framework helpers and legacy_seq2seq losses."""
from __future__ import annotations

import numpy as np
import pytest

import actorflow as tf

slim = tf.contrib.slim


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


# -- arg_scope -----------------------------------------------------------------------------
@slim.add_arg_scope
def _scoped(a, b=1, c=2, *, d=3):
    return a, b, c, d


def test_arg_scope_supplies_defaults_and_call_arguments_win():
    with slim.arg_scope([_scoped], b=10, d=30):
        assert _scoped(0) == (0, 10, 2, 30)
        assert _scoped(0, c=5, d=7) == (0, 10, 5, 7)
    assert _scoped(0) == (0, 1, 2, 3)


def test_inner_arg_scope_extends_and_overrides_the_outer():
    with slim.arg_scope([_scoped], b=10, c=20):
        with slim.arg_scope([_scoped], c=200):
            assert _scoped(0) == (0, 10, 200, 3)
        assert _scoped(0) == (0, 10, 20, 3)


def test_a_yielded_scope_is_entered_again_later():
    def my_arg_scope():
        with slim.arg_scope([_scoped], b=10):
            with slim.arg_scope([_scoped], c=20) as sc:
                return sc

    sc = my_arg_scope()
    assert _scoped(0) == (0, 1, 2, 3)
    with slim.arg_scope(sc):
        assert _scoped(0) == (0, 10, 20, 3)
    with pytest.raises(ValueError, match="kwargs must be empty"):
        with slim.arg_scope(sc, b=1):
            pass


def test_arg_scope_rejects_undecorated_functions_and_bad_lists():
    def plain(x, y=1):
        return x

    with pytest.raises(ValueError, match="not decorated with @add_arg_scope"):
        with slim.arg_scope([plain], y=2):
            pass
    with pytest.raises(TypeError, match="list/tuple"):
        with slim.arg_scope(plain, y=2):
            pass


def test_decorated_functions_know_their_scoped_arguments():
    assert slim.has_arg_scope(_scoped) and slim.has_arg_scope(slim.conv2d)
    assert slim.arg_scoped_arguments(_scoped) == ("b", "c", "d")
    assert "weights_regularizer" in slim.arg_scoped_arguments(slim.conv2d)
    assert tf.contrib.framework.arg_scope is slim.arg_scope
    assert tf.contrib.layers.conv2d is slim.conv2d is slim.convolution2d


def test_layers_take_their_defaults_from_the_arg_scope():
    x = tf.placeholder(tf.float32, [2, 9, 9, 3])
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_initializer=tf.truncated_normal_initializer(stddev=0.01),
                        weights_regularizer=slim.l2_regularizer(0.5)):
        with slim.arg_scope([slim.conv2d], stride=1, padding='VALID', activation_fn=None):
            net = slim.conv2d(x, 4, [3, 3], scope='conv')
            same = slim.conv2d(x, 4, [3, 3], padding='SAME', scope='conv_same')
        fc = slim.fully_connected(slim.flatten(net), 5, scope='fc')
    assert net.get_shape().as_list() == [2, 7, 7, 4]
    assert same.get_shape().as_list() == [2, 9, 9, 4]
    assert fc.get_shape().as_list() == [2, 5]
    # one L2 loss per weights variable, scaled by 0.5: l2_loss = sum(w^2) / 2
    reg = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(reg) == 3
    weights = slim.get_variables_by_name('weights')
    reg_v, w_v = _run([reg, weights], {x: np.zeros([2, 9, 9, 3], np.float32)})
    for r, w in zip(reg_v, w_v):
        np.testing.assert_allclose(r, 0.5 * 0.5 * np.sum(w ** 2), rtol=1e-5)
        assert np.abs(w).max() <= 0.02 + 1e-6  # truncated at two standard deviations


def test_conv2d_with_rate_and_batch_norm_normalizer_from_the_scope():
    x = tf.placeholder(tf.float32, [1, 11, 11, 2])
    bn_params = {'decay': 0.9997, 'epsilon': 0.001,
                 'variables_collections': {'beta': None, 'gamma': None,
                                           'moving_mean': ['moving_vars'],
                                           'moving_variance': ['moving_vars']}}
    with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm,
                        normalizer_params=bn_params, padding='VALID'):
        net = slim.conv2d(x, 3, [3, 3], rate=2, scope='atrous')
    assert net.get_shape().as_list() == [1, 7, 7, 3]
    names = sorted(v.op.name for v in tf.global_variables())
    assert names == ['atrous/BatchNorm/beta', 'atrous/BatchNorm/moving_mean',
                     'atrous/BatchNorm/moving_variance', 'atrous/weights']
    assert sorted(v.op.name for v in tf.get_collection('moving_vars')) == [
        'atrous/BatchNorm/moving_mean', 'atrous/BatchNorm/moving_variance']
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    out = _run(net, {x: np.random.RandomState(0).randn(1, 11, 11, 2).astype(np.float32)})
    # batch statistics: every channel has mean 0 and, ReLU applied, is half zero on average
    assert out.min() == 0.0 and out.max() > 0.5


def test_batch_norm_and_dropout_take_is_training_from_an_arg_scope():
    x = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
    with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=False):
        bn = slim.batch_norm(x, scope='bn')
        dropped = slim.dropout(x, keep_prob=0.1)
    bn_v, dropped_v, x_v = _run([bn, dropped, x])
    np.testing.assert_allclose(dropped_v, x_v)
    np.testing.assert_allclose(bn_v, x_v / np.sqrt(1 + 0.001), rtol=1e-5)


# -- repeat / stack under arg_scope -------------------------------------------------------
def test_repeat_and_stack_name_their_layers_and_follow_the_arg_scope():
    x = tf.placeholder(tf.float32, [1, 8, 8, 3])
    with slim.arg_scope([slim.conv2d], padding='VALID', activation_fn=None):
        net = slim.repeat(x, 2, slim.conv2d, 4, [3, 3], scope='conv3')
        net = slim.stack(net, slim.conv2d, [(5, [1, 1]), (6, [2, 2])], scope='mix')
    assert net.get_shape().as_list() == [1, 3, 3, 6]
    assert [v.op.name for v in slim.get_model_variables(suffix='weights')] == [
        'conv3/conv3_1/weights', 'conv3/conv3_2/weights',
        'mix/mix_1/weights', 'mix/mix_2/weights']
    fc = slim.stack(tf.zeros([2, 3]), slim.fully_connected, [7, 8])
    assert fc.get_shape().as_list() == [2, 8]
    assert slim.get_variables('Stack/fully_connected_2')[0].get_shape().as_list() == [7, 8]


# -- softmax, one_hot_encoding -------------------------------------------------------------
def test_softmax_over_the_last_axis_of_a_4d_tensor():
    logits = np.random.RandomState(2).randn(2, 1, 1, 5).astype(np.float32)
    p = slim.softmax(tf.constant(logits), scope='Predictions')
    assert p.get_shape().as_list() == [2, 1, 1, 5]
    assert p.op.name.startswith('Predictions/')
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(_run(p), e / e.sum(-1, keepdims=True), rtol=1e-5)
    with pytest.raises(ValueError, match="rank of shape must be at least 2"):
        slim.softmax(tf.constant([1.0, 2.0]))


def test_one_hot_encoding():
    labels = tf.constant([0, 2, 1], dtype=tf.int32)
    one_hot = slim.one_hot_encoding(labels, 4, on_value=5.0, off_value=-1.0,
                                    outputs_collections='outs')
    assert one_hot.dtype == tf.float32 and one_hot.get_shape().as_list() == [3, 4]
    expected = np.full((3, 4), -1.0, np.float32)
    expected[[0, 1, 2], [0, 2, 1]] = 5.0
    np.testing.assert_array_equal(_run(one_hot), expected)
    assert list(slim.utils.convert_collection_to_dict('outs')) == ['OneHotEncoding']


# -- end points ----------------------------------------------------------------------------
def test_outputs_collections_become_end_points_keyed_by_scope():
    x = tf.placeholder(tf.float32, [1, 8, 8, 3])
    with tf.variable_scope('net') as sc:
        collection = sc.original_name_scope + '_end_points'
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.fully_connected],
                            outputs_collections=collection):
            net = slim.conv2d(x, 4, [3, 3], scope='conv1')
            net = slim.max_pool2d(net, [2, 2], scope='pool1')
            net = slim.fully_connected(slim.flatten(net), 3, scope='fc')
        net = slim.utils.collect_named_outputs(collection, sc.name + '/logits', net)
    end_points = slim.utils.convert_collection_to_dict(collection)
    assert list(end_points) == ['net/conv1', 'net/pool1', 'net/fc', 'net/logits']
    assert end_points['net/logits'] is net is end_points['net/fc']
    assert end_points['net/pool1'].get_shape().as_list() == [1, 4, 4, 4]
    assert slim.utils.convert_collection_to_dict(collection, clear_collection=True)
    assert not tf.get_collection(collection)


def test_utils_shape_helpers():
    assert slim.utils.last_dimension(tf.TensorShape([2, 3, 4, 5]), min_rank=4) == 5
    with pytest.raises(ValueError, match="at least 4"):
        slim.utils.last_dimension(tf.TensorShape([2, 3]), min_rank=4)
    with pytest.raises(ValueError, match="unknown"):
        slim.utils.last_dimension(tf.TensorShape([2, None]))
    assert slim.utils.two_element_tuple(3) == (3, 3)
    assert slim.utils.two_element_tuple([2, 5]) == (2, 5)
    with pytest.raises(ValueError):
        slim.utils.two_element_tuple([1, 2, 3])
    assert slim.utils.n_positive_integers(3, 2) == (2, 2, 2)
    with pytest.raises(ValueError):
        slim.utils.n_positive_integers(2, [1, 0])
    assert slim.utils.get_variable_collections({'weights': ['w']}, 'weights') == ['w']
    assert slim.utils.get_variable_collections(['all'], 'biases') == ['all']


# -- framework helpers ---------------------------------------------------------------------
def test_global_step_and_variables_to_restore():
    step = tf.contrib.framework.get_or_create_global_step()
    assert tf.contrib.framework.get_or_create_global_step() is step
    with tf.variable_scope('a'):
        slim.fully_connected(tf.zeros([1, 2]), 2)
    with tf.variable_scope('b'):
        slim.fully_connected(tf.zeros([1, 2]), 2)
    names = [v.op.name for v in slim.get_variables_to_restore(exclude=['b', 'global_step'])]
    assert names == ['a/fully_connected/weights', 'a/fully_connected/biases']
    assert [v.op.name for v in slim.get_variables_to_restore(include=['b'])] == [
        'b/fully_connected/weights', 'b/fully_connected/biases']
    assert len(slim.get_model_variables()) == 4 and len(slim.get_trainable_variables('a')) == 2
    with pytest.raises(TypeError, match="include is provided but is not a list"):
        slim.get_variables_to_restore(include='a')


def test_get_variables_by_name_matches_the_last_name_component():
    top = tf.Variable(0.0, name='weights')
    with tf.variable_scope('net'):
        slim.fully_connected(tf.zeros([1, 2]), 2, scope='fc')
        tf.Variable(0.0, name='my_weights')
    assert [v.op.name for v in slim.get_variables_by_name('weights')] == [
        'weights', 'net/fc/weights']
    assert slim.get_variables_by_name('weights')[0] is top
    assert [v.op.name for v in slim.get_variables_by_suffix('weights', scope='net')] == [
        'net/fc/weights', 'net/my_weights']


# -- legacy_seq2seq ------------------------------------------------------------------------
def test_sequence_loss_by_example_matches_numpy():
    rng = np.random.RandomState(3)
    steps, batch, classes = 3, 4, 5
    logits_v = rng.randn(steps, batch, classes).astype(np.float32)
    targets_v = rng.randint(0, classes, size=(steps, batch)).astype(np.int32)
    weights_v = rng.rand(steps, batch).astype(np.float32)
    logits = [tf.constant(x) for x in logits_v]
    targets = [tf.constant(x) for x in targets_v]
    weights = [tf.constant(x) for x in weights_v]
    by_example = tf.contrib.legacy_seq2seq.sequence_loss_by_example(logits, targets, weights)
    total = tf.contrib.legacy_seq2seq.sequence_loss(logits, targets, weights)
    log_p = logits_v - np.log(np.exp(logits_v).sum(-1, keepdims=True))
    crossent = -np.take_along_axis(log_p, targets_v[..., None], -1)[..., 0]
    expected = (crossent * weights_v).sum(0) / (weights_v.sum(0) + 1e-12)
    by_example_v, total_v = _run([by_example, total])
    np.testing.assert_allclose(by_example_v, expected, rtol=1e-5)
    np.testing.assert_allclose(total_v, expected.sum() / batch, rtol=1e-5)
    with pytest.raises(ValueError, match="Lengths of logits, weights, and targets"):
        tf.contrib.legacy_seq2seq.sequence_loss_by_example(logits, targets[:2], weights)
