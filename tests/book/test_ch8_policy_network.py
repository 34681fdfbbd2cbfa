"""Book ch. 8.2: a policy network for CartPole, REINFORCE with a gradient buffer fed back
through placeholders into `AdamOptimizer.apply_gradients` every 25 episodes."""
import numpy as np
import pytest

import actorflow as tf

gym = pytest.importorskip("gymnasium")

H = 50
batch_size = 25
learning_rate = 1e-1
D = 4
gamma = 0.99


def discount_rewards(r):
    discounted_r = np.zeros_like(r)
    running_add = 0
    for t in reversed(range(r.size)):
        running_add = running_add * gamma + r[t]
        discounted_r[t] = running_add
    return discounted_r


@pytest.mark.slow
def test_policy_network_solves_cartpole():
    tf.set_random_seed(0)
    np.random.seed(0)
    env = gym.make('CartPole-v1')  # v0 caps episodes at 200; the book's goal is a mean > 200

    observations = tf.placeholder(tf.float32, [None, D], name="input_x")
    W1 = tf.get_variable("W1", shape=[D, H],
                         initializer=tf.contrib.layers.xavier_initializer())
    layer1 = tf.nn.relu(tf.matmul(observations, W1))
    W2 = tf.get_variable("W2", shape=[H, 1],
                         initializer=tf.contrib.layers.xavier_initializer())
    score = tf.matmul(layer1, W2)
    probability = tf.nn.sigmoid(score)

    adam = tf.train.AdamOptimizer(learning_rate=learning_rate)
    W1Grad = tf.placeholder(tf.float32, name="batch_grad1")
    W2Grad = tf.placeholder(tf.float32, name="batch_grad2")
    batchGrad = [W1Grad, W2Grad]
    tvars = tf.trainable_variables()
    updateGrads = adam.apply_gradients(zip(batchGrad, tvars))

    input_y = tf.placeholder(tf.float32, [None, 1], name="input_y")
    advantages = tf.placeholder(tf.float32, name="reward_signal")
    loglik = tf.log(input_y * (input_y - probability) + (1 - input_y) * (input_y + probability))
    loss = -tf.reduce_mean(loglik * advantages)
    newGrads = tf.gradients(loss, tvars)

    xs, ys, drs = [], [], []
    reward_sum = 0
    episode_number = 1
    total_episodes = 1500
    batch_means = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        observation, _ = env.reset(seed=0)
        gradBuffer = sess.run(tvars)
        for ix, grad in enumerate(gradBuffer):
            gradBuffer[ix] = grad * 0

        while episode_number <= total_episodes:
            x = np.reshape(observation, [1, D])
            tfprob = sess.run(probability, feed_dict={observations: x})
            action = 1 if np.random.uniform() < tfprob else 0
            xs.append(x)
            y = 1 - action
            ys.append(y)

            observation, reward, terminated, truncated, _ = env.step(action)
            reward_sum += reward
            drs.append(reward)

            if terminated or truncated:
                episode_number += 1
                epx = np.vstack(xs)
                epy = np.vstack(ys)
                epr = np.vstack(drs)
                xs, ys, drs = [], [], []

                discounted_epr = discount_rewards(epr)
                discounted_epr -= np.mean(discounted_epr)
                discounted_epr /= np.std(discounted_epr) + 1e-8

                tGrad = sess.run(newGrads, feed_dict={observations: epx, input_y: epy,
                                                      advantages: discounted_epr})
                for ix, grad in enumerate(tGrad):
                    gradBuffer[ix] += grad

                if episode_number % batch_size == 0:
                    sess.run(updateGrads, feed_dict={W1Grad: gradBuffer[0],
                                                     W2Grad: gradBuffer[1]})
                    for ix, grad in enumerate(gradBuffer):
                        gradBuffer[ix] = grad * 0
                    batch_means.append(reward_sum / batch_size)
                    print('Average reward for episode %d : %f.' % (episode_number,
                                                                  reward_sum / batch_size))
                    if reward_sum / batch_size > 200:
                        print("Task solved in", episode_number, 'episodes!')
                        break
                    reward_sum = 0
                observation, _ = env.reset()
    env.close()
    assert batch_means and batch_means[-1] > 200, batch_means
    assert batch_means[0] < 60  # it really started from a random policy
