"""Word2Vec skip-gram with NCE loss: the book's ch. 7.1 graph.

The builder returns the loss and the embedding tensors; the caller picks the optimizer (the
book's plain SGD at 1.0). The embedding lookup and `nce_loss` touch only the rows of the
batch's words and sampled classes, so the gradients of all three variables are
`IndexedSlices`: an optimizer or a parameter server updates those rows only.
"""
from __future__ import annotations

import math

import actorflow as tf

from .registry import register_model

__all__ = ["skip_gram_nce"]


@register_model("word2vec_skip_gram", dataset="text8")
def skip_gram_nce(train_inputs, train_labels, vocabulary_size: int = 50000,
                  embedding_size: int = 128, num_sampled: int = 64,
                  is_training: bool = True) -> dict:
    """The skip-gram model with noise-contrastive estimation, as the book builds it.

    Variables: ``embeddings`` [V, E] uniform in [-1, 1), ``nce_weights`` [V, E] truncated
    normal with stddev 1/sqrt(E), ``nce_biases`` [V] zeros.

    Args:
        train_inputs: int32 [batch] ids of the centre words.
        train_labels: int32 [batch, 1] ids of a context word each.
        vocabulary_size: V, the number of words (the book's 50,000).
        embedding_size: E, the embedding width (the book's 128).
        num_sampled: negative classes sampled per batch for NCE (the book's 64).
        is_training: unused (the model behaves the same in training and evaluation); taken
            so that every registered builder has the same signature.

    Returns:
        A dict: ``loss`` (scalar, the batch mean of `tf.nn.nce_loss`), ``embeddings`` (the
        variable), ``normalized_embeddings`` (each row scaled to unit L2 norm, for cosine
        similarity) and ``embed`` ([batch, E], the looked-up inputs).

    Raises:
        ValueError: a size is not positive.
    """
    del is_training  # same graph in both modes
    for name, value in (("vocabulary_size", vocabulary_size),
                        ("embedding_size", embedding_size), ("num_sampled", num_sampled)):
        if value <= 0:
            raise ValueError(f"skip_gram_nce: {name} must be positive, got {value}")
    embeddings = tf.Variable(
        tf.random_uniform([vocabulary_size, embedding_size], -1.0, 1.0), name="embeddings")
    embed = tf.nn.embedding_lookup(embeddings, train_inputs)
    nce_weights = tf.Variable(
        tf.truncated_normal([vocabulary_size, embedding_size],
                            stddev=1.0 / math.sqrt(embedding_size)), name="nce_weights")
    nce_biases = tf.Variable(tf.zeros([vocabulary_size]), name="nce_biases")
    loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_weights, biases=nce_biases,
                                         labels=train_labels, inputs=embed,
                                         num_sampled=num_sampled,
                                         num_classes=vocabulary_size))
    norm = tf.sqrt(tf.reduce_sum(tf.square(embeddings), 1, keep_dims=True))
    return {"loss": loss, "embeddings": embeddings,
            "normalized_embeddings": embeddings / norm, "embed": embed}
