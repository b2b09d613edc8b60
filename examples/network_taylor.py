"""A trained network's Taylor expansion from one forward pass.

A small MLP learns the smooth function

    f(x, y, z) = sin(x + y/2) cos(z) + x z² / 2

of three inputs from samples in [-1, 1]³ (Adam, a few hundred full-batch
steps).  Feeding it DA inputs ``x = x0 + dx, y = y0 + dy, z = z0 + dz`` of
order 6 returns its Taylor polynomial about the point: all 84 partial
derivatives up to order 6 from ONE forward pass.

They are checked two ways, both by nested reverse mode on real tensors:

* our own tape: ``dg.autograd.grad(..., create_graph=True)`` applied again and
  again (one backward pass per partial of order 0..5: 56 passes at order 6);
* PyTorch's ``torch.autograd.grad`` on the same weights, if torch is installed.

The script prints how long each way takes and the largest difference (each
order measured against its largest derivative), then a few of the network's
derivatives beside the target function's own (the same DA inputs through the
formula give those exactly), and how well the order-6 polynomial stands in
for the network near the point.

Run it with ``python examples/network_taylor.py``.
"""

from __future__ import annotations

import math
import time

import numpy as np

import diffalg as dg
from diffalg import nn

POINT = (0.3, -0.4, 0.5)


def target(x, y, z, lib=np):
    """The function to learn; ``lib`` is numpy, or ``dg`` for tensors (real or series)."""
    return lib.sin(x + y / 2) * lib.cos(z) + x * z * z / 2


def train(steps=400, width=32, n_samples=512, seed=0, verbose=True):
    """An MLP 3 → width → width → 1 (tanh) fitted to ``target`` by Adam; float64 afterwards."""
    dg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n_samples, 3)).astype(np.float32)
    Y = target(*X.T)[:, None].astype(np.float32)
    X, Y = dg.tensor(X), dg.tensor(Y)
    model = nn.Sequential(
        nn.Linear(3, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
    )
    opt = dg.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.MSELoss()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
    if verbose:
        print(f"trained {steps} Adam steps in {time.perf_counter() - t0:.2f} s, "
              f"mean squared error {loss.item():.2e}")  # fmt: skip
    return model.double(), loss.item()


def multi_indices(nv, order):
    """Exponent tuples of every partial up to ``order``, graded."""
    out = [(0,) * nv]
    for k in range(1, order + 1):
        level = [a for a in out if sum(a) == k - 1]
        out += sorted(
            {tuple(e + (i == v) for i, e in enumerate(a)) for a in level for v in range(nv)},
            reverse=True,
        )
    return out


def taylor_by_da(model, point, order):
    """``{exponents: derivative}`` from one forward pass with series inputs."""
    d = dg.Descriptor(variables=["x", "y", "z"], order=order)
    x = dg.stack(d.vars(list(point)))[None]  # a batch of one point, 3 series features
    with dg.no_grad():  # derivatives only: no gradient wanted, nothing recorded
        y = model(x)[0, 0]
    return {a: y.derivative(a) for a in multi_indices(3, order)}, y


def nested_partials(f, X, grad, order):
    """Every partial of scalar ``f(X)`` up to ``order`` by repeated reverse mode.

    ``grad(out, X, last)`` returns d out / d X (a graph of its own unless
    ``last``); each partial of order ``k - 1`` is differentiated once, and
    its gradient gives the partials of order ``k`` that extend it in the
    variables from its last one on (each partial computed once).
    """
    nv = 3
    level = {(0,) * nv: f(X)}
    out = {(0,) * nv: float(level[(0,) * nv].detach())}
    for k in range(1, order + 1):
        nxt = {}
        for alpha, t in level.items():
            last = max([v for v in range(nv) if alpha[v]], default=0)
            g = grad(t, X, k == order)
            for v in range(last, nv):
                beta = tuple(a + (i == v) for i, a in enumerate(alpha))
                nxt[beta] = g[v]
                out[beta] = float(g[v].detach())
        level = nxt
    return out


def by_our_tape(model, point, order):
    """Nested ``dg.autograd.grad`` with ``create_graph=True`` on real float64 tensors."""

    def grad(t, X, last):
        if t.grad_fn is None and not t.requires_grad:  # a constant: derivatives vanish
            return dg.zeros(3, dtype=dg.float64)
        (g,) = dg.autograd.grad(
            t, X, create_graph=not last, retain_graph=True, allow_unused=True,
            materialize_grads=True,
        )  # fmt: skip
        return g

    X = dg.tensor(np.array(point), requires_grad=True)
    return nested_partials(lambda X: model(X[None])[0, 0], X, grad, order)


def by_torch(model, point, order):
    """The same weights in ``torch.nn``, nested ``torch.autograd.grad``; ``None`` without torch."""
    try:
        import torch  # noqa: PLC0415 - optional
    except ImportError:
        return None
    layers = [m for m in model.modules() if not isinstance(m, nn.Sequential)]
    twin = torch.nn.Sequential(
        *[
            torch.nn.Linear(m.in_features, m.out_features).double()
            if isinstance(m, nn.Linear)
            else torch.nn.Tanh()
            for m in layers
        ]
    )
    twin.load_state_dict(
        {k: torch.from_numpy(v.detach().numpy().copy()) for k, v in model.state_dict().items()}
    )

    def grad(t, X, last):
        if not t.requires_grad:
            return torch.zeros(3, dtype=torch.float64)
        (g,) = torch.autograd.grad(
            t, X, create_graph=not last, retain_graph=True, allow_unused=True,
            materialize_grads=True,
        )  # fmt: skip
        return g

    X = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    return nested_partials(lambda X: twin(X[None])[0, 0], X, grad, order)


def difference(got, want):
    """Largest ``|got - want|`` over the partials, each order against its largest ``|want|``."""
    worst = 0.0
    for k in {sum(a) for a in want}:
        alphas = [a for a in want if sum(a) == k]
        scale = max(abs(want[a]) for a in alphas) or 1.0
        worst = max(worst, max(abs(got[a] - want[a]) for a in alphas) / scale)
    return worst


def timed(fn, *args):
    t0 = time.perf_counter()
    r = fn(*args)
    return r, time.perf_counter() - t0


def main(steps=400, width=32, order=6, point=POINT, verbose=True):
    model, loss = train(steps, width, verbose=verbose)
    taylor_by_da(model, point, 2)  # load the kernels before timing
    (da, series), t_da = timed(taylor_by_da, model, point, order)
    tape, t_tape = timed(by_our_tape, model, point, order)
    theirs, t_torch = timed(by_torch, model, point, order)
    report = {
        "loss": loss,
        "n_partials": len(da),
        "da_seconds": t_da,
        "tape_seconds": t_tape,
        "torch_seconds": t_torch if theirs is not None else None,
        "tape_diff": difference(da, tape),
        "torch_diff": difference(da, theirs) if theirs is not None else None,
    }
    if not verbose:
        return report
    n_passes = math.comb(order - 1 + 3, 3)
    print(f"\n{len(da)} partial derivatives up to order {order} at {point}:")
    print(f"  one forward pass with DA inputs     {t_da * 1e3:9.1f} ms")
    print(f"  nested reverse mode, our tape       {t_tape * 1e3:9.1f} ms "
          f"({n_passes} backward passes)   max difference {report['tape_diff']:.1e}")  # fmt: skip
    if theirs is not None:
        print(f"  nested reverse mode, PyTorch        {t_torch * 1e3:9.1f} ms "
              f"({n_passes} backward passes)   max difference {report['torch_diff']:.1e}")  # fmt: skip

    # the target's own derivatives: the same DA inputs through the formula
    exact = target(*series.desc.vars(list(point)), lib=dg)
    print("\n  partial        network       target")
    for a in [(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 2), (1, 0, 2), (3, 0, 0)]:
        name = "f" if not sum(a) else "d" + "".join(v * e for v, e in zip("xyz", a, strict=True))
        print(f"  {name:<8} {da[a]:+12.5f} {exact.derivative(a):+12.5f}")

    # the order-6 polynomial as a surrogate of the network near the point
    print("\n  |step|   |network - Taylor polynomial|")
    rng = np.random.default_rng(1)
    for r in (0.05, 0.1, 0.2):
        steps_ = rng.standard_normal((200, 3))
        steps_ *= r / np.linalg.norm(steps_, axis=1, keepdims=True)
        with dg.no_grad():
            net = model(dg.tensor(np.array(point) + steps_)).numpy()[:, 0]
        print(f"  {r:5.2f}    {np.abs(series.eval(steps_) - net).max():.1e}")
    return report


if __name__ == "__main__":
    main()
