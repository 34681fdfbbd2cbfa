"""The RL networks of actorflow.models.rl: each builds by its registry name with the variable
names the agents' checkpoints hold, has the parameter count its layers imply, and runs one
forward-backward step at a small batch with finite outputs of the right shapes; the agents
build exactly these networks."""
import numpy as np
import pytest

import actorflow as tf
from actorflow.models import get_model, rl

from ._steps import parameter_count, sgd_step


def shapes() -> dict:
    return {v.op.name: v.get_shape().as_list() for v in tf.trainable_variables()}


def test_policy_mlp_is_the_books_network():
    obs = tf.placeholder(tf.float32, [None, 4], name="input_x")
    out = get_model("pg_policy_mlp")(obs)
    assert shapes() == {"W1": [4, 50], "W2": [50, 1]}
    assert parameter_count() == 4 * 50 + 50 == 250
    assert out["probability"].op.name == "probability"
    loss = -tf.reduce_mean(tf.log(out["probability"]))
    before, after, grads = sgd_step(loss, {obs: np.random.RandomState(0).randn(5, 4)})
    assert 0 < before and after < before
    assert [g.shape for g in grads] == [(4, 50), (50, 1)]


def test_policy_mlp_needs_flat_observations():
    with pytest.raises(ValueError, match="observations"):
        rl.policy_mlp(tf.placeholder(tf.float32, [None, 2, 2]))


@pytest.mark.parametrize("dueling, heads, count", [
    (False, {"q/kernel": [64, 2], "q/bias": [2]}, 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2),
    (True, {"value/kernel": [64, 1], "value/bias": [1], "advantage/kernel": [64, 2],
            "advantage/bias": [2]}, 4 * 64 + 64 + 64 * 64 + 64 + 65 + 64 * 2 + 2)])
def test_mlp_q_network(dueling, heads, count):
    obs = tf.placeholder(tf.float32, [None, 4])
    with tf.variable_scope("online"):
        q = get_model("dqn_mlp_q_network")(obs, 2, hidden=(64, 64), dueling=dueling)["q_values"]
    expected = {"hidden0/kernel": [4, 64], "hidden0/bias": [64], "hidden1/kernel": [64, 64],
                "hidden1/bias": [64], **heads}
    assert shapes() == {f"online/{k}": v for k, v in expected.items()}
    assert parameter_count() == count
    loss = tf.reduce_mean(tf.square(q))
    before, after, grads = sgd_step(loss, {obs: np.random.RandomState(1).randn(3, 4)})
    assert np.isfinite(before) and np.isfinite(after) and len(grads) == len(expected)
    assert all(np.isfinite(g).all() for g in grads)


def test_dueling_heads_average_to_the_value():
    value = tf.constant([[1.0], [2.0]])
    advantages = tf.constant([[1.0, 3.0], [0.0, 0.0]])
    with tf.Session() as sess:
        q = sess.run(rl.dueling_combine(value, advantages))
    np.testing.assert_allclose(q, [[0.0, 2.0], [2.0, 2.0]])


def test_the_books_conv_q_network_on_84x84_images():
    obs = tf.placeholder(tf.uint8, [None, 84, 84, 3])
    q = get_model("dqn_conv_q_network")(obs, 4)["q_values"]
    # VALID convs without biases: 84 -> 20 -> 9 -> 7 -> 1; the dueling heads take 256 each
    assert shapes() == {"conv0/kernel": [8, 8, 3, 32], "conv1/kernel": [4, 4, 32, 64],
                        "conv2/kernel": [3, 3, 64, 64], "conv3/kernel": [7, 7, 64, 512],
                        "value/kernel": [256, 1], "advantage/kernel": [256, 4]}
    assert parameter_count() == (8 * 8 * 3 * 32 + 4 * 4 * 32 * 64 + 3 * 3 * 64 * 64
                                 + 7 * 7 * 64 * 512 + 256 + 256 * 4) == 1_682_688
    assert q.get_shape().as_list() == [None, 4]


@pytest.mark.parametrize("dueling", [False, True])
def test_conv_q_network_forward_backward_at_the_smallest_size(dueling):
    obs = tf.placeholder(tf.uint8, [None, 36, 36, 3])
    q = rl.q_network(obs, 3, network="conv", dueling=dueling)["q_values"]
    # 36 -> 8 -> 3 -> 1; the last conv is 1x1
    assert tf.trainable_variables()[3].get_shape().as_list() == [1, 1, 64, 512]
    images = np.random.RandomState(2).randint(256, size=(2, 36, 36, 3))
    before, after, grads = sgd_step(tf.reduce_mean(tf.square(q - 1.0)), {obs: images})
    assert np.isfinite(before) and np.isfinite(after)
    assert all(np.isfinite(g).all() for g in grads)


def test_q_network_picks_its_body_and_rejects_small_images():
    assert rl.uses_conv([84, 84, 3], "auto") and not rl.uses_conv([4], "auto")
    assert not rl.uses_conv([84, 84, 3], "mlp")
    with pytest.raises(ValueError, match=r"H, W >= 36"):
        rl.uses_conv([20, 20, 3], "conv")
    with pytest.raises(ValueError, match="network"):
        rl.uses_conv([4], "cnn")


@pytest.mark.parametrize("shared", [False, True])
def test_actor_critic(shared):
    obs = tf.placeholder(tf.float32, [None, 4])
    out = get_model("ppo_actor_critic")(obs, 2, shared=shared)
    trunks = ["trunk"] if shared else ["pi", "vf"]
    expected = {}
    for t in trunks:
        expected.update({f"{t}/fc0/kernel": [4, 64], f"{t}/fc0/bias": [64],
                         f"{t}/fc1/kernel": [64, 64], f"{t}/fc1/bias": [64]})
    expected.update({"logits/kernel": [64, 2], "logits/bias": [2],
                     "value_head/kernel": [64, 1], "value_head/bias": [1]})
    assert shapes() == expected
    assert parameter_count() == len(trunks) * (4 * 64 + 64 + 64 * 64 + 64) + 130 + 65
    assert out["logits"].op.name == "logits_out" and out["value"].op.name == "value_out"
    loss = tf.reduce_mean(tf.square(out["value"])) - tf.reduce_mean(out["logits"][:, 0])
    before, after, grads = sgd_step(loss, {obs: np.random.RandomState(3).randn(6, 4)})
    assert np.isfinite(before) and after < before
    assert all(np.isfinite(g).all() for g in grads)


def test_the_agents_build_these_networks():
    from actorflow.agents import dqn, ppo
    assert ppo.build_actor_critic is rl.actor_critic
    assert dqn.dueling_combine is rl.dueling_combine
    obs = tf.placeholder(tf.uint8, [None, 84, 84, 3])
    config = dqn.DQNConfig.book()
    with tf.variable_scope("agent"):
        dqn.q_network(obs, 4, config)
    with tf.variable_scope("model"):
        rl.q_network(obs, 4, network="conv", dueling=True)
    agent = {k[len("agent/"):]: v for k, v in shapes().items() if k.startswith("agent/")}
    model = {k[len("model/"):]: v for k, v in shapes().items() if k.startswith("model/")}
    assert agent == model and len(agent) == 6
