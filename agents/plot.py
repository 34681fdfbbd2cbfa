"""The reward-curve PNG of a run (`returns.png`), drawn with NumPy and written with zlib: no
plotting library needed.

`write_curve_png` draws each episode's return (grey) and its running mean (blue) against
env steps, with axes whose ticks sit at round values (1, 2 or 5 times a power of ten) and
are labelled in a built-in 5x7 bitmap font (`FONT`).
"""
from __future__ import annotations

import math
import os
import struct
import zlib

import numpy as np

__all__ = ["write_curve_png", "nice_ticks", "format_tick", "text_bitmap", "label_box",
           "FONT"]

FONT = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11111", "00010", "00100", "00010", "00001", "10001", "01110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    "-": ("00000", "00000", "00000", "11111", "00000", "00000", "00000"),
    ".": ("00000", "00000", "00000", "00000", "00000", "01100", "01100"),
    "k": ("10000", "10000", "10010", "10100", "11000", "10100", "10010"),
    "M": ("10001", "11011", "10101", "10101", "10001", "10001", "10001"),
}
"""5x7 glyphs ("1" = ink) of the characters tick labels use."""

GLYPH_W, GLYPH_H = 5, 7
_BLACK = (0, 0, 0)
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 56, 16, 12, 24


def text_bitmap(text: str) -> np.ndarray:
    """A bool [7, 6 * len(text) - 1] bitmap of `text` (glyphs one pixel apart).

    Raises:
        KeyError: a character `FONT` has no glyph for.
    """
    rows = [np.array([[c == "1" for c in row] for row in FONT[ch]]) for ch in text]
    out = np.zeros((GLYPH_H, max(0, (GLYPH_W + 1) * len(text) - 1)), bool)
    for i, glyph in enumerate(rows):
        out[:, i * (GLYPH_W + 1):i * (GLYPH_W + 1) + GLYPH_W] = glyph
    return out


def nice_ticks(lo: float, hi: float, count: int = 4) -> np.ndarray:
    """About `count` + 1 evenly spaced round values (step 1, 2 or 5 times a power of ten)
    from the largest multiple of the step <= `lo` to the smallest >= `hi`."""
    if not hi > lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return np.arange(first, last + 1) * step


def format_tick(value: float, step: float) -> str:
    """`value` as a short label: as many decimals as `step` needs, thousands as k and
    millions as M when every tick is a whole number of them."""
    if abs(value) < step * 1e-6:
        return "0"
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if step >= scale and abs(step / scale - round(step / scale)) < 1e-9:
            return f"{value / scale:.0f}{suffix}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{value:.{decimals}f}"


def write_curve_png(path: str, steps: np.ndarray, returns: np.ndarray, width: int = 640,
                    height: int = 360, window: int = 20) -> None:
    """Writes a reward curve: each episode's return (grey) and its running mean over
    `window` episodes (blue) against env steps, on white with labelled axes, as an RGB PNG
    (through a temporary file, so a reader sees the old file or the new one)."""
    img = np.full((height, width, 3), 255, np.uint8)
    left, right = _MARGIN_LEFT, width - _MARGIN_RIGHT
    top, bottom = _MARGIN_TOP, height - _MARGIN_BOTTOM
    returns = np.asarray(returns, np.float64)
    x = np.asarray(steps, np.float64)
    finite = returns[np.isfinite(returns)]
    lo = min(0.0, float(finite.min())) if finite.size else 0.0
    hi = max(0.0, float(finite.max())) if finite.size else 1.0
    xmax = float(x.max()) if x.size else 1.0
    yticks, xticks = nice_ticks(lo, hi), nice_ticks(0.0, max(xmax, 1.0))
    lo, hi, xmax = yticks[0], yticks[-1], xticks[-1]

    def to_px(xs, ys):
        px = left + (xs / xmax) * (right - left)
        py = bottom - (ys - lo) / (hi - lo) * (bottom - top)
        return px, py

    img[top:bottom + 1, left] = _BLACK
    img[bottom, left:right + 1] = _BLACK
    ystep, xstep = yticks[1] - yticks[0], xticks[1] - xticks[0]
    for value in yticks:
        _, py = to_px(0.0, value)
        y = int(round(py))
        img[y, left - 4:left] = _BLACK
        _draw_text(img, format_tick(value, ystep), right_x=left - 7, center_y=y)
    for value in xticks:
        px, _ = to_px(value, lo)
        xpix = int(round(px))
        img[bottom + 1:bottom + 5, xpix] = _BLACK
        _draw_text(img, format_tick(value, xstep), center_x=xpix, top_y=bottom + 8)
    if len(returns):
        k = max(1, min(window, len(returns)))
        mean = np.convolve(returns, np.ones(k) / k, mode="full")[:len(returns)]
        mean[:k] = np.cumsum(returns[:k]) / np.arange(1, k + 1)
        for ys, color in ((returns, (190, 190, 190)), (mean, (31, 119, 180))):
            _polyline(img, *to_px(x, ys), color)
    _save_png(path, img)


def label_box(text: str, *, right_x: int | None = None, center_x: int | None = None,
              center_y: int | None = None, top_y: int | None = None) -> tuple[int, int]:
    """(left, top) pixel of `text` drawn right-aligned to `right_x` or centred on
    `center_x`, and centred on `center_y` or starting at `top_y`."""
    w = (GLYPH_W + 1) * len(text) - 1
    x0 = right_x - w + 1 if right_x is not None else center_x - w // 2
    y0 = center_y - GLYPH_H // 2 if center_y is not None else top_y
    return x0, y0


def _draw_text(img: np.ndarray, text: str, **where) -> None:
    bitmap = text_bitmap(text)
    x0, y0 = label_box(text, **where)
    h, w, _ = img.shape
    x0, y0 = min(max(0, x0), w - bitmap.shape[1]), min(max(0, y0), h - GLYPH_H)
    img[y0:y0 + GLYPH_H, x0:x0 + bitmap.shape[1]][bitmap] = _BLACK


def _polyline(img, px, py, color) -> None:
    h, w, _ = img.shape
    if len(px) == 1:
        px, py = np.repeat(px, 2), np.repeat(py, 2)
    for x0, y0, x1, y1 in zip(px[:-1], py[:-1], px[1:], py[1:]):
        n = int(max(abs(x1 - x0), abs(y1 - y0), 1)) + 1
        xs = np.clip(np.rint(np.linspace(x0, x1, n)).astype(int), 0, w - 1)
        ys = np.clip(np.rint(np.linspace(y0, y1, n)).astype(int), 0, h - 1)
        img[ys, xs] = color


def _save_png(path: str, img: np.ndarray) -> None:
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(png)
    os.replace(tmp, path)
