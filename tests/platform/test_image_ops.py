"""tf.image: values against TensorFlow's (fixtures/image_ops.npz, written by
fixtures/make_image_fixtures.py with TF), static shapes and dtypes, argument errors,
gradients, the random ops' reproducibility and distributions, and the Pillow codecs."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest

import actorflow as tf
from actorflow import image as im

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "image_ops.npz"))
FLOAT = FIXTURES["in_float"]
U8 = FIXTURES["in_uint8"]
GRAD_W = FIXTURES["in_grad_w"]


def run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


# -- values against TensorFlow -------------------------------------------------------------------
def _resize_cases():
    cases = {}
    fns = {"bilinear": (im.resize_bilinear, FLOAT), "bilinear_u8": (im.resize_bilinear, U8),
           "nearest": (im.resize_nearest_neighbor, U8), "bicubic": (im.resize_bicubic, FLOAT)}
    for size in [(8, 11), (3, 4), (2, 3)]:
        sz = f"{size[0]}x{size[1]}"
        for ac, hp in [(False, False), (True, False), (False, True)]:
            for kind, (fn, x) in fns.items():
                key = f"{kind}_ac{int(ac)}_hp{int(hp)}_{sz}"
                cases[key] = (lambda fn=fn, x=x, size=size, ac=ac, hp=hp:
                              fn(x, size, align_corners=ac, half_pixel_centers=hp),
                              2e-4 if x is U8 else 2e-6)
        for ac in (False, True):
            cases[f"area_ac{int(ac)}_{sz}"] = (
                lambda size=size, ac=ac: im.resize_area(FLOAT, size, align_corners=ac), 2e-6)
    return cases


def _wide():
    return tf.constant(np.array([-0.5, 0.0, 0.25, 0.5, 0.999, 1.0, 1.5], np.float32))


VALUE_CASES = {
    **_resize_cases(),
    "resize_images_u8_same": (lambda: im.resize_images(U8, (5, 7)), 0),
    "resize_images_nearest_3d": (lambda: im.resize_images(
        U8[0], (9, 4), method=im.ResizeMethod.NEAREST_NEIGHBOR), 0),
    "resize_images_aspect": (lambda: im.resize_images(FLOAT, (10, 10),
                                                      preserve_aspect_ratio=True), 2e-6),
    "standardize_u8": (lambda: im.per_image_standardization(U8), 1e-5),
    "standardize_u8_3d": (lambda: im.per_image_standardization(U8[1]), 1e-5),
    "standardize_uniform": (lambda: im.per_image_standardization(tf.fill([4, 4, 3], 7.0)),
                            0),
    "contrast_f_1.7": (lambda: im.adjust_contrast(FLOAT, 1.7), 1e-6),
    "contrast_f_0.3": (lambda: im.adjust_contrast(FLOAT, 0.3), 1e-6),
    "contrast_u8_1.7": (lambda: im.adjust_contrast(U8, 1.7), 0),
    "brightness_f_0.2": (lambda: im.adjust_brightness(FLOAT, 0.2), 0),
    "brightness_u8_0.2": (lambda: im.adjust_brightness(U8, 0.2), 0),
    "brightness_u8_-0.3": (lambda: im.adjust_brightness(U8, -0.3), 0),
    "hue_f_0.3": (lambda: im.adjust_hue(FLOAT, 0.3), 1e-6),
    "hue_f_-0.45": (lambda: im.adjust_hue(FLOAT, -0.45), 1e-6),
    "hue_f_0.9": (lambda: im.adjust_hue(FLOAT, 0.9), 1e-6),
    "hue_u8_0.3": (lambda: im.adjust_hue(U8, 0.3), 0),
    "saturation_f_0.5": (lambda: im.adjust_saturation(FLOAT, 0.5), 1e-6),
    "saturation_f_2.5": (lambda: im.adjust_saturation(FLOAT, 2.5), 1e-6),
    "saturation_u8_0.5": (lambda: im.adjust_saturation(U8, 0.5), 0),
    "rgb_to_hsv": (lambda: im.rgb_to_hsv(FLOAT), 1e-6),
    "hsv_to_rgb": (lambda: im.hsv_to_rgb(FLOAT), 1e-6),
    "grayscale_u8": (lambda: im.rgb_to_grayscale(U8), 0),
    "grayscale_f": (lambda: im.rgb_to_grayscale(FLOAT), 1e-6),
    "convert_f_u8": (lambda: im.convert_image_dtype(_wide()[1:6], tf.uint8), 0),
    "convert_f_u8_sat": (lambda: im.convert_image_dtype(_wide(), tf.uint8, saturate=True), 0),
    "convert_f_i16_sat": (lambda: im.convert_image_dtype(_wide(), tf.int16, saturate=True),
                          0),
    "convert_u8_f": (lambda: im.convert_image_dtype(U8, tf.float32), 0),
    "convert_u8_i32": (lambda: im.convert_image_dtype(U8, tf.int32), 0),
    "convert_u8_u16": (lambda: im.convert_image_dtype(U8, tf.uint16), 0),
    "convert_i32_u8": (lambda: im.convert_image_dtype(
        tf.constant(np.array([0, 1, 255, 256, 65535, 2**31 - 1], np.int32)), tf.uint8), 0),
    "convert_i32_u16": (lambda: im.convert_image_dtype(
        tf.constant(np.array([0, 1, 255, 256, 65535, 2**31 - 1], np.int32)), tf.uint16), 0),
    "rot90_1": (lambda: im.rot90(U8[0], 1), 0),
    "rot90_2": (lambda: im.rot90(U8[0], 2), 0),
    "rot90_3": (lambda: im.rot90(U8[0], 3), 0),
    "rot90_batch_1": (lambda: im.rot90(U8, 1), 0),
    "central_crop_0.5": (lambda: im.central_crop(U8[0], 0.5), 0),
    "central_crop_batch_0.6": (lambda: im.central_crop(U8, 0.6), 0),
    "crop_or_pad_3x9": (lambda: im.resize_image_with_crop_or_pad(U8[0], 3, 9), 0),
    "crop_or_pad_8x4": (lambda: im.resize_image_with_crop_or_pad(U8, 8, 4), 0),
    "crop_or_pad_2x2": (lambda: im.resize_image_with_crop_or_pad(U8[0], 2, 2), 0),
    "pad_to_box": (lambda: im.pad_to_bounding_box(U8[0], 1, 2, 8, 10), 0),
    "crop_to_box": (lambda: im.crop_to_bounding_box(U8, 1, 2, 3, 4), 0),
    "transpose": (lambda: im.transpose_image(U8), 0),
    "gamma_f_0.5_2": (lambda: im.adjust_gamma(FLOAT, 0.5, 2.0), 1e-6),
    "gamma_u8_2.2": (lambda: im.adjust_gamma(U8, 2.2), 0),
    "resize_with_pad_9x4": (lambda: im.resize_image_with_pad(FLOAT[0], 9, 4), 2e-6),
    "resize_with_pad_batch_8x16": (lambda: im.resize_image_with_pad(
        FLOAT, 8, 16, method=im.ResizeMethod.NEAREST_NEIGHBOR), 0),
    "total_variation_3d": (lambda: im.total_variation(FLOAT[0]), 1e-5),
    "total_variation_4d": (lambda: im.total_variation(FLOAT), 1e-5),
    "image_gradients_dy": (lambda: im.image_gradients(FLOAT)[0], 0),
    "image_gradients_dx": (lambda: im.image_gradients(FLOAT)[1], 0),
    "psnr_f": (lambda: im.psnr(FLOAT, FLOAT * np.float32(0.9), 1.0), 1e-5),
    "psnr_u8": (lambda: im.psnr(U8, U8 // 2, 255), 1e-5),
}


@pytest.mark.parametrize("key", sorted(VALUE_CASES))
def test_matches_tensorflow(key):
    build, atol = VALUE_CASES[key]
    want = FIXTURES[key]
    if key == "convert_f_u8":  # TF leaves out-of-range casts undefined: in-range values only
        want = want[1:6]
    t = build()
    assert t.dtype.as_numpy_dtype == want.dtype, f"{key}: dtype {t.dtype.name}"
    assert t.get_shape().is_compatible_with(want.shape)
    assert t.get_shape().is_fully_defined(), f"{key}: static shape {t.get_shape()}"
    got = run(t)
    assert got.dtype == want.dtype and got.shape == want.shape
    if atol == 0:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, atol=atol, rtol=1e-6)


@pytest.mark.parametrize("kind,fn", [("bilinear", im.resize_bilinear),
                                     ("bicubic", im.resize_bicubic),
                                     ("nearest", im.resize_nearest_neighbor)])
@pytest.mark.parametrize("ac,hp", [(False, False), (True, False), (False, True)])
def test_resize_gradients_match_tensorflow(kind, fn, ac, hp):
    x = tf.constant(FLOAT)
    y = fn(x, (8, 11), align_corners=ac, half_pixel_centers=hp)
    g = tf.gradients(tf.reduce_sum(y * GRAD_W), x)[0]
    np.testing.assert_allclose(run(g), FIXTURES[f"grad_{kind}_ac{int(ac)}_hp{int(hp)}"],
                               atol=2e-5, rtol=1e-5)


# -- the book's CIFAR-10 distortions -------------------------------------------------------------
def _distorted(image, seed=None):
    """cifar10_input.distorted_inputs' chain on one [32, 32, 3] image."""
    f = tf.cast(image, tf.float32)
    crop = tf.random_crop(f, [24, 24, 3], seed=seed)
    flip = im.random_flip_left_right(crop, seed=seed)
    bright = im.random_brightness(flip, max_delta=63, seed=seed)
    contrast = im.random_contrast(bright, lower=0.2, upper=1.8, seed=seed)
    return im.per_image_standardization(contrast)


def test_distorted_chain_shapes_and_statistics():
    x = tf.placeholder(tf.uint8, [32, 32, 3])
    out = _distorted(x, seed=5)
    assert out.get_shape().as_list() == [24, 24, 3] and out.dtype == tf.float32
    data = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    with tf.Session() as sess:
        for d in data:
            v = sess.run(out, {x: d})
            assert abs(v.mean()) < 1e-5 and abs(v.std() - 1) < 1e-4


def test_distorted_chain_is_reproducible_per_seed():
    data = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)

    def draws(seed):
        tf.reset_default_graph()
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.uint8, [32, 32, 3])
        out = _distorted(x)
        with tf.Session() as sess:
            return [sess.run(out, {x: d}) for d in data]

    a, b, c = draws(7), draws(7), draws(8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert any(not np.array_equal(u, w) for u, w in zip(a, c))


# -- random ops: distributions -------------------------------------------------------------------
@pytest.mark.parametrize("fn,axis", [(im.random_flip_left_right, 1),
                                     (im.random_flip_up_down, 0)])
def test_random_flip_happens_about_half_the_time(fn, axis):
    xv = np.arange(6, dtype=np.float32).reshape(2, 3, 1)
    y = fn(tf.constant(xv), seed=3)
    flipped = 0
    with tf.Session() as sess:
        for _ in range(400):
            v = sess.run(y)
            if np.array_equal(v, np.flip(xv, axis)):
                flipped += 1
            else:
                np.testing.assert_array_equal(v, xv)
    assert 150 < flipped < 250, flipped


def test_random_flip_batch_draws_per_image():
    batch = np.arange(200 * 2 * 3, dtype=np.float32).reshape(200, 2, 3, 1)
    y = im.random_flip_left_right(tf.constant(batch), seed=4)
    assert y.get_shape().as_list() == [200, 2, 3, 1]
    v = run(y)
    flipped = np.array([np.array_equal(v[i], batch[i, :, ::-1]) for i in range(200)])
    kept = np.array([np.array_equal(v[i], batch[i]) for i in range(200)])
    assert np.all(flipped | kept)
    assert 70 < flipped.sum() < 130


def test_random_brightness_delta_stays_in_range():
    y = im.random_brightness(tf.zeros([2, 2, 1]), max_delta=63.0, seed=1)
    with tf.Session() as sess:
        deltas = np.array([sess.run(y)[0, 0, 0] for _ in range(500)])
    assert deltas.min() >= -63 and deltas.max() < 63
    assert deltas.min() < -50 and deltas.max() > 50  # spread over the whole range
    assert abs(deltas.mean()) < 6


def test_random_contrast_factor_stays_in_range():
    img = np.zeros((2, 1, 1), np.float32)
    img[0] = 1.0  # mean 0.5: the output is 0.5 ± 0.5 * factor
    y = im.random_contrast(tf.constant(img), lower=0.2, upper=1.8, seed=2)
    with tf.Session() as sess:
        factors = np.array([(sess.run(y)[0, 0, 0] - 0.5) / 0.5 for _ in range(300)])
    assert factors.min() >= 0.2 - 1e-6 and factors.max() < 1.8 + 1e-6
    assert factors.min() < 0.4 and factors.max() > 1.6


def test_random_hue_and_saturation_ranges():
    x = tf.constant(FLOAT[0])
    hue = im.random_hue(x, 0.2, seed=1)
    sat = im.random_saturation(x, 0.5, 1.5, seed=1)
    with tf.Session() as sess:
        for _ in range(5):
            h, s = sess.run([hue, sat])
            # value (max of r, g, b) is kept by both
            np.testing.assert_allclose(h.max(-1), FLOAT[0].max(-1), atol=1e-6)
            np.testing.assert_allclose(s.max(-1), FLOAT[0].max(-1), atol=1e-6)


@pytest.mark.parametrize("call,message", [
    (lambda x: im.random_brightness(x, -1.0), "max_delta must be non-negative"),
    (lambda x: im.random_contrast(x, 0.5, 0.5), "upper must be > lower"),
    (lambda x: im.random_contrast(x, -0.5, 0.5), "lower must be non-negative"),
    (lambda x: im.random_saturation(x, 1.0, 0.5), "upper must be > lower"),
    (lambda x: im.random_hue(x, 0.6), "max_delta must be <= 0.5"),
    (lambda x: im.random_hue(x, -0.1), "max_delta must be non-negative"),
    (lambda x: im.central_crop(x, 0.0), "central_fraction must be within"),
    (lambda x: im.crop_to_bounding_box(x, 0, 0, 6, 2), "height must be >= target + offset"),
    (lambda x: im.crop_to_bounding_box(x, -1, 0, 2, 2), "offset_height must be >= 0"),
    (lambda x: im.pad_to_bounding_box(x, 0, 3, 5, 8), "width must be <= target - offset"),
    (lambda x: im.resize_image_with_crop_or_pad(x, 0, 3), "target_height must be > 0"),
    (lambda x: im.resize_images(x, [3, 3], method=7), "Resize method is not implemented"),
    (lambda x: im.resize_images(x, [3, 3, 3]), "'size' must be a 1-D Tensor of 2"),
    (lambda x: im.flip_left_right(x[0]), "must have 3 or 4 dimensions"),
    (lambda x: im.grayscale_to_rgb(x), "Last dimension of a grayscale image"),
    (lambda x: im.resize_bilinear(x[None], [2, 2], align_corners=True,
                                  half_pixel_centers=True), "align_corners must be False"),
])
def test_argument_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(tf.constant(FLOAT[0]))


# -- static shapes, dtypes, dynamic arguments ------------------------------------------------------
def test_static_shapes_with_unknown_dimensions():
    x = tf.placeholder(tf.float32, [None, None, 3])
    assert im.resize_images(x, [4, 6]).get_shape().as_list() == [4, 6, 3]
    assert im.resize_image_with_crop_or_pad(x, 5, 9).get_shape().as_list() == [5, 9, 3]
    assert im.crop_to_bounding_box(x, 1, 1, 2, 3).get_shape().as_list() == [2, 3, 3]
    assert im.pad_to_bounding_box(x, 1, 1, 7, 8).get_shape().as_list() == [7, 8, 3]
    assert im.central_crop(x, 0.5).get_shape().as_list() == [None, None, 3]
    assert im.rot90(x).get_shape().as_list() == [None, None, 3]
    assert im.resize_bilinear(tf.placeholder(tf.uint8, [None, 5, 5, 2]),
                              [3, 3]).dtype == tf.float32
    v = np.arange(6 * 4 * 3, dtype=np.float32).reshape(6, 4, 3)
    ops = [im.resize_image_with_crop_or_pad(x, 5, 9), im.central_crop(x, 0.5),
           im.crop_to_bounding_box(x, 1, 1, 2, 3), im.pad_to_bounding_box(x, 1, 1, 7, 8)]
    got = run(ops, {x: v})
    static = [run(f(tf.constant(v))) for f in (
        lambda t: im.resize_image_with_crop_or_pad(t, 5, 9), lambda t: im.central_crop(t, 0.5),
        lambda t: im.crop_to_bounding_box(t, 1, 1, 2, 3),
        lambda t: im.pad_to_bounding_box(t, 1, 1, 7, 8))]
    for a, b in zip(got, static):
        np.testing.assert_array_equal(a, b)


def test_tensor_offsets_and_sizes():
    x = tf.constant(U8[0])
    oh = tf.placeholder(tf.int32, [])
    crop = im.crop_to_bounding_box(x, oh, 2, 3, 4)
    assert crop.get_shape().as_list() == [3, 4, 3]
    size = tf.placeholder(tf.int32, [2])
    resized = im.resize_images(x, size, method=im.ResizeMethod.NEAREST_NEIGHBOR)
    assert resized.get_shape().as_list() == [None, None, 3]
    k = tf.placeholder(tf.int32, [])
    rot = im.rot90(x, k)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(crop, {oh: 1}), U8[0, 1:4, 2:6])
        np.testing.assert_array_equal(sess.run(resized, {size: [9, 4]}),
                                      FIXTURES["resize_images_nearest_3d"])
        np.testing.assert_array_equal(sess.run(rot, {k: 3}), FIXTURES["rot90_3"])
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(crop, {oh: 3})


def test_flips_and_transpose_values():
    x = U8[0]
    np.testing.assert_array_equal(run(im.flip_left_right(x)), x[:, ::-1])
    np.testing.assert_array_equal(run(im.flip_up_down(x)), x[::-1])
    np.testing.assert_array_equal(run(im.flip_left_right(U8)), U8[:, :, ::-1])
    np.testing.assert_array_equal(run(im.flip_up_down(U8)), U8[:, ::-1])


def test_grayscale_to_rgb_and_back():
    gray = run(im.rgb_to_grayscale(U8))
    rgb = im.grayscale_to_rgb(gray)
    assert rgb.get_shape().as_list() == [2, 5, 7, 3]
    np.testing.assert_array_equal(run(rgb), np.repeat(gray, 3, axis=-1))


def test_hsv_round_trip():
    back = run(im.hsv_to_rgb(im.rgb_to_hsv(FLOAT)))
    np.testing.assert_allclose(back, FLOAT, atol=1e-6)


def test_resize_area_and_bicubic_preserve_constant_images():
    x = np.full((1, 6, 5, 2), 3.5, np.float32)
    for method in (im.ResizeMethod.AREA, im.ResizeMethod.BICUBIC, im.ResizeMethod.BILINEAR):
        for size in ([4, 3], [11, 13]):
            np.testing.assert_allclose(run(im.resize_images(x, size, method=method)), 3.5,
                                       rtol=1e-5)


# -- gradients -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: tf.random_crop(x, [3, 2, 2], seed=1),
    lambda x: im.random_flip_left_right(x, seed=1),
    lambda x: im.random_flip_up_down(x, seed=2),
    lambda x: im.flip_left_right(x),
    lambda x: im.rot90(x, 3),
    lambda x: im.central_crop(x, 0.5),
    lambda x: im.resize_image_with_crop_or_pad(x, 3, 6),
    lambda x: im.random_brightness(x, 0.3, seed=1),
    lambda x: im.random_contrast(x, 0.5, 1.5, seed=1),
    lambda x: im.per_image_standardization(x),
], ids=["random_crop", "random_flip_lr", "random_flip_ud", "flip", "rot90", "central_crop",
        "crop_or_pad", "random_brightness", "random_contrast", "standardization"])
def test_random_and_geometric_ops_pass_gradients(fn):
    """<grad, d> against the change of sum(w * f(x)) for a small step d. Each session
    re-seeds the random ops, so both sessions' first runs make the same draw."""
    rng = np.random.default_rng(3)
    xv = rng.random((4, 4, 2)).astype(np.float32)
    step = (rng.standard_normal((4, 4, 2)) * 1e-2).astype(np.float32)
    x = tf.placeholder(tf.float32, [4, 4, 2])
    y = fn(x)
    w = rng.standard_normal(y.get_shape().as_list()).astype(np.float32)
    g = tf.gradients(tf.reduce_sum(y * w), x)[0]
    assert g is not None
    with tf.Session() as sess:
        y0, gv = sess.run([y, g], {x: xv})
    with tf.Session() as sess:
        y1 = sess.run(y, {x: xv + step})
    change = float(np.sum(w * (y1.astype(np.float64) - y0)))
    np.testing.assert_allclose(change, float(np.sum(gv.astype(np.float64) * step)),
                               rtol=2e-2, atol=1e-4)


def test_non_differentiable_image_ops_give_no_gradient():
    x = tf.constant(FLOAT)
    for y in (im.adjust_hue(x, 0.1), im.adjust_saturation(x, 1.3), im.rgb_to_hsv(x),
              im.resize_area(x, [3, 3])):
        assert tf.gradients(tf.reduce_sum(y), x) == [None]


# -- codecs (Pillow) -----------------------------------------------------------------------------
def _pil():
    return pytest.importorskip("PIL.Image", reason="the codec ops need Pillow "
                                                   "(pip install 'actorflow[image]')")


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trip(channels):
    _pil()
    img = np.random.default_rng(channels).integers(0, 256, (6, 5, channels), dtype=np.uint8)
    data = im.encode_png(img, compression=9)
    assert data.dtype == tf.string and data.get_shape().as_list() == []
    decoded = im.decode_png(data)
    assert decoded.get_shape().as_list() == [None, None, None]
    assert im.decode_png(data, channels=channels).get_shape().as_list() == [None, None,
                                                                            channels]
    np.testing.assert_array_equal(run(decoded), img)


def test_png_matches_tensorflow():
    _pil()
    png = tf.constant(FIXTURES["png_bytes"].tobytes())
    u16, gray = run([im.decode_png(png, dtype=tf.uint16), im.decode_png(png, channels=1)])
    np.testing.assert_array_equal(u16, FIXTURES["png_decoded_u16"])
    # libpng's and Pillow's luminance round differently
    assert np.abs(gray.astype(int) - FIXTURES["png_decoded_gray"]).max() <= 1
    # TF's PNG decodes to the same pixels here
    np.testing.assert_array_equal(run(im.decode_png(im.encode_png(U8[0]))), U8[0])


def test_png_sixteen_bit_grayscale():
    _pil()
    img = (np.arange(4 * 3, dtype=np.uint16) * 5000).reshape(4, 3, 1)
    data = im.encode_png(tf.constant(img))
    np.testing.assert_array_equal(run(im.decode_png(data, dtype=tf.uint16)), img)
    np.testing.assert_array_equal(run(im.decode_png(data)), (img >> 8).astype(np.uint8))
    with pytest.raises(tf.errors.UnimplementedError, match="16-bit"):
        run(im.encode_png(tf.constant(np.zeros((2, 2, 3), np.uint16))))


def test_jpeg_round_trip_and_grayscale():
    _pil()
    i, j = np.mgrid[0:16, 0:24]
    img = np.stack([i * 15, j * 10, (i + j) * 6], axis=-1).astype(np.uint8)
    data = im.encode_jpeg(img, quality=95)
    back, gray, small = run([im.decode_jpeg(data), im.decode_jpeg(data, channels=1),
                             im.decode_jpeg(data, ratio=2)])
    assert back.shape == (16, 24, 3) and gray.shape == (16, 24, 1) and small.shape == (8, 12, 3)
    assert np.abs(back.astype(int) - img).mean() < 2
    jpeg = tf.constant(FIXTURES["jpeg_bytes"].tobytes())
    tf_gray = FIXTURES["jpeg_decoded_gray"].astype(int)
    assert np.abs(run(im.decode_jpeg(jpeg, channels=1)).astype(int) - tf_gray).max() <= 6
    halved = run(im.decode_jpeg(jpeg, ratio=2))  # 5x7 -> 3x4: DCT scaling rounds up
    tf_halved = FIXTURES["jpeg_decoded_ratio2"]
    assert halved.shape == tf_halved.shape == (3, 4, 3)
    assert np.abs(halved.astype(int) - tf_halved).max() <= 6
    with pytest.raises(tf.errors.InvalidArgumentError, match="EncodeJpeg"):
        run(im.encode_jpeg(img[:, :, :1], format="rgb"))


def test_decode_image_formats_and_dtypes():
    image = _pil()
    import io as _io
    frames = [image.fromarray(np.full((4, 5, 3), 40 * k, np.uint8)) for k in range(3)]
    buf = _io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    gif = tf.constant(buf.getvalue())
    png = tf.constant(FIXTURES["png_bytes"].tobytes())
    animated = im.decode_image(gif)
    first = im.decode_image(gif, expand_animations=False)
    as_float = im.decode_image(png, dtype=tf.float32)
    assert animated.get_shape().ndims is None
    assert first.get_shape().as_list() == [None, None, None]
    assert as_float.dtype == tf.float32
    a, f, fl = run([animated, first, as_float])
    assert a.shape == (3, 4, 5, 3) and f.shape == (4, 5, 3)
    np.testing.assert_array_equal(a[:, 0, 0, 0], [0, 40, 80])
    np.testing.assert_allclose(fl, U8[0] / 255.0, atol=1e-6)
    is_jpeg = run([im.is_jpeg(png), im.is_jpeg(tf.constant(FIXTURES["jpeg_bytes"].tobytes()))])
    assert [bool(v) for v in is_jpeg] == [False, True]


def test_decode_rejects_garbage():
    _pil()
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot decode"):
        run(im.decode_png(tf.constant(b"not an image")))


def test_codecs_without_pillow_name_the_extra(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    for call in (lambda: im.decode_png(tf.constant(b"")), lambda: im.encode_png(U8[0]),
                 lambda: im.decode_jpeg(tf.constant(b"")), lambda: im.decode_image(b"")):
        with pytest.raises(ImportError, match=re.escape("actorflow[image]")):
            call()


def test_random_flip_with_unknown_batch_size():
    x = tf.placeholder(tf.float32, [None, 2, 3, 1])
    y = im.random_flip_up_down(x, seed=6)
    assert y.get_shape().as_list() == [None, 2, 3, 1]
    batch = np.arange(50 * 6, dtype=np.float32).reshape(50, 2, 3, 1)
    v = run(y, {x: batch})
    flipped = np.array([np.array_equal(v[i], batch[i, ::-1]) for i in range(50)])
    assert 10 < flipped.sum() < 40
    assert all(flipped[i] or np.array_equal(v[i], batch[i]) for i in range(50))


def test_resize_image_with_pad_dynamic_matches_static():
    x = tf.placeholder(tf.float32, [None, None, 3])
    th = tf.placeholder(tf.int32, [])
    padded = im.resize_image_with_pad(x, th, 4)
    assert padded.get_shape().as_list() == [None, 4, 3]
    np.testing.assert_allclose(run(padded, {x: FLOAT[0], th: 9}),
                               FIXTURES["resize_with_pad_9x4"], atol=2e-6)
    with pytest.raises(ValueError, match="target_width must be > 0"):
        im.resize_image_with_pad(x, 3, 0)


def test_convert_image_dtype_saturates_to_int32_without_wrapping():
    x = tf.constant(np.array([-1.0, 0.5, 1.0, 1.5], np.float32))
    got = run(im.convert_image_dtype(x, tf.int32, saturate=True))
    assert got.dtype == np.int32 and got[0] == -2**31  # signed: -1.0 maps to the minimum
    # float32 cannot hold 2**31 - 1: the largest float32 below it is the ceiling
    assert got[2] == got[3] == 2147483520
    assert got[1] == np.int32(np.float32(0.5) * np.float32(2147483647.5))
