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
from .registry import as_tensor, primitive


def unary_series(d, a, op, alpha=0.0, companion=False):
    """Run kernel function ``op`` over every series of ``a`` (any element shape)."""
    shape = a.shape[:-1]
    A = a[None] if a.ndim == 1 else np.ascontiguousarray(a).reshape(-1, d.ncoef)
    C = np.empty(A.shape)
    C2 = np.empty(A.shape)
    K.unary_rows(op, alpha, A, C, C2, d.degrees, *d.mul_args)
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


def _elementary(name, op, real, bad=None, domain=None, post=None):
    def da(d, a):
        _check_domain(name, a, bad, domain)
        c = unary_series(d, a, op)
        return c if post is None else post(a, c)

    return primitive(name, real=real, da=da)


def _acos_from_asin(a, c):
    c = -c
    c[..., 0] = np.arccos(a[..., 0])
    return c


def _outside_unit(a0):
    return np.abs(a0) >= 1.0


exp = _elementary("exp", K.EXP, np.exp)
log = _elementary("log", K.LOG, np.log, lambda a0: a0 <= 0, "(0, inf)")
sqrt = _elementary(
    "sqrt", K.SQRT, np.sqrt, lambda a0: a0 <= 0, "(0, inf) (sqrt has no Taylor series at 0)"
)
sin = _elementary("sin", K.SIN, np.sin)
cos = _elementary("cos", K.COS, np.cos)
tan = _elementary("tan", K.TAN, np.tan, lambda a0: np.cos(a0) == 0, "cos(x) != 0")
sinh = _elementary("sinh", K.SINH, np.sinh)
cosh = _elementary("cosh", K.COSH, np.cosh)
tanh = _elementary("tanh", K.TANH, np.tanh)
asin = _elementary("asin", K.ASIN, np.arcsin, _outside_unit, "(-1, 1)")
acos = _elementary("acos", K.ASIN, np.arccos, _outside_unit, "(-1, 1)", post=_acos_from_asin)
atan = _elementary("atan", K.ATAN, np.arctan)
asinh = _elementary("asinh", K.ASINH, np.arcsinh)
acosh = _elementary("acosh", K.ACOSH, np.arccosh, lambda a0: a0 <= 1, "(1, inf)")
atanh = _elementary("atanh", K.ATANH, np.arctanh, _outside_unit, "(-1, 1)")


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
    K.taylor_rows(erf_taylor(A[:, 0], d.order), A, C, *d.mul_args)
    return C.reshape(shape + (d.ncoef,))


erf = primitive("erf", real=special.erf, da=_erf_da)


def _abs_da(d, a):
    a0 = a[..., 0]
    if np.any(a0 == 0):
        raise ValueError("abs: constant part 0; |x| has no Taylor series there")
    return a * np.sign(a0)[..., None]


abs = primitive("abs", real=np.abs, da=_abs_da)  # noqa: A001


def atan2(y, x):
    """Angle of ``(x, y)``; for series the branch is fixed by the constant parts.

    Off the axis ``x0 = 0`` it is ``atan(y/x)`` and otherwise ``−atan(x/y)``,
    each shifted by a constant to ``atan2(y0, x0)`` (the shift has no
    derivative, so the series is exact).
    """
    y, x = as_tensor(y), as_tensor(x)
    if y.desc is None and x.desc is None:
        return Tensor(np.arctan2(y.data, x.data))
    y0 = y.data[..., 0] if y.desc is not None else y.data
    x0 = x.data[..., 0] if x.desc is not None else x.data
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
