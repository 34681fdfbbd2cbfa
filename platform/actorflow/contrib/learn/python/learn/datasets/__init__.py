"""`tensorflow.contrib.learn.python.learn.datasets`: the same package as
`actorflow.contrib.learn.datasets` (TF's real path for it; `contrib.learn.datasets` was the
alias). `import ....python.learn.datasets.mnist` gives the same module object."""
import sys

from ....datasets import *  # noqa: F401, F403
from ....datasets import __all__, mnist  # noqa: F401

sys.modules[__name__ + ".mnist"] = mnist
