"""Independent reference computations for the diffalg tests.

Everything here is pure Python (ints, floats, ``fractions``, ``mpmath``) on
polynomials stored as ``{exponent tuple: coefficient}`` dicts; nothing calls
diffalg's arithmetic, so the tests compare the library with a separate truth.
The only bridge is :func:`as_dict`/:func:`from_dict`, which read and write
coefficients through ``Descriptor.monomials``/``index`` (their ordering is
itself checked by brute force in ``test_descriptor.py``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import diffalg as dg

# ---------------------------------------------------------------- monomials


def monomials(nv: int, order: int, npar: int = 0, param_order: int = 0) -> list[tuple]:
    """All exponent tuples, graded by total degree, descending lex in a degree."""
    nn = nv + npar
    out = []
    for k in range(order + 1):
        block = [
            e
            for e in itertools.product(range(k + 1), repeat=nn)
            if sum(e) == k and sum(e[nv:]) <= (param_order if npar else 0)
        ]
        out += sorted(block, reverse=True)
    return out


def keeper(d: dg.Descriptor):
    """Predicate: does an exponent tuple belong to the truncated algebra of ``d``?"""
    order, nv, po = d.order, d.nv, d.param_order

    def keep(e):
        return sum(e) <= order and sum(e[nv:]) <= po

    return keep


# ------------------------------------------------------- dict polynomials


def as_dict(t) -> dict:
    """Coefficients of a 0-d series as ``{exponents: value}`` (zeros dropped)."""
    d = t.desc
    c = np.asarray(t.coeffs)
    assert c.shape == (d.ncoef,)
    return {tuple(int(v) for v in m): float(c[i]) for i, m in enumerate(d.monomials) if c[i]}


def from_dict(d: dg.Descriptor, coeffs: dict):
    return d.from_coeffs(coeffs)


def dense(d: dg.Descriptor, coeffs: dict) -> np.ndarray:
    """A coefficient dict as the descriptor's dense array (for comparisons)."""
    out = np.zeros(d.ncoef)
    pos = {tuple(int(v) for v in m): i for i, m in enumerate(d.monomials)}
    for e, v in coeffs.items():
        if e in pos:
            out[pos[e]] += float(v)
    return out


def add(a: dict, b: dict, s=1) -> dict:
    out = dict(a)
    for e, v in b.items():
        out[e] = out.get(e, 0) + s * v
    return out


def scale(a: dict, s) -> dict:
    return {e: s * v for e, v in a.items()}


def mul(a: dict, b: dict, keep) -> dict:
    """Truncated product by the schoolbook double loop."""
    out = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = tuple(x + y for x, y in zip(ea, eb, strict=True))
            if keep(e):
                out[e] = out.get(e, 0) + ca * cb
    return out


def power(a: dict, n: int, nn: int, keep) -> dict:
    out = {(0,) * nn: 1}
    for _ in range(n):
        out = mul(out, a, keep)
    return out


def compose_univariate(taylor, inner: dict, nn: int, keep) -> dict:
    """``Σ_k taylor[k] · inner^k`` for an ``inner`` without constant term."""
    assert all(sum(e) > 0 for e in inner)
    out, p = {}, {(0,) * nn: 1}
    for k, fk in enumerate(taylor):
        out = add(out, scale(p, fk))
        if k + 1 < len(taylor):
            p = mul(p, inner, keep)
    return out


def substitute(f: dict, gs: list[dict], nn_out: int, keep) -> dict:
    """``f(g_1, ..., g_n)``: plain polynomial substitution, truncated by ``keep``."""
    out = {}
    for e, c in f.items():
        term = {(0,) * nn_out: c}
        for v, k in enumerate(e):
            for _ in range(k):
                term = mul(term, gs[v], keep)
        out = add(out, term)
    return out


def evaluate(f: dict, point) -> float:
    return math.fsum(
        c * math.prod(p**k for p, k in zip(point, e, strict=True)) for e, c in f.items()
    )


def poly_at(terms: dict, point) -> dict:
    """Taylor coefficients at ``point`` of the polynomial ``Σ c x^a`` (``terms``).

    By the binomial theorem ``(x0 + dx)^a = Σ_i C(a, i) x0^(a-i) dx^i`` per variable.
    """
    out = {}
    for a, c in terms.items():
        ranges = [range(k + 1) for k in a]
        for i in itertools.product(*ranges):
            v = c
            for ak, ik, x0 in zip(a, i, point, strict=True):
                v *= math.comb(ak, ik) * x0 ** (ak - ik)
            out[i] = out.get(i, 0) + v
    return out


# --------------------------------------------------------- random series


def random_dict(d: dg.Descriptor, rng, degrees=None, c0=None, density=1.0) -> dict:
    """Random coefficients in [-1, 1], optionally only on some degrees."""
    out = {}
    for m in d.monomials:
        e = tuple(int(v) for v in m)
        if degrees is not None and sum(e) not in degrees:
            continue
        if rng.random() <= density:
            out[e] = float(rng.uniform(-1.0, 1.0))
    if c0 is not None:
        out[(0,) * d.nn] = float(c0)
    return out


def random_series(d: dg.Descriptor, rng, **kw):
    coeffs = random_dict(d, rng, **kw)
    return from_dict(d, coeffs), coeffs


# ------------------------------------------------------------ comparisons


def envelope(coeffs) -> list:
    """Local size of a coefficient sequence: ``max(|c_{k-1}|, |c_k|, |c_{k+1}|)``.

    Taylor coefficients that pass near zero where the sequence changes sign
    carry rounding errors of the size of their neighbours; relative errors
    are measured against this envelope.
    """
    a = [abs(c) for c in coeffs]
    return [max(a[max(k - 1, 0) : k + 2]) for k in range(len(a))]


def assert_close(got, want, rtol=1e-13, atol=0.0, floor=1e-15, scale=None):
    """Coefficientwise ``|got - want| <= rtol·max(|want|, scale) + atol``.

    ``scale`` defaults to ``floor·max|want|``; pass an array to measure each
    coefficient against its own magnitude scale.
    """
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    if scale is None:
        scale = floor * (np.max(np.abs(want)) if want.size else 0.0)
    tol = rtol * np.maximum(np.abs(want), np.asarray(scale, dtype=np.float64)) + atol
    err = np.abs(got - want)
    bad = err > tol
    if np.any(bad):
        i = np.flatnonzero(bad)[:5]
        raise AssertionError(
            f"{bad.sum()} of {bad.size} entries differ; first at {i.tolist()}: "
            f"got {got.ravel()[i].tolist()} want {want.ravel()[i].tolist()}"
        )


# ---------------------------------------------------------------- examples


def load_example(name: str):
    """Import ``examples/<name>.py`` as a module (the examples are scripts, not a package)."""
    import importlib.util  # noqa: PLC0415
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    folder = Path(__file__).resolve().parent.parent / "examples"
    if str(folder) not in sys.path:  # examples import each other, as when run as scripts
        sys.path.insert(0, str(folder))
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
