"""Helpers of the model tests: parameter counts and one SGD step."""
import numpy as np

import actorflow as tf


def parameter_count(variables=None) -> int:
    """The number of scalars in `variables` (default: the trainable ones), from their static
    shapes."""
    variables = tf.trainable_variables() if variables is None else variables
    return sum(int(np.prod(v.get_shape().as_list())) for v in variables)


def dense(value) -> np.ndarray:
    """A fetched gradient as an array; sparse ones (IndexedSlicesValue) are scattered."""
    if isinstance(value, tf.IndexedSlicesValue):
        return value.to_dense()
    return np.asarray(value)


def sgd_step(loss, feed):
    """Runs one SGD step; returns the loss before it and after it, and the gradients (dense)."""
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables)
    train = tf.train.GradientDescentOptimizer(0.1).apply_gradients(zip(grads, variables))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before, grad_values = sess.run([loss, grads], feed)
        sess.run(train, feed)
        after = sess.run(loss, feed)
    return before, after, [dense(g) for g in grad_values]
