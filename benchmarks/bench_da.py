"""Multiplication and sin: diffalg against GTPSA (MAD-NG) and DACE, in one process.

    python benchmarks/bench_da.py            # full run (about a minute)
    python benchmarks/bench_da.py --quick    # a few seconds, rougher numbers

For each (nv, order) every variant is timed in each of several rounds, the variants
interleaved inside a round (in a rotating order) so that drifts of a noisy machine
hit all of them alike; the table shows the median over rounds of the time per call.
Repetitions per round are chosen so that each variant takes about 0.3 s in all
(0.03 s with ``--quick``).  All libraries get the same dense random series (every
coefficient nonzero); ``sin`` gets one with constant part 0.3.

Variants: ``kernel`` is diffalg's numba kernel on raw float64 arrays called from
Python (``diffalg.kernels.mul.mul``, ``diffalg.kernels.functions.unary_rows``),
``in-jit`` the same calls repeated inside one numba-compiled loop (no dispatch
cost); ``API`` is
``x * y`` / ``dg.sin(x)`` on 0-d DA tensors; ``C`` is the peer's C function on
preallocated series (``mad_tpsa_mul``/``mad_tpsa_sin`` through cffi,
``daceMultiply``/``daceSine`` through ctypes, call overhead included); ``Py`` is the
peer's Python operator or method.

The first calls of diffalg's kernels (numba compilation, or loading its on-disk
cache) are measured separately, each in a fresh subprocess: once with an empty
numba cache (``NUMBA_CACHE_DIR`` pointed at a new folder) and once with it filled.
"""

from __future__ import annotations

import argparse
import gc
import json
import operator
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np

SHAPES = [(2, 10), (4, 8), (6, 4), (6, 8), (6, 10), (10, 6)]
SMALL = (2, 10)  # shape of the "small op" whose Python overhead is reported
SIN_CONST = 0.3


# ----------------------------------------------------------------------- timing
def loop(body: Callable[[int], None]) -> Callable[[int], float]:
    """Seconds per call of ``body(n)``, which runs the operation ``n`` times."""

    def timed(n: int) -> float:
        gc.disable()
        try:
            t0 = time.perf_counter()
            body(n)
            return (time.perf_counter() - t0) / n
        finally:
            gc.enable()

    return timed


def calibrate(timed: Callable[[int], float], budget: float, rounds: int) -> int:
    """Repetitions per round so that ``rounds`` rounds take about ``budget`` seconds."""
    timed(1)  # warm-up (compiles the in-jit loops), not counted
    n, t = 1, timed(1)
    while t * n < 2e-3 and n < 1 << 20:  # a batch long enough to time reliably
        n *= 4
        t = timed(n)
    return max(1, round(budget / rounds / t))


def run_rounds(variants: dict[str, Callable[[int], float]], budget: float, rounds: int):
    """Median time per call of each variant over interleaved rounds."""
    reps = {k: calibrate(f, budget, rounds) for k, f in variants.items()}
    names = list(variants)
    samples: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        for k in names[r % len(names) :] + names[: r % len(names)]:
            samples[k].append(variants[k](reps[k]))
    return {k: statistics.median(v) for k, v in samples.items()}


# --------------------------------------------------------------------- variants
def dense(d, rng: np.random.Generator, const: float | None = None) -> np.ndarray:
    c = rng.uniform(-1.0, 1.0, d.ncoef)
    if const is not None:
        c[1:] *= 0.1
        c[0] = const
    return c


def jit_loops():
    """``n`` kernel calls inside one compiled loop: the kernels without dispatch cost."""
    from numba import njit

    from diffalg.kernels.functions import SIN, unary_rows
    from diffalg.kernels.mul import mul, mul_gather

    @njit
    def mul_n(n, a, b, out, ord_off, pair_off, tab):
        for _ in range(n):
            mul(a, b, out, ord_off, pair_off, tab)

    @njit
    def gather_n(n, a, b, out, start, I, J):
        for _ in range(n):
            mul_gather(a, b, out, start, I, J)

    @njit
    def sin_n(n, A, C, C2, degrees, ord_off, pair_off, tab):
        for _ in range(n):
            unary_rows(SIN, 0.0, A, C, C2, degrees, ord_off, pair_off, tab)

    return mul_n, sin_n, gather_n


def ours_variants(dg, d, a: np.ndarray, b: np.ndarray, s: np.ndarray, jit):
    from diffalg.kernels.functions import SIN, unary_rows
    from diffalg.kernels.mul import mul, mul_gather
    from diffalg.ops.batch import GATHER_MAX

    ord_off, pair_off, tab = d.mul_args
    # the product kernel the API runs at this size, and its tables
    kernel, tables, mul_n = (
        (mul_gather, d.gather_tables, jit[2]) if d.ncoef <= GATHER_MAX
        else (mul, d.mul_args, jit[0])
    )  # fmt: skip
    degrees = d.degrees
    out = np.empty(d.ncoef)
    A, C, C2 = s[None].copy(), np.empty((1, d.ncoef)), np.empty((1, d.ncoef))
    x, y, z = d.from_coeffs(a), d.from_coeffs(b), d.from_coeffs(s)

    def k_mul(n):
        for _ in range(n):
            kernel(a, b, out, *tables)

    def k_sin(n):
        for _ in range(n):
            unary_rows(SIN, 0.0, A, C, C2, degrees, ord_off, pair_off, tab)

    def api_mul(n):
        for _ in range(n):
            x * y

    def j_mul(n):
        mul_n(n, a, b, out, *tables)

    def j_sin(n, sin_n=jit[1]):
        sin_n(n, A, C, C2, degrees, ord_off, pair_off, tab)

    def api_sin(n, sin=dg.sin):
        for _ in range(n):
            sin(z)

    kernel(a, b, out, *tables)
    unary_rows(SIN, 0.0, A, C, C2, degrees, ord_off, pair_off, tab)
    results = {"mul": out.copy(), "sin": C[0].copy()}
    assert np.array_equal((x * y).coeffs, results["mul"])
    assert np.allclose(dg.sin(z).coeffs, results["sin"], rtol=0, atol=1e-14)
    mul_v = {"ours in-jit": loop(j_mul), "ours kernel": loop(k_mul), "ours API": loop(api_mul)}
    sin_v = {"ours in-jit": loop(j_sin), "ours kernel": loop(k_sin), "ours API": loop(api_sin)}
    return mul_v, sin_v, results


def _looped(f, *args):
    """A timing body calling ``f(*args)`` ``n`` times."""

    def run(n):
        for _ in range(n):
            f(*args)

    return run


def gtpsa_variants(d, a, b, s):
    import madng_tpsa as mt

    from diffalg.testing.peers import GtpsaBackend

    be = GtpsaBackend(d.nv, d.order)
    ta, tb, ts = (be.from_coeffs(_as_dict(d, c)) for c in (a, b, s))
    out, sout = be.const(0.0), be.const(0.0)
    c_mul, c_sin = be.mul_timer(), mt.lib.mad_tpsa_sin
    pa, ps, po = ta._ptr, ts._ptr, sout._ptr
    py_sin = be.fn.sin

    c_mul_loop, c_sin_loop = _looped(c_mul, ta, tb, out), _looped(c_sin, ps, po)
    py_mul, py_sin_loop = _looped(operator.mul, ta, tb), _looped(py_sin, ts)

    be.raw_mul(ta, tb, out)
    c_sin(ps, po)
    assert pa is ta._ptr
    results = {"mul": _array(d, be.coeffs(out)), "sin": _array(d, be.coeffs(sout))}
    mul_v = {"GTPSA C": loop(c_mul_loop), "GTPSA Py": loop(py_mul)}
    sin_v = {"GTPSA C": loop(c_sin_loop), "GTPSA Py": loop(py_sin_loop)}
    return mul_v, sin_v, results


def dace_variants(d, a, b, s):
    from daceypy import core

    from diffalg.testing.peers import DaceBackend

    be = DaceBackend(d.nv, d.order)
    da, db, ds = (be.from_coeffs(_as_dict(d, c)) for c in (a, b, s))
    out, sout = be.const(0.0), be.const(0.0)
    c_mul, c_sin = be.mul_timer(), core.DAlib.daceSine
    ps, po = ds._as_parameter_, sout._as_parameter_

    c_mul_loop, c_sin_loop = _looped(c_mul, da, db, out), _looped(c_sin, ps, po)
    py_mul, py_sin = _looped(operator.mul, da, db), _looped(ds.sin)

    c_mul(da, db, out)
    c_sin(ps, po)
    results = {"mul": _array(d, be.coeffs(out)), "sin": _array(d, be.coeffs(sout))}
    mul_v = {"DACE C": loop(c_mul_loop), "DACE Py": loop(py_mul)}
    sin_v = {"DACE C": loop(c_sin_loop), "DACE Py": loop(py_sin)}
    return mul_v, sin_v, results


def small_op_variants(dg, d, a, b):
    """Cheap operations through each library's Python layer (overhead-bound)."""
    x, y = d.from_coeffs(a), d.from_coeffs(b)

    def add(n):
        for _ in range(n):
            x + y

    def scale(n):
        for _ in range(n):
            2.0 * x

    return {"ours API x+y": loop(add), "ours API 2.0*x": loop(scale)}


def _as_dict(d, c):
    return {tuple(int(e) for e in m): float(v) for m, v in zip(d.monomials, c, strict=True)}


def _array(d, coeffs):
    out = np.zeros(d.ncoef)
    for mono, c in coeffs.items():
        out[d.index(mono)] = c
    return out


def check_agreement(case, results):
    """Every library must have computed the same series (else the timings lie)."""
    ref = results["ours"]
    for lib, res in results.items():
        for op in ("mul", "sin"):
            scale = np.max(np.abs(ref[op]))
            err = np.max(np.abs(res[op] - ref[op])) / scale
            if err > 1e-10:
                raise AssertionError(f"{case} {op}: {lib} differs from diffalg by {err:.1e}")


# ------------------------------------------------------------------ first calls
def first_calls() -> dict[str, float]:
    """Run in a fresh process: seconds taken by diffalg's first calls."""
    t = {}
    t0 = time.perf_counter()
    import diffalg as dg

    t["import diffalg"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    d = dg.Descriptor(nv=SMALL[0], order=SMALL[1])
    _ = d.mul_args  # builds the product tables
    t[f"Descriptor{SMALL} + tables"] = time.perf_counter() - t0
    x, y = d.vars([0.5, 0.3])
    for name, f in (
        ("first x*y", lambda: x * y),
        ("first x/y", lambda: x / y),
        ("first dg.sin(x)", lambda: dg.sin(x)),
        ("first dg.exp(x)", lambda: dg.exp(x)),
        ("second x*y", lambda: x * y),
    ):
        t0 = time.perf_counter()
        f()
        t[name] = time.perf_counter() - t0
    return t


def measure_first_calls() -> dict[str, dict[str, float]]:
    """First-call times in fresh subprocesses: empty numba cache, then filled."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("empty numba cache (compile)", "numba cache filled"):
            proc = subprocess.run(
                [sys.executable, __file__, "--first-calls"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            out[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


# ------------------------------------------------------------------------ report
def fmt(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us:.3g}" if us < 100 else f"{us:,.0f}"


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def environment() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    libs = ", ".join(
        f"{p} {version(p)}" for p in ("diffalg", "numpy", "numba", "madng-tpsa", "daceypy")
    )
    return f"Python {platform.python_version()}, {cpu} ({os.cpu_count()} CPUs); {libs}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few rounds, short budgets")
    ap.add_argument("--first-calls", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-first-calls", action="store_true", help="skip the subprocess part")
    args = ap.parse_args()
    if args.first_calls:
        print(json.dumps(first_calls()))
        return

    budget, rounds = (0.03, 5) if args.quick else (0.3, 15)
    print(f"# diffalg benchmark ({'quick' if args.quick else 'full'})\n")
    print(environment() + "\n", flush=True)
    first = None if args.no_first_calls else measure_first_calls()

    import diffalg as dg

    rng = np.random.default_rng(2026)
    jit = jit_loops()
    mul_t, sin_t, small_t = {}, {}, {}
    for nv, order in SHAPES:
        d = dg.Descriptor(nv=nv, order=order)
        a, b, s = dense(d, rng), dense(d, rng), dense(d, rng, SIN_CONST)
        mv, sv, res = ours_variants(dg, d, a, b, s, jit)
        results = {"ours": res}
        for name, make in (("gtpsa", gtpsa_variants), ("dace", dace_variants)):
            m2, s2, results[name] = make(d, a, b, s)
            mv |= m2
            sv |= s2
        check_agreement((nv, order), results)
        variants = {("mul", k): f for k, f in mv.items()} | {("sin", k): f for k, f in sv.items()}
        if (nv, order) == SMALL:
            variants |= {("small", k): f for k, f in small_op_variants(dg, d, a, b).items()}
        med = run_rounds(variants, budget, rounds)
        mul_t[nv, order] = {k: v for (op, k), v in med.items() if op == "mul"}
        sin_t[nv, order] = {k: v for (op, k), v in med.items() if op == "sin"}
        small_t |= {k: v for (op, k), v in med.items() if op == "small"}
        print(f"  timed nv={nv} order={order} (ncoef {d.ncoef})", file=sys.stderr, flush=True)

    cols = ["ours in-jit", "ours kernel", "ours API", "GTPSA C", "GTPSA Py", "DACE C", "DACE Py"]
    shape_col = ["nv", "order", "ncoef"]

    def shape_cells(nv, order):
        return [str(nv), str(order), str(dg.Descriptor(nv=nv, order=order).ncoef)]

    print("## Multiplication, µs per call (median)\n")
    rows = [
        shape_cells(*sh) + [fmt(t[c]) for c in cols] + [f"{t['ours kernel'] / t['GTPSA C']:.2f}"]
        for sh, t in mul_t.items()
    ]
    print(markdown(shape_col + cols + ["ours kernel / GTPSA C"], rows) + "\n")

    print("## sin, µs per call (median)\n")
    rows = [shape_cells(*sh) + [fmt(t[c]) for c in cols] for sh, t in sin_t.items()]
    print(markdown(shape_col + cols, rows) + "\n")

    print("## sin / mul (time of sin over time of one multiplication)\n")
    rcols = ["ours in-jit", "ours kernel", "ours API", "GTPSA C", "DACE C"]
    rows = [
        shape_cells(*sh) + [f"{sin_t[sh][c] / mul_t[sh][c]:.2f}" for c in rcols] for sh in mul_t
    ]
    print(markdown(shape_col + rcols, rows) + "\n")

    m, s = mul_t[SMALL], sin_t[SMALL]
    print(f"## Small operations at nv={SMALL[0]}, order={SMALL[1]} (µs per call)\n")

    def row(label, t, py, low):
        return [label, fmt(t[py]), fmt(t[low]), fmt(t[py] - t[low])]

    rows = [
        row("ours x*y", m, "ours API", "ours kernel"),
        row("ours sin(x)", s, "ours API", "ours kernel"),
        ["ours x+y", fmt(small_t["ours API x+y"]), "", ""],
        ["ours 2.0*x", fmt(small_t["ours API 2.0*x"]), "", ""],
        row("GTPSA a*b", m, "GTPSA Py", "GTPSA C"),
        row("GTPSA sin(a)", s, "GTPSA Py", "GTPSA C"),
        row("DACE a*b", m, "DACE Py", "DACE C"),
        row("DACE sin(a)", s, "DACE Py", "DACE C"),
    ]
    header = ["operation", "through Python", "kernel / C call", "difference"]
    print(markdown(header, rows) + "\n")
    jit_m, jit_s = m["ours in-jit"], s["ours in-jit"]
    print(
        f"diffalg x*y: {fmt(m['ours API'] - jit_m)} µs above the in-jit kernel ({fmt(jit_m)} µs); "
        f"sin(x): {fmt(s['ours API'] - jit_s)} µs above ({fmt(jit_s)} µs).\n"
    )

    if first is not None:
        print("## First calls in a fresh process (ms; not in the tables above)\n")
        labels = list(first)
        keys = list(first[labels[0]])
        rows = [[k] + [f"{first[lab][k] * 1e3:.1f}" for lab in labels] for k in keys]
        print(markdown(["step"] + labels, rows) + "\n")

    big = mul_t[6, 10]
    print("## Targets\n")
    print(
        f"- mul at (6,10) no slower than GTPSA's C kernel: ours {fmt(big['ours kernel'])} µs "
        f"(in-jit {fmt(big['ours in-jit'])}) vs GTPSA C {fmt(big['GTPSA C'])} µs, "
        f"ratio {big['ours kernel'] / big['GTPSA C']:.2f}"
    )
    print(
        f"- small op under 3 µs including Python: x*y at {SMALL} {fmt(m['ours API'])} µs, "
        f"x+y {fmt(small_t['ours API x+y'])} µs"
    )
    ratios = {sh: sin_t[sh]["ours in-jit"] / mul_t[sh]["ours in-jit"] for sh in mul_t}
    lo, hi = min(ratios.values()), max(ratios.values())
    print(f"- sin at most about twice a multiplication: sin/mul (in-jit) {lo:.2f} to {hi:.2f}")


if __name__ == "__main__":
    main()
