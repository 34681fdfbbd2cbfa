"""Column names shared by rollouts, replay, queues and agents (one place, as RLlib's
``core/columns.py`` does).

A batch of experience is a dict of NumPy arrays keyed by these names, all with the same
first dimension (the number of transitions). Transition columns:

- ``OBS``          observation at time t, ``[B, *obs_shape]``
- ``ACTIONS``      action taken at t, ``[B, *action_shape]``
- ``REWARDS``      reward received after the action (n-step: the discounted sum), ``[B]`` float32
- ``NEXT_OBS``     observation after the action (n-step: m steps later), ``[B, *obs_shape]``
- ``TERMINATEDS``  the episode ended in a terminal state (do not bootstrap), ``[B]`` bool
- ``TRUNCATEDS``   the episode was cut (time limit): bootstrap from ``NEXT_OBS``, ``[B]`` bool
- ``GAMMAS``       discount of the bootstrap term, gamma**m for an m-step return, ``[B]`` float32
- ``ENV_IDS``      lane of a vector env a row came from (n-step accumulation), ``[B]`` int

Columns of a sampled batch only:

- ``WEIGHTS``      importance-sampling weights (all ones for uniform sampling), ``[B]`` float32
- ``INDICES``      slots the rows came from, for ``update_priorities``, ``[B]`` int64
"""
from __future__ import annotations

__all__ = ["OBS", "ACTIONS", "REWARDS", "NEXT_OBS", "TERMINATEDS", "TRUNCATEDS", "GAMMAS",
           "ENV_IDS", "WEIGHTS", "INDICES", "TRANSITION_COLUMNS"]

OBS = "obs"
ACTIONS = "actions"
REWARDS = "rewards"
NEXT_OBS = "next_obs"
TERMINATEDS = "terminateds"
TRUNCATEDS = "truncateds"
GAMMAS = "gammas"
ENV_IDS = "env_ids"
WEIGHTS = "weights"
INDICES = "indices"

TRANSITION_COLUMNS = (OBS, ACTIONS, REWARDS, NEXT_OBS, TERMINATEDS, TRUNCATEDS)
"""The columns a caller passes to ``ReplayBuffer.add_batch`` (``ENV_IDS`` optional)."""
