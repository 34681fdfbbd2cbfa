"""`tf.image`: image ops of TF 1.x input pipelines.

Geometry, dtype conversion and standardisation come from ops/image_ops.py, colour
adjustments from ops/image_color.py, resizing from ops/image_resize.py, total variation,
image gradients and PSNR from ops/image_metrics.py, and the PNG/JPEG codecs (Pillow, the
optional `image` extra) from ops/image_codecs.py.
"""
# ruff: noqa: F401
from .ops.image_codecs import (decode_image, decode_jpeg, decode_png, encode_jpeg, encode_png,
                               is_jpeg)
from .ops.image_color import (adjust_brightness, adjust_contrast, adjust_gamma, adjust_hue,
                              adjust_saturation, grayscale_to_rgb, hsv_to_rgb,
                              random_brightness, random_contrast, random_hue,
                              random_saturation, rgb_to_grayscale, rgb_to_hsv)
from .ops.image_ops import (central_crop, convert_image_dtype, crop_to_bounding_box,
                            flip_left_right, flip_up_down, pad_to_bounding_box,
                            per_image_standardization, random_flip_left_right,
                            random_flip_up_down, resize_image_with_crop_or_pad, rot90,
                            transpose_image)
from .ops.image_metrics import image_gradients, psnr, total_variation
from .ops.image_resize import (ResizeMethod, resize_area, resize_bicubic, resize_bilinear,
                               resize_image_with_pad, resize_images, resize_nearest_neighbor)
from .ops.random import random_crop

resize = resize_images  # TF 1.x `tf.image.resize` is resize_images with v1 semantics
transpose = transpose_image  # TF 1.14+ spelling

__all__ = ["decode_image", "decode_jpeg", "decode_png", "encode_jpeg", "encode_png", "is_jpeg",
           "adjust_brightness", "adjust_contrast", "adjust_hue", "adjust_saturation",
           "grayscale_to_rgb", "hsv_to_rgb", "random_brightness", "random_contrast",
           "random_hue", "random_saturation", "rgb_to_grayscale", "rgb_to_hsv",
           "central_crop", "convert_image_dtype", "crop_to_bounding_box", "flip_left_right",
           "flip_up_down", "pad_to_bounding_box", "per_image_standardization",
           "random_flip_left_right", "random_flip_up_down", "resize_image_with_crop_or_pad",
           "rot90", "transpose_image", "ResizeMethod", "resize_area", "resize_bicubic",
           "resize_bilinear", "resize_images", "resize_nearest_neighbor", "resize", "transpose",
           "random_crop", "adjust_gamma", "resize_image_with_pad", "total_variation",
           "image_gradients", "psnr"]
