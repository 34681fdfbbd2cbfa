"""Book ch. 7.3: the bidirectional LSTM classifying MNIST rows as 28 time steps (a smaller
hidden size and fewer samples than the book's). Ch. 7.1's Word2Vec is in
test_ch7_word2vec.py, ch. 7.2's PTB language model in test_ch7_ptb_lstm.py."""
import pytest

import actorflow as tf


@pytest.mark.slow
def test_bidirectional_lstm_on_mnist_rows(mnist):
    tf.set_random_seed(7)
    learning_rate = 0.01
    max_samples = 500 * 128
    batch_size = 128
    display_step = 50

    n_input = 28
    n_steps = 28
    n_hidden = 64
    n_classes = 10

    x = tf.placeholder("float", [None, n_steps, n_input])
    y = tf.placeholder("float", [None, n_classes])

    weights = tf.Variable(tf.random_normal([2 * n_hidden, n_classes]))
    biases = tf.Variable(tf.random_normal([n_classes]))

    def BiRNN(x, weights, biases):
        x = tf.transpose(x, [1, 0, 2])
        x = tf.reshape(x, [-1, n_input])
        x = tf.split(x, n_steps)
        lstm_fw_cell = tf.contrib.rnn.BasicLSTMCell(n_hidden, forget_bias=1.0)
        lstm_bw_cell = tf.contrib.rnn.BasicLSTMCell(n_hidden, forget_bias=1.0)
        outputs, _, _ = tf.contrib.rnn.static_bidirectional_rnn(lstm_fw_cell, lstm_bw_cell, x,
                                                                dtype=tf.float32)
        return tf.matmul(outputs[-1], weights) + biases

    pred = BiRNN(x, weights, biases)
    cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=pred, labels=y))
    optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(cost)
    correct_pred = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))
    init = tf.global_variables_initializer()

    with tf.Session() as sess:
        sess.run(init)
        step = 1
        while step * batch_size < max_samples:
            batch_x, batch_y = mnist.train.next_batch(batch_size)
            batch_x = batch_x.reshape((batch_size, n_steps, n_input))
            sess.run(optimizer, feed_dict={x: batch_x, y: batch_y})
            if step % display_step == 0:
                acc, loss = sess.run([accuracy, cost], feed_dict={x: batch_x, y: batch_y})
                print("Iter " + str(step * batch_size) + ", Minibatch Loss= " +
                      "{:.6f}".format(loss) + ", Training Accuracy= " + "{:.5f}".format(acc))
            step += 1
        test_data = mnist.test.images.reshape((-1, n_steps, n_input))
        test_label = mnist.test.labels
        test_acc = sess.run(accuracy, feed_dict={x: test_data, y: test_label})
        print("Testing Accuracy:", test_acc)
    assert test_acc > 0.95, test_acc
