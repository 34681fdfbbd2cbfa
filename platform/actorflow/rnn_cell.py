"""RNN cells (TF 1.x `tf.nn.rnn_cell`, also part of `tf.contrib.rnn`).

A cell maps ``(inputs, state) -> (output, new_state)`` for ONE time step; `actorflow.rnn`
unrolls it over a statically known number of steps (the engine has no graph loops).

Variables follow TF 1.2+ names, made with `get_variable`: a cell's first call opens
``variable_scope(scope, default_name=<cell name>)`` (e.g. ``rnn/basic_lstm_cell/kernel`` and
``.../bias``) and remembers that scope; every later call of the same cell re-enters it with
``reuse=True``, so one cell object always shares its weights (as a TF 1.2+ `Layer` does).
States may be nested tuples (`LSTMStateTuple`, the tuples of `MultiRNNCell`).
"""
from __future__ import annotations

import collections

from . import dtypes
from .framework.graph import Tensor, convert_to_tensor, name_scope
from .init_ops import constant_initializer, zeros_initializer
from .ops.joining import concat, stack
from .ops.linalg import matmul
from .ops.math import add, clip_by_value, multiply, subtract
from .ops.nn import bias_add, dropout
from .ops.slicing import split
from .ops.unary import sigmoid, tanh
from .variable_scope import get_variable, variable_scope
from .variables import global_variables, trainable_variables

__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell",
           "DropoutWrapper", "ResidualWrapper", "LSTMStateTuple"]


# -- nested structures (tuples of tensors or of sizes) ---------------------------------------
def flatten(structure) -> list:
    """The leaves of nested tuples/lists (namedtuples included), depth first."""
    if isinstance(structure, (tuple, list)):
        return [leaf for s in structure for leaf in flatten(s)]
    return [structure]


def pack_as(structure, flat):
    """Rebuilds `structure` with the leaves taken in order from `flat`."""
    it = iter(flat)

    def build(s):
        if isinstance(s, (tuple, list)):
            items = [build(x) for x in s]
            if isinstance(s, list):
                return items
            return type(s)(*items) if hasattr(s, "_fields") else tuple(items)
        return next(it)
    return build(structure)


def map_structure(fn, *structures):
    """`fn` applied leaf-wise to structures of the same shape."""
    flats = [flatten(s) for s in structures]
    return pack_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """The state of an LSTM cell: cell memory `c` and hidden output `h`."""

    __slots__ = ()

    @property
    def dtype(self):
        if self.c.dtype != self.h.dtype:
            raise TypeError(f"Inconsistent internal state: {self.c.dtype.name} vs "
                            f"{self.h.dtype.name}")
        return self.c.dtype


def _linear(args: list, output_size: int, bias: bool, bias_initializer=None,
            kernel_initializer=None) -> Tensor:
    """``concat(args, 1) @ kernel + bias`` with variables "kernel" [sum of depths, output_size]
    and "bias" [output_size] (zeros unless `bias_initializer`) in the current scope.

    Raises:
        ValueError: an argument is not 2-D or its depth is not statically known.
    """
    depth = 0
    for a in args:
        shp = a._shape
        if shp is None or len(shp) != 2:
            raise ValueError(f"linear is expecting 2D arguments: {a.name} has shape "
                             f"{None if shp is None else list(shp)}")
        if shp[1] is None:
            raise ValueError(f"linear expects shape[1] to be provided for shape {list(shp)} "
                             f"of {a.name}, but saw None")
        depth += shp[1]
    dtype = args[0].dtype
    kernel = get_variable("kernel", [depth, output_size], dtype=dtype,
                          initializer=kernel_initializer)
    x = args[0] if len(args) == 1 else concat(args, 1)
    res = matmul(x, kernel)
    if not bias:
        return res
    b = get_variable("bias", [output_size], dtype=dtype,
                     initializer=bias_initializer or zeros_initializer())
    return bias_add(res, b)


def _zeros(batch_size, size, dtype) -> Tensor:
    from .ops.constant import zeros
    if hasattr(batch_size, "op"):
        z = zeros(stack([batch_size, size]), dtype=dtype)
        z.set_shape([None, int(size)])
        return z
    return zeros([int(batch_size), int(size)], dtype=dtype)


# -- cells ------------------------------------------------------------------------------------
class RNNCell:
    """Base cell: subclasses define `state_size`, `output_size` and `call(inputs, state)`.

    Calling the cell runs `call` inside the cell's variable scope (see the module docstring).
    """

    _base_name = "rnn_cell"

    def __init__(self, reuse=None, name: str | None = None) -> None:
        self._reuse = reuse
        self._name = name
        self._scope = None

    @property
    def state_size(self):
        """An int, or nested tuple of ints: the width of each state tensor."""
        raise NotImplementedError(f"{type(self).__name__} must define state_size")

    @property
    def output_size(self) -> int:
        """The width of the output."""
        raise NotImplementedError(f"{type(self).__name__} must define output_size")

    def call(self, inputs, state):
        """One step: returns (output, new_state)."""
        raise NotImplementedError(f"{type(self).__name__} must define call")

    def __call__(self, inputs, state, scope=None):
        """Runs one step in the cell's variable scope: (output, new_state)."""
        inputs = convert_to_tensor(inputs)
        state = map_structure(convert_to_tensor, state)
        if self._scope is None:
            with variable_scope(scope, default_name=self._name or self._base_name,
                                reuse=self._reuse) as vs:
                self._scope = vs
                return self.call(inputs, state)
        with variable_scope(self._scope, reuse=True):
            return self.call(inputs, state)

    def zero_state(self, batch_size, dtype):
        """Zeros of shape [batch_size, size] for each entry of `state_size`."""
        dtype = dtypes.as_dtype(dtype)
        with name_scope(type(self).__name__ + "ZeroState", values=None):
            sizes = self.state_size
            return pack_as(sizes, [_zeros(batch_size, s, dtype) for s in flatten(sizes)])

    @property
    def variables(self) -> list:
        """The variables made in this cell's scope (empty before the first call)."""
        return self._scoped(global_variables())

    @property
    def trainable_variables(self) -> list:
        return self._scoped(trainable_variables())

    weights = variables
    trainable_weights = trainable_variables

    def _scoped(self, candidates: list) -> list:
        if self._scope is None:
            return []
        prefix = self._scope.name + "/"
        return [v for v in candidates if v.op.name.startswith(prefix)]


def _activation(fn):
    return tanh if fn is None else fn


class BasicRNNCell(RNNCell):
    """``h' = activation(W [x, h] + b)``; variables "basic_rnn_cell/kernel" and "bias"."""

    _base_name = "basic_rnn_cell"

    def __init__(self, num_units: int, activation=None, reuse=None, name=None) -> None:
        super().__init__(reuse, name)
        self._num_units = int(num_units)
        self._act = _activation(activation)

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def call(self, inputs, state):
        out = self._act(_linear([inputs, state], self._num_units, True))
        return out, out


class BasicLSTMCell(RNNCell):
    """The LSTM of Zaremba et al. (no peepholes, no clipping); gates i, j, f, o come from one
    kernel [input depth + num_units, 4 * num_units] and bias, in that order:
    ``c' = c * sigmoid(f + forget_bias) + sigmoid(i) * act(j)``, ``h' = act(c') * sigmoid(o)``.
    The state is ``LSTMStateTuple(c, h)``, or ``concat([c, h], 1)`` with state_is_tuple=False.
    """

    _base_name = "basic_lstm_cell"

    def __init__(self, num_units: int, forget_bias: float = 1.0, state_is_tuple: bool = True,
                 activation=None, reuse=None, name=None) -> None:
        super().__init__(reuse, name)
        self._num_units = int(num_units)
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = state_is_tuple
        self._act = _activation(activation)

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    output_size = property(lambda self: self._num_units)

    def call(self, inputs, state):
        c, h = state if self._state_is_tuple else split(state, 2, axis=1)
        i, j, f, o = split(_linear([inputs, h], 4 * self._num_units, True), 4, axis=1)
        new_c = add(multiply(c, sigmoid(add(f, self._forget_bias))),
                    multiply(sigmoid(i), self._act(j)))
        new_h = multiply(self._act(new_c), sigmoid(o))
        new_state = (LSTMStateTuple(new_c, new_h) if self._state_is_tuple
                     else concat([new_c, new_h], 1))
        return new_h, new_state


class LSTMCell(RNNCell):
    """LSTM with optional peepholes (variables "w_f_diag", "w_i_diag", "w_o_diag"), cell
    clipping and an output projection ("projection/kernel", num_proj wide); variables
    "lstm_cell/kernel" and "bias", gate order i, j, f, o as in `BasicLSTMCell`.
    `initializer` initialises the kernels and peepholes.
    """

    _base_name = "lstm_cell"

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip=None,
                 initializer=None, num_proj=None, proj_clip=None, num_unit_shards=None,
                 num_proj_shards=None, forget_bias: float = 1.0, state_is_tuple: bool = True,
                 activation=None, reuse=None, name=None) -> None:
        super().__init__(reuse, name)
        if num_unit_shards is not None or num_proj_shards is not None:
            raise ValueError("LSTMCell: num_unit_shards and num_proj_shards (partitioned "
                             "variables) are not supported")
        self._num_units = int(num_units)
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = None if num_proj is None else int(num_proj)
        self._proj_clip = proj_clip
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = state_is_tuple
        self._act = _activation(activation)

    @property
    def state_size(self):
        m = self._num_proj or self._num_units
        return LSTMStateTuple(self._num_units, m) if self._state_is_tuple \
            else self._num_units + m

    output_size = property(lambda self: self._num_proj or self._num_units)

    def call(self, inputs, state):
        n = self._num_units
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev, m_prev = split(state, [n, self.output_size], axis=1)
        i, j, f, o = split(_linear([inputs, m_prev], 4 * n, True,
                                   kernel_initializer=self._initializer), 4, axis=1)
        f = add(f, self._forget_bias)
        if self._use_peepholes:
            w_f, w_i, w_o = (get_variable(nm, [n], dtype=inputs.dtype,
                                          initializer=self._initializer)
                             for nm in ("w_f_diag", "w_i_diag", "w_o_diag"))
            f = add(f, multiply(w_f, c_prev))
            i = add(i, multiply(w_i, c_prev))
        c = add(multiply(sigmoid(f), c_prev), multiply(sigmoid(i), self._act(j)))
        if self._cell_clip is not None:
            c = clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            o = add(o, multiply(w_o, c))
        m = multiply(sigmoid(o), self._act(c))
        if self._num_proj is not None:
            with variable_scope("projection"):
                m = _linear([m], self._num_proj, False, kernel_initializer=self._initializer)
            if self._proj_clip is not None:
                m = clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else concat([c, m], 1)
        return m, new_state


class GRUCell(RNNCell):
    """Gated recurrent unit: ``r, u = sigmoid(W_g [x, h] + b_g)`` (variables "gates/kernel",
    "gates/bias", bias initialised to 1), ``c = act(W_c [x, r * h] + b_c)`` ("candidate/..."),
    ``h' = u * h + (1 - u) * c``."""

    _base_name = "gru_cell"

    def __init__(self, num_units: int, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None) -> None:
        super().__init__(reuse, name)
        self._num_units = int(num_units)
        self._act = _activation(activation)
        self._kernel_init = kernel_initializer
        self._bias_init = bias_initializer

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def call(self, inputs, state):
        n = self._num_units
        with variable_scope("gates"):
            value = sigmoid(_linear([inputs, state], 2 * n, True,
                                    self._bias_init or constant_initializer(1.0),
                                    self._kernel_init))
        r, u = split(value, 2, axis=1)
        with variable_scope("candidate"):
            c = self._act(_linear([inputs, multiply(r, state)], n, True, self._bias_init,
                                  self._kernel_init))
        new_h = add(multiply(u, state), multiply(subtract(1.0, u), c))
        return new_h, new_h


class MultiRNNCell(RNNCell):
    """Cells stacked in layers: layer k runs in scope "cell_k" on the output of layer k-1.
    The state is the tuple of the layers' states (or their concatenation with
    state_is_tuple=False)."""

    _base_name = "multi_rnn_cell"

    def __init__(self, cells, state_is_tuple: bool = True) -> None:
        super().__init__()
        cells = list(cells)
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not state_is_tuple and any(isinstance(c.state_size, tuple) for c in cells):
            raise ValueError("Some cells return tuples of states, but the flag "
                             "state_is_tuple is not set.")
        self._cells = cells
        self._state_is_tuple = state_is_tuple

    @property
    def state_size(self):
        sizes = tuple(c.state_size for c in self._cells)
        return sizes if self._state_is_tuple else sum(sizes)

    output_size = property(lambda self: self._cells[-1].output_size)

    def zero_state(self, batch_size, dtype):
        if self._state_is_tuple:
            return tuple(c.zero_state(batch_size, dtype) for c in self._cells)
        return super().zero_state(batch_size, dtype)

    def call(self, inputs, state):
        x, new_states = inputs, []
        if not self._state_is_tuple:
            state = split(state, [c.state_size for c in self._cells], axis=1)
        for k, cell in enumerate(self._cells):
            with variable_scope(f"cell_{k}"):
                x, s = cell(x, state[k])
            new_states.append(s)
        return x, (tuple(new_states) if self._state_is_tuple else concat(new_states, 1))


class _Wrapper(RNNCell):
    """A cell around another cell; it adds no variable scope of its own."""

    def __init__(self, cell: RNNCell) -> None:
        super().__init__()
        self._cell = cell

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def zero_state(self, batch_size, dtype):
        return self._cell.zero_state(batch_size, dtype)

    variables = property(lambda self: self._cell.variables)
    trainable_variables = property(lambda self: self._cell.trainable_variables)
    weights = variables
    trainable_weights = trainable_variables


def _check_keep_prob(p, what: str):
    if isinstance(p, (int, float)) and not 0.0 < float(p) <= 1.0:
        raise ValueError(f"Parameter {what} must be between 0 and 1: {p}")
    return p


def _is_one(p) -> bool:
    return isinstance(p, (int, float)) and float(p) == 1.0


class DropoutWrapper(_Wrapper):
    """Dropout on a cell's inputs, outputs and state (for an `LSTMStateTuple`, only `h`),
    each with its own keep probability (a float or a scalar tensor).

    Raises:
        ValueError: a constant keep probability outside (0, 1].
        NotImplementedError: variational_recurrent=True.
    """

    def __init__(self, cell: RNNCell, input_keep_prob=1.0, output_keep_prob=1.0,
                 state_keep_prob=1.0, variational_recurrent: bool = False, input_size=None,
                 dtype=None, seed=None) -> None:
        super().__init__(cell)
        if variational_recurrent:
            raise NotImplementedError("DropoutWrapper(variational_recurrent=True) is not "
                                      "supported")
        self._in = _check_keep_prob(input_keep_prob, "input_keep_prob")
        self._out = _check_keep_prob(output_keep_prob, "output_keep_prob")
        self._state = _check_keep_prob(state_keep_prob, "state_keep_prob")
        self._seed = seed

    def _dropout(self, x, keep_prob, salt: int):
        seed = None if self._seed is None else (int(self._seed) * 7919 + salt) % (2 ** 31 - 1)
        return dropout(x, keep_prob, seed=seed)

    def __call__(self, inputs, state, scope=None):
        if not _is_one(self._in):
            inputs = self._dropout(inputs, self._in, 1)
        output, new_state = self._cell(inputs, state, scope)
        if not _is_one(self._state):
            if isinstance(new_state, LSTMStateTuple):
                new_state = LSTMStateTuple(new_state.c,
                                           self._dropout(new_state.h, self._state, 2))
            else:
                new_state = map_structure(lambda s: self._dropout(s, self._state, 2),
                                          new_state)
        if not _is_one(self._out):
            output = self._dropout(output, self._out, 3)
        return output, new_state


class ResidualWrapper(_Wrapper):
    """Adds the cell's inputs to its outputs: ``output = inputs + cell(inputs)`` (or
    ``residual_fn(inputs, outputs)``)."""

    def __init__(self, cell: RNNCell, residual_fn=None) -> None:
        super().__init__(cell)
        self._residual_fn = residual_fn

    def __call__(self, inputs, state, scope=None):
        output, new_state = self._cell(inputs, state, scope)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, output), new_state
        return map_structure(add, inputs, output), new_state
