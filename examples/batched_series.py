"""Taylor expansions at many points at once: batched DA on every core (and a GPU).

``d.vars([xs, ys, zs])`` with arrays of expansion points gives variables that
are *tensors* of series, one per point; every operation then runs once over
the whole batch (SIMD lanes and all cores for products, all cores for
functions).  Here

    f(x, y, z) = exp(x) · sin(y) · cos(z)

is expanded to order 8 at ``n`` random points, each coefficient is checked
against its closed form ``e^x/a! · sin^(b)(y)/b! · cos^(c)(z)/c!``, and the
batch is timed against expanding the points one at a time in a Python loop (as
with a library that holds one series at a time).  When a GPU is present the
same expansion runs there too and is compared with the CPU result.

Run it with ``python examples/batched_series.py``.
"""

from __future__ import annotations

import math
import time

import numpy as np

import diffalg as dg


def f(x, y, z):
    return dg.exp(x) * dg.sin(y) * dg.cos(z)


def closed_form(d, points):
    """Every Taylor coefficient of ``f`` at every point: ``(n, ncoef)``."""
    x, y, z = points.T
    a, b, c = d.monomials.T
    fact = np.array([math.factorial(k) for k in range(d.order + 1)])
    sin_k = np.sin(y[:, None] + b[None, :] * math.pi / 2)  # sin^(b)(y) = sin(y + bπ/2)
    cos_k = np.cos(z[:, None] + c[None, :] * math.pi / 2)
    return np.exp(x)[:, None] / fact[a] * sin_k / fact[b] * cos_k / fact[c]


def main(n=10_000, order=8, loop_points=500, seed=0, gpu=None):
    """``gpu``: run the GPU part too (default: when a GPU is available)."""
    d = dg.Descriptor(variables=["x", "y", "z"], order=order)
    points = np.random.default_rng(seed).uniform(-1, 1, (n, 3))
    truth = closed_form(d, points)

    f(*d.vars(points[:20].T))  # compile (or load) the kernels before timing
    t0 = time.perf_counter()
    batch = f(*d.vars(points.T))
    t_batch = time.perf_counter() - t0
    err = float(np.abs(batch.coeffs - truth).max() / np.abs(truth).max())

    m = min(loop_points, n)
    t0 = time.perf_counter()
    one = [f(*d.vars(p)).coeffs for p in points[:m]]
    t_loop = (time.perf_counter() - t0) / m * n  # the loop over all n points, extrapolated
    loop_err = float(np.abs(np.array(one) - batch.coeffs[:m]).max() / np.abs(truth).max())

    print(f"f = exp(x) sin(y) cos(z) to order {order} ({d.ncoef} coefficients) at {n} points")
    print(f"  batched: {t_batch:.3f} s ({t_batch / n * 1e6:.1f} µs per point)")
    print(f"  one point at a time: {t_loop:.3f} s for all points (timed on {m})")
    print(f"  speed-up {t_loop / t_batch:.1f}x; largest error against the closed form {err:.1e}")
    print(f"  batch and one-at-a-time agree to {loop_err:.1e}")
    result = {"error": err, "loop_error": loop_err, "t_batch": t_batch, "t_loop": t_loop}

    if dg.cuda.is_available() if gpu is None else gpu:
        xs = [v.to("cuda") for v in d.vars(points.T)]
        t0 = time.perf_counter()
        on_gpu = f(*xs).cpu()
        t_gpu = time.perf_counter() - t0
        gpu_err = float(np.abs(on_gpu.coeffs - batch.coeffs).max() / np.abs(truth).max())
        print(f"  on the GPU: {t_gpu:.3f} s, agrees with the CPU to {gpu_err:.1e}")
        result |= {"gpu_error": gpu_err, "t_gpu": t_gpu}
    return result


if __name__ == "__main__":
    main()
