"""The model registry: one name per model builder, as the CLI and the supervised trainer
name them (``actorflow train supervised --model cifar10_cnn``).

A family module registers each public builder once, beside its definition::

    @register_model("cifar10_cnn", input_shape=(24, 24, 3), num_classes=10, dataset="cifar10")
    def cifar10_cnn(images, is_training=True, num_classes=10): ...

A builder takes its input tensor(s) and ``is_training`` and returns a dict of named tensors
(``logits``, ``q_values``, ``value``, ``loss``, ``end_points``, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["ModelSpec", "register_model", "get_model", "model_names", "UnknownModelError"]


class UnknownModelError(KeyError):
    """A model name that no family module registered."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


@dataclass(frozen=True)
class ModelSpec:
    """A registered builder and what it expects.

    Attributes:
        name: the registry name ("cifar10_cnn").
        build: the builder function.
        input_shape: one example's shape (no batch dimension), or None where the builder
            takes ids or sequences whose shape the caller chooses.
        num_classes: the number of output classes (0 when the model has no classifier head).
        dataset: the data set it trains on by default ("mnist", "cifar10", "imagenet",
            "ptb", "text8", "" for none).
        params: the published parameter count the tests check against (0: none published).
        defaults: keyword arguments the registered variant passes to `build`.
    """

    name: str
    build: Callable
    input_shape: tuple | None = None
    num_classes: int = 0
    dataset: str = ""
    params: int = 0
    defaults: dict = field(default_factory=dict)

    def __call__(self, *args, **kwargs):
        """Builds the model: the registered defaults, overridden by `kwargs`."""
        return self.build(*args, **{**self.defaults, **kwargs})


_MODELS: dict[str, ModelSpec] = {}


def register_model(name: str, *, input_shape: tuple | None = None, num_classes: int = 0,
                   dataset: str = "", params: int = 0, **defaults) -> Callable:
    """A decorator registering a builder under `name` (one name, one builder).

    Extra keyword arguments are passed to the builder when the model is built by name, so
    one builder can register several variants (``resnet_v2_50``, ``resnet_v2_101``).

    Raises:
        ValueError: `name` is registered already.
    """
    def decorate(fn: Callable) -> Callable:
        if name in _MODELS:
            first = _MODELS[name].build
            raise ValueError(f"Model {name!r} is registered twice: first by "
                             f"{first.__module__}.{first.__qualname__}")
        _MODELS[name] = ModelSpec(name, fn, None if input_shape is None else tuple(input_shape),
                                  int(num_classes), dataset, int(params), dict(defaults))
        return fn
    return decorate


def get_model(name: str) -> ModelSpec:
    """The `ModelSpec` registered under `name`.

    Raises:
        UnknownModelError: no model has that name (the message lists the known ones).
    """
    try:
        return _MODELS[name]
    except KeyError:
        raise UnknownModelError(f"Unknown model {name!r}; known models: "
                                f"{', '.join(model_names()) or '(none)'}") from None


def model_names() -> list[str]:
    """The registered names, sorted."""
    return sorted(_MODELS)
