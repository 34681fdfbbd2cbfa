"""actorflow.models: graph-building functions — the book's models, Q-networks, policies.

Each family module holds builders that take input tensors (and ``is_training``) and return
a dict of named tensors (``logits``, ``q_values``, ``value``, ``loss``, ``end_points``). They
register themselves by name in `registry` so that the CLI and the supervised trainer can
build them from a string: ``actorflow.models.get_model("cifar10_cnn")``.
"""
from .registry import ModelSpec, UnknownModelError, get_model, model_names, register_model
from . import alexnet  # noqa: E402,F401 - registers the ch. 6.1 AlexNet
from . import cifar10  # noqa: E402,F401 - registers the ch. 5.3 CNN
from . import inception_v3  # noqa: E402,F401 - registers Inception V3
from . import mnist  # noqa: E402,F401 - registers the ch. 3-5.2 MNIST models
from . import resnet_v2  # noqa: E402,F401 - registers ResNet V2 50/101/152
from . import vgg  # noqa: E402,F401 - registers VGG-16
from . import ptb_lstm, rl, sequence, word2vec  # noqa: F401,E402 - registers builders

__all__ = ["ModelSpec", "UnknownModelError", "get_model", "model_names", "register_model"]
