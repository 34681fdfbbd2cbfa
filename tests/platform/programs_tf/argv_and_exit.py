"""Prints how it was started (as JSON) and exits with the status given as its last
argument."""
import json
import os
import sys

import tensorflow as tf
from tensorflow.contrib import rnn
import tensorflow.contrib.slim as slim

import helper_module  # beside this file: the program's folder must be on sys.path

print(json.dumps({
    "argv": sys.argv, "name": __name__, "path0": sys.path[0], "file": __file__,
    "tf": tf.__name__, "rnn": rnn.__name__, "slim": slim.__name__,
    "helper": helper_module.VALUE, "cwd": os.getcwd(),
}))
sys.exit(int(sys.argv[-1]))
