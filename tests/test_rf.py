"""RF cavities: the kick, its map, and synchrotron motion in a ring.

The kick and its Taylor coefficients against the closed form
``Δpt = (q V / P0 c) sin(2π lag − 2π f t / c)``, particles tracked through thin
and thick cavities against Xsuite's xtrack, symplecticity, and the synchrotron
tune of a ring against the exact 2x2 result for a drift, against xtrack's 6-d
twiss and against the small-amplitude formula
``Qs = sqrt(−h q V η cos(2π lag) / (2π β0² E0))``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from diffalg.maps import Beam, Drift, Lattice, RFCavity
from diffalg.maps.beam import C_LIGHT, PARTICLES

SLOW = Beam("proton", energy=1.2)  # beta0 = 0.62
ELECTRON = Beam("electron", energy=0.003)  # beta0 = 0.985, negative charge


def closed_form_kick(z, cav, beam):
    """``pt`` after a thin cavity, one particle at a time in plain floats."""
    phase = 2 * math.pi * cav.lag - 2 * math.pi * cav.freq * 1e6 * z[4] / C_LIGHT
    return z[5] + beam.charge * cav.volt * 1e-3 / beam.pc * math.sin(phase)


@pytest.mark.parametrize("beam", [SLOW, ELECTRON], ids=["proton", "electron"])
def test_thin_kick_against_its_closed_form(beam):
    cav = RFCavity(volt=0.8, freq=35.0, lag=0.13)
    rng = np.random.default_rng(3)
    z = rng.normal(size=(7, 6)) * [1e-3, 1e-3, 1e-3, 1e-3, 0.5, 1e-3]
    out = Lattice([cav], beam).track(z)
    np.testing.assert_array_equal(out[:, :5], z[:, :5])  # only the energy changes
    want = [closed_form_kick(p, cav, beam) for p in z]
    np.testing.assert_allclose(out[:, 5], want, rtol=1e-15, atol=1e-17)


def test_kick_taylor_coefficients_in_t():
    """``pt`` of the map: ``S Σ_n (−ω)ⁿ sin(φ + nπ/2) tⁿ / n!``, and nothing else moves."""
    cav, order = RFCavity(volt=2.0, freq=120.0, lag=0.3), 8
    M = Lattice([cav], SLOW).map(order=order)
    strength = cav.volt * 1e-3 / SLOW.pc
    omega, phi = 2 * math.pi * cav.freq * 1e6 / C_LIGHT, 2 * math.pi * cav.lag
    for n in range(order + 1):
        want = strength * (-omega) ** n * math.sin(phi + n * math.pi / 2) / math.factorial(n)
        got = M[5].coeff((0, 0, 0, 0, n, 0))
        assert got == pytest.approx(want, rel=1e-13, abs=1e-300), n
    assert M[5].coeff((0, 0, 0, 0, 0, 1)) == 1.0
    rest = M[5] - M[5].truncate(0) - M.desc.var(5)
    t_only = sum(M[5].coeff((0, 0, 0, 0, n, 0)) * M.desc.var(4) ** n for n in range(1, order + 1))
    assert float(np.abs((rest - t_only).coeffs).max()) < 1e-18
    for i in range(5):
        assert float(np.abs((M[i] - M.desc.var(i)).coeffs).max()) == 0.0


@pytest.mark.parametrize("L", [0.0, 0.7], ids=["thin", "thick"])
def test_cavity_map_is_symplectic(L):
    M = Lattice([RFCavity(1.5, 80.0, 0.1, L=L)], SLOW).map(order=6)
    assert M.symplectic_error() < 1e-12


def test_bad_parameters_are_refused():
    with pytest.raises(TypeError, match="phase"):
        RFCavity(1.0, 10.0, phase=0.2)
    with pytest.raises(TypeError, match="volt"):
        RFCavity(freq=10.0)
    with pytest.raises(ValueError, match="freq must be positive"):
        RFCavity(1.0, 0.0)
    with pytest.raises(ValueError, match="volt must be a finite number"):
        RFCavity(float("nan"), 10.0)
    with pytest.raises(ValueError, match="lag must be a finite number"):
        RFCavity(1.0, 10.0, lag="0.5")
    with pytest.raises(ValueError, match="L must be >= 0"):
        RFCavity(1.0, 10.0, L=-0.1)


def _eigen_tunes(R):
    """Fractional eigen-tunes in ``[0, 0.5]`` of a stable 6x6 matrix, in the order x, y, z.

    Each conjugate pair ``e^{±2πiQ}`` is given to the plane whose diagonal 2x2 block has
    the nearest ``trace/2`` (weak coupling: the blocks' traces are close to ``2 cos 2πQ``).
    """
    w = np.linalg.eigvals(R)
    np.testing.assert_allclose(np.abs(w), 1.0, atol=1e-12)  # stable: all on the unit circle
    q = np.sort(np.angle(w[w.imag > 0])) / (2 * math.pi)
    half_traces = [np.trace(R[2 * k : 2 * k + 2, 2 * k : 2 * k + 2]) / 2 for k in range(3)]
    plane = [int(np.argmin(np.abs(np.cos(2 * math.pi * q) - c))) for c in half_traces]
    assert sorted(plane) == [0, 1, 2], (q, half_traces)
    return [float(q[i]) for i in plane]


def _folded(q):
    q = q % 1.0
    return min(q, 1.0 - q)


def test_drift_and_cavity_synchrotron_tune_exactly():
    """A drift of length ``C`` and a cavity: ``cos 2πQs = 1 − a R56 / 2`` exactly,
    ``R56 = C / (β0 γ0)²`` (the drift's ``∂t/∂pt``), ``a = (qV/P0c) ω cos 2π lag``."""
    C, V, h, beam = 30.0, 0.3, 5, SLOW
    f = h * beam.beta0 * C_LIGHT / C / 1e6
    lat = Lattice([Drift(C), RFCavity(V, f)], beam)
    R = lat.map(order=1).linear()
    a = V * 1e-3 / beam.pc * (2 * math.pi * f * 1e6 / C_LIGHT)
    r56 = C / (beam.beta0 * beam.gamma0) ** 2
    np.testing.assert_allclose(R[4:, 4:], [[1, r56], [-a, 1 - a * r56]], rtol=1e-14)
    qs = math.acos(1 - a * r56 / 2) / (2 * math.pi)
    w = np.linalg.eigvals(R[4:, 4:])
    assert np.abs(np.angle(w)).max() / (2 * math.pi) == pytest.approx(qs, rel=1e-12)
    # the same drift with the phase of the other side of transition is unstable
    R = Lattice([Drift(C), RFCavity(V, f, lag=0.5)], beam).map(order=1).linear()
    assert np.abs(np.linalg.eigvals(R[4:, 4:])).max() > 1.1


@pytest.fixture(scope="module")
def peer():
    pytest.importorskip("xtrack")
    from test_lattice_peer import ours, ring_spec  # the ring that test checks with xtrack

    from diffalg.testing import accel_peer

    return accel_peer, ours, ring_spec


@pytest.mark.parametrize("L,charge", [(0.0, 1), (0.7, 1), (0.7, -1)],
                         ids=["thin", "thick", "thick-negative-charge"])  # fmt: skip
def test_tracking_through_a_cavity_agrees_with_xtrack(peer, L, charge):
    accel_peer, _, _ = peer
    mass = 0.93827208816
    spec = {"mass_gev": mass, "charge": charge, "energy_gev": 1.2,
            "elements": [{"type": "rfcavity", "volt": 0.8, "freq": 30.0, "lag": 0.13, "L": L},
                         {"type": "drift", "L": 1.5}]}  # fmt: skip
    beam = Beam("ion", energy=1.2, mass=mass, charge=charge)
    lat = Lattice([RFCavity(0.8, 30.0, 0.13, L=L), Drift(1.5)], beam)
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 6)) * [1e-3, 1e-3, 1e-3, 1e-3, 0.3, 1e-3]
    np.testing.assert_allclose(lat.track(z), accel_peer.peer_track(spec, z), rtol=1e-13,
                               atol=1e-16)  # fmt: skip


def _ring_with_cavity(peer, energy, lag, h, volt):
    _, ours, ring_spec = peer
    # our proton mass, so that the harmonic number is an integer for both codes
    spec = {**ring_spec(2.0, -4.0, energy), "mass_gev": PARTICLES["proton"][0], "charge": 1}
    base = ours(spec)
    freq = h * base.beam.beta0 * C_LIGHT / base.length / 1e6
    lat = Lattice(base.elements + [RFCavity(volt, freq, lag)], base.beam)
    cav = {"type": "rfcavity", "volt": volt, "freq": freq, "lag": lag}
    return lat, {**spec, "elements": spec["elements"] + [cav]}


@pytest.mark.parametrize(
    "energy,lag,h,volt",
    [(1.0, 0.0, 4, 0.5), (10.0, 0.5, 8, 5.0)],
    ids=["below-transition", "above-transition"],
)
def test_ring_synchrotron_tune_agrees_with_xtrack_and_formula(peer, energy, lag, h, volt):
    accel_peer = peer[0]
    lat, spec = _ring_with_cavity(peer, energy, lag, h, volt)
    M = lat.map(order=3)
    assert M.symplectic_error() < 1e-12
    qx, qy, qs = _eigen_tunes(M.linear())
    ref = accel_peer.peer_ring_6d(spec)
    # measured: 6e-11 and 2e-12 in qs, 3e-11 in qx and qy
    assert qs == pytest.approx(ref["qs"], abs=3e-10)
    assert qx == pytest.approx(_folded(ref["qx"]), abs=2e-10)
    assert qy == pytest.approx(_folded(ref["qy"]), abs=2e-10)
    # small amplitude, smooth approximation; the synchro-betatron coupling through the
    # dispersion at the cavity and cos(2πQs) ≈ 1 − (2πQs)²/2 leave a few 1e-3
    b = lat.beam
    eta = ref["slip_factor"]
    assert eta * math.cos(2 * math.pi * lag) < 0  # the stable side of transition
    formula = math.sqrt(-h * volt * 1e-3 * eta * math.cos(2 * math.pi * lag)
                        / (2 * math.pi * b.beta0**2 * b.energy))  # fmt: skip
    assert qs == pytest.approx(formula, rel=1e-2)
