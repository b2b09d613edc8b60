"""Chromaticities on the tape (``Lattice.chromaticity(tensor=True)``), knobs in
``Lattice.tunes_vs_pt(desc=...)``, and the sextupole optimisation of
``examples/optimise_ring.py``."""

import math

import numpy as np
import pytest
import truth

import diffalg as dg
from diffalg.maps import COORDS, TaylorMap

fodo = truth.load_example("fodo_map")
opt = truth.load_example("optimise_ring")
P0 = np.array([0.6, 1.5, -2.0])  # k1, k2f, k2d of fodo_map.ring


def _ring(p, cells=8):
    k1, k2f, k2d = p
    return fodo.ring(cells=cells, k1=k1, k2f=k2f, k2d=k2d)


def test_chromaticity_gradient_tape_knobs_differences_and_linear_response(capsys):
    """``∂ξ/∂(k1, k2f, k2d)`` four ways.  The quadrupole's ``k1`` changes the matrix
    that ``tunes_vs_pt`` keeps fixed (off the tape) in its closed-orbit passes; the
    knobs and the differences show the gradient is exact all the same (with a single
    pass the value would still be right but ∂(dQx/dpt)/∂k1 wrong: 5.15 instead of 7.82
    at 4 cells; the passes are two or more)."""
    ps = [dg.tensor(v, dtype=dg.float64, requires_grad=True) for v in P0]
    xi = _ring(ps).chromaticity(tensor=True)
    tape = np.stack([dg.stack(dg.autograd.grad(xi[i], ps, retain_graph=True)).numpy()
                     for i in range(2)])  # fmt: skip
    # the float API is unchanged and agrees with the tensor
    np.testing.assert_allclose(xi.detach().numpy(), _ring(P0).chromaticity(), rtol=1e-14)
    # forward mode: the strengths as knobs; ∂ξ/∂k = β0 × the coefficient of pt·k
    d = dg.Descriptor(variables=list(COORDS), params=["k1", "k2f", "k2d"], order=3,
                      param_order=1)  # fmt: skip
    lat = _ring([v + k for v, k in zip(P0, d.params_at([0.0] * 3), strict=True)])
    unit = [tuple(u) for u in np.eye(3, dtype=int)]
    knob = np.array([[q.coeff((0, 0, 0, 0, 0, 1) + u) for u in unit]
                     for q in lat.tunes_vs_pt(desc=d)]) * lat.beam.beta0  # fmt: skip
    np.testing.assert_allclose(tape, knob, rtol=1e-10, atol=1e-13)
    # central differences of the float API
    h = 1e-6
    fd = np.stack([(np.array(_ring(P0 + h * e).chromaticity())
                    - np.array(_ring(P0 - h * e).chromaticity())) / (2 * h)
                   for e in np.eye(3)], axis=1)  # fmt: skip
    np.testing.assert_allclose(tape, fd, rtol=1e-7, atol=1e-8)
    # chromaticity is linear in k2: the secant response of chromaticity_correction
    A = truth.load_example("chromaticity_correction").main()["response"]
    capsys.readouterr()
    np.testing.assert_allclose(tape[:, 1:], A, rtol=1e-12)  # 3e-15 measured


def test_knobs_need_an_order_for_pt_times_knob():
    """The tunes in a knob descriptor are series in pt and the knobs together."""
    d = dg.Descriptor(variables=list(COORDS), params=["k2f"], order=3, param_order=1)
    lat = fodo.ring(cells=4, k2f=1.5 + d.params_at([0.0])[0])
    qx, _ = lat.tunes_vs_pt(desc=d)
    # without knobs, the same lattice's chromaticity and tune: the knob-free coefficients
    plain = fodo.ring(cells=4).tunes_vs_pt(2)
    for e in [(0,) * 6, (0, 0, 0, 0, 0, 1), (0, 0, 0, 0, 0, 2)]:
        assert qx.coeff(e + (0,)) == pytest.approx(plain[0].coeff(e), rel=1e-12, abs=1e-14)
    with pytest.raises(ValueError, match=r"order must lie in \[1, desc.order - 1 = 2\]"):
        lat.tunes_vs_pt(3, desc=d)
    with pytest.raises(ValueError, match="needs 6 variables"):
        lat.tunes_vs_pt(desc=dg.Descriptor(nv=4, order=3))


def test_gradient_of_a_chromaticity_without_gradients_is_an_error():
    xi = fodo.ring(cells=4).chromaticity(tensor=True)  # float strengths: nothing on the tape
    assert not xi.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        xi.sum().backward()


def test_example_ring_with_its_harmonic_sextupoles_off_is_the_fodo_map_ring():
    ours = opt.ring([1.5, -2.0, 0.0, 0.0], cells=4).map(order=2)
    theirs = fodo.ring(cells=4, k2f=1.5, k2d=-2.0).map(order=2)
    np.testing.assert_allclose(ours.coeffs, theirs.coeffs, rtol=0, atol=1e-12)


def _normalised_map(M, A):
    """``A ∘ M ∘ A⁻¹`` by composing Taylor maps (t and pt untouched)."""
    B = np.eye(6)
    B[:4, :4] = A
    ident = M.desc.vars()

    def linear(m):
        return TaylorMap([sum(m[i, j] * ident[j] for j in range(6)) for i in range(6)])

    return linear(B) @ M @ linear(np.linalg.inv(B))


def test_normalised_coordinates_and_the_objective():
    """``A`` turns the linear one-turn map into rotations by ``2πQ``; the objective is
    ``Σ_ijk T̂_ijk²`` of the normalised map's TRANSPORT table, whatever the phase."""
    lat = opt.ring([0.9, -1.4, 0.3, -0.2], cells=4)
    A = opt.normalising_matrix(lat)
    M = lat.map(order=2)
    N = _normalised_map(M, A)
    R = N.linear()
    for i, q in zip((0, 2), lat.tunes(), strict=True):
        c, s = math.cos(2 * math.pi * q), math.sin(2 * math.pi * q)
        np.testing.assert_allclose(R[i : i + 2, i : i + 2], [[c, s], [-s, c]], atol=1e-12)
    T = N.tables(2)[1][:4, :4, :4]
    want = float((T**2).sum())
    with dg.no_grad():
        assert float(opt.objective(lat, A)) == pytest.approx(want, rel=1e-13)
        # another phase of the normalised coordinates: rotations in each plane
        rot = np.zeros((4, 4))
        for i, a in ((0, 0.7), (2, -1.9)):
            rot[i : i + 2, i : i + 2] = [[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]
        assert float(opt.objective(lat, rot @ A)) == pytest.approx(want, rel=1e-12)


def test_optimise_ring_example_checks_its_gradients_and_reaches_its_targets(capsys):
    r = opt.main(cells=4, plot=False)
    capsys.readouterr()
    c = r["checks"]
    assert c["f_vs_knob"] < 1e-12 and c["xi_vs_knob"] < 1e-12  # forward mode: round-off
    assert c["f_vs_fd"] < 1e-7 and c["xi_vs_fd"] < 1e-7  # central differences, step 1e-6
    assert r["success"]
    # on target, by the float API (not the tape's tensor the example steered by)
    xi = opt.ring(list(r["k2"]), cells=4).chromaticity()
    np.testing.assert_allclose(xi, r["target"], atol=1e-8)
    # holding the chromaticities, the aberrations fall by more than 2.5 (47.9 -> 16.2)
    assert r["objective"] < r["objective_corrected"] / 2.5
    # and the optimum is stationary: central differences along the two directions that
    # keep the chromaticities (k2 = k + t·n), in the float path
    A = opt.normalising_matrix(opt.ring(r["start"], cells=4))
    null = np.linalg.svd(r["checks"]["jac_xi"])[2][2:]

    def f(k):
        with dg.no_grad():
            return float(opt.objective(opt.ring(list(k), cells=4), A))

    h = 1e-5
    slopes = [(f(r["k2"] + h * n) - f(r["k2"] - h * n)) / (2 * h) for n in null]
    assert max(abs(s) for s in slopes) < 1e-4 * r["objective"]
