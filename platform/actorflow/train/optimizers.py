"""The TF 1.x optimizers: GradientDescent, Momentum, Adagrad, Adadelta, RMSProp, Adam, Ftrl.

Each converts its hyper-parameters to tensors once per `apply_gradients` (`_prepare`), casts
them to the variable's dtype and adds one in-place update op (ops/training.py) per variable.

Sparse (IndexedSlices) gradients follow TF 1.x's ``_apply_sparse`` rules: GradientDescent
scatter-subtracts lr * values (repeated indices adding up); Momentum, Adagrad, Adadelta,
RMSProp and Ftrl update only the gradient's rows and their slots (SparseApply* ops, indices
made unique first); Adam decays all of m and v densely, scatter-adds the new rows' parts
and updates the whole variable (its result equals the dense update).
"""
from __future__ import annotations

from ..framework.graph import Tensor
from ..framework.indexed_slices import IndexedSlices
from ..ops import state as state_ops
from ..ops import training as training_ops
from .optimizer import Optimizer, _cast_like

__all__ = ["GradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer",
           "AdadeltaOptimizer", "RMSPropOptimizer", "AdamOptimizer", "FtrlOptimizer"]


class GradientDescentOptimizer(Optimizer):
    """var -= learning_rate * grad."""

    def __init__(self, learning_rate, use_locking: bool = False,
                 name: str = "GradientDescent") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var) -> Tensor:
        return training_ops.apply_gradient_descent(
            var, _cast_like(self._learning_rate_tensor, var), grad,
            use_locking=self._use_locking)

    def _apply_sparse_duplicate_indices(self, grad: IndexedSlices, var) -> Tensor:
        """var[indices] -= lr * values; rows of repeated indices add up (no deduplication)."""
        return state_ops.scatter_sub(
            var, grad.indices, grad.values * _cast_like(self._learning_rate_tensor, var),
            use_locking=self._use_locking)


class MomentumOptimizer(Optimizer):
    """accum = momentum * accum + grad; var -= lr * accum (Nesterov: lr * (grad +
    momentum * accum))."""

    def __init__(self, learning_rate, momentum, use_locking: bool = False,
                 name: str = "Momentum", use_nesterov: bool = False) -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")

    def _apply_dense(self, grad, var) -> Tensor:
        return training_ops.apply_momentum(
            var, self.get_slot(var, "momentum"), _cast_like(self._learning_rate_tensor, var),
            grad, _cast_like(self._momentum_tensor, var), use_locking=self._use_locking,
            use_nesterov=self._use_nesterov)

    def _apply_sparse(self, grad: IndexedSlices, var) -> Tensor:
        return training_ops.sparse_apply_momentum(
            var, self.get_slot(var, "momentum"), _cast_like(self._learning_rate_tensor, var),
            grad.values, grad.indices, _cast_like(self._momentum_tensor, var),
            use_locking=self._use_locking, use_nesterov=self._use_nesterov)


class AdagradOptimizer(Optimizer):
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""

    def __init__(self, learning_rate, initial_accumulator_value: float = 0.1,
                 use_locking: bool = False, name: str = "Adagrad") -> None:
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._get_or_make_slot(v, self._initial_accumulator_value, "accumulator",
                                   self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var) -> Tensor:
        return training_ops.apply_adagrad(
            var, self.get_slot(var, "accumulator"),
            _cast_like(self._learning_rate_tensor, var), grad, use_locking=self._use_locking)

    def _apply_sparse(self, grad: IndexedSlices, var) -> Tensor:
        return training_ops.sparse_apply_adagrad(
            var, self.get_slot(var, "accumulator"),
            _cast_like(self._learning_rate_tensor, var), grad.values, grad.indices,
            use_locking=self._use_locking)


class AdadeltaOptimizer(Optimizer):
    """Adadelta (Zeiler 2012): step = sqrt(accum_update + eps) / sqrt(accum + eps) * grad,
    scaled by the learning rate."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8,
                 use_locking: bool = False, name: str = "Adadelta") -> None:
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self) -> None:
        self._lr_t = self._hyper(self._lr, "lr")
        self._rho_t = self._hyper(self._rho, "rho")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var) -> Tensor:
        return training_ops.apply_adadelta(
            var, self.get_slot(var, "accum"), self.get_slot(var, "accum_update"),
            _cast_like(self._lr_t, var), _cast_like(self._rho_t, var),
            _cast_like(self._epsilon_t, var), grad, use_locking=self._use_locking)

    def _apply_sparse(self, grad: IndexedSlices, var) -> Tensor:
        return training_ops.sparse_apply_adadelta(
            var, self.get_slot(var, "accum"), self.get_slot(var, "accum_update"),
            _cast_like(self._lr_t, var), _cast_like(self._rho_t, var),
            _cast_like(self._epsilon_t, var), grad.values, grad.indices,
            use_locking=self._use_locking)


class RMSPropOptimizer(Optimizer):
    """ms = decay ms + (1-decay) grad^2; mom = momentum mom + lr grad / sqrt(ms + eps);
    var -= mom. `centered` normalises by ms - mg^2 (mg the mean gradient)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking: bool = False, centered: bool = False,
                 name: str = "RMSProp") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._get_or_make_slot(v, 1.0, "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._decay_tensor = self._hyper(self._decay, "decay")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")
        self._epsilon_tensor = self._hyper(self._epsilon, "epsilon")

    def _hypers(self, var) -> tuple:
        return (_cast_like(self._learning_rate_tensor, var),
                _cast_like(self._decay_tensor, var), _cast_like(self._momentum_tensor, var),
                _cast_like(self._epsilon_tensor, var))

    def _apply_dense(self, grad, var) -> Tensor:
        args = self._hypers(var) + (grad,)
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            return training_ops.apply_centered_rms_prop(
                var, self.get_slot(var, "mg"), rms, mom, *args, use_locking=self._use_locking)
        return training_ops.apply_rms_prop(var, rms, mom, *args,
                                           use_locking=self._use_locking)

    def _apply_sparse(self, grad: IndexedSlices, var) -> Tensor:
        args = self._hypers(var) + (grad.values, grad.indices)
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            return training_ops.sparse_apply_centered_rms_prop(
                var, self.get_slot(var, "mg"), rms, mom, *args, use_locking=self._use_locking)
        return training_ops.sparse_apply_rms_prop(var, rms, mom, *args,
                                                  use_locking=self._use_locking)


class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba 2015) in TF's form: lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t);
    m = beta1 m + (1-beta1) g; v = beta2 v + (1-beta2) g^2; var -= lr_t m / (sqrt(v) + eps).
    beta1^t and beta2^t are kept in the non-slot variables "beta1_power" / "beta2_power"."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking: bool = False, name: str = "Adam") -> None:
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self, graph=None):
        return (self._get_non_slot_variable("beta1_power", graph),
                self._get_non_slot_variable("beta2_power", graph))

    def _create_slots(self, var_list) -> None:
        first_var = min(var_list, key=lambda v: v.name)
        self._create_non_slot_variable(self._beta1, "beta1_power", first_var)
        self._create_non_slot_variable(self._beta2, "beta2_power", first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self) -> None:
        self._lr_t = self._hyper(self._lr, "learning_rate")
        self._beta1_t = self._hyper(self._beta1, "beta1")
        self._beta2_t = self._hyper(self._beta2, "beta2")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var) -> Tensor:
        beta1_power, beta2_power = self._get_beta_accumulators(var.graph)
        return training_ops.apply_adam(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"),
            _cast_like(beta1_power, var), _cast_like(beta2_power, var),
            _cast_like(self._lr_t, var), _cast_like(self._beta1_t, var),
            _cast_like(self._beta2_t, var), _cast_like(self._epsilon_t, var), grad,
            use_locking=self._use_locking)

    def _apply_sparse(self, grad: IndexedSlices, var):
        """TF's sparse Adam: m = b1 m, then m[indices] += (1-b1) values (v alike with
        values^2); var -= lr_t m / (sqrt(v) + eps) over the whole variable."""
        from ..ops.control import group
        from ..ops.unary import sqrt
        beta1_power, beta2_power = self._get_beta_accumulators(var.graph)
        b1p, b2p = _cast_like(beta1_power, var), _cast_like(beta2_power, var)
        b1, b2 = _cast_like(self._beta1_t, var), _cast_like(self._beta2_t, var)
        lr = _cast_like(self._lr_t, var) * sqrt(1 - b2p) / (1 - b1p)
        graph = var.graph
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        decayed_m = m.assign(m * b1, use_locking=self._use_locking)
        with graph.control_dependencies([decayed_m]):
            m_t = state_ops.scatter_add(m, grad.indices, grad.values * (1 - b1),
                                        use_locking=self._use_locking)
        decayed_v = v.assign(v * b2, use_locking=self._use_locking)
        with graph.control_dependencies([decayed_v]):
            v_t = state_ops.scatter_add(v, grad.indices, grad.values * grad.values * (1 - b2),
                                        use_locking=self._use_locking)
        step = lr * m_t / (sqrt(v_t) + _cast_like(self._epsilon_t, var))
        var_update = var.assign_sub(step, use_locking=self._use_locking)
        return group(var_update, m_t, v_t)

    def _finish(self, update_ops, name_scope):
        from ..ops.control import group
        beta1_power, beta2_power = self._get_beta_accumulators(update_ops[0].graph)
        graph = update_ops[0].graph
        with graph.control_dependencies(update_ops), graph.colocate_with(beta1_power.op):
            update_beta1 = beta1_power.assign(
                beta1_power * _cast_like(self._beta1_t, beta1_power),
                use_locking=self._use_locking)
            update_beta2 = beta2_power.assign(
                beta2_power * _cast_like(self._beta2_t, beta2_power),
                use_locking=self._use_locking)
        return group(*update_ops, update_beta1, update_beta2, name=name_scope)


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal (McMahan et al. 2013), with optional L1/L2 and L2-shrinkage terms."""

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking: bool = False, name: str = "Ftrl", accum_name=None,
                 linear_name=None, l2_shrinkage_regularization_strength=0.0) -> None:
        super().__init__(use_locking, name)
        checks = [(initial_accumulator_value < 0.0, "initial_accumulator_value",
                   initial_accumulator_value, "positive or zero"),
                  (learning_rate_power > 0.0, "learning_rate_power", learning_rate_power,
                   "less than or equal to 0.0"),
                  (l1_regularization_strength < 0.0, "l1_regularization_strength",
                   l1_regularization_strength, "greater than or equal to 0.0"),
                  (l2_regularization_strength < 0.0, "l2_regularization_strength",
                   l2_regularization_strength, "greater than or equal to 0.0"),
                  (l2_shrinkage_regularization_strength < 0.0,
                   "l2_shrinkage_regularization_strength",
                   l2_shrinkage_regularization_strength, "greater than or equal to 0.0")]
        for bad, what, value, want in checks:
            if bad:
                raise ValueError(f"{what} {value} must be {want}.")
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._get_or_make_slot(v, self._initial_accumulator_value, "accum",
                                   self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._l1_tensor = self._hyper(self._l1_regularization_strength,
                                      "l1_regularization_strength")
        self._l2_tensor = self._hyper(self._l2_regularization_strength,
                                      "l2_regularization_strength")
        self._l2_shrinkage_tensor = self._hyper(self._l2_shrinkage_regularization_strength,
                                                "l2_shrinkage_regularization_strength")
        self._learning_rate_power_tensor = self._hyper(self._learning_rate_power,
                                                       "learning_rate_power")

    def _update(self, var, grad, indices=None) -> Tensor:
        """The dense update, or with `indices` the sparse one of those rows."""
        accum, linear = self.get_slot(var, "accum"), self.get_slot(var, "linear")
        lr, l1, l2 = (_cast_like(t, var) for t in (self._learning_rate_tensor,
                                                   self._l1_tensor, self._l2_tensor))
        power = _cast_like(self._learning_rate_power_tensor, var)
        grad = (grad,) if indices is None else (grad, indices)
        if self._l2_shrinkage_regularization_strength <= 0.0:
            fn = training_ops.apply_ftrl if indices is None else training_ops.sparse_apply_ftrl
            return fn(var, accum, linear, *grad, lr, l1, l2, power,
                      use_locking=self._use_locking)
        fn = training_ops.apply_ftrl_v2 if indices is None else training_ops.sparse_apply_ftrl_v2
        return fn(var, accum, linear, *grad, lr, l1, l2,
                  _cast_like(self._l2_shrinkage_tensor, var), power,
                  use_locking=self._use_locking)

    def _apply_dense(self, grad, var) -> Tensor:
        return self._update(var, grad)

    def _apply_sparse(self, grad: IndexedSlices, var) -> Tensor:
        return self._update(var, grad.values, grad.indices)
