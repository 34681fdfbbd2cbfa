"""NumPy values to `Summary` protos, the way TensorFlow's summary kernels build them.

- scalars: one `simple_value` (float32) per tag;
- histograms: TF's default exponential buckets (limits +-1e-12 * 1.1**k up to 1e20, then
  +-DBL_MAX, and 0), runs of empty buckets collapsed into one as ``EncodeToProto`` does;
- images: uint8 as they are, floats scaled to [0, 255] per image (TF's rule: non-negative
  images so that the maximum maps to 255, others so that 0 maps to 128 and the largest
  magnitude to 1 or 255), non-finite pixels painted `bad_color`; PNG-encoded;
- tensors (text): a TensorProto with the plugin's metadata.
"""
from __future__ import annotations

import functools
import struct
import sys
import zlib

import numpy as np

from .protos import HistogramProto, Summary, SummaryMetadata, TensorProto

__all__ = ["default_bucket_limits", "histogram_proto", "encode_png", "image_values",
           "scalar_values", "tensor_value"]

_DBL_MAX = sys.float_info.max


@functools.lru_cache(maxsize=1)
def default_bucket_limits() -> np.ndarray:
    """TF's histogram bucket limits: bucket i holds values in [limit[i-1], limit[i])."""
    pos = []
    v = 1.0e-12
    while v < 1.0e20:
        pos.append(v)
        v *= 1.1
    pos.append(_DBL_MAX)
    limits = np.array([-x for x in reversed(pos)] + [0.0] + pos, dtype=np.float64)
    limits.setflags(write=False)
    return limits


_ZERO = 775
"""The index of the limit 0.0 in `default_bucket_limits` (775 negative limits precede it)."""


@functools.lru_cache(maxsize=1)
def _padded_limits() -> np.ndarray:
    """[-inf, *default_bucket_limits(), +inf]: entry i + 1 is limit i, so that the limits on
    both sides of any bucket index 0..n can be gathered without bounds checks."""
    padded = np.concatenate([[-np.inf], default_bucket_limits(), [np.inf]])
    padded.setflags(write=False)
    return padded


def _bucket_index(x: np.ndarray) -> np.ndarray:
    """TF's bucket of each finite float64 value: the index of the first limit greater than
    it (``std::upper_bound``, as ``np.searchsorted(limits, x, side="right")``); DBL_MAX goes
    into the last bucket.

    A binary search per value costs ~20 ms for 400k values. The positive limits are about
    1e-12 * 1.1**k, so a logarithm guesses each index to within one bucket (rounding in the
    limits' repeated products and in the logarithm), and the few guesses that the guessed
    bucket's two limits do not bracket move by one until they do.
    """
    limits = _padded_limits()
    with np.errstate(divide="ignore"):  # log(0) = -inf: zeros land next to the 0.0 limit
        y = np.log(np.abs(x))
    y *= 1.0 / np.log(1.1)
    y -= np.log(1.0e-12) / np.log(1.1)  # y ~ k where |x| ~ 1e-12 * 1.1**k
    np.floor(y, out=y)
    np.clip(y, -1.0, _ZERO - 1.0, out=y)
    # count = y + 1 positive limits are <= |x|: x >= 0 goes to index _ZERO + 1 + count,
    # x < 0 to _ZERO - count; both as _ZERO + 0.5 +- (count + 0.5), in 0..n.
    y += 1.5
    np.copysign(y, x, out=y)
    y += _ZERO + 0.5
    index = y.astype(np.intp)
    wrong = np.flatnonzero((limits[index + 1] <= x) | (limits[index] > x))
    while wrong.size:
        i, v = index[wrong], x[wrong]
        up, down = limits[i + 1] <= v, limits[i] > v
        index[wrong] = i + up - down
        wrong = wrong[up | down]
    return np.minimum(index, default_bucket_limits().size - 1)


def histogram_proto(values) -> HistogramProto:
    """The HistogramProto of `values` (any shape; float64 statistics).

    Raises:
        ValueError: `values` holds NaN or infinity.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(x)):
        raise ValueError("Nan in summary histogram")
    limits = default_bucket_limits()
    counts = np.bincount(_bucket_index(x), minlength=limits.size).astype(np.float64)
    # Collapse each run of empty buckets into its last bucket (TF keeps the run's end limit).
    nonzero = counts > 0
    keep = nonzero | (~nonzero & np.r_[nonzero[1:], True])
    bucket_limit, bucket = limits[keep], counts[keep]
    return HistogramProto(
        min=float(x.min()) if x.size else _DBL_MAX,
        max=float(x.max()) if x.size else -_DBL_MAX,
        num=float(x.size), sum=float(x.sum()), sum_squares=float(np.dot(x, x)),
        bucket_limit=bucket_limit.tolist(), bucket=bucket.tolist())


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(image: np.ndarray, compression: int = 6) -> bytes:
    """A PNG of a uint8 image [height, width, channels] with 1, 2, 3 or 4 channels."""
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"encode_png needs a uint8 [height, width, 1|2|3|4] image, got "
                         f"{img.dtype}{list(img.shape)}")
    height, width, channels = img.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]  # gray, gray+alpha, RGB, RGBA
    rows = np.concatenate([np.zeros((height, 1), np.uint8),  # filter type 0 per row
                           np.ascontiguousarray(img).reshape(height, width * channels)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) +
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), compression)) +
            _png_chunk(b"IEND", b""))


def _to_uint8(image: np.ndarray, bad_color: np.ndarray) -> np.ndarray:
    """One float image [h, w, c] scaled to uint8 as TF's ImageSummary does."""
    x = image.astype(np.float32)
    finite = np.all(np.isfinite(x), axis=-1)
    vals = x[finite]
    lo = float(vals.min()) if vals.size else np.inf
    hi = float(vals.max()) if vals.size else -np.inf
    if lo < 0:
        max_val = max(abs(lo), abs(hi))
        scale, offset = (0.0 if max_val < 1e-6 else 127.0 / max_val), 128.0
    else:
        scale, offset = (0.0 if hi < 1e-6 else 255.0 / hi), 0.0
    out = np.empty(x.shape, np.uint8)
    out[finite] = (x[finite] * np.float32(scale) + np.float32(offset)).astype(np.uint8)
    out[~finite] = bad_color[:x.shape[-1]]
    return out


def image_values(tag: str, images, max_images: int, bad_color) -> list:
    """Summary values of the first `max_images` images of a [batch, h, w, 1|3|4] batch.

    Tags are ``tag/image`` when `max_images` is 1, else ``tag/image/<i>`` (as TF).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[3] not in (1, 3, 4):
        raise ValueError(f"Tensor must be 4-D with last dim 1, 3, or 4, not {list(images.shape)}")
    bad = np.asarray(bad_color, dtype=np.uint8)
    out = []
    for i in range(min(images.shape[0], max_images)):
        img = images[i] if images.dtype == np.uint8 else _to_uint8(images[i], bad)
        h, w, c = img.shape
        name = f"{tag}/image" if max_images == 1 else f"{tag}/image/{i}"
        out.append(Summary.Value(tag=name, image=Summary.Image(
            height=h, width=w, colorspace=c, encoded_image_string=encode_png(img))))
    return out


def scalar_values(tags, values) -> list:
    """One `simple_value` per (tag, value) pair of equally shaped arrays."""
    return [Summary.Value(tag=str(t.decode() if isinstance(t, bytes) else t),
                          simple_value=float(v))
            for t, v in zip(np.asarray(tags, dtype=object).reshape(-1).tolist(),
                            np.asarray(values).reshape(-1).tolist())]


def tensor_value(tag: str, tensor, metadata: bytes) -> Summary.Value:
    """A tensor summary value (the text plugin's form) with serialized `metadata`."""
    meta = SummaryMetadata.FromString(metadata) if metadata else None
    return Summary.Value(tag=tag, metadata=meta, tensor=TensorProto.from_array(tensor))
