"""Run unmodified TF 1.x programs on actorflow: ``import tensorflow`` resolves to actorflow.

`install()` puts a finder first on `sys.meta_path` that maps the module ``tensorflow`` to
``actorflow`` and ``tensorflow.X.Y`` to ``actorflow.X.Y`` (``tensorflow.compat.v1`` is
actorflow itself), for this process only: no package named ``tensorflow`` is written
anywhere, and an installed TensorFlow is shadowed, not touched. It also gives every actorflow
module a module-level ``__getattr__`` so that a program reaching a name actorflow lacks gets
`MissingAttributeError` ("actorflow does not implement tf.contrib.foo (reached from
program.py line 12)") rather than a bare AttributeError; a missing module gives
`MissingModuleError`.

`run_program(path, args)` runs a program file as ``python path args...`` would (``__name__``
is ``"__main__"``, ``sys.argv`` is ``[path, *args]``, the program's folder is first on
``sys.path``) with the hook installed, and returns its exit status. ``actorflow run`` and
``python -m actorflow.run`` call it.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys
import traceback
import types

__all__ = ["MissingAPIError", "MissingAttributeError", "MissingModuleError",
           "TensorFlowAliasFinder", "install", "uninstall", "run_program"]

_TF = "tensorflow"
_AF = "actorflow"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# Frames in these folders are not the program's: actorflow's and the import machinery's.
_INTERNAL_DIRS = (_PACKAGE_DIR + os.sep,
                  os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep)


class MissingAPIError(Exception):
    """Base of the errors for a TF name actorflow does not implement."""


class MissingAttributeError(MissingAPIError, AttributeError):
    """A program read ``tf.<something>`` that actorflow does not implement."""


class MissingModuleError(MissingAPIError, ModuleNotFoundError):
    """A program imported ``tensorflow.<module>`` that actorflow does not implement."""


# -- where a program reached a missing name ------------------------------------------------
def _caller() -> str:
    """"program.py line 12" for the innermost frame outside actorflow and the import
    machinery (the program's line that reached the missing name); "" when there is none."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        internal = filename.startswith("<frozen importlib") or \
            os.path.abspath(filename).startswith(_INTERNAL_DIRS)
        if not internal:
            return f" (reached from {os.path.basename(filename)} line {frame.f_lineno})"
        frame = frame.f_back
    return ""


def _tf_name(module_name: str) -> str:
    """``actorflow.contrib.layers`` -> ``tf.contrib.layers`` (how programs spell it)."""
    return "tf" + module_name[len(_AF):]


def _module_getattr(module_name: str):
    """The PEP 562 ``__getattr__`` of one actorflow module: a missing public name raises
    MissingAttributeError naming it and the program line; dunder probes (``__path__``,
    ``__wrapped__``) stay plain AttributeErrors, as the import machinery expects."""
    def __getattr__(name: str):  # noqa: N807 - the module hook's required name
        if name.startswith("__"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        raise MissingAttributeError(
            f"actorflow does not implement {_tf_name(module_name)}.{name}{_caller()}")
    __getattr__._actorflow_hook = True
    return __getattr__


def _guard(module: types.ModuleType) -> None:
    """Gives `module` the missing-name `__getattr__`, unless it has a `__getattr__` of its
    own."""
    name = getattr(module, "__name__", "")
    if name != _AF and not name.startswith(_AF + "."):
        return
    if "__getattr__" not in module.__dict__:
        module.__getattr__ = _module_getattr(name)


def _guard_loaded() -> None:
    for module in list(sys.modules.values()):
        if isinstance(module, types.ModuleType):
            _guard(module)


# -- the finder ----------------------------------------------------------------------------
class _AliasLoader(importlib.abc.Loader):
    """Loads a ``tensorflow...`` name as the already-imported actorflow module."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module
        self._spec = module.__spec__

    def create_module(self, spec):
        return self._module

    def exec_module(self, module) -> None:
        # The import system stamped the alias's spec on the shared module: put back the
        # module's own, so that actorflow still knows itself as actorflow.
        module.__spec__ = self._spec


class TensorFlowAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves ``tensorflow`` and ``tensorflow.X.Y`` to ``actorflow`` / ``actorflow.X.Y``,
    and reports a missing ``actorflow.X.Y`` as MissingModuleError.

    The second part matters for ``from tensorflow.contrib import foo``: Python then imports
    ``actorflow.contrib.foo`` under the module's real name and turns a plain "No module"
    into "cannot import name 'foo'", which would hide what is missing.
    """

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname == _TF or fullname.startswith(_TF + "."):
            return self._alias_spec(fullname)
        if fullname.startswith(_AF + "."):
            return self._actorflow_spec(fullname, path, target)
        return None

    def _alias_spec(self, fullname: str):
        target_name = _AF + fullname[len(_TF):]
        if not _importing() and importlib.util.find_spec(target_name) is None:
            return None  # a probe for a module actorflow lacks
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as e:
            # Only the missing alias itself (or a parent of it) is ours to report; a module
            # actorflow imports that is missing (cupy, ...) keeps its own error.
            if e.name is None or not (target_name == e.name or
                                      target_name.startswith(e.name + ".")):
                raise
            if not _importing():
                return None  # a probe (importlib.util.find_spec): "not found" is the answer
            raise _missing_module(_TF + e.name[len(_AF):]) from None
        _guard_loaded()  # the target may have imported more actorflow modules
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(module), is_package=hasattr(module, "__path__"))

    def _actorflow_spec(self, fullname: str, path, target):
        """The spec the finders after this one give `fullname`, or MissingModuleError."""
        mine = sys.meta_path.index(self) if self in sys.meta_path else -1
        for finder in sys.meta_path[mine + 1:]:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                return spec
        if not _importing():
            return None
        raise _missing_module(_TF + fullname[len(_AF):])


def _importing() -> bool:
    """Whether an import statement (or `import_module`) is looking for the module, rather
    than a probe such as `importlib.util.find_spec`, which expects None for a missing one."""
    frame = sys._getframe(2)
    for _ in range(16):
        if frame is None:
            return False
        code = frame.f_code
        if code.co_name == "_find_and_load_unlocked":
            return True
        if code.co_name == "find_spec" and "importlib" in code.co_filename:
            return False  # importlib.util.find_spec, the probe
        frame = frame.f_back
    return False


def _missing_module(tf_name: str) -> MissingModuleError:
    # `name` is the tensorflow spelling: the import system swallows a ModuleNotFoundError
    # whose name is the submodule it was probing for, and this one must reach the program.
    return MissingModuleError(f"actorflow does not implement {tf_name}{_caller()}",
                              name=tf_name)


_FINDER = TensorFlowAliasFinder()


def install() -> None:
    """Makes ``import tensorflow...`` resolve to actorflow in this process (idempotent)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    importlib.import_module(_AF)
    _guard_loaded()


def uninstall() -> None:
    """Undoes `install`: drops the finder, the ``tensorflow`` entries of `sys.modules` and
    the missing-name hooks of the actorflow modules."""
    while _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for module in list(sys.modules.values()):
        hook = getattr(module, "__dict__", {}).get("__getattr__")
        if getattr(hook, "_actorflow_hook", False):
            del module.__getattr__
    for name in [n for n in sys.modules if n == _TF or n.startswith(_TF + ".")]:
        del sys.modules[name]


# -- running a program ---------------------------------------------------------------------
def run_program(path: str, args=(), prog: str = "actorflow run") -> int:
    """Runs the Python program `path` with `args` as ``python path args...`` would, with
    ``import tensorflow`` resolving to actorflow; returns its exit status.

    The program runs as ``__main__`` in this process, with ``sys.argv = [path, *args]`` and
    its folder in place of ``sys.path[0]`` (meant for a launcher process: the caller's
    ``sys.argv`` and ``sys.path[0]`` are replaced). ``sys.exit(n)`` in the program gives n;
    an uncaught exception prints its traceback (from the program's frames on) and gives 1;
    a file that cannot be opened gives 2, as Python does.
    """
    if not os.path.isfile(path):
        reason = "No such file or directory" if not os.path.exists(path) else "Not a file"
        print(f"{prog}: can't open file {os.path.abspath(path)!r}: {reason}", file=sys.stderr)
        return 2
    install()
    sys.argv = [path, *args]
    # sys.path[0] is the launcher's own entry (the console script's folder, or the working
    # directory under -m): Python puts the program's folder there instead.
    sys.path[:1] = [os.path.dirname(os.path.abspath(path))]
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        return _exit_status(e.code)
    except Exception as e:  # noqa: BLE001 - reported as Python reports an uncaught error
        _print_from_program(e, os.path.abspath(path))
        return 1
    finally:
        sys.stdout.flush()
    return 0


def _exit_status(code) -> int:
    """The process status `sys.exit(code)` gives: None -> 0, an int as is, anything else is
    printed to stderr and gives 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _print_from_program(exc: BaseException, program: str) -> None:
    """The traceback of `exc` without the runner's own frames (runpy, this module)."""
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != program:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb if tb is not None else exc.__traceback__)
