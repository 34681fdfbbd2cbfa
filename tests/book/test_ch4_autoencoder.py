"""Book ch. 4.2: the additive-Gaussian-noise denoising autoencoder, in its class form."""
import numpy as np

import actorflow as tf


def xavier_init(fan_in, fan_out, constant=1):
    low = -constant * np.sqrt(6.0 / (fan_in + fan_out))
    high = constant * np.sqrt(6.0 / (fan_in + fan_out))
    return tf.random_uniform((fan_in, fan_out), minval=low, maxval=high, dtype=tf.float32)


class AdditiveGaussianNoiseAutoencoder(object):
    def __init__(self, n_input, n_hidden, transfer_function=tf.nn.softplus,
                 optimizer=tf.train.AdamOptimizer(), scale=0.1):
        self.n_input = n_input
        self.n_hidden = n_hidden
        self.transfer = transfer_function
        self.scale = tf.placeholder(tf.float32)
        self.training_scale = scale
        network_weights = self._initialize_weights()
        self.weights = network_weights

        self.x = tf.placeholder(tf.float32, [None, self.n_input])
        self.hidden = self.transfer(tf.add(tf.matmul(
            self.x + scale * tf.random_normal((n_input,)), self.weights['w1']),
            self.weights['b1']))
        self.reconstruction = tf.add(tf.matmul(self.hidden, self.weights['w2']),
                                     self.weights['b2'])

        self.cost = 0.5 * tf.reduce_sum(tf.pow(tf.subtract(self.reconstruction, self.x), 2.0))
        self.optimizer = optimizer.minimize(self.cost)

        init = tf.global_variables_initializer()
        self.sess = tf.Session()
        self.sess.run(init)

    def _initialize_weights(self):
        all_weights = dict()
        all_weights['w1'] = tf.Variable(xavier_init(self.n_input, self.n_hidden))
        all_weights['b1'] = tf.Variable(tf.zeros([self.n_hidden], dtype=tf.float32))
        all_weights['w2'] = tf.Variable(tf.zeros([self.n_hidden, self.n_input],
                                                 dtype=tf.float32))
        all_weights['b2'] = tf.Variable(tf.zeros([self.n_input], dtype=tf.float32))
        return all_weights

    def partial_fit(self, X):
        cost, opt = self.sess.run((self.cost, self.optimizer),
                                  feed_dict={self.x: X, self.scale: self.training_scale})
        return cost

    def calc_total_cost(self, X):
        return self.sess.run(self.cost, feed_dict={self.x: X,
                                                   self.scale: self.training_scale})

    def transform(self, X):
        return self.sess.run(self.hidden, feed_dict={self.x: X,
                                                     self.scale: self.training_scale})

    def generate(self, hidden=None):
        if hidden is None:
            hidden = np.random.normal(size=(1, self.n_hidden))
        return self.sess.run(self.reconstruction, feed_dict={self.hidden: hidden})

    def reconstruct(self, X):
        return self.sess.run(self.reconstruction, feed_dict={self.x: X,
                                                             self.scale: self.training_scale})

    def getWeights(self):
        return self.sess.run(self.weights['w1'])

    def getBiases(self):
        return self.sess.run(self.weights['b1'])


def standard_scale(X_train, X_test):
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0  # as sklearn's StandardScaler (the book's) does for constant pixels
    return (X_train - mean) / std, (X_test - mean) / std


def get_random_block_from_data(data, batch_size, rng):
    start_index = rng.randint(0, len(data) - batch_size)
    return data[start_index:(start_index + batch_size)]


def test_denoising_autoencoder_reduces_its_cost(mnist):
    tf.set_random_seed(0)
    rng = np.random.RandomState(0)
    X_train, X_test = standard_scale(mnist.train.images, mnist.test.images)
    n_samples = int(mnist.train.num_examples)
    training_epochs = 4
    batch_size = 128

    autoencoder = AdditiveGaussianNoiseAutoencoder(
        n_input=784, n_hidden=200, transfer_function=tf.nn.softplus,
        optimizer=tf.train.AdamOptimizer(learning_rate=0.001), scale=0.01)
    test_cost_before = autoencoder.calc_total_cost(X_test)
    epoch_costs = []
    for _ in range(training_epochs):
        avg_cost = 0.
        total_batch = int(n_samples / batch_size)
        for _ in range(total_batch):
            batch_xs = get_random_block_from_data(X_train, batch_size, rng)
            cost = autoencoder.partial_fit(batch_xs)
            avg_cost += cost / n_samples * batch_size
        epoch_costs.append(avg_cost)
    test_cost_after = autoencoder.calc_total_cost(X_test)

    assert np.all(np.isfinite(epoch_costs))
    assert epoch_costs[-1] < epoch_costs[0] * 0.8, epoch_costs
    print("epoch costs", epoch_costs, "test cost", test_cost_before, "->", test_cost_after)
    assert test_cost_after < test_cost_before * 0.95, (test_cost_before, test_cost_after)
    assert autoencoder.transform(X_test[:5]).shape == (5, 200)
    assert autoencoder.reconstruct(X_test[:5]).shape == (5, 784)
    assert autoencoder.generate().shape == (1, 784)
