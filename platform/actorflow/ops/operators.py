"""The Python operators of `Tensor`, installed once when actorflow is imported.

They dispatch to the op families (ops/math.py, ops/unary.py, ops/logic.py, ops/linalg.py), so
this module imports all four and nothing imports it but the package itself.
"""
from __future__ import annotations

from ..framework.graph import Tensor
from .linalg import matmul
from .logic import (greater, greater_equal, less, less_equal, logical_and, logical_not,
                    logical_or, logical_xor)
from .math import add, floordiv, floormod, multiply, negative, pow, subtract, truediv
from .unary import abs

__all__: list[str] = []


# -- Operator overloads on Tensor ----------------------------------------------------------
def _install_operators() -> None:
    """Python operators on Tensor, as TF 1.x: `/` is truediv, `//` floordiv, `%` floormod,
    `&` `|` `^` `~` are logical (bool tensors). `==` and `!=` stay identity, so tensors can
    key dicts; use `equal` / `not_equal` for elementwise comparison."""
    def binary(fn):
        def op(self, other):
            return fn(self, other)

        def rop(self, other):
            return fn(other, self)
        return op, rop

    table = {"add": add, "sub": subtract, "mul": multiply, "truediv": truediv,
             "floordiv": floordiv, "mod": floormod, "pow": pow, "matmul": matmul,
             "and": logical_and, "or": logical_or, "xor": logical_xor}
    for name, fn in table.items():
        op, rop = binary(fn)
        setattr(Tensor, f"__{name}__", op)
        setattr(Tensor, f"__r{name}__", rop)
    for name, fn in {"lt": less, "le": less_equal, "gt": greater, "ge": greater_equal}.items():
        setattr(Tensor, f"__{name}__", binary(fn)[0])
    Tensor.__neg__ = lambda self: negative(self)
    Tensor.__abs__ = lambda self: abs(self)
    Tensor.__invert__ = lambda self: logical_not(self)


_install_operators()
