"""`tf.train`: optimizers, the global step, learning-rate schedules, clipping, checkpoints,
the Coordinator, queue runners and input pipelines, the Supervisor and the monitored sessions
with their hooks (TF 1.x names)."""
# ruff: noqa: F401, F403
from ..framework.graph_io import write_graph
from .clip_ops import *
from .distribute import *
from .moving_averages import *
from .learning_rate_decay import *
from .optimizer import Optimizer
from .optimizers import *
from .saver import *
from .checkpoint_utils import *
from .tf_checkpoint import TFCheckpointReader
from .training_util import *
from .coordinator import Coordinator, LooperThread
from . import queue_runner
from .queue_runner import QueueRunner, add_queue_runner, start_queue_runners
from .input import *
from .session_manager import SessionManager
from .supervisor import Supervisor
from .session_run_hook import *
from .basic_session_run_hooks import *
from .monitored_session import *
from ..summary.writer import summary_iterator
from ..example import (BytesList, Example, Feature, FeatureList, FeatureLists, Features,
                       FloatList, Int64List, SequenceExample)
