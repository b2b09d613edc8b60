"""The tape against finite differences and PyTorch.

``CASES`` holds at least one ``gradcheck`` case (float64, central differences)
for every real primitive with a VJP; a primitive added without a case fails
``test_every_primitive_has_a_case``.  Second derivatives (``create_graph``)
are checked on a representative subset, and the tape's semantics (grad_fn
names, accumulation, hooks, version counters...) against PyTorch itself.
"""

from __future__ import annotations

import importlib
import math
import pkgutil

import numpy as np
import pytest

import diffalg as dg
from diffalg.autograd.graph import AccumulateGrad
from diffalg.ops import conv, reduce, shape
from diffalg.ops.adjoint import mul_adjoint
from diffalg.ops.registry import PRIMITIVES

torch = pytest.importorskip("torch")

# every module imported, so PRIMITIVES is complete whatever ran before this file
for _m in pkgutil.walk_packages(dg.__path__, "diffalg."):
    importlib.import_module(_m.name)


# ------------------------------------------------------------------ helpers
def arr(*shape, lo=-1.0, hi=1.0, seed=0):
    """Uniform float64 values; a fixed seed per case keeps failures reproducible."""
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


def spread(*shape, seed=0, gap=0.1):
    """Distinct values at least ``gap`` apart (no ties for max/min/sort-like ops)."""
    n = int(np.prod(shape))
    v = (np.arange(n) - n / 2) * gap + np.random.default_rng(seed).uniform(0, gap / 4, n)
    return np.random.default_rng(seed + 1).permutation(v).reshape(shape)


def away(*shape, seed=0, lo=0.2, hi=1.0):
    """Values with ``lo <= |v| <= hi`` and random signs (away from a kink at 0)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)


class Case:
    """``fn(*inputs)`` with the given float64 arrays; ``const`` marks inputs without grad."""

    def __init__(self, fn, *arrays, const=(), eps=1e-6, atol=1e-5, rtol=1e-3, id=None):
        self.fn, self.arrays, self.const = fn, arrays, const
        self.eps, self.atol, self.rtol, self.id = eps, atol, rtol, id

    def inputs(self):
        return tuple(
            dg.tensor(a.copy(), requires_grad=i not in self.const)
            for i, a in enumerate(self.arrays)
        )

    def torch_inputs(self):
        return tuple(
            torch.from_numpy(a.copy()).requires_grad_(i not in self.const)
            for i, a in enumerate(self.arrays)
        )


def prims_in_graph(outputs) -> set[str]:
    """The primitive names recorded on the tape behind ``outputs``."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    seen, names = set(), set()
    stack = [o.grad_fn for o in outputs if o.grad_fn is not None]
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen or isinstance(n, AccumulateGrad):
            continue
        seen.add(id(n))
        names.add(n.prim.name)
        stack.extend(n.edges)
    return names


def onto(fn):
    """``h = x * 1`` then ``fn(h, *rest)`` in place: in-place primitives on a non-leaf."""

    def run(x, *rest):
        h = x * 1.0
        fn(h, *rest)
        return h

    return run


def _setitem(idx):
    def put(h, v):
        h[idx] = v

    return put


IDX = np.array([0, 2, 0, 3, 2])  # repeated indices: gradients must add up
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
GIDX = np.array([[0, 0, 3], [2, 1, 2], [3, 3, 3]])  # gather/scatter_add index, with repeats

# one entry per primitive: name -> cases
CASES: dict[str, list[Case]] = {
    "exp": [Case(dg.exp, arr(2, 3))],
    "expm1": [Case(dg.expm1, arr(5, lo=-2, hi=2))],
    "log1p": [Case(dg.log1p, arr(2, 3, lo=-0.5, hi=2))],
    "log": [Case(dg.log, arr(2, 3, lo=0.2, hi=3))],
    "sqrt": [Case(dg.sqrt, arr(2, 3, lo=0.2, hi=3))],
    "sin": [Case(dg.sin, arr(5, lo=-3, hi=3))],
    "cos": [Case(dg.cos, arr(5, lo=-3, hi=3))],
    "tan": [Case(dg.tan, arr(5, lo=-1.2, hi=1.2))],
    "sinh": [Case(dg.sinh, arr(5, lo=-2, hi=2))],
    "cosh": [Case(dg.cosh, arr(5, lo=-2, hi=2))],
    "tanh": [Case(dg.tanh, arr(2, 3, lo=-2, hi=2))],
    "asin": [Case(dg.asin, arr(5, lo=-0.9, hi=0.9))],
    "acos": [Case(dg.acos, arr(5, lo=-0.9, hi=0.9))],
    "atan": [Case(dg.atan, arr(5, lo=-3, hi=3))],
    "asinh": [Case(dg.asinh, arr(5, lo=-3, hi=3))],
    "acosh": [Case(dg.acosh, arr(5, lo=1.2, hi=3))],
    "atanh": [Case(dg.atanh, arr(5, lo=-0.9, hi=0.9))],
    "erf": [Case(dg.erf, arr(5, lo=-2, hi=2))],
    "sign": [Case(lambda x, y: dg.sign(x) * y, away(5), arr(5))],
    "abs": [Case(dg.abs, away(2, 3))],
    "atan2": [
        Case(dg.atan2, arr(3, 1), away(4, seed=1), id="broadcast"),
        Case(dg.atan2, away(2, 3), arr(2, 3, seed=1)),
    ],
    "index_backward": [
        Case(lambda g: shape.index_grad(g, idx=(IDX,), shape=(4, 2), basic=False), arr(5, 2)),
        Case(lambda g: shape.index_grad(g, idx=(slice(1, 3),), shape=(4,), basic=True), arr(2)),
    ],
    "select": [
        Case(lambda x: x[1], arr(3, 4), id="int"),
        Case(lambda x: x[:, 1:3], arr(3, 4), id="slice"),
        Case(lambda x: x[..., None, -1], arr(2, 3, 4), id="ellipsis-none"),
        Case(lambda x: x[::2, 1], arr(3, 4), id="step"),
    ],
    "index": [
        Case(lambda x: x[IDX], arr(4, 3), id="repeated"),
        Case(lambda x: x[dg.tensor(MASK)], arr(3, 4), id="bool-mask"),
        Case(lambda x: x[[0, 0, 2], [1, 1, 3]], arr(3, 4), id="pairs-repeated"),
        Case(lambda x: x[dg.tensor(IDX[:3]), 1:], arr(4, 3), id="tensor-and-slice"),
        Case(lambda x: x[dg.tensor(MASK[0])], arr(4, 2), id="row-mask"),
    ],
    "index_put": [
        Case(onto(_setitem((slice(None), 1))), arr(3, 4), arr(3, seed=1), id="column"),
        Case(onto(_setitem(np.array([2, 0]))), arr(4, 3), arr(2, 3, seed=1), id="rows"),
        Case(onto(_setitem(dg.tensor(MASK))), arr(3, 4), arr(1, seed=1), id="mask-broadcast"),
        Case(onto(_setitem(1)), arr(3, 4), arr(4, seed=1), const=(1,), id="const-value"),
    ],
    "reshape": [
        Case(lambda x: x.reshape(3, 4), arr(2, 6)),
        Case(lambda x: x.flatten(), arr(2, 3, 2)),
        Case(lambda x: x.unsqueeze(1).squeeze(), arr(3, 4)),
        Case(lambda x: x.t().reshape(-1), arr(3, 4), id="non-contiguous"),
    ],
    "view": [Case(lambda x: x.view(6, 2), arr(3, 4)), Case(lambda x: x.view(-1), arr(2, 3))],
    "permute": [
        Case(lambda x: dg.avg_pool2d(x, 2), arr(1, 2, 4, 6), id="avg_pool2d-tiles"),
        Case(lambda x: x.permute(2, 0, 1), arr(2, 3, 4)),
        Case(lambda x: x.transpose(0, 2), arr(2, 3, 4)),
        Case(lambda x: x.T, arr(3, 4)),
        Case(lambda x: x.t(), arr(3, 4)),
    ],
    "expand": [
        Case(lambda x: x.expand(4, 3), arr(1, 3)),
        Case(lambda x: x.expand(2, -1, 5), arr(3, 1)),
    ],
    "sum_to_size": [
        Case(lambda x: shape.sum_to(x, (1, 3)), arr(4, 3)),
        Case(lambda x: shape.sum_to(x, (3,)), arr(2, 3)),
        Case(lambda x: shape.sum_to(x, (2, 1, 1)), arr(5, 2, 3, 4)),
    ],
    "clone": [Case(lambda x: x.clone() * x, arr(2, 3)), Case(dg.clone, arr(3))],
    "to_copy": [
        Case(lambda x: x.float().double() * x, arr(2, 3), eps=1e-3, atol=1e-4),
    ],
    "stack": [Case(lambda a, b: dg.stack([a, b, a], 1), arr(2, 3), arr(2, 3, seed=1))],
    "cat": [
        Case(lambda a, b: dg.cat([a, b], -1), arr(2, 3), arr(2, 1, seed=1)),
        Case(lambda a, b: dg.cat([a, b, a]), arr(2, 3), arr(1, 3, seed=1)),
    ],
    "sum": [
        Case(lambda x: x.sum(), arr(2, 3)),
        Case(lambda x: x.sum(1), arr(2, 3, 4)),
        Case(lambda x: x.sum((0, 2), keepdim=True), arr(2, 3, 4)),
        Case(lambda x: x.sum(-1, keepdim=True), arr(2, 3)),
        Case(lambda x: dg.sum(x, dim=(0, 1)), arr(2, 3)),
    ],
    "prod": [
        Case(lambda x: x.prod(), arr(2, 3, lo=0.5, hi=1.5)),
        Case(lambda x: x.prod(1), arr(2, 3, 2, lo=-2, hi=2)),
        Case(lambda x: x.prod(0, keepdim=True), arr(3, 2)),
        Case(lambda x: x.prod(1), np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5]]), id="zeros"),
        Case(lambda x: x.prod(), np.array([1.5, 0.0, -2.0]), id="zero-all"),
    ],
    "gather": [
        Case(lambda x: dg.max_pool2d(x, 2), spread(2, 2, 4, 4), id="max_pool2d-tiles"),
        Case(lambda x: dg.gather(x, 1, dg.tensor(GIDX)), arr(3, 4)),
        Case(lambda x: dg.gather(x, 0, dg.tensor(GIDX[:, :2].T % 3)), arr(3, 4)),
        Case(lambda x: x.max(1).values, spread(3, 4), id="max-dim"),
        Case(lambda x: x.min(-1, keepdim=True)[0], spread(2, 3, 4), id="min-dim"),
    ],
    "scatter_add": [
        Case(lambda g: reduce.scatter_add_p(g, dim=1, index=GIDX, shape=(3, 5)), arr(3, 3)),
        Case(lambda g: reduce.scatter_add_p(g, dim=0, index=GIDX, shape=(4, 3)), arr(3, 3)),
    ],
    "max": [
        Case(lambda x: x.max(), spread(3, 4)),
        Case(lambda x: dg.amax(x), spread(5)),
        Case(lambda x: x.amax((0, 2), keepdim=True), spread(2, 3, 4), id="dims-keepdim"),
        Case(lambda x: x.amax(-1), spread(2, 3, 4), id="dim"),
    ],
    "min": [
        Case(lambda x: x.min(), spread(3, 4)),
        Case(lambda x: dg.amin(x), spread(5)),
        Case(lambda x: x.amin((1, 2)), spread(2, 3, 4), id="dims"),
    ],
    "cumsum": [Case(lambda x: x.cumsum(1), arr(2, 4)), Case(lambda x: dg.cumsum(x, 0), arr(3))],
    "flip": [Case(lambda x: x.flip(0), arr(3, 2)), Case(lambda x: dg.flip(x, (0, -1)), arr(3, 2))],
    "relu": [Case(dg.relu, away(3, 4))],
    "sigmoid": [Case(dg.sigmoid, arr(3, 4, lo=-3, hi=3))],
    "softmax": [
        Case(lambda x: dg.softmax(x, 1), arr(3, 4, lo=-2, hi=2)),
        Case(lambda x: dg.softmax(x, dim=0), arr(3, 4, lo=-2, hi=2)),
    ],
    "log_softmax": [
        Case(lambda x: dg.log_softmax(x, -1), arr(3, 4, lo=-2, hi=2)),
        Case(lambda x: dg.log_softmax(x, 0), arr(2, 3, 2, lo=-2, hi=2)),
    ],
    "where": [
        Case(lambda a, b: dg.where(dg.tensor(MASK), a, b), arr(3, 4), arr(3, 4, seed=1)),
        Case(lambda a, b: dg.where(dg.tensor(MASK), a, b), arr(3, 1), arr(4, seed=1), id="bcast"),
    ],
    "maximum": [
        Case(dg.maximum, spread(3, 4), spread(3, 4, seed=5)),
        Case(dg.maximum, spread(3, 1), spread(4, seed=5), id="broadcast"),
    ],
    "minimum": [
        Case(dg.minimum, spread(3, 4), spread(3, 4, seed=5)),
        Case(dg.minimum, spread(3, 1), spread(4, seed=5), id="broadcast"),
    ],
    "clamp": [
        Case(lambda x: dg.clamp(x, -0.5, 0.5), spread(3, 4, gap=0.13, seed=2)),
        Case(lambda x: x.clamp(min=0.05), spread(3, 4, gap=0.13, seed=2)),
        Case(lambda x: x.clamp(max=0.05), spread(3, 4, gap=0.13, seed=2)),
    ],
    "add": [
        Case(lambda a, b: a + b, arr(3, 1), arr(4, seed=1), id="broadcast"),
        Case(lambda a, b: a + b, arr(2, 3, 4), arr(3, 1, seed=1), id="broadcast-3d"),
        Case(lambda a: 2.5 + a, arr(3)),
        Case(lambda a, b: a + b, arr(3, 2), arr(seed=1), id="0-d"),
    ],
    "sub": [
        Case(lambda a, b: a - b, arr(3, 1), arr(4, seed=1)),
        Case(lambda a: 1.5 - a, arr(3)),
    ],
    "mul": [
        Case(lambda a, b: a * b, arr(3, 1), arr(4, seed=1)),
        Case(lambda a, b: a * b, arr(2, 1, 3), arr(4, 1, seed=1)),
        Case(lambda a: a * 3.0, arr(3)),
    ],
    "mul_adjoint": [  # the transposed product, on reals the product (with broadcasting)
        Case(lambda a, b: mul_adjoint(a, b), arr(3, 1), arr(4, seed=1)),
    ],
    "div": [
        Case(lambda a, b: a / b, arr(3, 1), away(4, seed=1)),
        Case(lambda a: 2.0 / a, away(3)),
        Case(lambda a: a / 4, arr(3)),
    ],
    "neg": [Case(lambda a: -a, arr(2, 3))],
    "pow": [
        Case(lambda a: a**3, arr(2, 3)),
        Case(lambda a: a**2.5, arr(2, 3, lo=0.2, hi=2)),
        Case(lambda a: a**-1.5, arr(2, 3, lo=0.2, hi=2)),
        Case(lambda a, b: a**b, arr(3, 1, lo=0.2, hi=2), arr(4, seed=1), id="tensor-exponent"),
        Case(lambda b: 2.0**b, arr(4), id="number-base"),
        Case(lambda a: dg.pow(a, 0), arr(3), id="zero-exponent"),
    ],
    "fill": [
        Case(lambda x, y: onto(lambda h: h.fill_(2.0))(x) * y, arr(3), arr(3, seed=1)),
        Case(lambda x, y: onto(lambda h: h.zero_())(x) + y, arr(3), arr(3, seed=1)),
    ],
    "copy": [Case(onto(lambda h, s: h.copy_(s)), arr(2, 3), arr(3, seed=1))],
    "matmul": [
        Case(dg.matmul, arr(3), arr(3, seed=1), id="1d-1d"),
        Case(dg.matmul, arr(2, 3), arr(3, seed=1), id="2d-1d"),
        Case(dg.matmul, arr(3), arr(3, 2, seed=1), id="1d-2d"),
        Case(dg.matmul, arr(2, 3), arr(3, 4, seed=1), id="2d-2d"),
        Case(dg.matmul, arr(2, 2, 3), arr(2, 3, 4, seed=1), id="batched"),
        Case(dg.matmul, arr(2, 1, 2, 3), arr(3, 3, 2, seed=1), id="batch-broadcast"),
        Case(dg.matmul, arr(3), arr(2, 3, 2, seed=1), id="1d-3d"),
        Case(dg.matmul, arr(2, 2, 3), arr(3, seed=1), id="3d-1d"),
        Case(dg.mm, arr(2, 3), arr(3, 2, seed=1), id="mm"),
        Case(dg.mv, arr(2, 3), arr(3, seed=1), id="mv"),
        Case(dg.bmm, arr(2, 2, 3), arr(2, 3, 2, seed=1), id="bmm"),
        Case(dg.dot, arr(4), arr(4, seed=1), id="dot"),
    ],
    "addmm": [
        Case(dg.linear, arr(4, 3), arr(2, 3, seed=1), arr(2, seed=2)),
        Case(dg.linear, arr(2, 2, 3), arr(2, 3, seed=1), arr(2, seed=2), id="3d-input"),
        Case(lambda x, w: dg.linear(x, w), arr(4, 3), arr(2, 3, seed=1), id="no-bias"),
    ],
    "mse_loss": [
        Case(
            lambda a, b: PRIMITIVES["mse_loss"](a, b, reduction="mean"),
            arr(3, 4),
            arr(3, 4, seed=1),
        ),  # fmt: skip
        Case(lambda a, b: PRIMITIVES["mse_loss"](a, b, reduction="sum"), arr(5), arr(5, seed=1)),
    ],
    "cross_entropy": [
        Case(
            lambda a: PRIMITIVES["cross_entropy"](a, np.array([0, 3, 3]), reduction="mean"),
            arr(3, 4, lo=-2, hi=2),
        ),  # fmt: skip
        Case(
            lambda a: PRIMITIVES["cross_entropy"](a, np.array([1, 0]), reduction="sum"),
            arr(2, 3, lo=-2, hi=2),
        ),  # fmt: skip
    ],
    "nll_loss": [
        Case(
            lambda a: PRIMITIVES["nll_loss"](a, np.array([0, 3, 3]), reduction="mean"), arr(3, 4)
        ),  # fmt: skip
        Case(lambda a: PRIMITIVES["nll_loss"](a, np.array([2, 0]), reduction="sum"), arr(2, 3)),
    ],
    "im2row": [
        Case(
            lambda x, w, b: dg.conv2d(x, w, b),
            arr(2, 2, 5, 5),
            arr(3, 2, 3, 3, seed=1),
            arr(3, seed=2),
        ),  # fmt: skip
        Case(
            lambda x, w: dg.conv2d(x, w, None, stride=2, padding=1),
            arr(1, 2, 5, 4),
            arr(2, 2, 3, 2, seed=1),
            id="stride-padding",
        ),  # fmt: skip
        Case(lambda x: dg.max_pool2d(x, 2, stride=1), spread(2, 2, 4, 4), id="max_pool2d"),
        Case(
            lambda x: dg.max_pool2d(x, 3, stride=2, padding=1),
            spread(1, 2, 5, 5),
            id="max_pool2d-padding",
        ),  # fmt: skip
        Case(lambda x: dg.avg_pool2d(x, 2, stride=1), arr(1, 2, 3, 4), id="avg_pool2d"),
        Case(lambda x: conv.unfold(x, 2, stride=1, padding=1), arr(1, 2, 3, 3), id="unfold"),
    ],
    "row2im": [
        Case(
            lambda r: conv.row2im(r, k=(2, 2), stride=(1, 1), padding=(0, 0), shape=(1, 2, 3, 3)),
            arr(1, 2, 2, 8),
        ),  # fmt: skip
        Case(
            lambda r: conv.row2im(r, k=(3, 2), stride=(2, 1), padding=(1, 1), shape=(1, 1, 4, 3)),
            arr(1, 2, 4, 6),
        ),  # fmt: skip
    ],
}


def _case_params():
    for name, cases in CASES.items():
        for k, c in enumerate(cases):
            yield pytest.param(name, c, id=f"{name}-{c.id or k}")


def test_every_primitive_has_a_case():
    real = {n for n, p in PRIMITIVES.items() if p.real is not None and p.vjp is not None}
    missing = sorted(real - CASES.keys())
    assert not missing, f"primitives with a VJP but no gradcheck case: {missing}"
    assert not sorted(CASES.keys() - real), "cases for primitives that do not exist"


@pytest.mark.parametrize("name,case", list(_case_params()))
def test_gradcheck(name, case):
    xs = case.inputs()
    out = case.fn(*xs)
    assert name in prims_in_graph(out), f"the case does not run {name}"
    assert dg.autograd.gradcheck(case.fn, xs, eps=case.eps, atol=case.atol, rtol=case.rtol)


# Composite functions (written with primitives) and their values against PyTorch.
F = torch.nn.functional
COMPOSITES = [
    ("mean", lambda x: x.mean(1), lambda x: x.mean(1), arr(3, 4)),
    (
        "mean-keepdim",
        lambda x: x.mean((0, 2), keepdim=True),
        lambda x: x.mean((0, 2), keepdim=True),
        arr(2, 3, 4),
    ),  # fmt: skip
    ("var", lambda x: x.var(1), lambda x: x.var(1), arr(3, 4)),
    (
        "var-biased",
        lambda x: x.var(0, unbiased=False),
        lambda x: x.var(0, unbiased=False),
        arr(3, 4),
    ),  # fmt: skip
    ("std", lambda x: x.std(), lambda x: x.std(), arr(3, 4)),
    (
        "std-keepdim",
        lambda x: x.std(-1, keepdim=True),
        lambda x: x.std(-1, keepdim=True),
        arr(3, 4),
    ),  # fmt: skip
    ("logsumexp", lambda x: dg.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), arr(3, 4)),
    ("norm", lambda x: x.norm(), lambda x: x.norm(), arr(3, 4)),
    ("gelu", dg.ops.gelu, F.gelu, arr(6, lo=-3, hi=3)),
    (
        "gelu-tanh",
        lambda x: dg.ops.gelu(x, "tanh"),
        lambda x: F.gelu(x, approximate="tanh"),
        arr(6, lo=-3, hi=3),
    ),  # fmt: skip
    ("elu", dg.ops.elu, F.elu, away(6)),
    ("silu", dg.ops.silu, F.silu, arr(6, lo=-3, hi=3)),
    ("softplus", dg.ops.softplus, F.softplus, arr(6, lo=-3, hi=3)),
    (
        "softplus-beta",
        lambda x: dg.ops.softplus(x, 2.0),
        lambda x: F.softplus(x, 2.0),
        arr(6, lo=-3, hi=3),
    ),  # fmt: skip
    ("leaky_relu", lambda x: dg.ops.leaky_relu(x, 0.1), lambda x: F.leaky_relu(x, 0.1), away(6)),
    ("hypot", lambda x: dg.ops.hypot(x, x * 2 + 1), lambda x: torch.hypot(x, x * 2 + 1), arr(5)),
    (
        "masked_fill",
        lambda x: x.masked_fill(dg.tensor(MASK), 0.5),
        lambda x: x.masked_fill(torch.from_numpy(MASK), 0.5),
        arr(3, 4),
    ),  # fmt: skip
    (
        "square-rsqrt",
        lambda x: x.square() + x.rsqrt(),
        lambda x: x.square() + x.rsqrt(),
        arr(4, lo=0.3, hi=2),
    ),  # fmt: skip
    (
        "log1p-expm1",
        lambda x: x.log1p() * x.expm1(),
        lambda x: x.log1p() * x.expm1(),
        arr(4, lo=-0.5, hi=2),
    ),  # fmt: skip
    (
        "split",
        lambda x: dg.split(x, 2, 1)[1] * 2,
        lambda x: torch.split(x, 2, 1)[1] * 2,
        arr(3, 5),
    ),  # fmt: skip
    (
        "chunk",
        lambda x: dg.chunk(x, 2, 0)[0].sum(0),
        lambda x: torch.chunk(x, 2, 0)[0].sum(0),
        arr(3, 5),
    ),  # fmt: skip
]


@pytest.mark.parametrize("name,f,tf,x", COMPOSITES, ids=[c[0] for c in COMPOSITES])
def test_composites_gradcheck_and_torch(name, f, tf, x):
    a = dg.tensor(x.copy(), requires_grad=True)
    assert dg.autograd.gradcheck(f, (a,))
    y = f(a)
    t = torch.from_numpy(x.copy()).requires_grad_()
    yt = tf(t)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(3).standard_normal(yt.shape)
    y.backward(dg.tensor(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


# Gradients against PyTorch's on the same inputs, ties and kinks included.
@pytest.mark.parametrize(
    "f,tf,arrays",
    [
        (
            lambda a, b: a * b + a / (b * b + 1),
            lambda a, b: a * b + a / (b * b + 1),
            (arr(3, 1), arr(4, seed=1)),
        ),  # fmt: skip
        (
            lambda a, b: dg.atan2(a, b) + a ** b.abs(),
            lambda a, b: torch.atan2(a, b) + a ** b.abs(),
            (arr(2, 3, lo=0.2, hi=1), away(3, seed=1)),
        ),  # fmt: skip
        (
            lambda x: x[IDX].sum(0) + x[[0, 0], [1, 1]].sum(),
            lambda x: x[IDX].sum(0) + x[[0, 0], [1, 1]].sum(),
            (arr(4, 3),),
        ),  # fmt: skip
        (lambda x: x[dg.tensor(MASK)] * 3, lambda x: x[torch.from_numpy(MASK)] * 3, (arr(3, 4),)),
        (
            lambda x, w, b: dg.conv2d(x, w, b, stride=2, padding=1),
            lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
            (arr(2, 3, 6, 5), arr(4, 3, 3, 3, seed=1), arr(4, seed=2)),
        ),  # fmt: skip
        (lambda x: dg.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2), (spread(2, 3, 4, 6),)),
        (
            lambda x: dg.max_pool2d(x, 3, 2, 1),
            lambda x: F.max_pool2d(x, 3, 2, 1),
            (spread(1, 2, 5, 6),),
        ),  # fmt: skip
        (lambda x: dg.avg_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2), (arr(2, 3, 4, 6),)),
        (
            lambda x: dg.ops.unfold(x, 2, 1, 1),
            lambda x: F.unfold(x, 2, padding=1, stride=1),
            (arr(2, 2, 3, 4),),
        ),  # fmt: skip
        (lambda a, b: a @ b, lambda a, b: a @ b, (arr(2, 1, 2, 3), arr(3, 3, 2, seed=1))),
        (lambda a, b: a @ b, lambda a, b: a @ b, (arr(3), arr(2, 3, 2, seed=1))),
        (lambda x, w, b: dg.linear(x, w, b), F.linear, (arr(2, 4, 3), arr(5, 3), arr(5))),
        (
            lambda x: dg.gather(x, 1, dg.tensor(GIDX)),
            lambda x: torch.gather(x, 1, torch.from_numpy(GIDX)),
            (arr(3, 4),),
        ),  # fmt: skip
        (
            lambda x: x.prod(1),
            lambda x: x.prod(1),
            (np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, -1.0]]),),
        ),  # fmt: skip
        (lambda x: x.cumsum(0).flip(1), lambda x: x.cumsum(0).flip(1), (arr(3, 4),)),
        (
            lambda x: dg.softmax(x, 0) * dg.log_softmax(x, 1),
            lambda x: torch.softmax(x, 0) * torch.log_softmax(x, 1),
            (arr(3, 4),),
        ),  # fmt: skip
        (
            lambda x: x.clamp(-0.3, 0.4) + dg.relu(x) + dg.sigmoid(x),
            lambda x: x.clamp(-0.3, 0.4) + torch.relu(x) + torch.sigmoid(x),
            (away(3, 4),),
        ),
        (
            lambda a, b: dg.maximum(a, b) - dg.minimum(a, b),
            lambda a, b: torch.maximum(a, b) - torch.minimum(a, b),
            (np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])),
        ),  # ties split as PyTorch
        (
            lambda x: x.max() + x.min(),
            lambda x: x.max() + x.min(),
            (np.array([[1.0, 3.0], [3.0, -2.0]]),),
        ),  # ties share the gradient, as PyTorch
        (
            lambda x: x.max(1).values + x.min(0)[0].sum(),
            lambda x: x.max(1).values + x.min(0)[0].sum(),
            (spread(3, 4),),
        ),  # fmt: skip
        (
            lambda x: dg.stack([x, x * 2], 2).permute(2, 0, 1).reshape(4, 3),
            lambda x: torch.stack([x, x * 2], 2).permute(2, 0, 1).reshape(4, 3),
            (arr(2, 3),),
        ),
        (
            lambda x: x.expand(2, 3, 4).transpose(0, 2).sum(1),
            lambda x: x.expand(2, 3, 4).transpose(0, 2).sum(1),
            (arr(3, 1),),
        ),  # fmt: skip
        (
            lambda x: x.abs().sqrt().log().exp() * x.sign(),
            lambda x: x.abs().sqrt().log().exp() * x.sign(),
            (away(5),),
        ),  # fmt: skip
    ],
)
def test_gradients_match_torch(f, tf, arrays):
    xs = [dg.tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    y, yt = f(*xs), tf(*ts)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(7).standard_normal(yt.shape)
    y.backward(dg.tensor(g))
    yt.backward(torch.from_numpy(g))
    for x, t in zip(xs, ts, strict=True):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------ second derivatives
GRADGRAD = [
    ("mul", lambda a, b: a * b * a, (arr(3, 1), arr(4, seed=1))),
    ("div", lambda a, b: a / b, (arr(3, 1), away(4, seed=1))),
    ("exp", dg.exp, (arr(2, 3),)),
    ("tanh", dg.tanh, (arr(2, 3, lo=-2, hi=2),)),
    ("sigmoid", dg.sigmoid, (arr(2, 3, lo=-3, hi=3),)),
    ("softmax", lambda x: dg.softmax(x, 1), (arr(2, 4),)),
    ("log_softmax", lambda x: dg.log_softmax(x, 0), (arr(3, 2),)),
    ("matmul", dg.matmul, (arr(2, 3), arr(3, 2, seed=1))),
    ("matmul-batched", dg.matmul, (arr(2, 1, 3), arr(2, 3, 2, seed=1))),
    ("matmul-1d", dg.matmul, (arr(3), arr(2, 3, 2, seed=1))),
    (
        "conv2d",
        lambda x, w: dg.conv2d(x, w, stride=2, padding=1),
        (arr(1, 2, 4, 4), arr(2, 2, 3, 3, seed=1)),
    ),  # fmt: skip
    ("getitem", lambda x: x[IDX][1:3] * x[1:3, None, 1] * x[1], (arr(4, 3),)),
    ("getitem-mask", lambda x: x[dg.tensor(MASK)] ** 2, (arr(3, 4),)),
    ("pow", lambda a, b: a**b + a**3, (arr(3, lo=0.3, hi=2), arr(3, seed=1))),
    ("linear", dg.linear, (arr(2, 3), arr(4, 3, seed=1), arr(4, seed=2))),
    ("gather-max", lambda x: x.max(1).values ** 2, (spread(3, 4),)),
    ("sqrt-log", lambda x: dg.sqrt(x) * dg.log(x), (arr(4, lo=0.3, hi=2),)),
]


@pytest.mark.parametrize("name,f,arrays", GRADGRAD, ids=[g[0] for g in GRADGRAD])
def test_gradgradcheck(name, f, arrays):
    xs = tuple(dg.tensor(a.copy(), requires_grad=True) for a in arrays)
    assert dg.autograd.gradgradcheck(f, xs)


@pytest.mark.parametrize("name,f,arrays", GRADGRAD[:12], ids=[g[0] for g in GRADGRAD[:12]])
def test_hessian_vector_products_match_torch(name, f, arrays):
    """grad of (grad(f)·v) with create_graph, against torch.autograd.grad on the same inputs."""
    tfs = {
        "mul": lambda a, b: a * b * a, "div": lambda a, b: a / b, "exp": torch.exp,
        "tanh": torch.tanh, "sigmoid": torch.sigmoid, "softmax": lambda x: torch.softmax(x, 1),
        "log_softmax": lambda x: torch.log_softmax(x, 0), "matmul": torch.matmul,
        "matmul-batched": torch.matmul, "matmul-1d": torch.matmul,
        "conv2d": lambda x, w: F.conv2d(x, w, stride=2, padding=1),
        "getitem": lambda x: x[IDX][1:3] * x[1:3, None, 1] * x[1],
    }  # fmt: skip
    xs = [dg.tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    y, yt = f(*xs), tfs[name](*ts)
    rng = np.random.default_rng(11)
    w = rng.standard_normal(yt.shape)
    gs = dg.autograd.grad((y * dg.tensor(w)).sum(), xs, create_graph=True)
    gts = torch.autograd.grad((yt * torch.from_numpy(w)).sum(), ts, create_graph=True)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    s = sum((g * dg.tensor(v)).sum() for g, v in zip(gs, vs, strict=True))
    st = sum((g * torch.from_numpy(v)).sum() for g, v in zip(gts, vs, strict=True))
    hs = dg.autograd.grad(s, xs, allow_unused=True)
    hts = torch.autograd.grad(st, ts, allow_unused=True)
    for h, ht in zip(hs, hts, strict=True):
        if ht is None:
            assert h is None or np.allclose(h.numpy(), 0)
        else:
            np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-10, atol=1e-12)


def test_third_derivative_of_polynomial():
    x = dg.tensor(1.5, dtype=dg.float64, requires_grad=True)
    y = x**5 - 3 * x**2
    (d1,) = dg.autograd.grad(y, x, create_graph=True)
    (d2,) = dg.autograd.grad(d1, x, create_graph=True)
    (d3,) = dg.autograd.grad(d2, x)
    assert math.isclose(d1.item(), 5 * 1.5**4 - 6 * 1.5, rel_tol=1e-14)
    assert math.isclose(d2.item(), 20 * 1.5**3 - 6, rel_tol=1e-14)
    assert math.isclose(d3.item(), 60 * 1.5**2, rel_tol=1e-14)


# ---------------------------------------------------------- tape semantics
def pair(values=(1.0, 2.0, 3.0), dtype=np.float64):
    """The same leaf requiring grad in diffalg and in torch."""
    a = np.array(values, dtype=dtype)
    return dg.tensor(a.copy(), requires_grad=True), torch.from_numpy(a.copy()).requires_grad_()


def same_grad(ours, theirs, rtol=1e-12):
    assert (ours is None) == (theirs is None), (ours, theirs)
    if ours is not None:
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol)


def test_requires_grad_propagation():
    x, xt = pair()
    c = dg.tensor([1.0, 1.0, 1.0], dtype=dg.float64)
    for f in (lambda x, c: x * c, lambda x, c: c + x, lambda x, c: x[0], lambda x, c: x.sum()):
        assert f(x, c).requires_grad == f(xt, torch.from_numpy(c.numpy())).requires_grad
    assert not (c * 2).requires_grad
    assert not (x > 1).requires_grad and not x.argmax().requires_grad
    assert (x > 1).dtype == dg.bool and x.argmax().dtype == dg.int64
    assert not x.detach().requires_grad and x.detach().is_leaf
    with dg.no_grad():
        assert not (x * 2).requires_grad and (x * 2).grad_fn is None
    assert x.is_leaf and not (x * 2).is_leaf and dg.tensor([1.0]).is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        dg.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


GRAD_FN_NAMES = [
    lambda x: x * 2, lambda x: x + 1, lambda x: x - x, lambda x: x / 3, lambda x: -x,
    lambda x: x**2, lambda x: x.exp(), lambda x: x.log(), lambda x: x.sqrt(), lambda x: x.sin(),
    lambda x: x.cos(), lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x.relu(),
    lambda x: x.abs(), lambda x: x.sum(), lambda x: x.sum(0), lambda x: x.prod(),
    lambda x: x[0], lambda x: x[[0, 1]], lambda x: x.view(3, 1), lambda x: x.expand(2, 3),
    lambda x: x.reshape(3, 1).permute(1, 0), lambda x: x.unsqueeze(0).expand(2, 3).sum(0),
    lambda x: x.softmax(0), lambda x: x.log_softmax(0), lambda x: x.cumsum(0),
    lambda x: x.flip(0), lambda x: x.clone(), lambda x: x.float(), lambda x: x.clamp(0, 1),
    lambda x: x.max(), lambda x: x.amax(0),
]  # fmt: skip


@pytest.mark.parametrize("f", GRAD_FN_NAMES, ids=range(len(GRAD_FN_NAMES)))
def test_grad_fn_names_match_torch(f):
    x, xt = pair()
    ours, theirs = f(x).grad_fn.name(), type(f(xt).grad_fn).__name__
    if f is GRAD_FN_NAMES[-1]:
        theirs = "MaxBackward0"  # amax is our max primitive with dims
    # torch numbers overloads (sum(dim) is SumBackward1); one primitive here is Backward0
    assert ours == theirs[:-1] + "0"
    assert repr(f(x).grad_fn).startswith(f"<{ours} object")


def _structure(node):
    """Names of a node and, recursively, of its next_functions (``None`` for no gradient)."""
    if node is None:
        return None
    name = node.name().replace("torch::autograd::", "")
    return (name, tuple(_structure(n) for n, _ in node.next_functions))


def test_next_functions_structure_matches_torch():
    x, xt = pair()
    w, wt = pair((0.5, -1.0, 2.0))

    def f(x, w, m):
        return (m.tanh(x * w + 1.0) * 2).sum()

    y, yt = f(x, w, dg), f(xt, wt, torch)
    assert _structure(y.grad_fn) == _structure(yt.grad_fn)
    assert _structure(y.grad_fn)[0] == "SumBackward0"
    node, names = y.grad_fn, []
    while node.next_functions:
        names.append(node.name())
        node = node.next_functions[0][0]
    assert names == [
        "SumBackward0",
        "MulBackward0",
        "TanhBackward0",
        "AddBackward0",
        "MulBackward0",
    ]
    leaf = node
    assert leaf.name() == "AccumulateGrad" and leaf.variable is x
    z, zt = (x * 2).sum(), (xt * 2).sum()  # a constant operand has no edge
    assert _structure(z.grad_fn) == _structure(zt.grad_fn)
    assert z.grad_fn.next_functions[0][0].next_functions[1] == (None, 0)


def test_grad_accumulates_over_two_backward_calls():
    x, xt = pair()
    y, yt = (x * x * x).sum(), (xt * xt * xt).sum()
    y.backward(retain_graph=True)
    yt.backward(retain_graph=True)
    y.backward()
    yt.backward()
    same_grad(x.grad, xt.grad)
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 2.0, 3.0]) ** 2)
    g = x.grad
    (x * 2).sum().backward()  # accumulates into the same tensor
    assert x.grad is g
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 4.0, 9.0]) + 2)
    x.grad.zero_()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])
    assert not x.grad.requires_grad and x.grad.dtype == dg.float64


def test_backward_with_gradient_for_non_scalar():
    x, xt = pair()
    v = np.array([1.0, -2.0, 0.5])
    (x * x).backward(gradient=dg.tensor(v))
    (xt * xt).backward(gradient=torch.from_numpy(v))
    same_grad(x.grad, xt.grad)
    dg.autograd.backward([x.sum(), (x * 2).sum()], [dg.tensor(2.0, dtype=dg.float64), None])
    np.testing.assert_allclose(x.grad.numpy(), 2 * v * [1, 2, 3] + 2 + 2)
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(dg.tensor([1.0, 2.0], dtype=dg.float64))


def test_non_scalar_backward_without_gradient_raises():
    x, xt = pair()
    with pytest.raises(RuntimeError) as theirs:
        (xt * 2).backward()
    with pytest.raises(RuntimeError) as ours:
        (x * 2).backward()
    assert "grad can be implicitly created only for scalar outputs" in str(theirs.value)
    assert "grad can be implicitly created only for scalar outputs" in str(ours.value)
    assert "(3,)" in str(ours.value)


def test_second_backward_through_freed_graph_raises():
    x, xt = pair()
    y, yt = (x * x).sum(), (xt * xt).sum()
    y.backward()
    yt.backward()
    with pytest.raises(RuntimeError, match="second time"):
        yt.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        dg.tensor(1.0).backward()


def test_autograd_grad_higher_order_closed_form():
    for v in (2.0, -1.5, 0.3):
        x, xt = pair(v)
        y, yt = 2 * x**3 + 5 * x**2 + 8, 2 * xt**3 + 5 * xt**2 + 8
        (d1,) = dg.autograd.grad(y, x, create_graph=True)
        (d1t,) = torch.autograd.grad(yt, xt, create_graph=True)
        assert d1.requires_grad and d1.grad_fn is not None
        (d2,) = dg.autograd.grad(d1, x)
        (d2t,) = torch.autograd.grad(d1t, xt)
        assert math.isclose(d1.item(), 6 * v * v + 10 * v, rel_tol=1e-14)
        assert math.isclose(d2.item(), 12 * v + 10, rel_tol=1e-14)
        same_grad(d1, d1t)
        same_grad(d2, d2t)
        assert x.grad is None  # grad() returns, it does not accumulate
        assert not d2.requires_grad


def test_autograd_grad_allow_unused_and_grad_outputs():
    x, _ = pair()
    z, _ = pair((4.0,))
    with pytest.raises(RuntimeError, match="allow_unused"):
        dg.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = dg.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2, 2, 2])
    assert gz is None
    _, gz0 = dg.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    np.testing.assert_array_equal(gz0.numpy(), [0.0])
    (g,) = dg.autograd.grad(x * x, x, grad_outputs=dg.tensor([1.0, 0.0, 2.0], dtype=dg.float64))
    np.testing.assert_allclose(g.numpy(), [2.0, 0.0, 12.0])


def test_grad_mode_context_managers_and_decorators():
    x, _ = pair()
    assert dg.is_grad_enabled()
    with dg.no_grad():
        assert not dg.is_grad_enabled() and not (x * 2).requires_grad
        with dg.enable_grad():
            assert dg.is_grad_enabled() and (x * 2).requires_grad
        assert not dg.is_grad_enabled()
    assert dg.is_grad_enabled()
    with dg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with dg.set_grad_enabled(True):
            assert (x * 2).requires_grad
    assert dg.is_grad_enabled()

    @dg.no_grad()
    def f(v):
        return v * 2

    @dg.no_grad
    def f_bare(v):
        """Doc kept."""
        return v * 2

    @dg.enable_grad()
    def g(v):
        return v * 2

    @dg.set_grad_enabled(False)
    def h(v):
        return v * 2

    assert dg.is_grad_enabled()  # decorating switches nothing
    assert not f(x).requires_grad and not f_bare(x).requires_grad and not h(x).requires_grad
    assert f_bare.__doc__ == "Doc kept."
    with dg.no_grad():
        assert g(x).requires_grad
    assert dg.is_grad_enabled()
    try:
        with dg.no_grad():
            raise KeyError
    except KeyError:
        pass
    assert dg.is_grad_enabled()  # restored after an exception
    dg.set_grad_enabled(False)
    assert not dg.is_grad_enabled()
    dg.set_grad_enabled(True)
    assert dg.is_grad_enabled()


def test_detach_and_data():
    x, xt = pair()
    d, dt = x.detach(), xt.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d[0] = 10.0  # shares memory ...
    dt[0] = 10.0
    assert x[0].item() == 10.0 == xt[0].item()
    assert x._version == xt._version == 1  # ... and the version counter
    y, yt = x.exp(), xt.exp()
    d.add_(1)
    dt.add_(1)
    y.sum().backward()  # exp saved its output, not x: still fine
    yt.sum().backward()
    same_grad(x.grad, xt.grad)
    x2, xt2 = pair()
    s, st = x2 * x2, xt2 * xt2  # mul saved x2
    x2.detach().mul_(2)
    xt2.detach().mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        st.sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()
    x3, _ = pair()
    q = x3 * x3
    x3.data.mul_(2)  # .data: same memory, but invisible to the tape
    assert x3._version == 0 and not x3.data.requires_grad
    q.sum().backward()
    np.testing.assert_allclose(x3.grad.numpy(), [4.0, 8.0, 12.0])
    x3.data = dg.tensor([7.0, 8.0, 9.0], dtype=dg.float64)
    assert x3.requires_grad and x3.tolist() == [7.0, 8.0, 9.0]


def test_retain_grad_on_intermediates():
    x, xt = pair()
    h, ht = x * 2, xt * 2
    h.retain_grad()
    ht.retain_grad()
    assert h.retains_grad
    u, ut = h * h, ht * ht  # not retained
    (u.sum() + h.sum()).backward()
    (ut.sum() + ht.sum()).backward()
    same_grad(h.grad, ht.grad)
    same_grad(x.grad, xt.grad)
    assert u.grad is None
    x.retain_grad()  # a no-op on leaves


def test_register_hook_on_leaves_and_non_leaves():
    x, xt = pair()
    seen = []
    for m, t in ((dg, x), (torch, xt)):
        h = t * 2
        hook = h.register_hook(lambda g: g * 10)  # non-leaf: changes what flows on
        leaf = t.register_hook(lambda g: g + 1)  # leaf: changes what is accumulated
        spy = h.register_hook(lambda g, m=m: seen.append((m.__name__, g.detach().numpy().copy())))
        (h * h).sum().backward(retain_graph=True)
        hook.remove()
        leaf.remove()
        spy.remove()
        (t * h).sum().backward()  # no hooks now
    same_grad(x.grad, xt.grad)
    np.testing.assert_allclose(
        x.grad.numpy(), 10 * 2 * 2 * 2 * np.array([1, 2, 3]) + 1 + 4 * np.array([1, 2, 3])
    )
    assert len(seen) == 2 and np.allclose(seen[0][1], seen[1][1])
    with pytest.raises(RuntimeError, match="require"):
        dg.tensor([1.0]).register_hook(lambda g: g)


def test_hook_runs_once_with_the_summed_gradient():
    x, _ = pair()
    h = x * 1
    calls = []
    h.register_hook(lambda g: calls.append(g.numpy().copy()))
    (h + h * 3).sum().backward()
    assert len(calls) == 1 and np.allclose(calls[0], 4.0)


# ------------------------------------------------------- in place on the tape
def test_modified_input_raises_on_backward():
    for m in (dg, torch):
        a = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = m.tensor([4.0, 5.0, 6.0], requires_grad=True)
        x = a * 1  # a non-leaf
        y = x * w
        x.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    x, _ = pair()
    y = x.exp()
    y.add_(1)  # exp saved its output
    with pytest.raises(RuntimeError, match="version 1; expected version 0"):
        y.sum().backward()


def test_tape_keeps_buffers_not_tensors():
    # a node keeps its arguments' buffers and remakes the tensors at backward time:
    # intermediate tensors go away, first and second derivatives stay right
    import gc
    import weakref

    x = dg.tensor([0.5, -1.5], dtype=dg.float64, requires_grad=True)
    h = x * x
    gone = weakref.ref(h)
    y = (h * x).sum()  # x**3
    del h
    gc.collect()
    assert gone() is None
    (g,) = dg.autograd.grad(y, x, create_graph=True)
    assert np.allclose(g.detach().numpy(), 3 * np.array([0.5, -1.5]) ** 2)
    g.sum().backward()
    assert np.allclose(x.grad.numpy(), 6 * np.array([0.5, -1.5]))
    # one tracked object per recorded call: the node itself
    a = dg.tensor([1.0, 2.0], dtype=dg.float64, requires_grad=True)
    gc.collect()
    before = len(gc.get_objects())
    t = a
    for _ in range(200):
        t = t * a + 1.0
    gc.collect()
    assert len(gc.get_objects()) - before < 450


def test_write_through_a_later_view_is_seen_by_earlier_saves():
    # x is saved before any view of it exists (its counter is made only when the view
    # is taken); a write through that view must still stale the save, as in PyTorch
    for m in (dg, torch):
        a = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = a * 1
        y = x * a
        x[1:].mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    x = dg.tensor([1.0, 2.0])
    x.add_(1)
    x.add_(1)  # saved at version 2: only later writes count
    w = dg.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    y.sum().backward(retain_graph=True)
    assert np.array_equal(w.grad.numpy(), [3.0, 4.0])
    x.mul_(2)
    with pytest.raises(RuntimeError, match="version 3; expected version 2"):
        y.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    for m in (dg, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        for op in (
            lambda x, m: x.add_(1),
            lambda x, m: x.__setitem__(0, 5.0),
            lambda x, m: x[0].mul_(2),
            lambda x, m: x.zero_(),
            lambda x, m: x.copy_(m.ones(2)),
        ):
            with pytest.raises(RuntimeError, match="leaf"):
                op(x, m)
        with m.no_grad():
            x.add_(1)  # what optimisers do
        assert x.tolist() == [2.0, 3.0]


def _run_both(f, values=(1.0, 2.0, 3.0), tf=None):
    """``f`` in both libraries (or ``tf`` in torch, for what torch refuses to do in place)."""
    x, xt = pair(values)
    out, outt = f(x, dg), (tf or f)(xt, torch)
    np.testing.assert_allclose(out.detach().numpy(), outt.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    outt.sum().backward()
    same_grad(x.grad, xt.grad)
    return x


def _setitem(t, idx, v):
    t[idx] = v
    return t


INPLACE_ON_TAPE = [
    lambda a, m: (a * 2).add_(1),
    lambda a, m: _setitem(a * 2, 0, 5.0) ** 2,
    lambda a, m: _setitem(a * 2, slice(1, None), a[:2] * a[1:]),
    lambda a, m: _setitem(m.zeros(3, dtype=m.float64), 1, a[2] * 3),
    lambda a, m: (a * 1).mul_(a).sub_(a, alpha=2),
    (
        lambda a, m: (a * 1).relu_().sigmoid_().tanh_(),  # torch refuses: tanh_ overwrites
        lambda a, m: a.relu().sigmoid().tanh(),
    ),  # what sigmoid saved; here its copy was saved
    (lambda a, m: (a * 1).exp_().div_(a).pow_(2), lambda a, m: (a.exp() / a) ** 2),
    lambda a, m: (a * 1).clamp_(1.5, 2.5) * a,
    lambda a, m: (a * 1).copy_(a * 3) * a,
    lambda a, m: m.zeros(3, dtype=m.float64).copy_(a**2),
    lambda a, m: (lambda y: y.__iadd__(a))(m.zeros(3, dtype=m.float64)) * a,
    lambda a, m: (a * 1).fill_(2.0) * a,
    lambda a, m: _masked(a * 1, m),
    lambda a, m: _slices(a, m),
    lambda a, m: _grid(a, m),
]


def _masked(y, m):
    y[y > 1.5] = 0.0
    return y * 3


def _slices(a, m):
    y = a * 2
    y[1:] *= 2  # in place on a view: written back through its base
    y[:2] += a[1:]
    v = y[1:]
    v.mul_(a[:2])
    return y * y


def _grid(a, m):
    h = a.reshape(3, 1) * a
    h[:, 0] += 1
    h[1:, 1:2] *= 3
    h[0] = h[1] * 2
    h[2, 2].mul_(-1)
    return h**2


@pytest.mark.parametrize("f", INPLACE_ON_TAPE, ids=range(len(INPLACE_ON_TAPE)))
def test_inplace_on_non_leaves_gives_torchs_gradients(f):
    f, tf = f if isinstance(f, tuple) else (f, None)
    _run_both(f, tf=tf)


def test_stale_views_are_taken_again():
    def use_after_base_changed(a, m):
        h = a * 2
        v = h[1:]
        u = v[0]
        h.mul_(a)  # v and u now show the new values: their history must too
        return v * u

    def used_before_base_changed(a, m):
        h = a * 2
        loss = h[0] * 3  # mul by a number keeps nothing, so the later write is fine
        h.mul_(2)
        return loss + h

    _run_both(use_after_base_changed)
    _run_both(used_before_base_changed)


def test_inplace_on_views_the_tape_cannot_follow_raises_clearly():
    a, _ = pair()
    h = a * 2
    for v in (h.view(3, 1), h.unsqueeze(0), h.reshape(3, 1)):
        with pytest.raises(RuntimeError, match="view.*clone"):
            v.mul_(2)
    plain = dg.zeros(3, dtype=dg.float64)
    with pytest.raises(RuntimeError, match="view.*base"):
        plain[1:].add_(a[1:])  # a view of a tensor that does not require grad
    with dg.no_grad():
        v = h[1:]
    with pytest.raises(RuntimeError, match="no_grad"):
        v.mul_(2)
    h.sum().backward()  # nothing above changed h's history
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0, 2.0])


def test_constant_operands_are_not_kept_against_inplace_changes():
    for m in (dg, torch):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        x = m.tensor([3.0, 4.0])
        y = (a * x).sum() + (x @ a)  # a's gradient reads x: x is kept
        x.add_(1)
        with pytest.raises(RuntimeError, match="inplace"):
            y.backward()
        x = m.tensor([3.0, 4.0])
        h = a * 1
        y = (h * 2).sum() + (h / 4).sum()  # nothing reads h
        h.add_(1)
        y.backward()
        assert a.grad.tolist() == [2.25, 2.25]


def test_backward_inputs_accumulate_only_there():
    for m in (dg, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        h = x * w
        (h * h).sum().backward(inputs=[h, w])
        assert x.grad is None
        assert h.grad.tolist() == [6.0, 16.0] and w.grad.tolist() == [6.0, 32.0]


def test_norm_and_std_at_zero_have_pytorchs_zero_gradient():
    for f in (lambda m, x: x.norm(), lambda m, x: x.std(), lambda m, x: x.norm(dim=1).sum(),
              lambda m, x: x.std(1).sum()):  # fmt: skip
        v = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
        x, xt = dg.tensor(v, requires_grad=True), torch.from_numpy(v.copy()).requires_grad_()
        f(dg, x).backward()
        f(torch, xt).backward()
        same_grad(x.grad, xt.grad)
        assert np.isfinite(x.grad.numpy()).all()
    one = dg.tensor([2.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert math.isnan(one.std().item())  # one sample: no unbiased estimate, as PyTorch


def test_nested_derivatives_of_a_quotient_keep_their_digits():
    """Eight nested grads of 1/(1+x²) against mpmath: the quotient's VJP divides by b
    once per level (through the output), not by b² (a digit lost per order)."""
    import mpmath as mp

    X = np.linspace(-0.8, 0.8, 9)
    t = dg.tensor(X, dtype=dg.float64, requires_grad=True)
    g = 1 / (1 + t * t)
    for _ in range(8):
        (g,) = dg.autograd.grad(g, t, grad_outputs=dg.ones_like(t), create_graph=True)
    want = np.array([float(mp.diff(lambda s: 1 / (1 + s * s), mp.mpf(x), 8)) for x in X])
    np.testing.assert_allclose(
        g.detach().numpy(), want, rtol=1e-13, atol=1e-13 * np.abs(want).max()
    )
