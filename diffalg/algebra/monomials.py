"""Monomials of a truncated power series algebra and their index tables.

Coefficients are stored densely, sorted by total degree ("graded"); inside a
degree the exponent tuples run in descending lexicographic order, so the first
variable's powers come first: for two variables to order 2 the order is
``1, x, y, x², xy, y²``.

Every monomial gets an integer *key* ``Σ e_v (o+1)^v``.  Because no exponent
exceeds the order ``o``, the key of a product is the sum of the keys (no
carries), which turns every product table into one vectorised look-up.
"""

from __future__ import annotations

import numpy as np


def graded_exponents(nv: int, order: int) -> np.ndarray:
    """All exponent tuples of ``nv`` variables with total degree <= ``order``.

    Returns an ``(ncoef, nv)`` int16 array in graded, descending-lex order.

    >>> graded_exponents(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    """
    blocks = [_homogeneous(nv, k) for k in range(order + 1)]
    return np.concatenate(blocks).astype(np.int16)


def _homogeneous(nv: int, k: int) -> np.ndarray:
    """Exponents of degree exactly ``k``, descending lexicographic."""
    if nv == 1:
        return np.array([[k]], dtype=np.int64)
    rows = [
        np.hstack([np.full((len(rest), 1), first), rest])
        for first in range(k, -1, -1)
        for rest in [_homogeneous(nv - 1, k - first)]
    ]
    return np.concatenate(rows)


def monomial_keys(exps: np.ndarray, order: int) -> np.ndarray:
    """Additive integer keys of exponent rows (see module docstring)."""
    base = np.int64(order + 1) ** np.arange(exps.shape[1], dtype=np.int64)
    return exps.astype(np.int64) @ base


def lookup(sorted_keys: np.ndarray, perm: np.ndarray, keys: np.ndarray, missing: int) -> np.ndarray:
    """Index of each key among the monomials, ``missing`` where absent."""
    pos = np.searchsorted(sorted_keys, keys)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    found = sorted_keys[pos] == keys
    return np.where(found, perm[pos], missing)
