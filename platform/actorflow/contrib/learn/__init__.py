"""`tf.contrib.learn`: the MNIST data set helpers TF 1.x tutorials import
(`tf.contrib.learn.datasets.mnist`, `load_dataset('mnist')`). The rest of contrib.learn
(Estimators, the learn runner) is not implemented."""
from . import datasets, python

__all__ = ["datasets", "python"]
