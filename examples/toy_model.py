"""One toy regression, four ways: from NumPy by hand to ``nn`` + ``optim``.

The task: learn ``y = sin(Σ x_i²)`` for 100 inputs drawn from [-1, 1], with a
two-layer ReLU network ``ŷ = W2 relu(W1 x + b1) + b2`` trained on the mean
squared error by plain gradient descent.  The same training is written

1. in NumPy with the backward pass derived by hand,
2. with diffalg tensors, gradients still by hand,
3. with diffalg tensors and the tape (``loss.backward()``),
4. with ``dg.nn.Sequential``, ``dg.nn.MSELoss`` and ``dg.optim.SGD``.

All four start from the same weights (PyTorch's default ``Linear``
initialisation, drawn once) and see the same mini-batches, so their losses
agree step by step to round-off — the printed table shows it.  A loss-curve
PNG goes to ``examples/out/toy_model.png``.

Run it with ``python examples/toy_model.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import diffalg as dg

OUT_DIR = Path(__file__).resolve().parent / "out"


def make_problem(n_samples=1024, d_in=100, hidden=100, seed=0):
    """Data, the initial weights (float64) and the batch order, all from one seed."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n_samples, d_in))
    y = np.sin((x * x).sum(axis=1, keepdims=True))
    b1, b2 = 1 / np.sqrt(d_in), 1 / np.sqrt(hidden)  # PyTorch's Linear bounds
    weights = {
        "W1": rng.uniform(-b1, b1, (hidden, d_in)),
        "b1": rng.uniform(-b1, b1, hidden),
        "W2": rng.uniform(-b2, b2, (1, hidden)),
        "b2": rng.uniform(-b2, b2, 1),
    }
    return x, y, weights, rng


def batches(n_samples, batch_size, steps, rng):
    """The same mini-batch indices for every version (a reshuffle per epoch)."""
    order = []
    while len(order) < steps:
        perm = rng.permutation(n_samples)
        order += [
            perm[i : i + batch_size] for i in range(0, n_samples - batch_size + 1, batch_size)
        ]
    return order[:steps]


def train_numpy(x, y, w, order, lr):
    """1. NumPy, backward by hand."""
    W1, b1, W2, b2 = (w[k].copy() for k in ("W1", "b1", "W2", "b2"))
    losses = []
    for idx in order:
        xb, yb = x[idx], y[idx]
        pre = xb @ W1.T + b1
        h = np.maximum(pre, 0)
        out = h @ W2.T + b2
        diff = out - yb
        losses.append(float((diff * diff).mean()))
        g_out = 2 * diff / diff.size  # d loss / d out
        g_W2, g_b2 = g_out.T @ h, g_out.sum(0)
        g_pre = (g_out @ W2) * (pre > 0)  # through relu
        g_W1, g_b1 = g_pre.T @ xb, g_pre.sum(0)
        W1 -= lr * g_W1
        b1 -= lr * g_b1
        W2 -= lr * g_W2
        b2 -= lr * g_b2
    return losses


def train_manual(x, y, w, order, lr):
    """2. diffalg tensors, backward still by hand."""
    X, Y = dg.from_numpy(x), dg.from_numpy(y)
    W1, b1, W2, b2 = (dg.tensor(w[k]) for k in ("W1", "b1", "W2", "b2"))
    losses = []
    for idx in order:
        i = dg.from_numpy(idx)
        xb, yb = X[i], Y[i]
        pre = xb.mm(W1.t()) + b1
        h = pre.clamp(min=0)
        out = h.mm(W2.t()) + b2
        diff = out - yb
        losses.append((diff * diff).mean().item())
        g_out = 2 * diff / diff.numel()
        g_W2, g_b2 = g_out.t().mm(h), g_out.sum(0)
        g_pre = g_out.mm(W2) * (pre > 0).double()
        g_W1, g_b1 = g_pre.t().mm(xb), g_pre.sum(0)
        W1 -= lr * g_W1
        b1 -= lr * g_b1
        W2 -= lr * g_W2
        b2 -= lr * g_b2
    return losses


def train_autograd(x, y, w, order, lr):
    """3. diffalg tensors and the tape."""
    X, Y = dg.from_numpy(x), dg.from_numpy(y)
    params = [dg.tensor(w[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params
    losses = []
    for idx in order:
        i = dg.from_numpy(idx)
        out = dg.relu(X[i] @ W1.T + b1) @ W2.T + b2
        loss = ((out - Y[i]) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        with dg.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
    return losses


def train_nn(x, y, w, order, lr):
    """4. ``nn`` + ``optim``: the PyTorch way."""
    model = dg.nn.Sequential(
        dg.nn.Linear(x.shape[1], w["W1"].shape[0], dtype=dg.float64),
        dg.nn.ReLU(),
        dg.nn.Linear(w["W1"].shape[0], 1, dtype=dg.float64),
    )
    model.load_state_dict(
        {"0.weight": dg.tensor(w["W1"]), "0.bias": dg.tensor(w["b1"]),
         "2.weight": dg.tensor(w["W2"]), "2.bias": dg.tensor(w["b2"])}
    )  # fmt: skip
    loss_fn = dg.nn.MSELoss()
    opt = dg.optim.SGD(model.parameters(), lr=lr)
    X, Y = dg.from_numpy(x), dg.from_numpy(y)
    losses = []
    for idx in order:
        i = dg.from_numpy(idx)
        loss = loss_fn(model(X[i]), Y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


WAYS = {
    "NumPy, manual backprop": train_numpy,
    "tensors, manual gradients": train_manual,
    "tensors + autograd": train_autograd,
    "nn + optim": train_nn,
}


def main(steps=300, n_samples=1024, batch_size=64, hidden=100, lr=0.05, plot=True,
         out_dir=OUT_DIR):  # fmt: skip
    x, y, w, rng = make_problem(n_samples, hidden=hidden)
    order = batches(n_samples, batch_size, steps, rng)
    losses = {name: fn(x, y, w, order, lr) for name, fn in WAYS.items()}
    ref = np.array(losses["NumPy, manual backprop"])
    print(f"{'step':>5}  " + "  ".join(f"{n:>26}" for n in WAYS))
    for s in sorted({0, 1, 2, steps // 2, steps - 1}):
        print(f"{s:>5}  " + "  ".join(f"{losses[n][s]:>26.15f}" for n in WAYS))
    worst = max(np.max(np.abs(np.array(v) - ref) / ref) for v in losses.values())
    print(f"largest relative difference between the four ways: {worst:.1e}")
    result = {"losses": losses, "max_rel_diff": worst, "weights": w, "order": order, "x": x,
              "y": y}  # fmt: skip
    if plot:
        result["plot"] = _plot(losses, out_dir)
    return result


def _plot(losses, out_dir):
    import matplotlib  # noqa: PLC0415 - only for the picture

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for (name, v), style in zip(losses.items(), ["-", "--", ":", "-."], strict=True):
        ax.plot(v, style, label=name, lw=1.5)
    ax.set(yscale="log", xlabel="step", ylabel="MSE loss (mini-batch)",
           title="y = sin(sum x_i^2): the same training four ways")  # fmt: skip
    ax.legend()
    fig.tight_layout()
    path = out_dir / "toy_model.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
