"""CUDA kernels for batches of series: one GPU thread per output value.

Series are rows of ``(n, ncoef)`` float64 device arrays, as on the CPU.  An
operand with a single row is broadcast against ``n`` rows by reading row 0
for every thread (no copy of it is made).  The kernels take raw device arrays
and the descriptor's index tables (copied to the device once, see
:mod:`diffalg.ops.device`); :func:`launch` picks the grid.  Kernels compile
for a GPU on first use and are cached on disk, like the CPU ones.

* Product: thread ``(r, k)`` forms output coefficient ``k`` of row ``r`` as one
  running sum over the gather table ``[x·y]_k = Σ_p x[I[p]] y[J[p]]``
  (``Descriptor.gather_tables``): no thread writes where another does, so
  there are no atomics.  Limiting ``k`` to the first ``mtop`` coefficients
  gives the truncated products of Horner's rule.
* Functions: ``Σ_k f_k ā^k`` by Horner with rising truncation, one launch
  per step over the coefficients that step can still change (its degree
  ``<= order − k``); the Taylor coefficients ``f_k`` come per row from the CPU.
* Composition: ``F @ Mono`` (the monomials of the substituted map, one row
  each) as a tiled matrix product in shared memory.
* Tracking: one thread per particle walks the monomial tree depth first,
  keeping one monomial value per depth on a stack and a running sum per output.

>>> import numpy as np
>>> from numba import cuda
>>> x = cuda.to_device(np.array([[1.0, 2.0, 3.0]]))
>>> out = cuda.device_array((1, 3))
>>> launch(affine, 3, x, 2.0, 1.0, out)
>>> out.copy_to_host()
array([[3., 4., 6.]])
"""

from __future__ import annotations

from numba import cuda, float64

THREADS = 128  # threads per block of the one-dimensional kernels
TILE = 16  # side of the square tiles of the matrix product
MAX_DEPTH = 32  # monomial stack of a tracking thread: order <= MAX_DEPTH - 1
MAX_OUT = 16  # outputs one tracking thread sums at a time


def launch(kernel, size, *args):
    """Run a one-dimensional ``kernel`` over ``size`` threads (nothing when 0)."""
    if size > 0:
        kernel[(size + THREADS - 1) // THREADS, THREADS](*args)


@cuda.jit(device=True)
def _row(x, r):
    """Row ``r`` of ``x``, or row 0 of a one-row (broadcast) operand."""
    return r if x.shape[0] > 1 else 0


@cuda.jit(device=True)
def _cell(m):
    """This thread's ``(row, coefficient)`` in a grid of ``m`` coefficients per row."""
    t = cuda.grid(1)
    r = t // m
    return r, t - r * m


@cuda.jit(device=True)
def _gather_sum(x, rx, y, ry, k, start, I, J):
    s = 0.0
    for p in range(start[k], start[k + 1]):
        s += x[rx, I[p]] * y[ry, J[p]]
    return s


@cuda.jit(cache=True)
def mul(x, y, out, mtop, start, I, J):
    """``out[r, k] = [x[r]·y[r]]_k`` for ``k < mtop`` (truncated product by the gather table)."""
    r, k = _cell(mtop)
    if r >= out.shape[0]:
        return
    out[r, k] = _gather_sum(x, _row(x, r), y, _row(y, r), k, start, I, J)


@cuda.jit(cache=True)
def horner_step(acc, abar, F, j, out, mtop, start, I, J):
    """One Horner step ``out = acc·ā + F[:, j]`` on the coefficients ``k < mtop``.

    ``ā`` has a zero constant part, so ``[acc·ā]_0 = 0`` and coefficient 0 is
    just ``F[r, j]``.
    """
    r, k = _cell(mtop)
    if r >= out.shape[0]:
        return
    if k == 0:
        out[r, 0] = F[r, j]
    else:
        out[r, k] = _gather_sum(acc, r, abar, r, k, start, I, J)


@cuda.jit(cache=True)
def horner_start(a, F, acc, other, abar):
    """Set up Horner's rule: ``acc = F[:, order]``, ``other = 0``, ``ā = a − a_0``."""
    r, k = _cell(acc.shape[1])
    if r >= acc.shape[0]:
        return
    acc[r, k] = F[r, F.shape[1] - 1] if k == 0 else 0.0
    other[r, k] = 0.0
    abar[r, k] = a[r, k] if k > 0 else 0.0


@cuda.jit(cache=True)
def constants(a, out):
    """``out[r] = a[r, 0]``: the constant parts, contiguous for the copy to the host."""
    r = cuda.grid(1)
    if r < out.shape[0]:
        out[r] = a[r, 0]


@cuda.jit(cache=True)
def axpby(alpha, x, beta, y, out):
    """``out = alpha·x + beta·y`` row by row (either operand may be one broadcast row)."""
    r, k = _cell(out.shape[1])
    if r >= out.shape[0]:
        return
    out[r, k] = alpha * x[_row(x, r), k] + beta * y[_row(y, r), k]


@cuda.jit(cache=True)
def affine(x, s, c, out):
    """``out = s·x + c``: every coefficient scaled, the number ``c`` added to the constant."""
    r, k = _cell(out.shape[1])
    if r >= out.shape[0]:
        return
    v = s * x[_row(x, r), k]
    out[r, k] = v + c if k == 0 else v


@cuda.jit(cache=True)
def matmul(A, B, C):
    """``C = A @ B`` with ``TILE × TILE`` tiles of ``A`` and ``B`` staged in shared memory.

    Launched on a two-dimensional grid of ``TILE × TILE`` blocks covering ``C``;
    thread ``(tx, ty)`` of a block owns ``C[row, col]``.
    """
    sa = cuda.shared.array((TILE, TILE), float64)
    sb = cuda.shared.array((TILE, TILE), float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + tx
    row = cuda.blockIdx.y * TILE + ty
    n, kk = A.shape
    mg = B.shape[1]
    s = 0.0
    for t0 in range(0, kk, TILE):
        # every thread loads (zeros past the edges) and reaches both barriers
        sa[ty, tx] = A[row, t0 + tx] if row < n and t0 + tx < kk else 0.0
        sb[ty, tx] = B[t0 + ty, col] if t0 + ty < kk and col < mg else 0.0
        cuda.syncthreads()
        for q in range(TILE):
            s += sa[ty, q] * sb[q, tx]
        cuda.syncthreads()
    if row < n and col < mg:
        C[row, col] = s


@cuda.jit(cache=True)
def track(F, points, params, out, r0, var, dfs, degrees):
    """``out[q, r] = Σ_i F[r, i] · Π_v z_v^{e_iv}`` for outputs ``r0 <= r < r0 + MAX_OUT``.

    ``F`` is ``(nf, ncoef)``, one series per output; all threads read the same
    ``F[r, i]`` at a time (one broadcast load) and skip it together when it
    is 0.  Coordinate ``v`` of particle ``q`` is ``points[q, v]``, past the
    columns of ``points`` ``params[q, ·]`` (``params[0, ·]`` for one set of
    parameters).  The walk visits monomials in depth-first order (``dfs``), so
    node ``i`` of degree ``d`` is ``stack[d − 1]`` (its parent, the last node
    met at depth ``d − 1``) times ``z_var[i]``.
    """
    q = cuda.grid(1)
    npts, nc = points.shape
    if q >= npts:
        return
    nr = min(MAX_OUT, F.shape[0] - r0)
    stack = cuda.local.array(MAX_DEPTH, float64)
    acc = cuda.local.array(MAX_OUT, float64)
    pq = q if params.shape[0] > 1 else 0
    stack[0] = 1.0
    for r in range(nr):
        acc[r] = F[r0 + r, 0]
    for p in range(1, dfs.shape[0]):
        i = dfs[p]
        v = var[i]
        z = points[q, v] if v < nc else params[pq, v - nc]
        d = degrees[i]
        mono = stack[d - 1] * z
        stack[d] = mono
        for r in range(nr):
            c = F[r0 + r, i]
            if c != 0.0:
                acc[r] += c * mono
    for r in range(nr):
        out[q, r0 + r] = acc[r]
