"""returns.png: the reward curve has numbers on both axes, drawn in the built-in font at
its tick marks; read back here from the PNG bytes (zlib, filter-0 rows)."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from actorflow.agents.plot import format_tick, nice_ticks, text_bitmap
from actorflow.agents.run import write_curve_png  # where RunLogger gets it


def _read_png(data: bytes) -> np.ndarray:
    """An 8-bit RGB PNG of one IDAT chunk, every row with filter 0, as [h, w, 3] uint8."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        chunks[data[pos + 4:pos + 8]] = data[pos + 8:pos + 8 + n]
        pos += 12 + n
    w, h, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + 3 * w)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(h, w, 3)


def _ink(region: np.ndarray) -> np.ndarray:
    """The black text pixels of a region, cropped to their bounding box."""
    return _crop((region == 0).all(axis=-1))


def _label(text: str) -> np.ndarray:
    """The ink of `text` in the font, cropped as `_ink` crops ("1" has a blank column)."""
    return _crop(text_bitmap(text))


def _crop(dark: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    if rows.size == 0:
        return dark[:0, :0]
    return dark[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _axes(img: np.ndarray) -> tuple[int, int]:
    """(column of the y axis, row of the x axis): the longest black lines."""
    dark = (img == 0).all(axis=-1)
    return int(dark.sum(axis=0).argmax()), int(dark.sum(axis=1).argmax())


@pytest.mark.parametrize("xmax, low, high, xlabels, ylabels", [
    (2000, 0.0, 200.0, ["0", "500", "1000", "1500", "2000"], ["0", "50", "100", "150", "200"]),
    (40_000, -37.0, 12.0, ["0", "10k", "20k", "30k", "40k"], ["-40", "-20", "0", "20"]),
    (300, 0.1, 0.9, ["0", "100", "200", "300"], ["0", "0.5", "1.0"]),
])
def test_both_axes_carry_tick_labels(tmp_path, xmax, low, high, xlabels, ylabels):
    steps = np.linspace(xmax / 50, xmax, 50)
    returns = np.linspace(low, high, 50)
    path = tmp_path / "returns.png"
    write_curve_png(str(path), steps, returns)
    img = _read_png(path.read_bytes())
    axis_x, axis_y = _axes(img)
    dark = (img == 0).all(axis=-1)
    # Tick marks: black just left of the y axis, just below the x axis.
    ytick_rows = np.flatnonzero(dark[:, axis_x - 3])[::-1]  # bottom to top
    xtick_cols = axis_x + np.flatnonzero(dark[axis_y + 3, axis_x:])
    assert len(ytick_rows) == len(ylabels) and len(xtick_cols) == len(xlabels)
    for row, label in zip(ytick_rows, ylabels):  # right of the label: a gap, then the tick
        band = img[row - 3:row + 4, :axis_x - 4]
        np.testing.assert_array_equal(_ink(band), _label(label), err_msg=label)
    for col, label in zip(xtick_cols, xlabels):  # centred under the tick
        half = len(label) * 3 + 2
        band = img[axis_y + 5:axis_y + 16, col - half:col + half + 1]
        np.testing.assert_array_equal(_ink(band), _label(label), err_msg=label)
    blue = (img == (31, 119, 180)).all(axis=-1)
    assert blue[:axis_y, axis_x + 1:].any()  # the running mean is drawn inside the axes


def test_tick_values_and_labels():
    np.testing.assert_allclose(nice_ticks(0, 49_832), [0, 20_000, 40_000, 60_000])
    np.testing.assert_allclose(nice_ticks(-0.3, 0), [-0.3, -0.2, -0.1, 0.0])
    assert [format_tick(v, 500) for v in (0, 1500)] == ["0", "1500"]
    assert [format_tick(v, 2e6) for v in (2e6, 4e6)] == ["2M", "4M"]
    assert format_tick(-0.1, 0.1) == "-0.1"
    with pytest.raises(KeyError):
        text_bitmap("x")


def test_no_returns_yet_still_draws_labelled_axes(tmp_path):
    path = tmp_path / "returns.png"
    write_curve_png(str(path), np.zeros(0), np.zeros(0))
    img = _read_png(path.read_bytes())
    axis_x, axis_y = _axes(img)
    np.testing.assert_array_equal(_ink(img[axis_y - 3:axis_y + 4, :axis_x - 4]),
                                  _label("0"))
