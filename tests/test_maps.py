"""Taylor maps: inversion, composition, powers, tables, symplecticity, tracking, files.

Truths: closed forms (the series inverse of x + a x², rotations, affine fixed
points, exact polynomial maps evaluated directly), DACE's ``invert`` on the
same map, and the defining identities (M ∘ M⁻¹ = M⁻¹ ∘ M = id).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import diffalg as dg
from diffalg.maps import TaylorMap, identity
from diffalg.testing.peers import DaceBackend


def kick_drift(d, k2=0.3, k3=-0.2, L=0.7):
    """A symplectic map of (x, px, y, py): a thin sextupole/octupole kick, then a drift."""
    x, px, y, py = d.vars()
    px1 = px - k2 * (x * x - y * y) - k3 * (x**3 - 3 * x * y * y)
    py1 = py + 2 * k2 * x * y + k3 * (3 * x * x * y - y**3)
    return TaylorMap([x + L * px1, px1, y + L * py1, py1])


def rotation(d, mu):
    x, p = d.vars()
    c, s = math.cos(mu), math.sin(mu)
    return TaylorMap([c * x + s * p, -s * x + c * p])


def max_coeff(t):
    return float(np.abs(t.coeffs).max())


def test_inverse_is_two_sided_to_the_order():
    d = dg.Descriptor(nv=4, order=6)
    M = kick_drift(d) @ TaylorMap(np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))[0]
                                  @ identity(d), d)  # fmt: skip
    N = M.inverse()
    assert max_coeff(M @ N - identity(d)) < 1e-12
    assert max_coeff(N @ M - identity(d)) < 1e-12


def test_inverse_of_x_plus_a_x_squared_has_catalan_coefficients():
    # y = x + a x²  ⇒  x = Σ (-1)^n C_n a^n y^(n+1), C_n the Catalan numbers
    d = dg.Descriptor(nv=1, order=9)
    (x,) = d.vars()
    a = 0.3
    N = TaylorMap([x + a * x * x]).inverse()
    for n in range(9):
        catalan = math.comb(2 * n, n) // (n + 1)
        assert N[0].coeff((n + 1,)) == pytest.approx((-1) ** n * catalan * a**n, rel=1e-13)


def test_inverse_matches_dace():
    pytest.importorskip("daceypy")
    import daceypy

    d = dg.Descriptor(nv=2, order=5)
    rng = np.random.default_rng(3)
    coeffs = rng.uniform(-0.5, 0.5, (2, d.ncoef))
    coeffs[:, 0] = 0.0
    coeffs[:, 1:3] += np.eye(2) * 2
    M = TaylorMap(coeffs, d)
    peer = DaceBackend(2, 5)
    pm = daceypy.array([peer.from_coeffs({tuple(e): c for e, c in zip(d.monomials, row, strict=True)})
                        for row in coeffs])  # fmt: skip
    inv = pm.invert()
    ours = M.inverse()
    for i in range(2):
        theirs = peer.coeffs(inv[i])
        for e, c in theirs.items():
            assert ours[i].coeff(e) == pytest.approx(c, rel=1e-12, abs=1e-13)


def test_inverse_with_constant_part_and_parameters():
    d = dg.Descriptor(variables=["x", "p"], order=5, params=["k"], param_order=2)
    x, p = d.vars()
    (k,) = d.params_at()
    M0 = TaylorMap([x + 0.4 * p + k * x * x, p - (0.3 + k) * x**3 + 0.2 * k])
    N0 = M0.inverse()  # M0(0) = 0 at k = 0: inverse on both sides
    assert max_coeff(N0 @ M0 - identity(d)) < 1e-12
    assert max_coeff(M0 @ N0 - identity(d)) < 1e-12
    # with a constant part the inverse is exact from the left; M ∘ N would evaluate
    # the truncated M away from its expansion point
    M = TaylorMap(M0 + dg.tensor([0.1, -0.05], dtype=dg.float64))
    assert max_coeff(M.inverse() @ M - identity(d)) < 1e-12


def test_singular_linear_part_and_mixed_descriptors_are_refused():
    d = dg.Descriptor(nv=2, order=3)
    x, p = d.vars()
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        TaylorMap([x + p, 2 * x + 2 * p + x * x]).inverse()
    other = dg.Descriptor(nv=2, order=4)
    with pytest.raises(ValueError, match="different descriptors"):
        TaylorMap(d.vars()) @ TaylorMap(other.vars())
    with pytest.raises(ValueError, match="2 series"):
        TaylorMap([x])
    with pytest.raises(TypeError, match="series"):
        TaylorMap(dg.tensor([1.0, 2.0]))


def test_power_of_a_rotation_and_of_a_nonlinear_map():
    d = dg.Descriptor(nv=2, order=4)
    R = rotation(d, 0.3)
    np.testing.assert_allclose((R**7).linear(), rotation(d, 2.1).linear(), atol=1e-14)
    np.testing.assert_allclose((R**-2).linear(), rotation(d, -0.6).linear(), atol=1e-14)
    x, p = d.vars()
    M = TaylorMap([x + p, p - 0.2 * (x + p) ** 2])
    assert max_coeff(M.power(3) - M @ (M @ M)) < 1e-14
    assert max_coeff(M.power(0) - identity(d)) == 0.0


def test_tables_of_a_sextupole_kick():
    d = dg.Descriptor(nv=4, order=3)
    M = kick_drift(d, k2=0.3, k3=0.0, L=0.0)
    R, T, U = M.tables()
    np.testing.assert_array_equal(R, np.eye(4))
    # Δpx = -k2 (x² - y²), Δpy = 2 k2 x y; T is symmetric, so x y splits in two
    assert T[1, 0, 0] == pytest.approx(-0.3) and T[1, 2, 2] == pytest.approx(0.3)
    assert T[3, 0, 2] == pytest.approx(0.3) and T[3, 2, 0] == pytest.approx(0.3)
    assert np.count_nonzero(T) == 4 and not U.any()
    pts = np.random.default_rng(1).uniform(-0.1, 0.1, (5, 4))
    quad = np.einsum("ijk,nj,nk->ni", T, pts, pts)
    np.testing.assert_allclose(pts @ R.T + quad, M.track(pts), atol=1e-15)


def test_symplectic_error_small_for_hamiltonian_maps_large_otherwise():
    d = dg.Descriptor(nv=4, order=5)
    assert kick_drift(d).symplectic_error() < 1e-13
    x, px, y, py = d.vars()
    # JᵀSJ − S has an entry 1, relative to the Jacobian's largest coefficient (2) squared
    assert TaylorMap([2 * x, px, y, py]).symplectic_error() == pytest.approx(1.0 / 4)
    assert TaylorMap([x, px + x * px, y, py]).symplectic_error() > 0.5
    with pytest.raises(ValueError, match="even number"):
        TaylorMap(dg.Descriptor(nv=3, order=2).vars()).symplectic_error()


def test_tracking_equals_direct_evaluation_of_a_polynomial_map():
    d = dg.Descriptor(nv=4, order=3)  # kick (degree 3) then drift: exact at order 3
    M = kick_drift(d)
    rng = np.random.default_rng(7)
    pts = rng.uniform(-0.2, 0.2, (1000, 4))
    x, px, y, py = pts.T
    px1 = px - 0.3 * (x * x - y * y) + 0.2 * (x**3 - 3 * x * y * y)
    py1 = py + 0.6 * x * y - 0.2 * (3 * x * x * y - y**3)
    want = np.stack([x + 0.7 * px1, px1, y + 0.7 * py1, py1], axis=1)
    np.testing.assert_allclose(M.track(pts), want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(M(pts[0]), want[0], rtol=1e-13, atol=1e-15)
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        M.track(pts[:, :3])
    with pytest.raises(ValueError, match="finite"):
        M.track(np.full((1, 4), np.nan))


def test_tracking_with_parameters():
    d = dg.Descriptor(variables=["x", "p"], order=3, params=["k"], param_order=1)
    x, p = d.vars()
    (k,) = d.params_at()
    M = TaylorMap([x + p, p - k * x])
    np.testing.assert_allclose(M.track([[1.0, 2.0]], params=[0.5]), [[3.0, 1.5]])
    np.testing.assert_allclose(M.track([[1.0, 2.0]]), [[3.0, 2.0]])


def test_fixed_point_of_affine_and_nonlinear_maps():
    d = dg.Descriptor(nv=2, order=4)
    R = rotation(d, 1.1)
    c = np.array([0.01, -0.02])
    A = TaylorMap(R + dg.tensor(c, dtype=dg.float64))
    z = A.fixed_point()
    np.testing.assert_allclose(z, np.linalg.solve(np.eye(2) - R.linear(), c), atol=1e-15)
    x, p = d.vars()
    B = TaylorMap([R[0] + 0.003 + 0.1 * x * x, R[1] - 0.002 + 0.05 * x * p])
    z = B.fixed_point()
    np.testing.assert_allclose(B.track(z), z, atol=1e-14)


def test_save_and_load(tmp_path):
    d = dg.Descriptor(nv=4, order=4)
    M = kick_drift(d)
    M.save(tmp_path / "m.npz")
    back = dg.maps.load(tmp_path / "m.npz")
    assert isinstance(back, TaylorMap) and back.desc is d
    np.testing.assert_array_equal(back.coeffs, M.coeffs)
    dg.save(dg.tensor([1.0]), tmp_path / "t.npz")
    with pytest.raises(ValueError, match="not a saved Taylor map"):
        dg.maps.load(tmp_path / "t.npz")


def test_partial_inverse_closed_form():
    d = dg.Descriptor(nv=2, order=4)
    x, p = d.vars()
    M = TaylorMap([x + 0.3 * p * p, p + 0.5 * x])
    P = M.partial_inverse([0])  # solve y0 = x + 0.3 p² for x, keep p
    assert max_coeff(P[0] - (x - 0.3 * p * p)) < 1e-15
    assert max_coeff(P[1] - p) == 0.0
