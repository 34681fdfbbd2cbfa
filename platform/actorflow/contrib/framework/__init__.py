"""`tf.contrib.framework`: `arg_scope` and its decorator, global-step and variable helpers."""
from ...train.training_util import (assert_global_step, create_global_step, get_global_step,
                                    get_or_create_global_step)
from .arg_scope import (add_arg_scope, arg_scope, arg_scope_func_key, arg_scoped_arguments,
                        current_arg_scope, has_arg_scope)
from ...ops.control_flow import smart_cond
from .variables import (add_model_variable, get_model_variables, get_trainable_variables,
                        get_variables, get_variables_by_name, get_variables_by_suffix,
                        get_variables_to_restore)

__all__ = ["arg_scope", "add_arg_scope", "current_arg_scope", "has_arg_scope",
           "arg_scoped_arguments", "arg_scope_func_key", "get_global_step",
           "get_or_create_global_step", "create_global_step", "assert_global_step",
           "get_variables", "get_model_variables", "get_trainable_variables",
           "get_variables_by_name", "get_variables_by_suffix", "get_variables_to_restore",
           "add_model_variable", "smart_cond"]
