"""Evaluating a map at many particles at once, on every core.

Particles are split into blocks of ``BLOCK``, one block per task.  Inside a
block the monomials are built one tree node at a time for all its particles
(node ``i`` is its parent times one coordinate: a contiguous, vectorised loop
across the block), and each node's row goes straight into the outputs that
have a coefficient there.  Only the nodes that carry a coefficient, and their
ancestors, are visited (``nodes``): a ring map at order 10 needs about 3000 of
its 8008 monomials.  No BLAS call sits inside the parallel loop: BLAS threads
started from numba's threads would compete for the same cores.
"""

import numpy as np
from numba import njit, prange

BLOCK = 64  # particles per block: a block's monomial rows stay in cache


def track_points(FT, points, out, parent, var):
    """``out[q, r] = Σ_i FT[i, r] · Π_v points[q, v]^{e_iv}`` (``FT`` is ``(ncoef, nf)``).

    One block of particles runs on the calling thread: waking the thread pool
    for it costs more than the work when the cores are busy.
    """
    nodes = used_nodes(FT, parent)
    kernel = _blocks if points.shape[0] > BLOCK else _one_block
    kernel(FT, points, out, parent, var, nodes)


@njit(cache=True)
def used_nodes(FT, parent):
    """Tree nodes with a nonzero coefficient in some output, and their ancestors, in order."""
    m, nf = FT.shape
    need = np.zeros(m, dtype=np.bool_)
    need[0] = True
    for i in range(m - 1, 0, -1):  # children follow their parents
        if not need[i]:
            for r in range(nf):
                if FT[i, r] != 0.0:
                    need[i] = True
                    break
        if need[i]:
            need[parent[i]] = True
    return np.flatnonzero(need)


@njit(cache=True)
def _block(FT, points, out, parent, var, nodes, start, w):
    nv = points.shape[1]
    m, nf = FT.shape
    x = np.empty((nv, w))  # coordinates of the block, coordinate-major
    for j in range(w):
        for v in range(nv):
            x[v, j] = points[start + j, v]
    mono = np.empty((m, w))
    acc = np.empty((nf, w))
    mono[0, :] = 1.0
    for r in range(nf):
        acc[r, :] = FT[0, r]
    for n in range(1, nodes.size):
        i = nodes[n]
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


@njit(parallel=True, cache=True)
def _blocks(FT, points, out, parent, var, nodes):
    n = points.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        start = b * BLOCK
        _block(FT, points, out, parent, var, nodes, start, min(n, start + BLOCK) - start)


@njit(cache=True)
def _one_block(FT, points, out, parent, var, nodes):
    _block(FT, points, out, parent, var, nodes, 0, points.shape[0])
