"""Rows of series to kernels: one series at a time, or a batch on every core.

The DA forwards hand their operands here as ``(rows, ncoef)`` arrays.  Below
``BATCH_MIN`` rows the one-series kernels run in a plain loop (no thread
start-up for a handful of series); from there on the batched kernels of
:mod:`diffalg.kernels.batched` take over: SIMD lanes and all cores for
products, row chunks on all cores for functions and division.  Both give the
same numbers up to the order in which round-off accumulates.
"""

from __future__ import annotations

import numpy as np

from ..kernels import batched as B
from ..kernels import functions as F
from ..kernels.mul import mul_gather_rows, mul_rows
from .registry import da_shape, series_mismatch

#: Rows from which the batched kernels run (below: the one-series kernels in turn).
BATCH_MIN = 16
#: Coefficients up to which one product runs as a gather (``kernels.mul.mul_gather``):
#: measured 2-4x faster than the block kernel up to about 300, slower from about 500.
GATHER_MAX = 300


def series_rows(desc, *datas) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast series arrays; each as ``(n, ncoef)`` rows, or one row if it is one series.

    A single series meeting a batch is not copied ``n`` times: the batched
    kernels read its one row for every series of the batch.
    """
    shapes = [da_shape(d) for d in datas]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise series_mismatch(shapes) from None
    n = int(np.prod(shape))
    m = desc.ncoef
    rows = []
    for d in datas:
        if d.size == m and n >= BATCH_MIN:
            rows.append(d.reshape(1, m))
        else:
            rows.append(np.ascontiguousarray(np.broadcast_to(d, shape + (m,))).reshape(-1, m))
    return shape, rows


def mul(desc, x, y, n) -> np.ndarray:
    """``(n, ncoef)`` products of row arrays from :func:`series_rows`."""
    out = np.empty((n, desc.ncoef))
    if n >= BATCH_MIN:
        B.mul_lanes(x, y, out, *desc.gather_tables)
    elif desc.ncoef <= GATHER_MAX:
        mul_gather_rows(x, y, out, *desc.gather_tables)
    else:
        mul_rows(x, y, out, *desc.mul_args)
    return out


def div(desc, x, y, n) -> np.ndarray:
    """``(n, ncoef)`` quotients; every divisor's constant part must be nonzero."""
    out = np.empty((n, desc.ncoef))
    if n >= BATCH_MIN:
        x, y = (np.broadcast_to(r, out.shape) for r in (x, y))
        B.div_batch(B.chunks(n), x, y, out, *desc.mul_args)
    else:
        F.div_rows(x, y, out, *desc.mul_args)
    return out


def unary(desc, op, alpha, A, C, C2) -> None:
    """Function ``op`` of every row of ``A`` into ``C`` (companion series into ``C2``)."""
    if A.shape[0] >= BATCH_MIN:
        B.unary_batch(B.chunks(A.shape[0]), op, alpha, A, C, C2, desc.degrees, *desc.mul_args)
    else:
        F.unary_rows(op, alpha, A, C, C2, desc.degrees, *desc.mul_args)


def taylor(desc, coeffs, A, C) -> None:
    """``C[n] = Σ_k coeffs[n, k] (A[n] − A[n, 0])^k`` for every row."""
    if A.shape[0] >= BATCH_MIN:
        B.taylor_batch(B.chunks(A.shape[0]), coeffs, A, C, *desc.mul_args)
    else:
        F.taylor_rows(coeffs, A, C, *desc.mul_args)
