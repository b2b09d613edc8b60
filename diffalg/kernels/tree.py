"""Walks of the monomial tree: composition of series and evaluation at points.

Every monomial is its parent times one variable (``Descriptor.tree``), so one
product per node builds all monomials of the substituted series; the value of
the node is shared by every output that has a coefficient there.  Composition
walks the tree depth first, keeping only one product per depth alive, and
skips any subtree in which no output has a nonzero coefficient.  Evaluation at
plain points runs the same walk on numbers (:mod:`.track`).
"""

import numpy as np
from numba import njit

from .mul import mul_into


@njit(cache=True)
def compose_rows(F, G, out, parent, var, dfs, dfs_end, degrees, ord_off, pair_off, tab):
    """``out[r] = F[r](G[0], G[1], ...)``: substitute series ``G[v]`` for variable ``v``.

    ``F`` is ``(nf, ncoef_f)``, ``G`` is ``(nn, ncoef_g)`` (one series per variable of
    ``F``'s descriptor, possibly in another descriptor whose tables are passed),
    ``out`` is ``(nf, ncoef_g)``.
    """
    _walk(F, G, out, var, dfs, dfs_end, degrees, ord_off, pair_off, tab, False)


@njit(cache=True)
def monomial_adjoints(Gbar, G, Fbar, parent, var, dfs, dfs_end, degrees, ord_off, pair_off, tab):
    """``Fbar[r, i] = <Gbar[r], G^{m_i}>``: the adjoint of the coefficients in a composition.

    ``f(G) = Σ_i f_i G^{m_i}`` is linear in ``f``; the same walk as
    :func:`compose_rows` builds each monomial of ``G`` once and dots it with the
    output adjoints ``Gbar`` (``(nf, ncoef_g)``), so memory stays one series per
    depth instead of one per monomial.
    """
    _walk(Gbar, G, Fbar, var, dfs, dfs_end, degrees, ord_off, pair_off, tab, True)


@njit(cache=True)
def _walk(F, G, out, var, dfs, dfs_end, degrees, ord_off, pair_off, tab, adjoint):
    """The depth-first walk: accumulate ``F[r, i] · G^{m_i}`` into ``out[r]``, or, for
    the ``adjoint``, write ``<F[r], G^{m_i}>`` into ``out[r, i]``."""
    nf = F.shape[0]
    m = dfs.size  # monomials of the substituted polynomial's descriptor
    mg = G.shape[1]  # G may live in another descriptor than the polynomial
    o = degrees.max()
    stack = np.empty((o + 1, mg))
    work = np.empty(mg + 1)
    stack[0, :] = 0.0
    stack[0, 0] = 1.0
    for r in range(nf):
        if adjoint:
            out[r, 0] = F[r, 0]  # the constant monomial is 1
        else:
            out[r, :] = F[r, 0]
            out[r, 1:] = 0.0
    # cum[p] = number of nodes before DFS position p holding a nonzero coefficient
    # (the adjoint needs every node: no subtree is skipped)
    cum = np.arange(m + 1)
    if not adjoint:
        for p in range(m):
            nz = 0
            for r in range(nf):
                if F[r, dfs[p]] != 0.0:
                    nz = 1
            cum[p + 1] = cum[p] + nz
    p = 1  # position 0 is the root (the constant monomial)
    while p < m:
        if cum[dfs_end[p]] == cum[p]:  # nothing below this node is used
            p = dfs_end[p]
            continue
        i = dfs[p]
        d = degrees[i]
        mul_into(stack[d - 1], G[var[i]], stack[d], work, ord_off, pair_off, tab)
        for r in range(nf):
            if adjoint:
                acc = 0.0
                for j in range(mg):
                    acc += F[r, j] * stack[d, j]
                out[r, i] = acc
            else:
                c = F[r, i]
                if c != 0.0:
                    for j in range(mg):
                        out[r, j] += c * stack[d, j]
        p += 1
