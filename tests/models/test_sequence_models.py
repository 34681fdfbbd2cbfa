"""The ch. 7 sequence models of actorflow.models: each builds by its registry name, has the
parameter count its sizes imply, and runs one forward-backward step at a small size with
finite outputs of the right shapes."""
import numpy as np
import pytest

import actorflow as tf
from actorflow.models import get_model


def parameter_count(variables=None) -> int:
    variables = tf.trainable_variables() if variables is None else variables
    return sum(int(np.prod(v.get_shape().as_list())) for v in variables)


def dense(value) -> np.ndarray:
    """A gradient's value as an array; sparse gradients (IndexedSlices) are scattered."""
    if hasattr(value, "indices") and hasattr(value, "dense_shape"):
        out = np.zeros(value.dense_shape, np.asarray(value.values).dtype)
        np.add.at(out, np.asarray(value.indices), np.asarray(value.values))
        return out
    return np.asarray(value)


def sgd_step(loss, feed):
    """Runs one SGD step; returns the loss before it and after it, and the gradients (dense)."""
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables)
    train = tf.train.GradientDescentOptimizer(0.1).apply_gradients(zip(grads, variables))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before, grad_values = sess.run([loss, grads], feed)
        sess.run(train, feed)
        after = sess.run(loss, feed)
    return before, after, [dense(g) for g in grad_values]


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
