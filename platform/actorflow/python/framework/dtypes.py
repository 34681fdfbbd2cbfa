"""`tensorflow.python.framework.dtypes`: the `actorflow.dtypes` module itself."""
import sys

from ... import dtypes as _dtypes

sys.modules[__name__] = _dtypes
