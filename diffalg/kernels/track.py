"""Evaluating a map at many particles at once, on every core.

Particles are split into blocks; each thread fills the monomial values of a
block by the monomial tree (one product per monomial and particle) and then
gets every coordinate of the block from one matrix product with the map's
coefficients (a BLAS call), so the inner work runs at matrix-product speed.
"""

import numpy as np
from numba import njit, prange

BLOCK = 64  # particles per block: the monomial block stays in cache


@njit(parallel=True, cache=True)
def track_points(FT, points, out, parent, var):
    """``out[q, r] = Σ_i FT[i, r] · Π_v points[q, v]^{e_iv}`` (``FT`` is ``(ncoef, nf)``)."""
    n = points.shape[0]
    m, nf = FT.shape
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in prange(nblocks):
        start = b * BLOCK
        stop = min(n, start + BLOCK)
        mono = np.empty((stop - start, m))
        for q in range(start, stop):
            row = mono[q - start]
            row[0] = 1.0
            x = points[q]
            for i in range(1, m):
                row[i] = row[parent[i]] * x[var[i]]
        out[start:stop] = np.dot(mono, FT)
