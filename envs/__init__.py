"""actorflow.envs: GridWorld, CartPole in NumPy and vector environments.

- `make_vector(env_id, num_envs, seed=None, **kwargs)`: the vector env every agent uses (one
  API for all ids; see `actorflow.envs.vector`).
- `VectorCartPole`: Gymnasium's CartPole-v1 dynamics for many lanes at once, in NumPy.
- `VectorGridWorld`: the book's GridWorld (ch. 8) for many lanes at once, in NumPy.
- `GridWorld`: the same game as a single ``gymnasium.Env``, registered as the Gymnasium id
  ``actorflow/GridWorld-v0`` (50-step limit) when this package is imported and Gymnasium is
  installed. Gymnasium is imported for that registration only; the vector envs do not
  need it.
"""
from .cartpole import VectorCartPole
from .gridworld import VectorGridWorld
from .vector import GRIDWORLD_ID, GymVectorEnv, make_vector

__all__ = ["GridWorld", "VectorGridWorld", "VectorCartPole", "GymVectorEnv", "make_vector",
           "GRIDWORLD_ID"]


def __getattr__(name: str):
    if name == "GridWorld":  # a gymnasium.Env subclass: imports Gymnasium on first use
        from .gym_gridworld import GridWorld
        return GridWorld
    raise AttributeError(f"module 'actorflow.envs' has no attribute {name!r}")


def _register() -> None:
    try:
        import gymnasium
    except ImportError:
        return
    if GRIDWORLD_ID not in gymnasium.registry:
        gymnasium.register(GRIDWORLD_ID, entry_point="actorflow.envs.gym_gridworld:GridWorld",
                           max_episode_steps=50)


_register()
