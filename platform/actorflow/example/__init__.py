"""`tf.train.Example` protos (also exported from `actorflow.train`)."""
# ruff: noqa: F401
from .example_pb import (BytesList, Example, Feature, FeatureList, FeatureLists, Features,
                         FloatList, Int64List, SequenceExample)
