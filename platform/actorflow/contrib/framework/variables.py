"""`tf.contrib.framework` variable helpers: model variables and variables by scope or name."""
from __future__ import annotations

from ...framework.graph import GraphKeys, add_to_collection, get_collection

__all__ = ["add_model_variable", "get_model_variables", "get_trainable_variables",
           "get_variables", "get_variables_by_name", "get_variables_by_suffix",
           "get_variables_to_restore"]


def get_variables(scope=None, suffix: str | None = None,
                  collection: str = GraphKeys.GLOBAL_VARIABLES) -> list:
    """The variables of `collection` whose names start with `scope` (a name, a regex or a
    VariableScope) and, given `suffix`, end with it."""
    if scope is not None and not isinstance(scope, str):
        scope = scope.name  # a VariableScope
    if suffix is not None:
        if ":" not in suffix:
            suffix += ":"
        scope = (scope or "") + ".*" + suffix
    return get_collection(collection, scope)


def get_model_variables(scope=None, suffix: str | None = None) -> list:
    """The model variables (``MODEL_VARIABLES``), filtered by scope and suffix."""
    return get_variables(scope, suffix, GraphKeys.MODEL_VARIABLES)


def get_trainable_variables(scope=None, suffix: str | None = None) -> list:
    """The trainable variables, filtered by scope and suffix."""
    return get_variables(scope, suffix, GraphKeys.TRAINABLE_VARIABLES)


def get_variables_by_suffix(suffix: str, scope=None) -> list:
    """The global variables whose names end with `suffix`."""
    return get_variables(scope=scope, suffix=suffix)


def get_variables_by_name(given_name: str, scope=None) -> list:
    """The global variables whose last name component is `given_name`."""
    return get_variables(scope=scope, suffix=f"/{given_name}:|^{given_name}:")


def get_variables_to_restore(include=None, exclude=None) -> list:
    """The global variables under the scopes in `include` (all when None), minus those under
    the scopes in `exclude`.

    Raises:
        TypeError: `include` or `exclude` is given but not a list or tuple.
    """
    if include is None:
        candidates = get_variables()
    else:
        if not isinstance(include, (list, tuple)):
            raise TypeError("include is provided but is not a list or a tuple.")
        candidates = [v for scope in include for v in get_variables(scope)]
    if exclude is not None and not isinstance(exclude, (list, tuple)):
        raise TypeError("exclude is provided but is not a list or a tuple.")
    excluded = {id(v) for scope in (exclude or ()) for v in get_variables(scope)}
    return [v for v in candidates if id(v) not in excluded]


def add_model_variable(var) -> None:
    """Adds `var` to ``MODEL_VARIABLES`` unless it is there already."""
    if var not in get_collection(GraphKeys.MODEL_VARIABLES):
        add_to_collection(GraphKeys.MODEL_VARIABLES, var)
