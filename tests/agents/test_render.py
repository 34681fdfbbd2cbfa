"""Episode GIFs: write_gif round-trips pixel-exactly through an independent GIF decoder,
and `actorflow eval --render` writes one."""
from __future__ import annotations

import numpy as np
import pytest

from actorflow.agents.render import check_gif_path, write_gif


def _decode_gif(data: bytes, rects: list | None = None) -> list[np.ndarray]:
    """A minimal GIF decoder (global palette; each image drawn over the canvas, which
    disposal 0 or 1 keeps), written from the format. Appends each image's (left, top,
    width, height) to `rects` when given."""
    assert data[:6] == b"GIF89a"
    w, h = int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    flags = data[10]
    pos = 13
    palette = np.frombuffer(data[pos:pos + 3 * (2 << (flags & 7))], np.uint8).reshape(-1, 3)
    pos += 3 * (2 << (flags & 7))
    frames, canvas = [], np.zeros((h, w, 3), np.uint8)
    while data[pos] != 0x3B:
        if data[pos] == 0x21:  # extension: skip its sub-blocks
            if data[pos + 1] == 0xF9:  # graphic control: disposal 0 or 1 (keep the canvas)
                assert (data[pos + 3] >> 2) & 7 in (0, 1)
            pos += 2
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
            continue
        assert data[pos] == 0x2C
        left, top, pw, ph = (int.from_bytes(data[pos + i:pos + i + 2], "little")
                             for i in (1, 3, 5, 7))
        assert data[pos + 9] & 0x80 == 0 and left + pw <= w and top + ph <= h
        min_size = data[pos + 10]
        pos += 11
        stream = bytearray()
        while data[pos]:
            stream += data[pos + 1:pos + 1 + data[pos]]
            pos += data[pos] + 1
        pos += 1
        canvas[top:top + ph, left:left + pw] = \
            palette[_lzw_decode(bytes(stream), min_size)].reshape(ph, pw, 3)
        frames.append(canvas.copy())
        if rects is not None:
            rects.append((left, top, pw, ph))
    return frames


def _lzw_decode(stream: bytes, min_size: int) -> np.ndarray:
    clear, end = 1 << min_size, (1 << min_size) + 1
    bits = int.from_bytes(stream, "little")
    pos, size, out, table, prev = 0, min_size + 1, bytearray(), None, None
    while True:
        code = (bits >> pos) & ((1 << size) - 1)
        pos += size
        if code == clear:
            table = [bytes([i]) for i in range(clear)] + [b"", b""]
            size, prev = min_size + 1, None
            continue
        if code == end:
            return np.frombuffer(bytes(out), np.uint8)
        entry = table[code] if code < len(table) else table[prev] + table[prev][:1]
        out += entry
        if prev is not None:
            table.append(table[prev] + entry[:1])
            if len(table) == (1 << size) and size < 12:
                size += 1
        prev = code


def test_gif_round_trips_pixel_exactly(tmp_path):
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, (200, 3), dtype=np.uint8)
    frames = [palette[rng.integers(0, 200, (60, 90))] for _ in range(2)]  # fills the table
    frames.append(np.repeat(np.repeat(palette[rng.integers(0, 200, (6, 9))], 10, 0), 10, 1))
    path = tmp_path / "x.gif"
    write_gif(str(path), frames)
    got = _decode_gif(path.read_bytes())
    assert len(got) == 3
    for g, f in zip(got, frames):
        np.testing.assert_array_equal(g, f)


def test_many_colours_fall_back_to_a_colour_cube(tmp_path):
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)  # ~600 colours
    write_gif(str(tmp_path / "y.gif"), [frame])
    (got,) = _decode_gif((tmp_path / "y.gif").read_bytes())
    assert np.abs(got.astype(int) - frame).max() <= 51  # one step of the 6-level cube
    with pytest.raises(ValueError, match="no frames"):
        write_gif(str(tmp_path / "z.gif"), [])


def _cartpole_frames(n: int) -> list[np.ndarray]:
    from actorflow.envs import make_vector
    env = make_vector("CartPole-v1", 1, seed=1)
    obs, frames = env.reset(), []
    for _ in range(n):
        frames.append(env.render(0))
        obs, *_ = env.step(np.array([int(obs[0, 2] * 10 + obs[0, 3] > 0)]))  # balance
    return frames


def test_frames_after_the_first_store_only_the_pixels_that_changed(tmp_path):
    # Full frames through a pure-Python LZW took ~0.1 s each: minutes for one episode.
    frames = _cartpole_frames(60)
    frames.insert(30, frames[29])  # a repeated frame stores one pixel
    path = tmp_path / "cartpole.gif"
    write_gif(str(path), frames)
    rects = []
    got = _decode_gif(path.read_bytes(), rects)
    assert len(got) == len(frames)
    for g, f in zip(got, frames):
        np.testing.assert_array_equal(g, f)
    h, w, _ = frames[0].shape
    assert rects[0] == (0, 0, w, h) and rects[30][2:] == (1, 1)
    assert max(rw * rh for _, _, rw, rh in rects[1:]) < w * h / 4  # the cart and pole only


def test_few_colours_use_small_codes_and_survive_table_resets(tmp_path):
    rng = np.random.default_rng(2)
    palette = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    frames = [palette[rng.integers(0, 3, (150, 120))] for _ in range(2)]  # > 4096 codes
    path = tmp_path / "three.gif"
    write_gif(str(path), frames)
    data = path.read_bytes()
    assert data[10] & 7 == 1  # a 4-entry palette
    got = _decode_gif(data)
    for g, f in zip(got, frames):
        np.testing.assert_array_equal(g, f)
    with pytest.raises(ValueError, match=r"frame 1 is \[5, 5, 3\], frame 0 is \[150, 120, 3\]"):
        write_gif(str(path), [frames[0], frames[0][:5, :5]])


def test_the_output_path_is_checked_before_rendering(tmp_path):
    check_gif_path(str(tmp_path / "ok.gif"))
    with pytest.raises(ValueError, match="must be a .gif file"):
        check_gif_path(str(tmp_path / "x.png"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_gif_path(str(tmp_path / "missing" / "x.gif"))
    (tmp_path / "dir.gif").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        check_gif_path(str(tmp_path / "dir.gif"))
