"""Agent tests share the actor tests' local Ray fixture."""
from ..actors.conftest import ray_local  # noqa: F401
