"""actorflow.models: graph-building functions (book models, Q-networks, policies)."""
