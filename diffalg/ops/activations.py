"""Piecewise and normalising functions of deep learning, each with its VJP.

``relu``, ``sigmoid``, ``softmax`` and ``log_softmax`` are primitives (their
VJPs read the output); ``where``, ``maximum``, ``minimum`` and ``clamp`` pass
the gradient through a constant mask.  Smooth compositions (``gelu``,
``silu``, ``softplus``...) are written with other primitives.

For series the pieces of a piecewise function are chosen by the constant
parts: ``relu(a)`` is ``a`` where ``a0 > 0`` and the zero series where
``a0 < 0``.  Where the constant part sits exactly on a kink the function has
no Taylor series (its derivatives jump), which is an error unless the pieces
agree there as whole series (``relu`` of the zero series is zero).  The
smooth primitives' series forwards are compositions of series operations:
``sigmoid(a) = e/(1 + e)`` with ``e = exp(±a)`` chosen so that ``e0 <= 1``
(no overflow, full relative precision in the tails), ``softmax`` as
``exp(a - m) / Σ exp(a - m)`` with ``m`` the largest constant part.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..tensor import Tensor
from .adjoint import copied_adjoint, mul_adjoint
from .arithmetic import div
from .functions import erf, exp, log, log1p, tanh
from .reduce import sum as sum_
from .registry import Real, as_tensor, primitive, series_mismatch
from .shape import _axis, _lift


def _mask(cond, like: Tensor) -> Tensor:
    """A constant 0/1 tensor (no gradient flows into a mask)."""
    return Tensor(np.asarray(cond, dtype=like.dtype))


def _points(t: Tensor) -> np.ndarray:
    """Values of a real tensor, constant parts (on the host) of a series."""
    return t._data if t.desc is None else np.asarray(t.coeffs)[..., 0]


def _check_ties(name, a, b) -> None:
    """Series whose constant parts are equal must be equal, else ``name`` has a kink there.

    ``a`` and ``b`` are coefficient arrays of one shape.
    """
    tie = a[..., 0] == b[..., 0]
    if np.any(tie) and np.any(a[tie] != b[tie]):
        raise ValueError(
            f"{name}: constant part {a[tie][0, 0]:g} sits on a kink (the pieces meet there "
            f"with different series); {name} has no Taylor series at that point"
        )


def _broadcast(d, *ops) -> list[np.ndarray]:
    """Operands of a DA forward as series arrays of one broadcast shape."""
    arrays = [_lift(d, a) for a in ops]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        raise series_mismatch([a.shape[:-1] for a in arrays]) from None
    return [np.broadcast_to(a, shape) for a in arrays]


def _select(name, d, a, b, larger: bool) -> np.ndarray:
    """The series with the larger (or smaller) constant part; ties must be equal series."""
    a, b = _broadcast(d, a, b)
    _check_ties(name, a, b)
    wins = a[..., 0] > b[..., 0] if larger else a[..., 0] < b[..., 0]
    return np.where(wins[..., None], a, b)


def _sigmoid_da(d, a):
    x = Tensor(a, d)
    below = np.asarray(a[..., 0] < 0)
    e = exp(x * Tensor(np.where(below, 1.0, -1.0)))  # exp(-|x0| + ...): e0 in (0, 1]
    return div(where(Tensor(below), e, 1.0), 1.0 + e)._data


# The VJPs below serve reals and series alike: masks come from constant parts
# (a real's value is its constant part), products with the output are
# transposed products (``mul_adjoint`` is the product on reals), and an operand
# that the output copies gets ``copied_adjoint``.
_RELU_VJP = (lambda g, out, a: g * Tensor(_points(out) > 0),)  # a bool mask: one pass
relu = primitive(
    "relu",
    real=lambda a: np.maximum(a, 0),
    da=lambda d, a: _select("relu", d, a, Real(0.0), True),
    vjp=_RELU_VJP,
    da_vjp=_RELU_VJP,
    saves=("out",),
)
_SIGMOID_VJP = (lambda g, out, a: mul_adjoint(g, out * (1 - out)),)
sigmoid = primitive(
    "sigmoid",
    real=special.expit,
    da=_sigmoid_da,
    vjp=_SIGMOID_VJP,
    da_vjp=_SIGMOID_VJP,
    saves=("out",),
)


def _on_kink(name, x: Tensor) -> None:
    """A series whose constant part is 0 must be the zero series (a kink at 0)."""
    if x.desc is not None:
        c = np.asarray(x.coeffs)
        _check_ties(name, c, np.zeros_like(c))


def leaky_relu(x, negative_slope=0.01):
    x = as_tensor(x)
    _on_kink("leaky_relu", x)
    return x * _mask(np.where(_points(x) > 0, 1.0, negative_slope), x)


def elu(x, alpha=1.0):
    x = as_tensor(x)
    _on_kink("elu", x)
    pos = _mask(_points(x) > 0, x)
    return pos * x + (1 - pos) * alpha * (exp(x * (1 - pos)) - 1)


def softplus(x, beta=1.0):
    """``log(1 + exp(beta x)) / beta`` as ``(max(bx, 0) + log1p(exp(−|bx|))) / beta``.

    The piece is chosen by value (by constant part for series), so nothing
    overflows, and ``log1p`` of the small ``exp(−|bx|)`` keeps the tails'
    relative precision (``log(1 + tiny)`` would round ``1 + tiny``); one
    formula serves reals and series.
    """
    x = as_tensor(x)
    bx = x * beta
    pos = _points(bx) > 0
    return (bx * _mask(pos, x) + log1p(exp(bx * _mask(np.where(pos, -1.0, 1.0), x)))) / beta


def silu(x):
    return x * sigmoid(x)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))
    phi2 = 1 + erf(x * (1 / math.sqrt(2)))  # 2 Φ(x)
    if isinstance(x, Tensor) and x.desc is not None:
        # 1 + erf cancels in the left tail: the constant part by erfc (a real shift)
        exact = special.erfc(-_points(x) / math.sqrt(2))
        phi2 = phi2 + Tensor(np.asarray(exact - _points(phi2)))
    return 0.5 * x * phi2


def _softmax_real(a, dim):
    e = np.exp(a - np.max(a, axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax_real(a, dim):
    s = a - np.max(a, axis=dim, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=dim, keepdims=True))


def _shifted(d, a, dim):
    """Series ``a - m`` with ``m`` the largest constant part along ``dim`` (a real shift)."""
    return Tensor(a, d) - Tensor(np.max(a[..., 0], axis=dim, keepdims=True))


def _softmax_da(d, a, dim):
    e = exp(_shifted(d, a, dim))
    return (e / sum_(e, dim, keepdim=True))._data


def _log_softmax_da(d, a, dim):
    s = _shifted(d, a, dim)
    return (s - log(sum_(exp(s), dim, keepdim=True)))._data


def _softmax_vjp(g, out, a, dim):
    # δout = out·δa − out·Σ_j out_j δa_j: transpose both terms
    h = mul_adjoint(g, out)
    return h - mul_adjoint(sum_(h, dim, keepdim=True), out)


def _log_softmax_vjp(g, out, a, dim):
    # δout = δa − Σ_j softmax_j δa_j, softmax = exp(out)
    return g - mul_adjoint(sum_(g, dim, keepdim=True), exp(out))


softmax_p = primitive(
    "softmax",
    real=_softmax_real,
    da=_softmax_da,
    vjp=(_softmax_vjp,),
    da_vjp=(_softmax_vjp,),
    saves=("out",),
)
log_softmax_p = primitive(
    "log_softmax",
    real=_log_softmax_real,
    da=_log_softmax_da,
    vjp=(_log_softmax_vjp,),
    da_vjp=(_log_softmax_vjp,),
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


def _where_da(d, a, b, cond):
    a, b = _broadcast(d, a, b)
    try:
        shape = np.broadcast_shapes(cond.shape, a.shape[:-1])
    except ValueError:
        raise series_mismatch([cond.shape, a.shape[:-1]]) from None
    return np.where(np.broadcast_to(cond, shape)[..., None], a, b)


_WHERE_VJP = (
    lambda g, out, a, b, cond: copied_adjoint(g * _mask(cond, g), a),
    lambda g, out, a, b, cond: copied_adjoint(g * _mask(~cond, g), b),
)
where_p = primitive(
    "where",
    real=lambda a, b, cond: np.where(cond, a, b),
    da=lambda d, a, b, cond: _where_da(d, a, b, cond),
    vjp=_WHERE_VJP,
    da_vjp=_WHERE_VJP,
    saves=(),
)


def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b`` (broadcast together)."""
    c = cond._data if isinstance(cond, Tensor) else np.asarray(cond)
    if c.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got {c.dtype}")
    return where_p(a, b, cond=c)


def _values(t):
    """Values of reals (tensors or numbers), constant parts of series."""
    return _points(t) if isinstance(t, Tensor) else np.asarray(t)


def _pick(first: bool):
    def vjp(g, out, a, b):
        av, bv = _values(a), _values(b)
        wins = av > bv if first else av < bv
        share = np.where(wins, 1.0, np.where(av == bv, 0.5, 0.0))  # ties split, as PyTorch
        return copied_adjoint(g * _mask(share, g), a)

    return vjp


def _other(vjp):
    return lambda g, out, a, b: vjp(g, out, b, a)


_max_a, _min_a = _pick(True), _pick(False)
_MAX_VJP, _MIN_VJP = (_max_a, _other(_max_a)), (_min_a, _other(_min_a))
maximum = primitive(
    "maximum",
    real=np.maximum,
    da=lambda d, a, b: _select("maximum", d, a, b, True),
    vjp=_MAX_VJP,
    da_vjp=_MAX_VJP,
)
minimum = primitive(
    "minimum",
    real=np.minimum,
    da=lambda d, a, b: _select("minimum", d, a, b, False),
    vjp=_MIN_VJP,
    da_vjp=_MIN_VJP,
)


def _clamp_vjp(g, out, a, lo, hi):
    v = _points(a)
    inside = np.ones(v.shape, dtype=bool)
    if lo is not None:
        inside &= v >= lo
    if hi is not None:
        inside &= v <= hi
    return g * _mask(inside, g)


def _clamp_da(d, a, lo, hi):
    if lo is not None:
        a = _select("clamp", d, a, Real(np.asarray(lo, dtype=np.float64)), True)
    if hi is not None:
        a = _select("clamp", d, a, Real(np.asarray(hi, dtype=np.float64)), False)
    return a


clamp_p = primitive(
    "clamp",
    real=lambda a, lo, hi: np.clip(a, lo, hi),
    da=_clamp_da,
    vjp=(_clamp_vjp,),
    da_vjp=(_clamp_vjp,),
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
