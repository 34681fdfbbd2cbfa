"""The global step: an int64 scalar variable counting training steps (TF 1.x
`tf.train.get_or_create_global_step` and friends)."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import GraphKeys, get_default_graph

__all__ = ["get_global_step", "create_global_step", "get_or_create_global_step",
           "global_step", "assert_global_step"]


def global_step(sess, global_step_tensor) -> int:
    """The value of `global_step_tensor` in `sess`, as a Python int."""
    return int(sess.run(global_step_tensor))


def assert_global_step(global_step_tensor) -> None:
    """Raises TypeError unless `global_step_tensor` is an integer scalar variable or tensor."""
    if not hasattr(global_step_tensor, "dtype") or not hasattr(global_step_tensor, "op"):
        raise TypeError(f"Existing \"global_step\" must be a Variable or Tensor: "
                        f"{global_step_tensor!r}.")
    if not global_step_tensor.dtype.is_integer:
        raise TypeError(f"Existing \"global_step\" does not have integer type: "
                        f"{global_step_tensor.dtype.name}")
    shape = global_step_tensor.get_shape()
    if shape.ndims is not None and shape.ndims != 0:
        raise TypeError(f"Existing \"global_step\" is not scalar: {shape}")


def get_global_step(graph=None):
    """The global step of `graph` (default graph), or None when it has none.

    Looks in the GLOBAL_STEP collection, then for a tensor named "global_step:0".

    Raises:
        TypeError: several global steps, or one that is not an integer scalar.
    """
    graph = graph if graph is not None else get_default_graph()
    steps = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(steps) == 1:
        step = steps[0]
    elif not steps:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except (KeyError, ValueError):
            return None
    else:
        raise TypeError("Multiple tensors in global_step collection.")
    assert_global_step(step)
    return step


def create_global_step(graph=None):
    """Creates the int64 global step variable (value 0, not trainable) in `graph`.

    Raises:
        ValueError: the graph already has a global step.
    """
    graph = graph if graph is not None else get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError("\"global_step\" already exists.")
    from ..variables import Variable
    with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None):
        return Variable(np.zeros((), dtypes.int64.np), trainable=False,
                        name=GraphKeys.GLOBAL_STEP,
                        collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    """The graph's global step, created first when there is none."""
    graph = graph if graph is not None else get_default_graph()
    step = get_global_step(graph)
    return step if step is not None else create_global_step(graph)
