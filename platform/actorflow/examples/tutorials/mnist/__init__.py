"""`tensorflow.examples.tutorials.mnist`: `input_data`, the MNIST loader of TF's tutorials."""
