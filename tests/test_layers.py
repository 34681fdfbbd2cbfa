"""Imports point down the layers of DESIGN.md, lazy (function-level) imports included: the
core never reaches the packages above it or Ray / Gymnasium, the graph layer (framework/)
never reaches the ops, variables or sessions built on it, and the actors never reach the
envs or agents above them (rollout actors get their envs from a factory the agent passes)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "platform" / "actorflow"


def _imports(path: Path, root: Path = CORE, package: str = "actorflow") -> set[str]:
    """Absolute module names `path` imports anywhere in its body (relative ones resolved);
    `root` is the folder of the package named `package`."""
    package = [*package.split("."), *path.parent.relative_to(root).parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _core_files():
    return sorted(CORE.rglob("*.py"))


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_the_core_imports_nothing_above_it(path):
    above = ("actorflow.actors", "actorflow.agents", "actorflow.envs", "actorflow.models")
    bad = sorted(m for m in _imports(path) if m.split(".")[0] in ("ray", "gymnasium")
                 or m.startswith(above))
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


# graph_io exports and imports whole graphs with their variables: it sits above variables.py.
GRAPH_LAYER = sorted(p for p in (CORE / "framework").glob("*.py") if p.name != "graph_io.py")


@pytest.mark.parametrize("path", GRAPH_LAYER, ids=lambda p: p.name)
def test_the_graph_layer_imports_only_what_is_below_it(path):
    allowed = ("actorflow.framework", "actorflow.dtypes", "actorflow.tensor_shape",
               "actorflow.errors")
    bad = sorted(m for m in _imports(path) if m.startswith("actorflow")
                 and m not in ("actorflow",) and not m.startswith(allowed))
    assert not bad, f"framework/{path.name} imports {bad}"


@pytest.mark.parametrize("path", sorted((ROOT / "actors").rglob("*.py")),
                         ids=lambda p: p.name)
def test_the_actors_import_neither_envs_nor_agents(path):
    found = _imports(path, ROOT / "actors", "actorflow.actors")
    bad = sorted(m for m in found if m.startswith(("actorflow.envs", "actorflow.agents",
                                                   "actorflow.models")))
    assert not bad, f"actors/{path.name} imports {bad}"
