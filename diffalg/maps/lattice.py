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
from ..ops.adjoint import coefficients
from ..ops.creation import tensor
from ..ops.shape import stack
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

    def tunes_vs_pt(self, order=None, desc: Descriptor | None = None):
        """The tunes as series in ``pt`` about the off-momentum closed orbit (0-d DA tensors).

        To ``order`` in ``pt`` (default 2), worked out in the six coordinates to
        ``order + 1`` (the Jacobian on the orbit loses one order).  Or in ``desc``:
        a descriptor of the six coordinates that may carry parameters (the knobs
        the strengths were built with); the tunes are then series in ``pt`` and
        the knobs, to ``order`` (default and at most ``desc.order - 1``).

        Strengths that are tensors requiring grad keep the tunes on the tape.  The
        closed-orbit passes use the linear part as a fixed matrix, detached from
        the tape, and their gradients are still exact: a change ``ε`` of the
        strengths leaves that matrix off by ``O(ε)``, each pass multiplies the
        orbit's error by ``O(ε)``, and after two passes or more nothing of it is
        left at first order.  With knobs each pass gains one order in ``pt`` and
        the knobs together, so their coefficients are exact as well.

        >>> from diffalg.maps import Beam, Drift, Lattice, Multipole
        >>> cell = Lattice([Multipole(knl=[0, 0.1, 0.3]), Drift(4.0), Multipole(knl=[0, -0.2, -0.5]),
        ...                 Drift(4.0), Multipole(knl=[0, 0.1, 0.3])], Beam("proton", energy=450))
        >>> qx, qy = cell.tunes_vs_pt(2)
        >>> round(qx.const, 12) == round(cell.tunes()[0], 12)
        True
        """
        if desc is None:
            order = 2 if order is None else order
            if order < 1:
                raise ValueError("tunes_vs_pt: order must be >= 1")
            d = self.descriptor(order + 1)
        else:
            d = desc
            if d.nv != 6:
                raise ValueError(
                    f"tunes_vs_pt: the descriptor needs 6 variables {COORDS}, has {d.nv}"
                )
            order = d.order - 1 if order is None else order
            if not 1 <= order <= d.order - 1:
                raise ValueError(
                    f"tunes_vs_pt: order must lie in [1, desc.order - 1 = {d.order - 1}], "
                    f"got {order}"
                )
        M = self.map(desc=d)
        pt = d.var(5)
        zero = d.zeros()
        knobs = [d.var(6 + j) for j in range(d.np)]
        # transverse closed orbit u(pt): u = M_T(u, t=0, pt), each pass exact to one more order
        step = np.linalg.inv(M.linear()[:4, :4] - np.eye(4))  # fixed: one order per pass
        orbit = [zero] * 4
        for _ in range(d.order):
            resid = [series.compose(M[i], *orbit, zero, pt, *knobs) - orbit[i] for i in range(4)]
            orbit = [orbit[i] - sum(step[i, j] * resid[j] for j in range(4)) for i in range(4)]
        on_orbit = [*orbit, zero, pt, *knobs]

        def jac(i, j):
            return series.compose(M[i].deriv(j), *on_orbit)

        q = []
        for i, n in ((0, "horizontal"), (2, "vertical")):
            mu = self._plane_tune(jac(i, i), jac(i, i + 1), jac(i + 1, i + 1), n)
            q.append((mu / (2 * math.pi)).truncate(order))
        return q

    def chromaticity(self, wrt="delta", tensor=False):
        """First-order chromaticities ``(dqx, dqy)``: ``dQ/dδ`` (default) or ``dQ/dpt``.

        ``δ = ΔP/P0``; at the reference ``dδ/dpt = 1/β0``, so ``dQ/dδ = β0 dQ/dpt``.
        Floats by default; ``tensor=True`` gives a real tensor of shape ``(2,)`` on
        the tape, so that strengths given as tensors with ``requires_grad=True``
        get its gradient.

        >>> import diffalg as dg
        >>> from diffalg.maps import Beam, Drift, Lattice, Multipole
        >>> k = dg.tensor(0.2, dtype=dg.float64, requires_grad=True)   # thin-lens FODO, 1/f = k
        >>> cell = Lattice([Multipole(knl=[0, k / 2]), Drift(4.0), Multipole(knl=[0, -k]),
        ...                 Drift(4.0), Multipole(knl=[0, k / 2])], Beam("proton", energy=1.2))
        >>> xi = cell.chromaticity(tensor=True)   # ξ = -tan(μ/2)/π, cos μ = 1 - (4k)²/2
        >>> xi.shape
        (2,)
        >>> xi[0].backward()
        >>> mu = math.acos(1 - (4 * 0.2) ** 2 / 2)
        >>> dxi_dk = -(4**2) * 0.2 / (2 * math.pi * math.sin(mu) * math.cos(mu / 2) ** 2)
        >>> abs(float(k.grad) - dxi_dk) < 1e-14
        True
        """
        if wrt not in ("delta", "pt"):
            raise ValueError(f"chromaticity: wrt must be 'delta' or 'pt', got {wrt!r}")
        scale = self.beam.beta0 if wrt == "delta" else 1.0
        q = self.tunes_vs_pt(1)
        i = q[0].desc.index((0, 0, 0, 0, 0, 1))
        if tensor:
            return stack([coefficients(t)[i] for t in q]) * scale
        return tuple(float(t.coeff((0, 0, 0, 0, 0, 1))) * scale for t in q)

    def amplitude_detuning(self, jmax=1e-8, **options) -> dict:
        """Detuning coefficients ``dQ/dJ`` (1/m) from tracking through the one-turn map.

        See :func:`diffalg.maps.detuning.amplitude_detuning` (``order``, ``turns``,
        ``points``, ``degree``); returns ``det_xx = dQx/dJx``, ``det_xy = dQx/dJy``,
        ``det_yx``, ``det_yy``, the fit's ``qx``, ``qy``, ``curvature`` and ``residual``.
        """
        from .detuning import amplitude_detuning  # noqa: PLC0415 - detuning imports Lattice

        return amplitude_detuning(self, jmax, **options)


__all__ = ["COORDS", "Lattice", "UnstableLatticeError"]
