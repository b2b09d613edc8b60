"""Truncated multiplication of dense series stored by total degree.

The product is assembled one output degree ``k`` at a time from pairs of
degree blocks ``(ob, oa = k - ob)`` with ``ob <= oa``.  The descriptor's table
for such a pair (see ``Descriptor.mul_tables``) is walked once while both
symmetric products ``x_oa·y_ob`` and ``x_ob·y_oa`` are accumulated, so each
table entry is read once for two multiply-adds.  Blocks that are zero in an
operand are skipped; the lowest and highest nonzero degree of each operand is
found by a scan (a few ns per coefficient, against the quadratic product), so
nothing about sparsity has to be carried around with the data.

``mul_degree`` is the building block of the function recurrences too: they
need the degree-``k`` part of a product of partly known series.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def degree_range(x, ord_off):
    """Lowest and highest degree with a nonzero coefficient (``hi < lo`` if x == 0)."""
    o = ord_off.size - 2
    lo, hi = o + 1, -1
    for k in range(o + 1):
        for i in range(ord_off[k], ord_off[k + 1]):
            if x[i] != 0.0:
                lo = k
                break
        if lo == k:
            break
    for k in range(o, lo - 1, -1):
        for i in range(ord_off[k], ord_off[k + 1]):
            if x[i] != 0.0:
                hi = k
                break
        if hi == k:
            break
    return lo, hi


@njit(cache=True)
def mul_degree(x, xlo, xhi, y, ylo, yhi, k, work, ord_off, pair_off, tab):
    """``work += [x·y]_k``: the degree-``k`` part of the product, accumulated.

    ``xlo..xhi`` and ``ylo..yhi`` bound the degrees where ``x`` and ``y`` may be
    nonzero; pairs of blocks outside them are skipped.  ``work`` has one slot
    more than a series: products that leave the algebra (parameter degree
    too high) land there, which keeps the inner loops free of branches.
    """
    sk = ord_off[k]
    nk = ord_off[k + 1] - sk
    for ob in range(k // 2 + 1):
        oa = k - ob
        t1 = xlo <= oa <= xhi and ylo <= ob <= yhi  # x_oa · y_ob
        t2 = xlo <= ob <= xhi and ylo <= oa <= yhi  # x_ob · y_oa
        if not (t1 or t2):
            continue
        if ob == 0:
            if k == 0:
                work[0] += x[0] * y[0]
                continue
            x0 = x[0] if t2 else 0.0
            y0 = y[0] if t1 else 0.0
            for j in range(sk, sk + nk):
                work[j] += y0 * x[j] + x0 * y[j]
            continue
        sb, nb = ord_off[ob], ord_off[ob + 1] - ord_off[ob]
        sa, na = ord_off[oa], ord_off[oa + 1] - ord_off[oa]
        # Slices with loop indices from range() let LLVM drop numba's
        # negative-index wraparound code: 40 % off the whole product.
        xa = x[sa : sa + na]
        ya = y[sa : sa + na]
        p = pair_off[ob, oa]
        if ob == oa:  # symmetric half: rows i, columns j >= i
            for i in range(nb):
                xi = x[sb + i]
                yi = y[sb + i]
                tb = tab[p - i : p - i + na]
                work[tb[i]] += xi * yi
                for j in range(i + 1, na):
                    work[tb[j]] += xi * ya[j] + yi * xa[j]
                p += na - i
            continue
        xs = 1.0 if t2 else 0.0  # a missing term becomes a zero weight,
        ys = 1.0 if t1 else 0.0  # keeping one loop body for all cases
        for i in range(nb):
            xi = x[sb + i] * xs
            yi = y[sb + i] * ys
            if xi != 0.0 or yi != 0.0:
                tb = tab[p : p + na]
                for j in range(na):
                    work[tb[j]] += yi * xa[j] + xi * ya[j]
            p += na


@njit(cache=True)
def mul_into(x, y, out, work, ord_off, pair_off, tab):
    """``out = x·y`` using the caller's ``work`` array (one slot longer than a series)."""
    work[:] = 0.0
    xlo, xhi = degree_range(x, ord_off)
    ylo, yhi = degree_range(y, ord_off)
    o = ord_off.size - 2
    for k in range(xlo + ylo, min(o, xhi + yhi) + 1):
        mul_degree(x, xlo, xhi, y, ylo, yhi, k, work, ord_off, pair_off, tab)
    out[:] = work[:-1]


@njit(cache=True)
def mul(x, y, out, ord_off, pair_off, tab):
    """``out = x·y`` truncated, for series ``x``, ``y`` and ``out`` of one descriptor."""
    mul_into(x, y, out, np.empty(out.size + 1), ord_off, pair_off, tab)


@njit(cache=True)
def mul_rows(x, y, out, ord_off, pair_off, tab):
    """Row-wise ``out[n] = x[n]·y[n]`` for 2-d arrays of series."""
    work = np.empty(out.shape[1] + 1)
    for n in range(out.shape[0]):
        mul_into(x[n], y[n], out[n], work, ord_off, pair_off, tab)


@njit(cache=True, fastmath={"contract"})
def mul_gather(x, y, out, start, I, J):
    """``out = x·y`` as a gather (``Descriptor.gather_tables``): one running sum per output.

    Twice the multiply-adds of the symmetric block kernel and no skipping of
    zero blocks, but one tight loop without per-block set-up: for small
    descriptors (a few hundred coefficients) that set-up is most of the block
    kernel's time, and this is two to four times faster.
    """
    for k in range(out.shape[0]):
        s = 0.0
        for p in range(start[k], start[k + 1]):
            s += x[I[p]] * y[J[p]]
        out[k] = s


@njit(cache=True, fastmath={"contract"})
def mul_gather_rows(x, y, out, start, I, J):
    """Row-wise :func:`mul_gather`; ``x`` or ``y`` may have one row (broadcast)."""
    for n in range(out.shape[0]):
        mul_gather(x[n if x.shape[0] > 1 else 0], y[n if y.shape[0] > 1 else 0], out[n],
                   start, I, J)  # fmt: skip
