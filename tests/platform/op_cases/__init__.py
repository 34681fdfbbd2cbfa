"""Op test cases, one module per op family. Each module defines ``CASES: list[OpCase]``.

`tests/platform/test_op_registry.py` runs every case (forward against its NumPy reference,
gradient against central finite differences in float64) and fails for any registered op type
that no case covers, so a new op cannot skip the check.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class OpCase:
    """One check of one registered op type.

    Attributes:
        op_type: the registered type this case covers (the built graph must contain it).
        build: ``build(*input_tensors) -> tensor or list of tensors``.
        inputs: NumPy input values; float inputs are fed through placeholders of their dtype.
        reference: ``reference(*inputs) -> expected value(s)``, or None when `check` is given.
        check: ``check(outputs, inputs)`` asserting properties (for random/stateful ops).
        grad: check gradients of float inputs by finite differences (float64 inputs).
        grad_inputs: indices of inputs to differentiate (default: all floating inputs).
        atol, rtol: forward tolerances.
        name: a short label for the test id.
    """

    op_type: str
    build: Callable
    inputs: list = field(default_factory=list)
    reference: Callable | None = None
    check: Callable | None = None
    grad: bool = True
    grad_inputs: tuple | None = None
    atol: float = 1e-6
    rtol: float = 1e-6
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-4
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.op_type}-{self.name}" if self.name else self.op_type


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def randn(*shape, seed: int = 0, dtype=np.float64) -> np.ndarray:
    return rng(seed).standard_normal(shape).astype(dtype)


def randu(*shape, low=0.5, high=1.5, seed: int = 0, dtype=np.float64) -> np.ndarray:
    return rng(seed).uniform(low, high, shape).astype(dtype)


def all_cases() -> list[OpCase]:
    cases: list[OpCase] = []
    for mod in pkgutil.iter_modules(__path__):
        m = importlib.import_module(f"{__name__}.{mod.name}")
        cases.extend(getattr(m, "CASES", []))
    return cases
