"""Evaluating a map at many particles at once, on every core.

Particles are split into blocks of ``BLOCK``, one block per task.  Inside a
block the monomials are built one tree node at a time for all its particles
(node ``i`` is its parent times one coordinate: a contiguous, vectorised loop
across the block), and each node's row goes straight into the outputs that
have a coefficient there, so zero coefficients cost nothing.  No BLAS call
sits inside the parallel loop: BLAS threads started from numba's threads
would compete for the same cores.
"""

import numpy as np
from numba import njit, prange

BLOCK = 64  # particles per block: a block's monomial rows stay in cache


def track_points(FT, points, out, parent, var):
    """``out[q, r] = Σ_i FT[i, r] · Π_v points[q, v]^{e_iv}`` (``FT`` is ``(ncoef, nf)``).

    One block of particles runs on the calling thread: waking the thread pool
    for it costs more than the work when the cores are busy.
    """
    kernel = _blocks if points.shape[0] > BLOCK else _one_block
    kernel(FT, points, out, parent, var)


@njit(parallel=True, cache=True)
def _blocks(FT, points, out, parent, var):
    n, nv = points.shape
    m, nf = FT.shape
    for b in prange((n + BLOCK - 1) // BLOCK):
        start = b * BLOCK
        w = min(n, start + BLOCK) - start
        x = np.empty((nv, w))  # coordinates of the block, coordinate-major
        for j in range(w):
            for v in range(nv):
                x[v, j] = points[start + j, v]
        mono = np.empty((m, w))
        acc = np.empty((nf, w))
        mono[0, :] = 1.0
        for r in range(nf):
            acc[r, :] = FT[0, r]
        for i in range(1, m):
            p, v = parent[i], var[i]
            for j in range(w):
                mono[i, j] = mono[p, j] * x[v, j]
            for r in range(nf):
                c = FT[i, r]
                if c != 0.0:
                    for j in range(w):
                        acc[r, j] += c * mono[i, j]
        for j in range(w):
            for r in range(nf):
                out[start + j, r] = acc[r, j]


_one_block = njit(cache=True)(_blocks.py_func)  # the same loop, prange run as range
