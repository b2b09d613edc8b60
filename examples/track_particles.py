"""Tracking 100 000 particles: a ring's one-turn Taylor map against element-by-element tracking.

The FODO ring of ``examples/fodo_map.py`` with an RF cavity (so all six
coordinates oscillate) and a Gaussian beam matched to the ring's 6-d linear
motion, tracked for a few turns

* through the ring's one-turn Taylor map of several orders (``TaylorMap.track``:
  every core, one polynomial evaluation per particle and turn), and
* element by element (``Lattice.track``: numpy over the particles, element by element).

It prints the time per turn of each, the map's build time, and the difference
between the two. After one turn the difference of a particle grows as its
amplitude to the power ``order + 1`` (the first term the map leaves out):
``examples/out/track_particles_error.png`` shows the median difference in bins
of amplitude, one curve per order, with the reference slopes.

The matched beam: the eigenvectors of the symplectic one-turn matrix ``R``
give a real symplectic ``A`` with ``R = A · rotations · A⁻¹`` (the linear
normal form); a beam ``z = A w`` with ``w`` Gaussian of variance ``ε_k`` in
both coordinates of mode ``k`` is unchanged by ``R``. A particle's amplitude
in beam sizes is ``sqrt(Σ_k (w_2k² + w_2k+1²)/ε_k)``: its direction in ``w/√ε``
is uniform whatever its amplitude, so the median in a bin scales exactly as the
error of a single direction.

Run it with ``python examples/track_particles.py``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from fodo_map import _slope, ring

from diffalg.maps import COORDS, Lattice, RFCavity, linear_normal_form
from diffalg.maps.beam import C_LIGHT

OUT_DIR = Path(__file__).resolve().parent / "out"


def ring_with_rf(harmonic=4, volt=0.2):
    """The FODO ring and a thin cavity at harmonic ``h`` (below transition: ``lag = 0``)."""
    lat = ring()
    freq = harmonic * lat.beam.beta0 * C_LIGHT / lat.length / 1e6  # MHz
    return Lattice(lat.elements + [RFCavity(volt, freq, name="rf")], lat.beam)


def matched_beam(lat, n, emittances, rng):
    """``n`` particles matched to the ring, and their amplitudes in beam sizes."""
    A, tunes = linear_normal_form(lat.map(order=1).linear())
    w = rng.standard_normal((n, 6)) * np.sqrt(np.repeat(emittances, 2))
    amplitude = np.sqrt(np.sum(w**2 / np.repeat(emittances, 2), axis=1))
    return w @ A.T, amplitude, tunes


def _timed(f, *args):
    t0 = time.perf_counter()
    out = f(*args)
    return out, time.perf_counter() - t0


def binned(amplitude, error, bins, floor):
    """Geometric means of amplitude and error in each bin, and which bins lie above ``floor``.

    Means of logarithms are what a power law keeps exact: with the direction
    independent of the amplitude, ``E[log e | bin] = (order + 1) E[log a | bin] + c``
    whatever the spread of amplitudes inside a bin (a median of ``e`` against the
    bin's centre would bend the slope). Bins with fewer than 10 particles are NaN.
    """
    idx = np.digitize(amplitude, bins) - 1
    a, e = np.full(len(bins) - 1, np.nan), np.full(len(bins) - 1, np.nan)
    for i in range(len(bins) - 1):
        sel = idx == i
        if sel.sum() >= 10:
            a[i] = np.exp(np.mean(np.log(amplitude[sel])))
            e[i] = np.exp(np.mean(np.log(np.maximum(error[sel], 1e-300))))
    return a, e, np.nan_to_num(e) > floor


def main(n_particles=100_000, orders=(2, 4, 6, 8, 10), turns=3, emittances=(3e-5, 3e-5, 2e-3),
         plot=True, out_dir=OUT_DIR, seed=0, floor=1e-13):  # fmt: skip
    """Track ``n_particles`` for ``turns`` turns through maps of each order and element by element.

    ``emittances`` (εx, εy, εz) are the beam's geometric emittances per mode, in
    metres (εz in the units of ``t · pt``); they are large so that even the
    order-10 error rises above round-off (``floor``, about 20 times the
    difference round-off leaves) for the largest particles. Returns the tunes,
    the times and, per order, the differences and the fitted slope.
    """
    lat = ring_with_rf()
    z0, amplitude, tunes = matched_beam(lat, n_particles, np.asarray(emittances),
                                        np.random.default_rng(seed))  # fmt: skip
    print(f"{lat}\ntunes qx {tunes[0]:.5f}  qy {tunes[1]:.5f}  qs {tunes[2]:.5f}")
    rms = " ".join(f"{c} {s:.2e}" for c, s in zip(COORDS, z0.std(axis=0), strict=True))
    print(f"{n_particles} particles, rms {rms}")

    elements = [z0]
    t_elem = 0.0
    for _ in range(turns):
        z, dt = _timed(lat.track, elements[-1])
        elements.append(z)
        t_elem += dt
    t_elem /= turns
    print(f"element by element: {t_elem:.3f} s per turn")

    bins = np.geomspace(0.5, amplitude.max(), 9)
    rows = {}
    for order in orders:
        M, t_build = _timed(lat.map, order)
        M.track(z0[:64])  # compiled and warm before timing
        z, t_map = z0, 0.0
        for turn in range(1, turns + 1):
            z, dt = _timed(M.track, z)
            t_map += dt
            if turn == 1:
                one_turn = np.abs(z - elements[1]).max(axis=1)
        t_map /= turns
        diff = np.abs(z - elements[-1]).max(axis=1)
        a, e, clean = binned(amplitude, one_turn, bins, floor)
        rows[order] = {
            "build_s": t_build, "turn_s": t_map, "speedup": t_elem / t_map,
            "max": float(diff.max()), "median": float(np.median(diff)),
            "amplitude": a, "error": e, "clean": clean,
            "slope": _slope(a[clean], e[clean], 0) if clean.sum() >= 2 else math.nan,
        }  # fmt: skip
        r = rows[order]
        print(f"order {order:2d} ({M.desc.ncoef:4d} coefficients): built in {t_build:.2f} s, "
              f"{t_map:.3f} s per turn ({r['speedup']:.2f}x the element speed)\n"
              f"    after {turns} turns |map - elements| max {r['max']:.1e}, median "
              f"{r['median']:.1e}; one turn: error ∝ amplitude^{r['slope']:.2f} "
              f"(expected {order + 1})")  # fmt: skip
    result = {"tunes": tunes, "element_turn_s": t_elem, "orders": rows, "bins": bins,
              "amplitude": amplitude}  # fmt: skip
    if plot:
        result["plot"] = _plot(rows, Path(out_dir))
    return result


def _plot(rows, out_dir):
    import matplotlib  # noqa: PLC0415 - only for the picture

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for order, r in rows.items():
        a, e, clean = r["amplitude"], r["error"], r["clean"]
        (line,) = ax.loglog(a, e, "o-", label=f"order {order}: slope {r['slope']:.2f}")
        if clean.any():  # the reference power law through the largest clean bin
            a0, e0 = a[clean][-1], e[clean][-1]
            ax.loglog(a, e0 * (a / a0) ** (order + 1), ":", color=line.get_color())
    lowest = min(np.nanmin(r["error"]) for r in rows.values())
    ax.set_ylim(bottom=lowest / 30)  # the reference lines would run far below round-off
    ax.set(xlabel="amplitude (beam sizes)", ylabel="|map − element tracking| (geometric mean)",
           title="One turn: error ∝ amplitude^(order+1) (dotted)")  # fmt: skip
    ax.legend()
    fig.tight_layout()
    png = out_dir / "track_particles_error.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


if __name__ == "__main__":
    main()
