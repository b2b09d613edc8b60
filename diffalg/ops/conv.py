"""Convolution and pooling over (N, C, H, W) images, built on ``im2row``.

``im2row`` copies every kernel window into a row (N, Ho, Wo, C·kh·kw), so a
convolution is one matrix product with the flattened kernels (a single GEMM,
the fast path on a CPU) and pooling a reduction over the last axis.  Its
adjoint ``row2im`` adds each row back onto the window it came from; the two
are each other's VJP, so convolutions differentiate to any order.

Series images go through the same code with the coefficient axis trailing:
a window row of series times a real kernel is one real matrix product with
the coefficients carried along (:func:`diffalg.ops.linalg.matmul`).  Max
pooling picks each window's series by the constant parts; equal constant
parts with different series are an error (the maximum has a kink there).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .activations import _check_ties
from .linalg import linear
from .reduce import max as max_
from .reduce import mean
from .registry import as_tensor, primitive
from .shape import getitem, permute, reshape


def _pair(v, name):
    if isinstance(v, int):
        return (v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, int) for i in v):
        return tuple(v)
    raise TypeError(f"{name} must be an int or a pair of ints, got {v!r}")


def _out_size(h, k, s, p):
    return (h + 2 * p - k) // s + 1


def _rows(x, k, stride):
    """Windows of a padded (N, C, H, W, *tail) array as rows (N, Ho, Wo, C·kh·kw, *tail)."""
    (kh, kw), (sh, sw) = k, stride
    n, c, h, w = x.shape[:4]
    tail = tuple(range(4, x.ndim))
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, : sh * ho : sh, : sw * wo : sw]
    win = win.transpose((0, 2, 3, 1, x.ndim, x.ndim + 1) + tail)
    return np.ascontiguousarray(win).reshape((n, ho, wo, c * kh * kw) + x.shape[4:])


def _im2row(x, k, stride, padding, pad_value):
    (ph, pw) = padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    return _rows(x, k, stride)


def _im2row_da(d, x, k, stride, padding, pad_value):
    (ph, pw) = padding
    if ph or pw:  # the padding is the constant series pad_value
        n, c, h, w, m = x.shape
        padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw, m))
        padded[..., 0] = pad_value
        padded[:, :, ph : ph + h, pw : pw + w] = x
        x = padded
    return _rows(x, k, stride)


def _row2im(r, k, stride, padding, shape):
    """Rows (N, Ho, Wo, C·kh·kw, *tail) added back onto (N, C, H, W, *tail)."""
    (kh, kw), (sh, sw), (ph, pw) = k, stride, padding
    n, c, h, w = shape
    ho, wo, tail = r.shape[1], r.shape[2], r.shape[4:]
    cols = r.reshape((n, ho, wo, c, kh, kw) + tail)
    # accumulate channels-last, as the rows are laid out: no transposed copy per offset
    out = np.zeros((n, h + 2 * ph, w + 2 * pw, c) + tail, dtype=r.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, i : i + sh * ho : sh, j : j + sw * wo : sw] += cols[:, :, :, :, i, j]
    axes = (0, 3, 1, 2) + tuple(range(4, 4 + len(tail)))
    return out[:, ph : ph + h, pw : pw + w].transpose(axes)


im2row = primitive(
    "im2row",
    real=lambda x, k, stride, padding, pad_value: _im2row(x, k, stride, padding, pad_value),
    da=_im2row_da,
    vjp=(lambda g, out, x, k, stride, padding, pad_value: row2im(
        g, k=k, stride=stride, padding=padding, shape=x.shape),),
    saves=(),
)  # fmt: skip
row2im = primitive(
    "row2im",
    real=lambda r, k, stride, padding, shape: _row2im(r, k, stride, padding, shape),
    da=lambda d, r, k, stride, padding, shape: _row2im(r, k, stride, padding, shape),
    vjp=(lambda g, out, r, k, stride, padding, shape: im2row(
        g, k=k, stride=stride, padding=padding, pad_value=0.0),),
    saves=(),
)  # fmt: skip


def _check_image(x, name, channels=None):
    if x.ndim != 4:
        raise RuntimeError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if channels is not None and x.shape[1] != channels:
        raise RuntimeError(
            f"{name}: expected input {x.shape} to have {channels} channels, "
            f"but got {x.shape[1]} channels instead"
        )


def _windows(x, k, stride, padding, name, pad_value=0.0):
    (kh, kw), (sh, sw), (ph, pw) = k, stride, padding
    if _out_size(x.shape[2], kh, sh, ph) < 1 or _out_size(x.shape[3], kw, sw, pw) < 1:
        raise RuntimeError(
            f"{name}: kernel size ({kh}x{kw}) can't be greater than the padded input size "
            f"({x.shape[2] + 2 * ph}x{x.shape[3] + 2 * pw})"
        )
    return im2row(x, k=k, stride=stride, padding=padding, pad_value=pad_value)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation: ``x`` (N, C, H, W), ``weight`` (O, C, kh, kw) → (N, O, Ho, Wo)."""
    x = as_tensor(x)
    o, c, kh, kw = weight.shape
    _check_image(x, "conv2d", c)
    rows = _windows(x, (kh, kw), _pair(stride, "stride"), _pair(padding, "padding"), "conv2d")
    y = linear(rows, reshape(weight, o, c * kh * kw), bias)  # (N, Ho, Wo, O): one GEMM
    return permute(y, 0, 3, 1, 2)


def unfold(x, kernel_size, stride=1, padding=0):
    """PyTorch's ``F.unfold``: the windows as columns, (N, C·kh·kw, L)."""
    x = as_tensor(x)
    _check_image(x, "unfold")
    rows = _windows(x, _pair(kernel_size, "kernel_size"), _pair(stride, "stride"),
                    _pair(padding, "padding"), "unfold")  # fmt: skip
    n, ho, wo, k = rows.shape
    return permute(reshape(rows, n, ho * wo, k), 0, 2, 1)


def _pool(x, kernel_size, stride, padding, reduce, name, pad_value):
    x = as_tensor(x)
    _check_image(x, name)
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None else _pair(stride, "stride")
    p = _pair(padding, "padding")
    if p[0] * 2 > k[0] or p[1] * 2 > k[1]:
        raise RuntimeError(f"{name}: padding should be at most half of the kernel size")
    n, c, h, w = x.shape
    if s == k and p == (0, 0) and h % k[0] == 0 and w % k[1] == 0:
        # non-overlapping tiles: a reshape and one transposed copy, no window rows
        ho, wo = h // k[0], w // k[1]
        tiles = permute(reshape(x, n, c, ho, k[0], wo, k[1]), 0, 1, 2, 4, 3, 5)
        return reduce(reshape(tiles, n, c, ho, wo, k[0] * k[1]))
    rows = _windows(reshape(x, n * c, 1, h, w), k, s, p, name, pad_value)
    _, ho, wo, _ = rows.shape
    return reshape(reduce(rows), n, c, ho, wo)


def _window_max(r):
    """The maximum over the last dimension; for series the one of largest constant part."""
    if r.desc is None:
        return max_(r, -1).values
    c = np.asarray(r.coeffs)
    idx = np.argmax(c[..., 0], axis=-1)
    best = np.take_along_axis(c, idx[..., None, None], axis=-2)
    _check_ties("max_pool2d", c, np.broadcast_to(best, c.shape))
    return getitem(r, np.indices(idx.shape, sparse=True) + (idx,))  # indexing: on the tape


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """The maximum of each window (stride defaults to the kernel size).

    For series the window's series with the largest constant part.
    """
    return _pool(x, kernel_size, stride, padding, _window_max, "max_pool2d", -np.inf)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """The mean of each window (zero padding counted, as PyTorch's default)."""
    return _pool(x, kernel_size, stride, padding, lambda r: mean(r, -1), "avg_pool2d", 0.0)


__all__ = ["avg_pool2d", "conv2d", "max_pool2d", "unfold"]
