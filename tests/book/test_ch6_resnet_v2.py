"""Book ch. 6.4: ResNet V2 (pre-activation bottlenecks) built with slim: add_arg_scope on the
model's own functions, outputs collections turned into end points by slim.utils, tf.pad for
'SAME'-like strided convolutions. ResNet-50 runs forward and forward-backward at batch 1 on
224x224 inputs; ResNet-152 (the book's benchmark, batch 32 there) runs forward at batch 1."""
import collections
import time

import numpy as np

import actorflow as tf

slim = tf.contrib.slim


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
    'A named tuple describing a ResNet block.'


def subsample(inputs, factor, scope=None):
    if factor == 1:
        return inputs
    else:
        return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def conv2d_same(inputs, num_outputs, kernel_size, stride, scope=None):
    if stride == 1:
        return slim.conv2d(inputs, num_outputs, kernel_size, stride=1,
                           padding='SAME', scope=scope)
    else:
        pad_total = kernel_size - 1
        pad_beg = pad_total // 2
        pad_end = pad_total - pad_beg
        inputs = tf.pad(inputs, [[0, 0], [pad_beg, pad_end], [pad_beg, pad_end], [0, 0]])
        return slim.conv2d(inputs, num_outputs, kernel_size, stride=stride,
                           padding='VALID', scope=scope)


@slim.add_arg_scope
def stack_blocks_dense(net, blocks, outputs_collections=None):
    for block in blocks:
        with tf.variable_scope(block.scope, 'block', [net]) as sc:
            for i, unit in enumerate(block.args):
                with tf.variable_scope('unit_%d' % (i + 1), values=[net]):
                    unit_depth, unit_depth_bottleneck, unit_stride = unit
                    net = block.unit_fn(net,
                                        depth=unit_depth,
                                        depth_bottleneck=unit_depth_bottleneck,
                                        stride=unit_stride)
            net = slim.utils.collect_named_outputs(outputs_collections, sc.name, net)
    return net


def resnet_arg_scope(is_training=True,
                     weight_decay=0.0001,
                     batch_norm_decay=0.997,
                     batch_norm_epsilon=1e-5,
                     batch_norm_scale=True):
    batch_norm_params = {
        'is_training': is_training,
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'scale': batch_norm_scale,
        'updates_collections': tf.GraphKeys.UPDATE_OPS,
    }
    with slim.arg_scope(
            [slim.conv2d],
            weights_regularizer=slim.l2_regularizer(weight_decay),
            weights_initializer=slim.variance_scaling_initializer(),
            activation_fn=tf.nn.relu,
            normalizer_fn=slim.batch_norm,
            normalizer_params=batch_norm_params):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.max_pool2d], padding='SAME') as arg_sc:
                return arg_sc


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride,
               outputs_collections=None, scope=None):
    with tf.variable_scope(scope, 'bottleneck_v2', [inputs]) as sc:
        depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
        preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
        if depth == depth_in:
            shortcut = subsample(inputs, stride, 'shortcut')
        else:
            shortcut = slim.conv2d(preact, depth, [1, 1], stride=stride,
                                   normalizer_fn=None, activation_fn=None, scope='shortcut')
        residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope='conv1')
        residual = conv2d_same(residual, depth_bottleneck, 3, stride, scope='conv2')
        residual = slim.conv2d(residual, depth, [1, 1], stride=1,
                               normalizer_fn=None, activation_fn=None, scope='conv3')
        output = shortcut + residual
        return slim.utils.collect_named_outputs(outputs_collections, sc.name, output)


def resnet_v2(inputs, blocks, num_classes=None, global_pool=True,
              include_root_block=True, reuse=None, scope=None):
    with tf.variable_scope(scope, 'resnet_v2', [inputs], reuse=reuse) as sc:
        end_points_collection = sc.original_name_scope + '_end_points'
        with slim.arg_scope([slim.conv2d, bottleneck, stack_blocks_dense],
                            outputs_collections=end_points_collection):
            net = inputs
            if include_root_block:
                with slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None):
                    net = conv2d_same(net, 64, 7, stride=2, scope='conv1')
                net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
            net = stack_blocks_dense(net, blocks)
            net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='postnorm')
            if global_pool:
                net = tf.reduce_mean(net, [1, 2], name='pool5', keep_dims=True)
            if num_classes is not None:
                net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                                  normalizer_fn=None, scope='logits')
            end_points = slim.utils.convert_collection_to_dict(end_points_collection)
            if num_classes is not None:
                end_points['predictions'] = slim.softmax(net, scope='predictions')
            return net, end_points


def resnet_v2_50(inputs, num_classes=None, global_pool=True, reuse=None,
                 scope='resnet_v2_50'):
    blocks = [
        Block('block1', bottleneck, [(256, 64, 1)] * 2 + [(256, 64, 2)]),
        Block('block2', bottleneck, [(512, 128, 1)] * 3 + [(512, 128, 2)]),
        Block('block3', bottleneck, [(1024, 256, 1)] * 5 + [(1024, 256, 2)]),
        Block('block4', bottleneck, [(2048, 512, 1)] * 3)]
    return resnet_v2(inputs, blocks, num_classes, global_pool,
                     include_root_block=True, reuse=reuse, scope=scope)


def resnet_v2_152(inputs, num_classes=None, global_pool=True, reuse=None,
                  scope='resnet_v2_152'):
    blocks = [
        Block('block1', bottleneck, [(256, 64, 1)] * 2 + [(256, 64, 2)]),
        Block('block2', bottleneck, [(512, 128, 1)] * 7 + [(512, 128, 2)]),
        Block('block3', bottleneck, [(1024, 256, 1)] * 35 + [(1024, 256, 2)]),
        Block('block4', bottleneck, [(2048, 512, 1)] * 3)]
    return resnet_v2(inputs, blocks, num_classes, global_pool,
                     include_root_block=True, reuse=reuse, scope=scope)


def test_resnet_v2_50_end_points_forward_and_backward():
    batch_size = 1
    inputs = tf.random_uniform((batch_size, 224, 224, 3))
    with slim.arg_scope(resnet_arg_scope(is_training=True)):
        net, end_points = resnet_v2_50(inputs, 1000)

    assert net.get_shape().as_list() == [batch_size, 1, 1, 1000]
    assert end_points['resnet_v2_50/logits'] is net
    assert end_points['predictions'].get_shape().as_list() == [batch_size, 1, 1, 1000]
    shapes = {name: end_points['resnet_v2_50/' + name].get_shape().as_list()
              for name in ('conv1', 'block1', 'block2', 'block3', 'block4',
                           'block1/unit_1/bottleneck_v2/shortcut',
                           'block3/unit_6/bottleneck_v2')}
    assert shapes == {'conv1': [1, 112, 112, 64], 'block1': [1, 28, 28, 256],
                      'block2': [1, 14, 14, 512], 'block3': [1, 7, 7, 1024],
                      'block4': [1, 7, 7, 2048],
                      'block1/unit_1/bottleneck_v2/shortcut': [1, 56, 56, 256],
                      'block3/unit_6/bottleneck_v2': [1, 7, 7, 1024]}
    # conv1, 16 units x (conv1, conv2, conv3) + 4 projection shortcuts, the logits
    weights = [v for v in tf.trainable_variables() if v.op.name.endswith('/weights')]
    assert len(weights) == 1 + 16 * 3 + 4 + 1
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == len(weights)
    n_params = sum(int(np.prod(v.get_shape().as_list())) for v in tf.trainable_variables())
    print("parameters", n_params)
    assert n_params == 25_568_360  # ResNet-50 v2's trainable parameters

    grad = tf.gradients(tf.nn.l2_loss(net), tf.trainable_variables())
    assert all(g is not None for g in grad)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        start = time.time()
        predictions = sess.run(end_points['predictions'])
        print("forward %.3f s" % (time.time() - start))
        start = time.time()
        grads = sess.run(grad)
        print("forward-backward %.3f s" % (time.time() - start))
    np.testing.assert_allclose(predictions.sum(-1), 1.0, rtol=1e-4)
    assert all(np.all(np.isfinite(g)) for g in grads)
    assert np.abs(grads[0]).max() > 0  # conv1, the first layer


def test_resnet_v2_152_forward():
    inputs = tf.random_uniform((1, 224, 224, 3))
    with slim.arg_scope(resnet_arg_scope(is_training=False)):
        net, end_points = resnet_v2_152(inputs, 1000)
    assert len([k for k in end_points if k.endswith('bottleneck_v2')]) == 3 + 8 + 36 + 3
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        start = time.time()
        out = sess.run(net)
        print("forward %.3f s" % (time.time() - start))
    assert out.shape == (1, 1, 1, 1000) and np.all(np.isfinite(out))
