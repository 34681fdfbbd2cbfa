"""Recurrent networks (TF 1.x `tf.nn.static_rnn`, `dynamic_rnn`, their bidirectional forms,
and `tf.reverse_sequence`). This module with the cells of `actorflow.rnn_cell` is
`tf.contrib.rnn`.

`static_rnn` unrolls the cell in Python, one copy of the cell's ops per step of its list of
inputs. `dynamic_rnn` and `raw_rnn` run the cell in a `tf.while_loop` over TensorArrays, as
TF does, so their number of time steps may be unknown until run time. Variables live
in the scope "rnn" ("bidirectional_rnn/fw" and ".../bw"), shared across steps. With
`sequence_length`, each row's outputs past its length are zeros and its state is carried
through unchanged, so the final state is the state at the row's last valid step.
"""
from __future__ import annotations

from .framework.graph import Tensor, convert_to_tensor, name_scope
from .ops.array import shape as _shape, transpose
from .ops.constant import range as _range, zeros_like
from .ops.indexing import gather_nd
from .ops.joining import concat, stack, unstack
from .ops.logic import greater_equal, less, where
from .ops.math import add, cast, multiply, subtract
from .ops.slicing import reverse
from .rnn_cell import *  # noqa: F401, F403 - tf.contrib.rnn holds the cells too
from .rnn_cell import __all__ as _cell_all
from .rnn_cell import flatten, map_structure, pack_as
from . import dtypes
from .variable_scope import variable_scope

__all__ = ["static_rnn", "static_bidirectional_rnn", "dynamic_rnn",
           "bidirectional_dynamic_rnn", "raw_rnn", "reverse_sequence"] + list(_cell_all)


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None,
                     seq_dim=None, batch_dim=None) -> Tensor:  # noqa: A002 - TF's names
    """Reverses the first ``seq_lengths[b]`` entries along `seq_axis` of each slice `b` along
    `batch_axis` (default 0); entries past the length stay in place. A composite of
    GatherNd (so its gradient is a scatter of the incoming gradient).

    Raises:
        ValueError: the rank of `input` is unknown, or the axes are equal or out of range.
    """
    seq_axis = seq_dim if seq_axis is None else seq_axis
    batch_axis = batch_dim if batch_axis is None else batch_axis
    batch_axis = 0 if batch_axis is None else int(batch_axis)
    if seq_axis is None:
        raise ValueError("reverse_sequence: seq_axis is required")
    with name_scope(name, "ReverseSequence", [input, seq_lengths]):
        x = convert_to_tensor(input, name="input")
        if x._shape is None:
            raise ValueError(f"reverse_sequence: the rank of {x.name} must be known")
        rank = len(x._shape)
        seq_axis, batch_axis = int(seq_axis) % max(rank, 1), batch_axis % max(rank, 1)
        if rank < 2 or seq_axis == batch_axis:
            raise ValueError(f"reverse_sequence: need distinct seq_axis and batch_axis in a "
                             f"tensor of rank >= 2, got {seq_axis}, {batch_axis} for shape "
                             f"{list(x._shape)}")
        perm = [batch_axis, seq_axis] + [a for a in range(rank) if a not in
                                         (batch_axis, seq_axis)]
        xt = transpose(x, perm) if perm != list(range(rank)) else x
        dims = [d if d is not None else _shape(xt)[k] for k, d in enumerate(xt._shape[:2])]
        t = _range(dims[1])[None, :]  # [1, T]
        lens = cast(convert_to_tensor(seq_lengths, name="seq_lengths"), dtypes.int32)[:, None]
        inside = cast(less(t, lens), dtypes.int32)
        src = add(t, multiply(inside, subtract(subtract(lens, 1), add(t, t))))  # [B, T]
        rows = add(zeros_like(src), _range(dims[0])[:, None])
        out = gather_nd(xt, stack([rows, src], axis=-1))
        if perm == list(range(rank)):
            return out
        inverse = [perm.index(a) for a in range(rank)]
        return transpose(out, inverse)


# -- the unrolled loop ----------------------------------------------------------------------
def _batch_size(flat_inputs: list):
    """The static batch size of the first input that has one, else a scalar tensor."""
    for x in flat_inputs:
        if x._shape is not None and x._shape and x._shape[0] is not None:
            return int(x._shape[0])
    return _shape(flat_inputs[0])[0]


def _initial_state(cell, initial_state, dtype, flat_inputs: list):
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError("If no initial_state is provided, dtype must be specified")
    return cell.zero_state(_batch_size(flat_inputs), dtype)


def _sequence_length(sequence_length):
    if sequence_length is None:
        return None
    seq = cast(convert_to_tensor(sequence_length, name="sequence_length"), dtypes.int32)
    if seq._shape is not None and len(seq._shape) != 1:
        raise ValueError(f"sequence_length must be a vector of length batch_size, but saw "
                         f"shape: {list(seq._shape)}")
    return seq


def _unroll(cell, step_inputs: list, state, seq, varscope) -> tuple[list, object]:
    """Calls `cell` once per step (variables reused after the first); with lengths `seq`,
    finished rows get zero outputs and keep their state."""
    outputs = []
    for t, x in enumerate(step_inputs):
        if t > 0:
            varscope.reuse_variables()
        output, new_state = cell(x, state)
        if seq is not None:
            output, new_state = _mask_finished(greater_equal(t, seq), output, state, new_state)
        outputs.append(output)
        state = new_state
    return outputs, state


def _mask_finished(done: Tensor, output, state, new_state) -> tuple:
    """Zero outputs and the previous state for the rows where `done` is true."""
    output = map_structure(lambda o: where(done, zeros_like(o), o), output)
    return output, map_structure(lambda old, new: where(done, old, new), state, new_state)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None,
               scope=None):
    """Runs `cell` over a Python list of step inputs (each [batch, depth], or nested).

    Returns:
        (outputs, final_state): the list of step outputs and the last state.

    Raises:
        TypeError: `inputs` is not a list or tuple.
        ValueError: `inputs` is empty, or neither initial_state nor dtype is given.
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    steps = [map_structure(convert_to_tensor, x) for x in inputs]
    with variable_scope(scope or "rnn") as varscope:
        state = _initial_state(cell, initial_state, dtype, flatten(steps[0]))
        return _unroll(cell, steps, state, _sequence_length(sequence_length), varscope)


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """Runs `cell` over `inputs` [batch, time, ...] ([time, batch, ...] with time_major) in a
    `tf.while_loop`, so the number of time steps may be unknown until run time.

    Each step reads its input from a TensorArray and writes its output to another; the
    cell's variables are created once, in the scope `scope` (default "rnn"). With
    `sequence_length`, outputs past each row's length are zeros and its state is carried
    through, so the final state is the state at the row's last valid step.

    Returns:
        (outputs, final_state): outputs [batch, time, output_size] (time-major with
        time_major=True).

    Raises:
        ValueError: an input's rank is unknown or below 2, or neither initial_state nor
            dtype is given.
    """
    from .ops.control_flow import while_loop
    from .ops.tensor_array import TensorArray
    flat = [convert_to_tensor(x) for x in flatten(inputs)]
    for x in flat:
        if x._shape is None or len(x._shape) < 2:
            raise ValueError(f"dynamic_rnn: inputs must have a known rank >= 2, got {x.name} "
                             f"of shape {None if x._shape is None else list(x._shape)}")
    with variable_scope(scope or "rnn"):
        if not time_major:  # the loop runs over axis 0
            flat = [transpose(x, [1, 0] + list(range(2, len(x._shape)))) for x in flat]
        steps = next((x._shape[0] for x in flat if x._shape[0] is not None), None)
        time_steps = steps if steps is not None else _shape(flat[0])[0]
        static_batch = next((x._shape[1] for x in flat if x._shape[1] is not None), None)
        batch = static_batch if static_batch is not None else _shape(flat[0])[1]
        state = initial_state
        if state is None:
            if dtype is None:
                raise ValueError("If no initial_state is provided, dtype must be specified")
            state = cell.zero_state(batch, dtype)
        seq = _sequence_length(sequence_length)
        out_dtype = flatten(state)[0].dtype
        input_tas = [TensorArray(x.dtype, size=time_steps, element_shape=x._shape[1:],
                                 tensor_array_name="input").unstack(x) for x in flat]
        out_sizes = flatten(cell.output_size)
        output_tas = tuple(TensorArray(out_dtype, size=time_steps,
                                       element_shape=_step_shape(static_batch, size),
                                       tensor_array_name="output") for size in out_sizes)

        def body(time, out_tas, state):
            step = [ta.read(time) for ta in input_tas]
            for x, full in zip(step, flat):
                x.set_shape(full._shape[1:])
            output, new_state = cell(pack_as(inputs, step), state)
            if seq is not None:
                output, new_state = _mask_finished(greater_equal(time, seq), output, state,
                                                   new_state)
            flat_out = flatten(output)
            out_tas = tuple(ta.write(time, o) for ta, o in zip(out_tas, flat_out))
            return time + 1, out_tas, new_state

        from .ops.constant import constant
        _, out_tas, final_state = while_loop(
            lambda time, *_: less(time, time_steps), body,
            (constant(0, dtype=dtypes.int32, name="time"), output_tas, state),
            parallel_iterations=parallel_iterations or 32, swap_memory=swap_memory,
            maximum_iterations=time_steps)
        outs = []
        for ta in out_tas:
            o = ta.stack()
            o.set_shape((steps,) + tuple(ta.element_shape.as_tuple() or ()))
            if not time_major:
                o = transpose(o, [1, 0] + list(range(2, len(o._shape))))
            outs.append(o)
        return pack_as(cell.output_size, outs), final_state


def raw_rnn(cell, loop_fn, parallel_iterations=None, swap_memory=False, scope=None):
    """Runs `cell` in a `tf.while_loop` whose inputs, stopping and emitted values are chosen
    by `loop_fn` at each step (TF 1.x `tf.nn.raw_rnn`).

    ``loop_fn(time, cell_output, cell_state, loop_state)`` returns ``(elements_finished,
    next_input, next_cell_state, emit_output, next_loop_state)``. At time 0 it is called
    with ``cell_output=cell_state=loop_state=None`` and returns the initial state (and, as
    `emit_output`, the structure of what will be emitted, or None for the cell's output).
    The loop runs until every row is finished; a finished row emits zeros and keeps its
    state.

    Returns:
        (emit_ta, final_state, final_loop_state): TensorArrays (nested like the emitted
        structure) of the per-step emits, the final cell state and the final loop state.

    Raises:
        TypeError: `loop_fn` is not callable.
    """
    from .ops.constant import constant
    from .ops.control_flow import while_loop
    from .ops.logic import logical_or
    from .ops.reduction import reduce_all
    from .ops.tensor_array import TensorArray
    if not callable(loop_fn):
        raise TypeError("loop_fn must be a callable")
    with variable_scope(scope or "rnn"):
        time = constant(0, dtype=dtypes.int32, name="time")
        finished, next_input, state, emit_structure, loop_state = loop_fn(
            time, None, None, None)
        finished = convert_to_tensor(finished)
        flat_input = [convert_to_tensor(x) for x in flatten(next_input)]
        batch = next((x._shape[0] for x in flat_input
                      if x._shape is not None and x._shape[0] is not None), None)
        state_dtype = flatten(state)[0].dtype
        if emit_structure is not None:
            emit_dtypes = [convert_to_tensor(e).dtype for e in flatten(emit_structure)]
            emit_shapes = [list(convert_to_tensor(e).get_shape().as_list() or [])[1:]
                           for e in flatten(emit_structure)]
            template = emit_structure
        else:
            template = cell.output_size
            emit_shapes = [_step_shape(None, size)[1:] for size in flatten(template)]
            emit_dtypes = [state_dtype] * len(emit_shapes)
        emit_tas = tuple(TensorArray(dt, size=0, dynamic_size=True,
                                     element_shape=[batch] + shape)
                         for dt, shape in zip(emit_dtypes, emit_shapes))
        has_loop_state = loop_state is not None

        def body(time, finished, next_input, state, emit_tas, *rest):
            loop_state = rest[0] if has_loop_state else None
            output, cell_state = cell(next_input, state)
            (next_finished, next_input, next_state, emit, loop_state) = loop_fn(
                time + 1, output, cell_state, loop_state)
            emit = output if emit is None else emit
            # Finished rows emit zeros and keep their state.
            flat_emit = [where(finished, zeros_like(e), e) for e in flatten(emit)]
            next_state = map_structure(lambda old, new: where(finished, old, new), state,
                                       next_state)
            emit_tas = tuple(ta.write(time, e) for ta, e in zip(emit_tas, flat_emit))
            finished = logical_or(finished, next_finished)
            out = (time + 1, finished, next_input, next_state, emit_tas)
            return out + ((loop_state,) if has_loop_state else ())

        loop_vars = (time, finished, next_input, state, emit_tas) + \
            ((loop_state,) if has_loop_state else ())
        result = while_loop(lambda time, finished, *_: ~reduce_all(finished), body,
                            loop_vars, parallel_iterations=parallel_iterations or 32,
                            swap_memory=swap_memory)
        emit_ta = pack_as(template, list(result[4]))
        return emit_ta, result[3], (result[5] if has_loop_state else None)


def _step_shape(batch, size):
    dims = list(size.as_list()) if hasattr(size, "as_list") else \
        list(size) if isinstance(size, (list, tuple)) else [int(size)]
    return [batch] + dims


def _reverse_steps(steps: list, lengths) -> list:
    """The list of step tensors reversed in time (within each row's length)."""
    if lengths is None:
        return list(reversed(steps))
    flat = [stack([flatten(s)[k] for s in steps]) for k in range(len(flatten(steps[0])))]
    rev = [unstack(reverse_sequence(x, lengths, seq_axis=0, batch_axis=1), num=len(steps))
           for x in flat]
    return [pack_as(steps[0], [r[t] for r in rev]) for t in range(len(steps))]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
    """A forward `static_rnn` (scope "fw") and a backward one on the reversed inputs
    ("bw") under "bidirectional_rnn"; each step's output is ``concat([fw, bw], 1)``.

    Returns:
        (outputs, output_state_fw, output_state_bw).

    Raises:
        TypeError: `cell_fw` or `cell_bw` is not an RNNCell, or `inputs` is not a list.
        ValueError: `inputs` is empty.
    """
    _check_cells(cell_fw, cell_bw)
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("inputs must be a list")
    if not inputs:
        raise ValueError("inputs must not be empty")
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype,
                                          sequence_length, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            rev = _reverse_steps([map_structure(convert_to_tensor, x) for x in inputs],
                                 sequence_length)
            tmp, state_bw = static_rnn(cell_bw, rev, initial_state_bw, dtype,
                                       sequence_length, scope=bw_scope)
    out_bw = _reverse_steps(tmp, sequence_length)
    outputs = [map_structure(lambda f, b: concat([f, b], 1), f, b)
               for f, b in zip(out_fw, out_bw)]
    return outputs, state_fw, state_bw


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """`dynamic_rnn` forward (scope "bidirectional_rnn/fw") and over the time-reversed
    inputs ("bidirectional_rnn/bw"; reversed within `sequence_length` when given).

    Returns:
        ((output_fw, output_bw), (output_state_fw, output_state_bw)), both outputs in the
        original time order.

    Raises:
        TypeError: a cell is not an RNNCell.
        ValueError: as `dynamic_rnn`.
    """
    _check_cells(cell_fw, cell_bw)
    t_axis, b_axis = (0, 1) if time_major else (1, 0)

    def rev(x):
        if sequence_length is None:
            return reverse(x, [t_axis])
        return reverse_sequence(x, sequence_length, seq_axis=t_axis, batch_axis=b_axis)

    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length, initial_state_fw,
                                           dtype, time_major=time_major, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            rev_in = map_structure(lambda x: rev(convert_to_tensor(x)), inputs)
            tmp, state_bw = dynamic_rnn(cell_bw, rev_in, sequence_length, initial_state_bw,
                                        dtype, time_major=time_major, scope=bw_scope)
    out_bw = map_structure(rev, tmp)
    return (out_fw, out_bw), (state_fw, state_bw)


def _check_cells(*cells) -> None:
    from .rnn_cell import RNNCell
    for c in cells:
        if not isinstance(c, RNNCell):
            raise TypeError(f"cell must be an instance of RNNCell, got {type(c).__name__}")
