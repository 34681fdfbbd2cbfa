"""actorflow: TF 1.x dataflow graphs on NumPy (and CuPy), run by Ray actors.

``import actorflow as tf`` gives the TF 1.x graph API: graphs, sessions, variables, symbolic
gradients, optimizers, checkpoints, layers and losses. The core imports neither Ray nor
Gymnasium; those live in the packages above it (`actorflow.actors`, `actorflow.agents`, ...).
"""
# ruff: noqa: F401, F403, E402
from __future__ import annotations

__version__ = "0.1.0"


from . import dtypes, errors
from .dtypes import (DType, as_dtype, bool, complex64, complex128, double, float16, float32,
                     float64, half, int8, int16, int32, int64, string, uint8, uint16)
from .tensor_shape import Dimension, TensorShape
from .framework.graph import (Graph, GraphKeys, Operation, Tensor, add_to_collection,
                              add_to_collections, colocate_with, control_dependencies,
                              convert_to_tensor, device, get_collection, get_collection_ref,
                              get_default_graph, is_tensor, name_scope,
                              register_tensor_conversion_function, reset_default_graph)
from .framework.device_spec import DeviceSpec
from .framework.registry import NOT_DIFFERENTIABLE, registered_op_types
from .ops.constant import *
from .ops.array import *
from .ops.joining import *
from .ops.slicing import *
from .ops.indexing import *
from .ops.segment import *
from .ops.math import *
from .ops.unary import *
from .ops.logic import *
from .ops.reduction import *
from .ops.linalg import *
from .ops.operators import *  # exports nothing: installs the operators of Tensor
from .ops.control import *
from .ops.control_flow import case, cond, while_loop
from .ops.tensor_array import TensorArray
from .ops.random import *
from .ops.debug import *
from .ops import debug as debugging
from .ops import state as _state
from .ops.state import (count_up_to, scatter_add, scatter_mul, scatter_nd_add,
                        scatter_nd_sub, scatter_nd_update, scatter_sub, scatter_update)
from .ops.data_flow import (FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueBase,
                            RandomShuffleQueue)
from .ops import data_flow as queue  # tf.queue.FIFOQueue, ... (TF 1.x `tf.queue`)
from .variables import *
from .variable_scope import *
from .init_ops import *
from .gradients import AggregationMethod, gradients, hessians
from .session.session import InteractiveSession, Session, get_default_session
from .session.config import (ConfigProto, GPUOptions, GraphOptions, OptimizerOptions,
                             RunMetadata, RunOptions)
from .framework.graph_io import *
from . import nn, train, layers, losses, contrib, datasets, distributions
from . import image
# Device-specific kernels override generic ones of ops registered above (one module a device).
from .kernels import numpy_kernels as _numpy_kernels
from .rnn import reverse_sequence
from . import tf_logging as logging
from . import app, gfile
from .app import flags
from . import summary, metrics
from . import io, python_io, sparse
from .ops.parsing import *
from .ops.io_ops import *
from .framework.sparse_tensor import (SparseTensor, SparseTensorValue, sparse_tensor_to_dense,
                                      sparse_to_dense)
from . import data
from .summary.protos import Event, HistogramProto, SessionLog, Summary, SummaryMetadata
from .ops import training as _training_ops
from .train.clip_ops import clip_by_global_norm, clip_by_norm, global_norm, clip_by_average_norm
from . import compat, test
from .compat import (disable_eager_execution, disable_v2_behavior, disable_v2_tensorshape,
                     enable_eager_execution, enable_v2_behavior, executing_eagerly)

from .framework.indexed_slices import (IndexedSlices, IndexedSlicesValue,
                                       convert_to_tensor_or_indexed_slices)
