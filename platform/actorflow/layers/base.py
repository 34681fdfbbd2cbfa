"""The `Layer` base class of `tf.layers` and the argument helpers its subclasses share.

A layer owns a variable scope, created on its first call: ``name`` when given, else a unique
``<base_name>``, ``<base_name>_1``, ... (TF 1.x naming). Its variables are made there with
`tf.get_variable` (or a getter passed by `tf.contrib.layers`), so `variable_scope(...,
reuse=True)` and ``reuse=True`` share them. Update ops a call creates (batch-norm moving
averages) go to ``GraphKeys.UPDATE_OPS``; regularizer losses go to
``GraphKeys.REGULARIZATION_LOSSES`` through `get_variable`.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes, init_ops
from ..framework.graph import (GraphKeys, Tensor, add_to_collection, constant_value,
                               convert_to_tensor, name_scope)
from ..variable_scope import get_variable, variable_scope

__all__ = ["Layer"]


class Layer:
    """Base class of the `tf.layers` classes: variables in one scope, built on the first call.

    Subclasses implement ``build(input_shape)`` (creating variables with `add_weight`) and
    ``call(inputs, **kwargs)``.
    """

    _base_name = "layer"

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None,
                 activity_regularizer=None, _reuse=None, _getter=None) -> None:
        self.trainable = trainable
        self.name = name
        self.dtype = None if dtype is None else dtypes.as_dtype(dtype)
        self.activity_regularizer = activity_regularizer
        self.built = False
        self.updates: list = []
        self.losses: list = []
        self._reuse = _reuse
        self._getter = _getter
        self._scope = None
        self._trainable_weights: list = []
        self._non_trainable_weights: list = []

    # -- variables ---------------------------------------------------------------------
    @property
    def trainable_weights(self) -> list:
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list:
        if self.trainable:
            return list(self._non_trainable_weights)
        return self._trainable_weights + self._non_trainable_weights

    @property
    def weights(self) -> list:
        return self.trainable_weights + self.non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    @property
    def scope_name(self) -> str:
        if self._scope is None:
            raise ValueError(f"No name available for layer scope because the layer "
                             f"{self.name or self._base_name!r} has not been used yet.")
        return self._scope.name

    def _kernel_and_bias_config(self, use_bias, kernel_initializer, bias_initializer,
                                kernel_regularizer, bias_regularizer, kernel_constraint,
                                bias_constraint) -> None:
        """Records the kernel_/bias_ settings that `_add_kernel_and_bias` builds from."""
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.kernel = self.bias = None

    def _add_kernel_and_bias(self, kernel_shape: list, units: int) -> None:
        """Creates ``kernel`` and (with `use_bias`) ``bias`` [units] from the layer's
        kernel_/bias_ initializer, regularizer and constraint attributes (Dense, Conv2D)."""
        self.kernel = self.add_weight("kernel", kernel_shape,
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", [units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def add_weight(self, name: str, shape, dtype=None, initializer=None, regularizer=None,
                   trainable: bool = True, constraint=None):
        """Creates (or, under reuse, fetches) variable `name` in the layer's scope."""
        if constraint is not None:
            raise NotImplementedError(f"{type(self).__name__}: variable constraints are not "
                                      "supported")
        trainable = trainable and self.trainable
        getter = self._getter or get_variable
        var = getter(name, shape=list(shape), dtype=dtype or self.dtype,
                     initializer=resolve_initializer(initializer), regularizer=regularizer,
                     trainable=trainable)
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        return var

    add_variable = add_weight

    def add_update(self, updates, inputs=None) -> None:
        self.updates.extend(updates if isinstance(updates, (list, tuple)) else [updates])

    # -- calling -----------------------------------------------------------------------
    def build(self, input_shape) -> None:
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        """Builds the layer on its first call (in its variable scope) and applies it."""
        scope = kwargs.pop("scope", None)
        if self._scope is not None:
            scope_cm = variable_scope(self._scope, reuse=True)
        elif self._reuse:
            scope_cm = variable_scope(scope or self.name or self._base_name, reuse=self._reuse)
        else:
            scope_cm = variable_scope(scope or self.name, default_name=self._base_name)
        n_updates = len(self.updates)
        with scope_cm as vs:
            if self._scope is None:
                self._scope = vs
                self.name = self.name or vs.name.rsplit("/", 1)[-1]
            outputs = self.call_in_current_scope(inputs, *args, **kwargs)
        for update in self.updates[n_updates:]:
            add_to_collection(GraphKeys.UPDATE_OPS, update)
        return outputs

    apply = __call__

    def call_in_current_scope(self, inputs, *args, **kwargs):
        """Builds (once) and calls the layer without opening a scope of its own.

        `tf.contrib.layers` uses this inside the scope it opens itself; update ops are
        left in ``self.updates`` for the caller to collect.
        """
        inputs = convert_to_tensor(inputs)
        if self.dtype is None:
            self.dtype = inputs.dtype.base_dtype
        if not self.built:
            self.build(inputs.get_shape())
            self.built = True
        outputs = self.call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None:
            with name_scope("ActivityRegularizer"):
                loss = self.activity_regularizer(outputs)
            if loss is not None:
                self.losses.append(loss)
                add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return outputs


# -- argument helpers ---------------------------------------------------------------------
def resolve_initializer(initializer):
    """Maps the string defaults "zeros" / "ones" to initializers; other values pass through."""
    if isinstance(initializer, str):
        table = {"zeros": init_ops.zeros_initializer, "ones": init_ops.ones_initializer}
        if initializer not in table:
            raise ValueError(f"Unknown initializer {initializer!r}; pass an initializer")
        return table[initializer]()
    return initializer


def normalize_tuple(value, n: int, name: str) -> tuple:
    """An int repeated `n` times, or a length-`n` sequence of ints, as a tuple."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: "
                         f"{value!r}") from None
    if len(out) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: "
                         f"{value!r}")
    return out


def normalize_padding(value: str) -> str:
    padding = str(value).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: "
                         f"{value!r}")
    return padding


def normalize_data_format(value: str | None) -> str:
    data_format = "channels_last" if value is None else str(value).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: {value!r}")
    return data_format


def static_bool(pred) -> bool | None:
    """The value of a Python bool, or of a bool tensor known at graph construction; else None."""
    if isinstance(pred, (bool, np.bool_, int, np.integer)):
        return bool(pred)
    t = convert_to_tensor(pred)
    if t.dtype != dtypes.bool:
        raise TypeError(f"`training` must be a Python bool or a bool tensor, got {t!r}")
    value = constant_value(t)
    return None if value is None else bool(value)


def select(pred, true_fn, false_fn):
    """``true_fn()`` or ``false_fn()`` chosen by `pred` (TF's smart_cond): statically when its
    value is known, else by `tf.cond` on the bool tensor, so only the chosen branch runs."""
    value = static_bool(pred)
    if value is not None:
        return true_fn() if value else false_fn()
    from ..ops.control_flow import cond
    return cond(convert_to_tensor(pred), true_fn, false_fn)


def check_rank(inputs: Tensor, rank: int, layer: str) -> tuple:
    """The static shape of `inputs`, checked to have `rank` dims (ValueError otherwise)."""
    shape = inputs._shape
    if shape is None or len(shape) != rank:
        found = "unknown" if shape is None else len(shape)
        raise ValueError(f"Input 0 of layer {layer} is incompatible with the layer: expected "
                         f"ndim={rank}, found ndim={found}. Full shape received: "
                         f"{inputs.get_shape()}")
    return shape
