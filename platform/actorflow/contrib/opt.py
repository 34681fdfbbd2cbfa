"""`tf.contrib.opt`: the TF 1.x contrib optimizers for sparse models — `LazyAdamOptimizer`."""
from __future__ import annotations

from ..framework.indexed_slices import IndexedSlices
from ..ops import training as training_ops
from ..train.optimizer import _cast_like
from ..train.optimizers import AdamOptimizer

__all__ = ["LazyAdamOptimizer"]


class LazyAdamOptimizer(AdamOptimizer):
    """Adam whose sparse updates touch only the gradient's rows (TF 1.x
    `tf.contrib.opt.LazyAdamOptimizer`).

    For an `IndexedSlices` gradient (repeated indices summed first), only the rows at its
    indices of m, v and the variable change: ``m[i] = b1 m[i] + (1-b1) g``, ``v[i] = b2 v[i]
    + (1-b2) g^2``, ``var[i] -= lr_t m[i] / (sqrt(v[i]) + eps)``; the other rows keep their
    moments instead of decaying them, which suits embeddings where most rows are idle in a
    step. Dense gradients get the ordinary Adam update. Arguments as `AdamOptimizer`.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking: bool = False, name: str = "LazyAdam") -> None:
        super().__init__(learning_rate, beta1, beta2, epsilon, use_locking, name)

    def _apply_sparse(self, grad: IndexedSlices, var):
        beta1_power, beta2_power = self._get_beta_accumulators(var.graph)
        return training_ops.sparse_apply_adam(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"),
            _cast_like(beta1_power, var), _cast_like(beta2_power, var),
            _cast_like(self._lr_t, var), _cast_like(self._beta1_t, var),
            _cast_like(self._beta2_t, var), _cast_like(self._epsilon_t, var), grad.values,
            grad.indices, use_locking=self._use_locking)
