"""`GraphExecutor`: a Session over an imported graph, pinned to one device, driven by name.

A plain class (tests use it in-process); `actorflow.actors._remote.as_actor` makes it a Ray
actor (``num_gpus=1`` for a GPU device, see `executor_options`). It receives a graph as a
msgpack GraphDef, so any process can rebuild it without pickling Python objects, and is
driven by tensor and op names: run steps, compute gradients, get and set weights. Every call
carries a batch.

Device strings in the graph that name cluster jobs and tasks (``/job:ps/task:1``, written by
`replica_device_setter`) say *which actor* runs an op; inside the actor they are dropped, and
the executor's own `device` fills in ops that name no device type.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

import actorflow as tf
from actorflow.framework.device_spec import DeviceSpec
from actorflow.framework.graph_io import GraphDef

__all__ = ["GraphExecutor", "executor_options", "localize_graph_def", "graph_def_bytes"]


def graph_def_bytes(graph) -> bytes:
    """The msgpack GraphDef of `graph` (a Graph, GraphDef or bytes), what executors receive."""
    if isinstance(graph, (bytes, bytearray)):
        return bytes(graph)
    if isinstance(graph, GraphDef):
        return graph.SerializeToString()
    return graph.as_graph_def().SerializeToString()


def localize_graph_def(graph_def: GraphDef, device: str = "") -> GraphDef:
    """`graph_def` with each op's job/replica/task dropped and `device` filling in what the
    op leaves unset (its device type and index win)."""
    base = DeviceSpec.from_string(device or "")
    base = DeviceSpec(None, None, None, base.device_type, base.device_index)
    for node in graph_def.node:
        own = DeviceSpec.from_string(node.get("device") or "")
        local = base.merge_from(DeviceSpec(None, None, None, own.device_type,
                                           own.device_index))
        node["device"] = local.to_string()
    return graph_def


def executor_options(device: str = "/cpu:0", num_cpus: float | None = None) -> dict:
    """Ray actor options for an executor on `device` (one GPU for ``/gpu:N``)."""
    spec = DeviceSpec.from_string(device or "")
    if spec.device_type == "GPU":
        return {"num_gpus": 1, "num_cpus": 1 if num_cpus is None else num_cpus}
    return {"num_cpus": 1 if num_cpus is None else num_cpus}


class GraphExecutor:
    """Hosts a Session over a graph received as a GraphDef.

    Args:
        graph_def: a Graph, a GraphDef or its msgpack bytes (see `graph_def_bytes`).
        device: the device this executor runs on ("/cpu:0", "/gpu:0"); on a GPU actor Ray
            makes the assigned GPU CUDA device 0, so "/gpu:0" is right there.
        config: a ConfigProto for the session (soft placement is always on: a graph written
            for a cluster may ask for devices this process does not have).
        initialize: run every global variable's initializer once imported.

    Raises:
        ValueError: the GraphDef names an op type that is not registered.
    """

    def __init__(self, graph_def, device: str = "/cpu:0", config=None,
                 initialize: bool = False) -> None:
        gd = GraphDef()
        gd.ParseFromString(graph_def_bytes(graph_def))  # a private copy to localize
        self.device = device
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.import_graph_def(localize_graph_def(gd, device), name="")
        config = config if config is not None else tf.ConfigProto()
        config.allow_soft_placement = True
        self.session = tf.Session(graph=self.graph, config=config)
        self._variables = {op.name: op for op in self.graph.get_operations()
                           if op.type == "VariableV2"}
        if initialize:
            self.initialize()

    # -- running -------------------------------------------------------------------------
    def run(self, fetches, feeds: Mapping[str, object] | None = None):
        """``session.run`` by names: `fetches` a name or list of names ("op" or "op:0"),
        `feeds` {tensor name: value}. Returns values in the structure of `fetches`."""
        return self.session.run(fetches, dict(feeds) if feeds else None)

    def initialize(self) -> None:
        """Runs every global variable's initializer."""
        with self.graph.as_default():
            init = tf.variables_initializer(tf.global_variables())
        self.session.run(init)

    # -- weights -------------------------------------------------------------------------
    @property
    def variable_names(self) -> list[str]:
        return list(self._variables)

    def get_weights(self, names: Sequence[str] | None = None, copy: bool = True) -> dict:
        """{variable name: host array} for `names` (default: every variable).

        Raises:
            KeyError: a name that is no variable of the graph.
            FailedPreconditionError: a variable that is not initialised.
        """
        from actorflow.ops.state import uninitialized_error
        out = {}
        for name in (self._variables if names is None else names):
            op = self._var_op(name)
            value = self.session._var_cell(op).value
            if value is None:
                raise uninitialized_error(op)
            value = self.session._pinned.get(op).to_host(value) \
                if op in self.session._pinned else value
            out[name] = np.array(value, copy=True) if copy else value
        return out

    def set_weights(self, weights: Mapping[str, np.ndarray], copy: bool | None = None) -> None:
        """Sets variables from {name: array}; values are checked, then all are stored.

        `copy=None` copies read-only arrays (what Ray's zero-copy reads give) so that later
        in-place updates work; `copy=False` stores them as they are, for an executor that
        only reads its variables (a gradient worker).

        Raises:
            KeyError: an unknown variable name.
            ValueError: a value whose shape differs from the variable's.
        """
        checked = []
        for name, value in weights.items():
            op = self._var_op(name)
            arr = np.asarray(value, dtype=op.attrs["dtype"].np)
            if copy or (copy is None and not arr.flags.writeable):
                arr = arr.copy()
            shape = op.outputs[0]._shape
            if shape is not None and tuple(arr.shape) != tuple(shape):
                raise ValueError(f"Variable {name} has shape {list(shape)}, got a value of "
                                 f"shape {list(arr.shape)}")
            checked.append((op, arr))
        for op, arr in checked:
            self.session._store_variable(op, arr)

    def patch_rows(self, name: str, rows, values) -> None:
        """Writes `values` into rows `rows` of variable `name` (a sparse pull's changes).

        A host variable is written in place; one held read-only (a zero-copy read stored by
        ``set_weights(copy=False)``) is copied once first. A device variable goes through
        the host.

        Raises:
            KeyError: an unknown variable name.
            ValueError: `values` is not [len(rows)] + the variable's row shape.
            FailedPreconditionError: the variable is not initialised.
        """
        from actorflow.ops.state import uninitialized_error
        op = self._var_op(name)
        rows = np.asarray(rows)
        values = np.asarray(values, dtype=op.attrs["dtype"].np)
        cell = self.session._var_cell(op)
        if cell.value is None:
            raise uninitialized_error(op)
        row_shape = tuple(cell.value.shape[1:])
        if rows.ndim != 1 or values.shape != rows.shape + row_shape:
            raise ValueError(f"Rows for {name}: values {list(values.shape)} and rows "
                             f"{list(rows.shape)} must be [n] + {list(row_shape)} and [n]")
        if isinstance(cell.value, np.ndarray) and not cell.value.flags.writeable:
            self.session._store_variable(op, cell.value.copy())
        if isinstance(cell.value, np.ndarray):  # a host variable: in place
            cell.value[rows] = values
            return
        host = self.get_weights([name])[name]
        host[rows] = values
        self.session._store_variable(op, host)

    def _var_op(self, name: str):
        op = self._variables.get(name.split(":")[0])
        if op is None:
            raise KeyError(f"No variable named {name!r} in the executor's graph")
        return op

    def close(self) -> None:
        self.session.close()
