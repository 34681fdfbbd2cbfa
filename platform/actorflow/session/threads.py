"""BLAS threads: `ConfigProto.intra_op_parallelism_threads` sets how many threads the BLAS
library behind NumPy's kernels (OpenBLAS in NumPy's wheels; MKL or BLIS elsewhere) uses.

TF 1.x runs the work inside one op (a matmul) on its intra-op pool; here that work is BLAS,
so the setting becomes BLAS's thread count. BLAS has one pool per process, so the count is
per process: each session resolves its count once (`resolve_intra_op`) and, before a run,
applies it only when it differs from the count applied last (`BLAS_APPLIED` holds it), which
costs the run one comparison; applying costs about 1 µs (threadpoolctl finds the libraries
once per process, ~2 ms). The last session to run leaves its count in place, for NumPy code
outside sessions too.

``intra_op_parallelism_threads = 0`` (TF's "let the system pick") means: the count the
environment gives BLAS — ``OPENBLAS_NUM_THREADS``, else ``OMP_NUM_THREADS`` (Ray sets the
latter in each worker to its ``num_cpus``, at least 1) — else 1; never more than the CPUs this
process may run on (its affinity mask). Why 1 and not every CPU: OpenBLAS splits a matmul
over its threads, waits for all of them, and its idle threads spin. Whenever the machine has
more runnable threads than cores, a split matmul waits a scheduler time slice for a thread
that is not running: on 2 cores with 2 busy background processes, DQN on CartPole ran 2.6x
slower with 2 BLAS threads than with 1 (and at load 6-10, ~35x), while on the quiet machine
2 threads gained nothing for its 64x256x256 matmuls and 16% for the MNIST MLP's
100x784x300 ones. A process that owns its cores asks for more explicitly.
"""
from __future__ import annotations

import os
import sys
import threading
import warnings

__all__ = ["usable_cpus", "default_intra_op_threads", "resolve_intra_op", "apply_blas_threads",
           "blas_threads", "BLAS_APPLIED", "ENV_VARS"]

ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
"""The variables read for ``intra_op_parallelism_threads = 0``, first set one wins."""

BLAS_APPLIED: list = [None]
"""The thread count applied last in this process (None before the first session run)."""

_lock = threading.Lock()
_controllers: list | None = None  # threadpoolctl's per-library controllers, found once


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the OS has one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows: no affinity call
        return max(1, os.cpu_count() or 1)


def default_intra_op_threads(environ=None, cpus: int | None = None) -> int:
    """What ``intra_op_parallelism_threads = 0`` means here (see the module docstring).

    Raises:
        ValueError: a thread variable that is set but not a positive integer (names it).
    """
    environ = os.environ if environ is None else environ
    cpus = usable_cpus() if cpus is None else cpus
    for var in ENV_VARS:
        raw = environ.get(var, "").strip()
        if not raw:
            continue
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"{var}={raw!r} is not a positive thread count")
        return min(n, cpus)
    return 1


def resolve_intra_op(intra_op_parallelism_threads) -> int:
    """The BLAS thread count for a session's ``intra_op_parallelism_threads`` setting:
    itself when positive (at most `usable_cpus`: more threads than CPUs only queue behind
    each other), `default_intra_op_threads` when 0.

    Raises:
        TypeError: the setting is not an int.
        ValueError: the setting is negative.
    """
    n = intra_op_parallelism_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"intra_op_parallelism_threads must be an int, got {n!r}")
    if n < 0:
        raise ValueError(f"intra_op_parallelism_threads must be >= 0 (0: let the system "
                         f"pick), got {n}")
    return min(n, usable_cpus()) if n else default_intra_op_threads()


def _find_controllers() -> list:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        warnings.warn("threadpoolctl is not installed, so intra_op_parallelism_threads cannot "
                      "set BLAS threads: pip install threadpoolctl", RuntimeWarning,
                      stacklevel=4)
        return []
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


def _blas_controllers() -> list:
    """The BLAS libraries' controllers, found on first use. Call with `_lock` held."""
    global _controllers
    if _controllers is None:
        _controllers = _find_controllers()
    return _controllers


def apply_blas_threads(n: int) -> None:
    """Sets every loaded BLAS library of this process to `n` threads; records it in
    `BLAS_APPLIED`."""
    with _lock:
        for c in _blas_controllers():
            c.set_num_threads(n)
        # Fused elementwise kernels (session/fuse.py) run on numexpr's pool: it follows too.
        numexpr = sys.modules.get("numexpr")
        if numexpr is not None:
            numexpr.set_num_threads(n)
        BLAS_APPLIED[0] = n


def blas_threads() -> dict[str, int]:
    """{library file: its current thread count} for the BLAS libraries this process loaded."""
    with _lock:
        return {c.filepath: c.get_num_threads() for c in _blas_controllers()}
