"""The PTB LSTM language model of the book's ch. 7.2 (Zaremba, Sutskever & Vinyals 2014,
"Recurrent Neural Network Regularization"), in its small, medium and large configurations.

Stacked `BasicLSTMCell`s (forget bias 0) with dropout on the embedded inputs and on each
layer's output while training, unrolled by hand over `num_steps` as the book does, a softmax
over the vocabulary, every variable drawn uniformly from [-init_scale, init_scale]. The
training settings of a config (learning rate, clipping norm, epochs, decay, batch) are the
book's too; the builder uses `init_scale`, `num_layers`, `hidden_size`, `keep_prob` and
`vocab_size`, and the caller's input pipeline and optimizer use the rest.
"""
from __future__ import annotations

from dataclasses import dataclass

import actorflow as tf

from .registry import register_model

__all__ = ["PTBConfig", "SMALL", "MEDIUM", "LARGE", "ptb_lstm", "parameter_count"]


@dataclass(frozen=True)
class PTBConfig:
    """One of the book's PTB configurations."""

    init_scale: float
    """Variables start uniform in [-init_scale, init_scale]."""
    learning_rate: float
    """SGD learning rate for the first `max_epoch` epochs."""
    max_grad_norm: float
    """Gradients are clipped to this global norm."""
    num_layers: int
    """Stacked LSTM layers."""
    num_steps: int
    """Time steps unrolled per batch (truncated backpropagation through time)."""
    hidden_size: int
    """LSTM units per layer, also the embedding width."""
    max_epoch: int
    """Epochs at the initial learning rate."""
    max_max_epoch: int
    """Epochs in all."""
    keep_prob: float
    """Dropout keep probability while training (1.0: no dropout)."""
    lr_decay: float
    """Learning-rate factor per epoch after `max_epoch`."""
    batch_size: int
    """Sequences per batch."""
    vocab_size: int = 10000
    """Words in the vocabulary (PTB's 10,000)."""


SMALL = PTBConfig(init_scale=0.1, learning_rate=1.0, max_grad_norm=5, num_layers=2,
                  num_steps=20, hidden_size=200, max_epoch=4, max_max_epoch=13,
                  keep_prob=1.0, lr_decay=0.5, batch_size=20)
MEDIUM = PTBConfig(init_scale=0.05, learning_rate=1.0, max_grad_norm=5, num_layers=2,
                   num_steps=35, hidden_size=650, max_epoch=6, max_max_epoch=39,
                   keep_prob=0.5, lr_decay=0.8, batch_size=20)
LARGE = PTBConfig(init_scale=0.04, learning_rate=1.0, max_grad_norm=10, num_layers=2,
                  num_steps=35, hidden_size=1500, max_epoch=14, max_max_epoch=55,
                  keep_prob=0.35, lr_decay=1 / 1.15, batch_size=20)


def parameter_count(config: PTBConfig) -> int:
    """The number of trainable parameters `ptb_lstm` makes for `config`: the embedding, each
    layer's LSTM kernel [2H, 4H] and bias [4H], the softmax weights and biases."""
    v, h = config.vocab_size, config.hidden_size
    return v * h + config.num_layers * (2 * h * 4 * h + 4 * h) + h * v + v


# Zaremba et al. do not print parameter counts; later papers' PTB tables cite their medium
# and large LSTMs as 20M and 66M (rounded to the million).
@register_model("ptb_lstm_small", dataset="ptb", num_classes=SMALL.vocab_size, config=SMALL)
@register_model("ptb_lstm_medium", dataset="ptb", num_classes=MEDIUM.vocab_size,
                params=20_000_000, config=MEDIUM)
@register_model("ptb_lstm_large", dataset="ptb", num_classes=LARGE.vocab_size,
                params=66_000_000, config=LARGE)
def ptb_lstm(input_data, targets, is_training: bool = True, config: PTBConfig = SMALL,
             reuse: bool | None = None, scope: str = "Model") -> dict:
    """The book's PTBModel graph.

    Build the training model first and the evaluation models with ``reuse=True`` so that
    they share its variables (``Model/embedding``, ``Model/RNN/multi_rnn_cell/cell_<k>/
    basic_lstm_cell/{kernel,bias}``, ``Model/softmax_w``, ``Model/softmax_b``).

    Args:
        input_data: int32 [batch, num_steps] word ids (static shape).
        targets: int32 [batch, num_steps], the next word of each input.
        is_training: dropout with `config.keep_prob` when True and keep_prob < 1.
        config: the sizes (`SMALL`, `MEDIUM`, `LARGE` or your own `PTBConfig`).
        reuse: reuse the variables of an earlier call in the same scope.
        scope: the variable scope (the book's "Model").

    Returns:
        A dict: ``logits`` [batch * num_steps, vocab_size] (time steps of one sequence
        side by side: row b * num_steps + t); ``loss``, the cross-entropy of each word summed
        over the time steps and averaged over the batch, as the book's cost (the
        per-word perplexity is exp(loss / num_steps)); ``initial_state``, the zero state to
        feed the previous batch's final state into, a tuple per layer of
        ``LSTMStateTuple(c, h)`` each [batch, hidden_size]; ``final_state``, the same after
        the last step.

    Raises:
        ValueError: `input_data` has no static [batch, num_steps] shape, or `targets` a
            different one.
    """
    shape = input_data.get_shape().as_list()
    if len(shape) != 2 or None in shape:
        raise ValueError(f"ptb_lstm: input_data must have a static [batch, num_steps] shape, "
                         f"got {shape}")
    if targets.get_shape().as_list() != shape:
        raise ValueError(f"ptb_lstm: targets have shape {targets.get_shape().as_list()}, "
                         f"input_data {shape}")
    batch_size, num_steps = shape
    size, vocab_size = config.hidden_size, config.vocab_size
    dropout = is_training and config.keep_prob < 1
    initializer = tf.random_uniform_initializer(-config.init_scale, config.init_scale)

    def lstm_cell():
        cell = tf.nn.rnn_cell.BasicLSTMCell(size, forget_bias=0.0, state_is_tuple=True)
        if dropout:
            cell = tf.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=config.keep_prob)
        return cell

    with tf.variable_scope(scope, reuse=reuse, initializer=initializer):
        cell = tf.nn.rnn_cell.MultiRNNCell([lstm_cell() for _ in range(config.num_layers)],
                                           state_is_tuple=True)
        initial_state = cell.zero_state(batch_size, tf.float32)
        embedding = tf.get_variable("embedding", [vocab_size, size], dtype=tf.float32)
        inputs = tf.nn.embedding_lookup(embedding, input_data)
        if dropout:
            inputs = tf.nn.dropout(inputs, config.keep_prob)

        outputs, state = [], initial_state
        with tf.variable_scope("RNN"):
            for time_step in range(num_steps):
                if time_step > 0:
                    tf.get_variable_scope().reuse_variables()
                cell_output, state = cell(inputs[:, time_step, :], state)
                outputs.append(cell_output)

        output = tf.reshape(tf.concat(outputs, 1), [-1, size])
        softmax_w = tf.get_variable("softmax_w", [size, vocab_size], dtype=tf.float32)
        softmax_b = tf.get_variable("softmax_b", [vocab_size], dtype=tf.float32)
        logits = tf.matmul(output, softmax_w) + softmax_b
        word_losses = tf.contrib.legacy_seq2seq.sequence_loss_by_example(
            [logits], [tf.reshape(targets, [-1])],
            [tf.ones([batch_size * num_steps], dtype=tf.float32)])
        loss = tf.reduce_sum(word_losses) / batch_size
    return {"logits": logits, "loss": loss, "initial_state": initial_state,
            "final_state": state}
