"""The graph layer: op registry, `Graph` / `Operation` / `Tensor`, scopes and conversion."""
