"""Elementary functions against mpmath Taylor coefficients (40 digits) and identities."""

import math

import mpmath as mp
import numpy as np
import pytest
import truth
from hypothesis import given, settings
from hypothesis import strategies as st

import diffalg as dg

ORDER = 12

# name, diffalg function, mpmath function, expansion points inside the domain
FUNCTIONS = [
    ("sqrt", dg.sqrt, mp.sqrt, [0.7, 2.0, 10.0]),
    ("exp", dg.exp, mp.exp, [-1.3, 0.0, 0.4, 3.0]),
    ("log", dg.log, mp.log, [0.3, 1.0, 5.0]),
    ("log1p", dg.log1p, mp.log1p, [-0.5, 1e-9, 2.0]),  # constant part by log1p
    ("expm1", dg.expm1, mp.expm1, [-1.0, 1e-9, 0.7]),
    ("sin", dg.sin, mp.sin, [-2.0, 0.5, 3.0]),
    ("cos", dg.cos, mp.cos, [-2.0, 0.5, 3.0]),
    ("tan", dg.tan, mp.tan, [-1.0, 0.3, 1.2]),
    ("asin", dg.asin, mp.asin, [-0.6, 0.1, 0.8]),
    ("acos", dg.acos, mp.acos, [-0.6, 0.1, 0.8]),
    ("atan", dg.atan, mp.atan, [-3.0, 0.2, 1.5]),
    ("sinh", dg.sinh, mp.sinh, [-1.5, 0.3, 2.0]),
    ("cosh", dg.cosh, mp.cosh, [-1.5, 0.3, 2.0]),
    ("tanh", dg.tanh, mp.tanh, [-15.0, -1.5, 0.3, 2.0, 8.0]),  # tails: through exp(-2|a|)
    ("asinh", dg.asinh, mp.asinh, [-2.0, 0.5, 3.0]),
    ("acosh", dg.acosh, mp.acosh, [1.2, 2.0, 5.0]),
    ("atanh", dg.atanh, mp.atanh, [-0.7, 0.2, 0.6]),
    ("erf", dg.erf, mp.erf, [-1.2, 0.0, 0.3, 2.0]),
    ("pow2.5", lambda x: x**2.5, lambda t: t**2.5, [0.5, 3.0]),
    ("pow-1.3", lambda x: x**-1.3, lambda t: t ** mp.mpf(-1.3), [0.5, 3.0]),
    ("dg.pow(1/3)", lambda x: dg.pow(x, 1 / 3), lambda t: t ** (mp.mpf(1) / 3), [0.2, 4.0]),
    ("abs", dg.abs, abs, [-1.5, 2.0]),
    ("atan2(x, 2)", lambda x: dg.atan2(x, 2.0), lambda t: mp.atan2(t, 2), [-1.0, 0.5, 3.0]),
    ("atan2(1.5, x)", lambda x: dg.atan2(1.5, x), lambda t: mp.atan2(1.5, t), [-2.0, 0.5, 1.0]),
    ("atan2(-1, x)", lambda x: dg.atan2(-1.0, x), lambda t: mp.atan2(-1, t), [-3.0, -0.5, 0.0]),
    ("hypot(x, 0.7)", lambda x: dg.hypot(x, 0.7), lambda t: mp.hypot(t, 0.7), [-1.0, 0.0, 2.0]),
]
CASES = [(n, f, g, x0) for n, f, g, pts in FUNCTIONS for x0 in pts]

_TAYLOR = {}


def mp_taylor(name, g, x0, n):
    """Taylor coefficients ``g^(k)(x0)/k!`` by mpmath at 40 digits (cached), as mpf."""
    key = (name, x0, n)
    if key not in _TAYLOR:
        with mp.workdps(40):
            # point = the float x0 exactly; arguments like 1.3 in pow are also exact floats
            _TAYLOR[key] = mp.taylor(g, mp.mpf(x0), n)
    return _TAYLOR[key]


@pytest.mark.parametrize("name,f,g,x0", CASES, ids=[f"{c[0]}@{c[3]}" for c in CASES])
def test_univariate_vs_mpmath(name, f, g, x0):
    d = dg.Descriptor(nv=1, order=ORDER)
    (x,) = d.vars([x0])
    got = f(x).coeffs
    fk = mp_taylor(name, g, x0, ORDER)
    want = [float(c) for c in fk]
    # relative to each coefficient, or to its neighbours where it passes near 0
    truth.assert_close(got, want, rtol=1e-13, scale=truth.envelope(want))


@pytest.mark.parametrize("name", [n for n, *_ in FUNCTIONS if not n.startswith("atan2")])
def test_batch_vs_mpmath(name):
    """A batch (SIMD lanes: order recurrences, or Horner on Taylor coefficients) against mpmath."""
    f, g, pts = next((f, g, pts) for n, f, g, pts in FUNCTIONS if n == name)
    d = dg.Descriptor(nv=1, order=ORDER)
    reps = -(-16 // len(pts))  # at least 16 series: the batched kernels
    (x,) = d.vars([np.array(pts * reps)])
    got = f(x).coeffs
    for i, x0 in enumerate(pts * reps):
        want = [float(c) for c in mp_taylor(name, g, x0, ORDER)]
        truth.assert_close(got[i], want, rtol=1e-13, scale=truth.envelope(want))


@pytest.mark.parametrize("name,f,g,x0", CASES, ids=[f"{c[0]}@{c[3]}" for c in CASES])
def test_real_forward_matches_scalar(name, f, g, x0):
    """The same function on a real tensor is the plain value."""
    with mp.workdps(30):
        want = float(g(mp.mpf(x0)))
    got = f(dg.tensor(x0, dtype=dg.float64)).item()
    assert got == pytest.approx(want, rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("name,f,g,x0", CASES, ids=[f"{c[0]}@{c[3]}" for c in CASES])
def test_three_variables_linear_argument(name, f, g, x0):
    """f(x + y/2 - z/4) at (x0, 0, 0): coefficient of dx^i dy^j dz^k is
    f_n(x0) · n!/(i! j! k!) · (1/2)^j (-1/4)^k with n = i + j + k (multinomial theorem)."""
    order = 6
    d = dg.Descriptor(nv=3, order=order)
    x, y, z = d.vars([x0, 0.0, 0.0])
    got = f(x + 0.5 * y - 0.25 * z)
    fk = mp_taylor(name, g, x0, ORDER)
    env = truth.envelope(fk)
    want, scale = {}, {}
    for m in d.monomials:
        i, j, k = (int(v) for v in m)
        n = i + j + k
        multi = math.factorial(n) // (math.factorial(i) * math.factorial(j) * math.factorial(k))
        w = multi * mp.mpf(0.5) ** j * mp.mpf(-0.25) ** k
        want[(i, j, k)] = float(fk[n] * w)
        scale[(i, j, k)] = float(env[n] * abs(w))
    truth.assert_close(got.coeffs, truth.dense(d, want), rtol=1e-13, scale=truth.dense(d, scale))


@pytest.mark.parametrize("name,f,g,x0", CASES, ids=[f"{c[0]}@{c[3]}" for c in CASES])
def test_two_variables_nonlinear_argument(name, f, g, x0):
    """f(x0 + u(dx, dy)) for a quadratic u: Σ_n f_n u^n expanded in pure Python."""
    order = 7
    d = dg.Descriptor(nv=2, order=order)
    x, y = d.vars([0.0, 0.0])
    u = {(1, 0): 0.5, (0, 1): -0.75, (2, 0): 0.25, (1, 1): 0.125, (0, 2): -0.5}
    arg = x0 + 0.5 * x - 0.75 * y + 0.25 * x * x + 0.125 * x * y - 0.5 * y * y
    assert arg.const == x0
    fk = mp_taylor(name, g, x0, ORDER)
    keep = truth.keeper(d)
    with mp.workdps(40):
        u_mp = {e: mp.mpf(v) for e, v in u.items()}
        want = truth.compose_univariate(fk[: order + 1], u_mp, 2, keep)
        # magnitude of the summed terms: the same sum over absolute values
        u_abs = {e: abs(v) for e, v in u_mp.items()}
        scale = truth.compose_univariate(truth.envelope(fk)[: order + 1], u_abs, 2, keep)
    truth.assert_close(f(arg).coeffs, truth.dense(d, want), rtol=1e-13, scale=truth.dense(d, scale))


def test_params_descriptor_truncates_parameter_degree():
    """exp(x + k) with param_order 1: coefficient x^i k^j = e^(x0+k0)/(i! j!), j <= 1 only."""
    d = dg.Descriptor(variables=["x"], params=["k"], order=6, param_order=1)
    (x,) = d.vars([0.25])
    (k,) = d.params_at([0.5])
    f = dg.exp(x + k) * dg.sin(k)
    for m in d.monomials:
        i, j = int(m[0]), int(m[1])
        with mp.workdps(40):
            want = mp.diff(lambda a, b: mp.exp(a + b) * mp.sin(b), (0.25, 0.5), (i, j))
        want = float(want) / (math.factorial(i) * math.factorial(j))
        assert f.coeff((i, j)) == pytest.approx(want, rel=1e-13, abs=1e-15)
    assert d.ncoef == 7 + 6


# ------------------------------------------------------------------ atan2 / hypot


@pytest.mark.parametrize(
    "x0,y0",
    [(1.0, 0.5), (-1.0, 0.5), (-1.0, -0.5), (0.3, -2.0), (0.0, 1.5), (0.0, -1.0), (-2.0, 0.0)],
)
def test_atan2_all_quadrants_vs_mpmath(x0, y0):
    d = dg.Descriptor(nv=2, order=5)
    x, y = d.vars([x0, y0])
    f = dg.atan2(y, x)
    h = dg.hypot(x, y)
    assert f.const == pytest.approx(math.atan2(y0, x0), rel=1e-15)
    assert h.const == pytest.approx(math.hypot(x0, y0), rel=1e-15)
    if x0 < 0 and y0 == 0:  # on mpmath's branch cut: rotate by pi, atan2(y, x) = atan2(-y, -x) + pi
        angle = lambda a, b: mp.atan2(-b, -a) + mp.pi
    else:
        angle = lambda a, b: mp.atan2(b, a)
    with mp.workdps(40):
        for m in d.monomials:
            i, j = int(m[0]), int(m[1])
            fact = math.factorial(i) * math.factorial(j)
            wa = mp.diff(angle, (x0, y0), (i, j)) / fact
            wh = mp.diff(lambda a, b: mp.hypot(a, b), (x0, y0), (i, j)) / fact
            assert f.coeff((i, j)) == pytest.approx(float(wa), rel=1e-12, abs=1e-14)
            assert h.coeff((i, j)) == pytest.approx(float(wh), rel=1e-12, abs=1e-14)


def test_atan2_on_arrays_and_numpy_dispatch():
    d = dg.Descriptor(nv=1, order=3)
    v = np.array([0.25, -0.5, 1.0])
    x = d.var(0, v)
    f = dg.atan2(x, 1.0)  # |x0| <= 1: one branch for all three
    np.testing.assert_allclose(f.const, np.arctan2(v, 1.0), rtol=1e-15)
    # d/dx atan2(x, 1) = 1/(1 + x^2), d2/dx2 = -2x/(1 + x^2)^2
    np.testing.assert_allclose(f.coeffs[:, 1], 1 / (1 + v**2), rtol=1e-14)
    np.testing.assert_allclose(f.coeffs[:, 2], -v / (1 + v**2) ** 2, rtol=1e-14)
    g = np.arctan2(x, 1.0)
    assert np.array_equal(g.coeffs, f.coeffs)


def test_atan2_mixed_branches_in_one_tensor_is_refused():
    d = dg.Descriptor(nv=1, order=3)
    x = d.var(0, np.array([0.5, 3.0]))
    with pytest.raises(ValueError, match="mixed branches"):
        dg.atan2(x, 1.0)


# ------------------------------------------------------------ hypothesis identities

D1 = dg.Descriptor(nv=2, order=6)
HYP = settings(max_examples=30, deadline=None)
tail_st = st.lists(st.floats(-1.0, 1.0), min_size=D1.ncoef - 1, max_size=D1.ncoef - 1)


def series(c0, tail, scale=0.3):
    return D1.from_coeffs(np.array([c0] + [scale * t for t in tail]))


def close(a, b, atol=1e-12):
    a = a.coeffs if isinstance(a, dg.Tensor) else a
    b = b.coeffs if isinstance(b, dg.Tensor) else b
    np.testing.assert_allclose(a, b, rtol=0, atol=atol)


@HYP
@given(st.floats(0.2, 5.0), tail_st)
def test_exp_log_inverse(c0, tail):
    x = series(c0, tail)
    close(dg.exp(dg.log(x)), x, 1e-12 * c0 * 10)
    close(dg.log(dg.exp(x)), x, 1e-12 * 10)


@HYP
@given(st.floats(-4.0, 4.0), tail_st)
def test_pythagoras_and_tan(c0, tail):
    x = series(c0, tail)
    s, c = dg.sin(x), dg.cos(x)
    close(s * s + c * c, D1.const(1.0))
    if abs(math.cos(c0)) > 0.3:
        close(dg.tan(x), s / c, 1e-10)
    close(dg.sin(2 * x), 2 * s * c, 1e-11)


@HYP
@given(st.floats(0.1, 9.0), tail_st)
def test_sqrt_squared(c0, tail):
    x = series(c0, tail)
    close(dg.sqrt(x) ** 2, x, 1e-12 * c0 * 10)
    close(dg.sqrt(x) * dg.sqrt(x), x, 1e-12 * c0 * 10)
    close(x**0.5, dg.sqrt(x), 1e-11)


@HYP
@given(st.floats(-0.5, 0.5), tail_st)
def test_inverse_trig_near_zero(c0, tail):
    x = series(c0, tail, 0.2)
    close(dg.asin(dg.sin(x)), x, 1e-11)
    close(dg.sin(dg.asin(x)), x, 1e-11)
    close(dg.atan(dg.tan(x)), x, 1e-11)
    close(dg.acos(dg.cos(x + 1.0)), x + 1.0, 1e-10)
    close(dg.atanh(dg.tanh(x)), x, 1e-11)
    close(dg.asinh(dg.sinh(x)), x, 1e-11)
    close(dg.acosh(dg.cosh(x + 1.0)), x + 1.0, 1e-10)
    close(dg.asin(x) + dg.acos(x), D1.const(math.pi / 2), 1e-12)


@HYP
@given(st.floats(-3.0, 3.0), tail_st)
def test_hyperbolic_identities(c0, tail):
    x = series(c0, tail)
    ch, sh = dg.cosh(x), dg.sinh(x)
    s = math.cosh(c0) ** 2
    close(ch * ch - sh * sh, D1.const(1.0), 1e-12 * s * 10)
    close(dg.tanh(x), sh / ch, 1e-11)
    close(dg.exp(x), ch + sh, 1e-12 * s)


@HYP
@given(st.floats(-2.0, 2.0), st.floats(-2.0, 2.0), tail_st, tail_st)
def test_exp_addition_and_erf_odd(a0, b0, ta, tb):
    a, b = series(a0, ta), series(b0, tb)
    s = math.exp(abs(a0) + abs(b0) + 2)
    close(dg.exp(a + b), dg.exp(a) * dg.exp(b), 1e-12 * s)
    close(dg.erf(-a), -dg.erf(a), 1e-12)
