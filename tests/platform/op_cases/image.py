"""Cases for the tf.image ops. References are TensorFlow's outputs on the same inputs
(fixtures/image_ops.npz, written by fixtures/make_image_fixtures.py) or NumPy; the codec
cases skip when Pillow (the `image` extra) is missing."""
import io
import os

import numpy as np
import pytest

import actorflow as tf
from actorflow import image as im
from actorflow.ops._common import out1

from . import OpCase, randn

FIX = np.load(os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures",
                           "image_ops.npz"))
FLOAT, U8, GRAD_W = FIX["in_float"], FIX["in_uint8"], FIX["in_grad_w"]
PNG = FIX["png_bytes"].tobytes()
JPEG = FIX["jpeg_bytes"].tobytes()


def _pillow():
    return pytest.importorskip("PIL.Image", reason="the codec ops need Pillow "
                                                   "(pip install 'actorflow[image]')")


def _np_contrast(x, f):
    mean = x.mean(axis=(-3, -2), keepdims=True)
    return (x - mean) * f + mean


def _encoded_png_check(outs, inputs):
    image = _pillow()
    got = np.asarray(image.open(io.BytesIO(outs[0])))
    np.testing.assert_array_equal(got, U8[0])


def _smooth_image() -> np.ndarray:
    """A 16x16 colour ramp: JPEG keeps smooth images close (noise it does not)."""
    i, j = np.mgrid[0:16, 0:16]
    return np.stack([i * 15, j * 15, (i + j) * 7], axis=-1).astype(np.uint8)


def _encoded_jpeg_check(outs, inputs):
    image = _pillow()
    data = outs[0]
    assert data[:3] == b"\xff\xd8\xff"
    got = np.asarray(image.open(io.BytesIO(data))).astype(np.float64)
    assert got.shape == (16, 16, 3)
    assert np.abs(got - _smooth_image()).mean() < 2


def _decoded_jpeg_check(outs, inputs):
    """Pillow's libjpeg and TF's use different IDCTs: levels differ by a few at most."""
    got, want = outs[0].astype(np.int64), FIX["jpeg_decoded"].astype(np.int64)
    assert got.shape == want.shape and outs[0].dtype == np.uint8
    assert np.abs(got - want).max() <= 6 and np.abs(got - want).mean() < 2


def _codec(build):
    def wrapped(*args):
        _pillow()
        return build(*args)
    return wrapped


F64 = FLOAT.astype(np.float64)

CASES = [
    OpCase("Rot90", lambda x: im.rot90(x, 1), [randn(3, 4, 2)],
           reference=lambda x: np.rot90(x, 1, axes=(0, 1))),
    OpCase("Rot90", lambda x: im.rot90(x, 3), [randn(2, 3, 4, 1)],
           reference=lambda x: np.rot90(x, 3, axes=(1, 2)), name="batch"),
    OpCase("AdjustContrastv2", lambda x, f: out1("AdjustContrastv2", [x, f]),
           [randn(2, 3, 4, 2), np.array(1.7)], reference=_np_contrast),
    OpCase("AdjustContrastv2", lambda x: im.adjust_contrast(x, 0.3), [FLOAT],
           reference=lambda x: FIX["contrast_f_0.3"], grad=False, name="tf"),
    OpCase("AdjustHue", lambda x: im.adjust_hue(x, 0.3), [FLOAT],
           reference=lambda x: FIX["hue_f_0.3"], grad=False),
    OpCase("AdjustSaturation", lambda x: im.adjust_saturation(x, 2.5), [FLOAT],
           reference=lambda x: FIX["saturation_f_2.5"], grad=False),
    OpCase("RGBToHSV", im.rgb_to_hsv, [FLOAT], reference=lambda x: FIX["rgb_to_hsv"],
           grad=False),
    OpCase("HSVToRGB", im.hsv_to_rgb, [FLOAT], reference=lambda x: FIX["hsv_to_rgb"],
           grad=False),
    OpCase("ResizeBilinear", lambda x: im.resize_bilinear(x, [8, 11]), [F64],
           reference=lambda x: FIX["bilinear_ac0_hp0_8x11"], atol=1e-5),
    OpCase("ResizeBilinear", lambda x: im.resize_bilinear(x, [2, 5],
                                                          align_corners=True),
           [F64[:1, :3, :4, :1].copy()],
           reference=lambda x: _np_bilinear_aligned(x, 2, 5), name="align_corners"),
    OpCase("ResizeNearestNeighbor", lambda x: im.resize_nearest_neighbor(x, [8, 11]), [U8],
           reference=lambda x: FIX["nearest_ac0_hp0_8x11"], grad=False),
    OpCase("ResizeNearestNeighbor",
           lambda x: im.resize_nearest_neighbor(x, [3, 4], align_corners=True),
           [U8[:1, :, :, :2].astype(np.float64)],
           reference=lambda x: FIX["nearest_ac1_hp0_3x4"][:1, :, :, :2], name="float64"),
    OpCase("ResizeBicubic", lambda x: im.resize_bicubic(x, [3, 4]), [F64[:1, :, :, :1].copy()],
           reference=lambda x: FIX["bicubic_ac0_hp0_3x4"][:1, :, :, :1], atol=1e-5),
    OpCase("ResizeArea", lambda x: im.resize_area(x, [3, 4]), [FLOAT],
           reference=lambda x: FIX["area_ac0_3x4"], grad=False),
    OpCase("ResizeBilinearGrad", lambda g, x: out1("ResizeBilinearGrad", [g, x]),
           [GRAD_W, FLOAT], reference=lambda g, x: FIX["grad_bilinear_ac0_hp0"], grad=False,
           atol=2e-5),
    OpCase("ResizeBicubicGrad",
           lambda g, x: out1("ResizeBicubicGrad", [g, x], {"half_pixel_centers": True}),
           [GRAD_W, FLOAT], reference=lambda g, x: FIX["grad_bicubic_ac0_hp1"], grad=False,
           atol=2e-5),
    OpCase("ResizeNearestNeighborGrad",
           lambda g: out1("ResizeNearestNeighborGrad", [g, tf.constant([5, 7])],
                          {"align_corners": True}),
           [GRAD_W], reference=lambda g: FIX["grad_nearest_ac1_hp0"], grad=False, atol=2e-5),
    OpCase("DecodePng", _codec(lambda: im.decode_png(tf.constant(PNG))),
           reference=lambda: U8[0], grad=False),
    OpCase("DecodeJpeg", _codec(lambda: im.decode_jpeg(tf.constant(JPEG))),
           check=_decoded_jpeg_check, grad=False),
    OpCase("DecodeImage", _codec(lambda: im.decode_image(tf.constant(PNG))),
           reference=lambda: U8[0], grad=False),
    OpCase("EncodePng", _codec(lambda: im.encode_png(tf.constant(U8[0]))),
           check=_encoded_png_check, grad=False),
    OpCase("EncodeJpeg", _codec(lambda: im.encode_jpeg(tf.constant(_smooth_image()))),
           check=_encoded_jpeg_check, grad=False),
    OpCase("IsJpeg", lambda: [im.is_jpeg(tf.constant(JPEG)), im.is_jpeg(tf.constant(PNG))],
           reference=lambda: [np.array(True), np.array(False)], grad=False),
]


def _np_bilinear_aligned(x, oh, ow):
    """Bilinear resize with aligned corners, pixel by pixel (an independent reference)."""
    n, h, w, c = x.shape
    out = np.zeros((n, oh, ow, c))
    sy = (h - 1) / (oh - 1) if oh > 1 else 0.0
    sx = (w - 1) / (ow - 1) if ow > 1 else 0.0
    for i in range(oh):
        for j in range(ow):
            y, xx = i * sy, j * sx
            y0, x0 = int(np.floor(y)), int(np.floor(xx))
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            dy, dx = y - y0, xx - x0
            out[:, i, j] = ((1 - dy) * ((1 - dx) * x[:, y0, x0] + dx * x[:, y0, x1])
                            + dy * ((1 - dx) * x[:, y1, x0] + dx * x[:, y1, x1]))
    return out
