"""Book ch. 7.2: the PTB LSTM language model. The book's reader turns ptb.*.txt into word
ids and feeds them through ptb_producer (range_input_producer + strided_slice, a queue runner
dequeuing the batch index); PTBModel stacks BasicLSTMCells (forget bias 0) in a
MultiRNNCell with DropoutWrapper, unrolls num_steps by hand reusing the variables, scores the
words with legacy_seq2seq.sequence_loss_by_example, clips the gradients by global norm and
takes SGD steps at a learning rate held in a variable; a Supervisor's managed session runs
the queue runners; run_epoch carries the LSTM state from batch to batch.

Here the text files are small ones of a tiny grammar, written in PTB's format, and the model
is small; the training perplexity must fall from epoch to epoch and the validation
perplexity must end well below the vocabulary size. With the real PTB in ACTORFLOW_DATA_DIR
(simple-examples/data/), a slow test trains the book's small config briefly and prints the
validation perplexity."""
import collections
import os
import time

import numpy as np
import pytest

import actorflow as tf

from ._data import missing_message, real_data, write_ptb


# -- reader.py ------------------------------------------------------------------------------
def _read_words(filename):
    with tf.gfile.GFile(filename, "r") as f:
        return f.read().replace("\n", "<eos>").split()


def _build_vocab(filename):
    data = _read_words(filename)

    counter = collections.Counter(data)
    count_pairs = sorted(counter.items(), key=lambda x: (-x[1], x[0]))

    words, _ = list(zip(*count_pairs))
    word_to_id = dict(zip(words, range(len(words))))

    return word_to_id


def _file_to_word_ids(filename, word_to_id):
    data = _read_words(filename)
    return [word_to_id[word] for word in data if word in word_to_id]


def ptb_raw_data(data_path=None):
    train_path = os.path.join(data_path, "ptb.train.txt")
    valid_path = os.path.join(data_path, "ptb.valid.txt")
    test_path = os.path.join(data_path, "ptb.test.txt")

    word_to_id = _build_vocab(train_path)
    train_data = _file_to_word_ids(train_path, word_to_id)
    valid_data = _file_to_word_ids(valid_path, word_to_id)
    test_data = _file_to_word_ids(test_path, word_to_id)
    vocabulary = len(word_to_id)
    return train_data, valid_data, test_data, vocabulary


def ptb_producer(raw_data, batch_size, num_steps, name=None):
    with tf.name_scope(name, "PTBProducer", [raw_data, batch_size, num_steps]):
        raw_data = tf.convert_to_tensor(raw_data, name="raw_data", dtype=tf.int32)

        data_len = tf.size(raw_data)
        batch_len = data_len // batch_size
        data = tf.reshape(raw_data[0: batch_size * batch_len], [batch_size, batch_len])

        epoch_size = (batch_len - 1) // num_steps
        assertion = tf.assert_positive(
            epoch_size, message="epoch_size == 0, decrease batch_size or num_steps")
        with tf.control_dependencies([assertion]):
            epoch_size = tf.identity(epoch_size, name="epoch_size")

        i = tf.train.range_input_producer(epoch_size, shuffle=False).dequeue()
        x = tf.strided_slice(data, [0, i * num_steps], [batch_size, (i + 1) * num_steps])
        x.set_shape([batch_size, num_steps])
        y = tf.strided_slice(data, [0, i * num_steps + 1],
                             [batch_size, (i + 1) * num_steps + 1])
        y.set_shape([batch_size, num_steps])
        return x, y


# -- ptb_word_lm.py -------------------------------------------------------------------------
class PTBInput(object):
    """The input data."""

    def __init__(self, config, data, name=None):
        self.batch_size = batch_size = config.batch_size
        self.num_steps = num_steps = config.num_steps
        self.epoch_size = ((len(data) // batch_size) - 1) // num_steps
        self.input_data, self.targets = ptb_producer(data, batch_size, num_steps, name=name)


class PTBModel(object):
    """The PTB model."""

    def __init__(self, is_training, config, input_):
        self._input = input_

        batch_size = input_.batch_size
        num_steps = input_.num_steps
        size = config.hidden_size
        vocab_size = config.vocab_size

        def lstm_cell():
            return tf.contrib.rnn.BasicLSTMCell(size, forget_bias=0.0, state_is_tuple=True)
        attn_cell = lstm_cell
        if is_training and config.keep_prob < 1:
            def attn_cell():
                return tf.contrib.rnn.DropoutWrapper(lstm_cell(),
                                                     output_keep_prob=config.keep_prob)
        cell = tf.contrib.rnn.MultiRNNCell([attn_cell() for _ in range(config.num_layers)],
                                           state_is_tuple=True)

        self._initial_state = cell.zero_state(batch_size, tf.float32)

        with tf.device("/cpu:0"):
            embedding = tf.get_variable("embedding", [vocab_size, size], dtype=tf.float32)
            inputs = tf.nn.embedding_lookup(embedding, input_.input_data)

        if is_training and config.keep_prob < 1:
            inputs = tf.nn.dropout(inputs, config.keep_prob)

        outputs = []
        state = self._initial_state
        with tf.variable_scope("RNN"):
            for time_step in range(num_steps):
                if time_step > 0:
                    tf.get_variable_scope().reuse_variables()
                (cell_output, state) = cell(inputs[:, time_step, :], state)
                outputs.append(cell_output)

        output = tf.reshape(tf.concat(outputs, 1), [-1, size])
        softmax_w = tf.get_variable("softmax_w", [size, vocab_size], dtype=tf.float32)
        softmax_b = tf.get_variable("softmax_b", [vocab_size], dtype=tf.float32)
        logits = tf.matmul(output, softmax_w) + softmax_b
        loss = tf.contrib.legacy_seq2seq.sequence_loss_by_example(
            [logits],
            [tf.reshape(input_.targets, [-1])],
            [tf.ones([batch_size * num_steps], dtype=tf.float32)])
        self._cost = cost = tf.reduce_sum(loss) / batch_size
        self._final_state = state

        if not is_training:
            return

        self._lr = tf.Variable(0.0, trainable=False)
        tvars = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(tf.gradients(cost, tvars), config.max_grad_norm)
        optimizer = tf.train.GradientDescentOptimizer(self._lr)
        self._train_op = optimizer.apply_gradients(
            zip(grads, tvars),
            global_step=tf.contrib.framework.get_or_create_global_step())

        self._new_lr = tf.placeholder(tf.float32, shape=[], name="new_learning_rate")
        self._lr_update = tf.assign(self._lr, self._new_lr)

    def assign_lr(self, session, lr_value):
        session.run(self._lr_update, feed_dict={self._new_lr: lr_value})

    @property
    def input(self):
        return self._input

    @property
    def initial_state(self):
        return self._initial_state

    @property
    def cost(self):
        return self._cost

    @property
    def final_state(self):
        return self._final_state

    @property
    def lr(self):
        return self._lr

    @property
    def train_op(self):
        return self._train_op


class SmallConfig(object):
    """Small config."""
    init_scale = 0.1
    learning_rate = 1.0
    max_grad_norm = 5
    num_layers = 2
    num_steps = 20
    hidden_size = 200
    max_epoch = 4
    max_max_epoch = 13
    keep_prob = 1.0
    lr_decay = 0.5
    batch_size = 20
    vocab_size = 10000


class TinyConfig(object):
    """The small config shrunk for a test on a tiny corpus; dropout on."""
    init_scale = 0.1
    learning_rate = 1.0
    max_grad_norm = 5
    num_layers = 2
    num_steps = 6
    hidden_size = 64
    max_epoch = 4
    max_max_epoch = 6
    keep_prob = 0.9
    lr_decay = 0.5
    batch_size = 8
    vocab_size = None  # the corpus's


def run_epoch(session, model, eval_op=None, verbose=False):
    """Runs the model on the given data."""
    start_time = time.time()
    costs = 0.0
    iters = 0
    state = session.run(model.initial_state)

    fetches = {
        "cost": model.cost,
        "final_state": model.final_state,
    }
    if eval_op is not None:
        fetches["eval_op"] = eval_op

    for step in range(model.input.epoch_size):
        feed_dict = {}
        for i, (c, h) in enumerate(model.initial_state):
            feed_dict[c] = state[i].c
            feed_dict[h] = state[i].h

        vals = session.run(fetches, feed_dict)
        cost = vals["cost"]
        state = vals["final_state"]

        costs += cost
        iters += model.input.num_steps

        if verbose and step % (model.input.epoch_size // 10 or 1) == 10:
            print("%.3f perplexity: %.3f speed: %.0f wps" %
                  (step * 1.0 / model.input.epoch_size, np.exp(costs / iters),
                   iters * model.input.batch_size / (time.time() - start_time)))

    return np.exp(costs / iters)


def main(data_path, config, eval_config, train_steps=None):
    """The book's main: builds Train/Valid/Test models sharing variables and trains
    config.max_max_epoch epochs (each cut to `train_steps` batches when given); returns the
    train and valid perplexity of every epoch and the test perplexity."""
    raw_data = ptb_raw_data(data_path)
    train_data, valid_data, test_data, _ = raw_data

    with tf.Graph().as_default():
        tf.set_random_seed(1)
        initializer = tf.random_uniform_initializer(-config.init_scale, config.init_scale)

        with tf.name_scope("Train"):
            train_input = PTBInput(config=config, data=train_data, name="TrainInput")
            with tf.variable_scope("Model", reuse=None, initializer=initializer):
                m = PTBModel(is_training=True, config=config, input_=train_input)

        with tf.name_scope("Valid"):
            valid_input = PTBInput(config=config, data=valid_data, name="ValidInput")
            with tf.variable_scope("Model", reuse=True, initializer=initializer):
                mvalid = PTBModel(is_training=False, config=config, input_=valid_input)

        with tf.name_scope("Test"):
            test_input = PTBInput(config=eval_config, data=test_data, name="TestInput")
            with tf.variable_scope("Model", reuse=True, initializer=initializer):
                mtest = PTBModel(is_training=False, config=eval_config, input_=test_input)

        if train_steps is not None:
            train_input.epoch_size = min(train_input.epoch_size, train_steps)

        train_perplexities, valid_perplexities = [], []
        sv = tf.train.Supervisor()
        with sv.managed_session() as session:
            for i in range(config.max_max_epoch):
                lr_decay = config.lr_decay ** max(i + 1 - config.max_epoch, 0.0)
                m.assign_lr(session, config.learning_rate * lr_decay)

                print("Epoch: %d Learning rate: %.3f" % (i + 1, session.run(m.lr)))
                train_perplexity = run_epoch(session, m, eval_op=m.train_op, verbose=True)
                print("Epoch: %d Train Perplexity: %.3f" % (i + 1, train_perplexity))
                valid_perplexity = run_epoch(session, mvalid)
                print("Epoch: %d Valid Perplexity: %.3f" % (i + 1, valid_perplexity))
                train_perplexities.append(train_perplexity)
                valid_perplexities.append(valid_perplexity)

            test_perplexity = run_epoch(session, mtest)
            print("Test Perplexity: %.3f" % test_perplexity)
    return train_perplexities, valid_perplexities, test_perplexity


# -- tests --------------------------------------------------------------------------------
def test_reader_reads_ptb_files(tmp_path):
    # PTB's lines start and end with a space: " w1 w2 \n"
    (tmp_path / "ptb.train.txt").write_text(" a b c \n b c d \n <unk> c \n")
    (tmp_path / "ptb.valid.txt").write_text(" c d e \n")
    (tmp_path / "ptb.test.txt").write_text(" a \n")
    train, valid, test, vocabulary = ptb_raw_data(str(tmp_path))
    # ids by frequency, ties in string order: <eos> and c 3 times, b twice, <unk>, a, d once
    assert vocabulary == 6
    assert train == [4, 2, 1, 0, 2, 1, 5, 0, 3, 1, 0]
    assert valid == [1, 5, 0] and test == [4, 0]


def test_ptb_producer_walks_the_batches_in_order():
    raw_data = [4, 3, 2, 1, 0, 5, 6, 1, 1, 1, 1, 0, 3, 4, 1]
    batch_size = 3
    num_steps = 2
    x, y = ptb_producer(raw_data, batch_size, num_steps)
    assert x.get_shape().as_list() == [3, 2] and y.get_shape().as_list() == [3, 2]
    with tf.Session() as session:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(session, coord=coord)
        try:
            xval, yval = session.run([x, y])
            np.testing.assert_array_equal(xval, [[4, 3], [5, 6], [1, 0]])
            np.testing.assert_array_equal(yval, [[3, 2], [6, 1], [0, 3]])
            xval, yval = session.run([x, y])
            np.testing.assert_array_equal(xval, [[2, 1], [1, 1], [3, 4]])
            np.testing.assert_array_equal(yval, [[1, 0], [1, 1], [4, 1]])
            xval, _ = session.run([x, y])  # an epoch has two batches: back to the first
            np.testing.assert_array_equal(xval, [[4, 3], [5, 6], [1, 0]])
        finally:
            coord.request_stop()
            coord.join(threads)


def test_ptb_lstm_perplexity_falls_on_small_ptb_files(tmp_path):
    write_ptb(tmp_path, n_train=400, n_valid=60, n_test=20)
    vocabulary = ptb_raw_data(str(tmp_path))[3]
    config = TinyConfig()
    config.vocab_size = vocabulary
    eval_config = TinyConfig()
    eval_config.vocab_size = vocabulary
    eval_config.batch_size = 1
    eval_config.num_steps = 1

    train, valid, test = main(str(tmp_path), config, eval_config)
    # the first epoch learns about the unigram frequencies (~36 of a vocabulary of ~50);
    # the grammar leaves one to three choices for most words
    assert train[-1] < 0.1 * train[0], train
    assert valid[-1] < 0.2 * valid[0], valid
    assert valid[-1] < 3 and test < 3, (valid, test)


@pytest.mark.slow
def test_ptb_lstm_small_config_on_the_real_ptb():
    data_path = real_data(os.path.join("simple-examples", "data"))
    if data_path is None:
        pytest.skip(missing_message(os.path.join("simple-examples", "data")))
    config = SmallConfig()
    config.max_max_epoch = 1
    eval_config = SmallConfig()
    eval_config.batch_size = 1
    eval_config.num_steps = 1
    train, valid, test = main(str(data_path), config, eval_config, train_steps=300)
    print("PTB small config after 300 steps: train %.1f, valid %.1f, test %.1f perplexity "
          "(book after 13 epochs: 36.9 / 122.3 / 116.7)" % (train[0], valid[0], test))
    assert valid[0] < 1000  # below the unigram model's ~700 plus a margin
