"""The reference particle: species and energy, hence ``β0``, ``γ0`` and ``Bρ``."""

from __future__ import annotations

import math

#: rest energies in GeV (CODATA 2018) and charges in units of e
PARTICLES = {
    "proton": (0.93827208816, 1),
    "antiproton": (0.93827208816, -1),
    "electron": (0.51099895000e-3, -1),
    "positron": (0.51099895000e-3, 1),
    "muon": (0.1056583755, -1),
}
C_LIGHT = 299_792_458.0


class Beam:
    """A reference particle given by one of ``energy`` (total, GeV), ``pc`` (GeV) or ``gamma``.

    >>> b = Beam("proton", energy=1.5)
    >>> round(b.beta0, 6), round(b.gamma0, 6)
    (0.780212, 1.598683)
    """

    def __init__(self, particle="proton", *, energy=None, pc=None, gamma=None, mass=None,
                 charge=None):  # fmt: skip
        if particle not in PARTICLES and mass is None:
            raise ValueError(f"unknown particle {particle!r}: give mass= (GeV) and charge=")
        m, q = PARTICLES.get(particle, (mass, charge))
        self.particle, self.mass = particle, float(mass if mass is not None else m)
        self.charge = int(charge if charge is not None else q)
        given = [v is not None for v in (energy, pc, gamma)]
        if sum(given) != 1:
            raise ValueError("Beam: give exactly one of energy=, pc= or gamma=")
        if energy is not None:
            if energy <= self.mass:
                raise ValueError(f"Beam: energy {energy} GeV is below the rest energy {self.mass}")
            self.energy = float(energy)
        elif pc is not None:
            if pc <= 0:
                raise ValueError(f"Beam: pc must be positive, got {pc}")
            self.energy = math.hypot(pc, self.mass)
        else:
            if gamma <= 1:
                raise ValueError(f"Beam: gamma must exceed 1, got {gamma}")
            self.energy = gamma * self.mass
        self.pc = math.sqrt(self.energy**2 - self.mass**2)
        self.gamma0 = self.energy / self.mass
        self.beta0 = self.pc / self.energy
        self.brho = self.pc * 1e9 / (C_LIGHT * abs(self.charge))  # T·m

    def __repr__(self):
        return f"Beam({self.particle!r}, energy={self.energy:g} GeV, beta0={self.beta0:.6g})"
