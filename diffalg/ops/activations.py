"""Piecewise and normalising functions of deep learning, each with its VJP.

``relu``, ``sigmoid``, ``softmax`` and ``log_softmax`` are primitives (their
VJPs read the output); ``where``, ``maximum``, ``minimum`` and ``clamp`` pass
the gradient through a constant mask.  Smooth compositions (``gelu``,
``silu``, ``softplus``...) are written with other primitives.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..tensor import Tensor
from .functions import erf, exp, log, tanh
from .reduce import sum as sum_
from .registry import as_tensor, primitive
from .shape import _axis


def _mask(cond, like: Tensor) -> Tensor:
    """A constant 0/1 tensor (no gradient flows into a mask)."""
    return Tensor(np.asarray(cond, dtype=like.dtype))


relu = primitive(
    "relu",
    real=lambda a: np.maximum(a, 0),
    vjp=(lambda g, out, a: g * Tensor(out._data > 0),),  # a bool mask: one pass
    saves=("out",),
)
sigmoid = primitive(
    "sigmoid",
    real=special.expit,
    vjp=(lambda g, out, a: g * out * (1 - out),),
    saves=("out",),
)


def leaky_relu(x, negative_slope=0.01):
    x = as_tensor(x)
    return x * _mask(np.where(x._data > 0, 1.0, negative_slope), x)


def elu(x, alpha=1.0):
    x = as_tensor(x)
    pos = _mask(x._data > 0, x)
    return pos * x + (1 - pos) * alpha * (exp(x * (1 - pos)) - 1)


def softplus(x, beta=1.0):
    """``log(1 + exp(beta x)) / beta``, computed without overflow."""
    x = as_tensor(x)
    bx = x * beta
    m = _mask(np.maximum(bx._data, 0), x)  # a constant shift: log(e^-m + e^(bx-m)) + m
    return (log(exp(-m) + exp(bx - m)) + m) / beta


def silu(x):
    return x * sigmoid(x)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1 + erf(x * (1 / math.sqrt(2))))


def _softmax_real(a, dim):
    e = np.exp(a - np.max(a, axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax_real(a, dim):
    s = a - np.max(a, axis=dim, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=dim, keepdims=True))


softmax_p = primitive(
    "softmax",
    real=_softmax_real,
    vjp=(lambda g, out, a, dim: out * (g - sum_(g * out, dim, keepdim=True)),),
    saves=("out",),
)
log_softmax_p = primitive(
    "log_softmax",
    real=_log_softmax_real,
    vjp=(lambda g, out, a, dim: g - exp(out) * sum_(g, dim, keepdim=True),),
    saves=("out",),
)


def _dim(x, dim):
    if dim is None:
        raise TypeError("softmax: pass dim= (the dimension to normalise over)")
    return _axis(x.ndim, dim)


def softmax(x, dim=None):
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    x = as_tensor(x)
    return softmax_p(x, dim=_dim(x, dim))


def log_softmax(x, dim=None):
    """``log(softmax(x))`` along ``dim``, without overflow."""
    x = as_tensor(x)
    return log_softmax_p(x, dim=_dim(x, dim))


where_p = primitive(
    "where",
    real=lambda a, b, cond: np.where(cond, a, b),
    vjp=(
        lambda g, out, a, b, cond: g * _mask(cond, g),
        lambda g, out, a, b, cond: g * _mask(~cond, g),
    ),
    saves=(),
)


def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b`` (broadcast together)."""
    c = cond._data if isinstance(cond, Tensor) else np.asarray(cond)
    if c.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got {c.dtype}")
    return where_p(a, b, cond=c)


def _values(t):
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def _pick(first: bool):
    def vjp(g, out, a, b):
        av, bv = _values(a), _values(b)
        wins = av > bv if first else av < bv
        share = np.where(wins, 1.0, np.where(av == bv, 0.5, 0.0))  # ties split, as PyTorch
        return g * _mask(share, g)

    return vjp


def _other(vjp):
    return lambda g, out, a, b: vjp(g, out, b, a)


_max_a, _min_a = _pick(True), _pick(False)
maximum = primitive("maximum", real=np.maximum, vjp=(_max_a, _other(_max_a)))
minimum = primitive("minimum", real=np.minimum, vjp=(_min_a, _other(_min_a)))


def _clamp_vjp(g, out, a, lo, hi):
    v = a._data
    inside = np.ones(v.shape, dtype=bool)
    if lo is not None:
        inside &= v >= lo
    if hi is not None:
        inside &= v <= hi
    return g * _mask(inside, g)


clamp_p = primitive(
    "clamp",
    real=lambda a, lo, hi: np.clip(a, lo, hi),
    vjp=(_clamp_vjp,),
    saves=(0,),
)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Limit values to ``[min, max]`` (either may be ``None``)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    x = as_tensor(x)
    return clamp_p(x, lo=min, hi=max)


def _logical(fn):
    def op(*ts):
        return Tensor(np.asarray(fn(*[_values(t).astype(bool) for t in ts])))

    return op


logical_not = _logical(np.logical_not)
logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)


__all__ = [
    "clamp", "elu", "gelu", "leaky_relu", "log_softmax", "logical_and", "logical_not",
    "logical_or", "maximum", "minimum", "relu", "sigmoid", "silu", "softmax", "softplus",
    "where",
]  # fmt: skip
