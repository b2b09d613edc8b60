"""What recording a series computation on the tape costs.

    python benchmarks/bench_tape_overhead.py            # about three minutes
    python benchmarks/bench_tape_overhead.py --quick    # fewer rounds

Each case runs the same series computation three ways:

* **plain**: no input requires grad; nothing is recorded;
* **recorded**: the inputs require grad, every operation goes on the tape
  (forward only: the ratio recorded / plain is the recording overhead);
* **+ backward**: recorded, then ``backward()`` from a scalar made of the result's
  coefficients (``dg.coefficients``), for information.

The cases:

* **ring map** — the one-turn map of the 8-cell FODO ring of
  ``examples/fodo_map.py`` (80 elements) at orders 3 and 6, the two sextupole
  strengths as float64 tensors (recorded) or floats (plain); the loss is the sum
  of squares of all map coefficients.  About 13 000 operations on small series
  (84 and 924 coefficients): the per-operation cost dominates.
* **function** — ``exp(x·y)·sin(z)/(1 + x² + y²z²) + log(2 + cos(x·z))`` (the
  function of ``bench_higher_order``) at order 6 in three variables, on one
  series and on a batch of 1000; the loss is the sum of the coefficients.
* **small ops** — twenty products and sums of two series with 2 variables at
  order 2 (6 coefficients): nothing but per-operation cost.

The ways of a case are timed in interleaved rounds and the table shows medians;
each timing repeats the computation for at least 0.6 s, so that the garbage
collections a long recording triggers (a full one every two or three ring maps)
are counted at their average rate rather than by luck.  Python's cyclic garbage
collector runs during recording: the tape keeps thousands of small objects
alive, which triggers full collections that walk every object of the process.
The last column times the recording with the objects that existed before it
frozen (``gc.freeze()``), which shows the collector's share.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))
from bench_da import environment, markdown  # noqa: E402
from fodo_map import ring  # noqa: E402

import diffalg as dg  # noqa: E402


def _strength(v, grad):
    return dg.tensor(v, dtype=dg.float64, requires_grad=True) if grad else v


def ring_case(order):
    def run(grad, backward=False):
        M = ring(k2f=_strength(1.5, grad), k2d=_strength(-2.0, grad)).map(order=order)
        if backward:
            c = dg.coefficients(dg.stack(list(M)))
            (c * c).sum().backward()

    return run


def function_case(n):
    d = dg.Descriptor(nv=3, order=6)
    pts = np.random.default_rng(0).uniform(-0.8, 0.8, (3,) if n == 1 else (3, n))

    def run(grad, backward=False):
        x, y, z = d.vars(list(pts))
        if grad:
            for v in (x, y, z):
                v.requires_grad_()
        f = dg.exp(x * y) * dg.sin(z) / (1 + x * x + y * y * z * z) + dg.log(2 + dg.cos(x * z))
        if backward:
            dg.coefficients(f).sum().backward()

    return run


def small_case():
    d = dg.Descriptor(nv=2, order=2)

    def run(grad, backward=False):
        x, y = d.vars([0.3, -0.2])
        if grad:
            x.requires_grad_()
            y.requires_grad_()
        a = x
        for _ in range(10):
            a = a * y + x
        if backward:
            dg.coefficients(a).sum().backward()

    return run


CASES = {
    "ring map, order 3": ring_case(3),
    "ring map, order 6": ring_case(6),
    "function, 1 series (3 vars, order 6)": function_case(1),
    "function, 1000 series (3 vars, order 6)": function_case(1000),
    "small ops, 2 vars order 2": small_case(),
}


def _frozen(fn):
    def run():
        gc.freeze()
        try:
            fn()
        finally:
            gc.unfreeze()

    return run


def timed(fn, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def measure(run, rounds, budget):
    ways = {
        "plain": lambda: run(False),
        "recorded": lambda: run(True),
        "+ backward": lambda: run(True, backward=True),
        "recorded, gc frozen": _frozen(lambda: run(True)),
    }
    for w in ways.values():  # compile and warm up
        w()
    reps = max(1, int(budget / max(timed(ways["recorded"], 1), 1e-6)))
    times = {k: [] for k in ways}
    names = list(ways)
    for r in range(rounds):
        for k in names[r % len(names) :] + names[: r % len(names)]:  # rotate the order
            times[k].append(timed(ways[k], reps))
    return {k: statistics.median(v) for k, v in times.items()}


def fmt(seconds):
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} µs"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    args = ap.parse_args()
    rounds, budget = (3, 0.1) if args.quick else (7, 0.6)
    print(environment())
    rows = []
    for name, run in CASES.items():
        m = measure(run, rounds, budget)
        p = m["plain"]
        rows.append([
            name, fmt(p), fmt(m["recorded"]), f"**{m['recorded'] / p:.2f}**",
            f"{m['+ backward'] / p:.2f}", f"{m['recorded, gc frozen'] / p:.2f}",
        ])  # fmt: skip
        print(name, {k: fmt(v) for k, v in m.items()}, flush=True)
    print()
    print(markdown(
        ["case", "plain", "recorded", "recorded / plain", "(+ backward) / plain",
         "recorded, gc frozen / plain"],
        rows,
    ))  # fmt: skip


if __name__ == "__main__":
    main()
