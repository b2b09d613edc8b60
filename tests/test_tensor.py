"""Tensors of series: shapes, broadcasting, indexing, joins, sums, matmul, ufuncs, str."""

import numpy as np
import pytest
import truth

import diffalg as dg

D = dg.Descriptor(variables=["x", "y"], order=3)


def elem(t, *idx):
    """Element ``idx`` of a series tensor read straight from its coefficient array."""
    return dg.Tensor(np.array(t.coeffs[idx]), t.desc)


def rand(shape, rng, d=D):
    return d.from_coeffs(rng.uniform(-1, 1, size=tuple(shape) + (d.ncoef,)))


# --------------------------------------------------------------------- shapes


def test_shapes_of_constructors():
    assert D.zeros().shape == ()
    assert D.zeros(4).shape == (4,)
    assert D.zeros((2, 3)).shape == (2, 3)
    assert D.zeros((2, 3)).coeffs.shape == (2, 3, D.ncoef)
    v = D.var("y", np.arange(6.0).reshape(2, 3))
    assert v.shape == (2, 3) and v.ndim == 2 and len(v) == 2 and v.size() == (2, 3)
    assert v.size(1) == 3
    np.testing.assert_array_equal(v.const, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(v.coeffs[..., 2], 1.0)
    np.testing.assert_array_equal(v.coeffs[..., 1], 0.0)
    c = D.const([[1.0], [2.0]])
    assert c.shape == (2, 1) and c.is_da
    x, y = D.vars([np.zeros(3), 1.0])
    assert x.shape == (3,) and y.shape == ()
    r = dg.tensor([[1, 2], [3, 4]])
    assert r.shape == (2, 2) and not r.is_da
    with pytest.raises(TypeError):
        len(D.zeros())


def test_real_tensor_basics():
    r = dg.tensor([1.0, 2.0, 3.0], dtype=dg.float64)
    np.testing.assert_array_equal(r.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(np.asarray(r), [1, 2, 3])
    np.testing.assert_array_equal((r * 2 + 1).numpy(), [3, 5, 7])
    np.testing.assert_allclose(dg.exp(r).numpy(), np.exp([1, 2, 3]), rtol=1e-15)
    assert float(dg.tensor(2.5)) == 2.5
    with pytest.raises(TypeError, match="coefficients"):
        _ = r.coeffs
    with pytest.raises(TypeError, match="const|coeffs"):
        D.zeros().numpy()


def test_broadcasting_series_tensors():
    rng = np.random.default_rng(1)
    a = rand((3, 1), rng)
    b = rand((4,), rng)
    keep = truth.keeper(D)
    for op, f in [("*", lambda u, v: u * v), ("+", lambda u, v: u + v), ("-", lambda u, v: u - v)]:
        c = f(a, b)
        assert c.shape == (3, 4), op
        for i in range(3):
            for j in range(4):
                ad, bd = truth.as_dict(elem(a, i, 0)), truth.as_dict(elem(b, j))
                if op == "*":
                    want = truth.mul(ad, bd, keep)
                else:
                    want = truth.add(ad, bd, 1 if op == "+" else -1)
                truth.assert_close(c.coeffs[i, j], truth.dense(D, want), rtol=1e-14, atol=1e-15)


def test_broadcasting_division_and_functions():
    rng = np.random.default_rng(2)
    a = rand((2, 1), rng)
    bc = rng.uniform(-1, 1, size=(3, D.ncoef))
    bc[:, 0] = [1.5, -2.0, 3.0]
    b = D.from_coeffs(bc)
    c = a / b
    assert c.shape == (2, 3)
    keep = truth.keeper(D)
    for i in range(2):
        for j in range(3):
            back = truth.mul(truth.as_dict(elem(c, i, j)), truth.as_dict(elem(b, j)), keep)
            truth.assert_close(truth.dense(D, back), a.coeffs[i, 0], rtol=0, atol=1e-14)
    e = dg.exp(b)
    for j in range(3):
        np.testing.assert_array_equal(e.coeffs[j], dg.exp(elem(b, j)).coeffs)


def test_broadcasting_with_real_arrays():
    (x, y) = D.vars([np.array([1.0, 2.0]), 0.5])
    w = np.array([[1.0], [10.0], [100.0]])
    c = x * w
    assert c.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            np.testing.assert_array_equal(c.coeffs[i, j], x.coeffs[j] * w[i, 0])
    s = y + np.array([1.0, 2.0, 3.0])
    assert s.shape == (3,)
    np.testing.assert_array_equal(s.const, [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(s.coeffs[:, 2], 1.0)
    s = np.array([1.0, 2.0, 3.0]) - y
    np.testing.assert_array_equal(s.const, [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(s.coeffs[:, 2], -1.0)
    q = dg.tensor([2.0, 4.0]) / x
    np.testing.assert_allclose(q.const, [2.0, 2.0])
    np.testing.assert_allclose(q.coeffs[:, 1], [-2.0, -1.0])  # d(c/x) = -c/x^2


# ------------------------------------------------------------------- indexing


@pytest.fixture
def grid():
    rng = np.random.default_rng(3)
    return rand((3, 4), rng)


def test_getitem_integer(grid):
    e = grid[1]
    assert e.shape == (4,)
    np.testing.assert_array_equal(e.coeffs, grid.coeffs[1])
    e = grid[1, 2]
    assert e.shape == () and e.is_da
    np.testing.assert_array_equal(e.coeffs, grid.coeffs[1, 2])
    np.testing.assert_array_equal(grid[-1, -1].coeffs, grid.coeffs[2, 3])


def test_getitem_slices_and_ellipsis(grid):
    np.testing.assert_array_equal(grid[1:].coeffs, grid.coeffs[1:])
    np.testing.assert_array_equal(grid[:, ::2].coeffs, grid.coeffs[:, ::2])
    e = grid[..., 0]  # Ellipsis covers element axes only
    assert e.shape == (3,)
    np.testing.assert_array_equal(e.coeffs, grid.coeffs[:, 0])
    assert grid[None].shape == (1, 3, 4)


def test_getitem_arrays_and_masks(grid):
    np.testing.assert_array_equal(grid[np.array([0, 2])].coeffs, grid.coeffs[[0, 2]])
    mask = grid > 0
    sel = grid[mask]
    assert sel.shape == (int(mask.numpy().sum()),)


def test_iteration_and_unpacking():
    x, y = D.vars([1.0, 2.0])
    a, b = dg.stack([x, y])
    np.testing.assert_array_equal(a.coeffs, x.coeffs)
    np.testing.assert_array_equal(b.coeffs, y.coeffs)


def test_getitem_real_tensor_slice():
    r = dg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(r[1:].numpy(), [2.0, 3.0])
    assert r[0].item() == 1.0


def test_getitem_too_many_indices_raises():
    with pytest.raises(IndexError):
        D.zeros(3)[0, 0]
    (x, _) = D.vars([1.5, 2.0])
    with pytest.raises(IndexError):
        x[0]


def test_setitem_stores_a_number_at_the_tensors_precision():
    """``t[i] = 0.1`` in a float64 tensor stores the double 0.1 (as PyTorch does), not
    the float32 rounding a default-dtype number would give; int tensors truncate."""
    t = dg.zeros(3, dtype=dg.float64)
    t[1] = 0.1
    t[2] = 1 / 3
    assert t.numpy()[1] == 0.1 and t.numpy()[2] == 1 / 3
    w = dg.zeros(2, dtype=dg.float64, requires_grad=True) * 1.0  # recorded as index_put
    w[0] = 0.1
    assert w.detach().numpy()[0] == 0.1
    i = dg.zeros(2, dtype=dg.int64)
    i[0] = 2.7
    assert i.numpy()[0] == 2
    s = D.zeros((2,))
    s[0] = 0.1
    assert s.coeffs[0, 0] == 0.1


def test_setitem_series_and_reals():
    x, y = D.vars([1.0, 2.0])
    t = D.zeros((2, 3))
    t[0, 1] = x
    t[1] = 5.0  # a real stores the constant series
    t[..., 2] = y * y
    t[0, 0] = np.float64(-1.0)
    c = t.coeffs
    np.testing.assert_array_equal(c[0, 1], x.coeffs)
    np.testing.assert_array_equal(c[1, :2], truth.dense(D, {(0, 0): 5.0})[None].repeat(2, 0))
    want_yy = truth.dense(D, {(0, 0): 4.0, (0, 1): 4.0, (0, 2): 1.0})
    np.testing.assert_array_equal(c[0, 2], want_yy)
    np.testing.assert_array_equal(c[1, 2], want_yy)
    np.testing.assert_array_equal(c[0, 0], truth.dense(D, {(0, 0): -1.0}))
    t[:, 0] = np.array([7.0, 8.0])
    np.testing.assert_array_equal(t.const[:, 0], [7.0, 8.0])
    r = dg.tensor([1.0, 2.0, 3.0])
    r[1] = 9.0
    np.testing.assert_array_equal(r.numpy(), [1.0, 9.0, 3.0])
    with pytest.raises(TypeError, match="series in a real tensor"):
        r[0] = x


# ---------------------------------------------------------- reshape and joins


def test_reshape_and_transpose():
    rng = np.random.default_rng(4)
    t = rand((2, 3), rng)
    r = t.reshape(3, 2)
    assert r.shape == (3, 2)
    np.testing.assert_array_equal(r.coeffs.reshape(-1, D.ncoef), t.coeffs.reshape(-1, D.ncoef))
    assert t.reshape((6,)).shape == (6,)
    assert dg.reshape(t, (1, 6)).shape == (1, 6)
    assert t.reshape(-1).shape == (6,)
    tt = t.T
    assert tt.shape == (3, 2)
    np.testing.assert_array_equal(tt.coeffs[2, 1], t.coeffs[1, 2])
    np.testing.assert_array_equal(t.transpose(1, 0).coeffs, tt.coeffs)
    np.testing.assert_array_equal(dg.transpose(t).coeffs, tt.coeffs)
    u = rand((2, 3, 4), rng)
    np.testing.assert_array_equal(u.transpose(2, 0, 1).coeffs[3, 1, 2], u.coeffs[1, 2, 3])
    with pytest.raises(RuntimeError, match="is invalid for input of size 6"):
        t.reshape(4, 2)


def test_stack_and_cat():
    x, y = D.vars([1.0, 2.0])
    s = dg.stack([x, y, x * y])
    assert s.shape == (3,)
    np.testing.assert_array_equal(s.coeffs[1], y.coeffs)
    np.testing.assert_array_equal(
        s.coeffs[2], truth.dense(D, {(0, 0): 2, (1, 0): 2, (0, 1): 1, (1, 1): 1})
    )
    m = dg.stack([s, s], axis=1)
    assert m.shape == (3, 2)
    np.testing.assert_array_equal(m.coeffs[2, 1], s.coeffs[2])
    m = dg.stack([s, s], axis=-1)
    assert m.shape == (3, 2)
    c = dg.cat([s, dg.stack([x])])
    assert c.shape == (4,)
    np.testing.assert_array_equal(c.coeffs[3], x.coeffs)
    g = dg.cat([m, m], axis=1)
    assert g.shape == (3, 4)
    np.testing.assert_array_equal(g.coeffs[:, 2:], m.coeffs)
    # reals join series as constant series
    mixed = dg.stack([x, 2.5])
    np.testing.assert_array_equal(mixed.coeffs[1], truth.dense(D, {(0, 0): 2.5}))
    r = dg.stack([dg.tensor([1.0, 2.0]), dg.tensor([3.0, 4.0])])
    assert not r.is_da and r.shape == (2, 2)
    with pytest.raises(ValueError, match="do not fit"):
        dg.cat([dg.stack([x, y]), dg.stack([s, s], axis=1)])


def test_sum_with_axis_keyword():
    rng = np.random.default_rng(5)
    t = rand((2, 3), rng)
    s0 = dg.sum(t, axis=0)
    assert s0.shape == (3,)
    np.testing.assert_allclose(s0.coeffs, t.coeffs[0] + t.coeffs[1], rtol=1e-15)
    s1 = dg.sum(t, axis=-1)
    np.testing.assert_allclose(s1.coeffs, t.coeffs.sum(axis=1), rtol=1e-15)
    sa = dg.sum(t, axis=None)
    assert sa.shape == ()
    np.testing.assert_allclose(sa.coeffs, t.coeffs.reshape(6, -1).sum(axis=0), rtol=1e-14)
    st = dg.sum(t, axis=(0, 1))
    np.testing.assert_allclose(st.coeffs, sa.coeffs, rtol=1e-14)
    with pytest.raises(IndexError, match="out of range"):
        dg.sum(t, axis=2)


def test_sum_method():
    rng = np.random.default_rng(5)
    t = rand((2, 3), rng)
    np.testing.assert_allclose(t.sum().coeffs, t.coeffs.reshape(6, -1).sum(axis=0), rtol=1e-14)
    np.testing.assert_allclose(t.sum(0).coeffs, t.coeffs.sum(axis=0), rtol=1e-15)
    np.testing.assert_allclose(t.sum(axis=1).coeffs, t.coeffs.sum(axis=1), rtol=1e-15)
    np.testing.assert_allclose(dg.sum(t).coeffs, t.sum().coeffs)


# --------------------------------------------------------------------- matmul


def _matmul_truth(A, B):
    """Σ_k A[..., i, k] B[k, j] by brute-force products of coefficient dicts."""
    keep = truth.keeper(D)
    Ac, Bc = np.asarray(A.coeffs), np.asarray(B.coeffs)
    n, k = Ac.shape[:2]
    m = Bc.shape[1] if Bc.ndim == 3 else None
    cols = range(m) if m is not None else [None]
    out = np.zeros((n, m if m is not None else 1, D.ncoef))
    for i in range(n):
        for jj, j in enumerate(cols):
            acc = {}
            for q in range(k):
                b = Bc[q, j] if j is not None else Bc[q]
                a_d = truth.as_dict(dg.Tensor(np.array(Ac[i, q]), D))
                b_d = truth.as_dict(dg.Tensor(np.array(b), D))
                acc = truth.add(acc, truth.mul(a_d, b_d, keep))
            out[i, jj] = truth.dense(D, acc)
    return out if m is not None else out[:, 0]


def test_matmul_da_matrix_da_vector():
    rng = np.random.default_rng(6)
    A = rand((2, 3), rng)
    v = rand((3,), rng)
    r = A @ v
    assert r.shape == (2,)
    truth.assert_close(r.coeffs, _matmul_truth(A, v), rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(dg.matmul(A, v).coeffs, r.coeffs)


def test_matmul_da_matrices_and_vectors():
    rng = np.random.default_rng(7)
    A = rand((2, 3), rng)
    B = rand((3, 4), rng)
    C = A @ B
    assert C.shape == (2, 4)
    truth.assert_close(C.coeffs, _matmul_truth(A, B), rtol=1e-13, atol=1e-14)
    u, v = rand((3,), rng), rand((3,), rng)
    s = u @ v
    assert s.shape == ()
    keep = truth.keeper(D)
    acc = {}
    for q in range(3):
        acc = truth.add(acc, truth.mul(truth.as_dict(elem(u, q)), truth.as_dict(elem(v, q)), keep))
    truth.assert_close(s.coeffs, truth.dense(D, acc), rtol=1e-13, atol=1e-14)
    w = v @ B  # vector @ matrix
    assert w.shape == (4,)
    truth.assert_close(
        w.coeffs, _matmul_truth(dg.Tensor(v.coeffs[None], D), B)[0], rtol=1e-13, atol=1e-14
    )


def test_matmul_with_real_operands():
    rng = np.random.default_rng(8)
    M = rng.uniform(-1, 1, size=(2, 3))
    v = rand((3,), rng)
    A = rand((3, 2), rng)
    want = np.einsum("ik,kc->ic", M, v.coeffs)
    for r in (M @ v, dg.tensor(M) @ v, dg.matmul(M, v)):
        assert r.shape == (2,)
        np.testing.assert_allclose(r.coeffs, want, rtol=1e-14, atol=1e-15)
    want = np.einsum("ikc,kj->ijc", A.coeffs, M)
    for r in (A @ M, A @ dg.tensor(M)):
        assert r.shape == (3, 3)
        np.testing.assert_allclose(r.coeffs, want, rtol=1e-14, atol=1e-15)
    w = rng.uniform(-1, 1, size=3)
    np.testing.assert_allclose((v @ w).coeffs, np.einsum("k,kc->c", w, v.coeffs), rtol=1e-14)
    # real @ real stays real
    assert not (dg.tensor(M) @ dg.tensor(w)).is_da


def test_matmul_batched():
    rng = np.random.default_rng(9)
    A = rand((4, 2, 3), rng)
    v = rand((3,), rng)
    r = A @ v
    assert r.shape == (4, 2)
    for b in range(4):
        truth.assert_close(
            r.coeffs[b], _matmul_truth(dg.Tensor(A.coeffs[b], D), v), rtol=1e-13, atol=1e-14
        )


# -------------------------------------------------------------- numpy ufuncs


def test_numpy_ufunc_dispatch():
    x, y = D.vars([0.4, 1.3])
    pairs = [
        (np.sin, dg.sin),
        (np.cos, dg.cos),
        (np.tan, dg.tan),
        (np.exp, dg.exp),
        (np.log, dg.log),
        (np.sqrt, dg.sqrt),
        (np.arcsin, dg.asin),
        (np.arccos, dg.acos),
        (np.arctan, dg.atan),
        (np.sinh, dg.sinh),
        (np.cosh, dg.cosh),
        (np.tanh, dg.tanh),
        (np.arcsinh, dg.asinh),
        (np.arctanh, dg.atanh),
        (np.absolute, dg.abs),
        (np.negative, lambda t: -t),
    ]
    for uf, f in pairs:
        got = uf(x)
        assert isinstance(got, dg.Tensor) and got.desc is D, uf
        np.testing.assert_array_equal(got.coeffs, f(x).coeffs)
    np.testing.assert_array_equal(np.arccosh(y).coeffs, dg.acosh(y).coeffs)
    np.testing.assert_array_equal(np.abs(x).coeffs, x.coeffs)
    np.testing.assert_array_equal(np.add(x, 1.0).coeffs, (x + 1).coeffs)
    np.testing.assert_array_equal(np.subtract(1.0, x).coeffs, (1 - x).coeffs)
    np.testing.assert_array_equal(np.multiply(2.0, x).coeffs, (2 * x).coeffs)
    np.testing.assert_array_equal(np.true_divide(x, y).coeffs, (x / y).coeffs)
    np.testing.assert_array_equal(np.power(x, 3).coeffs, (x**3).coeffs)
    np.testing.assert_array_equal(np.hypot(x, y).coeffs, dg.hypot(x, y).coeffs)
    np.testing.assert_array_equal(np.arctan2(y, x).coeffs, dg.atan2(y, x).coeffs)
    # and a closed form through numpy: d/dx sin = cos
    assert np.sin(x).coeff((1, 0)) == pytest.approx(np.cos(0.4), rel=1e-15)
    # a numpy scalar on the left dispatches as well
    np.testing.assert_array_equal((np.float64(2.0) * x).coeffs, (2 * x).coeffs)
    np.testing.assert_array_equal((np.ones(2) * x).coeffs, np.stack([x.coeffs] * 2))


def test_unsupported_ufunc_raises_type_error():
    (x, _) = D.vars([0.4, 1.3])
    with pytest.raises(TypeError):
        np.floor(x)
    with pytest.raises(TypeError):
        np.sin(x, out=np.empty(()))


# ----------------------------------------------------------------- comparisons


def test_comparisons_use_constant_parts():
    x, y = D.vars([1.0, 2.0])
    assert bool(x < y) and bool(x <= y) and not bool(x > y) and not bool(x >= y)
    assert bool(x == 1.0) and bool(x != y) and bool(x + y == 3)
    assert bool(x + 1e-3 * y > 1.0) is True  # constant 1.002
    assert bool(x - y * 0 == 1.0)
    if x > 0:  # the idiom works in plain Python control flow
        pass
    else:
        pytest.fail("x > 0 should hold")
    assert bool(2.0 > x) and bool(np.float64(0.5) < x)
    t = D.var(0, np.array([-1.0, 0.0, 3.0]))
    np.testing.assert_array_equal((t > 0).numpy(), [False, False, True])
    np.testing.assert_array_equal((t <= x).numpy(), [True, True, False])
    np.testing.assert_array_equal(np.greater(t, 0).numpy(), [False, False, True])
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t > 0)
    # a series with equal constants compares equal whatever its derivatives
    assert bool(x == D.const(1.0))
    assert float(x * 3) == 3.0


# ------------------------------------------------------------------------- str


def _rows(text):
    return [line.split() for line in text.strip().splitlines()]


def test_str_table_contents():
    d = dg.Descriptor(variables=["x", "y"], order=3)
    x, y = d.vars()
    f = 2 + 3 * x * y - 0.5 * y**3
    rows = _rows(str(f))
    assert rows[0] == ["I", "COEFFICIENT", "ORDER", "x", "y"]
    body = rows[1:]
    assert [r[0] for r in body] == ["1", "2", "3"]
    parsed = {(int(r[3]), int(r[4])): (float(r[1]), int(r[2])) for r in body}
    assert parsed == {(0, 0): (2.0, 0), (1, 1): (3.0, 2), (0, 3): (-0.5, 3)}
    # 17 significant digits: the printed coefficient is exactly the stored one
    g = dg.sin(x + 0.3)
    for r in _rows(str(g))[1:]:
        e = (int(r[3]), int(r[4]))
        assert float(r[1]) == g.coeff(e)
    assert "ALL COEFFICIENTS ZERO" in str(d.zeros())


def test_str_of_tensor_lists_each_series():
    d = dg.Descriptor(variables=["x"], order=2)
    (x,) = d.vars([0.0])
    t = dg.stack([x, 2 * x * x])
    text = str(t)
    assert "[0]" in text and "[1]" in text
    second = text.split("[1]")[1]
    row = _rows(second)[1]
    assert float(row[1]) == 2.0 and row[2] == "2" and row[3] == "2"
    many = str(d.zeros(25))
    assert "... (5 more series)" in many
    assert "Descriptor(variables=['x'], order=2)" in repr(t) and "shape=(2,)" in repr(t)
