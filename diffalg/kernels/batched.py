"""Many series at once: SIMD lanes across series, threads across lanes.

A batch of series is stored as rows, ``(n, ncoef)``, like everything else.  The
product kernel copies ``LANES`` rows at a time into a coefficient-major tile
(coefficient ``c`` of the eight series side by side), so one output coefficient
of eight series is eight independent running sums over the descriptor's gather
table (``Descriptor.gather_tables``): the same table entry, eight lanes, one
vector fused multiply-add.  Tiles go to all cores with ``prange``.  The
transposition costs ``O(ncoef)`` per series against the product's
``O(pairs)``, and keeps the tensor layout the same for one series and many; it
runs on vector shuffles (:mod:`.vector`), and while a tile is multiplied the
next tile's operands are prefetched.

An operand with a single row is broadcast against the batch by reading that
row for every lane: no copy of it is made ``n`` times.

The eight lanes are eight scalar accumulators that LLVM's SLP vectoriser packs
into one vector register; numba leaves that pass off by default, so kernels
that rely on it are compiled through :func:`simd`, which switches it on while
numba compiles (the flag is read when a function is compiled, not when it runs).

Functions of a batch run in the same lanes.  ``exp``, ``log``, ``sqrt``, the
reciprocal and division run their order recurrences
(:func:`recurrence_lanes`): each degree block of the result is one lane
product into its own tile, one product's work in all.  The others are Horner
sums (:func:`taylor_lanes`): given each series' Taylor coefficients about its
constant part, ``order`` lane products of rising degree give the function,
three to six times faster than the order recurrences one series per core.

Composition runs the one-series kernel of :mod:`.tree` on row chunks in
parallel (each chunk walks the monomial tree itself: the substituted products
are redone per chunk, which pays from a few dozen rows), and so do the
one-variable recurrences that give the Taylor coefficients of the functions
without a closed form (:func:`unary_batch`).
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from numba import njit, prange

from .functions import EXP, LOG, RECIP, SQRT, unary_rows
from .tree import compose_rows
from .vector import prefetch, transpose4

LANES = 8  # one AVX-512 register of float64 (two AVX2 ones)
#: Coefficients up to which the product prefetches the next tile's operands:
#: beyond, the two tiles fetched and the two being multiplied no longer fit in
#: a core's level 2 (512 KiB on Zen 3), and the prefetch slowed (6, 8) and (6, 10)
#: by 2 to 5 %; on Zen 4 (1 MiB) it measured level there, within noise.
PREFETCH_MAX = 2048
ONE, TWO, U8 = np.uint64(1), np.uint64(2), np.uint64(LANES)


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
def _tile(m):
    """An ``(m, LANES)`` work tile whose rows are whole cache lines.

    numba aligns arrays to 32 bytes, so half the time every row of eight doubles
    straddled two lines; aligned, the product at (6, 10) runs about 20 % faster.
    """
    buf = np.empty(m * LANES + LANES)
    skip = (-buf.ctypes.data % 64) // 8
    return buf[skip : skip + m * LANES].reshape((m, LANES))


@njit(cache=True)
def _load_tile(x, n0, lanes, tile, ord_off, first=True):
    """Coefficient-major copy of rows ``n0 .. n0+lanes`` (row 0 for a 1-row operand).

    A 1-row operand fills every lane, and only when ``first`` (a chunk's first
    tile, for a tile that nothing writes to): the later tiles of the chunk
    reuse it instead of copying the same series again.

    Returns ``(lo, hi, finite)``: the lowest and highest degree with a nonzero
    entry in any lane (``lo > hi``: none; nan and inf count as nonzero) and
    whether every entry is finite.  They are summed lane by lane as each row is
    copied (while it is in level 1), and reduced once per degree: a separate
    scan of the whole tile had made a product of variables at (3, 6) 15 to 30 %
    slower than with no skipping at all.  A reused 1-row tile returns
    ``(0, order, False)``: its caller keeps what the first tile returned.

    Full tiles are copied in 4 × 4 blocks of vector shuffles
    (:func:`.vector.transpose4`); element by element, the copy is scalar.
    """
    o = ord_off.size - 2
    copy = x.shape[0] > 1 and lanes == LANES
    if x.shape[0] == 1:
        if not first:
            return 0, o, False
        for l in range(LANES):
            tile[:, l] = x[0]
    elif not copy:
        tile[:] = 0.0  # unused lanes of the last tile compute on zeros
        for l in range(lanes):
            tile[:, l] = x[n0 + l]
    m = x.shape[1]
    src = x[n0 : n0 + LANES].reshape(-1) if copy else x[0, :0]  # eight rows, one block
    flat = tile.reshape(-1)
    lo, hi, bad = o + 1, -1, 0.0
    for d in range(o + 1):
        c0, c1 = ord_off[d], ord_off[d + 1]
        c4 = c0 + (c1 - c0) // 4 * 4 if copy else c0  # the block's rows in fours
        w0 = w1 = w2 = w3 = w4 = w5 = w6 = w7 = 0.0
        for c in range(c0, c1):
            # each tile row (one cache line) is written whole, and summed while it
            # is in level 1 (after the whole block, the sums of a (6, 10) tile had
            # read level 2); by coefficient, not lane by lane: a row of the batch
            # at a time took twice as long
            if c < c4:
                if (c - c0) % 4 == 0:
                    transpose4(src, c, m, flat, LANES * c, LANES)  # lanes 0-3
                    transpose4(src, 4 * m + c, m, flat, LANES * c + 4, LANES)  # lanes 4-7
            elif copy:
                for l in range(LANES):
                    tile[c, l] = src[l * m + c]
            t = tile[c]
            w0, w1, w2, w3 = w0 + abs(t[0]), w1 + abs(t[1]), w2 + abs(t[2]), w3 + abs(t[3])
            w4, w5, w6, w7 = w4 + abs(t[4]), w5 + abs(t[5]), w6 + abs(t[6]), w7 + abs(t[7])
        w = w0 + w1 + w2 + w3 + w4 + w5 + w6 + w7
        bad += w * 0.0  # nan from here on once an entry is inf or nan (or a sum overflows)
        if w != 0.0:
            lo, hi = min(lo, d), d
    return lo, hi, bad == 0.0


@njit(cache=True)
def _bar(lo, hi, o):
    """Degrees ``(lo, hi)`` of ``ā = a − a_0`` from those of ``a``."""
    return (max(lo, 1), hi) if hi >= 1 else (o + 1, -1)


@njit(cache=True, fastmath={"reassoc"})
def _finite(x):
    """Whether every entry of a 2-d array is finite: ``Σ x·0`` is 0, or nan from an inf or a nan.

    Reassociation only (not ``nnan``) lets the sum vectorise.
    """
    acc = 0.0
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            acc += x[r, c] * 0.0
    return acc == 0.0


@njit(cache=True)
def _guarded(lo, hi, o, other_finite):
    """Degrees ``(lo, hi)``, or every degree ``0 .. o`` when the other operand is not finite.

    A pair skipped for a zero factor would drop the ``inf · 0 = nan`` of the
    dense product, and a series' result would depend on its neighbours in the tile.
    """
    if (lo > 0 or hi < o) and not other_finite:
        return 0, o
    return lo, hi


@njit(parallel=True, cache=True, fastmath={"contract"})
def _mul_lanes(k, x, y, out, ds, I, J, deg, ord_off):
    n, m = out.shape
    o = ord_off.size - 2
    tiles = (n + LANES - 1) // LANES
    pf = m <= PREFETCH_MAX
    for c in prange(k):
        # tiles allocated once per chunk of tiles: for small series an
        # allocation per tile costs more than its products
        a = _tile(m)
        b = _tile(m)
        first = c * tiles // k
        la = ha = lb = hb = 0
        fa = fb = True
        for t in range(first, (c + 1) * tiles // k):
            n0 = t * LANES
            lanes = min(LANES, n - n0)
            ra = _load_tile(x, n0, lanes, a, ord_off, t == first)
            rb = _load_tile(y, n0, lanes, b, ord_off, t == first)
            if t == first or x.shape[0] > 1:
                la, ha, fa = ra
            if t == first or y.shape[0] > 1:
                lb, hb, fb = rb
            ga, gha = _guarded(la, ha, o, fb)
            gb, ghb = _guarded(lb, hb, o, fa)
            # the next tile's rows, one block each, to prefetch (none for a 1-row operand)
            nx = x[n0 + LANES : n0 + 2 * LANES].reshape(-1) if x.shape[0] > 1 and pf else x[0, :0]
            ny = y[n0 + LANES : n0 + 2 * LANES].reshape(-1) if y.shape[0] > 1 and pf else y[0, :0]
            # straight into the rows: a third tile would not fit in level 2 at (6, 10)
            _tile_product(a, b, a[:0], ds, I, J, deg, ga, gha, gb, ghb, 0, m, out, n0, lanes,
                          nx, ny)  # fmt: skip


@njit(cache=True)
def _store_tile(tile, out, n0, lanes):
    """Rows ``n0 .. n0+lanes`` of ``out`` from a coefficient-major tile (the inverse of the copy).

    Eight rows in 4 × 4 blocks of vector shuffles, as :func:`_load_tile` copies them.
    """
    m = out.shape[1]
    c4 = m // 4 * 4 if lanes == LANES else 0
    if c4:
        flat, dst = tile.reshape(-1), out[n0 : n0 + LANES].reshape(-1)
        for c in range(0, c4, 4):
            transpose4(flat, LANES * c, LANES, dst, c, m)  # lanes 0-3
            transpose4(flat, LANES * c + 4, LANES, dst, 4 * m + c, m)  # lanes 4-7
    rows = out[n0 : n0 + lanes]
    for c in range(c4, m):  # coefficient outer, as in _load_tile
        t = tile[c]
        for l in range(lanes):
            rows[l, c] = t[l]


@njit(cache=True, fastmath={"contract"})
def _tile_product(a, b, o, ds, I, J, deg, la, ha, lb, hb, k0, mk, out, n0, lanes, px, py):
    """``[a·b]_k`` for coefficients ``k0 <= k < mk``, eight series per tile row.

    Into the tile ``o``, or, when ``o`` is empty, into rows ``n0 .. n0+lanes`` of ``out``.
    Only the degrees ``la .. ha`` of ``a`` and ``lb .. hb`` of ``b`` are read
    (the others must be zero in every lane): for output ``k`` of degree ``d``
    the pairs with ``max(la, d − hb) <= deg m_I <= min(ha, d − lb)``, one run
    of the table ``ds`` (``Descriptor.lane_tables``).  Skipping exact zeros
    leaves every sum bit for bit as it was: a running sum from +0 never turns −0.

    ``px`` and ``py`` (1-d, possibly empty) are prefetched a cache line per
    output: a tile of ``ncoef`` rows of eight is ``ncoef`` lines, so the next
    tile's operands arrive in cache while this one is multiplied (the
    measurements are in the design notes).
    """
    # flat tiles, row r at r·LANES: the offset is a shift; through the 2-d tile
    # it was a multiplication by the runtime row stride, four per two pairs,
    # which held the loop back by about 10 %
    a, b = a.reshape(-1), b.reshape(-1)
    last = ds.shape[0] - 1
    start = ds[0]  # 1-d: the dense path indexes as it did before the degree ranges
    # reaching the top degree, from degree 0 or 1: every pair, no test per output
    # (the few pairs against a zero constant part cost less than the test)
    full = la <= 1 and lb <= 1 and ha >= last - 1 and hb >= last - 1
    npx, npy = px.size // LANES, py.size // LANES
    for k in range(k0, mk):
        if k < npx:
            prefetch(px, LANES * k)
        if k < npy:
            prefetch(py, LANES * k)
        # two sets of running sums, alternate pairs: a vector FMA waits for
        # the previous one on its accumulator, so one set would stall
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = 0.0
        p, end = start[k], start[k + 1]
        if not full:
            d = deg[k]
            e0, e1 = max(la, d - hb), min(ha, d - lb)
            end = p
            if e0 <= e1:
                p, end = ds[e0, k], ds[e1 + 1, k]
        while p + ONE < end:
            i = U8 * I[p]  # unsigned: no negative-index checks in the loop
            j = U8 * J[p]
            s0 += a[i] * b[j]
            s1 += a[i + 1] * b[j + 1]
            s2 += a[i + 2] * b[j + 2]
            s3 += a[i + 3] * b[j + 3]
            s4 += a[i + 4] * b[j + 4]
            s5 += a[i + 5] * b[j + 5]
            s6 += a[i + 6] * b[j + 6]
            s7 += a[i + 7] * b[j + 7]
            i = U8 * I[p + ONE]
            j = U8 * J[p + ONE]
            t0 += a[i] * b[j]
            t1 += a[i + 1] * b[j + 1]
            t2 += a[i + 2] * b[j + 2]
            t3 += a[i + 3] * b[j + 3]
            t4 += a[i + 4] * b[j + 4]
            t5 += a[i + 5] * b[j + 5]
            t6 += a[i + 6] * b[j + 6]
            t7 += a[i + 7] * b[j + 7]
            p += TWO
        if p < end:
            i = U8 * I[p]
            j = U8 * J[p]
            s0 += a[i] * b[j]
            s1 += a[i + 1] * b[j + 1]
            s2 += a[i + 2] * b[j + 2]
            s3 += a[i + 3] * b[j + 3]
            s4 += a[i + 4] * b[j + 4]
            s5 += a[i + 5] * b[j + 5]
            s6 += a[i + 6] * b[j + 6]
            s7 += a[i + 7] * b[j + 7]
        if o.shape[0]:
            ok = o[k]  # eight contiguous stores: one vector store
            ok[0], ok[1], ok[2], ok[3] = s0 + t0, s1 + t1, s2 + t2, s3 + t3
            ok[4], ok[5], ok[6], ok[7] = s4 + t4, s5 + t5, s6 + t6, s7 + t7
        elif lanes == LANES:
            # eight stores at fixed rows: the lane loop below indexed a tuple at run
            # time, which cost 6 to 18 % of the whole product (most on small series)
            out[n0, k] = s0 + t0
            out[n0 + 1, k] = s1 + t1
            out[n0 + 2, k] = s2 + t2
            out[n0 + 3, k] = s3 + t3
            out[n0 + 4, k] = s4 + t4
            out[n0 + 5, k] = s5 + t5
            out[n0 + 6, k] = s6 + t6
            out[n0 + 7, k] = s7 + t7
        else:  # the last tile of a batch
            sums = (s0 + t0, s1 + t1, s2 + t2, s3 + t3, s4 + t4, s5 + t5, s6 + t6, s7 + t7)
            for l in range(lanes):
                out[n0 + l, k] = sums[l]


_mul_lanes_simd = simd(_mul_lanes)


@njit(parallel=True, cache=True, fastmath={"contract"})
def _taylor_lanes(k, F, A, C, ds, I, J, deg, ord_off):
    n, m = C.shape
    o = ord_off.size - 2
    tiles = (n + LANES - 1) // LANES
    for c in prange(k):
        a, r, s = _tile(m), _tile(m), _tile(m)
        for t in range(c * tiles // k, (c + 1) * tiles // k):
            n0 = t * LANES
            lanes = min(LANES, n - n0)
            ra = _load_tile(A, n0, lanes, a, ord_off)
            a[0] = 0.0  # ā: the constant parts are in the coefficients F
            la, ha = _bar(ra[0], ra[1], o)  # ā of a variable: degree 1 only
            la, ha = _guarded(la, ha, o, _finite(F[n0 : n0 + lanes]))  # r is made of F
            r[:] = 0.0
            for l in range(lanes):
                r[0, l] = F[n0 + l, o]
            for j in range(o - 1, -1, -1):
                # r·ā gains a degree per step: only degrees <= o - j still matter,
                # the leading coefficients of the graded order
                mk = ord_off[o - j + 1]
                _tile_product(
                    r, a, s, ds, I, J, deg, 0, o, la, ha, 0, mk, C, n0, lanes, C[0, :0], C[0, :0]
                )
                r[:mk] = s[:mk]
                for l in range(lanes):
                    r[0, l] = F[n0 + l, j]
            _store_tile(r, C, n0, lanes)


_taylor_lanes_simd = simd(_taylor_lanes)


@njit(cache=True)
def _scale_rows(t, lo, hi, w):
    """Rows ``lo .. hi-1`` of a tile times ``w[row]`` (explicit loops: no temporaries)."""
    for c in range(lo, hi):
        wc = w[c]
        for l in range(LANES):
            t[c, l] *= wc


@njit(parallel=True, cache=True, fastmath={"contract"})
def _recurrence_lanes(k, op, A, X, C, ds, I, J, degrees, ord_off):
    n, m = C.shape
    o = ord_off.size - 2
    tiles = (n + LANES - 1) // LANES
    deg = degrees.astype(np.float64)
    inv = np.ones(m)  # 1 / degree (1 for the constant)
    for c in range(1, m):
        inv[c] = 1.0 / deg[c]
    rhs = op == LOG or op == SQRT or X.shape[0] > 0  # b in f_k = (b_k − [a·f]_k) / ...
    for c in prange(k):
        a, f, b = _tile(m), _tile(m), _tile(m if rhs else 0)
        r = np.empty(LANES)  # the lanes' 1 / a_0 (per function)
        first = c * tiles // k
        fb = True  # whether the numerator's tile is finite
        for t in range(first, (c + 1) * tiles // k):
            n0 = t * LANES
            lanes = min(LANES, n - n0)
            ra = _load_tile(A, n0, lanes, a, ord_off)
            for l in range(lanes, LANES):
                a[0, l] = 1.0  # unused lanes of the last tile: a harmless constant part
            a0 = a[0].copy()
            a[0] = 0.0  # ā: every pair of [ā·f]_k reads rows of f of lower degree
            la, ha = _bar(ra[0], ra[1], o)
            f[1:] = 0.0  # ... or row k itself (against ā_0 = 0): finite until written
            if op == EXP:  # θf = θā·f  ⇒  f_k = [θā·f]_k / k
                _scale_rows(a, 1, m, deg)
                for l in range(LANES):
                    f[0, l] = np.exp(a0[l])
            elif op == SQRT:  # f·f = a  ⇒  f_k = (a_k − [f·f]_k) / 2f_0, f_k still 0 inside
                b[:] = a
                for l in range(LANES):
                    f[0, l] = np.sqrt(a0[l])
                    r[l] = 0.5 / f[0, l]
            else:  # a·f = x (x = 1: reciprocal; log: f = θ log a = θā / a)
                if op == LOG:
                    b[:] = a
                    _scale_rows(b, 1, m, deg)
                elif rhs:  # read only: one numerator series is loaded once per chunk
                    rb = _load_tile(X, n0, lanes, b, ord_off, t == first)
                    if t == first or X.shape[0] > 1:
                        fb = rb[2]
                for l in range(LANES):
                    r[l] = 1.0 / a0[l]
                    f[0, l] = 0.0 if op == LOG else b[0, l] * r[l] if rhs else r[l]
            if op == SQRT:
                la, ha = 0, o  # f·f
            else:  # f is made of f_0 and the right-hand side: the numerator, or a itself
                # (for log, θa; for the reciprocal and exp, nothing else); an overflow
                # on the way is not caught
                rhs_finite = fb if X.shape[0] else ra[2]
                la, ha = _guarded(la, ha, o, _finite(f[:1]) and rhs_finite)
            for d in range(1, o + 1):
                lo, hi = ord_off[d], ord_off[d + 1]
                # raw sums into block d: its pairs never read another row of block d
                _tile_product(f if op == SQRT else a, f, f, ds, I, J, degrees, la, ha, 0, o,
                              lo, hi, C, n0, lanes, C[0, :0], C[0, :0])  # fmt: skip
                for c2 in range(lo, hi):
                    if op == EXP:
                        for l in range(LANES):
                            f[c2, l] *= inv[c2]
                    elif rhs:
                        for l in range(LANES):
                            f[c2, l] = (b[c2, l] - f[c2, l]) * r[l]
                    else:
                        for l in range(LANES):
                            f[c2, l] = -f[c2, l] * r[l]
            if op == LOG:  # log a = log a_0 + θ⁻¹ f
                _scale_rows(f, 1, m, inv)
                for l in range(LANES):
                    f[0, l] = np.log(a0[l])
            _store_tile(f, C, n0, lanes)


_recurrence_lanes_simd = simd(_recurrence_lanes)

#: Functions whose batches run :func:`recurrence_lanes`.
RECURRENT = (EXP, LOG, SQRT, RECIP)


def recurrence_lanes(op, A, X, C, ds, I, J, degrees, ord_off):
    """``C = f(A)`` for ``f`` in :data:`RECURRENT`, or ``C = X / A`` (``op = RECIP``, ``X`` given).

    The order recurrences of :mod:`.functions` in SIMD lanes: with ``θ`` the
    operator that multiplies degree ``d`` by ``d`` and ``ā = A − A_0``,

    * ``exp``: ``θf = θā·f``, so ``f_k = [θā·f]_k / d``;
    * ``x / a``: ``a·f = x``, so ``f_k = (x_k − [ā·f]_k) / a_0`` (``x = 1``: reciprocal);
    * ``log``: ``θ log a = θā / a`` by the division, then ``θ⁻¹``;
    * ``sqrt``: ``f·f = a``, so ``f_k = (a_k − [f·f]_k) / 2f_0`` (``f_k`` still 0 in the sum).

    Degree block ``d`` of ``f`` needs only blocks below it, so each block is one
    lane product into the tile (:func:`_tile_product`): the whole function
    costs one product's pairs, where Horner's rule (:func:`taylor_lanes`) costs
    nearly two.  ``X`` is empty, ``(1, ncoef)`` or ``(n, ncoef)``; ``A`` has one
    row or ``n``; ``ds, I, J, degrees, ord_off`` are ``Descriptor.lane_tables``.
    """
    _recurrence_lanes_simd(
        chunks((C.shape[0] + LANES - 1) // LANES), op, A, X, C, ds, I, J, degrees, ord_off
    )


def taylor_lanes(F, A, C, ds, I, J, degrees, ord_off):
    """``C[r] = Σ_j F[r, j] (A[r] − A[r, 0])^j`` for ``(n, ncoef)`` batches, in lanes.

    Horner's rule with a truncation that rises by one degree per step, each
    step a lane product (:func:`_tile_product`) of eight series at once: the
    SIMD path of every function of a batch, given its Taylor coefficients
    ``F`` (``(n, order + 1)``) about each constant part.
    """
    _taylor_lanes_simd(
        chunks((C.shape[0] + LANES - 1) // LANES), F, A, C, ds, I, J, degrees, ord_off
    )


def mul_lanes(x, y, out, ds, I, J, degrees, ord_off):
    """``out[r] = x[r] · y[r]`` truncated, for ``(n, ncoef)`` batches.

    ``x`` and ``y`` have ``n`` rows or one (broadcast); ``ds, I, J, degrees,
    ord_off`` are the descriptor's ``lane_tables``.  Degree blocks that are
    zero in all eight series of a tile are skipped (a product of variables
    reads a few pairs per output).
    """
    _mul_lanes_simd(
        chunks((out.shape[0] + LANES - 1) // LANES), x, y, out, ds, I, J, degrees, ord_off
    )


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
def compose_batch(k, F, G, out, parent, var, dfs, dfs_end, degrees, ord_off, pair_off, tab):
    """:func:`.tree.compose_rows` over ``k`` chunks of ``F``'s rows on every core."""
    n = F.shape[0]
    for c in prange(k):
        lo, hi = c * n // k, (c + 1) * n // k
        compose_rows(F[lo:hi], G, out[lo:hi], parent, var, dfs, dfs_end, degrees, ord_off, pair_off, tab)  # fmt: skip
