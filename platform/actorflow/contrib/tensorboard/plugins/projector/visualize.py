"""`visualize_embeddings`: write the projector's configuration where TensorBoard reads it."""
from __future__ import annotations

import os

from .config import ProjectorConfig

__all__ = ["PROJECTOR_FILENAME", "visualize_embeddings"]

#: The file TensorBoard's projector plugin reads in each run's log directory.
PROJECTOR_FILENAME = "projector_config.pbtxt"


def visualize_embeddings(summary_writer, config: ProjectorConfig) -> str:
    """Writes `config` in protobuf text format to ``projector_config.pbtxt`` in the log
    directory of `summary_writer` (a `tf.summary.FileWriter`), replacing an earlier one.

    Returns:
        The path written (TF returns None; the path is handy in tests and logs).

    Raises:
        ValueError: `summary_writer` has no log directory (`get_logdir()` is None).
        TypeError: `config` is not a `ProjectorConfig`.
    """
    if not isinstance(config, ProjectorConfig):
        raise TypeError(f"config must be a projector.ProjectorConfig, got "
                        f"{type(config).__name__}")
    logdir = summary_writer.get_logdir()
    if logdir is None:
        raise ValueError("Summary writer must have a logdir")
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, PROJECTOR_FILENAME)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:  # text format escapes non-ASCII bytes
        f.write(str(config))
    os.replace(tmp, path)  # TensorBoard never sees a half-written file
    return path
