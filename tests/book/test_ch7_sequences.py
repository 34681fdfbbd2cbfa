"""Book ch. 7: (7.1) skip-gram Word2Vec trained with NCE loss, here on a tiny synthetic corpus
whose words co-occur only within their topic, and (7.3) the bidirectional LSTM classifying
MNIST rows as 28 time steps (a smaller hidden size and fewer samples than the book's)."""
import collections
import math
import random

import numpy as np
import pytest

import actorflow as tf

TOPICS, WORDS_PER_TOPIC = 8, 6


def synthetic_corpus(n_sentences=3000, seed=0):
    """Sentences of 8 words, all from one topic; words are named "t<topic>w<k>"."""
    rng = random.Random(seed)
    words = []
    for _ in range(n_sentences):
        t = rng.randrange(TOPICS)
        words += [f"t{t}w{rng.randrange(WORDS_PER_TOPIC)}" for _ in range(8)]
    return words


def build_dataset(words, vocabulary_size):
    count = [['UNK', -1]]
    count.extend(collections.Counter(words).most_common(vocabulary_size - 1))
    dictionary = dict()
    for word, _ in count:
        dictionary[word] = len(dictionary)
    data = list()
    unk_count = 0
    for word in words:
        if word in dictionary:
            index = dictionary[word]
        else:
            index = 0
            unk_count += 1
        data.append(index)
    count[0][1] = unk_count
    reverse_dictionary = dict(zip(dictionary.values(), dictionary.keys()))
    return data, count, dictionary, reverse_dictionary


data_index = 0


def generate_batch(data, batch_size, num_skips, skip_window):
    global data_index
    assert batch_size % num_skips == 0
    assert num_skips <= 2 * skip_window
    batch = np.ndarray(shape=(batch_size), dtype=np.int32)
    labels = np.ndarray(shape=(batch_size, 1), dtype=np.int32)
    span = 2 * skip_window + 1
    buffer = collections.deque(maxlen=span)
    for _ in range(span):
        buffer.append(data[data_index])
        data_index = (data_index + 1) % len(data)
    for i in range(batch_size // num_skips):
        target = skip_window
        targets_to_avoid = [skip_window]
        for j in range(num_skips):
            while target in targets_to_avoid:
                target = random.randint(0, span - 1)
            targets_to_avoid.append(target)
            batch[i * num_skips + j] = buffer[skip_window]
            labels[i * num_skips + j, 0] = buffer[target]
        buffer.append(data[data_index])
        data_index = (data_index + 1) % len(data)
    return batch, labels


def test_word2vec_skip_gram_with_nce_recovers_the_topics():
    random.seed(1)
    tf.set_random_seed(1)
    words = synthetic_corpus()
    vocabulary_size = TOPICS * WORDS_PER_TOPIC + 1
    data, count, dictionary, reverse_dictionary = build_dataset(words, vocabulary_size)

    batch_size = 64
    embedding_size = 16
    skip_window = 1
    num_skips = 2
    valid_examples = np.arange(1, vocabulary_size)
    num_sampled = 8

    graph = tf.Graph()
    with graph.as_default():
        train_inputs = tf.placeholder(tf.int32, shape=[batch_size])
        train_labels = tf.placeholder(tf.int32, shape=[batch_size, 1])
        valid_dataset = tf.constant(valid_examples, dtype=tf.int32)

        embeddings = tf.Variable(
            tf.random_uniform([vocabulary_size, embedding_size], -1.0, 1.0))
        embed = tf.nn.embedding_lookup(embeddings, train_inputs)
        nce_weights = tf.Variable(
            tf.truncated_normal([vocabulary_size, embedding_size],
                                stddev=1.0 / math.sqrt(embedding_size)))
        nce_biases = tf.Variable(tf.zeros([vocabulary_size]))

        loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_weights, biases=nce_biases,
                                             labels=train_labels, inputs=embed,
                                             num_sampled=num_sampled,
                                             num_classes=vocabulary_size))
        optimizer = tf.train.GradientDescentOptimizer(1.0).minimize(loss)

        norm = tf.sqrt(tf.reduce_sum(tf.square(embeddings), 1, keep_dims=True))
        normalized_embeddings = embeddings / norm
        valid_embeddings = tf.nn.embedding_lookup(normalized_embeddings, valid_dataset)
        similarity = tf.matmul(valid_embeddings, normalized_embeddings, transpose_b=True)
        init = tf.global_variables_initializer()

    with tf.Session(graph=graph) as session:
        init.run()
        average_loss, first_loss = 0.0, None
        for step in range(3001):
            batch_inputs, batch_labels = generate_batch(data, batch_size, num_skips,
                                                        skip_window)
            feed_dict = {train_inputs: batch_inputs, train_labels: batch_labels}
            _, loss_val = session.run([optimizer, loss], feed_dict=feed_dict)
            average_loss += loss_val
            if step % 500 == 0:
                if step > 0:
                    average_loss /= 500
                print("Average loss at step ", step, ": ", average_loss)
                first_loss = average_loss if first_loss is None else first_loss
                average_loss = 0
        sim = similarity.eval()

    top_k = WORDS_PER_TOPIC - 1
    hits = 0
    for i, word_id in enumerate(valid_examples):
        word = reverse_dictionary[word_id]
        nearest = (-sim[i, :]).argsort()[1:top_k + 1]
        topic = word[:2]
        hits += sum(reverse_dictionary[k][:2] == topic for k in nearest)
        if i < 3:
            print("Nearest to %s: %s" % (word, ", ".join(reverse_dictionary[k]
                                                         for k in nearest)))
    precision = hits / (len(valid_examples) * top_k)
    print("nearest-neighbour topic precision", precision)
    assert precision > 0.9, precision


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
