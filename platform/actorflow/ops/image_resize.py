"""`tf.image` resizing (TF 1.x kernels, 4-D [batch, height, width, channels] images).

Registers ResizeBilinear, ResizeNearestNeighbor, ResizeBicubic, ResizeArea and the gradient
ops ResizeBilinearGrad, ResizeNearestNeighborGrad and ResizeBicubicGrad.

Every method is separable: each output row (column) is a weighted sum of a few input rows
(columns), its *taps* — index and weight arrays per axis, computed in float32 exactly as TF's
kernels compute them (the legacy ``x * scale`` source coordinate; ``align_corners`` scale
(in - 1) / (out - 1); TF 1.15's ``half_pixel_centers`` for bilinear, nearest and bicubic;
bicubic weights from TF's 1024-entry coefficient table). The forward pass gathers taps along
width, then along height; a gradient multiplies by the transposed tap matrices. Taps are
cached per (input size, output size) inside each kernel.

Output dtypes follow TF: nearest keeps the input dtype; bilinear, bicubic and area give
float32 — except for float64 input, which stays float64 (TF gives float32) so that these ops
can be checked in float64.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes, errors
from ..framework.graph import Tensor, constant_value, convert_to_tensor, name_scope
from ..framework.registry import NOT_DIFFERENTIABLE, register_op
from ._common import host_ints, out1
from .image_ops import image_tensor

__all__ = ["ResizeMethod", "resize_images", "resize_image_with_pad", "resize_bilinear",
           "resize_nearest_neighbor", "resize_bicubic", "resize_area"]


class ResizeMethod:
    """The `method` values of `resize_images` (TF 1.x numbering)."""

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


_F32 = np.float32


# -- taps: per axis, output i = sum_k weight[i, k] * input[index[i, k]] --------------------------
def _scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    if align_corners and out_size > 1:
        return _F32(in_size - 1) / _F32(out_size - 1)
    return _F32(in_size) / _F32(out_size)


def _source(out_size: int, scale, half_pixel: bool, offset: float = 0.5) -> np.ndarray:
    """Source coordinates of the output samples, in float32 as TF's scalers compute them."""
    i = np.arange(out_size, dtype=_F32)
    if half_pixel:
        return (i + _F32(0.5)) * scale - _F32(offset)
    return i * scale


def bilinear_taps(in_size, out_size, align_corners, half_pixel):
    """(lower, upper, lerp): output i = in[lower] + (in[upper] - in[lower]) * lerp."""
    src = _source(out_size, _scale(in_size, out_size, align_corners), half_pixel)
    floor = np.floor(src)
    lower = np.maximum(floor.astype(np.int64), 0)
    upper = np.minimum(np.ceil(src).astype(np.int64), in_size - 1)
    return lower, upper, (src - floor).astype(_F32)


def nearest_taps(in_size, out_size, align_corners, half_pixel):
    """The input index of each output sample (round half away with align_corners, else
    floor; with half-pixel centres the source is (i + 0.5) * scale)."""
    src = _source(out_size, _scale(in_size, out_size, align_corners), half_pixel, offset=0.0)
    floor = np.floor(src)
    idx = np.where(src - floor >= 0.5, floor + 1, floor) if align_corners else floor
    idx = np.minimum(idx.astype(np.int64), in_size - 1)
    return np.maximum(idx, 0) if half_pixel else idx


_TABLE_SIZE = 1024


def _cubic_table(a: float) -> np.ndarray:
    """[1025, 2]: the cubic kernel at x and at x + 1 for x = i / 1024 (float32)."""
    a = _F32(a)
    x = (np.arange(_TABLE_SIZE + 1, dtype=np.float64) / _TABLE_SIZE).astype(_F32)
    near = ((a + _F32(2)) * x - (a + _F32(3))) * x * x + _F32(1)
    x1 = x + _F32(1)
    far = ((a * x1 - _F32(5) * a) * x1 + _F32(8) * a) * x1 - _F32(4) * a
    return np.stack([near, far], axis=1)


_TABLES = {False: _cubic_table(-0.75), True: _cubic_table(-0.5)}  # legacy / Keys (half-pixel)


def bicubic_taps(in_size, out_size, align_corners, half_pixel):
    """(index [out, 4], weight [out, 4]) of TF's table-driven cubic interpolation; with
    half-pixel centres taps outside the image get weight 0 and the rest are renormalised."""
    src = _source(out_size, _scale(in_size, out_size, align_corners), half_pixel)
    floor = np.floor(src)
    base = floor.astype(np.int64)
    offset = np.rint((src - floor) * _F32(_TABLE_SIZE)).astype(np.int64)
    table = _TABLES[bool(half_pixel)]
    w = np.stack([table[offset, 1], table[offset, 0], table[_TABLE_SIZE - offset, 0],
                  table[_TABLE_SIZE - offset, 1]], axis=1)
    raw = base[:, None] + np.arange(-1, 3)[None, :]
    idx = np.clip(raw, 0, in_size - 1)
    if half_pixel:
        w = np.where(idx == raw, w, _F32(0))
        total = w.sum(axis=1, dtype=_F32)
        ok = np.abs(total) >= 1000 * np.finfo(_F32).tiny
        w = np.where(ok[:, None], w * (_F32(1) / np.where(ok, total, _F32(1)))[:, None], w)
    return idx, w.astype(_F32)


def area_taps(in_size, out_size, align_corners, half_pixel=False):
    """(index [out, K], weight [out, K]): the input cells that output box i covers and the
    length of each overlap (TF's float32 formulas; unused taps have weight 0)."""
    scale = _scale(in_size, out_size, align_corners)
    i = np.arange(out_size, dtype=np.int64)
    lo = i.astype(_F32) * scale
    hi = (i + 1).astype(_F32) * scale
    start = np.floor(lo).astype(np.int64)
    end = np.ceil(hi).astype(np.int64)
    k = int((end - start).max())
    cells = start[:, None] + np.arange(k)[None, :]
    c = cells.astype(_F32)
    lo_, hi_ = lo[:, None], hi[:, None]
    w = np.where(c < lo_, np.where(c + 1 > hi_, scale, c + 1 - lo_),
                 np.where(c + 1 > hi_, hi_ - c, _F32(1))).astype(_F32)
    w = np.where(cells < end[:, None], w, _F32(0))
    return np.clip(cells, 0, in_size - 1), w


def _tap_matrix(idx, w, in_size: int, dtype) -> np.ndarray:
    """The dense [out, in] matrix of taps (repeated indices add up)."""
    m = np.zeros((idx.shape[0], in_size), dtype=np.float64)
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    np.add.at(m, (rows, idx.ravel()), w.ravel().astype(np.float64))
    return m.astype(dtype)


def _apply_taps(x, axis: int, idx, w):
    """sum_k w[:, k] * take(x, idx[:, k], axis), accumulated left to right as TF does."""
    shape = [1] * x.ndim
    shape[axis] = -1
    acc = None
    for k in range(idx.shape[1]):
        term = np.take(x, idx[:, k], axis=axis) * w[:, k].reshape(shape).astype(x.dtype)
        acc = term if acc is None else acc + term
    return acc


def _lerp(a, b, w):
    """a + (b - a) * w, rounded step by step as TF's float kernel does, in place on b."""
    b -= a
    b *= w
    b += a
    return b


def _bilinear(x, taps_y, taps_x):
    """TF's order: interpolate along width on the two source rows, then between them.

    When upsampling rows it is cheaper to interpolate every input row along width once
    and gather the results; the values are the same bits either way."""
    ly, uy, wy = taps_y
    lx, ux, wx = taps_x
    wx = wx.astype(x.dtype)[None, None, :, None]
    wy = wy.astype(x.dtype)[None, :, None, None]
    if x.shape[1] <= 2 * len(ly):
        rows = _lerp(x[:, :, lx], x[:, :, ux], wx)
        return _lerp(rows[:, ly], rows[:, uy], wy)
    top, bottom = x[:, ly], x[:, uy]
    t = _lerp(top[:, :, lx], top[:, :, ux], wx)
    b = _lerp(bottom[:, :, lx], bottom[:, :, ux], wx)
    return _lerp(t, b, wy)


def _transposed_taps(g, mat_y, mat_x):
    """mat_y^T @ g @ mat_x over the height and width axes of g [n, out_h, out_w, c]."""
    n, oh, ow, c = g.shape
    tmp = np.matmul(mat_x.T, g)  # [n, oh, in_w, c]
    in_w = mat_x.shape[1]
    out = np.matmul(mat_y.T, tmp.reshape(n, oh, in_w * c))
    return out.reshape(n, mat_y.shape[1], in_w, c)


_TAPS = {"ResizeBilinear": bilinear_taps, "ResizeNearestNeighbor": nearest_taps,
         "ResizeBicubic": bicubic_taps, "ResizeArea": area_taps}


def _float_out(dtype):
    return dtypes.float64 if dtype == dtypes.float64 else dtypes.float32


# -- inference and kernels -----------------------------------------------------------------------
def _size_value(t: Tensor):
    cv = constant_value(t)
    if cv is not None:
        return tuple(int(v) for v in np.ravel(cv))
    if t.op.type == "Pack":
        return tuple(None if constant_value(v) is None else int(constant_value(v))
                     for v in t.op.inputs)
    return (None, None)


def _check_4d(op, x: Tensor, what: str = "images") -> None:
    if x._shape is not None and len(x._shape) != 4:
        raise ValueError(f"{op.type}: {what} must be 4-D [batch, height, width, channels], "
                         f"got shape {list(x._shape)}")


def _check_size(op, size: Tensor) -> None:
    if size.dtype != dtypes.int32:
        raise TypeError(f"{op.type}: size must be int32, got {size.dtype.name}")
    if size._shape is not None and size._shape != (2,):
        raise ValueError(f"{op.type}: size must be a 1-D tensor of 2 elements, got shape "
                         f"{list(size._shape)}")


def _check_attrs(op) -> None:
    if op.attrs.get("half_pixel_centers") and op.attrs.get("align_corners"):
        raise ValueError(f"{op.type}: if half_pixel_centers is True, align_corners must be "
                         "False.")


def _resize_infer(op):
    x, size = op.inputs
    _check_4d(op, x)
    _check_size(op, size)
    _check_attrs(op)
    if not (x.dtype.is_integer or x.dtype.is_floating):
        raise TypeError(f"{op.type}: images must be real numbers, got {x.dtype.name}")
    dt = x.dtype if op.type == "ResizeNearestNeighbor" else _float_out(x.dtype)
    h, w = _size_value(size)
    batch, chans = (None, None) if x._shape is None else (x._shape[0], x._shape[3])
    return [(dt, (batch, h, w, chans))]


def _attrs(op):
    return bool(op.attrs.get("align_corners", False)), bool(op.attrs.get("half_pixel_centers",
                                                                           False))


def _checked_sizes(op, x, size):
    if x.ndim != 4:
        raise errors.InvalidArgumentError(None, op, f"input must be 4-dimensional, got shape "
                                          f"{list(x.shape)}")
    oh, ow = host_ints(size)
    if oh <= 0 or ow <= 0:
        raise errors.InvalidArgumentError(None, op, f"output dimensions must be positive, "
                                          f"got {[oh, ow]}")
    if x.shape[1] == 0 or x.shape[2] == 0:
        raise errors.InvalidArgumentError(None, op, f"input image must be of non-zero size, "
                                          f"got shape {list(x.shape)}")
    return oh, ow


def _resize_kernel(op, ctx):
    xp = ctx.xp
    align, half = _attrs(op)
    taps_fn = _TAPS[op.type]
    out_dt = op.outputs[0].dtype.np
    cache: dict = {}

    def taps(in_h, in_w, oh, ow):
        key = (in_h, in_w, oh, ow)
        if key not in cache:
            cache[key] = (taps_fn(in_h, oh, align, half), taps_fn(in_w, ow, align, half))
        return cache[key]

    def resize(x, size):
        oh, ow = _checked_sizes(op, x, size)
        ty, tx = taps(x.shape[1], x.shape[2], oh, ow)
        x = np.asarray(x)
        if op.type == "ResizeNearestNeighbor":
            out = x[:, ty][:, :, tx]
        elif op.type == "ResizeBilinear":
            out = _bilinear(x.astype(out_dt, copy=False), ty, tx)
        else:
            out = _apply_taps(_apply_taps(x.astype(out_dt, copy=False), 2, *tx), 1, *ty)
            if op.type == "ResizeArea":
                scale_y = _scale(x.shape[1], oh, align)
                scale_x = _scale(x.shape[2], ow, align)
                out = out * out_dt.type(1.0 / float(scale_y * scale_x))
        return xp.asarray(out.astype(out_dt, copy=False))
    return resize


def _grad_kernel(op, ctx):
    """Kernel of the *Grad ops: the transposed tap matrices applied to the gradient."""
    xp = ctx.xp
    align, half = _attrs(op)
    forward = {"ResizeBilinearGrad": bilinear_taps, "ResizeNearestNeighborGrad": nearest_taps,
               "ResizeBicubicGrad": bicubic_taps}[op.type]
    out_dt = op.outputs[0].dtype.np
    cache: dict = {}

    def matrices(in_h, in_w, oh, ow):
        key = (in_h, in_w, oh, ow)
        if key not in cache:
            mats = []
            for n_in, n_out in ((in_h, oh), (in_w, ow)):
                t = forward(n_in, n_out, align, half)
                if op.type == "ResizeBilinearGrad":
                    lower, upper, lerp = t
                    t = (np.stack([lower, upper], 1), np.stack([1 - lerp, lerp], 1))
                elif op.type == "ResizeNearestNeighborGrad":
                    t = (t[:, None], np.ones((n_out, 1), _F32))
                mats.append(_tap_matrix(t[0], t[1], n_in, np.float64))
            cache[key] = tuple(mats)
        return cache[key]

    def resize_grad(g, second):
        g = np.asarray(g)
        if g.ndim != 4:
            raise errors.InvalidArgumentError(None, op, f"input_grad must be 4-dimensional, "
                                              f"got shape {list(g.shape)}")
        if op.type == "ResizeNearestNeighborGrad":
            in_h, in_w = host_ints(second)
        else:
            in_h, in_w = second.shape[1], second.shape[2]
        my, mx = matrices(in_h, in_w, g.shape[1], g.shape[2])
        work = np.float64 if g.dtype == np.float64 or g.dtype.kind in "iu" else np.float32
        out = _transposed_taps(g.astype(work, copy=False), my.astype(work), mx.astype(work))
        if out_dt.kind in "iu":
            out = np.rint(out)
        return xp.asarray(out.astype(out_dt, copy=False))
    return resize_grad


def _image_grad_infer(op):
    g, original = op.inputs
    _check_4d(op, g, "grads")
    _check_4d(op, original, "original_image")
    _check_attrs(op)
    shape = None if original._shape is None else original._shape
    if shape is not None and g._shape is not None:
        shape = (g._shape[0] if shape[0] is None else shape[0],) + shape[1:3] + (
            g._shape[3] if shape[3] is None else shape[3],)
    return [(original.dtype, shape)]


def _nearest_grad_infer(op):
    g, size = op.inputs
    _check_4d(op, g, "grads")
    _check_size(op, size)
    _check_attrs(op)
    h, w = _size_value(size)
    batch, chans = (None, None) if g._shape is None else (g._shape[0], g._shape[3])
    return [(g.dtype, (batch, h, w, chans))]


def _resize_attrs(op) -> dict:
    return {"align_corners": op.attrs.get("align_corners", False),
            "half_pixel_centers": op.attrs.get("half_pixel_centers", False)}


def _bilinear_grad(op, grad):
    """Returns ResizeBilinearGrad(grad, images): each output's gradient spread back onto
    its four source pixels with the interpolation weights."""
    x = op.inputs[0]
    if not x.dtype.is_floating:
        return [None, None]
    return [out1("ResizeBilinearGrad", [grad, x], _resize_attrs(op), "ResizeBilinearGrad"),
            None]


def _bicubic_grad(op, grad):
    """Returns ResizeBicubicGrad(grad, images): the transposed cubic taps."""
    x = op.inputs[0]
    if not x.dtype.is_floating:
        return [None, None]
    return [out1("ResizeBicubicGrad", [grad, x], _resize_attrs(op), "ResizeBicubicGrad"),
            None]


def _nearest_grad(op, grad):
    """Returns ResizeNearestNeighborGrad(grad, shape(images)[1:3]): each output's gradient
    added onto the pixel it copied."""
    from .array import shape
    x = op.inputs[0]
    if x._shape is not None and None not in x._shape[1:3]:
        size = convert_to_tensor(np.array(x._shape[1:3], np.int32))
    else:
        size = shape(x)[1:3]
    return [out1("ResizeNearestNeighborGrad", [grad, size], _resize_attrs(op),
                 "ResizeNearestNeighborGrad"), None]


register_op("ResizeBilinear", infer=_resize_infer, grad=_bilinear_grad, kernel=_resize_kernel,
            host_only=True, doc="Images resized to size by bilinear interpolation.")
register_op("ResizeNearestNeighbor", infer=_resize_infer, grad=_nearest_grad,
            kernel=_resize_kernel, host_only=True,
            doc="Images resized to size by copying the nearest source pixel.")
register_op("ResizeBicubic", infer=_resize_infer, grad=_bicubic_grad, kernel=_resize_kernel,
            host_only=True, doc="Images resized to size by cubic interpolation.")
register_op("ResizeArea", infer=_resize_infer, grad=NOT_DIFFERENTIABLE, kernel=_resize_kernel,
            host_only=True, doc="Images resized to size by averaging the area each output "
                                "pixel covers.")
register_op("ResizeBilinearGrad", infer=_image_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_grad_kernel, host_only=True,
            doc="The gradient of ResizeBilinear with respect to its images.")
register_op("ResizeBicubicGrad", infer=_image_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_grad_kernel, host_only=True,
            doc="The gradient of ResizeBicubic with respect to its images.")
register_op("ResizeNearestNeighborGrad", infer=_nearest_grad_infer, grad=NOT_DIFFERENTIABLE,
            kernel=_grad_kernel, host_only=True,
            doc="The gradient of ResizeNearestNeighbor: gradients summed onto the pixels "
                "they were copied from.")


# -- the TF 1.x functions ------------------------------------------------------------------------
def _resize_op(op_type: str, images, size, align_corners, half_pixel_centers, name):
    images = convert_to_tensor(images, name="images")
    size = convert_to_tensor(size, dtype=None if isinstance(size, Tensor) else dtypes.int32,
                             name="size")
    attrs = {"align_corners": bool(align_corners),
             "half_pixel_centers": bool(half_pixel_centers)}
    return out1(op_type, [images, size], attrs, name or op_type)


def resize_bilinear(images, size, align_corners: bool = False, name: str | None = None,
                    half_pixel_centers: bool = False) -> Tensor:
    """4-D `images` resized to `size` = [new_height, new_width] by bilinear interpolation
    (float32 result). `align_corners` maps the corner pixels of input and output onto each
    other; `half_pixel_centers` samples at pixel centres (TF 2 geometry)."""
    return _resize_op("ResizeBilinear", images, size, align_corners, half_pixel_centers, name)


def resize_nearest_neighbor(images, size, align_corners: bool = False,
                            name: str | None = None,
                            half_pixel_centers: bool = False) -> Tensor:
    """4-D `images` resized to `size` = [new_height, new_width] by copying, for each output
    pixel, the nearest input pixel (the dtype is kept)."""
    return _resize_op("ResizeNearestNeighbor", images, size, align_corners, half_pixel_centers,
                      name)


def resize_bicubic(images, size, align_corners: bool = False, name: str | None = None,
                   half_pixel_centers: bool = False) -> Tensor:
    """4-D `images` resized to `size` by cubic interpolation over 4x4 neighbourhoods
    (float32 result)."""
    return _resize_op("ResizeBicubic", images, size, align_corners, half_pixel_centers, name)


def resize_area(images, size, align_corners: bool = False, name: str | None = None) -> Tensor:
    """4-D `images` resized to `size`, each output pixel the average of the input area it
    covers (float32 result)."""
    return _resize_op("ResizeArea", images, size, align_corners, False, name)


_BY_METHOD = {ResizeMethod.BILINEAR: resize_bilinear,
              ResizeMethod.NEAREST_NEIGHBOR: resize_nearest_neighbor,
              ResizeMethod.BICUBIC: resize_bicubic}


def _aspect_size(images: Tensor, size: Tensor):
    """The largest size within `size` keeping the images' aspect ratio (TF's float32
    arithmetic, rounded half to even)."""
    from .array import shape
    from .joining import stack
    from .math import cast, minimum, multiply, truediv
    from .unary import round as round_
    dims = images._shape[1:3]
    target = _size_value(size)
    if None not in dims and None not in target:
        hf, wf = (_F32(d) for d in dims)
        factor = min(_F32(target[0]) / hf, _F32(target[1]) / wf)
        return convert_to_tensor(np.array([np.rint(factor * hf), np.rint(factor * wf)],
                                          dtype=np.int32), name="size")
    cur = [cast(d, dtypes.float32) if isinstance(d, Tensor) else float(d)
           for d in (shape(images)[1], shape(images)[2])]
    sz = cast(size, dtypes.float32)
    factor = minimum(truediv(sz[0], cur[0]), truediv(sz[1], cur[1]))
    return stack([cast(round_(multiply(factor, c)), dtypes.int32) for c in cur], name="size")


def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners: bool = False,
                  preserve_aspect_ratio: bool = False) -> Tensor:
    """`images` (3-D, or a 4-D batch) resized to `size` = [new_height, new_width] with
    `method` (a ResizeMethod). When the static size already matches, `images` is returned
    unchanged (no float conversion). `preserve_aspect_ratio` scales to the largest size
    that fits in `size` without distortion.

    Raises:
        ValueError: the rank is not 3 or 4, `size` is not 2 int32 values, or `method` is
            unknown.
    """
    with name_scope(None, "resize", [images, size]):
        images = image_tensor(images)
        is_batch = len(images._shape) == 4
        try:
            size = convert_to_tensor(size, dtype=dtypes.int32, name="size")
        except (TypeError, ValueError):
            raise ValueError("'size' must be a 1-D int32 Tensor") from None
        if size._shape is not None and size._shape != (2,):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, "
                             "new_width")
        if method not in (0, 1, 2, 3):
            raise ValueError("Resize method is not implemented.")
        from .array import expand_dims, squeeze
        batch = images if is_batch else expand_dims(images, 0)
        if preserve_aspect_ratio:
            size = _aspect_size(batch, size)
        new_h, new_w = _size_value(size)
        if (new_h, new_w) == tuple(batch._shape[1:3]) and None not in (new_h, new_w):
            return images
        if method == ResizeMethod.AREA:
            out = resize_area(batch, size, align_corners=align_corners)
        else:
            out = _BY_METHOD[method](batch, size, align_corners=align_corners)
        out.set_shape([None, new_h, new_w, None])
        return out if is_batch else squeeze(out, axis=[0])


def resize_image_with_pad(image, target_height, target_width, method=ResizeMethod.BILINEAR,
                          align_corners: bool = False) -> Tensor:
    """`image` (3-D or a 4-D batch) scaled to fit [target_height, target_width] with its
    aspect ratio kept (sizes floored), then centred on a zero canvas of that size.

    Raises:
        ValueError: the rank is not 3 or 4, or a static target is not positive.
    """
    from .array import expand_dims, squeeze
    from .image_ops import _static, image_dims, pad_to_bounding_box
    with name_scope(None, "resize_image_with_pad", [image]):
        image = image_tensor(image)
        for v, what in ((target_width, "target_width"), (target_height, "target_height")):
            if _static(v) is not None and _static(v) <= 0:
                raise ValueError(f"{what} must be > 0.")
        is_batch = len(image._shape) == 4
        batch = image if is_batch else expand_dims(image, 0)
        height, width = image_dims(batch)[1:3]
        dims = [_static(v) for v in (height, width, target_height, target_width)]
        if None not in dims:
            h, w, th, tw = (float(d) for d in dims)  # TF computes these in float64
            ratio = max(w / tw, h / th)
            new_h, new_w = int(np.floor(h / ratio)), int(np.floor(w / ratio))
            pad_h = max(0, int(np.floor((th - h / ratio) / 2)))
            pad_w = max(0, int(np.floor((tw - w / ratio) / 2)))
            size = [new_h, new_w]
        else:
            size, pad_h, pad_w = _dynamic_pad_geometry(height, width, target_height,
                                                       target_width)
        resized = resize_images(batch, size, method, align_corners)
        padded = pad_to_bounding_box(resized, pad_h, pad_w, target_height, target_width)
        return padded if is_batch else squeeze(padded, axis=[0])


def _dynamic_pad_geometry(height, width, target_height, target_width):
    """resize_image_with_pad's sizes and offsets as float64 graph ops."""
    from .joining import stack
    from .math import cast, maximum, subtract, truediv
    from .unary import floor

    def f64(v):
        return cast(convert_to_tensor(v, dtype=dtypes.int32) if not isinstance(v, Tensor)
                    else v, dtypes.float64)

    h, w, th, tw = (f64(v) for v in (height, width, target_height, target_width))
    ratio = maximum(truediv(w, tw), truediv(h, th))
    new_h, new_w = truediv(h, ratio), truediv(w, ratio)
    size = stack([cast(floor(new_h), dtypes.int32), cast(floor(new_w), dtypes.int32)])
    pad_h = maximum(cast(floor(truediv(subtract(th, new_h), 2.0)), dtypes.int32), 0)
    pad_w = maximum(cast(floor(truediv(subtract(tw, new_w), 2.0)), dtypes.int32), 0)
    return size, pad_h, pad_w
