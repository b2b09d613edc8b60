"""Ring optics from an established tracking code (Xsuite's ``xtrack``), for cross-checks.

``peer_ring_summary(spec)`` builds a ring in xtrack from a plain-Python description and
returns its tunes, first-order chromaticities and the beta functions at the start. The
spec uses MAD-X conventions::

    {"particle": "proton",            # or "antiproton", "electron", "positron", or
                                      # "mass_gev"/"charge" keys instead
     "energy_gev": 1.0,               # TOTAL energy of the reference particle
     "elements": [
        {"type": "drift", "L": 2.0},
        {"type": "quadrupole", "L": 0.5, "k1": 0.6},    # k1 = (1/B rho) dBy/dx
        {"type": "sextupole", "L": 0.2, "k2": 1.5},     # k2 = (1/B rho) d2By/dx2
        {"type": "sbend", "L": 2.0, "angle": 0.39},     # sector bend, no edge focusing
        {"type": "multipole", "knl": [0, 0.1], "ksl": []},  # thin, knl[n] = K_n L
        {"type": "marker"},
     ]}

Elements may carry extra keys (``name``, ...); they are ignored. ``knl``/``ksl`` follow
the MAD-X factorial convention: the thin kick is
``dpx - i dpy = -sum_n (knl[n] + i ksl[n]) (x + i y)**n / n!``.

Model used in the peer (xtrack 0.118.4, installed through ``xsuite`` 0.67.0):

* drifts: ``xt.Drift(model="exact")``, the exact (non-paraxial) drift
  ``x += L px / pz`` with ``pz = sqrt((1 + delta)**2 - px**2 - py**2)``;
* quadrupoles and sextupoles: thick ``xt.Quadrupole``/``xt.Sextupole`` with
  ``model="drift-kick-drift-exact"``: exact drifts alternating with canonical multipole
  kicks, arranged by the 8th-order symplectic Yoshida scheme (``integrator="yoshida-8"``,
  15 kicks per slice), ``ceil(L / slice_length)`` slices (default ``slice_length`` 0.05 m,
  so a 0.5 m quadrupole gets 10 slices = 150 kicks). Edge (fringe) effects are off;
* sector bends: ``xt.Bend(model="bend-kick-bend")`` with ``k0 = h = angle / L``; the body
  is the exact map of the curved-frame Hamiltonian with a uniform dipole field (no
  expansion in px, py or delta). ``edge_entry_active = edge_exit_active = False``, so no
  pole-face or fringe focusing (a MAD-X ``sbend`` with ``e1 = e2 = 0`` and
  ``fint = 0``);
* thin multipoles: ``xt.Multipole(knl, ksl)`` (length 0, no curvature ``hxl``).

With these choices the transverse map is the exact one of the MAD-X/PTC "exact"
Hamiltonian up to the splitting error of the thick quadrupoles/sextupoles, which at the
default slicing is below 1e-10 in the tunes for the strengths used in the tests (halving
``slice_length`` changes nothing at that level; the self-check of this module's author
used a 10 m FODO with k1 ~ 0.6 m^-2).

Coordinates in xtrack are ``x, px = Px/P0, y, py = Py/P0, zeta = s - beta0 c t,
delta = (P - P0)/P0``. The transverse motion at fixed ``delta`` does not depend on
``beta0``; the reference energy only enters through the conversion between ``delta``
and the energy-like variables.

Results, from ``line.twiss(method="4d")`` (periodic solution with ``delta`` frozen, no
RF needed):

* ``qx``, ``qy``: FULL tunes (integer part included), ``mux[-1]``/``muy[-1]`` in units of
  2 pi, from the phase advance propagated around the ring;
* ``dqx``, ``dqy``: ``dQ/d delta`` with ``delta = (P - P0)/P0``, the momentum deviation.
  xtrack computes it as a centred finite difference of the full tunes of the periodic
  off-momentum solutions at ``delta = +-delta_chrom`` (default here 1e-4; closed orbit
  re-found at each ``delta``, so feed-down from sextupoles on the dispersive orbit is
  included). MAD-X ``twiss`` reports ``dq1 = dQ/dPT`` with ``PT = dE/(P0 c)``; since
  ``d delta/d PT = 1/beta0`` at ``PT = 0``, ``dq1 = dqx / beta0``; ``dQ/dPT`` is returned
  too, as ``dqx_pt``/``dqy_pt``;
* ``betx0``, ``bety0``: periodic beta functions (m) at the entrance of the first element.

The dict also carries ``beta0`` and ``gamma0`` of the reference particle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["PARTICLES", "peer_ring_summary"]

# rest energy (eV) and charge (units of e)
PARTICLES: dict[str, tuple[float, int]] = {
    "proton": (938.27208816e6, 1),
    "antiproton": (938.27208816e6, -1),
    "electron": (0.51099895e6, -1),
    "positron": (0.51099895e6, 1),
}


def _import_xtrack() -> Any:
    try:
        import xtrack
    except ImportError as err:
        raise ImportError(
            "peer_ring_summary needs the Xsuite tracking code: pip install xsuite==0.67.0 "
            "(or the 'test'/'bench' extras of diffalg)"
        ) from err
    return xtrack


def _particle(spec: Mapping[str, Any]) -> tuple[float, int]:
    if "mass_gev" in spec:
        return float(spec["mass_gev"]) * 1e9, int(spec.get("charge", 1))
    name = str(spec.get("particle", "proton")).lower()
    try:
        return PARTICLES[name]
    except KeyError:
        raise ValueError(f"unknown particle {name!r}; give 'mass_gev' and 'charge'") from None


def _num_slices(length: float, slice_length: float) -> int:
    return max(1, math.ceil(abs(length) / slice_length - 1e-9))


def _build_elements(xt: Any, elements: list[Mapping[str, Any]], slice_length: float) -> list:
    out = []
    kicks_per_slice = 15  # yoshida-8
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
                num_multipole_kicks=kicks_per_slice * _num_slices(length, slice_length),
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
        else:
            raise ValueError(f"element {i}: unsupported type {el['type']!r}")
    return out


def peer_ring_summary(
    spec: Mapping[str, Any],
    *,
    slice_length: float = 0.05,
    delta_chrom: float = 1e-4,
) -> dict[str, float]:
    """Tunes, chromaticities and start-of-ring betas of ``spec``'s ring, computed by xtrack.

    See the module docstring for the spec format, the element models and the meaning of
    each returned number. ``slice_length`` (m) bounds the length of one 8th-order Yoshida
    slice in thick quadrupoles and sextupoles; ``delta_chrom`` is the momentum deviation
    of xtrack's centred difference for the chromaticity.

    Returns ``{"qx", "qy", "dqx", "dqy", "betx0", "bety0", "dqx_pt", "dqy_pt", "beta0",
    "gamma0"}`` as Python floats; ``qx``/``qy`` are full tunes and ``dqx``/``dqy`` are
    ``dQ/d delta`` with ``delta = (P - P0)/P0``. Raises ``ImportError`` when xtrack is
    not installed and ``ValueError`` for a malformed spec or an unstable ring.
    """
    xt = _import_xtrack()
    mass_ev, charge = _particle(spec)
    energy_ev = float(spec["energy_gev"]) * 1e9
    if not energy_ev > mass_ev:
        raise ValueError(f"total energy {energy_ev} eV must exceed the rest energy {mass_ev} eV")
    elements = list(spec["elements"])
    if not elements:
        raise ValueError("empty ring")

    line = xt.Line(elements=_build_elements(xt, elements, slice_length))
    line.particle_ref = xt.Particles(mass0=mass_ev, q0=charge, energy0=energy_ev)
    try:
        tw = line.twiss(method="4d", delta_chrom=delta_chrom)
    except Exception as err:  # xtrack raises plain exceptions for unstable/singular rings
        raise ValueError(f"xtrack twiss failed: {err}") from err

    beta0 = float(line.particle_ref.beta0[0])
    gamma0 = float(line.particle_ref.gamma0[0])
    dqx = float(tw.dqx)
    dqy = float(tw.dqy)
    return {
        "qx": float(tw.qx),
        "qy": float(tw.qy),
        "dqx": dqx,
        "dqy": dqy,
        "betx0": float(tw.betx[0]),
        "bety0": float(tw.bety[0]),
        "dqx_pt": dqx / beta0,
        "dqy_pt": dqy / beta0,
        "beta0": beta0,
        "gamma0": gamma0,
    }
