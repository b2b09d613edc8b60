"""Many series at once: SIMD lanes across series, threads across lanes.

A batch of series is stored as rows, ``(n, ncoef)``, like everything else.  The
product kernel copies ``LANES`` rows at a time into a coefficient-major tile
(coefficient ``c`` of the eight series side by side), so one output coefficient
of eight series is eight independent running sums over the descriptor's gather
table (``Descriptor.gather_tables``): the same table entry, eight lanes, one
vector fused multiply-add.  Tiles go to all cores with ``prange``.  The
transposition costs ``O(ncoef)`` per series against the product's
``O(pairs)``, and keeps the tensor layout the same for one series and many.

An operand with a single row is broadcast against the batch by reading that
row for every lane: no copy of it is made ``n`` times.

The eight lanes are eight scalar accumulators that LLVM's SLP vectoriser packs
into one vector register; numba leaves that pass off by default, so kernels
that rely on it are compiled through :func:`simd`, which switches it on while
numba compiles (the flag is read when a function is compiled, not when it runs).

Functions, division, Horner sums and composition of a batch run the
one-series kernels of :mod:`.functions` and :mod:`.tree` on row chunks in
parallel (each chunk of a composition walks the monomial tree itself: the
substituted products are redone per chunk, which pays from a few dozen rows).
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from numba import njit, prange

from .functions import div_rows, taylor_rows, unary_rows
from .tree import compose_rows

LANES = 8  # one AVX-512 register of float64 (two AVX2 ones)
ONE, TWO = np.uint64(1), np.uint64(2)


def simd(kernel):
    """Call ``kernel`` with LLVM's SLP vectoriser on while it compiles."""

    @functools.wraps(kernel.py_func)
    def call(*args):
        config = numba.core.config
        old = config.SLP_VECTORIZE
        config.SLP_VECTORIZE = 1
        try:
            return kernel(*args)
        finally:
            config.SLP_VECTORIZE = old

    call.kernel = kernel
    return call


@njit(cache=True)
def _load_tile(x, n0, lanes, tile):
    """Coefficient-major copy of rows ``n0 .. n0+lanes`` (row 0 for a 1-row operand)."""
    tile[:] = 0.0  # unused lanes of the last tile compute on zeros
    for l in range(lanes):
        r = n0 + l if x.shape[0] > 1 else 0
        for c in range(x.shape[1]):
            tile[c, l] = x[r, c]


@njit(parallel=True, cache=True, fastmath={"contract"})
def _mul_lanes(k, x, y, out, start, I, J):
    n, m = out.shape
    tiles = (n + LANES - 1) // LANES
    for c in prange(k):
        # tiles allocated once per chunk of tiles: for small series an
        # allocation per tile costs more than its products
        a = np.empty((m, LANES))
        b = np.empty((m, LANES))
        for t in range(c * tiles // k, (c + 1) * tiles // k):
            _mul_tile(x, y, out, start, I, J, t * LANES, a, b)


@njit(cache=True, fastmath={"contract"})
def _mul_tile(x, y, out, start, I, J, n0, a, b):
    """Products of rows ``n0 .. n0 + LANES`` through the tiles ``a`` and ``b``."""
    n, m = out.shape
    lanes = min(LANES, n - n0)
    _load_tile(x, n0, lanes, a)
    _load_tile(y, n0, lanes, b)
    for k in range(m):
        # two sets of running sums, alternate pairs: a vector FMA waits for
        # the previous one on its accumulator, so one set would stall
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = 0.0
        p, end = start[k], start[k + 1]
        while p + ONE < end:
            ai = a[I[p]]  # unsigned indices: no negative-index checks in the loop
            bj = b[J[p]]
            s0 += ai[0] * bj[0]
            s1 += ai[1] * bj[1]
            s2 += ai[2] * bj[2]
            s3 += ai[3] * bj[3]
            s4 += ai[4] * bj[4]
            s5 += ai[5] * bj[5]
            s6 += ai[6] * bj[6]
            s7 += ai[7] * bj[7]
            ai = a[I[p + ONE]]
            bj = b[J[p + ONE]]
            t0 += ai[0] * bj[0]
            t1 += ai[1] * bj[1]
            t2 += ai[2] * bj[2]
            t3 += ai[3] * bj[3]
            t4 += ai[4] * bj[4]
            t5 += ai[5] * bj[5]
            t6 += ai[6] * bj[6]
            t7 += ai[7] * bj[7]
            p += TWO
        if p < end:
            ai = a[I[p]]
            bj = b[J[p]]
            s0 += ai[0] * bj[0]
            s1 += ai[1] * bj[1]
            s2 += ai[2] * bj[2]
            s3 += ai[3] * bj[3]
            s4 += ai[4] * bj[4]
            s5 += ai[5] * bj[5]
            s6 += ai[6] * bj[6]
            s7 += ai[7] * bj[7]
        lane_sums = (s0 + t0, s1 + t1, s2 + t2, s3 + t3, s4 + t4, s5 + t5, s6 + t6, s7 + t7)
        for l in range(lanes):
            out[n0 + l, k] = lane_sums[l]


_mul_lanes_simd = simd(_mul_lanes)


def mul_lanes(x, y, out, start, I, J):
    """``out[r] = x[r] · y[r]`` truncated, for ``(n, ncoef)`` batches.

    ``x`` and ``y`` have ``n`` rows or one (broadcast); ``start, I, J`` are the
    descriptor's gather tables.
    """
    _mul_lanes_simd(chunks((out.shape[0] + LANES - 1) // LANES), x, y, out, start, I, J)


def chunks(n: int) -> int:
    """Row chunks for the threads: a few per thread so uneven rows even out."""
    return max(1, min(n, 4 * numba.get_num_threads()))


@njit(parallel=True, cache=True)
def unary_batch(k, op, alpha, A, C, C2, degrees, ord_off, pair_off, tab):
    """:func:`.functions.unary_rows` over ``k`` row chunks on every core."""
    n = A.shape[0]
    for c in prange(k):
        lo, hi = c * n // k, (c + 1) * n // k
        unary_rows(op, alpha, A[lo:hi], C[lo:hi], C2[lo:hi], degrees, ord_off, pair_off, tab)


@njit(parallel=True, cache=True)
def div_batch(k, A, B, C, ord_off, pair_off, tab):
    """:func:`.functions.div_rows` over ``k`` row chunks on every core."""
    n = C.shape[0]
    for c in prange(k):
        lo, hi = c * n // k, (c + 1) * n // k
        div_rows(A[lo:hi], B[lo:hi], C[lo:hi], ord_off, pair_off, tab)


@njit(parallel=True, cache=True)
def taylor_batch(k, F, A, C, ord_off, pair_off, tab):
    """:func:`.functions.taylor_rows` over ``k`` row chunks on every core."""
    n = C.shape[0]
    for c in prange(k):
        lo, hi = c * n // k, (c + 1) * n // k
        taylor_rows(F[lo:hi], A[lo:hi], C[lo:hi], ord_off, pair_off, tab)


@njit(parallel=True, cache=True)
def compose_batch(k, F, G, out, parent, var, dfs, dfs_end, degrees, ord_off, pair_off, tab):
    """:func:`.tree.compose_rows` over ``k`` chunks of ``F``'s rows on every core."""
    n = F.shape[0]
    for c in prange(k):
        lo, hi = c * n // k, (c + 1) * n // k
        compose_rows(F[lo:hi], G, out[lo:hi], parent, var, dfs, dfs_end, degrees, ord_off, pair_off, tab)  # fmt: skip
