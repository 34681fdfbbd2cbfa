"""An actorflow graph as a TensorFlow `GraphDef` protobuf, for TensorBoard's graph view.

Each op becomes a NodeDef (name, op type, inputs as ``"op"``/``"op:k"``/``"^op"``, device)
whose attrs are converted by kind: DType -> ``type``, bool/int/float/str -> ``b``/``i``/``f``/
``s``, a tuple (a static shape) -> ``shape``, a list -> ``list``, an ndarray -> ``tensor``.
Attrs of other kinds are left out. Every node also gets TF's ``_output_shapes`` attr, which
TensorBoard draws on the edges.
"""
from __future__ import annotations

import numpy as np

from ..dtypes import DType
from .protos import (AttrValue, GraphDef, NodeDef, TensorProto, TensorShapeProto, VersionDef,
                     data_type_enum)

__all__ = ["tf_graph_def"]

_PRODUCER = 27  # a TF 1.x GraphDef version TensorBoard accepts


def _scalar_attr(v) -> AttrValue | None:
    if isinstance(v, DType):
        try:
            return AttrValue(type=data_type_enum(v))
        except ValueError:
            return None
    if isinstance(v, (bool, np.bool_)):
        return AttrValue(b=bool(v))
    if isinstance(v, (int, np.integer)):
        return AttrValue(i=int(v))
    if isinstance(v, (float, np.floating)):
        return AttrValue(f=float(v))
    if isinstance(v, (str, bytes)):
        return AttrValue(s=v)
    if isinstance(v, tuple):
        return AttrValue(shape=TensorShapeProto.from_shape(v))
    if isinstance(v, np.ndarray):
        try:
            return AttrValue(tensor=TensorProto.from_array(v))
        except ValueError:
            return None
    return None


def _attr_value(v) -> AttrValue | None:
    """The AttrValue of one actorflow attr, or None for a kind TF has no form for."""
    if not isinstance(v, list):
        return _scalar_attr(v)
    items = [_scalar_attr(x) for x in v]
    if any(a is None for a in items):
        return None
    lst = AttrValue.ListValue()
    for a in items:
        for name in ("s", "i", "f", "b", "type", "shape", "tensor"):
            if a.HasField(name):
                getattr(lst, name).append(getattr(a, name))
    return AttrValue(list=lst)


def _input_name(t) -> str:
    return t.op.name if t.value_index == 0 else t.name


def tf_graph_def(graph) -> GraphDef:
    """The TensorFlow GraphDef of an actorflow `Graph`."""
    nodes = []
    for op in graph.get_operations():
        attrs = []
        for key in sorted(op.attrs):
            value = _attr_value(op.attrs[key])
            if value is not None:
                attrs.append(NodeDef.AttrEntry(key=key, value=value))
        shapes = AttrValue.ListValue(shape=[TensorShapeProto.from_shape(t._shape)
                                            for t in op.outputs])
        attrs.append(NodeDef.AttrEntry(key="_output_shapes", value=AttrValue(list=shapes)))
        inputs = [_input_name(t) for t in op.inputs] + [f"^{c.name}" for c in op.control_inputs]
        nodes.append(NodeDef(name=op.name, op=op.type, input=inputs, device=op.device or None,
                             attr=attrs))
    return GraphDef(node=nodes, versions=VersionDef(producer=_PRODUCER))
