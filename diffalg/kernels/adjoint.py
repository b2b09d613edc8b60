"""Transposed products: the adjoint of truncated multiplication.

For ``z = x · y`` truncated, ``z_k = Σ x_i y_j`` over the pairs with
``m_i m_j = m_k``; so ``∂L/∂x_i = Σ_k ∂L/∂z_k · y_j`` over the same pairs.
Walking the descriptor's gather table (``Descriptor.gather_tables``, every
ordered pair once) and scattering ``g_k y_j`` into ``i`` gives it at the cost of
one product.
"""

from numba import njit


@njit(cache=True)
def _mul_adjoint_row(g, y, out, start, I, J):
    out[:] = 0.0
    for k in range(g.size):
        gk = g[k]
        if gk != 0.0:
            for p in range(start[k], start[k + 1]):
                out[I[p]] += gk * y[J[p]]


@njit(cache=True)
def mul_adjoint_rows(G, Y, out, start, I, J):
    """``out[r] = Σ_k G[r, k] · Y[r, j]`` scattered into ``i`` over pairs ``(i, j) → k``.

    ``G`` and ``Y`` have ``n`` rows or one (broadcast against the other).
    """
    n = out.shape[0]
    for r in range(n):
        _mul_adjoint_row(G[r if G.shape[0] > 1 else 0], Y[r if Y.shape[0] > 1 else 0], out[r],
                         start, I, J)  # fmt: skip
