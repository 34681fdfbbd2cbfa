"""The book's programs as graph code for any TF 1.x-style module (actorflow or TensorFlow).

Each builder takes the engine module `tf` (``actorflow``, or ``tensorflow.compat.v1`` after
``disable_v2_behavior()``) and a config dict, builds its graph into the default graph and
returns a `Program`: what one step runs and how many items (images, calls, ops, solves) a
step counts. The graph code is the same, byte for byte, on both engines; this module imports
only NumPy, so the TensorFlow interpreter can import it without actorflow.

Data are made with NumPy at fixed seeds (no downloads): MNIST-shaped batches are sparse
uniform pixels with labels from a fixed random linear map (learnable, so losses stay finite),
CIFAR-shaped batches are standard-normal 24x24x3 crops with random labels.

Programs (`PROGRAMS`, name -> builder):
    softmax        ch. 3 softmax regression, SGD 0.5, batch 100 (img/s)
    mlp            4.4 MLP 784-300-10, dropout keep 0.75, Adagrad 0.3, batch 100 (img/s)
    cnn_b50/b256   5.2 CNN train step (conv5x5x32, pool, conv5x5x64, pool, fc1024, dropout,
                   fc10, Adam 1e-4) at batch 50 / 256 (img/s)
    cifar          5.3 CIFAR-10 CNN train step, batch 128, Adam 1e-3 (img/s)
    alexnet_fwd    ch. 6 AlexNet conv part forward, batch 32, random-normal image Variable
    alexnet_fwdbwd ... forward-backward: gradients of l2_loss(pool5) w.r.t. the parameters
    vgg_fwd        ch. 6 VGG-16 forward (predictions, keep_prob 1), batch 32
    vgg_fwdbwd     ... forward-backward: gradients of l2_loss(fc8), keep_prob 0.5
    policy         ch. 8 policy network (4-50-1) trained on CartPole until a batch of 25
                   episodes averages > 200: one step is one whole solve from the same initial
                   weights and seeds (solves/s = 1 / wall-clock to solve)
    dispatch       2,000 elementwise ops on float32[16] (ops/s; 1e6 / rate = us per op)
    tiny_mlp       4-64-2 MLP inference at batch 1, one session.run per call (calls/s)

Config keys (all optional): ``batch`` (overrides the program's batch), ``image_size`` (ch. 6
nets, default 224), ``fc_units`` (VGG's fc6/fc7, 4096), ``max_episodes`` (policy cap, default
3000), ``ops`` (dispatch, 2000). The defaults are the book's; the others make tiny test runs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

N_FEED_BATCHES = 4  # distinct batches rotated step by step (data vary, cost stays flat)


@dataclass
class Program:
    """What one step of a book program runs.

    Attributes:
        unit: the rate's unit (items per second, higher is better).
        items_per_step: items one step counts (images, calls, ops, solves).
        fetches: what ``session.run`` fetches each step (None for a custom `runner`).
        feeds: feed dicts used in turn, one per step.
        runner: for programs that are not one ``session.run`` (the policy network):
            ``runner(session) -> step``, where ``step()`` returns an info dict.
        init: the op that (re)initialises the variables.
    """

    unit: str
    items_per_step: float
    init: Any
    fetches: Any = None
    feeds: list = field(default_factory=lambda: [None])
    runner: Callable[[Any], Callable[[], dict]] | None = None

    def make_step(self, sess, options=None, run_metadata=None) -> Callable[[], dict | None]:
        """A no-argument callable running one step on `sess` (optionally traced).

        Raises:
            ValueError: tracing was asked of a program that is not one ``session.run``.
        """
        if self.runner is not None:
            if options is not None:
                raise ValueError("this program runs many session.run calls per step; "
                                 "it cannot be traced as one step")
            return self.runner(sess)
        feeds, fetches, run = self.feeds, self.fetches, sess.run
        counter = [0]
        if options is not None:
            def traced():
                run(fetches, feeds[0], options=options, run_metadata=run_metadata)
            return traced

        def step():
            i = counter[0]
            counter[0] = i + 1
            run(fetches, feeds[i % len(feeds)])
        return step


# -- data ------------------------------------------------------------------------------------
def mnist_like(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` MNIST-shaped images [n, 784] (about 19% non-zero pixels) and one-hot labels."""
    r = np.random.default_rng(seed)
    x = (r.random((n, 784), dtype=np.float32) * (r.random((n, 784)) < 0.19)).astype(np.float32)
    proj = np.random.default_rng(12345).standard_normal((784, 10)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[np.argmax(x @ proj, axis=1)]
    return x, y


def _mnist_feeds(x_ph, y_ph, batch: int, extra: dict | None = None) -> list[dict]:
    feeds = []
    for i in range(N_FEED_BATCHES):
        x, y = mnist_like(batch, seed=i)
        feeds.append({x_ph: x, y_ph: y, **(extra or {})})
    return feeds


def _cross_entropy(tf, y_, y):
    """The book's cross-entropy of ch. 3-5: mean over the batch of -sum(y_ * log(y))."""
    return tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))


# -- ch. 3-5 ---------------------------------------------------------------------------------
def softmax_regression(tf, cfg: dict) -> Program:
    """Ch. 3: y = softmax(xW + b), W and b zero, SGD 0.5, batch 100."""
    batch = cfg.get("batch", 100)
    x = tf.placeholder(tf.float32, [None, 784])
    w = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.nn.softmax(tf.matmul(x, w) + b)
    y_ = tf.placeholder(tf.float32, [None, 10])
    train = tf.train.GradientDescentOptimizer(0.5).minimize(_cross_entropy(tf, y_, y))
    return Program("img/s", batch, tf.global_variables_initializer(), train,
                   _mnist_feeds(x, y_, batch))


def mlp(tf, cfg: dict) -> Program:
    """4.4: 784-300 ReLU, dropout (keep 0.75), 10 softmax; Adagrad 0.3, batch 100."""
    batch = cfg.get("batch", 100)
    x = tf.placeholder(tf.float32, [None, 784])
    keep_prob = tf.placeholder(tf.float32)
    w1 = tf.Variable(tf.truncated_normal([784, 300], stddev=0.1))
    b1 = tf.Variable(tf.zeros([300]))
    w2 = tf.Variable(tf.zeros([300, 10]))
    b2 = tf.Variable(tf.zeros([10]))
    hidden = tf.nn.dropout(tf.nn.relu(tf.matmul(x, w1) + b1), keep_prob)
    y = tf.nn.softmax(tf.matmul(hidden, w2) + b2)
    y_ = tf.placeholder(tf.float32, [None, 10])
    train = tf.train.AdagradOptimizer(0.3).minimize(_cross_entropy(tf, y_, y))
    return Program("img/s", batch, tf.global_variables_initializer(), train,
                   _mnist_feeds(x, y_, batch, {keep_prob: 0.75}))


def _weight(tf, shape, stddev=0.1):
    return tf.Variable(tf.truncated_normal(shape, stddev=stddev))


def _bias(tf, shape, value=0.1):
    return tf.Variable(tf.constant(value, shape=shape))


def _conv_same(tf, x, w, stride=1):
    return tf.nn.conv2d(x, w, strides=[1, stride, stride, 1], padding="SAME")


def mnist_cnn(tf, cfg: dict, default_batch: int = 50) -> Program:
    """5.2: conv5x5x32, pool, conv5x5x64, pool, fc1024, dropout 0.5, fc10; Adam 1e-4."""
    batch = cfg.get("batch", default_batch)
    x = tf.placeholder(tf.float32, [None, 784])
    y_ = tf.placeholder(tf.float32, [None, 10])
    keep_prob = tf.placeholder(tf.float32)
    x_image = tf.reshape(x, [-1, 28, 28, 1])

    def pool(h):
        return tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

    h_pool1 = pool(tf.nn.relu(_conv_same(tf, x_image, _weight(tf, [5, 5, 1, 32]))
                              + _bias(tf, [32])))
    h_pool2 = pool(tf.nn.relu(_conv_same(tf, h_pool1, _weight(tf, [5, 5, 32, 64]))
                              + _bias(tf, [64])))
    h_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
    h_fc1 = tf.nn.relu(tf.matmul(h_flat, _weight(tf, [7 * 7 * 64, 1024])) + _bias(tf, [1024]))
    h_drop = tf.nn.dropout(h_fc1, keep_prob)
    y = tf.nn.softmax(tf.matmul(h_drop, _weight(tf, [1024, 10])) + _bias(tf, [10]))
    train = tf.train.AdamOptimizer(1e-4).minimize(_cross_entropy(tf, y_, y))
    return Program("img/s", batch, tf.global_variables_initializer(), train,
                   _mnist_feeds(x, y_, batch, {keep_prob: 0.5}))


def cifar_cnn(tf, cfg: dict) -> Program:
    """5.3: conv5x5x64, pool 3/2, LRN; conv5x5x64, LRN, pool; fc384, fc192 (L2 0.004), fc10;
    sparse softmax cross-entropy plus the 'losses' collection; Adam 1e-3, batch 128."""
    batch = cfg.get("batch", 128)
    images = tf.placeholder(tf.float32, [batch, 24, 24, 3])
    labels = tf.placeholder(tf.int32, [batch])

    def weight_with_loss(shape, stddev, wd):
        var = tf.Variable(tf.truncated_normal(shape, stddev=stddev))
        if wd is not None:
            tf.add_to_collection("losses", tf.multiply(tf.nn.l2_loss(var), wd))
        return var

    def lrn(h):
        return tf.nn.lrn(h, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)

    def pool(h):
        return tf.nn.max_pool(h, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME")

    w1 = weight_with_loss([5, 5, 3, 64], 5e-2, 0.0)
    conv1 = tf.nn.relu(tf.nn.bias_add(_conv_same(tf, images, w1), _bias(tf, [64], 0.0)))
    norm1 = lrn(pool(conv1))
    w2 = weight_with_loss([5, 5, 64, 64], 5e-2, 0.0)
    conv2 = tf.nn.relu(tf.nn.bias_add(_conv_same(tf, norm1, w2), _bias(tf, [64], 0.1)))
    pool2 = pool(lrn(conv2))
    reshape = tf.reshape(pool2, [batch, -1])
    dim = 6 * 6 * 64
    local3 = tf.nn.relu(tf.matmul(reshape, weight_with_loss([dim, 384], 0.04, 0.004))
                        + _bias(tf, [384]))
    local4 = tf.nn.relu(tf.matmul(local3, weight_with_loss([384, 192], 0.04, 0.004))
                        + _bias(tf, [192]))
    logits = tf.add(tf.matmul(local4, weight_with_loss([192, 10], 1 / 192.0, None)),
                    _bias(tf, [10], 0.0))
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits, labels=labels)
    tf.add_to_collection("losses", tf.reduce_mean(xent))
    loss = tf.add_n(tf.get_collection("losses"))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    feeds = []
    for i in range(N_FEED_BATCHES):
        r = np.random.default_rng(100 + i)
        feeds.append({images: r.standard_normal((batch, 24, 24, 3), dtype=np.float32),
                      labels: r.integers(0, 10, batch).astype(np.int32)})
    return Program("img/s", batch, tf.global_variables_initializer(), train, feeds)


# -- ch. 6 -----------------------------------------------------------------------------------
def _image_variable(tf, cfg: dict):
    batch, size = cfg.get("batch", 32), cfg.get("image_size", 224)
    return batch, tf.Variable(tf.random_normal([batch, size, size, 3], dtype=tf.float32,
                                               stddev=1e-1))


def _alexnet(tf, images):
    """The book's AlexNet conv part; returns (pool5, parameters)."""
    params = []

    def conv_relu(x, k, cin, cout, stride):
        kernel = tf.Variable(tf.truncated_normal([k, k, cin, cout], dtype=tf.float32,
                                                 stddev=1e-1))
        biases = tf.Variable(tf.constant(0.0, shape=[cout], dtype=tf.float32))
        params.extend([kernel, biases])
        return tf.nn.relu(tf.nn.bias_add(_conv_same(tf, x, kernel, stride), biases))

    def lrn(x):
        return tf.nn.lrn(x, 4, bias=1.0, alpha=0.001 / 9, beta=0.75)

    def pool(x):
        return tf.nn.max_pool(x, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="VALID")

    net = pool(lrn(conv_relu(images, 11, 3, 64, 4)))
    net = pool(lrn(conv_relu(net, 5, 64, 192, 1)))
    net = conv_relu(net, 3, 192, 384, 1)
    net = conv_relu(net, 3, 384, 256, 1)
    net = pool(conv_relu(net, 3, 256, 256, 1))
    return net, params


def alexnet_forward(tf, cfg: dict) -> Program:
    """Ch. 6 AlexNet forward at batch 32: fetch pool5."""
    batch, images = _image_variable(tf, cfg)
    pool5, _ = _alexnet(tf, images)
    return Program("img/s", batch, tf.global_variables_initializer(), pool5)


def alexnet_forward_backward(tf, cfg: dict) -> Program:
    """Ch. 6 AlexNet forward-backward: fetch gradients(l2_loss(pool5), parameters)."""
    batch, images = _image_variable(tf, cfg)
    pool5, params = _alexnet(tf, images)
    grads = tf.gradients(tf.nn.l2_loss(pool5), params)
    return Program("img/s", batch, tf.global_variables_initializer(), grads)


def _vgg16(tf, images, keep_prob, fc_units: int):
    """The book's VGG-16 (D), fc6/fc7 `fc_units` wide (4096); returns (predictions, fc8,
    parameters)."""
    params = []
    init = tf.glorot_uniform_initializer()

    def conv(x, name, cin, cout):
        kernel = tf.get_variable(name + "_w", [3, 3, cin, cout], tf.float32, initializer=init)
        biases = tf.Variable(tf.constant(0.0, shape=[cout], dtype=tf.float32))
        params.extend([kernel, biases])
        return tf.nn.relu(tf.nn.bias_add(_conv_same(tf, x, kernel), biases))

    def fc(x, name, n_in, n_out, relu=True):
        kernel = tf.get_variable(name + "_w", [n_in, n_out], tf.float32, initializer=init)
        biases = tf.Variable(tf.constant(0.1, shape=[n_out], dtype=tf.float32))
        params.extend([kernel, biases])
        out = tf.matmul(x, kernel) + biases
        return tf.nn.relu(out) if relu else out

    net, cin = images, 3
    for block, (reps, cout) in enumerate([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]):
        for i in range(reps):
            net, cin = conv(net, f"conv{block + 1}_{i + 1}", cin, cout), cout
        net = tf.nn.max_pool(net, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    side = int(net.get_shape()[1])
    flat = tf.reshape(net, [-1, side * side * 512])
    fc6 = tf.nn.dropout(fc(flat, "fc6", side * side * 512, fc_units), keep_prob)
    fc7 = tf.nn.dropout(fc(fc6, "fc7", fc_units, fc_units), keep_prob)
    fc8 = fc(fc7, "fc8", fc_units, 1000, relu=False)
    predictions = tf.argmax(tf.nn.softmax(fc8), 1)
    return predictions, fc8, params


def vgg_forward(tf, cfg: dict) -> Program:
    """Ch. 6 VGG-16 forward at batch 32: fetch the predictions, keep_prob 1."""
    batch, images = _image_variable(tf, cfg)
    keep_prob = tf.placeholder(tf.float32)
    predictions, _, _ = _vgg16(tf, images, keep_prob, cfg.get("fc_units", 4096))
    return Program("img/s", batch, tf.global_variables_initializer(), predictions,
                   [{keep_prob: 1.0}])


def vgg_forward_backward(tf, cfg: dict) -> Program:
    """Ch. 6 VGG-16 forward-backward: gradients(l2_loss(fc8), parameters), keep_prob 0.5."""
    batch, images = _image_variable(tf, cfg)
    keep_prob = tf.placeholder(tf.float32)
    _, fc8, params = _vgg16(tf, images, keep_prob, cfg.get("fc_units", 4096))
    grads = tf.gradients(tf.nn.l2_loss(fc8), params)
    return Program("img/s", batch, tf.global_variables_initializer(), grads,
                   [{keep_prob: 0.5}])


# -- ch. 8 -----------------------------------------------------------------------------------
class CartPole:
    """Classic CartPole dynamics (Barto, Sutton and Anderson; Gym's constants) in scalar
    Python, so the TensorFlow interpreter needs no Gym. actorflow.envs.cartpole is the
    vectorised twin, not importable there. Episodes end past |x| 2.4 or |theta| 12 degrees,
    or after `max_steps` (500) steps; every step earns 1."""

    GRAVITY, MASSCART, MASSPOLE, LENGTH, FORCE, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02

    def __init__(self, rng: np.random.Generator, max_steps: int = 500) -> None:
        self.rng, self.max_steps = rng, max_steps
        self.state = (0.0, 0.0, 0.0, 0.0)
        self.t = 0

    def reset(self) -> np.ndarray:
        self.state = tuple(float(v) for v in self.rng.uniform(-0.05, 0.05, 4))
        self.t = 0
        return np.array([self.state], np.float32)

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        x, x_dot, theta, theta_dot = self.state
        total, pml = self.MASSCART + self.MASSPOLE, self.MASSPOLE * self.LENGTH
        force = self.FORCE if action == 1 else -self.FORCE
        cos, sin = math.cos(theta), math.sin(theta)
        temp = (force + pml * theta_dot ** 2 * sin) / total
        theta_acc = (self.GRAVITY * sin - cos * temp) / (
            self.LENGTH * (4.0 / 3.0 - self.MASSPOLE * cos ** 2 / total))
        x_acc = temp - pml * theta_acc * cos / total
        self.state = (x + self.TAU * x_dot, x_dot + self.TAU * x_acc,
                      theta + self.TAU * theta_dot, theta_dot + self.TAU * theta_acc)
        self.t += 1
        done = (abs(self.state[0]) > 2.4 or abs(self.state[2]) > 12 * 2 * math.pi / 360
                or self.t >= self.max_steps)
        return np.array([self.state], np.float32), 1.0, done


def _discounted(rewards: np.ndarray, gamma: float = 0.99) -> np.ndarray:
    out = np.zeros_like(rewards)
    running = 0.0
    for t in reversed(range(rewards.size)):
        running = running * gamma + rewards[t]
        out[t] = running
    return out


def policy_network(tf, cfg: dict) -> Program:
    """Ch. 8 policy network: 4-50 ReLU (no bias)-1 sigmoid, Adam 0.1 every 25 episodes.

    One step is one whole solve: re-initialise (the weights are fixed Glorot-uniform NumPy
    arrays, so both engines start from the same policy), seed the env and the action sampler
    with the same seed, run episodes until a batch of 25 averages > 200 or `max_episodes`.
    The step returns the episodes and env steps it took, so diverging runs are visible.
    """
    max_episodes, batch_episodes = cfg.get("max_episodes", 3000), 25
    r = np.random.default_rng(7)
    w1_init = r.uniform(-1, 1, (4, 50)).astype(np.float32) * np.float32(math.sqrt(6 / 54))
    w2_init = r.uniform(-1, 1, (50, 1)).astype(np.float32) * np.float32(math.sqrt(6 / 51))
    observations = tf.placeholder(tf.float32, [None, 4])
    w1 = tf.Variable(w1_init)
    w2 = tf.Variable(w2_init)
    probability = tf.nn.sigmoid(tf.matmul(tf.nn.relu(tf.matmul(observations, w1)), w2))
    input_y = tf.placeholder(tf.float32, [None, 1])
    advantages = tf.placeholder(tf.float32, [None, 1])
    loglik = tf.log(input_y * (input_y - probability) + (1 - input_y) * (input_y + probability))
    loss = -tf.reduce_mean(loglik * advantages)
    tvars = [w1, w2]
    new_grads = tf.gradients(loss, tvars)
    grad_phs = [tf.placeholder(tf.float32, [4, 50]), tf.placeholder(tf.float32, [50, 1])]
    update = tf.train.AdamOptimizer(learning_rate=0.1).apply_gradients(zip(grad_phs, tvars))
    init = tf.global_variables_initializer()

    def runner(sess):
        def solve() -> dict:
            sess.run(init)
            rng = np.random.default_rng(0)
            env = CartPole(rng)
            buffers = [np.zeros_like(w1_init), np.zeros_like(w2_init)]
            obs, xs, ys, rewards = env.reset(), [], [], []
            reward_sum, episodes, env_steps = 0.0, 0, 0
            while episodes < max_episodes:
                p = sess.run(probability, {observations: obs})
                action = 1 if rng.uniform() < p[0, 0] else 0
                xs.append(obs)
                ys.append(1.0 - action)
                obs, reward, done = env.step(action)
                rewards.append(reward)
                reward_sum += reward
                env_steps += 1
                if not done:
                    continue
                episodes += 1
                adv = _discounted(np.array(rewards, np.float32))
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                grads = sess.run(new_grads, {observations: np.vstack(xs),
                                             input_y: np.array(ys, np.float32)[:, None],
                                             advantages: adv[:, None]})
                for buf, g in zip(buffers, grads):
                    buf += g
                xs, ys, rewards, obs = [], [], [], env.reset()
                if episodes % batch_episodes == 0:
                    sess.run(update, dict(zip(grad_phs, buffers)))
                    for buf in buffers:
                        buf[...] = 0
                    if reward_sum / batch_episodes > 200:
                        return {"solved": True, "episodes": episodes, "env_steps": env_steps}
                    reward_sum = 0.0
            return {"solved": False, "episodes": episodes, "env_steps": env_steps}
        return solve

    return Program("solves/s", 1, init, runner=runner)


# -- overhead-bound programs -----------------------------------------------------------------
DISPATCH_STEPS = [("add", 0.25), ("multiply", 0.5), ("subtract", 0.125), ("maximum", -1.0),
                  ("minimum", 4.0)]  # as benchmarks/dispatch.py: values stay bounded


def dispatch_chain(tf, cfg: dict) -> Program:
    """2,000 small elementwise ops on float32[16], one session.run per step (ops/s)."""
    n_ops = cfg.get("ops", 2000)
    x = tf.placeholder(tf.float32, [16])
    y = x
    for i in range(n_ops):
        name, const = DISPATCH_STEPS[i % len(DISPATCH_STEPS)]
        y = getattr(tf, name)(y, const)
    value = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    return Program("ops/s", n_ops, tf.global_variables_initializer(), y, [{x: value}])


def tiny_mlp(tf, cfg: dict) -> Program:
    """A rollout actor's forward pass: 4-64 ReLU-2 softmax at batch 1 (calls/s)."""
    x = tf.placeholder(tf.float32, [None, 4])
    hidden = tf.nn.relu(tf.matmul(x, _weight(tf, [4, 64])) + _bias(tf, [64]))
    probs = tf.nn.softmax(tf.matmul(hidden, _weight(tf, [64, 2])) + _bias(tf, [2]))
    obs = np.random.default_rng(0).standard_normal((N_FEED_BATCHES, 1, 4)).astype(np.float32)
    return Program("calls/s", 1, tf.global_variables_initializer(), probs,
                   [{x: o} for o in obs])


PROGRAMS: dict[str, Callable[[Any, dict], Program]] = {
    "softmax": softmax_regression,
    "mlp": mlp,
    "cnn_b50": lambda tf, cfg: mnist_cnn(tf, cfg, 50),
    "cnn_b256": lambda tf, cfg: mnist_cnn(tf, cfg, 256),
    "cifar": cifar_cnn,
    "alexnet_fwd": alexnet_forward,
    "alexnet_fwdbwd": alexnet_forward_backward,
    "vgg_fwd": vgg_forward,
    "vgg_fwdbwd": vgg_forward_backward,
    "policy": policy_network,
    "dispatch": dispatch_chain,
    "tiny_mlp": tiny_mlp,
}
