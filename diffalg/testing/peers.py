"""Peer differential-algebra libraries (GTPSA, DACE) behind one small common interface.

Used by tests and benchmarks to cross-check diffalg. A series in ``nv`` variables to order
``order`` is identified with a dict ``{exponent tuple (length nv): float}``; variables are
counted from 0 here, while both peers count them from 1. Usage::

    for be in backends(2, 6):
        x, y = be.vars((0.7, 0.3))       # x = 0.7 + dx, y = 0.3 + dy
        f = x * y + be.fn.sin(x) / y     # + - * / are the peer objects' own operators
        be.coeffs(f)                     # {(i, j): coefficient of dx**i * dy**j}

Peer quirks found (madng-tpsa 0.3.4 = GTPSA of MAD-NG; daceypy 1.4.0 over DACE 2.0.1):

GTPSA (``madng_tpsa``)
  * ``Descriptor(nv, order)`` is interned per shape; ``d.var(1, x0)`` is the first variable.
  * ``x ** p`` with a float ``p`` (even ``2.0``) calls the unprotected ``mad_tpsa_pown``
    = exp(p log x): a constant part <= 0 prints "invalid domain log(...)" and exits the
    process. Integer exponents use ``mad_tpsa_powi`` and are safe, negative ones included.
    Elementary functions and series-series operators go through the
    ``madng_tpsa_protected_*_call`` wrappers and raise ``TpsaError`` instead.
  * ``get``/``set`` with a monomial shorter than nv abort the process ("invalid monomial
    length"); a longer one raises ``ValueError``.
  * ``to_dict``/``monomial_coeffs`` drop |c| <= 1e-14 by default (``tol``); we pass -inf.
  * A ``Tpsa`` keeps its cffi ``void*`` in the ``_ptr`` slot (public ``ptr`` property), so
    ``lib.mad_tpsa_mul(a._ptr, b._ptr, out._ptr)`` is the bare C product.

DACE (``daceypy``)
  * ``DA(1)`` is the variable x1 but ``DA(1.0)`` the constant 1; ``DA(numpy.int64(1))``
    raises TypeError (only exact int/float are dispatched).
  * One global descriptor: ``DA.init(order, nv)`` invalidates every live DA (its stored
    monomial indices refer to the old shape). ``DaceBackend`` re-inits only when the shape
    changes; do not keep DA objects across backends of different shape.
  * ``x ** n`` is wrong for integer n <= -2 at order >= 5 (errors ~1e8 at order 6); we use
    ``1 / x ** -n``. ``x ** p`` for non-integer p raises when the constant part is <= 0.
  * Misleading errors: ``sqrt`` of a negative constant says "Zero-th root does not exist",
    ``x ** 0.5`` at 0 says "Inverse does not exists".
  * The cutoff ``DA.getEps()`` is 0.0 after init, so no tiny coefficient is dropped.
  * ``DA.cache_disable()`` sets the cache flag to True again (daceypy bug).
  * The ``daceypy.core`` wrappers poll ``daceGetError`` after every call; the raw
    ``core.DAlib`` functions (used by ``mul_timer``) do not.
"""

from __future__ import annotations

import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

__all__ = ["FUNCTIONS", "DaceBackend", "GtpsaBackend", "PeerBackend", "available", "backends"]

Coeffs = dict[tuple[int, ...], float]
MulFn = Callable[[Any, Any, Any], None]

FUNCTIONS = (
    "sqrt", "exp", "log", "sin", "cos", "tan", "asin", "acos", "atan",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf",
)  # fmt: skip
_MODULES = {"gtpsa": "madng_tpsa", "dace": "daceypy"}


def available(name: str) -> bool:
    """Whether the peer ``name`` ("gtpsa" or "dace") can be imported."""
    try:
        importlib.import_module(_MODULES[name])
    except ImportError:
        return False
    return True


class PeerBackend(ABC):
    """Common interface; subclasses supply a handful of peer-specific primitives.

    ``fn`` holds the peer's elementary functions named in ``FUNCTIONS`` (those it lacks are
    absent) plus ``pow(s, p)`` for a real exponent ``p``.
    """

    name: str

    def __init__(self, nv: int, order: int) -> None:
        if nv < 1 or order < 1:
            raise ValueError(f"need nv >= 1 and order >= 1, got nv={nv}, order={order}")
        self.nv, self.order = nv, order
        series = self._setup()
        funcs = {f: getattr(series, f) for f in FUNCTIONS if hasattr(series, f)}
        self.fn = SimpleNamespace(pow=self._pow, **funcs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(nv={self.nv}, order={self.order})"

    def vars(self, point: Sequence[float]) -> list[Any]:
        """Independent variables ``x_i = point[i] + dx_i``."""
        if len(point) != self.nv:
            raise ValueError(f"point has {len(point)} entries, expected {self.nv}")
        return [self._var(i, float(x0)) for i, x0 in enumerate(point)]

    def from_coeffs(self, coeffs: Mapping[Sequence[int], float]) -> Any:
        """Build a series from ``{exponent tuple: coefficient}``."""
        s = self.const(0.0)
        for mono, c in coeffs.items():
            exps = tuple(int(e) for e in mono)
            if len(exps) != self.nv or min(exps) < 0 or sum(exps) > self.order:
                raise ValueError(f"bad monomial {mono!r} for nv={self.nv}, order={self.order}")
            self._set(s, exps, float(c))
        return s

    def _pow(self, s: Any, p: float) -> Any:
        """``s ** p``; integer-valued ``p`` takes the peer's integer power."""
        p = float(p)
        if p.is_integer() and abs(p) < 2**31:
            return self._powi(s, int(p))
        if not self._cons(s) > 0.0:
            raise ValueError(f"pow with exponent {p} needs a positive constant part")
        return s**p

    def _powi(self, s: Any, n: int) -> Any:
        return s**n

    @abstractmethod
    def _setup(self) -> type:
        """Import the peer, prepare its descriptor and return its series type."""

    @abstractmethod
    def _var(self, i: int, x0: float) -> Any:
        """Variable ``i`` (0-based) expanded around ``x0``."""

    @abstractmethod
    def _set(self, s: Any, exps: tuple[int, ...], c: float) -> None:
        """Set one (validated) coefficient in place."""

    @abstractmethod
    def _cons(self, s: Any) -> float:
        """Constant part of ``s``."""

    @abstractmethod
    def const(self, value: float) -> Any:
        """A constant series."""

    @abstractmethod
    def coeffs(self, s: Any) -> Coeffs:
        """Every stored coefficient of ``s``, exactly (no threshold)."""

    @abstractmethod
    def mul_timer(self) -> MulFn:
        """``f(a, b, out)`` doing ``out = a * b`` with the least Python overhead."""


class GtpsaBackend(PeerBackend):
    """GTPSA of MAD-NG through ``madng_tpsa`` (cffi)."""

    name = "gtpsa"

    def _setup(self) -> type:
        mt = importlib.import_module("madng_tpsa")
        self._d = mt.Descriptor(self.nv, self.order)
        if (self._d.num_vars, self._d.order) != (self.nv, self.order):
            raise RuntimeError(f"GTPSA gave {self._d!r} for nv={self.nv}, order={self.order}")
        self._c_mul = mt.lib.mad_tpsa_mul
        return mt.Tpsa

    def _var(self, i: int, x0: float) -> Any:
        return self._d.var(i + 1, x0)

    def _set(self, s: Any, exps: tuple[int, ...], c: float) -> None:
        s.set(exps, c)

    def _cons(self, s: Any) -> float:
        return s.const_part

    def const(self, value: float) -> Any:
        """A constant series."""
        return self._d.constant(float(value))

    def coeffs(self, s: Any) -> Coeffs:
        """Every stored coefficient of ``s``, exactly (no threshold)."""
        if s.descriptor is not self._d:
            raise ValueError("series belongs to another GTPSA descriptor")
        return s.monomial_coeffs(tol=-math.inf)

    def raw_mul(self, a: Any, b: Any, out: Any) -> None:
        """``out = a * b`` by ``lib.mad_tpsa_mul`` on the C pointers (no checks)."""
        self._c_mul(a._ptr, b._ptr, out._ptr)

    def mul_timer(self) -> MulFn:
        """``f(a, b, out)``: the bare ``mad_tpsa_mul`` call, without a bound method."""
        c_mul = self._c_mul

        def mul(a: Any, b: Any, out: Any) -> None:
            c_mul(a._ptr, b._ptr, out._ptr)

        return mul


class DaceBackend(PeerBackend):
    """DACE through ``daceypy`` (ctypes); one global shape, see the module docstring."""

    name = "dace"

    def _setup(self) -> type:
        dace = importlib.import_module("daceypy")
        self._DA = dace.DA
        self._activate()
        self._c_mul = dace.core.DAlib.daceMultiply
        return dace.DA

    def _current(self) -> bool:
        DA = self._DA
        shape = (self.order, self.nv)
        return DA.isInitialized() and (DA.getMaxOrder(), DA.getMaxVariables()) == shape

    def _activate(self) -> None:
        """Init DACE to this backend's shape unless it already has it."""
        if not self._current():
            self._DA.init(self.order, self.nv)

    def vars(self, point: Sequence[float]) -> list[Any]:
        """Independent variables ``x_i = point[i] + dx_i``."""
        self._activate()
        return super().vars(point)

    def _var(self, i: int, x0: float) -> Any:
        return self._DA(i + 1) + x0

    def _set(self, s: Any, exps: tuple[int, ...], c: float) -> None:
        s.setCoefficient(list(exps), c)

    def _cons(self, s: Any) -> float:
        return s.cons()

    def _powi(self, s: Any, n: int) -> Any:
        return 1.0 / s**-n if n <= -2 else s**n

    def const(self, value: float) -> Any:
        """A constant series."""
        self._activate()
        return self._DA(float(value))

    def coeffs(self, s: Any) -> Coeffs:
        """Every stored coefficient of ``s``, exactly (no threshold)."""
        if not self._current():
            raise RuntimeError("DACE was re-initialised to another shape; series is stale")
        return {tuple(m.m_jj): m.m_coeff.value for m in s.getMonomials()}

    def mul_timer(self) -> MulFn:
        """``f(a, b, out)``: the raw ``daceMultiply`` ctypes call (no error polling)."""
        c_mul = self._c_mul

        def mul(a: Any, b: Any, out: Any) -> None:
            c_mul(a._as_parameter_, b._as_parameter_, out._as_parameter_)

        return mul


def backends(nv: int, order: int) -> Iterator[PeerBackend]:
    """Yield a backend of each available peer for ``nv`` variables to ``order``."""
    for cls in (GtpsaBackend, DaceBackend):
        if available(cls.name):
            yield cls(nv, order)
