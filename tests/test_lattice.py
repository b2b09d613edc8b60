"""Accelerator elements and lattices against closed forms.

The exact drift expanded coefficient by coefficient (binomial series done in
pure Python), thin kicks, the linear sector-bend matrix, thin-lens FODO tunes,
Twiss functions and chromaticity, symplecticity of every element, convergence of
the thick-element integrators, and map tracking against element-by-element
tracking with the error falling as amplitude^(order+1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import truth

from diffalg.maps import (
    Beam,
    Drift,
    Lattice,
    Marker,
    Multipole,
    Octupole,
    Quadrupole,
    SBend,
    Sextupole,
    UnstableLatticeError,
)  # fmt: skip

SLOW = Beam("proton", energy=1.2)  # beta0 = 0.6...: far from the ultra-relativistic limit


def element_map(e, order, beam=SLOW):
    return Lattice([e], beam).map(order=order)


def test_beam_from_energy_pc_gamma():
    b = Beam("proton", energy=1.5)
    g = 1.5 / 0.93827208816
    assert b.gamma0 == pytest.approx(g, rel=1e-15)
    assert b.beta0 == pytest.approx(math.sqrt(1 - 1 / g**2), rel=1e-14)
    assert Beam("proton", pc=b.pc).energy == pytest.approx(1.5, rel=1e-15)
    assert Beam("electron", gamma=1000).energy == pytest.approx(0.51099895, rel=1e-12)
    with pytest.raises(ValueError, match="exactly one"):
        Beam("proton", energy=2, pc=1)
    with pytest.raises(ValueError, match="below the rest energy"):
        Beam("proton", energy=0.5)
    with pytest.raises(ValueError, match="unknown particle"):
        Beam("kaon", energy=2)


def test_exact_drift_to_order_8_coefficient_by_coefficient():
    order, L, b0 = 8, 1.7, SLOW.beta0
    M = element_map(Drift(L), order)
    d = M.desc
    keep = truth.keeper(d)
    nn = 6

    def mono(i, c=1.0):
        e = [0] * nn
        e[i] = 1
        return {tuple(e): c}

    # u = 2 pt/β0 + pt² − px² − py²;  1/pz = Σ binom(−1/2, n) uⁿ
    pt, px, py = mono(5), mono(1), mono(3)
    u = truth.add(truth.add(truth.scale(pt, 2 / b0), truth.mul(pt, pt, keep)),
                  truth.add(truth.mul(px, px, keep), truth.mul(py, py, keep)), s=-1)  # fmt: skip
    inv_pz = truth.compose_univariate(
        [math.comb(2 * n, n) * (-0.25) ** n for n in range(order + 1)], u, nn, keep
    )
    x_out = truth.add(mono(0), truth.scale(truth.mul(px, inv_pz, keep), L))
    t_out = truth.add(
        truth.add(mono(4), {(0,) * nn: L / b0}),
        truth.scale(truth.mul(truth.add({(0,) * nn: 1 / b0}, pt), inv_pz, keep), -L),
    )
    truth.assert_close(M[0].coeffs, truth.dense(d, x_out), rtol=1e-13, atol=1e-15)
    truth.assert_close(M[4].coeffs, truth.dense(d, t_out), rtol=1e-13, atol=1e-14)


def test_thin_kicks_exactly():
    M = element_map(Multipole(knl=[0.0, 0.2, 0.6, -1.2], ksl=[0.0, 0.1]), 4)
    x, px, y, py, t, pt = M.desc.vars()
    w_re, w_im = x, y  # Σ (kn + i ks)(x + iy)^n / n!, Δpx = -Re, Δpy = +Im
    re = 0.2 * x - 0.1 * y + 0.3 * (x * x - y * y) - 0.2 * (x**3 - 3 * x * y * y)
    im = 0.2 * y + 0.1 * x + 0.6 * x * y - 0.2 * (3 * x * x * y - y**3)
    assert float(np.abs((M[1] - (px - re)).coeffs).max()) < 1e-15
    assert float(np.abs((M[3] - (py + im)).coeffs).max()) < 1e-15
    assert float(np.abs((M[0] - w_re).coeffs).max()) == 0.0
    assert float(np.abs((M[2] - w_im).coeffs).max()) == 0.0


def test_linear_sector_bend_matrix():
    L, angle = 2.0, 0.3
    rho = L / angle
    R = element_map(SBend(L, angle), 1).linear()
    c, s = math.cos(angle), math.sin(angle)
    np.testing.assert_allclose(R[0, :2], [c, rho * s], atol=1e-14)
    np.testing.assert_allclose(R[1, :2], [-s / rho, c], atol=1e-14)
    assert R[0, 5] == pytest.approx(rho * (1 - c) / SLOW.beta0, rel=1e-13)  # dispersion
    np.testing.assert_allclose(R[2:4, 2:4], [[1, L], [0, 1]], atol=1e-14)


@pytest.mark.parametrize(
    "element",
    [Drift(1.3), Multipole(knl=[0, 0.1, 0.5, 2.0], ksl=[0, 0.05]), Quadrupole(0.5, 1.2),
     Sextupole(0.3, 8.0), Octupole(0.3, 40.0), SBend(2.0, 0.25), Marker(),
     SBend(1.0, 0.2, e1=0.1, e2=0.05, edges=True)],
    ids=lambda e: type(e).__name__,
)  # fmt: skip
def test_every_element_map_is_symplectic(element):
    M = element_map(element, 5)
    assert M.symplectic_error() < 1e-12


def test_thin_lens_fodo_tunes_twiss_and_chromaticity():
    f, L = 5.0, 4.0
    for beam in (Beam("proton", energy=7000), SLOW):
        cell = Lattice([Multipole(knl=[0, 1 / (2 * f)]), Drift(L), Multipole(knl=[0, -1 / f]),
                        Drift(L), Multipole(knl=[0, 1 / (2 * f)])], beam)  # fmt: skip
        mu = math.acos(1 - L**2 / (2 * f**2))
        qx, qy = cell.tunes()
        assert qx == pytest.approx(mu / (2 * math.pi), rel=1e-13)
        assert qy == pytest.approx(mu / (2 * math.pi), rel=1e-13)
        tw = cell.twiss()
        s2 = math.sin(mu / 2)
        assert tw["betx"] == pytest.approx(2 * L * (1 + s2) / math.sin(mu), rel=1e-12)
        assert tw["bety"] == pytest.approx(2 * L * (1 - s2) / math.sin(mu), rel=1e-12)
        assert abs(tw["alfx"]) < 1e-12
        # thin-lens FODO: ξ = -tan(μ/2)/π per cell, in δ whatever the energy
        dqx, dqy = cell.chromaticity()
        assert dqx == pytest.approx(-math.tan(mu / 2) / math.pi, rel=1e-10)
        assert dqy == pytest.approx(-math.tan(mu / 2) / math.pi, rel=1e-10)
        dqx_pt, _ = cell.chromaticity(wrt="pt")
        assert dqx_pt == pytest.approx(dqx / beam.beta0, rel=1e-12)


def test_unstable_lattice_has_no_tune():
    f, L = 1.0, 4.0  # L > 2f: |trace/2| > 1
    cell = Lattice([Multipole(knl=[0, 1 / (2 * f)]), Drift(L), Multipole(knl=[0, -1 / f]),
                    Drift(L), Multipole(knl=[0, 1 / (2 * f)])], SLOW)  # fmt: skip
    with pytest.raises(UnstableLatticeError, match="unstable"):
        cell.tunes()
    with pytest.raises(UnstableLatticeError, match="no tune"):
        cell.twiss()


def test_unknown_element_parameters_are_refused():
    with pytest.raises(TypeError, match="k"):
        Quadrupole(L=1.0, k=2.0)
    with pytest.raises(ValueError, match="integrator order"):
        Quadrupole(1.0, 0.5, integrator=3)
    with pytest.raises(ValueError, match="angle must be nonzero"):
        SBend(1.0, 0.0)
    with pytest.raises(TypeError, match="not an element"):
        Lattice([Drift(1.0), "quad"], SLOW)


@pytest.mark.parametrize("integrator,rate", [(2, 4.0), (4, 16.0)])
def test_thick_quadrupole_converges_at_the_integrator_order(integrator, rate):
    pts = np.array([[1e-3, 2e-4, -5e-4, 1e-4, 0.0, 1e-3]])

    def out(n):
        return Lattice([Quadrupole(1.0, 0.8, slices=n, integrator=integrator)], SLOW).track(pts)

    ref = out(256)
    e1, e2 = np.abs(out(4) - ref).max(), np.abs(out(8) - ref).max()
    assert rate / 1.6 < e1 / e2 < rate * 1.6


def fodo_ring(beam, k2f=0.0, k2d=0.0):
    """The ring of ``examples/fodo_map.py`` (thick quads, sextupoles, sector bends)."""
    return truth.load_example("fodo_map").ring(k2f=k2f, k2d=k2d, beam=beam)


def test_map_tracking_error_scales_as_amplitude_to_order_plus_one():
    ring = fodo_ring(SLOW, k2f=1.5, k2d=-2.0)
    order = 3
    M = ring.map(order=order)
    rng = np.random.default_rng(0)
    direction = rng.uniform(-1, 1, (20, 6)) * [1, 0.1, 1, 0.1, 0, 1e-1]
    errs = []
    for a in (2e-3, 1e-3):
        pts = a * direction
        errs.append(np.abs(M.track(pts) - ring.track(pts)).max())
    assert 2 ** (order + 1) / 1.5 < errs[0] / errs[1] < 2 ** (order + 1) * 1.5
    assert ring.map(order=5).symplectic_error() < 1e-12


def _tunes_by_finite_differences(lat, pt, eps=1e-7):
    """Tunes of the off-momentum closed orbit from float tracking alone (no DA)."""

    def turn(u):
        return lat.track(np.array([[*u, 0.0, pt]]))[0, :4]

    def jacobian(u):
        cols = []
        for j in range(4):
            e = np.zeros(4)
            e[j] = eps
            cols.append((turn(u + e) - turn(u - e)) / (2 * eps))
        return np.array(cols).T

    u = np.zeros(4)
    for _ in range(8):  # Newton for the closed orbit u = turn(u)
        u = u - np.linalg.solve(jacobian(u) - np.eye(4), turn(u) - u)
    J = jacobian(u)
    q = []
    for i in (0, 2):
        mu = math.acos((J[i, i] + J[i + 1, i + 1]) / 2)
        q.append((mu if J[i, i + 1] > 0 else 2 * math.pi - mu) / (2 * math.pi))
    return np.array(q)


def test_chromaticity_agrees_with_tunes_of_tracked_off_momentum_orbits():
    lat = fodo_ring(SLOW, k2f=1.5, k2d=-2.0)
    h = 1e-4
    fd = (_tunes_by_finite_differences(lat, h) - _tunes_by_finite_differences(lat, -h)) / (2 * h)
    np.testing.assert_allclose(lat.chromaticity(wrt="pt"), fd, rtol=1e-5)


def test_chromaticity_correction_example_hits_its_target(capsys):
    r = truth.load_example("chromaticity_correction").main(target=(0.5, -0.2))
    capsys.readouterr()
    assert np.all(r["natural"] < 0)  # a FODO ring's natural chromaticity
    np.testing.assert_allclose(r["corrected"], [0.5, -0.2], atol=1e-9)
