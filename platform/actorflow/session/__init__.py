"""Running graphs: the prune and compile passes and the `Session` that drives them."""
