"""Arithmetic primitives: + - * / **, negation, comparisons.

DA forwards take series as coefficient arrays and reals as :class:`Real`, so
a number meeting a series costs an array operation, not a series product.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..kernels.functions import POW, RECIP, div_rows
from ..kernels.mul import mul as mul_kernel
from ..kernels.mul import mul_gather
from ..tensor import Tensor
from . import batch
from .adjoint import coeff_dot, copied_adjoint, mul_adjoint
from .functions import exp, log, unary_series
from .registry import (
    Real,
    apply,
    as_tensor,
    broadcast_mismatch,
    da_shape,
    primitive,
    real_broadcast,
    series_mismatch,
)


def _add_const(series, real, sign=1.0):
    s, r = real_broadcast(series, real)
    out = s * sign if sign != 1.0 else np.array(s, dtype=np.float64)
    out[..., 0] += r if isinstance(r, float) else r[..., 0]
    return out


def _add_da(d, a, b):
    if isinstance(a, Real):
        return _add_const(b, a.value)
    if isinstance(b, Real):
        return _add_const(a, b.value)
    return _series_binary(d, a, b, np.add)


def _sub_da(d, a, b):
    if isinstance(a, Real):
        return _add_const(b, a.value, -1.0)
    if isinstance(b, Real):
        return _add_const(a, -b.value)
    return _series_binary(d, a, b, np.subtract)


def _series_binary(d, a, b, ufunc):
    if a.shape != b.shape:
        try:  # the coefficient axis is last, so numpy broadcasts the element shapes
            np.broadcast_shapes(da_shape(a), da_shape(b))
        except ValueError:
            raise series_mismatch([da_shape(a), da_shape(b)]) from None
    return ufunc(a, b)


def _mul_da(d, a, b):
    if isinstance(a, Real) or isinstance(b, Real):
        s, r = (b, a.value) if isinstance(a, Real) else (a, b.value)
        s, r = real_broadcast(s, r)
        return s * r
    if a.ndim == 1 and b.ndim == 1:  # two scalars: the common, overhead-bound case
        out = np.empty(d.ncoef)
        if d.ncoef <= batch.GATHER_MAX:
            mul_gather(a, b, out, *d.gather_tables)
        else:
            mul_kernel(a, b, out, *d.mul_args)
        return out
    shape, (ra, rb) = batch.series_rows(d, a, b)
    return batch.mul(d, ra, rb, math.prod(shape)).reshape(shape + (d.ncoef,))


def _check_nonzero(name, b):
    if not (b[0] != 0.0 if b.ndim == 1 else np.all(b[..., 0] != 0.0)):
        raise ZeroDivisionError(
            f"{name}: the divisor's constant part is 0; a series has no inverse there"
        )


def _div_da(d, a, b):
    if isinstance(b, Real):
        s, r = real_broadcast(a, b.value)
        return s / r
    _check_nonzero("division", b)
    if isinstance(a, Real):
        s, r = real_broadcast(unary_series(d, b, RECIP), a.value)
        return s * r
    if a.ndim == 1 and b.ndim == 1:
        out = np.empty(d.ncoef)
        div_rows(a[None], b[None], out[None], *d.mul_args)
        return out
    shape, (ra, rb) = batch.series_rows(d, a, b)
    return batch.div(d, ra, rb, math.prod(shape)).reshape(shape + (d.ncoef,))


def _neg_g(g, out, a, b):
    return neg(g)


def _is_series(a):
    return isinstance(a, Tensor) and a.desc is not None


# Through series (``da_vjp``): a series operand gets the adjoint series, a real
# one added to a series gets the constant coefficient's adjoint, and a real
# scaling a series gets Σ_c g_c x_c; products become transposed products.
def _mul_adj(g, a, b):
    """Adjoint of ``a`` in ``a · b`` (either may be real)."""
    if not _is_series(a):
        return coeff_dot(g, b)
    return mul_adjoint(g, b) if _is_series(b) else g * b


add = primitive(
    "add", real=np.add, da=_add_da, vjp=(lambda g, *_: g, lambda g, *_: g), saves=(),
    da_vjp=(lambda g, out, a, b: copied_adjoint(g, a), lambda g, out, a, b: copied_adjoint(g, b)),
)  # fmt: skip
sub = primitive(
    "sub", real=np.subtract, da=_sub_da, vjp=(lambda g, *_: g, _neg_g), saves=(),
    da_vjp=(lambda g, out, a, b: copied_adjoint(g, a), lambda g, out, a, b: -copied_adjoint(g, b)),
)  # fmt: skip
mul = primitive(
    "mul",
    real=np.multiply,
    da=_mul_da,
    vjp=(lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
    saves=((1, 0), (0, 1)),  # a * 2 keeps nothing: a may change in place afterwards
    da_vjp=(lambda g, out, a, b: _mul_adj(g, a, b), lambda g, out, a, b: _mul_adj(g, b, a)),
)
div = primitive(
    "div",
    real=np.true_divide,
    da=_div_da,
    # ∂(a/b)/∂b = −(a/b)/b: through the output, so nesting VJPs divides by b once
    # per level, not by b² (which loses a digit an order in nested derivatives)
    vjp=(lambda g, out, a, b: g / b, lambda g, out, a, b: -(g / b) * out),
    saves=(1, ("out", 1)),
    da_vjp=(
        lambda g, out, a, b: _mul_adj(g, a, 1.0 / b),
        lambda g, out, a, b: -_mul_adj(g, b, out / b),
    ),
)
neg = primitive(
    "neg", real=np.negative, da=lambda d, a: -a, vjp=(lambda g, *_: -g,), saves=(),
    da_vjp=(lambda g, *_: -g,),
)  # fmt: skip


def _powi(d, a, n):
    """``a**n`` for an integer ``n >= 0`` by repeated squaring (works at a0 = 0)."""
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else _mul_da(d, result, base)
        n >>= 1
        if n:
            base = _mul_da(d, base, base)
    return result


def _pow_da(d, a, p):
    if not isinstance(p, Real) or np.ndim(p.value) != 0:
        raise TypeError("series ** needs a number exponent here; use dg.pow for series exponents")
    p = float(p.value)
    a0 = a[..., 0]
    if p == 0.0:
        return _add_const(np.zeros_like(a), 1.0)
    if p.is_integer():
        if np.all(a0 != 0.0):
            return unary_series(d, a, POW, p)  # one product by the recurrence
        if p > 0:
            return _powi(d, a, int(p))
        raise ZeroDivisionError(f"x**{p:g}: constant part 0 and a negative exponent")
    if not np.all(a0 > 0.0):
        bad = a0[~(a0 > 0.0)].flat[0]
        raise ValueError(
            f"x**{p:g}: constant part {bad:g} outside the domain (0, inf) of a non-integer power"
        )
    return unary_series(d, a, POW, p)


def _pow_base_vjp(g, out, a, p):
    if isinstance(p, numbers.Number) and p == 0:
        return g * 0.0  # d(a**0)/da = 0 everywhere, also at a = 0 where p·a**(p-1) is nan
    return g * p * _pow_number(a, p - 1)


def _log_base(a):
    """log of the base; a number stays a Python float (a tensor would round it to float32)."""
    if isinstance(a, Tensor):
        return log(a)
    return math.log(a) if a > 0 else math.nan


_pow_number = primitive(
    "pow",
    real=np.power,
    da=_pow_da,
    vjp=(_pow_base_vjp, lambda g, out, a, p: g * out * _log_base(a)),
    saves=(0, (1, 0), ("out", 1)),
    da_vjp=(
        lambda g, out, a, p: mul_adjoint(g, p * _pow_number(a, p - 1)),
        lambda g, out, a, p: coeff_dot(g, out * log(a)),
    ),
)


def pow(a, p):  # noqa: A001 - the name users expect
    """``a ** p``: integer, real or series exponent (``exp(p·log a)`` for a series ``p``)."""
    if isinstance(p, Tensor) and p.desc is not None:
        return exp(p * _log_base(a))
    if isinstance(a, (Tensor, numbers.Number)) or not isinstance(p, Tensor):
        return _pow_number(a, p)
    return exp(p * log(as_tensor(a)))


def _values(a):
    if isinstance(a, Tensor):
        return a._data[..., 0] if a.desc is not None else a._data
    return a if isinstance(a, (int, float, bool)) else as_tensor(a)._data


def compare(ufunc, a, b):
    """Compare values; a series compares by its constant part (``if x > 0`` works)."""
    av, bv = _values(a), _values(b)
    try:
        return Tensor(np.asarray(ufunc(av, bv)))
    except ValueError:
        raise RuntimeError(
            broadcast_mismatch(np.shape(av), np.shape(bv))
            or f"shapes {np.shape(av)} and {np.shape(bv)} cannot be broadcast together"
        ) from None


__all__ = ["add", "sub", "mul", "div", "neg", "pow", "compare", "apply"]
