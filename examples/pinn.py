"""A physics-informed network whose derivatives come from its Taylor expansion.

The network ``u(t)`` (an MLP 1 → 32 → 32 → 1 with tanh) is trained so that

    u''(t) + u(t) = 0   on [0, 2π],   u(0) = 1,   u'(0) = 0,

whose solution is ``cos t``.  The derivatives are not taken by nested reverse
mode, as physics-informed networks usually are: the collocation points go in
as series of order 2, ``t = t_i + dt``, and ONE forward pass returns
``u(t_i + dt) = u_i + u'_i dt + u''_i/2 dt²``.  The loss is made of those
coefficients,

    L = mean_i (u''_i + u_i)² + (u(0) − 1)² + u'(0)²,

and ``L.backward()`` runs the tape back through the series (transposed series
products, the activations' series VJPs) to the network's real weights.  Adam
takes the first steps, then ``scipy.optimize.minimize`` (L-BFGS) with the
loss and gradient from the tape.

The script checks what it relies on:

* the tape's gradient of ``L`` for a few weights against central differences;
* the network's ``u'`` and ``u''`` from the series against nested
  ``dg.autograd.grad`` on real tensors (an independent route);
* the trained ``u`` against ``cos t``.

With PyTorch installed it also times one training step of the usual
formulation (``torch.autograd.grad(..., create_graph=True)`` twice) beside
ours.  Run it with ``python examples/pinn.py``; the figure goes to
``docs/img/pinn.png``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

import diffalg as dg
from diffalg import nn
from diffalg.ops.adjoint import coefficients

T_END = 2 * math.pi
IMG = Path(__file__).resolve().parent.parent / "docs" / "img"


def make_net(width=32, seed=0):
    dg.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
    ).double()


class Problem:
    """Collocation points and the initial point as order-2 series in ``t``."""

    def __init__(self, points=64):
        d = dg.Descriptor(variables=["t"], order=2)
        self.ts = np.linspace(0.0, T_END, points)
        (self.t,) = d.vars([self.ts[:, None]])  # (points, 1) series: t_i + dt
        (self.t0,) = d.vars([np.zeros((1, 1))])

    def loss(self, net):
        c = coefficients(net(self.t))[:, 0]  # (points, 3): u, u', u''/2
        residual = 2 * c[:, 2] + c[:, 0]
        c0 = coefficients(net(self.t0))[0, 0]
        return (residual * residual).mean() + (c0[0] - 1) ** 2 + c0[1] ** 2

    def derivatives(self, net):
        """``u, u', u''`` at the collocation points from one series forward pass."""
        with dg.no_grad():
            c = net(self.t)[:, 0].coeffs
        return c[:, 0], c[:, 1], 2 * c[:, 2]


def nested_derivatives(net, ts):
    """``u, u', u''`` by nested reverse mode on real tensors (the usual way)."""
    t = dg.tensor(ts[:, None], dtype=dg.float64, requires_grad=True)
    u = net(t)
    (du,) = dg.autograd.grad(u.sum(), t, create_graph=True)
    (d2u,) = dg.autograd.grad(du.sum(), t)
    return u.detach().numpy()[:, 0], du.detach().numpy()[:, 0], d2u.numpy()[:, 0]


def gradient_check(problem, net, picks=6, h=1e-6, seed=1):
    """Tape gradient of the loss for ``picks`` weights against central differences."""
    params = list(net.parameters())
    net.zero_grad()
    problem.loss(net).backward()
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(picks):
        p = params[rng.integers(len(params))]
        idx = tuple(int(rng.integers(n)) for n in p.shape)
        tape = float(p.grad.numpy()[idx])
        with dg.no_grad():
            old = float(p.detach().numpy()[idx])
            vals = []
            for v in (old + h, old - h):
                p[idx] = v
                vals.append(float(problem.loss(net)))
            p[idx] = old
        rows.append((tape, (vals[0] - vals[1]) / (2 * h)))
    return np.array(rows)


def _flat(net):
    return np.concatenate([p.detach().numpy().ravel() for p in net.parameters()])


def _load(net, v):
    with dg.no_grad():
        i = 0
        for p in net.parameters():
            n = p.numel()
            p.copy_(dg.tensor(v[i : i + n].reshape(p.shape)))
            i += n


def train(problem, net, adam_steps=1000, lbfgs_steps=1000, lr=1e-2, verbose=True):
    """Adam, then L-BFGS with the tape's gradient; returns the loss history."""
    history = []
    opt = dg.optim.Adam(net.parameters(), lr=lr)
    for _ in range(adam_steps):
        opt.zero_grad()
        loss = problem.loss(net)
        loss.backward()
        opt.step()
        history.append(float(loss))

    def value_and_grad(v):
        _load(net, v)
        net.zero_grad()
        loss = problem.loss(net)
        loss.backward()
        history.append(float(loss))
        return float(loss), np.concatenate([p.grad.numpy().ravel() for p in net.parameters()])

    res = minimize(
        value_and_grad, _flat(net), jac=True, method="L-BFGS-B",
        options={"maxiter": lbfgs_steps, "ftol": 1e-16, "gtol": 1e-12},
    )  # fmt: skip
    _load(net, res.x)
    if verbose:
        print(f"Adam {adam_steps} steps, then L-BFGS {res.nit} iterations: loss "
              f"{history[0]:.2e} -> {float(problem.loss(net)):.2e}")  # fmt: skip
    return history


def torch_step_time(problem, width=32, repeats=20):
    """Seconds per training step of the usual PyTorch formulation (nested autograd.grad)."""
    try:
        import torch  # noqa: PLC0415 - optional peer
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(1, width), torch.nn.Tanh(), torch.nn.Linear(width, width),
        torch.nn.Tanh(), torch.nn.Linear(width, 1),
    ).double()  # fmt: skip
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    t = torch.tensor(problem.ts[:, None], requires_grad=True)
    t0 = torch.zeros((1, 1), dtype=torch.float64, requires_grad=True)

    def step():
        opt.zero_grad()
        u = net(t)
        (du,) = torch.autograd.grad(u.sum(), t, create_graph=True)
        (d2u,) = torch.autograd.grad(du.sum(), t, create_graph=True)
        u0 = net(t0)
        (du0,) = torch.autograd.grad(u0.sum(), t0, create_graph=True)
        loss = ((d2u + u) ** 2).mean() + (u0[0, 0] - 1) ** 2 + du0[0, 0] ** 2
        loss.backward()
        opt.step()

    return _time(step, repeats)


def _time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def ours_step_time(problem, net, repeats=20):
    opt = dg.optim.SGD(net.parameters(), lr=0.0)  # timing only: the weights stay put

    def step():
        opt.zero_grad()
        problem.loss(net).backward()
        opt.step()

    return _time(step, repeats)


def plot(problem, net, history, out_dir=IMG):
    import matplotlib  # noqa: PLC0415 - optional, for the figure only

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    ts = np.linspace(0.0, T_END, 400)
    with dg.no_grad():
        u = net(dg.tensor(ts[:, None], dtype=dg.float64)).numpy()[:, 0]
    u_pts, _, d2u = problem.derivatives(net)
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    ax[0].plot(ts, np.cos(ts), "k-", lw=3, alpha=0.3, label="cos t")
    ax[0].plot(ts, u, "C0-", label="network u(t)")
    ax[0].set_xlabel("t")
    ax[0].legend()
    ax[1].semilogy(ts, np.abs(u - np.cos(ts)), "C1-")
    ax[1].semilogy(problem.ts, np.abs(d2u + u_pts), "C2.", label="|u'' + u| at the points")
    ax[1].set_xlabel("t")
    ax[1].set_title("|u − cos t| (line) and residual (dots)")
    ax[1].legend()
    ax[2].semilogy(history)
    ax[2].set_xlabel("step (Adam, then L-BFGS evaluations)")
    ax[2].set_title("loss")
    fig.tight_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "pinn.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(points=64, width=32, adam_steps=1000, lbfgs_steps=1000, make_plot=True, out_dir=IMG):
    problem = Problem(points)
    net = make_net(width)
    checks = gradient_check(problem, net)
    rel = np.abs(checks[:, 0] - checks[:, 1]).max() / np.abs(checks[:, 1]).max()
    print(f"loss gradient, tape vs central differences ({len(checks)} weights): {rel:.1e}")

    t0 = time.perf_counter()
    history = train(problem, net, adam_steps, lbfgs_steps)
    seconds = time.perf_counter() - t0

    series = problem.derivatives(net)
    nested = nested_derivatives(net, problem.ts)
    agree = max(np.abs(a - b).max() for a, b in zip(series, nested, strict=True))
    print(f"u, u', u'' from the series vs nested reverse mode: largest difference {agree:.1e}")
    ts = np.linspace(0.0, T_END, 401)
    with dg.no_grad():
        u = net(dg.tensor(ts[:, None], dtype=dg.float64)).numpy()[:, 0]
    error = float(np.abs(u - np.cos(ts)).max())
    residual = float(np.abs(series[2] + series[0]).max())
    print(f"trained in {seconds:.1f} s: max |u - cos t| = {error:.1e} on [0, 2π], "
          f"max |u'' + u| at the points = {residual:.1e}")  # fmt: skip

    ours = ours_step_time(problem, net)
    torch_time = torch_step_time(problem, width)
    line = f"one training step: {1e3 * ours:.1f} ms (series)"
    if torch_time is not None:
        line += f", {1e3 * torch_time:.1f} ms (PyTorch, nested autograd.grad)"
    print(line)
    result = {
        "gradient_check": checks, "gradient_rel": rel, "history": history,
        "series": series, "nested": nested, "agreement": agree, "error": error,
        "residual": residual, "seconds": seconds, "step": ours, "torch_step": torch_time,
    }  # fmt: skip
    if make_plot:
        result["plot"] = plot(problem, net, history, out_dir)
    return result


if __name__ == "__main__":
    main()
