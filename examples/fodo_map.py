"""The Taylor map of a FODO ring: tunes, chromaticity, and tracking through the map.

A ring of FODO cells (thick quadrupoles, sextupoles, exact sector bends and
drifts) for 1.2 GeV protons (β0 ≈ 0.62, so the energy-time coupling matters):

1. its one-turn map to order 10, with its symplectic error;
2. tunes, Twiss functions and chromaticities from the map;
3. the map against element-by-element tracking: the difference falls as the
   amplitude to the power order + 1, shown for maps of orders 2 to 6 in a
   log-log plot (``examples/out/fodo_map_error.png``);
4. a phase-space portrait from tracking many turns through the map
   (``examples/out/fodo_map_portrait.png``).

Run it with ``python examples/fodo_map.py``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from diffalg.maps import Beam, Drift, Lattice, Quadrupole, SBend, Sextupole

OUT_DIR = Path(__file__).resolve().parent / "out"


def ring(cells=8, k1=0.6, k2f=1.5, k2d=-2.0, beam=None):
    beam = beam or Beam("proton", energy=1.2)
    angle = 2 * math.pi / (2 * cells)
    line = []
    for _ in range(cells):
        line += [Quadrupole(0.5, k1), Sextupole(0.2, k2f), Drift(0.3), SBend(2.0, angle),
                 Drift(0.5), Quadrupole(0.5, -k1), Sextupole(0.2, k2d), Drift(0.3),
                 SBend(2.0, angle), Drift(0.5)]  # fmt: skip
    return Lattice(line, beam)


def error_scaling(lat, orders, amplitudes, rng):
    direction = rng.uniform(-1, 1, (50, 6)) * [1, 0.1, 1, 0.1, 0, 0.1]
    tracked = {a: lat.track(a * direction) for a in amplitudes}
    return {
        o: [float(np.abs(lat.map(order=o).track(a * direction) - tracked[a]).max())
            for a in amplitudes]
        for o in orders
    }  # fmt: skip


def main(order=10, orders=(2, 3, 4, 5, 6), turns=300, plot=True, out_dir=OUT_DIR):
    lat = ring()
    print(lat)
    t0 = time.perf_counter()
    M = lat.map(order=order)
    print(f"one-turn map to order {order}: {M.desc.ncoef} coefficients per coordinate, "
          f"{time.perf_counter() - t0:.2f} s; symplectic error {M.symplectic_error():.1e}")  # fmt: skip
    qx, qy = lat.tunes()
    dqx, dqy = lat.chromaticity()
    tw = lat.twiss()
    print(f"tunes {qx:.6f} {qy:.6f}   chromaticities dQ/dδ {dqx:.4f} {dqy:.4f}")
    print(f"beta_x {tw['betx']:.4f} m  beta_y {tw['bety']:.4f} m at the start")
    amplitudes = np.geomspace(4e-3, 3.2e-2, 4)
    errs = error_scaling(lat, orders, amplitudes, np.random.default_rng(0))
    slopes = {o: _slope(amplitudes, e) for o, e in errs.items()}
    for o in orders:
        print(f"order {o}: map - tracking error grows as amplitude^{slopes[o]:.2f} "
              f"(expected {o + 1})")  # fmt: skip
    result = {"map": M, "tunes": (qx, qy), "chromaticity": (dqx, dqy), "twiss": tw,
              "slopes": slopes, "errors": errs, "amplitudes": amplitudes}  # fmt: skip
    if plot:
        result["plots"] = _plots(lat, M, errs, amplitudes, turns, Path(out_dir))
    return result


def _slope(amplitudes, errors, floor=1e-12):
    """Log-log slope of the errors above the round-off floor."""
    keep = np.asarray(errors) > floor
    return float(np.polyfit(np.log(amplitudes[keep]), np.log(np.asarray(errors)[keep]), 1)[0])


def _plots(lat, M, errs, amplitudes, turns, out_dir):
    import matplotlib  # noqa: PLC0415 - only for the pictures

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for o, e in errs.items():
        ax.loglog(amplitudes, e, "o-", label=f"order {o}")
    ax.set(xlabel="amplitude (m)", ylabel="max |map − element tracking|",
           title="Truncation error of the one-turn map ∝ amplitude^(order+1)")  # fmt: skip
    ax.legend()
    fig.tight_layout()
    err_png = out_dir / "fodo_map_error.png"
    fig.savefig(err_png, dpi=110)
    plt.close(fig)
    z = np.zeros((12, 6))
    z[:, 0] = np.linspace(1e-3, 2.4e-2, 12)
    orbit = [z]
    for _ in range(turns):
        z = M.track(z)
        orbit.append(z)
    orbit = np.array(orbit)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(orbit[..., 0].ravel() * 1e3, orbit[..., 1].ravel() * 1e3, ",", color="k")
    ax.set(xlabel="x (mm)", ylabel="px (mrad)", title=f"{turns} turns through the order-10 map")
    fig.tight_layout()
    portrait_png = out_dir / "fodo_map_portrait.png"
    fig.savefig(portrait_png, dpi=110)
    plt.close(fig)
    return err_png, portrait_png


if __name__ == "__main__":
    main()
