"""`tf.image` geometry, dtype conversion and standardisation (TF 1.x semantics).

Images are 3-D ``[height, width, channels]`` or, where TF 1.x allows it, 4-D batches
``[batch, height, width, channels]``. Most functions here are compositions of existing ops
(ReverseV2, Select, Slice, PadV2, Cast, reductions), so they are differentiable exactly where
TF's are. One op is registered here:

  Rot90: rotates the height/width plane counter-clockwise by k quarter turns (k an input
  tensor, so TF's ``rot90(image, k=tensor)`` needs no control flow).

Colour adjustments live in image_color.py, resizing in image_resize.py, measures (total
variation, PSNR) in image_metrics.py, codecs in image_codecs.py; `actorflow.image` gathers
them into the `tf.image` namespace.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, constant_value, convert_to_tensor, name_scope
from ..framework.registry import register_op
from ._common import out1

__all__ = ["flip_left_right", "flip_up_down", "random_flip_left_right", "random_flip_up_down",
           "transpose_image", "rot90", "convert_image_dtype", "per_image_standardization",
           "crop_to_bounding_box", "pad_to_bounding_box", "resize_image_with_crop_or_pad",
           "central_crop"]


# -- shared checks ---------------------------------------------------------------------------
def image_tensor(image, ranks=(3, 4), what: str = "image") -> Tensor:
    """`image` as a tensor whose static rank is one of `ranks`.

    Raises:
        ValueError: the rank is unknown or not in `ranks` (the message shows the shape).
    """
    image = convert_to_tensor(image, name=what)
    shape = image._shape
    if shape is None or len(shape) not in ranks:
        allowed = " or ".join(str(r) for r in ranks)
        got = "<unknown>" if shape is None else list(shape)
        raise ValueError(f"'{what}' (shape {got}) must have {allowed} dimensions")
    if any(d == 0 for d in shape[-3:]):
        raise ValueError(f"inner 3 dims of '{what}.shape' must be > 0: {list(shape)}")
    return image


def image_dims(image: Tensor) -> list:
    """The dimensions of `image`: Python ints where static, scalar int32 tensors elsewhere."""
    from .array import shape as shape_of
    dims = list(image._shape)
    dynamic = None
    for i, d in enumerate(dims):
        if d is None:
            if dynamic is None:
                dynamic = shape_of(image)
            dims[i] = dynamic[i]
    return dims


def _is_tensor(x) -> bool:
    return isinstance(x, Tensor) or hasattr(x, "_as_graph_element")


def _int_vector(values) -> Tensor:
    """A 1-D int32 tensor from Python ints and scalar int tensors (a constant when static)."""
    if not any(_is_tensor(v) for v in values):
        return convert_to_tensor(np.array(values, dtype=np.int32))
    from .joining import stack
    from .math import cast
    parts = []
    for v in values:
        if _is_tensor(v):
            v = convert_to_tensor(v)
            parts.append(v if v.dtype == dtypes.int32 else cast(v, dtypes.int32))
        else:
            parts.append(convert_to_tensor(int(v), dtype=dtypes.int32))
    return stack(parts)


def _static(v):
    """A Python int for an int or a constant scalar tensor, else None."""
    if _is_tensor(v):
        cv = constant_value(convert_to_tensor(v))
        return None if cv is None else int(cv)
    return int(v)


# -- flips, transposes, rotations ----------------------------------------------------------
def _flip(image, axis: int, default_name: str, name) -> Tensor:
    from .slicing import reverse
    with name_scope(name, default_name, [image]) as scope:
        image = image_tensor(image)
        offset = len(image._shape) - 3
        return reverse(image, [axis + offset], name=scope)


def flip_left_right(image, name: str | None = None) -> Tensor:
    """`image` (3-D, or a 4-D batch) mirrored horizontally: the width axis reversed."""
    return _flip(image, 1, "flip_left_right", name)


def flip_up_down(image, name: str | None = None) -> Tensor:
    """`image` (3-D, or a 4-D batch) mirrored vertically: the height axis reversed."""
    return _flip(image, 0, "flip_up_down", name)


def _random_flip(image, axis: int, seed, default_name: str) -> Tensor:
    """Flips a 3-D image with probability 1/2; a 4-D batch image by image, each with its
    own draw. A Select of the flipped and the unflipped image, so gradients pass."""
    from .logic import less, where
    from .random import _seed_attrs
    from .slicing import reverse
    with name_scope(None, default_name, [image]) as scope:
        image = image_tensor(image)
        rank = len(image._shape)
        draw_shape = _int_vector([] if rank == 3 else [image_dims(image)[0]])
        # a bare RandomUniform draw in [0, 1): random_uniform's scale and shift by 1 and 0
        # would only add two ops per image
        draw = out1("RandomUniform", [draw_shape], {"dtype": dtypes.float32,
                                                    **_seed_attrs(seed)}, "random_uniform")
        mirror = less(draw, 0.5)
        flipped = reverse(image, [axis + rank - 3])
        return where(mirror, flipped, image, name=scope)


def random_flip_left_right(image, seed=None) -> Tensor:
    """`image` mirrored horizontally with probability 1/2 (each image of a 4-D batch drawn
    on its own), else unchanged."""
    return _random_flip(image, 1, seed, "random_flip_left_right")


def random_flip_up_down(image, seed=None) -> Tensor:
    """`image` mirrored vertically with probability 1/2 (each image of a 4-D batch drawn
    on its own), else unchanged."""
    return _random_flip(image, 0, seed, "random_flip_up_down")


def transpose_image(image, name: str | None = None) -> Tensor:
    """`image` with height and width swapped (3-D, or each image of a 4-D batch)."""
    from .array import transpose
    with name_scope(name, "transpose_image", [image]) as scope:
        image = image_tensor(image)
        perm = [1, 0, 2] if len(image._shape) == 3 else [0, 2, 1, 3]
        return transpose(image, perm, name=scope)


def _rot90_infer(op):
    x, k = op.inputs
    if not k.dtype.is_integer or (k._shape is not None and k._shape != ()):
        raise ValueError(f"rot90: k must be a scalar integer, got {k.dtype.name} of shape "
                         f"{k.get_shape()}")
    shape = x._shape
    if shape is None:
        return [(x.dtype, None)]
    kv = constant_value(k)
    h, w = shape[-3], shape[-2]
    if kv is not None and int(kv) % 2 == 0:
        return [(x.dtype, shape)]
    hw = (w, h) if kv is not None else ((h, w) if h == w and h is not None else (None, None))
    return [(x.dtype, shape[:-3] + hw + shape[-1:])]


def _rot90_kernel(op, ctx):
    xp = ctx.xp

    def rot90_(x, k):
        axes = (x.ndim - 3, x.ndim - 2)
        return xp.rot90(x, int(k) % 4, axes=axes)
    return rot90_


def _rot90_grad(op, grad):
    """Returns rot90(grad, -k): the rotation back."""
    from .math import negative
    return [out1("Rot90", [grad, negative(op.inputs[1])], None, "Rot90"), None]


register_op("Rot90", infer=_rot90_infer, grad=_rot90_grad, kernel=_rot90_kernel,
            aliases_input=True,
            doc="The height/width plane of an image (or batch) turned counter-clockwise by "
                "k quarter turns.")


def rot90(image, k=1, name: str | None = None) -> Tensor:
    """`image` (3-D, or each image of a 4-D batch) rotated counter-clockwise by k * 90
    degrees; `k` may be a scalar int32 tensor.

    Raises:
        ValueError: `k` is not a scalar.
    """
    with name_scope(name, "rot90", [image, k]) as scope:
        image = image_tensor(image)
        k = convert_to_tensor(k, dtype=None if _is_tensor(k) else dtypes.int32, name="k")
        return out1("Rot90", [image, k], None, scope)


# -- dtype conversion ------------------------------------------------------------------------
def _saturate_cast(x: Tensor, dtype) -> Tensor:
    """cast(x, dtype) with values clipped first to the range `dtype` can hold."""
    from .math import cast, clip_by_value
    lo = max(float(x.dtype.min), float(dtype.min))
    hi = min(float(x.dtype.max), float(dtype.max))
    if lo > float(x.dtype.min) or hi < float(x.dtype.max):
        if x.dtype.is_integer:
            lo, hi = int(lo), int(hi)
        else:
            # the float nearest dtype.max may exceed it (2**31 - 1 is no float32): take the
            # largest float of x's type that still fits
            top = x.dtype.np.type(hi)
            if float(top) > hi:
                top = np.nextafter(top, x.dtype.np.type(0))
            hi = float(top)
        x = clip_by_value(x, lo, hi)
    return cast(x, dtype)


def convert_image_dtype(image, dtype, saturate: bool = False, name: str | None = None) -> Tensor:
    """`image` converted to `dtype`, rescaling values: floats span [0, 1), integers
    [0, dtype.max]. Integer to integer shifts the range (integer division or
    multiplication by a power of two); float to integer multiplies by dtype.max + 0.5 and
    truncates; float to float only casts. With `saturate`, values are clipped to the
    target's range before a narrowing cast.

    Raises:
        AttributeError: `dtype` is neither floating point nor integer.
    """
    from .array import identity
    from .math import cast, floordiv, multiply
    image = convert_to_tensor(image, name="image")
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating and not dtype.is_integer:
        raise AttributeError("dtype must be either floating point or integer")
    if dtype == image.dtype:
        return identity(image, name=name)
    with name_scope(name, "convert_image", [image]) as scope:
        src = image.dtype
        if src.is_integer and dtype.is_integer:
            if int(src.max) > int(dtype.max):
                scale = (int(src.max) + 1) // (int(dtype.max) + 1)
                scaled = floordiv(image, convert_to_tensor(scale, dtype=src))
                return _saturate_cast(scaled, dtype) if saturate else cast(scaled, dtype,
                                                                           name=scope)
            widened = _saturate_cast(image, dtype) if saturate else cast(image, dtype)
            scale = (int(dtype.max) + 1) // (int(src.max) + 1)
            return multiply(widened, convert_to_tensor(scale, dtype=dtype), name=scope)
        if src.is_floating and dtype.is_floating:
            return cast(image, dtype, name=scope)
        if src.is_integer:
            widened = cast(image, dtype)
            return multiply(widened, convert_to_tensor(1.0 / int(src.max), dtype=dtype),
                            name=scope)
        scaled = multiply(image, convert_to_tensor(float(dtype.max) + 0.5, dtype=src))
        return _saturate_cast(scaled, dtype) if saturate else cast(scaled, dtype, name=scope)


# -- standardisation -------------------------------------------------------------------------
def per_image_standardization(image) -> Tensor:
    """Each image scaled to mean 0 and variance 1: (x - mean) / max(stddev, 1/sqrt(N)),
    N the number of values of one image (height * width * channels); the floor keeps
    uniform images finite. `image` has at least 3 dimensions; the result is float32."""
    from .array import shape as shape_of
    from .math import cast, maximum, square, subtract
    from .reduction import reduce_mean, reduce_prod
    from .unary import rsqrt, sqrt
    with name_scope(None, "per_image_standardization", [image]) as scope:
        image = image_tensor(image, ranks=range(3, 33))
        inner = image._shape[-3:]
        if None in inner:
            num_pixels = cast(reduce_prod(shape_of(image)[-3:]), dtypes.float32)
            min_stddev = rsqrt(num_pixels)
        else:
            min_stddev = convert_to_tensor(1.0 / np.sqrt(float(np.prod(inner))),
                                           dtype=dtypes.float32, name="min_stddev")
        image = cast(image, dtypes.float32)
        axes = [-1, -2, -3]
        mean = reduce_mean(image, axis=axes, keepdims=True)
        centred = subtract(image, mean)
        # the mean of squared deviations (not E[x²] - E[x]²): no cancellation for
        # 0..255-valued images in float32
        variance = reduce_mean(square(centred), axis=axes, keepdims=True)
        scale = maximum(sqrt(variance), min_stddev)
        from .math import divide
        return divide(centred, scale, name=scope)


# -- crops and pads --------------------------------------------------------------------------
def _check_static(cond, message: str) -> None:
    if cond is False:
        raise ValueError(message)


def _ge(a, b):
    """a >= b when both are static, None when either is a tensor."""
    a, b = _static(a), _static(b)
    return None if a is None or b is None else a >= b


def _same(a, b) -> bool:
    """Whether a and b are statically known and equal."""
    a = _static(a)
    return a is not None and a == _static(b)


def _arith(fn_static, fn_tensor):
    """`fn_static` on Python ints, the op `fn_tensor` once an argument is a tensor (TF's
    max_/min_ helpers): static sizes stay Python ints and cost no ops."""
    def apply(*args):
        if any(_is_tensor(a) for a in args):
            return fn_tensor(*[convert_to_tensor(a, dtype=dtypes.int32) if not _is_tensor(a)
                               else a for a in args])
        return fn_static(*args)
    return apply


def _sub(a, b):
    from .math import subtract
    return _arith(lambda x, y: x - y, subtract)(a, b)


def _max(a, b):
    from .math import maximum
    return _arith(max, maximum)(a, b)


def _min(a, b):
    from .math import minimum
    return _arith(min, minimum)(a, b)


def _half(a):
    """a // 2 (floor division, as Python and TF's floordiv round)."""
    from .math import floordiv
    return _arith(lambda x: x // 2, lambda x: floordiv(x, 2))(a)


def _neg(a):
    from .math import negative
    return _arith(lambda x: -x, negative)(a)


def _set_hw(t: Tensor, like: Tensor, height, width) -> Tensor:
    """Refines t's static shape: `like`'s batch and channels, and the static ones among
    `height`, `width`."""
    shape = list(like._shape)
    shape[-3], shape[-2] = _static(height), _static(width)
    t.set_shape(shape)
    return t


def crop_to_bounding_box(image, offset_height, offset_width, target_height,
                         target_width) -> Tensor:
    """The [target_height, target_width] window of `image` (3-D or a 4-D batch) whose top
    left corner is at (offset_height, offset_width).

    Raises:
        ValueError: statically known offsets are negative, targets not positive, or the
            window leaves the image. Tensor arguments fail at run time instead.
    """
    from .slicing import slice as slice_
    with name_scope(None, "crop_to_bounding_box", [image]) as scope:
        image = image_tensor(image)
        rank = len(image._shape)
        height, width = image_dims(image)[-3:-1]
        _check_static(_ge(offset_width, 0), "offset_width must be >= 0.")
        _check_static(_ge(offset_height, 0), "offset_height must be >= 0.")
        _check_static(_ge(target_width, 1), "target_width must be > 0.")
        _check_static(_ge(target_height, 1), "target_height must be > 0.")
        if not _is_tensor(offset_width) and not _is_tensor(target_width):
            _check_static(_ge(width, target_width + offset_width),
                          "width must be >= target + offset.")
        if not _is_tensor(offset_height) and not _is_tensor(target_height):
            _check_static(_ge(height, target_height + offset_height),
                          "height must be >= target + offset.")
        lead = [0] * (rank - 3)
        begin = _int_vector(lead + [offset_height, offset_width, 0])
        size = _int_vector([-1] * (rank - 3) + [target_height, target_width, -1])
        return _set_hw(slice_(image, begin, size, name=scope), image, target_height,
                       target_width)


def pad_to_bounding_box(image, offset_height, offset_width, target_height,
                        target_width) -> Tensor:
    """`image` (3-D or a 4-D batch) placed at (offset_height, offset_width) on a zero
    canvas of [target_height, target_width].

    Raises:
        ValueError: statically known offsets are negative or the image does not fit.
    """
    from .joining import pad
    with name_scope(None, "pad_to_bounding_box", [image]) as scope:
        image = image_tensor(image)
        rank = len(image._shape)
        height, width = image_dims(image)[-3:-1]
        after_w = _sub(_sub(target_width, offset_width), width)
        after_h = _sub(_sub(target_height, offset_height), height)
        _check_static(_ge(offset_height, 0), "offset_height must be >= 0")
        _check_static(_ge(offset_width, 0), "offset_width must be >= 0")
        _check_static(_ge(after_w, 0), "width must be <= target - offset")
        _check_static(_ge(after_h, 0), "height must be <= target - offset")
        flat = [0, 0] * (rank - 3) + [offset_height, after_h, offset_width, after_w, 0, 0]
        if not any(_is_tensor(v) for v in flat):
            paddings = np.array(flat, dtype=np.int32).reshape(rank, 2)
        else:
            from .array import reshape
            paddings = reshape(_int_vector(flat), [rank, 2])
        return _set_hw(pad(image, paddings, name=scope), image, target_height, target_width)


def resize_image_with_crop_or_pad(image, target_height, target_width) -> Tensor:
    """`image` (3-D or a 4-D batch) brought to [target_height, target_width] by cropping
    its centre where it is larger and padding it evenly with zeros where it is smaller.

    Raises:
        ValueError: a statically known target is not positive.
    """
    with name_scope(None, "resize_image_with_crop_or_pad", [image]):
        image = image_tensor(image)
        _check_static(_ge(target_width, 1), "target_width must be > 0.")
        _check_static(_ge(target_height, 1), "target_height must be > 0.")
        height, width = image_dims(image)[-3:-1]
        width_diff = _sub(target_width, width)
        height_diff = _sub(target_height, height)
        crop_w, pad_w = _max(_half(_neg(width_diff)), 0), _max(_half(width_diff), 0)
        crop_h, pad_h = _max(_half(_neg(height_diff)), 0), _max(_half(height_diff), 0)
        crop_to_h, crop_to_w = _min(target_height, height), _min(target_width, width)
        out = image
        # skip the crop and the pad where they are statically the identity
        if not (_same(crop_to_h, height) and _same(crop_to_w, width)):
            out = crop_to_bounding_box(out, crop_h, crop_w, crop_to_h, crop_to_w)
        if not (_same(pad_h, 0) and _same(pad_w, 0) and _same(crop_to_h, target_height)
                and _same(crop_to_w, target_width)):
            out = pad_to_bounding_box(out, pad_h, pad_w, target_height, target_width)
        return _set_hw(out, image, target_height, target_width)


def central_crop(image, central_fraction) -> Tensor:
    """The central `central_fraction` of `image` (3-D or a 4-D batch) along height and
    width: the border removed from each side is int((size - size * fraction) / 2).

    Raises:
        ValueError: `central_fraction` is not in (0, 1].
    """
    from .math import cast, multiply, subtract, truediv
    from .slicing import slice as slice_
    with name_scope(None, "central_crop", [image]) as scope:
        image = convert_to_tensor(image, name="image")
        if central_fraction <= 0.0 or central_fraction > 1.0:
            raise ValueError("central_fraction must be within (0, 1]")
        if central_fraction == 1.0:
            return image
        image = image_tensor(image)
        rank = len(image._shape)
        starts, sizes = [], []
        for d in image_dims(image)[-3:-1]:
            if _is_tensor(d):
                df = cast(d, dtypes.float64)
                start = cast(truediv(subtract(df, multiply(df, float(central_fraction))), 2.0),
                             dtypes.int32)
                size = subtract(d, multiply(start, 2))
            else:
                start = int((float(d) - float(d) * central_fraction) / 2)
                size = d - 2 * start
            starts.append(start)
            sizes.append(size)
        begin = _int_vector([0] * (rank - 3) + starts + [0])
        size = _int_vector([-1] * (rank - 3) + sizes + [-1])
        return _set_hw(slice_(image, begin, size, name=scope), image, *sizes)
