"""Book ch. 8.3: the Double/Dueling DQN graph — conv Q-net via contrib convolution2d, split
into advantage and value streams, one_hot action selection, soft target updates through
`assign` and `value()`, experience replay, and Saver save/restore."""
import os
import random

import numpy as np
import pytest

import actorflow as tf

ACTIONS = 4


class TinyGridWorld:
    """A 3x3 board in the book's GridWorld style: hero (blue), one goal (green, +1),
    one fire (red, -1); touching an object respawns it; observations are 84x84x3 images."""

    def __init__(self, seed):
        self.size = 3
        self.rng = random.Random(seed)
        self.reset()

    def _free(self, taken):
        cells = [(x, y) for x in range(self.size) for y in range(self.size)
                 if (x, y) not in taken]
        return self.rng.choice(cells)

    def reset(self):
        self.hero = self._free([])
        self.goal = self._free([self.hero])
        self.fire = self._free([self.hero, self.goal])
        return self.render()

    def render(self):
        a = np.ones([self.size + 2, self.size + 2, 3], dtype=np.float32)
        a[1:-1, 1:-1, :] = 0
        for (x, y), ch in ((self.hero, 2), (self.goal, 1), (self.fire, 0)):
            a[y + 1, x + 1, ch] = 1
        idx = (np.arange(84) * (self.size + 2) // 84)
        return a[idx][:, idx].reshape(-1)

    def step(self, action):
        x, y = self.hero
        if action == 0 and y >= 1:
            y -= 1
        if action == 1 and y <= self.size - 2:
            y += 1
        if action == 2 and x >= 1:
            x -= 1
        if action == 3 and x <= self.size - 2:
            x += 1
        self.hero = (x, y)
        reward = 0.0
        if self.hero == self.goal:
            reward = 1.0
            self.goal = self._free([self.hero, self.fire])
        elif self.hero == self.fire:
            reward = -1.0
            self.fire = self._free([self.hero, self.goal])
        return self.render(), reward, False


class Qnetwork():
    def __init__(self, h_size):
        self.scalarInput = tf.placeholder(shape=[None, 21168], dtype=tf.float32)
        self.imageIn = tf.reshape(self.scalarInput, shape=[-1, 84, 84, 3])
        self.conv1 = tf.contrib.layers.convolution2d(
            inputs=self.imageIn, num_outputs=32, kernel_size=[8, 8], stride=[4, 4],
            padding='VALID', biases_initializer=None)
        self.conv2 = tf.contrib.layers.convolution2d(
            inputs=self.conv1, num_outputs=64, kernel_size=[4, 4], stride=[2, 2],
            padding='VALID', biases_initializer=None)
        self.conv3 = tf.contrib.layers.convolution2d(
            inputs=self.conv2, num_outputs=64, kernel_size=[3, 3], stride=[1, 1],
            padding='VALID', biases_initializer=None)
        self.conv4 = tf.contrib.layers.convolution2d(
            inputs=self.conv3, num_outputs=h_size, kernel_size=[7, 7], stride=[1, 1],
            padding='VALID', biases_initializer=None)

        self.streamAC, self.streamVC = tf.split(self.conv4, 2, 3)
        self.streamA = tf.contrib.layers.flatten(self.streamAC)
        self.streamV = tf.contrib.layers.flatten(self.streamVC)
        self.AW = tf.Variable(tf.random_normal([h_size // 2, ACTIONS]))
        self.VW = tf.Variable(tf.random_normal([h_size // 2, 1]))
        self.Advantage = tf.matmul(self.streamA, self.AW)
        self.Value = tf.matmul(self.streamV, self.VW)

        self.Qout = self.Value + tf.subtract(
            self.Advantage, tf.reduce_mean(self.Advantage, reduction_indices=1, keep_dims=True))
        self.predict = tf.argmax(self.Qout, 1)

        self.targetQ = tf.placeholder(shape=[None], dtype=tf.float32)
        self.actions = tf.placeholder(shape=[None], dtype=tf.int32)
        self.actions_onehot = tf.one_hot(self.actions, ACTIONS, dtype=tf.float32)
        self.Q = tf.reduce_sum(tf.multiply(self.Qout, self.actions_onehot), reduction_indices=1)
        self.td_error = tf.square(self.targetQ - self.Q)
        self.loss = tf.reduce_mean(self.td_error)
        self.trainer = tf.train.AdamOptimizer(learning_rate=0.0001)
        self.updateModel = self.trainer.minimize(self.loss)


class experience_buffer():
    def __init__(self, buffer_size=50000):
        self.buffer = []
        self.buffer_size = buffer_size

    def add(self, experience):
        if len(self.buffer) + len(experience) >= self.buffer_size:
            self.buffer[0:(len(experience) + len(self.buffer)) - self.buffer_size] = []
        self.buffer.extend(experience)

    def sample(self, size):
        return np.reshape(np.array(random.sample(self.buffer, size), dtype=object), [size, 5])


def updateTargetGraph(tfVars, tau):
    total_vars = len(tfVars)
    op_holder = []
    for idx, var in enumerate(tfVars[0:total_vars // 2]):
        op_holder.append(tfVars[idx + total_vars // 2].assign(
            (var.value() * tau) + ((1 - tau) * tfVars[idx + total_vars // 2].value())))
    return op_holder


def updateTarget(op_holder, sess):
    for op in op_holder:
        sess.run(op)


@pytest.mark.slow
def test_double_dueling_dqn_trains_and_checkpoints(tmp_path):
    tf.set_random_seed(3)
    random.seed(3)
    np.random.seed(3)
    batch_size = 32
    update_freq = 4
    y = .99
    startE, endE = 1.0, 0.1
    annealing_steps = 600.
    num_episodes = 30
    pre_train_steps = 300
    max_epLength = 50
    h_size = 512
    tau = 0.001
    path = str(tmp_path / "dqn")

    mainQN = Qnetwork(h_size)
    targetQN = Qnetwork(h_size)
    init = tf.global_variables_initializer()
    saver = tf.train.Saver()
    trainables = tf.trainable_variables()
    targetOps = updateTargetGraph(trainables, tau)
    myBuffer = experience_buffer()
    env = TinyGridWorld(seed=3)

    e = startE
    stepDrop = (startE - endE) / annealing_steps
    rList, losses = [], []
    total_steps = 0
    os.makedirs(path)
    with tf.Session() as sess:
        sess.run(init)
        # The soft update moves each target variable tau of the way to its main twin.
        main0, target0 = sess.run([trainables[0], trainables[len(trainables) // 2]])
        updateTarget(targetOps, sess)
        target1 = sess.run(trainables[len(trainables) // 2])
        np.testing.assert_allclose(target1, tau * main0 + (1 - tau) * target0, rtol=1e-5,
                                   atol=1e-6)
        for i in range(num_episodes):
            episodeBuffer = experience_buffer()
            s = env.reset()
            rAll = 0
            for j in range(max_epLength):
                if np.random.rand(1) < e or total_steps < pre_train_steps:
                    a = np.random.randint(0, 4)
                else:
                    a = sess.run(mainQN.predict, feed_dict={mainQN.scalarInput: [s]})[0]
                s1, r, d = env.step(a)
                total_steps += 1
                episodeBuffer.add(np.reshape(np.array([s, a, r, s1, d], dtype=object), [1, 5]))
                if total_steps > pre_train_steps:
                    if e > endE:
                        e -= stepDrop
                    if total_steps % (update_freq) == 0:
                        trainBatch = myBuffer.sample(batch_size)
                        Q1 = sess.run(mainQN.predict, feed_dict={
                            mainQN.scalarInput: np.vstack(trainBatch[:, 3])})
                        Q2 = sess.run(targetQN.Qout, feed_dict={
                            targetQN.scalarInput: np.vstack(trainBatch[:, 3])})
                        end_multiplier = -(trainBatch[:, 4] - 1)
                        doubleQ = Q2[range(batch_size), Q1]
                        targetQ = trainBatch[:, 2] + (y * doubleQ * end_multiplier)
                        _, l = sess.run([mainQN.updateModel, mainQN.loss], feed_dict={
                            mainQN.scalarInput: np.vstack(trainBatch[:, 0]),
                            mainQN.targetQ: targetQ.astype(np.float32),
                            mainQN.actions: trainBatch[:, 1].astype(np.int32)})
                        losses.append(l)
                        updateTarget(targetOps, sess)
                rAll += r
                s = s1
            myBuffer.add(episodeBuffer.buffer)
            rList.append(rAll)
            if i % 10 == 0 and i > 0:
                saver.save(sess, path + '/model-' + str(i) + '.cptk')
        probe = np.vstack([env.reset() for _ in range(4)])
        q_before = sess.run(mainQN.Qout, feed_dict={mainQN.scalarInput: probe})
        saver.save(sess, path + '/model-' + str(num_episodes) + '.cptk')

    assert len(losses) > 50
    assert np.all(np.isfinite(losses))
    # A TD regression on a fixed target network drives its loss down from the first updates.
    assert np.mean(losses[-20:]) < np.mean(losses[:20]), (losses[:20], losses[-20:])

    with tf.Session() as sess:
        ckpt = tf.train.get_checkpoint_state(path)
        assert ckpt.model_checkpoint_path.endswith('model-%d.cptk' % num_episodes)
        saver.restore(sess, ckpt.model_checkpoint_path)
        q_after = sess.run(mainQN.Qout, feed_dict={mainQN.scalarInput: probe})
    np.testing.assert_array_equal(q_before, q_after)
