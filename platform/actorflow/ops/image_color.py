"""`tf.image` photometric adjustments and colour spaces (TF 1.x semantics).

Registers:
  AdjustContrastv2: per image and channel, (x - mean) * factor + mean, the mean taken over
      height and width. Differentiable here (linear in x and in the factor), although TF
      registers no gradient for it.
  AdjustHue: hue rotated by delta (a fraction of the colour wheel), saturation and value kept.
  AdjustSaturation: HSV saturation multiplied by a factor and clipped to [0, 1].
  RGBToHSV, HSVToRGB: colour-space conversions of float images with 3 channels, hue in [0, 1).

The hue and saturation kernels repeat TF's CPU arithmetic (its own RGB <-> hue-range
formulas, its wrap-around loops) in vectorised NumPy, so results agree to float rounding.
`adjust_brightness` is an Add; `rgb_to_grayscale` a weighted sum; `grayscale_to_rgb` a Tile.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, convert_to_tensor, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import out1
from .image_ops import convert_image_dtype

__all__ = ["adjust_brightness", "random_brightness", "adjust_gamma", "adjust_contrast",
           "random_contrast",
           "adjust_hue", "random_hue", "adjust_saturation", "random_saturation", "rgb_to_hsv",
           "hsv_to_rgb", "rgb_to_grayscale", "grayscale_to_rgb"]


# -- shared rules ----------------------------------------------------------------------------
def _rgb_infer(op):
    """One output like input 0: a float image whose last dimension is 3, and scalar
    further inputs."""
    x = op.inputs[0]
    if not x.dtype.is_floating:
        raise TypeError(f"{op.type} expects a floating point image, got {x.dtype.name}")
    if x._shape is not None:
        if not x._shape:
            raise ValueError(f"{op.type}: the image must have at least 1 dimension")
        if x._shape[-1] not in (None, 3):
            raise ValueError(f"{op.type}: the image must have 3 channels, got shape "
                             f"{list(x._shape)}")
    for t in op.inputs[1:]:
        if t._shape not in (None, ()):
            raise ValueError(f"{op.type}: {t.name} must be a scalar, got shape "
                             f"{list(t._shape)}")
    return [(x.dtype, x._shape)]


def _check_channels(op, x) -> None:
    if x.ndim == 0 or x.shape[-1] != 3:
        raise errors.InvalidArgumentError(None, op, f"{op.type}: input must have 3 channels "
                                          f"but input only has shape {list(x.shape)}")


def _work_dtype(dt):
    """Half images are computed in float32, as TF's kernels do."""
    return np.dtype(np.float32) if dt == np.float16 else np.dtype(dt)


# -- RGBToHSV / HSVToRGB (TF's Eigen formulas) -------------------------------------------------
def rgb_to_hsv_values(x: np.ndarray) -> np.ndarray:
    """HSV of an RGB array (last axis 3), hue and saturation in [0, 1]."""
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    dt = x.dtype.type
    v = np.maximum(np.maximum(r, g), b)
    span = v - np.minimum(np.minimum(r, g), b)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(v > 0, span / v, dt(0))
        norm = dt(1) / (dt(6) * span)
        h = np.where(r == v, norm * (g - b),
                     np.where(g == v, norm * (b - r) + dt(2) / dt(6),
                              norm * (r - g) + dt(4) / dt(6)))
    h = np.where(span > 0, h, dt(0))
    h = np.where(h < 0, h + dt(1), h)
    return np.stack([h, s, v], axis=-1).astype(x.dtype, copy=False)


def hsv_to_rgb_values(x: np.ndarray) -> np.ndarray:
    """RGB of an HSV array (last axis 3)."""
    h, s, v = x[..., 0], x[..., 1], x[..., 2]
    dt = x.dtype.type
    dh = h * dt(6)
    dr = np.clip(np.abs(dh - dt(3)) - dt(1), 0, 1)
    dg = np.clip(-np.abs(dh - dt(2)) + dt(2), 0, 1)
    db = np.clip(-np.abs(dh - dt(4)) + dt(2), 0, 1)
    one_minus_s = dt(1) - s
    out = [(one_minus_s + s * d) * v for d in (dr, dg, db)]
    return np.stack(out, axis=-1).astype(x.dtype, copy=False)


def _rgb_kernel(fn):
    """A host kernel applying ``fn(image in its working float dtype, *scalar args)`` to an
    RGB image and returning the input's dtype (colour-space conversions and adjustments)."""
    def factory(op, ctx):
        xp = ctx.xp

        def rgb_kernel(x, *scalars):
            _check_channels(op, x)
            wd = _work_dtype(x.dtype)
            out = fn(np.asarray(x, dtype=wd), *(float(v) for v in scalars))
            return xp.asarray(out.astype(x.dtype, copy=False))
        return rgb_kernel
    factory.__name__ = f"{fn.__name__}_kernel"
    return factory


register_op("RGBToHSV", infer=_rgb_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_rgb_kernel(rgb_to_hsv_values), host_only=True,
            doc="HSV of a float RGB image (last dimension 3), each component in [0, 1].")
register_op("HSVToRGB", infer=_rgb_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_rgb_kernel(hsv_to_rgb_values), host_only=True,
            doc="RGB of a float HSV image (last dimension 3).")


def rgb_to_hsv(images, name: str | None = None) -> Tensor:
    """`images` (float, last dimension 3) converted from RGB to HSV; hue, saturation and
    value in [0, 1] for RGB values in [0, 1]."""
    return out1("RGBToHSV", [convert_to_tensor(images, name="images")], None,
                name or "RGBToHSV")


def hsv_to_rgb(images, name: str | None = None) -> Tensor:
    """`images` (float, last dimension 3) converted from HSV to RGB."""
    return out1("HSVToRGB", [convert_to_tensor(images, name="images")], None,
                name or "HSVToRGB")


# -- AdjustHue (TF's hue-range formulas) -------------------------------------------------------
def adjust_hue_values(x: np.ndarray, delta: float) -> np.ndarray:
    """RGB array `x` (last axis 3) with its hue turned by `delta` of the colour wheel."""
    dt = x.dtype.type
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    r_lt_g = r < g
    # the sextant of the colour wheel, by the order of r, g, b (ties go either way)
    category = np.where(r_lt_g, np.where(b < r, 1, np.where(b > g, 3, 2)),
                        np.where(b < g, 0, np.where(b > r, 4, 5)))
    v_max = np.maximum(np.maximum(r, g), b)
    v_min = np.minimum(np.minimum(r, g), b)
    v_mid = np.choose(category, [g, r, b, g, r, b])
    span = v_max - v_min
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (v_mid - v_min) / span
    increase = (category & 1) == 0
    h = category.astype(x.dtype) + np.where(increase, ratio, dt(1) - ratio)
    h = np.where(v_max == v_min, dt(0), h)
    h = h + dt(delta) * dt(6)
    # TF wraps with repeated +-6 rather than fmod (the same bits for |delta| <= 1); a huge
    # delta falls back to mod after a few rounds
    for _ in range(4):
        h = np.where(h < 0, h + dt(6), h)
        h = np.where(h >= 6, h - dt(6), h)
    if ((h < 0) | (h >= 6)).any():
        h = np.where(np.isfinite(h), np.mod(h, dt(6)), h)
    cat = h.astype(np.int64)
    ratio = h - cat.astype(x.dtype)
    ratio = np.where((cat & 1) == 0, ratio, dt(1) - ratio)
    mid = v_min + ratio * (v_max - v_min)
    cat = np.minimum(cat, 5)
    out_r = np.choose(cat, [v_max, mid, v_min, v_min, mid, v_max])
    out_g = np.choose(cat, [mid, v_max, v_max, mid, v_min, v_min])
    out_b = np.choose(cat, [v_min, v_min, mid, v_max, v_max, mid])
    return np.stack([out_r, out_g, out_b], axis=-1).astype(x.dtype, copy=False)


register_op("AdjustHue", infer=_rgb_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_rgb_kernel(adjust_hue_values), host_only=True,
            doc="A float RGB image with its hue turned by delta (a fraction of the wheel).")


# -- AdjustSaturation (TF's per-pixel HSV formulas) --------------------------------------------
def adjust_saturation_values(x: np.ndarray, scale: float) -> np.ndarray:
    """RGB array `x` (last axis 3) with its HSV saturation times `scale`, clipped to [0, 1]."""
    dt = x.dtype.type
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = np.maximum(np.maximum(r, g), b)
    span = v - np.minimum(np.minimum(r, g), b)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(v > 0, span / v, dt(0))
        norm = dt(1) / (dt(6) * span)
        h = np.where(r == v, norm * (g - b),
                     np.where(g == v, norm * (b - r) + dt(2.0 / 6.0),
                              norm * (r - g) + dt(4.0 / 6.0)))
    h = np.where(span <= 0, dt(0), h)
    h = np.where(h < 0, h + dt(1), h)
    s = np.minimum(dt(1), np.maximum(dt(0), s * dt(scale)))
    c = s * v
    m = v - c
    dh = h * dt(6)
    category = dh.astype(np.int64)
    fmodu = np.where(dh <= 0, dh + dt(2), dh)
    for _ in range(3):  # dh < 6 + rounding: three subtractions of 2 reach [0, 2)
        fmodu = np.where(fmodu >= 2, fmodu - dt(2), fmodu)
    xx = c * (dt(1) - np.abs(fmodu - dt(1)))
    zero = np.zeros_like(c)
    category = np.where((category >= 0) & (category <= 5), category, 6)  # 6: TF's default
    rr = np.choose(category, [c, xx, zero, zero, xx, c, zero])
    gg = np.choose(category, [xx, c, c, xx, zero, zero, zero])
    bb = np.choose(category, [zero, zero, xx, c, c, xx, zero])
    return np.stack([rr + m, gg + m, bb + m], axis=-1).astype(x.dtype, copy=False)


register_op("AdjustSaturation", infer=_rgb_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_rgb_kernel(adjust_saturation_values), host_only=True,
            doc="A float RGB image with its HSV saturation scaled and clipped to [0, 1].")


# -- AdjustContrastv2 --------------------------------------------------------------------------
def _contrast_infer(op):
    x, f = op.inputs
    if not x.dtype.is_floating:
        raise TypeError(f"AdjustContrastv2 expects a floating point image, got {x.dtype.name}")
    if x._shape is not None and len(x._shape) < 3:
        raise ValueError(f"AdjustContrastv2: images must be at least 3-D, got shape "
                         f"{list(x._shape)}")
    if f._shape not in (None, ()):
        raise ValueError(f"AdjustContrastv2: contrast_factor must be a scalar, got shape "
                         f"{list(f._shape)}")
    return [(x.dtype, x._shape)]


def _contrast_kernel(op, ctx):
    xp = ctx.xp
    ones_cache: dict = {}

    def adjust_contrast_(x, factor):
        if x.ndim < 3:
            raise errors.InvalidArgumentError(None, op, f"images must be at least 3-D, got "
                                              f"shape {list(x.shape)}")
        wd = _work_dtype(x.dtype)
        # contiguous first: strided elementwise passes cost twice as much on small images
        xw = xp.ascontiguousarray(x, dtype=wd)
        lead, (h, w, c) = x.shape[:-3], x.shape[-3:]
        key = (h * w, wd)
        if key not in ones_cache:
            ones_cache[key] = xp.ones(h * w, dtype=wd)
        # per-channel sums as a matrix-vector product: NumPy's reduction over the pixel
        # axis of [h*w, c] is several times slower for small c
        sums = xp.matmul(ones_cache[key], xw.reshape(lead + (h * w, c)))
        mean = (sums / wd.type(h * w)).reshape(lead + (1, 1, c))
        out = xw - mean
        out *= wd.type(float(factor))
        out += mean
        return out.astype(x.dtype, copy=False)
    return adjust_contrast_


def _contrast_grad(op, grad):
    """Returns (grad * f + mean_hw(grad) * (1 - f), sum(grad * (x - mean_hw(x))))."""
    from .math import add, cast, multiply, subtract
    from .reduction import reduce_mean, reduce_sum
    x, f = op.inputs
    f_x = cast(f, x.dtype)
    g_mean = reduce_mean(grad, axis=[-3, -2], keepdims=True)
    dx = add(multiply(grad, f_x), multiply(g_mean, subtract(1.0, f_x)))
    centred = subtract(x, reduce_mean(x, axis=[-3, -2], keepdims=True))
    df = cast(reduce_sum(multiply(grad, centred)), f.dtype)
    return [dx, df]


register_op("AdjustContrastv2", infer=_contrast_infer, grad=_contrast_grad,
            kernel=_contrast_kernel,
            doc="(x - mean) * contrast_factor + mean, per image and channel over height and "
                "width.")


# -- the TF 1.x functions --------------------------------------------------------------------
def _to_float(image: Tensor) -> Tensor:
    """Float16/32 images as they are, others converted to float32 (TF's adjust_* rule)."""
    if image.dtype in (dtypes.float16, dtypes.float32):
        return image
    return convert_image_dtype(image, dtypes.float32)


def _back(adjusted: Tensor, orig, saturate: bool) -> Tensor:
    if adjusted.dtype == orig:
        return adjusted
    return convert_image_dtype(adjusted, orig, saturate=saturate)


def adjust_brightness(image, delta) -> Tensor:
    """`image` plus `delta` (in the [0, 1] scale of float images: integer images are
    converted to float, shifted and converted back with saturation)."""
    from .math import add, cast
    with name_scope(None, "adjust_brightness", [image, delta]) as scope:
        image = convert_to_tensor(image, name="image")
        orig = image.dtype
        flt = _to_float(image)
        delta = convert_to_tensor(delta, name="delta")
        adjusted = add(flt, cast(delta, flt.dtype), name=scope if flt.dtype == orig else None)
        return _back(adjusted, orig, saturate=True)


def random_brightness(image, max_delta, seed=None) -> Tensor:
    """`adjust_brightness(image, delta)` with delta drawn uniformly from
    [-max_delta, max_delta).

    Raises:
        ValueError: `max_delta` is negative.
    """
    from .random import random_uniform
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(image, delta)


def adjust_gamma(image, gamma=1, gain=1) -> Tensor:
    """Gamma correction gain * x ** gamma on the [0, 1] scale of float images (integer
    images are converted to float and back with saturation).

    Raises:
        ValueError: a Python `gamma` is negative.
    """
    from .math import multiply, pow as pow_
    with name_scope(None, "adjust_gamma", [image, gamma, gain]):
        image = convert_to_tensor(image, name="image")
        if not isinstance(gamma, Tensor) and gamma < 0:
            raise ValueError("Gamma should be a non-negative real number.")
        orig = image.dtype
        flt = _to_float(image)
        gamma_t = convert_to_tensor(gamma, dtype=flt.dtype) if not isinstance(gamma, Tensor) \
            else gamma
        gain_t = convert_to_tensor(gain, dtype=flt.dtype) if not isinstance(gain, Tensor) \
            else gain
        adjusted = multiply(gain_t, pow_(flt, gamma_t))
        return _back(adjusted, orig, saturate=True)


def adjust_contrast(images, contrast_factor) -> Tensor:
    """Each channel of each image moved away from (factor > 1) or towards (factor < 1) its
    mean over height and width: (x - mean) * contrast_factor + mean. `images` has at least
    3 dimensions [..., height, width, channels]."""
    with name_scope(None, "adjust_contrast", [images, contrast_factor]) as scope:
        images = convert_to_tensor(images, name="images")
        orig = images.dtype
        flt = _to_float(images)
        factor = convert_to_tensor(contrast_factor, dtype=dtypes.float32,
                                   name="contrast_factor") \
            if not isinstance(contrast_factor, Tensor) else contrast_factor
        adjusted = out1("AdjustContrastv2", [flt, factor], None,
                        scope if flt.dtype == orig else "AdjustContrastv2")
        return _back(adjusted, orig, saturate=True)


def _check_range(lower, upper) -> None:
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")


def random_contrast(image, lower, upper, seed=None) -> Tensor:
    """`adjust_contrast(image, factor)` with factor drawn uniformly from [lower, upper).

    Raises:
        ValueError: upper <= lower, or lower < 0.
    """
    return _random_factor(adjust_contrast, image, lower, upper, seed)


def _random_factor(adjust, image, lower, upper, seed) -> Tensor:
    """`adjust(image, factor)` with factor drawn uniformly from [lower, upper)."""
    from .random import random_uniform
    _check_range(lower, upper)
    return adjust(image, random_uniform([], lower, upper, seed=seed))


def _adjust_via(op_type: str, default_name: str, image, amount, name) -> Tensor:
    with name_scope(name, default_name, [image]) as scope:
        image = convert_to_tensor(image, name="image")
        orig = image.dtype
        flt = _to_float(image)
        amount = convert_to_tensor(amount, dtype=dtypes.float32) \
            if not isinstance(amount, Tensor) else amount
        adjusted = out1(op_type, [flt, amount], None,
                        scope if flt.dtype == orig else op_type)
        return _back(adjusted, orig, saturate=False)


def adjust_hue(image, delta, name: str | None = None) -> Tensor:
    """An RGB image (last dimension 3) with its hue turned by `delta`, a fraction of the
    colour wheel in [-1, 1]; saturation and value unchanged."""
    return _adjust_via("AdjustHue", "adjust_hue", image, delta, name)


def random_hue(image, max_delta, seed=None) -> Tensor:
    """`adjust_hue(image, delta)` with delta drawn uniformly from [-max_delta, max_delta).

    Raises:
        ValueError: `max_delta` is not in [0, 0.5].
    """
    from .random import random_uniform
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_hue(image, delta)


def adjust_saturation(image, saturation_factor, name: str | None = None) -> Tensor:
    """An RGB image (last dimension 3) with its HSV saturation multiplied by
    `saturation_factor` and clipped to [0, 1]."""
    return _adjust_via("AdjustSaturation", "adjust_saturation", image, saturation_factor,
                       name)


def random_saturation(image, lower, upper, seed=None) -> Tensor:
    """`adjust_saturation(image, factor)` with factor drawn uniformly from [lower, upper).

    Raises:
        ValueError: upper <= lower, or lower < 0.
    """
    return _random_factor(adjust_saturation, image, lower, upper, seed)


_GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def rgb_to_grayscale(images, name: str | None = None) -> Tensor:
    """One channel 0.2989 R + 0.5870 G + 0.1140 B (in float, then back to the input's
    dtype) from RGB `images` [..., 3]; the result keeps a last dimension of 1."""
    from .math import multiply
    from .reduction import reduce_sum
    with name_scope(name, "rgb_to_grayscale", [images]) as scope:
        images = convert_to_tensor(images, name="images")
        orig = images.dtype
        flt = convert_image_dtype(images, dtypes.float32)
        weights = convert_to_tensor(np.array(_GRAY_WEIGHTS, np.float32), name="rgb_weights")
        gray = reduce_sum(multiply(flt, weights), axis=-1, keepdims=True,
                          name=scope if orig == dtypes.float32 else None)
        return gray if orig == dtypes.float32 else convert_image_dtype(gray, orig, name=scope)


def grayscale_to_rgb(images, name: str | None = None) -> Tensor:
    """Grayscale `images` [..., 1] with the channel repeated three times: [..., 3].

    Raises:
        ValueError: the last dimension is statically not 1, or the rank is below 2.
    """
    from .joining import tile
    with name_scope(name, "grayscale_to_rgb", [images]) as scope:
        images = convert_to_tensor(images, name="images")
        shape = images._shape
        if shape is None or len(shape) < 2:
            raise ValueError(f"grayscale_to_rgb: images must have a known rank of at least 2, "
                             f"got shape {images.get_shape()}")
        if shape[-1] not in (None, 1):
            raise ValueError(f"Last dimension of a grayscale image should be size 1, got "
                             f"shape {list(shape)}")
        rgb = tile(images, [1] * (len(shape) - 1) + [3], name=scope)
        rgb.set_shape(shape[:-1] + (3,))
        return rgb
