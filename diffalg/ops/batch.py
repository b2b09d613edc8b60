"""Rows of series to kernels: one series at a time, or a batch on every core.

The DA forwards hand their operands here as ``(rows, ncoef)`` arrays.  Below
``BATCH_MIN`` rows the one-series kernels run in a plain loop (no thread
start-up for a handful of series); from there on the batched kernels of
:mod:`diffalg.kernels.batched` take over: SIMD lanes and all cores for
products, row chunks on all cores for functions and division.  Both give the
same numbers up to the order in which round-off accumulates.
"""

from __future__ import annotations

import math

import numpy as np

from ..algebra import Descriptor
from ..kernels import batched as B
from ..kernels import functions as F
from ..kernels.mul import mul_gather_rows, mul_rows
from .registry import da_shape, series_mismatch

#: Rows from which the batched kernels run (below: the one-series kernels in turn).
BATCH_MIN = 16
#: Coefficients up to which one product runs as a gather (``kernels.mul.mul_gather``):
#: measured 2-4x faster than the block kernel up to about 300, slower from about 500.
GATHER_MAX = 300
#: Powers that are functions with a recurrence in lanes.
_RECURRENT_POWERS = {-1.0: F.RECIP, 0.5: F.SQRT}
_NO_ROWS = np.empty((0, 0))  # no numerator: the recurrence's reciprocal


def series_rows(desc, *datas) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast series arrays; each as ``(n, ncoef)`` rows, or one row if it is one series.

    A single series meeting a batch is not copied ``n`` times: the batched
    kernels read its one row for every series of the batch.
    """
    shapes = [da_shape(d) for d in datas]
    shape = shapes[0]
    if any(s != shape for s in shapes):
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError:
            raise series_mismatch(shapes) from None
    n = math.prod(shape)
    m = desc.ncoef
    rows = []
    for d in datas:
        if d.size == m and n >= BATCH_MIN:
            rows.append(d.reshape(1, m))
        elif d.shape[:-1] == shape and d.flags.c_contiguous:
            # operands of one shape, the common case: numpy's broadcast_to (an
            # iterator) and broadcast_shapes cost about 25 µs per call of a batch
            rows.append(d.reshape(-1, m))
        else:
            rows.append(np.ascontiguousarray(np.broadcast_to(d, shape + (m,))).reshape(-1, m))
    return shape, rows


def mul(desc, x, y, n) -> np.ndarray:
    """``(n, ncoef)`` products of row arrays from :func:`series_rows`."""
    out = np.empty((n, desc.ncoef))
    if n >= BATCH_MIN:
        B.mul_lanes(x, y, out, *desc.lane_tables)
    elif desc.ncoef <= GATHER_MAX:
        mul_gather_rows(x, y, out, *desc.gather_tables)
    else:
        mul_rows(x, y, out, *desc.mul_args)
    return out


def div(desc, x, y, n) -> np.ndarray:
    """``(n, ncoef)`` quotients; every divisor's constant part must be nonzero.

    A batch runs the division's order recurrence in SIMD lanes (one product's work).
    """
    out = np.empty((n, desc.ncoef))
    if n < BATCH_MIN:
        F.div_rows(x, y, out, *desc.mul_args)
    else:
        B.recurrence_lanes(F.RECIP, y, x, out, *desc.lane_tables)
    return out


def unary(desc, op, alpha, A, C, C2) -> None:
    """Function ``op`` of every row of ``A`` into ``C`` (``C2``: scratch, or ``None``).

    A batch runs ``exp``, ``log``, ``sqrt`` and the reciprocal (also as powers
    ``1/2`` and ``-1``) by their order recurrences in SIMD lanes, the other
    functions by Horner's rule in lanes on their Taylor coefficients about each
    constant part (:func:`taylor_coefficients`); a few rows run the order
    recurrences one series at a time.
    """
    if A.shape[0] >= BATCH_MIN:
        rec = _RECURRENT_POWERS.get(alpha) if op == F.POW else op
        if rec in B.RECURRENT:
            B.recurrence_lanes(rec, np.ascontiguousarray(A), _NO_ROWS, C, *desc.lane_tables)
        else:
            taylor(desc, taylor_coefficients(desc.order, op, alpha, A[:, 0]), A, C)
    else:
        F.unary_rows(op, alpha, A, C, np.empty(C.shape) if C2 is None else C2,
                     desc.degrees, *desc.mul_args)  # fmt: skip


def taylor(desc, coeffs, A, C) -> None:
    """``C[n] = Σ_k coeffs[n, k] (A[n] − A[n, 0])^k`` for every row."""
    if A.shape[0] >= BATCH_MIN:
        B.taylor_lanes(coeffs, np.ascontiguousarray(A), C, *desc.lane_tables)
    else:
        F.taylor_rows(coeffs, A, C, *desc.mul_args)


def taylor_coefficients(order, op, alpha, a0) -> np.ndarray:
    """``f^(k)(a0) / k!`` for ``k <= order`` and each ``a0``: shape ``(n, order + 1)``.

    Closed forms (numpy, all rows at once) for exp, log, sin, cos, sinh, cosh,
    powers, square root and the reciprocal; the other functions run their
    recurrence on the one-variable series ``a0 + t``.
    """
    a0 = np.asarray(a0, dtype=np.float64)
    k = np.arange(order + 1)
    inv_fact = 1.0 / np.cumprod(np.maximum(k, 1), dtype=np.float64)
    if op == F.EXP:
        return np.exp(a0)[:, None] * inv_fact
    if op in (F.SIN, F.COS, F.SINH, F.COSH):
        trig = op in (F.SIN, F.COS)
        s, c = (np.sin(a0), np.cos(a0)) if trig else (np.sinh(a0), np.cosh(a0))
        cycle = [s, c, -s, -c] if trig else [s, c]  # the derivatives of sin (sinh) in turn
        if op in (F.COS, F.COSH):
            cycle = cycle[1:] + cycle[:1]
        return np.stack(cycle, axis=1)[:, k % len(cycle)] * inv_fact
    if op == F.LOG:
        out = np.empty((a0.size, order + 1))
        out[:, 0] = np.log(a0)
        r, p = -1.0 / a0, np.ones(a0.size)
        for j in range(1, order + 1):  # (−1)^(j+1) / (j a0^j); powers by products, not **
            p = p * r
            out[:, j] = -p / j
        return out
    if op in (F.POW, F.SQRT, F.RECIP):
        alpha = {F.SQRT: 0.5, F.RECIP: -1.0}.get(op, alpha)
        out = np.empty((a0.size, order + 1))
        out[:, 0] = np.sqrt(a0) if op == F.SQRT else 1.0 / a0 if op == F.RECIP else a0**alpha
        for j in range(1, order + 1):  # binomial series: c_j = c_{j-1} (α − j + 1) / (j a0)
            out[:, j] = out[:, j - 1] * (alpha - j + 1) / (j * a0)
        return out
    if op in (F.TAN, F.TANH):  # t_j = u_{j-1} / j,  u_j = ±Σ_i t_i t_{j-i}  (u = 1 ± t²)
        sign = 1.0 if op == F.TAN else -1.0
        t, u = np.zeros((a0.size, order + 1)), np.zeros((a0.size, order + 1))
        t[:, 0] = np.tan(a0) if op == F.TAN else np.tanh(a0)
        # 1 − tanh² cancels in the tails; 1 / cosh² keeps the derivatives' digits
        with np.errstate(over="ignore"):  # cosh → inf beyond |a0| ≈ 710: derivatives 0
            u[:, 0] = 1.0 + t[:, 0] ** 2 if op == F.TAN else 1.0 / np.cosh(a0) ** 2
        for j in range(1, order + 1):
            t[:, j] = u[:, j - 1] / j
            u[:, j] = sign * np.einsum("ni,ni->n", t[:, : j + 1], t[:, j::-1])
        return t
    d1 = Descriptor(nv=1, order=order)
    T = np.zeros((a0.size, order + 1))
    T[:, 0] = a0
    if order >= 1:
        T[:, 1] = 1.0
    out, scratch = np.empty(T.shape), np.empty(T.shape)
    B.unary_batch(B.chunks(a0.size), op, alpha, T, out, scratch, d1.degrees, *d1.mul_args)
    return out
