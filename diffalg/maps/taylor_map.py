"""Taylor maps: one series per coordinate, composed, inverted, analysed and tracked.

A map ``M`` of a descriptor with ``nv`` variables is a 1-d DA tensor of length
``nv``: ``M[i]`` is the truncated Taylor series of the ``i``-th output
coordinate in the input coordinates (and in the descriptor's parameters, which
pass through every operation unchanged).  Series are polynomials in the
displacements, so composition substitutes one map's series whole into the
other's (``M @ N`` is ``M ∘ N``: first ``N``, then ``M``), and a constant part
is part of the polynomial (the image of the reference point).

Inversion follows COSY INFINITY: with ``M = c + L x + N(x)`` (``L`` the linear
part, ``N`` the rest, parameters included), the origin-preserving part is
inverted by the fixed point ``x = L⁻¹ (y − N(x))``, each pass exact to one
more order, and the constant is put back as ``M⁻¹(y) = M₀⁻¹(y − c)``.
"""

from __future__ import annotations

from math import factorial, prod

import numpy as np

from .. import io
from ..algebra import Descriptor
from ..autograd.graph import accumulator
from ..kernels.track import track_points
from ..ops import device
from ..ops import series as S
from ..ops.shape import stack
from ..tensor import Tensor


class TaylorMap(Tensor):
    """A map: ``nv`` series, one per output coordinate, of one descriptor.

    >>> import diffalg as dg
    >>> d = dg.Descriptor(nv=2, order=3)
    >>> x, p = d.vars()
    >>> M = dg.maps.TaylorMap([x + 0.5 * p, p - 0.1 * (x + 0.5 * p) ** 2])  # drift, then a kick
    >>> N = M.inverse()
    >>> float(abs((M @ N - dg.maps.identity(d)).coeffs).max()) < 1e-15
    True
    >>> M.linear()
    array([[1. , 0.5],
           [0. , 1. ]])
    """

    __slots__ = ()

    def __init__(self, components, desc=None):
        if isinstance(components, Tensor):
            t = components
        elif isinstance(components, (list, tuple)):
            t = stack(list(components))
        else:
            if desc is None:
                raise TypeError("TaylorMap(array) needs the descriptor: TaylorMap(data, desc)")
            t = Tensor(np.asarray(components, dtype=np.float64), desc)
        d = t.desc
        if d is None:
            raise TypeError("a Taylor map is made of series (DA tensors), got real values")
        if t.ndim != 1 or t.shape[0] != d.nv:
            raise ValueError(
                f"a Taylor map of {d!r} has {d.nv} series (one per variable), got shape {t.shape}"
            )
        Tensor.__init__(self, t._data, d)
        # the map stands for t on the tape: gradients reaching it go where t's go
        self._rg, self.grad_fn, self._vc, self._base = t._rg, t.grad_fn, t._counter(), t._base
        if t._rg and t.grad_fn is None:
            self._accum = accumulator(t)

    def __repr__(self):
        return f"TaylorMap({self.desc!r})"

    # ------------------------------------------------------------ algebra
    def _same(self, other, what):
        if not isinstance(other, Tensor) or other.desc is None:
            raise TypeError(f"{what}: expected a Taylor map, got {type(other).__name__}")
        if other.desc is not self.desc:
            raise ValueError(
                f"{what}: maps of different descriptors ({self.desc!r} and {other.desc!r})"
            )
        return other if isinstance(other, TaylorMap) else TaylorMap(other)

    def compose(self, other) -> TaylorMap:
        """``self ∘ other``: the series of ``other`` substituted for the variables."""
        other = self._same(other, "compose")
        d = self.desc
        subs = list(other) + [d.var(d.nv + j) for j in range(d.np)]
        return TaylorMap(S.compose(self, *subs))

    def __matmul__(self, other):
        return self.compose(other)

    def __call__(self, x, params=None):
        """A map (composition) or particles ``(N, nv)`` (tracking, see :meth:`track`)."""
        if isinstance(x, Tensor) and x.desc is not None:
            return self.compose(x)
        return self.track(x, params)

    def linear(self) -> np.ndarray:
        """The matrix ``R`` of first-order coefficients in the variables (``nv × nv``)."""
        d = self.desc
        if d.order < 1:
            return np.zeros((d.nv, d.nv))
        return self._data[:, 1 : 1 + d.nv].copy()

    def constant(self) -> np.ndarray:
        """The image of the expansion point (the constant parts)."""
        return self._data[:, 0].copy()

    def _nonlinear(self):
        """``M − c − L x``: everything but the constant and the linear part in the variables."""
        d = self.desc
        data = self._data.copy()
        data[:, 0] = 0.0
        if d.order >= 1:
            data[:, 1 : 1 + d.nv] = 0.0
        return TaylorMap(data, d)

    def inverse(self) -> TaylorMap:
        """The map ``N`` with ``N ∘ M = M ∘ N = identity`` to the truncation order.

        With a constant part ``c ≠ 0`` it is the left inverse (``N ∘ M = id``);
        ``M ∘ N`` would substitute series with constant parts into the truncated
        ``M``, which is exact only at its expansion point.
        """
        return self.partial_inverse(range(self.desc.nv))

    def partial_inverse(self, coords) -> TaylorMap:
        """Invert only the chosen coordinates (GTPSA's ``pminv``).

        The map ``P`` with ``P_i = M_i`` for ``i`` in ``coords`` and ``P_i = x_i``
        otherwise is inverted: the result gives the chosen inputs in terms of the
        chosen outputs and the other inputs.
        """
        d = self.desc
        sel = sorted({int(i) for i in coords})
        if any(not 0 <= i < d.nv for i in sel):
            raise IndexError(f"partial_inverse: coordinates {sel} outside 0..{d.nv - 1}")
        ident = identity(d)
        P = TaylorMap(np.where(np.isin(np.arange(d.nv), sel)[:, None], self._data, ident._data), d)
        L = P.linear()
        cond = np.linalg.cond(L) if d.order >= 1 else np.inf
        if not np.isfinite(cond) or cond > 1e14:
            raise np.linalg.LinAlgError(
                f"cannot invert the map: its linear part is singular (condition number {cond:.3g})"
            )
        Linv = np.linalg.inv(L)
        c = P.constant()
        N = P._nonlinear()
        x = TaylorMap(Linv @ ident, d)  # exact to first order
        for k in range(2, d.order + 1):
            # pass k makes x exact to order k; N starts at degree 2, so x's
            # coefficients of order >= k do not reach that order of N(x): the
            # pass runs in the order-k algebra (a prefix of the coefficients)
            dk = _at_order(d, k)
            m = dk.ncoef
            xk, Nk = TaylorMap(x._data[:, :m], dk), TaylorMap(N._data[:, :m], dk)
            data = np.zeros_like(x._data)
            data[:, :m] = (Linv @ (identity(dk) - Nk.compose(xk)))._data
            x = TaylorMap(data, d)
        if np.any(c != 0.0):
            shift = TaylorMap(ident - Tensor(c), d)
            x = x.compose(shift)
        return x

    def power(self, n: int) -> TaylorMap:
        """``M ∘ M ∘ ... ∘ M`` (``n`` turns; ``n < 0`` turns of the inverse)."""
        n = int(n)
        base = self if n >= 0 else self.inverse()
        result, n = identity(self.desc), abs(n)
        while n:
            if n & 1:
                result = base.compose(result)
            n >>= 1
            if n:
                base = base.compose(base)
        return result

    def __pow__(self, n):
        return self.power(n)

    # -------------------------------------------------------- read-outs
    def tables(self, order=3) -> tuple[np.ndarray, ...]:
        """TRANSPORT/MAD-X tables ``R_ij``, ``T_ijk``, ``U_ijkl`` (up to ``order``).

        ``x_out_i = Σ_j R_ij x_j + Σ_jk T_ijk x_j x_k + Σ_jkl U_ijkl x_j x_k x_l``
        summed over all indices, with ``T`` and ``U`` symmetric in their last
        indices (a coefficient of ``x_j x_k``, ``j ≠ k``, is split over both orders).
        """
        d = self.desc
        out = []
        for k in range(1, order + 1):
            table = np.zeros((d.nv,) + (d.nv,) * k)
            if k <= d.order:
                for idx in np.ndindex(*(d.nv,) * k):
                    e = np.bincount(idx, minlength=d.nn)
                    table[(slice(None),) + idx] = self._data[:, d.index(tuple(e))] / _multinomial(e)
            out.append(table)
        return tuple(out)

    def symplectic_error(self) -> float:
        """``max |coefficient of (Jᵀ S J − S)|``, relative to the Jacobian's size squared.

        ``J`` is the Jacobian of the map in its variables (taken in pairs
        ``(x, px), (y, py), ...``) and ``S`` the symplectic form; a Hamiltonian
        map gives round-off, to the truncation order.  The products in ``JᵀSJ``
        carry the size of ``J``'s coefficients squared, so the error is divided
        by ``max(1, max |J coefficient|)²`` (for maps whose coefficients stay
        below 1 it is the absolute error).
        """
        d = self.desc
        if d.nv % 2:
            raise ValueError(f"symplectic_error needs an even number of variables, got {d.nv}")
        Jac = [[S.deriv(self[i], j) for j in range(d.nv)] for i in range(d.nv)]
        form = np.kron(np.eye(d.nv // 2), np.array([[0.0, 1.0], [-1.0, 0.0]]))
        worst = 0.0
        for a in range(d.nv):
            for b in range(d.nv):
                s = d.const(-form[a, b])
                for i in range(d.nv):
                    for j in range(d.nv):
                        if form[i, j]:
                            s = s + Jac[i][a] * Jac[j][b] * form[i, j]
                # the Jacobian is exact to order o - 1 only
                worst = max(worst, float(np.abs(s.truncate(d.order - 1).coeffs).max()))
        size = max(1.0, max(float(np.abs(J.coeffs).max()) for row in Jac for J in row))
        return worst / size**2

    # -------------------------------------------------------- tracking
    def track(self, points, params=None) -> np.ndarray:
        """The map at many particles: ``points`` ``(N, nv)`` → ``(N, nv)`` (all cores).

        ``params`` (``(np,)`` or ``(N, np)``) are the parameter values, 0 by default.
        A map on a GPU (``M.cuda()``) tracks there, one thread per particle;
        ``points`` may then also be a device array, and the result is one too.
        """
        d = self.desc
        on_gpu = self.device != "cpu"
        if on_gpu and device.is_device_array(points):
            return device.track(self._data, d, points, params)
        p = np.asarray(points, dtype=np.float64)
        single = p.ndim == 1
        p = np.atleast_2d(p)
        if p.ndim != 2 or p.shape[1] != d.nv:
            raise ValueError(
                f"track: particles must have shape (N, {d.nv}), got {np.shape(points)}"
            )
        if d.np:
            k = np.zeros(d.np) if params is None else np.asarray(params, dtype=np.float64)
            p = np.concatenate([p, np.broadcast_to(k, (p.shape[0], d.np))], axis=1)
        elif params is not None:
            raise ValueError(f"track: {d!r} has no parameters")
        if not np.all(np.isfinite(p)):
            raise ValueError("track: particle coordinates must be finite")
        if on_gpu:
            out = device.track(self._data, d, p)
        else:
            out = np.empty((p.shape[0], d.nv))
            parent, var = d.tree
            FT = np.ascontiguousarray(self._data.T)
            track_points(FT, np.ascontiguousarray(p), out, parent, var)
        return out[0] if single else out

    def fixed_point(self, guess=None, tol=1e-14, maxiter=50) -> np.ndarray:
        """A point with ``M(z) = z`` (a closed orbit), by Newton's method on the map."""
        d = self.desc
        z = np.zeros(d.nv) if guess is None else np.asarray(guess, dtype=np.float64).copy()
        # the Jacobian as one (nv, nv) tensor of series: one evaluation per Newton step
        jac = stack([S.deriv(self, j) for j in range(d.nv)], dim=1)
        params = np.zeros(d.np)
        for _ in range(maxiter):
            f = self.track(z) - z
            J = jac.eval(np.concatenate([z, params]))
            step = np.linalg.solve(J - np.eye(d.nv), f)
            z = z - step
            if np.max(np.abs(step)) <= tol * max(1.0, np.max(np.abs(z))):
                return z
        raise RuntimeError(f"fixed_point: no convergence in {maxiter} Newton steps")

    # ----------------------------------------------------------- files
    def save(self, path) -> None:
        """Save to ``.npz`` (coefficients and the descriptor; no pickle)."""
        io.save({"taylor_map": self}, path)

    @staticmethod
    def load(path) -> TaylorMap:
        """Load a map written by :meth:`save`."""
        items = io.load(path)
        if not isinstance(items, dict) or "taylor_map" not in items:
            raise ValueError(f"{path}: a diffalg file, but not a saved Taylor map")
        return TaylorMap(items["taylor_map"])


def _multinomial(e) -> float:
    """Number of orderings of an index tuple with counts ``e`` (splits symmetric tables)."""
    return factorial(int(sum(e))) / prod(factorial(int(v)) for v in e)


def _at_order(d, k):
    """``d``'s variables and parameters truncated at order ``k``: its first coefficients."""
    if not d.np:
        return Descriptor(variables=list(d.variables), order=k)
    return Descriptor(variables=list(d.variables), params=list(d.params), order=k,
                      param_order=min(d.param_order, k))  # fmt: skip


def identity(desc) -> TaylorMap:
    """The identity map ``x ↦ x`` of a descriptor."""
    return TaylorMap(desc.vars())


__all__ = ["TaylorMap", "identity"]
