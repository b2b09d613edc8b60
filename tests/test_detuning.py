"""Amplitude detuning from the one-turn map, against closed forms and Xsuite's xtrack.

The frequency analysis on signals of known frequency; a thin octupole in a
linear ring against first-order perturbation theory; invariance under moving
the closed orbit; linear tunes of rings with equal tunes and with coupling;
xtrack's ``Line.get_amplitude_detuning_coefficients`` on a ring with
sextupoles and an octupole; and the errors for bad input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from diffalg import Descriptor
from diffalg.maps import Beam, Drift, Lattice, Multipole, TaylorMap, UnstableLatticeError
from diffalg.maps.detuning import amplitude_detuning, amplitude_tunes, linear_normal_form, tune
from diffalg.ops import series

KEYS = ("det_xx", "det_xy", "det_yx", "det_yy")
TEV = Beam("proton", energy=7000)


def octupole_ring(k3l):
    """Four thin-lens cells, Qx = 0.232, Qy = 0.348 (no low-order resonance near), and a
    thin octupole at the start, where αx = −1.53, αy = 0.64 (not a symmetry point)."""
    cell = [Multipole(knl=[0, 0.11]), Drift(4.0), Multipole(knl=[0, -0.12]), Drift(4.0)]
    return Lattice([Multipole(knl=[0, 0, 0, k3l])] + cell * 4, TEV)


def test_tune_of_known_frequencies():
    n = np.arange(2048)
    nu = 0.3127
    # quasi-periodic: the main line, two weaker ones and a constant
    z = (np.exp(2j * np.pi * (nu * n + 0.1)) + 0.2 * np.exp(2j * np.pi * (0.13 * n + 0.3))
         + 0.1 * np.exp(-2j * np.pi * 0.05 * n) + 0.05)  # fmt: skip
    assert abs(tune(z) - nu) < 1e-10
    # one line: exact but for rounding, whatever its phase
    assert abs(tune(3.0 * np.exp(2j * np.pi * 0.123456789 * n + 1.0)) - 0.123456789) < 1e-14
    # a real signal cannot tell q from 1 - q: the answer is in [0, 1/2]
    x = np.cos(2 * np.pi * 0.7654 * n + 0.3) + 0.1 * np.cos(2 * np.pi * 2 * 0.7654 * n)
    assert abs(tune(x) - (1 - 0.7654)) < 1e-10
    assert abs(tune(-1j * np.exp(-2j * np.pi * 0.25 * n)) - 0.75) < 1e-14


def test_tune_error_falls_as_turns_to_the_fourth():
    """Laskar: with a Hann window another line shifts the peak by O(1/N⁴).  The shift
    oscillates with N (the other line's phase at the window's ends), so its envelope
    over 16 consecutive N (more than 1/Δf = 14 turns) is compared."""

    def envelope(N0):
        errs = []
        for N in range(N0, N0 + 16):
            n = np.arange(N)
            z = np.exp(2j * np.pi * 0.31 * n) + 0.2 * np.exp(-2j * np.pi * 0.62 * n)
            errs.append(abs(tune(z) - 0.31))
        return max(errs)

    e = [envelope(N0) for N0 in (200, 400, 800)]
    assert 14 < e[0] / e[1] < 18 and 14 < e[1] / e[2] < 18


def test_linear_normal_form_of_a_matrix_built_from_its_modes():
    """``R = A0 · rotations(q) · A0⁻¹`` with ``A0 = exp(S H)`` symplectic (``H``
    symmetric, small enough that each mode stays mostly in its plane): the tunes
    come back, and the ``A`` found is symplectic and turns ``R`` into the rotations
    (``A`` itself is free up to a rotation of each mode)."""
    from scipy.linalg import block_diag, expm  # noqa: PLC0415

    rng = np.random.default_rng(1)
    for n in (2, 3):
        form = np.kron(np.eye(n), [[0.0, 1.0], [-1.0, 0.0]])
        H = rng.normal(size=(2 * n, 2 * n)) * 0.2
        A0 = expm(form @ (H + H.T))
        q = np.array([0.31, 0.17, 0.02][:n])
        c, s = np.cos(2 * np.pi * q), np.sin(2 * np.pi * q)
        rot = block_diag(*[[[c[k], s[k]], [-s[k], c[k]]] for k in range(n)])
        R = A0 @ rot @ np.linalg.inv(A0)
        A, found = linear_normal_form(R)
        np.testing.assert_allclose(found, q, atol=1e-12)
        np.testing.assert_allclose(A.T @ form @ A, form, atol=1e-12)
        np.testing.assert_allclose(np.linalg.solve(A, R @ A), rot, atol=1e-12)


def test_thin_octupole_detuning_against_first_order_perturbation_theory():
    """The thin octupole kicks by ``Δpx − iΔpy = −K3L (x + iy)³/6``, i.e. ``Δp = −∇V``
    with ``V = K3L (x⁴ − 6x²y² + y⁴)/24``: ``∂V/∂x = K3L (x³ − 3xy²)/6`` and
    ``−∂V/∂y = K3L (3x²y − y³)/6``, MAD-X's kick.  With ``x = sqrt(2 Jx βx) cos φx``
    (``(φ, J)`` canonical, ``dφ/ds = ∂H/∂J``) the kick adds ``V`` to the one-turn
    Hamiltonian; averaged over the phases (``<cos⁴> = 3/8``, ``<cos²> = 1/2``)

        <V> = K3L (βx² Jx²/16 − βx βy Jx Jy/4 + βy² Jy²/16),

    and ``2π ΔQ = ∂<V>/∂J`` gives ``dQx/dJx = K3L βx²/(16π)``,
    ``dQy/dJy = K3L βy²/(16π)`` and ``dQx/dJy = dQy/dJx = −K3L βx βy/(8π)``, exact
    at ``J → 0`` (the octupole's second order is ``O(K3L² J²)`` in the tunes).  The
    ring's exact drifts detune too (``(px² + py²)²/8`` in their Hamiltonian,
    ``~0.03 /m``); with no cubic terms in the Hamiltonian the quartic ones add, so
    the ring without the octupole is subtracted.  Tolerance: the slopes carry the
    frequency error (~1e-13 at 2048 turns) over tune shifts of 1e-6 to 1e-5 at
    ``jmax``, and a bias of order the tune shift squared: about 1e-7 relative; 1e-6
    is asserted (4e-8 seen).
    """
    k3l = 50.0
    tw = octupole_ring(k3l).twiss()
    bx, by = tw["betx"], tw["bety"]
    assert abs(tw["alfx"]) > 1 and abs(tw["alfy"]) > 0.5
    cross = -k3l * bx * by / (8 * math.pi)
    exact = {"det_xx": k3l * bx**2 / (16 * math.pi), "det_yy": k3l * by**2 / (16 * math.pi),
             "det_xy": cross, "det_yx": cross}  # fmt: skip
    base = amplitude_detuning(octupole_ring(0.0), order=4)
    det = amplitude_detuning(octupole_ring(k3l), order=4)
    for k in KEYS:
        assert det[k] - base[k] == pytest.approx(exact[k], rel=1e-6), k
    np.testing.assert_allclose([det["qx"], det["qy"]], octupole_ring(k3l).tunes(), atol=1e-12)
    # a linear fit leaves the curvature in the slopes: its bias is about curvature / jmax
    lin = amplitude_detuning(octupole_ring(k3l), order=4, degree=1)
    bias = max(abs(lin[k] - base[k] - exact[k]) for k in KEYS)
    assert 0.3 * det["curvature"] / 1e-8 < bias < 3 * det["curvature"] / 1e-8
    assert lin["residual"] > 100 * det["residual"]


def test_detuning_about_a_closed_orbit_off_the_axis():
    """``M'(z) = M(z − c) + c`` is ``M`` moved to the fixed point ``c``: the same tunes
    at every action.  A polynomial moved is a polynomial of the same degree, so ``M'``
    is exact in the truncated algebra."""
    M = octupole_ring(50.0).map(order=5)
    d = M.desc
    c = np.array([1e-3, -2e-4, 5e-4, 1e-4, 0.0, 0.0])
    v = d.vars()
    shifted = [series.compose(M[i], *[v[j] - c[j] for j in range(6)]) + c[i] for i in range(6)]
    moved = TaylorMap(shifted)
    assert np.abs(moved.constant()).max() > 1e-4
    a, b = amplitude_detuning(M), amplitude_detuning(moved)
    for k in KEYS:
        assert b[k] == pytest.approx(a[k], rel=1e-7), k
    np.testing.assert_allclose([b["qx"], b["qy"]], [a["qx"], a["qy"]], atol=1e-12)


def test_tunes_at_given_actions_follow_the_first_order_law():
    """``Q(J) = Q0 + (dQ/dJ) J`` with the closed-form slopes of the octupole (see above)
    and the linear tunes, up to the drifts' detuning (~0.03 /m × 3e-9 m = 1e-10) and the
    second order (``O(K3L² J²)``, 1e-10 at 3e-9 m) against tune shifts of 2e-7 to 2e-6."""
    k3l = 50.0
    ring = octupole_ring(k3l)
    tw = ring.twiss()
    bx, by = tw["betx"], tw["bety"]
    slopes = k3l / (16 * math.pi) * np.array([[bx**2, -2 * bx * by], [-2 * bx * by, by**2]])
    J = np.array([[2e-9, 1e-9], [1e-9, 3e-9], [3e-9, 3e-9]])
    Q = amplitude_tunes(ring, J, order=4)
    expected = np.array([tw["qx"], tw["qy"]]) + J @ slopes
    assert np.abs(Q - expected).max() < 3e-10
    assert np.abs(Q - np.array([tw["qx"], tw["qy"]])).min() > 2e-7


def test_small_amplitude_tunes_with_equal_or_coupled_tunes():
    """Tracking plus frequency analysis at tiny actions against the linear tunes: of a
    symmetric FODO ring (Qx = Qy, one double eigenvalue: ``Lattice.tunes`` from the
    traces), and of a ring coupled by a skew quadrupole (the eigenvalue phases of the
    one-turn matrix, each mode's the one nearest its uncoupled tune)."""
    fodo = [Multipole(knl=[0, 0.1]), Drift(4.0), Multipole(knl=[0, -0.2]), Drift(4.0),
            Multipole(knl=[0, 0.1])]  # fmt: skip
    ring = Lattice(fodo * 4, TEV)
    assert abs(ring.tunes()[0] - ring.tunes()[1]) < 1e-12
    Q = amplitude_tunes(ring, [[1e-14, 1e-14]], order=3, turns=512)[0]
    np.testing.assert_allclose(Q, ring.tunes(), atol=1e-10)
    uncoupled = octupole_ring(0.0).tunes()
    ring = Lattice([Multipole(ksl=[0, 0.02])] + octupole_ring(0.0).elements, TEV)
    phases = np.angle(np.linalg.eigvals(ring.map(order=1).linear()[:4, :4])) / (2 * np.pi) % 1
    expected = [phases[np.argmin(np.abs(phases - q))] for q in uncoupled]
    assert np.abs(np.subtract(expected, uncoupled)).min() > 1e-3  # visibly coupled
    Q = amplitude_tunes(ring, [[1e-14, 1e-14]], order=3, turns=512)[0]
    np.testing.assert_allclose(Q, expected, atol=1e-10)


def test_against_xtrack_with_sextupoles_and_an_octupole():
    """xtrack tracks element by element (8th-order Yoshida magnets, exact drifts and
    bends) and takes each tune from a real ``x(n)`` signal (nafflib), for a particle
    at one phase, as a difference quotient between two amplitudes.  Its tunes come
    from real signals, so they are folded into [0, 1/2]: for a fractional tune above
    1/2 it reports ``d(1 − Q)/dJ`` (both tunes here are above 1/2).  Starting at one
    phase biases its slopes by the sextupoles' ``O(J^{3/2})`` action terms: 1e-3
    relative at 0.1–0.2 σ (its default), 1e-4 at the 0.01–0.02 σ used here, where its
    frequency error is still 1e-5 relative to the tune shifts.  Measured: its slopes
    approach ours in proportion to the amplitude (``det_xx``, ``det_yx``: 6.5e-4 at
    0.1 σ, 1.3e-4 at 0.02 σ, 6e-5 at 0.01 σ; ``det_xy``, ``det_yy``: 7e-5 to 4e-6);
    asserted: 3e-4."""
    pytest.importorskip("nafflib")
    pytest.importorskip("xtrack")
    from test_lattice_peer import ours, ring_spec  # noqa: PLC0415 - needs xtrack

    from diffalg.testing.accel_peer import (  # noqa: PLC0415
        _build_elements,
        _context,
        _import_xtrack,
        _reference,
    )

    spec = ring_spec(2.0, -4.0, 1.0)
    spec["elements"] = [{"type": "multipole", "knl": [0.0, 0.0, 0.0, 20.0]}] + spec["elements"]
    lat = ours(spec)
    det = amplitude_detuning(lat)
    xt = _import_xtrack()
    mass_ev, charge = _reference(spec)
    line = xt.Line(elements=_build_elements(xt, spec["elements"], 0.05))
    line.particle_ref = xt.Particles(mass0=mass_ev, q0=charge, energy0=spec["energy_gev"] * 1e9)
    line.build_tracker(_context=_context())
    peer = line.get_amplitude_detuning_coefficients(
        nemitt_x=1e-6, nemitt_y=1e-6, num_turns=512, a0_sigmas=0.001, a1_sigmas=0.01,
        a2_sigmas=0.02,
    )  # fmt: skip
    qx, qy = lat.tunes()
    fold = {"x": 1.0 if qx < 0.5 else -1.0, "y": 1.0 if qy < 0.5 else -1.0}
    for k in KEYS:
        assert fold[k[4]] * peer[k] == pytest.approx(det[k], rel=3e-4), k


def test_bad_input_is_refused():
    ring = octupole_ring(50.0)
    with pytest.raises(TypeError, match="Lattice or a TaylorMap"):
        amplitude_detuning(np.eye(6))
    with pytest.raises(ValueError, match="6 coordinates"):
        amplitude_detuning(TaylorMap(Descriptor(nv=4, order=4).vars()))
    with pytest.raises(ValueError, match="order >= 3"):
        amplitude_detuning(ring, order=2)
    with pytest.raises(ValueError, match="order >= 3"):
        amplitude_detuning(ring.map(order=2))
    f, L = 1.0, 4.0  # L > 2f: |trace/2| > 1
    unstable = Lattice([Multipole(knl=[0, 1 / (2 * f)]), Drift(L), Multipole(knl=[0, -1 / f]),
                        Drift(L), Multipole(knl=[0, 1 / (2 * f)])], TEV)  # fmt: skip
    with pytest.raises(UnstableLatticeError, match="horizontal motion is unstable"):
        amplitude_detuning(unstable, order=3)
    with pytest.raises(ValueError, match=r"lost after \d+ turns"):
        amplitude_detuning(ring, jmax=1e-3, order=4)
    with pytest.raises(ValueError, match="positive in both planes"):
        amplitude_tunes(ring, [[1e-9, 0.0]], order=3)
    with pytest.raises(ValueError, match=r"shape \(K, 2\)"):
        amplitude_tunes(ring, [1e-9, 1e-9], order=3)
    with pytest.raises(ValueError, match="jmax"):
        amplitude_detuning(ring, jmax=-1.0)
    with pytest.raises(ValueError, match="degree"):
        amplitude_detuning(ring, degree=3)
    with pytest.raises(ValueError, match="at least 16"):
        tune(np.ones(8))
    with pytest.raises(ValueError, match="zero"):
        tune(np.zeros(64))
    with pytest.raises(ValueError, match="NaN"):
        tune(np.full(64, np.nan))
