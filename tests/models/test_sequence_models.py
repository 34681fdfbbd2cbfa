"""The ch. 7 sequence models of actorflow.models: each builds by its registry name, has the
parameter count its sizes imply, and runs one forward-backward step at a small size with
finite outputs of the right shapes."""
import dataclasses
import types

import numpy as np
import pytest

import actorflow as tf
from actorflow.models import get_model, ptb_lstm

from ..book.test_ch7_ptb_lstm import PTBModel
from ._steps import parameter_count, sgd_step


# --- word2vec (ch. 7.1) -------------------------------------------------------------------

def test_word2vec_at_the_books_sizes_has_its_parameter_count():
    inputs = tf.placeholder(tf.int32, [128])
    labels = tf.placeholder(tf.int32, [128, 1])
    out = get_model("word2vec_skip_gram")(inputs, labels)
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert names == ["embeddings", "nce_biases", "nce_weights"]
    # embeddings and nce_weights 50,000 x 128 each, nce_biases 50,000
    assert parameter_count() == 2 * 50000 * 128 + 50000 == 12_850_000
    assert out["embed"].get_shape().as_list() == [128, 128]
    assert out["normalized_embeddings"].get_shape().as_list() == [50000, 128]


def test_word2vec_initialisers_are_the_books():
    inputs = tf.placeholder(tf.int32, [4])
    labels = tf.placeholder(tf.int32, [4, 1])
    out = get_model("word2vec_skip_gram")(inputs, labels, vocabulary_size=2000,
                                          embedding_size=64, num_sampled=8)
    variables = {v.op.name: v for v in tf.trainable_variables()}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        emb, w, b, norm = sess.run([variables["embeddings"], variables["nce_weights"],
                                    variables["nce_biases"], out["normalized_embeddings"]])
    assert emb.min() >= -1.0 and emb.max() < 1.0 and abs(emb.mean()) < 0.02
    assert np.abs(w).max() <= 2 / np.sqrt(64) + 1e-6  # truncated at two stddevs
    assert 0.8 / 8 < w.std() < 1.0 / 8
    assert not b.any()
    np.testing.assert_allclose(np.linalg.norm(norm, axis=1), 1.0, rtol=1e-5)


def test_word2vec_forward_backward_step():
    tf.set_random_seed(0)
    inputs = tf.placeholder(tf.int32, [16])
    labels = tf.placeholder(tf.int32, [16, 1])
    out = get_model("word2vec_skip_gram")(inputs, labels, vocabulary_size=300,
                                          embedding_size=32, num_sampled=8)
    # the lookup and nce_loss touch only the batch's rows: the gradients are sparse
    assert all(isinstance(g, tf.IndexedSlices)
               for g in tf.gradients(out["loss"], tf.trainable_variables()))
    rng = np.random.RandomState(0)
    feed = {inputs: rng.randint(300, size=16), labels: rng.randint(300, size=(16, 1))}
    before, after, grads = sgd_step(out["loss"], feed)
    assert np.isfinite(before) and np.isfinite(after) and before > 0
    assert [g.shape for g in grads] == [(300, 32), (300, 32), (300,)]
    assert all(np.isfinite(g).all() for g in grads)


def test_word2vec_rejects_a_bad_size():
    inputs = tf.placeholder(tf.int32, [4])
    labels = tf.placeholder(tf.int32, [4, 1])
    with pytest.raises(ValueError, match="num_sampled"):
        get_model("word2vec_skip_gram")(inputs, labels, num_sampled=0)


# --- PTB LSTM (ch. 7.2) -------------------------------------------------------------------

@pytest.mark.parametrize("name, config", [("ptb_lstm_small", ptb_lstm.SMALL),
                                          ("ptb_lstm_medium", ptb_lstm.MEDIUM),
                                          ("ptb_lstm_large", ptb_lstm.LARGE)])
def test_ptb_lstm_configs_have_their_parameter_counts(name, config):
    spec = get_model(name)
    inputs = tf.placeholder(tf.int32, [config.batch_size, config.num_steps])
    out = spec(inputs, inputs)
    # embedding V x H, per layer a [2H, 4H] kernel and a [4H] bias, softmax H x V and V
    v, h, layers = config.vocab_size, config.hidden_size, config.num_layers
    assert parameter_count() == v * h + layers * (8 * h * h + 4 * h) + h * v + v
    assert parameter_count() == ptb_lstm.parameter_count(config)
    if spec.params:  # Zaremba et al.'s medium and large: 20M and 66M, as cited
        assert round(parameter_count() / 1e6) * 1_000_000 == spec.params
    assert out["logits"].get_shape().as_list() == [config.batch_size * config.num_steps, v]
    assert len(out["final_state"]) == layers


def test_ptb_lstm_exact_counts():
    assert [ptb_lstm.parameter_count(c) for c in (ptb_lstm.SMALL, ptb_lstm.MEDIUM,
                                                  ptb_lstm.LARGE)] == \
        [4_651_600, 19_775_200, 66_022_000]


def tiny_ptb_config(**changes):
    return dataclasses.replace(ptb_lstm.SMALL, hidden_size=16, vocab_size=30, **changes)


def test_ptb_lstm_is_the_books_graph():
    """Same seed, same feed: the builder's loss and final state equal the book's PTBModel."""
    config = tiny_ptb_config()
    rng = np.random.RandomState(0)
    x_value, y_value = rng.randint(30, size=(3, 4)), rng.randint(30, size=(3, 4))

    def run(build):
        with tf.Graph().as_default():
            tf.set_random_seed(3)
            x = tf.placeholder(tf.int32, [3, 4])
            y = tf.placeholder(tf.int32, [3, 4])
            loss, final_state = build(x, y)
            names = [v.op.name for v in tf.trainable_variables()]
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                return names, sess.run([loss, final_state], {x: x_value, y: y_value})

    def book(x, y):
        input_ = types.SimpleNamespace(batch_size=3, num_steps=4, input_data=x, targets=y)
        initializer = tf.random_uniform_initializer(-config.init_scale, config.init_scale)
        with tf.variable_scope("Model", initializer=initializer):
            model = PTBModel(is_training=False, config=config, input_=input_)
        return model.cost, model.final_state

    def builder(x, y):
        out = ptb_lstm.ptb_lstm(x, y, is_training=False, config=config)
        return out["loss"], out["final_state"]

    book_names, (book_loss, book_state) = run(book)
    names, (loss, state) = run(builder)
    assert names == book_names
    np.testing.assert_allclose(loss, book_loss, rtol=1e-6)
    np.testing.assert_allclose(np.array(state), np.array(book_state), rtol=1e-6, atol=1e-7)


def test_ptb_lstm_forward_backward_step_with_dropout_and_shared_eval_model():
    tf.set_random_seed(0)
    config = tiny_ptb_config(keep_prob=0.5)
    x = tf.placeholder(tf.int32, [4, 5])
    y = tf.placeholder(tf.int32, [4, 5])
    train = ptb_lstm.ptb_lstm(x, y, is_training=True, config=config)
    n_variables = len(tf.trainable_variables())
    evaluate = ptb_lstm.ptb_lstm(x, y, is_training=False, config=config, reuse=True)
    assert len(tf.trainable_variables()) == n_variables == 7
    rng = np.random.RandomState(1)
    feed = {x: rng.randint(30, size=(4, 5)), y: rng.randint(30, size=(4, 5))}
    before, after, grads = sgd_step(train["loss"], feed)
    # a word's cross-entropy starts near log(V); the loss sums 5 of them
    assert 0.8 * 5 * np.log(30) < before < 1.2 * 5 * np.log(30) and np.isfinite(after)
    assert all(np.isfinite(g).all() for g in grads)
    assert grads[0].shape == (30, 16)
    assert evaluate["logits"].get_shape().as_list() == [20, 30]
    assert evaluate["final_state"][1].h.get_shape().as_list() == [4, 16]


def test_ptb_lstm_needs_static_shapes():
    x = tf.placeholder(tf.int32, [None, 5])
    with pytest.raises(ValueError, match="static"):
        ptb_lstm.ptb_lstm(x, x, config=tiny_ptb_config())
    with pytest.raises(ValueError, match="targets"):
        ptb_lstm.ptb_lstm(tf.placeholder(tf.int32, [2, 5]), tf.placeholder(tf.int32, [2, 4]),
                          config=tiny_ptb_config())


# --- bidirectional LSTM (ch. 7.3) ---------------------------------------------------------

def test_bidirectional_lstm_at_the_books_size_has_its_parameter_count():
    images = tf.placeholder(tf.float32, [None, 28, 28])
    out = get_model("bidirectional_lstm")(images)
    # per direction a [28 + 256, 4 * 256] kernel and a [4 * 256] bias; then 512 x 10 + 10
    assert parameter_count() == 2 * ((28 + 256) * 1024 + 1024) + 512 * 10 + 10 == 588_810
    assert out["logits"].get_shape().as_list() == [None, 10]
    assert sorted(v.op.name for v in tf.trainable_variables()) == [
        "biases", "bidirectional_rnn/bw/basic_lstm_cell/bias",
        "bidirectional_rnn/bw/basic_lstm_cell/kernel",
        "bidirectional_rnn/fw/basic_lstm_cell/bias",
        "bidirectional_rnn/fw/basic_lstm_cell/kernel", "weights"]


def test_bidirectional_lstm_forward_backward_step():
    tf.set_random_seed(0)
    images = tf.placeholder(tf.float32, [None, 7, 5])
    labels = tf.placeholder(tf.int32, [None])
    logits = get_model("bidirectional_lstm")(images, n_hidden=8, num_classes=3)["logits"]
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    rng = np.random.RandomState(0)
    feed = {images: rng.rand(6, 7, 5), labels: rng.randint(3, size=6)}
    before, after, grads = sgd_step(loss, feed)
    assert np.isfinite(before) and np.isfinite(after)
    assert [g.shape for g in grads] == [(16, 3), (3,), (13, 32), (32,), (13, 32), (32,)]
    assert all(np.isfinite(g).all() for g in grads)


def test_bidirectional_lstm_needs_a_sequence():
    with pytest.raises(ValueError, match="n_steps"):
        get_model("bidirectional_lstm")(tf.placeholder(tf.float32, [None, 784]))
