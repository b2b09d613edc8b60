"""Sextupoles chosen by gradients of a ring's Taylor map, taken by the tape.

The FODO ring of ``examples/fodo_map.py`` gets four sextupole families (focusing
and defocusing, in even and odd cells).  Their strengths ``k2`` are real tensors
with ``requires_grad=True``; they enter the one-turn map like any number, and
the tape follows them through every series operation of the tracking.

The problem: set both chromaticities ``dQ/dδ`` to +1, and with the two degrees
of freedom left, make chosen second-order geometric aberrations of the one-turn
map small — the sum of squares of

    T_x,xx  T_x,xpx  T_px,xx  T_x,yy  T_px,yy  T_y,xy  T_py,xy

(``T_i,jk`` is the coefficient of ``z_j z_k`` in coordinate ``i`` of the map).
``scipy.optimize.minimize`` (SLSQP) takes the objective, the two chromaticity
constraints and all their gradients from the tape: one map, one backward pass
per function.

Before optimising, the script checks the gradients at the start three ways:
the tape, central finite differences, and forward mode with the strengths as DA
parameters ("knobs") of the descriptor, where ``∂T_ijk/∂k2`` is the coefficient
of ``z_j z_k k2``.

Run it with ``python examples/ring_gradients.py``.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.optimize import minimize

import diffalg as dg
from diffalg.maps import COORDS, Beam, Drift, Lattice, Quadrupole, SBend, Sextupole

FAMILIES = ("sf_even", "sd_even", "sf_odd", "sd_odd")
#: (coordinate, exponents) of the aberrations to reduce: x, px, y, py rows
ABERRATIONS = (
    (0, (2, 0, 0, 0, 0, 0)), (0, (1, 1, 0, 0, 0, 0)), (1, (2, 0, 0, 0, 0, 0)),
    (0, (0, 0, 2, 0, 0, 0)), (1, (0, 0, 2, 0, 0, 0)), (2, (1, 0, 1, 0, 0, 0)),
    (3, (1, 0, 1, 0, 0, 0)),
)  # fmt: skip
NAMES = ("T_x,xx", "T_x,xpx", "T_px,xx", "T_x,yy", "T_px,yy", "T_y,xy", "T_py,xy")


def ring(k2, cells=8, k1=0.6):
    """The FODO ring with sextupole families ``k2 = (sf_even, sd_even, sf_odd, sd_odd)``.

    ``k2`` entries may be floats, tensors requiring grad, or series (knobs).
    """
    beam = Beam("proton", energy=1.2)
    angle = 2 * math.pi / (2 * cells)
    line = []
    for c in range(cells):
        sf, sd = (k2[0], k2[1]) if c % 2 == 0 else (k2[2], k2[3])
        line += [Quadrupole(0.5, k1), Sextupole(0.2, sf), Drift(0.3), SBend(2.0, angle),
                 Drift(0.5), Quadrupole(0.5, -k1), Sextupole(0.2, sd), Drift(0.3),
                 SBend(2.0, angle), Drift(0.5)]  # fmt: skip
    return Lattice(line, beam)


def chromaticity(lat):
    """``(dQx/dδ, dQy/dδ)`` as a real tensor on the tape (``dQ/dδ = β0 dQ/dpt``)."""
    q = lat.tunes_vs_pt(1)
    i = q[0].desc.index((0, 0, 0, 0, 0, 1))
    return dg.stack([dg.coefficients(t)[i] for t in q]) * lat.beam.beta0


def aberrations(lat):
    """The chosen second-order coefficients of the one-turn map, a real tensor on the tape."""
    M = lat.map(order=2)
    c = dg.coefficients(dg.stack(list(M)))  # (6, ncoef)
    return dg.stack([c[r, M.desc.index(e)] for r, e in ABERRATIONS])


class Problem:
    """Objective and constraints of the strengths, values and gradients from the tape."""

    def __init__(self, target=(1.0, 1.0), cells=8):
        self.target = np.asarray(target, dtype=np.float64)
        self.cells = cells
        self.evaluations = 0
        self._cache = {}

    def _at(self, k2):
        key = tuple(np.asarray(k2, dtype=np.float64))
        if key not in self._cache:
            self.evaluations += 1
            ks = [dg.tensor(v, dtype=dg.float64, requires_grad=True) for v in key]
            lat = ring(ks, self.cells)
            t = aberrations(lat)
            f = (t * t).sum()
            gf = dg.stack(dg.autograd.grad(f, ks))
            xi = chromaticity(lat)
            jac = np.stack([dg.stack(dg.autograd.grad(xi[p], ks, retain_graph=True)).numpy()
                            for p in range(2)])  # fmt: skip
            self._cache = {
                key: (f.item(), gf.numpy(), xi.detach().numpy(), jac, t.detach().numpy())
            }
        return self._cache[key]

    def objective(self, k2):
        return self._at(k2)[0]

    def objective_grad(self, k2):
        return self._at(k2)[1]

    def constraint(self, k2):
        return self._at(k2)[2] - self.target

    def constraint_jac(self, k2):
        return self._at(k2)[3]


def finite_differences(fn, k2, h=1e-6):
    """Central differences of ``fn(k2)`` (an array) for each strength."""
    cols = []
    for i in range(len(k2)):
        up, dn = np.array(k2, dtype=np.float64), np.array(k2, dtype=np.float64)
        up[i] += h
        dn[i] -= h
        cols.append((fn(up) - fn(dn)) / (2 * h))
    return np.stack(cols, axis=-1)


def knob_derivatives(k2, cells=8):
    """``∂T/∂k2`` forward: the strengths as DA parameters, derivatives as coefficients."""
    d = dg.Descriptor(variables=list(COORDS), params=list(FAMILIES), order=3, param_order=1)
    knobs = d.params_at([0.0] * len(FAMILIES))
    M = ring([v + k for v, k in zip(k2, knobs, strict=True)], cells).map(desc=d)
    unit = np.eye(len(FAMILIES), dtype=int)
    return np.array([[M[r].coeff(e + tuple(u)) for u in unit] for r, e in ABERRATIONS])


def check_gradients(k2, cells=8):
    """Tape Jacobians of the aberrations and chromaticities against FD and knobs."""
    ks = [dg.tensor(v, dtype=dg.float64, requires_grad=True) for v in k2]
    lat = ring(ks, cells)
    t, xi = aberrations(lat), chromaticity(lat)
    jt = np.stack([dg.stack(dg.autograd.grad(t[i], ks, retain_graph=True)).numpy()
                   for i in range(len(ABERRATIONS))])  # fmt: skip
    jx = np.stack([dg.stack(dg.autograd.grad(xi[p], ks, retain_graph=True)).numpy()
                   for p in range(2)])  # fmt: skip

    def values(fn):
        def at(k):
            with dg.no_grad():
                return fn(ring(list(k), cells)).numpy()

        return at

    fd_t = finite_differences(values(aberrations), k2)
    fd_x = finite_differences(values(chromaticity), k2)
    knob_t = knob_derivatives(k2, cells)

    def rel(a, b):
        return float(np.abs(a - b).max() / np.abs(b).max())

    return {
        "tape_T": jt, "fd_T": fd_t, "knob_T": knob_t, "tape_xi": jx, "fd_xi": fd_x,
        "T_vs_fd": rel(jt, fd_t), "T_vs_knob": rel(jt, knob_t), "xi_vs_fd": rel(jx, fd_x),
    }  # fmt: skip


def main(start=(1.5, -2.0, 1.5, -2.0), target=(1.0, 1.0), maxiter=50, cells=8, verbose=True):
    start = np.asarray(start, dtype=np.float64)
    checks = check_gradients(start, cells)
    if verbose:
        print("gradients at the start, largest difference relative to the largest entry:")
        print(f"  aberrations: tape vs finite differences {checks['T_vs_fd']:.1e}, "
              f"tape vs DA knobs {checks['T_vs_knob']:.1e}")  # fmt: skip
        print(f"  chromaticities: tape vs finite differences {checks['xi_vs_fd']:.1e}")
    prob = Problem(target, cells)
    f0, xi0, t_start = prob.objective(start), prob._at(start)[2], prob._at(start)[4]
    t0 = time.perf_counter()
    res = minimize(
        prob.objective, start, jac=prob.objective_grad, method="SLSQP",
        constraints=[{"type": "eq", "fun": prob.constraint, "jac": prob.constraint_jac}],
        options={"maxiter": maxiter, "ftol": 1e-14},
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    f1, _, xi1, _, t_end = prob._at(res.x)
    if verbose:
        print(f"start   k2 = {np.array2string(start, precision=4)}: chromaticities "
              f"{xi0[0]:+.4f} {xi0[1]:+.4f}, sum of T² {f0:.4g}")  # fmt: skip
        print(f"optimum k2 = {np.array2string(res.x, precision=4)}: chromaticities "
              f"{xi1[0]:+.8f} {xi1[1]:+.8f}, sum of T² {f1:.4g}")  # fmt: skip
        print(f"SLSQP: {res.nit} iterations, {prob.evaluations} map evaluations with "
              f"gradients, {seconds:.1f} s ({res.message})")  # fmt: skip
        for name, a, b in zip(NAMES, t_start, t_end, strict=True):
            print(f"  {name:8s} {a:+10.4f} -> {b:+10.4f}")
    return {
        "checks": checks, "start": start, "k2": res.x, "objective_start": f0,
        "objective": f1, "chromaticity_start": xi0, "chromaticity": xi1,
        "aberrations_start": t_start, "aberrations": t_end, "iterations": res.nit,
        "evaluations": prob.evaluations, "seconds": seconds, "success": bool(res.success),
    }  # fmt: skip


if __name__ == "__main__":
    main()
