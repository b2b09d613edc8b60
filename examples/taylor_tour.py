"""A short tour of diffalg's DA numbers.

Each section prints what it computes next to a value known in closed form:

1. a descriptor with named variables and a parameter (a "knob");
2. elementary functions of DA numbers: the pendulum Hamiltonian;
3. the DA operators ``deriv`` and ``integ``: Hamilton's equations;
4. composition (substituting series for variables): ``log(1 + (e^t - 1)) = t``;
5. evaluation of a series at many points at once;
6. truncation to a lower order;
7. a save/load round trip (numpy ``.npz`` with a JSON header, no pickle);
8. tensors of series: one series per point of a grid, in one call;
9. a DA matrix times a DA vector: the derivative of a rotation by its angle.

Run it with ``python examples/taylor_tour.py``.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np

import diffalg as dg


def heading(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 66 - len(title)))


def main() -> dict:
    """Run the tour; return the numbers it checks (for tests)."""
    out = {}

    heading("1. a descriptor: variables x, px and a knob k")
    d = dg.Descriptor(variables=["x", "px"], order=6, params=["k"], param_order=2)
    print(d)
    print(f"{d.ncoef} coefficients; the knob's own degree is at most {d.param_order}")
    x, px = d.vars([0.3, 0.1])  # x = 0.3 + dx, px = 0.1 + dpx
    (k,) = d.params_at([2.0])  # k = 2 + dk

    heading("2. elementary functions: the pendulum H = px²/2 + k (1 - cos x)")
    H = px**2 / 2 + k * (1 - dg.cos(x))
    H_exact = 0.1**2 / 2 + 2.0 * (1 - math.cos(0.3))
    print(f"H       = {H.const:.16f}   closed form {H_exact:.16f}")
    print(f"dH/dk   = {H.derivative((0, 0, 1)):.16f}   1 - cos 0.3 = {1 - math.cos(0.3):.16f}")
    print(f"d²H/dx² = {H.derivative((2, 0, 0)):.16f}   k cos 0.3   = {2 * math.cos(0.3):.16f}")
    out["H"] = H.const

    heading("3. deriv and integ: Hamilton's equations x' = ∂H/∂px, px' = -∂H/∂x")
    xdot, pxdot = H.deriv("px"), -H.deriv("x")
    print(f"x'  = {xdot.const:+.16f}   px          = {0.1:+.16f}")
    print(f"px' = {pxdot.const:+.16f}   -k sin(0.3) = {-2 * math.sin(0.3):+.16f}")
    # integ inverts deriv; terms pushed past the order by integ are dropped
    again = H.integ("x").deriv("x")
    out["integ_error"] = (again - H.truncate(d.order - 1)).norm(np.inf)
    print(f"deriv(integ(H)) = H below order {d.order}: max error {out['integ_error']:.1e}")
    out["xdot"], out["pxdot"] = xdot.const, pxdot.const

    heading("4. compose: substitute e^t - 1 into log(1 + t)")
    (t,) = dg.Descriptor(variables=["t"], order=10).vars()  # t = 0 + dt
    log1p, expm1 = dg.log(1 + t), dg.exp(t) - 1
    back = log1p.compose(expm1)
    print("log1p(expm1(t)) coefficients:", np.round(back.coeffs, 14) + 0.0)
    out["compose_error"] = float(np.abs(back.coeffs - t.coeffs).max())
    print(f"differs from t by at most {out['compose_error']:.1e}")

    heading("5. eval: the order-10 series of e^t - 1 at many displacements")
    pts = np.linspace(-0.5, 0.5, 5)
    vals = expm1.eval(pts[:, None])  # points have shape (npoints, number of variables)
    for p, v in zip(pts, vals, strict=True):
        print(f"  t = {p:+.2f}: series {v:+.15f}   expm1 {math.expm1(p):+.15f}")
    out["eval_error"] = float(np.abs(vals - np.expm1(pts)).max())

    heading("6. truncate: the quadratic part of H (its linear dynamics)")
    print(H.truncate(2))

    heading("7. save / load (npz + JSON header; no pickle)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tour.npz")
        dg.save({"H": H, "expm1": expm1, "grid": dg.tensor(pts)}, path)
        loaded = dg.load(path)
    same = all(np.array_equal(loaded[n]._data, T._data) for n, T in [("H", H), ("expm1", expm1)])
    print(f"loaded {sorted(loaded)}; coefficients identical: {same}; ", end="")
    print(f"same descriptor object: {loaded['H'].desc is d}")
    out["roundtrip"] = same and loaded["H"].desc is d

    heading("8. tensors of series: sin at 5 points in one call")
    d1 = dg.Descriptor(nv=1, order=4)
    grid = np.linspace(0.0, 1.0, 5)
    u = d1.var(0, grid)  # shape (5,): the series grid[i] + du
    s = dg.sin(u)
    print(f"shape {s.shape}")
    print("sin      :", s.const)
    print("d/du     :", s.gradient()[:, 0], " (cos:", np.round(np.cos(grid), 8), ")")
    print("d³/du³   :", s.derivative((3,)), " (-cos)")
    out["batch_d3"] = s.derivative((3,))
    out["grid"] = grid

    heading("9. matmul: a rotation R(θ) (a DA matrix) times a DA vector")
    dr = dg.Descriptor(variables=["theta", "a", "b"], order=3)
    th, a, b = dr.vars([0.4, 1.0, 2.0])
    R = dg.stack([dg.stack([dg.cos(th), -dg.sin(th)]), dg.stack([dg.sin(th), dg.cos(th)])])
    v = dg.stack([a, b])
    w = R @ v
    print(f"R: shape {R.shape}, v: shape {v.shape}, R @ v: shape {w.shape}")
    print("R @ v         :", w.const)
    # ∂(R v)/∂θ = R(θ + π/2) v: the vector turned by another quarter turn
    c, sn = math.cos(0.4), math.sin(0.4)
    expected = np.array([-sn * 1.0 - c * 2.0, c * 1.0 - sn * 2.0])
    print("∂(R v)/∂θ     :", w.gradient()[:, 0], "  closed form", expected)
    print("∂(R v)/∂(a,b) :", np.round(w.gradient()[:, 1:], 8).tolist(), " = R(0.4)")
    out["dRv_dtheta"] = w.gradient()[:, 0]
    return out


if __name__ == "__main__":
    main()
