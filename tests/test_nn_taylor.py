"""Networks fed series return their Taylor expansions.

Every mixed partial derivative of an ``nn`` network (MLPs with each
activation, softmax heads, CNNs with convolution and pooling) at a batch of
points, read from one forward pass with DA inputs, is checked against nested
PyTorch autograd (``torch.autograd.grad(..., create_graph=True)`` repeated,
float64, the same weights).  The activations' univariate series are checked
against mpmath's Taylor coefficients (40 digits), and the piecewise ones at a
kink against the clear error they must raise.
"""

import math

import mpmath as mp
import numpy as np
import pytest
import torch
import truth

import diffalg as dg
import diffalg.nn as nn
import diffalg.nn.functional as F
from diffalg.ops.conv import im2row, row2im

RTOL = 1e-10


# ------------------------------------------------------------------ helpers
def twins(spec, seed=0):
    """``spec`` built in ``dg.nn`` and ``torch.nn`` (float64, eval mode), same weights."""
    dg.manual_seed(seed)
    ours = eval(spec, {"nn": nn}).double().eval()
    theirs = eval(spec, {"nn": torch.nn}).double().eval()
    rng = np.random.default_rng(seed + 100)
    state = {}
    for name, t in ours.state_dict().items():
        v = t.numpy().copy()
        if name.endswith("running_mean"):  # non-trivial statistics for batch norm in eval
            v = rng.standard_normal(v.shape) * 0.3
        elif name.endswith("running_var"):
            v = rng.uniform(0.5, 2.0, v.shape)
        state[name] = v
    ours.load_state_dict({k: dg.tensor(v) for k, v in state.items()})
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()})
    return ours, theirs


def torch_partials(f, x0, order):
    """``{exponents: (batch, *out) array}``: every partial up to ``order`` by nested autograd.

    Each partial of order ``k - 1`` is differentiated once more (``create_graph``);
    a sum over the batch gives each point's derivative (the points are independent).
    """
    X = torch.tensor(x0, requires_grad=True)
    y = f(X)
    nv = x0.shape[1]
    level = {(0,) * nv: y}
    out = {(0,) * nv: y.detach().numpy()}
    for k in range(1, order + 1):
        nxt = {}
        for alpha, t in level.items():
            last = max([v for v in range(nv) if alpha[v]], default=0)
            flat = t.reshape(t.shape[0], -1)
            cols = []
            for o in range(flat.shape[1]):
                if not flat.requires_grad:  # a constant: its derivatives vanish
                    cols.append(torch.zeros_like(X))
                    continue
                (g,) = torch.autograd.grad(
                    flat[:, o].sum(), X, create_graph=k < order, retain_graph=True,
                    allow_unused=True, materialize_grads=True,
                )  # fmt: skip
                cols.append(g)
            G = torch.stack(cols, 1).reshape(t.shape + (nv,))
            for v in range(last, nv):
                beta = tuple(a + (i == v) for i, a in enumerate(alpha))
                nxt[beta] = G[..., v]
                out[beta] = G[..., v].detach().numpy()
        level = nxt
    return out


def da_inputs(x0, order):
    """The rows of ``x0`` (batch, nv) as series: variable ``v`` is ``x0[:, v] + dx_v``."""
    d = dg.Descriptor(nv=x0.shape[1], order=order)
    return dg.stack(d.vars(list(x0.T)), -1)


def check_partials(y, want, rtol=RTOL):
    """Every partial of the series ``y`` against ``want`` to ``rtol`` relative.

    Relative to each value, or to 1% of the largest partial of the same order
    where a value passes near zero; returns the largest error on that scale.
    """
    worst = 0.0
    for k in {sum(a) for a in want}:
        alphas = [a for a in want if sum(a) == k]
        scale = max(np.abs(want[a]).max() for a in alphas)
        for a in alphas:
            got, w = y.derivative(a), want[a]
            truth.assert_close(got, w, rtol=rtol, scale=1e-2 * scale)
            worst = max(worst, float(np.max(np.abs(got - w))) / max(scale, 1e-300))
    return worst


X0 = np.random.default_rng(7).uniform(-1.0, 1.0, (3, 3))


# --------------------------------------------------------------- MLPs
def mlp(act, width=8, out=1):
    return (
        f"nn.Sequential(nn.Linear(3, {width}), nn.{act}, nn.Linear({width}, {width}), "
        f"nn.{act}, nn.Linear({width}, {out}))"
    )


NETS = [
    ("tanh-sigmoid", "nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 16), "
     "nn.Sigmoid(), nn.Linear(16, 2))", 6),
    ("softplus", mlp("Softplus()"), 5),
    ("softplus-beta", mlp("Softplus(beta=2.0)"), 4),
    ("silu", mlp("SiLU()"), 5),
    ("gelu", mlp("GELU()"), 5),
    ("gelu-tanh", mlp("GELU(approximate='tanh')"), 4),
    ("elu", mlp("ELU(alpha=0.7)"), 5),
    ("logsigmoid", mlp("LogSigmoid()"), 4),
    ("leaky_relu", mlp("LeakyReLU(0.1)"), 3),
    ("relu", mlp("ReLU()"), 3),
    ("softmax-head", "nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 3), "
     "nn.Softmax(dim=1))", 4),
    ("log-softmax-head", "nn.Sequential(nn.Linear(3, 8), nn.SiLU(), nn.Linear(8, 3), "
     "nn.LogSoftmax(dim=-1))", 4),
    ("batchnorm-dropout-eval", "nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), "
     "nn.Dropout(0.5), nn.Linear(8, 1))", 4),
]  # fmt: skip


@pytest.mark.parametrize("name,spec,order", NETS, ids=[n[0] for n in NETS])
def test_mlp_partials_match_nested_torch_autograd(name, spec, order):
    ours, theirs = twins(spec)
    want = torch_partials(theirs, X0, order)
    with dg.no_grad():
        y = ours(da_inputs(X0, order))
    assert y.desc is not None and y.shape == want[(0, 0, 0)].shape
    check_partials(y, want)


def test_parameters_detached_instead_of_no_grad():
    """Parameters that do not require grad: no ``no_grad`` block needed."""
    ours, theirs = twins(mlp("Tanh()"))
    for p in ours.parameters():
        p.requires_grad_(False)
    y = ours(da_inputs(X0, 3))
    check_partials(y, torch_partials(theirs, X0, 3))


def test_series_of_a_mlp_sum_to_its_value_nearby():
    """Independent of autograd: the order-8 polynomial at a small step is the network there."""
    ours, _ = twins(mlp("Tanh()"))
    step = np.array([[0.01, -0.02, 0.015]])
    with dg.no_grad():
        y = ours(da_inputs(X0[:1], 8))
        there = ours(dg.tensor(X0[:1] + step)).numpy()
    assert np.allclose(y.eval(step)[..., 0], there, rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------- CNNs
CNNS = [
    ("tanh-maxpool-sigmoid-avgpool",
     "nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2), "
     "nn.Conv2d(3, 4, 2), nn.Sigmoid(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4, 2))", 4),
    ("relu-strided-padded-maxpool",
     "nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), "
     "nn.MaxPool2d(3, stride=2, padding=1), nn.Flatten(), nn.Linear(16, 1))", 3),
    ("same-grouped-dilated",
     "nn.Sequential(nn.Conv2d(1, 2, 3, padding='same'), nn.GELU(), "
     "nn.Conv2d(2, 4, 2, groups=2, dilation=2), nn.Tanh(), "
     "nn.AvgPool2d(3, stride=1, padding=1), nn.Flatten(), nn.Linear(64, 1))", 4),
]  # fmt: skip


@pytest.mark.parametrize("name,spec,order", CNNS, ids=[n[0] for n in CNNS])
def test_cnn_partials_match_nested_torch_autograd(name, spec, order):
    """Images ``I0 + Σ_v x_v P_v`` (a 3-parameter family) through a CNN, at two points."""
    rng = np.random.default_rng(3)
    base, dirs = rng.standard_normal((1, 1, 6, 6)), rng.standard_normal((3, 1, 6, 6))
    x0 = X0[:2]
    ours, theirs = twins(spec)
    tb, td = torch.from_numpy(base), torch.from_numpy(dirs)
    want = torch_partials(lambda X: theirs(tb + torch.einsum("bv,vchw->bchw", X, td)), x0, order)
    x = da_inputs(x0, order)
    image = dg.tensor(base) + (x @ dg.tensor(dirs.reshape(3, -1))).reshape(2, 1, 6, 6)
    with dg.no_grad():
        y = ours(image)
    check_partials(y, want)


# --------------------------------------------- activations against mpmath
ORDER = 10


def _gelu(t):
    return t * (1 + mp.erf(t / mp.sqrt(2))) / 2


def _gelu_tanh(t):
    return t * (1 + mp.tanh(mp.sqrt(2 / mp.pi) * (t + mp.mpf(0.044715) * t**3))) / 2


ACTIVATIONS = [
    ("sigmoid", dg.sigmoid, lambda t: 1 / (1 + mp.exp(-t)), [-30.0, -2.0, 0.0, 1.5, 30.0]),
    ("softplus", F.softplus, lambda t: mp.log1p(mp.exp(t)), [-30.0, -1.0, 0.5, 10.0]),
    ("softplus-beta", lambda x: F.softplus(x, beta=3.0),
     lambda t: mp.log1p(mp.exp(3 * t)) / 3, [-4.0, 0.25]),
    ("logsigmoid", F.logsigmoid, lambda t: -mp.log1p(mp.exp(-t)), [-3.0, 4.0]),
    ("silu", F.silu, lambda t: t / (1 + mp.exp(-t)), [-5.0, 0.0, 2.0]),
    ("gelu", F.gelu, _gelu, [-9.0, -2.0, 0.0, 0.7, 3.0]),
    ("gelu-tanh", lambda x: F.gelu(x, "tanh"), _gelu_tanh, [-1.5, 0.4]),
    ("elu", lambda x: F.elu(x, 0.7), lambda t: 0.7 * (mp.exp(t) - 1) if t < 0 else t,
     [-1.5, 0.8]),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda t: 0.2 * t if t < 0 else t,
     [-1.0, 2.0]),
    ("relu", dg.relu, lambda t: 0 * t if t < 0 else t, [-1.0, 2.0]),
    ("clamp", lambda x: dg.clamp(x, -1.0, 0.5), lambda t: min(max(t, -1), mp.mpf(0.5)),
     [-2.0, 0.1, 1.0]),
    ("logsumexp", lambda x: dg.logsumexp(dg.stack([x, 2 * x, 1 - x]), 0),
     lambda t: mp.log(mp.exp(t) + mp.exp(2 * t) + mp.exp(1 - t)), [-1.0, 0.6]),
    ("softmax[1]", lambda x: F.softmax(dg.stack([x, 2 * x, 1 - x]), 0)[1],
     lambda t: mp.exp(2 * t) / (mp.exp(t) + mp.exp(2 * t) + mp.exp(1 - t)), [-0.5, 0.3]),
    ("log_softmax[2]", lambda x: F.log_softmax(dg.stack([x, 2 * x, 1 - x]), 0)[2],
     lambda t: 1 - t - mp.log(mp.exp(t) + mp.exp(2 * t) + mp.exp(1 - t)), [0.2]),
]  # fmt: skip
CASES = [(n, f, g, x0) for n, f, g, pts in ACTIVATIONS for x0 in pts]


@pytest.mark.parametrize("name,f,g,x0", CASES, ids=[f"{c[0]}@{c[3]}" for c in CASES])
def test_activation_series_vs_mpmath(name, f, g, x0):
    (x,) = dg.Descriptor(nv=1, order=ORDER).vars([x0])
    got = f(x).coeffs
    with mp.workdps(40):
        want = [float(c) for c in mp.taylor(g, mp.mpf(x0), ORDER)]
    truth.assert_close(got, want, rtol=1e-12, scale=truth.envelope(want), atol=1e-300)


def test_softplus_above_threshold_is_the_input():
    """PyTorch's rule: ``x`` itself where ``beta x > threshold`` (by the constant part)."""
    (x,) = dg.Descriptor(nv=1, order=4).vars([25.0])
    assert np.array_equal(F.softplus(x).coeffs, x.coeffs)


def test_max_pool_picks_the_series_of_largest_constant_part():
    x, y = dg.Descriptor(nv=2, order=3).vars([0.0, 0.0])
    img = dg.stack([x + 1, 2 * y - 3, x * y, dg.sin(y) + 0.5]).reshape(1, 1, 2, 2)
    out = F.max_pool2d(img, 2)
    assert out.shape == (1, 1, 1, 1)
    assert np.array_equal(out.coeffs[0, 0, 0, 0], (x + 1).coeffs)
    out = F.max_pool2d(-img, 2, stride=1, padding=1)  # padded windows hold one pixel each
    assert out.shape == (1, 1, 3, 3)
    assert np.array_equal(out.coeffs[0, 0, 0, 0], (-(x + 1)).coeffs)


def test_window_rows_of_series_are_the_rows_of_each_coefficient_image():
    """``im2row``/``row2im`` on series act on every coefficient image as on a real image."""
    d = dg.Descriptor(nv=2, order=2)
    rng = np.random.default_rng(4)
    X = dg.Tensor(rng.standard_normal((2, 3, 5, 4, d.ncoef)), d)
    kw = {"k": (3, 2), "stride": (2, 1), "padding": (1, 1)}
    rows = im2row(X, pad_value=-np.inf, **kw)
    R = dg.Tensor(rng.standard_normal(rows.coeffs.shape), d)
    back = row2im(R, shape=X.shape, **kw)
    for j in range(d.ncoef):
        pad = -np.inf if j == 0 else 0.0  # the padding is the constant series -inf
        want = im2row(dg.tensor(X.coeffs[..., j]), pad_value=pad, **kw).numpy()
        assert np.array_equal(rows.coeffs[..., j], want)
        want = row2im(dg.tensor(R.coeffs[..., j]), shape=X.shape, **kw).numpy()
        assert np.allclose(back.coeffs[..., j], want, rtol=1e-15, atol=1e-15)


# ------------------------------------------------------------- linear maps
def test_matmul_real_and_series_coefficients():
    """Real matrices times series act on the coefficient arrays (einsum as the truth)."""
    d = dg.Descriptor(nv=2, order=3)
    rng = np.random.default_rng(5)
    S = dg.Tensor(rng.standard_normal((2, 4, 3, d.ncoef)), d)
    W = rng.standard_normal((3, 5))
    A = rng.standard_normal((6, 4))
    assert np.allclose((S @ dg.tensor(W)).coeffs, np.einsum("bnkc,km->bnmc", S.coeffs, W))
    assert np.allclose((dg.tensor(A) @ S).coeffs, np.einsum("nk,bkmc->bnmc", A, S.coeffs))
    v = rng.standard_normal(3)
    assert np.allclose((S @ dg.tensor(v)).coeffs, np.einsum("bnkc,k->bnc", S.coeffs, v))
    lin = F.linear(S, dg.tensor(W.T), dg.tensor(np.arange(5.0)))
    want = np.einsum("bnkc,km->bnmc", S.coeffs, W)
    want[..., 0] += np.arange(5.0)
    assert np.allclose(lin.coeffs, want)


def test_matmul_series_by_series_vs_schoolbook_products():
    d = dg.Descriptor(nv=2, order=3)
    rng = np.random.default_rng(6)
    a = [[truth.random_series(d, rng) for _ in range(3)] for _ in range(2)]
    b = [[truth.random_series(d, rng) for _ in range(2)] for _ in range(3)]
    A = dg.stack([dg.stack([s for s, _ in row]) for row in a])
    B = dg.stack([dg.stack([s for s, _ in row]) for row in b])
    C = A @ B
    keep = truth.keeper(d)
    for i in range(2):
        for j in range(2):
            want = {}
            for k in range(3):
                want = truth.add(want, truth.mul(a[i][k][1], b[k][j][1], keep))
            truth.assert_close(C.coeffs[i, j], truth.dense(d, want), rtol=1e-13)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "name,f",
    [
        ("relu", dg.relu),
        ("leaky_relu", F.leaky_relu),
        ("elu", F.elu),
        ("clamp", lambda x: dg.clamp(x, min=0.0)),
        ("maximum", lambda x: dg.maximum(x, 0.0)),
    ],
)
def test_piecewise_at_the_kink_is_an_error(name, f):
    x, y = dg.Descriptor(nv=2, order=3).vars([0.0, 1.0])
    with pytest.raises(ValueError, match=f"{name}: constant part 0 sits on a kink"):
        f(x)
    zero = 0 * y  # the zero series: both pieces agree, so it is fine
    assert np.array_equal(f(zero).coeffs, np.zeros(zero.desc.ncoef))


def test_max_pool_tie_between_different_series_is_an_error():
    x, y = dg.Descriptor(nv=2, order=2).vars([1.0, 1.0])
    img = dg.stack([x, y, x - 3, y - 3]).reshape(1, 1, 2, 2)
    with pytest.raises(ValueError, match="max_pool2d: constant part 1 sits on a kink"):
        F.max_pool2d(img, 2)
    same = dg.stack([x, x, y - 3, y - 3]).reshape(1, 1, 2, 2)  # equal series tie: fine
    assert np.array_equal(F.max_pool2d(same, 2).coeffs[0, 0, 0, 0], x.coeffs)


def test_shape_errors_name_the_shapes():
    d = dg.Descriptor(nv=3, order=2)
    x = dg.stack(d.vars([0.1, 0.2, 0.3]))[None]  # (1, 3)
    with dg.no_grad():
        with pytest.raises(ValueError, match=r"\(1, 3\) and \(4, 2\).*3 != 4"):
            nn.Linear(4, 2)(x)
        with pytest.raises(RuntimeError, match="expected input .* to have 2 channels"):
            nn.Conv2d(2, 1, 1)(x.reshape(1, 1, 3, 1))
    S = dg.Tensor(np.zeros((2, 3, 4, d.ncoef)), d)
    with pytest.raises(ValueError, match="batch dimensions"):
        S @ dg.zeros(5, 4, 2, dtype=dg.float64)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        dg.where(dg.tensor([True, False]), S, 0.0)
    other = dg.Descriptor(nv=3, order=3).vars([0.0, 0.0, 0.0])[0]
    with pytest.raises(ValueError, match="different descriptors"):
        S @ dg.stack([other] * 4)


# ---------------------------------------------------------------- example
def test_network_taylor_example_small():
    example = truth.load_example("network_taylor")
    report = example.main(steps=30, width=8, order=3, verbose=False)
    assert report["tape_diff"] < 1e-10
    assert report["torch_diff"] < 1e-10
    assert report["n_partials"] == math.comb(3 + 3, 3)
