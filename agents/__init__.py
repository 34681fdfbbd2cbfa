"""actorflow.agents: policy-gradient and DQN-family agents built from the actors, and the
supervised trainer (`Supervised`, `SupervisedConfig`: registered models on CIFAR-10, in
process or on Ray workers)."""

_LAZY = {"Supervised": "supervised", "SupervisedConfig": "supervised"}


def __getattr__(name: str):
    # Imported on first use: `actorflow run` imports this package through the CLI and
    # needs none of the models.
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
