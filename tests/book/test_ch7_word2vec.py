"""Book ch. 7.1: skip-gram Word2Vec with NCE loss. The book's program reads text8.zip
(read_data), keeps the most common words (build_dataset, the rest UNK), cuts skip-gram
batches (generate_batch), trains embeddings by SGD on nce_loss and lists nearest neighbours
by cosine similarity of the normalised embeddings.

Here it runs on (1) a small corpus whose words co-occur only within their topic, where the
neighbours must come out right, (2) the same kind of corpus written as text8.zip with a
vocabulary smaller than the word count (UNK in use), where the average loss must fall, and
(3) the real text8 when it is in ACTORFLOW_DATA_DIR (slow: 50,000 words, the book's sizes,
a few thousand steps; prints the average loss)."""
import collections
import math
import random
import zipfile

import numpy as np
import pytest

import actorflow as tf

from ._data import missing_message, real_data, write_text8_zip

TOPICS, WORDS_PER_TOPIC = 8, 6


def synthetic_corpus(n_sentences=3000, seed=0, topics=TOPICS, words_per_topic=WORDS_PER_TOPIC):
    """Sentences of 8 words, all from one topic; words are named "t<topic>w<k>"."""
    rng = random.Random(seed)
    words = []
    for _ in range(n_sentences):
        t = rng.randrange(topics)
        words += [f"t{t}w{rng.randrange(words_per_topic)}" for _ in range(8)]
    return words


def read_data(filename):
    with zipfile.ZipFile(filename) as f:
        data = tf.compat.as_str(f.read(f.namelist()[0])).split()
    return data


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


def train_skip_gram(data, reverse_dictionary, vocabulary_size, valid_examples, num_steps,
                    batch_size=128, embedding_size=128, skip_window=1, num_skips=2,
                    num_sampled=64, report_every=2000):
    """The book's graph and training loop; returns the average losses printed every
    `report_every` steps and the final similarity of the validation words to all words."""
    global data_index
    data_index = 0
    graph = tf.Graph()
    with graph.as_default():
        train_inputs = tf.placeholder(tf.int32, shape=[batch_size])
        train_labels = tf.placeholder(tf.int32, shape=[batch_size, 1])
        valid_dataset = tf.constant(valid_examples, dtype=tf.int32)

        with tf.device('/cpu:0'):
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

    averages = []
    with tf.Session(graph=graph) as session:
        init.run()
        print("Initialized")
        average_loss = 0
        for step in range(num_steps):
            batch_inputs, batch_labels = generate_batch(data, batch_size, num_skips,
                                                        skip_window)
            feed_dict = {train_inputs: batch_inputs, train_labels: batch_labels}
            _, loss_val = session.run([optimizer, loss], feed_dict=feed_dict)
            average_loss += loss_val
            if step % report_every == 0:
                if step > 0:
                    average_loss /= report_every
                print("Average loss at step ", step, ": ", average_loss)
                averages.append(average_loss)
                average_loss = 0
        sim = similarity.eval()
        for i in range(min(len(valid_examples), 4)):
            valid_word = reverse_dictionary[valid_examples[i]]
            nearest = (-sim[i, :]).argsort()[1:6]
            print("Nearest to %s: %s" % (valid_word, ", ".join(reverse_dictionary[k]
                                                               for k in nearest)))
    return averages, sim


def test_word2vec_skip_gram_with_nce_recovers_the_topics():
    random.seed(1)
    tf.set_random_seed(1)
    words = synthetic_corpus()
    vocabulary_size = TOPICS * WORDS_PER_TOPIC + 1
    data, count, dictionary, reverse_dictionary = build_dataset(words, vocabulary_size)
    valid_examples = np.arange(1, vocabulary_size)

    _, sim = train_skip_gram(data, reverse_dictionary, vocabulary_size, valid_examples,
                             num_steps=3001, batch_size=64, embedding_size=16,
                             num_sampled=8, report_every=500)

    top_k = WORDS_PER_TOPIC - 1
    hits = 0
    for i, word_id in enumerate(valid_examples):
        topic = reverse_dictionary[word_id][:2]
        nearest = (-sim[i, :]).argsort()[1:top_k + 1]
        hits += sum(reverse_dictionary[k][:2] == topic for k in nearest)
    precision = hits / (len(valid_examples) * top_k)
    print("nearest-neighbour topic precision", precision)
    assert precision > 0.9, precision


def test_word2vec_on_text8_format_loss_goes_down(tmp_path):
    random.seed(2)
    tf.set_random_seed(2)
    filename = write_text8_zip(tmp_path / "text8.zip",
                               synthetic_corpus(n_sentences=1500, seed=3, topics=20))
    words = read_data(str(filename))
    print('Data size', len(words))
    vocabulary_size = 100  # of 120 distinct words: the rarest become UNK
    data, count, dictionary, reverse_dictionary = build_dataset(words, vocabulary_size)
    del words
    print('Most common words (+UNK)', count[:5])
    assert count[0][0] == 'UNK' and count[0][1] > 0
    assert len(dictionary) == vocabulary_size and len(data) == 12000

    valid_size = 16
    valid_window = 100
    valid_examples = np.random.RandomState(0).choice(valid_window, valid_size, replace=False)
    averages, _ = train_skip_gram(data, reverse_dictionary, vocabulary_size, valid_examples,
                                  num_steps=601, batch_size=128, embedding_size=32,
                                  num_sampled=16, report_every=200)
    assert len(averages) == 4
    assert averages[-1] < 0.6 * averages[1], averages


@pytest.mark.slow
def test_word2vec_on_the_real_text8():
    filename = real_data("text8.zip") or real_data("text8")
    if filename is None:
        pytest.skip(missing_message("text8.zip") + " (or text8)")
    random.seed(0)
    tf.set_random_seed(0)
    if zipfile.is_zipfile(filename):
        words = read_data(str(filename))
    else:
        words = tf.compat.as_str(filename.read_bytes()).split()
    print('Data size', len(words))
    vocabulary_size = 50000
    data, count, dictionary, reverse_dictionary = build_dataset(words, vocabulary_size)
    del words
    print('Most common words (+UNK)', count[:5])
    valid_examples = np.random.choice(100, 16, replace=False)
    averages, _ = train_skip_gram(data, reverse_dictionary, vocabulary_size, valid_examples,
                                  num_steps=6001)
    print("text8 average NCE loss after 6000 steps: %.2f (book: 4.6-4.7 after 100k)"
          % averages[-1])
    assert averages[-1] < averages[1]
