"""The switches TF 1.x programs call to stay in (or leave) graph mode.

actorflow has one mode, TF 1.x graph mode, so the calls that ask for it are accepted and do
nothing, `executing_eagerly()` is always False, and the calls that ask for eager execution
raise `EagerExecutionError` rather than leave a program running in a mode it did not ask for.
"""
from __future__ import annotations

__all__ = ["EagerExecutionError", "disable_eager_execution", "disable_v2_behavior",
           "disable_v2_tensorshape", "enable_eager_execution", "enable_v2_behavior",
           "executing_eagerly"]


class EagerExecutionError(NotImplementedError):
    """A program asked for eager execution, which actorflow does not implement (it builds
    graphs and runs them in sessions, as TF 1.x does by default)."""


def executing_eagerly() -> bool:
    """Whether ops run immediately: never in actorflow (graph mode only)."""
    return False


def disable_eager_execution() -> None:
    """Keeps graph mode, which is actorflow's only mode: does nothing."""


def disable_v2_behavior() -> None:
    """Turns TF 2 behaviour off (eager execution, v2 shapes, resource variables, v2 control
    flow): actorflow has only the TF 1.x behaviour, so this does nothing."""


def disable_v2_tensorshape() -> None:
    """Keeps `Dimension` objects in `TensorShape`s (the TF 1.x shapes actorflow has)."""


def enable_eager_execution(config=None, device_policy=None, execution_mode=None) -> None:
    """Raises EagerExecutionError: actorflow runs graphs in sessions only.

    Raises:
        EagerExecutionError: always.
    """
    raise EagerExecutionError(
        "actorflow does not implement eager execution (tf.enable_eager_execution): it runs "
        "TF 1.x graphs in sessions. Remove the call and run the ops with tf.Session().run")


def enable_v2_behavior() -> None:
    """Raises EagerExecutionError: TF 2 behaviour means eager execution.

    Raises:
        EagerExecutionError: always.
    """
    raise EagerExecutionError(
        "actorflow does not implement TF 2 behaviour (tf.enable_v2_behavior turns on eager "
        "execution): it runs TF 1.x graphs in sessions. Remove the call")
