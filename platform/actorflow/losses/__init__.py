"""`tf.losses`: TF 1.x loss functions, weighted and reduced, collected in
``GraphKeys.LOSSES``; and the helpers that sum the collected losses."""
from .losses_impl import (
                          Reduction,
                          absolute_difference,
                          compute_weighted_loss,
                          cosine_distance,
                          hinge_loss,
                          huber_loss,
                          log_loss,
                          mean_squared_error,
                          sigmoid_cross_entropy,
                          softmax_cross_entropy,
                          sparse_softmax_cross_entropy,
)
from .util import (
                          add_loss,
                          get_losses,
                          get_regularization_loss,
                          get_regularization_losses,
                          get_total_loss,
)

__all__ = ["Reduction", "compute_weighted_loss", "absolute_difference", "mean_squared_error",
           "huber_loss", "log_loss", "hinge_loss", "cosine_distance", "sigmoid_cross_entropy",
           "softmax_cross_entropy", "sparse_softmax_cross_entropy", "add_loss", "get_losses",
           "get_regularization_losses", "get_regularization_loss", "get_total_loss"]
