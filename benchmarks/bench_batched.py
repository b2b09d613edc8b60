"""Many series at once: diffalg's batched kernels against one-at-a-time GTPSA and DACE.

    python benchmarks/bench_batched.py           # full run (a few minutes)
    python benchmarks/bench_batched.py --quick   # under a minute, rougher

Products (and ``sin``, ``exp``, quotients and products of variables,
:data:`FUNCTIONS`) of ``N`` dense random series at (6 variables, order 6) and (6, 10): diffalg multiplies
the two ``(N,)`` DA tensors in one call (SIMD lanes on all cores); GTPSA and
DACE, which work one series at a time, call their C product once per pair
(through cffi / ctypes, on preallocated series).  The
peers' time per product does not depend on which dense series it gets, so they
cycle through 64 distinct pairs instead of building ``N`` series coefficient by
coefficient from Python.  Our product is timed through the API (``x * y``, a fresh
result each call) and as the kernel that call runs, writing into a result
allocated once, as the peers do.  Every variant is timed in interleaved rounds (median);
the tables give microseconds per series and the peers' time over ours.

Map evaluation: the order-8 one-turn map of the FODO ring of
``examples/fodo_map.py`` (six variables) at 10^6 particles by
``TaylorMap.track`` on the CPU, and on the GPU when one is present.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numba
import numpy as np

from diffalg.kernels.batched import mul_lanes
from diffalg.kernels.mul import mul_rows

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "examples")]
from bench_da import _array, _as_dict, environment, loop, markdown, run_rounds  # noqa: E402

SHAPES = [(6, 6), (6, 10)]
PEER_PAIRS = 64  # distinct series pairs the one-at-a-time peers cycle through


def _ours(dg, d, arrays):
    """diffalg: one call for the whole batch (all threads, and one thread).

    ``arrays``: the operands by name (:func:`operands`).
    """
    t = {k: dg.Tensor(a, d) for k, a in arrays.items()}
    X, Y = arrays["x"], arrays["y"]
    x, y, s = t["x"], t["y"], t["s"]
    n = X.shape[0]
    threads = numba.get_num_threads()

    def on(k, f):
        def run(reps):
            numba.set_num_threads(k)
            try:
                for _ in range(reps):
                    f()
            finally:
                numba.set_num_threads(threads)

        return run

    def one_by_one(reps):
        out = np.empty_like(X)
        numba.set_num_threads(1)
        try:
            for _ in range(reps):
                mul_rows(X, Y, out, *d.mul_args)
        finally:
            numba.set_num_threads(threads)

    # the kernel `x * y` runs, into a result allocated once, as the peers' are:
    # a fresh result of 10^4 series at (6, 10) is 640 MB, and the first writes to
    # it fault its pages in (up to half the product's time, by the run)
    into = np.empty_like(X)
    tables = d.lane_tables
    per = 1.0 / n  # every timing below covers the whole batch
    mul = {
        "ours batched": (loop(on(threads, lambda: x * y)), per),
        "ours batched, result preallocated": (
            loop(on(threads, lambda: mul_lanes(X, Y, into, *tables))),
            per,
        ),
        "ours batched, 1 thread": (loop(on(1, lambda: x * y)), per),
        "ours one at a time, 1 thread": (loop(one_by_one), per),
    }
    ops = {"mul": mul}
    ref = {"mul": x * y}
    for name, (ours, names, *_) in FUNCTIONS.items():
        f = lambda ours=ours, args=[t[k] for k in names]: ours(dg, *args)  # noqa: E731
        ops[name] = {
            "ours batched": (loop(on(threads, f)), per),
            "ours batched, 1 thread": (loop(on(1, f)), per),
        }
        ref[name] = f()
    if _real_gpu(dg):
        _on_gpu(dg, d, x, y, s, mul, ops["sin"], per)
    return ops, {name: r.coeffs[:PEER_PAIRS] for name, r in ref.items()}


#: Operations timed beside the dense product: ours on the named operands of
#: :func:`operands`, those names, and the peers' C functions (operands, then the
#: result) in GTPSA and in DACE.  "mul, variables" multiplies two batches of
#: variables (a constant and one first-degree term each), where every library
#: skips the zero orders.
FUNCTIONS = {
    "sin": (lambda dg, s: dg.sin(s), ("s",), "mad_tpsa_sin", "daceSine"),
    "exp": (lambda dg, s: dg.exp(s), ("s",), "mad_tpsa_exp", "daceExponential"),
    "div": (lambda dg, x, s: x / s, ("x", "s"), "mad_tpsa_div", "daceDivide"),
    "mul, variables": (lambda dg, v, w: v * w, ("v", "w"), "mad_tpsa_mul", "daceMultiply"),
}


def operands(d, n, rng):
    """``x, y``: dense random series; ``s``: small ones about 0.3; ``v, w``: variables."""
    X, Y = rng.uniform(-1, 1, (2, n, d.ncoef))
    S = 0.1 * rng.uniform(-1, 1, (n, d.ncoef))
    S[:, 0] = 0.3
    V, W = np.zeros((2, n, d.ncoef))
    V[:, 0], W[:, 0] = rng.uniform(-1, 1, (2, n))
    V[:, 1] = W[:, 2] = 1.0  # x1 and x2 about each series' point
    return {"x": X, "y": Y, "s": S, "v": V, "w": W}


def _real_gpu(dg) -> bool:
    cuda = getattr(dg, "cuda", None)
    return cuda is not None and cuda.is_available() and not numba.config.ENABLE_CUDASIM


def _on_gpu(dg, d, x, y, s, mul, sin, per):
    """GPU variants: the batch already on the device, each timing ended by a synchronize."""
    from diffalg.ops import device

    xg, yg, sg = x.cuda(), y.cuda(), s.cuda()
    for got, ref, what in ((xg * yg, x * y, "product"), (dg.sin(sg), dg.sin(s), "sine")):
        err = np.max(np.abs(got.cpu().coeffs - ref.coeffs)) / np.max(np.abs(ref.coeffs))
        if err > 1e-12:
            raise AssertionError(f"GPU {what} differs from the CPU by {err:.1e}")
    K, tables = device.K, device._tables(d)["gather"]
    n, m = x.coeffs.shape
    into = K.cuda.device_array((n, m))

    def synced(f):
        def run(reps):
            for _ in range(reps):
                f()
            dg.cuda.synchronize()

        return run

    def kernel():
        K.launch(K.mul, n * m, xg._data, yg._data, into, m, *tables)

    mul["ours on GPU"] = (loop(synced(lambda: xg * yg)), per)
    mul["ours on GPU, result preallocated"] = (loop(synced(kernel)), per)
    sin["ours on GPU"] = (loop(synced(lambda: dg.sin(sg))), per)


def _peer(make, lib, d, arrays):
    """A one-at-a-time peer: its C product and functions over ``PEER_PAIRS`` pairs in turn.

    ``lib()`` gives the peer's column of :data:`FUNCTIONS` (0: GTPSA, 1: DACE), its C
    function of a name, and a series' raw handle.  Only nonzero coefficients are
    set, so a peer sees the zero orders of the variables as its own.
    """
    be = make(d.nv, d.order)
    ser = {
        k: [be.from_coeffs({m: v for m, v in _as_dict(d, c).items() if v}) for c in a[:PEER_PAIRS]]
        for k, a in arrays.items()
    }
    outs = [be.const(0.0) for _ in range(PEER_PAIRS)]
    c_mul = be.mul_timer()
    column, function, handle = lib()
    calls = {"mul": [lambda a=a, b=b, o=o: c_mul(a, b, o) for a, b, o in zip(ser["x"], ser["y"], outs, strict=True)]}  # fmt: skip
    for name, (_, names, *c_names) in FUNCTIONS.items():
        fn = function(c_names[column])
        args = [[handle(ser[k][i]) for k in names] + [handle(outs[i])] for i in range(PEER_PAIRS)]
        calls[name] = [lambda f=fn, h=h: f(*h) for h in args]

    series = (ser, outs)  # the raw handles in ``calls`` point into these

    def every(fs):
        def run(reps, series=series):
            for _ in range(reps):
                for f in fs:
                    f()

        return run

    ops, got = {}, {}
    for name, fs in calls.items():
        every(fs)(1)
        got[name] = np.array([_array(d, be.coeffs(o)) for o in outs])
        ops[name] = (loop(every(fs)), 1.0 / PEER_PAIRS)
    return ops, got


def _gtpsa():
    import madng_tpsa as mt

    return 0, lambda name: getattr(mt.lib, name), lambda s: s._ptr


def _dace():
    from daceypy import core

    return 1, lambda name: getattr(core.DAlib, name), lambda s: s._as_parameter_


def _check(case, ref, got, name):
    for op in ref:
        err = np.max(np.abs(got[op] - ref[op])) / np.max(np.abs(ref[op]))
        if err > 1e-10:
            raise AssertionError(f"{case} {op}: {name} differs from diffalg by {err:.1e}")


def series_tables(dg, n, budget, rounds):
    from diffalg.testing.peers import DaceBackend, GtpsaBackend

    rng = np.random.default_rng(2026)
    rows = []
    for nv, order in SHAPES:
        d = dg.Descriptor(nv=nv, order=order)
        arrays = operands(d, n, rng)
        ops, ref = _ours(dg, d, arrays)
        for label, make, lib in (("GTPSA C", GtpsaBackend, _gtpsa), ("DACE C", DaceBackend, _dace)):  # fmt: skip
            theirs, got = _peer(make, lib, d, arrays)
            _check((nv, order), ref, got, label)
            for op, v in theirs.items():
                ops[op][f"{label} one at a time"] = v
        variants = {(op, k): v[0] for op, vs in ops.items() for k, v in vs.items()}
        scale = {(op, k): v[1] for op, vs in ops.items() for k, v in vs.items()}
        med = run_rounds(variants, budget, rounds)
        for (op, k), t in med.items():
            rows.append((op, nv, order, d.ncoef, k, t * scale[op, k]))
        print(f"  timed ({nv}, {order})", file=sys.stderr, flush=True)
    return rows


def map_evaluation(dg, n_particles, repeats):
    from fodo_map import ring

    M = ring().map(order=8)
    rng = np.random.default_rng(1)
    pts = rng.uniform(-1, 1, (n_particles, 6)) * [1e-3, 1e-4, 1e-3, 1e-4, 1e-3, 1e-4]
    M.track(pts[:1000])  # compile / load the kernel
    out = {}
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        cpu = M.track(pts)
        t.append(time.perf_counter() - t0)
    out["CPU, all cores"] = min(t)
    if _real_gpu(dg):
        Mg = M.to("cuda")
        gpu = Mg.track(pts)
        err = np.max(np.abs(gpu - cpu)) / np.max(np.abs(cpu))
        if err > 1e-12:
            raise AssertionError(f"GPU map evaluation differs from the CPU by {err:.1e}")
        on_device = numba.cuda.to_device(pts)

        def resident():
            Mg.track(on_device)
            dg.cuda.synchronize()

        for name, f in (("GPU (points copied both ways)", lambda: Mg.track(pts)), ("GPU (points on the GPU)", resident)):  # fmt: skip
            t = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                f()
                t.append(time.perf_counter() - t0)
            out[name] = min(t)
    return M.desc.ncoef, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller batch, fewer rounds")
    args = ap.parse_args()
    n, budget, rounds, particles = (1000, 1.0, 3, 100_000) if args.quick else (10_000, 6.0, 5, 1_000_000)  # fmt: skip
    print(f"# diffalg batched benchmark ({'quick' if args.quick else 'full'}, N = {n})\n")
    print(environment() + f"; numba threads {numba.get_num_threads()}\n", flush=True)

    import diffalg as dg

    if _real_gpu(dg):
        from numba import cuda

        name = cuda.get_current_device().name
        print(f"GPU: {name.decode() if isinstance(name, bytes) else name}\n", flush=True)
    rows = series_tables(dg, n, budget, rounds)
    for op in ("mul", *FUNCTIONS):
        print(f"## {op}: µs per series (median over rounds)\n")
        table = []
        for nv, order in SHAPES:
            mine = {k: t for (o, v, r, _, k, t) in rows if (o, v, r) == (op, nv, order)}
            ours = mine["ours batched"]
            for k, t in mine.items():
                table.append([str(nv), str(order), k, f"{t * 1e6:.3g}", f"{t / ours:.2f}"])
        print(markdown(["nv", "order", "variant", "µs per series", "time / ours batched"], table) + "\n")  # fmt: skip
    ncoef, ev = map_evaluation(dg, particles, 3)
    print(f"## Map evaluation: order-8 six-dimensional map ({ncoef} coefficients per coordinate), {particles:,} particles\n")  # fmt: skip
    table = [[k, f"{t:.3f}", f"{t / particles * 1e9:.0f}"] for k, t in ev.items()]
    print(markdown(["device", "seconds", "ns per particle"], table) + "\n")


if __name__ == "__main__":
    main()
