"""`tf.train.init_from_checkpoint` and `tf.train.load_checkpoint` (TF 1.x checkpoint_utils).

`init_from_checkpoint` makes variables start from a checkpoint's values instead of their
initialisers, under an assignment map from checkpoint names to variables, with TF 1.x's
semantics: ``{"old_scope/": "new_scope/"}`` maps every variable of the (variable-store)
scope ``new_scope`` to the checkpoint tensor of the same name under ``old_scope``,
``{"old_scope/w": "new_scope/w"}`` one variable by name, ``{"old_scope/w": variable}`` one
variable object, and ``"/"`` stands for the root scope on either side. It works for
actorflow's checkpoints and TensorFlow's (slim's published weights, say).

TF reads the values when the initializers run; here they are read, checked and bound to
the new initializers when `init_from_checkpoint` is called, so a missing tensor, a shape or
dtype mismatch and a corrupted file all raise at the call. Run
`global_variables_initializer` (or the variables' initializers) after it.
"""
from __future__ import annotations

from ..ops._common import out1
from ..ops.constant import constant
from ..variable_scope import _store
from ..variables import Variable
from .saver import _reader_for
from .tf_checkpoint import close_matches

__all__ = ["init_from_checkpoint", "load_checkpoint"]


def load_checkpoint(ckpt_dir_or_file: str):
    """A reader of the checkpoint `ckpt_dir_or_file` (or a directory's latest checkpoint).

    Returns:
        A `CheckpointReader` (actorflow's format) or `TFCheckpointReader` (TensorFlow's).

    Raises:
        ValueError: a directory without a checkpoint.
        NotFoundError: no checkpoint at the prefix.
        DataLossError: a corrupted index.
    """
    return _reader_for(ckpt_dir_or_file)


def init_from_checkpoint(ckpt_dir_or_file: str, assignment_map) -> None:
    """Replaces the initializers of the mapped variables by the checkpoint's values.

    Args:
        ckpt_dir_or_file: a checkpoint prefix, or a directory (its latest checkpoint).
        assignment_map: a dict (or (key, value) pairs) from a checkpoint tensor name or
            scope ("scope/", or "/" for the root) to a variable name or scope of the default
            graph's variable store, or to a `Variable`.

    Raises:
        ValueError: a tensor is not in the checkpoint (the message lists close matches), a
            scope maps to a single name, a shape or dtype differs from the variable's (both
            named), or a partitioned variable (a list) is given.
        DataLossError: the checkpoint is corrupted (the message names the file and entry).
    """
    reader = load_checkpoint(ckpt_dir_or_file)
    shapes = reader.get_variable_to_shape_map()
    pairs = assignment_map.items() if hasattr(assignment_map, "items") else assignment_map
    plan = []  # (variable, checkpoint tensor name)
    # TF sorts by checkpoint name only, so a later mapping of the same variable wins.
    for ckpt_name, current in sorted(pairs, key=lambda pair: pair[0]):
        if isinstance(current, list):
            raise ValueError(f"init_from_checkpoint: {ckpt_name!r} maps to a list of "
                             "variables (a partitioned variable); actorflow has none")
        store = _store().vars
        var = current if isinstance(current, Variable) else store.get(current)
        if var is not None:
            if ckpt_name not in shapes:
                raise ValueError(_missing(ckpt_name, shapes, ckpt_dir_or_file))
            plan.append((var, ckpt_name))
            continue
        scopes = current[:current.rindex("/")] if "/" in current else ""
        if not ckpt_name.endswith("/"):
            raise ValueError(f"Assignment map with scope only name {scopes} should map to "
                             f"scope only {ckpt_name}. Should be 'scope/': 'other_scope/'.")
        for var_name in sorted(n for n in store if not scopes or n.startswith(scopes + "/")):
            full = var_name[len(scopes):]
            if current != "/":
                full = full[1:]
            if ckpt_name != "/":
                full = ckpt_name + full
            full = full[:-1] if full.endswith("/") else full
            if full not in shapes:
                inner = var_name[len(scopes) + 1:] if scopes else var_name
                raise ValueError(_missing(full, shapes, ckpt_dir_or_file,
                                          f" ({inner} in {ckpt_name})"))
            plan.append((store[var_name], full))
    for var, ckpt_name in plan:
        _check(var, ckpt_name, shapes[ckpt_name], reader)
    values = _read(reader, sorted({name for _, name in plan}))
    for var, ckpt_name in plan:
        _set_initializer(var, values[ckpt_name])


def _missing(name: str, shapes: dict, ckpt: str, detail: str = "") -> str:
    near = close_matches(name, shapes)
    hint = f"; close matches: {', '.join(near)}" if near else ""
    return f"Tensor {name}{detail} is not found in {ckpt} checkpoint{hint}"


def _check(var: Variable, ckpt_name: str, shape: list, reader) -> None:
    if not var.get_shape().is_compatible_with(shape):
        raise ValueError(f"Shape of variable {var.name} ({var.get_shape()}) doesn't match "
                         f"with shape of tensor {ckpt_name} ({shape}) from checkpoint "
                         "reader.")
    dtype = reader.get_variable_to_dtype_map().get(ckpt_name)
    want = var.dtype.base_dtype
    if dtype is None or dtype != want:
        dtype_name = getattr(reader, "dtype_name", None)  # TF's reader names bfloat16 etc.
        got = dtype.name if dtype is not None else dtype_name(ckpt_name)
        raise ValueError(f"Dtype of variable {var.name} ({want.name}) doesn't match with "
                         f"dtype of tensor {ckpt_name} ({got}) from checkpoint reader.")


def _read(reader, names: list) -> dict:
    read_tensors = getattr(reader, "read_tensors", None)  # TF's: opens each shard once
    if read_tensors is not None:
        return read_tensors(names)
    return {name: reader.get_tensor(name) for name in names}


def _set_initializer(var: Variable, value) -> None:
    """Points `var`'s initializer at an Assign of the checkpoint value (TF names the value
    "checkpoint_initializer")."""
    graph = var.graph
    with graph.as_default(), graph.control_dependencies(None), \
            graph.name_scope(var.op.name + "/"), graph.colocate_with(var.op):
        init = constant(value, dtype=var.dtype.base_dtype, name="checkpoint_initializer")
        var._initializer_op = out1("Assign", [var._variable, init],
                                   {"validate_shape": True, "use_locking": True},
                                   "checkpoint_assign").op
        var._initial_value = init
