"""The tape and nn against PyTorch (CPU), in one process, interleaved.

    python benchmarks/bench_nn.py            # full run (a few minutes)
    python benchmarks/bench_nn.py --quick    # under a minute, rougher numbers

Reported as time per call (median over interleaved rounds, see ``bench_da``)
and the ratio diffalg / PyTorch (below 1: diffalg faster):

* small ops on 8×8 float32 tensors: ``x + y``, ``x * y``, ``x @ y``, ``relu``,
  ``sum``, without and with a tape (``requires_grad``), and one small
  forward+backward;
* one training step of the toy model (``Linear(100, 100) → ReLU → Linear(100, 1)``,
  MSE, SGD with momentum): forward, backward, ``step``, at batch 64 and 1024;
* one epoch of the digits MLP and CNN of ``examples/digits.py`` (batch 32, Adam).

Both libraries start from the same weights and data, and both run on one
thread: numpy's OpenBLAS and PyTorch's intra-op pool, left at their defaults
in one process, spin against each other on a small machine and slow small
matrix products down by orders of magnitude, whichever ran last.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from bench_da import fmt, loop, markdown, run_rounds  # noqa: E402

import diffalg as dg  # noqa: E402


def pair(make_dg, make_torch):
    """The two variants of one benchmark row, as ``loop`` timers."""
    return {"diffalg": loop(make_dg), "torch": loop(make_torch)}


# ------------------------------------------------------------------ small ops
def small_ops():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 8, 8)).astype(np.float32)
    rows = {}
    for grad in (False, True):
        x, y = dg.tensor(a, requires_grad=grad), dg.tensor(b, requires_grad=grad)
        tx, ty = torch.tensor(a, requires_grad=grad), torch.tensor(b, requires_grad=grad)
        suffix = " (tape)" if grad else ""
        for name, op in (
            ("x + y", lambda p, q: p + q),
            ("x * y", lambda p, q: p * q),
            ("x @ y", lambda p, q: p @ q),
            ("relu(x)", lambda p, q: p.relu()),
            ("x.sum()", lambda p, q: p.sum()),
        ):
            rows[name + suffix] = pair(_repeat(op, x, y), _repeat(op, tx, ty))
    x, y = dg.tensor(a, requires_grad=True), dg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    rows["tanh(x @ y).sum().backward()"] = pair(_backward(x, y), _backward(tx, ty))
    return rows


def _repeat(op, x, y):
    def body(n):
        for _ in range(n):
            op(x, y)

    return body


def _backward(x, y):
    def body(n):
        for _ in range(n):
            (x @ y).tanh().sum().backward()

    return body


# ------------------------------------------------------------ training steps
def toy_step(lib, batch, weights, x, y):
    """One SGD step of the toy model in ``lib`` (``dg`` or ``torch``)."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 1))
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights, strict=True):
            p.copy_(lib.from_numpy(w))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.MSELoss()
    X, Y = lib.from_numpy(x[:batch]), lib.from_numpy(y[:batch])

    def body(n):
        for _ in range(n):
            opt.zero_grad()
            loss = loss_fn(model(X), Y)
            loss.backward()
            opt.step()

    return body, model


def toy_rows(check):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (1024, 100)).astype(np.float32)
    y = np.sin((x * x).sum(1, keepdims=True)).astype(np.float32)
    b1, b2 = 0.1, 0.1
    weights = [
        rng.uniform(-b1, b1, (100, 100)).astype(np.float32),
        rng.uniform(-b1, b1, 100).astype(np.float32),
        rng.uniform(-b2, b2, (1, 100)).astype(np.float32),
        rng.uniform(-b2, b2, 1).astype(np.float32),
    ]
    rows = {}
    for batch in (64, 1024):
        ours, m_dg = toy_step(dg, batch, weights, x, y)
        theirs, m_t = toy_step(torch, batch, weights, x, y)
        if check:  # the same steps give the same weights
            ours(5)
            theirs(5)
            for p, q in zip(m_dg.parameters(), m_t.parameters(), strict=True):
                np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=2e-5)
        rows[f"toy model step, batch {batch}"] = pair(ours, theirs)
    return rows


def digits_rows(quick):
    import digits as ex  # noqa: PLC0415 - the example defines the models

    (xtr, ytr), _ = ex.load()
    rows = {}
    for name, make in (("MLP", ex.mlp), ("CNN", ex.cnn)):
        ours = make()
        theirs = _torch_copy(ours)
        rows[f"digits {name}, one epoch"] = pair(
            _epoch(dg, ours, xtr, ytr), _epoch(torch, theirs, xtr, ytr)
        )
    return rows


def _torch_copy(model):
    """The same architecture and weights in torch.nn (built from our module list)."""
    layers = []
    for m in model:
        kind = type(m).__name__
        if kind == "Linear":
            layer = torch.nn.Linear(m.in_features, m.out_features)
        elif kind == "Conv2d":
            layer = torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size,
                                    stride=m.stride, padding=m.padding)  # fmt: skip
        elif kind == "MaxPool2d":
            layer = torch.nn.MaxPool2d(m.kernel_size)
        else:
            layer = getattr(torch.nn, kind)()
        layers.append(layer)
    t = torch.nn.Sequential(*layers)
    t.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                       for k, v in model.state_dict().items()})  # fmt: skip
    return t


def _epoch(lib, model, xtr, ytr):
    X = lib.from_numpy(xtr.numpy()) if lib is torch else xtr
    Y = lib.from_numpy(ytr.numpy()) if lib is torch else ytr
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()
    n = len(Y)

    def body(reps):
        for _ in range(reps):
            for s in range(0, n - 31, 32):
                opt.zero_grad()
                loss_fn(model(X[s : s + 32]), Y[s : s + 32]).backward()
                opt.step()

    return body


# ----------------------------------------------------------------------- main
def environment():
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), diffalg {dg.__version__}"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    budget, rounds = (0.1, 5) if args.quick else (1.0, 9)
    groups = [("small ops", small_ops()), ("training", toy_rows(check=True)),
              ("digits", digits_rows(args.quick))]  # fmt: skip
    print(environment())
    table = []
    for _, rows in groups:
        for name, variants in rows.items():
            t = run_rounds(variants, budget if "digits" not in name else budget * 3, rounds)
            ratio = t["diffalg"] / t["torch"]
            table.append([name, fmt(t["diffalg"]), fmt(t["torch"]), f"{ratio:.2f}"])
            print(f"  {name:<36} diffalg {fmt(t['diffalg']):>10}  torch {fmt(t['torch']):>10}"
                  f"  ratio {ratio:.2f}", flush=True)  # fmt: skip
    print()
    print(markdown(["benchmark", "diffalg", "PyTorch", "diffalg / PyTorch"], table))


if __name__ == "__main__":
    main()
