"""deriv, integ, gradient, hessian, derivative, truncate, eval, compose, norm."""

import math

import mpmath as mp
import numpy as np
import pytest
import truth
from hypothesis import given, settings
from hypothesis import strategies as st

import diffalg as dg

HYP = settings(max_examples=30, deadline=None)
D2 = dg.Descriptor(variables=["x", "y"], order=6)
DP = dg.Descriptor(variables=["x", "y"], params=["k"], order=5, param_order=2)


def _drop_top(coeffs: dict, order: int) -> dict:
    return {e: v for e, v in coeffs.items() if sum(e) < order}


# ----------------------------------------------------------------- deriv/integ


@pytest.mark.parametrize("x0,y0", [(0.0, 0.0), (1.5, -0.5)])
def test_deriv_of_polynomial_closed_form(x0, y0):
    """d/dx (x^3 y^2 + 2 x y^4 - y) = 3 x^2 y^2 + 2 y^4, d/dy = 2 x^3 y + 8 x y^3 - 1."""
    d = D2
    x, y = d.vars([x0, y0])
    f = x**3 * y**2 + 2 * x * y**4 - y
    fx = truth.poly_at({(2, 2): 3, (0, 4): 2}, (x0, y0))
    fy = truth.poly_at({(3, 1): 2, (1, 3): 8, (0, 0): -1}, (x0, y0))
    # the top degree of a derivative is lost (it would come from degree order + 1)
    truth.assert_close(f.deriv(0).coeffs, truth.dense(d, _drop_top(fx, d.order)), atol=1e-13)
    truth.assert_close(f.deriv("y").coeffs, truth.dense(d, _drop_top(fy, d.order)), atol=1e-13)
    assert np.array_equal(dg.deriv(f, var="x").coeffs, f.deriv(0).coeffs)
    # second derivative d2/dxdy = 6 x^2 y + 8 y^3
    fxy = truth.poly_at({(2, 1): 6, (0, 3): 8}, (x0, y0))
    truth.assert_close(
        f.deriv(0).deriv(1).coeffs, truth.dense(d, _drop_top(fxy, d.order - 1)), atol=1e-13
    )


def test_integ_of_polynomial_closed_form():
    """∫ dx of (3 dx^2 dy + dy^3 + 5): dx^3 dy + dx dy^3 + 5 dx (in the displacements)."""
    d = D2
    x, y = d.vars()
    f = 3 * x**2 * y + y**3 + 5
    want = {(3, 1): 1.0, (1, 3): 1.0, (1, 0): 5.0}
    assert truth.as_dict(f.integ("x")) == want
    want_y = {(2, 2): 1.5, (0, 4): 0.25, (0, 1): 5.0}
    assert truth.as_dict(dg.integ(f, var=1)) == want_y
    # the top degree cannot be integrated: x^6 -> dropped, x^5 -> x^6/6
    g = x**5 + x**6
    assert truth.as_dict(g.integ(0)) == {(6, 0): 1 / 6}


def test_integ_at_expansion_point_of_series():
    """integ acts on the displacement: coefficient e -> c_e / (e_v + 1) moved up by one."""
    rng = np.random.default_rng(1)
    for d in (D2, DP):
        a, ad = truth.random_series(d, rng)
        keep = truth.keeper(d)
        for v in range(d.nn):
            want = {}
            for e, c in ad.items():
                up = tuple(k + (w == v) for w, k in enumerate(e))
                if keep(up):
                    want[up] = c / (e[v] + 1)
            truth.assert_close(a.integ(v).coeffs, truth.dense(d, want), rtol=1e-15)
            want = {}
            for e, c in ad.items():
                if e[v]:
                    want[tuple(k - (w == v) for w, k in enumerate(e))] = c * e[v]
            truth.assert_close(a.deriv(v).coeffs, truth.dense(d, want), rtol=1e-15)


series_st = st.lists(st.floats(-1.0, 1.0), min_size=D2.ncoef, max_size=D2.ncoef).map(
    lambda v: D2.from_coeffs(np.array(v))
)
seriesp_st = st.lists(st.floats(-1.0, 1.0), min_size=DP.ncoef, max_size=DP.ncoef).map(
    lambda v: DP.from_coeffs(np.array(v))
)


@HYP
@given(series_st, st.integers(0, 1))
def test_deriv_integ_inverse(f, v):
    d = D2
    # ∂(∫f) = f except the top degree, which ∫ drops
    np.testing.assert_allclose(
        f.integ(v).deriv(v).coeffs, f.truncate(d.order - 1).coeffs, atol=1e-15
    )
    # ∫(∂f) = f minus its part free of x_v (the integration "constant")
    back = f.deriv(v).integ(v)
    want = {e: c for e, c in truth.as_dict(f).items() if e[v] > 0}
    np.testing.assert_allclose(back.coeffs, truth.dense(d, want), atol=1e-15)


@HYP
@given(seriesp_st, st.integers(0, 2))
def test_deriv_integ_with_parameters(f, v):
    d = DP
    keep = truth.keeper(d)
    got = f.integ(v).deriv(v)
    want = {}
    for e, c in truth.as_dict(f).items():
        if keep(tuple(k + (w == v) for w, k in enumerate(e))):
            want[e] = c
    np.testing.assert_allclose(got.coeffs, truth.dense(d, want), atol=1e-15)


@HYP
@given(series_st, series_st)
def test_product_rule(f, g):
    """∂(fg) = ∂f g + f ∂g up to the degree both sides know (order − 1)."""
    lhs = (f * g).deriv(0).truncate(D2.order - 1)
    rhs = (f.deriv(0) * g + f * g.deriv(0)).truncate(D2.order - 1)
    np.testing.assert_allclose(lhs.coeffs, rhs.coeffs, atol=1e-12)


# ---------------------------------------------------------- gradient, hessian


def test_gradient_hessian_closed_form():
    """f = sin(x) exp(y): ∇f = (cos x e^y, sin x e^y), H = [[-sin, cos], [cos, sin]] e^y."""
    d = dg.Descriptor(nv=2, order=4)
    x0, y0 = 0.7, -0.3
    x, y = d.vars([x0, y0])
    f = dg.sin(x) * dg.exp(y)
    s, c, e = math.sin(x0), math.cos(x0), math.exp(y0)
    np.testing.assert_allclose(f.gradient(), [c * e, s * e], rtol=1e-15)
    np.testing.assert_allclose(f.hessian(), [[-s * e, c * e], [c * e, s * e]], rtol=1e-15)
    assert f.derivative((3, 1)) == pytest.approx(-c * e, rel=1e-14)
    assert f.derivative((0, 4)) == pytest.approx(s * e, rel=1e-14)
    assert f.derivative((4, 0)) == pytest.approx(s * e, rel=1e-14)


def test_gradient_hessian_vs_finite_differences():
    d = dg.Descriptor(nv=3, order=2)
    p = np.array([0.4, 1.1, -0.6])

    def fun(m, a, b, c):
        return m.log(1 + a * a * b) * m.cos(a - c) + m.sqrt(2 + b * c * c) / (1 + a)

    x, y, z = d.vars(p)
    f = fun(dg, x, y, z)
    F = lambda q: fun(math, *q)
    assert f.const == pytest.approx(F(p), rel=1e-15)
    h = 1e-5
    E = np.eye(3)
    grad_fd = [(F(p + h * E[i]) - F(p - h * E[i])) / (2 * h) for i in range(3)]
    np.testing.assert_allclose(f.gradient(), grad_fd, rtol=1e-8, atol=1e-9)
    h = 1e-4
    hess_fd = np.array(
        [
            [
                (
                    F(p + h * E[i] + h * E[j])
                    - F(p + h * E[i] - h * E[j])
                    - F(p - h * E[i] + h * E[j])
                    + F(p - h * E[i] - h * E[j])
                )
                / (4 * h * h)
                for j in range(3)
            ]
            for i in range(3)
        ]
    )
    H = f.hessian()
    np.testing.assert_allclose(H, H.T, rtol=0, atol=0)
    np.testing.assert_allclose(H, hess_fd, rtol=1e-6, atol=1e-7)


def test_higher_derivatives_vs_mpmath():
    d = dg.Descriptor(nv=2, order=6)
    x, y = d.vars([0.3, 0.8])
    f = dg.exp(x * y) / (1 + x * x) + dg.atan(x - y) * y
    with mp.workdps(30):
        fm = lambda a, b: mp.exp(a * b) / (1 + a * a) + mp.atan(a - b) * b
        for m in d.monomials:
            want = mp.diff(fm, (mp.mpf(0.3), mp.mpf(0.8)), tuple(int(k) for k in m))
            assert f.derivative(tuple(m)) == pytest.approx(float(want), rel=1e-12, abs=1e-13)


def test_gradient_and_hessian_of_tensors_and_params():
    d = DP
    x, y = d.vars([np.array([0.5, 1.0]), 2.0])
    (k,) = d.params_at([3.0])
    f = x * y * k + k * k * x
    assert f.shape == (2,)
    g = f.gradient()
    H = f.hessian()
    assert g.shape == (2, 3) and H.shape == (2, 3, 3)
    xv, yv, kv = np.array([0.5, 1.0]), 2.0, 3.0
    np.testing.assert_allclose(g[:, 0], yv * kv + kv * kv)
    np.testing.assert_allclose(g[:, 1], xv * kv)
    np.testing.assert_allclose(g[:, 2], xv * yv + 2 * kv * xv)
    np.testing.assert_allclose(H[:, 0, 1], kv)
    np.testing.assert_allclose(H[:, 0, 2], yv + 2 * kv)
    np.testing.assert_allclose(H[:, 2, 2], 2 * xv)
    np.testing.assert_allclose(H[:, 1, 1], 0.0)
    # param_order 1 has no k^2 coefficient: the Hessian entry is 0
    d1 = dg.Descriptor(variables=["x"], params=["k"], order=3, param_order=1)
    (x,) = d1.vars([1.0])
    (k,) = d1.params_at([2.0])
    H = (x * k * k).hessian()
    np.testing.assert_allclose(H, [[0.0, 4.0], [4.0, 0.0]])


# ------------------------------------------------------------------- truncate


@pytest.mark.parametrize("k", [0, 1, 3, 6, 9])
def test_truncate(k):
    rng = np.random.default_rng(2)
    a, ad = truth.random_series(D2, rng)
    want = {e: c for e, c in ad.items() if sum(e) <= k}
    assert np.array_equal(a.truncate(k).coeffs, truth.dense(D2, want))
    assert np.array_equal(dg.truncate(a, order=k).coeffs, truth.dense(D2, want))
    assert np.array_equal(a.coeffs, truth.dense(D2, ad))  # not in place


# ----------------------------------------------------------------------- eval


def test_eval_vs_brute_force_polynomial():
    rng = np.random.default_rng(3)
    for d in (D2, DP, dg.Descriptor(nv=4, order=3)):
        a, ad = truth.random_series(d, rng)
        pts = rng.uniform(-1.5, 1.5, size=(25, d.nn))
        got = a.eval(pts)
        assert got.shape == (25,)
        want = [truth.evaluate(ad, p) for p in pts]
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
        assert a.eval(pts[3]) == pytest.approx(want[3], rel=1e-13, abs=1e-13)


def test_eval_of_tensor_of_series():
    d = dg.Descriptor(nv=2, order=3)
    x, y = d.vars([np.array([[0.0, 1.0, 2.0]]), 0.5])
    f = x * y + y * y  # shape (1, 3)
    pts = np.array([[0.1, 0.2], [-1.0, 0.0]])
    got = f.eval(pts)
    assert got.shape == (1, 3, 2)
    for i, x0 in enumerate([0.0, 1.0, 2.0]):
        for q, (u, v) in enumerate(pts):
            X, Y = x0 + u, 0.5 + v
            assert got[0, i, q] == pytest.approx(X * Y + Y * Y, rel=1e-14)


@pytest.mark.parametrize("order", [3, 5, 7])
def test_eval_error_shrinks_like_h_to_order_plus_one(order):
    d = dg.Descriptor(nv=2, order=order)
    x0, y0 = 0.4, 0.9
    x, y = d.vars([x0, y0])
    f = dg.exp(x) * dg.sin(y) / (2 + x * y)
    F = lambda u, v: math.exp(x0 + u) * math.sin(y0 + v) / (2 + (x0 + u) * (y0 + v))
    direction = np.array([0.6, -0.8])
    errs = []
    h0 = {3: 0.04, 5: 0.1, 7: 0.2}[order]  # keep the error far above rounding
    hs = [h0, h0 / 2, h0 / 4]
    for h in hs:
        u, v = h * direction
        errs.append(abs(f.eval([u, v]) - F(u, v)))
    for e1, e2 in zip(errs, errs[1:], strict=False):
        rate = math.log2(e1 / e2)
        assert order + 1 - 0.5 < rate < order + 1 + 0.5, (errs, rate)
    # the series at many points: the error stays below C h^(order+1)
    rng = np.random.default_rng(4)
    pts = rng.uniform(-0.05, 0.05, size=(200, 2))
    vals = f.eval(pts)
    want = np.array([F(u, v) for u, v in pts])
    bound = 10 * np.max(np.abs(pts)) ** (order + 1) + 1e-15
    assert np.max(np.abs(vals - want)) < bound


# ------------------------------------------------------------------- compose


def test_compose_exp_with_sine_series():
    """exp(dx) in one descriptor composed with sin(t) in another is exp(sin t)."""
    order = 10
    d1 = dg.Descriptor(variables=["u"], order=order)
    d2 = dg.Descriptor(variables=["t"], order=order)
    f = dg.exp(d1.var(0))
    (t,) = d2.vars([0.0])
    g = dg.sin(t)
    h = f.compose(g)
    assert h.desc is d2
    with mp.workdps(40):
        want = [float(c) for c in mp.taylor(lambda s: mp.exp(mp.sin(s)), 0, order)]
    truth.assert_close(h.coeffs, want, rtol=1e-14, scale=truth.envelope(want))


def test_compose_chain_rule_with_shifted_inner():
    """f = log expanded at 2, composed with g(t) = 2 + (t - t0) + ...: equals log(g(t))."""
    order = 8
    d1 = dg.Descriptor(variables=["u"], order=order)
    d2 = dg.Descriptor(variables=["t"], order=order)
    (u,) = d1.vars([2.0])
    f = dg.log(u)  # series in du about 2
    (t,) = d2.vars([0.5])
    g = dg.cosh(t) - math.cosh(0.5)  # displacement du(t), zero at t0
    h = f.compose(g)
    with mp.workdps(40):
        want = [
            float(c) for c in mp.taylor(lambda s: mp.log(2 + mp.cosh(s) - mp.cosh(0.5)), 0.5, order)
        ]
    truth.assert_close(h.coeffs, want, rtol=1e-13, scale=truth.envelope(want))


def test_compose_two_variables_vs_substitution():
    rng = np.random.default_rng(5)
    d1 = dg.Descriptor(nv=2, order=4)
    d2 = dg.Descriptor(variables=["a", "b", "c"], order=5)
    f, fd = truth.random_series(d1, rng)
    g1, g1d = truth.random_series(d2, rng)
    g2, g2d = truth.random_series(d2, rng, c0=0.0)
    g2d.pop((0, 0, 0))
    want = truth.substitute(fd, [g1d, g2d], 3, truth.keeper(d2))
    for h in (f.compose(g1, g2), f.compose([g1, g2]), dg.compose(f, g1, g2)):
        assert h.desc is d2
        truth.assert_close(h.coeffs, truth.dense(d2, want), rtol=1e-12, atol=1e-13)


def test_compose_with_own_variables_is_identity():
    rng = np.random.default_rng(6)
    for d in (D2, DP):
        f, fd = truth.random_series(d, rng)
        ids = [d.var(v) for v in range(d.nn)]
        assert np.array_equal(f.compose(*ids).coeffs, truth.dense(d, fd))


def test_compose_into_params_descriptor():
    """Substituted series may live in a descriptor with parameters (its truncation applies)."""
    rng = np.random.default_rng(7)
    d1 = dg.Descriptor(nv=2, order=4)
    d2 = DP
    f, fd = truth.random_series(d1, rng)
    g1, g1d = truth.random_series(d2, rng)
    g2, g2d = truth.random_series(d2, rng)
    want = truth.substitute(fd, [g1d, g2d], 3, truth.keeper(d2))
    truth.assert_close(f.compose(g1, g2).coeffs, truth.dense(d2, want), rtol=1e-12, atol=1e-13)


def test_compose_tensor_of_series():
    d = dg.Descriptor(nv=1, order=5)
    (x,) = d.vars([0.0])
    F = dg.stack([x, x * x, 1 + x**3])
    (t,) = dg.Descriptor(variables=["t"], order=5).vars([0.0])
    g = 2 * t + t * t
    H = F.compose(g)
    assert H.shape == (3,)
    want = [
        {(1,): 2.0, (2,): 1.0},
        {(2,): 4.0, (3,): 4.0, (4,): 1.0},
        {(0,): 1.0, (3,): 8.0, (4,): 12.0, (5,): 6.0},
    ]
    for r in range(3):
        assert np.array_equal(H.coeffs[r], truth.dense(g.desc, want[r]))


def test_compose_with_one_dimensional_tensor():
    d = dg.Descriptor(nv=2, order=3)
    x, y = d.vars()
    f = x * y
    G = dg.stack([1 + x, 2 + y])
    assert truth.as_dict(f.compose(G)) == {(0, 0): 2.0, (1, 0): 2.0, (0, 1): 1.0, (1, 1): 1.0}


# ---------------------------------------------------------------------- norm


def test_norm():
    d = dg.Descriptor(nv=2, order=3)
    x, y = d.vars([2.0, 0.0])
    f = x - 3 * y * y  # 2 + dx - 3 dy^2
    assert f.norm() == 6.0
    assert f.norm(1) == 6.0
    assert f.norm(2) == pytest.approx(math.sqrt(14), rel=1e-15)
    assert f.norm(np.inf) == 3.0
    t = dg.stack([f, d.zeros()])
    np.testing.assert_array_equal(t.norm(), [6.0, 0.0])
    rng = np.random.default_rng(8)
    a, ad = truth.random_series(dg.Descriptor(nv=3, order=4), rng)
    assert a.norm() == pytest.approx(math.fsum(abs(v) for v in ad.values()), rel=1e-14)
    with pytest.raises(ValueError, match="ord must be"):
        f.norm(3)
