"""GraphDef export and import: a graph as plain data (msgpack bytes, or readable JSON text).

A `GraphDef` holds one `NodeDef` per op, in creation order (a topological order):

    {"name": "layer/MatMul", "op": "MatMul", "input": ["x:0", "W/read:0", "^init"],
     "device": "/device:CPU:0", "attr": {"transpose_a": false, ...}}

Data inputs are ``"op:k"`` (``"op"`` is read as ``"op:0"``), control inputs ``"^op"``. Attr
values are encoded for msgpack: a DType as ``{"__dtype__": "float32"}``, a NumPy array as
``{"__ndarray__": "<f4", "shape": [2, 3], "data": <raw little-endian bytes>}`` (string arrays
carry ``"items"`` instead of bytes), a tuple (static shapes, with None for unknown dims) as
``{"__tuple__": [None, 784]}``. The text form (`write_graph(..., as_text=True)`) is indented
JSON in which arrays carry their values as nested lists instead of bytes.

Import re-creates every node through the op registry, so shape inference runs again and an op
type that is not registered is a ValueError naming the node and the type; nothing in a file is
ever executed or unpickled. A graph is imported all or nothing: on any error the ops added so
far are removed again.

Beyond TF 1.x's GraphDef, export also records the collections whose items are graph elements:
variables (as `Variable.to_proto()` records: variable, initializer, snapshot, initial value
and trainable flag), tensors and operations, by name. `import_graph_def` restores them into
the importing graph (under the import scope) unless ``import_collections=False``; other
collection items (savers, queue runners, ...) are not exported.
"""
from __future__ import annotations

import base64
import json
import math
import os

import msgpack
import numpy as np

from .. import dtypes as _dtypes
from ..errors import DataLossError
from ..file_safety import check_array, stored_dtype, stored_shape
from . import registry
from .graph import register_builder

__all__ = ["GraphDef", "NodeDef", "import_graph_def", "write_graph", "read_graph"]

FORMAT_VERSION = 1


class NodeDef(dict):
    """One op of a GraphDef: a dict with keys name, op, input, device, attr (also attributes)."""

    def __getattr__(self, key: str):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class GraphDef:
    """A serialisable description of a graph (TF 1.x `tf.GraphDef`).

    Attributes:
        node: the NodeDefs in topological order.
        collections: {key: {"kind": "variable"|"tensor"|"operation", "items": [...]}}.
        versions: {"producer": FORMAT_VERSION}.
    """

    def __init__(self, node=None, collections=None, versions=None) -> None:
        self.node: list[NodeDef] = [NodeDef(n) for n in (node or ())]
        self.collections: dict = dict(collections or {})
        self.versions: dict = dict(versions or {"producer": FORMAT_VERSION})

    def _as_dict(self) -> dict:
        return {"versions": self.versions, "node": [dict(n) for n in self.node],
                "collections": self.collections}

    def SerializeToString(self) -> bytes:  # noqa: N802 - TF 1.x protobuf spelling
        """The msgpack bytes of this GraphDef."""
        return msgpack.packb(self._as_dict(), use_bin_type=True)

    def ParseFromString(self, data: bytes) -> None:  # noqa: N802
        """Replaces this GraphDef's contents by the decoded msgpack `data`.

        Raises:
            DataLossError: `data` is not a msgpack GraphDef.
        """
        try:
            obj = msgpack.unpackb(data, raw=False, strict_map_key=True)
        except (ValueError, TypeError, msgpack.UnpackException) as e:
            raise DataLossError(None, None, f"Cannot parse GraphDef bytes: {e}") from None
        self._load(obj)

    @classmethod
    def FromString(cls, data: bytes) -> "GraphDef":  # noqa: N802
        gd = cls()
        gd.ParseFromString(data)
        return gd

    @classmethod
    def FromText(cls, text: str) -> "GraphDef":  # noqa: N802
        """Parses the JSON text written by `write_graph(..., as_text=True)`.

        Raises:
            DataLossError: `text` is not a GraphDef in the text form.
        """
        try:
            obj = json.loads(text, object_hook=_from_text_hook)
        except (ValueError, RecursionError) as e:
            raise DataLossError(None, None, f"Cannot parse GraphDef text: {e}") from None
        gd = cls()
        gd._load(obj)
        for n in gd.node:  # back to the binary form: arrays as raw bytes
            n["attr"] = {k: encode_attr(decode_attr(v, f"attr {k!r} of node {n.name!r}"))
                         for k, v in n.attr.items()}
        return gd

    def to_text(self) -> str:
        """The readable form: indented JSON, numeric arrays as nested value lists."""
        d = self._as_dict()
        d["node"] = [dict(n, attr=_text_attr(n["attr"])) for n in d["node"]]
        return _dump_text(d, "") + "\n"

    def _load(self, obj) -> None:
        """Takes the decoded map; every encoded array in an attr is checked here (dtype on
        the allow-list, shape, byte count) so that no later step trusts a file's claims."""
        if not isinstance(obj, dict) or not isinstance(obj.get("node"), list):
            raise DataLossError(None, None, "Not a GraphDef: expected a map with a 'node' list")
        nodes = []
        for n in obj["node"]:
            if not isinstance(n, dict) or not isinstance(n.get("name"), str) \
                    or not isinstance(n.get("op"), str) \
                    or not isinstance(n.get("attr", {}), dict):
                raise DataLossError(None, None, f"Not a GraphDef node: {str(n)[:200]}")
            attr = dict(n.get("attr", {}))
            for k, v in attr.items():
                where = f"GraphDef node {n['name']!r} attr {k!r}"
                try:
                    _check_attr(v, where)
                except RecursionError:
                    raise DataLossError(None, None, f"{where} is nested too deeply") from None
            nodes.append(NodeDef(name=n["name"], op=n["op"], input=list(n.get("input", [])),
                                 device=n.get("device", "") or "", attr=attr))
        self.node = nodes
        self.collections = dict(obj.get("collections") or {})
        self.versions = dict(obj.get("versions") or {"producer": FORMAT_VERSION})

    def __eq__(self, other) -> bool:
        return isinstance(other, GraphDef) and \
            self.SerializeToString() == other.SerializeToString()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<GraphDef with {len(self.node)} nodes>"


# -- attr encoding -------------------------------------------------------------------------
def encode_attr(value, where: str = "attr"):
    """An attr value as msgpack-friendly data (see the module docstring).

    Raises:
        TypeError: a value of a type attrs may not hold (the message names `where`).
    """
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, _dtypes.DType):
        return {"__dtype__": value.name}
    if isinstance(value, np.generic):
        return _encode_array(np.asarray(value), scalar=True)
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    if isinstance(value, tuple):
        return {"__tuple__": [encode_attr(v, where) for v in value]}
    if isinstance(value, list):
        return [encode_attr(v, where) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where}: dict attrs need string keys, got {list(value)[:5]}")
        return {k: encode_attr(v, where) for k, v in value.items()}
    from .function import FuncGraph, FunctionData, function_to_data
    if isinstance(value, (FuncGraph, FunctionData)):  # a cond branch or loop body
        return {"__function__": function_to_data(value, encode_attr, where)}
    raise TypeError(f"{where}: cannot serialise attr value of type {type(value).__name__}")


def _encode_array(arr: np.ndarray, scalar: bool = False) -> dict:
    out = {"__ndarray__": arr.dtype.str, "shape": list(arr.shape)}
    if arr.dtype.kind == "O":
        out["__ndarray__"] = "object"
        out["items"] = [x if isinstance(x, (str, bytes)) else str(x) for x in arr.ravel()]
    else:
        le = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        out["__ndarray__"] = le.dtype.str
        out["data"] = np.ascontiguousarray(le).tobytes()
    if scalar:
        out["scalar"] = True
    return out


def decode_attr(value, where: str = "attr"):
    """The inverse of `encode_attr`.

    Raises:
        ValueError: an unknown dtype name (the message names `where`).
        DataLossError: an encoded array that is malformed or of a dtype actorflow does not
            write (see `actorflow.file_safety`).
    """
    if isinstance(value, list):
        return [decode_attr(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    if "__dtype__" in value:
        try:
            return _dtypes.as_dtype(value["__dtype__"])
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: unknown dtype {value['__dtype__']!r}") from e
    if "__tuple__" in value:
        return tuple(decode_attr(v, where) for v in value["__tuple__"])
    if "__ndarray__" in value:
        return _decode_array(value, where)
    if "__function__" in value:  # built into a FuncGraph by _create_ops
        from .function import FunctionData
        return FunctionData(value["__function__"], decode_attr, where)
    return {k: decode_attr(v, where) for k, v in value.items()}


def _check_attr(value, where: str) -> None:
    """Checks every encoded array in an encoded attr value (`_array_spec`), allocating none."""
    if isinstance(value, list):
        for v in value:
            _check_attr(v, where)
    elif isinstance(value, dict):
        if "__ndarray__" in value:
            _array_spec(value, where)
        else:
            for v in value.values():
                _check_attr(v, where)


def _array_spec(enc: dict, where: str) -> tuple[np.dtype | None, tuple[int, ...]]:
    """(dtype, shape) of an encoded array, after checking it against what the encoding holds:
    dtype None for a string array ("items"), a numeric dtype actorflow writes otherwise,
    with exactly its values as raw "data" bytes or (the text form) a flat "value" list.

    Raises:
        DataLossError: anything else (the message names `where`).
    """
    kind = enc["__ndarray__"]
    if kind == "object":
        dims = stored_shape(enc.get("shape"), where)
        n = math.prod(dims)
        items = enc.get("items")
        if not isinstance(items, list) or len(items) != n or \
                not all(isinstance(x, (str, bytes)) for x in items):
            raise DataLossError(None, None, f"{where}: a string array of shape {list(dims)} "
                                f"needs {n} str/bytes items")
        return None, dims
    if "value" in enc:  # the text form: the values were parsed already, nothing to bound
        dt, dims = stored_dtype(kind, where), stored_shape(enc.get("shape"), where)
        n, values = math.prod(dims), enc["value"]
        if not isinstance(values, list) or len(values) != n or \
                not all(isinstance(x, (int, float)) for x in values):
            raise DataLossError(None, None, f"{where}: an array of shape {list(dims)} needs "
                                f"a flat list of {n} numbers")
        return dt, dims
    data = enc.get("data")
    if not isinstance(data, bytes):
        raise DataLossError(None, None, f"{where}: array data is not bytes")
    dt, dims, n = check_array(kind, enc.get("shape"), where, available=len(data))
    if n != len(data):
        raise DataLossError(None, None, f"{where}: array data of {len(data)} bytes does not "
                            f"hold shape {list(dims)} of {dt.str} ({n} bytes)")
    return dt, dims


def _decode_array(enc: dict, where: str) -> np.ndarray:
    dt, dims = _array_spec(enc, where)
    if dt is None:
        arr = np.empty(len(enc["items"]), dtype=object)
        arr[:] = enc["items"]
        arr = arr.reshape(dims)
    elif "value" in enc:  # the text form
        arr = np.array(enc["value"], dtype=dt.newbyteorder("=")).reshape(dims)
    else:
        arr = np.frombuffer(enc["data"], dtype=dt).astype(dt.newbyteorder("="))
        arr = arr.reshape(dims)
    if enc.get("scalar"):
        return arr[()]
    arr.setflags(write=False)
    return arr


def _dump_text(obj, indent: str) -> str:
    """JSON with one line per value that fits in 80 columns, nested containers indented."""
    flat = json.dumps(obj, default=_to_text_default)
    if len(flat) + len(indent) <= 80 or not isinstance(obj, (dict, list)) or not obj:
        return flat
    inner = indent + "  "
    if isinstance(obj, list) and not any(isinstance(v, (dict, list)) for v in obj):
        lines, line = [], ""
        for v in obj:  # scalars: as many per line as fit
            item = json.dumps(v, default=_to_text_default)
            if line and len(inner) + len(line) + len(item) + 2 > 80:
                lines.append(line + ",")
                line = ""
            line = f"{line}, {item}" if line else item
        lines.append(line)
        return "[\n" + "\n".join(inner + ln for ln in lines) + f"\n{indent}]"
    if isinstance(obj, dict):
        parts = [f"{inner}{json.dumps(k)}: {_dump_text(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(parts) + f"\n{indent}}}"
    parts = [inner + _dump_text(v, inner) for v in obj]
    return "[\n" + ",\n".join(parts) + f"\n{indent}]"


def _to_text_default(obj):
    if isinstance(obj, bytes):
        return {"__bytes__": base64.b64encode(obj).decode("ascii")}
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _from_text_hook(obj: dict):
    if "__bytes__" in obj and len(obj) == 1:
        return base64.b64decode(obj["__bytes__"])
    return obj


def _text_attr(enc):
    """An encoded attr with numeric arrays shown as nested value lists (the text form)."""
    if isinstance(enc, list):
        return [_text_attr(v) for v in enc]
    if not isinstance(enc, dict):
        return enc
    if "__ndarray__" in enc and "data" in enc:
        dt = np.dtype(enc["__ndarray__"])
        if dt.kind in "biuf":
            arr = _decode_array(enc, "text")
            out = {k: v for k, v in enc.items() if k != "data"}
            out["value"] = np.asarray(arr).ravel().tolist()
            return out
        return enc
    return {k: _text_attr(v) for k, v in enc.items()}


# -- export --------------------------------------------------------------------------------
def graph_to_graph_def(graph, add_shapes: bool = False) -> GraphDef:
    """The GraphDef of `graph` (what `Graph.as_graph_def()` returns).

    Args:
        add_shapes: also record each op's static output shapes as attr ``_output_shapes``.

    Raises:
        TypeError: an op holds an attr that cannot be serialised (the message names it).
    """
    nodes = []
    for op in graph.get_operations():
        attrs = {k: encode_attr(v, f"attr {k!r} of op {op.name!r} ({op.type})")
                 for k, v in op.attrs.items()}
        if add_shapes:
            attrs["_output_shapes"] = [encode_attr(t._shape) for t in op.outputs]
        inputs = [t.name for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs]
        nodes.append(NodeDef(name=op.name, op=op.type, input=inputs, device=op.device,
                             attr=attrs))
    return GraphDef(nodes, _export_collections(graph))


def _export_collections(graph) -> dict:
    from ..variables import Variable
    from .graph import Operation, Tensor
    out = {}
    for key in graph.get_all_collection_keys():
        items = graph.get_collection(key)
        if items and all(isinstance(x, Variable) for x in items):
            out[key] = {"kind": "variable", "items": [v.to_proto() for v in items]}
        elif items and all(isinstance(x, Tensor) for x in items):
            out[key] = {"kind": "tensor", "items": [t.name for t in items]}
        elif items and all(isinstance(x, Operation) for x in items):
            out[key] = {"kind": "operation", "items": [o.name for o in items]}
    return out


# -- import --------------------------------------------------------------------------------
def import_graph_def(graph_def, input_map=None, return_elements=None, name: str | None = None,
                     op_dict=None, producer_op_list=None, import_collections: bool = True):
    """Adds the ops of `graph_def` to the default graph, under name scope `name` ("import").

    Args:
        graph_def: a GraphDef (or its msgpack bytes).
        input_map: {"op:k" or "op": Tensor of the default graph} replacing those inputs.
        return_elements: names in `graph_def` ("op" for an Operation, "op:k" for a Tensor)
            whose imported counterparts to return.
        name: the scope prefixed to every imported name; "" imports names unchanged.
        import_collections: also restore the recorded collections (variables, tensors, ops).

    Returns:
        The list of imported elements named by `return_elements`, else None.

    Raises:
        ValueError: an unknown op type (naming the node and type), an input naming a node
            that is missing, an `input_map` key not in `graph_def`, a dependency cycle, or
            shape inference rejecting an imported node. The graph is left unchanged.
        TypeError: an `input_map` value that is not a Tensor.
    """
    from .graph import Tensor, get_default_graph
    if isinstance(graph_def, (bytes, bytearray)):
        graph_def = GraphDef.FromString(bytes(graph_def))
    if not isinstance(graph_def, GraphDef):
        raise TypeError(f"graph_def must be a GraphDef, got {type(graph_def).__name__}")
    graph = get_default_graph()
    by_name = {}
    for node in graph_def.node:
        if node.name in by_name:
            raise ValueError(f"GraphDef has two nodes named {node.name!r}")
        by_name[node.name] = node
    for node in graph_def.node:
        try:
            registry.get_op_def(node.op)
        except KeyError:
            raise ValueError(f"Node {node.name!r} in the GraphDef has op type {node.op!r}, "
                             "which is not registered in actorflow") from None
    input_map = {_tensor_key(k): v for k, v in (input_map or {}).items()}
    for k, v in input_map.items():
        if not isinstance(v, Tensor):
            raise TypeError(f"input_map[{k!r}] must be a Tensor, got {type(v).__name__}")
        if v.graph is not graph:
            raise ValueError(f"input_map[{k!r}] = {v.name} is not in the default graph")
        if k.rpartition(":")[0] not in by_name:
            raise ValueError(f"input_map key {k!r} names no node of the GraphDef")
    order = _topological(graph_def.node, by_name)

    mark = graph._checkpoint()
    with graph.name_scope(name if name is not None else "import") as scope:
        prefix = scope
    try:
        created = _create_ops(graph, order, prefix, input_map)
        if import_collections:
            _import_collections(graph, graph_def.collections, prefix, created)
    except BaseException:
        graph._rollback(mark)
        raise
    if return_elements is None:
        return None
    try:
        return _return_elements(created, return_elements)
    except BaseException:
        graph._rollback(mark)
        raise


def _return_elements(created: dict, return_elements) -> list:
    """The imported tensors ("op:k") and ops ("op") named by `return_elements`."""
    out = []
    for el in return_elements:
        op_name, _, idx = el.partition(":")
        op = created.get(op_name)
        if op is None:
            raise ValueError(f"Requested return_element {el!r} not found in graph_def.")
        if idx:
            if not idx.isdigit() or int(idx) >= len(op.outputs):
                raise ValueError(f"Requested return_element {el!r} not found in graph_def: "
                                 f"{op_name!r} has {len(op.outputs)} outputs")
            out.append(op.outputs[int(idx)])
        else:
            out.append(op)
    return out


def _tensor_key(name: str) -> str:
    name = name.name if hasattr(name, "name") and not isinstance(name, str) else name
    if name.startswith("^"):
        raise ValueError(f"input_map keys name tensors, got the control input {name!r}")
    return name if ":" in name else f"{name}:0"


def _split_input(s: str):
    """("op", k, False) for a data input "op:k"; ("op", None, True) for a control "^op"."""
    if s.startswith("^"):
        return s[1:], None, True
    op_name, sep, idx = s.rpartition(":")
    if not sep:
        return s, 0, False
    if not idx.isdigit():
        raise ValueError(f"Malformed input name {s!r}")
    return op_name, int(idx), False


def _topological(nodes, by_name) -> list:
    """The nodes ordered so each comes after its inputs (stable for already-sorted input)."""
    placed: set = set()
    order = []
    state: dict = {}
    for root in nodes:
        if root.name in placed:
            continue
        stack = [(root, iter(root.input))]
        state[root.name] = "open"
        while stack:
            node, it = stack[-1]
            for s in it:
                dep, _, _ = _split_input(s)
                if dep not in by_name:
                    raise ValueError(f"Node {node.name!r} has input {s!r}, but no node named "
                                     f"{dep!r} is in the GraphDef")
                if dep in placed:
                    continue
                if state.get(dep) == "open":
                    raise ValueError(f"GraphDef has a cycle through {node.name!r} and "
                                     f"{dep!r}")
                state[dep] = "open"
                stack.append((by_name[dep], iter(by_name[dep].input)))
                break
            else:
                stack.pop()
                placed.add(node.name)
                order.append(node)
    return order


def _create_ops(graph, order, prefix: str, input_map: dict) -> dict:
    created: dict = {}
    for node in order:
        inputs, controls = [], []
        for s in node.input:
            dep, idx, is_control = _split_input(s)
            if is_control:
                controls.append(created[dep])
                continue
            mapped = input_map.get(f"{dep}:{idx}")
            if mapped is not None:
                inputs.append(mapped)
                continue
            src = created[dep]
            if idx >= len(src.outputs):
                raise ValueError(f"Node {node.name!r} reads {s!r}, but {dep!r} "
                                 f"({src.type}) has {len(src.outputs)} outputs")
            inputs.append(src.outputs[idx])
        where = f"node {node.name!r} ({node.op})"
        attrs = {k: decode_attr(v, f"attr {k!r} of {where}") for k, v in node.attr.items()}
        if any(isinstance(v, dict) and "__function__" in v for v in node.attr.values()):
            from .function import materialize
            attrs = {k: materialize(v, graph, prefix) for k, v in attrs.items()}
        shapes = attrs.pop("_output_shapes", None)
        full = prefix + node.name
        if not prefix and full in graph._ops_by_name:
            full = graph.unique_name(full)  # name="" into a graph that has it: TF renames
        op = graph.create_op(node.op, inputs, attrs, name=full + "/", control_inputs=controls)
        if node.device:
            op.device = node.device
        if shapes is not None:
            for t, s in zip(op.outputs, shapes):
                if s is not None:
                    t.set_shape(s)
        created[node.name] = op
    return created


def _import_collections(graph, collections: dict, prefix: str, created: dict) -> None:
    from ..variables import Variable
    variables: dict = {}  # one Variable object per variable, shared by its collections
    for key, rec in collections.items():
        kind, items = rec.get("kind"), rec.get("items", [])
        for item in items:
            if kind == "variable":
                v = variables.get(item["variable_name"])
                if v is None:
                    v = variables[item["variable_name"]] = Variable.from_proto(
                        item, import_scope=prefix.rstrip("/") or None)
                graph.add_to_collection(key, v)
            elif kind == "tensor":
                op_name, _, idx = item.rpartition(":")
                graph.add_to_collection(key, created[op_name].outputs[int(idx)])
            elif kind == "operation":
                graph.add_to_collection(key, created[item])


# -- files ---------------------------------------------------------------------------------
def write_graph(graph_or_graph_def, logdir: str, name: str, as_text: bool = False) -> str:
    """Writes a graph (or GraphDef) to `logdir/name` as msgpack, or readable JSON text.

    Returns:
        The path written.
    """
    gd = graph_or_graph_def
    if not isinstance(gd, GraphDef):
        gd = gd.as_graph_def()
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    tmp = path + ".tmp"
    if as_text:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(gd.to_text())
    else:
        with open(tmp, "wb") as f:
            f.write(gd.SerializeToString())
    os.replace(tmp, path)
    return path


def read_graph(path: str) -> GraphDef:
    """Reads a GraphDef written by `write_graph`, in either form (detected from the content).

    Raises:
        NotFoundError: `path` does not exist.
        DataLossError: the file is not a GraphDef.
    """
    from ..errors import NotFoundError
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise NotFoundError(None, None, f"GraphDef file not found: {path}") from None
    try:
        if data.lstrip()[:1] == b"{":
            return GraphDef.FromText(data.decode("utf-8"))
        return GraphDef.FromString(data)
    except UnicodeDecodeError as e:
        raise DataLossError(None, None, f"GraphDef file {path}: not UTF-8 text: {e}") from None
    except DataLossError as e:
        raise DataLossError(None, None, f"GraphDef file {path}: {e.message}") from None


register_builder("graph_def", graph_to_graph_def)  # Graph.as_graph_def
