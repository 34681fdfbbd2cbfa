"""Random ops and seeds. A graph-level seed (`set_random_seed`) plus an op-level seed make a
random op reproducible across sessions: each op keeps one generator per session, seeded from
the pair, as TF 1.x does."""
from __future__ import annotations

from ..framework.graph import get_default_graph

__all__ = ["set_random_seed", "get_seed", "op_seeds"]

_DEFAULT_GRAPH_SEED = 87654321


def set_random_seed(seed) -> None:
    """Sets the default graph's seed; random ops created afterwards become reproducible."""
    get_default_graph().seed = None if seed is None else int(seed)


def get_seed(op_seed):
    """The (graph seed, op seed) pair to record on a new random op (TF 1.x rules)."""
    graph = get_default_graph()
    global_seed = graph.seed
    if global_seed is not None:
        if op_seed is None:
            op_seed = graph._next_op_seed()
        return global_seed, int(op_seed)
    if op_seed is not None:
        return _DEFAULT_GRAPH_SEED, int(op_seed)
    return None, None


def op_seeds(op):
    """The seeds recorded on random op `op` (None, None when it is unseeded)."""
    return op.attrs.get("seed"), op.attrs.get("seed2")
