"""`tf.train`: optimizers, the global step, learning-rate schedules, clipping and checkpoints
(TF 1.x names)."""
# ruff: noqa: F401, F403
from ..framework.graph_io import write_graph
from .clip_ops import *
from .distribute import *
from .moving_averages import *
from .learning_rate_decay import *
from .optimizer import Optimizer
from .optimizers import *
from .saver import *
from .training_util import *
from ..summary.writer import summary_iterator
from ..example import (BytesList, Example, Feature, FeatureList, FeatureLists, Features,
                       FloatList, Int64List, SequenceExample)
