"""Lane kernels skip the degree blocks a tile has all zero: sparse batches against one at a time.

The one-series kernels run every pair, so they are the independent truth: a
batch whose series have zero degree blocks (variables, products of variables,
constants, series with a hole in the middle) must give the same numbers, and a
non-finite entry must give the same nan where the dense product makes
``inf · 0``.
"""

import numpy as np
import pytest
import truth
from hypothesis import given, settings
from hypothesis import strategies as st

import diffalg as dg

DESCRIPTORS = [
    dict(nv=3, order=6),
    dict(nv=2, order=5),
    dict(nv=4, order=3),
    dict(variables=["x", "y"], params=["k"], order=5, param_order=2),
]


def _one_by_one(f, *batches):
    n = max(b.shape[0] for b in batches)
    return np.stack([f(*(b[i] for b in batches)).coeffs for i in range(n)])


def _sparse(d, n, rng, keep, c0=None):
    """``n`` random series, nonzero only in the degree blocks ``keep`` (a set per series)."""
    c = rng.uniform(-1, 1, (n, d.ncoef))
    for i in range(n):
        c[i, ~np.isin(d.degrees, list(keep[i]))] = 0.0
    if c0 is not None:
        c[:, 0] = c0
    return dg.Tensor(c, d)


FUNCTIONS = {
    "product": (lambda u, v: u * v, None),
    "division": (lambda u, v: u / v, 2.0),
    "exp": (lambda u, v: dg.exp(u), None),
    "sin (Horner)": (lambda u, v: dg.sin(u), None),
    "log": (lambda u, v: dg.log(v), 2.0),
    "sqrt": (lambda u, v: dg.sqrt(v), 2.0),
}


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(range(len(DESCRIPTORS))),
    st.sampled_from(sorted(FUNCTIONS)),
    st.integers(16, 45),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_sparse_batches_equal_one_at_a_time(which, name, n, seed, same_pattern):
    d = dg.Descriptor(**DESCRIPTORS[which])
    rng = np.random.default_rng(seed)
    degrees = range(d.order + 1)

    def patterns():  # one pattern for the whole batch, or one per series
        draw = lambda: {g for g in degrees if rng.random() < 0.4} | {int(rng.integers(0, 2))}  # noqa: E731
        p = draw()
        return [p if same_pattern else draw() for _ in range(n)]

    f, c0 = FUNCTIONS[name]
    x, y = _sparse(d, n, rng, patterns()), _sparse(d, n, rng, patterns(), c0)
    truth.assert_close(f(x, y).coeffs, _one_by_one(f, x, y), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("kw", DESCRIPTORS, ids=str)
def test_variables_products_and_functions_of_variables(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(1)
    x, y = d.vars(rng.uniform(0.5, 1.5, (d.nv, 40)))[:2]
    cases = [
        lambda u, v: u * v,
        lambda u, v: (u * u) * (v * v * v),
        lambda u, v: dg.exp(u * v),
        lambda u, v: dg.cos(u),
        lambda u, v: 1.0 / (1 + u * u),
        lambda u, v: dg.log(u * v),
    ]
    for f in cases:
        got = f(x, y).coeffs
        truth.assert_close(got, _one_by_one(f, x, y), rtol=1e-13, atol=1e-14)
    # x·y at brute force: x0 y0 + y0 dx + x0 dy + dx dy, nothing else
    got = (x * y).coeffs
    want = np.zeros_like(got)
    x0, y0 = x.coeffs[:, 0], y.coeffs[:, 0]
    want[:, 0], want[:, d.index((1,) + (0,) * (d.nn - 1))] = x0 * y0, y0
    want[:, d.index((0, 1) + (0,) * (d.nn - 2))] = x0
    want[:, d.index((1, 1) + (0,) * (d.nn - 2))] = 1.0
    np.testing.assert_array_equal(got, want)


def test_constant_and_zero_batches():
    d = dg.Descriptor(nv=3, order=4)
    rng = np.random.default_rng(2)
    c = np.zeros((24, d.ncoef))
    c[:, 0] = rng.uniform(0.5, 2.0, 24)
    const, zero = dg.Tensor(c, d), dg.Tensor(np.zeros((24, d.ncoef)), d)
    dense = dg.Tensor(rng.uniform(-1, 1, (24, d.ncoef)), d)
    np.testing.assert_array_equal((zero * dense).coeffs, 0.0)
    truth.assert_close((const * dense).coeffs, c[:, :1] * dense.coeffs, rtol=1e-15)
    for f in (dg.exp, dg.sin, dg.log, dg.sqrt, lambda u: 1.0 / u):
        want = np.zeros_like(c)
        want[:, 0] = [f(dg.Descriptor(nv=1, order=0).const(v)).const for v in c[:, 0]]
        truth.assert_close(f(const).coeffs, want, rtol=1e-15)


def test_an_infinity_gives_the_dense_products_nan_and_leaves_its_neighbours_alone():
    d = dg.Descriptor(nv=3, order=4)
    rng = np.random.default_rng(3)
    x = d.vars(rng.uniform(-1, 1, (3, 24)))[0]  # degrees 0 and 1 only
    y = dg.Tensor(rng.uniform(-1, 1, (24, d.ncoef)), d)
    y.coeffs[5, d.ncoef - 1] = np.inf  # inf · (x's zero blocks) = nan, dense
    y.coeffs[13, 3] = np.nan
    for f in (lambda u, v: u * v, lambda u, v: v * u, lambda u, v: u / (2 + v * 0)):
        with np.errstate(invalid="ignore"):  # inf · 0, on purpose
            got, want = f(x, y).coeffs, _one_by_one(f, x, y)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        assert np.isnan(got).any() == np.isnan(want).any()
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15, equal_nan=True)
    # Horner's rule: sinh of a huge constant part has infinite Taylor coefficients.
    # (The one-series recurrence and Horner's rule meet inf differently, so the
    # truth for that series is the same batch with dense neighbours: no skipping.)
    z = x + 0.0
    z.coeffs[2, 0] = 800.0
    dense = z + 0.0
    others = np.arange(24) != 2
    dense.coeffs[others] = rng.uniform(-1, 1, (23, d.ncoef))
    with np.errstate(over="ignore", invalid="ignore"):  # sinh(800) = inf, on purpose
        got, alone = dg.sinh(z).coeffs, _one_by_one(dg.sinh, z)
        np.testing.assert_array_equal(got[2], dg.sinh(dense).coeffs[2])
    assert np.isinf(got[2, 0])
    truth.assert_close(got[others], alone[others], rtol=1e-13, atol=1e-15)
