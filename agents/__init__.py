"""actorflow.agents: policy-gradient and DQN-family agents built from the actors."""
