"""A lattice: elements in sequence, its one-turn map, tracking and ring analysis.

The one-turn map is the elements applied in turn to the six DA variables.
Ring functions read it: tunes and Twiss parameters from its linear part,
chromaticities from the tunes *as series in pt* — the transverse closed orbit is
first found as a series in ``pt`` (so dispersion and the sextupoles' feed-down
are in), then the transverse Jacobian is evaluated on it and the tune
``acos(trace/2)/2π`` taken in DA, whose ``pt`` coefficients are the chromaticities
of every order.
"""

from __future__ import annotations

import math

import numpy as np

from ..algebra import Descriptor
from ..ops import acos, series
from ..ops.creation import tensor
from ..tensor import Tensor
from .beam import Beam
from .elements import Element
from .taylor_map import TaylorMap

COORDS = ("x", "px", "y", "py", "t", "pt")


class UnstableLatticeError(ValueError):
    """The linear one-turn motion in a plane is not bounded: no tune, no Twiss."""


class Lattice:
    """A sequence of elements for one beam.

    >>> import diffalg as dg
    >>> from diffalg.maps import Beam, Drift, Lattice, Multipole
    >>> f, L = 5.0, 4.0   # thin-lens FODO: cos μ = 1 - L²/(2 f²)
    >>> cell = Lattice([Multipole(knl=[0, 1 / (2 * f)]), Drift(L), Multipole(knl=[0, -1 / f]),
    ...                 Drift(L), Multipole(knl=[0, 1 / (2 * f)])], Beam("proton", energy=450))
    >>> qx, qy = cell.tunes()
    >>> round(qx, 10) == round(math.acos(1 - L**2 / (2 * f**2)) / (2 * math.pi), 10)
    True
    """

    def __init__(self, elements, beam: Beam):
        elements = list(elements)
        for e in elements:
            if not isinstance(e, Element):
                raise TypeError(f"Lattice: {e!r} is not an element")
        if not isinstance(beam, Beam):
            raise TypeError("Lattice: beam must be a diffalg.maps.Beam")
        self.elements, self.beam = elements, beam

    def __repr__(self):
        return f"Lattice({len(self.elements)} elements, length {self.length:g} m, {self.beam!r})"

    @property
    def length(self) -> float:
        return float(sum(e.L for e in self.elements))

    # --------------------------------------------------------- propagation
    def propagate(self, z):
        """The six coordinates (float or DA tensors) through every element."""
        for e in self.elements:
            z = e.track(z, self.beam)
        return z

    def track(self, particles, turns=1) -> np.ndarray:
        """Element-by-element tracking of ``(N, 6)`` particles for ``turns`` turns."""
        p = np.asarray(particles, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 6:
            raise ValueError(f"track: particles must have shape (N, 6), got {p.shape}")
        z = [tensor(p[:, i].copy()) for i in range(6)]
        for _ in range(int(turns)):
            z = self.propagate(z)
        return np.stack([np.broadcast_to(np.asarray(c._data), p.shape[:1]) for c in z], axis=1)

    def descriptor(self, order, params=None, param_order=None) -> Descriptor:
        return Descriptor(variables=list(COORDS), order=order, params=params,
                          param_order=param_order)  # fmt: skip

    def map(self, order=None, desc: Descriptor | None = None) -> TaylorMap:
        """The one-turn (or one-pass) Taylor map to ``order``, or in the descriptor ``desc``."""
        if desc is None:
            if order is None:
                raise ValueError("map: give order= or desc=")
            desc = self.descriptor(order)
        if desc.nv != 6:
            raise ValueError(f"map: the descriptor needs 6 variables {COORDS}, has {desc.nv}")
        return TaylorMap(self.propagate(desc.vars()))

    # ------------------------------------------------------- ring analysis
    def _plane_tune(self, m11, m12, m22, plane):
        cos_mu = (m11 + m22) / 2
        c0 = float(cos_mu.const if isinstance(cos_mu, Tensor) else cos_mu)
        if not abs(c0) < 1:
            raise UnstableLatticeError(
                f"the {plane} motion is unstable: |trace/2| = {abs(c0):.6g} >= 1, so it has "
                "no tune or Twiss parameters"
            )
        m12_0 = float(m12.const if isinstance(m12, Tensor) else m12)
        mu = acos(cos_mu) if isinstance(cos_mu, Tensor) else math.acos(c0)
        return mu if m12_0 > 0 else 2 * math.pi - mu

    def tunes(self) -> tuple[float, float]:
        """Fractional tunes ``(qx, qy)`` from the linear one-turn map."""
        R = self.map(order=1).linear()
        return tuple(
            float(self._plane_tune(R[i, i], R[i, i + 1], R[i + 1, i + 1], n)) / (2 * math.pi)
            for i, n in ((0, "horizontal"), (2, "vertical"))
        )

    def twiss(self) -> dict:
        """Periodic ``beta, alpha`` and tunes at the start, from the linear one-turn map."""
        R = self.map(order=1).linear()
        out = {}
        for i, n in ((0, "x"), (2, "y")):
            mu = self._plane_tune(R[i, i], R[i, i + 1], R[i + 1, i + 1], n)
            s = math.sin(mu)
            out[f"bet{n}"] = R[i, i + 1] / s
            out[f"alf{n}"] = (R[i, i] - R[i + 1, i + 1]) / (2 * s)
            out[f"q{n}"] = mu / (2 * math.pi)
        return out

    def tunes_vs_pt(self, order=2):
        """The tunes as series in ``pt`` about the off-momentum closed orbit (1-d DA tensors)."""
        if order < 1:
            raise ValueError("tunes_vs_pt: order must be >= 1")
        d = self.descriptor(order + 1)
        M = self.map(desc=d)
        pt = d.var(5)
        zero = d.zeros()
        # transverse closed orbit u(pt): u = M_T(u, t=0, pt), each pass exact to one more order
        step = np.linalg.inv(M.linear()[:4, :4] - np.eye(4))  # fixed: one order per pass
        orbit = [zero] * 4
        for _ in range(order + 1):
            resid = [series.compose(M[i], *orbit, zero, pt) - orbit[i] for i in range(4)]
            orbit = [orbit[i] - sum(step[i, j] * resid[j] for j in range(4)) for i in range(4)]
        on_orbit = [*orbit, zero, pt]

        def jac(i, j):
            return series.compose(M[i].deriv(j), *on_orbit)

        q = []
        for i, n in ((0, "horizontal"), (2, "vertical")):
            mu = self._plane_tune(jac(i, i), jac(i, i + 1), jac(i + 1, i + 1), n)
            q.append((mu / (2 * math.pi)).truncate(order))
        return q

    def chromaticity(self, wrt="delta") -> tuple[float, float]:
        """First-order chromaticities ``(dqx, dqy)``: ``dQ/dδ`` (default) or ``dQ/dpt``.

        ``δ = ΔP/P0``; at the reference ``dδ/dpt = 1/β0``, so ``dQ/dδ = β0 dQ/dpt``.
        """
        if wrt not in ("delta", "pt"):
            raise ValueError(f"chromaticity: wrt must be 'delta' or 'pt', got {wrt!r}")
        scale = self.beam.beta0 if wrt == "delta" else 1.0
        return tuple(float(q.coeff((0, 0, 0, 0, 0, 1))) * scale for q in self.tunes_vs_pt(1))

    def amplitude_detuning(self, jmax=1e-8, **options) -> dict:
        """Detuning coefficients ``dQ/dJ`` (1/m) from tracking through the one-turn map.

        See :func:`diffalg.maps.detuning.amplitude_detuning` (``order``, ``turns``,
        ``points``, ``degree``); returns ``det_xx = dQx/dJx``, ``det_xy = dQx/dJy``,
        ``det_yx``, ``det_yy``, the fit's ``qx``, ``qy``, ``curvature`` and ``residual``.
        """
        from .detuning import amplitude_detuning  # noqa: PLC0415 - detuning imports Lattice

        return amplitude_detuning(self, jmax, **options)


__all__ = ["COORDS", "Lattice", "UnstableLatticeError"]
