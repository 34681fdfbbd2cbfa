"""actorflow.envs: GridWorld, CartPole helpers and vector environments."""
