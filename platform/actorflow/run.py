"""``python -m actorflow.run PROGRAM.py [ARGS...]``: run an unmodified TF 1.x program on
actorflow (``import tensorflow as tf`` resolves to actorflow, for this process only).

The same as ``actorflow run PROGRAM.py [ARGS...]``; see `actorflow.tf_import_hook`.
"""
from __future__ import annotations

import sys

from .tf_import_hook import run_program

__all__ = ["main", "USAGE"]

USAGE = """usage: {prog} PROGRAM.py [ARGS...]

Runs the TF 1.x program PROGRAM.py unchanged, with `import tensorflow` (and its submodules:
tensorflow.compat.v1, tensorflow.examples.tutorials.mnist, tensorflow.contrib.*) resolving
to actorflow. ARGS reach the program as sys.argv[1:]; the exit status is the program's.
"""


def main(argv=None, prog: str = "python -m actorflow.run") -> int:
    """Runs ``argv[0]`` (default ``sys.argv[1:]``) with the rest as its arguments; returns
    the exit status (2 with a usage message when no program is given)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        stream = sys.stdout if argv else sys.stderr
        stream.write(USAGE.format(prog=prog))
        return 0 if argv else 2
    return run_program(argv[0], argv[1:], prog=prog)


if __name__ == "__main__":
    sys.exit(main())
