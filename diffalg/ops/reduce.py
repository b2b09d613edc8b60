"""Reductions with PyTorch's ``dim``/``keepdim`` (numpy's ``axis`` accepted too).

``sum`` is the primitive (its VJP broadcasts back); ``mean``, ``var``, ``std``
and ``logsumexp`` are built from primitives and need no rule of their own.
``max``/``min`` over a dimension pick values with ``gather`` (whose VJP
scatters); over everything they share the gradient among ties, as PyTorch.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from ..tensor import Tensor
from .registry import as_tensor, primitive
from .shape import _axis, expand_p, reshape_p, unsqueeze

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _dims(t, dim):
    """A sorted tuple of element axes, or ``None`` for all."""
    if dim is None:
        return None
    n = t.ndim
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    dims = tuple(sorted({_axis(n, int(d)) for d in dims}))
    return dims if n else ()  # a 0-d tensor accepts dim 0 or -1 and reduces nothing


def _kept_shape(shape, dims):
    return tuple(1 if (dims is None or i in dims) else s for i, s in enumerate(shape))


def _sum_real(a, dims, keepdim):
    return np.add.reduce(a, axis=dims, keepdims=keepdim)  # the ufunc: no Python wrapper


def _sum_da(d, a, dims, keepdim):
    n = a.ndim - 1
    axes = tuple(range(n)) if dims is None else dims
    return a.sum(axis=axes, keepdims=keepdim)


def _sum_vjp(g, out, a, dims, keepdim):
    if not keepdim:
        g = reshape_p(g, shape=_kept_shape(a.shape, dims))
    return expand_p(g, shape=a.shape)


sum_p = primitive("sum", real=_sum_real, da=_sum_da, vjp=(_sum_vjp,), saves=())


def _prepare(t, dim, axis, keepdim):
    t = as_tensor(t)
    dim = axis if dim is None else dim
    return t, _dims(t, dim), bool(keepdim)


def sum(t, dim=None, keepdim=False, *, axis=None, dtype=None):  # noqa: A001
    """Sum over ``dim`` (an int, a tuple, or ``None`` for every element)."""
    t, dims, keepdim = _prepare(t, dim, axis, keepdim)
    if t.desc is None and t.dtype.kind in "biu" and dtype is None:
        dtype = np.int64  # PyTorch sums integers and booleans as int64
    if dtype is not None:
        t = t.to(dtype)
    return sum_p(t, dims=dims, keepdim=keepdim)


def _count(t, dims):
    shape = t.shape
    return math.prod(shape if dims is None else [shape[i] for i in dims])


def mean(t, dim=None, keepdim=False, *, axis=None, dtype=None):
    """Mean over ``dim``."""
    t, dims, keepdim = _prepare(t, dim, axis, keepdim)
    if t.desc is None and t.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {t.dtype}"
        )
    if dtype is not None:
        t = t.to(dtype)
    return sum_p(t, dims=dims, keepdim=keepdim) / _count(t, dims)


def var(t, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """Variance over ``dim`` with Bessel's correction by default (``correction=1``)."""
    t, dims, keepdim = _prepare(t, dim, axis, keepdim)
    if correction is None:
        correction = 0 if unbiased is False else 1
    mu = sum_p(t, dims=dims, keepdim=True) / _count(t, dims)
    dev = t - mu
    return sum_p(dev * dev, dims=dims, keepdim=keepdim) / builtins.max(
        _count(t, dims) - correction, 0
    )


def std(t, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """Standard deviation over ``dim`` (square root of :func:`var`)."""
    return _sqrt0(var(t, dim, unbiased, keepdim, correction=correction, axis=axis))


def _sqrt0(s):
    """``sqrt(s)`` with gradient 0 where ``s == 0``, as PyTorch's ``std`` and ``norm``.

    There ``sqrt'`` is infinite and the chain rule gives inf·0 = nan; 0 (a
    subgradient: a zero vector is the norm's minimum) keeps training finite.
    """
    from .activations import where  # noqa: PLC0415 - activations imports this module
    from .functions import sqrt  # noqa: PLC0415

    zero = s._data == 0 if s.desc is None else None
    if zero is None or not zero.any():
        return sqrt(s)
    live = Tensor(~zero)
    return where(live, sqrt(where(live, s, 1.0)), 0.0)


def _prod_vjp(g, out, a, dims, keepdim):
    if not keepdim:
        g = reshape_p(g, shape=_kept_shape(a.shape, dims))
        out = reshape_p(out, shape=_kept_shape(a.shape, dims))
    if np.any(a._data == 0):
        # the product of all the other factors, without dividing by a zero
        others = Tensor(_exclusive_prod(a._data, dims))
        return expand_p(g, shape=a.shape) * others
    return expand_p(g * out, shape=a.shape) / a


def _exclusive_prod(x, dims):
    """For each element, the product of the others it is reduced with (no division by 0)."""
    axes = tuple(range(x.ndim)) if dims is None else tuple(dims)
    last = tuple(range(-len(axes), 0))
    moved = np.moveaxis(x, axes, last)  # the reduced axes last, flattened into one
    f = moved.reshape(moved.shape[: x.ndim - len(axes)] + (-1,))
    ones = np.ones(f.shape[:-1] + (1,), x.dtype)
    left = np.cumprod(np.concatenate([ones, f[..., :-1]], -1), -1)  # product before
    right = np.cumprod(np.concatenate([ones, f[..., :0:-1]], -1), -1)[..., ::-1]  # after
    return np.moveaxis((left * right).reshape(moved.shape), last, axes)


prod_p = primitive(
    "prod",
    real=lambda a, dims, keepdim: np.prod(a, axis=dims, keepdims=keepdim),
    vjp=(_prod_vjp,),
    saves=(0, "out"),
)


def prod(t, dim=None, keepdim=False, *, axis=None):
    """Product over ``dim``."""
    t, dims, keepdim = _prepare(t, dim, axis, keepdim)
    return prod_p(t, dims=dims, keepdim=keepdim)


# ------------------------------------------------------------- max / min
def _gather_real(a, dim, index):
    # PyTorch lets the index be smaller than the input along the other dimensions too;
    # take_along_axis needs them equal, so cut the input to the index's extent there
    cut = tuple(slice(None) if d == dim else slice(0, s) for d, s in enumerate(index.shape))
    return np.take_along_axis(a[cut], index, axis=dim)


def _scatter_add_real(g, dim, index, shape):
    z = np.zeros(shape, dtype=g.dtype)
    if index.shape[dim] == 1 and all(
        s == t for d, (s, t) in enumerate(zip(index.shape, shape, strict=True)) if d != dim
    ):  # one index per slice (max/min): no repeats, no np.add.at
        np.put_along_axis(z, index, g, axis=dim)
        return z
    idx = list(np.indices(index.shape, sparse=True))
    idx[dim] = index
    np.add.at(z, tuple(idx), g)
    return z


gather_p = primitive(
    "gather",
    real=_gather_real,
    vjp=(lambda g, out, a, dim, index: scatter_add_p(g, dim=dim, index=index, shape=a.shape),),
    saves=(),
)
scatter_add_p = primitive(
    "scatter_add",
    real=_scatter_add_real,
    vjp=(lambda g, out, a, dim, index, shape: gather_p(g, dim=dim, index=index),),
    saves=(),
)


def gather(t, dim, index):
    """``out[i][j] = t[i][index[i][j]]`` along ``dim`` (PyTorch's gather)."""
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"gather(): expected dtype int64 for index, got {index.dtype}")
    d = _axis(t.ndim, dim)
    if index.ndim != t.ndim or any(
        i > s for k, (i, s) in enumerate(zip(index.shape, t.shape, strict=False)) if k != d
    ):
        raise RuntimeError(
            f"gather(): index of shape {index.shape} must have the dimensions of the input "
            f"{t.shape} and be no larger apart from dimension {d}"
        )
    return gather_p(t, dim=d, index=index)


def _extreme(name, arg):
    def along(t, dim, keepdim):
        d = _axis(t.ndim, dim)
        if t.shape and t.shape[d] == 0:
            raise IndexError(f"{name}(): expected a non-empty dimension {dim}")
        idx = np.expand_dims(arg(t._data, axis=d), d)
        values = gather_p(t, dim=d, index=idx)
        if not keepdim:
            values = reshape_p(values, shape=values.shape[:d] + values.shape[d + 1 :])
            idx = idx.squeeze(d)
        return ValuesIndices(values, Tensor(idx.astype(np.int64)))

    def all_(t, dims=None, keepdim=False):
        if t.numel() == 0:
            raise RuntimeError(f"{name}(): expected a non-empty tensor")
        return extreme_p(t, dims=dims, keepdim=keepdim)

    def real(a, dims, keepdim):
        return (np.max if name == "max" else np.min)(a, axis=dims, keepdims=keepdim)

    def vjp(g, out, a, dims, keepdim):
        # ties share the gradient equally (PyTorch's max(), amax and amin)
        kept = _kept_shape(a.shape, dims)
        ties = a._data == out._data.reshape(kept)
        share = Tensor((ties / ties.sum(axis=dims, keepdims=True)).astype(a.dtype))
        return expand_p(reshape_p(g, shape=kept), shape=a.shape) * share

    extreme_p = primitive(name, real=real, vjp=(vjp,), saves=(0, "out"))

    def reduce(t, dim=None, keepdim=False, *, axis=None):
        t = as_tensor(t)
        if t.desc is not None:
            raise TypeError(f"{name}() is not defined for series; compare .const values")
        dim = axis if dim is None else dim
        if isinstance(dim, Tensor):  # max(a, b) written as a.max(b)
            from .activations import maximum, minimum  # noqa: PLC0415

            return (maximum if name == "max" else minimum)(t, dim)
        return all_(t) if dim is None else along(t, dim, keepdim)

    def amax(t, dim=None, keepdim=False):
        t = as_tensor(t)
        if t.desc is not None:
            raise TypeError(f"a{name}() is not defined for series; compare .const values")
        return all_(t, _dims(t, dim), bool(keepdim))

    reduce.__name__ = name
    reduce.__doc__ = f"The {name}imum: of every element, or ``(values, indices)`` along ``dim``."
    amax.__name__ = "a" + name
    amax.__doc__ = f"The {name}imum over ``dim`` (a tuple, or all); ties share the gradient."
    return reduce, amax


max, amax = _extreme("max", np.argmax)  # noqa: A001
min, amin = _extreme("min", np.argmin)  # noqa: A001


def _arg(fn):
    def arg(t, dim=None, keepdim=False):
        t = as_tensor(t)
        if dim is None:
            r = np.asarray(fn(t._data), dtype=np.int64)
            return Tensor(r.reshape((1,) * t.ndim) if keepdim else r)
        d = _axis(t.ndim, dim)
        r = fn(t._data, axis=d)
        return Tensor((np.expand_dims(r, d) if keepdim else r).astype(np.int64))

    return arg


argmax = _arg(np.argmax)
argmin = _arg(np.argmin)


def logsumexp(t, dim, keepdim=False):
    """``log(sum(exp(t)))`` over ``dim``, shifted by the maximum for stability."""
    from .functions import exp, log  # noqa: PLC0415 - functions imports this module

    t = as_tensor(t)
    d = _dims(t, dim)
    v = t._data if t.desc is None else np.asarray(t.coeffs)[..., 0]  # series: constant parts
    m = Tensor(np.max(v, axis=d, keepdims=True))  # a constant shift: no gradient
    m._data[~np.isfinite(m._data)] = 0
    s = log(sum_p(exp(t - m), dims=d, keepdim=True)) + m
    return (
        s if keepdim else reshape_p(s, shape=tuple(x for i, x in enumerate(s.shape) if i not in d))
    )


def norm_real(t, p="fro", dim=None, keepdim=False):
    """The vector norm of a real tensor (2-norm by default, over all elements)."""
    from .functions import abs as abs_  # noqa: PLC0415

    if p in ("fro", 2, 2.0):
        return _sqrt0(sum(t * t, dim, keepdim))
    if p in (1, 1.0):
        return sum(abs_(t), dim, keepdim)
    if p == np.inf:
        return amax(abs_(t), dim, keepdim)
    return sum(abs_(t) ** p, dim, keepdim) ** (1.0 / p)


def cumsum(t, dim):
    return cumsum_p(t, dim=_axis(t.ndim, dim))


cumsum_p = primitive(
    "cumsum",
    real=lambda a, dim: np.cumsum(a, axis=dim),
    vjp=(lambda g, out, a, dim: _flip(cumsum_p(_flip(g, dim), dim=dim), dim),),
    saves=(),
)
flip_p = primitive(
    "flip",
    real=lambda a, dims: np.flip(a, axis=dims),
    vjp=(lambda g, out, a, dims: flip_p(g, dims=dims),),
    saves=(),
)


def _flip(t, dim):
    return flip_p(t, dims=(dim,))


def flip(t, dims):
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    return flip_p(t, dims=tuple(_axis(t.ndim, d) for d in dims))


__all__ = [
    "amax", "amin", "argmax", "argmin", "cumsum", "flip", "gather", "logsumexp", "max",
    "mean", "min", "norm_real", "prod", "std", "sum", "unsqueeze", "var",
]  # fmt: skip
