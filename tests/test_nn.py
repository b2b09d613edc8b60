"""nn against torch.nn: the same weights give the same outputs and gradients.

Each layer and loss is built in both libraries, our weights are copied into
PyTorch by ``state_dict`` name, and forward values plus the gradients of the
input and of every parameter are compared (float64, tight tolerances).  The
tape is also checked against finite differences (``gradcheck``), the
initialisations against PyTorch's formulas, and ``state_dict``/``repr``
against PyTorch's for the same architecture.
"""

import copy
import math

import numpy as np
import pytest
import torch

import diffalg as dg
import diffalg.nn as nn
import diffalg.nn.functional as F
from diffalg.nn import init

RNG = np.random.default_rng(0)
F64 = dg.float64


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def build(spec, lib):
    """The module ``spec`` (e.g. ``"Linear(4, 3)"``) from ``dg.nn`` or ``torch.nn``."""
    spec = spec if spec.startswith("nn.") else "nn." + spec
    return eval(spec, {"nn": nn if lib is dg else torch.nn, "dg": dg, "torch": torch})


def to_torch(t):
    """A torch copy of a tensor, floats in float64."""
    v = t.detach().numpy()
    return torch.from_numpy(v.astype(np.float64) if v.dtype.kind == "f" else v.copy())


def twin(spec, dtype=F64):
    """Our module in ``dtype`` and torch's in float64 holding the same values."""
    ours = build(spec, dg).to(dtype)
    theirs = build(spec, torch).double()
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def close(a, b, tol=1e-10):
    a = a.detach().numpy() if isinstance(a, (dg.Tensor, torch.Tensor)) else a
    b = b.detach().numpy() if isinstance(b, (dg.Tensor, torch.Tensor)) else b
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def compare(ours, theirs, x, tol=1e-10, seed=1):
    """Forward values, input gradient and parameter gradients of both modules."""
    xd = dg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yd, yt = ours(xd), theirs(xt)
    close(yd, yt, tol)
    g = randn(*yd.shape, seed=seed)
    yd.backward(dg.tensor(g))
    yt.backward(torch.tensor(g))
    close(xd.grad, xt.grad, tol)
    tp = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(tp)
    for n, p in ours.named_parameters():
        close(p.grad, tp[n].grad, tol)


# -------------------------------------------------------------------- layers
LAYERS = [
    ("Linear(4, 3)", (5, 4)),
    ("Linear(4, 3, bias=False)", (2, 5, 4)),
    ("Conv2d(2, 3, 3)", (2, 2, 5, 6)),
    ("Conv2d(2, 4, (3, 2), stride=2, padding=1)", (2, 2, 7, 6)),
    ("Conv2d(4, 6, 3, groups=2, dilation=2, padding='same', bias=False)", (1, 4, 7, 7)),
    ("Conv2d(2, 3, 4, padding='same')", (2, 2, 5, 5)),
    ("Conv2d(1, 2, 3, padding='valid', stride=(1, 2))", (2, 1, 5, 7)),
    ("MaxPool2d(2)", (2, 3, 4, 6)),
    ("MaxPool2d(3, stride=2, padding=1)", (2, 2, 7, 7)),
    ("AvgPool2d(2)", (2, 3, 4, 6)),
    ("AvgPool2d(3, 2, 1, count_include_pad=False)", (2, 2, 7, 7)),
    ("AvgPool2d(2, divisor_override=3)", (1, 2, 4, 4)),
    ("Flatten()", (2, 3, 4)),
    ("Flatten(0, 1)", (2, 3, 4)),
    ("ReLU()", (4, 5)),
    ("Tanh()", (4, 5)),
    ("Sigmoid()", (4, 5)),
    ("Softmax(dim=1)", (4, 5)),
    ("LogSoftmax(dim=-1)", (2, 4, 5)),
    ("LeakyReLU(0.2)", (4, 5)),
    ("GELU()", (4, 5)),
    ("GELU(approximate='tanh')", (4, 5)),
    ("ELU(0.5)", (4, 5)),
    ("SiLU()", (4, 5)),
    ("Softplus(beta=2.0, threshold=1.0)", (4, 5)),
    ("LogSigmoid()", (4, 5)),
    ("Identity()", (4, 5)),
    ("Dropout(0.0)", (4, 5)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("spec,shape", LAYERS, ids=[s for s, _ in LAYERS])
def test_layer_matches_torch(spec, shape):
    ours, theirs = twin(spec)
    compare(ours, theirs, randn(*shape))


def test_float32_layers_match_torch_to_float_precision():
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 2 * 2, 3),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(16, 3),
    )
    theirs.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    )
    assert all(p.dtype == dg.float32 for p in ours.parameters())
    x = randn(3, 1, 4, 4).astype(np.float32)
    xd, xt = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yd, yt = ours(xd), theirs(xt)
    assert yd.dtype == dg.float32
    close(yd, yt, 1e-5)
    yd.sum().backward()
    yt.sum().backward()
    close(xd.grad, xt.grad, 1e-5)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        close(p.grad, q.grad, 1e-5)


# ------------------------------------------------------------------ batchnorm
BN = [
    ("BatchNorm1d(3)", (6, 3)),
    ("BatchNorm1d(3)", (4, 3, 5)),
    ("BatchNorm1d(3, momentum=None)", (6, 3)),
    ("BatchNorm1d(3, momentum=0.3, eps=1e-3, affine=False)", (6, 3)),
    ("BatchNorm1d(3, track_running_stats=False)", (6, 3)),
    ("BatchNorm1d(3, bias=False)", (6, 3)),
    ("BatchNorm2d(2)", (3, 2, 4, 4)),
]


@pytest.mark.parametrize("spec,shape", BN, ids=[f"{s}-{len(sh)}d" for s, sh in BN])
def test_batchnorm_train_then_eval_matches_torch(spec, shape):
    ours, theirs = twin(spec)
    for step in range(3):  # running statistics after several batches
        compare(ours, theirs, randn(*shape, seed=step) * 3 + 1, seed=10 + step)
        for (k, a), (k2, b) in zip(
            ours.state_dict().items(), theirs.state_dict().items(), strict=True
        ):
            assert k == k2
            close(a, b, 1e-12)
    ours.eval(), theirs.eval()
    compare(ours, theirs, randn(*shape, seed=7))


def test_batchnorm_statistics_and_errors():
    bn = nn.BatchNorm1d(2, dtype=F64)
    x = dg.tensor(randn(50, 2) * 4 + 3)
    y = bn(x).detach().numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(0), 1, rtol=1e-4)  # biased variance, eps = 1e-5
    xv = x.numpy()
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * xv.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * xv.var(0, ddof=1), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == dg.int64
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(dg.randn(1, 2, dtype=F64))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        bn(dg.randn(2, 2, 2, 2, dtype=F64))
    with pytest.raises(ValueError, match="expected 2 channels"):
        bn(dg.randn(4, 3, dtype=F64))


def test_gradcheck_batchnorm_train_and_eval():
    bn = nn.BatchNorm1d(2, dtype=F64)
    with dg.no_grad():
        bn.weight.copy_(dg.tensor([1.5, -0.5], dtype=F64))
    x = dg.tensor(randn(4, 2), requires_grad=True)
    assert dg.autograd.gradcheck(lambda t, w, b: bn(t), (x, bn.weight, bn.bias))
    bn.eval()
    assert dg.autograd.gradcheck(lambda t, w, b: bn(t), (x, bn.weight, bn.bias))


# -------------------------------------------------------------------- dropout
def test_dropout_statistics_scaling_and_eval_identity():
    dg.manual_seed(0)
    p = 0.3
    drop = nn.Dropout(p)
    x = dg.tensor(RNG.uniform(1, 2, 100_000), dtype=F64, requires_grad=True)
    y = drop(x)
    yv, xv = y.detach().numpy(), x.detach().numpy()
    kept = yv != 0
    assert abs((~kept).mean() - p) < 4 * math.sqrt(p * (1 - p) / yv.size)  # 4 sigma
    np.testing.assert_allclose(yv[kept], xv[kept] / (1 - p), rtol=1e-15)
    y.sum().backward()  # the gradient is the same mask
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-15)
    drop.eval()
    z = drop(x)
    np.testing.assert_array_equal(z.detach().numpy(), xv)
    assert F.dropout(x, p, training=False) is x


def test_dropout_edges_and_reproducibility():
    x = dg.ones(1000)
    assert bool((F.dropout(x, 0.0) == x).all())
    assert bool((F.dropout(x, 1.0) == 0).all())
    dg.manual_seed(5)
    a = F.dropout(x, 0.5)
    dg.manual_seed(5)
    b = F.dropout(x, 0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, bad)


# --------------------------------------------------------------------- losses
def class_data(n=5, c=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)), rng.integers(0, c, n)


LOSSES = [
    ("MSELoss", "regression", {}),
    ("L1Loss", "regression", {}),
    ("CrossEntropyLoss", "classes", {}),
    ("CrossEntropyLoss", "classes", {"weight": [0.5, 1.0, 2.0, 1.5]}),
    ("CrossEntropyLoss", "classes", {"ignore_index": 1}),
    ("CrossEntropyLoss", "classes", {"label_smoothing": 0.2}),
    (
        "CrossEntropyLoss",
        "classes",
        {"label_smoothing": 0.1, "weight": [0.5, 1, 2, 1.5], "ignore_index": 2},
    ),
    ("CrossEntropyLoss", "probabilities", {}),
    (
        "CrossEntropyLoss",
        "probabilities",
        {"weight": [0.5, 1.0, 2.0, 1.5], "label_smoothing": 0.3},
    ),
    ("CrossEntropyLoss", "spatial", {"weight": [0.5, 1.0, 2.0, 1.5]}),
    ("CrossEntropyLoss", "single", {}),
    ("NLLLoss", "log_probabilities", {}),
    ("NLLLoss", "log_probabilities", {"weight": [0.5, 1.0, 2.0, 1.5], "ignore_index": 0}),
    ("BCELoss", "probability_pairs", {}),
    ("BCELoss", "probability_pairs", {"weight": [[1.0, 2.0, 0.5, 1.0]]}),
    ("BCEWithLogitsLoss", "binary", {}),
    (
        "BCEWithLogitsLoss",
        "binary",
        {"pos_weight": [1.0, 3.0, 0.5, 2.0], "weight": [[2.0], [1.0], [1.0], [0.5], [1.0]]},
    ),
]


def loss_inputs(kind, seed=0):
    rng = np.random.default_rng(seed)
    x, t = class_data(seed=seed)
    if kind == "regression":
        return x, rng.standard_normal(x.shape)
    if kind == "classes":
        return x, t
    if kind == "probabilities":
        p = rng.uniform(0, 1, x.shape)
        return x, p / p.sum(1, keepdims=True)
    if kind == "spatial":
        return rng.standard_normal((2, 4, 3, 2)), rng.integers(0, 4, (2, 3, 2))
    if kind == "single":
        return x[0], t[0]
    if kind == "log_probabilities":
        return x - np.log(np.exp(x).sum(1, keepdims=True)), t
    if kind == "probability_pairs":
        return rng.uniform(0.05, 0.95, x.shape), rng.uniform(0, 1, x.shape)
    return x * 3, (rng.uniform(0, 1, x.shape) > 0.5).astype(np.float64)


def make_loss(lib, name, kw, reduction):
    kw = {
        k: (v if isinstance(v, (int, float)) else lib.tensor(v, dtype=lib.float64))
        for k, v in kw.items()
    }
    return getattr(lib.nn, name)(reduction=reduction, **kw)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "name,kind,kw", LOSSES, ids=[f"{n}-{k}-{i}" for i, (n, k, _) in enumerate(LOSSES)]
)
def test_loss_matches_torch(name, kind, kw, reduction):
    x, t = loss_inputs(kind)
    xd, xt = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ld = make_loss(dg, name, kw, reduction)(xd, dg.tensor(t))
    lt = make_loss(torch, name, kw, reduction)(xt, torch.tensor(t))
    close(ld, lt, 1e-12)
    g = randn(*ld.shape, seed=3)
    ld.backward(dg.tensor(g))
    lt.backward(torch.tensor(g))
    close(xd.grad, xt.grad, 1e-12)


def test_losses_in_float32_match_torch():
    x, t = class_data()
    x = x.astype(np.float32)
    for name, target in (("CrossEntropyLoss", t), ("MSELoss", x[::-1].copy())):
        xd, xt = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ld = getattr(nn, name)()(xd, dg.tensor(target))
        lt = getattr(torch.nn, name)()(xt, torch.tensor(target))
        assert ld.dtype == dg.float32
        close(ld, lt, 1e-6)
        ld.backward(), lt.backward()
        close(xd.grad, xt.grad, 1e-6)


def test_all_targets_ignored_gives_nan_as_torch():
    x, t = class_data()
    with np.errstate(invalid="ignore"):
        ours = F.cross_entropy(dg.tensor(x), dg.tensor(np.full(5, -100))).item()
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(np.full(5, -100)))
    assert math.isnan(ours) and math.isnan(theirs.item())


LOSS_FNS = {
    "mse": lambda x, t: F.mse_loss(x, t),
    "l1": lambda x, t: F.l1_loss(x, t, reduction="sum"),
    "cross_entropy": lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
    "cross_entropy_probabilities": lambda x, t: F.cross_entropy(x, t),
    "nll": lambda x, t: F.nll_loss(F.log_softmax(x, 1), t, reduction="none"),
    "bce": lambda x, t: F.binary_cross_entropy(dg.sigmoid(x), t),
    "bce_logits": lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=2.0),
}


@pytest.mark.parametrize("name", LOSS_FNS)
def test_gradcheck_losses(name):
    x, t = class_data(n=3, c=3, seed=4)
    if name in ("mse", "l1", "bce", "bce_logits", "cross_entropy_probabilities"):
        t = np.random.default_rng(1).uniform(0, 1, x.shape)
    xd = dg.tensor(x, requires_grad=True)
    assert dg.autograd.gradcheck(lambda a: LOSS_FNS[name](a, dg.tensor(t)), (xd,))


def test_regression_targets_are_checked():
    x = dg.randn(4, 1)
    with pytest.raises(
        ValueError,
        match=r"target size \(4,\) is different from input size "
        r"\(4, 1\)",
    ):
        nn.MSELoss()(x, dg.randn(4))
    with pytest.raises(RuntimeError, match="floating point target, but found Long"):
        nn.MSELoss()(x, dg.tensor([[1], [0], [1], [0]]))
    with pytest.raises(ValueError, match="different from input size"):
        nn.L1Loss()(x, dg.randn(1, 4))
    with pytest.raises(ValueError, match="different from input size"):
        nn.BCEWithLogitsLoss()(x, dg.rand(4))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        nn.BCELoss()(dg.tensor([0.5, 1.5]), dg.tensor([1.0, 0.0]))


def test_class_targets_are_checked():
    x = dg.randn(3, 4)
    for loss in (nn.CrossEntropyLoss(), nn.NLLLoss()):
        with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
            loss(x, dg.tensor([0.0, 1.0, 2.0]))
        with pytest.raises(RuntimeError, match="expected scalar type Long but found Int"):
            loss(x, dg.tensor([0, 1, 2], dtype=dg.int32))
        with pytest.raises(
            ValueError,
            match=r"Expected input batch_size \(3\) to match target "
            r"batch_size \(2\)",
        ):
            loss(x, dg.tensor([0, 1]))
        with pytest.raises(IndexError, match="Target 4 is out of bounds"):
            loss(x, dg.tensor([0, 4, 1]))
        with pytest.raises(IndexError, match="Target -1 is out of bounds"):
            loss(x, dg.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match=r"expected target of shape \(2, 5\)"):
        F.cross_entropy(dg.randn(2, 4, 5), dg.tensor([[0, 1, 2, 3]]))
    with pytest.raises(RuntimeError, match="defined either for all 4 classes"):
        nn.CrossEntropyLoss(weight=dg.ones(3))(x, dg.tensor([0, 1, 2]))


def test_reduction_is_checked():
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.cross_entropy(dg.randn(2, 3), dg.tensor([0, 1]), reduction="avg")


def test_one_hot():
    t = dg.tensor([0, 2, 1])
    np.testing.assert_array_equal(
        F.one_hot(t).numpy(), torch.nn.functional.one_hot(torch.tensor([0, 2, 1])).numpy()
    )
    assert F.one_hot(t, 5).shape == (3, 5) and F.one_hot(t).dtype == dg.int64
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(dg.tensor([0.0]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(t, 2)


def test_functional_pad_and_unsupported_options():
    x = randn(1, 2, 3, 4)
    xd, xt = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yd = F.pad(xd, (1, 2, 0, 3), value=0.5)
    yt = torch.nn.functional.pad(xt, (1, 2, 0, 3), value=0.5)
    close(yd, yt, 0)
    g = randn(*yd.shape, seed=2)
    yd.backward(dg.tensor(g)), yt.backward(torch.tensor(g))
    close(xd.grad, xt.grad, 0)
    with pytest.raises(RuntimeError, match="Given groups=2.*to have 4 channels"):
        F.conv2d(dg.randn(1, 3, 4, 4), dg.randn(2, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(NotImplementedError, match="ceil_mode"):
        nn.MaxPool2d(2, ceil_mode=True)
    with pytest.raises(TypeError, match="pass dim="):
        nn.Softmax()(dg.randn(2, 3))
    with pytest.raises(ValueError, match="at least one dimension"):
        F.cross_entropy(dg.tensor(1.0), dg.tensor(0))


# ------------------------------------------------------------------ gradcheck
def test_gradcheck_linear_conv_pool():
    lin = nn.Linear(3, 2, dtype=F64)
    x = dg.tensor(randn(2, 3), requires_grad=True)
    assert dg.autograd.gradcheck(lambda a, w, b: lin(a), (x, lin.weight, lin.bias))
    conv = nn.Conv2d(2, 2, 2, stride=2, padding=1, dtype=F64)
    img = dg.tensor(randn(1, 2, 3, 3), requires_grad=True)
    assert dg.autograd.gradcheck(lambda a, w, b: conv(a), (img, conv.weight, conv.bias))
    grouped = nn.Conv2d(2, 2, 2, groups=2, dilation=2, padding="same", dtype=F64)
    assert dg.autograd.gradcheck(lambda a, w: grouped(a), (img, grouped.weight))
    pool = nn.MaxPool2d(2, stride=1)
    distinct = dg.tensor(RNG.permutation(18).reshape(1, 2, 3, 3) / 4.0, requires_grad=True)
    assert dg.autograd.gradcheck(pool, (distinct,))
    assert dg.autograd.gradcheck(nn.AvgPool2d(2, padding=1, count_include_pad=False), (img,))


# ---------------------------------------------------------------------- init
def test_default_init_bounds_follow_pytorch_formula():
    dg.manual_seed(0)
    for layer, fan_in in ((nn.Linear(300, 200), 300), (nn.Conv2d(8, 64, (3, 5)), 8 * 15)):
        bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=√5): gain·√(3/fan_in) = 1/√fan_in
        torch_extent = float(torch.nn.Linear(fan_in, 500).weight.detach().abs().max())
        assert 0.99 * bound < torch_extent <= bound  # the formula is torch's
        for p in (layer.weight, layer.bias):
            v = p.detach().numpy()
            assert v.dtype == np.float32
            assert np.abs(v).max() <= bound and np.abs(v).max() > 0.9 * bound
        w = layer.weight.detach().numpy()
        assert abs(w.var() - bound**2 / 3) < 0.05 * bound**2 / 3  # U(-b, b) has variance b²/3


def test_init_functions():
    dg.manual_seed(1)
    w = dg.empty(400, 500, requires_grad=True)
    init.xavier_uniform_(w, gain=2.0)
    b = 2.0 * math.sqrt(6 / 900)
    assert float(w.abs().max()) <= b and float(w.abs().max()) > 0.99 * b
    init.xavier_normal_(w)
    assert abs(float(w.std()) - math.sqrt(2 / 900)) < 0.01 * math.sqrt(2 / 900)
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(float(w.std()) - math.sqrt(2 / 400)) < 0.01 * math.sqrt(2 / 400)
    init.kaiming_uniform_(w, a=0.2, nonlinearity="leaky_relu")
    b = math.sqrt(3) * math.sqrt(2 / (1 + 0.04)) / math.sqrt(500)
    assert float(w.abs().max()) <= b and float(w.abs().max()) > 0.99 * b
    assert w.requires_grad and w.is_leaf  # filled in place, off the tape
    init.constant_(w, 0.5)
    assert bool((w == 0.5).all())
    init.zeros_(w), init.ones_(w[:0])
    assert float(w.abs().sum()) == 0
    e = init.eye_(dg.empty(2, 3))
    np.testing.assert_array_equal(e.numpy(), np.eye(2, 3))
    init.normal_(w, 3.0, 0.1)
    assert abs(float(w.mean()) - 3.0) < 0.01


def test_gain_and_fans_equal_torch():
    for nl, param in [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.3),
        ("selu", None),
    ]:
        assert init.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl, param)
    for shape in ((3, 4), (8, 3, 5, 5), (2, 6, 3)):
        assert init._calculate_fan_in_and_fan_out(dg.empty(*shape)) == (
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
        )
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(dg.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(dg.empty(3, 3), mode="fan_avg")


def test_manual_seed_makes_models_reproducible():
    dg.manual_seed(3)
    a = nn.Linear(5, 4)
    dg.manual_seed(3)
    b = nn.Linear(5, 4)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    c = nn.Linear(5, 4)
    assert not np.array_equal(a.weight.detach().numpy(), c.weight.detach().numpy())


# ---------------------------------------------------------------- state_dict
ARCH = (
    "nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), "
    "nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.Dropout(0.2), "
    "nn.Linear(8, 3, bias=False))"
)


def block(lib):
    """The same custom module (lists, dicts, own parameter and buffers) in ``lib``."""
    n = lib.nn

    class Block(n.Module):
        def __init__(self):
            super().__init__()
            self.layers = n.ModuleList([n.Linear(3, 3), n.Linear(3, 3)])
            self.heads = n.ModuleDict({"a": n.Linear(3, 2), "b": n.BatchNorm1d(3)})
            self.scale = n.Parameter(lib.ones(3))
            self.register_buffer("step", lib.zeros(1))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

    return Block()


def test_state_dict_keys_equal_torch():
    ours, theirs = build(ARCH, dg), build(ARCH, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    ours_b, theirs_b = block(dg), block(torch)
    assert list(ours_b.state_dict()) == list(theirs_b.state_dict())
    assert [n for n, _ in ours_b.named_modules()] == [n for n, _ in theirs_b.named_modules()]
    assert [n for n, _ in ours_b.named_buffers()] == [n for n, _ in theirs_b.named_buffers()]
    for v in ours.state_dict().values():
        assert not v.requires_grad and not isinstance(v, nn.Parameter)


def test_load_torch_weights_and_round_trip(tmp_path):
    theirs = build(ARCH, torch).double()
    x = randn(4, 1, 4, 4)
    theirs(torch.tensor(x))  # move the running statistics
    theirs.eval()
    ours = build(ARCH, dg).double()
    ours.load_state_dict({k: dg.from_numpy(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.eval()
    close(ours(dg.tensor(x)), theirs(torch.tensor(x)), 1e-12)
    path = tmp_path / "model.npz"
    dg.save(ours.state_dict(), path)
    fresh = build(ARCH, dg).double().eval()
    result = fresh.load_state_dict(dg.load(path))
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (k, a), (k2, b) in zip(fresh.state_dict().items(), ours.state_dict().items(), strict=True):
        assert k == k2 and a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    close(fresh(dg.tensor(x)), theirs(torch.tensor(x)), 1e-12)


def test_load_state_dict_copies_in_place_and_casts():
    model = nn.Linear(2, 2)
    w = model.weight
    model.load_state_dict(
        {"weight": dg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64), "bias": dg.zeros(2)}
    )
    assert model.weight is w and w.dtype == dg.float32 and w.requires_grad
    np.testing.assert_array_equal(w.detach().numpy(), [[1, 2], [3, 4]])


def test_load_state_dict_errors():
    model = nn.Sequential(nn.Linear(4, 4))
    model.add_module("fc", nn.Linear(4, 4))
    good = model.state_dict()
    before = good["fc.weight"].numpy().copy()
    bad = dict(good)
    bad["fc.weight"] = dg.zeros(3, 4)
    msg = (
        "size mismatch for fc.weight: copying a param with shape (3, 4) from checkpoint, the "
        "shape in current model is (4, 4)"
    )
    with pytest.raises(RuntimeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        model.load_state_dict(bad)
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict(bad, strict=False)
    np.testing.assert_array_equal(model.fc.weight.detach().numpy(), before)  # nothing copied
    missing = {k: v for k, v in good.items() if k != "0.bias"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.bias"'):
        model.load_state_dict(missing)
    extra = dict(good, **{"fc.scale": dg.ones(1)})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "fc.scale"'):
        model.load_state_dict(extra)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict for Sequential"):
        model.load_state_dict(extra)
    result = model.load_state_dict(dict(missing, **{"fc.scale": dg.ones(1)}), strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["fc.scale"]
    assert result == (["0.bias"], ["fc.scale"])
    with pytest.raises(RuntimeError, match='"0.weight".*received list'):
        model.load_state_dict(dict(good, **{"0.weight": [[0.0] * 4] * 4}))
    with pytest.raises(RuntimeError, match="received torch.Tensor"):
        model.load_state_dict(dict(good, **{"0.weight": torch.zeros(4, 4)}))
    x = dg.Descriptor(nv=1, order=2).vars([0.0])[0]
    with pytest.raises(RuntimeError, match="received a Tensor of series"):
        model.load_state_dict(dict(good, **{"0.bias": dg.stack([x] * 4)}))
    model.load_state_dict(dict(good, **{"0.bias": np.arange(4.0)}))  # numpy arrays are fine
    np.testing.assert_array_equal(model[0].bias.detach().numpy(), np.arange(4.0))


# ---------------------------------------------------------------------- repr
REPRS = [
    "Linear(4, 3)",
    "Linear(4, 3, bias=False)",
    "Conv2d(1, 2, 3)",
    "Conv2d(2, 4, (3, 5), stride=2, padding=1)",
    "Conv2d(2, 4, 3, dilation=2, groups=2, bias=False)",
    "Conv2d(1, 1, 3, padding='same')",
    "MaxPool2d(2)",
    "MaxPool2d(3, stride=1, padding=1)",
    "AvgPool2d(2)",
    "BatchNorm1d(3)",
    "BatchNorm1d(5, momentum=None, affine=False)",
    "BatchNorm2d(4, eps=0.001, track_running_stats=False)",
    "Dropout()",
    "Dropout(0.1)",
    "ReLU()",
    "ReLU(inplace=True)",
    "LeakyReLU(0.2)",
    "GELU()",
    "GELU(approximate='tanh')",
    "Softmax(dim=1)",
    "LogSoftmax(dim=-1)",
    "Flatten()",
    "Identity()",
    "Tanh()",
    "Sigmoid()",
    "ELU()",
    "SiLU()",
    "Softplus()",
    "MSELoss()",
    "CrossEntropyLoss()",
    "Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 2), nn.Tanh()))",
    "ModuleList([nn.ReLU(), nn.ReLU(), nn.Linear(2, 2), nn.ReLU()])",
    "ModuleDict({'a': nn.Tanh(), 'b': nn.Linear(1, 1)})",
    "Sequential()",
]


@pytest.mark.parametrize("spec", REPRS)
def test_repr_equals_torch(spec):
    assert repr(build(spec, dg)) == repr(build(spec, torch))


def test_repr_of_architecture_and_parameter():
    assert repr(build(ARCH, dg)) == repr(build(ARCH, torch))
    assert repr(block(dg)) == repr(block(torch))
    p = nn.Parameter(dg.tensor([1.0, 2.0]))
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))


# ------------------------------------------------------------------- modules
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_registration_and_walks():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
    ]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert net.get_submodule("fc2") is net.fc2
    net.shared = net.fc1  # registered twice, walked once
    assert len(list(net.parameters())) == 4 and len(list(net.modules())) == 4
    assert "shared.weight" not in dict(net.named_parameters())
    assert "shared.weight" in net.state_dict()  # as torch: the state lists every name
    del net.shared
    assert "shared" not in dict(net.named_children())
    net.fc1.register_buffer("count", dg.zeros(1))
    assert [n for n, _ in net.named_buffers()] == ["fc1.count"]
    assert isinstance(net.fc1.count, dg.Tensor)
    assert "fc1" in dir(net) and "weight" in dir(net.fc1)


def test_setattr_rules():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        lin.weight = dg.zeros(2, 2)
    lin.bias = None
    assert lin.bias is None and "bias" not in lin.state_dict()
    assert lin.extra_repr().endswith("bias=False")
    lin.extra = nn.Parameter(dg.zeros(1))
    assert "extra" in dict(lin.named_parameters())
    with pytest.raises(KeyError, match="already exists"):
        lin.register_buffer("extra", dg.zeros(1))
    with pytest.raises(TypeError, match="Module subclass"):
        lin.add_module("m", 3)
    with pytest.raises(KeyError, match="contain"):
        lin.register_parameter("a.b", None)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        lin.nothing  # noqa: B018

    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Forgot()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_train_eval_zero_grad_requires_grad_apply():
    net = build(ARCH, dg)
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert net[7].training
    x = dg.randn(4, 1, 4, 4)
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Sequential" and seen[0] == "Conv2d"
    net.apply(lambda m: init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert float(net[5].weight.abs().sum()) == 0


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    seen = []
    h = lin.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    y = lin(dg.ones(3, 2))
    assert seen == [(3, 2)]
    np.testing.assert_allclose(
        y.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy(), (3, 2))
    )
    h.remove(), pre.remove()
    lin(dg.ones(1, 2))
    assert seen == [(3, 2)]


def test_to_double_keeps_parameter_identity():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    params = list(net.parameters())
    net.double()
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == dg.float64 for p in net.parameters())
    assert net[1].running_mean.dtype == dg.float64
    assert net[1].num_batches_tracked.dtype == dg.int64
    assert net(dg.randn(4, 2, dtype=F64)).dtype == dg.float64
    with pytest.raises(TypeError, match="floating point"):
        net.to(dg.int64)


def test_deepcopy_is_independent():
    net = nn.Sequential(nn.Linear(2, 2))
    twin_ = copy.deepcopy(net)
    twin_(dg.ones(1, 2)).sum().backward()
    assert net[0].weight.grad is None and twin_[0].weight.grad is not None
    with dg.no_grad():
        twin_[0].weight.add_(1)
    assert not np.array_equal(net[0].weight.detach().numpy(), twin_[0].weight.detach().numpy())


def test_parameter_is_a_shared_leaf_tensor():
    t = dg.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, dg.Tensor) and p.requires_grad and p.is_leaf
    with dg.no_grad():
        p.mul_(3)
    np.testing.assert_array_equal(t.numpy(), [3.0, 6.0])  # shares the values
    assert type(p * 2) is dg.Tensor
    assert not nn.Parameter(dg.tensor([1]), requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(dg.tensor([1]))


# ---------------------------------------------------------------- containers
def test_sequential_indexing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and s[0] is layers[0] and s[-1] is layers[2] and list(s) == layers
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        s[3]  # noqa: B018
    s[1] = nn.Tanh()
    assert isinstance(s[1], nn.Tanh)
    del s[0]
    assert list(s._modules) == ["0", "1"] and s[0].__class__ is nn.Tanh
    s.insert(0, nn.Linear(2, 3))
    assert [type(m).__name__ for m in s] == ["Linear", "Tanh", "Linear"]
    assert s.pop(1).__class__ is nn.Tanh and len(s) == 2
    s.insert(-1, nn.ReLU())
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU", "Linear"]
    named = nn.Sequential(__import__("collections").OrderedDict(fc=nn.Linear(1, 1), act=nn.ReLU()))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.act is named[1]


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2))
    ml += [nn.ReLU()]
    ml.extend([nn.Tanh()])
    assert len(ml) == 4 and [n for n, _ in ml.named_parameters()][-1] == "1.bias"
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    with pytest.raises(NotImplementedError):
        ml(dg.ones(1))
    md = nn.ModuleDict([("x", nn.Linear(1, 1))])
    md["y"] = nn.ReLU()
    md.update({"z": nn.Tanh()})
    assert list(md.keys()) == ["x", "y", "z"] and "y" in md and len(md) == 3
    assert md.pop("y").__class__ is nn.ReLU and list(md) == ["x", "z"]
    with pytest.raises(ValueError, match="length 3"):
        md.update([("a", nn.ReLU(), 1)])


# ------------------------------------------------------- training and series
def test_sgd_training_steps_match_torch():
    ours, theirs = twin("nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))")
    x, y = randn(32, 3), randn(32, 1, seed=1)
    for _ in range(5):
        for model, lib in ((ours, dg), (theirs, torch)):
            loss = lib.nn.MSELoss()(model(lib.tensor(x)), lib.tensor(y))
            model.zero_grad()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        close(p, q, 1e-12)


def test_network_fed_series_gives_its_taylor_expansion():
    ours, theirs = twin("nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 1))")
    x0 = np.array([0.3, -0.2])
    d = dg.Descriptor(nv=2, order=2)
    with dg.no_grad():
        y = ours(dg.stack(list(d.vars(x0))))[0]
    f = lambda v: theirs(v).sum()  # noqa: E731
    xt = torch.tensor(x0)
    close(np.float64(y.const), f(xt), 1e-14)
    close(y.gradient(), torch.autograd.functional.jacobian(f, xt), 1e-12)
    close(y.hessian(), torch.autograd.functional.hessian(f, xt), 1e-12)


def test_softplus_keeps_relative_precision_in_the_left_tail():
    """``log1p(exp(x))`` to the last digit at x = -40 (``log(1 + tiny)`` would lose it)."""
    v = [-40.0, -30.0, -5.0, 0.0, 3.0, 19.0]
    want = [math.log1p(math.exp(t)) for t in v]
    got = F.softplus(dg.tensor(v, dtype=dg.float64)).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-16, atol=0)
    theirs = torch.nn.functional.softplus(torch.tensor(v, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, theirs, rtol=1e-15, atol=0)
