"""The bidirectional LSTM classifier of the book's ch. 7.3: each image is a sequence of its
rows (MNIST: 28 steps of 28 pixels), read forwards and backwards by two LSTMs whose last
outputs, concatenated, go through one linear layer to the class scores."""
from __future__ import annotations

import actorflow as tf

from .registry import register_model

__all__ = ["bidirectional_lstm"]


@register_model("bidirectional_lstm", input_shape=(28, 28), num_classes=10, dataset="mnist")
def bidirectional_lstm(inputs, is_training: bool = True, n_hidden: int = 256,
                       num_classes: int = 10) -> dict:
    """The book's BiRNN: `static_bidirectional_rnn` of two `BasicLSTMCell`s (forget bias 1)
    over the time steps, then ``logits = outputs[-1] @ weights + biases``.

    Variables: ``bidirectional_rnn/{fw,bw}/basic_lstm_cell/{kernel,bias}``, and ``weights``
    [2 * n_hidden, num_classes] and ``biases`` [num_classes], both standard normal as in
    the book.

    Args:
        inputs: float [batch, n_steps, n_input] (static n_steps and n_input), e.g. MNIST
            images as [batch, 28, 28].
        is_training: unused (no dropout or batch norm); taken so that every registered
            builder has the same signature.
        n_hidden: LSTM units in each direction (the book's 256).
        num_classes: output classes (10 digits).

    Returns:
        A dict: ``logits`` [batch, num_classes].

    Raises:
        ValueError: `inputs` is not rank 3 with static steps and width.
    """
    del is_training  # same graph in both modes
    shape = inputs.get_shape().as_list()
    if len(shape) != 3 or shape[1] is None or shape[2] is None:
        raise ValueError(f"bidirectional_lstm: inputs must be [batch, n_steps, n_input] with "
                         f"static n_steps and n_input, got {shape}")
    n_steps, n_input = shape[1], shape[2]
    weights = tf.Variable(tf.random_normal([2 * n_hidden, num_classes]), name="weights")
    biases = tf.Variable(tf.random_normal([num_classes]), name="biases")

    # the static RNN takes a list of [batch, n_input] steps
    steps = tf.split(tf.reshape(tf.transpose(inputs, [1, 0, 2]), [-1, n_input]), n_steps)
    lstm_fw_cell = tf.nn.rnn_cell.BasicLSTMCell(n_hidden, forget_bias=1.0)
    lstm_bw_cell = tf.nn.rnn_cell.BasicLSTMCell(n_hidden, forget_bias=1.0)
    outputs, _, _ = tf.nn.static_bidirectional_rnn(lstm_fw_cell, lstm_bw_cell, steps,
                                                   dtype=tf.float32)
    return {"logits": tf.matmul(outputs[-1], weights) + biases}
