"""Ring optics from an established tracking code (Xsuite's ``xtrack``), for cross-checks.

``peer_ring_summary(spec)`` builds a ring in xtrack from a plain-Python description and
returns its tunes, chromaticities and the beta functions at the start;
``peer_ring_6d(spec)`` returns the 6-d eigen-tunes (synchrotron tune included) of a ring
with RF cavities and ``peer_track(spec, particles)`` tracks particles given in MAD-NG
coordinates through the line. The spec uses MAD-X conventions::

    {"particle": "proton",   # or "antiproton", "electron", "positron", "muon",
                             # "antimuon"; or give "mass_gev" and "charge" instead
     "energy_gev": 1.0,      # TOTAL energy of the reference particle (not kinetic)
     "elements": [
        {"type": "drift", "L": 2.0},
        {"type": "quadrupole", "L": 0.5, "k1": 0.6},       # k1 = (1/B rho) dBy/dx
        {"type": "sextupole", "L": 0.2, "k2": 1.5},        # k2 = (1/B rho) d2By/dx2
        {"type": "sbend", "L": 2.0, "angle": 0.39},        # sector bend, k0 = angle / L
        {"type": "multipole", "knl": [0, 0.1], "ksl": []}, # thin, knl[n] = K_n L
        {"type": "marker"},
        {"type": "rfcavity", "volt": 1.0, "freq": 20.0, "lag": 0.0, "L": 0.0},
                             # MV, MHz, units of 2 pi (MAD-X), thin when L = 0
     ]}

Extra keys in an element (``name``, ...) are ignored. ``knl``/``ksl`` follow the MAD-X
factorial convention, the thin kick being
``dpx - i dpy = -sum_n (knl[n] + i ksl[n]) (x + i y)**n / n!``.

Element models (xtrack 0.118.4, installed through ``xsuite`` 0.67.0, whose wheel carries
the precompiled C kernels):

* drift: ``xt.Drift(model="exact")``, the exact (non-paraxial) drift,
  ``x += L px / pz`` with ``pz = sqrt((1 + delta)**2 - px**2 - py**2)``;
* quadrupole, sextupole: thick ``xt.Quadrupole``/``xt.Sextupole`` with
  ``model="drift-kick-drift-exact"`` and ``integrator="yoshida-8"``: exact drifts
  alternating with canonical multipole kicks in the 8th-order symplectic Yoshida scheme
  (15 kicks per slice), ``ceil(L / slice_length)`` slices. That integrates
  ``H = -pz + k1 (x**2 - y**2) / 2 + k2 (x**3 - 3 x y**2) / 6``, the MAD-X/PTC "exact"
  Hamiltonian. Fringe fields off;
* sbend: ``xt.Bend(model="bend-kick-bend")`` with ``k0 = h = angle / L``: the exact map of
  ``H = -(1 + h x) pz + h x + h**2 x**2 / 2`` (curved reference frame, no expansion in
  px, py or delta), applied in xtrack's automatic number of pieces (~2 per mrad; they
  change the map only through rounding). ``edge_entry_active = edge_exit_active =
  False``: no pole-face rotation, no fringe field, no edge focusing of any kind (MAD-X
  ``sbend`` with ``e1 = e2 = 0``, ``fint = 0``);
* multipole: ``xt.Multipole(knl, ksl)``, a thin kick with no curvature (``hxl = 0``);
* marker: ``xt.Marker()``;
* rfcavity: ``xt.Cavity`` with ``voltage = 1e6 volt``, ``frequency = 1e6 freq`` and
  ``phase = 2 pi lag`` (radians), kick ``dptau = q V sin(phase - 2 pi f tau / c)/(P0 c)``
  with ``tau = zeta / beta0`` (= MAD's ``t``); xtrack takes ``|q|``, MAD-NG the signed
  charge, so for a negative charge ``pi`` is added to the phase to follow MAD-NG. With
  ``L > 0``: ``model="drift-kick-drift-exact"``, one kick between two exact half drifts
  (MAD-X's thick ``rfcavity`` without fringe fields).

Splitting error of the thick quadrupoles: for a FODO with k1 = +-0.6 m^-2 and 0.5 m
quadrupoles the tune error against the exact thick-lens matrices is 9e-8 with 0.5 m
slices, 2e-10 with 0.25 m slices and below 1e-13 at the default 0.05 m.

Coordinates in xtrack: ``x, px = Px/P0, y, py = Py/P0``, ``zeta = s - beta0 c t``,
``delta = (P - P0)/P0``, ``ptau = (E - E0)/(P0 c)`` (MAD-X ``PT``) and
``pzeta = ptau / beta0``; ``(1 + delta)**2 = 1 + 2 ptau / beta0 + ptau**2``. At fixed
``delta`` the transverse motion does not depend on ``beta0``: tunes, betas and ``dQ/d
delta`` are the same at any energy, only ``dQ/d ptau`` is not.

What is computed (all from 4d periodic twiss solutions, ``line.twiss(method="4d")``:
closed orbit at fixed ``delta``, no RF, no longitudinal motion):

* ``qx``, ``qy``: FULL tunes (integer part included): one-turn phase advance / 2 pi
  (``tw.qx = tw.mux[-1]``) of the on-momentum solution;
* ``dqx``, ``dqy``: first-order chromaticity ``dQ/d delta`` with ``delta = (P - P0)/P0``,
  the linear coefficient of a degree-``fit_order`` least-squares polynomial through the
  full tunes of the periodic solutions at ``fit_points`` Chebyshev nodes
  ``delta in [-delta_range, delta_range]`` (closed orbit re-found at each ``delta``, so
  sextupole feed-down on the dispersion orbit and the exact-drift/bend terms are
  included);
* ``ddqx``, ``ddqy``: ``d2Q/d delta2`` from the same fit;
* ``dqx_twiss``, ``dqy_twiss``: xtrack's own ``tw.dqx``/``tw.dqy``, the centred difference
  of the full tunes at ``delta = +-5e-5`` (default ``delta_chrom``); its truncation error
  ``Q''' delta_chrom**2 / 6`` is ~4e-7 for strongly sextupolar rings, hence the fit;
* ``dqx_pt``, ``dqy_pt``: ``dQ/d ptau = dqx / beta0``. MAD-X ``twiss`` reports
  ``dq1 = dQ/dPT``, i.e. ``dq1 = dqx_pt`` (xtrack's own tests compare
  ``tw.dqx`` with ``dq1 * beta0``);
* ``betx0``, ``bety0``: periodic beta functions (m) at the entrance of the first element;
* ``beta0``, ``gamma0``: of the reference particle (xtrack's rest masses).

``peer_ring_6d`` uses ``line.twiss(method="6d")``: the 6-d closed orbit and the
eigenvalues of the one-turn matrix, from which xtrack's ``qx``, ``qy`` and ``qs`` (the
synchrotron tune) and, from its 4-d optics, the slip factor ``eta = alpha_c - 1/gamma0**2``.
It needs a cavity whose voltage gives a stable longitudinal motion (``lag = 0`` below
transition, ``0.5`` above for a positive charge) and no net acceleration.

Accuracy (double precision; the twiss builds the one-turn matrix and the phase advance
from finite differences of tracked particles, +-1e-6 normalised amplitude here: ``nemitt``
is set from ``beta0 gamma0`` so that the step, hence the result, does not depend on the
energy, whereas xtrack's default step grows at low energy and moved ``dQ/d delta`` by
3e-8 between 7 TeV and 1 GeV). Errors seen against exact references:

* thin-lens and thick-quadrupole FODO rings (analytic tunes and ``dQ/d delta``): tunes
  2e-13, chromaticities 2e-12, at 7 TeV and at 1 GeV;
* a 4-cell ring with 45 degree sector bends and two sextupole families: tunes and betas
  against the exact linear matrices 1.5e-11 (``qx``) and 2e-13 (``qy``; 1.3e-11 with
  sextupoles on, the amplitude dependence seen by the finite-difference step), betas
  2e-10 m; ``dqx`` scatters by ~1e-7 over energies, fit settings and bend slicings
  (rounding noise of ~1e-11 in the horizontal tunes), ``dqy`` by ~3e-10. Without the
  fit, xtrack's ``tw.dqy`` is off by 3.6e-7 there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["PARTICLES", "peer_ring_6d", "peer_ring_summary", "peer_track"]

# name -> (rest-energy constant in xtrack.particles.masses (CODATA 2022), charge / e)
PARTICLES: dict[str, tuple[str, int]] = {
    "proton": ("PROTON_MASS_EV", 1),
    "antiproton": ("PROTON_MASS_EV", -1),
    "electron": ("ELECTRON_MASS_EV", -1),
    "positron": ("ELECTRON_MASS_EV", 1),
    "muon": ("MUON_MASS_EV", -1),
    "antimuon": ("MUON_MASS_EV", 1),
}

_KICKS_PER_SLICE = 15  # yoshida-8
_W_STEP = 1e-6  # normalised amplitude of the twiss' W-matrix propagation, sqrt(m)
_STEP_W_SIGMA = 0.01  # xtrack's default step in units of the beam sigma


def _import_xtrack() -> Any:
    try:
        import xtrack
    except ImportError as err:
        raise ImportError(
            "peer_ring_summary needs Xsuite's xtrack: pip install xsuite==0.67.0 "
            "(part of diffalg's 'test' and 'bench' extras)"
        ) from err
    return xtrack


def _reference(spec: Mapping[str, Any]) -> tuple[float, int]:
    if "mass_gev" in spec:
        return float(spec["mass_gev"]) * 1e9, int(spec.get("charge", 1))
    name = str(spec.get("particle", "proton")).lower()
    try:
        const, charge = PARTICLES[name]
    except KeyError:
        raise ValueError(f"unknown particle {name!r}; give 'mass_gev' and 'charge'") from None
    from xtrack.particles import masses

    return float(getattr(masses, const)), charge


def _num_slices(length: float, slice_length: float) -> int:
    return max(1, math.ceil(abs(length) / slice_length - 1e-9))


def _build_elements(
    xt: Any, elements: list[Mapping[str, Any]], slice_length: float, charge: int = 1
) -> list:
    out = []
    for i, el in enumerate(elements):
        kind = str(el["type"]).lower()
        if kind == "drift":
            out.append(xt.Drift(length=float(el["L"]), model="exact"))
        elif kind in ("quadrupole", "sextupole"):
            length = float(el["L"])
            common = dict(
                length=length,
                model="drift-kick-drift-exact",
                integrator="yoshida-8",
                num_multipole_kicks=_KICKS_PER_SLICE * _num_slices(length, slice_length),
                edge_entry_active=False,
                edge_exit_active=False,
            )
            if kind == "quadrupole":
                out.append(xt.Quadrupole(k1=float(el.get("k1", 0.0)), **common))
            else:
                out.append(xt.Sextupole(k2=float(el.get("k2", 0.0)), **common))
        elif kind == "sbend":
            out.append(
                xt.Bend(
                    length=float(el["L"]),
                    angle=float(el["angle"]),
                    model="bend-kick-bend",
                    edge_entry_active=False,
                    edge_exit_active=False,
                )
            )
        elif kind == "multipole":
            knl = [float(v) for v in el.get("knl", [])]
            ksl = [float(v) for v in el.get("ksl", [])]
            n = max(len(knl), len(ksl), 1)
            knl += [0.0] * (n - len(knl))
            ksl += [0.0] * (n - len(ksl))
            out.append(xt.Multipole(knl=knl, ksl=ksl))
        elif kind == "marker":
            out.append(xt.Marker())
        elif kind == "rfcavity":
            phase = 2 * math.pi * float(el.get("lag", 0.0)) + (math.pi if charge < 0 else 0.0)
            out.append(
                xt.Cavity(
                    length=float(el.get("L", 0.0)),
                    voltage=float(el["volt"]) * 1e6,
                    frequency=float(el["freq"]) * 1e6,
                    phase=phase,
                    model="drift-kick-drift-exact",
                    integrator="uniform",
                    num_kicks=1,
                )
            )
        else:
            raise ValueError(f"element {i}: unsupported type {el['type']!r}")
    return out


def _context() -> Any:
    """CPU context; kernels come precompiled with ``xsuite``, else are compiled (~30 s)."""
    import xobjects as xo

    ctx = xo.ContextCpu()
    try:
        import xsuite  # noqa: F401
    except ImportError:
        ctx.allow_kernel_compilation = True
    return ctx


def _line(spec: Mapping[str, Any], slice_length: float) -> Any:
    """The spec's line in xtrack, with its reference particle and a built tracker."""
    xt = _import_xtrack()
    mass_ev, charge = _reference(spec)
    energy_ev = float(spec["energy_gev"]) * 1e9
    if not energy_ev > mass_ev:
        raise ValueError(f"total energy {energy_ev} eV must exceed the rest energy {mass_ev} eV")
    elements = list(spec["elements"])
    if not elements:
        raise ValueError("empty ring")
    line = xt.Line(elements=_build_elements(xt, elements, slice_length, charge))
    line.particle_ref = xt.Particles(mass0=mass_ev, q0=charge, energy0=energy_ev)
    line.build_tracker(_context=_context())
    return line


def _twiss_steps(line: Any, method: str) -> dict[str, Any]:
    """Twiss options with an energy-independent finite-difference step (module docstring)."""
    nemitt = (_W_STEP / _STEP_W_SIGMA) ** 2 * float(line.particle_ref.beta0[0] *
                                                    line.particle_ref.gamma0[0])  # fmt: skip
    return dict(method=method, nemitt_x=nemitt, nemitt_y=nemitt, step_W_sigma=_STEP_W_SIGMA)


def peer_track(
    spec: Mapping[str, Any], particles: Any, *, turns: int = 1, slice_length: float = 0.05
) -> Any:
    """``(N, 6)`` particles in MAD-NG coordinates ``(x, px, y, py, t, pt)`` after ``turns``.

    xtrack's ``zeta = beta0 t`` and ``ptau = pt``; the other coordinates are the same.
    """
    import numpy as np

    z = np.asarray(particles, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != 6:
        raise ValueError(f"peer_track: particles must have shape (N, 6), got {z.shape}")
    line = _line(spec, slice_length)
    beta0 = float(line.particle_ref.beta0[0])
    p = line.build_particles(x=z[:, 0], px=z[:, 1], y=z[:, 2], py=z[:, 3],
                             zeta=z[:, 4] * beta0, ptau=z[:, 5])  # fmt: skip
    line.track(p, num_turns=int(turns))
    if np.any(p.state <= 0):
        raise ValueError("peer_track: particles were lost in xtrack")
    order = np.argsort(p.particle_id)  # xtrack may reorder particles
    out = np.stack([p.x, p.px, p.y, p.py, p.zeta / beta0, p.ptau], axis=1)
    return out[order]


def peer_ring_6d(spec: Mapping[str, Any], *, slice_length: float = 0.05) -> dict[str, float]:
    """Eigen-tunes of the ring's 6-d one-turn matrix (xtrack ``twiss(method="6d")``).

    Returns Python floats: ``qx``, ``qy`` (full tunes), ``qs`` (synchrotron tune),
    ``slip_factor`` ``eta`` and ``momentum_compaction`` ``alpha_c`` (from the 4-d optics,
    ``eta = alpha_c - 1/gamma0**2``), ``length`` (m), ``beta0``, ``gamma0``.
    """
    line = _line(spec, slice_length)
    try:
        tw6 = line.twiss(**_twiss_steps(line, "6d"))
        tw4 = line.twiss(**_twiss_steps(line, "4d"))
    except Exception as err:  # xtrack raises bare errors for unstable rings
        raise ValueError(f"xtrack 6-d twiss failed: {err!r}") from err
    return {
        "qx": float(tw6.qx),
        "qy": float(tw6.qy),
        "qs": float(tw6.qs),
        "slip_factor": float(tw4.slip_factor),
        "momentum_compaction": float(tw4.momentum_compaction_factor),
        "length": float(line.get_length()),
        "beta0": float(line.particle_ref.beta0[0]),
        "gamma0": float(line.particle_ref.gamma0[0]),
    }


def peer_ring_summary(
    spec: Mapping[str, Any],
    *,
    slice_length: float = 0.05,
    delta_range: float = 1e-3,
    fit_points: int = 15,
    fit_order: int = 6,
) -> dict[str, float]:
    """Tunes, chromaticities and start-of-ring betas of ``spec``'s ring, computed by xtrack.

    See the module docstring for the spec format, the element models, the conventions and
    the accuracy. ``slice_length`` (m) bounds one 8th-order Yoshida slice of the thick
    quadrupoles and sextupoles; ``delta_range``, ``fit_points`` and ``fit_order`` set the
    polynomial fit of ``Q(delta)`` that gives the chromaticities (the ring must stay
    stable over ``|delta| <= delta_range``).

    Returns Python floats: ``qx``, ``qy`` (full tunes), ``dqx``, ``dqy``
    (``dQ/d delta``, ``delta = (P - P0)/P0``), ``betx0``, ``bety0`` and the extras
    ``ddqx``, ``ddqy``, ``dqx_twiss``, ``dqy_twiss``, ``dqx_pt``, ``dqy_pt``, ``beta0``,
    ``gamma0``. Raises ``ImportError`` when xtrack is missing and ``ValueError`` for a
    malformed spec or a ring without a stable periodic solution.
    """
    import numpy as np

    if fit_points < fit_order + 1:
        raise ValueError("fit_points must exceed fit_order")
    line = _line(spec, slice_length)
    beta0 = float(line.particle_ref.beta0[0])
    gamma0 = float(line.particle_ref.gamma0[0])
    kw = _twiss_steps(line, "4d")

    def twiss(delta0: float | None = None) -> Any:
        try:
            return line.twiss(delta0=delta0, **kw)
        except Exception as err:  # xtrack raises bare errors for unstable/singular rings
            where = "" if delta0 is None else f" at delta = {delta0:g}"
            raise ValueError(f"xtrack twiss failed{where}: {err!r}") from err

    tw = twiss()
    n = np.arange(fit_points)
    deltas = delta_range * np.cos(np.pi * (n + 0.5) / fit_points)
    tws = [twiss(float(d)) for d in deltas]
    poly = np.polynomial.polynomial
    cx = poly.polyfit(deltas, [float(t.qx) for t in tws], fit_order)
    cy = poly.polyfit(deltas, [float(t.qy) for t in tws], fit_order)

    dqx, dqy = float(cx[1]), float(cy[1])
    return {
        "qx": float(tw.qx),
        "qy": float(tw.qy),
        "dqx": dqx,
        "dqy": dqy,
        "betx0": float(tw.betx[0]),
        "bety0": float(tw.bety[0]),
        "ddqx": 2.0 * float(cx[2]),
        "ddqy": 2.0 * float(cy[2]),
        "dqx_twiss": float(tw.dqx),
        "dqy_twiss": float(tw.dqy),
        "dqx_pt": dqx / beta0,
        "dqy_pt": dqy / beta0,
        "beta0": beta0,
        "gamma0": gamma0,
    }
