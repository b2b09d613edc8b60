"""Accelerator elements in MAD-NG's 6-D canonical coordinates ``(x, px, y, py, t, pt)``.

``px = Px/P0``, ``py = Py/P0``, ``pt = ΔE/(P0 c)`` and ``t = −c Δ(arrival time)``,
so with the beam's reference velocity ``β0``

    (1 + δ)² = 1 + 2 pt/β0 + pt²,      pz = sqrt((1 + δ)² − px² − py²).

Each element is one function of the six coordinates, ``track(z, beam)``, written
with diffalg's operations: fed float tensors (one value per particle) it
tracks particles; fed the six DA variables it returns the element's Taylor
map — the same code, so map and tracking cannot disagree.

* :class:`Drift` — the exact (not paraxial) drift.
* :class:`Multipole` — a thin kick with MAD-X's integrated strengths ``knl``,
  ``ksl``: ``Δpx − i Δpy = −Σ_n (knl_n + i ksl_n) (x + i y)^n / n!``.
* :class:`Quadrupole`, :class:`Sextupole`, :class:`Octupole` — thick, integrated
  by symmetric drift–kick–drift steps composed to order 2, 4, 6 or 8 (Yoshida);
  the result converges to the exact map of ``H = −pz + pt/β0 + V(x, y)`` as the
  slices grow.
* :class:`SBend` — a sector dipole, the exact map for its design field (the
  particle's circle intersected with the exit face); thin linear edge focusing
  on request.
* :class:`RFCavity` — MAD-X/MAD-NG's ``rfcavity``: a thin energy kick
  ``Δpt = (q V / P0 c) sin(2π lag − 2π f t / c)``, between two half drifts when
  it has a length.
* :class:`Marker` — nothing.
"""

from __future__ import annotations

import math
from numbers import Real

from ..ops import asin, atan, sin, sqrt
from .beam import C_LIGHT


class Element:
    """Base class: a named piece of beam line of length ``L`` (metres)."""

    L = 0.0

    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()

    def track(self, z, beam):  # pragma: no cover - every element defines it
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self._fields().items())
        return f"{type(self).__name__}({fields})"

    def _fields(self):
        return {"L": self.L} if self.L else {}


def _pz(z, beam):
    x, px, y, py, t, pt = z
    return sqrt(1 + 2 * pt / beam.beta0 + pt * pt - px * px - py * py)


def drift(z, L, beam):
    """The exact drift of length ``L``."""
    x, px, y, py, t, pt = z
    pz = _pz(z, beam)
    return [x + L * px / pz, px, y + L * py / pz, py,
            t + L / beam.beta0 - L * (1 / beam.beta0 + pt) / pz, pt]  # fmt: skip


def kick(z, knl, ksl):
    """Thin multipole kick: ``Δpx − i Δpy = −Σ_n (knl_n + i ksl_n) (x + i y)^n / n!``."""
    x, px, y, py, t, pt = z
    n = max(len(knl), len(ksl))
    if n == 0:
        return z
    kn = list(knl) + [0.0] * (n - len(knl))
    ks = list(ksl) + [0.0] * (n - len(ksl))
    # Horner in the complex variable x + i y, with real and imaginary parts apart
    br, bi = kn[-1] / math.factorial(n - 1), ks[-1] / math.factorial(n - 1)
    for j in range(n - 2, -1, -1):
        br, bi = (
            br * x - bi * y + kn[j] / math.factorial(j),
            br * y + bi * x + ks[j] / math.factorial(j),
        )
    return [x, px - br, y, py + bi, t, pt]


class Drift(Element):
    """A field-free straight section, exact kinematics."""

    def __init__(self, L, *, name=None):
        super().__init__(name)
        self.L = float(L)

    def track(self, z, beam):
        return drift(z, self.L, beam)


class Marker(Element):
    """A named point of the line; does nothing."""

    def __init__(self, *, name=None):
        super().__init__(name)

    def track(self, z, beam):
        return z


class Multipole(Element):
    """A thin multipole: normal ``knl`` and skew ``ksl`` integrated strengths (MAD-X)."""

    def __init__(self, knl=(), ksl=(), *, name=None):
        super().__init__(name)
        self.knl, self.ksl = list(knl), list(ksl)

    def _fields(self):
        return {"knl": self.knl, "ksl": self.ksl}

    def track(self, z, beam):
        return kick(z, self.knl, self.ksl)


def yoshida_weights(order: int) -> list[float]:
    """Step fractions of the symmetric composition of drift–kick–drift to ``order``.

    Order 2 is one step; each further order triples it (Yoshida 1990):
    ``S_{2k+2}(h) = S_{2k}(w1 h) S_{2k}(w0 h) S_{2k}(w1 h)``, ``w1 = 1/(2 − 2^{1/(2k+1)})``,
    ``w0 = 1 − 2 w1``.
    """
    if order not in (2, 4, 6, 8):
        raise ValueError(f"integrator order must be 2, 4, 6 or 8, got {order}")
    w = [1.0]
    for k in range(1, order // 2):
        w1 = 1.0 / (2.0 - 2.0 ** (1.0 / (2 * k + 1)))
        w0 = 1.0 - 2.0 * w1
        w = [w1 * a for a in w] + [w0 * a for a in w] + [w1 * a for a in w]
    return w


class ThickMultipole(Element):
    """A straight magnet with normal gradients ``k[n]`` (``k1`` quadrupole, ``k2`` sextupole...).

    Integrated with ``slices`` symmetric steps of the given ``integrator`` order.
    """

    def __init__(self, L, knl_per_m, ksl_per_m=(), *, slices=4, integrator=4, name=None):
        super().__init__(name)
        self.L = float(L)
        if int(slices) < 1:
            raise ValueError(f"slices must be >= 1, got {slices}")
        self.slices, self.integrator = int(slices), int(integrator)
        self._weights = yoshida_weights(self.integrator)
        self.kn, self.ks = list(knl_per_m), list(ksl_per_m)

    def track(self, z, beam):
        h = self.L / self.slices
        for _ in range(self.slices):
            for w in self._weights:
                step = w * h
                z = drift(z, step / 2, beam)
                z = kick(z, [k * step for k in self.kn], [k * step for k in self.ks])
                z = drift(z, step / 2, beam)
        return z


class Quadrupole(ThickMultipole):
    """``k1 = (1/Bρ) ∂By/∂x`` (1/m²); ``k1s`` skew."""

    def __init__(self, L, k1, k1s=0.0, *, slices=4, integrator=4, name=None):
        self.k1, self.k1s = k1, k1s
        super().__init__(L, [0.0, k1], [0.0, k1s], slices=slices, integrator=integrator, name=name)

    def _fields(self):
        return {"L": self.L, "k1": self.k1}


class Sextupole(ThickMultipole):
    """``k2 = (1/Bρ) ∂²By/∂x²`` (1/m³)."""

    def __init__(self, L, k2, *, slices=2, integrator=2, name=None):
        self.k2 = k2
        super().__init__(L, [0.0, 0.0, k2], slices=slices, integrator=integrator, name=name)

    def _fields(self):
        return {"L": self.L, "k2": self.k2}


class Octupole(ThickMultipole):
    """``k3 = (1/Bρ) ∂³By/∂x³`` (1/m⁴)."""

    def __init__(self, L, k3, *, slices=2, integrator=2, name=None):
        self.k3 = k3
        super().__init__(L, [0.0, 0.0, 0.0, k3], slices=slices, integrator=integrator, name=name)

    def _fields(self):
        return {"L": self.L, "k3": self.k3}


class SBend(Element):
    """A sector bend of length ``L`` (arc) and ``angle``, field matched to its curvature.

    The exact map: in the bend plane the particle runs on a circle of radius
    ``ρ pw`` (``ρ = L/angle``, ``pw = sqrt((1 + δ)² − py²)``) until it meets the
    exit face; with ``ψ = atan(px/pz) − asin(px_out/pw)`` the turned angle is
    ``φ = angle + ψ`` and

        px_out = (pz − 1 − h x) sin θ + px cos θ
        x_out  = ρ [(1 + h x − pz) cos θ + px sin θ + sqrt(pw² − px_out²) − 1]
        y_out  = y + ρ φ py,     t_out = t + ρ θ/β0 − ρ φ (1/β0 + pt).

    ``edges=True`` adds MAD-X's thin linear edge focusing for face angles ``e1, e2``
    (off by default).
    """

    def __init__(self, L, angle, *, e1=0.0, e2=0.0, edges=False, name=None):
        super().__init__(name)
        if angle == 0:
            raise ValueError("SBend: angle must be nonzero (use a Drift or Quadrupole)")
        self.L, self.angle = float(L), float(angle)
        self.e1, self.e2, self.edges = float(e1), float(e2), bool(edges)

    def _fields(self):
        return {"L": self.L, "angle": self.angle}

    def _edge(self, z, e):
        h = self.angle / self.L
        x, px, y, py, t, pt = z
        return [x, px + h * math.tan(e) * x, y, py - h * math.tan(e) * y, t, pt]

    def track(self, z, beam):
        if self.edges:
            z = self._edge(z, self.e1)
        x, px, y, py, t, pt = z
        theta, rho = self.angle, self.L / self.angle
        h = 1.0 / rho
        c, s = math.cos(theta), math.sin(theta)
        pw = sqrt(1 + 2 * pt / beam.beta0 + pt * pt - py * py)
        pz = sqrt(pw * pw - px * px)
        px_out = (pz - 1 - h * x) * s + px * c
        pz_out = sqrt(pw * pw - px_out * px_out)
        phi = theta + atan(px / pz) - asin(px_out / pw)
        x_out = rho * ((1 + h * x - pz) * c + px * s + pz_out - 1)
        z = [x_out, px_out, y + rho * phi * py, py,
             t + rho * theta / beam.beta0 - rho * phi * (1 / beam.beta0 + pt), pt]  # fmt: skip
        if self.edges:
            z = self._edge(z, self.e2)
        return z


class RFCavity(Element):
    """An RF cavity (MAD-X/MAD-NG ``rfcavity``): ``volt`` (MV), ``freq`` (MHz), ``lag`` (2π).

    The thin kick changes only the energy, with the beam's charge ``q`` (in
    units of e) and momentum ``P0 c`` (GeV),

        pt ← pt + (q V / P0 c) sin(2π lag − 2π f t / c),

    ``t = −c Δ(arrival time)``, so a particle arriving late (``t < 0``) sees the
    phase later in the cycle.  With a length ``L`` the kick sits between two
    drifts of ``L/2`` (MAD-X's ``rfcavity``; no fringe fields).  Without
    acceleration (``sin(2π lag) = 0``) the bunch is stable for ``lag = 0`` below
    transition and ``lag = 0.5`` above it (for positive ``q V``).  A ring of
    length ``C`` needs ``f = h β0 c / C`` with an integer harmonic ``h``.

    >>> from diffalg.maps import Beam, Lattice
    >>> beam = Beam("proton", energy=1.2)
    >>> z = Lattice([RFCavity(volt=0.5, freq=10.0, lag=0.25)], beam).track([[0, 0, 0, 0, 0, 0]])
    >>> bool(abs(z[0, 5] - 0.5e-3 / beam.pc) < 1e-18)   # on crest: the full voltage
    True
    """

    def __init__(self, volt, freq, lag=0.0, *, L=0.0, name=None):
        super().__init__(name)
        for what, v in (("volt", volt), ("freq", freq), ("lag", lag), ("L", L)):
            if not isinstance(v, Real) or isinstance(v, bool) or not math.isfinite(v):
                raise ValueError(f"RFCavity: {what} must be a finite number, got {v!r}")
        if not freq > 0:
            raise ValueError(f"RFCavity: freq must be positive (MHz), got {freq}")
        if L < 0:
            raise ValueError(f"RFCavity: L must be >= 0, got {L}")
        self.volt, self.freq, self.lag, self.L = float(volt), float(freq), float(lag), float(L)

    def _fields(self):
        return {**super()._fields(), "volt": self.volt, "freq": self.freq, "lag": self.lag}

    def track(self, z, beam):
        if self.L:
            z = drift(z, self.L / 2, beam)
        x, px, y, py, t, pt = z
        strength = beam.charge * self.volt * 1e-3 / beam.pc  # MV over GeV
        omega = 2 * math.pi * self.freq * 1e6 / C_LIGHT  # the RF wave number, 1/m
        z = [x, px, y, py, t, pt + strength * sin(2 * math.pi * self.lag - omega * t)]
        if self.L:
            z = drift(z, self.L / 2, beam)
        return z


__all__ = [
    "Drift", "Element", "Marker", "Multipole", "Octupole", "Quadrupole", "RFCavity", "SBend",
    "Sextupole", "ThickMultipole", "drift", "kick", "yoshida_weights",
]  # fmt: skip
