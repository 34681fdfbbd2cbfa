"""`tf.image` codecs: PNG and JPEG encoding and decoding through Pillow.

Registers DecodePng, DecodeJpeg, DecodeImage, EncodePng and EncodeJpeg. Contents and encoded
images are tf.string scalars (0-d object arrays holding bytes); decoded images are uint8 (or
uint16 for PNG) [height, width, channels] arrays, and DecodeImage gives [frames, height,
width, 3] for an animated GIF.

Pillow is an optional dependency (``pip install 'actorflow[image]'``), imported when a codec
op is built or compiled; without it those calls raise ImportError naming the extra. As in TF,
each decoder reads any format Pillow knows (decode_png reads a JPEG too).

Known differences from TF: decoded JPEG pixels can differ from TF's by a few levels (a
different IDCT; `dct_method` and `fancy_upscaling` are accepted but Pillow's settings
apply); 16-bit PNGs are supported for grayscale only (Pillow keeps no 16-bit colour
images); asking a decoder for 1 channel of a colour image uses Pillow's luminance (ITU-R
601-2, integer rounding), which can differ from libpng/libjpeg by 1; the JPEG density unit
'cm' is written as the equivalent dots per inch.
"""
from __future__ import annotations

import io

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, convert_to_tensor
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import host, out1

__all__ = ["decode_png", "encode_png", "decode_jpeg", "encode_jpeg", "decode_image",
           "is_jpeg"]

_EXTRA_HINT = ("the image codecs need Pillow, an optional dependency of actorflow: "
               "pip install 'actorflow[image]' (or pip install 'Pillow>=9')")


def pillow():
    """The `PIL.Image` module.

    Raises:
        ImportError: Pillow is not installed (the message names the `image` extra).
    """
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(_EXTRA_HINT) from exc
    return Image


def _contents(value) -> bytes:
    """The bytes of a tf.string scalar kernel input."""
    v = np.asarray(host(value), dtype=object).reshape(()).item()
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


def _string_scalar_infer(op, what: str):
    t = op.inputs[0]
    if t.dtype != dtypes.string:
        raise TypeError(f"{op.type}: {what} must be a string tensor, got {t.dtype.name}")
    if t._shape not in (None, ()):
        raise ValueError(f"{op.type}: {what} must be a scalar, got shape {list(t._shape)}")


# -- decoding ----------------------------------------------------------------------------------
_NATIVE_CHANNELS = {"1": 1, "L": 1, "LA": 2, "La": 2, "RGB": 3, "RGBA": 4, "RGBa": 4,
                    "I;16": 1, "I;16B": 1, "I;16L": 1, "I": 1, "CMYK": 3, "YCbCr": 3}
_MODE_OF = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I")


def _open(op, data: bytes, ratio: int = 1):
    """The decoded Pillow image; a JPEG with ratio > 1 is scaled down by libjpeg's DCT
    scaling while decoding (to ceil(size / ratio), as TF's decoder does)."""
    image_mod = pillow()
    try:
        img = image_mod.open(io.BytesIO(data))
        if ratio > 1 and img.format == "JPEG":
            w, h = img.size
            # Pillow picks the DCT scale min(w // req_w, h // req_h): requesting the floor
            # sizes selects exactly `ratio`, and libjpeg then rounds the size up
            img.draft(img.mode, (max(1, w // ratio), max(1, h // ratio)))
        img.load()
    except Exception as exc:  # Pillow raises several types for corrupt data
        raise errors.InvalidArgumentError(None, op, f"{op.type}: cannot decode the image "
                                          f"({len(data)} bytes): {exc}") from None
    if ratio > 1 and img.format != "JPEG":
        img = img.reduce(ratio)
    return img


def _native_channels(img) -> int:
    if img.mode == "P":
        return 4 if "transparency" in img.info else 3
    return _NATIVE_CHANNELS.get(img.mode, 3)


def _frame_array(op, img, channels: int, dtype) -> np.ndarray:
    """One decoded frame as a [height, width, channels] array of `dtype` (uint8/uint16)."""
    channels = channels or _native_channels(img)
    if img.mode in _SIXTEEN_BIT and channels == 1:
        arr = np.asarray(img).astype(np.int64)
        arr = arr.astype(np.uint16) if dtype == np.uint16 else (arr >> 8).astype(np.uint8)
    else:
        if img.mode in _SIXTEEN_BIT:  # a 16-bit grey image asked for colour: 8 bits first
            img = pillow().fromarray((np.asarray(img).astype(np.int64) >> 8).astype(np.uint8))
        arr = np.asarray(img.convert(_MODE_OF[channels]))
        if dtype == np.uint16:
            arr = arr.astype(np.uint16) * np.uint16(257)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return np.ascontiguousarray(arr)


def _decode_infer(op):
    _string_scalar_infer(op, "contents")
    channels = op.attrs.get("channels", 0)
    if channels not in (0, 1, 2, 3, 4):
        raise ValueError(f"{op.type}: channels must be 0, 1, 2, 3 or 4, got {channels}")
    dtype = op.attrs.get("dtype", dtypes.uint8)
    if dtype not in (dtypes.uint8, dtypes.uint16):
        raise TypeError(f"{op.type}: dtype must be uint8 or uint16, got {dtype.name}")
    c = channels or None
    if op.type == "DecodeImage" and op.attrs.get("expand_animations", True):
        return [(dtype, None)]  # 3-D, or 4-D for an animated GIF
    return [(dtype, (None, None, c))]


def _decode_kernel(op, ctx):
    pillow()
    xp = ctx.xp
    channels = op.attrs.get("channels", 0)
    dtype = op.attrs.get("dtype", dtypes.uint8).np
    animations = op.type == "DecodeImage" and op.attrs.get("expand_animations", True)
    ratio = op.attrs.get("ratio", 1)

    def decode(contents):
        img = _open(op, _contents(contents), ratio)
        if animations and getattr(img, "n_frames", 1) > 1:
            frames = []
            for i in range(img.n_frames):
                img.seek(i)
                frames.append(_frame_array(op, img.convert("RGB"), channels or 3, dtype))
            return xp.asarray(np.stack(frames))
        return xp.asarray(_frame_array(op, img, channels, dtype))
    return decode


for _type, _doc in [("DecodePng", "A PNG (or any Pillow format) decoded to [h, w, c]."),
                    ("DecodeJpeg", "A JPEG (or any Pillow format) decoded to uint8 [h, w, c]."),
                    ("DecodeImage", "An image of any Pillow format decoded to [h, w, c] "
                                    "(animated GIF: [frames, h, w, 3]).")]:
    register_op(_type, infer=_decode_infer, grad=NOT_DIFFERENTIABLE, kernel=_decode_kernel,
                host_only=True, doc=_doc)


def decode_png(contents, channels: int = 0, dtype=dtypes.uint8, name: str | None = None):
    """The image in PNG bytes `contents` as [height, width, channels] uint8 or uint16;
    channels 0 keeps the file's, 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA."""
    pillow()
    return out1("DecodePng", [convert_to_tensor(contents, dtype=dtypes.string)],
                {"channels": int(channels), "dtype": dtypes.as_dtype(dtype)},
                name or "DecodePng")


def decode_jpeg(contents, channels: int = 0, ratio: int = 1, fancy_upscaling: bool = True,
                try_recover_truncated: bool = False, acceptable_fraction: float = 1,
                dct_method: str = "", name: str | None = None) -> Tensor:
    """The image in JPEG bytes `contents` as uint8 [height, width, channels]; channels 0
    keeps the file's, 1 grey, 3 RGB. `ratio` (1, 2, 4, 8) downscales while decoding.
    `fancy_upscaling`, `try_recover_truncated`, `acceptable_fraction` and `dct_method` are
    accepted for compatibility; Pillow's decoder settings apply."""
    pillow()
    if ratio not in (1, 2, 4, 8):
        raise ValueError(f"decode_jpeg: ratio must be 1, 2, 4 or 8, got {ratio}")
    return out1("DecodeJpeg", [convert_to_tensor(contents, dtype=dtypes.string)],
                {"channels": int(channels), "ratio": int(ratio), "dtype": dtypes.uint8,
                 "fancy_upscaling": bool(fancy_upscaling), "dct_method": str(dct_method)},
                name or "DecodeJpeg")


def decode_image(contents, channels=None, dtype=dtypes.uint8, name: str | None = None,
                 expand_animations: bool = True) -> Tensor:
    """The image in `contents` (PNG, JPEG, GIF, BMP, ...) as [height, width, channels],
    or [frames, height, width, 3] for an animated GIF when `expand_animations`; converted
    to `dtype` with `convert_image_dtype` (uint8, uint16 or a float type in [0, 1))."""
    from .image_ops import convert_image_dtype
    pillow()
    dtype = dtypes.as_dtype(dtype)
    raw = dtypes.uint16 if dtype == dtypes.uint16 else dtypes.uint8
    image = out1("DecodeImage", [convert_to_tensor(contents, dtype=dtypes.string)],
                 {"channels": int(channels or 0), "dtype": raw,
                  "expand_animations": bool(expand_animations)},
                 name if raw == dtype and name else "DecodeImage")
    return image if raw == dtype else convert_image_dtype(image, dtype, name=name)


def is_jpeg(contents, name: str | None = None) -> Tensor:
    """A bool scalar: whether `contents` starts with the JPEG marker."""
    contents = convert_to_tensor(contents, dtype=dtypes.string)
    return out1("IsJpeg", [contents], None, name or "is_jpeg")


def _is_jpeg_kernel(op, ctx):
    def is_jpeg_(contents):
        return np.asarray(_contents(contents)[:3] == b"\xff\xd8\xff")
    return is_jpeg_


register_op("IsJpeg", infer=lambda op: (_string_scalar_infer(op, "contents") or
                                        [(dtypes.bool, ())]),
            grad=NOT_DIFFERENTIABLE, kernel=_is_jpeg_kernel, host_only=True,
            doc="Whether a string starts with the JPEG start-of-image marker.")


# -- encoding ----------------------------------------------------------------------------------
def _encode_infer(op):
    x = op.inputs[0]
    allowed = (dtypes.uint8, dtypes.uint16) if op.type == "EncodePng" else (dtypes.uint8,)
    if x.dtype not in allowed:
        raise TypeError(f"{op.type}: image must be {' or '.join(d.name for d in allowed)}, "
                        f"got {x.dtype.name}")
    if x._shape is not None:
        if len(x._shape) != 3:
            raise ValueError(f"{op.type}: image must be 3-D [height, width, channels], got "
                             f"shape {list(x._shape)}")
        c = x._shape[2]
        ok = (1, 2, 3, 4) if op.type == "EncodePng" else (1, 3)
        if c is not None and c not in ok:
            raise ValueError(f"{op.type}: image must have {ok} channels, got {c}")
    return [(dtypes.string, ())]


def _to_pil(op, x: np.ndarray):
    image_mod = pillow()
    if x.ndim != 3 or x.shape[2] not in (1, 2, 3, 4):
        raise errors.InvalidArgumentError(None, op, f"{op.type}: image must be [height, "
                                          f"width, 1-4 channels], got {list(x.shape)}")
    c = x.shape[2]
    if x.dtype == np.uint16:
        if c != 1:
            raise errors.UnimplementedError(None, op, f"{op.type}: 16-bit images with {c} "
                                            "channels (Pillow writes 16-bit grayscale only)")
        return image_mod.fromarray(np.ascontiguousarray(x[:, :, 0]).astype("<u2"))
    arr = np.ascontiguousarray(x[:, :, 0] if c == 1 else x)
    return image_mod.fromarray(arr, _MODE_OF[c])


def _encode_png_kernel(op, ctx):
    pillow()
    level = op.attrs.get("compression", -1)
    level = 6 if level == -1 else level

    def encode_png_(image):
        buf = io.BytesIO()
        _to_pil(op, np.asarray(host(image))).save(buf, format="PNG", compress_level=level)
        return np.array(buf.getvalue(), dtype=object)
    return encode_png_


def _encode_jpeg_kernel(op, ctx):
    pillow()
    a = op.attrs
    fmt = a.get("format", "")
    per_cm = a.get("density_unit", "in") == "cm"
    dpi = (a.get("x_density", 300), a.get("y_density", 300))
    if per_cm:
        dpi = tuple(round(d * 2.54) for d in dpi)
    options = {"quality": a.get("quality", 95), "progressive": a.get("progressive", False),
               "optimize": a.get("optimize_size", False),
               "subsampling": 2 if a.get("chroma_downsampling", True) else 0, "dpi": dpi}
    if a.get("xmp_metadata"):
        options["xmp"] = a["xmp_metadata"].encode("utf-8")

    def encode_jpeg_(image):
        x = np.asarray(host(image))
        want = {"grayscale": 1, "rgb": 3}.get(fmt)
        if x.ndim != 3 or x.shape[2] not in (1, 3) or (want and x.shape[2] != want):
            raise errors.InvalidArgumentError(None, op, f"EncodeJpeg: image must be [height, "
                                              f"width, {want or '1 or 3'}], got "
                                              f"{list(x.shape)}")
        buf = io.BytesIO()
        img = _to_pil(op, x)
        img.save(buf, format="JPEG", **(options if img.mode == "RGB" else
                                        {k: v for k, v in options.items()
                                         if k != "subsampling"}))
        return np.array(buf.getvalue(), dtype=object)
    return encode_jpeg_


register_op("EncodePng", infer=_encode_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_encode_png_kernel, host_only=True,
            doc="A uint8/uint16 [h, w, c] image as PNG bytes (a string scalar).")
register_op("EncodeJpeg", infer=_encode_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_encode_jpeg_kernel, host_only=True,
            doc="A uint8 [h, w, 1 or 3] image as JPEG bytes (a string scalar).")


def encode_png(image, compression: int = -1, name: str | None = None) -> Tensor:
    """PNG bytes (a string scalar) of a uint8 or uint16 [height, width, channels] image;
    `compression` 0-9 is the zlib level, -1 the default (6).

    Raises:
        ValueError: `compression` is outside [-1, 9].
    """
    pillow()
    if not -1 <= int(compression) <= 9:
        raise ValueError(f"encode_png: compression must be in [-1, 9], got {compression}")
    return out1("EncodePng", [convert_to_tensor(image, name="image")],
                {"compression": int(compression)}, name or "EncodePng")


def encode_jpeg(image, format: str = "", quality: int = 95, progressive: bool = False,  # noqa: A002
                optimize_size: bool = False, chroma_downsampling: bool = True,
                density_unit: str = "in", x_density: int = 300, y_density: int = 300,
                xmp_metadata: str = "", name: str | None = None) -> Tensor:
    """JPEG bytes (a string scalar) of a uint8 [height, width, 1 or 3] image. `format`
    '' follows the channels, 'grayscale' and 'rgb' require 1 and 3; `quality` is 0-100;
    `chroma_downsampling` selects 4:2:0 (else 4:4:4).

    Raises:
        ValueError: an unknown format or density unit, or quality outside [0, 100].
    """
    pillow()
    if format not in ("", "grayscale", "rgb"):
        raise ValueError(f"encode_jpeg: format must be '', 'grayscale' or 'rgb', got "
                         f"{format!r}")
    if density_unit not in ("in", "cm"):
        raise ValueError(f"encode_jpeg: density_unit must be 'in' or 'cm', got "
                         f"{density_unit!r}")
    if not 0 <= int(quality) <= 100:
        raise ValueError(f"encode_jpeg: quality must be in [0, 100], got {quality}")
    attrs = {"format": format, "quality": int(quality), "progressive": bool(progressive),
             "optimize_size": bool(optimize_size),
             "chroma_downsampling": bool(chroma_downsampling), "density_unit": density_unit,
             "x_density": int(x_density), "y_density": int(y_density),
             "xmp_metadata": str(xmp_metadata)}
    return out1("EncodeJpeg", [convert_to_tensor(image, name="image")], attrs,
                name or "EncodeJpeg")
