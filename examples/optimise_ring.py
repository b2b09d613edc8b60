"""Optimising a ring's sextupoles with gradients of its Taylor map, taken by the tape.

The FODO ring of ``examples/fodo_map.py`` keeps its chromatic sextupoles next
to the quadrupoles (families ``k2f``, ``k2d``) and gets two harmonic families in
the middle of the drifts before the quadrupoles (``k2hf`` before QF, ``k2hd``
before QD).  All four strengths are real tensors with ``requires_grad=True``;
the tape follows them through the one-turn map and the chromaticities
(``Lattice.chromaticity(tensor=True)``).

1. **Gradients at the start**, three ways: the tape, central finite
   differences, and forward mode with the strengths as DA parameters of the
   descriptor ("knobs", ``param_order=1``: a derivative is the coefficient with
   one power of a knob).
2. **Chromaticities to their targets.**  ``dQ/dδ`` is linear in sextupole
   strengths (they act through the dispersion), so the tape's 2 × 4 Jacobian is
   the response matrix: one minimum-norm step sets both.
3. **Aberrations down, chromaticities held.**  The strengths move only in the
   Jacobian's null space, so the chromaticities stay on target to round-off, and
   BFGS (``scipy.optimize.minimize(..., jac=True)``) minimises over the two free
   directions the sum of squares of the geometric second-order coefficients of
   the transverse map in normalised coordinates, ``Σ_ijk T̂_ijk²`` over
   ``x̂, p̂x, ŷ, p̂y`` (``x̂ = x/√β``, ``p̂ = (α x + β p)/√β``).  That sum does not
   depend on the phase chosen for the normalised coordinates: a rotation in each
   plane leaves it unchanged.  Value and gradient come from one map and one
   backward pass.

The plot of the objective against the iterations goes to
``docs/img/optimise_ring.png``.  Run it with ``python examples/optimise_ring.py``.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

import diffalg as dg
from diffalg.maps import (
    COORDS,
    Beam,
    Drift,
    Lattice,
    Quadrupole,
    SBend,
    Sextupole,
    linear_normal_form,
)

IMG = Path(__file__).resolve().parent.parent / "docs" / "img"
FAMILIES = ("k2f", "k2d", "k2hf", "k2hd")
#: (row, exponents, weight) of every geometric second-order term of the transverse
#: map: Σ_ijk T_ijk² over all index orders counts a cross term c·x_j x_k twice, as c/2
GEOMETRIC = tuple(
    (row, tuple(e) + (0, 0), 1.0 if max(e) == 2 else 0.5)
    for row in range(4)
    for e in itertools.product(range(3), repeat=4)
    if sum(e) == 2
)
NAMES = tuple(
    f"{COORDS[r]}|" + " ".join(COORDS[j] + ("²" if n == 2 else "") for j, n in enumerate(e) if n)
    for r, e, _ in GEOMETRIC
)
#: the DA knob descriptor of the strengths: order 3 so that ``∂T/∂k`` (x_j x_k k) and
#: ``∂ξ/∂k`` (pt k in the tunes, whose Jacobian loses one order) are exact
KNOBS = dict(variables=list(COORDS), params=list(FAMILIES), order=3, param_order=1)


def ring(k2, cells=8, k1=0.6):
    """The ring with sextupole families ``k2 = (k2f, k2d, k2hf, k2hd)`` (1/m³).

    Entries may be floats, tensors requiring grad, or series (knobs).  With the
    harmonic families at zero it is the ring of ``examples/fodo_map.py``.
    """
    sf, sd, hf, hd = k2
    angle = 2 * math.pi / (2 * cells)
    line = []
    for _ in range(cells):
        line += [Quadrupole(0.5, k1), Sextupole(0.2, sf), Drift(0.3), SBend(2.0, angle),
                 Drift(0.15), Sextupole(0.2, hd), Drift(0.15), Quadrupole(0.5, -k1),
                 Sextupole(0.2, sd), Drift(0.3), SBend(2.0, angle), Drift(0.15),
                 Sextupole(0.2, hf), Drift(0.15)]  # fmt: skip
    return Lattice(line, Beam("proton", energy=1.2))


def normalising_matrix(lat):
    """``A`` (4 × 4): transverse coordinates to normalised ones at the start, ``ẑ = A z``.

    The inverse of Courant–Snyder's matrix from :func:`diffalg.maps.linear_normal_form`.
    Sextupoles leave the on-momentum linear optics alone, so ``A`` is a constant
    of the optimisation (floats, off the tape).
    """
    to_physical, _ = linear_normal_form(lat.map(order=1).linear()[:4, :4])
    return np.linalg.inv(to_physical)


def normalised_rows(M, A):
    """The transverse rows of ``A ∘ M ∘ A⁻¹`` (t and pt untouched), as series."""
    d = M.desc
    v = d.vars() + [d.var(d.nv + j) for j in range(d.np)]
    Ainv = np.linalg.inv(A)
    z = [sum(Ainv[i, j] * v[j] for j in range(4)) for i in range(4)] + v[4:]
    Mz = [dg.compose(M[a], *z) for a in range(4)]
    return [sum(A[i, a] * Mz[a] for a in range(4)) for i in range(4)]


def aberrations(lat, A):
    """The weighted geometric coefficients ``√w c`` of the normalised map: a real tensor."""
    rows = normalised_rows(lat.map(order=2), A)
    d = rows[0].desc
    c = dg.coefficients(dg.stack(rows))
    return dg.stack([math.sqrt(w) * c[r, d.index(e)] for r, e, w in GEOMETRIC])


def objective(lat, A):
    """``Σ_ijk T̂_ijk²``, on the tape."""
    t = aberrations(lat, A)
    return (t * t).sum()


def value_and_grad(fn, k2, cells):
    """``fn(ring)`` (a real tensor) and its Jacobian in the strengths, from the tape."""
    ks = [dg.tensor(float(v), dtype=dg.float64, requires_grad=True) for v in k2]
    out = fn(ring(ks, cells)).reshape(-1)
    jac = np.stack([
        dg.stack(dg.autograd.grad(out[i], ks, retain_graph=i + 1 < out.shape[0])).numpy()
        for i in range(out.shape[0])
    ])  # fmt: skip
    return out.detach().numpy(), jac


def finite_differences(fn, k2, cells, h=1e-6):
    """Central differences of ``fn(ring)`` in each strength (float strengths, no tape)."""

    def at(k):
        with dg.no_grad():
            return np.atleast_1d(fn(ring(list(k), cells)).numpy())

    cols = []
    for e in np.eye(len(k2)):
        cols.append((at(k2 + h * e) - at(k2 - h * e)) / (2 * h))
    return np.stack(cols, axis=-1)


def knob_derivatives(k2, A, cells):
    """Forward mode: ``∂f/∂k`` and ``∂ξ/∂k`` from one map with the strengths as knobs."""
    d = dg.Descriptor(**KNOBS)
    knobs = d.params_at([0.0] * len(FAMILIES))
    lat = ring([v + k for v, k in zip(k2, knobs, strict=True)], cells)
    unit = [tuple(u) for u in np.eye(len(FAMILIES), dtype=int)]
    rows = normalised_rows(lat.map(desc=d), A)
    # f = Σ w c², so ∂f/∂k = Σ 2 w c ∂c/∂k: c is the coefficient with no knob power
    none = (0,) * len(unit)
    df = sum(2 * w * rows[r].coeff(e + none) * np.array([rows[r].coeff(e + u) for u in unit])
             for r, e, w in GEOMETRIC)  # fmt: skip
    tunes = lat.tunes_vs_pt(desc=d)
    dxi = np.array([[q.coeff((0, 0, 0, 0, 0, 1) + u) for u in unit] for q in tunes])
    return df, dxi * lat.beam.beta0


def check_gradients(k2, A, cells):
    """The tape against central differences and knobs: largest difference / largest entry."""

    def chroma(lat):
        return lat.chromaticity(tensor=True)

    def obj(lat):
        return objective(lat, A)

    _, tape_f = value_and_grad(obj, k2, cells)
    _, tape_xi = value_and_grad(chroma, k2, cells)
    fd_f, fd_xi = finite_differences(obj, k2, cells), finite_differences(chroma, k2, cells)
    knob_f, knob_xi = knob_derivatives(k2, A, cells)

    def rel(a, b):
        return float(np.abs(a - b).max() / np.abs(b).max())

    return {
        "grad_f": tape_f[0], "jac_xi": tape_xi, "fd_f": fd_f[0], "fd_xi": fd_xi,
        "knob_f": knob_f, "knob_xi": knob_xi,
        "f_vs_fd": rel(tape_f[0], fd_f[0]), "f_vs_knob": rel(tape_f[0], knob_f),
        "xi_vs_fd": rel(tape_xi, fd_xi), "xi_vs_knob": rel(tape_xi, knob_xi),
    }  # fmt: skip


def main(start=(1.5, -2.0, 0.0, 0.0), target=(1.0, 1.0), cells=8, gtol=1e-6, maxiter=100,
         plot=True, out_dir=IMG):  # fmt: skip
    start, target = np.asarray(start, dtype=np.float64), np.asarray(target, dtype=np.float64)
    A = normalising_matrix(ring(start, cells))
    checks = check_gradients(start, A, cells)
    print("gradients at the start (largest difference / largest entry):")
    print(f"  objective:      tape vs finite differences {checks['f_vs_fd']:.1e}, "
          f"vs DA knobs {checks['f_vs_knob']:.1e}")  # fmt: skip
    print(f"  chromaticities: tape vs finite differences {checks['xi_vs_fd']:.1e}, "
          f"vs DA knobs {checks['xi_vs_knob']:.1e}")  # fmt: skip
    t0 = time.perf_counter()
    # (a) chromaticities: linear in the strengths, the tape's Jacobian is the response
    xi_start, J = value_and_grad(lambda lat: lat.chromaticity(tensor=True), start, cells)
    corrected = start + np.linalg.lstsq(J, target - xi_start, rcond=None)[0]
    # (b) the rest: only along the null space of J, where the chromaticities do not move
    null = np.linalg.svd(J)[2][J.shape[0] :].T  # (4, 2), orthonormal columns
    history = []

    def fun(z):
        f, g = value_and_grad(lambda lat: objective(lat, A), corrected + null @ z, cells)
        return f[0], null.T @ g[0]

    def record(intermediate_result):  # scipy passes the iterate's result by this name
        history.append(float(intermediate_result.fun))

    f_corrected = float(fun(np.zeros(null.shape[1]))[0])
    res = minimize(fun, np.zeros(null.shape[1]), jac=True, method="BFGS", callback=record,
                   options={"gtol": gtol, "maxiter": maxiter})  # fmt: skip
    seconds = time.perf_counter() - t0
    k2 = corrected + null @ res.x

    def terms(k):
        with dg.no_grad():
            return aberrations(ring(list(k), cells), A).numpy() / np.sqrt(
                [w for *_, w in GEOMETRIC]
            )

    f_start = float(objective(ring(start, cells), A))
    xi_end = np.array(ring(k2, cells).chromaticity())  # the float API, off the tape
    print(f"start     k2 = {np.array2string(start, precision=4)}: chromaticities "
          f"{xi_start[0]:+.4f} {xi_start[1]:+.4f}, Σ T̂² = {f_start:.4g}")  # fmt: skip
    print(f"corrected k2 = {np.array2string(corrected, precision=4)}: Σ T̂² = {f_corrected:.4g}")
    print(f"optimum   k2 = {np.array2string(k2, precision=4)}: chromaticities "
          f"{xi_end[0]:+.10f} {xi_end[1]:+.10f}, Σ T̂² = {res.fun:.4g}")  # fmt: skip
    print(f"BFGS: {res.nit} iterations, {res.nfev} maps with gradients, {seconds:.1f} s "
          f"({res.message})")  # fmt: skip
    result = {
        "checks": checks, "start": start, "corrected": corrected, "k2": k2,
        "objective_start": f_start, "objective_corrected": f_corrected,
        "objective": float(res.fun), "history": [f_corrected, *history],
        "chromaticity_start": xi_start, "chromaticity": xi_end, "target": target,
        "iterations": res.nit, "evaluations": res.nfev, "seconds": seconds,
        "success": bool(res.success), "terms_corrected": terms(corrected), "terms": terms(k2),
    }  # fmt: skip
    if plot:
        result["plot"] = _plot(result, Path(out_dir))
    return result


def _plot(result, out_dir):
    import matplotlib  # noqa: PLC0415 - only for the picture

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 1.6]})
    h = result["history"]
    ax.plot(range(len(h)), h, "o-", label="chromaticities on target")
    ax.axhline(result["objective_start"], color="grey", ls="--", label="start")
    ax.set(xlabel="BFGS iteration", ylabel="Σ T̂² (normalised coordinates)", ylim=(0, None),
           title=f"chromaticities held at {tuple(result['target'].tolist())}")  # fmt: skip
    ax.legend()
    a, b = result["terms_corrected"], result["terms"]
    keep = np.flatnonzero(np.abs(a) > 1e-12)  # the others vanish: no skew elements
    pos = np.arange(len(keep))
    bx.bar(pos - 0.2, a[keep], 0.4, label="chromaticities corrected")
    bx.bar(pos + 0.2, b[keep], 0.4, label="optimum")
    bx.set_xticks(pos, [NAMES[i] for i in keep], rotation=70, fontsize=8)
    bx.set(ylabel="coefficient (normalised)", title="geometric second-order coefficients")
    bx.legend()
    fig.tight_layout()
    path = out_dir / "optimise_ring.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
