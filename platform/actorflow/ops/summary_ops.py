"""Summary ops: each returns a serialized `Summary` protobuf (a tf.string scalar).

ScalarSummary(tags, values), HistogramSummary(tag, values), ImageSummary(tag, tensor),
TensorSummaryV2(tag, tensor, serialized_summary_metadata) and MergeSummary(*inputs), as in
TF 1.x, plus the `tf.summary` functions that build them. Tags are name-scoped as TF's
`summary_scope` makes them; a `family` prefixes the tag (TensorBoard's tab). Kernels run on
the host: device inputs are copied there. None is differentiable.
"""
from __future__ import annotations

import contextlib
import re

import numpy as np

from .. import dtypes, errors, tf_logging
from ..framework.graph import GraphKeys, Tensor, convert_to_tensor, get_collection, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ..summary.encode import histogram_proto, image_values, scalar_values, tensor_value
from ..summary.protos import PluginData, Summary, SummaryMetadata
from ..summary.wire import iter_fields
from ._common import out1

__all__ = ["scalar", "histogram", "image", "text", "tensor_summary", "merge", "merge_all"]

_STRING = (dtypes.string, ())


def _host(value) -> np.ndarray:
    """A host NumPy array of a kernel input (device arrays are copied to the host)."""
    if isinstance(value, np.ndarray):
        return value
    get = getattr(value, "get", None)
    return np.asarray(get() if callable(get) else value)


def _text(value) -> str:
    """The Python str of a 0-d string array (bytes are decoded as UTF-8)."""
    v = _host(value).reshape(()).item()
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _serialized(values) -> np.ndarray:
    return np.array(Summary(value=values).SerializeToString(), dtype=object)


def _check_real(t: Tensor, what: str) -> None:
    if not (t.dtype.is_floating or t.dtype.is_integer):
        raise TypeError(f"{what} needs real numbers, got a {t.dtype.name} tensor {t.name}")


def _check_string_scalar(t: Tensor, what: str) -> None:
    if t.dtype != dtypes.string:
        raise TypeError(f"{what}: the tag must be a string tensor, got {t.dtype.name}")
    if t._shape is not None and len(t._shape) != 0:
        raise ValueError(f"{what}: the tag must be a scalar, got shape {list(t._shape)}")


def _invalid(op, exc: Exception) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(None, op, f"{op.type} '{op.name}': {exc}")


# -- ScalarSummary ---------------------------------------------------------------------------
def _scalar_infer(op):
    tags, values = op.inputs
    if tags.dtype != dtypes.string:
        raise TypeError(f"ScalarSummary: tags must be strings, got {tags.dtype.name}")
    _check_real(values, "ScalarSummary")
    if not tags.get_shape().is_compatible_with(values.get_shape()):
        raise ValueError(f"ScalarSummary: tags and values must have the same shape, got "
                         f"{list(tags._shape)} and {list(values._shape)}")
    return [_STRING]


def _scalar_kernel(op, ctx):
    def scalar_summary(tags, values):
        tags, values = _host(tags), _host(values)
        if tags.shape != values.shape:
            raise errors.InvalidArgumentError(
                None, op, f"tags and values not the same shape: {list(tags.shape)} != "
                f"{list(values.shape)} (tag '{_first(tags)}')")
        return _serialized(scalar_values(tags, values))
    return scalar_summary


def _first(tags: np.ndarray) -> str:
    return str(tags.reshape(-1)[0]) if tags.size else ""


register_op("ScalarSummary", infer=_scalar_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_scalar_kernel, host_only=True, doc="A Summary with one simple_value per tag.")


# -- HistogramSummary ------------------------------------------------------------------------
def _histogram_infer(op):
    tag, values = op.inputs
    _check_string_scalar(tag, "HistogramSummary")
    _check_real(values, "HistogramSummary")
    return [_STRING]


def _histogram_kernel(op, ctx):
    def histogram_summary(tag, values):
        tag = _text(tag)
        try:
            histo = histogram_proto(_host(values))
        except ValueError:
            raise errors.InvalidArgumentError(
                None, op, f"Nan in summary histogram for: {tag}") from None
        return _serialized([Summary.Value(tag=tag, histo=histo)])
    return histogram_summary


register_op("HistogramSummary", infer=_histogram_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_histogram_kernel, host_only=True,
            doc="A Summary with the histogram of values (TF's exponential buckets).")


# -- ImageSummary ----------------------------------------------------------------------------
def _image_infer(op):
    tag, images = op.inputs
    _check_string_scalar(tag, "ImageSummary")
    if images.dtype not in (dtypes.uint8, dtypes.float16, dtypes.float32, dtypes.float64):
        raise TypeError(f"ImageSummary needs uint8 or float images, got {images.dtype.name}")
    s = images._shape
    if s is not None and (len(s) != 4 or s[3] not in (None, 1, 3, 4)):
        raise ValueError(f"Tensor must be 4-D with last dim 1, 3, or 4, not {list(s)}")
    if op.attrs["max_images"] < 1:
        raise ValueError(f"max_images must be at least 1, got {op.attrs['max_images']}")
    return [_STRING]


def _image_kernel(op, ctx):
    max_images, bad_color = op.attrs["max_images"], op.attrs["bad_color"]

    def image_summary(tag, images):
        try:
            return _serialized(image_values(_text(tag), _host(images), max_images, bad_color))
        except ValueError as e:
            raise _invalid(op, e) from None
    return image_summary


register_op("ImageSummary", infer=_image_infer, grad=NOT_DIFFERENTIABLE, kernel=_image_kernel,
            host_only=True,
            doc="A Summary with up to max_images PNG images of a [batch, h, w, c] tensor.")


# -- TensorSummaryV2 -------------------------------------------------------------------------
def _tensor_summary_infer(op):
    tag, _, metadata = op.inputs
    _check_string_scalar(tag, "TensorSummaryV2")
    _check_string_scalar(metadata, "TensorSummaryV2 (serialized_summary_metadata)")
    return [_STRING]


def _tensor_summary_kernel(op, ctx):
    def tensor_summary_v2(tag, tensor, metadata):
        meta = _host(metadata).reshape(()).item()
        return _serialized([tensor_value(_text(tag), _host(tensor), meta)])
    return tensor_summary_v2


register_op("TensorSummaryV2", infer=_tensor_summary_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_tensor_summary_kernel, host_only=True,
            doc="A Summary holding a whole tensor with plugin metadata (e.g. text).")


# -- MergeSummary ----------------------------------------------------------------------------
def _merge_infer(op):
    if not op.inputs:
        raise ValueError("MergeSummary needs at least one input")
    for t in op.inputs:
        if t.dtype != dtypes.string:
            raise TypeError(f"MergeSummary: input {t.name} is {t.dtype.name}, not a "
                            "serialized summary string")
    return [_STRING]


def _value_tags(serialized: bytes):
    """The tag of each value of a serialized Summary, without decoding the values."""
    for number, _, raw in iter_fields(serialized):
        if number == 1:
            yield next((t.decode("utf-8") for n, _, t in iter_fields(raw) if n == 1), "")


def _merge_kernel(op, ctx):
    def merge_summary(*inputs):
        parts, seen = [], set()
        for x in inputs:
            for s in _host(x).reshape(-1).tolist():
                s = s.encode("utf-8") if isinstance(s, str) else bytes(s)
                for tag in _value_tags(s):
                    if tag in seen:
                        raise errors.InvalidArgumentError(
                            None, op, f"Duplicate tag {tag} found in summary inputs")
                    seen.add(tag)
                parts.append(s)
        # Concatenated encodings of a message are the encoding of the merged message.
        return np.array(b"".join(parts), dtype=object)
    return merge_summary


register_op("MergeSummary", infer=_merge_infer, grad=NOT_DIFFERENTIABLE, kernel=_merge_kernel,
            host_only=True,
            doc="One Summary holding the values of all input summaries (tags unique).")


# -- tf.summary functions --------------------------------------------------------------------
_INVALID_TAG_CHARS = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    """`name` with characters TensorBoard tags disallow replaced by '_' (TF's clean_tag)."""
    if name is None:
        return None
    new = _INVALID_TAG_CHARS.sub("_", name).lstrip("/")
    if new != name:
        tf_logging.info("Summary name %s is illegal; using %s instead.", name, new)
    return new


@contextlib.contextmanager
def _summary_scope(name, family, default_name, values):
    """Yields (tag, scope): the name scope of a summary op and its (family-prefixed) tag."""
    name, family = _clean_tag(name), _clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    with name_scope(base, default_name, values) as scope:
        tag = scope.rstrip("/")
        yield (tag if family is None else f"{family}/{tag}"), scope


def _collect(t: Tensor, collections) -> Tensor:
    graph = t.graph
    for key in (collections if collections is not None else [GraphKeys.SUMMARIES]):
        graph.add_to_collection(key, t)
    return t


def _tag_const(value, name: str) -> Tensor:
    """A string scalar Const (object dtype, so bytes keep trailing NUL bytes)."""
    from .constant import constant
    return constant(np.array(value, dtype=object), name=name)


def scalar(name: str, tensor, collections=None, family=None) -> Tensor:
    """A summary of one real number `tensor` (a scalar), tagged by `name`'s scope."""
    tensor = convert_to_tensor(tensor)
    with _summary_scope(name, family, None, [tensor]) as (tag, scope):
        return _collect(out1("ScalarSummary", [_tag_const(tag, "tags"), tensor], None, scope),
                        collections)


def histogram(name: str, values, collections=None, family=None) -> Tensor:
    """A summary of the histogram of `values` (NaN/Inf fail the run)."""
    values = convert_to_tensor(values)
    with _summary_scope(name, family, "HistogramSummary", [values]) as (tag, scope):
        return _collect(out1("HistogramSummary", [_tag_const(tag, "tag"), values], None,
                             scope), collections)


def image(name: str, tensor, max_outputs: int = 3, collections=None, family=None) -> Tensor:
    """A summary of up to `max_outputs` images of a [batch, height, width, 1|3|4] tensor."""
    tensor = convert_to_tensor(tensor)
    with _summary_scope(name, family, None, [tensor]) as (tag, scope):
        attrs = {"max_images": int(max_outputs), "bad_color": [255, 0, 0, 255]}
        return _collect(out1("ImageSummary", [_tag_const(tag, "tag"), tensor], attrs, scope),
                        collections)


def tensor_summary(name: str, tensor, summary_description: str | None = None,
                   collections=None, summary_metadata=None, family=None,
                   display_name: str | None = None) -> Tensor:
    """A summary holding the whole `tensor`, with optional `SummaryMetadata`."""
    tensor = convert_to_tensor(tensor)
    meta = summary_metadata if summary_metadata is not None else SummaryMetadata()
    if display_name is not None:
        meta.display_name = display_name
    if summary_description is not None:
        meta.summary_description = summary_description
    with _summary_scope(name, family, None, [tensor]) as (tag, scope):
        inputs = [_tag_const(tag, "tag"), tensor,
                  _tag_const(meta.SerializeToString(), "serialized_summary_metadata")]
        return _collect(out1("TensorSummaryV2", inputs, None, scope), collections)


def text(name: str, tensor, collections=None) -> Tensor:
    """A summary of a string tensor for TensorBoard's text plugin.

    Raises:
        ValueError: `tensor` is not a string tensor.
    """
    tensor = convert_to_tensor(tensor)
    if tensor.dtype != dtypes.string:
        raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got "
                         f"{tensor.dtype.name}")
    meta = SummaryMetadata(plugin_data=PluginData(plugin_name="text"))
    return tensor_summary(name, tensor, collections=collections, summary_metadata=meta)


def merge(inputs, collections=None, name: str | None = None) -> Tensor:
    """One summary holding the values of every summary in `inputs` (tags must be unique)."""
    inputs = [convert_to_tensor(t) for t in inputs]
    with name_scope(name, "Merge", inputs):
        return _collect(out1("MergeSummary", inputs, {"N": len(inputs)}, "MergeSummary"),
                        collections if collections is not None else [])


def merge_all(key: str = GraphKeys.SUMMARIES, scope: str | None = None,
              name: str | None = None):
    """`merge` of the summaries in collection `key` (filtered by `scope`); None when empty."""
    summaries = get_collection(key, scope=scope)
    if not summaries:
        return None
    return merge(summaries, name=name)
