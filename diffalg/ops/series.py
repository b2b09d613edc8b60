"""Series operators and read-out: deriv, integ, truncate, compose, eval, norm.

``deriv``/``integ``/``truncate`` are linear maps on coefficient arrays, done
as numpy gathers with the descriptor's shift tables (no loop over
coefficients in Python).  Composition and evaluation walk the monomial tree
in numba (:mod:`diffalg.kernels.tree`).
"""

from __future__ import annotations

import numpy as np

from ..kernels.batched import chunks, compose_batch
from ..kernels.track import track_points
from ..kernels.tree import compose_rows, monomial_adjoints
from ..tensor import Tensor
from .adjoint import as_series, coefficients, mul_adjoint
from .registry import Real, Tape, as_tensor, primitive


def _need_series(t, what):
    if not isinstance(t, Tensor) or t.desc is None:
        raise TypeError(f"{what} needs a DA tensor (a series)")
    return t


def _shift(d, a, var, up, transpose=False):
    """``∂/∂x_var`` (``up=False``) or ``∫ dx_var`` (``up=True``) of coefficient arrays.

    Each coefficient moves one power of ``x_var`` down (times its exponent) or up
    (over its exponent + 1), by the descriptor's shift tables; ``transpose``
    gives the transposed map (the adjoint the tape needs).
    """
    v = d.var_index(var)
    table = d.shift_tables[1 if up else 0][v]
    src = np.nonzero(table < d.ncoef)[0]
    dst, e = table[src], d.monomials[src, v]
    out = np.zeros_like(a)
    if transpose:
        out[..., src] = a[..., dst] / (e + 1.0) if up else a[..., dst] * e
    else:
        out[..., dst] = a[..., src] / (e + 1.0) if up else a[..., src] * e
    return out


def _truncate_da(d, a, order):
    if not 0 <= order:
        raise ValueError(f"truncate: order must be >= 0, got {order}")
    out = a.copy()
    out[..., d.ord_off[min(order, d.order) + 1] :] = 0.0
    return out


# deriv, integ and truncate are linear maps of the coefficients: the adjoint of
# each is its transpose (truncation is its own), and the transposes' adjoints
# are the maps again
deriv_p = primitive(
    "deriv",
    da=lambda d, a, var: _shift(d, a, var, up=False),
    da_vjp=(lambda g, out, a, var: deriv_adj_p(g, var=var),),
)
integ_p = primitive(
    "integ",
    da=lambda d, a, var: _shift(d, a, var, up=True),
    da_vjp=(lambda g, out, a, var: integ_adj_p(g, var=var),),
)
truncate_p = primitive(
    "truncate", da=_truncate_da, da_vjp=(lambda g, out, a, order: truncate_p(g, order=order),)
)
deriv_adj_p = primitive(
    "deriv_adjoint",
    da=lambda d, g, var: _shift(d, g, var, up=False, transpose=True),
    da_vjp=(lambda u, out, g, var: deriv_p(u, var=var),),
)
integ_adj_p = primitive(
    "integ_adjoint",
    da=lambda d, g, var: _shift(d, g, var, up=True, transpose=True),
    da_vjp=(lambda u, out, g, var: integ_p(u, var=var),),
)


def deriv(t, var):
    """``∂t/∂x_var`` of a series (``var``: index or name)."""
    return deriv_p(t, var=var)


def integ(t, var):
    """Antiderivative of a series in ``x_var`` (zero constant of integration)."""
    return integ_p(t, var=var)


def truncate(t, order):
    """``t`` with every coefficient of degree above ``order`` dropped."""
    return truncate_p(t, order=order)


def _scalar_or_array(x):
    return float(x) if np.ndim(x) == 0 else x


def const(t):
    return _scalar_or_array(_need_series(t, "const")._data[..., 0])


def coeff(t, exponents):
    d = _need_series(t, "coeff").desc
    return _scalar_or_array(t._data[..., d.index(exponents)])


def derivative(t, exponents):
    d = _need_series(t, "derivative").desc
    i = d.index(exponents)
    return _scalar_or_array(t._data[..., i] * d.factorials[i])


def gradient(t):
    d = _need_series(t, "gradient").desc
    if d.order < 1:
        return np.zeros(t.shape + (d.nn,))
    return t._data[..., 1 : 1 + d.nn].copy()


def hessian(t):
    d = _need_series(t, "hessian").desc
    if d.order < 2:
        return np.zeros(t.shape + (d.nn, d.nn))
    e = np.eye(d.nn, dtype=np.int64)
    pairs = e[:, None, :] + e[None, :, :]
    keys = pairs @ (np.int64(d.order + 1) ** np.arange(d.nn, dtype=np.int64))
    idx = d.lookup(keys.ravel())
    ok = idx < d.ncoef  # parameter pairs beyond param_order have no coefficient
    vals = np.zeros(t.shape + (d.nn * d.nn,))
    vals[..., ok] = t._data[..., idx[ok]] * d.factorials[idx[ok]]
    return vals.reshape(t.shape + (d.nn, d.nn))


def norm(t, ord=1):
    c = np.abs(_need_series(t, "norm")._data)
    if ord == 1:
        r = c.sum(axis=-1)
    elif ord == 2:
        r = np.sqrt((c * c).sum(axis=-1))
    elif ord == np.inf:
        r = c.max(axis=-1)
    else:
        raise ValueError(f"norm: ord must be 1, 2 or inf, got {ord!r}")
    return _scalar_or_array(r)


def compose(f, *gs):
    """``f(g_1, ..., g_nn)``: substitute series ``g`` for ``f``'s variables (and params).

    ``gs`` is one 1-d DA tensor of length ``nn`` or ``nn`` DA tensors of one
    descriptor (which may differ from ``f``'s).  ``f`` is a polynomial in the
    displacements ``dx``, and ``g`` replaces ``dx`` whole: its constant part is
    a displacement too, so ``f.compose(x, y)`` with ``x = 2 + dx`` evaluates
    ``f`` at displacement 2 (usually ``g`` has a zero constant part).
    """
    if isinstance(f, Tensor) and f.device != "cpu":
        from .device import compose as on_device  # noqa: PLC0415 - device builds on this module

        return on_device(f, *gs)
    d = _need_series(f, "compose").desc
    if len(gs) == 1 and isinstance(gs[0], (list, tuple)):
        gs = tuple(gs[0])
    if len(gs) == 1 and isinstance(gs[0], Tensor) and gs[0].ndim == 1:
        gs = tuple(gs[0])
    gs = [as_tensor(g) for g in gs]
    if len(gs) != d.nn:
        raise ValueError(f"compose: {d!r} has {d.nn} variables, got {len(gs)} series")
    if any(g.desc is None or g.ndim != 0 for g in gs):
        raise TypeError(
            "compose: every substituted value must be a 0-d DA tensor (use eval for points)"
        )
    dg = gs[0].desc
    if any(g.desc is not dg for g in gs):
        raise ValueError("compose: the substituted series must share one descriptor")
    if Tape.enabled and (f._rg or any(g._rg for g in gs)):
        if dg is not d:  # operands of one primitive share a descriptor: f goes as reals
            return compose_into_p(coefficients(f), *gs, fdesc=d)
        return compose_p(f, *gs)
    return Tensor(_compose_data(d, f._data, [g._data for g in gs], dg), dg)


def _compose_data(d, f, gs, dg):
    G = np.stack(gs)
    F = np.ascontiguousarray(f).reshape(-1, d.ncoef)
    out = np.empty((F.shape[0], dg.ncoef))
    parent, var = d.tree
    dfs, end = d.tree_dfs
    # rows split over the cores from 128 rows on; each chunk walks the tree itself
    k = chunks(F.shape[0] // 64)
    if k > 1:
        compose_batch(k, F, G, out, parent, var, dfs, end, d.degrees, *dg.mul_args)
    else:  # a map: one walk on this thread (an idle pool thread would spin meanwhile)
        compose_rows(F, G, out, parent, var, dfs, end, d.degrees, *dg.mul_args)
    return out.reshape(f.shape[:-1] + (dg.ncoef,))


def _compose_adjoints(g, f, fd, gs, need_f):
    """Adjoints of ``f(G)`` (``f`` a series of ``fd``): ``f`` enters linearly,
    ``f̄_i = <ḡ, G^{m_i}>`` over the monomials of ``G`` (as reals); ``Ḡ_v`` is the
    transposed product of ``ḡ`` with ``(∂f/∂x_v)(G)``.
    """
    fbar = None
    if need_f and Tape.enabled:
        # create_graph: f̄ on the tape, through the monomials of G as m series
        # (memory m × ncoef, 1 GB at 6 variables, order 10)
        mono = compose(Tensor(np.eye(fd.ncoef), fd), *gs)
        fbar = coefficients(g) @ coefficients(mono).T
    elif need_f:  # one walk of the monomial tree, one series per depth
        dg = gs[0].desc
        Gbar = np.ascontiguousarray(g._data).reshape(-1, dg.ncoef)
        Fbar = np.empty((Gbar.shape[0], fd.ncoef))
        G = np.stack([gv._data for gv in gs])
        monomial_adjoints(Gbar, G, Fbar, *fd.tree, *fd.tree_dfs, fd.degrees, *dg.mul_args)
        fbar = Tensor(Fbar.reshape(g.shape + (fd.ncoef,)))
    gbars = [
        mul_adjoint(g, compose(deriv(f, v), *gs)) if gv._rg else None for v, gv in enumerate(gs)
    ]
    return fbar, gbars


def _compose_vjp(g, out, f, *gs):
    fbar, gbars = _compose_adjoints(g, f, f.desc, gs, f._rg)
    return (None if fbar is None else as_series(fbar, f), *gbars)


def _compose_into_vjp(g, out, fc, *gs, fdesc):
    # f's coefficients as a series of its own descriptor, on the tape (as_series
    # takes the descriptor from a series of it)
    f = as_series(fc, Tensor(np.zeros(fc.shape), fdesc)) if any(gv._rg for gv in gs) else fc
    fbar, gbars = _compose_adjoints(g, f, fdesc, gs, fc._rg)
    return (fbar, *gbars)


compose_p = primitive(
    "compose",
    da=lambda d, f, *gs: _compose_data(d, f, gs, d),
    da_vjp=_compose_vjp,
)
# Composition into another descriptor: ``f`` arrives as its coefficients (a real
# tensor), since the operands of one primitive share one descriptor.
compose_into_p = primitive(
    "compose_into",
    da=lambda d, fc, *gs, fdesc: _compose_data(fdesc, fc.value, gs, d),
    da_vjp=_compose_into_vjp,
)


def evaluate(f, points):
    """The polynomial at displacements ``points``: ``(nn,)`` or ``(npoints, nn)``.

    Numbers or an ndarray; a real tensor on the tape when ``f`` requires grad
    (the values are linear in ``f``'s coefficients).
    """
    d = _need_series(f, "eval").desc
    p = np.asarray(points, dtype=np.float64)
    single = p.ndim == 1
    p = np.atleast_2d(p)
    if p.ndim != 2 or p.shape[1] != d.nn:
        raise ValueError(f"eval: points must have shape (npoints, {d.nn}), got {np.shape(points)}")
    if not np.all(np.isfinite(p)):
        raise ValueError("eval: points must be finite")
    if Tape.enabled and f._rg:  # recorded: the values are linear in f's coefficients
        out = eval_p(f, points=np.ascontiguousarray(p))
        return out[..., 0] if single else out
    out = _eval_data(d, f._data, p)
    return _scalar_or_array(out[..., 0]) if single else out


def _eval_data(d, f, p):
    F = np.ascontiguousarray(f).reshape(-1, d.ncoef)
    out = np.empty((p.shape[0], F.shape[0]))
    parent, var = d.tree
    track_points(np.ascontiguousarray(F.T), np.ascontiguousarray(p), out, parent, var)
    return out.T.reshape(f.shape[:-1] + (p.shape[0],))


def _eval_vjp(g, out, f, points):
    """``f̄_i = Σ_q ḡ_q · m_i(p_q)``: the monomials' values at the points, transposed."""
    d = f.desc
    mono = _eval_data(d, np.eye(d.ncoef), points)  # (ncoef, npoints)
    return as_series(g @ Tensor(mono.T), f)


eval_p = primitive(
    "eval",
    da=lambda d, f, points: Real(_eval_data(d, f, points)),
    vjp=(_eval_vjp,),
    saves=(),
)


def table(t, limit=20) -> str:
    """Readable coefficient table: index, coefficient, order, exponents (nonzero only)."""
    d = t.desc
    rows = t._data.reshape(-1, d.ncoef)
    idx = list(np.ndindex(t.shape)) if t.shape else [()]
    names = " ".join(f"{n:>3}" for n in d.names)
    out = []
    for k, (pos, c) in enumerate(zip(idx, rows, strict=False)):
        if k == limit:
            out.append(f"... ({len(idx) - limit} more series)")
            break
        if t.shape:
            out.append(f"[{', '.join(map(str, pos))}]")
        out.append(f"{'I':>6}  {'COEFFICIENT':<24}{'ORDER':>5}  {names}")
        nz = np.nonzero(c)[0]
        for n, i in enumerate(nz, 1):
            exps = " ".join(f"{e:>3}" for e in d.monomials[i])
            out.append(f"{n:>6}  {c[i]:< 24.16e}{d.degrees[i]:>5}  {exps}")
        if not len(nz):
            out.append("       ALL COEFFICIENTS ZERO")
    return "\n".join(out)
