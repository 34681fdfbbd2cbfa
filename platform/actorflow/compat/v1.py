"""`tf.compat.v1`: the whole actorflow module, under TF 2's name for the TF 1.x API.

This module replaces itself in `sys.modules` with `actorflow`, so that
``import actorflow.compat.v1 as tf`` binds the package itself.
"""
import sys

sys.modules[__name__] = sys.modules[__name__.rsplit(".", 2)[0]]
