"""Shape primitives: indexing, reshape, transpose, stack/cat, sum, matmul.

For series the coefficient axis trails the element axes, so each forward maps
element axes onto data axes and leaves the last axis alone.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .arithmetic import _mul_da
from .registry import Real, as_tensor, common_descriptor, primitive


def _series_index(idx, ndim):
    """An index over element axes, made safe for the trailing coefficient axis."""
    idx = idx if isinstance(idx, tuple) else (idx,)
    idx = tuple(i.data if isinstance(i, Tensor) else i for i in idx)
    used = 0
    for i in idx:
        if i is None or i is Ellipsis:
            continue
        used += np.ndim(i) if getattr(i, "dtype", None) is np.dtype(bool) else 1
    if used > ndim:
        raise IndexError(f"too many indices for a tensor of {ndim} dimensions: {used} given")
    return idx + (slice(None),) if any(i is Ellipsis for i in idx) else idx


getitem_p = primitive(
    "getitem", real=lambda a, idx: a[idx], da=lambda d, a, idx: a[_series_index(idx, a.ndim - 1)]
)


def getitem(t, idx):
    """``t[idx]``: numpy indexing over the element axes."""
    if isinstance(idx, Tensor):
        idx = idx.numpy()
    return getitem_p(t, idx=idx)


def setitem(t: Tensor, idx, value):
    """``t[idx] = value`` in place; a real value sets the constant part of series."""
    value = as_tensor(value)
    if t.desc is None:
        if value.desc is not None:
            raise TypeError("cannot store series in a real tensor")
        t.data[idx.data if isinstance(idx, Tensor) else idx] = value.data
        return
    common_descriptor([t, value])
    sidx = _series_index(idx, t.data.ndim - 1)
    t.data[sidx] = value.data if value.desc is not None else _lift(t.desc, Real(value.data))


def _axis(d_ndim_elems, axis):
    """Element axis → data axis (negative axes count from the element axes' end)."""
    return axis + d_ndim_elems if axis < 0 else axis


def _shape_args(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


reshape_p = primitive(
    "reshape",
    real=lambda a, shape: a.reshape(shape),
    da=lambda d, a, shape: a.reshape(tuple(shape) + (d.ncoef,)),
)


def reshape(t, *shape):
    t = as_tensor(t)
    try:
        return reshape_p(t, shape=_shape_args(shape))
    except ValueError:
        raise ValueError(
            f"cannot reshape a tensor of shape {t.shape} into {_shape_args(shape)}"
        ) from None


def _transpose_da(d, a, axes):
    n = a.ndim - 1
    axes = tuple(range(n))[::-1] if not axes else tuple(_axis(n, x) for x in axes)
    return a.transpose(axes + (n,))


transpose_p = primitive(
    "transpose",
    real=lambda a, axes: a.transpose(axes or None),
    da=_transpose_da,
)


def transpose(t, *axes):
    return transpose_p(as_tensor(t), axes=_shape_args(axes) if axes else ())


def _sum_da(d, a, axis):
    n = a.ndim - 1
    if axis is None:
        return a.reshape(-1, d.ncoef).sum(axis=0)
    axis = tuple(_axis(n, x) for x in (axis if isinstance(axis, tuple) else (axis,)))
    if any(not 0 <= x < n for x in axis):
        raise ValueError(f"axis {axis} out of range for a tensor of {n} dimensions")
    return a.sum(axis=axis)


sum_p = primitive("sum", real=lambda a, axis: np.sum(a, axis=axis), da=_sum_da)


def sum(t, axis=None):  # noqa: A001 - numpy's name
    """Sum over ``axis`` (an int, a tuple, or ``None`` for all element axes)."""
    return sum_p(as_tensor(t), axis=axis)


def _join(name, np_join):
    def real(*arrays, axis):
        return np_join(arrays, axis=axis)

    def da(d, *arrays, axis):
        arrays = [_lift(d, a) for a in arrays]
        n = arrays[0].ndim - 1
        return np_join(arrays, axis=_axis(n + (name == "stack"), axis))

    p = primitive(name, real=real, da=da)

    def join(tensors, axis=0):
        tensors = [as_tensor(t) for t in tensors]
        if not tensors:
            raise ValueError(f"{name} needs at least one tensor")
        shapes = [t.shape for t in tensors]
        try:
            return p(*tensors, axis=axis)
        except ValueError as e:
            raise ValueError(f"{name}: tensors of shapes {shapes} do not fit ({e})") from None

    join.__name__ = name
    join.__doc__ = f"numpy-style {name} of real or series tensors along ``axis``."
    return join


def _lift(d, a):
    """A real operand as constant series (for joins of mixed tensors)."""
    if not isinstance(a, Real):
        return a
    v = np.asarray(a.value, dtype=np.float64)
    out = np.zeros(v.shape + (d.ncoef,))
    out[..., 0] = v
    return out


stack = _join("stack", np.stack)
cat = _join("cat", np.concatenate)


def _matmul_da(d, a, b):
    ra, rb = isinstance(a, Real), isinstance(b, Real)
    av = np.asarray(a.value, dtype=np.float64) if ra else a
    bv = np.asarray(b.value, dtype=np.float64) if rb else b
    sa = av.shape if ra else av.shape[:-1]
    sb = bv.shape if rb else bv.shape[:-1]
    if not sa or not sb:
        raise ValueError("matmul needs tensors of at least one dimension; use * for scalars")
    va, vb = len(sa) == 1, len(sb) == 1
    if va:
        av = av[None]
    if vb:
        bv = bv[..., None] if rb else bv[..., None, :]
    ka = (av.shape if ra else av.shape[:-1])[-1]
    kb = (bv.shape if rb else bv.shape[:-1])[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {sa} and {sb} do not match ({ka} != {kb})")
    if ra:
        out = np.einsum("...nk,...kmc->...nmc", av, bv)
    elif rb:
        out = np.einsum("...nkc,...km->...nmc", av, bv)
    else:  # Σ_k a_nk b_km: one batched series product per k
        out = 0.0
        for k in range(ka):
            out = out + _mul_da(d, av[..., :, k : k + 1, :], bv[..., k : k + 1, :, :])
    if va:
        out = out[..., 0, :, :]
    if vb:
        out = out[..., 0, :]
    return out


matmul = primitive("matmul", real=np.matmul, da=_matmul_da)
