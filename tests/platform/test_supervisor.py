"""tf.train.Supervisor and SessionManager: initialization or recovery, queue runners,
checkpoint and summary services, coordinated stop."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

import actorflow as tf


def _counter_graph():
    graph = tf.Graph()
    with graph.as_default():
        step = tf.train.get_or_create_global_step()
        v = tf.Variable(1.0, name="v")
        bump = tf.group(tf.assign_add(v, 1.0), tf.assign_add(step, 1))
        tf.summary.scalar("counter", v)
    return graph, v, bump, step


def test_managed_session_initializes_and_finalizes_the_graph():
    graph, v, bump, _ = _counter_graph()
    sv = tf.train.Supervisor(graph=graph)
    assert graph.finalized
    assert sv.saver is graph.get_collection(tf.GraphKeys.SAVERS)[0]
    with sv.managed_session() as sess:
        assert sess.run(v) == 1.0
        sess.run(bump)
        assert sess.run(v) == 2.0
        assert not sv.should_stop()
    assert sess._closed
    with pytest.raises(RuntimeError, match="finalized"):
        with graph.as_default():
            tf.constant(0)


def test_a_new_supervisor_restores_the_latest_checkpoint_of_its_logdir(tmp_path):
    logdir = str(tmp_path)
    graph, v, bump, step = _counter_graph()
    sv = tf.train.Supervisor(graph=graph, logdir=logdir, save_model_secs=0,
                             save_summaries_secs=0)
    with sv.managed_session() as sess:
        sess.run(bump)
        sess.run(bump)
        sv.saver.save(sess, sv.save_path, global_step=step)
    assert tf.train.latest_checkpoint(logdir).endswith("model.ckpt-2")

    graph2, v2, _, step2 = _counter_graph()
    sv2 = tf.train.Supervisor(graph=graph2, logdir=logdir, save_model_secs=0,
                              save_summaries_secs=0)
    with sv2.managed_session() as sess:
        assert sess.run([v2, step2]) == [3.0, 2]


def _summary_tags(logdir):
    events = [f for f in os.listdir(logdir) if f.startswith("events.out.tfevents")]
    return {value.tag for f in events
            for e in tf.train.summary_iterator(os.path.join(logdir, f))
            if e.summary is not None for value in e.summary.value}


def test_services_write_a_checkpoint_and_summaries_at_start(tmp_path):
    logdir = str(tmp_path)
    graph, v, bump, _ = _counter_graph()
    sv = tf.train.Supervisor(graph=graph, logdir=logdir)
    with sv.managed_session() as sess:
        sess.run(bump)
        # the service threads run at once when started (then every 600 / 120 s); wait
        # for their first round, as a stop requested before it would skip it
        deadline = time.time() + 60
        while tf.train.latest_checkpoint(logdir) is None and time.time() < deadline:
            time.sleep(0.01)
        sv.summary_writer.flush()
        while "counter" not in _summary_tags(logdir) and time.time() < deadline:
            time.sleep(0.01)
            sv.summary_writer.flush()
    assert tf.train.latest_checkpoint(logdir).endswith("model.ckpt-0")
    assert "counter" in _summary_tags(logdir)


def test_queue_runners_start_and_out_of_range_ends_the_block_cleanly():
    graph = tf.Graph()
    with graph.as_default():
        producer = tf.train.range_input_producer(3, num_epochs=1, shuffle=False)
        i = producer.dequeue()
    sv = tf.train.Supervisor(graph=graph)
    seen = []
    with sv.managed_session() as sess:
        while not sv.should_stop():
            seen.append(int(sess.run(i)))
    assert seen == [0, 1, 2]


def test_an_error_in_the_block_is_raised_after_the_stop():
    graph, *_ = _counter_graph()
    sv = tf.train.Supervisor(graph=graph)
    with pytest.raises(ValueError, match="bad batch"):
        with sv.managed_session():
            raise ValueError("bad batch")
    assert sv.should_stop()


def test_prepare_session_reports_what_is_not_ready():
    graph = tf.Graph()
    with graph.as_default():
        tf.Variable(1.0, name="a")
        b = tf.Variable(2.0, name="b")
        init_b_only = tf.variables_initializer([b])
        ready = tf.report_uninitialized_variables()
    manager = tf.train.SessionManager(ready_op=ready, graph=graph)
    with pytest.raises(RuntimeError, match="Variables not initialized: a"):
        manager.prepare_session(init_op=init_b_only)


def test_a_non_chief_waits_for_a_ready_model_and_gives_up():
    graph = tf.Graph()
    with graph.as_default():
        tf.Variable(1.0, name="w")
    sv = tf.train.Supervisor(graph=graph, is_chief=False, recovery_wait_secs=0.01)
    with pytest.raises(tf.errors.DeadlineExceededError, match="not ready"):
        sv.prepare_or_wait_for_session(max_wait_secs=0.05)


def test_init_feed_dict_and_init_fn():
    graph = tf.Graph()
    with graph.as_default():
        start = tf.placeholder(tf.float32, [])
        v = tf.Variable(start, name="v")
        w = tf.Variable(0.0, name="w")
        init = tf.variables_initializer([v])
    calls = []

    def init_fn(sess):
        calls.append(sess)
        sess.run(w.initializer)

    sv = tf.train.Supervisor(graph=graph, init_op=init, init_feed_dict={start: 5.0},
                             init_fn=init_fn)
    with sv.managed_session() as sess:
        np.testing.assert_allclose(sess.run([v, w]), [5.0, 0.0])
    assert len(calls) == 1


def test_defaults_come_from_the_graph_collections_first():
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(1.0, name="v")
        with tf.control_dependencies([v.initializer]):
            init_to_three = tf.assign(v, 3.0).op
        tf.add_to_collection(tf.GraphKeys.INIT_OP, init_to_three)
    sv = tf.train.Supervisor(graph=graph)
    assert sv.init_op is init_to_three
    assert graph.get_collection(tf.GraphKeys.READY_OP) == [sv.ready_op]
    assert graph.get_collection(tf.GraphKeys.SUMMARY_OP) == []  # no summaries: None
    assert sv.summary_op is None
    with sv.managed_session() as sess:
        assert sess.run(v) == 3.0
