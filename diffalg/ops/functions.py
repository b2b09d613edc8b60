"""Elementary functions: one primitive each, real forward = numpy ufunc.

The DA forward runs the order recurrence of :mod:`diffalg.kernels.functions`
after checking that every constant part lies where the function is analytic;
``erf`` uses the Horner fallback with its Taylor coefficients about ``a0``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..kernels import functions as K
from ..tensor import Tensor
from . import batch
from .adjoint import mul_adjoint
from .registry import as_tensor, primitive


def unary_series(d, a, op, alpha=0.0, companion=False):
    """Run kernel function ``op`` over every series of ``a`` (any element shape)."""
    shape = a.shape[:-1]
    A = a[None] if a.ndim == 1 else np.ascontiguousarray(a).reshape(-1, d.ncoef)
    C = np.empty(A.shape)
    C2 = np.empty(A.shape)
    batch.unary(d, op, alpha, A, C, C2)
    if not shape:
        return (C[0], C2[0]) if companion else C[0]
    C = C.reshape(shape + (d.ncoef,))
    return (C, C2.reshape(shape + (d.ncoef,))) if companion else C


def _check_domain(name, a, bad, domain):
    if a.ndim == 1:  # one series: Python-float checks cost ~100 ns, numpy's ~1 µs each
        a0 = float(a[0])
        if not math.isfinite(a0):
            raise ValueError(f"{name}: non-finite constant part")
        if bad is not None and bad(a0):
            raise ValueError(f"{name}: constant part {a0:g} outside the domain {domain}")
        return
    a0 = a[..., 0]
    if not np.all(np.isfinite(a0)):
        raise ValueError(f"{name}: non-finite constant part")
    if bad is not None and np.any(bad(a0)):
        raise ValueError(
            f"{name}: constant part {a0[bad(a0)].flat[0]:g} outside the domain {domain}"
        )


def _elementary(name, op, real, deriv, saves=(0,), bad=None, domain=None, post=None, pre=None):
    """A function with its kernel opcode, numpy forward and derivative ``f' = deriv(out, a)``.

    The derivative gives both VJPs: ``g · f'(a)`` on reals, and on series the
    transposed product of ``g`` with the series ``f'(a)``.  ``pre(a)`` changes
    the argument the kernel sees, ``post(a, c)`` the result.
    """

    def da(d, a):
        _check_domain(name, a, bad, domain)
        c = unary_series(d, a if pre is None else pre(a), op)
        return c if post is None else post(a, c)

    return primitive(
        name, real=real, da=da, saves=saves,
        vjp=(lambda g, out, a: g * deriv(out, a),),
        da_vjp=(lambda g, out, a: mul_adjoint(g, deriv(out, a)),),
    )  # fmt: skip


def _acos_from_asin(a, c):
    c = -c
    c[..., 0] = np.arccos(a[..., 0])
    return c


def _plus_one(a):
    b = a.copy()
    b[..., 0] += 1.0
    return b


def _exact_constant(f):
    """``post`` that sets the constant part to ``f(a0)``: ``log1p``/``expm1`` of ``a0``
    keep the digits that ``log(1 + a0)`` and ``exp(a0) − 1`` lose for small ``a0``
    (the other coefficients are relative to ``1 + a0`` and ``exp(a0)``: exact)."""

    def post(a, c):
        c[..., 0] = f(a[..., 0])
        return c

    return post


def _outside_unit(a0):
    return np.abs(a0) >= 1.0


OUT = ("out",)

exp = _elementary("exp", K.EXP, np.exp, lambda out, a: out, OUT)
log = _elementary("log", K.LOG, np.log, lambda out, a: 1 / a, bad=lambda a0: a0 <= 0,
                  domain="(0, inf)")  # fmt: skip
log1p = _elementary(
    "log1p", K.LOG, np.log1p, lambda out, a: 1 / (1 + a), bad=lambda a0: a0 <= -1,
    domain="(-1, inf)", pre=_plus_one, post=_exact_constant(np.log1p),
)  # fmt: skip
expm1 = _elementary(
    "expm1", K.EXP, np.expm1, lambda out, a: out + 1, OUT, post=_exact_constant(np.expm1)
)
sqrt = _elementary(
    "sqrt", K.SQRT, np.sqrt, lambda out, a: 0.5 / out, OUT,
    bad=lambda a0: a0 <= 0, domain="(0, inf) (sqrt has no Taylor series at 0)",
)  # fmt: skip
sin = _elementary("sin", K.SIN, np.sin, lambda out, a: cos(a))
cos = _elementary("cos", K.COS, np.cos, lambda out, a: -sin(a))
tan = _elementary(
    "tan", K.TAN, np.tan, lambda out, a: 1 + out * out, OUT,
    bad=lambda a0: np.cos(a0) == 0, domain="cos(x) != 0",
)  # fmt: skip
sinh = _elementary("sinh", K.SINH, np.sinh, lambda out, a: cosh(a))
cosh = _elementary("cosh", K.COSH, np.cosh, lambda out, a: sinh(a))
tanh = _elementary("tanh", K.TANH, np.tanh, lambda out, a: 1 - out * out, OUT)
asin = _elementary(
    "asin", K.ASIN, np.arcsin, lambda out, a: 1 / sqrt(1 - a * a),
    bad=_outside_unit, domain="(-1, 1)",
)  # fmt: skip
acos = _elementary(
    "acos", K.ASIN, np.arccos, lambda out, a: -1 / sqrt(1 - a * a),
    bad=_outside_unit, domain="(-1, 1)", post=_acos_from_asin,
)  # fmt: skip
atan = _elementary("atan", K.ATAN, np.arctan, lambda out, a: 1 / (1 + a * a))
asinh = _elementary("asinh", K.ASINH, np.arcsinh, lambda out, a: 1 / sqrt(a * a + 1))
acosh = _elementary(
    "acosh", K.ACOSH, np.arccosh, lambda out, a: 1 / sqrt(a * a - 1),
    bad=lambda a0: a0 <= 1, domain="(1, inf)",
)  # fmt: skip
atanh = _elementary(
    "atanh", K.ATANH, np.arctanh, lambda out, a: 1 / (1 - a * a),
    bad=_outside_unit, domain="(-1, 1)",
)  # fmt: skip


def erf_taylor(a0: np.ndarray, order: int) -> np.ndarray:
    """Taylor coefficients ``erf^(k)(a0)/k!``, shape ``a0.shape + (order + 1,)``.

    ``erf^(k)(x) = (2/√π) (−1)^(k−1) H_{k−1}(x) e^{−x²}`` with the physicists'
    Hermite polynomials ``H_{n+1} = 2x H_n − 2n H_{n−1}``.
    """
    a0 = np.asarray(a0, dtype=np.float64)
    f = np.empty(a0.shape + (order + 1,))
    f[..., 0] = special.erf(a0)
    g = 2.0 / math.sqrt(math.pi) * np.exp(-a0 * a0)
    h_prev, h = np.zeros_like(a0), np.ones_like(a0)
    for k in range(1, order + 1):
        f[..., k] = (-1) ** (k - 1) * h * g / math.factorial(k)
        h_prev, h = h, 2 * a0 * h - 2 * (k - 1) * h_prev
    return f


def _erf_da(d, a):
    _check_domain("erf", a, None, None)
    shape = a.shape[:-1]
    A = np.ascontiguousarray(a).reshape(-1, d.ncoef)
    C = np.empty_like(A)
    batch.taylor(d, erf_taylor(A[:, 0], d.order), A, C)
    return C.reshape(shape + (d.ncoef,))


def _erf_deriv(a):
    return (2.0 / math.sqrt(math.pi)) * exp(-a * a)


erf = primitive(
    "erf",
    real=special.erf,
    da=_erf_da,
    vjp=(lambda g, out, a: g * _erf_deriv(a),),
    da_vjp=(lambda g, out, a: mul_adjoint(g, _erf_deriv(a)),),
)


def _abs_da(d, a):
    a0 = a[..., 0]
    if np.any(a0 == 0):
        raise ValueError("abs: constant part 0; |x| has no Taylor series there")
    return a * np.sign(a0)[..., None]


sign = primitive("sign", real=np.sign, vjp=(lambda g, out, a: None,), saves=())
abs = primitive(  # noqa: A001
    "abs", real=np.abs, da=_abs_da, vjp=(lambda g, out, a: g * sign(a),),
    da_vjp=(lambda g, out, a: g * Tensor(np.sign(a._data[..., 0])),),  # |a| = ±a per element
)  # fmt: skip
_atan2_real = primitive(
    "atan2",
    real=np.arctan2,
    vjp=(
        lambda g, out, y, x: g * x / (x * x + y * y),
        lambda g, out, y, x: -g * y / (x * x + y * y),
    ),
)


def atan2(y, x):
    """Angle of ``(x, y)``; for series the branch is fixed by the constant parts.

    Off the axis ``x0 = 0`` it is ``atan(y/x)`` and otherwise ``−atan(x/y)``,
    each shifted by a constant to ``atan2(y0, x0)`` (the shift has no
    derivative, so the series is exact).
    """
    y, x = as_tensor(y), as_tensor(x)
    if y.desc is None and x.desc is None:
        return _atan2_real(y, x)
    if y.device != "cpu" or x.device != "cpu":
        raise NotImplementedError(
            "atan2 is not available for tensors on cuda; move them with .cpu()"
        )
    y0 = y._data[..., 0] if y.desc is not None else y._data
    x0 = x._data[..., 0] if x.desc is not None else x._data
    if np.any((x0 == 0) & (y0 == 0)):
        raise ValueError("atan2: both constant parts are 0; the angle has no Taylor series there")
    ref = np.arctan2(y0, x0)
    if np.all(np.abs(x0) >= np.abs(y0)):
        return atan(y / x) + (ref - np.arctan(y0 / x0))
    if np.all(np.abs(x0) < np.abs(y0)):
        return -atan(x / y) + (ref + np.arctan(x0 / y0))
    raise ValueError("atan2: mixed branches in one tensor; call it per element")


def hypot(x, y):
    """``sqrt(x² + y²)``."""
    return sqrt(x * x + y * y)
