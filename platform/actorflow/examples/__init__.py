"""`tensorflow.examples`: the tutorial helpers TF 1.x programs import
(`examples.tutorials.mnist.input_data`)."""
