"""Linear regression written for TF 2's compat.v1 API, as TF 1.x code ported to TF 2 looks."""
import sys

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
assert not tf.executing_eagerly()

rng = np.random.RandomState(0)
xs = rng.rand(100, 1).astype(np.float32)
ys = 3.0 * xs + 2.0

x = tf.placeholder(tf.float32, [None, 1])
y = tf.placeholder(tf.float32, [None, 1])
w = tf.get_variable("w", [1, 1], initializer=tf.zeros_initializer())
b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 300):
        sess.run(train, {x: xs, y: ys})
    w_val, b_val = sess.run([w, b])
    print("w=%.3f b=%.3f" % (w_val[0, 0], b_val[0]))
