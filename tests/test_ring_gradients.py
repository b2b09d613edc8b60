"""Gradients of a ring's map and chromaticities through the tape, and an optimisation."""

import numpy as np
import pytest
import truth

import diffalg as dg

rg = truth.load_example("ring_gradients")
START = np.array([1.5, -2.0, 1.5, -2.0])


def test_chromaticity_gradient_is_the_linear_response():
    """Chromaticity is linear in sextupole strengths (through the dispersion), so the
    tape's gradient at one point equals the secant over a whole unit step."""
    ks = [dg.tensor(v, dtype=dg.float64, requires_grad=True) for v in START]
    xi = rg.chromaticity(rg.ring(ks, cells=4))
    jac = np.stack([dg.stack(dg.autograd.grad(xi[p], ks, retain_graph=True)).numpy()
                    for p in range(2)])  # fmt: skip
    base = np.array(rg.ring(list(START), cells=4).chromaticity())
    for i in range(4):
        step = START.copy()
        step[i] += 1.0
        secant = np.array(rg.ring(list(step), cells=4).chromaticity()) - base
        np.testing.assert_allclose(jac[:, i], secant, rtol=1e-9, atol=1e-9)
    # the float API and the tape's tensor agree on the value
    np.testing.assert_allclose(xi.detach().numpy(), base, rtol=1e-13)


def test_example_gradients_three_ways_and_the_optimum(capsys):
    r = rg.main(cells=4, maxiter=30)
    capsys.readouterr()
    c = r["checks"]
    assert c["T_vs_knob"] < 1e-12  # forward mode through DA parameters: round-off only
    assert c["T_vs_fd"] < 1e-7  # central differences, step 1e-6
    assert c["xi_vs_fd"] < 1e-7
    assert r["success"]
    # the constraints hold (the float API, checked against xtrack in test_lattice_peer)
    xi = rg.ring(list(r["k2"]), cells=4).chromaticity()
    np.testing.assert_allclose(xi, [1.0, 1.0], atol=1e-8)
    assert r["objective"] < 0.5 * r["objective_start"]
    # the objective is the sum of squares of the map's coefficients at the optimum
    M = rg.ring(list(r["k2"]), cells=4).map(order=2)
    direct = sum(M[i].coeff(e) ** 2 for i, e in rg.ABERRATIONS)
    assert r["objective"] == pytest.approx(direct, rel=1e-12)


def test_gradient_of_a_map_built_without_gradients_is_an_error():
    ks = [dg.tensor(v, dtype=dg.float64) for v in START]  # no requires_grad
    t = rg.aberrations(rg.ring(ks, cells=4))
    with pytest.raises(RuntimeError, match="does not require grad"):
        t.sum().backward()
