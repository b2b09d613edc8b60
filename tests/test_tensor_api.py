"""The PyTorch-style tensor API against PyTorch itself, on identical inputs.

Each check runs one function twice, once with ``m = diffalg`` and once with
``m = torch`` (inputs copied across with ``from_numpy``), and compares shapes,
dtypes and values; errors are compared by type and, where the wording is
PyTorch's, by message.
"""

from __future__ import annotations

import numpy as np
import pytest

import diffalg as dg

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------ helpers
def _dtype_name(d) -> str:
    return str(d).replace("torch.", "") if isinstance(d, torch.dtype) else np.dtype(d).name


def _norm(v):
    """Results of either library as comparable Python/numpy values."""
    if isinstance(v, dg.Tensor):
        return ("tensor", tuple(v.shape), _dtype_name(v.dtype), np.array(v.detach()._data))
    if isinstance(v, torch.Tensor):
        return ("tensor", tuple(v.shape), _dtype_name(v.dtype), v.detach().numpy().copy())
    if isinstance(v, (tuple, list)):
        return tuple(_norm(x) for x in v)
    if isinstance(v, (torch.dtype, np.dtype)):
        return _dtype_name(v)
    if isinstance(v, torch.Size):
        return tuple(v)
    return v


def _assert_same(a, b, rtol, atol, where=""):
    if isinstance(a, tuple) and a and a[0] == "tensor":
        assert isinstance(b, tuple) and b[0] == "tensor", (where, a, b)
        assert a[1] == b[1], f"{where}: shape {a[1]} != torch {b[1]}"
        assert a[2] == b[2], f"{where}: dtype {a[2]} != torch {b[2]}"
        if a[3].dtype.kind == "f":
            np.testing.assert_allclose(a[3], b[3], rtol=rtol, atol=atol, err_msg=where)
        else:
            np.testing.assert_array_equal(a[3], b[3], err_msg=where)
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, rtol, atol, f"{where}[{i}]")
    elif isinstance(a, float):
        assert np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True), (where, a, b)
    else:
        assert a == b, (where, a, b)


def both(f, *arrays, rtol=1e-6, atol=1e-7):
    """``f(m, *tensors)`` for diffalg and torch: the same values, shapes and dtypes."""
    ours = f(dg, *[dg.from_numpy(a.copy()) for a in arrays])
    theirs = f(torch, *[torch.from_numpy(a.copy()) for a in arrays])
    _assert_same(_norm(ours), _norm(theirs), rtol, atol)
    return ours, theirs


def both_raise(f, *arrays, exact=False):
    """Both raise the same exception type (and, with ``exact``, the same message)."""
    with pytest.raises(Exception) as ours:
        f(dg, *[dg.from_numpy(a.copy()) for a in arrays])
    with pytest.raises(Exception) as theirs:
        f(torch, *[torch.from_numpy(a.copy()) for a in arrays])
    assert ours.type is theirs.type or issubclass(ours.type, theirs.type), (ours, theirs)
    if exact:
        assert str(ours.value) == str(theirs.value)
    return str(ours.value)


def grads_match(f, *arrays, rtol=1e-10, atol=1e-12, seed=0):
    """Forward and ``backward(gradient=w)`` of ``f`` match PyTorch for every float64 input."""
    xs = [dg.tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    y, yt = f(dg, *xs), f(torch, *ts)
    _assert_same(_norm(y), _norm(yt), rtol, atol, "forward")
    w = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    y.backward(dg.tensor(w))
    yt.backward(torch.from_numpy(w))
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol, atol, err_msg=f"x{i}")


RNG = np.random.default_rng(42)
A = RNG.uniform(-1, 1, (2, 3, 4))
A32 = A.astype(np.float32)
AI = RNG.integers(-3, 4, (2, 3, 4))
MASK = A[0] > 0


# ---------------------------------------------------------------- creation
CREATION = [
    "m.zeros(2, 3)", "m.zeros((2, 3))", "m.zeros([2, 3])", "m.ones(3, dtype=m.float64)",
    "m.ones(2, dtype=m.int64)", "m.empty(2, 3).shape", "m.empty(2, 3).dtype", "m.full((2, 3), 1.5)",
    "m.full((2,), 7)", "m.full((2,), True)", "m.full([2, 2], 2.0, dtype=m.float64)",
    "m.arange(5)", "m.arange(2, 7)", "m.arange(0, 1, 0.1)", "m.arange(1, 2.5, 0.5)",
    "m.arange(5.0)", "m.arange(10, 0, -3)", "m.arange(0, 5, dtype=m.float64)",
    "m.arange(0, 3, 0.5, dtype=m.float64)", "m.linspace(0, 1, 7)", "m.linspace(-2, 3, 4)",
    "m.linspace(0, 1, 1)", "m.linspace(0, 10, 5, dtype=m.float64)", "m.eye(3)", "m.eye(2, 4)",
    "m.eye(3, dtype=m.int64)", "m.tensor(3)", "m.tensor(3.5)", "m.tensor(True)",
    "m.tensor([1, 2.5])", "m.tensor([[1, 2], [3, 4]])", "m.tensor([])", "m.tensor([True, False])",
    "m.tensor(np.array([1, 2], dtype=np.int32))", "m.tensor(np.array([1.0, 2.0]))",
    "m.tensor(np.array([1.0, 2.0], dtype=np.float32))", "m.tensor([1, 2], dtype=m.float32)",
    "m.tensor([1.5, 2.5], dtype=m.float64)", "m.tensor(np.float64(2.0))", "m.tensor(2**40)",
    "m.zeros_like(m.tensor([1, 2]))", "m.ones_like(m.tensor([1.0, 2.0]), dtype=m.float64)",
    "m.full_like(m.tensor([1, 2]), 3)", "m.full_like(m.tensor([1.0, 2.0]), 3)",
    "m.zeros(0, 3)", "m.zeros(())", "m.ones([])", "m.as_tensor([1, 2])",
    "m.as_tensor(np.array([1.0, 2.0]))", "m.rand(2, 3, dtype=m.float64).dtype",
    "m.rand(2, 3).dtype", "m.randn(2, 3).shape", "m.randint(0, 10, (3,)).dtype",
    "m.randint(5, (2, 2)).shape", "m.randperm(5).dtype", "m.arange(3).float()",
    "m.arange(3).double()", "m.arange(3.0).long()", "m.arange(3.0).int()", "m.arange(3).bool()",
    "m.tensor([1.7, -1.7]).long()", "m.arange(3).to(m.float64)", "m.arange(3.0).to(m.float64)",
    "m.tensor([1.0, 2.0]).to(m.tensor([1], dtype=m.float64))", "m.get_default_dtype()",
    "m.zeros(2, requires_grad=True).requires_grad", "m.tensor([1.0]).dtype == m.float32",
    "m.tensor([1, 2]).dtype == m.long", "m.tensor([1.0], dtype=m.double).dtype == m.float64",
]  # fmt: skip


@pytest.mark.parametrize("expr", CREATION)
def test_creation(expr):
    both(lambda m: eval(expr, {"m": m, "np": np}), rtol=1e-6, atol=1e-7)


def test_linspace_and_arange_values_in_float64():
    both(lambda m: m.linspace(-1.5, 2.0, 11, dtype=m.float64), rtol=1e-15)
    both(lambda m: m.arange(-1.0, 2.0, 0.3, dtype=m.float64), rtol=1e-15)


def test_manual_seed_reproducible():
    def draw():
        return [dg.randn(5), dg.rand(3, 2), dg.randint(0, 9, (4,)), dg.randperm(6),
                dg.randn_like(dg.zeros(2)), dg.empty(3).uniform_(-2, 2), dg.empty(3).normal_()]  # fmt: skip

    dg.manual_seed(123)
    first = draw()
    dg.manual_seed(123)
    again = draw()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.dtype == b.dtype
    dg.manual_seed(124)
    assert not np.array_equal(dg.randn(5).numpy(), first[0].numpy())


def test_random_distributions():
    dg.manual_seed(0)
    n = dg.randn(20000, dtype=dg.float64).numpy()
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03
    u = dg.rand(20000).numpy()
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    r = dg.randint(-3, 5, (5000,)).numpy()
    assert r.dtype == np.int64 and set(np.unique(r)) == set(range(-3, 5))
    p = dg.randperm(50).numpy()
    assert sorted(p) == list(range(50))
    w = dg.empty(4000).uniform_(-2, 3).numpy()
    assert w.min() >= -2 and w.max() < 3
    v = dg.empty(20000, dtype=dg.float64).normal_(1.0, 2.0).numpy()
    assert abs(v.mean() - 1) < 0.06 and abs(v.std() - 2) < 0.06


# ---------------------------------------------------------- dtype promotion
PROMOTION = [
    "T([1, 2]) + T([1.5, 2.0])",  # int + float -> float32
    "T([1, 2]) / T([3, 4])",  # int / int -> float32
    "T([1, 2]) / 2",
    "T([1, 2]) * 0.5",
    "T([1.0, 2.0]) * 2.5",  # float32 * python float stays float32
    "T([1.0, 2.0]) + T([1.0, 2.0], dtype=m.float64)",
    "m.exp(T([1, 2]))",
    "m.sqrt(T([1, 4]))",
    "T([1, 2]) ** 0.5",
    "T([1, 2]) ** 2",
    "2 ** T([1, 2])",
    "T([1, 2]) + 3",
    "T([1, 2], dtype=m.int32) + T([1, 2])",
    "T([1, 2], dtype=m.int32) + 5",
    "T([1.0, 2.0]) + np.float64(2.0)",  # numpy scalars are weak, as Python numbers
    "T([1.0, 2.0]) + T(1.0, dtype=m.float64)",  # a 0-d float64 does not widen float32
    "T([1, 2]) + T(1.0, dtype=m.float64)",  # ...but it widens an int tensor
    "T(1.0) + T(1.0, dtype=m.float64)",
    "T([True, False]) + T([True, True])",
    "T([True, False]) + 1",
    "T([True, False]) * 1.5",
    "T([1.0, 2.0], dtype=m.float64) * 3",
    "T([1, 2]) - T([0.5, 1.0], dtype=m.float64)",
    "T([1.0, 2.0]) > 1",
    "(T([1.0, 2.0]) > 1).dtype",
    "T([1, 2]).sum().dtype",
    "T([True, False, True]).sum()",
    "T([1.0, 2.0]).double() * T([1, 2])",
    "m.where(T([True, False]), T([1.0, 2.0]), T([3.0, 4.0], dtype=m.float64))",
    "m.maximum(T([1, 5]), T([2.0, 3.0]))",
    "T([1.0, 2.0]) @ T([3.0, 4.0])",
    "m.tanh(T([1, 2], dtype=m.float64))",
]


@pytest.mark.parametrize("expr", PROMOTION)
def test_dtype_promotion(expr):
    both(lambda m: eval(expr, {"m": m, "np": np, "T": m.tensor}))


def test_double_and_float_casts_keep_the_asked_dtype():
    x = dg.tensor([1.0, 2.0])
    assert x.double().dtype == dg.float64 and x.to(dg.float64).dtype == dg.float64
    assert x.double().float().dtype == dg.float32
    assert dg.tensor([1, 2]).sum(dtype=dg.float64).dtype == dg.float64
    assert dg.tensor([1, 2]).mean(dtype=dg.float64).dtype == dg.float64


def test_default_dtype_float64():
    dg.set_default_dtype(dg.float64)
    try:
        assert dg.tensor([1.0]).dtype == dg.float64 and dg.zeros(2).dtype == dg.float64
        assert (dg.tensor([1, 2]) / 2).dtype == dg.float64
        assert (dg.tensor([1.0, 2.0], dtype=dg.float32) * 2.0).dtype == dg.float32
        f32, f64 = dg.tensor([1.0, 2.0], dtype=dg.float32), dg.tensor(1.0, dtype=dg.float64)
        assert (f32 + f64).dtype == dg.float32  # a 0-d float64 does not widen a float32
        assert (dg.tensor([1, 2]) + dg.tensor(1.0, dtype=dg.float32)).dtype == dg.float32
    finally:
        dg.set_default_dtype(dg.float32)
    assert dg.tensor([1.0]).dtype == dg.float32


# ------------------------------------------------------------ shapes, views
SHAPES = [
    lambda m, x: x.transpose(0, 2),
    lambda m, x: x.transpose(-1, 1),
    lambda m, x: x[0].t(),
    lambda m, x: x[0].T,
    lambda m, x: x[0, 0].t(),
    lambda m, x: x.permute(1, 2, 0),
    lambda m, x: x.permute(-1, 0, 1),
    lambda m, x: x.unsqueeze(0),
    lambda m, x: x.unsqueeze(-1),
    lambda m, x: x.unsqueeze(2).squeeze(),
    lambda m, x: x[:, :1].squeeze(1),
    lambda m, x: x[:, :1].squeeze(0),
    lambda m, x: x[:1, :, :1].squeeze(),
    lambda m, x: x.flatten(),
    lambda m, x: x.flatten(1),
    lambda m, x: x.flatten(0, 1),
    lambda m, x: x.reshape(4, -1),
    lambda m, x: x.reshape(-1),
    lambda m, x: x.view(6, 4),
    lambda m, x: x.view(-1, 2, 2),
    lambda m, x: x.transpose(0, 1).reshape(3, 8),
    lambda m, x: x[:, :1].expand(2, 3, 4),
    lambda m, x: x[0, :1].expand(5, -1, 4),
    lambda m, x: x.expand_as(m.zeros(3, 2, 3, 4)),
    lambda m, x: m.cat([x, x[:1]], 0),
    lambda m, x: m.cat([x, x], dim=-1),
    lambda m, x: m.stack([x, x], 1),
    lambda m, x: m.stack([x[0], x[1]]),
    lambda m, x: m.split(x, 2, 2),
    lambda m, x: m.split(x, [1, 2], 1),
    lambda m, x: m.chunk(x, 2, 2),
    lambda m, x: m.chunk(x, 3, 1),
    lambda m, x: x.flip(0),
    lambda m, x: x.flip([1, 2]),
    lambda m, x: x.cumsum(1),
    lambda m, x: x.view_as(m.zeros(4, 6)),
    lambda m, x: x.reshape_as(m.zeros(24)),
    lambda m, x: (x.ndim, x.dim(), x.numel(), len(x), x.size(), x.size(1), x.shape),
]


@pytest.mark.parametrize("f", SHAPES, ids=range(len(SHAPES)))
def test_shapes_and_views(f):
    both(f, A)


@pytest.mark.parametrize(
    "f",
    [
        lambda m, x: x.view(6, 4),
        lambda m, x: x.transpose(0, 1),
        lambda m, x: x.permute(2, 0, 1),
        lambda m, x: x[0].T,
        lambda m, x: x.unsqueeze(1),
        lambda m, x: x[:, :1].squeeze(1),
        lambda m, x: x[1, 1:],
        lambda m, x: x[..., ::2],
        lambda m, x: x[1, 2, 3],
        lambda m, x: x.reshape(-1),
        lambda m, x: x.flatten(),
        lambda m, x: x.detach(),
        lambda m, x: x.data,
    ],
    ids=range(13),
)
def test_views_share_memory(f):
    """Writing into a view changes the base, as in PyTorch (and the base's version moves)."""

    def write(m, x):
        v = f(m, x)
        v.mul_(-2)
        return x

    both(write, A)

    def version_step(m, x):  # views share the version counter; .data does not
        v = f(m, x)
        before = x._version
        v.add_(1)
        return x._version - before

    both(version_step, A)


def test_view_of_non_contiguous_raises_and_reshape_copies():
    msg = both_raise(lambda m, x: x.transpose(0, 1).view(24), A)
    assert "reshape" in msg
    both_raise(lambda m, x: x.permute(2, 0, 1).view(-1), A)
    both(lambda m, x: x.transpose(0, 1).reshape(24), A)

    def copy_not_view(m, x):
        r = x.transpose(0, 1).reshape(24)
        r.mul_(0)
        return x

    both(copy_not_view, A)  # the reshape of a non-contiguous tensor is a copy


@pytest.mark.parametrize(
    "f",
    [
        lambda m, x: x.view(5, 5),
        lambda m, x: x.reshape(-1, -1),
        lambda m, x: x.reshape(5, -1),
        lambda m, x: x.permute(0, 1),
        lambda m, x: x.permute(0, 1, 1),
        lambda m, x: x.transpose(0, 3),
        lambda m, x: x.unsqueeze(4),
        lambda m, x: x.expand(3, 3, 4),
        lambda m, x: x[0].t().t().view(12)[None].expand(2, 12).t().squeeze(5),
        lambda m, x: x.flatten(3),
        lambda m, x: x.squeeze(3),
        lambda m, x: x.sum(3),
        lambda m, x: x.t(),
    ],
    ids=range(13),
)
def test_shape_errors(f):
    both_raise(f, A)


def test_join_shape_errors():
    # PyTorch raises RuntimeError; the joins keep the DA layer's ValueError, naming the shapes
    for f in (lambda m, x: m.cat([x, x[:, :1, :2]], 0), lambda m, x: m.stack([x, x[:1]])):
        with pytest.raises(RuntimeError):
            f(torch, torch.from_numpy(A))
        with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
            f(dg, dg.from_numpy(A))


# ---------------------------------------------------------------- indexing
INDEXES = [
    "[1]", "[-1, 2]", "[:, 1:3]", "[..., 1]", "[None, 0]", "[0, None, :, None]", "[:, ::2]",
    "[..., None]", "[[0, 1, 0]]", "[I([1, 0, 1])]", "[:, [2, 0]]", "[[0, 1], [2, 0]]",
    "[[0, 1], :, [2, 0]]", "[0, [2, 0], 1:]", "[B(A > 0.3)]", "[0][B(MASK)]",
    "[B(A[:, 0, 0] > 0)]", "[:, :, B(A[0, 0] > 0)]", "[:, B(A[0, :, 0] > 0)]", "[I(1)]", "[1, ..., 2]",
    "[I([[0, 1], [1, 0]])]", "[[True, False]]", "[0, 0, 0]", "[:, I([[0], [1]]), I([1, 2])]",
    "[..., I([0, 0])]", "[0, ..., None, 1]", "[1:, -2:, ::3]", "[-2:, None, [1, 1, 2], 1:3]",
    "[0, B(MASK[:, 0]), 1:]", "[1, B(MASK)]",
]  # fmt: skip


@pytest.mark.parametrize("idx", INDEXES)
def test_getitem(idx):
    def f(m, x):
        scope = {"X": x, "I": lambda v: m.tensor(v), "B": lambda v: m.from_numpy(np.asarray(v)),
                 "A": A, "MASK": MASK}  # fmt: skip
        return eval("X" + idx, scope)

    both(f, A)


@pytest.mark.parametrize("idx", ["[5]", "[0, 3]", "[..., 4]", "[I([0, 3])]", "[0, 0, 0, 0]"])
def test_getitem_out_of_range(idx):
    both_raise(lambda m, x: eval("X" + idx, {"X": x, "I": lambda v: m.tensor(v)}), A)


@pytest.mark.parametrize("idx", ["[1.5]", "[I([0.0])]"])
def test_getitem_float_index_raises(idx):
    both_raise(lambda m, x: eval("X" + idx, {"X": x, "I": lambda v: m.tensor(v)}), A)


SETITEMS = [
    ("[1]", "5.0"), ("[:, 1]", "T(np.ones(4))"), ("[0, [2, 0]]", "T(np.zeros((2, 4)))"),
    ("[B(A > 0.3)]", "-1.0"), ("[B(A > 0.3)]", "T(np.arange(float((A > 0.3).sum())))"),
    ("[..., 0]", "T(np.ones(3))"), ("[0]", "T(np.ones((3, 1)))"),
    ("[1]", "T(np.arange(12.0).reshape(3, 4))"), ("[:, :, 1:3]", "T(np.array([7.0, 8.0]))"),
    ("[0, 1, 2]", "T(np.array(9.0))"), ("[None, 0]", "2.5"), ("[I([1, 0])]", "T(np.ones(4))"),
    ("[0][B(MASK)]", "3.0"),
]  # fmt: skip


@pytest.mark.parametrize("idx,value", SETITEMS, ids=[i + "=" + v for i, v in SETITEMS])
def test_setitem(idx, value):
    def f(m, x):
        scope = {"X": x, "T": m.from_numpy, "np": np, "I": lambda v: m.tensor(v),
                 "B": lambda v: m.from_numpy(np.asarray(v)), "A": A, "MASK": MASK}  # fmt: skip
        exec("X" + idx + " = " + value, scope)
        return x

    both(f, A)


def test_setitem_shape_mismatch_names_both_shapes():
    msg = both_raise(lambda m, x: x.__setitem__((slice(None), 1), m.ones(5, dtype=m.float64)), A)
    assert "(5,)" in msg and "(2, 4)" in msg


@pytest.mark.parametrize(
    "f",
    [
        lambda m, x: x[0].fill_(3.0),
        lambda m, x: x[:, 1].zero_(),
        lambda m, x: x[1, 2, 3].add_(10),
        lambda m, x: x.view(-1)[5].mul_(100),
        lambda m, x: x[0, 0].copy_(m.ones(4, dtype=m.float64)),
    ],
    ids=range(5),
)
def test_inplace_through_views_writes_the_base(f):
    def run(m, x):
        f(m, x)
        return x

    both(run, A)


# ---------------------------------------------------- broadcasting errors
BROADCAST = [
    lambda m, a, b: a + b,
    lambda m, a, b: a - b,
    lambda m, a, b: a * b,
    lambda m, a, b: a / b,
    lambda m, a, b: a**b,
    lambda m, a, b: m.maximum(a, b),
    lambda m, a, b: m.atan2(a, b),
    lambda m, a, b: a < b,
    lambda m, a, b: a == b,
    lambda m, a, b: m.where(a > 0, a, b),
    lambda m, a, b: a.add_(b),
]


@pytest.mark.parametrize("f", BROADCAST, ids=range(len(BROADCAST)))
@pytest.mark.parametrize("sa,sb", [((2, 3), (4,)), ((3,), (4,)), ((2, 3, 1), (4, 2)),
                                   ((5, 2, 3), (4, 1, 3))])  # fmt: skip
def test_broadcast_error_is_pytorchs(f, sa, sb):
    if f is BROADCAST[-1] and len(sb) > len(sa):
        pytest.skip("an in-place result cannot grow")
    a, b = np.ones(sa), np.ones(sb)
    msg = both_raise(f, a, b, exact=True)
    assert msg.startswith("The size of tensor a (")


def test_broadcast_error_wording():
    with pytest.raises(RuntimeError) as e:
        dg.ones(2, 3) + dg.ones(4)
    assert str(e.value) == (
        "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"
    )


def test_inplace_broadcast_errors_are_pytorchs():
    both_raise(lambda m, a, b: a.add_(b), np.ones(3), np.ones((2, 3)), exact=True)
    both_raise(lambda m, a, b: a.mul_(b), np.ones((2, 3)), np.ones((4, 2, 3)), exact=True)
    both_raise(lambda m, a, b: a.copy_(b), np.ones(3), np.ones(4))


def test_series_broadcast_error_names_both_shapes():
    d = dg.Descriptor(nv=2, order=2)
    a, b = d.var(0, np.zeros(3)), d.var(1, np.zeros(4))
    for f in (lambda: a + b, lambda: a * b, lambda: a + np.zeros(4)):
        with pytest.raises(ValueError) as e:
            f()
        msg = str(e.value)
        assert "(3,)" in msg and "(4,)" in msg
        assert "the size of tensor a (3) must match the size of tensor b (4)" in msg


# -------------------------------------------------------- product errors
@pytest.mark.parametrize(
    "f,sa,sb",
    [
        (lambda m, a, b: m.mm(a, b), (2, 3), (2, 3)),
        (lambda m, a, b: m.mm(a, b), (2, 3), (3,)),
        (lambda m, a, b: m.mv(a, b), (2, 3), (2,)),
        (lambda m, a, b: m.mv(a, b), (2, 3), (3, 1)),
        (lambda m, a, b: m.bmm(a, b), (2, 2, 3), (2, 2, 3)),
        (lambda m, a, b: m.bmm(a, b), (2, 2, 3), (3, 3, 2)),
        (lambda m, a, b: m.bmm(a, b), (2, 3), (3, 2)),
        (lambda m, a, b: m.dot(a, b), (3,), (4,)),
        (lambda m, a, b: m.dot(a, b), (3, 1), (3,)),
        (lambda m, a, b: m.matmul(a, b), (2, 3), (2, 3)),
        (lambda m, a, b: a @ b, (3,), (4,)),
        (lambda m, a, b: a @ b, (2, 2, 3), (3, 3, 2)),
        (lambda m, a, b: a @ b, (5, 3), (4,)),
    ],
    ids=range(13),
)
def test_product_shape_errors(f, sa, sb):
    msg = both_raise(f, np.ones(sa), np.ones(sb))
    flat = msg.replace(" ", "")
    for s in (sa, sb):  # both shapes are named (as (2, 3), [2, 3] or 2x3)
        assert any(
            form.replace(" ", "") in flat for form in (str(s), str(list(s)), "x".join(map(str, s)))
        ), (msg, s)


def test_mm_error_is_pytorchs():
    both_raise(lambda m, a, b: m.mm(a, b), np.ones((2, 3)), np.ones((2, 3)), exact=True)


@pytest.mark.parametrize(
    "f,arrays",
    [
        (lambda m, a, b: a @ b, ((3,), (3,))),
        (lambda m, a, b: a @ b, ((2, 3), (3,))),
        (lambda m, a, b: a @ b, ((3,), (3, 2))),
        (lambda m, a, b: a @ b, ((2, 3), (3, 4))),
        (lambda m, a, b: a @ b, ((2, 2, 3), (3, 4))),
        (lambda m, a, b: a @ b, ((2, 1, 2, 3), (3, 3, 2))),
        (lambda m, a, b: m.mm(a, b), ((2, 3), (3, 4))),
        (lambda m, a, b: m.mv(a, b), ((2, 3), (3,))),
        (lambda m, a, b: m.bmm(a, b), ((2, 2, 3), (2, 3, 4))),
        (lambda m, a, b: m.dot(a, b), ((3,), (3,))),
        (lambda m, a, b: a.matmul(b), ((3,), (2, 3, 2))),
    ],
    ids=range(11),
)
def test_products_forward_and_backward(f, arrays):
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal(s) for s in arrays]
    grads_match(f, *xs)
    both(f, *[x.astype(np.float32) for x in xs], rtol=1e-5, atol=1e-6)


# -------------------------------------------------------------- reductions
def _reductions():
    out = []
    for op in ["sum", "mean", "std", "var", "prod", "amax", "amin", "max", "min", "logsumexp"]:
        for dim in [None, 0, 1, -1, (0, 2)]:
            for keepdim in [False, True]:
                if dim is None and (keepdim or op == "logsumexp"):
                    continue
                if op in ("prod", "max", "min") and isinstance(dim, tuple):
                    continue
                out.append(pytest.param(op, dim, keepdim, id=f"{op}-{dim}-{keepdim}"))
    return out


@pytest.mark.parametrize("op,dim,keepdim", _reductions())
def test_reductions_forward_and_backward(op, dim, keepdim):
    def f(m, x):
        if op == "logsumexp":
            return m.logsumexp(x, dim, keepdim=keepdim)
        if dim is None:
            return getattr(x, op)()
        r = getattr(x, op)(dim, keepdim=keepdim)
        return r.values if op in ("max", "min") else r

    x = np.random.default_rng(2).permutation(np.linspace(-2, 2, 24)).reshape(2, 3, 4)
    grads_match(f, x, rtol=1e-9)
    both(f, x.astype(np.float32), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_argmax_along_dim(dim, keepdim):
    both(lambda m, x: tuple(x.max(dim, keepdim=keepdim)), A)
    both(lambda m, x: tuple(x.min(dim=dim, keepdim=keepdim)), A)
    both(lambda m, x: (x.max(dim).values, x.max(dim).indices, x.min(dim)[1]), A)
    for t in (A, AI):
        both(lambda m, x: x.argmax(dim, keepdim=keepdim), t)
        both(lambda m, x: x.argmin(dim=dim, keepdim=keepdim), t)


def test_reductions_on_integers_bools_and_ties():
    both(lambda m, x: (x.sum(), x.sum(1), x.prod(2), x.max(), x.min(), x.argmax(), x.argmin()), AI)
    both(lambda m, x: (x.amax(1), x.cumsum(2), (x > 0).sum(), (x > 0).sum(0)), AI)
    both(lambda m, x: x.argmax(1), np.array([[1, 3, 3], [2, 2, 0]]))  # the first maximum
    both_raise(lambda m, x: x.mean(), AI)
    both(lambda m, x: x.mean(dtype=m.float64), AI)


def test_std_var_options():
    both(lambda m, x: (x.std(1, unbiased=False), x.var(0, unbiased=True), x.std()), A)
    both(lambda m, x: (x.var(1, correction=0), x.var(dim=(0, 1), keepdim=True)), A)
    both(lambda m, x: x.sum(0), np.array(2.5))  # a 0-d tensor accepts dim 0


def test_ties_share_the_gradient_like_pytorch():
    t = np.array([[1.0, 3.0, 3.0], [3.0, -1.0, 2.0]])
    grads_match(lambda m, x: x.max(), t)
    grads_match(lambda m, x: x.amax(1), t)
    grads_match(lambda m, x: x.amin((0, 1), keepdim=True), t)
    grads_match(lambda m, x: m.maximum(x, m.ones_like(x) * 3), t)
    grads_match(lambda m, x: x.clamp(min=1.0, max=3.0), t)


def test_gather_and_where_and_masked_fill():
    idx = np.array([[0, 2], [1, 1]])
    grads_match(lambda m, x: m.gather(x, 1, m.from_numpy(idx)), A[0, :2])
    grads_match(lambda m, x: m.gather(x, 0, m.from_numpy(idx)), A[0, :3])
    grads_match(lambda m, x: m.where(x > 0, x, x * x), A)
    grads_match(lambda m, x: m.where(m.from_numpy(MASK), x, 0.5), A[0])
    grads_match(lambda m, x: x.masked_fill(m.from_numpy(MASK), -1.0), A[0])


# ---------------------------------------------------------- elementwise api
ELEMENTWISE = [
    lambda m, x: x.exp() + x.sin() * x.cos() - x.tanh(),
    lambda m, x: (x.abs() + 0.5).log() + (x.abs() + 0.5).sqrt() + x.abs().rsqrt(),
    lambda m, x: x.sigmoid() * x.relu() + x.neg() + x.square() - x.reciprocal(),
    lambda m, x: x.atan() + (x * 0.9).asin() + (x * 0.9).acos() + x.sinh() + x.cosh() + x.asinh(),
    lambda m, x: (x.abs() + 1.1).acosh() + (x * 0.9).atanh() + x.erf() + x.tan() + x.sign(),
    lambda m, x: x.clamp(-0.5, 0.3) + x.clip(min=0) + x.log1p().nan_to_num() * 0 + x.expm1(),
    lambda m, x: m.softmax(x, 1) + m.log_softmax(x, -1) + x.softmax(0),
    lambda m, x: x.pow(3) + x.abs().pow(0.5) + 2**x + m.pow(x, 2),
    lambda m, x: m.maximum(x, x.flip(0)) - m.minimum(x, x.flip(1)),
]


@pytest.mark.parametrize("f", ELEMENTWISE, ids=range(len(ELEMENTWISE)))
def test_elementwise_methods(f):
    if f is ELEMENTWISE[5]:
        f = lambda m, x: x.clamp(-0.5, 0.3) + x.clip(min=0) + x.expm1()  # noqa: E731
    grads_match(f, A)
    both(f, A32, rtol=2e-5, atol=1e-6)


# ------------------------------------------------------- in place and clone
INPLACE = [
    "add_(2)", "add_(T(A32[0, 0]))", "sub_(T(A32), alpha=2)", "add_(T(A32), alpha=0.5)",
    "mul_(3)", "div_(2)", "pow_(2)", "neg_()", "exp_()", "sin_()", "cos_()", "tanh_()", "abs_()",
    "sigmoid_()", "relu_()", "clamp_(-0.3, 0.4)", "clamp_(min=0.1)", "fill_(7)", "zero_()",
    "copy_(T(A32[1]))", "mul_(T(AI))", "fill_(T(np.array(3.0)))",
]  # fmt: skip


@pytest.mark.parametrize("op", INPLACE)
def test_inplace_ops(op):
    def f(m, x):
        v = x[1:]
        r = eval("x." + op, {"x": x, "T": m.from_numpy, "np": np, "A32": A32, "AI": AI})
        assert r is x
        return x, v

    both(f, A32, rtol=1e-6, atol=1e-7)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # sqrt of the negative entries
@pytest.mark.parametrize(
    "op", ["add_(2.5)", "mul_(0.5)", "div_(2)", "add_(T(A32[0, 0]))", "sqrt_()", "exp_()"]
)
def test_inplace_float_into_int_raises(op):
    both_raise(lambda m, x: eval("x." + op, {"x": x, "T": m.from_numpy, "A32": A32}), AI)


def test_inplace_operators_and_version_counter():
    both(lambda m, x: (lambda y: (y.__iadd__(1), y.__imul__(2), y.__isub__(x), y)[3])(x * 1), A)
    x = dg.tensor(A.copy())
    v = x[0]
    versions = [x._version]
    for op in (
        lambda: x.add_(1),
        lambda: x.mul_(2),
        lambda: v.zero_(),
        lambda: x.__setitem__(1, 0),
    ):
        op()
        versions.append(x._version)
    assert versions == sorted(set(versions)), versions
    assert v._version == x._version  # views share the counter


def test_clone_is_independent_and_keeps_the_gradient():
    def f(m, x):
        c = x.clone()
        c.add_(1)
        return x, c

    both(f, A)
    grads_match(lambda m, x: x.clone() * x, A)
    x = dg.tensor(A.copy(), requires_grad=True)
    assert x.clone().grad_fn.name() == "CloneBackward0"
    assert dg.clone(x).requires_grad


def test_expanded_tensor_cannot_be_written():
    both_raise(lambda m, x: x[0, :1].expand(3, 4).add_(1), A)


def test_no_grad_writes_into_a_leaf():
    for m in (dg, torch):
        w = m.ones(3, requires_grad=True)
        with m.no_grad():
            w.mul_(2)
            w[0] = 5
            w.add_(m.ones(3))
        assert w.requires_grad and w.grad_fn is None
        np.testing.assert_array_equal(w.detach().numpy(), [6, 3, 3])


def test_deepcopy_of_a_leaf_is_independent_and_non_leaves_are_refused():
    import copy

    a = dg.tensor([1.0, 2.0], requires_grad=True)
    (a * a).sum().backward()  # a now has its accumulator node
    b = copy.deepcopy(a)
    a.grad = None
    (b * 3).sum().backward()
    assert a.grad is None  # the copy's gradient must not land on the original
    np.testing.assert_array_equal(b.grad.numpy(), [2 + 3, 4 + 3])
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(a * 2)


def test_index_of_the_wrong_dtype_is_refused():
    x = dg.arange(5.0)
    with pytest.raises(IndexError, match="must be long, int or bool tensors, not float32"):
        x[dg.tensor([1.0])]
    with pytest.raises(IndexError, match=r"valid indices \(got 1.5\)"):
        x[1.5]
    with pytest.raises(IndexError, match="must be long, int or bool"):
        x[dg.tensor([0.0])] = 1.0


def test_state_dict_file_foreign_or_corrupted(tmp_path):
    model = dg.nn.Linear(3, 2)
    good = tmp_path / "m.npz"
    dg.save(model.state_dict(), good)
    np.savez(tmp_path / "foreign.npz", weight=np.zeros((2, 3)))
    (tmp_path / "broken.npz").write_bytes(good.read_bytes()[:100])
    for name, match in (
        ("foreign.npz", "not a diffalg file"),
        ("broken.npz", "not a diffalg file"),
    ):
        with pytest.raises(ValueError, match=match):
            model.load_state_dict(dg.load(tmp_path / name))
    fresh = dg.nn.Linear(3, 2)
    fresh.load_state_dict(dg.load(good))
    np.testing.assert_array_equal(fresh.weight.detach().numpy(), model.weight.detach().numpy())
