"""`tf.train.ExponentialMovingAverage`: shadow copies of variables that trail them.

Each `apply` adds, per variable, ``shadow -= (1 - decay) * (shadow - value)`` as one in-place
`assign_sub` colocated with the shadow; with `num_updates`, the decay used is
``min(decay, (1 + num_updates) / (10 + num_updates))`` so early averages move faster (TF 1.x).
A variable's shadow starts at the variable's initial value, a tensor's at zero.
"""
from __future__ import annotations

from .. import dtypes
from ..framework.graph import GraphKeys, Tensor, convert_to_tensor, get_default_graph
from ..ops.array import shape
from ..ops.constant import zeros
from ..ops.control import group
from ..ops.math import cast, minimum, multiply, subtract
from ..variable_scope import get_variable_scope, variable_scope
from ..variables import Variable, assign_sub

__all__ = ["ExponentialMovingAverage"]


class ExponentialMovingAverage:
    """Maintains exponential moving averages of variables (or tensors) in shadow variables."""

    def __init__(self, decay, num_updates=None, zero_debias: bool = False,
                 name: str = "ExponentialMovingAverage") -> None:
        if zero_debias:
            raise NotImplementedError("ExponentialMovingAverage(zero_debias=True) is not "
                                      "supported")
        self._decay = decay
        self._num_updates = num_updates
        self._name = name
        self._averages: dict = {}

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list=None):
        """Creates (once) the shadow of each variable and returns one op updating them all.

        Args:
            var_list: variables or float tensors (default: all trainable variables).

        Raises:
            TypeError: an element is not floating point.
            ValueError: an element appears twice.
        """
        if var_list is None:
            var_list = get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES)
        var_list = list(var_list)
        seen: set = set()
        for v in var_list:
            if not v.dtype.is_floating:
                raise TypeError(f"The variables must be half, float, or double: {v.name}")
            if id(v) in seen:
                raise ValueError(f"Duplicate variable in var_list: {v.name}")
            seen.add(id(v))
            if v not in self._averages:
                self._averages[v] = self._make_shadow(v)
        graph = get_default_graph()
        with graph.name_scope(self._name):
            decay = convert_to_tensor(self._decay, dtype=dtypes.float32, name="decay")
            if self._num_updates is not None:
                n = cast(convert_to_tensor(self._num_updates), dtypes.float32)
                decay = minimum(decay, (1.0 + n) / (10.0 + n))
            updates = []
            for v in var_list:
                shadow = self._averages[v]
                value = v.value() if isinstance(v, Variable) else convert_to_tensor(v)
                with graph.colocate_with(shadow.op):
                    one_minus = subtract(1.0, cast(decay, shadow.dtype))
                    delta = multiply(subtract(shadow.value(), value), one_minus)
                    updates.append(assign_sub(shadow, delta))
            return group(*updates, name=self._name)

    def _make_shadow(self, v) -> Variable:
        base = v.op.name
        if isinstance(v, Variable):
            init = v.initialized_value()
        elif v.get_shape().is_fully_defined():
            # a tensor's average starts at zero (TF's zeros slot): initializing it from the
            # tensor would run the model, and block on an input queue no runner fills yet
            init = zeros(v.get_shape().as_list(), dtype=v.dtype)
        else:
            init = zeros(shape(v), dtype=v.dtype)
        with get_default_graph().name_scope(None), variable_scope(get_variable_scope(),
                                                                 reuse=False):
            return Variable(init, trainable=False, name=f"{base}/{self._name}",
                            collections=[GraphKeys.GLOBAL_VARIABLES,
                                         GraphKeys.MOVING_AVERAGE_VARIABLES])

    def average(self, var) -> Variable | None:
        """The shadow variable of `var`, or None if `apply` never saw it."""
        return self._averages.get(var)

    def average_name(self, var) -> str:
        """The name of `var`'s shadow variable (usable before `apply`, e.g. to restore)."""
        name = var.op.name if not isinstance(var, Tensor) else var.op.name
        return f"{name}/{self._name}"

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """{checkpoint name: variable}: restores averaged values into the model variables."""
        graph = get_default_graph()
        if moving_avg_variables is None:
            moving_avg_variables = graph.get_collection(GraphKeys.TRAINABLE_VARIABLES) + \
                graph.get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES)
        out = {}
        shadows = {id(s) for s in self._averages.values()}
        for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES):
            if id(v) in shadows:
                continue
            if v in moving_avg_variables:
                out[self.average_name(v)] = v
            else:
                out[v.op.name] = v
        return out
