"""ODE flow maps against scipy's solve_ivp at tight tolerances and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import truth
from scipy.integrate import solve_ivp
from scipy.linalg import expm

import diffalg as dg

# the systems of examples/ode_flows.py, states in canonical pairs (x, px, y, py)
_ode = truth.load_example("ode_flows")
pendulum, henon_heiles, kepler = _ode.pendulum, _ode.henon_heiles, _ode.kepler


def numpy_rhs(f):
    """The same right-hand side on floats (diffalg ops on float tensors)."""

    def g(t, x):
        return [float(v) if not isinstance(v, float) else v
                for v in f(t, [dg.tensor(c, dtype=dg.float64) for c in x])]  # fmt: skip

    return g


@pytest.mark.parametrize(
    "rhs,x0,t1,order",
    [
        (pendulum, [1.0, 0.0], 3.0, 6),
        (henon_heiles, [0.1, 0.2, -0.05, 0.1], 2.0, 5),
        (kepler, [1.0, 0.0, 0.0, 1.1], 2.0, 4),
    ],
    ids=["pendulum", "henon-heiles", "kepler"],
)
def test_flow_map_matches_solve_ivp_for_perturbed_starts(rhs, x0, t1, order):
    M = dg.maps.flow(rhs, x0, (0.0, t1), order=order)
    rng = np.random.default_rng(1)
    for scale in (1e-3, 1e-4):
        for delta in rng.uniform(-scale, scale, (3, len(x0))):
            ref = solve_ivp(numpy_rhs(rhs), (0.0, t1), np.add(x0, delta), method="DOP853",
                            rtol=1e-13, atol=1e-14).y[:, -1]  # fmt: skip
            # truncation ~ |δ|^(order+1) is far below the solver's own tolerance here
            np.testing.assert_allclose(M.track(delta), ref, rtol=0, atol=2e-11)
    assert M.symplectic_error() < 1e-12  # all three flows are Hamiltonian


def test_linear_flow_is_the_matrix_exponential():
    A = np.array([[0.0, 1.0], [-2.0, -0.3]])
    M = dg.maps.flow(lambda t, x: [A[0, 0] * x[0] + A[0, 1] * x[1],
                                   A[1, 0] * x[0] + A[1, 1] * x[1]], [0.5, -0.2], (0.0, 1.5),
                     order=2)  # fmt: skip
    E = expm(1.5 * A)
    np.testing.assert_allclose(M.linear(), E, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(M.constant(), E @ [0.5, -0.2], rtol=1e-13)
    assert float(np.abs(M.coeffs[:, 3:]).max()) < 1e-14  # no second-order terms


def test_time_dependent_rhs():
    # x' = t x: x(t) = x0 exp(t²/2)
    M = dg.maps.flow(lambda t, x: [t * x[0]], [2.0], (0.0, 1.0), order=3)
    assert M[0].const == pytest.approx(2 * np.exp(0.5), rel=1e-13)
    assert M[0].coeff((1,)) == pytest.approx(np.exp(0.5), rel=1e-13)


def test_flow_bad_input():
    with pytest.raises(ValueError, match="finite 1-d state"):
        dg.maps.flow(pendulum, [np.nan, 0.0], (0, 1), order=2)
    with pytest.raises(ValueError, match="returned 1 components for a state of 2"):
        dg.maps.flow(lambda t, x: [x[0]], [1.0, 0.0], (0, 1), order=2)
    with pytest.raises(ValueError, match="steps"):
        dg.maps.flow(pendulum, [1.0, 0.0], (0, 1), order=2, steps=0)
