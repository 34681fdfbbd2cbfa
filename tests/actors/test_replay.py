"""ReplayBuffer (ring, uniform, prioritized, n-step, checkpoints) and ShardedReplay actors."""
from __future__ import annotations

import numpy as np
import pytest

from actorflow import errors
from actorflow.actors.columns import (ACTIONS, ENV_IDS, GAMMAS, INDICES, NEXT_OBS, OBS,
                                      REWARDS, TERMINATEDS, TRUNCATEDS, WEIGHTS)
from actorflow.actors._remote import PACK_LIMIT_BYTES, pack, unpack
from actorflow.actors.replay import ReplayBuffer, ShardedReplay


def transitions(start, count, obs_dim=2, terminated=(), truncated=(), rewards=None):
    """Rows start..start+count-1 with obs = t, next_obs = t + 0.5, action = t, reward t."""
    t = np.arange(start, start + count)
    term = np.isin(t, terminated)
    trunc = np.isin(t, truncated)
    return {
        OBS: np.repeat(t[:, None], obs_dim, 1).astype(np.float32),
        ACTIONS: t.astype(np.int64),
        REWARDS: (t if rewards is None else np.asarray(rewards)).astype(np.float32),
        NEXT_OBS: np.repeat(t[:, None] + 0.5, obs_dim, 1).astype(np.float32),
        TERMINATEDS: term, TRUNCATEDS: trunc,
    }


def stored(buf):
    """The stored rows as a dict of columns, sorted by action (= start time)."""
    cols = buf.state_dict()["columns"]
    order = np.argsort(cols[ACTIONS], kind="stable")
    return {k: v[order] for k, v in cols.items()}


def chi_square(counts, probs):
    expected = probs * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


def test_ring_overwrites_oldest():
    buf = ReplayBuffer(5, (2,), seed=0)
    assert buf.add_batch(transitions(0, 3)) == 3
    buf.add_batch(transitions(3, 4))
    assert len(buf) == 5
    np.testing.assert_array_equal(stored(buf)[ACTIONS], [2, 3, 4, 5, 6])
    buf.add_batch(transitions(10, 12))  # more than the capacity: the newest 5 survive
    np.testing.assert_array_equal(stored(buf)[ACTIONS], [17, 18, 19, 20, 21])
    np.testing.assert_array_equal(stored(buf)[GAMMAS], np.full(5, 0.99, np.float32))


def test_uniform_sampling_covers_and_rows_stay_together():
    buf = ReplayBuffer(50, (2,), seed=0)
    buf.add_batch(transitions(0, 50))
    batch = buf.sample(5000)
    assert set(np.unique(batch[INDICES])) == set(range(50))
    np.testing.assert_array_equal(batch[OBS][:, 0], batch[ACTIONS])
    np.testing.assert_array_equal(batch[NEXT_OBS][:, 0], batch[ACTIONS] + 0.5)
    np.testing.assert_array_equal(batch[WEIGHTS], np.ones(5000, np.float32))
    assert batch[OBS].dtype == np.float32 and batch[OBS].shape == (5000, 2)


def test_empty_and_bad_batches():
    buf = ReplayBuffer(4, (2,), prioritized=True)
    with pytest.raises(errors.FailedPreconditionError):
        buf.sample(1)
    bad = transitions(0, 2)
    del bad[TRUNCATEDS]
    with pytest.raises(ValueError, match="missing"):
        buf.add_batch(bad)
    with pytest.raises(ValueError, match="shape"):
        buf.add_batch(transitions(0, 2, obs_dim=3))
    with pytest.raises(ValueError, match="prioritized"):
        ReplayBuffer(4, (2,)).update_priorities([0], [1.0])


def test_prioritized_frequencies_match_p_alpha():
    alpha, n = 0.6, 8
    buf = ReplayBuffer(n, (2,), prioritized=True, alpha=alpha, eps=0.0, seed=1)
    buf.add_batch(transitions(0, n))
    pri = np.arange(1.0, n + 1)
    buf.update_priorities(np.arange(n), pri)
    counts = np.bincount(buf.sample(100_000)[INDICES], minlength=n)
    probs = pri ** alpha / (pri ** alpha).sum()
    assert chi_square(counts, probs) < 24.3  # chi-square, 7 dof, p = 0.001


def test_importance_weights_formula():
    alpha, beta, n = 0.7, 0.5, 6
    buf = ReplayBuffer(10, (2,), prioritized=True, alpha=alpha, beta=beta, eps=0.0, seed=2)
    buf.add_batch(transitions(0, n))
    pri = np.array([0.5, 1.0, 2.0, 3.0, 4.0, 8.0])
    buf.update_priorities(np.arange(n), pri)
    batch = buf.sample(200)
    prob = pri ** alpha / (pri ** alpha).sum()
    w_all = (n * prob) ** -beta
    expected = w_all[batch[INDICES]] / w_all.max()
    np.testing.assert_allclose(batch[WEIGHTS], expected, rtol=1e-5)
    assert buf.sample(200, beta=1.0)[WEIGHTS].max() <= 1.0


def test_update_priorities_changes_frequencies_and_new_rows_get_max():
    n = 8
    buf = ReplayBuffer(16, (2,), prioritized=True, alpha=1.0, eps=0.0, seed=3)
    buf.add_batch(transitions(0, n))
    counts = np.bincount(buf.sample(40_000)[INDICES], minlength=n)
    assert chi_square(counts, np.full(n, 1 / n)) < 24.3  # all start at the same priority
    buf.update_priorities(np.arange(n), np.array([21.0] + [1.0] * (n - 1)))
    counts = np.bincount(buf.sample(40_000)[INDICES], minlength=n)
    probs = np.array([21.0] + [1.0] * (n - 1)) / 28.0
    assert chi_square(counts, probs) < 24.3
    buf.add_batch(transitions(n, 1))  # gets the largest priority seen: 21
    np.testing.assert_allclose(buf.state_dict()["priorities"][n], 21.0)


def test_n_step_returns_hand_computed():
    # one lane, gamma 0.5, n 3; rewards r_t = t + 1; episode terminates at t = 3, and the
    # rows arrive in two calls that cut a window in the middle
    g = 0.5
    buf = ReplayBuffer(20, (2,), n_step=3, gamma=g)
    rewards = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert buf.add_batch(transitions(0, 2, terminated=[3], rewards=rewards[:2])) == 0
    buf.add_batch(transitions(2, 3, terminated=[3], rewards=rewards[2:5]))
    rows = stored(buf)
    np.testing.assert_array_equal(rows[ACTIONS], [0, 1, 2, 3])  # t = 4 still pending
    np.testing.assert_allclose(rows[REWARDS], [1 + g * 2 + g * g * 3,  # full window
                                               2 + g * 3 + g * g * 4,  # ends at t = 3
                                               3 + g * 4, 4])
    np.testing.assert_array_equal(rows[NEXT_OBS][:, 0], [2.5, 3.5, 3.5, 3.5])
    np.testing.assert_array_equal(rows[TERMINATEDS], [False, True, True, True])
    np.testing.assert_allclose(rows[GAMMAS], [g ** 3, g ** 3, g ** 2, g])
    buf.add_batch(transitions(5, 2, rewards=rewards[5:7]))  # closes the window of t = 4
    rows = stored(buf)
    np.testing.assert_array_equal(rows[ACTIONS], [0, 1, 2, 3, 4])
    np.testing.assert_allclose(rows[REWARDS][4], 5 + g * 6 + g * g * 7)
    np.testing.assert_array_equal(rows[NEXT_OBS][4], [6.5, 6.5])


def test_n_step_truncation_and_vector_lanes():
    g = 0.9
    lanes = ReplayBuffer(50, (2,), n_step=2, gamma=g)
    a = transitions(0, 6, truncated=[2])  # lane 0: times 0..5, truncated at t = 2
    b = transitions(100, 6, terminated=[104])  # lane 1: times 100..105
    ref = ReplayBuffer(50, (2,), n_step=2, gamma=g)
    ref.add_batch(b)
    # time-major interleaving of both lanes, fed one env step per call
    for t in range(6):
        step = {k: np.stack([a[k][t], b[k][t]]) for k in a}
        step[ENV_IDS] = np.array([0, 1])
        lanes.add_batch(step)
    got = stored(lanes)
    first_lane = ReplayBuffer(50, (2,), n_step=2, gamma=g)
    first_lane.add_batch(a)
    want = {k: np.concatenate([stored(first_lane)[k], stored(ref)[k]]) for k in got}
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    trunc_row = stored(first_lane)
    i = list(trunc_row[ACTIONS]).index(2)  # the truncated step bootstraps from its next obs
    assert trunc_row[TRUNCATEDS][i] and not trunc_row[TERMINATEDS][i]
    np.testing.assert_allclose(trunc_row[GAMMAS][i], g)
    j = list(trunc_row[ACTIONS]).index(1)
    np.testing.assert_allclose(trunc_row[REWARDS][j], 1 + g * 2)


def test_state_dict_round_trip():
    buf = ReplayBuffer(8, (2,), prioritized=True, n_step=2, seed=4)
    buf.add_batch(transitions(0, 11))
    buf.update_priorities(np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]))
    copy = ReplayBuffer(8, (2,), prioritized=True, n_step=2, seed=99)
    copy.load_state_dict(buf.state_dict())
    assert len(copy) == len(buf)
    a, b = buf.sample(32), copy.sample(32)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    buf.add_batch(transitions(11, 1))  # the pending row t = 10 completes in both
    copy.add_batch(transitions(11, 1))
    np.testing.assert_array_equal(stored(buf)[REWARDS], stored(copy)[REWARDS])
    with pytest.raises(ValueError, match="config"):
        ReplayBuffer(9, (2,), prioritized=True, n_step=2).load_state_dict(buf.state_dict())


@pytest.mark.slow
def test_sharded_replay_uniform(ray_local):
    rep = ShardedReplay(2, 40, (2,), seed=0, options={"num_cpus": 0})
    assert rep.add_batch(transitions(0, 10)) == 10
    rep.add_batch(transitions(10, 10))
    assert len(rep) == 20
    batch = rep.sample(400)
    assert batch[OBS].shape == (400, 2)
    np.testing.assert_array_equal(batch[OBS][:, 0], batch[ACTIONS])
    assert set(np.unique(batch[ACTIONS])) == set(range(20))
    shard = batch[INDICES] // rep.shard_capacity
    # round-robin: rows 0..9 on shard 0, rows 10..19 on shard 1
    np.testing.assert_array_equal(shard, batch[ACTIONS] >= 10)
    state = rep.state_dict()
    assert [len(s["columns"][OBS]) for s in state["shards"]] == [10, 10]
    with pytest.raises(errors.FailedPreconditionError):
        ShardedReplay(1, 4, (2,), options={"num_cpus": 0}).sample(1)
    rep.shutdown()


@pytest.mark.slow
def test_sharded_replay_prioritized_is_global(ray_local):
    rep = ShardedReplay(2, 20, (2,), prioritized=True, alpha=1.0, eps=0.0, seed=1,
                        options={"num_cpus": 0})
    rep.add_batch(transitions(0, 5))  # shard 0
    rep.add_batch(transitions(5, 5))  # shard 1
    first = rep.sample(10)
    # global indices route back: rows 0..4 priority 1, rows 5..9 priority 4
    idx = np.concatenate([np.arange(5), rep.shard_capacity + np.arange(5)])
    rep.update_priorities(idx, np.repeat([1.0, 4.0], 5))
    batch = rep.sample(20_000)
    hi = batch[ACTIONS] >= 5
    assert abs(hi.mean() - 0.8) < 0.02  # P(shard 1) = 20 / 25
    np.testing.assert_allclose(batch[WEIGHTS][~hi], 1.0)  # the global minimum priority
    np.testing.assert_allclose(batch[WEIGHTS][hi], 4.0 ** -0.4, rtol=1e-6)
    assert first[WEIGHTS].shape == (10,)
    with pytest.raises(ValueError, match="ENV_IDS"):
        ShardedReplay(2, 20, (2,), n_step=3, options={"num_cpus": 0}).add_batch(
            transitions(0, 3))
    rep.shutdown()


def test_pack_small_batches_only():
    small = transitions(0, 4)
    packed = pack(small)
    assert isinstance(packed, bytes)
    back = unpack(packed)
    for k in small:
        np.testing.assert_array_equal(back[k], small[k])
    assert back[OBS].flags.writeable
    big = {OBS: np.zeros(PACK_LIMIT_BYTES + 1, np.uint8)}
    assert pack(big) is big and unpack(big) is big
