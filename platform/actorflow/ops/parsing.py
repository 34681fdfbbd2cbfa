"""Parsing ops: tf.train.Example records into tensors, raw bytes and CSV text into numbers.

`parse_example` / `parse_single_example` take a dict of feature specs:

- `FixedLenFeature(shape, dtype, default_value)`: a dense tensor of `shape` per record
  (``[batch] + shape`` for a batch); a record without the feature takes `default_value`, or
  fails when there is none;
- `VarLenFeature(dtype)`: a `SparseTensor` with one row per record (indices ``[record, j]``,
  dense shape ``[batch, longest]``; for one record, indices ``[j]``);
- `FixedLenSequenceFeature(shape, dtype, allow_missing, default_value)`: a feature holding a
  whole number of `shape`-sized steps, stacked to ``[batch, most steps] + shape`` and padded
  with `default_value` (0 or b"").

dtypes are tf.int64, tf.float32 and tf.string, as in TF. `decode_raw` reinterprets each
string's bytes as numbers, `decode_csv` splits CSV records into typed columns and
`string_to_number` parses numbers. Kernels run on the host over object arrays of bytes.
"""
from __future__ import annotations

import collections
import math
import re

import numpy as np

from .. import dtypes, errors
from ..example.fast_decode import DecodeError, decode_features
from ..framework.graph import Tensor, convert_to_tensor, make_op
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ..framework.sparse_tensor import SparseTensor

__all__ = ["FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "parse_example",
           "parse_single_example", "decode_raw", "decode_csv", "string_to_number",
           "string_split"]

_PARSE_DTYPES = ("int64", "float32", "string")


class FixedLenFeature(collections.namedtuple("FixedLenFeature",
                                             ["shape", "dtype", "default_value"])):
    """A fixed-shape feature; records without it take `default_value` (required if None)."""

    __slots__ = ()

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature of any length, parsed into a `SparseTensor`."""

    __slots__ = ()


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A feature holding any number of `shape`-sized steps; parsed to ``[steps] + shape``,
    padded across a batch with `default_value`. `allow_missing` lets records lack it."""

    __slots__ = ()

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


# -- the parse ops ---------------------------------------------------------------------------
def _parse_infer(op):
    a = op.attrs
    single = op.type == "ParseSingleExample"
    batch = () if single else (op.inputs[0]._shape[0] if op.inputs[0]._shape else None,)
    out = []
    for _ in a["sparse_types"]:
        out.append((dtypes.int64, (None, len(batch) + 1)))
    for dt in a["sparse_types"]:
        out.append((dtypes.as_dtype(dt), (None,)))
    for _ in a["sparse_types"]:
        out.append((dtypes.int64, (len(batch) + 1,)))
    for dt, shape, seq in zip(a["dense_types"], a["dense_shapes"], a["dense_sequence"]):
        out.append((dtypes.as_dtype(dt), batch + ((None,) if seq else ()) + tuple(shape)))
    return out


def _np_dtype(name: str):
    return object if name == "string" else np.dtype(name)


def _parse_kernel(op, ctx):
    a = op.attrs
    single = op.type == "ParseSingleExample"
    sparse = list(zip(a["sparse_keys"], a["sparse_types"]))
    dense = list(zip(a["dense_keys"], a["dense_types"], a["dense_shapes"],
                     a["dense_sequence"], a["dense_allow_missing"]))
    wanted = frozenset(a["sparse_keys"]) | frozenset(a["dense_keys"])

    def parse(serialized, *defaults):
        records = np.asarray(serialized, dtype=object).reshape(-1)
        parsed = []
        for i, rec in enumerate(records):
            try:
                parsed.append(decode_features(_as_bytes(rec), wanted))
            except DecodeError as e:
                raise errors.InvalidArgumentError(
                    None, op, f"Could not parse example input {i} ({e}), value: "
                    f"'{_as_bytes(rec)[:40]!r}'") from None
        outs_idx, outs_val, outs_shape, outs_dense = [], [], [], []
        for key, dt in sparse:
            idx, val, shape = _sparse_output(op, parsed, key, dt, single)
            outs_idx.append(idx)
            outs_val.append(val)
            outs_shape.append(shape)
        for (key, dt, shape, seq, allow_missing), default in zip(dense, defaults):
            if seq:
                v = _sequence_output(op, parsed, key, dt, shape, allow_missing, default)
            else:
                v = _dense_output(op, parsed, key, dt, shape, default)
            outs_dense.append(v.reshape(v.shape[1:]) if single else v)
        outs = outs_idx + outs_val + outs_shape + outs_dense
        return tuple(outs) if len(outs) != 1 else outs[0]
    return parse


def _as_bytes(v) -> bytes:
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


def _values_of(op, rec: dict, i: int, key: str, dt: str):
    """The values of feature `key` in record `i` (None when absent), checked against `dt`."""
    got = rec.get(key)
    if got is None:
        return None
    kind, values = got
    if kind is not None and kind != dt:
        raise errors.InvalidArgumentError(
            None, op, f"Name: <unknown>, Feature: {key}, record {i}.  Data types don't match. "
            f"Data type: {_TF_NAME[kind]} but expected type: {_TF_NAME[dt]}")
    return values


_TF_NAME = {"int64": "int64", "float32": "float", "string": "string"}


def _sparse_output(op, parsed, key, dt, single):
    rows = [_values_of(op, rec, i, key, dt) for i, rec in enumerate(parsed)]
    lengths = [0 if r is None else len(r) for r in rows]
    nnz = sum(lengths)
    values = np.empty(nnz, dtype=_np_dtype(dt))
    pos = 0
    for r, n in zip(rows, lengths):
        if n:
            values[pos:pos + n] = r
            pos += n
    col = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths]) if nnz else \
        np.zeros(0, np.int64)
    longest = max(lengths, default=0)
    if single:
        return col.reshape(-1, 1), values, np.array([longest], np.int64)
    row = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    return (np.stack([row, col], axis=1), values,
            np.array([len(rows), longest], np.int64))


def _dense_output(op, parsed, key, dt, shape, default):
    size = math.prod(shape)
    out = np.empty((len(parsed), size), dtype=_np_dtype(dt))
    default = np.asarray(default)
    for i, rec in enumerate(parsed):
        values = _values_of(op, rec, i, key, dt)
        if values is None:
            if default.size == 0:
                raise errors.InvalidArgumentError(
                    None, op, f"Name: <unknown>, Feature: {key} (data type: {_TF_NAME[dt]}) "
                    f"is required but could not be found (record {i}).")
            out[i] = np.broadcast_to(default.reshape(-1), (size,))
            continue
        if len(values) != size:
            raise errors.InvalidArgumentError(
                None, op, f"Name: <unknown>, Key: {key}, Index: {i}.  Number of "
                f"{_TF_NAME[dt]} values != expected.  Values size: {len(values)} but output "
                f"shape: {list(shape)}")
        out[i] = values
    return out.reshape((len(parsed),) + tuple(shape))


def _sequence_output(op, parsed, key, dt, shape, allow_missing, default):
    step = math.prod(shape)
    rows = []
    for i, rec in enumerate(parsed):
        values = _values_of(op, rec, i, key, dt)
        if values is None:
            if not allow_missing:
                raise errors.InvalidArgumentError(
                    None, op, f"Name: <unknown>, Feature: {key} (data type: {_TF_NAME[dt]}) "
                    f"is required but could not be found (record {i}).")
            values = []
        if step and len(values) % step:
            raise errors.InvalidArgumentError(
                None, op, f"Name: <unknown>, Key: {key}, Index: {i}.  Number of "
                f"{_TF_NAME[dt]} values is not a multiple of the step size {step} "
                f"(shape {list(shape)}): {len(values)}")
        rows.append(values)
    steps = max((len(r) // step for r in rows), default=0) if step else 0
    pad = np.asarray(default).reshape(-1)
    fill = pad[0] if pad.size else (b"" if dt == "string" else 0)
    out = np.full((len(rows), steps * step), fill, dtype=_np_dtype(dt))
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out.reshape((len(rows), steps) + tuple(shape))


for _type in ("ParseExample", "ParseSingleExample"):
    register_op(_type, infer=_parse_infer, grad=NOT_DIFFERENTIABLE, kernel=_parse_kernel,
                host_only=True, doc="Parses serialized tf.train.Example records into sparse "
                "(indices, values, shapes) and dense tensors.")


def _feature_dtype(key, dtype) -> str:
    name = dtypes.as_dtype(dtype).name
    if name not in _PARSE_DTYPES:
        raise ValueError(f"Feature {key!r}: dtype {name} is not supported; use int64, float32 "
                         "or string")
    return name


def _static_shape(key, shape) -> tuple:
    dims = getattr(shape, "as_list", lambda: shape)()
    dims = [] if dims is None else list(dims)
    if any(d is None or int(d) < 0 for d in dims):
        raise ValueError(f"Feature {key!r}: a fixed-length feature needs a fully defined "
                         f"shape, got {dims}")
    return tuple(int(d) for d in dims)


def _parse(op_type: str, serialized, features: dict, name):
    if not features:
        raise ValueError("Missing: features was empty.")
    serialized = convert_to_tensor(serialized, dtype=dtypes.string)
    want_rank = 0 if op_type == "ParseSingleExample" else 1
    if serialized._shape is not None and len(serialized._shape) != want_rank:
        raise ValueError(f"{'parse_single_example' if want_rank == 0 else 'parse_example'}: "
                         f"serialized must have rank {want_rank}, got shape "
                         f"{list(serialized._shape)}")
    sparse_keys, sparse_types = [], []
    dense_keys, dense_types, dense_shapes, dense_seq, dense_missing, defaults = \
        [], [], [], [], [], []
    for key in sorted(features):
        spec = features[key]
        if isinstance(spec, VarLenFeature):
            sparse_keys.append(key)
            sparse_types.append(_feature_dtype(key, spec.dtype))
            continue
        if not isinstance(spec, (FixedLenFeature, FixedLenSequenceFeature)):
            raise ValueError(f"Unsupported feature spec for {key!r}: {spec!r}")
        dt = _feature_dtype(key, spec.dtype)
        shape = _static_shape(key, spec.shape)
        dense_keys.append(key)
        dense_types.append(dt)
        dense_shapes.append(shape)
        seq = isinstance(spec, FixedLenSequenceFeature)
        dense_seq.append(seq)
        dense_missing.append(bool(spec.allow_missing) if seq else False)
        defaults.append(_default_tensor(key, spec.default_value, dt, shape, seq))
    attrs = {"sparse_keys": tuple(sparse_keys), "sparse_types": tuple(sparse_types),
             "dense_keys": tuple(dense_keys), "dense_types": tuple(dense_types),
             "dense_shapes": tuple(dense_shapes), "dense_sequence": tuple(dense_seq),
             "dense_allow_missing": tuple(dense_missing)}
    op = make_op(op_type, [serialized] + defaults, attrs, name or op_type)
    ns = len(sparse_keys)
    out = {}
    for i, key in enumerate(sparse_keys):
        out[key] = SparseTensor(op.outputs[i], op.outputs[ns + i], op.outputs[2 * ns + i])
    for i, key in enumerate(dense_keys):
        out[key] = op.outputs[3 * ns + i]
    return out


def _default_tensor(key, default, dt, shape, seq) -> Tensor:
    """The default as a tensor: empty for none (a required feature), else its values."""
    np_dt = _np_dtype(dt)
    if default is None:
        return convert_to_tensor(np.zeros(0, dtype=np_dt), dtype=dtypes.as_dtype(dt))
    if isinstance(default, Tensor):
        return default
    arr = np.asarray(default, dtype=np_dt) if dt != "string" else \
        np.asarray([_as_bytes(v) for v in np.ravel(np.asarray(default, dtype=object))],
                   dtype=object).reshape(np.shape(default))
    size = 1 if seq else math.prod(shape)
    if arr.size not in (1, size):
        raise ValueError(f"Feature {key!r}: default_value has {arr.size} elements but the "
                         f"shape {list(shape)} needs {size}")
    return convert_to_tensor(arr, dtype=dtypes.as_dtype(dt))


def parse_example(serialized, features: dict, name=None, example_names=None) -> dict:
    """Parses a batch (vector) of serialized `tf.train.Example` protos.

    Args:
        serialized: a string vector of serialized Examples.
        features: {name: FixedLenFeature, VarLenFeature or FixedLenSequenceFeature}.
        example_names: accepted for TF's signature (names appear in no message here).

    Returns:
        {name: Tensor} for dense features (leading batch dimension) and {name: SparseTensor}
        for `VarLenFeature`s.

    Raises:
        ValueError: an empty or unsupported spec. At run time InvalidArgumentError: a
            missing required feature, a wrong value count or type, a record that is not an
            Example.
    """
    return _parse("ParseExample", serialized, features, name)


def parse_single_example(serialized, features: dict, name=None, example_names=None) -> dict:
    """Parses one serialized `tf.train.Example` (a scalar string): like `parse_example`
    without the batch dimension."""
    return _parse("ParseSingleExample", serialized, features, name)


# -- decode_raw ------------------------------------------------------------------------------
_RAW_TYPES = ("float16", "float32", "float64", "int32", "uint16", "uint8", "int16", "int8",
              "int64", "complex64", "complex128", "bool")


def _decode_raw_infer(op):
    x = op.inputs[0]
    shape = None if x._shape is None else tuple(x._shape) + (None,)
    return [(dtypes.as_dtype(op.attrs["out_type"]), shape)]


def _decode_raw_kernel(op, ctx):
    out_dt = np.dtype(op.attrs["out_type"])
    wire_dt = out_dt.newbyteorder("<" if op.attrs["little_endian"] else ">")

    def decode_raw(x):
        x = np.asarray(x, dtype=object)
        flat = [_as_bytes(v) for v in x.reshape(-1)]
        n = len(flat[0]) if flat else 0
        for i, b in enumerate(flat):
            if len(b) != n:
                raise errors.InvalidArgumentError(
                    None, op, f"DecodeRaw requires input strings to all be the same size, "
                    f"but element {i} has size {len(b)} != {n}")
        if n % out_dt.itemsize:
            raise errors.InvalidArgumentError(
                None, op, f"Input to DecodeRaw has length {n} that is not a multiple of "
                f"{out_dt.itemsize}, the size of {dtypes.as_dtype(out_dt).name}")
        data = np.frombuffer(b"".join(flat), dtype=wire_dt).astype(out_dt, copy=True)
        return data.reshape(x.shape + (n // out_dt.itemsize,))
    return decode_raw


register_op("DecodeRaw", infer=_decode_raw_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_decode_raw_kernel, host_only=True,
            doc="Reinterprets the bytes of each string as a vector of out_type numbers.")


def decode_raw(input_bytes=None, out_type=None, little_endian: bool = True, name=None,
               bytes=None) -> Tensor:  # noqa: A002 - TF's argument name
    """Reinterprets the bytes of each string of `input_bytes` as numbers of `out_type`.

    Every string must have the same length, a multiple of the type's size; the result has
    the input's shape plus one dimension (the numbers of each string). `little_endian` says
    how the bytes are ordered.
    """
    x = bytes if input_bytes is None else input_bytes
    if x is None or out_type is None:
        raise TypeError("decode_raw needs input_bytes and out_type")
    out = dtypes.as_dtype(out_type)
    if out.name not in _RAW_TYPES:
        raise TypeError(f"decode_raw: out_type {out.name} is not one of {', '.join(_RAW_TYPES)}")
    return make_op("DecodeRaw", [convert_to_tensor(x, dtype=dtypes.string)],
                   {"out_type": out.name, "little_endian": bool(little_endian)},
                   name or "DecodeRaw").outputs[0]


# -- numbers from text -----------------------------------------------------------------------
_NUMBER_TYPES = ("float32", "float64", "int32", "int64")
_INT_LIMITS = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}


def _to_number(text: bytes, dt: str):
    """The number `text` spells as `dt` (surrounding spaces allowed), or None."""
    try:
        s = text.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if not s or "_" in s:
        return None
    try:
        if dt in _INT_LIMITS:
            v = int(s, 10)
            lo, hi = _INT_LIMITS[dt]
            return v if lo <= v <= hi else None
        return float(s)
    except ValueError:
        return None


def _string_to_number_kernel(op, ctx):
    dt = op.attrs["out_type"]

    def string_to_number(x):
        x = np.asarray(x, dtype=object)
        out = np.empty(x.shape, dtype=np.dtype(dt))
        flat = out.reshape(-1)
        for i, v in enumerate(x.reshape(-1)):
            n = _to_number(_as_bytes(v), dt)
            if n is None:
                raise errors.InvalidArgumentError(
                    None, op, f"StringToNumberOp could not correctly convert string: "
                    f"{_as_bytes(v).decode('utf-8', 'replace')}")
            flat[i] = n
        return out
    return string_to_number


register_op("StringToNumber",
            infer=lambda op: [(dtypes.as_dtype(op.attrs["out_type"]), op.inputs[0]._shape)],
            grad=NOT_DIFFERENTIABLE, kernel=_string_to_number_kernel, host_only=True,
            doc="Parses each string as a number of out_type.")


def string_to_number(string_tensor, out_type=dtypes.float32, name=None) -> Tensor:
    """Parses each string of `string_tensor` as a number of `out_type` (float32, float64,
    int32, int64); a string that is not one fails at run time (InvalidArgumentError)."""
    dt = dtypes.as_dtype(out_type).name
    if dt not in _NUMBER_TYPES:
        raise TypeError(f"string_to_number: out_type {dt} is not one of "
                        f"{', '.join(_NUMBER_TYPES)}")
    return make_op("StringToNumber", [convert_to_tensor(string_tensor, dtype=dtypes.string)],
                   {"out_type": dt}, name or "StringToNumber").outputs[0]


# -- decode_csv ------------------------------------------------------------------------------
def _split_csv(op, record: bytes, i: int, delim: bytes, quote: bool) -> list[bytes]:
    """The fields of one CSV record (RFC 4180 quoting when `quote`)."""
    if not quote or b'"' not in record:
        return record.split(delim)
    fields, pos, n = [], 0, len(record)
    while True:
        if pos < n and record[pos:pos + 1] == b'"':
            buf, pos = bytearray(), pos + 1
            while True:
                end = record.find(b'"', pos)
                if end < 0:
                    raise errors.InvalidArgumentError(
                        None, op, f"Quoted field has to end with quote followed by delim or "
                        f"end in record {i}")
                buf += record[pos:end]
                if record[end + 1:end + 2] == b'"':  # "" stands for one quote
                    buf += b'"'
                    pos = end + 2
                    continue
                pos = end + 1
                break
            if pos < n and record[pos:pos + 1] != delim:
                raise errors.InvalidArgumentError(
                    None, op, f"Quoted field has to end with quote followed by delim or end "
                    f"in record {i}")
            fields.append(bytes(buf))
        else:
            end = record.find(delim, pos)
            end = n if end < 0 else end
            field = record[pos:end]
            if b'"' in field:
                raise errors.InvalidArgumentError(
                    None, op, f"Unquoted fields cannot have quotes inside in record {i}")
            fields.append(field)
            pos = end
        if pos >= n:
            return fields
        pos += 1  # past the delimiter
        if pos == n:
            fields.append(b"")
            return fields


def _decode_csv_infer(op):
    shape = op.inputs[0]._shape
    return [(t.dtype, shape) for t in op.inputs[1:]]


def _decode_csv_kernel(op, ctx):
    a = op.attrs
    delim, quote, na = a["field_delim"], a["use_quote_delim"], a["na_value"]
    select = a["select_cols"]
    types = [t.dtype.name for t in op.inputs[1:]]

    def decode_csv(records, *defaults):
        records = np.asarray(records, dtype=object)
        flat = records.reshape(-1)
        outs = [np.empty(flat.shape, dtype=_np_dtype(t)) for t in types]
        defaults = [np.asarray(d).reshape(-1) for d in defaults]
        for i, rec in enumerate(flat):
            fields = _split_csv(op, _as_bytes(rec), i, delim, quote)
            if select:
                if len(fields) <= select[-1]:
                    raise errors.InvalidArgumentError(
                        None, op, f"Expect {select[-1] + 1} fields but have {len(fields)} "
                        f"in record {i}")
                fields = [fields[c] for c in select]
            elif len(fields) != len(types):
                raise errors.InvalidArgumentError(
                    None, op, f"Expect {len(types)} fields but have {len(fields)} in record "
                    f"{i}")
            for f, (field, t, d) in enumerate(zip(fields, types, defaults)):
                if field == b"" or field == na:
                    if d.size == 0:
                        raise errors.InvalidArgumentError(
                            None, op, f"Field {f} is required but missing in record {i}!")
                    outs[f][i] = d[0]
                elif t == "string":
                    outs[f][i] = field
                else:
                    v = _to_number(field, t)
                    if v is None:
                        raise errors.InvalidArgumentError(
                            None, op, f"Field {f} in record {i} is not a valid {t}: "
                            f"{field.decode('utf-8', 'replace')}")
                    outs[f][i] = v
        outs = [o.reshape(records.shape) for o in outs]
        return tuple(outs) if len(outs) != 1 else outs[0]
    return decode_csv


register_op("DecodeCSV", infer=_decode_csv_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_decode_csv_kernel, host_only=True,
            doc="Splits CSV records into one typed tensor per column.")


def decode_csv(records, record_defaults, field_delim: str = ",", use_quote_delim: bool = True,
               name=None, na_value: str = "", select_cols=None) -> list:
    """Splits each CSV record of `records` into columns, one tensor per column.

    Args:
        records: a string tensor; every output has its shape.
        record_defaults: one entry per column: ``[value]`` (its type gives the column's:
            int32, int64, float32, float64 or string) used for an empty field, or an empty
            tensor of the column's type for a required column.
        field_delim: the one-character delimiter.
        use_quote_delim: fields in double quotes may hold the delimiter; ``""`` is a quote.
        na_value: a field equal to it counts as empty.
        select_cols: sorted column indices to keep (then record_defaults lists only those).

    Raises:
        ValueError: a delimiter of more than one character, unsorted `select_cols`, a
            mismatch between `select_cols` and `record_defaults`. At run time
            InvalidArgumentError: a wrong field count, a missing required field, a field that
            is not a number of its column's type, bad quoting.
    """
    delim = field_delim.encode("utf-8") if isinstance(field_delim, str) else bytes(field_delim)
    if len(delim) != 1:
        raise ValueError(f"field_delim must be one character, got {field_delim!r}")
    if select_cols is not None:
        select_cols = tuple(int(c) for c in select_cols)
        if any(b <= a for a, b in zip(select_cols, select_cols[1:])) or \
                (select_cols and select_cols[0] < 0):
            raise ValueError("select_cols is not strictly increasing.")
        if len(select_cols) != len(record_defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    defaults = []
    for i, d in enumerate(record_defaults):
        t = d if isinstance(d, Tensor) else convert_to_tensor(
            np.asarray([_as_bytes(v) for v in d], dtype=object)
            if len(d) and isinstance(d[0], (str, bytes)) else d)
        if t.dtype.name not in _NUMBER_TYPES + ("string",):
            raise TypeError(f"record_defaults[{i}] has dtype {t.dtype.name}; use int32, "
                            "int64, float32, float64 or string")
        defaults.append(t)
    na = na_value.encode("utf-8") if isinstance(na_value, str) else bytes(na_value)
    attrs = {"field_delim": delim, "use_quote_delim": bool(use_quote_delim), "na_value": na,
             "select_cols": select_cols or ()}
    op = make_op("DecodeCSV", [convert_to_tensor(records, dtype=dtypes.string)] + defaults,
                 attrs, name or "DecodeCSV")
    return list(op.outputs)


# -- string_split ----------------------------------------------------------------------------
def _string_split_infer(op):
    return [(dtypes.int64, (None, 2)), (dtypes.string, (None,)), (dtypes.int64, (2,))]


def _string_split_kernel(op, ctx):
    skip_empty = op.attrs["skip_empty"]

    def string_split(source, delimiter):
        delim = _as_bytes(np.asarray(delimiter, dtype=object).reshape(()).item())
        splitter = re.compile(b"[" + re.escape(delim) + b"]") if delim else None
        rows = []
        for s in np.asarray(source, dtype=object).reshape(-1):
            s = _as_bytes(s)
            if not s:
                tokens = []  # an empty string has no tokens, not one empty token
            elif splitter is None:
                tokens = [s[j:j + 1] for j in range(len(s))]
            else:
                tokens = splitter.split(s)
            rows.append([t for t in tokens if t] if skip_empty else tokens)
        lengths = [len(r) for r in rows]
        values = np.empty(sum(lengths), dtype=object)
        values[:] = [t for r in rows for t in r]
        indices = np.stack([np.repeat(np.arange(len(rows), dtype=np.int64), lengths),
                            np.concatenate([np.arange(n, dtype=np.int64) for n in lengths])
                            if rows else np.zeros(0, np.int64)], axis=1)
        return indices, values, np.array([len(rows), max(lengths, default=0)], np.int64)
    return string_split


register_op("StringSplit", infer=_string_split_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_string_split_kernel, host_only=True,
            doc="Splits each string of a vector at any of the delimiter's characters.")


def string_split(source, delimiter=" ", skip_empty: bool = True, sep=None) -> SparseTensor:
    """Splits each string of the vector `source` at every occurrence of any character of
    `delimiter` (an empty delimiter splits into single bytes) and returns the tokens as a
    `SparseTensor` of shape ``[len(source), most tokens]``; `skip_empty` drops empty
    tokens."""
    if sep is not None:
        delimiter = sep
    source = convert_to_tensor(source, dtype=dtypes.string)
    if source._shape is not None and len(source._shape) != 1:
        raise ValueError(f"string_split: source must be a vector, got shape "
                         f"{list(source._shape)}")
    op = make_op("StringSplit", [source, convert_to_tensor(delimiter, dtype=dtypes.string)],
                 {"skip_empty": bool(skip_empty)}, "StringSplit")
    return SparseTensor(*op.outputs)
