"""tf.train.MonitoredSession / MonitoredTrainingSession and the standard hooks: the call
order of hooks, extra fetches and feeds, stopping, checkpoints resumed, summaries written,
queue runners started, OutOfRangeError ending the block."""
import glob
import os

import numpy as np
import pytest

import actorflow as tf


def _counter_model():
    step = tf.train.get_or_create_global_step()
    x = tf.placeholder(tf.float32, [], name="x")
    w = tf.Variable(1.0, name="w")
    loss = tf.square(w * x - 2.0)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    return step, x, w, loss, train


class _Recorder(tf.train.SessionRunHook):
    def __init__(self, fetch=None, feed=None):
        self.calls, self.results, self._fetch, self._feed = [], [], fetch, feed

    def begin(self):
        self.calls.append("begin")

    def after_create_session(self, session, coord):
        self.calls.append("after_create_session")
        assert session.graph.finalized and coord is not None

    def before_run(self, run_context):
        self.calls.append("before_run")
        return tf.train.SessionRunArgs(self._fetch, feed_dict=self._feed)

    def after_run(self, run_context, run_values):
        self.calls.append("after_run")
        self.results.append(run_values.results)

    def end(self, session):
        self.calls.append("end")


def test_hooks_run_in_order_with_their_fetches_and_feeds():
    step, x, w, loss, train = _counter_model()
    feed_hook = _Recorder(fetch=loss, feed={x: 2.0})
    with tf.train.MonitoredSession(hooks=[feed_hook]) as sess:
        assert sess.run(w) == 1.0  # the hook feeds x although w does not need it
        sess.run(train)
    assert feed_hook.calls == ["begin", "after_create_session", "before_run", "after_run",
                               "before_run", "after_run", "end"]
    np.testing.assert_allclose(feed_hook.results, [0.0, 0.0], atol=1e-6)  # (1*2-2)^2


def test_feed_given_by_caller_and_hook_is_an_error():
    step, x, w, loss, train = _counter_model()
    with tf.train.MonitoredSession(hooks=[_Recorder(feed={x: 1.0})]) as sess:
        with pytest.raises(RuntimeError, match="fed by a SessionRunHook and user"):
            sess.run(loss, feed_dict={x: 3.0})


def test_stop_at_step_hook_with_last_step_and_num_steps():
    step, x, w, loss, train = _counter_model()
    n = 0
    with tf.train.MonitoredTrainingSession(
            hooks=[tf.train.StopAtStepHook(last_step=5)]) as sess:
        while not sess.should_stop():
            sess.run(train, feed_dict={x: 1.0})
            n += 1
    assert n == 5
    with pytest.raises(ValueError):
        tf.train.StopAtStepHook()


def test_checkpoints_are_written_and_a_new_session_resumes_from_them(tmp_path):
    ckpt = str(tmp_path)
    step, x, w, loss, train = _counter_model()
    final = tf.train.FinalOpsHook([w, step])
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=ckpt, save_checkpoint_steps=2,
            hooks=[tf.train.StopAtStepHook(last_step=3), final]) as sess:
        while not sess.should_stop():
            sess.run(train, feed_dict={x: 1.0})
    w_trained, last = final.final_ops_values
    assert last == 3
    assert tf.train.latest_checkpoint(ckpt).endswith("model.ckpt-3")  # saved at the end
    assert os.path.exists(os.path.join(ckpt, "graph.pbtxt"))
    assert glob.glob(os.path.join(ckpt, "events.out.tfevents.*"))  # step counter, summaries

    tf.reset_default_graph()
    step, x, w, loss, train = _counter_model()
    final = tf.train.FinalOpsHook(step)
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=ckpt, hooks=[tf.train.StopAtStepHook(num_steps=2), final]) as sess:
        assert sess.run(step) == 3 and sess.run(w) == pytest.approx(w_trained)
        while not sess.should_stop():
            sess.run(train, feed_dict={x: 1.0})
    assert final.final_ops_values == 5


def test_summary_saver_hook_writes_the_summary_op(tmp_path):
    step, x, w, loss, train = _counter_model()
    tf.summary.scalar("loss", loss)
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), save_summaries_steps=1, save_checkpoint_secs=None,
            hooks=[tf.train.StopAtStepHook(last_step=3)]) as sess:
        while not sess.should_stop():
            sess.run(train, feed_dict={x: 1.0})
    tags = [(e.step, v.tag) for f in glob.glob(str(tmp_path / "events.out.tfevents.*"))
            for e in tf.train.summary_iterator(f) if e.summary for v in e.summary.value]
    assert [s for s, tag in tags if tag == "loss"] == [1, 2, 3]
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_nan_tensor_hook_raises_or_stops():
    step, x, w, loss, train = _counter_model()
    nan_loss = loss * float("nan")
    with pytest.raises(tf.train.NanLossDuringTrainingError):
        with tf.train.MonitoredSession(hooks=[tf.train.NanTensorHook(nan_loss)]) as sess:
            sess.run(train, feed_dict={x: 1.0})
    tf.reset_default_graph()
    step, x, w, loss, train = _counter_model()
    hook = tf.train.NanTensorHook(loss * float("nan"), fail_on_nan_loss=False)
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        sess.run(train, feed_dict={x: 1.0})
        assert sess.should_stop()
        with pytest.raises(RuntimeError, match="should_stop"):
            sess.run(train, feed_dict={x: 1.0})


def test_queue_runners_start_and_out_of_range_ends_the_block_cleanly():
    # CIFAR-10 tutorial style: the model reads from a queue fed by a queue runner
    tf.train.get_or_create_global_step()
    producer = tf.train.string_input_producer(["a", "b", "c"], num_epochs=1, shuffle=False)
    item = producer.dequeue()
    seen = []
    with tf.train.MonitoredTrainingSession() as sess:
        while not sess.should_stop():
            seen.append(sess.run(item))
    assert seen == [b"a", b"b", b"c"]


def test_scaffold_takes_ops_from_collections_and_finalizes_the_graph():
    tf.Variable(1.0, name="v")
    init = tf.global_variables_initializer()
    tf.add_to_collection(tf.GraphKeys.INIT_OP, init)
    scaffold = tf.train.Scaffold().finalize()
    assert scaffold.init_op is init
    assert scaffold.saver is not None and scaffold.ready_op is not None
    assert tf.get_default_graph().finalized
    with tf.train.SingularMonitoredSession(scaffold=scaffold) as sess:
        assert sess.raw_session().run("v:0") == 1.0


def test_second_or_step_timer():
    timer = tf.train.SecondOrStepTimer(every_steps=3)
    assert timer.should_trigger_for_step(0)
    assert timer.update_last_triggered_step(0) == (None, None)
    assert not timer.should_trigger_for_step(0) and not timer.should_trigger_for_step(2)
    assert timer.should_trigger_for_step(3)
    with pytest.raises(ValueError):
        tf.train.SecondOrStepTimer()
