"""Batches of series: the batched kernels against one series at a time and brute force."""

import tracemalloc

import numba
import numpy as np
import pytest
import truth
from hypothesis import given, settings
from hypothesis import strategies as st

import diffalg as dg
from diffalg.kernels import batched as B
from diffalg.ops.batch import BATCH_MIN

DESCRIPTORS = [
    dict(nv=1, order=7),
    dict(nv=3, order=4),
    dict(nv=6, order=3),
    dict(nv=2, order=0),
    dict(variables=["x", "y"], params=["k1", "k2"], order=5, param_order=2),
]
IDS = [str(sorted(kw.items())) for kw in DESCRIPTORS]


def _batch(d, n, rng, c0=None):
    """``n`` dense random series (as a DA tensor of shape ``(n,)``)."""
    c = rng.uniform(-1, 1, (n, d.ncoef))
    if c0 is not None:
        c[:, 0] = c0(rng, n)
    return dg.Tensor(c, d)


def _one_by_one(f, *batches):
    """``f`` applied to each series on its own (the one-series kernels)."""
    n = max(b.shape[0] for b in batches)
    pick = [(lambda i, b=b: b[i] if b.shape[0] > 1 else b[0]) for b in batches]
    return np.stack([f(*(p(i) for p in pick)).coeffs for i in range(n)])


@pytest.mark.parametrize("kw", DESCRIPTORS, ids=IDS)
@pytest.mark.parametrize("n", [BATCH_MIN - 1, BATCH_MIN, 8 * 5 + 3])
def test_batched_product_equals_one_at_a_time_and_brute_force(kw, n):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(n)
    x, y = _batch(d, n, rng), _batch(d, n, rng)
    got = (x * y).coeffs
    truth.assert_close(got, _one_by_one(lambda a, b: a * b, x, y), rtol=1e-14, atol=1e-15)
    keep = truth.keeper(d)
    for i in (0, n // 2, n - 1):  # and a few rows against polynomial arithmetic on dicts
        want = truth.dense(d, truth.mul(truth.as_dict(x[i]), truth.as_dict(y[i]), keep))
        truth.assert_close(got[i], want, rtol=1e-14, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(range(len(DESCRIPTORS))),
    st.integers(1, 3 * 8 + 5),
    st.integers(0, 2**32 - 1),
)
def test_batched_product_is_commutative_and_distributes(which, n, seed):
    d = dg.Descriptor(**DESCRIPTORS[which])
    rng = np.random.default_rng(seed)
    x, y, z = (_batch(d, n, rng) for _ in range(3))
    truth.assert_close((x * y).coeffs, (y * x).coeffs, rtol=1e-14, atol=1e-15)
    truth.assert_close((x * (y + z)).coeffs, (x * y + x * z).coeffs, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("kw", DESCRIPTORS[1:3] + DESCRIPTORS[4:], ids=IDS[1:3] + IDS[4:])
def test_one_series_meets_a_batch(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(3)
    x, y = _batch(d, 3 * BATCH_MIN + 1, rng), _batch(d, 1, rng)[0]
    want = _one_by_one(lambda a, b: a * b, x, y[None])
    truth.assert_close((x * y).coeffs, want, rtol=1e-14, atol=1e-15)
    truth.assert_close((y * x).coeffs, want, rtol=1e-14, atol=1e-15)
    # and along a middle axis: (4, 1) series times (1, 5) series
    a, b = _batch(d, 4, rng), _batch(d, 5, rng)
    got = (a[:, None] * b[None, :]).coeffs
    for i in range(4):
        for j in range(5):
            truth.assert_close(got[i, j], (a[i] * b[j]).coeffs, rtol=1e-14, atol=1e-15)


def test_a_broadcast_series_is_not_copied_per_row():
    """The product's memory is its result (plus tiles), not n copies of the single factor."""
    d = dg.Descriptor(nv=6, order=4)
    rng = np.random.default_rng(4)
    x, y = _batch(d, 20_000, rng), _batch(d, 1, rng)[0]
    x * y  # compile outside the measurement
    tracemalloc.start()
    z = x * y
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.3 * z.coeffs.nbytes, (peak, z.coeffs.nbytes)


POSITIVE = lambda rng, n: rng.uniform(0.5, 2.0, n)  # noqa: E731
INSIDE = lambda rng, n: rng.uniform(-0.8, 0.8, n)  # noqa: E731
FUNCTIONS = [
    ("exp", dg.exp, None),
    ("log", dg.log, POSITIVE),
    ("sqrt", dg.sqrt, POSITIVE),
    ("sin", dg.sin, None),
    ("tanh", dg.tanh, None),
    ("asin", dg.asin, INSIDE),
    ("erf", dg.erf, None),
    ("pow", lambda a: a**-1.5, POSITIVE),
    ("reciprocal", lambda a: 1.0 / a, POSITIVE),
    ("power -1", lambda a: a**-1.0, POSITIVE),
    ("power 1/2", lambda a: a**0.5, POSITIVE),
]


@pytest.mark.parametrize("name,f,c0", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_batched_functions_equal_one_at_a_time(name, f, c0):
    d = dg.Descriptor(nv=3, order=5)
    rng = np.random.default_rng(5)
    c = 0.3 * rng.uniform(-1, 1, (2 * BATCH_MIN + 3, d.ncoef))  # small, so series converge
    c[:, 0] = (c0 or INSIDE)(rng, c.shape[0])
    a = dg.Tensor(c, d)
    truth.assert_close(f(a).coeffs, _one_by_one(f, a), rtol=1e-13, atol=1e-14)


def test_batched_division_equals_one_at_a_time():
    d = dg.Descriptor(nv=4, order=4)
    rng = np.random.default_rng(6)
    a, b = _batch(d, 3 * BATCH_MIN, rng), _batch(d, 3 * BATCH_MIN, rng, POSITIVE)
    # a batch multiplies by reciprocals, one series divides: round-off apart
    want = _one_by_one(lambda u, v: u / v, a, b)
    truth.assert_close((a / b).coeffs, want, rtol=1e-13, atol=1e-15)
    one = b[0]
    want = _one_by_one(lambda u, v: u / v, a, one[None])
    truth.assert_close((a / one).coeffs, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("kw", DESCRIPTORS[1:], ids=IDS[1:])
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "reciprocal", "division"])
def test_recurrences_in_lanes_equal_one_at_a_time(kw, name):
    """exp, log, sqrt, 1/a and a/b of a batch run their order recurrences in lanes.

    Every degree block reads only lower blocks, parameters truncate at their own
    order, and the last tile (43 = 5·8 + 3 rows) has unused lanes.
    """
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(8)
    a = dg.Tensor(0.3 * rng.uniform(-1, 1, (8 * 5 + 3, d.ncoef)), d)
    b = _batch(d, 8 * 5 + 3, rng, POSITIVE)
    b = dg.Tensor(np.concatenate([b.coeffs[:, :1], 0.3 * b.coeffs[:, 1:]], axis=1), d)
    f = {"exp": dg.exp, "log": dg.log, "sqrt": dg.sqrt, "reciprocal": lambda v: 1.0 / v}.get(name)
    if f is None:
        truth.assert_close(
            (a / b).coeffs, _one_by_one(lambda u, v: u / v, a, b), rtol=1e-13, atol=1e-15
        )
        # one numerator series over a batch of divisors, read for every lane
        want = _one_by_one(lambda u, v: u / v, a[:1], b)
        truth.assert_close((a[0] / b).coeffs, want, rtol=1e-13, atol=1e-15)
    else:
        truth.assert_close(f(b).coeffs, _one_by_one(f, b), rtol=1e-13, atol=1e-15)


def test_mismatched_batch_shapes_are_named():
    d = dg.Descriptor(nv=2, order=3)
    rng = np.random.default_rng(7)
    a, b = _batch(d, 20, rng), _batch(d, 30, rng)
    for op in (lambda: a * b, lambda: a / b, lambda: a + b):
        with pytest.raises(ValueError, match=r"\(20,\).*\(30,\)"):
            op()


@pytest.mark.parametrize(
    "f,error,match",
    [
        (lambda a: 1.0 / a, ZeroDivisionError, "constant part is 0"),
        (lambda a: a**-1.0, ZeroDivisionError, "constant part 0 and a negative exponent"),
        (dg.log, ValueError, r"log: constant part 0 outside the domain \(0, inf\)"),
        (dg.sqrt, ValueError, r"sqrt: constant part 0 outside"),
        (lambda a: a**0.5, ValueError, r"x\*\*0.5: constant part 0 outside"),
    ],
)
def test_one_bad_constant_part_in_a_batch_is_refused(f, error, match):
    """One series of 40 outside the domain stops the batched recurrence with its value."""
    d = dg.Descriptor(nv=2, order=3)
    c = _batch(d, 40, np.random.default_rng(9), POSITIVE).coeffs.copy()
    c[7, 0] = 0.0
    a = dg.Tensor(c, d)
    with pytest.raises(error, match=match):
        f(a)


def test_strided_batches_multiply_and_divide_like_contiguous_ones():
    """Views with gaps between their series (every other one) take the copying path."""
    d = dg.Descriptor(nv=3, order=4)
    rng = np.random.default_rng(10)
    a, b = _batch(d, 2 * 24, rng), _batch(d, 2 * 24, rng, POSITIVE)
    a2, b2 = a.reshape(24, 2), b.reshape(24, 2)
    sa, sb = a2[:, 0], b2[:, 1]  # strided: one series of two
    assert not sa.coeffs.flags.c_contiguous
    for f in (lambda u, v: u * v, lambda u, v: u / v):
        truth.assert_close(f(sa, sb).coeffs, _one_by_one(f, sa, sb), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("n", [8 * 40 + 5, 8 * 64])
def test_one_series_reused_across_the_tiles_of_a_chunk(n):
    """A one-series operand is copied into its tile once per chunk of several tiles."""
    d = dg.Descriptor(nv=3, order=3)
    rng = np.random.default_rng(11)
    x, one = _batch(d, n, rng, POSITIVE), _batch(d, 1, rng, POSITIVE)[0]
    cases = [
        (lambda u, v: u * v, x, one), (lambda u, v: u * v, one, x),
        (lambda u, v: u / v, one, x), (lambda u, v: u / v, x, one),
    ]  # fmt: skip
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # 4 chunks: ten tiles or more each, on any machine
    try:
        assert -(-n // 8) >= 10 * B.chunks(-(-n // 8))
        got = [f(u, v).coeffs for f, u, v in cases]
    finally:
        numba.set_num_threads(threads)
    for (f, u, v), g in zip(cases, got, strict=True):
        want = _one_by_one(f, *(w if w.ndim else w[None] for w in (u, v)))
        truth.assert_close(g, want, rtol=1e-13, atol=1e-15)
