"""Acceptance: a checkpoint TensorFlow 2.21 wrote for the ch. 5.3 CIFAR-10 CNN (8x8x3 input,
seeded weights, scripts/make_tf_checkpoint_fixtures.py) loads into
`actorflow.models.cifar10.cifar10_cnn` and gives the logits TensorFlow computed for the
stored input batch."""
from __future__ import annotations

import os

import numpy as np
import pytest

import actorflow as tf
from actorflow.models.cifar10 import cifar10_cnn

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "platform", "fixtures",
                        "tf_checkpoints")
CKPT = os.path.join(FIXTURES, "cifar.ckpt")


@pytest.fixture(scope="module")
def expected():
    with np.load(os.path.join(FIXTURES, "cifar.npz")) as npz:
        return npz["images"], npz["logits"]


def _logits(images, scope: str | None, load) -> np.ndarray:
    with tf.variable_scope(scope or tf.get_variable_scope()):
        logits = cifar10_cnn(tf.constant(images), is_training=False)["logits"]
    init = load()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        if init is not None:
            init(sess)
        return sess.run(logits)


def test_saver_restore_gives_tensorflows_logits(expected):
    images, want = expected

    def restore():
        saver = tf.train.Saver()
        return lambda sess: saver.restore(sess, CKPT)

    np.testing.assert_allclose(_logits(images, None, restore), want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("scope,assignment_map", [
    (None, {"/": "/"}),
    ("net", {"/": "net/"}),
    ("tower", {"conv1/": "tower/conv1/", "conv2/": "tower/conv2/", "local3/": "tower/local3/",
               "local4/": "tower/local4/", "softmax_linear/": "tower/softmax_linear/"}),
])
def test_init_from_checkpoint_gives_tensorflows_logits(expected, scope, assignment_map):
    images, want = expected
    got = _logits(images, scope, lambda: tf.train.init_from_checkpoint(CKPT, assignment_map))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_every_model_variable_is_in_the_checkpoint(expected):
    images, _ = expected
    cifar10_cnn(tf.constant(images), is_training=False)
    shapes = dict(tf.train.list_variables(CKPT))
    ours = {v.op.name: v.get_shape().as_list() for v in tf.global_variables()}
    assert ours == shapes
