"""Element types: TF 1.x `DType` objects over NumPy dtypes.

`as_dtype` accepts a DType, a NumPy dtype or type, or a name (``"float32"``).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "DType", "as_dtype", "float16", "float32", "float64", "half", "double",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "bool", "string",
    "complex64", "complex128",
]


class DType:
    """An element type of a tensor (`tf.float32`, `tf.int32`, ...)."""

    __slots__ = ("name", "_np")

    def __init__(self, name: str, np_type) -> None:
        self.name = name
        self._np = np.dtype(np_type)

    @property
    def as_numpy_dtype(self):
        return self._np.type

    @property
    def np(self) -> np.dtype:
        return self._np

    @property
    def base_dtype(self) -> "DType":
        return self

    @property
    def real_dtype(self) -> "DType":
        return self

    @property
    def is_floating(self) -> bool:
        return self._np.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self._np.kind in "iu"

    @property
    def is_bool(self) -> bool:
        return self._np.kind == "b"

    @property
    def is_complex(self) -> bool:
        return self._np.kind == "c"

    @property
    def is_unsigned(self) -> bool:
        return self._np.kind == "u"

    @property
    def is_numpy_compatible(self) -> bool:
        return True

    @property
    def size(self) -> int:
        return self._np.itemsize

    @property
    def min(self):
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def is_compatible_with(self, other) -> bool:
        return self == as_dtype(other)

    def __eq__(self, other) -> bool:
        if other is None:
            return False
        try:
            o = as_dtype(other)
        except TypeError:
            return False
        # string, resource and variant share NumPy's object dtype but are different types.
        return self._np == o._np and (self._np != np.object_ or self.name == o.name)

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = half = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = double = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
uint16 = DType("uint16", np.uint16)
bool = DType("bool", np.bool_)  # noqa: A001 - TF 1.x spells it tf.bool
string = DType("string", np.object_)
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)
#: A handle to per-session state (a queue, a reader, an iterator): a Python object on the host.
resource = DType("resource", np.object_)
#: An opaque host value (a TensorArray's list of arrays, a dataset element structure).
variant = DType("variant", np.object_)

_ALL = [float16, float32, float64, int8, int16, int32, int64, uint8, uint16, bool,
        string, complex64, complex128]
_BY_NAME = {d.name: d for d in _ALL + [resource, variant]}
_BY_NAME.update({"half": float16, "double": float64, "float": float32, "int": int32})
_BY_NP = {d.np: d for d in _ALL}


def as_dtype(value) -> DType:
    """Returns the DType for `value` (a DType, NumPy dtype/type or name).

    Raises:
        TypeError: `value` names no supported element type.
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        try:
            return _BY_NAME[value]
        except KeyError:
            raise TypeError(f"Cannot convert {value!r} to a DType") from None
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot convert {value!r} to a DType") from None
    if npd.kind in "US":
        return string
    try:
        return _BY_NP[npd]
    except KeyError:
        raise TypeError(f"Cannot convert {value!r} to a DType") from None
