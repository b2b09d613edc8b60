"""Flow maps of ODEs: the Taylor map of ``x(t1)`` in the initial displacement.

``flow(rhs, x0, (t0, t1), order)`` integrates ``x' = rhs(t, x)`` with DA states
(``x0 + δx``), so the result is the flow map around the reference trajectory.
Each step is a Taylor step in time done by Picard iteration in DA: the time
offset ``τ`` is an extra DA parameter with its own order ``K``, and

    X ← X(0) + ∫₀^τ rhs(t_n + τ, X) dτ

gains one order in ``τ`` per pass, so ``K`` passes give the time-Taylor
polynomial of the solution to ``τ^K`` (exactly, for every coefficient in ``δx``).
Substituting ``τ = h`` gives the state at the end of the step.  ``rhs`` is any
function written with diffalg's operations (``dg.sin``, ``*``, ...).
"""

from __future__ import annotations

import numpy as np

from ..algebra import Descriptor
from ..ops import series
from ..tensor import Tensor
from .taylor_map import TaylorMap


def flow(rhs, x0, t_span, order, *, steps=None, taylor_order=12, names=None) -> TaylorMap:
    """The Taylor map to ``order`` of the flow of ``x' = rhs(t, x)`` from ``t0`` to ``t1``.

    ``x0`` is the reference initial state (``nv`` values); the map's variables
    are the displacements from it and its constant part is the reference
    state at ``t1``.  ``steps`` Taylor steps of time order ``taylor_order``
    (by default one step per 0.1 of time: choose more for fast dynamics).

    >>> import diffalg as dg, math
    >>> M = dg.maps.flow(lambda t, x: [-x[0]], [1.0], (0.0, 1.0), order=3)
    >>> round(M[0].const, 12) == round(math.exp(-1), 12), round(M[0].coeff((1,)), 12)
    (True, 0.367879441171)
    """
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.ndim != 1 or not np.all(np.isfinite(x0)):
        raise ValueError(f"flow: x0 must be a finite 1-d state, got {x0!r}")
    t0, t1 = (float(t) for t in t_span)
    if steps is None:
        steps = max(1, int(np.ceil(abs(t1 - t0) / 0.1)))
    if int(steps) < 1 or int(taylor_order) < 1:
        raise ValueError("flow: steps and taylor_order must be >= 1")
    nv, K = x0.size, int(taylor_order)
    names = list(names) if names is not None else [f"x{i + 1}" for i in range(nv)]
    d = Descriptor(variables=names, order=order)
    ext = Descriptor(variables=names, order=order + K, params=["tau"], param_order=K)
    lift = np.array([ext.index(tuple(e) + (0,)) for e in d.monomials])
    tau = ext.var(nv)
    h = (t1 - t0) / int(steps)
    back = [d.var(i) for i in range(nv)] + [d.const(h)]  # δx stays, τ becomes h
    state = [d.var(i, v) for i, v in enumerate(x0)]
    for n in range(int(steps)):
        t = t0 + n * h + tau
        start = []
        for s in state:
            data = np.zeros(ext.ncoef)
            data[lift] = s.coeffs
            start.append(Tensor(data, ext))
        X = start
        for _ in range(K):
            F = _as_list(rhs(t, X), nv)
            X = [s + f.integ(nv) for s, f in zip(start, F, strict=True)]
        state = [series.compose(x, *back) for x in X]
    return TaylorMap(state)


def _as_list(F, nv):
    F = list(F)
    if len(F) != nv:
        raise ValueError(f"flow: rhs returned {len(F)} components for a state of {nv}")
    return F


__all__ = ["flow"]
