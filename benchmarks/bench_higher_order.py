"""All partial derivatives up to order k: one DA evaluation against nested reverse mode.

    python benchmarks/bench_higher_order.py            # full run (about 6 minutes)
    python benchmarks/bench_higher_order.py --quick    # k = 2, 4, 6 only, about a minute

The function, of three variables and about a dozen operations::

    f(x, y, z) = exp(x·y)·sin(z) / (1 + x² + y²·z²) + log(2 + cos(x·z))

at ``N = 1000`` points drawn uniformly from [-0.8, 0.8]³.  Wanted: every mixed
partial ∂^|e| f / ∂x^e1 ∂y^e2 ∂z^e3 with |e| <= k at every point, for k = 2, 4, 6, 8
(10, 35, 84 and 165 derivatives per point).  Three ways:

* **DA** (diffalg, batched): ``x, y, z = Descriptor(nv=3, order=k).vars(points.T)``
  makes three tensors of ``N`` series, ``f`` runs once on them, and the derivatives
  are ``f.coeffs * d.factorials``.  Timed with numba's default threads and with 1.
* **nested reverse mode** on diffalg's own tape, and the same in **PyTorch**: float64
  tensors of the ``N`` points with ``requires_grad``, and ``autograd.grad`` applied
  again and again with ``create_graph=True``.  The points are independent, so one
  ``grad`` call with ``grad_outputs`` of ones gives a derivative at all points at
  once.  Every partial of order j+1 is taken from exactly one partial of order j,
  as in the monomial tree: the parent of a monomial is the monomial with a power of
  its last variable removed, so a parent whose last variable is v is differentiated
  (in one ``grad`` call) with respect to v and the variables after it.  That is
  one ``grad`` call per monomial of order below k; the last layer is taken without
  ``create_graph``.  Nested reverse mode is also timed on the same function with the
  quotient written as a power, ``... * (1 + x² + y²·z²) ** -1.0``: the VJP formula of
  each operation is copied into the graph at every level, and the two libraries'
  quotient rules make bigger graphs than their power rules.

Before timing, the script checks that the three agree: for each derivative, the
largest difference over the points, over that derivative's largest magnitude over
the points (the magnitudes grow quickly with the order), must stay below 1e-8.  The
variants of one k are then timed in interleaved rounds (rotating order), and the
table shows the median over rounds.  A last table times the two largest k at 100
points too: the cost of nested reverse mode is mostly the per-operation overhead
of the tape, which hardly depends on the number of points, so the ratio to DA does.

numpy's OpenBLAS and PyTorch run on one thread each (see ``bench_nn``); diffalg's
tape on real tensors is numpy, so nested reverse mode runs on one core in both
libraries.  Only the DA kernels (numba) use more threads.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS

import numba  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_da import environment, markdown  # noqa: E402

import diffalg as dg  # noqa: E402

NV = 3
N_POINTS = 1000
TOL = 1e-8
ORDERS = (2, 4, 6, 8)
POWER = ", quotient as ** -1"  # label suffix of the variants on ``f_power``


def f(lib, x, y, z):
    """The benchmark function, written once for DA tensors, diffalg and torch."""
    return lib.exp(x * y) * lib.sin(z) / (1 + x * x + y * y * z * z) + lib.log(2 + lib.cos(x * z))


def f_power(lib, x, y, z):
    """``f`` with the quotient written as a power (the same function, another graph)."""
    q = (1 + x * x + y * y * z * z) ** -1.0
    return lib.exp(x * y) * lib.sin(z) * q + lib.log(2 + lib.cos(x * z))


# ---------------------------------------------------------------------- methods
def da(points: np.ndarray, k: int) -> np.ndarray:
    """``(N, ncoef)`` derivatives, in the descriptor's monomial order, from one DA pass."""
    d = dg.Descriptor(nv=NV, order=k)
    x, y, z = d.vars(points.T)
    return f(dg, x, y, z).coeffs * d.factorials


def nested(lib, points: np.ndarray, k: int, fn=f) -> np.ndarray:
    """The same derivatives by repeated ``lib.autograd.grad`` (``lib``: ``dg`` or ``torch``)."""
    xs = [lib.tensor(points[:, i].copy(), requires_grad=True) for i in range(NV)]
    ones = lib.ones(points.shape[0], dtype=lib.float64)
    root = (0,) * NV
    level = {root: fn(lib, *xs)}
    found = dict(level)
    for j in range(k):
        last = j + 1 == k
        nxt = {}
        for e, g in level.items():
            v = max((i for i in range(NV) if e[i]), default=0)  # e's last variable
            grads = lib.autograd.grad(
                g, xs[v:], grad_outputs=ones, create_graph=not last, retain_graph=True,
                allow_unused=True,
            )  # fmt: skip
            for w, gw in enumerate(grads, start=v):
                child = list(e)
                child[w] += 1
                nxt[tuple(child)] = gw
        found |= nxt
        level = nxt
    d = dg.Descriptor(nv=NV, order=k)
    zero = np.zeros(points.shape[0])
    cols = [found[tuple(m)] for m in d.monomials.tolist()]
    return np.stack([zero if c is None else c.detach().numpy() for c in cols], axis=1)


def on_threads(n: int, fn):
    """``fn`` with numba limited to ``n`` threads."""

    def run():
        default = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            return fn()
        finally:
            numba.set_num_threads(default)

    return run


def variants(points: np.ndarray, k: int) -> dict:
    threads = numba.get_num_threads()
    return {
        f"DA, {threads} threads": on_threads(threads, lambda: da(points, k)),
        "DA, 1 thread": on_threads(1, lambda: da(points, k)),
        "nested, diffalg tape": lambda: nested(dg, points, k),
        "nested, PyTorch": lambda: nested(torch, points, k),
        f"nested, diffalg tape{POWER}": lambda: nested(dg, points, k, f_power),
        f"nested, PyTorch{POWER}": lambda: nested(torch, points, k, f_power),
    }


# ----------------------------------------------------------------------- timing
def timed(fn, reps: int) -> float:
    """Seconds per call over ``reps`` calls (garbage collector off while timing)."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        return (time.perf_counter() - t0) / reps
    finally:
        gc.enable()


def check(k: int, results: dict) -> dict:
    """Largest relative difference from DA (default threads) per method; raises above TOL."""
    names = list(results)
    ref = results[names[0]]
    scale = np.maximum(np.abs(ref).max(axis=0), np.finfo(float).tiny)
    errs = {}
    for name in names[1:]:
        err = float((np.abs(results[name] - ref).max(axis=0) / scale).max())
        if not err <= TOL:
            raise AssertionError(f"k={k}: {name} differs from {names[0]} by {err:.1e}")
        errs[name] = err
    return errs


def run_k(points: np.ndarray, k: int, budget: float, rounds: int):
    """Check, then median time per call of every variant over interleaved rounds."""
    vs = variants(points, k)
    results, first = {}, {}
    for name, fn in vs.items():  # the check run doubles as warm-up and calibration
        t0 = time.perf_counter()
        results[name] = fn()
        first[name] = time.perf_counter() - t0
        if first[name] < 1.0:  # a first call may include compilation or loading
            first[name] = timed(fn, 1)
    errs = check(k, results)
    del results
    reps = {name: max(1, round(budget / rounds / max(first[name], 1e-6))) for name in vs}
    names = list(vs)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            samples[name].append(timed(vs[name], reps[name]))
    return {name: statistics.median(s) for name, s in samples.items()}, errs


def fmt_s(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3g}" if ms < 1000 else f"{ms:,.0f}"


def ratio(r: float) -> str:
    return f"{r:.2g}" if r < 10 else f"{r:,.0f}"


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="k = 2, 4, 6 only, fewer rounds")
    args = ap.parse_args()
    orders = ORDERS[:3] if args.quick else ORDERS
    # (budget in seconds per variant, rounds) by k; nested reverse mode at k = 8 takes
    # tens of seconds per call, so it gets one call per round and three rounds
    plan = {2: (1.0, 9), 4: (1.0, 9), 6: (3.0 if args.quick else 9.0, 5 if args.quick else 9),
            8: (0.0, 3)}  # fmt: skip
    print(f"# higher-order derivatives ({'quick' if args.quick else 'full'}, N = {N_POINTS})\n")
    print(
        f"{environment()}; torch {torch.__version__} ({torch.get_num_threads()} thread), "
        f"numba threads {numba.get_num_threads()}\n",
        flush=True,
    )
    rng = np.random.default_rng(2026)
    points = rng.uniform(-0.8, 0.8, (N_POINTS, NV))

    wall0, cpu0, load0 = time.perf_counter(), _cpu(), os.getloadavg()[0]
    diffs, meds = [], {}
    for k in orders:
        t0 = time.perf_counter()
        meds[k], errs = run_k(points, k, *plan[k])
        diffs.append([str(k)] + [f"{e:.1e}" for e in errs.values()])
        print(f"  k={k} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    names = list(meds[orders[0]])
    da_names, nested_names = names[:2], names[2:]

    print(f"## Time for all derivatives up to order k at {N_POINTS} points, ms (median)\n")
    rows = [[str(k), str(dg.Descriptor(nv=NV, order=k).ncoef)] + [fmt_s(t) for t in med.values()]
            for k, med in meds.items()]  # fmt: skip
    print(markdown(["k", "derivatives per point", *names], rows) + "\n")
    print("## Nested reverse mode over DA (time ratio)\n")
    rows = [[str(k), a] + [ratio(med[a] / med[b]) for b in da_names]
            for k, med in meds.items() for a in nested_names]  # fmt: skip
    print(markdown(["k", "nested", *(f"/ {b}" for b in da_names)], rows) + "\n")
    print("## Largest difference from DA, per derivative relative to its largest magnitude\n")
    print(markdown(["k", *errs], diffs) + "\n")

    few = 100
    print(f"## At {few} points and at {N_POINTS}, ms\n")
    print(f"At {few} points: median of 5 for DA, of 3 for nested reverse mode (one call at")
    print(f"k = 8); at {N_POINTS} points: the medians above.\n")
    rows = []
    for k in orders[-2:]:
        vs = variants(points[:few], k)
        small = {name: vs[name] for name in (da_names[1], *nested_names)}
        t_da = statistics.median(timed(small[da_names[1]], 20) for _ in range(5))
        for name, fn in small.items():
            if name == da_names[1]:
                t = t_da
            else:  # nested reverse mode at k = 8 takes seconds to tens of seconds: one call
                t = statistics.median(timed(fn, 1) for _ in range(1 if k >= 8 else 3))
            t_all = meds[k][name]
            rows.append([str(k), name, fmt_s(t), fmt_s(t_all), f"{t_all / t:.2f}",
                         "" if name == da_names[1] else ratio(t / t_da)])  # fmt: skip
    header = ["k", "method", f"{few} points", f"{N_POINTS} points", f"{N_POINTS} / {few}",
              f"over DA 1 thread, {few} points"]  # fmt: skip
    print(markdown(header, rows) + "\n")

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    wall = time.perf_counter() - wall0
    busy = (_cpu() - cpu0) / wall
    print(
        f"Peak resident memory {rss:.1f} GiB; process CPU time / wall time {busy:.2f}; 1-minute "
        f"load average {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.\n"
    )
    if 6 in orders:
        print("## Target: nested reverse mode at least 100 times DA's time for k >= 6\n")
        for k in (k for k in orders if k >= 6):
            med = meds[k]
            lo = min(med[a] for a in nested_names) / max(med[b] for b in da_names)
            hi = max(med[a] for a in nested_names) / min(med[b] for b in da_names)
            print(f"- k={k}: nested / DA from {ratio(lo)} to {ratio(hi)}")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


if __name__ == "__main__":
    main()
