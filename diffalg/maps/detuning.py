"""Amplitude detuning: how a ring's tunes change with the betatron actions.

The tunes at actions ``(Jx, Jy)`` are measured by tracking particles through
the one-turn Taylor map and analysing the frequency of their turn-by-turn
motion; the detuning coefficients are the slopes of a least-squares fit

    Qx(Jx, Jy) = Qx0 + det_xx Jx + det_xy Jy + ...,
    Qy(Jx, Jy) = Qy0 + det_yx Jx + det_yy Jy + ...

(xtrack's names: ``det_xy = dQx/dJy``).  Actions are in metres, Courant–Snyder
at the map's start: ``x = sqrt(2 Jx βx) cos φx`` (for a coupled ring, the
actions of the two eigenmodes of the linear one-turn map).

1. The transverse closed orbit at ``t = pt = 0`` is found by Newton's method on
   the map, and the linear one-turn matrix about it is normalised by its
   eigenvectors: ``z = z0 + A ẑ`` with ``ẑ = (x̂, p̂x, ŷ, p̂y)`` turning by the
   phase advances ``2π Q``, so ``x̂ − i p̂x = sqrt(2 Jx) e^{i φx}``.
2. Particles start at ``ẑ = ±(sqrt(2 Jx), 0, sqrt(2 Jy), 0)`` and are tracked
   through the map (4-d: ``t`` and ``pt`` are put back on the orbit every turn).
   The pair ``±ẑ`` matters: the invariant action of a particle differs from the
   linear one by terms odd in ``ẑ`` (sextupoles make them ``O(J^{3/2})``), which
   cancel in the mean of the two tunes.
3. :func:`tune` finds the frequency of ``x̂ − i p̂x`` and of ``ŷ − i p̂y``: the
   peak of the Hann-windowed spectrum, refined to the stationary point of
   ``|Σ w_n z_n e^{−2πifn}|`` (Laskar's NAFF first step), an error of order
   ``1/N⁴`` for ``N`` turns of quasi-periodic motion.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numba
import numpy as np
from scipy.optimize import brentq

from ..kernels.track import BLOCK
from ..ops import series
from ..ops.shape import stack
from .lattice import Lattice, UnstableLatticeError
from .taylor_map import TaylorMap

_PLANES = ("horizontal", "vertical", "longitudinal")


def tune(signal) -> float:
    """The main frequency of a turn-by-turn signal, in cycles per turn.

    A complex signal ``z_n`` (``x̂ − i p̂x`` of normalised coordinates) gives a
    frequency in ``[0, 1)``; a real one (``x`` alone) one in ``[0, 0.5]``.  With
    the Hann window ``w_n = sin²(π (n + 1)/(N + 1))`` the frequency is the ``f``
    that maximises ``|F(f)| = |Σ w_n z_n e^{−2πifn}|``: the largest FFT bin
    brackets it, and the root of ``d|F|²/df`` is found there.  For one pure
    line the answer is exact (the window is symmetric); other lines of a
    quasi-periodic signal shift it by an amount of order ``1/N⁴`` (Laskar 1993).
    The stationary point is found as a root rather than by maximising ``|F|``
    because ``|F|`` is flat at its peak: a maximiser resolves only ``√ε / N``.

    >>> n = np.arange(2048)
    >>> z = np.exp(2j * np.pi * 0.31 * n) + 0.2 * np.exp(2j * np.pi * 0.62 * n)
    >>> round(tune(z), 12)
    0.31
    """
    z = np.asarray(signal)
    if z.ndim != 1 or z.size < 16:
        raise ValueError(f"tune: need a 1-d signal of at least 16 turns, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("tune: the signal has NaN or infinite values")
    n = z.size
    zw = z * np.hanning(n + 2)[1:-1]
    spectrum = np.abs(np.fft.fft(zw))
    if not np.iscomplexobj(z):
        spectrum = spectrum[: n // 2 + 1]
    k = int(np.argmax(spectrum))
    if spectrum[k] == 0.0:
        raise ValueError("tune: the signal is zero")
    # turn numbers about the centre: the same root, smaller sums
    m = np.arange(n) - (n - 1) / 2

    def slope(f):  # Re(F* dF/df), half of d|F|²/df up to a positive factor
        e = np.exp(-2j * np.pi * f * m)
        return float((np.vdot(zw @ e, (-1j * zw * m) @ e)).real)

    # the bins k ± 1 lie inside the window's main lobe (half-width 2/N) about the line
    f = brentq(slope, (k - 1) / n, (k + 1) / n, xtol=1e-17, rtol=4 * np.finfo(float).eps)
    f = f % 1.0
    return min(f, 1.0 - f) if not np.iscomplexobj(z) else f


def linear_normal_form(R) -> tuple[np.ndarray, np.ndarray]:
    """``(A, q)``: a real symplectic ``A`` with ``A⁻¹ R A`` rotations by ``2π q``.

    ``R`` is a stable ``2n × 2n`` one-turn matrix in canonical pairs
    ``(x, px), (y, py), ...``.  Column pair ``k`` of ``A`` is ``Re v, Im v`` of
    the eigenvector ``v`` of mode ``k`` with ``R v = e^{2πi q_k} v`` and
    ``(Re v)ᵀ S Im v = 1`` (``S`` the symplectic form), so in ``z = A ẑ`` each
    ``x̂ − i p̂x`` turns by ``e^{2πiq}`` and ``x = sqrt(2 J β) cos φ`` holds with
    ``x̂ = sqrt(2 J) cos φ``.  An uncoupled ``R`` gives Courant–Snyder's ``A``
    (``x = sqrt(β) x̂``, ``px = (p̂x − α x̂)/sqrt(β)``), plane by plane (equal
    tunes would let an eigen-solver of the whole matrix mix the planes); a
    coupled mode is named after the plane in which its eigenvector is largest.
    Raises :class:`UnstableLatticeError` for an eigenvalue off the unit circle
    or real (no tune).

    >>> c, s = math.cos(0.6), math.sin(0.6)   # β = 4, α = 0.5, μ = 0.6
    >>> A, q = linear_normal_form([[c + 0.5 * s, 4 * s], [-(1 + 0.25) / 4 * s, c - 0.5 * s]])
    >>> np.round(A, 12).tolist(), round(float(q[0]) * 2 * math.pi, 12)
    ([[2.0, 0.0], [-0.25, 0.5]], 0.6)
    """
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] % 2:
        raise ValueError(f"linear_normal_form: need a 2n x 2n matrix, got shape {R.shape}")
    n = R.shape[0] // 2
    pair = np.arange(2 * n) // 2
    S = np.kron(np.eye(n), [[0.0, 1.0], [-1.0, 0.0]])
    uncoupled = not R[pair[:, None] != pair[None, :]].any()
    A, q = np.zeros((2 * n, 2 * n)), np.zeros(n)
    seen = set()
    for idx in [[2 * k, 2 * k + 1] for k in range(n)] if uncoupled else [list(range(2 * n))]:
        lam, vec = np.linalg.eig(R[np.ix_(idx, idx)])
        for j in range(len(idx)):
            v = np.zeros(2 * n, dtype=complex)
            v[idx] = vec[:, j]
            plane = int(np.argmax(np.bincount(pair, np.abs(v) ** 2)))
            if abs(abs(lam[j]) - 1.0) > 1e-8 or abs(lam[j].imag) < 1e-12:
                raise UnstableLatticeError(
                    f"the {_PLANES[plane]} motion is unstable: a one-turn eigenvalue is "
                    f"{lam[j]:.6g}, off the unit circle or real, so it has no tune"
                )
            norm = float(v.real @ S @ v.imag)
            if norm <= 0:  # the conjugate eigenvector turns the other way
                continue
            if plane in seen:
                raise ValueError(f"two coupled modes lie mostly in the {_PLANES[plane]} plane")
            seen.add(plane)
            v = v / math.sqrt(norm)
            A[:, 2 * plane], A[:, 2 * plane + 1] = v.real, v.imag
            q[plane] = (np.angle(lam[j]) / (2 * np.pi)) % 1.0
    return A, q


def _one_turn_map(ring, order) -> TaylorMap:
    if isinstance(ring, Lattice):
        M = ring.map(order=order)
    elif isinstance(ring, TaylorMap):
        M = ring
    else:
        raise TypeError(f"expected a Lattice or a TaylorMap, got {type(ring).__name__}")
    if M.desc.nv != 6:
        raise ValueError(
            "expected a one-turn map of the 6 coordinates (x, px, y, py, t, pt), "
            f"got {M.desc.nv} variables"
        )
    if M.desc.order < 3:
        raise ValueError(f"the map's order is {M.desc.order}: amplitude detuning needs order >= 3")
    return M


def _transverse_orbit(M, tol=1e-15, maxiter=50):
    """The fixed point of ``(x, px, y, py)`` at ``t = pt = 0`` and the 4×4 Jacobian there.

    ``M.fixed_point`` solves for all six coordinates, but without RF the time
    ``t`` has no fixed point; here ``t`` and ``pt`` stay at 0.
    """
    jac = stack([series.deriv(M, j) for j in range(4)], dim=1)
    params = np.zeros(M.desc.np)
    z = np.zeros(6)
    for _ in range(maxiter):
        J = jac.eval(np.concatenate([z, params]))[:4]
        step = np.linalg.solve(J - np.eye(4), M.track(z)[:4] - z[:4])
        z[:4] -= step
        if np.max(np.abs(step)) <= tol * max(1.0, np.max(np.abs(z))):
            return z, jac.eval(np.concatenate([z, params]))[:4]
    raise RuntimeError(f"no transverse closed orbit found in {maxiter} Newton steps")


@contextmanager
def _threads_for(n_particles):
    """One thread while the particles fill one block of the tracking kernel.

    The map is applied once per turn; waking the thread pool for a single block
    costs more than the block itself (and a scheduler time slice on a busy
    machine).  ``numba.set_num_threads`` is local to the calling thread.
    """
    before = numba.get_num_threads()
    if n_particles <= BLOCK:
        numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def amplitude_tunes(ring, actions, *, order=6, turns=2048) -> np.ndarray:
    """The tunes ``(Qx, Qy)`` at each action pair ``(Jx, Jy)`` (metres), shape ``(K, 2)``.

    ``ring`` is a :class:`Lattice` (its one-turn map of ``order`` is used) or a
    one-turn :class:`TaylorMap` of ``(x, px, y, py, t, pt)`` (parameters at 0).
    Each pair is tracked for ``turns`` turns from the two starts ``±ẑ`` and the
    two tunes averaged; the tunes are the linear (fractional) ones plus shifts
    within ±0.5, so they do not jump at an integer.  Both actions must be
    positive (a plane without motion has no tune).
    Raises :class:`UnstableLatticeError` for an unstable ring and
    ``ValueError`` if particles are lost.

    >>> from diffalg.maps import Beam, Drift, Lattice, Multipole
    >>> ring = Lattice([Multipole(knl=[0, 0.11]), Drift(4.0), Multipole(knl=[0, -0.12]),
    ...                 Drift(4.0)] * 4, Beam("proton", energy=7000))
    >>> Q = amplitude_tunes(ring, [[1e-9, 1e-9]], order=3, turns=256)
    >>> bool(np.abs(Q - ring.tunes()).max() < 1e-9)   # linear but for its exact drifts
    True
    """
    M = _one_turn_map(ring, order)
    J = np.asarray(actions, dtype=np.float64)
    if J.ndim != 2 or J.shape[1] != 2 or J.shape[0] == 0:
        raise ValueError(f"actions must have shape (K, 2): pairs (Jx, Jy), got {J.shape}")
    if not np.all(np.isfinite(J) & (J > 0)):
        raise ValueError(
            "actions must be finite and positive in both planes (a plane without motion has "
            "no tune)"
        )
    if int(turns) < 64:
        raise ValueError(f"turns must be at least 64, got {turns}")
    turns = int(turns)
    z0, R = _transverse_orbit(M)
    A, q0 = linear_normal_form(R)
    Ainv = np.linalg.inv(A)
    start = np.zeros((len(J), 4))
    start[:, 0], start[:, 2] = np.sqrt(2 * J[:, 0]), np.sqrt(2 * J[:, 1])
    start = np.concatenate([start, -start])
    radius = np.linalg.norm(start, axis=1)
    z = np.tile(z0, (len(start), 1))
    z[:, :4] += start @ A.T
    history = np.empty((turns, len(start), 4))
    history[0] = start
    with _threads_for(len(start)):
        for n in range(1, turns):
            z = M.track(z)
            z[:, 4:] = z0[4:]
            history[n] = (z[:, :4] - z0[:4]) @ Ainv.T
            # an escaping particle's normalised amplitude grows without bound (NaN fails too)
            lost = ~(np.linalg.norm(history[n], axis=1) <= 10 * radius)
            if lost.any():
                jx, jy = J[np.flatnonzero(lost)[0] % len(J)]
                raise ValueError(
                    f"particles at actions (Jx, Jy) = ({jx:.3g}, {jy:.3g}) m are lost after "
                    f"{n} turns (their amplitude grew tenfold or overflowed): use smaller actions"
                )
    tunes = np.array(
        [[tune(history[:, p, 0] - 1j * history[:, p, 1]),
          tune(history[:, p, 2] - 1j * history[:, p, 3])] for p in range(len(start))]
    )  # fmt: skip
    # about the linear tunes, so that a tune near an integer does not wrap
    shift = (tunes - q0 + 0.5) % 1.0 - 0.5
    return q0 + 0.5 * (shift[: len(J)] + shift[len(J) :])


def amplitude_detuning(ring, jmax=1e-8, *, order=6, turns=2048, points=4, degree=2) -> dict:
    """Detuning coefficients ``dQ/dJ`` (1/m) of a ring, from tracking through its map.

    ``ring``: a :class:`Lattice` (its one-turn map of ``order``) or a one-turn
    :class:`TaylorMap` of ``(x, px, y, py, t, pt)``.  The tunes are measured
    (:func:`amplitude_tunes`, ``turns`` turns) at ``points`` actions up to
    ``jmax`` (metres) in each plane alone and in both together (the other
    plane seeded at ``1e-3 jmax`` so that it has a tune), and a polynomial of
    total ``degree`` (1 or 2) in ``(Jx, Jy)`` is fitted to them by least
    squares.  Returns a dict:

    * ``det_xx = dQx/dJx``, ``det_xy = dQx/dJy``, ``det_yx = dQy/dJx``,
      ``det_yy = dQy/dJy`` (xtrack's names), the linear coefficients of the fit;
    * ``qx``, ``qy``: the fit at zero action (the linear tunes);
    * ``curvature``: the largest tune shift of the quadratic terms over the
      sampled actions (0 for ``degree=1``), the part of ``Q(J)`` beyond linear
      detuning up to ``jmax``;
    * ``residual``: the largest ``|measured − fitted|`` tune;
    * ``actions`` ``(K, 2)`` and ``tunes`` ``(K, 2)``: the measurements.

    ``degree=2`` (the default) takes the curvature out of the slopes: their
    error is then of order ``(tune shift at jmax)²`` relative, instead of the
    tune shift itself with ``degree=1``.  The tune shifts at ``jmax`` should be
    well above the frequency error (``~1e-12`` at 2048 turns) and well below
    the distance to resonances.

    A thin octupole in a linear ring, against first-order perturbation
    theory (the ring's exact drifts add ``~0.03 /m``):

    >>> from diffalg.maps import Beam, Drift, Lattice, Multipole
    >>> cell = [Multipole(knl=[0, 0.11]), Drift(4.0), Multipole(knl=[0, -0.12]), Drift(4.0)]
    >>> ring = Lattice([Multipole(knl=[0, 0, 0, 50.0])] + cell * 4, Beam("proton", energy=7000))
    >>> det = amplitude_detuning(ring, jmax=1e-8, order=4)
    >>> betx = float(ring.twiss()["betx"])
    >>> round(det["det_xx"], 1), round(50.0 * betx**2 / (16 * math.pi), 1)
    (771.4, 771.4)
    """
    if not (isinstance(jmax, (int, float, np.floating)) and math.isfinite(jmax) and jmax > 0):
        raise ValueError(f"jmax must be a positive action in metres, got {jmax!r}")
    if not (isinstance(points, (int, np.integer)) and points >= 2) or degree not in (1, 2):
        raise ValueError(f"need points >= 2 and degree 1 or 2, got {points!r} and {degree!r}")
    jmax = float(jmax)
    s = np.arange(1, points + 1) / points
    seed = np.full_like(s, 1e-3)
    u = np.concatenate([np.stack([s, seed], 1), np.stack([seed, s], 1), np.stack([s, s], 1)])
    J = jmax * u
    Q = amplitude_tunes(ring, J, order=order, turns=turns)
    # in units of jmax, so that the columns are of one size
    X = np.stack([np.ones(len(u)), u[:, 0], u[:, 1], u[:, 0] ** 2, u[:, 0] * u[:, 1],
                  u[:, 1] ** 2][: 3 * degree], 1)  # fmt: skip
    coef, *_ = np.linalg.lstsq(X, Q, rcond=None)
    out = {
        "det_xx": coef[1, 0] / jmax,
        "det_xy": coef[2, 0] / jmax,
        "det_yx": coef[1, 1] / jmax,
        "det_yy": coef[2, 1] / jmax,
        "qx": coef[0, 0] % 1.0,
        "qy": coef[0, 1] % 1.0,
        "curvature": np.abs(X[:, 3:] @ coef[3:]).max() if degree == 2 else 0.0,
        "residual": np.abs(X @ coef - Q).max(),
    }
    out = {k: float(v) for k, v in out.items()}
    out["actions"], out["tunes"] = J, Q
    return out


__all__ = ["amplitude_detuning", "amplitude_tunes", "linear_normal_form", "tune"]
