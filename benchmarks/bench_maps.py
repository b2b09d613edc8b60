"""Taylor maps: tracking, composition and inversion against GTPSA and DACE, in one process.

    python benchmarks/bench_maps.py            # full run (a few minutes)
    python benchmarks/bench_maps.py --quick    # under a minute, rougher numbers

The map is the one-turn map of the FODO ring of ``examples/fodo_map.py`` (8
cells, 1.2 GeV protons), six variables to order 10; the second map for
compositions is the map of the first half of the ring.  Both peers get the
same coefficients, set monomial by monomial from exponent tuples and read back
the same way; the script checks that they hold exactly our coefficients, and
that every library computed the same numbers, before anything is timed.

Tracking: ``TaylorMap.track`` on 10^6 particles (10^5 with ``--quick``) drawn
uniformly in ±1e-3 (x, px, y, py) and ±1e-4 (t, pt), with numba's default
threads and with one, against

* DACE's compiled tree (``compiledDA``: the map as one walk over its monomials,
  each term one product and one multiply-add per output).  daceypy evaluates it
  in Python, point by point, so it is timed on a few points and extrapolated;
  DACE's C++ ``compiledDA::eval`` is not exposed by daceypy, so the same walk of
  the same ``ac`` array is compiled here with numba (a stand-in for the C++
  loop) and timed on every particle, with both thread counts;
* GTPSA's ``mad_tpsa_eval`` (one C call per particle, which composes the map
  with order-0 series), on a sample, extrapolated;
* element-by-element tracking ``Lattice.track`` (numpy, one thread), on every
  particle if that takes under 30 s, otherwise on a sample.

Composition ``M @ N`` and inversion ``M.inverse()`` at order 10 and order 6
against ``mad_tpsa_compose``/``mad_tpsa_minv`` and daceypy's ``array.eval``
(its composition) and ``array.invert``.  madng-tpsa's bindings do not declare
``mad_tpsa_eval``, ``mad_tpsa_compose`` or ``mad_tpsa_minv``; a second cffi
handle on the same shared library declares them.

Timing: every variant is timed in each of several rounds, the variants
interleaved inside a round in a rotating order (as in ``bench_da``); tables show
medians over rounds.  CPU/wall is process CPU time over wall time: about the
number of cores a run kept busy.  OpenBLAS is held to one thread (set below,
before numpy loads): none of the timed code needs a threaded BLAS, and idle
BLAS threads spinning next to numba's would only add noise.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

import fodo_map  # noqa: E402
from bench_da import _array, _as_dict, environment, fmt, markdown  # noqa: E402

from diffalg.maps import Lattice  # noqa: E402
from diffalg.testing.peers import DaceBackend, GtpsaBackend  # noqa: E402

ORDER, SMALL_ORDER = 10, 6
TREE = "DACE compiled tree, evaluated by numba (stand-in for DACE's C++ eval)"
SCALE = np.array([1e-3, 1e-3, 1e-3, 1e-3, 1e-4, 1e-4])  # half-widths of the particle box
GTPSA_CDEF = """
    void mad_tpsa_eval(int32_t na, void* ma[], int32_t nb, const double tb[], double tc[]);
    void mad_tpsa_compose(int32_t na, void* ma[], int32_t nb, void* mb[], void* mc[]);
    void mad_tpsa_minv(int32_t na, void* ma[], int32_t nb, void* mc[]);
"""


# ----------------------------------------------------------------------- timing
def timed(f: Callable[[], object], reps: int = 1) -> tuple[float, float]:
    """Wall and CPU seconds per call of ``f`` over ``reps`` calls (garbage collector off)."""
    gc.disable()
    try:
        w, c = time.perf_counter(), time.process_time()
        for _ in range(reps):
            f()
        return (time.perf_counter() - w) / reps, (time.process_time() - c) / reps
    finally:
        gc.enable()


def interleaved(variants: dict, rounds: int, target: float = 0.0) -> dict:
    """Median wall and CPU seconds per call of each variant over interleaved rounds.

    With a ``target``, one untimed call per variant sets the repetitions per round
    (about ``target`` seconds each); without, every variant runs once per round.
    """
    reps = {k: max(1, round(target / timed(f)[0])) if target else 1 for k, f in variants.items()}
    names = list(variants)
    samples: dict[str, list] = {k: [] for k in names}
    for r in range(rounds):
        for k in names[r % len(names) :] + names[: r % len(names)]:
            samples[k].append(timed(variants[k], reps[k]))
    return {
        k: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v))
        for k, v in samples.items()
    }


def on_threads(n: int, f: Callable[[], object]) -> Callable[[], object]:
    """``f`` run with ``n`` numba threads (the setting is put back afterwards)."""

    def run():
        before = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            return f()
        finally:
            numba.set_num_threads(before)

    return run


# ------------------------------------------------------------------ agreement
def coord_error(ref: np.ndarray, other: np.ndarray) -> float:
    """Largest difference per coordinate over that coordinate's largest |value|."""
    return float((np.abs(other - ref).max(axis=0) / np.abs(ref).max(axis=0)).max())


def block_error(ref: np.ndarray, other: np.ndarray, degrees: np.ndarray) -> float:
    """Largest difference in a (series, degree) block over that block's largest |coefficient|.

    The coefficients of these maps grow by orders of magnitude with the degree
    (to about 1e13 at degree 10), so each degree of each series is compared on
    its own scale; a block that is zero in ``ref`` is measured on its series' scale.
    """
    diff, size = np.abs(other - ref), np.abs(ref)
    worst = 0.0
    for k in np.unique(degrees):
        cols = degrees == k
        scale = size[:, cols].max(axis=1)
        scale = np.where(scale > 0, scale, size.max(axis=1))
        worst = max(worst, float((diff[:, cols].max(axis=1) / scale).max()))
    return worst


def require(what: str, err: float, tol: float) -> float:
    if not err <= tol:
        raise AssertionError(f"{what}: relative difference {err:.2e} above {tol:.0e}")
    return err


# --------------------------------------------------------------------- peers
class Gtpsa:
    """A map in GTPSA, and the C map routines madng-tpsa leaves undeclared."""

    def __init__(self, order: int):
        import cffi
        import madng_tpsa

        self.be = GtpsaBackend(6, order)
        self.ffi = cffi.FFI()
        self.ffi.cdef(GTPSA_CDEF)
        # the library madng_tpsa has loaded (dlopen of the same path shares its state)
        self.lib = self.ffi.dlopen(madng_tpsa.paths.core_library())
        self._addr = lambda t: int(madng_tpsa.ffi.cast("uintptr_t", t.ptr))

    def map(self, d, coeffs: np.ndarray) -> list:
        return [self.be.from_coeffs(_nonzero(d, row)) for row in coeffs]

    def coeffs(self, d, series: list) -> np.ndarray:
        return np.array([_array(d, self.be.coeffs(s)) for s in series])

    def ptrs(self, series: list):
        return self.ffi.new("void*[]", [self.ffi.cast("void*", self._addr(t)) for t in series])

    def zeros(self) -> list:
        return [self.be.const(0.0) for _ in range(6)]


class Dace:
    """A map in DACE (``daceypy.array``); DACE has one global shape, set here."""

    def __init__(self, order: int):
        self.be = DaceBackend(6, order)

    def map(self, d, coeffs: np.ndarray):
        import daceypy

        return daceypy.array([self.be.from_coeffs(_nonzero(d, row)) for row in coeffs])

    def coeffs(self, d, series) -> np.ndarray:
        return np.array([_array(d, self.be.coeffs(s)) for s in series])


def _nonzero(d, row: np.ndarray) -> dict:
    return {m: c for m, c in _as_dict(d, row).items() if c != 0.0}


def check_copy(name: str, lib, d, series, coeffs: np.ndarray) -> None:
    if not np.array_equal(lib.coeffs(d, series), coeffs):
        raise AssertionError(f"{name} does not hold the map's coefficients exactly")


@njit(parallel=True, cache=True)
def dace_tree_eval(ac, terms, order, points, out):
    """DACE's ``compiledDA::eval`` for numbers, one particle at a time, particles on all cores.

    ``ac`` is ``compiledDA.ac``: the constant parts of the ``dim`` outputs, then per
    term its order ``jl``, its variable ``jv`` (1-based) and ``dim`` coefficients;
    the term's monomial is ``xm[jl - 1] · x[jv]`` (a depth-first walk keeps one
    power product per order).
    """
    n, narg = points.shape
    dim = out.shape[1]
    chunk = 64
    for b in prange((n + chunk - 1) // chunk):
        xm = np.empty(order + 1)
        res = np.empty(dim)
        for q in range(b * chunk, min(n, (b + 1) * chunk)):
            x = points[q]
            xm[0] = 1.0
            p = 2
            for j in range(dim):
                res[j] = ac[p]
                p += 1
            for _ in range(1, terms):
                jl = int(ac[p])
                jv = int(ac[p + 1]) - 1
                p += 2
                xm[jl] = xm[jl - 1] * x[jv] if jv < narg else 0.0
                for j in range(dim):
                    res[j] += xm[jl] * ac[p]
                    p += 1
            for j in range(dim):
                out[q, j] = res[j]


# ------------------------------------------------------------------ tracking
def tracking(lat, M, n: int, quick: bool):
    """Rows of the tracking table (and the agreement figures), as dicts."""
    d = M.desc
    rng = np.random.default_rng(2026)
    P = rng.uniform(-1.0, 1.0, (n, 6)) * SCALE
    n_dace, n_gtpsa = (5, 200) if quick else (30, 1000)

    dace = Dace(d.order)
    DM = dace.map(d, M.coeffs)
    check_copy("DACE", dace, d, DM, M.coeffs)
    compiled = DM.compile()
    ac = np.array(compiled.getAc())
    terms, cord = compiled.getTerms(), compiled.getOrd()

    gt = Gtpsa(d.order)
    GM = gt.map(d, M.coeffs)
    check_copy("GTPSA", gt, d, GM, M.coeffs)
    ma, c_eval = gt.ptrs(GM), gt.lib.mad_tpsa_eval
    g_in = np.ascontiguousarray(P[:n_gtpsa])
    g_out = np.empty_like(g_in)
    pin = gt.ffi.cast("double*", gt.ffi.from_buffer(g_in))
    pout = gt.ffi.cast("double*", gt.ffi.from_buffer(g_out))

    def gtpsa_eval():
        for k in range(n_gtpsa):
            c_eval(6, ma, 6, pin + 6 * k, pout + 6 * k)

    def dace_py():
        return np.array([compiled.eval(P[k]) for k in range(n_dace)])

    tree_out = np.empty_like(P)

    def tree():
        dace_tree_eval(ac, terms, cord, P, tree_out)
        return tree_out

    # warm-up (compiles or loads the kernels), then the agreement checks
    M.track(P[:1000])
    dace_tree_eval(ac, terms, cord, P[:1000], tree_out[:1000])
    ref = M.track(P)
    errors = {
        "ours, 1 thread": require(
            "one thread", coord_error(ref, on_threads(1, lambda: M.track(P))()), 1e-14
        ),
        "DACE tree (numba)": require("DACE tree", coord_error(ref, tree()), 1e-12),
        "DACE compiledDA.eval": require("DACE eval", coord_error(ref[:n_dace], dace_py()), 1e-12),
    }
    gtpsa_eval()
    errors["GTPSA mad_tpsa_eval"] = require("GTPSA eval", coord_error(ref[:n_gtpsa], g_out), 1e-12)

    # element tracking: all particles when that takes under 30 s, else a sample
    n_lat = 10**4
    t_lat, _ = timed(lambda: lat.track(P[:n_lat]))
    if not quick and t_lat * n / n_lat < 30.0:
        n_lat = n
    lat_out = lat.track(P[:n_lat])
    lat_err = coord_error(lat_out, ref[:n_lat])
    lat_abs = float(np.abs(lat_out - ref[:n_lat]).max())

    threads = numba.get_num_threads()
    variants = {
        ("ours", threads): (n, lambda: M.track(P)),
        ("ours", 1): (n, on_threads(1, lambda: M.track(P))),
        (TREE, threads): (n, tree),
        (TREE, 1): (n, on_threads(1, tree)),
        ("DACE compiledDA.eval (Python)", 1): (n_dace, dace_py),
        ("GTPSA mad_tpsa_eval (C)", 1): (n_gtpsa, gtpsa_eval),
        ("Lattice.track (elements)", 1): (n_lat, lambda: lat.track(P[:n_lat])),
    }
    med = interleaved({k: f for k, (_, f) in variants.items()}, 3)
    info = {
        "n": n,
        "threads": threads,
        "errors": errors,
        "lattice": (n_lat, lat_err, lat_abs, float(np.abs(ref[:n_lat]).max(axis=0).max())),
        "terms": terms,
        "nonzero": int(np.count_nonzero(M.coeffs)),
    }
    return {k: (count, *med[k]) for k, (count, _) in variants.items()}, info


def tracking_table(rows, info) -> str:
    threads = info["threads"]
    ours = {t: rows["ours", t][1] / rows["ours", t][0] for t in (1, threads)}
    out = []
    for (name, t), (count, wall, cpu) in rows.items():
        per = wall / count
        total = f"{per * 10**6:.3g}" + ("" if count >= 10**6 else " (extrapolated)")
        ratio = "" if name == "ours" else f"{ours[t] / per:.3g}"
        out.append(
            [name, str(t), f"{count:,}", f"{per * 1e6:.3g}", total, f"{cpu / wall:.2f}", ratio]
        )
    header = [
        "method",
        "threads",
        "particles timed",
        "µs / particle",
        "s for 10^6 particles",
        "CPU / wall",
        "ours / this (same threads)",
    ]
    return markdown(header, out)


# --------------------------------------------------- composition and inversion
def algebra(lat, order: int, quick: bool, M=None):
    """Timings and agreement of ``M @ N`` and ``M.inverse()`` in all three libraries."""
    M = lat.map(order=order) if M is None else M
    N = Lattice(lat.elements[: len(lat.elements) // 2], lat.beam).map(order=order)
    d = M.desc
    gt = Gtpsa(order)
    GM, GN = gt.map(d, M.coeffs), gt.map(d, N.coeffs)
    check_copy("GTPSA", gt, d, GM, M.coeffs)
    check_copy("GTPSA", gt, d, GN, N.coeffs)
    g_comp, g_inv = gt.zeros(), gt.zeros()
    pm, pn, pc, pi = gt.ptrs(GM), gt.ptrs(GN), gt.ptrs(g_comp), gt.ptrs(g_inv)
    lib = gt.lib
    dace = Dace(order)
    DM, DN = dace.map(d, M.coeffs), dace.map(d, N.coeffs)
    check_copy("DACE", dace, d, DM, M.coeffs)
    check_copy("DACE", dace, d, DN, N.coeffs)

    ops = {
        "compose": {
            "ours": lambda: M @ N,
            "ours, 1 thread": on_threads(1, lambda: M @ N),
            "GTPSA": lambda: lib.mad_tpsa_compose(6, pm, 6, pn, pc),
            "DACE": lambda: DM.eval(DN),
        },
        "inverse": {
            "ours": M.inverse,
            "ours, 1 thread": on_threads(1, M.inverse),
            "GTPSA": lambda: lib.mad_tpsa_minv(6, pm, 6, pi),
            "DACE": DM.invert,
        },
    }
    ours_c, ours_i = (M @ N).coeffs, M.inverse().coeffs
    ops["compose"]["GTPSA"]()
    ops["inverse"]["GTPSA"]()
    degrees = d.degrees
    agree = {
        ("compose", "GTPSA"): block_error(ours_c, gt.coeffs(d, g_comp), degrees),
        ("compose", "DACE"): block_error(ours_c, dace.coeffs(d, DM.eval(DN)), degrees),
        ("inverse", "GTPSA"): block_error(ours_i, gt.coeffs(d, g_inv), degrees),
        ("inverse", "DACE"): block_error(ours_i, dace.coeffs(d, DM.invert()), degrees),
    }
    for (op, peer), err in agree.items():
        require(f"order {order} {op}, {peer}", err, 1e-9)
    variants = {(op, lib_): f for op, fs in ops.items() for lib_, f in fs.items()}
    med = interleaved(variants, 3 if quick else 9, 0.05 if quick else 0.2)
    sizes = {"max |coefficient|": max(np.abs(M.coeffs).max(), np.abs(N.coeffs).max())}
    return {k: v[0] for k, v in med.items()}, agree, sizes, int(np.count_nonzero(M.coeffs))


def algebra_table(results) -> str:
    rows = []
    for order, (t, agree, _, _) in results.items():
        for op in ("compose", "inverse"):
            rows.append(
                [
                    str(order),
                    "M @ N" if op == "compose" else "M.inverse()",
                    fmt(t[op, "ours"] / 1e3),
                    fmt(t[op, "ours, 1 thread"] / 1e3),
                    fmt(t[op, "GTPSA"] / 1e3),
                    fmt(t[op, "DACE"] / 1e3),
                    f"{t[op, 'ours'] / t[op, 'GTPSA']:.2f}",
                    f"{t[op, 'ours'] / t[op, 'DACE']:.2f}",
                    f"{agree[op, 'GTPSA']:.1e}",
                    f"{agree[op, 'DACE']:.1e}",
                ]
            )
    header = [
        "order",
        "operation",
        "ours (ms)",
        "ours, 1 thread (ms)",
        "GTPSA (ms)",
        "DACE (ms)",
        "ours / GTPSA",
        "ours / DACE",
        "diff. GTPSA",
        "diff. DACE",
    ]
    return markdown(header, rows)


# ------------------------------------------------------------------------ main
def _layer() -> str:
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel region has run: every kernel ran on one thread
        return "none started"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10^5 particles, few rounds")
    args = ap.parse_args()
    n = 10**5 if args.quick else 10**6

    print(f"# diffalg Taylor-map benchmark ({'quick' if args.quick else 'full'})\n")
    print(environment(), flush=True)
    print(
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, numba threads "
        f"{numba.get_num_threads()} (numba's default)\n",
        flush=True,
    )
    lat = fodo_map.ring()
    t0 = time.perf_counter()
    M = lat.map(order=ORDER)
    t_map = time.perf_counter() - t0

    rows, info = tracking(lat, M, n, args.quick)
    print(f"  tracking timed ({n:,} particles)", file=sys.stderr, flush=True)
    results = {}
    for order in (ORDER, SMALL_ORDER):
        results[order] = algebra(lat, order, args.quick, M if order == ORDER else None)
        print(f"  composition and inversion timed at order {order}", file=sys.stderr, flush=True)

    print(
        f"Map: one-turn map of `fodo_map.ring()`, 6 variables, order {ORDER} "
        f"({M.desc.ncoef} coefficients per series, {info['nonzero']} of "
        f"{6 * M.desc.ncoef} nonzero; DACE's compiled tree has {info['terms']} terms); "
        f"built in {t_map:.2f} s. Threading layer: {_layer()}.\n"
    )
    print(f"## Tracking {n:,} particles through the order-{ORDER} map (median)\n")
    print(tracking_table(rows, info) + "\n")
    threads = info["threads"]
    speedup = {name: rows[name, 1][1] / rows[name, threads][1] for name in ("ours", TREE)}
    print(
        f"Speed-up from 1 to {threads} threads: ours {speedup['ours']:.2f}, "
        f"DACE compiled tree (numba) {speedup[TREE]:.2f}."
    )
    errs = ", ".join(f"{k} {v:.1e}" for k, v in info["errors"].items())
    print(f"Agreement with ours (max over coordinates of max |diff| / max |value|): {errs}.")
    n_lat, lat_err, lat_abs, size = info["lattice"]
    print(
        f"Map against element tracking on {n_lat:,} particles: max |diff| {lat_abs:.1e} "
        f"(coordinates up to {size:.1e}), relative per coordinate {lat_err:.1e}.\n"
    )
    print("## Composition and inversion of 6-variable maps (median)\n")
    print(algebra_table(results) + "\n")
    print(
        "M is the one-turn map, N the map of the first half of the ring. diff.: largest "
        "difference from ours in a (series, degree) block over that block's largest "
        "|coefficient| (the coefficients grow with the degree). ours (ms): numba's default "
        "threads, as a user calls it; the ratios use that column. Both peers run on one thread."
    )
    for order, (_, _, sizes, nz) in results.items():
        print(
            f"Order {order}: {nz} nonzero coefficients in M, "
            f"max |coefficient| of M and N {sizes['max |coefficient|']:.2e}."
        )


if __name__ == "__main__":
    main()
