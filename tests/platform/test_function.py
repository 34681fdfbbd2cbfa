"""Function graphs (framework/function.py): tracing, captures, variables used in place,
compiled bodies called from several threads."""
import threading

import numpy as np
import pytest

import actorflow as tf
from actorflow.framework.function import FuncGraph, trace
from actorflow.session.function_plan import compile_function


def _ctx(sess):
    return sess._context(sess._local_devices()[0])


def test_trace_captures_outer_tensors_after_explicit_args():
    x = tf.placeholder(tf.float32, [3], name="x")
    fg = trace(lambda a: (a * x + 1.0, tf.reduce_sum(a)), [(tf.float32, [3])], "f")
    assert isinstance(fg, FuncGraph) and fg.outer_graph is tf.get_default_graph()
    assert [outer for outer, _ in fg.captures] == [x]
    assert fg.inputs[1] is fg.captures[0][1] and len(fg.inputs) == 2
    assert fg.outputs[0].get_shape().as_list() == [3]
    assert isinstance(fg.structured_outputs, tuple)
    with tf.Session() as sess:
        out = compile_function(fg, _ctx(sess))(np.ones(3, np.float32),
                                                np.array([1, 2, 3], np.float32))
    np.testing.assert_allclose(out[0], [2, 3, 4])
    assert float(out[1]) == 3.0


def test_outer_tensor_first_operand_is_captured_not_built_outside():
    w = tf.constant([2.0, 3.0])
    fg = trace(lambda a: w * a, [(tf.float32, [2])], "f")
    assert fg.outputs[0].graph is fg
    assert len(tf.get_default_graph().get_operations()) == 1  # only the Const


def test_nested_function_graphs_capture_through_each_level():
    x = tf.constant(5.0)
    inner = {}

    def outer_fn(a):
        inner["fg"] = trace(lambda b: b + x, [(tf.float32, [])], "inner")
        return a
    mid = trace(outer_fn, [(tf.float32, [])], "mid")
    fg = inner["fg"]
    assert fg.outer_graph is mid
    (mid_outer, mid_inner), = mid.captures
    assert mid_outer is x
    assert fg.captures[0][0] is mid_inner


def test_variable_created_and_assigned_in_body_lives_in_outer_graph():
    graph = tf.get_default_graph()

    def body(a):
        v = tf.get_variable("v", initializer=np.zeros(2, np.float32))
        return tf.assign_add(v, a)
    fg = trace(body, [(tf.float32, [2])], "f")
    v, = tf.global_variables()
    assert v.graph is graph and v.name == "v:0"
    assert not fg.captures  # the variable's ref is used in place, not captured
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        f = compile_function(fg, _ctx(sess))
        f(np.ones(2, np.float32))
        f(np.ones(2, np.float32))
        np.testing.assert_allclose(sess.run(v), [2, 2])
    with tf.variable_scope("", reuse=True):
        assert tf.get_variable("v") is v


def test_stateful_ops_run_even_when_not_returned():
    v = tf.Variable(0.0)

    def body(a):
        tf.assign_add(v, 1.0)
        return a * 2.0
    fg = trace(body, [(tf.float32, [])], "f")
    with tf.Session() as sess:
        sess.run(v.initializer)
        out = compile_function(fg, _ctx(sess))(np.float32(3))
        assert float(out[0]) == 6.0
        assert sess.run(v) == 1.0


def test_outer_control_dependency_is_recorded_not_added_inside():
    v = tf.Variable(0.0)
    upd = tf.assign_add(v, 1.0)

    def body(a):
        with tf.control_dependencies([upd]):
            return tf.identity(a)
    fg = trace(body, [(tf.float32, [])], "f")
    assert fg.outer_control_inputs == [upd.op]
    assert all(op.graph is fg for op in fg.get_operations()
               for op in op.control_inputs)


def test_returning_an_outer_tensor_or_python_value():
    x = tf.constant([1.0, 2.0])
    fg = trace(lambda: (x, 3), [], "f")
    assert fg.outputs[0].graph is fg and fg.outputs[1].dtype == tf.int32
    with tf.Session() as sess:
        a, b = compile_function(fg, _ctx(sess))(np.array([1.0, 2.0], np.float32))
    np.testing.assert_allclose(a, [1, 2])
    assert int(b) == 3


def test_compiled_function_is_cached_and_thread_safe():
    fg = trace(lambda a: tf.reduce_sum(tf.square(a)), [(tf.float64, [None])], "f")
    with tf.Session() as sess:
        f = compile_function(fg, _ctx(sess))
        assert compile_function(fg, _ctx(sess)) is f
        results, errors = {}, []

        def work(i):
            try:
                for _ in range(50):
                    results[i] = float(f(np.arange(i, dtype=np.float64))[0])
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert results == {i: float(sum(k * k for k in range(i))) for i in range(1, 6)}


def test_body_kernel_failure_names_the_body_op():
    fg = trace(lambda a: tf.reshape(a, [5], name="bad_reshape"), [(tf.float32, None)], "f")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad_reshape"):
            compile_function(fg, _ctx(sess))(np.zeros(3, np.float32))


def test_arg_specs_accept_tensor_shapes_and_unknown_rank():
    fg = trace(lambda a, b: a, [(tf.float32, tf.TensorShape([None, 2])), (tf.int32, None)], "f")
    assert fg.inputs[0].get_shape().as_list() == [None, 2]
    assert fg.inputs[1].get_shape().ndims is None
