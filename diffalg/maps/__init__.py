"""Taylor maps and accelerator lattices.

:mod:`.taylor_map` — compose, invert, analyse and track maps; :mod:`.beam`,
:mod:`.elements`, :mod:`.lattice` — elements in MAD-NG's 6-D coordinates, whose
one code gives both particle tracking and Taylor maps, and ring analysis.
"""

from .beam import Beam
from .detuning import amplitude_detuning, amplitude_tunes, linear_normal_form, tune
from .elements import Drift, Marker, Multipole, Octupole, Quadrupole, RFCavity, SBend, Sextupole
from .flow import flow
from .lattice import COORDS, Lattice, UnstableLatticeError
from .taylor_map import TaylorMap, identity

load = TaylorMap.load

__all__ = [
    "Beam", "COORDS", "Drift", "Lattice", "Marker", "Multipole", "Octupole", "Quadrupole",
    "RFCavity", "SBend", "Sextupole", "TaylorMap", "UnstableLatticeError", "amplitude_detuning",
    "amplitude_tunes", "flow", "identity", "linear_normal_form", "load", "tune",
]  # fmt: skip
