"""Running graphs: the passes (prune.py, cse.py, compile.py) and the `Session` that drives
them."""
