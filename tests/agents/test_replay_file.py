"""The DQN replay file (`_save_replay` / `_load_replay`): crafted files are DataLossError,
checked before anything is allocated, and a state that disagrees with the buffer changes
nothing."""
from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

from actorflow.actors.columns import ACTIONS, NEXT_OBS, OBS, REWARDS, TERMINATEDS, TRUNCATEDS
from actorflow.actors.replay import ReplayBuffer
from actorflow.agents.dqn import _load_replay, _save_replay
from actorflow.errors import DataLossError

GIB = 1 << 30


def _buffer(rows: int = 5) -> ReplayBuffer:
    buf = ReplayBuffer(8, (2,), seed=3)
    t = np.arange(rows)
    buf.add_batch({OBS: np.repeat(t[:, None], 2, 1).astype(np.float32),
                   ACTIONS: t.astype(np.int64), REWARDS: t.astype(np.float32),
                   NEXT_OBS: np.repeat(t[:, None] + 0.5, 2, 1).astype(np.float32),
                   TERMINATEDS: np.zeros(rows, bool), TRUNCATEDS: np.zeros(rows, bool)})
    return buf


def _npy(descr: str, shape: tuple, data: bytes = b"") -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        f, {"descr": descr, "fortran_order": False, "shape": shape})
    return f.getvalue() + data


def _replace_member(path: str, name: str, member: bytes) -> None:
    """Rewrites the .npz at `path` with member `name` (e.g. "columns/obs") replaced."""
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members[name + ".npy"] = member
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for k, v in members.items():
            zf.writestr(k, v)


@pytest.fixture
def replay_file(tmp_path) -> str:
    path = str(tmp_path / "ckpt-1.replay.npz")
    _save_replay(path, _buffer().state_dict())
    return path


def test_replay_file_round_trip(replay_file):
    buf = _buffer()
    copy = ReplayBuffer(8, (2,), seed=3)
    copy.load_state_dict(_load_replay(replay_file))
    assert len(copy) == len(buf)
    a, b = buf.sample(16), copy.sample(16)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_object_column_is_data_loss(replay_file):
    f = io.BytesIO()
    np.save(f, np.array([object()] * 5, dtype=object), allow_pickle=True)
    _replace_member(replay_file, "columns/obs", f.getvalue())
    with pytest.raises(DataLossError, match="'columns/obs.npy'.*'\\|O'"):
        _load_replay(replay_file)


def test_huge_declared_column_is_refused_before_allocating(replay_file):
    _replace_member(replay_file, "columns/obs", _npy("<f4", (GIB // 4,)))
    tracemalloc.start()
    try:
        with pytest.raises(DataLossError, match="declares 1073741824 bytes"):
            _load_replay(replay_file)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


@pytest.mark.parametrize("shape", [(-1,), (-4, 2)])
def test_negative_dims_are_data_loss(replay_file, shape):
    _replace_member(replay_file, "columns/obs", _npy("<f4", shape))
    with pytest.raises(DataLossError, match="columns/obs.npy"):
        _load_replay(replay_file)


def test_column_shorter_than_its_header_is_data_loss(replay_file):
    _replace_member(replay_file, "columns/obs", _npy("<f4", (5, 2), b"\x00" * 36))
    with pytest.raises(DataLossError, match="declares 40 bytes"):
        _load_replay(replay_file)


def test_malformed_meta_is_data_loss(replay_file):
    f = io.BytesIO()
    np.save(f, np.array("not json"))
    _replace_member(replay_file, "meta", f.getvalue())
    with pytest.raises(DataLossError, match="replay file .*replay.npz"):
        _load_replay(replay_file)
    f = io.BytesIO()
    np.save(f, np.array(json.dumps([1, 2])))
    _replace_member(replay_file, "meta", f.getvalue())
    with pytest.raises(DataLossError, match="has_pending"):
        _load_replay(replay_file)


def test_state_whose_columns_disagree_with_its_size_changes_nothing(replay_file):
    # One row where the state says five: NumPy would broadcast it over all five silently.
    f = io.BytesIO()
    np.save(f, np.full((1, 2), 7.0, np.float32))
    _replace_member(replay_file, "columns/obs", f.getvalue())
    state = _load_replay(replay_file)
    buf = ReplayBuffer(8, (2,), seed=3)
    with pytest.raises(ValueError, match="column 'obs'.*shape \\(5, 2\\)"):
        buf.load_state_dict(state)
    assert len(buf) == 0
    state = _load_replay(replay_file)
    state["columns"][OBS] = np.zeros((5, 2), np.float32)
    state["size"] = 9
    with pytest.raises(ValueError, match="size 9 .* capacity 8"):
        buf.load_state_dict(state)
