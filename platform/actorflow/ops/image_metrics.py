"""`tf.image` measures built from existing ops: total variation, image gradients and PSNR
(TF 1.x semantics; no new op types)."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..framework.graph import Tensor, convert_to_tensor, name_scope
from .image_ops import convert_image_dtype

__all__ = ["total_variation", "image_gradients", "psnr"]


def total_variation(images, name: str | None = None) -> Tensor:
    """The sum of absolute differences between neighbouring pixel values, down and
    across: a scalar for a 3-D image, one value per image for a 4-D batch.

    Raises:
        ValueError: `images` is not 3-D or 4-D.
    """
    from .math import add
    from .reduction import reduce_sum
    from .unary import abs as abs_
    with name_scope(name, "total_variation", [images]) as scope:
        images = convert_to_tensor(images, name="images")
        rank = images.get_shape().ndims
        if rank == 3:
            down = images[1:, :, :] - images[:-1, :, :]
            across = images[:, 1:, :] - images[:, :-1, :]
            axes = None
        elif rank == 4:
            down = images[:, 1:, :, :] - images[:, :-1, :, :]
            across = images[:, :, 1:, :] - images[:, :, :-1, :]
            axes = [1, 2, 3]
        else:
            raise ValueError("'images' must be either 3 or 4-dimensional.")
        return add(reduce_sum(abs_(down), axis=axes), reduce_sum(abs_(across), axis=axes),
                   name=scope)


def image_gradients(image) -> tuple[Tensor, Tensor]:
    """(dy, dx) of a 4-D batch: the forward differences I(y+1, x) - I(y, x) and
    I(y, x+1) - I(y, x), each the image's shape with zeros in the last row / column.

    Raises:
        ValueError: `image` is not 4-D.
    """
    from .joining import pad
    image = convert_to_tensor(image, name="image")
    if image.get_shape().ndims != 4:
        raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], not "
                         f"{image.get_shape()}.")
    dy = pad(image[:, 1:, :, :] - image[:, :-1, :, :], [[0, 0], [0, 1], [0, 0], [0, 0]])
    dx = pad(image[:, :, 1:, :] - image[:, :, :-1, :], [[0, 0], [0, 0], [0, 1], [0, 0]])
    dy.set_shape(image.get_shape())
    dx.set_shape(image.get_shape())
    return dy, dx


def psnr(a, b, max_val, name: str | None = None) -> Tensor:
    """Peak signal-to-noise ratio between images `a` and `b` in dB, one value per image
    over the last three dimensions: 20 log10(max_val) - 10 log10(mean((a - b)²)); images
    and `max_val` are first converted to float32 (integer ranges scaled to [0, 1]).

    Raises:
        TypeError: `a` and `b` have different dtypes.
    """
    from .math import cast, multiply, squared_difference, subtract, truediv
    from .reduction import reduce_mean
    from .unary import log
    with name_scope(name, "PSNR", [a, b]):
        a = convert_to_tensor(a, name="a")
        b = convert_to_tensor(b, name="b")
        if a.dtype != b.dtype:
            raise TypeError(f"psnr: a and b must have the same dtype, got {a.dtype.name} and "
                            f"{b.dtype.name}")
        max_val = cast(convert_to_tensor(max_val), a.dtype)
        max_val = convert_image_dtype(max_val, dtypes.float32)
        a = convert_image_dtype(a, dtypes.float32)
        b = convert_image_dtype(b, dtypes.float32)
        mse = reduce_mean(squared_difference(a, b), [-3, -2, -1])
        peak = truediv(multiply(20.0, log(max_val)), np.float32(np.log(10.0)))
        return subtract(peak, multiply(np.float32(10 / np.log(10)), log(mse)), name="psnr")
