"""+ - * / ** against brute-force truncated polynomial arithmetic and closed forms."""

import math

import mpmath as mp
import numpy as np
import pytest
import truth
from hypothesis import given, settings
from hypothesis import strategies as st

import diffalg as dg

DESCRIPTORS = [
    dict(nv=1, order=8),
    dict(nv=2, order=5),
    dict(nv=3, order=4),
    dict(nv=6, order=4),
    dict(nv=2, order=1),
    dict(nv=3, order=0),
    dict(variables=["x", "y"], params=["k1", "k2"], order=5, param_order=2),
    dict(variables=["x"], params=["k"], order=6, param_order=1),
]
IDS = [str(sorted(kw.items())) for kw in DESCRIPTORS]

HYP = settings(max_examples=30, deadline=None)


def _series(d, coeffs):
    return truth.from_dict(d, coeffs)


@pytest.mark.parametrize("kw", DESCRIPTORS, ids=IDS)
def test_dense_product_vs_brute_force(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(1)
    keep = truth.keeper(d)
    for _ in range(3):
        a, ad = truth.random_series(d, rng)
        b, bd = truth.random_series(d, rng)
        want = truth.dense(d, truth.mul(ad, bd, keep))
        truth.assert_close((a * b).coeffs, want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("kw", DESCRIPTORS[:4] + DESCRIPTORS[6:], ids=IDS[:4] + IDS[6:])
def test_block_sparse_products_vs_brute_force(kw):
    """Factors that vanish on whole degree blocks (the kernel skips those)."""
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(2)
    keep = truth.keeper(d)
    o = d.order
    patterns = [
        ({0}, set(range(o + 1))),
        ({1}, {1}),
        ({2, 3}, {1, o}),
        ({o}, {0, 1}),
        ({0, o}, {o}),
        ({1, 2}, {2}),
        (set(), set(range(o + 1))),
    ]
    for da, db in patterns:
        a, ad = truth.random_series(d, rng, degrees=da)
        b, bd = truth.random_series(d, rng, degrees=db)
        want = truth.dense(d, truth.mul(ad, bd, keep))
        truth.assert_close((a * b).coeffs, want, rtol=1e-14, atol=1e-15)
        truth.assert_close((b * a).coeffs, want, rtol=1e-14, atol=1e-15)
        # and with random holes inside the blocks
        a, ad = truth.random_series(d, rng, density=0.3)
        want = truth.dense(d, truth.mul(ad, bd, keep))
        truth.assert_close((a * b).coeffs, want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("kw", DESCRIPTORS, ids=IDS)
def test_product_with_variable_constant_and_zero(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(3)
    keep = truth.keeper(d)
    a, ad = truth.random_series(d, rng)
    for v in range(d.nn if d.order else 0):  # order 0: see test_variables_at_order_zero
        for x0 in (0.0, 1.5):
            x = d.var(v, x0)
            xd = {(0,) * d.nn: x0} if x0 else {}
            if d.order >= 1:
                xd[tuple(int(w == v) for w in range(d.nn))] = 1.0
            want = truth.dense(d, truth.mul(ad, xd, keep))
            truth.assert_close((x * a).coeffs, want, rtol=1e-14, atol=1e-15)
            truth.assert_close((a * x).coeffs, want, rtol=1e-14, atol=1e-15)
    c = d.const(-2.5)
    want = truth.dense(d, truth.scale(ad, -2.5))
    assert np.array_equal((c * a).coeffs, want)
    assert np.array_equal((a * -2.5).coeffs, want)
    assert np.array_equal((-2.5 * a).coeffs, want)
    z = d.zeros()
    assert np.array_equal((z * a).coeffs, np.zeros(d.ncoef))
    assert np.array_equal((a * z).coeffs, np.zeros(d.ncoef))
    assert np.array_equal((a * 0).coeffs, np.zeros(d.ncoef))


def test_variables_at_order_zero():
    d = dg.Descriptor(nv=2, order=0)
    x, y = d.vars([1.5, -2.0])
    assert x.coeffs.tolist() == [1.5] and y.coeffs.tolist() == [-2.0]
    assert (x * y).const == -3.0


@pytest.mark.parametrize("kw", DESCRIPTORS, ids=IDS)
def test_add_sub_neg_with_numbers(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(4)
    a, ad = truth.random_series(d, rng)
    b, bd = truth.random_series(d, rng)
    one = {(0,) * d.nn: 1.0}
    assert np.array_equal((a + b).coeffs, truth.dense(d, truth.add(ad, bd)))
    assert np.array_equal((a - b).coeffs, truth.dense(d, truth.add(ad, bd, -1)))
    assert np.array_equal((-a).coeffs, truth.dense(d, truth.scale(ad, -1)))
    assert np.array_equal((+a).coeffs, truth.dense(d, ad))
    assert np.array_equal((a + 3).coeffs, truth.dense(d, truth.add(ad, truth.scale(one, 3))))
    assert np.array_equal((3 + a).coeffs, truth.dense(d, truth.add(ad, truth.scale(one, 3))))
    assert np.array_equal((a - 0.5).coeffs, truth.dense(d, truth.add(ad, one, -0.5)))
    assert np.array_equal(
        (0.5 - a).coeffs, truth.dense(d, truth.add(truth.scale(one, 0.5), ad, -1))
    )
    assert np.array_equal(
        (a + np.float64(2.0)).coeffs, truth.dense(d, truth.add(ad, truth.scale(one, 2)))
    )
    assert np.array_equal(
        (a + np.int64(2)).coeffs, truth.dense(d, truth.add(ad, truth.scale(one, 2)))
    )
    assert np.array_equal((a / 4).coeffs, truth.dense(d, truth.scale(ad, 0.25)))
    # the operands are left alone
    assert np.array_equal(a.coeffs, truth.dense(d, ad))


@pytest.mark.parametrize("kw", DESCRIPTORS, ids=IDS)
def test_division_and_reciprocal_vs_brute_force(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(5)
    keep = truth.keeper(d)
    one = truth.dense(d, {(0,) * d.nn: 1.0})
    for b0 in (1.3, -0.7, 4.0):
        a, ad = truth.random_series(d, rng)
        b, bd = truth.random_series(d, rng, c0=b0)
        c = a / b
        back = truth.dense(d, truth.mul(truth.as_dict(c), bd, keep))
        truth.assert_close(back, truth.dense(d, ad), rtol=0, atol=1e-13)
        r = 1 / b
        back = truth.dense(d, truth.mul(truth.as_dict(r), bd, keep))
        truth.assert_close(back, one, rtol=0, atol=1e-13)
        r = 2.5 / b
        back = truth.dense(d, truth.mul(truth.as_dict(r), bd, keep))
        truth.assert_close(back, 2.5 * one, rtol=0, atol=1e-13)
        # by a constant series: exact scaling
        truth.assert_close((a / d.const(b0)).coeffs, truth.dense(d, ad) / b0, rtol=1e-15)


def test_reciprocal_geometric_series():
    """1/(1 - x - y) = Σ (x + y)^n: coefficient of x^i y^j is C(i+j, i)."""
    d = dg.Descriptor(nv=2, order=9)
    x, y = d.vars()
    r = 1 / (1 - x - y)
    for m in d.monomials:
        i, j = int(m[0]), int(m[1])
        assert r.coeff((i, j)) == math.comb(i + j, i)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 7, 12, -1, -2, -3, -6])
def test_integer_powers_closed_form(n):
    """(x0 + dx)^n: coefficient k is C(n, k) x0^(n-k) (generalised binomial for n < 0)."""
    d = dg.Descriptor(nv=1, order=10)
    for x0 in (1.7, -0.6):
        (x,) = d.vars([x0])
        got = (x**n).coeffs
        want = [float(mp.binomial(n, k) * mp.mpf(x0) ** (n - k)) for k in range(11)]
        truth.assert_close(got, want, rtol=1e-13)
        if n != 0:
            truth.assert_close((x ** float(n)).coeffs, want, rtol=1e-13)
            truth.assert_close(dg.pow(x, n).coeffs, want, rtol=1e-13)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 11])
def test_integer_powers_at_zero_constant(n):
    """(dx + 2 dy)^n by the binomial theorem, exactly (constant part 0)."""
    d = dg.Descriptor(nv=2, order=8)
    x, y = d.vars()
    got = (x + 2 * y) ** n
    for m in d.monomials:
        i, j = int(m[0]), int(m[1])
        want = math.comb(n, i) * 2**j if i + j == n else 0
        assert got.coeff((i, j)) == want


@pytest.mark.parametrize("kw", DESCRIPTORS[:4] + DESCRIPTORS[6:], ids=IDS[:4] + IDS[6:])
def test_integer_power_of_random_series_vs_repeated_product(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(6)
    keep = truth.keeper(d)
    for c0 in (0.0, 0.8):
        a, ad = truth.random_series(d, rng, c0=c0)
        if c0 == 0.0:
            ad.pop((0,) * d.nn)
        for n in (2, 3, 5):
            want = truth.dense(d, truth.power(ad, n, d.nn, keep))
            truth.assert_close((a**n).coeffs, want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("p", [0.5, -0.5, 1.5, 2.5, -1.75, 1 / 3, math.pi])
def test_real_powers_closed_form(p):
    d = dg.Descriptor(nv=1, order=12)
    for x0 in (0.4, 2.0, 7.5):
        (x,) = d.vars([x0])
        want = [float(mp.binomial(p, k) * mp.mpf(x0) ** (p - k)) for k in range(13)]
        truth.assert_close((x**p).coeffs, want, rtol=1e-13)


def test_real_power_multivariate_closed_form():
    """(x0 + a dx + b dy)^p: coefficient of dx^i dy^j is C(p, i+j) C(i+j, i) a^i b^j x0^(p-i-j)."""
    d = dg.Descriptor(nv=2, order=7)
    x, y = d.vars([1.25, 0.0])
    p = -2.5
    f = (x + 0.5 * y) ** p
    for m in d.monomials:
        i, j = int(m[0]), int(m[1])
        n = i + j
        want = mp.binomial(p, n) * math.comb(n, i) * mp.mpf(0.5) ** j * mp.mpf(1.25) ** (p - n)
        assert f.coeff((i, j)) == pytest.approx(float(want), rel=1e-13)


def test_series_exponent_closed_derivatives():
    """x^y = exp(y log x): first and second partials in closed form, higher by mpmath."""
    d = dg.Descriptor(nv=2, order=5)
    x0, y0 = 1.7, 0.6
    x, y = d.vars([x0, y0])
    f = x**y
    g = dg.pow(x, y)
    assert np.array_equal(f.coeffs, g.coeffs)
    L = math.log(x0)
    assert f.const == pytest.approx(x0**y0, rel=1e-15)
    assert f.derivative((1, 0)) == pytest.approx(y0 * x0 ** (y0 - 1), rel=1e-14)
    assert f.derivative((0, 1)) == pytest.approx(x0**y0 * L, rel=1e-14)
    assert f.derivative((2, 0)) == pytest.approx(y0 * (y0 - 1) * x0 ** (y0 - 2), rel=1e-14)
    assert f.derivative((1, 1)) == pytest.approx(x0 ** (y0 - 1) * (1 + y0 * L), rel=1e-14)
    assert f.derivative((0, 2)) == pytest.approx(x0**y0 * L * L, rel=1e-14)
    mp.mp.dps = 30
    try:
        for m in d.monomials:
            i, j = int(m[0]), int(m[1])
            want = mp.diff(lambda a, b: a**b, (mp.mpf(x0), mp.mpf(y0)), (i, j))
            assert f.derivative((i, j)) == pytest.approx(float(want), rel=1e-12)
    finally:
        mp.mp.dps = 15


def test_number_to_series_power():
    """2**x = exp(x ln 2): coefficient k is 2^x0 (ln 2)^k / k!."""
    d = dg.Descriptor(nv=1, order=10)
    (x,) = d.vars([0.3])
    f = 2**x
    want = [2**0.3 * math.log(2) ** k / math.factorial(k) for k in range(11)]
    truth.assert_close(f.coeffs, want, rtol=1e-14)


def test_power_zero_and_one():
    d = dg.Descriptor(nv=2, order=4)
    rng = np.random.default_rng(7)
    a, ad = truth.random_series(d, rng, c0=0.0)
    assert np.array_equal((a**0).coeffs, truth.dense(d, {(0, 0): 1.0}))
    truth.assert_close((a**1).coeffs, truth.dense(d, ad), rtol=1e-15)


# ------------------------------------------------------------- ring laws

D_LAW = dg.Descriptor(nv=3, order=4)
D_LAWP = dg.Descriptor(variables=["x", "y"], params=["k"], order=5, param_order=2)

coef = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)


def series_st(d, c0=None):
    def make(vals):
        data = np.array(vals)
        if c0 is not None:
            data[0] = c0
        return d.from_coeffs(data)

    return st.lists(coef, min_size=d.ncoef, max_size=d.ncoef).map(make)


def _close(a, b, scale=1.0):
    np.testing.assert_allclose(a.coeffs, b.coeffs, rtol=0, atol=1e-13 * scale)


@pytest.mark.parametrize("d", [D_LAW, D_LAWP], ids=["3x4", "params"])
def test_ring_laws(d):
    @HYP
    @given(series_st(d), series_st(d), series_st(d))
    def check(a, b, c):
        keep = truth.keeper(d)
        _close(a * b, b * a)
        _close((a * b) * c, a * (b * c), 100)
        _close(a * (b + c), a * b + a * c, 100)
        _close((a + b) - b, a, 10)
        # the truncated product is the brute-force one
        want = truth.dense(d, truth.mul(truth.as_dict(a), truth.as_dict(b), keep))
        np.testing.assert_allclose((a * b).coeffs, want, rtol=0, atol=1e-13)

    check()


@pytest.mark.parametrize("d", [D_LAW, D_LAWP], ids=["3x4", "params"])
def test_division_law(d):
    @HYP
    @given(
        series_st(d),
        series_st(d),
        st.floats(0.5, 2.0),
        st.sampled_from([1.0, -1.0]),
    )
    def check(a, b, b0, sign):
        bd = b.coeffs.copy()
        bd[0] = sign * b0
        b = d.from_coeffs(bd)
        _close((a * b) / b, a, 1e4)
        _close((a / b) * b, a, 1e4)
        _close(b * (1 / b), d.const(1.0), 1e4)

    check()


@HYP
@given(series_st(D_LAW, c0=0.0), st.integers(1, 4), st.integers(1, 4))
def test_power_laws_at_zero_constant(a, m, n):
    _close(a**m * a**n, a ** (m + n), 100)
    _close((a**m) ** n, a ** (m * n), 100)


@HYP
@given(st.floats(0.3, 3.0), st.floats(-2.5, 2.5), st.floats(-2.5, 2.5), series_st(D_LAW, c0=0.0))
def test_real_power_laws(c0, p, q, tail):
    a = c0 + 0.2 * tail
    s = max(1.0, c0 ** (p + q)) * 10 ** (abs(p) + abs(q))
    _close(a**p * a**q, a ** (p + q), 1e3 * s)
    _close(a ** (-p), 1 / a**p, 1e3 * s)
