"""Elementary functions of a series by order recurrences on degree blocks.

Scaling every variable by ``t`` turns a series into a univariate one in ``t``
whose ``k``-th coefficient is the degree-``k`` block.  The operator
``θ = t d/dt`` multiplies block ``k`` by ``k``; writing ``a' = θa`` (``ap``
below) each function's differential equation gives its block ``k`` from
blocks ``< k`` through one degree-``k`` partial product ``[x·y]_k``
(``mul_degree``).  Summed over ``k`` each such term costs one full
multiplication, so ``exp``/``log``/``pow``/division cost about one product,
``sin`` with ``cos``, ``tan``, ``atan``, ``asin``... about two.  The formulas
sit in each helper's docstring; ``c_k`` is block ``k`` of the result.

``taylor`` is the fallback for functions without such an equation: it sums
``Σ f_k ā^k`` (``ā`` = non-constant part) by Horner's rule with a truncation
order that rises by one per step, GTPSA/DACE style.
"""

import math

import numpy as np
from numba import njit

from .mul import degree_range, mul_degree

EXP, LOG, SIN, COS, SINH, COSH, TAN, TANH, SQRT, POW, RECIP, ATAN, ATANH, ASIN, ASINH, ACOSH = (
    range(16)
)


# The helpers write block results with explicit loops: an array expression
# (``w[s:e] / k``) allocates a temporary, which for small series (a few
# coefficients per block) costs more than the arithmetic.
@njit(cache=True)
def _part(x, xlo, xhi, y, ylo, yhi, k, w, ord_off, pair_off, tab):
    """Block ``k`` of ``x·y`` into the same block of the work array ``w``."""
    for i in range(ord_off[k], ord_off[k + 1]):
        w[i] = 0.0
    mul_degree(x, xlo, xhi, y, ylo, yhi, k, w, ord_off, pair_off, tab)


@njit(cache=True)
def _set(c, k, f, w, d, ord_off):
    """Block ``k`` of ``c`` ← ``f·w / d`` (block ``k`` of ``w``)."""
    for i in range(ord_off[k], ord_off[k + 1]):
        c[i] = f * w[i] / d


@njit(cache=True)
def _set_rest(c, k, a, w, d, ord_off):
    """Block ``k`` of ``c`` ← ``(a − w) / d``."""
    for i in range(ord_off[k], ord_off[k + 1]):
        c[i] = (a[i] - w[i]) / d


@njit(cache=True)
def _exp(ap, c, w, ord_off, pair_off, tab):
    """``c = exp(a)``: ``θc = a'c`` ⇒ ``c_k = [a'·c]_k / k``."""
    for k in range(1, ord_off.size - 1):
        _part(ap, 1, k, c, 0, k - 1, k, w, ord_off, pair_off, tab)
        _set(c, k, 1.0, w, k, ord_off)


@njit(cache=True)
def _log(a, c, cp, w, ord_off, pair_off, tab):
    """``c = log(a)``: ``a·θc = a'`` ⇒ ``c_k = (a_k − [c'·a]_k / k) / a_0``, ``c' = θc``."""
    cp[:] = 0.0
    for k in range(1, ord_off.size - 1):
        _part(cp, 1, k - 1, a, 1, k - 1, k, w, ord_off, pair_off, tab)
        for i in range(ord_off[k], ord_off[k + 1]):
            c[i] = (a[i] - w[i] / k) / a[0]
        _set(cp, k, k, c, 1.0, ord_off)


@njit(cache=True)
def _sincos(ap, s, c, sign, w, ord_off, pair_off, tab):
    """``s, c = sin, cos`` (``sign=-1``) or ``sinh, cosh`` (``sign=+1``) of ``a``.

    ``θs = a'c``, ``θc = ±a's`` ⇒ ``s_k = [a'·c]_k / k``, ``c_k = ±[a'·s]_k / k``.
    """
    for k in range(1, ord_off.size - 1):
        _part(ap, 1, k, c, 0, k - 1, k, w, ord_off, pair_off, tab)
        _set(s, k, 1.0, w, k, ord_off)
        _part(ap, 1, k, s, 0, k - 1, k, w, ord_off, pair_off, tab)
        _set(c, k, sign, w, k, ord_off)


@njit(cache=True)
def _tan(ap, t, u, sign, u0, w, ord_off, pair_off, tab):
    """``t = tan a`` (``sign=+1``) or ``tanh a`` (``sign=-1``), ``u = 1 ± t²`` alongside.

    ``θt = a'u`` ⇒ ``t_k = [a'·u]_k / k``; then ``u_k = ±[t·t]_k``.  The caller
    gives ``u0``: for tanh ``1 − t0²`` cancels as ``t0 → ±1`` and would take the
    relative precision of every derivative with it, ``1 / cosh² a0`` does not
    (the blocks ``u_k``, ``k >= 1``, have no cancellation).
    """
    u[:] = 0.0
    u[0] = u0
    for k in range(1, ord_off.size - 1):
        _part(ap, 1, k, u, 0, k - 1, k, w, ord_off, pair_off, tab)
        _set(t, k, 1.0, w, k, ord_off)
        _part(t, 0, k, t, 0, k, k, w, ord_off, pair_off, tab)
        _set(u, k, sign, w, 1.0, ord_off)


@njit(cache=True)
def _sqrt(a, c, w, ord_off, pair_off, tab):
    """``c = √a``: ``c·c = a`` ⇒ ``c_k = (a_k − Σ_{0<j<k} c_j c_{k−j}) / (2 c_0)``."""
    for k in range(1, ord_off.size - 1):
        _part(c, 1, k - 1, c, 1, k - 1, k, w, ord_off, pair_off, tab)
        _set_rest(c, k, a, w, 2.0 * c[0], ord_off)


@njit(cache=True)
def _pow(a, alpha, c, v, degrees, w, ord_off, pair_off, tab):
    """``c = a^α``: ``a·θc = α a'c`` ⇒
    ``c_k = Σ_{i=1..k} ((α+1) i − k) a_i c_{k−i} / (k a_0)``.

    The weight depends on ``i`` and ``k`` only, so ``v_i = ((α+1)i − k) a_i`` is
    rebuilt per ``k`` (linear cost) and one partial product does the rest.
    """
    for k in range(1, ord_off.size - 1):
        for i in range(ord_off[1], ord_off[k + 1]):
            v[i] = ((alpha + 1.0) * degrees[i] - k) * a[i]
        _part(v, 1, k, c, 0, k - 1, k, w, ord_off, pair_off, tab)
        _set(c, k, 1.0, w, k * a[0], ord_off)


@njit(cache=True)
def _div(a, b, c, w, ord_off, pair_off, tab):
    """``c = a / b``: ``c·b = a`` ⇒ ``c_k = (a_k − [c·b]_k) / b_0`` (``c_k`` still 0)."""
    c[:] = 0.0
    c[0] = a[0] / b[0]
    blo, bhi = degree_range(b, ord_off)
    blo = max(blo, 1)
    for k in range(1, ord_off.size - 1):
        _part(c, 0, k - 1, b, blo, bhi, k, w, ord_off, pair_off, tab)
        _set_rest(c, k, a, w, b[0], ord_off)


@njit(cache=True)
def _atan(a, ap, c, b, cp, sign, w, ord_off, pair_off, tab):
    """``c = atan a`` (``sign=+1``) or ``atanh a`` (``sign=-1``).

    ``b = 1 ± a²``, ``b·θc = a'`` ⇒ ``c_k = (k a_k − [c'·b]_k) / (k b_0)``, ``c' = θc``.
    """
    b[:] = 0.0
    for k in range(ord_off.size - 1):
        _part(a, 0, k, a, 0, k, k, w, ord_off, pair_off, tab)
        _set(b, k, sign, w, 1.0, ord_off)
    b[0] += 1.0
    cp[:] = 0.0
    for k in range(1, ord_off.size - 1):
        _part(cp, 1, k - 1, b, 1, k - 1, k, w, ord_off, pair_off, tab)
        _set_rest(c, k, ap, w, k * b[0], ord_off)
        _set(cp, k, k, c, 1.0, ord_off)


@njit(cache=True)
def _inverse_of(a, ap, c, g, cp, sign, w, ord_off, pair_off, tab):
    """``c = F⁻¹(a)`` for ``F = sin, sinh, cosh`` (asin, asinh, acosh).

    With ``g = F'(c)`` and ``g' = sign·F``: ``a' = g·c'`` and ``θg = sign·a·c'``, so
    ``c_k = (k a_k − [g·c']_k) / (k g_0)`` then ``g_k = sign·[a·c']_k / k``.
    ``g_0`` arrives set by the caller (cos, cosh or sinh of ``c_0``).
    """
    cp[:] = 0.0
    for k in range(1, ord_off.size - 1):
        _part(g, 1, k - 1, cp, 1, k - 1, k, w, ord_off, pair_off, tab)
        _set_rest(c, k, ap, w, k * g[0], ord_off)
        _set(cp, k, k, c, 1.0, ord_off)
        _part(a, 0, k, cp, 1, k, k, w, ord_off, pair_off, tab)
        _set(g, k, sign, w, k, ord_off)


@njit(cache=True)
def unary_rows(op, alpha, A, C, C2, degrees, ord_off, pair_off, tab):
    """Apply function ``op`` to every row series of ``A`` into ``C``.

    ``C2`` receives the companion series where one comes for free (``cos`` for
    ``SIN``, ``sin`` for ``COS``, ``1 ± t²`` for ``TAN``/``TANH``...); it is
    scratch otherwise.  Constant parts must already be in the domain.
    """
    m = A.shape[1]
    ap = np.empty(m)
    v = np.empty(m)
    w = np.zeros(m + 1)
    for r in range(A.shape[0]):
        a, c, c2 = A[r], C[r], C2[r]
        a0 = a[0]
        for i in range(m):
            ap[i] = degrees[i] * a[i]
        c[:] = 0.0
        c2[:] = 0.0
        if op == EXP:
            c[0] = math.exp(a0)
            _exp(ap, c, w, ord_off, pair_off, tab)
        elif op == LOG:
            c[0] = math.log(a0)
            _log(a, c, v, w, ord_off, pair_off, tab)
        elif op == SIN or op == COS:
            s, co = (c, c2) if op == SIN else (c2, c)
            s[0], co[0] = math.sin(a0), math.cos(a0)
            _sincos(ap, s, co, -1.0, w, ord_off, pair_off, tab)
        elif op == SINH or op == COSH:
            s, co = (c, c2) if op == SINH else (c2, c)
            s[0], co[0] = math.sinh(a0), math.cosh(a0)
            _sincos(ap, s, co, 1.0, w, ord_off, pair_off, tab)
        elif op == TAN:
            c[0] = math.tan(a0)
            _tan(ap, c, c2, 1.0, 1.0 + c[0] * c[0], w, ord_off, pair_off, tab)
        elif op == TANH:
            c[0] = math.tanh(a0)
            ch = math.cosh(a0)
            _tan(ap, c, c2, -1.0, 1.0 / (ch * ch), w, ord_off, pair_off, tab)
        elif op == SQRT:
            c[0] = math.sqrt(a0)
            _sqrt(a, c, w, ord_off, pair_off, tab)
        elif op == POW:
            c[0] = a0**alpha
            _pow(a, alpha, c, v, degrees, w, ord_off, pair_off, tab)
        elif op == RECIP:
            c2[0] = 1.0
            _div(c2, a, c, w, ord_off, pair_off, tab)
        elif op == ATAN or op == ATANH:
            c[0] = math.atan(a0) if op == ATAN else math.atanh(a0)
            sign = 1.0 if op == ATAN else -1.0
            _atan(a, ap, c, c2, v, sign, w, ord_off, pair_off, tab)
        else:  # ASIN, ASINH, ACOSH
            if op == ASIN:
                c[0], c2[0], sign = math.asin(a0), math.sqrt(1.0 - a0 * a0), -1.0
            elif op == ASINH:
                c[0], c2[0], sign = math.asinh(a0), math.sqrt(1.0 + a0 * a0), 1.0
            else:
                c[0], c2[0], sign = math.acosh(a0), math.sqrt(a0 * a0 - 1.0), 1.0
            _inverse_of(a, ap, c, c2, v, sign, w, ord_off, pair_off, tab)


@njit(cache=True)
def div_rows(A, B, C, ord_off, pair_off, tab):
    """Row-wise ``C[n] = A[n] / B[n]``; every ``B[n, 0]`` must be nonzero."""
    w = np.zeros(C.shape[1] + 1)
    for r in range(C.shape[0]):
        _div(A[r], B[r], C[r], w, ord_off, pair_off, tab)


@njit(cache=True)
def taylor_rows(F, A, C, ord_off, pair_off, tab):
    """Row-wise ``C[n] = Σ_k F[n, k] ā^k`` with ``ā = A[n] − A[n, 0]``.

    Horner with rising truncation: ``r ← r·ā + f_k`` keeps only degrees
    ``<= order − k`` because ``k`` more factors ``ā`` (degree >= 1) follow.
    """
    o = ord_off.size - 2
    m = C.shape[1]
    r = np.empty(m)
    w = np.zeros(m + 1)
    for n in range(C.shape[0]):
        a = A[n]
        alo, ahi = degree_range(a[1:], ord_off[1:] - 1)
        alo, ahi = alo + 1, ahi + 1
        r[:] = 0.0
        r[0] = F[n, o]
        for k in range(o - 1, -1, -1):
            top = o - k
            for d in range(top, 0, -1):  # from the top: block d reads r's blocks < d only
                _part(r, 0, top - 1, a, alo, ahi, d, w, ord_off, pair_off, tab)
                _set(r, d, 1.0, w, 1.0, ord_off)
            r[0] = F[n, k]
        C[n, :] = r
