"""The networks of the RL agents: the book's policy MLP (ch. 8.2, `agents.pg`), the MLP and
the book's conv Q-networks with optional dueling heads (ch. 8, `agents.dqn`) and PPO's
actor-critic (`agents.ppo`).

Each builder makes its variables in the caller's variable scope under the names the agents'
checkpoints hold (``W1``; ``hidden0/kernel``, ``conv0/kernel``, ``value/kernel``;
``pi/fc0/kernel``, ``logits/kernel``, ``value_head/kernel``), so an agent composes a builder
without changing its graph, its checkpoints or its random numbers.
"""
from __future__ import annotations

import numpy as np

import actorflow as tf

from .registry import register_model

__all__ = ["policy_mlp", "q_network", "dueling_combine", "uses_conv", "actor_critic"]


@register_model("pg_policy_mlp", input_shape=(4,), num_classes=2, dataset="CartPole-v1")
def policy_mlp(observations, is_training: bool = True, hidden: int = 50) -> dict:
    """The book's policy network: d → `hidden` ReLU (no biases) → 1 sigmoid, Xavier weights
    ``W1`` [d, hidden] and ``W2`` [hidden, 1] (made by `get_variable`).

    Args:
        observations: float [batch, d].
        is_training: unused (no dropout or batch norm); every builder takes it.
        hidden: hidden units (the book's 50).

    Returns:
        A dict: ``probability`` [batch], P(action 1) (the op is named "probability").

    Raises:
        ValueError: `observations` is not [batch, d] with a static d.
    """
    del is_training  # same graph in both modes
    shape = observations.get_shape().as_list()
    if len(shape) != 2 or shape[1] is None:
        raise ValueError(f"policy_mlp: observations must be [batch, d] with a static d, "
                         f"got {shape}")
    w1 = tf.get_variable("W1", shape=[shape[1], hidden],
                         initializer=tf.contrib.layers.xavier_initializer())
    layer1 = tf.nn.relu(tf.matmul(observations, w1))
    w2 = tf.get_variable("W2", shape=[hidden, 1],
                         initializer=tf.contrib.layers.xavier_initializer())
    return {"probability": tf.reshape(tf.nn.sigmoid(tf.matmul(layer1, w2)), [-1],
                                      name="probability")}


def dueling_combine(value, advantages):
    """Q = V + (A - mean_a A): value [B, 1], advantages [B, A] -> q_values [B, A]."""
    return value + (advantages - tf.reduce_mean(advantages, axis=1, keepdims=True))


def uses_conv(obs_shape, network: str) -> bool:
    """Whether `q_network` builds the conv body for one observation's shape `obs_shape`:
    always for ``network="conv"``, for ``"auto"`` when the observations are [H, W, C].

    Raises:
        ValueError: ``network="conv"`` on observations that are not [H, W, C] with H, W
            >= 36 (the three strided convs need that much), or an unknown `network`.
    """
    if network not in ("auto", "mlp", "conv"):
        raise ValueError(f"q_network: network must be 'auto', 'mlp' or 'conv', got "
                         f"{network!r}")
    if network == "conv":
        if len(obs_shape) != 3 or obs_shape[0] < 36 or obs_shape[1] < 36:
            raise ValueError(f"DQN conv network needs [H, W, C] observations with H, W >= 36, "
                             f"got {obs_shape}")
        return True
    return network == "auto" and len(obs_shape) == 3


@register_model("dqn_mlp_q_network", input_shape=(4,), num_classes=2, dataset="CartPole-v1",
                network="mlp")
@register_model("dqn_conv_q_network", input_shape=(84, 84, 3), num_classes=4,
                dataset="actorflow/GridWorld-v0", network="conv", dueling=True)
def q_network(observations, num_actions: int, is_training: bool = True, network: str = "auto",
              hidden: tuple[int, ...] = (256, 256), dueling: bool = False) -> dict:
    """Q-values of `observations`, built in the current variable scope.

    - mlp: `hidden` ReLU layers ``hidden<i>`` on the flattened observations (cast to float).
    - conv (the book): uint8 images scaled by 1/255, then VALID convs without biases
      8×8/4 32, 4×4/2 64, 3×3/1 64 (``conv0``-``conv2``) and a last one ``conv3`` of 512
      filters covering what remains (7×7 on 84×84 inputs) → [B, 512].

    Heads: one linear layer ``q``, or dueling: ``value`` [B, 1] and ``advantage`` [B, A]
    combined by `dueling_combine`; the conv body gives the first half of its features to
    the value and the second half to the advantages, as the book does, the mlp all of them
    to both. The conv heads have no biases (the book's), the mlp heads do.

    Args:
        observations: [B, *obs_shape] observations with a static shape.
        num_actions: A, the number of discrete actions.
        is_training: unused (no dropout or batch norm); every builder takes it.
        network: "mlp", "conv" or "auto" (conv for [H, W, C] observations, else mlp).
        hidden: the mlp body's layer sizes.
        dueling: dueling heads instead of one linear head.

    Returns:
        A dict: ``q_values`` [B, num_actions].

    Raises:
        ValueError: see `uses_conv`.
    """
    del is_training  # same graph in both modes
    obs_shape = observations.shape.as_list()[1:]
    if uses_conv(obs_shape, network):
        x = tf.cast(observations, tf.float32) * (1.0 / 255.0)
        for i, (filters, kernel, stride) in enumerate(((32, 8, 4), (64, 4, 2), (64, 3, 1))):
            x = tf.layers.conv2d(x, filters, kernel, stride, "valid", activation=tf.nn.relu,
                                 use_bias=False, name=f"conv{i}")
        height, width = x.shape.as_list()[1:3]
        x = tf.layers.conv2d(x, 512, (height, width), 1, "valid", activation=tf.nn.relu,
                             use_bias=False, name="conv3")
        features = tf.reshape(x, [-1, 512])
        if not dueling:
            return {"q_values": tf.layers.dense(features, num_actions, use_bias=False,
                                                name="q")}
        value_in, adv_in = tf.split(features, 2, axis=1)
        value = tf.layers.dense(value_in, 1, use_bias=False, name="value")
        advantages = tf.layers.dense(adv_in, num_actions, use_bias=False, name="advantage")
        return {"q_values": dueling_combine(value, advantages)}
    x = tf.cast(observations, tf.float32) if observations.dtype != tf.float32 else observations
    x = tf.reshape(x, [-1, int(np.prod(obs_shape))])
    for i, units in enumerate(hidden):
        x = tf.layers.dense(x, units, activation=tf.nn.relu, name=f"hidden{i}")
    if not dueling:
        return {"q_values": tf.layers.dense(x, num_actions, name="q")}
    value = tf.layers.dense(x, 1, name="value")
    advantages = tf.layers.dense(x, num_actions, name="advantage")
    return {"q_values": dueling_combine(value, advantages)}


def _tanh_mlp(x, hidden: tuple[int, ...], scope: str):
    """tanh MLP with orthogonal(sqrt 2) weights and zero biases."""
    with tf.variable_scope(scope):
        for i, units in enumerate(hidden):
            x = tf.layers.dense(x, units, activation=tf.tanh, name=f"fc{i}",
                                kernel_initializer=tf.orthogonal_initializer(np.sqrt(2.0)))
    return x


@register_model("ppo_actor_critic", input_shape=(4,), num_classes=2, dataset="CartPole-v1")
def actor_critic(observations, num_actions: int, hidden: tuple[int, ...] = (64, 64),
                 shared: bool = False, is_training: bool = True) -> dict:
    """PPO's actor-critic on float observations [B, d]: two tanh MLPs ``pi`` and ``vf`` (or
    one shared ``trunk``) with orthogonal(sqrt 2) weights, then the heads ``logits``
    (orthogonal, gain 0.01: a near-uniform policy at the start) and ``value_head`` (gain 1).

    Args:
        observations: float [B, d].
        num_actions: the number of discrete actions.
        hidden: the MLP layer sizes.
        shared: one trunk for both heads instead of two MLPs.
        is_training: unused (no dropout or batch norm); every builder takes it. It comes
            last so that the agents' positional calls keep working.

    Returns:
        A dict, in the order an agent uses them: ``logits`` [B, num_actions] (op
        "logits_out"), which rollouts sample actions from, and ``value`` [B] (op
        "value_out"), which rollouts record and `ppo_loss` trains.
    """
    del is_training  # same graph in both modes
    if shared:
        pi_features = vf_features = _tanh_mlp(observations, hidden, "trunk")
    else:
        pi_features = _tanh_mlp(observations, hidden, "pi")
        vf_features = _tanh_mlp(observations, hidden, "vf")
    logits = tf.layers.dense(pi_features, num_actions, name="logits",
                             kernel_initializer=tf.orthogonal_initializer(0.01))
    value = tf.layers.dense(vf_features, 1, name="value_head",
                            kernel_initializer=tf.orthogonal_initializer(1.0))
    return {"logits": tf.identity(logits, name="logits_out"),
            "value": tf.reshape(value, [-1], name="value_out")}
