"""Reaches a TF API actorflow does not implement (line 7)."""
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 3])
print("graph built")
# the next line is the one the error must name
layer = tf.contrib.foo.bar(x)
